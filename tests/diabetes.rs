//! The wide precisions on the regression examples: `examples/models/diabetes.onnx` (made by
//! `make_diabetes.py`: scikit-learn's StandardScaler + MLPRegressor(32, 16) on the diabetes
//! data) and `diabetes_linear.onnx` / `diabetes_ridge.onnx` (`make_diabetes_linear.py`:
//! LinearRegression, StandardScaler + Ridge), exported by skl2onnx as they come. Compiled at
//! int8, int16 (TFLite's 16x8: int16 activations, int8 weights, the output at the accumulator's
//! precision) and int16x16, each model's mean absolute error against the float model
//! (onnxruntime's predictions, saved by the scripts) over all 442 samples is measured; the wide
//! models run bit-exactly on the CPU reference, the JIT, the GPU executor and in the EVM (the
//! generated contract in revm).
//!
//! Needs a GPU adapter (`bash scripts/vulkan-env.sh`) and solc (`bash scripts/forge-env.sh`)
//! unless `SOLIDML_SKIP` lists `gpu` or `forge`.

use std::sync::Arc;

use solidml_compiler::{CompileOptions, Precision, runner};
use solidml_cpu::{CpuBackend, CpuExecutor};
use solidml_exec::{Executor, PreparedModel, Value};
use solidml_gpu::GpuExecutor;
use solidml_jit::JitBackend;
use solidml_solidity::{SolidityLayout, gas};
use solidml_spec::DType;
use solidml_tests::*;

/// Compile the example `diabetes{variant}.onnx` at `precision`; its inputs for every evaluation
/// sample, and the mean absolute error of its outputs against the float model's
/// (`diabetes{variant}_eval_float.npy`).
fn measure(variant: &str, precision: Precision) -> (solidml_compiler::Compiled, Vec<Vec<Value>>, f64) {
    let opts = CompileOptions::default().with_calibration(vec![npy_f32("diabetes_calib.npy")]).with_precision(precision);
    let compiled = solidml_compiler::compile(&examples().join(format!("diabetes{variant}.onnx")), &opts).unwrap();
    assert!(compiled.warnings.is_empty(), "{:?}", compiled.warnings);
    let (eval, float) = (npy_f32("diabetes_eval.npy"), npy_f32(&format!("diabetes{variant}_eval_float.npy")));
    assert_eq!((eval.shape(), float.shape()), (&[442, 10][..], &[442, 1][..]));
    let model = &compiled.model;
    let cpu = CpuExecutor::new(model).unwrap();
    let mut inputs = vec![];
    let mut error = 0.0;
    for (i, x) in eval.outer_iter().enumerate() {
        let x = x.to_owned().insert_axis(ndarray::Axis(0)).into_dyn();
        let ins = vec![runner::quantize_input(model, 0, &x)];
        let out = runner::dequantize_output(model, 0, &cpu.run(&ins).unwrap()[0]).to_f32();
        error += (out[[0, 0]] as f64 - float[[i, 0]] as f64).abs();
        inputs.push(ins);
    }
    (compiled, inputs, error / eval.shape()[0] as f64)
}

/// The mean errors of `diabetes{variant}.onnx` at int8, 16x8 and 16x16 (the wide models checked
/// bit-exact on every executor and in the EVM).
fn wide_precisions(variant: &str) -> [f64; 3] {
    let (int8, _, mae8) = measure(variant, Precision::Int8);
    assert!(int8.model.tensors.iter().all(|t| t.dtype == DType::I8));
    let mut maes = vec![mae8];
    for precision in [Precision::Int16, Precision::Int16x16] {
        let (compiled, inputs, mae) = measure(variant, precision);
        let model = &compiled.model;
        // the dense layers are wide: int16 in, int16 between, the int32 accumulator out
        assert!(model.nodes.iter().all(|n| n.op.kind() == "DenseWide"), "{precision:?}");
        assert_eq!(model.tensor(model.inputs[0]).dtype, DType::I16);
        assert_eq!(model.tensor(model.outputs[0]).dtype, DType::I32);
        // 16x8: the accumulator itself fits int32; 16x16's is 256× finer, rescaled to int32 codes
        let solidml_spec::Op::DenseWide(last) = &model.nodes.last().unwrap().op else { unreachable!() };
        assert_eq!(last.multipliers.is_empty(), precision == Precision::Int16, "{precision:?}");
        eprintln!("diabetes{variant} {precision:?}: mean |error| against float {mae:.5} (int8: {mae8:.5}, {:.1}× smaller)", mae8 / mae);

        // every executor, every sample, byte for byte
        let cpu = CpuExecutor::new(model).unwrap();
        let jit = JitBackend::new().with_fallback(Arc::new(CpuBackend)).compile(Arc::new(model.clone())).unwrap();
        let gpu = require_gpu().map(|ctx| GpuExecutor::new(ctx, model).unwrap());
        for (i, ins) in inputs.iter().enumerate() {
            let want = cpu.run(ins).unwrap();
            assert_eq!(jit.run(ins).unwrap(), want, "{precision:?} sample {i}: the JIT differs from the CPU reference");
            if let Some(gpu) = &gpu {
                assert_eq!(gpu.run(ins).unwrap(), want, "{precision:?} sample {i}: the GPU differs from the CPU reference");
            }
        }
        if let Some(solc) = require_solc() {
            let reference: Arc<dyn Executor> = Arc::new(CpuBackend);
            for ins in inputs.iter().step_by(97) {
                let g = gas::model_gas_on(&reference, &solc, model, &compiled.model_id, SolidityLayout::Fast, ins).unwrap();
                eprintln!("{precision:?}: EVM predictQ {} gas, predict {} gas, deployment {} gas", g.predict_q, g.predict, g.deploy);
            }
        }
        maes.push(mae);
    }
    maes.try_into().unwrap()
}

#[test]
fn wide_precisions_cut_the_mlp_error_and_run_bit_exactly_everywhere() {
    let [mae8, mae16x8, mae16x16] = wide_precisions("");
    // measured: 16x8 0.101 (5.2× under int8's 0.524; its first layer's 32 channels of int8
    // weights bound it: the same activations with float weights give 0.0066), 16x16 0.0066 (79×)
    assert!(mae16x8 * 4.0 <= mae8, "16x8: {mae16x8} is not 4× under int8's {mae8}");
    assert!(mae16x16 * 10.0 <= mae8, "16x16: {mae16x16} is not 10× under int8's {mae8}");
}

#[test]
fn linear_regressors_at_16x8_are_ten_times_closer_to_float_than_at_int8() {
    // one output channel: passes::equalize_dense makes every int8 weight ±127, exact; measured
    // at 16x8: LinearRegression 0.0021 against int8's 0.457 (223×), Ridge 0.0026 against 0.487
    for variant in ["_linear", "_ridge"] {
        let [mae8, mae16x8, mae16x16] = wide_precisions(variant);
        assert!(mae16x8 * 10.0 <= mae8, "diabetes{variant} 16x8: {mae16x8} is not 10× under int8's {mae8}");
        assert!(mae16x16 * 10.0 <= mae8, "diabetes{variant} 16x16: {mae16x16} is not 10× under int8's {mae8}");
    }
}
