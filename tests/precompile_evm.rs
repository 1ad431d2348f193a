//! The SolidML precompile inside a real EVM (revm 43, in process), called from Solidity
//! compiled by the project's solc (solc-js 0.8.30 wrapper):
//!
//! * the generated `NAMEPrecompile` contract of each example model: `predictQ` equals the CPU
//!   reference byte for byte, `predict` equals `run --fixed`'s exact values;
//! * errors bubble up as `SolidMLError(code, message)`; `SolidML.sol`'s address is Rust's;
//! * a consumer written against OpenGradient's interface runs through the `0x…F4` entry and gets
//!   the exact dequantized outputs; ZK mode gets a clear error.
//!
//! Needs a solc (`FOUNDRY_BIN`, set by scripts/test.sh): fails without one, unless `SOLIDML_SKIP`
//! lists `forge`.

use alloy_primitives::hex;
use std::sync::Arc;

use alloy_primitives::{Address, I256};
use alloy_sol_types::{SolCall, SolError, sol};
use solidml_compiler::{CompileOptions, runner};
use solidml_cpu::{CpuBackend, CpuExecutor};
use solidml_exec::Value;
use solidml_precompile::{MemoryStore, ModelStore, SOLIDML_PRECOMPILE, SolidMlPrecompile, abi, opengradient as og};
use solidml_revm::Chain;
use solidml_solidity::precompile_contract;
use solidml_spec::io::dequantize_fixed18;
use solidml_tests::*;

sol! {
    function predictQ(bytes q) returns (bytes);
    function predict(int256[] input) returns (int256[][]);
    // OpenGradient's output structs as the consumer returns them (same layout as `og`'s)
    struct Number { int128 value; int128 decimals; }
    struct MultiDimensionalNumberTensor { string name; Number[] values; uint32[] shape; }
    struct StringTensor { string name; string[] values; }
    struct JsonScalar { string name; string value; }
    struct ModelOutput { MultiDimensionalNumberTensor[] numbers; StringTensor[] strings; JsonScalar[] jsons; bool is_simulation_result; }
    function classify(string modelCID, uint8 mode, int128[] values, int128 decimals) returns (ModelOutput);
}

fn i256(v: i128) -> I256 {
    I256::try_from(v).unwrap()
}

const SAMPLES: usize = 100;

#[test]
fn generated_precompile_contracts_match_the_cpu_reference() {
    let Some(solc) = require_solc() else { return };
    let store = Arc::new(MemoryStore::new());
    let mut sources: Vec<(String, String)> = precompile_contract::IMPORTS.iter().map(|(p, c)| (p.to_string(), c.to_string())).collect();
    let mut models = vec![];
    for file in ["digits_mlp.onnx", "digits_logreg.onnx", "digits_logreg_ovr.onnx", "digits_cnn.onnx", "digits_cnn_qdq.onnx"] {
        let opts = CompileOptions::default().with_calibration(vec![npy_f32("digits_calib.npy")]);
        let compiled = solidml_compiler::compile(&examples().join(file), &opts).unwrap();
        store.insert(&compiled.artifact).unwrap();
        let name = solidml_solidity::contract_name(&compiled.model.name);
        sources.push(precompile_contract::emit(&compiled.model, &name, &compiled.model_id));
        models.push((format!("{name}Precompile"), compiled.model));
    }
    let contracts = solc.compile(&sources, &Default::default()).unwrap();
    let mut chain = Chain::new(SolidMlPrecompile::new(Arc::new(CpuBackend)).with_store(store));
    let all = npy_f32("digits_eval.npy");
    for (contract, model) in &models {
        let address = chain.deploy(contracts[contract].initcode.clone()).unwrap().address;
        let samples = runner::samples(&runner::input_shapes(model), std::slice::from_ref(&all)).unwrap();
        let exec = CpuExecutor::new(model).unwrap();
        let mut gas = 0;
        for s in &samples[..SAMPLES] {
            let q = runner::quantize_input(model, 0, &s[0]);
            let want = abi::pack_values(&exec.run(std::slice::from_ref(&q)).unwrap());
            let bytes: Vec<u8> = q.as_i8().iter().map(|&x| x as u8).collect();
            let r = chain.call(address, predictQCall { q: bytes.into() }.abi_encode()).unwrap();
            assert!(r.success, "{contract}: predictQ reverted: {:?}", abi::decode_error(&r.output[4.min(r.output.len())..]));
            assert_eq!(
                predictQCall::abi_decode_returns(&r.output).unwrap().to_vec(),
                want,
                "{contract}: predictQ differs from the CPU reference"
            );
            gas = r.gas;
        }
        for s in &samples[..3] {
            let f = runner::run_fixed(model, s).unwrap();
            let input: Vec<I256> = f.inputs[0].iter().map(|&v| i256(v)).collect();
            let r = chain.call(address, predictCall { input }.abi_encode()).unwrap();
            assert!(r.success, "{contract}: predict reverted");
            let got = predictCall::abi_decode_returns(&r.output).unwrap();
            let want: Vec<Vec<I256>> = f.outputs.iter().map(|o| o.iter().map(|&v| i256(v)).collect()).collect();
            assert_eq!(got, want, "{contract}: predict differs from run --fixed");
        }
        // wrong length: the contract's own error
        let r = chain.call(address, predictQCall { q: vec![1u8].into() }.abi_encode()).unwrap();
        assert!(!r.success && r.output.len() == 68, "{contract}: expected InputLength");
        println!("{contract}: {SAMPLES} inputs equal the CPU reference; predictQ {gas} gas");
    }
}

