//! The devnode with real Foundry clients (forge 1.7.1 and cast from npm): models on chain.
//!
//! One node per executor (the CPU reference, then the wgpu executor on lavapipe or a GPU), each
//! started in process on a free port, then driven only through real clients:
//!
//! * `cast`: chain id, the dev accounts and their balances (anvil's), `cast rpc
//!   solidml_uploadModel` answering `cast keccak` of the artifact, `cast send` with its receipt,
//!   `cast call` of a consumer contract;
//! * `forge script --broadcast`: deploys the digits MLP as a *split* deployment (its part
//!   contracts in transactions of their own, then the model), its precompile caller, and a
//!   consumer that asks both for a prediction; the precompile's answer, the pure-EVM `predictQ`
//!   answer and the CPU reference agree byte for byte on several digits;
//! * `debug_traceCall` with the call tracer shows the precompile call inside the consumer's;
//! * private models (`ModelRegistry` at `0x…50DE` from genesis): the publisher registers a name,
//!   publishes version 1.0 and makes the model private; the consumer's call is refused with
//!   `SolidMLError` code 11 until the publisher allows the calling contract; version 1.0 cannot
//!   be published again.
//!
//! Needs forge and cast (`SOLIDML_SKIP=forge` skips) and, for the second node, a Vulkan device
//! (`SOLIDML_SKIP=gpu` skips that half).

use std::{path::Path, process::Command};

use solidml_compiler::{CompileOptions, runner};
use solidml_devnode::{NodeConfig, config::BackendChoice};
use solidml_exec::Value;
use solidml_solidity::{SolidityOptions, precompile_contract};
use solidml_tests::*;

const KEY0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const ACCOUNT0: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const REGISTRY: &str = "0x00000000000000000000000000000000000050DE";

/// Run a Foundry tool; its stdout, or a panic with everything it printed.
fn tool(bin: &Path, name: &str, args: &[&str], dir: Option<&Path>) -> String {
    let mut cmd = Command::new(bin.join(name));
    cmd.args(args);
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("{name}: {e}"));
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(out.status.success(), "{name} {args:?} failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    text
}

