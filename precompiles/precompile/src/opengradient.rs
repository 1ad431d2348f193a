//! The OpenGradient-compatible entry: contracts written for OpenGradient's `OGInference`
//! (address `0x…F4`, `runModelInference(ModelInferenceRequest) returns (ModelOutput)`, selector
//! `0x7289e9c2`) run unchanged against SolidML models.
//!
//! * `modelCID` is a SolidML modelId as `0x` + 64 hex digits (registry names are not served by
//!   this entry).
//! * `mode` must be `VANILLA`: `ZK` and `TEE` revert with an error saying so.
//! * Inputs: one `MultiDimensionalNumberTensor` per model input, matched by name (a model with
//!   one input takes one tensor under any name); its `shape` must have as many elements as the
//!   model input and `values.length` must equal that count. String tensors are refused.
//! * A `Number { value, decimals }` is the real `value · 10^-decimals` (`|decimals| ≤ 38`); it
//!   becomes int8 by the spec's quantization `clamp(zp + round_half_even(x / scale))`, computed
//!   exactly in 512-bit integers ([`quantize_number`]), with the element's per-axis input
//!   quantization where the model has one (`Model::input_element_quant`). For int64 model
//!   inputs the number must be an integer.
//! * Outputs: one number tensor per model output, named and shaped as in the model; int8
//!   outputs as `Number { dequantize_fixed18(q), 18 }` (18 decimals, rounded half to even,
//!   exactly what the generated contract's `predict` returns), int64 outputs with 0 decimals.
//!   `strings` and `jsons` are empty; `is_simulation_result` is `false`.
//! * Gas: the SolidML schedule with the ABI bytes as the bytes moved: `base + per_byte ·
//!   (calldata bytes + 64 · output elements) + ⌈work / work_per_gas⌉`; failures before running
//!   cost `base + per_byte · calldata bytes`. Errors revert with `SolidMLError(code, message)`.

use alloy_primitives::U512;
use alloy_sol_types::{SolCall, SolValue, sol};
use solidml_exec::Value;
use solidml_spec::{DType, io::dequantize_fixed18, io::scale_parts};

use crate::{
    PrecompileError, SolidMlPrecompile,
    precompile::{Outcome, Status},
};

sol! {
    /// OpenGradient's inference modes.
    enum ModelInferenceMode {
        /// Plain execution: the only mode SolidML serves (results are exact and re-checkable).
        VANILLA,
        /// Zero-knowledge proof of inference: refused with `Unsupported` (code 9).
        ZK,
        /// Execution in a trusted enclave: refused with `Unsupported` (code 9).
        TEE
    }
    /// `value · 10^-decimals`.
    struct Number { int128 value; int128 decimals; }
    struct MultiDimensionalNumberTensor { string name; Number[] values; uint32[] shape; }
    struct StringTensor { string name; string[] values; }
    struct JsonScalar { string name; string value; }
    struct ModelInput { MultiDimensionalNumberTensor[] numbers; StringTensor[] strings; }
    struct ModelInferenceRequest { ModelInferenceMode mode; string modelCID; ModelInput input; }
    struct ModelOutput { MultiDimensionalNumberTensor[] numbers; StringTensor[] strings; JsonScalar[] jsons; bool is_simulation_result; }
    function runModelInference(ModelInferenceRequest request) returns (ModelOutput);
}

/// ABI bytes charged per output element (one `Number` is two words).
pub const OUTPUT_BYTES_PER_ELEMENT: usize = 64;

/// The exact quotient `num / den` rounded half to even (`den > 0`).
fn div_round_half_even(num: U512, den: U512) -> U512 {
    let (q, r) = num.div_rem(den);
    let twice = r << 1;
    if twice > den || (twice == den && q.bit(0)) { q + U512::from(1u8) } else { q }
}

/// `value · 10^-decimals` as `(|numerator|, denominator, negative)`.
fn number_parts(n: &Number) -> Result<(U512, U512, bool), String> {
    if n.decimals.unsigned_abs() > 38 {
        return Err(format!("Number decimals {} out of range -38..=38", n.decimals));
    }
    let p = U512::from(10u8).pow(U512::from(n.decimals.unsigned_abs()));
    let a = U512::from(n.value.unsigned_abs());
    Ok(if n.decimals >= 0 { (a, p, n.value < 0) } else { (a * p, U512::from(1u8), n.value < 0) })
}

/// Quantize a `Number` to int8: `clamp(zp + round_half_even(value·10^-decimals / scale))`, exact.
pub fn quantize_number(n: &Number, scale: f32, zero_point: i32) -> Result<i8, String> {
    quantize_number_in(n, scale, zero_point, (-128, 127)).map(|q| q as i8)
}

