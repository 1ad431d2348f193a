// arith.wgsl — the exact integer primitives of the arithmetic contract (docs/spec.md,
// "Primitives"; precompiles/spec/src/arith.rs), in 32-bit WGSL. Prepended to every op shader.
//
// WGSL has no 64-bit integers in core: a 64-bit value is a vec2<u32> (x = low word, y = high
// word), two's complement when signed. i32 `+ - *` wrap modulo 2^32 in WGSL, which the
// kernels rely on where the exact result is known to fit in i32.

const I32_MIN: i32 = -2147483647 - 1;
const I32_MAX: i32 = 2147483647;

// ---- 64-bit helpers -------------------------------------------------------------------------

fn i64_from_i32(x: i32) -> vec2<u32> {
    return vec2<u32>(bitcast<u32>(x), select(0u, 0xffffffffu, x < 0));
}

fn u64_from_u32(x: u32) -> vec2<u32> {
    return vec2<u32>(x, 0u);
}

fn i64_add(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    let lo = a.x + b.x;
    let carry = select(0u, 1u, lo < a.x);
    return vec2<u32>(lo, a.y + b.y + carry);
}

fn i64_sub(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    let lo = a.x - b.x;
    let borrow = select(0u, 1u, a.x < b.x);
    return vec2<u32>(lo, a.y - b.y - borrow);
}

fn i64_neg(a: vec2<u32>) -> vec2<u32> {
    return i64_sub(vec2<u32>(0u, 0u), a);
}

fn i64_is_neg(a: vec2<u32>) -> bool {
    return (a.y >> 31u) == 1u;
}

fn i64_is_zero(a: vec2<u32>) -> bool {
    return a.x == 0u && a.y == 0u;
}

// |a| as an unsigned 64-bit value (|−2^63| = 2^63 fits).
fn i64_abs(a: vec2<u32>) -> vec2<u32> {
    return select(a, i64_neg(a), i64_is_neg(a));
}

// Signed a < b.
fn i64_lt(a: vec2<u32>, b: vec2<u32>) -> bool {
    let ah = bitcast<i32>(a.y);
    let bh = bitcast<i32>(b.y);
    return ah < bh || (ah == bh && a.x < b.x);
}

// Unsigned a < b.
fn u64_lt(a: vec2<u32>, b: vec2<u32>) -> bool {
    return a.y < b.y || (a.y == b.y && a.x < b.x);
}

// Unsigned 32 × 32 → 64 product, from 16-bit limbs.
fn mul_u32_wide(a: u32, b: u32) -> vec2<u32> {
    let a0 = a & 0xffffu;
    let a1 = a >> 16u;
    let b0 = b & 0xffffu;
    let b1 = b >> 16u;
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
    let lo = (p00 & 0xffffu) | (mid << 16u);
    let hi = p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
    return vec2<u32>(lo, hi);
}

// Signed 32 × 32 → 64 product (exact).
fn mul_i32_wide(a: i32, b: i32) -> vec2<u32> {
    let u = mul_u32_wide(bitcast<u32>(a), bitcast<u32>(b));
    var hi = u.y;
    if (a < 0) { hi = hi - bitcast<u32>(b); }
    if (b < 0) { hi = hi - bitcast<u32>(a); }
    return vec2<u32>(u.x, hi);
}

// Low 64 bits of a 64 × 64 product (wrapping; exact for signed values whose product fits).
fn i64_mul(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    let p = mul_u32_wide(a.x, b.x);
    return vec2<u32>(p.x, p.y + a.x * b.y + a.y * b.x);
}

fn u64_shl(a: vec2<u32>, s: u32) -> vec2<u32> {
    if (s == 0u) { return a; }
    if (s >= 64u) { return vec2<u32>(0u, 0u); }
    if (s >= 32u) { return vec2<u32>(0u, a.x << (s - 32u)); }
    return vec2<u32>(a.x << s, (a.y << s) | (a.x >> (32u - s)));
}

fn u64_shr(a: vec2<u32>, s: u32) -> vec2<u32> {
    if (s == 0u) { return a; }
    if (s >= 64u) { return vec2<u32>(0u, 0u); }
    if (s >= 32u) { return vec2<u32>(a.y >> (s - 32u), 0u); }
    return vec2<u32>((a.x >> s) | (a.y << (32u - s)), a.y >> s);
}

