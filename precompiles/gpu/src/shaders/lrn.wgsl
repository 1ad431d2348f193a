// lrn.wgsl — local response normalization across channels (docs/spec.md#op-lrn). One thread per
// element: Q = Σ (q_c' − zp_in)² over the channel window (≤ 4096·255² < 2^31),
// F = factors[min(Q >> sum_shift, len − 1)], out = clamp(zp_out + requantize((q − zp_in)·F)).
//
// params: 0 total, 1 channels, 2 inner (elements per channel step), 3 before, 4 after,
//         5 input zp, 6 output zp, 7 sum_shift, 8 number of factors, 9 multiplier, 10 shift
// data:   factors (i32)

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    let ch = p_i32(1u);
    let inner = p_u32(2u);
    let zp = p_i32(5u);
    let c = i32((i / inner) % u32(ch));
    let base = i - u32(c) * inner;
    var q = 0;
    let hi = min(c + p_i32(4u), ch - 1);
    for (var k = max(c - p_i32(3u), 0); k <= hi; k++) {
        let d = in0_i32(base + u32(k) * inner) - zp;
        q += d * d;
    }
    let shift = p_u32(7u);
    var bucket = 0u;
    if (shift < 32u) {
        bucket = u32(q) >> shift;
    }
    let f = data_i32(min(bucket, p_u32(8u) - 1u));
    let v = (in0_i32(i) - zp) * f;
    write_i32(i, requantize_clamp(v, p_i32(9u), p_i32(10u), p_i32(6u), -128, 127));
}
