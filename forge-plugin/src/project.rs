//! The files `solidml init` lays out in a foundry project, and how it writes them: a file of
//! the user's (`solidml.toml`, the example test, `foundry.toml`) that exists with other
//! contents is skipped (reported) unless `--force`; the files `init` manages — the library in
//! `lib/solidml/` (an installed dependency, as `forge install` leaves one) and the compiled
//! models — are brought to this version's contents (reported as updated). A file with the same
//! contents is left alone, so a second `init` changes nothing.
//!
//! Layout, as `forge install` would leave it (without network): the Solidity library in
//! `lib/solidml/src/` (the same sources as `stdlib-sol/src`, embedded in the binary), the
//! remapping `solidml/=lib/solidml/src/` in `remappings.txt`, `solidml.toml`, the compiled models
//! in `[project] out` (default `src/models/`) with `SolidMLModels.sol`, one example test.

use std::path::{Path, PathBuf};

use crate::ForgeError;

/// The remapping `init` adds.
pub const REMAPPING: &str = "solidml/=lib/solidml/src/";

/// The Solidity library's sources, relative to `lib/solidml/src/`.
pub const LIBRARY: &[(&str, &str)] = &[
    ("SolidML.sol", include_str!("../../stdlib-sol/src/SolidML.sol")),
    ("SolidMLMath.sol", include_str!("../../stdlib-sol/src/SolidMLMath.sol")),
    ("SolidMLModel.sol", include_str!("../../stdlib-sol/src/SolidMLModel.sol")),
    ("ModelRegistry.sol", include_str!("../../stdlib-sol/src/ModelRegistry.sol")),
    ("InferenceClaims.sol", include_str!("../../stdlib-sol/src/InferenceClaims.sol")),
    ("SolidMLSteps.sol", include_str!("../../stdlib-sol/src/SolidMLSteps.sol")),
    ("opengradient/OGInference.sol", include_str!("../../stdlib-sol/src/opengradient/OGInference.sol")),
    ("test/SolidMLTest.sol", include_str!("../../stdlib-sol/src/test/SolidMLTest.sol")),
    ("test/SolidMLOpenGradient.sol", include_str!("../../stdlib-sol/src/test/SolidMLOpenGradient.sol")),
];

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// It did not exist: written.
    Created,
    /// It existed with these contents: untouched.
    Unchanged,
    /// It existed with other contents: untouched (the user's), `--force` overwrites.
    Skipped,
    /// It existed with other contents and `--force` was given.
    Overwritten,
    /// A line was added to it (`remappings.txt`).
    Appended,
    /// A file `init` manages (the library in `lib/solidml`, the compiled models) had other
    /// contents: replaced with this version's.
    Updated,
}

/// Write `contents` to `path` unless it holds something else (see [`Action`]); atomic (a
/// temporary file renamed into place), so an interrupted `init` leaves no torn file.
pub fn write_file(path: &Path, contents: &[u8], force: bool) -> Result<Action, ForgeError> {
    let action = match std::fs::read(path) {
        Ok(existing) if existing == contents => return Ok(Action::Unchanged),
        Ok(_) if !force => return Ok(Action::Skipped),
        Ok(_) => Action::Overwritten,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Action::Created,
        Err(e) => return Err(ForgeError::io(path, e)),
    };
    write_atomic(path, contents)?;
    Ok(action)
}

/// Write a file `init` manages: created, left alone when equal, else replaced ([`Action::Updated`]).
pub fn write_managed(path: &Path, contents: &[u8]) -> Result<Action, ForgeError> {
    match write_file(path, contents, true)? {
        Action::Overwritten => Ok(Action::Updated),
        other => Ok(other),
    }
}

/// Write through a temporary sibling and a rename.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), ForgeError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| ForgeError::io(parent, e))?;
    }
    let tmp = path.with_extension(format!("solidml-tmp-{}", std::process::id()));
    std::fs::write(&tmp, contents).map_err(|e| ForgeError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        ForgeError::io(path, e)
    })
}

