// gather.wgsl — Gather along an axis with constant indices (docs/spec.md#op-gather).
//
// params: 0 total, 1 words per element, 2 dim, 3 inner, 4 number of indices
// data:   the indices (u32)

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
    let src = ((rest / nidx) * p_u32(2u) + data[rest % nidx]) * inner + i % inner;
    for (var w = 0u; w < words; w++) {
        out_buf[words * i + w] = in0[words * src + w];
    }
}
