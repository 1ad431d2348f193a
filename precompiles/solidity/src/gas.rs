//! Gas measurement: what a model costs in the EVM, measured, not estimated (`solidml gas`
//! prints these figures).
//!
//! The generated contracts are compiled with the project's solc (optimizer off, as in the
//! generated foundry projects: see [`crate::solc`]) and executed in revm in process
//! ([`solidml_revm::Chain`]), the EVM forge runs on; a test (`tests/gas_vs_forge.rs`) checks
//! the figures equal forge's gas report for the same call. Printed per model: deployment gas
//! (all its contracts), `predictQ` and `predict` gas, runtime and init code bytes, and whether
//! `new NAME()` fits one mainnet transaction (EIP-3860: init code ≤ 49,152 bytes, which holds
//! the part contracts' code too). Code size limits are lifted to measure the models that do
//! not, as forge's `code_size_limit` does.
//!
//! Every model and the reference layer are measured in both Solidity layouts: `fast` (weights
//! compiled into the code as packed PUSH32 constants, least gas per inference) and `compact`
//! (weights as raw bytes read at run time, least deployment gas; contract `NAME_compact`).
//!
//! The reference layer: a 256×256 int8 dense layer with requantization, as the generated
//! contract (both layouts) and as the straightforward Solidity a user writes first (weights in a
//! `bytes` constant copied to memory, nested loops, checked arithmetic, `SolidMLMath` for the
//! requantization), both on the same input in the same run, with both outputs checked against
//! the CPU reference. The straightforward version is measured as forge builds it by default
//! (optimizer off) and with the optimizer on (200 runs); the ratio quoted is against the
//! optimized one. Gas per MAC is the whole `predictQ` call over the layer's 65,536 MACs.

use std::{fmt::Write, path::Path, sync::Arc};

use alloy_sol_types::{SolCall, SolValue, sol};
use solidml_exec::{Executor, Value};
use solidml_precompile::{SolidMlPrecompile, abi};
use solidml_revm::Chain;
use solidml_spec::{DType, Dense, Epilogue, Model, Op, Quant, arith::Multiplier};

use crate::{
    SolidityError, SolidityLayout, SolidityOptions,
    solc::{Solc, SolcSettings},
};

type Result<T> = std::result::Result<T, SolidityError>;

sol! {
    function predictQ(bytes q) returns (bytes);
    function predict(int256[] input) returns (int256[][]);
}

/// Gas of one model's contract.
pub struct ModelGas {
    /// The contract measured (its Solidity name).
    pub contract: String,
    /// The sources compiled, `(file name, text)`.
    pub sources: Vec<(String, String)>,
    /// The packed input codes passed to `predictQ` (every model input in order: int8 codes as
    /// bytes, int16 and int32 codes as big-endian 2- and 4-byte words, integer inputs as
    /// big-endian 8-byte words).
    pub input: Vec<u8>,
    /// Compile settings used (the forge project replaying the call uses the same).
    pub settings: SolcSettings,
    /// Deployment gas, all transactions together.
    pub deploy: u64,
    /// Transactions the deployment takes (1: `new NAME()`; more for a split model).
    pub deploy_txs: usize,
    /// The part and data contracts deployed before the model (split models).
    pub split_parts: Vec<String>,
    /// Execution gas of one `predictQ` call on [`ModelGas::input`] (transaction gas minus
    /// intrinsic gas, as forge's gas report lists it).
    pub predict_q: u64,
    /// Execution gas of one `predict` call (18-decimal fixed-point inputs, all zero), or 0
    /// when not measured.
    pub predict: u64,
    /// Deployed code size of the model contract, in bytes (EIP-170 caps it at 24,576).
    pub runtime_bytes: usize,
    /// The largest init code of the deployment's transactions.
    pub initcode_bytes: usize,
    /// The largest deployed code of its part, stage and data contracts (0 when it has none).
    pub largest_part_bytes: usize,
}

/// EIP-3860's init code limit on mainnet.
pub const MAX_INITCODE: usize = 49_152;
/// Code size limit while measuring (forge's `code_size_limit` in the replay projects).
pub const MEASURE_CODE_LIMIT: usize = 1_000_000;

fn err(what: &str, e: impl std::fmt::Display) -> SolidityError {
    SolidityError::Measure(format!("{what}: {e}"))
}

/// The reference outputs of `model` on `inputs`, packed as `predictQ` returns them.
fn reference_output(reference: &Arc<dyn Executor>, model: &Model, inputs: &[Value]) -> Result<Vec<u8>> {
    let prepared = reference.prepare(Arc::new(model.clone())).map_err(|e| err("model", e))?;
    Ok(abi::pack_values(&prepared.run(inputs).map_err(|e| err("model", e))?))
}