/// Make sure `remappings.txt` maps `solidml/`: added as a line when absent (a user's other
/// remappings stay as they are); a different mapping of `solidml/` is the user's and is kept.
pub fn ensure_remapping(root: &Path) -> Result<Action, ForgeError> {
    let path = root.join("remappings.txt");
    let existing = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return write_file(&path, format!("{REMAPPING}\n").as_bytes(), false),
        Err(e) => return Err(ForgeError::io(&path, e)),
    };
    let mut found = None;
    for line in existing.lines().map(str::trim) {
        let line = line.split_once(':').map(|(_, r)| r).unwrap_or(line); // context:prefix=target
        if line.starts_with("solidml/=") {
            found = Some(line == REMAPPING);
        }
    }
    match found {
        Some(true) => Ok(Action::Unchanged),
        Some(false) => Ok(Action::Skipped),
        None => {
            let sep = if existing.is_empty() || existing.ends_with('\n') { "" } else { "\n" };
            write_atomic(&path, format!("{existing}{sep}{REMAPPING}\n").as_bytes())?;
            Ok(Action::Appended)
        }
    }
}

/// `foundry.toml` for a project `init` creates (an existing one is never touched). `ffi` is
/// left off: the native route asks for it when used.
pub const FOUNDRY_TOML: &str = r#"[profile.default]
src = "src"
out = "out"
libs = ["lib"]
test = "test"
evm_version = "prague"
# SolidMLTest's native route runs `solidml precompile` through vm.ffi: uncomment to use it
# (or pass --ffi to forge test).
# ffi = true
"#;

/// The example test `init` writes for its first model.
pub fn example_test(id_constant: &str, evm_contract: Option<&str>, input_bytes: usize, output_bytes: usize) -> String {
    let compare = match evm_contract {
        Some(c) => format!(
            r#"
    /// The precompile's answer equals the generated pure-Solidity contract's.
    function test_precompile_equals_contract() public {{
        bytes memory input = sampleInput();
        address model = SOLIDML_VM.deployCode("{c}.sol:{c}");
        bytes memory direct = IPredictQ(model).predictQ(input);
        require(keccak256(SolidML.run(SolidMLModels.{id_constant}, input)) == keccak256(direct), "precompile != {c}.predictQ");
    }}
"#
        ),
        None => String::new(),
    };
    format!(
        r#"// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

// Written by `solidml init`: an example to start from (yours to edit; `init` never overwrites
// it without --force).

import {{SolidML}} from "solidml/SolidML.sol";
import {{SolidMLTest, SolidMLRoute, SOLIDML_VM}} from "solidml/test/SolidMLTest.sol";
import {{SolidMLModels}} from "../src/models/SolidMLModels.sol";

interface IPredictQ {{
    function predictQ(bytes calldata q) external view returns (bytes memory);
}}

contract SolidMLExampleTest is SolidMLTest {{
    function setUp() public {{
        // the route of solidml.toml; pass SolidMLRoute.Native or .Evm to choose per test
        solidmlSetUp(SolidMLModels.all(), SolidMLModels.ROUTE);
    }}

    /// {input_bytes} int8 codes, deterministic.
    function sampleInput() internal pure returns (bytes memory input) {{
        input = new bytes({input_bytes});
        for (uint256 i; i < input.length; ++i) input[i] = bytes1(uint8((i * 37 + 11) % 256));
    }}

    /// The model answers at the SolidML precompile address: {output_bytes} bytes of packed outputs.
    function test_model_answers() public view {{
        bytes memory out = SolidML.run(SolidMLModels.{id_constant}, sampleInput());
        require(out.length == {output_bytes}, "output length");
    }}

    /// A wrong input length reverts with the precompile's SolidMLError (code 3).
    function test_wrong_input_length_reverts() public view {{
        try this.callModel(new bytes(1)) {{
            revert("expected a revert");
        }} catch (bytes memory reason) {{
            require(bytes4(reason) == SolidML.SolidMLError.selector, "SolidMLError");
        }}
    }}

    function callModel(bytes memory input) external view returns (bytes memory) {{
        return SolidML.run(SolidMLModels.{id_constant}, input);
    }}
{compare}}}
"#
    )
}

