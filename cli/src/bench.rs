//! `solidml bench`: CPU reference executor latency per model next to tract's optimized f32
//! plan on the same model, measured in the same run (machines here are shared and noisy:
//! only the ratio is meaningful).

use std::{path::{Path, PathBuf}, time::Instant};

use miette::Result;
use ndarray::{ArrayD, Dimension, IxDyn};
use solidml_compiler::{eval::TractModel, runner};
use solidml_cpu::CpuExecutor;

use crate::{data, error::CliError};

fn median_us(mut f: impl FnMut(), iters: usize) -> f64 {
    for _ in 0..iters.min(10) {
        f();
    }
    let mut t: Vec<f64> = (0..iters.max(1))
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    t.sort_by(|a, b| a.partial_cmp(b).unwrap());
    t[t.len() / 2]
}

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

pub fn bench(models: &[PathBuf], iters: usize) -> Result<()> {
    let models: Vec<PathBuf> = if models.is_empty() {
        let mut v: Vec<PathBuf> = std::fs::read_dir("examples/models").map_err(|e| CliError::io(Path::new("examples/models"), e))?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "onnx")).collect();
        v.sort();
        v
    } else {
        models.to_vec()
    };
    println!("{:<20} {:>10} {:>14} {:>14} {:>10}", "model", "MACs", "solidml cpu µs", "tract f32 µs", "ratio");
    for path in &models {
        let mut opts = solidml_compiler::CompileOptions::default();
        if let Some(c) = calibration_for(path) {
            opts = opts.with_calibration(vec![data::read_f32(&c)?]);
        }
        let compiled = solidml_compiler::compile(path, &opts).map_err(CliError::from)?;
        let model = &compiled.model;
        let shapes = runner::input_shapes(model);
        let inputs: Vec<ArrayD<f32>> = shapes.iter().map(|s| ArrayD::from_shape_fn(IxDyn(s), |i| (i.slice().iter().sum::<usize>() % 7) as f32 * 0.3)).collect();
        let q: Vec<_> = inputs.iter().enumerate().map(|(i, x)| runner::quantize_input(model, i, x)).collect();
        let exec = CpuExecutor::new(model).map_err(|e| CliError::from(solidml_compiler::CompileError::from(e)))?;
        let ours = median_us(|| { std::hint::black_box(exec.run(&q).unwrap()); }, iters);
        let tract = TractModel::load(path, &shapes).map_err(CliError::from)?;
        let theirs = median_us(|| { std::hint::black_box(tract.run(&inputs).unwrap()); }, iters);
        let name = path.file_stem().unwrap().to_string_lossy();
        println!("{:<20} {:>10} {:>14.1} {:>14.1} {:>9.2}x", name, model.macs(), ours, theirs, ours / theirs);
    }
    println!("ratio = solidml cpu / tract f32 (lower is faster for solidml); medians of {iters} runs");
    Ok(())
}
