// dense_wide.wgsl — DenseWide (docs/spec.md#op-densewide), exact in 32-bit WGSL:
//   acc = bias[j] + Σ_k w[j,k]·(x[r,k] − zp_in)           exact i64 (|acc| ≤ 2^62, validated)
//   v   = acc, or scale_wide(acc, M_j) = sign(p)·⌊(|p| + 2^(s−1)) / 2^s⌋, p = acc·m, s = 31 − shift
//   y   = clamp(v + zp_out, clamp_min, clamp_max)          decided on the exact value
//
// params: 0 total outputs (rows·N), 1 K, 2 N, 3 nmult (0, 1 or N), 4 mult_off, 5 w_off,
//         6 input zero point, 7 output zero point, 8 clamp_min, 9 clamp_max, 10 chunks per
//         output, 11 chunk length L, 12 first output of the batch, 13 batch outputs
// data:   bias [N] as i64 (two words each, low first) at 0, multipliers (multiplier, shift) at
//         mult_off, weights at w_off: two i16 per word, weight j·K + k in word (j·K + k) / 2,
//         the low half for an even index.
// in0:    x, int8 or int16 codes, one sign-extended i32 per element; out_buf: y, one i32 per
//         element whatever its type (int8, int16 or int32).
//
// An i64 is a vec2<u32> (arith.wgsl). Each product w·(x − zp) has |w| ≤ 32767 and
// |x − zp| ≤ 65535, so it is exact in i32 (< 2^31) and joins the accumulator sign-extended;
// the i64 sums wrap modulo 2^64, which is exact since the true accumulator (and every partial
// sum, bounded by Σ|w|·65535 + |bias| ≤ 2^62) fits. scale_wide multiplies |acc| (< 2^63) by the
// mantissa (< 2^31) into 96 bits (three u32 limbs), adds 2^(s−1) and shifts right by s ∈ 1..=62.
//
// `main`: one thread per output when K ≤ L (ops/dense_wide.rs: L ≥ 4,096, doubled while fewer
// than the chunks). Longer rows in two passes over batches of outputs, as lavapipe ends an
// invocation's loops after about 65,535 iterations in all:
//   partial: one thread per (output of the batch, chunk of L inputs) → its i64 partial sum at
//            scratch[2t], scratch[2t + 1]
//   combine: one thread per output of the batch sums its partials, adds the bias, finishes.

// Weight j·K + k (flat index `i`), sign-extended.
fn weight(i: u32) -> i32 {
    let word = bitcast<i32>(data[p_u32(5u) + i / 2u]);
    return extractBits(word, 16u * (i & 1u), 16u);
}

// The sum of w[j,k]·(x[r,k] − zp_in) over k in [k0, k1) for output i = r·N + j, without the bias.
fn accumulate(i: u32, k0: u32, k1: u32) -> vec2<u32> {
    let k = p_u32(1u);
    let n = p_u32(2u);
    let zp = p_i32(6u);
    let j = i % n;
    let r = i / n;
    let wbase = j * k;
    let xbase = r * k;
    var acc = vec2<u32>(0u, 0u);
    for (var t = k0; t < k1; t++) {
        // |w| ≤ 32767, |x − zp| ≤ 65535: the product is exact in i32
        acc = i64_add(acc, i64_from_i32(weight(wbase + t) * (in0_i32(xbase + t) - zp)));
    }
    return acc;
}

// 96-bit unsigned a·m for a < 2^64, m < 2^32: limbs low first.
fn u64_mul_u32(a: vec2<u32>, m: u32) -> vec3<u32> {
    let lo = mul_u32_wide(a.x, m);
    let hi = mul_u32_wide(a.y, m);
    let w1 = lo.y + hi.x;
    let carry = select(0u, 1u, w1 < lo.y);
    return vec3<u32>(lo.x, w1, hi.y + carry);
}

// 96-bit unsigned a >> s, s in 1..=63.
fn u96_shr(a: vec3<u32>, s: u32) -> vec3<u32> {
    var v = a;
    var e = s;
    if (e >= 32u) {
        v = vec3<u32>(v.y, v.z, 0u);
        e = e - 32u;
    }
    if (e == 0u) {
        return v;
    }
    return vec3<u32>((v.x >> e) | (v.y << (32u - e)), (v.y >> e) | (v.z << (32u - e)), v.z >> e);
}

// clamp(±q + zp, lo, hi) for a magnitude q (96 bits) and its sign, exactly: beyond 2^33 the
// sum lies outside the i32 range whatever zp, so the clamp is decided by the sign alone;
// below it the sum is computed in i64.
fn clamp_wide(neg: bool, q: vec3<u32>, zp: i32, lo: i32, hi: i32) -> i32 {
    if (q.z != 0u || q.y >= 2u) {
        return select(hi, lo, neg);
    }
    let m = vec2<u32>(q.x, q.y);
    let v = i64_add(select(m, i64_neg(m), neg), i64_from_i32(zp));
    if (i64_lt(v, i64_from_i32(lo))) {
        return lo;
    }
    if (i64_lt(i64_from_i32(hi), v)) {
        return hi;
    }
    return bitcast<i32>(v.x);
}

// Output i = r·N + j from its accumulator without the bias: bias, scale_wide, zero point, clamp.
fn finish(i: u32, sum: vec2<u32>) {
    let j = i % p_u32(2u);
    let acc = i64_add(sum, vec2<u32>(data[2u * j], data[2u * j + 1u]));
    let neg = i64_is_neg(acc);
    let mag = i64_abs(acc);
    var q = vec3<u32>(mag.x, mag.y, 0u);
    let nm = p_u32(3u);
    if (nm != 0u) {
        let at = p_u32(4u) + 2u * select(j, 0u, nm == 1u);
        let s = u32(31 - data_i32(at + 1u));
        let p = u64_mul_u32(mag, data[at]);
        // + 2^(s−1) (s − 1 ≤ 61: into the low 64 bits, carry into the top limb)
        let half = u64_shl(vec2<u32>(1u, 0u), s - 1u);
        let low = i64_add(vec2<u32>(p.x, p.y), half);
        let top = p.z + select(0u, 1u, u64_lt(low, half));
        q = u96_shr(vec3<u32>(low.x, low.y, top), s);
    }
    write_i32(i, clamp_wide(neg, q, p_i32(7u), p_i32(8u), p_i32(9u)));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    finish(i, accumulate(i, 0u, p_u32(1u)));
}

@compute @workgroup_size(64)
fn partial(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_index(gid, nwg);
    let chunks = p_u32(10u);
    if (t >= p_u32(13u) * chunks) {
        return;
    }
    let len = p_u32(11u);
    let k0 = (t % chunks) * len;
    let a = accumulate(p_u32(12u) + t / chunks, k0, min(k0 + len, p_u32(1u)));
    scratch[2u * t] = a.x;
    scratch[2u * t + 1u] = a.y;
}

@compute @workgroup_size(64)
fn combine(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_index(gid, nwg);
    if (t >= p_u32(13u)) {
        return;
    }
    let chunks = p_u32(10u);
    // i64 sums wrap modulo 2^64, exactly: the true accumulator fits
    var acc = vec2<u32>(0u, 0u);
    for (var c = 0u; c < chunks; c++) {
        let at = 2u * (t * chunks + c);
        acc = i64_add(acc, vec2<u32>(scratch[at], scratch[at + 1u]));
    }
    finish(p_u32(12u) + t, acc);
}
