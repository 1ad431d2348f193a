//! `solidml bench`: per model, the CPU reference executor, the JIT and the wgpu GPU executor
//! (latency and MAC/s) next to tract's optimized f32 plan on the same model, and a
//! 1024×1024×1024 int8 GEMM on each executor, all measured in the same run, single-threaded on
//! the CPU (machines here are shared and noisy: compare ratios). Also the precompile's price per
//! model and the gas per second it amounts to at the CPU executor's measured speed (the
//! calibration of docs/precompile.md). `--json FILE` writes every figure as
//! `[{ "model", "macs", "backend", "median_us" }]` for tools.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use miette::Result;
use ndarray::{ArrayD, Dimension, IxDyn};
use solidml_compiler::{eval::TractModel, runner};
use solidml_cpu::CpuBackend;
use solidml_exec::{Executor, PreparedModel, Value, bench::median_us};
use solidml_gpu::{
    GpuContext,
    bench::{bench_model, gemm_model},
};
use solidml_precompile::{GasSchedule, abi, gas::Work};

use crate::{data, error::CliError};

mod calibration;
pub(crate) use calibration::calibrate;

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

/// One measured figure (a row of `--json`).
#[derive(serde::Serialize)]
struct Figure {
    model: String,
    macs: u64,
    backend: &'static str,
    median_us: f64,
}

fn prepared(exec: &dyn Executor, model: &solidml_spec::Model) -> Result<std::sync::Arc<dyn PreparedModel>> {
    Ok(exec.prepare(Arc::new(model.clone())).map_err(|e| CliError::from(solidml_compiler::CompileError::from(e)))?)
}

fn time(exec: &dyn PreparedModel, inputs: &[Value], iters: usize) -> f64 {
    median_us(
        || {
            std::hint::black_box(exec.run(inputs).unwrap());
        },
        iters,
        BUDGET,
    )
}

/// onnxruntime's single-threaded medians `(f32, int8)` for a model, from
/// `scripts/bench_onnxruntime.py` in the repository's Python environment (`$SOLIDML_PYTHON`,
/// else `.venv/bin/python`); an error text when it cannot run.
fn onnxruntime(model: &Path, calib: Option<&Path>, iters: usize) -> std::result::Result<(f64, Option<f64>), String> {
    let py = std::env::var_os("SOLIDML_PYTHON").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".venv/bin/python"));
    let script = Path::new("scripts/bench_onnxruntime.py");
    if !py.exists() || !script.exists() {
        return Err(format!(
            "no {} or {} here (run from the repository after `bash scripts/python-env.sh`)",
            py.display(),
            script.display()
        ));
    }
    let mut cmd = std::process::Command::new(&py);
    cmd.arg(script).arg(model).arg("--iters").arg(iters.to_string()).arg("--budget").arg(BUDGET.as_secs_f64().to_string());
    if let Some(c) = calib {
        cmd.arg("--calib").arg(c);
    }
    let out = cmd.output().map_err(|e| format!("{}: {e}", py.display()))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("failed").to_string());
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| format!("bench_onnxruntime.py printed no JSON: {e}"))?;
    if let Some(e) = v["int8_error"].as_str() {
        eprintln!("onnxruntime int8 of {}: {e}", model.display());
    }
    Ok((v["f32_us"].as_f64().ok_or("no f32_us")?, v["int8_us"].as_f64()))
}

