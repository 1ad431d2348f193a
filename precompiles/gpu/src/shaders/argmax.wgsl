// argmax.wgsl — ArgMax along an axis, i64 output (docs/spec.md#op-argmax): the first maximum,
// or the last with select_last_index.
//
// params: 0 total (outer·inner), 1 dim, 2 inner, 3 select_last

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    let dim = p_u32(1u);
    let inner = p_u32(2u);
    let last = p_u32(3u) == 1u;
    let base = (i / inner) * dim * inner + i % inner;
    var best = 0u;
    var bv = in0_i32(base);
    for (var j = 1u; j < dim; j++) {
        let v = in0_i32(base + j * inner);
        if (v > bv || (last && v == bv)) {
            best = j;
            bv = v;
        }
    }
    write_i64(i, vec2<u32>(best, 0u));
}