// Unsigned 64-bit division: returns (quotient.lo, quotient.hi, remainder.lo, remainder.hi).
// 0 < d < 2^63. Restoring binary long division, 64 steps.
fn u64_divmod(n: vec2<u32>, d: vec2<u32>) -> vec4<u32> {
    var q = vec2<u32>(0u, 0u);
    var r = vec2<u32>(0u, 0u);
    for (var i = 63i; i >= 0; i = i - 1) {
        // r = (r << 1) | bit i of n
        let bit = select((n.x >> u32(i)) & 1u, (n.y >> u32(i - 32)) & 1u, i >= 32);
        r = vec2<u32>((r.x << 1u) | bit, (r.y << 1u) | (r.x >> 31u));
        if (!u64_lt(r, d)) {
            r = i64_sub(r, d);
            if (i >= 32) { q.y = q.y | (1u << u32(i - 32)); } else { q.x = q.x | (1u << u32(i)); }
        }
    }
    return vec4<u32>(q.x, q.y, r.x, r.y);
}

// `div_round_half_away(a, b)` on i64, b > 0: a / b rounded to nearest, halves away from zero.
fn i64_div_round_half_away(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    let qr = u64_divmod(i64_abs(a), b);
    var q = qr.xy;
    let r = qr.zw;
    // 2r ≥ b  ⇔  r ≥ b − r  (r < b, no overflow)
    if (!u64_lt(r, i64_sub(b, r))) {
        q = i64_add(q, vec2<u32>(1u, 0u));
    }
    return select(q, i64_neg(q), i64_is_neg(a));
}

// `div_round_half_away(a, b)` on i32, b > 0.
fn div_round_half_away_i32(a: i32, b: i32) -> i32 {
    let mag = select(bitcast<u32>(a), 0u - bitcast<u32>(a), a < 0);
    let ub = bitcast<u32>(b);
    var q = mag / ub;
    let r = mag - q * ub;
    if (r >= ub - r) {
        q = q + 1u;
    }
    return select(bitcast<i32>(q), -bitcast<i32>(q), a < 0);
}

// Unsigned a / b rounded half up (a, b ≥ 0 as u32, b > 0).
fn div_round_half_away_u32(a: u32, b: u32) -> u32 {
    var q = a / b;
    let r = a - q * b;
    if (r >= b - r) {
        q = q + 1u;
    }
    return q;
}

// ⌊√n⌋ for an unsigned 64-bit n (result < 2^32): bit-by-bit from the top.
fn isqrt_u64(n: vec2<u32>) -> u32 {
    var res = 0u;
    for (var b = 31i; b >= 0; b = b - 1) {
        let cand = res | (1u << u32(b));
        let sq = mul_u32_wide(cand, cand);
        if (!u64_lt(n, sq)) {
            res = cand;
        }
    }
    return res;
}

// ---- the contract's primitives ---------------------------------------------------------------

// gemmlowp SaturatingRoundingDoublingHighMul: ⌊(a·b + 2^30) / 2^31⌋, saturating at a = b = −2^31.
fn srdhm(a: i32, b: i32) -> i32 {
    if (a == I32_MIN && b == I32_MIN) {
        return I32_MAX;
    }
    let p = i64_add(mul_i32_wide(a, b), vec2<u32>(0x40000000u, 0u));
    // arithmetic shift right by 31; the result fits in i32, so its low word is the answer
    return bitcast<i32>((p.x >> 31u) | (p.y << 1u));
}

// gemmlowp RoundingDivideByPOT: x / 2^e, halves away from zero; e in 0..=31.
fn rdbpot(x: i32, e: u32) -> i32 {
    if (e == 0u) {
        return x;
    }
    let mask = (1u << e) - 1u;
    let remainder = bitcast<u32>(x) & mask;
    let threshold = (mask >> 1u) + select(0u, 1u, x < 0);
    return (x >> e) + select(0, 1, remainder > threshold);
}

// sat32(x · 2^left), left in 0..=30.
fn shl_sat(x: i32, left: u32) -> i32 {
    if (left == 0u) {
        return x;
    }
    if (x > (I32_MAX >> left)) {
        return I32_MAX;
    }
    if (x < (I32_MIN >> left)) {
        return I32_MIN;
    }
    return x << left;
}

// TFLite MultiplyByQuantizedMultiplier with a saturating left shift.
fn requantize(x: i32, multiplier: i32, shift: i32) -> i32 {
    let left = u32(max(shift, 0));
    let right = u32(max(-shift, 0));
    return rdbpot(srdhm(shl_sat(x, left), multiplier), right);
}

// i32 addition saturating to the i32 range.
fn sat_add(a: i32, b: i32) -> i32 {
    let s = a + b;
    if (b > 0 && s < a) {
        return I32_MAX;
    }
    if (b < 0 && s > a) {
        return I32_MIN;
    }
    return s;
}

// clamp(sat32(requantize(x, M) + zp), lo, hi)
fn requantize_clamp(x: i32, multiplier: i32, shift: i32, zp: i32, lo: i32, hi: i32) -> i32 {
    return clamp(sat_add(requantize(x, multiplier, shift), zp), lo, hi);
}
