//! SolidMLTest's two routes inside real forge (1.7.1, solc-js 0.8.30), on every example model:
//! `solidml init` compiles the six models into a fresh foundry project; for each, 100 random
//! inputs go through the SolidML address (0x…501D) by the pure-EVM route (the generated
//! contract) and by the native route (`vm.ffi` → `solidml precompile`), and every answer must
//! equal the node's precompile on the CPU reference executor, byte for byte, and the gas the
//! frame consumes must equal the precompile's charge (docs/precompile.md §Gas schedule) to the
//! unit. Errors too: an unknown model and a wrong input length revert with the node's exact
//! bytes and charge, by both routes. The OpenGradient entry (0x…F4) likewise: 20 requests per
//! model with numbers of every decimals from −38 to 38, and the malformed ones (ZK and TEE
//! modes, a mode beyond TEE, a modelCID that is no modelId, an unknown model, string tensors,
//! a wrong tensor count, shape or value count, decimals out of range, calldata that is not
//! the call), each answered with the node's exact bytes and gas.
//!
//! Needs forge (`FOUNDRY_BIN`, set by scripts/test.sh): fails without it, unless `SOLIDML_SKIP`
//! lists `forge` (the policy of `tests/skip.rs`, included here).

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::Arc,
};

use alloy_sol_types::SolCall;
use solidml_precompile::{
    MemoryStore, ModelStore, SolidMlPrecompile,
    opengradient::{
        ModelInferenceMode, ModelInferenceRequest, ModelInput, MultiDimensionalNumberTensor, Number, OpenGradientEntry, StringTensor,
        runModelInferenceCall,
    },
};

#[allow(unreachable_pub)]
#[path = "../../tests/skip.rs"]
#[allow(dead_code)]
mod skip;

const INPUTS: usize = 100;
/// OpenGradient requests per model: 20 valid, 12 malformed.
const OG_RECORDS: usize = 32;

/// The example models and their calibration data.
const MODELS: &[(&str, &str)] = &[
    ("digits_mlp", "digits_calib.npy"),
    ("digits_logreg", "digits_calib.npy"),
    ("digits_logreg_ovr", "digits_calib.npy"),
    ("digits_cnn", "digits_cnn_calib.npy"),
    ("digits_cnn_qdq", "digits_cnn_calib.npy"),
    // a per-feature input quantization (artifact version 2) on the OpenGradient entry's numbers
    ("breast_cancer", "breast_cancer_calib.npy"),
];

fn solidml() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_solidml"))
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/models")
}

