// softmax.wgsl — Softmax along an axis (docs/spec.md#op-softmax). One thread per lane:
// e_j = exp_table[max − q_j], out_j = clamp(round_half_away(256·e_j / Σe) − 128).
// Σe ≤ 2^15 · 2^16 fits in u32.
//
// params: 0 lanes (outer·inner), 1 dim, 2 inner
// data:   exp_table (256 u32)

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let l = thread_index(gid, nwg);
    if (l >= p_u32(0u)) {
        return;
    }
    let dim = p_u32(1u);
    let inner = p_u32(2u);
    let base = (l / inner) * dim * inner + l % inner;
    var m = -128;
    for (var j = 0u; j < dim; j++) {
        m = max(m, in0_i32(base + j * inner));
    }
    var sum = 0u;
    for (var j = 0u; j < dim; j++) {
        sum += data[u32(m - in0_i32(base + j * inner))];
    }
    sum = max(sum, 1u);
    for (var j = 0u; j < dim; j++) {
        let e = data[u32(m - in0_i32(base + j * inner))];
        let q = i32(div_round_half_away_u32(256u * e, sum)) - 128;
        write_i32(base + j * inner, clamp(q, -128, 127));
    }
}