/// The deterministic input a model is measured on: xorshift codes for an int8 (or int16, int32)
/// input, zeros for an integer one (an index or token input, where zero is always valid).
pub fn sample_inputs(model: &Model) -> Vec<Value> {
    model
        .inputs
        .iter()
        .map(|&t| {
            let info = model.tensor(t);
            match info.dtype {
                DType::I8 => Value::I8(sample_input(info.len())),
                // the wide codes: the same xorshift bytes repeated in every byte of the code
                // (spread over the type's range)
                DType::I16 => Value::I16(sample_input(info.len()).iter().map(|&b| i16::from_be_bytes([b as u8; 2])).collect()),
                DType::I32 => Value::I32(sample_input(info.len()).iter().map(|&b| i32::from_be_bytes([b as u8; 4])).collect()),
                DType::I64 => Value::I64(vec![0; info.len()]),
            }
        })
        .collect()
}

/// A deterministic int8 input of `n` values (xorshift).
fn sample_input(n: usize) -> Vec<i8> {
    let mut s = 0x2545_f491u32;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s as i8
        })
        .collect()
}

/// Compile `sources`, deploy `contract`, call `predictQ` on `q` (checking the reference
/// executor's bytes when given) and `predict` on zeros.
#[allow(clippy::too_many_arguments)]
fn measure(
    reference: &Arc<dyn Executor>,
    solc: &Solc,
    settings: &SolcSettings,
    sources: &[(String, String)],
    contract: &str,
    split_parts: &[String],
    q: &[u8],
    expect: Option<&[u8]>,
    predict_len: Option<usize>,
) -> Result<ModelGas> {
    let compiled = solc.compile(sources, settings).map_err(|e| err("solc", e))?;
    let get = |name: &str| compiled.get(name).ok_or_else(|| err("solc", format!("no contract `{name}` in the output")));
    let c = get(contract)?;
    let mut chain = Chain::new(SolidMlPrecompile::new(reference.clone())).with_code_size_limit(MEASURE_CODE_LIMIT);
    // a split model: its part and data contracts first, one transaction each, then the model
    // with their addresses (what `NAMEDeploy.deploy()` does)
    let (mut deploy_gas, mut max_initcode, mut addresses, mut largest_part) = (0u64, c.initcode.len(), vec![], 0);
    for part in split_parts {
        let pc = get(part)?;
        let d = chain.deploy(pc.initcode.clone()).map_err(|e| err(&format!("deploy {part}"), e))?;
        deploy_gas += d.gas;
        max_initcode = max_initcode.max(pc.initcode.len());
        largest_part = largest_part.max(chain.code_len(d.address));
        addresses.push(d.address);
    }
    let mut initcode = c.initcode.clone();
    if !split_parts.is_empty() {
        initcode.extend((addresses,).abi_encode_params());
    }
    let d = chain.deploy(initcode).map_err(|e| err("deploy", e))?;
    deploy_gas += d.gas;
    let r = chain.call(d.address, predictQCall { q: q.to_vec().into() }.abi_encode()).map_err(|e| err("predictQ", e))?;
    if !r.success {
        return Err(err(contract, format!("predictQ reverted: 0x{}", hex::encode(&r.output))));
    }
    if let Some(want) = expect {
        let got = predictQCall::abi_decode_returns(&r.output).map_err(|e| err("predictQ output", e))?;
        if got.as_ref() != want {
            return Err(err(contract, "predictQ differs from the CPU reference"));
        }
    }
    let predict = match predict_len {
        Some(n) => {
            let p =
                chain.call(d.address, predictCall { input: vec![Default::default(); n] }.abi_encode()).map_err(|e| err("predict", e))?;
            if !p.success {
                return Err(err(contract, "predict reverted"));
            }
            p.gas
        }
        None => 0,
    };
    Ok(ModelGas {
        contract: contract.into(),
        sources: sources.to_vec(),
        input: q.to_vec(),
        settings: settings.clone(),
        deploy: deploy_gas,
        deploy_txs: 1 + split_parts.len(),
        split_parts: split_parts.to_vec(),
        predict_q: r.gas,
        predict,
        runtime_bytes: chain.code_len(d.address),
        initcode_bytes: max_initcode,
        largest_part_bytes: largest_part,
    })
}

