//! `solidml gas`: what a model costs in the EVM, measured, not estimated.
//!
//! The generated contracts are compiled with the project's solc (optimizer off, as in the
//! generated foundry projects: see `solidml_compiler::solc`) and executed in revm in process
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

use std::{fmt::Write, path::Path};

use alloy_sol_types::{SolCall, SolValue, sol};
use miette::Result;
use solidml_compiler::{
    solc::{Solc, SolcSettings},
    solidity::{SolidityLayout, SolidityOptions},
};
use solidml_cpu::CpuExecutor;
use solidml_exec::Value;
use solidml_precompile::{SolidMlPrecompile, abi};
use solidml_revm::Chain;
use solidml_spec::{Dense, Epilogue, Model, Op, Quant, arith::Multiplier};

use crate::error::CliError;

sol! {
    function predictQ(bytes q) returns (bytes);
    function predict(int256[] input) returns (int256[][]);
}

/// Gas of one model's contract.
pub struct ModelGas {
    /// The contract measured, its sources and the `predictQ` input used.
    pub contract: String,
    pub sources: Vec<(String, String)>,
    pub input: Vec<i8>,
    /// Compile settings used (the forge project replaying the call uses the same).
    pub settings: SolcSettings,
    /// Deployment gas, all transactions together.
    pub deploy: u64,
    /// Transactions the deployment takes (1: `new NAME()`; more for a split model).
    pub deploy_txs: usize,
    /// The part and data contracts deployed before the model (split models).
    pub split_parts: Vec<String>,
    pub predict_q: u64,
    pub predict: u64,
    pub runtime_bytes: usize,
    /// The largest init code of the deployment's transactions.
    pub initcode_bytes: usize,
}

/// EIP-3860's init code limit on mainnet.
pub const MAX_INITCODE: usize = 49_152;
/// Code size limit while measuring (forge's `code_size_limit` in the replay projects).
const MEASURE_CODE_LIMIT: usize = 1_000_000;

