//! `solidml gas` measures in revm in process; this checks its figures equal what real forge
//! (1.7.1, solc-js 0.8.30) reports for the same calls: `solidml gas --forge-project DIR`
//! writes a foundry project replaying every measured `predictQ` call, and
//! `forge test --gas-report --json` must report the same gas per contract.
//!
//! Needs forge (`FOUNDRY_BIN`, set by scripts/test.sh): fails without it, unless `SOLIDML_SKIP`
//! lists `forge` (the policy of `tests/skip.rs`, included here).

use std::{collections::BTreeMap, process::Command};

// pub items: the file is also a module of the tests crate, where they are used from other files
#[allow(unreachable_pub)]
#[path = "../../tests/skip.rs"]
#[allow(dead_code)]
mod skip;

fn solidml() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_solidml"))
}

fn examples() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/models")
}

#[test]
fn solidml_gas_equals_forge_gas_report() {
    let Some(bin) = skip::require_forge() else { return };
    let bin = bin.to_str().unwrap().to_string();
    let dir = std::env::temp_dir().join(format!("solidml-gas-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // the logreg example, plus the 256×256 dense pair
    let out = Command::new(solidml())
        .args([
            "compile",
            examples().join("digits_logreg.onnx").to_str().unwrap(),
            "--calibration",
            examples().join("digits_calib.npy").to_str().unwrap(),
            "-o",
        ])
        .arg(dir.join("model"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(solidml())
        .arg("gas")
        .arg(dir.join("model/digits_logreg.smodel"))
        .arg("--forge-project")
        .arg(dir.join("forge"))
        .env("FOUNDRY_BIN", &bin)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    println!("{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("digits_logreg")), "{stdout}");
    assert!(stdout.contains("ratio: "), "{stdout}");
    // ours: "check: <forge project> <contract> <predictQ gas>", one project per compile setting
    let mut ours: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for l in stdout.lines().filter_map(|l| l.strip_prefix("check: ")) {
        let f: Vec<&str> = l.split_whitespace().collect();
        ours.entry(f[0].to_string()).or_default().insert(f[1].to_string(), f[2].parse().unwrap());
    }
    assert_eq!(
        ours.values().map(|v| v.len()).sum::<usize>(),
        6,
        "logreg and the generated layer in both layouts, and two straightforward builds: {ours:?}"
    );

    for (project, calls) in &ours {
        let report = Command::new(format!("{bin}/forge"))
            .args(["test", "--use", &format!("{bin}/solc"), "--offline", "--gas-report", "--json"])
            .current_dir(project)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&report.stdout);
        assert!(report.status.success(), "{text}\n{}", String::from_utf8_lossy(&report.stderr));
        let json: serde_json::Value = serde_json::from_str(text.lines().rev().find(|l| l.starts_with('[')).unwrap()).unwrap();
        let mut forge: BTreeMap<String, u64> = BTreeMap::new();
        for c in json.as_array().unwrap() {
            let name = c["contract"].as_str().unwrap().rsplit(':').next().unwrap().to_string();
            if let Some(f) = c["functions"].get("predictQ(bytes)") {
                assert_eq!(f["min"], f["max"], "{name}: one input, one figure");
                forge.insert(name, f["min"].as_u64().unwrap());
            }
        }
        for (name, gas) in calls {
            assert_eq!(forge.get(name), Some(gas), "{project}: {name}: solidml gas says {gas}, forge says {:?}", forge.get(name));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
