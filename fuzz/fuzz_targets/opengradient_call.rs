//! The OpenGradient-compatible entry (`runModelInference`) on arbitrary calldata: never panics,
//! never charges more than the limit; a success decodes as a `ModelOutput` with one tensor per
//! model output, each with the output's element count.
//!
//! Layout of a fuzz input: `control (1 byte) ++ gas limit (4 bytes, little-endian) ++ rest`.
//! By `control % 4`:
//! * 0: `rest` is the calldata;
//! * 1: the selector `0x7289e9c2` ++ `rest`, so that ABI decoding gets deep;
//! * 2, 3: a well-formed request built from `rest` (mode, a served model's id, tensors whose
//!   names, shapes and `Number`s come from the bytes), so that number conversion, the model
//!   lookup and execution are reached.
#![no_main]

use alloy_sol_types::{SolCall, SolValue};
use libfuzzer_sys::fuzz_target;
use solidml_precompile::{
    opengradient::{ModelInferenceMode, ModelInferenceRequest, ModelInput, ModelOutput, MultiDimensionalNumberTensor, Number, OpenGradientEntry, StringTensor, runModelInferenceCall},
    precompile::Status,
};

#[path = "precompile_models.rs"]
mod precompile_models;

/// Reads fuzz bytes, zeros once they run out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut a = [0u8; N];
        a.iter_mut().for_each(|b| *b = self.u8());
        a
    }
}

/// A request for one of the served models, shaped by the bytes.
fn request(b: &mut Bytes, served: &precompile_models::Served) -> Vec<u8> {
    let flags = b.u8();
    let m = &served.models[(flags & 1) as usize];
    let mode = match b.u8() % 8 {
        0 => ModelInferenceMode::ZK,
        1 => ModelInferenceMode::TEE,
        _ => ModelInferenceMode::VANILLA,
    };
    let cid = match (flags >> 1) & 3 {
        0 => m.id.iter().format_hex(),
        1 => String::from_utf8_lossy(&b.array::<8>()).into_owned(),
        _ => format!("0x{}", m.id.iter().format_hex()),
    };
    // usually one tensor per model input, with the model's names and element counts
    let count = if flags & 8 != 0 { (b.u8() % 4) as usize } else { m.model.inputs.len() };
    let numbers = (0..count)
        .map(|k| {
            let t = m.model.inputs.get(k).map(|&i| m.model.tensor(i));
            let name = match (t, flags & 16) {
                (Some(t), 0) => t.name.clone(),
                _ => format!("t{}", b.u8()),
            };
            let len = match t {
                Some(t) if flags & 32 == 0 => t.len(),
                _ => (b.u8() % 8) as usize,
            };
            let shape = if flags & 64 == 0 { vec![1, len as u32] } else { (0..b.u8() % 4).map(|_| u32::from_le_bytes(b.array())).collect() };
            let values = (0..len)
                .map(|_| {
                    let d = b.u8();
                    let value = match d & 3 {
                        // a small value (exact halves and integers are likely)
                        0 => (b.u8() as i8) as i128,
                        1 => i16::from_le_bytes(b.array()) as i128,
                        _ => i128::from_le_bytes(b.array()),
                    };
                    // decimals mostly within the accepted -38..=38, sometimes outside
                    let decimals = if d & 4 != 0 { i128::from_le_bytes(b.array()) } else { ((d >> 3) as i128) * 3 - 46 + (b.u8() % 3) as i128 };
                    Number { value, decimals }
                })
                .collect();
            MultiDimensionalNumberTensor { name, values, shape }
        })
        .collect();
    let strings = if flags & 128 != 0 { vec![StringTensor { name: "s".into(), values: vec!["x".into()] }] } else { vec![] };
    runModelInferenceCall { request: ModelInferenceRequest { mode, modelCID: cid, input: ModelInput { numbers, strings } } }.abi_encode()
}

/// Lowercase hex without a prefix.
trait FormatHex {
    fn format_hex(self) -> String;
}

impl<'a, I: Iterator<Item = &'a u8>> FormatHex for I {
    fn format_hex(self) -> String {
        self.map(|b| format!("{b:02x}")).collect()
    }
}

fuzz_target!(|data: &[u8]| {
    let served = precompile_models::served();
    let og = OpenGradientEntry::new(served.precompile.clone());
    let mut b = Bytes(data);
    let control = b.u8();
    let gas_limit = u32::from_le_bytes(b.array()) as u64 * if control & 4 != 0 { 1 << 20 } else { 1 };
    let calldata = match control % 4 {
        0 => b.0.to_vec(),
        1 => [&runModelInferenceCall::SELECTOR[..], b.0].concat(),
        _ => request(&mut b, served),
    };
    let out = og.call(&calldata, gas_limit);
    assert!(out.gas_used <= gas_limit, "gas used {} over the limit {gas_limit}", out.gas_used);
    match &out.status {
        Status::Success(bytes) => {
            let decoded = ModelOutput::abi_decode(bytes).expect("a success decodes as ModelOutput");
            let request = runModelInferenceCall::abi_decode(&calldata).expect("a success had a valid request").request;
            let id = solidml_precompile::opengradient::parse_model_cid(&request.modelCID).expect("a success had a valid id");
            let m = served.models.iter().find(|m| m.id == id).expect("a success names a served model");
            assert_eq!(decoded.numbers.len(), m.model.outputs.len());
            for (tensor, &o) in decoded.numbers.iter().zip(&m.model.outputs) {
                assert_eq!(tensor.values.len(), m.model.tensor(o).len());
                assert_eq!(tensor.shape, m.model.tensor(o).shape);
            }
            assert!(!decoded.is_simulation_result && decoded.strings.is_empty() && decoded.jsons.is_empty());
        }
        Status::Revert(e) => {
            let (code, _) = solidml_precompile::abi::decode_error(&out.return_data()).expect("revert data decodes");
            assert_eq!(code, e.code() as u8);
        }
        Status::OutOfGas(_) => assert_eq!(out.gas_used, gas_limit),
    }
});
