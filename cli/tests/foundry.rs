//! `solidml init` and `solidml check` in real foundry projects, with real forge (1.7.1, solc-js
//! 0.8.30): a fresh project passes `forge test` after `init`, a second `init` changes no file;
//! `check` passes after `--update` and fails, naming model, figure and limit, when a budget is
//! exceeded, an accuracy floor is not met, or the snapshot differs beyond the tolerance; bad
//! `solidml.toml`s are errors pointing at their line, and no snapshot is written.
//!
//! Needs forge (`FOUNDRY_BIN`, set by scripts/test.sh): fails without it, unless `SOLIDML_SKIP`
//! lists `forge` (the policy of `tests/skip.rs`, included here).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Command, Output},
};

#[allow(unreachable_pub)]
#[path = "../../tests/skip.rs"]
#[allow(dead_code)]
mod skip;

fn solidml() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_solidml"))
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/models")
}

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("solidml-foundry-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn run(cmd: &mut Command) -> (Output, String) {
    let out = cmd.output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out, text)
}

fn solidml_in(dir: &Path, foundry: &Path, args: &[&str]) -> (Output, String) {
    run(Command::new(solidml()).current_dir(dir).args(args).env("FOUNDRY_BIN", foundry).env("NO_COLOR", "1"))
}

/// Checksums of every file under `dir` but forge's out/ and cache/.
fn checksums(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
            if rel == "out" || rel == "cache" {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut m = BTreeMap::new();
    walk(dir, dir, &mut m);
    m
}

fn forge_test(dir: &Path, foundry: &Path) -> String {
    let (out, text) = run(Command::new(foundry.join("forge"))
        .current_dir(dir)
        .args(["test", "--offline", "--use"])
        .arg(foundry.join("solc"))
        .env("SOLIDML_BIN", solidml()));
    assert!(out.status.success(), "forge test failed:\n{text}");
    text
}

#[test]
fn init_makes_a_fresh_project_pass_forge_test_and_is_idempotent() {
    let Some(foundry) = skip::require_forge() else { return };
    let dir = scratch("init");
    let (out, text) = solidml_in(Path::new("/"), &foundry, &["init", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("created     test/SolidMLExample.t.sol"), "{text}");
    let text = forge_test(&dir, &foundry);
    assert!(text.contains("3 tests passed, 0 failed"), "{text}");

    let before = checksums(&dir);
    let (out, text) = solidml_in(&dir, &foundry, &["init"]);
    assert!(out.status.success(), "{text}");
    assert!(!text.contains("created") && !text.contains("overwritten") && !text.contains("skipped"), "{text}");
    assert_eq!(checksums(&dir), before, "a second init changed files");

    // a user's edit is kept and reported, and --force restores the file
    let test = dir.join("test/SolidMLExample.t.sol");
    let original = std::fs::read_to_string(&test).unwrap();
    std::fs::write(&test, format!("{original}// mine\n")).unwrap();
    let (_, text) = solidml_in(&dir, &foundry, &["init"]);
    assert!(text.contains("skipped     test/SolidMLExample.t.sol: it exists with other contents"), "{text}");
    assert!(std::fs::read_to_string(&test).unwrap().ends_with("// mine\n"));
    let (_, text) = solidml_in(&dir, &foundry, &["init", "--force"]);
    assert!(text.contains("overwritten test/SolidMLExample.t.sol"), "{text}");
    assert_eq!(std::fs::read_to_string(&test).unwrap(), original);

    // not a foundry project: a clear error, nothing written
    let empty = scratch("init-empty");
    std::fs::create_dir_all(&empty).unwrap();
    let (out, text) = solidml_in(&empty, &foundry, &["init"]);
    assert!(!out.status.success());
    assert!(text.contains("has no foundry.toml"), "{text}");
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&empty);
}

/// The acceptance case as a user meets it: a fresh empty project made by real `forge init`,
/// then `solidml init` in it, then `forge test`; a second `init` changes no file.
#[test]
fn init_in_a_project_forge_init_made() {
    let Some(foundry) = skip::require_forge() else { return };
    let dir = scratch("forge-init");
    let (out, text) = run(Command::new(foundry.join("forge")).args(["init", "--offline", "--no-git", "--empty"]).arg(&dir));
    assert!(out.status.success(), "forge init: {text}");
    let (out, text) = solidml_in(&dir, &foundry, &["init"]);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("unchanged   foundry.toml") || !text.contains("foundry.toml"),
        "init must not touch forge's foundry.toml: {text}"
    );
    let text = forge_test(&dir, &foundry);
    assert!(text.contains("3 tests passed, 0 failed"), "{text}");
    let before = checksums(&dir);
    let (out, text) = solidml_in(&dir, &foundry, &["init"]);
    assert!(out.status.success(), "{text}");
    assert_eq!(checksums(&dir), before, "a second init changed files:\n{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A project with the digits MLP, its evaluation data and labels.
fn check_project(foundry: &Path, tag: &str) -> PathBuf {
    let dir = scratch(tag);
    let (out, text) = solidml_in(Path::new("/"), foundry, &["init", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{text}");
    for f in ["digits_eval.npy", "digits_eval_labels.npy"] {
        std::fs::copy(examples().join(f), dir.join("models").join(f)).unwrap();
    }
    std::fs::write(dir.join("solidml.toml"), config("")).unwrap();
    dir
}

fn config(extra: &str) -> String {
    format!(
        "[project]\ntolerance = 0.0\n\n[models.digits]\nonnx = \"models/digits.onnx\"\ncalibration = [\"models/digits_calib.npy\"]\neval = [\"models/digits_eval.npy\"]\nlabels = \"models/digits_eval_labels.npy\"\n{extra}"
    )
}

#[test]
fn check_passes_then_fails_on_budget_floor_and_snapshot() {
    let Some(foundry) = skip::require_forge() else { return };
    let dir = check_project(&foundry, "check");
    let snapshot = dir.join(".solidml-snapshot.json");

    // no snapshot yet: every figure is new and fails
    let (out, text) = solidml_in(&dir, &foundry, &["check"]);
    assert!(!out.status.success());
    assert!(text.contains("digits: precompile_gas 2,778 is not in the snapshot"), "{text}");

    let (out, text) = solidml_in(&dir, &foundry, &["check", "--update"]);
    assert!(out.status.success(), "{text}");
    let snap: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&snapshot).unwrap()).unwrap();
    let figures = &snap["models"]["digits"];
    // the precompile's charge measured by forge through SolidMLTest is the schedule's
    assert_eq!(figures["precompile_gas"], 2778.0, "{snap}");
    assert!(figures["accuracy"].as_f64().unwrap() > 98.0, "{snap}");
    assert_eq!(figures["agreement"], 100.0, "{snap}");
    for f in ["deploy_gas", "predict_gas", "predictq_gas", "max_error", "mean_error"] {
        assert!(figures[f].as_f64().is_some(), "{f} missing: {snap}");
    }

    let reports = ["--json", "r.json", "--md", "r.md", "--junit", "r.xml"];
    let (out, text) = solidml_in(&dir, &foundry, &[&["check"][..], &reports].concat());
    assert!(out.status.success(), "{text}");
    assert!(text.contains("checks pass"), "{text}");
    assert!(std::fs::read_to_string(dir.join("r.md")).unwrap().contains("| digits |"));
    assert!(std::fs::read_to_string(dir.join("r.xml")).unwrap().contains("<testsuite name=\"digits\""));
    assert_eq!(serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(dir.join("r.json")).unwrap()).unwrap()["ok"], true);

    // a gas budget exceeded
    std::fs::write(dir.join("solidml.toml"), config("budgets = { precompile_gas = 2500 }\n")).unwrap();
    let (out, text) = solidml_in(&dir, &foundry, &[&["check"][..], &reports].concat());
    assert!(!out.status.success());
    assert!(text.contains("FAIL digits: precompile_gas 2,778 exceeds its budget 2,500 by 278"), "{text}");
    assert!(std::fs::read_to_string(dir.join("r.xml")).unwrap().contains("exceeds its budget 2,500"));

    // an accuracy floor not met
    std::fs::write(dir.join("solidml.toml"), config("floors = { accuracy = 99.9 }\n")).unwrap();
    let (out, text) = solidml_in(&dir, &foundry, &["check"]);
    assert!(!out.status.success());
    assert!(text.contains("FAIL digits: accuracy") && text.contains("is below its floor 99.90%"), "{text}");

    // the snapshot differs beyond the tolerance (as if a change had cost 2% gas)
    std::fs::write(dir.join("solidml.toml"), config("")).unwrap();
    let mut snap = snap.clone();
    let predict = snap["models"]["digits"]["predict_gas"].as_f64().unwrap();
    snap["models"]["digits"]["predict_gas"] = (predict / 1.02).round().into();
    std::fs::write(&snapshot, serde_json::to_string_pretty(&snap).unwrap()).unwrap();
    let (out, text) = solidml_in(&dir, &foundry, &["check"]);
    assert!(!out.status.success());
    assert!(text.contains("FAIL digits: predict_gas") && text.contains("beyond the tolerance 0%"), "{text}");
    // within a tolerance given on the command line, it passes
    let (out, text) = solidml_in(&dir, &foundry, &["check", "--tolerance", "2.5"]);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("test/SolidMLExample.t.sol:29:28  SolidML  digits  SolidML.run(SolidMLModels.DIGITS, sampleInput())"), "{text}");

    // a mistake in the project's Solidity, seen before run time: lint and check both fail on it
    std::fs::write(
        dir.join("src/Bad.sol"),
        "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.20;\nimport {SolidML} from \"solidml/SolidML.sol\";\nimport {SolidMLModels} from \"./models/SolidMLModels.sol\";\ncontract Bad {\n    function f() external view returns (bytes memory) {\n        return SolidML.run(SolidMLModels.DIGITS, new bytes(63));\n    }\n}\n",
    )
    .unwrap();
    let want = "src/Bad.sol:7:50: SolidML.run(SolidMLModels.DIGITS, …) passes 63 input bytes; model `digits` takes 64";
    for cmd in [&["lint"][..], &["check", "--tolerance", "2.5"]] {
        let (out, text) = solidml_in(&dir, &foundry, cmd);
        assert!(!out.status.success(), "{cmd:?}: {text}");
        assert!(text.contains(want), "{cmd:?}: expected `{want}` in:\n{text}");
    }

    // the project's own compilation (forge build with its settings, the toolchain's solc): a
    // type error solang-parser cannot see fails check with solc's message
    std::fs::remove_file(dir.join("src/Bad.sol")).unwrap();
    let (out, text) = solidml_in(&dir, &foundry, &["check", "--tolerance", "2.5"]);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("0 error(s) (forge build, solc"), "{text}");
    std::fs::write(
        dir.join("src/Typo.sol"),
        "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.20;\ncontract Typo {\n    function f() external pure returns (uint256) {\n        return \"x\";\n    }\n}\n",
    )
    .unwrap();
    let (out, text) = solidml_in(&dir, &foundry, &["check", "--tolerance", "2.5", "--junit", "r.xml"]);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("FAIL the project does not compile (solc 0.8.30): Error (6359): Return argument type"), "{text}");
    assert!(text.contains("src/Typo.sol:5:16"), "{text}");
    assert!(std::fs::read_to_string(dir.join("r.xml")).unwrap().contains("the project does not compile"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_configurations_point_at_their_line_and_write_no_snapshot() {
    let Some(foundry) = skip::require_forge() else { return };
    let dir = check_project(&foundry, "badconfig");
    let snapshot = dir.join(".solidml-snapshot.json");
    std::fs::write(dir.join("models/broken.onnx"), b"\x08\x07not a protobuf").unwrap();
    let cases: &[(&str, &str, &str)] = &[
        ("layuot = \"fast\"\n", "unknown field `layuot`", "9 │ layuot"),
        ("budgets = { predict_gas = \"many\" }\n", "invalid type: string \"many\", expected u64", "9 │ budgets"),
        (
            "\n[models.other]\nonnx = \"models/missing.onnx\"\n",
            "ONNX file `models/missing.onnx` of model `other` does not exist",
            "11 │ onnx",
        ),
        ("\n[models.broken]\nonnx = \"models/broken.onnx\"\n", "model `broken` does not compile", "11 │ onnx"),
    ];
    for (extra, message, line) in cases {
        std::fs::write(dir.join("solidml.toml"), config(extra)).unwrap();
        for cmd in [&["check"][..], &["check", "--update"], &["build"]] {
            let (out, text) = solidml_in(&dir, &foundry, cmd);
            assert!(!out.status.success(), "{cmd:?} {extra}: {text}");
            // miette wraps long messages at 80 columns: compare words
            let words = |s: &str| s.split_whitespace().filter(|w| *w != "│").collect::<Vec<_>>().join(" ");
            assert!(words(&text).contains(message), "{cmd:?}: expected `{message}` in:\n{text}");
            assert!(text.contains(line), "{cmd:?}: expected the line `{line}` shown in:\n{text}");
            assert!(!snapshot.exists(), "{cmd:?} {extra}: a snapshot was written");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