/// xorshift64*: deterministic inputs without a dependency.
fn bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            (s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

struct Case {
    name: String,
    input_bytes: usize,
    output_bytes: usize,
    price: u64,
    /// (call input, node's gas, node's return or revert data) of the error calls.
    errors: Vec<(Vec<u8>, u64, Vec<u8>)>,
}

#[test]
fn both_routes_equal_the_node_on_every_example_model() {
    let Some(foundry) = skip::require_forge() else { return };
    let dir = std::env::temp_dir().join(format!("solidml-forge-routes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut args: Vec<String> = vec!["init".into(), dir.display().to_string()];
    for (m, cal) in MODELS {
        args.extend(["--model".into(), examples().join(format!("{m}.onnx")).display().to_string()]);
        args.extend(["--calibration".into(), examples().join(cal).display().to_string()]);
    }
    let out = Command::new(solidml()).args(&args).output().unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));

    // the node: the precompile on the CPU reference executor, every model in its store
    let store = Arc::new(MemoryStore::new());
    let mut models = vec![];
    for (m, _) in MODELS {
        let artifact = std::fs::read(dir.join(format!("src/models/{m}.smodel"))).unwrap();
        store.insert(&artifact).unwrap();
        models.push((m.to_string(), artifact));
    }
    let node = SolidMlPrecompile::new(Arc::new(solidml_cpu::CpuBackend)).with_store(store);
    std::fs::create_dir_all(dir.join("test/data")).unwrap();
    let mut cases = vec![];
    for (i, (name, artifact)) in models.iter().enumerate() {
        let model = solidml_spec::decode(artifact).unwrap();
        let id = solidml_spec::keccak256(artifact);
        let (input_bytes, output_bytes) = (solidml_precompile::abi::input_bytes(&model), solidml_precompile::abi::output_bytes(&model));
        let (mut ins, mut outs, mut price) = (vec![], vec![], 0);
        for k in 0..INPUTS {
            let x = bytes((i * 1000 + k) as u64, input_bytes);
            let call = [&id[..], &x].concat();
            let o = node.call(&call, 30_000_000);
            assert!(o.error().is_none(), "{name}: {:?}", o.error());
            price = o.gas_used;
            ins.extend(x);
            outs.extend(o.return_data());
        }
        assert_eq!(outs.len(), INPUTS * output_bytes);
        std::fs::write(dir.join(format!("test/data/{name}.in")), ins).unwrap();
        std::fs::write(dir.join(format!("test/data/{name}.out")), outs).unwrap();
        let mut errors = vec![];
        for call in [[&[0xAB; 32][..], &[1, 2, 3]].concat(), [&id[..], &[7]].concat()] {
            let o = node.call(&call, 30_000_000);
            assert!(o.error().is_some());
            errors.push((call, o.gas_used, o.return_data()));
        }
        std::fs::write(dir.join(format!("test/data/{name}.og")), og_records(&node, &model, &id, i as u64)).unwrap();
        cases.push(Case { name: name.clone(), input_bytes, output_bytes, price, errors });
    }
    let toml = std::fs::read_to_string(dir.join("foundry.toml")).unwrap();
    std::fs::write(
        dir.join("foundry.toml"),
        format!("{toml}ffi = true\nfs_permissions = [{{ access = \"read\", path = \"./test/data\" }}]\n"),
    )
    .unwrap();
    std::fs::write(dir.join("test/Routes.t.sol"), routes_test(&cases)).unwrap();

    let out = Command::new(foundry.join("forge"))
        .current_dir(&dir)
        .args(["test", "--match-path", "test/Routes.t.sol", "--offline", "--use"])
        .arg(foundry.join("solc"))
        .env("SOLIDML_BIN", solidml())
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    println!("{text}");
    assert!(out.status.success(), "forge test failed:\n{text}");
    let want = format!("{} tests passed, 0 failed", 2 * MODELS.len());
    assert!(text.contains(&want), "expected `{want}`:\n{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `runModelInference` calldata.
fn og_call(mode: ModelInferenceMode, cid: String, numbers: Vec<MultiDimensionalNumberTensor>, strings: Vec<StringTensor>) -> Vec<u8> {
    runModelInferenceCall { request: ModelInferenceRequest { mode, modelCID: cid, input: ModelInput { numbers, strings } } }.abi_encode()
}

/// OpenGradient requests for `model` and the node's answers, as records the Solidity test
/// replays: `u32 call length ‖ call ‖ u8 ok ‖ u64 gas ‖ u32 return length ‖ return data`.
fn og_records(node: &SolidMlPrecompile, model: &solidml_spec::Model, id: &[u8; 32], seed: u64) -> Vec<u8> {
    let entry = OpenGradientEntry::new(node.clone());
    let cid = format!("0x{}", hex::encode(id));
    let tensors = |seed: u64, decimals: &dyn Fn(usize) -> i128| -> Vec<MultiDimensionalNumberTensor> {
        model
            .inputs
            .iter()
            .enumerate()
            .map(|(j, &i)| {
                let t = model.tensor(i);
                let r = bytes(seed * 31 + j as u64, 16 * t.len());
                let values = (0..t.len())
                    .map(|k| {
                        let w = i128::from_le_bytes(r[16 * k..16 * k + 16].try_into().unwrap());
                        let d = decimals(k);
                        // magnitudes around the input range at these decimals, some far beyond
                        let value = if d >= 0 { w % 10i128.pow((d as u32 + 2).min(37)) } else { w % 100 };
                        Number { value, decimals: d }
                    })
                    .collect();
                MultiDimensionalNumberTensor { name: t.name.clone(), values, shape: t.shape.clone() }
            })
            .collect()
    };
    let mut calls: Vec<Vec<u8>> = vec![];
    for k in 0..20u64 {
        let fixed = [0i128, 1, 2, 18, 38, -1, -38][k as usize % 7];
        let per_value = k >= 7;
        let d = move |i: usize| if per_value { (i as i128 * 7 + k as i128) % 77 - 38 } else { fixed };
        calls.push(og_call(
            ModelInferenceMode::VANILLA,
            if k % 2 == 0 { cid.clone() } else { cid[2..].to_uppercase() },
            tensors(seed * 100 + k, &d),
            vec![],
        ));
    }
    let good = tensors(seed, &|_| 2);
    let mut wrong_shape = good.clone();
    wrong_shape[0].shape.push(2);
    let mut short = good.clone();
    short[0].values.pop();
    let mut bad_decimals = good.clone();
    bad_decimals[0].values[3].decimals = 39;
    calls.extend([
        og_call(ModelInferenceMode::ZK, cid.clone(), good.clone(), vec![]),
        og_call(ModelInferenceMode::TEE, cid.clone(), good.clone(), vec![]),
        og_call(ModelInferenceMode::VANILLA, "QmNotAModelId".into(), good.clone(), vec![]),
        og_call(ModelInferenceMode::VANILLA, format!("0x{}", "ab".repeat(32)), good.clone(), vec![]),
        og_call(ModelInferenceMode::VANILLA, cid.clone(), good.clone(), vec![StringTensor { name: "s".into(), values: vec!["x".into()] }]),
        og_call(ModelInferenceMode::VANILLA, cid.clone(), vec![], vec![]),
        og_call(ModelInferenceMode::VANILLA, cid.clone(), wrong_shape, vec![]),
        og_call(ModelInferenceMode::VANILLA, cid.clone(), short, vec![]),
        og_call(ModelInferenceMode::VANILLA, cid.clone(), bad_decimals, vec![]),
        vec![0x72, 0x89, 0xe9, 0xc2, 1, 2, 3],
        b"not a call at all".to_vec(),
    ]);
    // a mode beyond TEE: the enum's word set to 3
    let mut beyond = og_call(ModelInferenceMode::VANILLA, cid.clone(), good, vec![]);
    beyond[4 + 32 + 31] = 3;
    calls.push(beyond);
    assert_eq!(calls.len(), OG_RECORDS);
    let mut out = vec![];
    for call in calls {
        let o = entry.call(&call, 30_000_000);
        let ret = o.return_data();
        out.extend((call.len() as u32).to_be_bytes());
        out.extend(&call);
        out.push(o.error().is_none() as u8);
        out.extend(o.gas_used.to_be_bytes());
        out.extend((ret.len() as u32).to_be_bytes());
        out.extend(ret);
    }
    out
}

fn routes_test(cases: &[Case]) -> String {
    let mut s = String::from(
        r#"// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {SolidMLTest, SolidMLRoute, SOLIDML_VM} from "solidml/test/SolidMLTest.sol";
import {SolidMLModels} from "../src/models/SolidMLModels.sol";

interface FileVm {
    function readFileBinary(string calldata path) external view returns (bytes memory);
    function toString(uint256 value) external pure returns (string memory);
}

abstract contract RoutesBase is SolidMLTest {
    address constant EMPTY = address(0xE0E0);

    function route() internal pure virtual returns (SolidMLRoute);

    function setUp() public {
        solidmlSetUp(SolidMLModels.all(), route());
        SOLIDML_VM.etch(EMPTY, hex"00");
    }

    /// Gas of a staticcall to `target` (no return data copied), and what it answered.
    function measure(address target, bytes memory input) internal view returns (uint256 used, bool ok, bytes memory ret) {
        uint256 g0;
        uint256 g1;
        assembly {
            g0 := gas()
            ok := staticcall(gas(), target, add(input, 32), mload(input), 0, 0)
            g1 := gas()
        }
        used = g0 - g1;
        ret = new bytes(0);
        assembly {
            let n := returndatasize()
            ret := mload(0x40)
            mstore(ret, n)
            returndatacopy(add(ret, 32), 0, n)
            mstore(0x40, add(add(ret, 32), n))
        }
    }

    /// The frame's gas at the SolidML address: the call's minus an empty account's.
    function call(bytes memory input) internal view returns (uint256, bool, bytes memory) {
        (uint256 used, bool ok, bytes memory ret) = measure(SOLIDML_ADDRESS, input);
        (uint256 baseline,,) = measure(EMPTY, input);
        return (used - baseline, ok, ret);
    }

    function slice(bytes memory b, uint256 from, uint256 len) internal pure returns (bytes memory out) {
        out = new bytes(len);
        for (uint256 i; i < len; ++i) out[i] = b[from + i];
    }

    function replay(bytes32 id, string memory name, uint256 inBytes, uint256 outBytes, uint256 price) internal {
        solidmlWarm();
        measure(EMPTY, "");
        bytes memory ins = FileVm(address(SOLIDML_VM)).readFileBinary(string.concat("test/data/", name, ".in"));
        bytes memory outs = FileVm(address(SOLIDML_VM)).readFileBinary(string.concat("test/data/", name, ".out"));
        require(ins.length == 100 * inBytes && outs.length == 100 * outBytes, "fixture sizes");
        for (uint256 k; k < 100; ++k) {
            (uint256 gasUsed, bool ok, bytes memory ret) = call(abi.encodePacked(id, slice(ins, k * inBytes, inBytes)));
            require(ok, string.concat(name, ": call reverted"));
            require(keccak256(ret) == keccak256(slice(outs, k * outBytes, outBytes)), string.concat(name, ": output differs from the node's"));
            if (gasUsed != price) {
                revert(string.concat(name, ": input ", FileVm(address(SOLIDML_VM)).toString(k), " costs ", FileVm(address(SOLIDML_VM)).toString(gasUsed), " gas, the charge is ", FileVm(address(SOLIDML_VM)).toString(price)));
            }
        }
    }

    function word(bytes memory b, uint256 at, uint256 len) internal pure returns (uint256 v) {
        for (uint256 i; i < len; ++i) v = (v << 8) | uint8(b[at + i]);
    }

    /// Replay the OpenGradient records of `name` at 0x…F4: each answer and its gas equal the node's.
    function replayOpenGradient(string memory name, uint256 records) internal {
        solidmlWarm();
        measure(EMPTY, "");
        bytes memory recs = FileVm(address(SOLIDML_VM)).readFileBinary(string.concat("test/data/", name, ".og"));
        uint256 at;
        uint256 k;
        for (; at < recs.length; ++k) {
            uint256 n = word(recs, at, 4);
            bytes memory input = slice(recs, at + 4, n);
            at += 4 + n;
            bool wantOk = recs[at] != 0;
            uint256 gasWanted = word(recs, at + 1, 8);
            uint256 m = word(recs, at + 9, 4);
            bytes memory want = slice(recs, at + 13, m);
            at += 13 + m;
            solidmlWarm();
            (uint256 used, bool ok, bytes memory ret) = measure(SOLIDML_OG_ADDRESS, input);
            (uint256 baseline,,) = measure(EMPTY, input);
            string memory which = string.concat(name, ": OpenGradient request ", FileVm(address(SOLIDML_VM)).toString(k));
            require(ok == wantOk, string.concat(which, ": success differs from the node's"));
            if (keccak256(ret) != keccak256(want)) revert(string.concat(which, ": answer differs from the node's: ", string(ret)));
            if (used - baseline != gasWanted) {
                revert(string.concat(which, " costs ", FileVm(address(SOLIDML_VM)).toString(used - baseline), " gas, the node charges ", FileVm(address(SOLIDML_VM)).toString(gasWanted)));
            }
        }
        require(k == records, "record count");
    }

    function failure(bytes memory input, uint256 charge, bytes memory revertData) internal {
        solidmlWarm();
        measure(EMPTY, "");
        (uint256 gasUsed, bool ok, bytes memory ret) = call(input);
        require(!ok, "expected a revert");
        require(keccak256(ret) == keccak256(revertData), "revert data differs from the node's");
        if (gasUsed != charge) {
            revert(string.concat("failure costs ", FileVm(address(SOLIDML_VM)).toString(gasUsed), " gas, the node charges ", FileVm(address(SOLIDML_VM)).toString(charge)));
        }
    }
"#,
    );
    for c in cases {
        let id = c.name.to_ascii_uppercase();
        s += &format!(
            "\n    function test_{n}() public {{\n        replay(SolidMLModels.{id}, \"{n}\", {}, {}, {});\n",
            c.input_bytes,
            c.output_bytes,
            c.price,
            n = c.name
        );
        for (input, gas, data) in &c.errors {
            s += &format!("        failure(hex\"{}\", {gas}, hex\"{}\");\n", hex::encode(input), hex::encode(data));
        }
        s += &format!("        replayOpenGradient(\"{}\", {OG_RECORDS});\n    }}\n", c.name);
    }
    s += "}\n\ncontract RoutesEvmTest is RoutesBase {\n    function route() internal pure override returns (SolidMLRoute) {\n        return SolidMLRoute.Evm;\n    }\n}\n";
    s += "\ncontract RoutesNativeTest is RoutesBase {\n    function route() internal pure override returns (SolidMLRoute) {\n        return SolidMLRoute.Native;\n    }\n}\n";
    s
}
