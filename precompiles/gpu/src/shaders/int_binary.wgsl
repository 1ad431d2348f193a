// int_binary.wgsl — IntBinary: exact i64 Add / Sub / Mul with broadcasting
// (docs/spec.md#op-intbinary). A result outside i64 is a run-time error: the first failing
// output element is recorded in the node's status slot, and `report` stores operand a there.
//
// params: 0 total, 1 kind (0 Add, 1 Sub, 2 Mul), 2 status slot, 3 broadcast block

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
    } else {
        r = i64_mul(a, b);
        let negative = i64_is_neg(a) != i64_is_neg(b);
        ok = mul_fits(i64_abs(a), i64_abs(b), negative);
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
        set_fail_value(slot, in0_i64(broadcast_offsets(e, 3u).x));
    }
}
