//! The pure-Solidity contracts `solidml compile` writes, under real forge (Foundry 1.7.1,
//! solc-js 0.8.30 from npm): `predictQ` equals the CPU reference byte for byte on 100 digits
//! per example model, `predict` equals `solidml run --fixed`'s exact int256 values, and the
//! gas of one inference is reported. Needs `FOUNDRY_BIN` (set by `scripts/test.sh` through
//! `scripts/foundry-env.sh`); without it the test fails in CI and is skipped elsewhere.

use std::{fmt::Write, path::Path, process::Command};

use solidml_compiler::{CompileOptions, runner};
use solidml_cpu::Value;
use solidml_tests::*;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn word(v: i128) -> [u8; 32] {
    let mut w = if v < 0 { [0xff; 32] } else { [0; 32] };
    w[16..].copy_from_slice(&v.to_be_bytes());
    w
}

/// ABI encoding of `int256[]` (as a top-level single value).
fn abi_int_array(v: &[i128]) -> Vec<u8> {
    let mut out = word(32).to_vec();
    out.extend(word(v.len() as i128));
    v.iter().for_each(|x| out.extend(word(*x)));
    out
}

/// ABI encoding of `int256[][]` (as a top-level single value).
fn abi_int_matrix(v: &[Vec<i128>]) -> Vec<u8> {
    let mut out = word(32).to_vec();
    out.extend(word(v.len() as i128));
    let mut offset = 32 * v.len();
    for row in v {
        out.extend(word(offset as i128));
        offset += 32 * (row.len() + 1);
    }
    for row in v {
        out.extend(word(row.len() as i128));
        row.iter().for_each(|x| out.extend(word(*x)));
    }
    out
}

fn pack_outputs(outs: &[Value]) -> Vec<u8> {
    outs.iter()
        .flat_map(|v| match v {
            Value::I8(v) => v.iter().map(|&x| x as u8).collect::<Vec<_>>(),
            Value::I64(v) => v.iter().flat_map(|x| x.to_be_bytes()).collect(),
        })
        .collect()
}

/// Emit the model and a test contract into `dir`; returns the contract name.
fn project(dir: &Path, model: &str, samples: usize) -> String {
    let path = examples().join(model);
    let compiled = solidml_compiler::compile(&path, &CompileOptions::default().with_calibration(vec![npy_f32("digits_calib.npy")])).unwrap();
    let m = &compiled.model;
    for (rel, text) in solidml_compiler::solidity::emit(m, &compiled.model_id).unwrap() {
        let p = dir.join("src").join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let name = m.name.clone();
    let shapes = runner::input_shapes(m);
    let all = runner::samples(&shapes, &[npy_f32("digits_eval.npy")]).unwrap();
    let exec = solidml_cpu::CpuExecutor::new(m).unwrap();
    let (mut inputs, mut expected) = (vec![], vec![]);
    for s in &all[..samples] {
        let q = runner::quantize_input(m, 0, &s[0]);
        expected.extend(pack_outputs(&exec.run(std::slice::from_ref(&q)).unwrap()));
        inputs.extend(q.as_i8().iter().map(|&x| x as u8));
    }
    let (in_len, out_len) = (inputs.len() / samples, expected.len() / samples);
    let mut fixed = String::new();
    for (i, s) in all[..3].iter().enumerate() {
        let r = runner::run_fixed(m, s).unwrap();
        let _ = writeln!(
            fixed,
            "        int256[][] memory out{i} = model.predict(abi.decode(hex\"{}\", (int256[])));\n        require(keccak256(abi.encode(out{i})) == keccak256(hex\"{}\"), \"predict {i}\");",
            hex(&abi_int_array(&r.inputs[0])),
            hex(&abi_int_matrix(&r.outputs))
        );
    }
    let test = format!(
        r#"// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {{{name}}} from "../src/{name}.sol";

contract {name}Test {{
    event log_named_uint(string key, uint256 val);

    bytes constant INPUTS = hex"{inputs}";
    bytes constant EXPECTED = hex"{expected}";
    {name} model;

    function setUp() public {{
        model = new {name}();
    }}

    function _slice(bytes memory b, uint256 start, uint256 len) private pure returns (bytes memory r) {{
        r = new bytes(len);
        for (uint256 i; i < len; ++i) r[i] = b[start + i];
    }}

    function test_predictQ_equals_the_cpu_reference() public view {{
        for (uint256 i; i < {samples}; ++i) {{
            bytes memory out = model.predictQ(_slice(INPUTS, i * {in_len}, {in_len}));
            require(keccak256(out) == keccak256(_slice(EXPECTED, i * {out_len}, {out_len})), "predictQ differs from the CPU reference");
        }}
    }}

    function test_predict_equals_run_fixed() public view {{
{fixed}    }}

    function test_gas_of_one_inference() public {{
        bytes memory x = _slice(INPUTS, 0, {in_len});
        uint256 g = gasleft();
        model.predictQ(x);
        emit log_named_uint("predictQ gas", g - gasleft());
        int256[] memory fx = new int256[]({in_len});
        g = gasleft();
        model.predict(fx);
        emit log_named_uint("predict gas", g - gasleft());
    }}

    function test_wrong_input_length_reverts() public {{
        (bool ok, bytes memory err) = address(model).call(abi.encodeCall({name}.predictQ, (hex"01")));
        require(!ok && err.length == 68 && bytes4(err) == {name}.InputLength.selector, "expected InputLength");
    }}
}}
"#,
        inputs = hex(&inputs),
        expected = hex(&expected),
    );
    std::fs::create_dir_all(dir.join("test")).unwrap();
    std::fs::write(dir.join(format!("test/{name}.t.sol")), test).unwrap();
    name
}

#[test]
fn generated_contracts_match_the_cpu_reference_under_forge() {
    let Ok(bin) = std::env::var("FOUNDRY_BIN") else {
        assert!(std::env::var("CI").is_err(), "FOUNDRY_BIN must be set in CI (scripts/test.sh sets it)");
        eprintln!("skipped: FOUNDRY_BIN is not set (run scripts/foundry-env.sh)");
        return;
    };
    let dir = std::env::temp_dir().join(format!("solidml-sol-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("foundry.toml"),
        "[profile.default]\nsrc = \"src\"\ntest = \"test\"\nout = \"out\"\nlibs = []\noptimizer = true\noptimizer_runs = 10000\nevm_version = \"cancun\"\noffline = true\ngas_limit = 1000000000\n\n[lint]\nlint_on_build = false\n",
    )
    .unwrap();
    let names: Vec<String> = ["digits_mlp.onnx", "digits_logreg.onnx"].iter().map(|m| project(&dir, m, 100)).collect();
    let out = Command::new(Path::new(&bin).join("forge"))
        .args(["test", "-vv", "--offline", "--use"])
        .arg(Path::new(&bin).join("solc"))
        .current_dir(&dir)
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    println!("{text}");
    assert!(out.status.success(), "forge test failed:\n{text}");
    for n in &names {
        assert!(text.contains(&format!("{n}Test")), "{n} tests did not run");
    }
    assert!(text.contains("predictQ gas"), "gas was not reported");
}