/// [`quantize_number`] to the code range `(lo, hi)` of the input's type (int16 inputs of the
/// wide precisions).
pub fn quantize_number_in(n: &Number, scale: f32, zero_point: i32, (lo, hi): (i64, i64)) -> Result<i64, String> {
    let (mut num, mut den, neg) = number_parts(n)?;
    let (m, e) = scale_parts(scale);
    den *= U512::from(m as u64);
    if e >= 0 {
        den <<= e as usize;
    } else {
        num <<= (-e) as usize;
    }
    let q = div_round_half_even(num, den);
    // |zp| ≤ 2^24 (a per-axis input parameter; 128 otherwise): a quotient of 2^25 or more
    // saturates whatever the zero point
    let q = if q > U512::from(1u64 << 25) { 1 << 25 } else { q.to::<u64>() as i64 };
    Ok((zero_point as i64 + if neg { -q } else { q }).clamp(lo, hi))
}

/// An integer `Number` (for int64 model inputs), or an error if it has a fractional part.
pub fn integer_number(n: &Number) -> Result<i64, String> {
    let (num, den, neg) = number_parts(n)?;
    let (q, r) = num.div_rem(den);
    if !r.is_zero() || q > U512::from(i64::MAX as u64) {
        return Err(format!("Number {}e-{} is not an int64", n.value, n.decimals));
    }
    let v = q.to::<u64>() as i64;
    Ok(if neg { -v } else { v })
}

fn unsupported(msg: impl Into<String>) -> PrecompileError {
    PrecompileError::Unsupported(msg.into())
}

/// Parse `modelCID` as a modelId.
pub fn parse_model_cid(cid: &str) -> Result<[u8; 32], PrecompileError> {
    let hex_part = cid.strip_prefix("0x").unwrap_or(cid);
    let bytes = hex::decode(hex_part)
        .ok()
        .filter(|b| b.len() == 32)
        .ok_or_else(|| unsupported(format!("modelCID `{cid}` is not a SolidML modelId (expected 0x followed by 64 hex digits)")))?;
    Ok(bytes.try_into().expect("32 bytes"))
}

/// The OpenGradient-compatible entry, sharing a [`SolidMlPrecompile`]'s store, backend and
/// schedule.
#[derive(Clone)]
pub struct OpenGradientEntry {
    inner: SolidMlPrecompile,
}

impl OpenGradientEntry {
    /// The entry serving `runModelInference` through `inner`'s store, backend and schedule.
    pub fn new(inner: SolidMlPrecompile) -> Self {
        OpenGradientEntry { inner }
    }

    /// The modelId a call asks for, if the call gets as far as reading it (its ABI decodes,
    /// its mode is VANILLA, its modelCID is a modelId): where the host checks access.
    pub fn requested_model(calldata: &[u8]) -> Option<[u8; 32]> {
        let request = runModelInferenceCall::abi_decode(calldata).ok()?.request;
        if !matches!(request.mode, ModelInferenceMode::VANILLA) {
            return None;
        }
        parse_model_cid(&request.modelCID).ok()
    }

    /// One `runModelInference` call (selector included in `calldata`).
    pub fn call(&self, calldata: &[u8], gas_limit: u64) -> Outcome {
        let schedule = self.inner.schedule();
        let early = schedule.early_failure(calldata.len());
        let fail = |gas: u64, e: PrecompileError| {
            if gas > gas_limit {
                Outcome { gas_used: gas_limit, status: Status::OutOfGas(e) }
            } else {
                Outcome { gas_used: gas, status: Status::Revert(e) }
            }
        };
        let request = match runModelInferenceCall::abi_decode(calldata) {
            Ok(c) => c.request,
            // the revert data reaches the chain, so the message is fixed (spec: docs/precompile.md
            // §Errors), not the ABI decoder's description of what it met
            Err(_) => return fail(early, PrecompileError::Abi("calldata is not a runModelInference(ModelInferenceRequest) call".into())),
        };
        match request.mode {
            ModelInferenceMode::VANILLA => {}
            ModelInferenceMode::ZK => {
                return fail(
                    early,
                    unsupported("inference mode ZK is not available on SolidML: use VANILLA (results are exact and re-checkable)"),
                );
            }
            ModelInferenceMode::TEE => {
                return fail(
                    early,
                    unsupported("inference mode TEE is not available on SolidML: use VANILLA (results are exact and re-checkable)"),
                );
            }
            _ => return fail(early, PrecompileError::Abi("unknown inference mode".into())),
        }
        let id = match parse_model_cid(&request.modelCID) {
            Ok(id) => id,
            Err(e) => return fail(early, e),
        };
        let model = match self.inner.lookup(&id, calldata.len()) {
            Ok(m) => m,
            Err((gas, e)) => return fail(gas, e),
        };
        if !request.input.strings.is_empty() {
            return fail(early, unsupported("string tensors are not supported: SolidML models take numbers only"));
        }
        let inputs = match convert_inputs(&model.model, &request.input) {
            Ok(v) => v,
            Err(e) => return fail(early, PrecompileError::Abi(e)),
        };
        let out_elements: usize = model.model.outputs.iter().map(|&o| model.model.tensor(o).len()).sum();
        let price = schedule.price(&model.work, calldata.len(), out_elements.saturating_mul(OUTPUT_BYTES_PER_ELEMENT));
        match self.inner.execute(&model, &inputs, price, gas_limit) {
            Ok(outputs) => Outcome { gas_used: price, status: Status::Success(encode_output(&model.model, &outputs).abi_encode()) },
            Err(outcome) => outcome,
        }
    }
}