#[test]
fn precompile_errors_bubble_up_and_the_address_is_shared() {
    let sol = precompile_contract::IMPORTS.iter().find(|(p, _)| *p == "SolidML.sol").unwrap().1;
    assert!(
        sol.contains(&format!("PRECOMPILE = 0x{};", Address::from(SOLIDML_PRECOMPILE).to_checksum(None).trim_start_matches("0x"))),
        "SolidML.sol's address differs from SOLIDML_PRECOMPILE"
    );
    let Some(solc) = require_solc() else { return };
    // a model the node does not hold: the contract bubbles the precompile's SolidMLError
    let compiled = solidml_compiler::compile(
        &examples().join("digits_logreg.onnx"),
        &CompileOptions::default().with_calibration(vec![npy_f32("digits_calib.npy")]),
    )
    .unwrap();
    let name = solidml_solidity::contract_name(&compiled.model.name);
    let mut sources: Vec<(String, String)> = precompile_contract::IMPORTS.iter().map(|(p, c)| (p.to_string(), c.to_string())).collect();
    sources.push(precompile_contract::emit(&compiled.model, &name, &compiled.model_id));
    let contracts = solc.compile(&sources, &Default::default()).unwrap();
    let mut chain = Chain::new(SolidMlPrecompile::new(Arc::new(CpuBackend)));
    let address = chain.deploy(contracts[&format!("{name}Precompile")].initcode.clone()).unwrap().address;
    let r = chain.call(address, predictQCall { q: vec![0u8; 64].into() }.abi_encode()).unwrap();
    assert!(!r.success);
    assert_eq!(&r.output[..4], &abi::ERROR_SELECTOR);
    let (code, message) = abi::decode_error(&r.output).unwrap();
    assert_eq!(code, abi::ErrorCode::UnknownModel as u8);
    assert_eq!(message, format!("unknown model 0x{}", hex::encode(compiled.model_id)));
    // the decoded error is also a valid `SolidMLError` for Solidity callers
    assert!(abi::SolidMLError::abi_decode(&r.output).is_ok());
}

#[test]
fn an_opengradient_consumer_runs_unchanged_through_the_f4_entry() {
    let Some(solc) = require_solc() else { return };
    let compiled = solidml_compiler::compile(
        &examples().join("digits_mlp.onnx"),
        &CompileOptions::default().with_calibration(vec![npy_f32("digits_calib.npy")]),
    )
    .unwrap();
    let model = &compiled.model;
    let store = Arc::new(MemoryStore::new());
    store.insert(&compiled.artifact).unwrap();
    let sources = vec![
        ("OGConsumer.sol".to_string(), include_str!("solidity/OGConsumer.sol").to_string()),
        ("opengradient/OGInference.sol".to_string(), include_str!("../stdlib-sol/src/opengradient/OGInference.sol").to_string()),
    ];
    let contracts = solc.compile(&sources, &Default::default()).unwrap();
    let mut chain = Chain::new(SolidMlPrecompile::new(Arc::new(CpuBackend)).with_store(store));
    let consumer = chain.deploy(contracts["OGConsumer"].initcode.clone()).unwrap().address;
    let cid = format!("0x{}", hex::encode(compiled.model_id));
    let exec = CpuExecutor::new(model).unwrap();
    let iq = model.tensor(model.inputs[0]).quant.unwrap();
    let oq = model.tensor(model.outputs[1]).quant;
    let samples = runner::samples(&runner::input_shapes(model), &[npy_f32("digits_eval.npy")]).unwrap();
    for s in &samples[..20] {
        // pixel values with 4 decimals, as a Solidity caller would pass them
        let values: Vec<i128> = s[0].iter().map(|&x| (x as f64 * 10_000.0).round() as i128).collect();
        let numbers: Vec<og::Number> = values.iter().map(|&v| og::Number { value: v, decimals: 4 }).collect();
        let q: Vec<i8> = numbers.iter().map(|n| og::quantize_number(n, iq.scale, iq.zero_point).unwrap()).collect();
        let want = exec.run(&[Value::I8(q)]).unwrap();
        let call = classifyCall { modelCID: cid.clone(), mode: 0, values: values.clone(), decimals: 4 };
        let r = chain.call(consumer, call.abi_encode()).unwrap();
        assert!(r.success, "runModelInference reverted: {:?}", abi::decode_error(&r.output));
        let out = classifyCall::abi_decode_returns(&r.output).unwrap();
        assert!(!out.is_simulation_result);
        assert_eq!(out.numbers.len(), model.outputs.len());
        // label (int64, 0 decimals) and probabilities (int8 → 18 decimals), exactly
        assert_eq!(
            out.numbers[0].values.iter().map(|n| (n.value, n.decimals)).collect::<Vec<_>>(),
            want[0].as_i64().iter().map(|&v| (v as i128, 0)).collect::<Vec<_>>()
        );
        let oq = oq.unwrap();
        let probs: Vec<(i128, i128)> =
            want[1].as_i8().iter().map(|&v| (dequantize_fixed18(v as i32, oq.scale, oq.zero_point), 18)).collect();
        assert_eq!(out.numbers[1].values.iter().map(|n| (n.value, n.decimals)).collect::<Vec<_>>(), probs);
        assert_eq!(out.numbers[1].shape, model.tensor(model.outputs[1]).shape);
    }
    // ZK mode: a clear error, bubbled through the consumer
    let r = chain.call(consumer, classifyCall { modelCID: cid, mode: 1, values: vec![0; 64], decimals: 0 }.abi_encode()).unwrap();
    assert!(!r.success);
    assert!(abi::decode_error(&r.output).unwrap().1.contains("mode ZK is not available"));
}
