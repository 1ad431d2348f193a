//! ONNX import and the compiler passes on arbitrary bytes: errors, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut g) = solidml_compiler::onnx::parse(data, None, "fuzz.onnx") {
        let small = g.tensors.iter().all(|t| t.shape.as_ref().is_none_or(|s| s.iter().product::<usize>() < 1 << 16));
        if small && g.nodes.len() < 64 {
            let _ = solidml_compiler::compile_graph(&mut g, "fuzz", &Default::default());
        }
    }
});
