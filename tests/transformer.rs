//! The transformer example (`examples/models/transformer.onnx`, made by `make_transformer.py`
//! with PyTorch: 2 layers, d_model 64, 4 heads, 1,024 tokens, a window of 16) end to end:
//! compiled with its calibration windows, then the 500 evaluation windows of held-out text run
//! on the CPU reference, the JIT and the GPU executor, which must agree byte for byte; the int8
//! model's next-token pick must agree with the float model's (onnxruntime's, saved by the
//! script) on at least 95% of them; and one window runs in the EVM (the generated pure-Solidity
//! contracts in revm, split deployment included), whose output must equal the reference's, with
//! the gas of one token under a 30M-gas block.
//!
//! Needs a GPU adapter (`bash scripts/vulkan-env.sh`) and solc (`bash scripts/forge-env.sh`)
//! unless `SOLIDML_SKIP` lists `gpu` or `forge`.

use std::sync::Arc;

use solidml_compiler::CompileOptions;
use solidml_cpu::{CpuBackend, CpuExecutor};
use solidml_exec::{Executor, PreparedModel, Value};
use solidml_gpu::GpuExecutor;
use solidml_jit::JitBackend;
use solidml_solidity::{SolidityLayout, gas};
use solidml_tests::*;

/// The example's evaluation windows (held-out text) and the float model's picks on them.
const EVAL: &str = "transformer_eval.npy";
const FLOAT_PICKS: &str = "transformer_eval_float.npy";

/// The first index of the largest code (codes are monotone in the logits: scale > 0).
fn pick(logits: &Value) -> usize {
    let Value::I8(q) = logits else { panic!("int8 logits expected") };
    q.iter().enumerate().fold((0, i8::MIN), |b, (i, &v)| if v > b.1 { (i, v) } else { b }).0
}

#[test]
fn transformer_agrees_with_float_and_is_bit_exact_on_every_executor() {
    // token ids are exact in f32, the calibration data's type
    let calib = npy_i64("transformer_calib.npy").mapv(|t| t as f32);
    let compiled =
        solidml_compiler::compile(&examples().join("transformer.onnx"), &CompileOptions::default().with_calibration(vec![calib])).unwrap();
    let model = &compiled.model;
    assert!(compiled.warnings.is_empty(), "{:?}", compiled.warnings);
    let ops: Vec<&str> = model.nodes.iter().map(|n| n.op.kind()).collect();
    for op in ["GatherDynamic", "Dense", "MatMul", "Softmax", "Reduce"] {
        assert!(ops.contains(&op), "{op} expected among {ops:?}");
    }
    let eval = npy_i64(EVAL);
    let float_picks = npy_i64(FLOAT_PICKS);
    assert_eq!(eval.shape(), &[500, 16]);
    let windows: Vec<Vec<Value>> = eval.outer_iter().map(|w| vec![Value::I64(w.iter().copied().collect())]).collect();

    let cpu = CpuExecutor::new(model).unwrap();
    let jit = JitBackend::new().with_fallback(Arc::new(CpuBackend)).compile(Arc::new(model.clone())).unwrap();
    let gpu = require_gpu().map(|ctx| GpuExecutor::new(ctx, model).unwrap());
    let mut agree = 0;
    for (i, inputs) in windows.iter().enumerate() {
        let want = cpu.run(inputs).unwrap();
        assert_eq!(jit.run(inputs).unwrap(), want, "window {i}: the JIT differs from the CPU reference");
        if let Some(gpu) = &gpu {
            assert_eq!(gpu.run(inputs).unwrap(), want, "window {i}: the GPU differs from the CPU reference");
        }
        agree += usize::from(pick(&want[0]) as i64 == float_picks[i]);
    }
    let agreement = agree as f64 / windows.len() as f64;
    eprintln!("next-token top-1 agreement with the float model: {agree} of {} ({:.1}%)", windows.len(), 100.0 * agreement);
    assert!(agreement >= 0.95, "top-1 agreement {agreement:.3} under 95%");

    // one token in the EVM: the generated contracts (split deployment) on a real window
    let Some(solc) = require_solc() else { return };
    let reference: Arc<dyn Executor> = Arc::new(CpuBackend);
    let g = gas::model_gas_on(&reference, &solc, model, &compiled.model_id, SolidityLayout::Fast, &windows[0]).unwrap();
    eprintln!(
        "EVM, one token: predictQ {} gas, deployment {} gas in {} transactions, main contract {} bytes, the largest other {} bytes",
        g.predict_q, g.deploy, g.deploy_txs, g.runtime_bytes, g.largest_part_bytes
    );
    assert!(g.predict_q < 30_000_000, "one token costs {} gas, over a 30M block", g.predict_q);
    // deployable on mainnet: every contract within EIP-170, every transaction within EIP-3860
    assert!(g.runtime_bytes.max(g.largest_part_bytes) <= 24_576, "a contract over EIP-170: {} / {}", g.runtime_bytes, g.largest_part_bytes);
    assert!(g.initcode_bytes <= 49_152, "an init code over EIP-3860: {}", g.initcode_bytes);
}
