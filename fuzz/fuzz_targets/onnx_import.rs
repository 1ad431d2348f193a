//! ONNX import, shape inference and the compiler passes on arbitrary bytes: errors, never
//! panics. No filter on shapes: every size read from the model (input dims, initializer dims,
//! the amounts of Pad, Expand, Tile, ConstantOfShape, Range, …) must be checked before
//! anything of that size is allocated, so run under an allocation limit
//! (`-rss_limit_mb=2048 -malloc_limit_mb=2048`, fuzz/README.md). Only the node count is
//! bounded, for speed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut g) = solidml_compiler::onnx::parse(data, None, "fuzz.onnx")
        && g.nodes.len() < 64
    {
        let _ = solidml_compiler::compile_graph(&mut g, "fuzz", &Default::default());
    }
});
