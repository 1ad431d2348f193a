//! Randomized models through the pure-Solidity backend, executed in revm in process:
//! for ≥ 50 random valid spec models (random op chains and shapes from `random_spec`, every op
//! family the emitter accepts), `predictQ` equals the CPU reference byte for byte on 100 inputs
//! each (a CPU run-time error must be a revert), and `predict` equals the spec's fixed-point IO
//! around the CPU reference on 10 inputs each.
//!
//! All contracts are compiled in one solc run (solc-js is slow to start). Needs a solc
//! (`FOUNDRY_BIN`, set by scripts/test.sh): fails in CI without one, skips elsewhere.

use std::collections::BTreeMap;

use alloy_primitives::I256;
use alloy_sol_types::{SolCall, sol};
use solidml_compiler::solc::Solc;
use solidml_cpu::{CpuExecutor, Value};
use solidml_precompile::{SolidMlPrecompile, abi};
use solidml_revm::Chain;
use solidml_spec::{DType, Model, io};
use solidml_tests::{random_spec::*, *};

sol! {
    function predictQ(bytes q) returns (bytes);
    function predict(int256[] input) returns (int256[][]);
}

const MODELS: usize = 60;
const INPUTS: usize = 100;
const FIXED_INPUTS: usize = 10;

#[test]
fn random_models_in_the_evm_equal_the_cpu_reference() {
    let solc = match (Solc::locate(), std::env::var_os("FOUNDRY_BIN").or(std::env::var_os("SOLC"))) {
        (Ok(s), Some(_)) => s,
        _ => {
            assert!(std::env::var("CI").is_err(), "FOUNDRY_BIN must be set in CI (scripts/test.sh sets it)");
            eprintln!("skipped: no solc (set FOUNDRY_BIN or SOLC)");
            return;
        }
    };
    let mut rng = Rng(0x5eed_0004);
    let mut models: Vec<(String, Model)> = vec![];
    let mut sources: BTreeMap<String, String> = BTreeMap::new();
    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    let mut attempts = 0;
    while models.len() < MODELS && attempts < 2000 {
        attempts += 1;
        let mut m = random_model(&mut rng, OpKind::ALL);
        m.name = format!("Rnd{attempts}");
        let id = solidml_spec::model_id(&m).unwrap();
        match solidml_compiler::solidity::emit(&m, &id) {
            Ok(files) => {
                sources.extend(files);
                models.push((solidml_compiler::solidity::contract_name(&m.name), m));
            }
            Err(e) => *refused.entry(e.split(':').next().unwrap_or("").to_string()).or_default() += 1,
        }
    }
    println!("{} models emitted in {attempts} draws; refused: {refused:?}", models.len());
    assert!(models.len() >= 50, "only {} of {attempts} random models are supported by the Solidity backend", models.len());
    let sources: Vec<(String, String)> = sources.into_iter().collect();
    let contracts = solc.compile(&sources, &Default::default()).unwrap();
    let mut chain = Chain::new(SolidMlPrecompile::new());
    let (mut calls, mut reverts) = (0, 0);
    let mut ops_seen: BTreeMap<&'static str, usize> = BTreeMap::new();
    for (name, m) in &models {
        m.nodes.iter().for_each(|n| *ops_seen.entry(n.op.kind()).or_default() += 1);
        let address = chain.deploy(contracts[name].initcode.clone()).unwrap_or_else(|e| panic!("{name}: {e}\n{m:#?}")).address;
        let exec = CpuExecutor::new(m).unwrap();
        for k in 0..INPUTS {
            let ins = random_inputs(&mut rng, m);
            let q = abi::pack_values(&ins);
            let r = chain.call(address, predictQCall { q: q.into() }.abi_encode()).unwrap();
            calls += 1;
            match exec.run(&ins) {
                Ok(want) => {
                    assert!(r.success, "{name} input {k}: predictQ reverted (0x{}) where the CPU succeeds\n{m:#?}\n{ins:?}", hex(&r.output));
                    let got = predictQCall::abi_decode_returns(&r.output).unwrap();
                    assert_eq!(got.to_vec(), abi::pack_values(&want), "{name} input {k}: predictQ differs from the CPU reference\n{m:#?}\n{ins:?}");
                }
                Err(e) => {
                    assert!(!r.success, "{name} input {k}: the CPU fails ({e}) but predictQ succeeded");
                    reverts += 1;
                }
            }
            if k < FIXED_INPUTS {
                check_predict(&mut chain, address, name, m, &exec, &mut rng);
            }
        }
    }
    println!("{calls} predictQ calls on {} models equal the CPU reference ({reverts} expected reverts); ops: {ops_seen:?}", models.len());
}

/// `predict` on random 18-decimal inputs equals quantize → CPU → dequantize by the spec's formulas.
fn check_predict(chain: &mut Chain, address: alloy_primitives::Address, name: &str, m: &Model, exec: &CpuExecutor, rng: &mut Rng) {
    let template = random_inputs(rng, m);
    let mut fixed: Vec<i128> = vec![];
    let mut ins = vec![];
    for (&id, v) in m.inputs.iter().zip(&template) {
        let t = m.tensor(id);
        match (t.dtype, t.quant) {
            (DType::I8, Some(q)) => {
                // reals around the representable range, some far outside it
                let xs: Vec<i128> = (0..t.len()).map(|_| (rng.range(-300, 300) as i128) * (q.scale as f64 * 1e18) as i128 / 2 + rng.range(-1000, 1000) as i128).collect();
                ins.push(Value::I8(xs.iter().map(|&x| io::quantize_fixed18(x, q.scale, q.zero_point)).collect()));
                fixed.extend(xs);
            }
            _ => {
                fixed.extend(v.as_i64().iter().map(|&x| x as i128 * io::FIXED18_ONE));
                ins.push(v.clone());
            }
        }
    }
    let r = chain.call(address, predictCall { input: fixed.iter().map(|&x| I256::try_from(x).unwrap()).collect() }.abi_encode()).unwrap();
    let Ok(want) = exec.run(&ins) else {
        assert!(!r.success, "{name}: the CPU fails but predict succeeded");
        return;
    };
    assert!(r.success, "{name}: predict reverted (0x{})", hex(&r.output));
    let got = predictCall::abi_decode_returns(&r.output).unwrap();
    let expected: Vec<Vec<I256>> = m
        .outputs
        .iter()
        .zip(&want)
        .map(|(&o, v)| match (m.tensor(o).quant, v) {
            (Some(q), Value::I8(x)) => x.iter().map(|&e| I256::try_from(io::dequantize_fixed18(e as i32, q.scale, q.zero_point)).unwrap()).collect(),
            (_, Value::I64(x)) => x.iter().map(|&e| I256::try_from(e).unwrap()).collect(),
            (None, Value::I8(x)) => x.iter().map(|&e| I256::try_from(e as i64).unwrap()).collect(),
        })
        .collect();
    assert_eq!(got, expected, "{name}: predict differs from the spec's IO around the CPU reference\n{m:#?}");
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
