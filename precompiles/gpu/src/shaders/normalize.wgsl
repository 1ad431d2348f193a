// normalize.wgsl — rows of the last axis scaled to unit L1 or L2 norm
// (docs/spec.md#op-normalize). d_j = q_j − zp_in; L1: D = Σ|d|,
// out_j = clamp(zp_out + round_half_away(d_j·2^k / D)); L2: r = isqrt(Σd² · 2^16),
// out_j = clamp(zp_out + round_half_away(d_j·2^(k+8) / r)); a zero row gives zp_out.
// Σd² ≤ 2^16·255² < 2^32; D and r < 2^25; d_j·2^(k+8) < 2^24: the rest fits in i32.
//
// `main`: one thread per row, for rows of at most 4,096 (two walks of the row). Longer rows
// (≤ 2^16) in three passes, so that no invocation walks more than 4,096 elements (lavapipe ends
// an invocation's loops after about 65,535 iterations in all):
//   partial: one thread per (row, chunk of 4,096): Σ|d|, Σd² → scratch[2(r·chunks + c)..]
//   den:     one thread per row: its ≤ 16 partials summed, the denominator → scratch[2·rows·chunks + r]
//   apply:   one thread per element.
//
// params: 0 rows, 1 row length, 2 kind (0 L1, 1 L2), 3 input zp, 4 output zp, 5 scale_log2,
//         6 chunks per row, 7 chunk length

// The denominator (D or r) of a row from Σ|d| and Σd².
fn denominator(l1: i32, l2: u32) -> i32 {
    if (p_u32(2u) == 1u) {
        return i32(isqrt_u64(u64_shl(u64_from_u32(l2), 16u)));
    }
    return l1;
}

fn normalized(x: i32, den: i32) -> i32 {
    var shift = p_u32(5u);
    if (p_u32(2u) == 1u) {
        shift += 8u;
    }
    var y = 0;
    if (den != 0) {
        y = div_round_half_away_i32((x - p_i32(3u)) << shift, den);
    }
    return clamp(y + p_i32(4u), -128, 127);
}

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
    let den = denominator(l1, l2);
    for (var j = 0u; j < row; j++) {
        write_i32(base + j, normalized(in0_i32(base + j), den));
    }
}

@compute @workgroup_size(64)
fn partial(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_index(gid, nwg);
    let chunks = p_u32(6u);
    if (t >= p_u32(0u) * chunks) {
        return;
    }
    let row = p_u32(1u);
    let zp = p_i32(3u);
    let start = (t / chunks) * row + (t % chunks) * p_u32(7u);
    let end = (t / chunks) * row + min((t % chunks + 1u) * p_u32(7u), row);
    var l1 = 0;
    var l2 = 0u;
    for (var j = start; j < end; j++) {
        let d = in0_i32(j) - zp;
        l1 += abs(d);
        l2 += u32(d * d);
    }
    scratch[2u * t] = bitcast<u32>(l1);
    scratch[2u * t + 1u] = l2;
}

@compute @workgroup_size(64)
fn den(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let r = thread_index(gid, nwg);
    let rows = p_u32(0u);
    if (r >= rows) {
        return;
    }
    let chunks = p_u32(6u);
    var l1 = 0;
    var l2 = 0u;
    for (var c = 0u; c < chunks; c++) {
        l1 += bitcast<i32>(scratch[2u * (r * chunks + c)]);
        l2 += scratch[2u * (r * chunks + c) + 1u];
    }
    scratch[2u * rows * chunks + r] = bitcast<u32>(denominator(l1, l2));
}

@compute @workgroup_size(64)
fn apply(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    let rows = p_u32(0u);
    let row = p_u32(1u);
    if (i >= rows * row) {
        return;
    }
    let den = bitcast<i32>(scratch[2u * rows * p_u32(6u) + i / row]);
    write_i32(i, normalized(in0_i32(i), den));
}
