//! SolidMLTest's two routes inside real forge (1.7.1, solc-js 0.8.30), on every example model:
//! `solidml init` compiles the five models into a fresh foundry project; for each, 100 random
//! inputs go through the SolidML address (0x…501D) by the pure-EVM route (the generated
//! contract) and by the native route (`vm.ffi` → `solidml precompile`), and every answer must
//! equal the node's precompile on the CPU reference executor, byte for byte, and the gas the
//! frame consumes must equal the precompile's charge (docs/precompile.md §Gas schedule) to the
//! unit. Errors too: an unknown model and a wrong input length revert with the node's exact
//! bytes and charge, by both routes.
//!
//! Needs forge (`FOUNDRY_BIN`, set by scripts/test.sh): fails without it, unless `SOLIDML_SKIP`
//! lists `forge` (the policy of `tests/skip.rs`, included here).

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::Arc,
};

use solidml_precompile::{MemoryStore, ModelStore, SolidMlPrecompile};

#[allow(unreachable_pub)]
#[path = "../../tests/skip.rs"]
#[allow(dead_code)]
mod skip;

const INPUTS: usize = 100;

/// The example models and their calibration data.
const MODELS: &[(&str, &str)] = &[
    ("digits_mlp", "digits_calib.npy"),
    ("digits_logreg", "digits_calib.npy"),
    ("digits_logreg_ovr", "digits_calib.npy"),
    ("digits_cnn", "digits_cnn_calib.npy"),
    ("digits_cnn_qdq", "digits_cnn_calib.npy"),
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
        cases.push(Case { name: name.clone(), input_bytes, output_bytes, price, errors });
    }
    let toml = std::fs::read_to_string(dir.join("foundry.toml")).unwrap();
    std::fs::write(dir.join("foundry.toml"), format!("{toml}ffi = true\nfs_permissions = [{{ access = \"read\", path = \"./test/data\" }}]\n")).unwrap();
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
        s += "    }\n";
    }
    s += "}\n\ncontract RoutesEvmTest is RoutesBase {\n    function route() internal pure override returns (SolidMLRoute) {\n        return SolidMLRoute.Evm;\n    }\n}\n";
    s += "\ncontract RoutesNativeTest is RoutesBase {\n    function route() internal pure override returns (SolidMLRoute) {\n        return SolidMLRoute.Native;\n    }\n}\n";
    s
}
