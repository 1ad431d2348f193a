//! The precompile's calling convention.
//!
//! **Address.** [`SOLIDML_PRECOMPILE`] = `0x000000000000000000000000000000000000501D`: outside
//! Ethereum's precompile range (`0x01`–`0x11`, `0x100`), away from other chains' ML
//! precompiles (Ritual `0x0800`–`0x0802`, Neural `0x44`) and from OpenGradient's `0xF4`, which
//! is served as a compatibility entry ([`OPENGRADIENT_PRECOMPILE`], see
//! [`crate::opengradient`]). `stdlib-sol/src/SolidML.sol` states the same constant.
//!
//! **Input.** `modelId (32 bytes) ++ inputs`, no ABI encoding: the model's inputs in their
//! declared order, each as its packed elements in row-major order: int8 tensors one byte per
//! element (two's complement); int16, int32 and int64 tensors 2, 4 and 8 bytes per element,
//! big-endian two's complement.
//!
//! **Output.** The model's outputs in their declared order, packed the same way. There is no
//! header: the sizes follow from the model (`MODEL_ID`'s NatSpec and `solidml inspect` list them).
//!
//! **Errors** revert (the caller keeps its unspent gas) with the ABI encoding of
//! `error SolidMLError(uint8 code, string message)` (selector `0x…`, see [`ERROR_SELECTOR`]);
//! the codes are [`ErrorCode`]. Running out of gas is a halt, as for every precompile.

use solidml_exec::Value;
use solidml_spec::{DType, Model};

use crate::PrecompileError;

/// The SolidML precompile's address.
pub const SOLIDML_PRECOMPILE: [u8; 20] = address_from_u16(0x501D);
/// OpenGradient's `OGInference` address, served by [`crate::opengradient`].
pub const OPENGRADIENT_PRECOMPILE: [u8; 20] = address_from_u16(0x00F4);
/// Largest call input accepted (bytes); longer inputs fail before any decoding.
pub const MAX_INPUT_BYTES: usize = 16 << 20;

const fn address_from_u16(v: u16) -> [u8; 20] {
    let mut a = [0u8; 20];
    a[18] = (v >> 8) as u8;
    a[19] = v as u8;
    a
}

/// Error codes carried in `SolidMLError(uint8 code, string message)`.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// Input shorter than the 32-byte modelId.
    MissingModelId = 1,
    /// The store has no model with that id.
    UnknownModel = 2,
    /// Packed inputs of the wrong length (the message states the layout expected).
    InputLength = 3,
    /// Call input over [`MAX_INPUT_BYTES`] (16 MiB).
    InputTooLarge = 4,
    /// The model's work exceeds [`crate::gas::MAX_WORK`] (2^40 units).
    ModelTooLarge = 5,
    /// A run-time error of the model (e.g. a Gather index out of range).
    Execution = 6,
    /// The store failed (I/O, or a file whose hash does not match its name).
    Store = 7,
    /// Malformed ABI input (OpenGradient entry).
    Abi = 8,
    /// OpenGradient: mode ZK/TEE, a modelCID that is not a modelId, string tensors.
    Unsupported = 9,
    /// The gas limit is below the price (reported by `solidml precompile`; on chain a halt).
    OutOfGas = 10,
    /// The model is private in the model registry and the caller is not allowed.
    ModelNotAllowed = 11,
}

impl PrecompileError {
    /// The [`ErrorCode`] this error reverts with (docs/precompile.md's table).
    pub fn code(&self) -> ErrorCode {
        match self {
            PrecompileError::MissingModelId { .. } => ErrorCode::MissingModelId,
            PrecompileError::UnknownModel(_) => ErrorCode::UnknownModel,
            PrecompileError::InputLength { .. } => ErrorCode::InputLength,
            PrecompileError::InputTooLarge { .. } => ErrorCode::InputTooLarge,
            PrecompileError::ModelTooLarge { .. } => ErrorCode::ModelTooLarge,
            PrecompileError::Execution(_) => ErrorCode::Execution,
            PrecompileError::Store(_) => ErrorCode::Store,
            PrecompileError::Abi(_) => ErrorCode::Abi,
            PrecompileError::Unsupported(_) => ErrorCode::Unsupported,
            PrecompileError::OutOfGas { .. } => ErrorCode::OutOfGas,
            PrecompileError::NotAllowed { .. } => ErrorCode::ModelNotAllowed,
        }
    }
}

alloy_sol_types::sol! {
    /// The revert data of every failed SolidML precompile call.
    error SolidMLError(uint8 code, string message);
}

/// The 4-byte selector of `SolidMLError(uint8,string)`.
pub const ERROR_SELECTOR: [u8; 4] = <SolidMLError as alloy_sol_types::SolError>::SELECTOR;

/// ABI-encode an error as `SolidMLError(code, message)` revert data.
pub fn encode_error(e: &PrecompileError) -> Vec<u8> {
    use alloy_sol_types::SolError;
    SolidMLError { code: e.code() as u8, message: e.to_string() }.abi_encode()
}

