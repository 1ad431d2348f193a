//! The canonical model artifact and its identity.
//!
//! Layout: the 8-byte magic `SOLIDML\0`, a little-endian `u16` format version, then the
//! [`Model`] in `postcard` encoding (varints, length-prefixed sequences, fields in declaration
//! order: one byte string per model). Version 1 is that alone; version 2 appends the model's
//! per-axis input quantization ([`crate::InputQuant`], a postcard sequence, never empty), and
//! is written exactly when the model has some, so models without keep their version-1 bytes. An artifact is accepted only when re-encoding the decoded
//! model gives back the same bytes, so every model has exactly one artifact and
//! `modelId = keccak256(artifact)` names it.
//!
//! Decoding validates the whole program ([`crate::validate`]): an accepted artifact cannot make
//! an executor index out of bounds or loop without end.

use tiny_keccak::{Hasher, Keccak};

use crate::{Model, SpecError, validate::validate};

/// First bytes of every artifact.
pub const MAGIC: &[u8; 8] = b"SOLIDML\0";
/// Format version of a model without per-axis input quantization.
pub const FORMAT_VERSION: u16 = 1;
/// Format version of a model with per-axis input quantization (the body is followed by
/// [`crate::Model::input_quant`]).
pub const FORMAT_VERSION_INPUT_QUANT: u16 = 2;
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
    let out = encode_unchecked(model)?;
    if out.len() > MAX_ARTIFACT_BYTES {
        return Err(SpecError::TooLarge { len: out.len(), max: MAX_ARTIFACT_BYTES });
    }
    Ok(out)
}

/// The artifact bytes of `model`, without validation: the version, the body and (version 2)
/// the input quantization.
fn encode_unchecked(model: &Model) -> Result<Vec<u8>, SpecError> {
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(MAGIC);
    let version = if model.input_quant.is_empty() { FORMAT_VERSION } else { FORMAT_VERSION_INPUT_QUANT };
    out.extend_from_slice(&version.to_le_bytes());
    let body = postcard::to_stdvec(model).map_err(|e| SpecError::Encode(e.to_string()))?;
    out.extend_from_slice(&body);
    if !model.input_quant.is_empty() {
        let tail = postcard::to_stdvec(&model.input_quant).map_err(|e| SpecError::Encode(e.to_string()))?;
        out.extend_from_slice(&tail);
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
    if version != FORMAT_VERSION && version != FORMAT_VERSION_INPUT_QUANT {
        return Err(SpecError::UnsupportedVersion { found: version, supported: FORMAT_VERSION_INPUT_QUANT });
    }
    let (mut model, mut rest): (Model, &[u8]) = postcard::take_from_bytes(&bytes[10..]).map_err(|e| SpecError::Decode(e.to_string()))?;
    if version == FORMAT_VERSION_INPUT_QUANT {
        (model.input_quant, rest) = postcard::take_from_bytes(rest).map_err(|e| SpecError::Decode(e.to_string()))?;
    }
    if !rest.is_empty() {
        return Err(SpecError::TrailingBytes(rest.len()));
    }
    validate(&model)?;
    // version 2 with an empty list re-encodes as version 1: not canonical
    if encode_unchecked(&model)? != bytes {
        return Err(SpecError::NotCanonical);
    }
    Ok(model)
}

/// The model's identity: `keccak256` of its canonical artifact.
pub fn model_id(model: &Model) -> Result<ModelId, SpecError> {
    Ok(keccak256(&encode(model)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dense, Epilogue, InputQuant, Quant, arith::Multiplier};

    fn dense_model() -> Model {
        let dense = Dense {
            in_features: 3,
            out_features: 1,
            input_zero_point: 0,
            weights: vec![1, 2, 3],
            bias: vec![0],
            epilogue: Epilogue {
                multipliers: vec![Multiplier { multiplier: 1 << 30, shift: -1 }],
                output_zero_point: 0,
                clamp_min: -128,
                clamp_max: 127,
            },
        };
        let q = Quant { scale: 0.5, zero_point: 0 };
        Model::single_dense("m", 1, dense, q, q)
    }

    #[test]
    fn per_axis_input_quantization_is_version_2_and_round_trips() {
        let plain = dense_model();
        let v1 = encode(&plain).unwrap();
        assert_eq!(&v1[8..10], &[1, 0]);
        let mut per_axis = plain.clone();
        let params =
            vec![Quant { scale: 0.25, zero_point: -3 }, Quant { scale: 8.0, zero_point: 1 << 24 }, Quant { scale: 1e-3, zero_point: 0 }];
        per_axis.input_quant = vec![InputQuant { input: 0, axis: 1, params }];
        let v2 = encode(&per_axis).unwrap();
        assert_eq!(&v2[8..10], &[2, 0]);
        // the same body, then the list
        assert_eq!(&v2[10..v1.len()], &v1[10..]);
        assert_eq!(decode(&v2).unwrap(), per_axis);
        assert_eq!(decode(&v1).unwrap(), plain);
        assert_ne!(keccak256(&v1), keccak256(&v2));
        // element 2 of the [1, 3] input is index 2 of axis 1
        let quant = per_axis.input_element_quant(0);
        assert_eq!(quant(2), Some(per_axis.input_quant[0].params[2]));
        assert_eq!(plain.input_element_quant(0)(2), Some(Quant { scale: 0.5, zero_point: 0 }));
        // a version-1 artifact with the list appended has trailing bytes
        let mut tail = v1.clone();
        tail.extend_from_slice(&v2[v1.len()..]);
        assert!(matches!(decode(&tail), Err(SpecError::TrailingBytes(_))));
    }
}
