//! `solidml-forge`: SolidML inside a foundry project.
//!
//! Foundry has no plugin system: its extensions are binaries and Solidity libraries. This crate
//! holds the parts of `solidml init` and `solidml check` that do not compile models (the CLI
//! does that): the `solidml.toml` schema with errors that point into the file ([`config`]),
//! the generated `SolidMLModels.sol` that `SolidMLTest` routes by ([`models_sol`]), the files
//! `init` lays out ([`project`]), `check`'s figures, snapshot and reports ([`check`]), the
//! project's own compilation by forge ([`compile`]) and the reading of its
//! Solidity with solang-parser ([`lint`]).

pub mod check;
pub mod compile;
pub mod config;
pub mod lint;
pub mod models_sol;
pub mod project;

pub use config::{Config, ModelConfig};

/// What can go wrong in the foundry integration; each variant says where.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ForgeError {
    /// `solidml.toml` is malformed or names something that is not there: the report shows the
    /// file with the offending span labelled (boxed: the source text makes it large).
    #[error(transparent)]
    #[diagnostic(transparent)]
    Config(Box<ConfigError>),
    /// A file could not be read or written.
    // the cause is part of the message, not a `source`: miette would print it twice
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        error: std::io::Error,
    },
    /// A snapshot file is not what `solidml check --update` writes.
    #[error("snapshot {path}: {message}")]
    Snapshot {
        /// The snapshot file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// A configuration error pointing into `solidml.toml`.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{path}: {message}")]
#[diagnostic(code(solidml::config))]
pub struct ConfigError {
    /// The configuration file.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// The file's text, for the report.
    #[source_code]
    pub source_code: miette::NamedSource<String>,
    /// Where in the file.
    #[label("{label}")]
    pub span: miette::SourceSpan,
    /// The label at the span.
    pub label: String,
}

impl ForgeError {
    /// An I/O error on `path`.
    pub fn io(path: &std::path::Path, error: std::io::Error) -> ForgeError {
        ForgeError::Io { path: path.display().to_string(), error }
    }
}
