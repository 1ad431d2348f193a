//! Shared steps of the tabular-model tests (`tests/forest.rs`, `tests/svm.rs`): samples one row
//! at a time, the float interpreter's outputs of an example as imported, and the run of a
//! compiled model on every executor, checked byte for byte against the CPU reference.

use std::sync::Arc;

use ndarray::{ArrayD, Axis};
use solidml_compiler::{Compiled, calibrate, ir, onnx, runner};
use solidml_cpu::{CpuBackend, CpuExecutor};
use solidml_exec::{Executor, PreparedModel, Value};
use solidml_gpu::GpuExecutor;
use solidml_jit::JitBackend;
use solidml_solidity::{SolidityLayout, gas};

use crate::{examples, require_gpu, require_solc};

/// Every row of `x` as a `[1, F]` sample.
pub fn samples(x: &ArrayD<f32>) -> Vec<ArrayD<f32>> {
    x.outer_iter().map(|r| r.to_owned().insert_axis(Axis(0)).into_dyn()).collect()
}

/// The float interpreter's outputs of the example ONNX file `name` on each sample (imported as
/// it is, before any pass).
pub fn float_outputs(name: &str, xs: &[ArrayD<f32>]) -> Vec<Vec<ir::Value>> {
    let g = onnx::load(&examples().join(name)).unwrap();
    xs.iter()
        .map(|x| {
            let vals = calibrate::run_float(&g, &[ir::Value::Float(x.clone())]).unwrap();
            g.outputs.iter().map(|t| vals[t].clone()).collect()
        })
        .collect()
}

/// The CPU reference, the JIT and the GPU executor agree byte for byte on every input; the
/// EVM on every `evm_every`-th, each inference under a 30M-gas block. Returns the reference
/// outputs.
pub fn run_everywhere(c: &Compiled, inputs: &[Vec<Value>], evm_every: usize) -> Vec<Vec<Value>> {
    let model = &c.model;
    let cpu = CpuExecutor::new(model).unwrap();
    let jit = JitBackend::new().with_fallback(Arc::new(CpuBackend)).compile(Arc::new(model.clone())).unwrap();
    let gpu = require_gpu().map(|ctx| GpuExecutor::new(ctx, model).unwrap());
    let mut outs = vec![];
    for (i, ins) in inputs.iter().enumerate() {
        let want = cpu.run(ins).unwrap();
        assert_eq!(jit.run(ins).unwrap(), want, "{} sample {i}: the JIT differs from the CPU reference", model.name);
        if let Some(gpu) = &gpu {
            assert_eq!(gpu.run(ins).unwrap(), want, "{} sample {i}: the GPU differs from the CPU reference", model.name);
        }
        outs.push(want);
    }
    if let Some(solc) = require_solc() {
        let reference: Arc<dyn Executor> = Arc::new(CpuBackend);
        for ins in inputs.iter().step_by(evm_every) {
            // model_gas_on fails when the contract's output differs from the reference's
            let g = gas::model_gas_on(&reference, &solc, model, &c.model_id, SolidityLayout::Fast, ins).unwrap();
            eprintln!(
                "{}: EVM predictQ {} gas, deployment {} gas in {} transactions, main contract {} bytes",
                model.name, g.predict_q, g.deploy, g.deploy_txs, g.runtime_bytes
            );
            assert!(g.predict_q < 30_000_000, "{}: one inference costs {} gas, over a 30M block", model.name, g.predict_q);
        }
    }
    outs
}

/// The float interpreter's prediction of the one-output regressor `name` equals onnxruntime's
/// (`float`, `[samples, 1]`) on every sample, to 1e-4 relative.
pub fn assert_float_regression(name: &str, xs: &[ArrayD<f32>], float: &ArrayD<f32>) {
    for (i, outs) in float_outputs(name, xs).iter().enumerate() {
        let y = outs[0].to_f32()[[0, 0]];
        assert!((y - float[[i, 0]]).abs() <= 1e-4 * float[[i, 0]].abs(), "{name} sample {i}: {y} vs {}", float[[i, 0]]);
    }
}

/// The compiled regressor run on every sample ([`run_everywhere`]) and its mean absolute error
/// against onnxruntime's predictions `float` (`[samples, 1]`).
pub fn regression_error(c: &Compiled, xs: &[ArrayD<f32>], float: &ArrayD<f32>, evm_every: usize) -> f64 {
    let inputs: Vec<Vec<Value>> = xs.iter().map(|x| vec![runner::quantize_input(&c.model, 0, x)]).collect();
    let outs = run_everywhere(c, &inputs, evm_every);
    let error: f64 = outs
        .iter()
        .enumerate()
        .map(|(i, o)| (runner::dequantize_output(&c.model, 0, &o[0]).to_f32()[[0, 0]] - float[[i, 0]]).abs() as f64)
        .sum();
    error / outs.len() as f64
}

/// The spec op kinds of a compiled model's nodes, in order.
pub fn kinds(c: &Compiled) -> Vec<&'static str> {
    c.model.nodes.iter().map(|n| n.op.kind()).collect()
}