/// `cast`, expecting failure: what it printed.
fn cast_fails(bin: &Path, args: &[&str]) -> String {
    let out = Command::new(bin.join("cast")).args(args).output().unwrap();
    assert!(!out.status.success(), "cast {args:?} should fail: {}", String::from_utf8_lossy(&out.stdout));
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn hex0x(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

fn packed(values: &[Value]) -> Vec<u8> {
    solidml_precompile::abi::pack_values(values)
}

/// A forge project with the model (split deployment), its precompile caller, a consumer and a
/// deployment script.
fn project(dir: &Path, model: &solidml_spec::Model, id: &[u8; 32]) {
    let _ = std::fs::remove_dir_all(dir);
    for d in ["src", "script"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::write(
        dir.join("foundry.toml"),
        "[profile.default]\nsrc = \"src\"\nscript = \"script\"\nout = \"out\"\nlibs = []\noptimizer = false\nevm_version = \"cancun\"\noffline = true\n\n[lint]\nlint_on_build = false\n",
    )
    .unwrap();
    let opts = SolidityOptions { force_split_deployment: true, ..Default::default() };
    let emitted = solidml_solidity::emit_model(model, id, &opts).unwrap();
    assert!(!emitted.split_parts.is_empty(), "the test wants a split deployment");
    let name = emitted.contract.clone();
    let mut files = emitted.files;
    files.push(precompile_contract::emit(model, &name, id));
    files.extend(precompile_contract::IMPORTS.iter().map(|(p, c)| (p.to_string(), c.to_string())));
    for (rel, text) in files {
        std::fs::write(dir.join("src").join(rel), text).unwrap();
    }
    std::fs::write(
        dir.join("src/Consumer.sol"),
        format!(
            r#"// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {{{name}}} from "./{name}.sol";
import {{{name}Precompile}} from "./{name}Precompile.sol";

/// Asks the pure-EVM model and the precompile for the same prediction.
contract Consumer {{
    {name} public immutable onChain;
    {name}Precompile public immutable viaPrecompile;

    constructor({name} a, {name}Precompile b) {{
        onChain = a;
        viaPrecompile = b;
    }}

    function both(bytes calldata q) external view returns (bytes memory evm, bytes memory precompile) {{
        evm = onChain.predictQ(q);
        precompile = viaPrecompile.predictQ(q);
    }}
}}
"#
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("script/Deploy.s.sol"),
        format!(
            r#"// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {{{name}}} from "../src/{name}.sol";
import {{{name}Deploy}} from "../src/{name}Deploy.sol";
import {{{name}Precompile}} from "../src/{name}Precompile.sol";
import {{Consumer}} from "../src/Consumer.sol";

interface Vm {{
    function startBroadcast() external;
    function stopBroadcast() external;
}}

contract Deploy {{
    Vm constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    function run() external {{
        vm.startBroadcast();
        {name} model = {name}Deploy.deploy();
        {name}Precompile viaPrecompile = new {name}Precompile();
        new Consumer(model, viaPrecompile);
        vm.stopBroadcast();
    }}
}}
"#
        ),
    )
    .unwrap();
}

/// The addresses forge's broadcast log gives the contracts it created, by name.
fn deployed(dir: &Path, chain_id: u64) -> std::collections::HashMap<String, String> {
    let log = dir.join(format!("broadcast/Deploy.s.sol/{chain_id}/run-latest.json"));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&log).unwrap()).unwrap();
    let mut out = std::collections::HashMap::new();
    for t in v["transactions"].as_array().unwrap() {
        if let (Some(n), Some(a)) = (t["contractName"].as_str(), t["contractAddress"].as_str()) {
            out.insert(n.to_string(), a.to_string());
        }
    }
    let receipts = v["receipts"].as_array().unwrap();
    assert!(receipts.iter().all(|r| r["status"] == "0x1"), "a deployment failed: {receipts:?}");
    out
}

/// Calldata of `Consumer.both(bytes q)`.
fn both_calldata(q: &[u8]) -> Vec<u8> {
    let mut data = solidml_spec::keccak256(b"both(bytes)")[..4].to_vec();
    let mut word = [0u8; 32];
    word[31] = 32;
    data.extend(word);
    let mut len = [0u8; 32];
    len[24..].copy_from_slice(&(q.len() as u64).to_be_bytes());
    data.extend(len);
    data.extend(q);
    data.resize(4 + 64 + q.len().div_ceil(32) * 32, 0);
    data
}

fn run_node(bin: &Path, backend: BackendChoice, compiled: &solidml_compiler::Compiled, samples: &[Value]) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let node = rt
        .block_on(solidml_devnode::spawn(NodeConfig::default().with_port(0).with_quiet(true).with_backend(backend)))
        .unwrap_or_else(|e| panic!("devnode ({backend:?}): {e}"));
    let url = node.endpoint();
    let rpc = ["--rpc-url", url.as_str()];
    let cast = |args: &[&str]| tool(bin, "cast", &[args, &rpc[..]].concat(), None);

    // anvil's chain id, accounts and balances
    assert_eq!(cast(&["chain-id"]), "31337");
    let accounts: Vec<String> = serde_json::from_str(&cast(&["rpc", "eth_accounts"])).unwrap();
    assert_eq!(accounts.len(), 10);
    assert_eq!(accounts[0].to_lowercase(), ACCOUNT0.to_lowercase());
    assert_eq!(cast(&["balance", ACCOUNT0]), "10000000000000000000000");

    // the artifact's id is its keccak256
    let artifact = hex0x(&compiled.artifact);
    let uploaded = cast(&["rpc", "solidml_uploadModel", &artifact]);
    let keccak = tool(bin, "cast", &["keccak", &artifact], None);
    assert_eq!(uploaded.trim_matches('"'), keccak);
    assert_eq!(keccak, hex0x(&compiled.model_id));

    // forge script deploys the split model, its precompile caller and the consumer
    let dir = std::env::temp_dir().join(format!("solidml-devnode-{}-{backend:?}", std::process::id()));
    project(&dir, &compiled.model, &compiled.model_id);
    let solc = bin.join("solc");
    tool(
        bin,
        "forge",
        &[
            "script",
            "script/Deploy.s.sol:Deploy",
            "--broadcast",
            "--rpc-url",
            &url,
            "--private-key",
            KEY0,
            "--offline",
            "--use",
            solc.to_str().unwrap(),
            "--slow",
        ],
        Some(&dir),
    );
    let addresses = deployed(&dir, 31337);
    let consumer = addresses.get("Consumer").unwrap_or_else(|| panic!("no Consumer in {addresses:?}")).clone();
    let caller_contract = addresses[&format!("{}Precompile", compiled.model.name)].clone();
    let parts = addresses.keys().filter(|n| n.contains("_P")).count();
    assert!(parts >= 1, "no part contract deployed on its own: {addresses:?}");

    // the precompile, the pure EVM and the CPU reference agree
    let exec = solidml_cpu::CpuExecutor::new(&compiled.model).unwrap();
    for q in samples {
        let want = hex0x(&packed(&exec.run(std::slice::from_ref(q)).unwrap()));
        let got = cast(&["call", &consumer, "both(bytes)(bytes,bytes)", &hex0x(&packed(std::slice::from_ref(q)))]);
        let lines: Vec<&str> = got.lines().collect();
        assert_eq!(lines, vec![want.as_str(), want.as_str()], "{backend:?}: pure EVM, precompile, CPU reference");
    }

    // the call tracer shows the precompile call inside the consumer's call
    let call = serde_json::json!({"to": consumer, "data": format!("0x{}", hex::encode(both_calldata(&packed(&samples[..1]))))});
    let trace: serde_json::Value =
        serde_json::from_str(&cast(&["rpc", "debug_traceCall", &call.to_string(), "latest", r#"{"tracer":"callTracer"}"#])).unwrap();
    let text = trace.to_string().to_lowercase();
    assert!(text.contains("0x000000000000000000000000000000000000501d"), "no precompile call in the trace: {trace}");

    // private models: register, publish 1.0, make private → refused; allow the caller → runs
    let id = hex0x(&compiled.model_id);
    let send = |args: &[&str]| {
        let receipt = cast(&[&["send", "--private-key", KEY0, REGISTRY], args].concat());
        assert!(receipt.contains("status               1 (success)"), "{args:?}: {receipt}");
    };
    send(&["register(string)", "digits"]);
    send(&["publish(string,uint32,uint32,bytes32)", "digits", "1", "0", &id]);
    send(&["setPrivate(bytes32,bool)", &id, "true"]);
    let q = hex0x(&packed(&samples[..1]));
    let refused = cast_fails(bin, &[&["call", &consumer, "both(bytes)(bytes,bytes)", &q], &rpc[..]].concat()).to_lowercase();
    let mut caller = [0u8; 20];
    caller.copy_from_slice(&hex::decode(caller_contract.trim_start_matches("0x")).unwrap());
    let not_allowed =
        solidml_precompile::abi::encode_error(&solidml_precompile::PrecompileError::NotAllowed { model_id: compiled.model_id, caller });
    assert!(refused.contains(&hex::encode(&not_allowed)), "the revert data must be SolidMLError(11, …): {refused}");
    send(&["allow(bytes32,address,bool)", &id, &caller_contract, "true"]);
    let allowed = cast(&["call", &consumer, "both(bytes)(bytes,bytes)", &q]);
    assert_eq!(allowed.lines().count(), 2, "{allowed}");
    // a published version is bound forever
    let again = cast_fails(
        bin,
        &[&["send", "--private-key", KEY0, REGISTRY, "publish(string,uint32,uint32,bytes32)", "digits", "1", "0", &id], &rpc[..]].concat(),
    );
    let selector = tool(bin, "cast", &["sig", "VersionExists(string,uint32,uint32,bytes32)"], None);
    assert!(again.contains(&selector), "publishing 1.0 again must revert with VersionExists ({selector}): {again}");

    println!(
        "{backend:?} ({}): {} digits agree (precompile = pure EVM = CPU), split deployment of {parts} part(s), private model refused then allowed",
        node.node.chain.read().precompiles().solidml().executor().name(),
        samples.len()
    );
    if std::env::var("SOLIDML_SOL_KEEP").is_err() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    rt.block_on(node.stop()).unwrap();
}

#[test]
fn models_on_the_devnode_through_cast_and_forge_script() {
    let Some(bin) = require_forge() else { return };
    assert!(bin.join("cast").is_file(), "no cast in {}: install it with `bash scripts/foundry-env.sh`", bin.display());
    let compiled = solidml_compiler::compile(
        &examples().join("digits_mlp.onnx"),
        &CompileOptions::default().with_calibration(vec![npy_f32("digits_calib.npy")]),
    )
    .unwrap();
    let shapes = runner::input_shapes(&compiled.model);
    let all = runner::samples(&shapes, &[npy_f32("digits_eval.npy")]).unwrap();
    let samples: Vec<Value> = all[..4].iter().map(|s| runner::quantize_input(&compiled.model, 0, &s[0])).collect();
    run_node(&bin, BackendChoice::Cpu, &compiled, &samples);
    run_node(&bin, BackendChoice::Jit, &compiled, &samples);
    if require_gpu().is_some() {
        run_node(&bin, BackendChoice::Gpu, &compiled, &samples);
    }
}