/// Decode revert data written by [`encode_error`]: `(code, message)`.
pub fn decode_error(data: &[u8]) -> Option<(u8, String)> {
    use alloy_sol_types::SolError;
    SolidMLError::abi_decode(data).ok().map(|e| (e.code, e.message))
}

/// Split the call input into the model id and the packed inputs.
pub fn split_input(input: &[u8]) -> Result<([u8; 32], &[u8]), PrecompileError> {
    if input.len() > MAX_INPUT_BYTES {
        return Err(PrecompileError::InputTooLarge { len: input.len(), max: MAX_INPUT_BYTES });
    }
    if input.len() < 32 {
        return Err(PrecompileError::MissingModelId { len: input.len() });
    }
    let mut id = [0u8; 32];
    id.copy_from_slice(&input[..32]);
    Ok((id, &input[32..]))
}

fn dtype_width(d: DType) -> usize {
    d.packed_bytes()
}

/// Bytes of the packed inputs a model takes.
pub fn input_bytes(model: &Model) -> usize {
    model.inputs.iter().map(|&i| model.tensor(i).len() * dtype_width(model.tensor(i).dtype)).sum()
}

/// Bytes of the packed outputs a model returns.
pub fn output_bytes(model: &Model) -> usize {
    model.outputs.iter().map(|&o| model.tensor(o).len() * dtype_width(model.tensor(o).dtype)).sum()
}

/// A readable statement of the input layout, for error messages: `x: int8[1×64]`.
pub fn input_layout(model: &Model) -> String {
    model
        .inputs
        .iter()
        .map(|&i| {
            let t = model.tensor(i);
            let dims: Vec<String> = t.shape.iter().map(|d| d.to_string()).collect();
            let dtype = match t.dtype {
                DType::I8 => "int8",
                DType::I16 => "int16 big-endian",
                DType::I32 => "int32 big-endian",
                DType::I64 => "int64 big-endian",
            };
            format!("{}: {dtype}[{}]", t.name, dims.join("×"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Unpack the packed inputs into executor values, checking the length.
pub fn unpack_inputs(model: &Model, model_id: [u8; 32], data: &[u8]) -> Result<Vec<Value>, PrecompileError> {
    let expected = input_bytes(model);
    if data.len() != expected {
        return Err(PrecompileError::InputLength { model_id, expected, got: data.len(), layout: input_layout(model) });
    }
    let mut rest = data;
    let mut values = Vec::with_capacity(model.inputs.len());
    for &i in &model.inputs {
        let t = model.tensor(i);
        let (head, tail) = rest.split_at(t.len() * dtype_width(t.dtype));
        values.push(match t.dtype {
            DType::I8 => Value::I8(head.iter().map(|&b| b as i8).collect()),
            DType::I16 => Value::I16(head.chunks_exact(2).map(|c| i16::from_be_bytes([c[0], c[1]])).collect()),
            DType::I32 => Value::I32(head.chunks_exact(4).map(|c| i32::from_be_bytes(c.try_into().expect("4 bytes"))).collect()),
            DType::I64 => Value::I64(head.chunks_exact(8).map(|c| i64::from_be_bytes(c.try_into().expect("8 bytes"))).collect()),
        });
        rest = tail;
    }
    Ok(values)
}

/// Pack output values: int8 as bytes, int16, int32 and int64 as 2, 4 and 8 bytes big-endian,
/// concatenated.
pub fn pack_values(values: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in values {
        match v {
            Value::I8(x) => out.extend(x.iter().map(|&b| b as u8)),
            Value::I16(x) => x.iter().for_each(|e| out.extend_from_slice(&e.to_be_bytes())),
            Value::I32(x) => x.iter().for_each(|e| out.extend_from_slice(&e.to_be_bytes())),
            Value::I64(x) => x.iter().for_each(|e| out.extend_from_slice(&e.to_be_bytes())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_the_documented_ones() {
        assert_eq!(hex::encode(SOLIDML_PRECOMPILE), "000000000000000000000000000000000000501d");
        assert_eq!(hex::encode(OPENGRADIENT_PRECOMPILE), "00000000000000000000000000000000000000f4");
    }

    #[test]
    fn errors_round_trip_through_revert_data() {
        let e = PrecompileError::MissingModelId { len: 3 };
        let data = encode_error(&e);
        assert_eq!(&data[..4], &ERROR_SELECTOR);
        assert_eq!(decode_error(&data), Some((1, "input of 3 bytes is shorter than the 32-byte modelId".into())));
        assert_eq!(decode_error(&data[..10]), None);
    }

    #[test]
    fn split_input_checks_length() {
        assert_eq!(split_input(&[0; 31]), Err(PrecompileError::MissingModelId { len: 31 }));
        let (id, rest) = split_input(&[7; 40]).unwrap();
        assert_eq!((id, rest.len()), ([7; 32], 8));
        let big = vec![0; MAX_INPUT_BYTES + 1];
        assert!(matches!(split_input(&big), Err(PrecompileError::InputTooLarge { .. })));
    }

    #[test]
    fn pack_values_int64_big_endian() {
        let packed = pack_values(&[Value::I8(vec![-1, 2]), Value::I64(vec![-2])]);
        assert_eq!(packed, vec![0xff, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]);
    }
}
