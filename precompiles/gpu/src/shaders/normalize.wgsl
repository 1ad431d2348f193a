// normalize.wgsl — rows of the last axis scaled to unit L1 or L2 norm
// (docs/spec.md#op-normalize). One thread per row. d_j = q_j − zp_in; L1: D = Σ|d|,
// out_j = clamp(zp_out + round_half_away(d_j·2^k / D)); L2: r = isqrt(Σd² · 2^16),
// out_j = clamp(zp_out + round_half_away(d_j·2^(k+8) / r)); a zero row gives zp_out.
// Σd² ≤ 2^16·255² < 2^32; D and r < 2^25; d_j·2^(k+8) < 2^24: the rest fits in i32.
//
// params: 0 rows, 1 row length, 2 kind (0 L1, 1 L2), 3 input zp, 4 output zp, 5 scale_log2

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let r = thread_index(gid, nwg);
    if (r >= p_u32(0u)) {
        return;
    }
    let row = p_u32(1u);
    let zp = p_i32(3u);
    let base = r * row;
    var l1 = 0;
    var l2 = 0u;
    for (var j = 0u; j < row; j++) {
        let d = in0_i32(base + j) - zp;
        l1 += abs(d);
        l2 += u32(d * d);
    }
    var shift = p_u32(5u);
    var den = l1;
    if (p_u32(2u) == 1u) {
        shift += 8u;
        den = i32(isqrt_u64(u64_shl(u64_from_u32(l2), 16u)));
    }
    for (var j = 0u; j < row; j++) {
        let d = in0_i32(base + j) - zp;
        var y = 0;
        if (den != 0) {
            y = div_round_half_away_i32(d << shift, den);
        }
        write_i32(base + j, clamp(y + p_i32(4u), -128, 127));
    }
}
