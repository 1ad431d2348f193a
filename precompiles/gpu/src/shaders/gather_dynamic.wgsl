// gather_dynamic.wgsl — Gather with run-time i64 indices (docs/spec.md#op-gatherdynamic).
// `check` (one thread per index) records the first index outside −dim..dim in the status
// slot, `main` gathers (an invalid index reads nothing and writes 0: the run fails anyway),
// `report` stores the failing index's value for the error message.
//
// params: 0 total (output elements), 1 words per element, 2 dim, 3 inner, 4 number of indices,
//         5 status slot
// in0 = data, in1 = indices (i64)

// The resolved index (i < 0 counts from the end), or NONE when it is out of range.
fn resolve(e: u32) -> u32 {
    let v = in1_i64(e);
    let dim = p_u32(2u);
    var j = v;
    if (i64_is_neg(v)) {
        j = i64_add(v, vec2<u32>(dim, 0u));
    }
    if (j.y == 0u && j.x < dim) {
        return j.x;
    }
    return NONE;
}

@compute @workgroup_size(64)
fn check(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let e = thread_index(gid, nwg);
    if (e >= p_u32(4u)) {
        return;
    }
    if (resolve(e) == NONE) {
        fail(p_u32(5u), e);
    }
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    let words = p_u32(1u);
    let inner = p_u32(3u);
    let nidx = p_u32(4u);
    let rest = i / inner;
    let j = resolve(rest % nidx);
    if (j == NONE) {
        for (var w = 0u; w < words; w++) {
            out_buf[words * i + w] = 0u;
        }
        return;
    }
    let src = ((rest / nidx) * p_u32(2u) + j) * inner + i % inner;
    for (var w = 0u; w < words; w++) {
        out_buf[words * i + w] = in0[words * src + w];
    }
}

@compute @workgroup_size(1)
fn report() {
    let slot = p_u32(5u);
    let e = failed_at(slot);
    if (e != NONE) {
        set_fail_value(slot, in1_i64(e));
    }
}
