// pool.wgsl — MaxPool and AvgPool over the spatial axes of NC(spatial…)
// (docs/spec.md#op-maxpool, #op-avgpool). `max_pool` / `avg_pool`: one thread per output
// element, for windows of at most 2,048 taps. Larger windows (≤ 8,421,504 taps: a window's sum
// fits in i32) in two passes over batches of outputs, so that no invocation walks more than
// 2,048 taps (each costs 1 + s ≤ 7 loop iterations; lavapipe ends an invocation's loops after
// about 65,535 iterations in all):
//   partial:                  one thread per (output of the batch, chunk of 2,048 taps):
//                             [max or Σ(x − zp), taps inside] → scratch[2t..]
//   max_combine, avg_combine: one thread per output of the batch, over its ≤ 4,113 partials.
//
// params: 0 total, 1 s (spatial rank), 2 in_plane, 3 out_plane, 4 count_include_pad,
//         5 zero point, 6 window lo, 7 window hi (Π kernel as i64), 8 klen (taps),
//         9 chunks per window, 10 chunk length, 11 first output of the batch, 12 batch outputs,
//         13 avg (0/1), 14 + 6d: in_dim, out_dim, kernel, stride, dilation, pad_begin of
//         spatial axis d

// Input offset (within the plane) of tap t of output position o, or NONE outside the input.
fn tap_offset(o: u32, t: u32) -> u32 {
    let s = p_u32(1u);
    var ro = o;
    var rt = t;
    var off = 0u;
    var st = 1u;
    var inside = true;
    for (var d = s; d > 0u; d--) {
        let b = 14u + 6u * (d - 1u);
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
    write_avg(i, sum, taps);
}

fn write_avg(i: u32, sum: vec2<u32>, taps: u32) {
    var count = vec2<u32>(taps, 0u);
    if (p_u32(4u) == 1u) {
        count = vec2<u32>(p_u32(6u), p_u32(7u));
    }
    var avg = 0;
    if (!i64_is_zero(count)) {
        // |avg| ≤ 255: its low word is the value
        avg = bitcast<i32>(i64_div_round_half_away(sum, count).x);
    }
    write_i32(i, clamp(avg + p_i32(5u), -128, 127));
}

@compute @workgroup_size(64)
fn partial(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_index(gid, nwg);
    let chunks = p_u32(9u);
    if (t >= p_u32(12u) * chunks) {
        return;
    }
    let i = p_u32(11u) + t / chunks;
    let out_plane = p_u32(3u);
    let base = (i / out_plane) * p_u32(2u);
    let o = i % out_plane;
    let zp = p_i32(5u);
    let avg = p_u32(13u) == 1u;
    let start = (t % chunks) * p_u32(10u);
    let end = min(start + p_u32(10u), p_u32(8u));
    var m = -128;
    var sum = 0;
    var taps = 0u;
    for (var tap = start; tap < end; tap++) {
        let off = tap_offset(o, tap);
        if (off != NONE) {
            let x = in0_i32(base + off);
            m = max(m, x);
            sum += x - zp;
            taps++;
        }
    }
    scratch[2u * t] = bitcast<u32>(select(m, sum, avg));
    scratch[2u * t + 1u] = taps;
}

@compute @workgroup_size(64)
fn max_combine(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_index(gid, nwg);
    if (t >= p_u32(12u)) {
        return;
    }
    let chunks = p_u32(9u);
    var m = -128;
    for (var c = 0u; c < chunks; c++) {
        m = max(m, bitcast<i32>(scratch[2u * (t * chunks + c)]));
    }
    write_i32(p_u32(11u) + t, m);
}

@compute @workgroup_size(64)
fn avg_combine(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_index(gid, nwg);
    if (t >= p_u32(12u)) {
        return;
    }
    let chunks = p_u32(9u);
    // Σ ≤ 8,421,504 · 255 fits in i32
    var sum = 0;
    var taps = 0u;
    for (var c = 0u; c < chunks; c++) {
        sum += bitcast<i32>(scratch[2u * (t * chunks + c)]);
        taps += scratch[2u * (t * chunks + c) + 1u];
    }
    write_avg(p_u32(11u) + t, i64_from_i32(sum), taps);
}