/// The commented `solidml.toml` `init` writes for `models` (`(name, onnx, calibration)`,
/// paths relative to the project root).
pub fn config_toml(models: &[(String, String, Vec<String>)]) -> String {
    let mut s = String::from(
        r#"# SolidML models of this foundry project (docs/foundry.md). `solidml init` wrote this file;
# `solidml build` recompiles the models into [project] out, `solidml check` gates gas and
# accuracy against the budgets and floors below and the snapshot file.

[project]
out = "src/models"                  # compiled models and src/models/SolidMLModels.sol
route = "evm"                       # SolidMLTest's default route: "evm" (pure EVM, no ffi) or "native" (vm.ffi)
snapshot = ".solidml-snapshot.json" # figures `solidml check` compares with (`--update` rewrites it)
tolerance = 0.0                     # percent a figure may move from the snapshot
"#,
    );
    for (name, onnx, calibration) in models {
        let cal = calibration.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ");
        s += &format!(
            r#"
[models.{name}]
onnx = "{onnx}"
calibration = [{cal}]               # one .npy per model input, samples along the first axis
layout = "fast"                     # "fast": least gas per call; "compact": least deployment gas
# eval = ["data/eval.npy"]          # evaluation data: top-1 agreement with the float model
# labels = "data/labels.npy"        # integer labels: accuracy
# budgets = {{ predict_gas = 60000, predictq_gas = 45000, deploy_gas = 8000000, precompile_gas = 4000 }}
# floors = {{ agreement = 99.0, accuracy = 98.0 }}   # percent
"#
        );
    }
    s
}

/// `path` relative to `root` with `/` separators (for Solidity strings and messages).
pub fn relative(root: &Path, path: &Path) -> String {
    let rel: PathBuf = path.strip_prefix(root).map(Path::to_path_buf).unwrap_or_else(|_| path.to_path_buf());
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(tag: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("solidml-forge-project-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    #[test]
    fn write_file_creates_keeps_skips_and_forces() {
        let d = tmp("write");
        let f = d.join("a/b.txt");
        assert_eq!(write_file(&f, b"x", false).unwrap(), Action::Created);
        assert_eq!(write_file(&f, b"x", false).unwrap(), Action::Unchanged);
        assert_eq!(write_file(&f, b"y", false).unwrap(), Action::Skipped);
        assert_eq!(std::fs::read(&f).unwrap(), b"x");
        assert_eq!(write_file(&f, b"y", true).unwrap(), Action::Overwritten);
        assert_eq!(std::fs::read(&f).unwrap(), b"y");
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn the_remapping_is_added_once_and_a_user_mapping_is_kept() {
        let d = tmp("remap");
        std::fs::write(d.join("remappings.txt"), "forge-std/=lib/forge-std/src/").unwrap();
        assert_eq!(ensure_remapping(&d).unwrap(), Action::Appended);
        assert_eq!(
            std::fs::read_to_string(d.join("remappings.txt")).unwrap(),
            "forge-std/=lib/forge-std/src/\nsolidml/=lib/solidml/src/\n"
        );
        assert_eq!(ensure_remapping(&d).unwrap(), Action::Unchanged);
        std::fs::write(d.join("remappings.txt"), "solidml/=vendor/solidml/\n").unwrap();
        assert_eq!(ensure_remapping(&d).unwrap(), Action::Skipped);
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn the_embedded_library_is_the_repository_s() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../stdlib-sol/src");
        for (rel, text) in LIBRARY {
            let on_disk = std::fs::read_to_string(src.join(rel)).unwrap();
            assert_eq!(&on_disk, text, "{rel}");
        }
        // and every source of the library is embedded
        fn walk(root: &Path, d: &Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(root, &p, out);
                } else if p.extension().is_some_and(|x| x == "sol") {
                    out.push(relative(root, &p));
                }
            }
        }
        let mut files = vec![];
        walk(&src, &src, &mut files);
        files.sort();
        let mut embedded: Vec<String> = LIBRARY.iter().map(|(r, _)| r.to_string()).collect();
        embedded.sort();
        assert_eq!(files, embedded, "stdlib-sol/src and project::LIBRARY differ");
    }
}
