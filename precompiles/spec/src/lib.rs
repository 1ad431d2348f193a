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
pub mod op_table;
pub mod validate;
pub mod work;

pub use artifact::{ModelId, decode, encode, keccak256, model_id};
pub use model::*;

/// Everything that can be wrong with an artifact or a model.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SpecError {
    /// The bytes are shorter than 10 or do not start with [`artifact::MAGIC`].
    #[error("not a SolidML artifact (missing the `SOLIDML\\0` magic)")]
    BadMagic,
    #[error("artifact format version {found} is not supported (this build reads versions 1 to {supported})")]
    /// The `u16` after the magic is neither [`artifact::FORMAT_VERSION`] nor
    /// [`artifact::FORMAT_VERSION_INPUT_QUANT`].
    UnsupportedVersion {
        /// Version read from the artifact.
        found: u16,
        /// The newest version this build reads ([`artifact::FORMAT_VERSION_INPUT_QUANT`]).
        supported: u16,
    },
    #[error("artifact of {len} bytes exceeds the limit of {max} bytes")]
    /// The artifact (read or about to be written) exceeds [`artifact::MAX_ARTIFACT_BYTES`].
    TooLarge {
        /// Size of the artifact, in bytes.
        len: usize,
        /// The limit, [`artifact::MAX_ARTIFACT_BYTES`].
        max: usize,
    },
    #[error("artifact is truncated or malformed: {0}")]
    /// postcard could not decode a [`Model`] after the header; holds postcard's message.
    Decode(String),
    #[error("artifact has {0} trailing bytes after the model")]
    /// Bytes left after the postcard-encoded model; holds their count.
    TrailingBytes(usize),
    #[error("artifact is not in canonical encoding")]
    /// Re-encoding the decoded model does not give back the artifact's bytes (e.g. an
    /// over-long varint): every model has exactly one artifact (spec §Artifact format).
    NotCanonical,
    #[error("could not encode the model: {0}")]
    /// postcard failed to serialize the model; holds its message.
    Encode(String),
    #[error("invalid model: node {node} ({op}): {reason}")]
    /// A node breaks a per-op rule of spec §Validation rules, or the definition order.
    InvalidNode {
        /// The rule broken: [`validate::Rule::Op`] or [`validate::Rule::Order`].
        rule: validate::Rule,
        /// [`Node::name`] of the offending node.
        node: String,
        /// Its operator, as [`Op::kind`] names it.
        op: &'static str,
        /// The rule broken, in words.
        reason: String,
    },
    #[error("invalid model: {reason}")]
    /// A model-level rule of spec §Validation rules is broken (tensors, constants, ids,
    /// outputs).
    Invalid {
        /// The rule broken.
        rule: validate::Rule,
        /// The rule broken, in words.
        reason: String,
    },
}

impl SpecError {
    /// The rule of spec §Artifact format / §Validation rules that rejected the artifact or
    /// model; `None` for [`SpecError::Encode`] (a serializer failure, not a rule).
    pub fn rule(&self) -> Option<validate::Rule> {
        use validate::Rule;
        Some(match self {
            SpecError::BadMagic => Rule::ArtifactMagic,
            SpecError::UnsupportedVersion { .. } => Rule::ArtifactVersion,
            SpecError::TooLarge { .. } => Rule::ArtifactSize,
            SpecError::Decode(_) | SpecError::TrailingBytes(_) => Rule::ArtifactDecode,
            SpecError::NotCanonical => Rule::ArtifactCanonical,
            SpecError::Encode(_) => return None,
            SpecError::InvalidNode { rule, .. } | SpecError::Invalid { rule, .. } => *rule,
        })
    }
}
