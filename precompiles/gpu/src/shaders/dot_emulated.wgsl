// dot_emulated.wgsl — the exact 32-bit fallback of dot_packed.wgsl: unpack the lanes
// (sign-extending extractBits) and multiply-add in i32.

fn dot4_wx(w: u32, x: vec4<i32>) -> i32 {
    let s = bitcast<i32>(w);
    let wv = vec4<i32>(extractBits(s, 0u, 8u), extractBits(s, 8u, 8u), extractBits(s, 16u, 8u), extractBits(s, 24u, 8u));
    return dot(wv, x);
}

fn dot4_vv(a: vec4<i32>, b: vec4<i32>) -> i32 {
    return dot(a, b);
}

fn dot4_ww(a: u32, b: u32) -> i32 {
    let s = bitcast<i32>(b);
    return dot4_wx(a, vec4<i32>(extractBits(s, 0u, 8u), extractBits(s, 8u, 8u), extractBits(s, 16u, 8u), extractBits(s, 24u, 8u)));
}
