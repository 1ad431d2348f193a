//! The canonical model artifact and its identity.
//!
//! Layout: the 8-byte magic `SOLIDML\0`, a little-endian `u16` format version, then the
//! [`Model`] in `postcard` encoding (varints, length-prefixed sequences, fields in declaration
//! order: one byte string per model). An artifact is accepted only when re-encoding the decoded
//! model gives back the same bytes, so every model has exactly one artifact and
//! `modelId = keccak256(artifact)` names it.
//!
//! Decoding validates the whole program ([`crate::validate`]): an accepted artifact cannot make
//! an executor index out of bounds or loop without end.

use tiny_keccak::{Hasher, Keccak};

use crate::{Model, SpecError, validate::validate};

/// First bytes of every artifact.
pub const MAGIC: &[u8; 8] = b"SOLIDML\0";
/// Format version written by this crate.
pub const FORMAT_VERSION: u16 = 1;
/// Largest artifact accepted (bytes).
pub const MAX_ARTIFACT_BYTES: usize = 256 << 20;

/// `keccak256` of the artifact bytes.
pub type ModelId = [u8; 32];

/// Ethereum's Keccak-256 of `bytes` (original Keccak padding, not SHA3-256): the hash behind
/// the modelId (spec §Artifact format).
pub fn keccak256(bytes: &[u8]) -> [u8; 32] {
    let mut k = Keccak::v256();
    k.update(bytes);
    let mut out = [0u8; 32];
    k.finalize(&mut out);
    out
}

/// Serialize a model to its canonical artifact bytes (the model is validated first).
pub fn encode(model: &Model) -> Result<Vec<u8>, SpecError> {
    validate(model)?;
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    let body = postcard::to_stdvec(model).map_err(|e| SpecError::Encode(e.to_string()))?;
    out.extend_from_slice(&body);
    if out.len() > MAX_ARTIFACT_BYTES {
        return Err(SpecError::TooLarge { len: out.len(), max: MAX_ARTIFACT_BYTES });
    }
    Ok(out)
}

/// Parse and validate an artifact.
pub fn decode(bytes: &[u8]) -> Result<Model, SpecError> {
    if bytes.len() > MAX_ARTIFACT_BYTES {
        return Err(SpecError::TooLarge { len: bytes.len(), max: MAX_ARTIFACT_BYTES });
    }
    if bytes.len() < 10 || &bytes[..8] != MAGIC {
        return Err(SpecError::BadMagic);
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if version != FORMAT_VERSION {
        return Err(SpecError::UnsupportedVersion { found: version, supported: FORMAT_VERSION });
    }
    let (model, rest): (Model, &[u8]) = postcard::take_from_bytes(&bytes[10..]).map_err(|e| SpecError::Decode(e.to_string()))?;
    if !rest.is_empty() {
        return Err(SpecError::TrailingBytes(rest.len()));
    }
    validate(&model)?;
    let again = postcard::to_stdvec(&model).map_err(|e| SpecError::Encode(e.to_string()))?;
    if again != bytes[10..] {
        return Err(SpecError::NotCanonical);
    }
    Ok(model)
}

/// The model's identity: `keccak256` of its canonical artifact.
pub fn model_id(model: &Model) -> Result<ModelId, SpecError> {
    Ok(keccak256(&encode(model)?))
}