/// Gas of a model's generated pure-Solidity contract on a deterministic input
/// ([`sample_inputs`]), in `layout` (the compact contract is named `NAME_compact`, so both can
/// share a forge project). The output is checked against `reference` (the CPU reference
/// executor, normally).
pub fn model_gas(
    reference: &Arc<dyn Executor>,
    solc: &Solc,
    model: &Model,
    model_id: &[u8; 32],
    layout: SolidityLayout,
) -> Result<ModelGas> {
    model_gas_on(reference, solc, model, model_id, layout, &sample_inputs(model))
}

/// [`model_gas`] on the given inputs (one [`Value`] per model input).
pub fn model_gas_on(
    reference: &Arc<dyn Executor>,
    solc: &Solc,
    model: &Model,
    model_id: &[u8; 32],
    layout: SolidityLayout,
    inputs: &[Value],
) -> Result<ModelGas> {
    let mut named = model.clone();
    if layout == SolidityLayout::Compact {
        named.name = format!("{}_compact", model.name);
    }
    let emitted = crate::emit_model(&named, model_id, &SolidityOptions::with_layout(layout))?;
    let (files, name) = (&emitted.files, &emitted.contract);
    // `predict` takes every input's elements in one array
    let elements: usize = model.inputs.iter().map(|&t| model.tensor(t).len()).sum();
    let expect = reference_output(reference, model, inputs)?;
    let q = abi::pack_values(inputs);
    measure(reference, solc, &SolcSettings::default(), files, name, &emitted.split_parts, &q, Some(&expect), Some(elements))
}

/// The 256×256 reference layer: weights, bias and epilogue from a fixed seed.
pub fn dense_model(n: u32) -> Model {
    let w = sample_input((n * n) as usize);
    let bias: Vec<i32> = sample_input(n as usize).iter().map(|&b| b as i32 * 37).collect();
    let dense = Dense {
        in_features: n,
        out_features: n,
        input_zero_point: 3,
        weights: w,
        bias,
        epilogue: Epilogue {
            multipliers: vec![Multiplier::from_real(0.02 * 0.004 / 0.05)],
            output_zero_point: -2,
            clamp_min: -128,
            clamp_max: 127,
        },
    };
    Model::single_dense(&format!("dense{n}"), 1, dense, Quant { scale: 0.02, zero_point: 3 }, Quant { scale: 0.05, zero_point: -2 })
}

/// The straightforward Solidity version of a dense layer (see the module docs).
pub fn naive_dense_source(d: &Dense) -> String {
    let w: String = d.weights.iter().map(|&v| format!("{:02x}", v as u8)).collect();
    let b: String = d.bias.iter().map(|&v| format!("{:08x}", v as u32)).collect();
    let m = d.epilogue.multipliers[0];
    let (k, n) = (d.in_features, d.out_features);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {{SolidMLMath}} from "./SolidMLMath.sol";

/// A {k}x{n} int8 dense layer as one writes it first: arrays, nested loops, checked arithmetic.
contract NaiveDense {{
    bytes constant WEIGHTS = hex"{w}";
    bytes constant BIAS = hex"{b}";

    function predictQ(bytes calldata q) external pure returns (bytes memory out) {{
        bytes memory weights = WEIGHTS;
        bytes memory bias = BIAS;
        out = new bytes({n});
        for (uint256 o = 0; o < {n}; o++) {{
            int256 acc = int256(int32(uint32(uint8(bias[4 * o])) << 24 | uint32(uint8(bias[4 * o + 1])) << 16 | uint32(uint8(bias[4 * o + 2])) << 8 | uint32(uint8(bias[4 * o + 3]))));
            for (uint256 i = 0; i < {k}; i++) {{
                int256 x = int256(int8(uint8(q[i]))) - ({zp_in});
                acc += int256(int8(uint8(weights[o * {k} + i]))) * x;
            }}
            int256 y = SolidMLMath.requantize(acc, {mult}, {shift}) + ({zp_out});
            out[o] = bytes1(uint8(SolidMLMath.clampI8(y, {lo}, {hi})));
        }}
    }}
}}
"#,
        zp_in = d.input_zero_point,
        mult = m.multiplier,
        shift = m.shift,
        zp_out = d.epilogue.output_zero_point,
        lo = d.epilogue.clamp_min,
        hi = d.epilogue.clamp_max,
    );
    s
}

/// The reference layer measured four ways (one `predictQ` each) and its MACs.
pub struct DenseComparison {
    /// The generated contract in the Fast layout (weights as packed PUSH32 constants).
    pub generated: ModelGas,
    /// The generated contract in the compact layout (weights as raw bytes).
    pub compact: ModelGas,
    /// The straightforward version, optimizer off (forge's default).
    pub naive: ModelGas,
    /// The straightforward version, optimizer on (200 runs).
    pub naive_optimized: ModelGas,
    /// Multiply-accumulates of one inference of the layer ([`Model::macs`]: `n · n` for the
    /// `n × n` layer), the divisor of the gas-per-MAC figures.
    pub macs: u64,
}