fn err(what: &str, e: impl std::fmt::Display) -> CliError {
    CliError::Usage(format!("{what}: {e}"))
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

/// Compile `sources`, deploy `contract`, call `predictQ` on `q` (checking the CPU reference's
/// bytes when given) and `predict` on zeros.
#[allow(clippy::too_many_arguments)]
fn measure(
    solc: &Solc,
    settings: &SolcSettings,
    sources: &[(String, String)],
    contract: &str,
    split_parts: &[String],
    q: &[i8],
    expect: Option<&[u8]>,
    predict_len: Option<usize>,
) -> Result<ModelGas> {
    let compiled = solc.compile(sources, settings).map_err(|e| err("solc", e))?;
    let get = |name: &str| compiled.get(name).ok_or_else(|| err("solc", format!("no contract `{name}` in the output")));
    let c = get(contract)?;
    let mut chain =
        Chain::new(SolidMlPrecompile::new(std::sync::Arc::new(solidml_cpu::CpuBackend))).with_code_size_limit(MEASURE_CODE_LIMIT);
    // a split model: its part and data contracts first, one transaction each, then the model
    // with their addresses (what `NAMEDeploy.deploy()` does)
    let (mut deploy_gas, mut max_initcode, mut addresses) = (0u64, c.initcode.len(), vec![]);
    for part in split_parts {
        let pc = get(part)?;
        let d = chain.deploy(pc.initcode.clone()).map_err(|e| err(&format!("deploy {part}"), e))?;
        deploy_gas += d.gas;
        max_initcode = max_initcode.max(pc.initcode.len());
        addresses.push(d.address);
    }
    let mut initcode = c.initcode.clone();
    if !split_parts.is_empty() {
        initcode.extend((addresses,).abi_encode_params());
    }
    let d = chain.deploy(initcode).map_err(|e| err("deploy", e))?;
    deploy_gas += d.gas;
    let bytes: Vec<u8> = q.iter().map(|&x| x as u8).collect();
    let r = chain.call(d.address, predictQCall { q: bytes.into() }.abi_encode()).map_err(|e| err("predictQ", e))?;
    if !r.success {
        return Err(err(contract, format!("predictQ reverted: 0x{}", hex::encode(&r.output))).into());
    }
    if let Some(want) = expect {
        let got = predictQCall::abi_decode_returns(&r.output).map_err(|e| err("predictQ output", e))?;
        if got.as_ref() != want {
            return Err(err(contract, "predictQ differs from the CPU reference").into());
        }
    }
    let predict = match predict_len {
        Some(n) => {
            let p =
                chain.call(d.address, predictCall { input: vec![Default::default(); n] }.abi_encode()).map_err(|e| err("predict", e))?;
            if !p.success {
                return Err(err(contract, "predict reverted").into());
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
    })
}

/// Gas of a model's generated pure-Solidity contract on a deterministic input, in `layout`
/// (the compact contract is named `NAME_compact`, so both can share a forge project).
pub fn model_gas(solc: &Solc, model: &Model, model_id: &[u8; 32], layout: SolidityLayout) -> Result<ModelGas> {
    let mut named = model.clone();
    if layout == SolidityLayout::Compact {
        named.name = format!("{}_compact", model.name);
    }
    let emitted = solidml_compiler::solidity::emit_model(&named, model_id, &SolidityOptions::with_layout(layout))
        .map_err(|e| err("the Solidity backend", e))?;
    let (files, name) = (&emitted.files, &emitted.contract);
    let input = model.tensor(model.inputs[0]);
    let q = sample_input(input.len());
    let expect = CpuExecutor::new(model).map_err(|e| err("model", e))?.run(&[Value::I8(q.clone())]).map_err(|e| err("model", e))?;
    measure(solc, &SolcSettings::default(), files, name, &emitted.split_parts, &q, Some(&abi::pack_values(&expect)), Some(input.len()))
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
    pub generated: ModelGas,
    /// The generated contract in the compact layout (weights as raw bytes).
    pub compact: ModelGas,
    /// The straightforward version, optimizer off (forge's default).
    pub naive: ModelGas,
    /// The straightforward version, optimizer on (200 runs).
    pub naive_optimized: ModelGas,
    pub macs: u64,
}

/// The reference-layer comparison (see the module docs).
pub fn dense_comparison(solc: &Solc, n: u32) -> Result<DenseComparison> {
    let model = dense_model(n);
    let id = solidml_spec::model_id(&model).map_err(|e| err("model", e))?;
    let ours = model_gas(solc, &model, &id, SolidityLayout::Fast)?;
    let compact = model_gas(solc, &model, &id, SolidityLayout::Compact)?;
    let Op::Dense(d) = &model.nodes[0].op else { unreachable!() };
    let q = sample_input(n as usize);
    let expect = abi::pack_values(
        &CpuExecutor::new(&model).map_err(|e| err("model", e))?.run(&[Value::I8(q.clone())]).map_err(|e| err("model", e))?,
    );
    let math = solidml_compiler::precompile_contract::IMPORTS.iter().find(|(p, _)| *p == "SolidMLMath.sol").expect("bundled");
    let sources = vec![("NaiveDense.sol".to_string(), naive_dense_source(d)), (math.0.to_string(), math.1.to_string())];
    let naive = measure(solc, &SolcSettings::default(), &sources, "NaiveDense", &[], &q, Some(&expect), None)?;
    let naive_optimized =
        measure(solc, &SolcSettings::default().with_optimizer_runs(200), &sources, "NaiveDense", &[], &q, Some(&expect), None)?;
    Ok(DenseComparison { generated: ours, compact, naive, naive_optimized, macs: model.macs() })
}

/// Write a foundry project that replays each measured `predictQ` call (one test per contract),
/// so `forge test --gas-report` can confirm the figures. All of `measured` share `settings`.
fn write_forge_project(dir: &Path, settings: &SolcSettings, measured: &[&ModelGas]) -> Result<()> {
    let write = |rel: &str, text: &str| -> Result<()> {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().expect("has a parent")).map_err(|e| CliError::io(&p, e))?;
        std::fs::write(&p, text).map_err(|e| CliError::io(&p, e))?;
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
        let input: String = g.input.iter().map(|&b| format!("{:02x}", b as u8)).collect();
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

/// `solidml gas ARTIFACT...`
pub fn gas(artifacts: &[std::path::PathBuf], dense: u32, forge_project: Option<&Path>) -> Result<()> {
    let solc = Solc::locate().map_err(|e| err("solc", e))?;
    let mut measured = vec![];
    // transactions, and whether each fits mainnet's init code limit
    let one_tx = |g: &ModelGas| format!("{}{}", g.deploy_txs, if g.initcode_bytes <= MAX_INITCODE { "" } else { " (over EIP-3860)" });
    // runtime B: the model contract's code (data and part contracts not included)
    println!(
        "{:<24} {:<8} {:>12} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "model", "layout", "deploy gas", "predictQ", "predict", "runtime B", "initcode B", "MACs", "deploy txs"
    );
    for path in artifacts {
        let bytes = std::fs::read(path).map_err(|e| CliError::io(path, e))?;
        let model = solidml_spec::decode(&bytes).map_err(|e| CliError::Artifact { path: path.display().to_string(), source: e })?;
        let id = solidml_spec::keccak256(&bytes);
        for (label, layout) in [("fast", SolidityLayout::Fast), ("compact", SolidityLayout::Compact)] {
            let g = model_gas(&solc, &model, &id, layout)?;
            println!(
                "{:<24} {:<8} {:>12} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
                name_of(path),
                label,
                g.deploy,
                g.predict_q,
                g.predict,
                g.runtime_bytes,
                g.initcode_bytes,
                model.macs(),
                one_tx(&g)
            );
            measured.push(g);
        }
    }
    if dense > 0 {
        let c = dense_comparison(&solc, dense)?;
        let per_mac = |g: &ModelGas| g.predict_q as f64 / c.macs as f64;
        println!();
        println!("{dense}x{dense} int8 dense layer with requantization ({} MACs), one predictQ call, same run:", c.macs);
        println!("{:<44} {:>10} {:>8} {:>12} {:>7}", "version", "gas", "gas/MAC", "deploy gas", "deploy txs");
        for (label, g) in [
            ("straightforward Solidity, optimizer off", &c.naive),
            ("straightforward Solidity, optimizer 200 runs", &c.naive_optimized),
            ("solidml fast (weights in code, packed lanes)", &c.generated),
            ("solidml compact (weights as raw bytes)", &c.compact),
        ] {
            println!("{label:<44} {:>10} {:>8.2} {:>12} {:>7}", g.predict_q, per_mac(g), g.deploy, one_tx(g));
        }
        println!(
            "ratio: {:.1}x less gas per MAC than the optimized straightforward version ({:.1}x than unoptimized)",
            per_mac(&c.naive_optimized) / per_mac(&c.generated),
            per_mac(&c.naive) / per_mac(&c.generated)
        );
        println!(
            "layouts: compact deploys for {:.1}x less gas than fast and costs {:.1}x its gas per MAC",
            c.generated.deploy as f64 / c.compact.deploy as f64,
            per_mac(&c.compact) / per_mac(&c.generated)
        );
        measured.extend([c.generated, c.compact, c.naive, c.naive_optimized]);
    }
    if let Some(dir) = forge_project {
        // one project per compile setting: forge compiles a project with one optimizer setting
        let mut groups: Vec<(SolcSettings, Vec<&ModelGas>)> = vec![];
        for g in &measured {
            match groups.iter_mut().find(|(s, _)| s.optimizer_runs == g.settings.optimizer_runs) {
                Some((_, v)) => v.push(g),
                None => groups.push((g.settings.clone(), vec![g])),
            }
        }
        for (settings, gs) in &groups {
            let sub = dir.join(match settings.optimizer_runs {
                Some(runs) => format!("optimizer-{runs}"),
                None => "no-optimizer".into(),
            });
            write_forge_project(&sub, settings, gs)?;
            for g in gs {
                println!("check: {} {} {}", sub.display(), g.contract, g.predict_q);
            }
        }
    }
    Ok(())
}

fn name_of(p: &Path) -> String {
    p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}
