// concat.wgsl — Concat (docs/spec.md#op-concat): one dispatch per input copies its chunks
// into the output. For input element e: out[(e / chunk_in)·chunk_out + prefix + e % chunk_in].
//
// params: 0 total (input elements), 1 words per element, 2 chunk_in, 3 chunk_out, 4 prefix

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    let words = p_u32(1u);
    let chunk_in = p_u32(2u);
    let dst = (i / chunk_in) * p_u32(3u) + p_u32(4u) + i % chunk_in;
    for (var w = 0u; w < words; w++) {
        out_buf[words * dst + w] = in0[words * i + w];
    }
}