/// The JIT's time per op kind on one model (the median of 5 profiled runs per node), to
/// stderr.
fn print_profile(jit: &solidml_jit::JitBackend, model: &solidml_spec::Model, inputs: &[Value]) -> Result<()> {
    let compiled = jit.compile(Arc::new(model.clone())).map_err(|e| CliError::from(solidml_compiler::CompileError::from(e)))?;
    let runs: Vec<_> = (0..5).map(|_| compiled.run_profiled(inputs).expect("ran before").1).collect();
    let mut per_kind: std::collections::BTreeMap<&str, (usize, f64)> = Default::default();
    let mut per_node = vec![];
    let macs = model.macs_per_node();
    for node in 0..runs[0].len() {
        let mut us: Vec<f64> = runs.iter().map(|r| r[node].2.as_secs_f64() * 1e6).collect();
        us.sort_by(f64::total_cmp);
        let e = per_kind.entry(runs[0][node].1).or_default();
        e.0 += 1;
        e.1 += us[2];
        per_node.push((us[2], node));
    }
    let (specialized, fallback, _) = compiled.summary();
    eprintln!("  jit profile of {} ({specialized} nodes specialized, {fallback} on the fallback):", model.name);
    for (kind, (n, us)) in per_kind {
        eprintln!("    {kind:<14} {n:>4} nodes {us:>12.1} µs");
    }
    // the slowest nodes, with their shapes and MAC rate
    per_node.sort_by(|a, b| b.0.total_cmp(&a.0));
    eprintln!("  slowest nodes:");
    for &(us, i) in per_node.iter().take(12) {
        let n = &model.nodes[i];
        let shape = |t: &[u32]| t.iter().map(|&t| format!("{:?}", model.tensor(t).shape)).collect::<Vec<_>>().join(" ");
        let rate = if macs[i] > 0 { format!("{:>7.2} GMAC/s", macs[i] as f64 / us / 1e3) } else { String::new() };
        eprintln!("    {us:>9.1} µs  {:<10} {} -> {}  {rate}", n.op.kind(), shape(&n.inputs), shape(&n.outputs));
    }
    Ok(())
}

