//! The skip policy of the tests that need a tool from outside Cargo: forge and solc
//! (`forge`), a Vulkan device (`gpu`), the repository's Python environment (`python`).
//!
//! A missing tool FAILS the test, with the command that installs it. A test is skipped only
//! when asked: `SOLIDML_SKIP` is a comma-separated list of those keys (`SOLIDML_SKIP=forge,gpu`);
//! a test whose key it lists prints that it skipped and passes, whether the tool is there or
//! not. An unknown key fails, so a typo cannot skip silently.
//!
//! std only: `tests/support.rs` re-exports it and the CLI's tests include it by `#[path]`. The
//! GPU crate's unit tests (which cannot use this crate) apply the same rule in
//! `precompiles/gpu/src/tests.rs`.

use std::path::PathBuf;

/// The keys `SOLIDML_SKIP` may list.
pub const SKIP_KEYS: &[&str] = &["forge", "gpu", "python"];

/// What installs each tool.
pub const INSTALL_FORGE: &str = "bash scripts/foundry-env.sh";
pub const INSTALL_GPU: &str = "bash scripts/vulkan-env.sh";
pub const INSTALL_PYTHON: &str = "bash scripts/python-env.sh";

/// The repository root (both crates that include this file sit one level below it).
fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Whether `SOLIDML_SKIP` lists `key` (panics on a key not in [`SKIP_KEYS`]).
pub fn skip_requested(key: &str) -> bool {
    assert!(SKIP_KEYS.contains(&key), "unknown skip key `{key}`");
    let Ok(list) = std::env::var("SOLIDML_SKIP") else { return false };
    let keys: Vec<&str> = list.split(',').map(str::trim).filter(|k| !k.is_empty()).collect();
    if let Some(bad) = keys.iter().find(|k| !SKIP_KEYS.contains(k)) {
        panic!("SOLIDML_SKIP={list}: unknown key `{bad}` (known: {})", SKIP_KEYS.join(", "));
    }
    keys.contains(&key)
}

/// `true` (after printing that the test is skipped) when `SOLIDML_SKIP` lists `key`: the
/// caller returns at once.
pub fn skipping(key: &str) -> bool {
    let skip = skip_requested(key);
    if skip {
        eprintln!("SKIPPED: SOLIDML_SKIP lists `{key}`");
    }
    skip
}

/// A required tool is missing: fails the test naming `install` (a skipped test never gets
/// here: callers check [`skipping`] first).
#[track_caller]
pub fn missing(key: &str, what: &str, install: &str) -> ! {
    panic!("{what}: install it with `{install}`, or set SOLIDML_SKIP={key} to skip the tests that need it")
}

/// The Foundry bin directory (`forge`, and the `solc` wrapper): `$FOUNDRY_BIN`, else the
/// project-local install `stdlib-sol/toolchain/bin`. `None`: skipped (`SOLIDML_SKIP=forge`).
#[track_caller]
pub fn require_forge() -> Option<PathBuf> {
    if skipping("forge") {
        return None;
    }
    let dirs = [std::env::var_os("FOUNDRY_BIN").map(PathBuf::from), Some(repo_root().join("stdlib-sol/toolchain/bin"))];
    match dirs.into_iter().flatten().find(|d| d.join("forge").is_file() && d.join("solc").is_file()) {
        Some(d) => Some(d),
        None => missing(
            "forge",
            "no forge and solc, neither in $FOUNDRY_BIN nor in stdlib-sol/toolchain/bin (the script installs them there and \
             prints FOUNDRY_BIN=<dir> last)",
            INSTALL_FORGE,
        ),
    }
}

/// The Python of the repository's virtualenv (`$SOLIDML_PYTHON`, else `.venv/bin/python`).
/// `None`: skipped (`SOLIDML_SKIP=python`).
#[track_caller]
pub fn require_python() -> Option<PathBuf> {
    if skipping("python") {
        return None;
    }
    let py = std::env::var_os("SOLIDML_PYTHON").map(PathBuf::from).unwrap_or_else(|| repo_root().join(".venv/bin/python"));
    if !py.exists() {
        missing("python", &format!("no Python environment at {} (set SOLIDML_PYTHON to use another)", py.display()), INSTALL_PYTHON);
    }
    Some(py)
}