/// The reference-layer comparison (see the module docs).
pub fn dense_comparison(reference: &Arc<dyn Executor>, solc: &Solc, n: u32) -> Result<DenseComparison> {
    let model = dense_model(n);
    let id = solidml_spec::model_id(&model).map_err(|e| err("model", e))?;
    let ours = model_gas(reference, solc, &model, &id, SolidityLayout::Fast)?;
    let compact = model_gas(reference, solc, &model, &id, SolidityLayout::Compact)?;
    let Op::Dense(d) = &model.nodes[0].op else { unreachable!() };
    let inputs = sample_inputs(&model);
    let expect = reference_output(reference, &model, &inputs)?;
    let q = abi::pack_values(&inputs);
    let math = crate::precompile_contract::IMPORTS.iter().find(|(p, _)| *p == "SolidMLMath.sol").expect("bundled");
    let sources = vec![("NaiveDense.sol".to_string(), naive_dense_source(d)), (math.0.to_string(), math.1.to_string())];
    let naive = measure(reference, solc, &SolcSettings::default(), &sources, "NaiveDense", &[], &q, Some(&expect), None)?;
    let naive_optimized =
        measure(reference, solc, &SolcSettings::default().with_optimizer_runs(200), &sources, "NaiveDense", &[], &q, Some(&expect), None)?;
    Ok(DenseComparison { generated: ours, compact, naive, naive_optimized, macs: model.macs() })
}

/// Write a foundry project that replays each measured `predictQ` call (one test per contract),
/// so `forge test --gas-report` can confirm the figures. All of `measured` share `settings`.
pub fn write_forge_project(dir: &Path, settings: &SolcSettings, measured: &[&ModelGas]) -> Result<()> {
    let write = |rel: &str, text: &str| -> Result<()> {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().expect("has a parent"))
            .map_err(|e| SolidityError::Io { path: p.display().to_string(), reason: e.to_string() })?;
        std::fs::write(&p, text).map_err(|e| SolidityError::Io { path: p.display().to_string(), reason: e.to_string() })?;
        Ok(())
    };
    let optimizer = match settings.optimizer_runs {
        Some(runs) => format!("optimizer = true\noptimizer_runs = {runs}"),
        None => "optimizer = false".into(),
    };
    write(
        "foundry.toml",
        &format!(
            "[profile.default]\nsrc = \"src\"\ntest = \"test\"\nout = \"out\"\nlibs = []\n{optimizer}\nevm_version = \"{}\"\noffline = true\ngas_limit = 4000000000\ncode_size_limit = {MEASURE_CODE_LIMIT}\n\n[lint]\nlint_on_build = false\n",
            settings.evm_version
        ),
    )?;
    let mut imports = String::new();
    let (mut tests, mut fields, mut setup) = (String::new(), String::new(), String::new());
    for g in measured {
        for (rel, text) in &g.sources {
            write(&format!("src/{rel}"), text)?;
        }
        let c = &g.contract;
        let file =
            g.sources.iter().find(|(_, t)| t.contains(&format!("contract {c} "))).map(|(r, _)| r.clone()).unwrap_or(format!("{c}.sol"));
        let _ = writeln!(imports, "import {{{c}}} from \"../src/{file}\";");
        if !g.split_parts.is_empty() {
            let _ = writeln!(imports, "import {{{c}Deploy}} from \"../src/{c}Deploy.sol\";");
        }
        let input = hex::encode(&g.input);
        // deployed in setUp: the test's call then meets cold contracts, as a transaction does
        let _ = writeln!(fields, "    {c} m_{c};");
        let _ = writeln!(
            setup,
            "        m_{c} = {};",
            if g.split_parts.is_empty() { format!("new {c}()") } else { format!("{c}Deploy.deploy()") }
        );
        let _ = writeln!(tests, "    function test_{c}() public view {{\n        m_{c}.predictQ(hex\"{input}\");\n    }}");
    }
    write(
        "test/Gas.t.sol",
        &format!(
            "// SPDX-License-Identifier: MIT\n// Written by `solidml gas --forge-project`: replays the measured calls.\npragma solidity ^0.8.27;\n\n{imports}\ncontract GasTest {{\n{fields}\n    function setUp() public {{\n{setup}    }}\n\n{tests}}}\n"
        ),
    )
}
