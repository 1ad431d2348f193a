// instance_norm.wgsl — InstanceNorm in exact integers (docs/spec.md#op-instancenorm), with
// i64 emulated on u32 pairs. `partial` (one thread per (plane, chunk of 4,096 elements)) sums
// d = q − zp_in and d² over its chunk into scratch; `stats` (one thread per (n, c) plane) adds
// the plane's ≤ 16 partials (C ≤ 2^16) into S1 = Σd, S2 = Σd² (< 2^32) and computes
// r = isqrt(C·S2 − S1² + epsilon_term) into scratch; `main` (one thread per element) computes
// out_j = clamp(zp_out + round_half_away((γ·d_j + β·r) / (r·2^16))), with
// d_j = C·(q_j − zp_in) − S1, or round_half_away(β / 2^16) when r = 0. No invocation walks more
// than 4,096 elements (lavapipe ends an invocation's loops after about 65,535 iterations in all).
//
// params:  0 total, 1 planes, 2 plane size C, 3 channels, 4 input zp, 5 output zp,
//          6 epsilon_term lo, 7 epsilon_term hi, 8 chunks per plane, 9 chunk length
// data:    gamma_q16 as i64 pairs [channels], then beta_q16 [channels]
// scratch: per plane [S1, r, 0, 0], then per (plane, chunk) [Σd, Σd²]

@compute @workgroup_size(64)
fn partial(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_index(gid, nwg);
    let chunks = p_u32(8u);
    if (t >= p_u32(1u) * chunks) {
        return;
    }
    let plane = p_u32(2u);
    let zp = p_i32(4u);
    let k = t / chunks;
    let start = k * plane + (t % chunks) * p_u32(9u);
    let end = k * plane + min((t % chunks + 1u) * p_u32(9u), plane);
    var s1 = 0;
    var s2 = 0u;
    for (var j = start; j < end; j++) {
        let d = in0_i32(j) - zp;
        s1 += d;
        s2 += u32(d * d);
    }
    let at = 4u * p_u32(1u) + 2u * t;
    scratch[at] = bitcast<u32>(s1);
    scratch[at + 1u] = s2;
}

@compute @workgroup_size(64)
fn stats(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let k = thread_index(gid, nwg);
    if (k >= p_u32(1u)) {
        return;
    }
    let plane = p_u32(2u);
    let chunks = p_u32(8u);
    var s1 = 0;
    var s2 = 0u;
    for (var c = 0u; c < chunks; c++) {
        let at = 4u * p_u32(1u) + 2u * (k * chunks + c);
        s1 += bitcast<i32>(scratch[at]);
        s2 += scratch[at + 1u];
    }
    // C·S2 − S1² + ε ≥ 0 (Cauchy–Schwarz)
    let cs2 = mul_u32_wide(plane, s2);
    let s1abs = u32(abs(s1));
    let s1sq = mul_u32_wide(s1abs, s1abs);
    let t = i64_add(i64_sub(cs2, s1sq), vec2<u32>(p_u32(6u), p_u32(7u)));
    scratch[4u * k] = bitcast<u32>(s1);
    scratch[4u * k + 1u] = isqrt_u64(t);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    let plane = p_u32(2u);
    let k = i / plane;
    let c = k % p_u32(3u);
    let s1 = bitcast<i32>(scratch[4u * k]);
    let r = scratch[4u * k + 1u];
    let gamma = vec2<u32>(data[2u * c], data[2u * c + 1u]);
    let bo = 2u * p_u32(3u);
    let beta = vec2<u32>(data[bo + 2u * c], data[bo + 2u * c + 1u]);
    var y: vec2<u32>;
    if (r == 0u) {
        y = i64_div_round_half_away(beta, vec2<u32>(65536u, 0u));
    } else {
        // |d_j| ≤ 2^16·255 + 2^24: fits in i32
        let dj = i32(plane) * (in0_i32(i) - p_i32(4u)) - s1;
        let num = i64_add(i64_mul(gamma, i64_from_i32(dj)), i64_mul(beta, u64_from_u32(r)));
        y = i64_div_round_half_away(num, u64_shl(u64_from_u32(r), 16u));
    }
    // clamp y to ±512 in i64 before narrowing
    var yi: i32;
    if (i64_lt(y, i64_from_i32(-512))) {
        yi = -512;
    } else if (i64_lt(i64_from_i32(512), y)) {
        yi = 512;
    } else {
        yi = bitcast<i32>(y.x);
    }
    write_i32(i, clamp(yi + p_i32(5u), -128, 127));
}
