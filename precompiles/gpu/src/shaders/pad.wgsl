// pad.wgsl — Pad with Constant / Reflect / Edge modes (docs/spec.md#op-pad), int8 or i64.
//
// params: 0 total, 1 words per element, 2 mode (0 Constant, 1 Reflect, 2 Edge), 3 value lo,
//         4 value hi, 5 rank, 6 + 4d: out_dim, in_dim, in_stride, pad_begin of axis d

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    let words = p_u32(1u);
    let mode = p_u32(2u);
    let rank = p_u32(5u);
    var rem = i;
    var src = 0u;
    var inside = true;
    for (var d = rank; d > 0u; d--) {
        let b = 6u + 4u * (d - 1u);
        let od = p_u32(b);
        let n = p_i32(b + 1u);
        var c = i32(rem % od) - p_i32(b + 3u);
        rem = rem / od;
        if (c < 0 || c >= n) {
            if (mode == 0u) {
                inside = false;
            } else if (mode == 2u) {
                c = clamp(c, 0, n - 1);
            } else {
                c = select(2 * (n - 1) - c, -c, c < 0);
            }
        }
        src += u32(c) * p_u32(b + 2u);
    }
    if (inside) {
        for (var w = 0u; w < words; w++) {
            out_buf[words * i + w] = in0[words * src + w];
        }
    } else {
        out_buf[words * i] = p_u32(3u);
        if (words == 2u) {
            out_buf[words * i + 1u] = p_u32(4u);
        }
    }
}
