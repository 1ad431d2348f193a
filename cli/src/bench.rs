//! `solidml bench`: per model, the CPU reference executor and the wgpu GPU executor (latency
//! and MAC/s) next to tract's optimized f32 plan on the same model, and a 1024×1024×1024 int8
//! GEMM on CPU and GPU, all measured in the same run (machines here are shared and noisy:
//! compare ratios). Also the precompile's price per model and the gas per second it amounts to
//! at the CPU executor's measured speed (the calibration of docs/precompile.md).

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use miette::Result;
use ndarray::{ArrayD, Dimension, IxDyn};
use solidml_compiler::{eval::TractModel, runner};
use solidml_cpu::CpuBackend;
use solidml_exec::{Executor, bench::median_us};
use solidml_gpu::{
    GpuContext,
    bench::{bench_model, gemm_model},
};
use solidml_precompile::{GasSchedule, abi, gas::work_units};

use crate::{data, error::CliError};

/// Time budget of one measurement: at most `iters` runs, fewer once this much time is spent
/// (at least 3), so large models (a 224×224 CNN) do not hold the bench for minutes.
const BUDGET: std::time::Duration = std::time::Duration::from_secs(3);

fn calibration_for(model: &Path) -> Option<PathBuf> {
    let dir = model.parent()?;
    let stem = model.file_stem()?.to_string_lossy().into_owned();
    let own = dir.join(format!("{stem}_calib.npy"));
    if own.exists() {
        return Some(own);
    }
    let prefix = stem.split('_').next()?;
    let shared = dir.join(format!("{prefix}_calib.npy"));
    shared.exists().then_some(shared)
}

fn rate(macs: u64, us: f64) -> String {
    let r = macs as f64 / (us * 1e-6);
    match r {
        r if r >= 1e12 => format!("{:.2} T", r / 1e12),
        r if r >= 1e9 => format!("{:.2} G", r / 1e9),
        r => format!("{:.1} M", r / 1e6),
    }
}

pub(crate) fn bench(models: &[PathBuf], iters: usize, gemm: u32, no_gpu: bool) -> Result<()> {
    let gpu = if no_gpu { None } else { GpuContext::new().ok() };
    match &gpu {
        Some(g) => println!("gpu: {} ({:?}, packed int8 dot: {})", g.adapter().name, g.adapter().device_type, g.packed_dot_available()),
        None => println!("gpu: none{}", if no_gpu { " (--no-gpu)" } else { " (no Vulkan adapter)" }),
    }
    let models: Vec<PathBuf> = if models.is_empty() {
        let mut v: Vec<PathBuf> = std::fs::read_dir("examples/models")
            .map_err(|e| CliError::io(Path::new("examples/models"), e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "onnx"))
            .collect();
        v.sort();
        v
    } else {
        models.to_vec()
    };
    println!(
        "{:<20} {:>10} {:>12} {:>10} {:>12} {:>10} {:>12} {:>9} {:>9} {:>10}",
        "model", "MACs", "cpu µs", "cpu MAC/s", "gpu µs", "gpu MAC/s", "tract f32 µs", "cpu/tract", "gas", "Mgas/s@cpu"
    );
    for path in &models {
        let mut opts = solidml_compiler::CompileOptions::default();
        if let Some(c) = calibration_for(path) {
            opts = opts.with_calibration(vec![data::read_f32(&c)?]);
        }
        let compiled = solidml_compiler::compile(path, &opts).map_err(CliError::from)?;
        let model = &compiled.model;
        let shapes = runner::input_shapes(model);
        let inputs: Vec<ArrayD<f32>> =
            shapes.iter().map(|s| ArrayD::from_shape_fn(IxDyn(s), |i| (i.slice().iter().sum::<usize>() % 7) as f32 * 0.3)).collect();
        let q: Vec<_> = inputs.iter().enumerate().map(|(i, x)| runner::quantize_input(model, i, x)).collect();
        let exec = CpuBackend.prepare(Arc::new(model.clone())).map_err(|e| CliError::from(solidml_compiler::CompileError::from(e)))?;
        let ours = median_us(
            || {
                std::hint::black_box(exec.run(&q).unwrap());
            },
            iters,
            BUDGET,
        );
        let tract = TractModel::load(path, &shapes).map_err(CliError::from)?;
        let theirs = median_us(
            || {
                std::hint::black_box(tract.run(&inputs).unwrap());
            },
            iters,
            BUDGET,
        );
        let (gpu_us, gpu_rate) = match &gpu {
            Some(ctx) => {
                let r = bench_model(ctx, model, &q, iters.min(50) as u32).map_err(|e| CliError::Usage(format!("GPU executor: {e}")))?;
                let us = r.mean.as_secs_f64() * 1e6;
                (format!("{us:.1}"), rate(model.macs(), us))
            }
            None => ("-".into(), "-".into()),
        };
        let price = GasSchedule::default().price(work_units(model), abi::input_bytes(model), abi::output_bytes(model));
        let name = path.file_stem().unwrap().to_string_lossy();
        println!(
            "{:<20} {:>10} {:>12.1} {:>10} {:>12} {:>10} {:>12.1} {:>8.2}x {:>9} {:>10.1}",
            name,
            model.macs(),
            ours,
            rate(model.macs(), ours),
            gpu_us,
            gpu_rate,
            theirs,
            ours / theirs,
            price,
            price as f64 / ours
        );
    }
    println!(
        "cpu/tract: lower is faster for solidml; medians of up to {iters} runs, 3 s per measurement at most (gpu: means); gas: the precompile's price for one call"
    );
    if gemm > 0 {
        let model = gemm_model(gemm, gemm, gemm);
        let x = solidml_exec::Value::I8((0..(gemm as usize * gemm as usize)).map(|i| (i % 251) as i8).collect());
        let exec = CpuBackend.prepare(Arc::new(model.clone())).map_err(|e| CliError::from(solidml_compiler::CompileError::from(e)))?;
        let cpu_us = median_us(
            || {
                std::hint::black_box(exec.run(std::slice::from_ref(&x)).unwrap());
            },
            3,
            BUDGET,
        );
        println!();
        println!("int8 GEMM {gemm}x{gemm}x{gemm} ({} MACs):", model.macs());
        println!("  cpu  {:>12.1} µs  {:>10}MAC/s", cpu_us, rate(model.macs(), cpu_us));
        if let Some(ctx) = &gpu {
            let r = bench_model(ctx, &model, std::slice::from_ref(&x), 10).map_err(|e| CliError::Usage(format!("GPU executor: {e}")))?;
            let us = r.mean.as_secs_f64() * 1e6;
            println!("  gpu  {:>12.1} µs  {:>10}MAC/s  ({:.1}x the cpu)", us, rate(model.macs(), us), cpu_us / us);
        }
    }
    Ok(())
}
