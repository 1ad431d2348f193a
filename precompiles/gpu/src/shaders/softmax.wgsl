// softmax.wgsl — Softmax along an axis (docs/spec.md#op-softmax), in three passes so that no
// invocation loops more than `dim` ≤ 2^15 times (lavapipe stops a shader's loops after 65,535
// iterations in all; one pass of three loops over a 2^15 lane went past it):
//   lane_max: one thread per lane, m = max_j q_j              → scratch[2l]
//   lane_sum: one thread per lane, S = Σ_j exp_table[m − q_j] → scratch[2l + 1]
//   main:     one thread per element, out = clamp(round_half_away(256·e / S) − 128).
// S ≤ 2^15 · 2^16 fits in u32.
//
// params: 0 lanes (outer·inner), 1 dim, 2 inner, 3 elements
// data:   exp_table (256 u32)

fn lane_base(l: u32) -> u32 {
    let dim = p_u32(1u);
    let inner = p_u32(2u);
    return (l / inner) * dim * inner + l % inner;
}

@compute @workgroup_size(64)
fn lane_max(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let l = thread_index(gid, nwg);
    if (l >= p_u32(0u)) {
        return;
    }
    let dim = p_u32(1u);
    let inner = p_u32(2u);
    let base = lane_base(l);
    var m = -128;
    for (var j = 0u; j < dim; j++) {
        m = max(m, in0_i32(base + j * inner));
    }
    scratch[2u * l] = bitcast<u32>(m);
}

@compute @workgroup_size(64)
fn lane_sum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let l = thread_index(gid, nwg);
    if (l >= p_u32(0u)) {
        return;
    }
    let dim = p_u32(1u);
    let inner = p_u32(2u);
    let base = lane_base(l);
    let m = bitcast<i32>(scratch[2u * l]);
    var sum = 0u;
    for (var j = 0u; j < dim; j++) {
        sum += data[u32(m - in0_i32(base + j * inner))];
    }
    scratch[2u * l + 1u] = max(sum, 1u);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(3u)) {
        return;
    }
    let dim = p_u32(1u);
    let inner = p_u32(2u);
    let l = (i / (dim * inner)) * inner + i % inner;
    let m = bitcast<i32>(scratch[2u * l]);
    let sum = scratch[2u * l + 1u];
    let e = data[u32(m - in0_i32(i))];
    let q = i32(div_round_half_away_u32(256u * e, sum)) - 128;
    write_i32(i, clamp(q, -128, 127));
}
