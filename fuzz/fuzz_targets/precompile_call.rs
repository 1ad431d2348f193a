//! `SolidMlPrecompile::call` on arbitrary input bytes and gas limits: it never panics, never
//! charges more than the limit, and a success returns exactly the model's output bytes (the CPU
//! reference's outputs, packed).
//!
//! Layout of a fuzz input: `control (1 byte) ++ gas limit (8 bytes, little-endian) ++ call`.
//! Control bits 0–1 steer the call towards the served models so the fuzzer reaches the length
//! check and execution: 0 leaves it as is, 1 and 2 overwrite its first 32 bytes with the id of
//! model 0 or 1, 3 also cuts or zero-pads it to that model's exact input length (bit 2 picks
//! the model). Bit 3 set keeps the full 64-bit gas limit, clear reduces it modulo 2^22 (around
//! the models' prices).
#![no_main]

use libfuzzer_sys::fuzz_target;
use solidml_cpu::CpuExecutor;
use solidml_precompile::{
    abi,
    precompile::Status,
};

#[path = "precompile_models.rs"]
mod precompile_models;

fuzz_target!(|data: &[u8]| {
    let served = precompile_models::served();
    let Some((&control, rest)) = data.split_first() else { return };
    let mut gas = [0u8; 8];
    let n = rest.len().min(8);
    gas[..n].copy_from_slice(&rest[..n]);
    let gas_limit = if control & 8 != 0 { u64::from_le_bytes(gas) } else { u64::from_le_bytes(gas) % (1 << 22) };
    let mut call = rest[n..].to_vec();

    let steer = control & 3;
    let which = match steer {
        1 => Some(0),
        2 => Some(1),
        3 => Some(((control >> 2) & 1) as usize),
        _ => None,
    };
    if let Some(w) = which {
        let m = &served.models[w];
        if call.len() < 32 {
            call.resize(32, 0);
        }
        call[..32].copy_from_slice(&m.id);
        if steer == 3 {
            call.resize(32 + m.input_bytes, 0);
        }
    }

    let p = &served.precompile;
    let out = p.call(&call, gas_limit);
    assert!(out.gas_used <= gas_limit, "gas used {} over the limit {gas_limit}", out.gas_used);
    match &out.status {
        Status::Success(bytes) => {
            let m = served.models.iter().find(|m| call[..32] == m.id).expect("a success names a served model");
            assert_eq!(bytes.len(), m.output_bytes, "output length");
            assert_eq!(p.quote(&call), Ok(out.gas_used), "quote disagrees with the charge");
            // the packed outputs are the CPU reference's on the unpacked inputs
            let inputs = abi::unpack_inputs(&m.model, m.id, &call[32..]).expect("a success has well-formed inputs");
            let want = CpuExecutor::new(&m.model).unwrap().run(&inputs).expect("the CPU reference succeeds too");
            assert_eq!(bytes, &abi::pack_values(&want));
        }
        Status::Revert(e) => {
            let data = out.return_data();
            let (code, message) = abi::decode_error(&data).expect("revert data decodes");
            assert_eq!((code, message), (e.code() as u8, e.to_string()));
        }
        Status::OutOfGas(_) => {
            assert_eq!(out.gas_used, gas_limit, "out of gas consumes the whole limit");
            assert!(out.return_data().is_empty());
        }
    }
});
