// view.wgsl — View: out[i…] = in[offset + Σ i_k · strides[k]] (docs/spec.md#op-view), for int8
// (1 word per element) and i64 (2 words) tensors.
//
// params: 0 total, 1 words per element, 2 offset, 3 rank, 4.. output dims, then strides
//         (i32, wrapping: the final offset is validated to lie in the input)

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    let words = p_u32(1u);
    let rank = p_u32(3u);
    var rem = i;
    var src = p_u32(2u);
    for (var k = rank; k > 0u; k--) {
        let d = p_u32(3u + k);
        src += (rem % d) * p_u32(3u + rank + k);
        rem = rem / d;
    }
    for (var w = 0u; w < words; w++) {
        out_buf[words * i + w] = in0[words * src + w];
    }
}
