// cum_sum.wgsl — CumSum along an axis (docs/spec.md#op-cumsum):
// r_j = Σ_{i ∈ prefix(j)} (q_i − zp_in) (i ≤ j, or i < j when exclusive; mirrored when
// reverse), out_j = clamp(requantize(r_j, M) + zp_out). |r_j| ≤ 255 · dim fits in i32
// (validation bounds dim ≤ 8,421,504).
//
// A lane is walked in order k = 0‥dim (position j = k, or dim − 1 − k when reverse) in chunks
// of `chunk` steps (4,096), so that no invocation loops more than 4,096 times (lavapipe ends an
// invocation's loops after about 65,535 iterations in all):
//   main:         one thread per lane, when the lane is one chunk (dim ≤ 4,096)
//   chunk_total:  one thread per (lane, chunk): Σ (q − zp) over the chunk → scratch
//   chunk_prefix: one thread per lane: the exclusive prefix sum of its ≤ 2,057 chunk totals,
//                 in place
//   chunk_scan:   one thread per (lane, chunk): the chunk's running sum from its prefix.
//
// params: 0 lanes (outer·inner), 1 dim, 2 inner, 3 exclusive, 4 reverse, 5 input zp,
//         6 multiplier, 7 shift, 8 output zp, 9 chunks per lane, 10 chunk length
// scratch: [lane · chunks + chunk] chunk totals, then their exclusive prefixes

fn lane_at(l: u32, k: u32) -> u32 {
    let dim = p_u32(1u);
    let inner = p_u32(2u);
    var j = k;
    if (p_u32(4u) == 1u) {
        j = dim - 1u - k;
    }
    return (l / inner) * dim * inner + l % inner + j * inner;
}

// Steps [start, end) of lane l, from the running sum `sum0`.
fn scan(l: u32, start: u32, end: u32, sum0: i32) {
    let exclusive = p_u32(3u) == 1u;
    let zp = p_i32(5u);
    var sum = sum0;
    for (var k = start; k < end; k++) {
        let at = lane_at(l, k);
        let v = in0_i32(at) - zp;
        if (!exclusive) {
            sum += v;
        }
        write_i32(at, requantize_clamp(sum, p_i32(6u), p_i32(7u), p_i32(8u), -128, 127));
        if (exclusive) {
            sum += v;
        }
    }
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let l = thread_index(gid, nwg);
    if (l >= p_u32(0u)) {
        return;
    }
    scan(l, 0u, p_u32(1u), 0);
}

@compute @workgroup_size(64)
fn chunk_total(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_index(gid, nwg);
    let chunks = p_u32(9u);
    if (t >= p_u32(0u) * chunks) {
        return;
    }
    let l = t / chunks;
    let start = (t % chunks) * p_u32(10u);
    let end = min(start + p_u32(10u), p_u32(1u));
    let zp = p_i32(5u);
    var sum = 0;
    for (var k = start; k < end; k++) {
        sum += in0_i32(lane_at(l, k)) - zp;
    }
    scratch[t] = bitcast<u32>(sum);
}

@compute @workgroup_size(64)
fn chunk_prefix(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let l = thread_index(gid, nwg);
    if (l >= p_u32(0u)) {
        return;
    }
    let chunks = p_u32(9u);
    var sum = 0;
    for (var c = 0u; c < chunks; c++) {
        let v = bitcast<i32>(scratch[l * chunks + c]);
        scratch[l * chunks + c] = bitcast<u32>(sum);
        sum += v;
    }
}

@compute @workgroup_size(64)
fn chunk_scan(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_index(gid, nwg);
    let chunks = p_u32(9u);
    if (t >= p_u32(0u) * chunks) {
        return;
    }
    let start = (t % chunks) * p_u32(10u);
    scan(t / chunks, start, min(start + p_u32(10u), p_u32(1u)), bitcast<i32>(scratch[t]));
}
