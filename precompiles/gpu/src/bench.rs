//! Timing helpers for `solidml bench`.
//!
//! * [`bench_model`]: latency of [`GpuExecutor::run`] on a model (upload, one submission,
//!   readback: what a caller of the executor waits for), after warm-up runs (the first run
//!   also pays lavapipe's pipeline compilation).
//! * [`gemm_model`] / [`bench_gemm`]: an int8 GEMM `[M, K] × [K, N]` as one Dense node, timed
//!   the same way, with its MAC rate (`M·N·K` multiply-accumulates per run).
//!
//! ```no_run
//! # fn demo() -> Result<(), solidml_gpu::GpuError> {
//! let ctx = solidml_gpu::GpuContext::new()?;
//! let r = solidml_gpu::bench::bench_gemm(&ctx, 1024, 1024, 1024, 3)?;
//! println!("{}: {:.2} ms, {:.2} GMAC/s", ctx.adapter(), r.mean.as_secs_f64() * 1e3, r.macs_per_sec / 1e9);
//! # Ok(()) }
//! ```

use std::time::{Duration, Instant};

use solidml_exec::Value;
use solidml_spec::{DType, Dense, Epilogue, Model, Node, Op, Quant, TensorInfo, arith::Multiplier};

use crate::{GpuContext, GpuError, GpuExecutor};

/// Timings of repeated runs.
#[derive(Debug, Clone)]
pub struct BenchResult {
    /// Timed runs (after warm-up).
    pub runs: u32,
    /// Mean wall-clock latency of one timed run (upload, submission, readback).
    pub mean: Duration,
    /// Fastest timed run.
    pub min: Duration,
    /// Slowest timed run.
    pub max: Duration,
    /// Time to build the executor (validation, uploads, pipeline lookups / first compilation).
    pub prepare: Duration,
    /// The model's multiply-accumulates per run (`Model::macs`).
    pub macs: u64,
    /// `macs / mean`, per second.
    pub macs_per_sec: f64,
}

/// Time up to `runs` runs of `model` on `inputs` (after one warm-up run), fewer once ~3 s are
/// spent (at least 3); `BenchResult::runs` says how many.
pub fn bench_model(ctx: &GpuContext, model: &Model, inputs: &[Value], runs: u32) -> Result<BenchResult, GpuError> {
    let runs = runs.max(1);
    let t0 = Instant::now();
    let exec = GpuExecutor::new(ctx, model)?;
    let prepare = t0.elapsed();
    exec.run(inputs)?; // warm-up: first dispatches compile on some drivers
    // at most `runs`, fewer once ~3 s are spent (at least 3): large models on lavapipe take
    // seconds per run
    let mut times = Vec::with_capacity(runs as usize);
    let start = Instant::now();
    while times.len() < runs as usize && (times.len() < 3 || start.elapsed() < Duration::from_secs(3)) {
        let t = Instant::now();
        exec.run(inputs)?;
        times.push(t.elapsed());
    }
    let runs = times.len() as u32;
    let total: Duration = times.iter().sum();
    let mean = total / runs;
    let macs = model.macs();
    Ok(BenchResult {
        runs,
        mean,
        min: *times.iter().min().unwrap(),
        max: *times.iter().max().unwrap(),
        prepare,
        macs,
        macs_per_sec: macs as f64 / mean.as_secs_f64().max(1e-12),
    })
}

/// A single-Dense model computing an int8 GEMM `[m, k] × [k, n]` (weights `[n, k]`), with
/// deterministic pseudo-random weights that keep the accumulator in range.
pub fn gemm_model(m: u32, n: u32, k: u32) -> Model {
    let mut s = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    // |w| ≤ bound keeps Σ|w|·255 within i32 for any k
    let bound = ((i32::MAX as u64 / 255 / k.max(1) as u64) as i64).clamp(1, 127);
    let weights: Vec<i8> = (0..n as u64 * k as u64).map(|_| ((next() % (2 * bound as u64 + 1)) as i64 - bound) as i8).collect();
    let q = |zp| Some(Quant { scale: 0.05, zero_point: zp });
    let dense = Dense {
        in_features: k,
        out_features: n,
        input_zero_point: 3,
        weights,
        bias: (0..n).map(|i| i as i32 - n as i32 / 2).collect(),
        epilogue: Epilogue {
            multipliers: vec![Multiplier::from_real(1.0 / (k as f64 * 64.0))],
            output_zero_point: -2,
            clamp_min: -128,
            clamp_max: 127,
        },
    };
    Model {
        name: format!("gemm_{m}x{n}x{k}"),
        tensors: vec![
            TensorInfo { name: "a".into(), shape: vec![m, k], dtype: DType::I8, quant: q(3) },
            TensorInfo { name: "c".into(), shape: vec![m, n], dtype: DType::I8, quant: q(-2) },
        ],
        constants: vec![],
        inputs: vec![0],
        outputs: vec![1],
        nodes: vec![Node { name: "gemm".into(), op: Op::Dense(dense), inputs: vec![0], outputs: vec![1] }],
        input_quant: vec![],
    }
}

/// Time an int8 GEMM `[m, k] × [k, n]` (one Dense node) over `runs` runs; `macs_per_sec` is
/// its throughput including upload and readback.
pub fn bench_gemm(ctx: &GpuContext, m: u32, n: u32, k: u32, runs: u32) -> Result<BenchResult, GpuError> {
    let model = gemm_model(m, n, k);
    let input: Vec<i8> = (0..m as usize * k as usize).map(|i| (i.wrapping_mul(2654435761) >> 7) as u8 as i8).collect();
    bench_model(ctx, &model, &[Value::I8(input)], runs)
}
