//! Driving a `solc` executable through its standard-JSON interface: Solidity sources in, init
//! and runtime bytecode out, for `solidml gas` and the in-process EVM tests.
//!
//! Any native-shaped `solc` works; the project's own is the solc-js 0.8.30 wrapper that
//! `scripts/foundry-env.sh` installs (`$FOUNDRY_BIN/solc`). [`Solc::locate`] takes `$SOLC`,
//! then `$FOUNDRY_BIN/solc`, then that wrapper's place in this repository. The default settings are
//! those of the generated contracts' foundry projects (optimizer off, EVM version cancun), so
//! bytecode and gas match what forge builds. The optimizer stays off for generated models: on
//! their straight-line Yul it saves under 1% of gas and makes solc-js take minutes instead of
//! seconds (621 s against 2.3 s for a 256×256 layer); when it is on, use high runs (≥ 10,000):
//! low runs make solc replace the PUSH32 weight constants with CODECOPY sequences. (foundry-compilers would do
//! the same job with a much larger dependency tree; a standard-JSON call is all that's needed.)

use std::{
    collections::BTreeMap,
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use serde_json::{Value, json};

use crate::SolidityError;

/// Compile settings (with `with_*` builders).
#[derive(Debug, Clone)]
pub struct SolcSettings {
    /// `None`: optimizer off; `Some(runs)`: on with that many runs.
    pub optimizer_runs: Option<u32>,
    /// solc's `evmVersion` setting (default `cancun`).
    pub evm_version: String,
}

impl Default for SolcSettings {
    fn default() -> Self {
        SolcSettings { optimizer_runs: None, evm_version: "cancun".into() }
    }
}

impl SolcSettings {
    /// Turn the optimizer on with `runs`.
    pub fn with_optimizer_runs(mut self, runs: u32) -> Self {
        self.optimizer_runs = Some(runs);
        self
    }
}

/// One compiled contract.
#[derive(Debug, Clone)]
pub struct CompiledContract {
    /// Creation code (without constructor arguments).
    pub initcode: Vec<u8>,
    /// Deployed code.
    pub runtime: Vec<u8>,
}

/// A `solc` executable.
#[derive(Debug, Clone)]
pub struct Solc {
    path: PathBuf,
}

impl Solc {
    /// The solc executable at `path` (not checked until it is run).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Solc { path: path.into() }
    }

    /// The executable.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `$SOLC`, `$FOUNDRY_BIN/solc`, or the project-local wrapper.
    pub fn locate() -> Result<Solc, SolidityError> {
        let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib-sol/toolchain/bin/solc");
        let candidates = [
            std::env::var_os("SOLC").map(PathBuf::from),
            std::env::var_os("FOUNDRY_BIN").map(|d| PathBuf::from(d).join("solc")),
            Some(local),
        ];
        candidates.into_iter().flatten().find(|p| p.is_file()).map(Solc::new).ok_or(SolidityError::SolcNotFound)
    }

    /// Compile `sources` (`(path, contents)`); returns every contract by name (the last one
    /// wins when two files define the same name).
    pub fn compile(
        &self,
        sources: &[(String, String)],
        settings: &SolcSettings,
    ) -> Result<BTreeMap<String, CompiledContract>, SolidityError> {
        let srcs: serde_json::Map<String, Value> = sources.iter().map(|(p, c)| (p.clone(), json!({ "content": c }))).collect();
        let input = json!({
            "language": "Solidity",
            "sources": srcs,
            "settings": {
                "optimizer": { "enabled": settings.optimizer_runs.is_some(), "runs": settings.optimizer_runs.unwrap_or(200) },
                "evmVersion": settings.evm_version,
                "outputSelection": { "*": { "*": ["evm.bytecode.object", "evm.deployedBytecode.object"] } }
            }
        });
        let run_err = |reason: String| SolidityError::SolcRun { path: self.path.display().to_string(), reason };
        let mut child = Command::new(&self.path)
            .arg("--standard-json")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| run_err(e.to_string()))?;
        child.stdin.take().expect("piped").write_all(input.to_string().as_bytes()).map_err(|e| run_err(e.to_string()))?;
        let out = child.wait_with_output().map_err(|e| run_err(e.to_string()))?;
        if !out.status.success() {
            return Err(run_err(format!("{}: {}", out.status, String::from_utf8_lossy(&out.stderr))));
        }
        let output: Value = serde_json::from_slice(&out.stdout).map_err(|e| run_err(format!("unreadable output: {e}")))?;
        let errors: Vec<String> = output["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["severity"] == "error")
            .map(|e| e["formattedMessage"].as_str().unwrap_or("?").to_string())
            .collect();
        if !errors.is_empty() {
            return Err(SolidityError::SolcCompile(errors.join("\n")));
        }
        let mut contracts = BTreeMap::new();
        for file in output["contracts"].as_object().into_iter().flat_map(|o| o.values()) {
            for (name, c) in file.as_object().into_iter().flatten() {
                let code = |k: &str| hex_decode(c["evm"][k]["object"].as_str().unwrap_or(""));
                contracts.insert(name.clone(), CompiledContract { initcode: code("bytecode"), runtime: code("deployedBytecode") });
            }
        }
        Ok(contracts)
    }
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len() / 2).filter_map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()).collect()
}