/// Map the request's number tensors onto the model inputs.
fn convert_inputs(model: &solidml_spec::Model, input: &ModelInput) -> Result<Vec<Value>, String> {
    if input.numbers.len() != model.inputs.len() {
        return Err(format!("the model takes {} input tensor(s), the request has {}", model.inputs.len(), input.numbers.len()));
    }
    model
        .inputs
        .iter()
        .enumerate()
        .map(|(position, &i)| {
            let t = model.tensor(i);
            let tensor = if model.inputs.len() == 1 {
                &input.numbers[0]
            } else {
                input.numbers.iter().find(|n| n.name == t.name).ok_or_else(|| format!("no input tensor named `{}`", t.name))?
            };
            let count = tensor.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d as usize)).unwrap_or(usize::MAX);
            if count != t.len() || tensor.values.len() != t.len() {
                return Err(format!(
                    "input `{}` expects {} values (shape {:?}), got shape {:?} with {} values",
                    t.name,
                    t.len(),
                    t.shape,
                    tensor.shape,
                    tensor.values.len()
                ));
            }
            Ok(match (t.dtype, t.quant) {
                (dtype @ (DType::I8 | DType::I16 | DType::I32), Some(_)) => {
                    // per element: the tensor's quantization or its per-axis input quantization
                    let quant = model.input_element_quant(position);
                    let range = dtype.code_range().expect("a quantized type");
                    let codes = tensor
                        .values
                        .iter()
                        .enumerate()
                        .map(|(i, n)| quant(i).map_or(Ok(0), |q| quantize_number_in(n, q.scale, q.zero_point, range)))
                        .collect::<Result<Vec<_>, _>>()?;
                    Value::from_codes(dtype, codes)
                }
                _ => Value::I64(tensor.values.iter().map(integer_number).collect::<Result<_, _>>()?),
            })
        })
        .collect()
}

