//! The artifact decoder and, for accepted artifacts, the CPU executor and the JIT: no input may
//! panic, and the JIT's outputs (or error) equal the reference's.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = solidml_spec::decode(data) {
        let inputs: Vec<solidml_exec::Value> = model
            .inputs
            .iter()
            .map(|&t| match model.tensor(t).dtype {
                solidml_spec::DType::I8 => solidml_exec::Value::I8(vec![1; model.tensor(t).len()]),
                solidml_spec::DType::I64 => solidml_exec::Value::I64(vec![0; model.tensor(t).len()]),
                solidml_spec::DType::I16 => solidml_exec::Value::I16(vec![-300; model.tensor(t).len()]),
                solidml_spec::DType::I32 => solidml_exec::Value::I32(vec![70_000; model.tensor(t).len()]),
            })
            .collect();
        if model.tensors.iter().map(|t| t.len()).sum::<usize>() < 1 << 20 {
            let want = solidml_cpu::CpuExecutor::new(&model).and_then(|e| e.run(&inputs));
            // the JIT (the reference as its fallback) fails or runs exactly as the reference
            let jit = solidml_jit::JitBackend::new().with_fallback(std::sync::Arc::new(solidml_cpu::CpuBackend));
            let got = solidml_exec::Executor::prepare(&jit, std::sync::Arc::new(model.clone())).and_then(|p| p.run(&inputs));
            assert_eq!(got, want, "JIT ≠ reference");
        }
    }
});
