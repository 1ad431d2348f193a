// pool.wgsl — MaxPool and AvgPool over the spatial axes of NC(spatial…)
// (docs/spec.md#op-maxpool, #op-avgpool). One thread per output element.
//
// params: 0 total, 1 s (spatial rank), 2 in_plane, 3 out_plane, 4 count_include_pad,
//         5 zero point, 6 window lo, 7 window hi (Π kernel as i64), 8 klen (taps),
//         9 + 6d: in_dim, out_dim, kernel, stride, dilation, pad_begin of spatial axis d

// Input offset (within the plane) of tap t of output position o, or NONE outside the input.
fn tap_offset(o: u32, t: u32) -> u32 {
    let s = p_u32(1u);
    var ro = o;
    var rt = t;
    var off = 0u;
    var st = 1u;
    var inside = true;
    for (var d = s; d > 0u; d--) {
        let b = 9u + 6u * (d - 1u);
        let h = p_u32(b);
        let od = p_u32(b + 1u);
        let kn = p_u32(b + 2u);
        let oc = i32(ro % od);
        ro = ro / od;
        let kd = i32(rt % kn);
        rt = rt / kn;
        let pos = oc * p_i32(b + 3u) - p_i32(b + 5u) + kd * p_i32(b + 4u);
        if (pos < 0 || pos >= i32(h)) {
            inside = false;
        } else {
            off += u32(pos) * st;
        }
        st = st * h;
    }
    return select(NONE, off, inside);
}

@compute @workgroup_size(64)
fn max_pool(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    let out_plane = p_u32(3u);
    let base = (i / out_plane) * p_u32(2u);
    let o = i % out_plane;
    var m = -128;
    for (var t = 0u; t < p_u32(8u); t++) {
        let off = tap_offset(o, t);
        if (off != NONE) {
            m = max(m, in0_i32(base + off));
        }
    }
    write_i32(i, m);
}

@compute @workgroup_size(64)
fn avg_pool(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    let out_plane = p_u32(3u);
    let base = (i / out_plane) * p_u32(2u);
    let o = i % out_plane;
    let zp = p_i32(5u);
    // Σ (x − zp) in i64: a window may hold more than 2^31 / 255 taps
    var sum = vec2<u32>(0u, 0u);
    var taps = 0u;
    for (var t = 0u; t < p_u32(8u); t++) {
        let off = tap_offset(o, t);
        if (off != NONE) {
            sum = i64_add(sum, i64_from_i32(in0_i32(base + off) - zp));
            taps++;
        }
    }
    var count = vec2<u32>(taps, 0u);
    if (p_u32(4u) == 1u) {
        count = vec2<u32>(p_u32(6u), p_u32(7u));
    }
    var avg = 0;
    if (!i64_is_zero(count)) {
        // |avg| ≤ 255: its low word is the value
        avg = bitcast<i32>(i64_div_round_half_away(sum, count).x);
    }
    write_i32(i, clamp(avg + zp, -128, 127));
}
