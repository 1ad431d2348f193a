//! # solidml-spec
//!
//! The arithmetic contract every SolidML executor obeys, as code: the integer primitives
//! ([`arith`]), IO quantization ([`io`]), the quantized operator set ([`model`]) and the
//! canonical artifact ([`artifact`]). The prose version with every formula is
//! `docs/spec.md`; the test vectors that every executor replays are in `docs/spec/vectors/`.

pub mod arith;
pub mod artifact;
pub mod io;
pub mod model;
pub mod validate;

pub use artifact::{ModelId, decode, encode, keccak256, model_id};
pub use model::*;

/// Everything that can be wrong with an artifact or a model.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SpecError {
    #[error("not a SolidML artifact (missing the `SOLIDML\\0` magic)")]
    BadMagic,
    #[error("artifact format version {found} is not supported (this build reads version {supported})")]
    UnsupportedVersion { found: u16, supported: u16 },
    #[error("artifact of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge { len: usize, max: usize },
    #[error("artifact is truncated or malformed: {0}")]
    Decode(String),
    #[error("artifact has {0} trailing bytes after the model")]
    TrailingBytes(usize),
    #[error("artifact is not in canonical encoding")]
    NotCanonical,
    #[error("could not encode the model: {0}")]
    Encode(String),
    #[error("invalid model: node {node} ({op}): {reason}")]
    InvalidNode { node: String, op: &'static str, reason: String },
    #[error("invalid model: {0}")]
    Invalid(String),
}