pub(crate) fn bench(models: &[PathBuf], iters: usize, gemm: u32, no_gpu: bool, json: Option<&Path>, profile: bool) -> Result<()> {
    let mut figures: Vec<Figure> = vec![];
    let jit = solidml_backends::jit();
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
    println!("jit: {}", jit.name());
    println!(
        "{:<20} {:>10} {:>11} {:>11} {:>10} {:>10} {:>10} {:>12} {:>11} {:>11} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "model",
        "MACs",
        "cpu µs",
        "jit µs",
        "jit MAC/s",
        "gpu µs",
        "gpu MAC/s",
        "tract f32 µs",
        "ort f32 µs",
        "ort int8 µs",
        "cpu/tract",
        "jit/tract",
        "jit/ort8",
        "gas",
        "Mgas/s@jit"
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
        let ours = time(&*prepared(&CpuBackend, model)?, &q, iters);
        let fast = time(&*prepared(&jit, model)?, &q, iters);
        if profile {
            print_profile(&jit, model, &q)?;
        }
        // tract has no ai.onnx.ml operators (a scikit-learn Scaler): no figure then, said once
        let theirs = match TractModel::load(path, &shapes) {
            Ok(tract) => Some(median_us(
                || {
                    std::hint::black_box(tract.run(&inputs).unwrap());
                },
                iters,
                BUDGET,
            )),
            Err(e) => {
                eprintln!("tract: {}: {e}", path.display());
                None
            }
        };
        let ratio = |us: f64| theirs.map_or("-".into(), |t| format!("{:.2}x", us / t));
        let (ort_f32, ort_int8) = match onnxruntime(path, calibration_for(path).as_deref(), iters) {
            Ok((f, i)) => (Some(f), i),
            Err(e) => {
                eprintln!("onnxruntime: {e}");
                (None, None)
            }
        };
        let (gpu_us, gpu_rate) = match &gpu {
            Some(ctx) => {
                let r = bench_model(ctx, model, &q, iters.min(50) as u32).map_err(|e| CliError::Usage(format!("GPU executor: {e}")))?;
                let us = r.mean.as_secs_f64() * 1e6;
                (format!("{us:.1}"), rate(model.macs(), us))
            }
            None => ("-".into(), "-".into()),
        };
        let price = GasSchedule::default().price(&Work::of(model), abi::input_bytes(model), abi::output_bytes(model));
        let name = path.file_stem().unwrap().to_string_lossy();
        println!(
            "{:<20} {:>10} {:>11.1} {:>11.1} {:>10} {:>10} {:>10} {:>12} {:>11} {:>11} {:>9} {:>9} {:>9} {:>9} {:>10.1}",
            name,
            model.macs(),
            ours,
            fast,
            rate(model.macs(), fast),
            gpu_us,
            gpu_rate,
            theirs.map_or("-".into(), |t| format!("{t:.1}")),
            ort_f32.map_or("-".into(), |v| format!("{v:.1}")),
            ort_int8.map_or("-".into(), |v| format!("{v:.1}")),
            ratio(ours),
            ratio(fast),
            ort_int8.map_or("-".into(), |v| format!("{:.2}x", fast / v)),
            price,
            price as f64 / fast
        );
        for (backend, median_us) in [
            ("cpu", Some(ours)),
            ("jit", Some(fast)),
            ("gpu", gpu_us.parse().ok()),
            ("tract-f32", theirs),
            ("onnxruntime-f32", ort_f32),
            ("onnxruntime-int8", ort_int8),
        ] {
            if let Some(median_us) = median_us {
                figures.push(Figure { model: name.to_string(), macs: model.macs(), backend, median_us });
            }
        }
    }
    println!(
        "cpu/tract, jit/tract, jit/ort8 (onnxruntime's int8): lower is faster for solidml; single-threaded medians of up to {iters} runs, 3 s per measurement at most (gpu: means); gas: the precompile's price for one call"
    );
    if gemm > 0 {
        let model = gemm_model(gemm, gemm, gemm);
        let x = solidml_exec::Value::I8((0..(gemm as usize * gemm as usize)).map(|i| (i % 251) as i8).collect());
        let cpu_us = time(&*prepared(&CpuBackend, &model)?, std::slice::from_ref(&x), 3);
        let jit_us = time(&*prepared(&jit, &model)?, std::slice::from_ref(&x), 20);
        let name = format!("gemm{gemm}");
        println!();
        println!("int8 GEMM {gemm}x{gemm}x{gemm} ({} MACs):", model.macs());
        println!("  cpu  {:>12.1} µs  {:>10}MAC/s", cpu_us, rate(model.macs(), cpu_us));
        println!("  jit  {:>12.1} µs  {:>10}MAC/s  ({:.1}x the cpu)", jit_us, rate(model.macs(), jit_us), cpu_us / jit_us);
        figures.push(Figure { model: name.clone(), macs: model.macs(), backend: "cpu", median_us: cpu_us });
        figures.push(Figure { model: name.clone(), macs: model.macs(), backend: "jit", median_us: jit_us });
        // the JIT's slower tile kernels on this CPU, same run: what each instruction set gives
        for kernel in solidml_jit::Kernel::available().into_iter().rev().skip(1) {
            let backend = match kernel {
                solidml_jit::Kernel::Avx512Vnni => "jit-avx512vnni",
                solidml_jit::Kernel::Avx2 => "jit-avx2",
                solidml_jit::Kernel::Portable => "jit-portable",
            };
            let us = time(&*prepared(&jit.clone().with_kernel(kernel), &model)?, std::slice::from_ref(&x), 20);
            println!("  {backend:<14} {:>12.1} µs  {:>10}MAC/s  ({:.2}x the jit's time)", us, rate(model.macs(), us), us / jit_us);
            figures.push(Figure { model: name.clone(), macs: model.macs(), backend, median_us: us });
        }
        if let Some(ctx) = &gpu {
            let r = bench_model(ctx, &model, std::slice::from_ref(&x), 10).map_err(|e| CliError::Usage(format!("GPU executor: {e}")))?;
            let us = r.mean.as_secs_f64() * 1e6;
            println!("  gpu  {:>12.1} µs  {:>10}MAC/s  ({:.1}x the cpu)", us, rate(model.macs(), us), cpu_us / us);
            figures.push(Figure { model: name.clone(), macs: model.macs(), backend: "gpu", median_us: us });
        }
    }
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&figures).expect("figures serialize");
        std::fs::write(path, text + "\n").map_err(|e| CliError::io(path, e))?;
    }
    Ok(())
}
