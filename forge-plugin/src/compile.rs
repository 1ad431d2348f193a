//! The project's own compilation, as `forge build` would run it, through
//! [`foundry_compilers`] (Foundry's compiler driver, the crate forge itself uses): its source,
//! test and script directories, its libraries and remappings, its EVM version, optimizer and
//! via-IR settings, and the solc given (the toolchain's: `solidml check` passes the one it
//! finds, `$SOLC` / `$FOUNDRY_BIN/solc`). Offline, no cache and no artifacts written: the
//! project's `out/` and `cache/` are forge's alone.
//!
//! The settings are read from `foundry.toml`'s `[profile.default]` (`FOUNDRY_PROFILE` is not
//! followed): `src` (default `src`), `test` (`test`), `script` (`script`), `libs` (`["lib"]`),
//! `remappings`, `evm_version`, `optimizer`, `optimizer_runs`, `via_ir`; other keys are left
//! to forge. Remappings: `foundry.toml`'s, then `remappings.txt`'s, then those
//! foundry-compilers finds in the libraries (as forge does, the first mapping of a prefix
//! wins). Foundry's own configuration crate is not published on crates.io, hence this small
//! reader.

use std::path::{Path, PathBuf};

use foundry_compilers::{
    ConfigurableArtifacts, ProjectBuilder, ProjectPathsConfig,
    artifacts::{EvmVersion, Optimizer, Remapping, Settings, Severity, output_selection::OutputSelection},
    compilers::solc::{SolcCompiler, SolcLanguage, SolcSettings},
    solc::Solc,
};
use serde::Deserialize;

use crate::ForgeError;

/// The keys of `[profile.default]` the compilation follows.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct FoundryProfile {
    /// Contract sources.
    pub src: String,
    /// Tests.
    pub test: String,
    /// Scripts.
    pub script: String,
    /// Library directories.
    pub libs: Vec<String>,
    /// `prefix=target` remappings.
    pub remappings: Vec<String>,
    /// `paris`, `cancun`, `prague`…
    pub evm_version: Option<String>,
    /// Whether the optimizer runs.
    pub optimizer: bool,
    /// Its `runs`.
    pub optimizer_runs: usize,
    /// Whether to compile through Yul IR.
    pub via_ir: bool,
}

impl Default for FoundryProfile {
    fn default() -> Self {
        FoundryProfile {
            src: "src".into(),
            test: "test".into(),
            script: "script".into(),
            libs: vec!["lib".into()],
            remappings: vec![],
            evm_version: None,
            optimizer: false,
            optimizer_runs: 200,
            via_ir: false,
        }
    }
}

#[derive(Deserialize, Default)]
struct FoundryToml {
    #[serde(default)]
    profile: Profiles,
}

#[derive(Deserialize, Default)]
struct Profiles {
    #[serde(default)]
    default: FoundryProfile,
}

impl FoundryProfile {
    /// `[profile.default]` of `root/foundry.toml` (defaults when the file or keys are absent).
    pub fn load(root: &Path) -> Result<FoundryProfile, ForgeError> {
        let path = root.join("foundry.toml");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FoundryProfile::default()),
            Err(e) => return Err(ForgeError::io(&path, e)),
        };
        let parsed: FoundryToml =
            toml::from_str(&text).map_err(|e| ForgeError::Compile { message: format!("{}: {}", path.display(), e.message()) })?;
        Ok(parsed.profile.default)
    }
}

/// What the compilation gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectBuild {
    /// The solc version used.
    pub solc_version: String,
    /// Source files compiled (the project's and their imports).
    pub sources: usize,
    /// Contracts, libraries and interfaces produced.
    pub contracts: usize,
    /// solc's errors, formatted as solc prints them (empty: it compiles).
    pub errors: Vec<String>,
    /// How many warnings solc gave.
    pub warnings: usize,
}

fn remappings(root: &Path, profile: &FoundryProfile) -> Result<Vec<Remapping>, ForgeError> {
    let mut lines: Vec<String> = profile.remappings.clone();
    match std::fs::read_to_string(root.join("remappings.txt")) {
        Ok(t) => lines.extend(t.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(ForgeError::io(&root.join("remappings.txt"), e)),
    }
    let mut out: Vec<Remapping> = vec![];
    for l in lines {
        let r: Remapping = l.parse().map_err(|e| ForgeError::Compile { message: format!("remapping `{l}`: {e}") })?;
        out.push(r);
    }
    for lib in &profile.libs {
        out.extend(Remapping::find_many(&root.join(lib)));
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|r| seen.insert((r.context.clone(), r.name.clone())));
    for r in &mut out {
        // targets relative to the root, as forge resolves them
        if !Path::new(&r.path).is_absolute() {
            r.path = root.join(&r.path).display().to_string();
        }
    }
    Ok(out)
}

/// Compile the foundry project at `root` with `solc`.
pub fn compile_project(root: &Path, solc: &Path) -> Result<ProjectBuild, ForgeError> {
    let fail = |message: String| ForgeError::Compile { message };
    let profile = FoundryProfile::load(root)?;
    let root = std::fs::canonicalize(root).map_err(|e| ForgeError::io(root, e))?;
    let paths = ProjectPathsConfig::builder()
        .sources(root.join(&profile.src))
        .tests(root.join(&profile.test))
        .scripts(root.join(&profile.script))
        .libs(profile.libs.iter().map(|l| root.join(l)).collect::<Vec<PathBuf>>())
        .remappings(remappings(&root, &profile)?)
        .build_with_root::<SolcLanguage>(&root);
    // ABIs only: solc's AST of the generated models' straight-line Yul nests deeper than
    // serde_json's recursion limit, and nothing here reads it
    let mut settings = Settings { output_selection: OutputSelection::common_output_selection(["abi".to_string()]), ..Default::default() };
    settings.optimizer = Optimizer { enabled: Some(profile.optimizer), runs: Some(profile.optimizer_runs), details: None };
    if let Some(v) = &profile.evm_version {
        settings.evm_version = Some(v.parse::<EvmVersion>().map_err(|_| fail(format!("foundry.toml: unknown evm_version `{v}`")))?);
    }
    settings.via_ir = profile.via_ir.then_some(true);
    let solc = Solc::new(solc).map_err(|e| fail(format!("solc at {}: {e}", solc.display())))?;
    let version = solc.version.to_string();
    let project = ProjectBuilder::<SolcCompiler, ConfigurableArtifacts>::new(ConfigurableArtifacts::default())
        .paths(paths)
        .settings(SolcSettings { settings, ..Default::default() })
        .set_offline(true)
        .set_cached(false)
        .no_artifacts()
        .build(SolcCompiler::Specific(solc))
        .map_err(|e| fail(format!("{}: {e}", root.display())))?;
    let output = project.compile().map_err(|e| fail(format!("{}: {e}", root.display())))?;
    let has_errors = output.has_compiler_errors();
    let aggregated = output.into_output();
    let errors: Vec<String> = aggregated
        .errors
        .iter()
        .filter(|e| e.severity == Severity::Error)
        .map(|e| e.formatted_message.clone().unwrap_or_else(|| e.message.clone()).trim_end().to_string())
        .collect();
    debug_assert_eq!(has_errors, !errors.is_empty());
    Ok(ProjectBuild {
        solc_version: version,
        sources: aggregated.sources.len(),
        contracts: aggregated.contracts.len(),
        warnings: aggregated.errors.iter().filter(|e| e.severity == Severity::Warning).count(),
        errors,
    })
}
