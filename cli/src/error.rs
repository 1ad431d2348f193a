//! The CLI's errors, as miette diagnostics.

use std::path::Path;

use miette::Diagnostic;
use solidml_compiler::CompileError;

#[derive(Debug, thiserror::Error, Diagnostic)]
pub(crate) enum CliError {
    #[error("{0}")]
    #[diagnostic(code(solidml::unsupported), help("see the supported operators in docs/operators.md"))]
    Unsupported(String),
    #[error(transparent)]
    #[diagnostic(code(solidml::compile))]
    Compile(CompileError),
    #[error("cannot read or write `{path}`: {reason}")]
    #[diagnostic(code(solidml::io))]
    Io { path: String, reason: String },
    #[error("`{path}` is not usable data: {reason}")]
    #[diagnostic(code(solidml::data), help("inputs are .npy files (float32/float64/int) or JSON arrays, samples along the first axis"))]
    Data { path: String, reason: String },
    // the reason is the error's source: miette prints it once, under the message
    #[error("`{path}` is not a valid SolidML artifact")]
    #[diagnostic(code(solidml::artifact), help("artifacts are written by `solidml compile` (NAME.smodel)"))]
    Artifact { path: String, source: solidml_spec::SpecError },
    #[error("precompile error (code {code}, {gas} gas charged): {message}")]
    #[diagnostic(code(solidml::precompile), help("the input is `modelId (32 bytes) ++ packed inputs` in hex; see docs/precompile.md"))]
    Precompile { code: u8, gas: u64, message: String },
    #[error("{0}")]
    #[diagnostic(code(solidml::usage))]
    Usage(String),
    #[error(transparent)]
    #[diagnostic(code(solidml::store), help("a model store is an existing directory of <modelId>.smodel files (`0x` prefix optional)"))]
    Store(#[from] solidml_precompile::StoreError),
    #[error(transparent)]
    #[diagnostic(code(solidml::solidity))]
    Solidity(#[from] solidml_solidity::SolidityError),
    #[error("{0}")]
    #[diagnostic(code(solidml::verify), help("see docs/verification.md"))]
    Verify(String),
    #[error(transparent)]
    #[diagnostic(code(solidml::devnode))]
    Devnode(solidml_devnode::DevnodeError),
}

impl From<CompileError> for CliError {
    fn from(e: CompileError) -> Self {
        match e {
            CompileError::Unsupported(_) => CliError::Unsupported(e.to_string()),
            other => CliError::Compile(other),
        }
    }
}

impl CliError {
    pub(crate) fn io(path: &Path, e: std::io::Error) -> Self {
        CliError::Io { path: path.display().to_string(), reason: e.to_string() }
    }
    pub(crate) fn data(path: &Path, reason: impl std::fmt::Display) -> Self {
        CliError::Data { path: path.display().to_string(), reason: reason.to_string() }
    }
}
