// dot_packed.wgsl — 4-lane int8 dot products through WGSL's packed_4x8_integer_dot_product
// (`dot4I8Packed`, `pack4xI8`). Selected when the instance supports the language extension.

// Σ w_i · x_i with w four int8 lanes packed in a u32 (lane 0 lowest) and x in the int8 range.
fn dot4_wx(w: u32, x: vec4<i32>) -> i32 {
    return dot4I8Packed(w, pack4xI8(x));
}

// Σ a_i · b_i for a, b in the int8 range.
fn dot4_vv(a: vec4<i32>, b: vec4<i32>) -> i32 {
    return dot4I8Packed(pack4xI8(a), pack4xI8(b));
}

// Σ a_i · b_i for two words of four packed int8 lanes.
fn dot4_ww(a: u32, b: u32) -> i32 {
    return dot4I8Packed(a, b);
}