/// The model's outputs as OpenGradient number tensors.
fn encode_output(model: &solidml_spec::Model, outputs: &[Value]) -> ModelOutput {
    let numbers = model
        .outputs
        .iter()
        .zip(outputs)
        .map(|(&o, v)| {
            let t = model.tensor(o);
            let values = match (v, t.quant) {
                (Value::I64(x), _) => x.iter().map(|&e| Number { value: e as i128, decimals: 0 }).collect(),
                (codes, Some(q)) => (0..codes.len())
                    .filter_map(|i| codes.code(i))
                    .map(|e| Number { value: dequantize_fixed18(e, q.scale, q.zero_point), decimals: 18 })
                    .collect(),
                (codes, None) => (0..codes.len()).filter_map(|i| codes.code(i)).map(|e| Number { value: e as i128, decimals: 0 }).collect(),
            };
            MultiDimensionalNumberTensor { name: t.name.clone(), values, shape: t.shape.clone() }
        })
        .collect();
    ModelOutput { numbers, strings: vec![], jsons: vec![], is_simulation_result: false }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemoryStore, store::tests::tiny_artifact};
    use solidml_cpu::CpuBackend;
    use solidml_spec::{io::quantize_fixed18, keccak256};
    use std::sync::Arc;

    #[test]
    fn selector_is_opengradients() {
        assert_eq!(runModelInferenceCall::SELECTOR, [0x72, 0x89, 0xe9, 0xc2]);
    }

    #[test]
    fn number_quantization_is_exact_and_matches_fixed18() {
        // every 18-decimal value quantizes as the fixed-point formula does
        for (v, s, zp) in
            [(123_456_789_012_345_678i128, 0.05f32, 3), (-7_500_000_000_000_000, 0.1, 0), (2_500_000_000_000_000, 0.001, -128)]
        {
            assert_eq!(quantize_number(&Number { value: v, decimals: 18 }, s, zp).unwrap(), quantize_fixed18(v, s, zp));
        }
        // ties to even: 0.25 / 0.5 = 0.5 → 0, 0.75 / 0.5 = 1.5 → 2
        assert_eq!(quantize_number(&Number { value: 25, decimals: 2 }, 0.5, 0).unwrap(), 0);
        assert_eq!(quantize_number(&Number { value: 75, decimals: 2 }, 0.5, 0).unwrap(), 2);
        // negative decimals and saturation
        assert_eq!(quantize_number(&Number { value: 3, decimals: -2 }, 1.0, 0).unwrap(), 127);
        assert_eq!(quantize_number(&Number { value: i128::MIN, decimals: 0 }, 1e-30, 0).unwrap(), -128);
        // per-axis input zero points reach ±2^24: the quotient is not capped below that
        // (execspec found a cap at 1,000 applied before the zero point)
        assert_eq!(quantize_number(&Number { value: 7, decimals: -9 }, 1e-3, -(1 << 24)).unwrap(), 127);
        assert_eq!(quantize_number(&Number { value: -7, decimals: -9 }, 1e-3, 1 << 24).unwrap(), -128);
        assert_eq!(quantize_number(&Number { value: 16_777_200, decimals: 0 }, 1.0, -(1 << 24)).unwrap(), -16);
        assert!(quantize_number(&Number { value: 1, decimals: 39 }, 1.0, 0).is_err());
        assert_eq!(integer_number(&Number { value: 500, decimals: 2 }), Ok(5));
        assert!(integer_number(&Number { value: 501, decimals: 2 }).is_err());
    }

    fn request(mode: ModelInferenceMode, cid: String, values: Vec<Number>) -> Vec<u8> {
        let input = ModelInput {
            numbers: vec![MultiDimensionalNumberTensor { name: "anything".into(), shape: vec![1, values.len() as u32], values }],
            strings: vec![],
        };
        runModelInferenceCall { request: ModelInferenceRequest { mode, modelCID: cid, input } }.abi_encode()
    }

    #[test]
    fn a_request_runs_the_model_and_answers_numbers() {
        let bytes = tiny_artifact();
        let id = keccak256(&bytes);
        let p = SolidMlPrecompile::new(Arc::new(CpuBackend)).with_store(Arc::new(MemoryStore::new().with_artifact(&bytes).unwrap()));
        let og = OpenGradientEntry::new(p.clone());
        let values: Vec<Number> =
            [0.1, -0.2, 0.35, 1.0].iter().map(|&x: &f64| Number { value: (x * 100.0).round() as i128, decimals: 2 }).collect();
        let out = og.call(&request(ModelInferenceMode::VANILLA, format!("0x{}", hex::encode(id)), values.clone()), 1_000_000);
        let Status::Success(data) = &out.status else { panic!("{:?}", out.status) };
        let decoded = ModelOutput::abi_decode(data).unwrap();
        assert!(!decoded.is_simulation_result);
        assert_eq!(decoded.numbers[0].name, "y");
        // same as the raw precompile on the quantized inputs
        let mut raw = id.to_vec();
        raw.extend(values.iter().map(|n| quantize_number(n, 0.05, 1).unwrap() as u8));
        let Status::Success(q) = p.call(&raw, 1_000_000).status else { panic!() };
        let want: Vec<i128> = q.iter().map(|&b| dequantize_fixed18(b as i8 as i32, 0.05, 1)).collect();
        assert_eq!(decoded.numbers[0].values.iter().map(|n| n.value).collect::<Vec<_>>(), want);
        assert!(decoded.numbers[0].values.iter().all(|n| n.decimals == 18));
        // modes and ids
        let zk = og.call(&request(ModelInferenceMode::ZK, format!("0x{}", hex::encode(id)), values.clone()), 1_000_000);
        assert!(zk.error().unwrap().to_string().contains("mode ZK is not available"));
        let bad = og.call(&request(ModelInferenceMode::VANILLA, "QmNotAnId".into(), values.clone()), 1_000_000);
        assert!(bad.error().unwrap().to_string().contains("not a SolidML modelId"));
        let short = og.call(&request(ModelInferenceMode::VANILLA, format!("0x{}", hex::encode(id)), values[..3].to_vec()), 1_000_000);
        assert!(short.error().unwrap().to_string().contains("expects 4 values"));
        let junk = og.call(&[0x72, 0x89, 0xe9, 0xc2, 1, 2], 1_000_000);
        assert_eq!(junk.error().unwrap().code(), crate::abi::ErrorCode::Abi);
    }
}
