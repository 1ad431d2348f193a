// argmax.wgsl — ArgMax along an axis, i64 output (docs/spec.md#op-argmax): the first maximum,
// or the last with select_last_index.
//
// `main`: one thread per lane, for lanes of at most 4,096. Longer lanes (up to the 2^28-element
// cap) in chunks of params[5] ≥ 4,096 (ops/argmax.rs: at most max(4,096, 2·√dim) long and as
// many chunks), as lavapipe ends an invocation's loops after about 65,535 iterations in all:
//   partial: one thread per (lane, chunk): its best index and value → scratch[2t..]
//   combine: one thread per lane over its chunks in order.
//
// params: 0 total (outer·inner), 1 dim, 2 inner, 3 select_last, 4 chunks per lane,
//         5 chunk length

// The best (index, value) of lane i over [start, end) (start < end).
fn best_in(i: u32, start: u32, end: u32) -> vec2<i32> {
    let dim = p_u32(1u);
    let inner = p_u32(2u);
    let last = p_u32(3u) == 1u;
    let base = (i / inner) * dim * inner + i % inner;
    var best = start;
    var bv = in0_i32(base + start * inner);
    for (var j = start + 1u; j < end; j++) {
        let v = in0_i32(base + j * inner);
        if (v > bv || (last && v == bv)) {
            best = j;
            bv = v;
        }
    }
    return vec2<i32>(i32(best), bv);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    write_i64(i, vec2<u32>(u32(best_in(i, 0u, p_u32(1u)).x), 0u));
}

@compute @workgroup_size(64)
fn partial(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_index(gid, nwg);
    let chunks = p_u32(4u);
    if (t >= p_u32(0u) * chunks) {
        return;
    }
    let start = (t % chunks) * p_u32(5u);
    let b = best_in(t / chunks, start, min(start + p_u32(5u), p_u32(1u)));
    scratch[2u * t] = u32(b.x);
    scratch[2u * t + 1u] = bitcast<u32>(b.y);
}

@compute @workgroup_size(64)
fn combine(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    let chunks = p_u32(4u);
    let last = p_u32(3u) == 1u;
    var best = scratch[2u * i * chunks];
    var bv = bitcast<i32>(scratch[2u * i * chunks + 1u]);
    for (var c = 1u; c < chunks; c++) {
        let v = bitcast<i32>(scratch[2u * (i * chunks + c) + 1u]);
        if (v > bv || (last && v == bv)) {
            best = scratch[2u * (i * chunks + c)];
            bv = v;
        }
    }
    write_i64(i, vec2<u32>(best, 0u));
}
