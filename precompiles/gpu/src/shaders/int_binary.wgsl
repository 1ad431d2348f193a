// int_binary.wgsl — IntBinary: exact i64 Add / Sub / Mul / Div / Mod / Rem / Max / Min /
// And / Or / Xor with
// broadcasting (docs/spec.md#op-intbinary). A result outside i64 and a division by zero are
// run-time errors: the first failing output element is recorded in the node's status slot,
// and `report` stores operand a there, and in the slot's fourth word 1 for a division by zero
// (0 for an overflow).
//
// params: 0 total, 1 kind (0 Add, 1 Sub, 2 Mul, 3 Div, 4 Mod, 5 Rem, 6 Max, 7 Min, 8 And,
// 9 Or, 10 Xor),
// 2 status slot, 3 broadcast block

// |a|·|b| ≤ limit (limit = 2^63 − 1, or 2^63 for a negative product), as unsigned magnitudes.
fn mul_fits(ma: vec2<u32>, mb: vec2<u32>, negative: bool) -> bool {
    if (ma.y != 0u && mb.y != 0u) {
        return false;
    }
    // at most one high word is non-zero: product = ma.x·mb.x + (cross << 32)
    let cross = mul_u32_wide(select(ma.y, mb.y, ma.y == 0u), select(mb.x, ma.x, ma.y == 0u));
    if (cross.y != 0u) {
        return false;
    }
    let low = mul_u32_wide(ma.x, mb.x);
    let hi = low.y + cross.x;
    if (hi < low.y) {
        return false;
    }
    // product = (hi, low.x) < 2^64; compare with 2^63 − 1 or 2^63
    if (hi < 0x80000000u) {
        return true;
    }
    return negative && hi == 0x80000000u && low.x == 0u;
}

// Div (3): |a| / |b| rounded toward zero, negated when the signs differ. Rem (5): the
// remainder of the magnitudes with a's sign. Mod (4): Rem moved to b's sign (r + b when they
// differ and r ≠ 0). b ≠ 0 (a zero b gives 0 here; the caller fails the element).
fn quotient_or_remainder(a: vec2<u32>, b: vec2<u32>, kind: u32) -> vec2<u32> {
    if (i64_is_zero(b)) {
        return vec2<u32>(0u, 0u);
    }
    let qr = u64_divmod(i64_abs(a), i64_abs(b));
    if (kind == 3u) {
        return select(qr.xy, i64_neg(qr.xy), i64_is_neg(a) != i64_is_neg(b));
    }
    let rem = select(qr.zw, i64_neg(qr.zw), i64_is_neg(a));
    if (kind == 4u && !i64_is_zero(rem) && i64_is_neg(rem) != i64_is_neg(b)) {
        return i64_add(rem, b);
    }
    return rem;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p_u32(0u)) {
        return;
    }
    let offs = broadcast_offsets(i, 3u);
    let a = in0_i64(offs.x);
    let b = in1_i64(offs.y);
    let kind = p_u32(1u);
    var r: vec2<u32>;
    var ok = true;
    if (kind == 0u) {
        r = i64_add(a, b);
        ok = !(i64_is_neg(a) == i64_is_neg(b) && i64_is_neg(r) != i64_is_neg(a));
    } else if (kind == 1u) {
        r = i64_sub(a, b);
        ok = !(i64_is_neg(a) != i64_is_neg(b) && i64_is_neg(r) != i64_is_neg(a));
    } else if (kind == 2u) {
        r = i64_mul(a, b);
        let negative = i64_is_neg(a) != i64_is_neg(b);
        ok = mul_fits(i64_abs(a), i64_abs(b), negative);
    } else if (kind <= 5u) {
        ok = !i64_is_zero(b);
        r = quotient_or_remainder(a, b, kind);
        // the one quotient outside i64, MIN / −1 = 2^63: operands of one sign, a quotient
        // with the sign bit set
        ok = ok && !(kind == 3u && i64_is_neg(a) == i64_is_neg(b) && i64_is_neg(r));
    } else if (kind <= 7u) {
        let a_less = i64_lt(a, b);
        r = select(select(a, b, a_less), select(b, a, a_less), kind == 7u);
    } else if (kind == 8u) {
        r = a & b;
    } else if (kind == 9u) {
        r = a | b;
    } else {
        r = a ^ b;
    }
    if (!ok) {
        fail(p_u32(2u), i);
        r = vec2<u32>(0u, 0u);
    }
    write_i64(i, r);
}

// One thread: operand a of the first failing element, for the error message.
@compute @workgroup_size(1)
fn report() {
    let slot = p_u32(2u);
    let e = failed_at(slot);
    if (e != NONE) {
        let offs = broadcast_offsets(e, 3u);
        set_fail_value(slot, in0_i64(offs.x));
        let kind = p_u32(1u);
        set_fail_reason(slot, u32(kind >= 3u && kind <= 5u && i64_is_zero(in1_i64(offs.y))));
    }
}
