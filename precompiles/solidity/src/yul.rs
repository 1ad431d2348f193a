//! Yul and Solidity text helpers shared by the emitter: identifiers, hex literals, selectors,
//! and the integer primitives of the spec written as Yul expressions (18-decimal IO
//! quantization, round-half-away division, requantization with the gemmlowp rounding of
//! `solidml_spec::arith`). Each is checked against its Rust definition by the tests.

use solidml_spec::{arith::Multiplier, artifact::keccak256, io};

use crate::layer::*;

pub(crate) fn ident(name: &str) -> String {
    let mut s: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    if s.chars().next().is_none_or(|c| c.is_ascii_digit()) || crate::names::reserved(&s).is_some() {
        s.insert(0, 'M');
    }
    s
}

/// Lower-case hex without a prefix, as Yul literals and Solidity `hex"…"` take it.
pub(crate) fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Row-major strides of a shape, as a View's strides.
pub(crate) fn row_major(shape: &[u32]) -> Vec<i64> {
    solidml_exec::index::strides(shape).into_iter().map(|s| s as i64).collect()
}

/// Estimated bytecode bytes of Yul statements as solc (optimizer off) emits them: a literal is
/// a PUSH of its significant bytes (at least one), every other identifier (a builtin, a
/// variable read as a DUP, a `let`'s SWAP/POP) about 1.5 bytes; braces, parentheses and
/// comments nothing. Within 5% of the measured runtime of the generated contracts, which is
/// enough to decide where the forward pass is cut into stage contracts (EIP-170).
pub(crate) fn code_bytes(yul: &str) -> usize {
    let (mut literal, mut other) = (0usize, 0usize);
    for line in yul.lines() {
        let line = line.split("//").next().unwrap_or("");
        for token in line.split(|c: char| !c.is_ascii_alphanumeric() && c != '_').filter(|t| !t.is_empty()) {
            let significant = if let Some(h) = token.strip_prefix("0x") {
                h.trim_start_matches('0').len().div_ceil(2)
            } else if token.as_bytes()[0].is_ascii_digit() {
                token.parse::<u128>().map_or(token.len() / 2, |v| (128 - v.leading_zeros() as usize).div_ceil(8))
            } else {
                other += 1;
                continue;
            };
            literal += 1 + significant.max(1);
        }
    }
    literal + other * 3 / 2
}

pub(crate) fn selector(sig: &str) -> String {
    format!("0x{}", hex(&keccak256(sig.as_bytes())[..4]))
}

/// Yul statements setting `w` to `q − lo` for the quantized value `q` of the 18-decimal `x` in
/// the code range `(lo, hi)` of the tensor's type (io.rs `quantize_fixed18_in`, exactly; for
/// int8, `w` is the biased code `q + 128`): `x` is clamped to ±2^100, then
/// `q = clamp(zp + round_half_even(x·2^sh / D), lo, hi)`.
pub(crate) fn quantize_yul_in(scale: f32, zp: i32, x: &str, (lo, hi): (i64, i64)) -> Result<String, String> {
    let (mant, e) = io::scale_parts(scale);
    let zpb = zp as i128 - lo as i128;
    let span = (hi - lo) as i128;
    // reference: e ≥ 0 with den = 1e18·m·2^e beyond i128 (or e > 60) quantizes everything to zp
    let (sh, den): (u32, i128) = if e >= 0 {
        match (io::FIXED18_ONE * mant).checked_mul(1i128 << e.min(60)) {
            Some(d) if e <= 60 => (0, d),
            _ => return Ok(format!("let w := {}", zpb.clamp(0, span))),
        }
    } else {
        ((-e).min(126) as u32, io::FIXED18_ONE * mant)
    };
    // num = x·2^sh with |x| ≤ 2^100 (larger |x| are clamped to ±2^100 by the reference: the
    // result is then a constant per sign, computed here with the reference itself),
    // |num| ≤ 2^226. The reference saturates when num leaves i128; the exact quotient then
    // has |q| > 2^43 and saturates the same way (every code range lies within ±2^32, zero
    // points within ±2^31), so exact math suffices.
    // n' = num + 2^j·den + den/2 with 2^j·den ≥ 2^227 is ≥ 0 and < 2^229: div(n', den) − 2^j
    // is num/den rounded half up; on an exact tie (mod(n', den) = 0: den is even, a multiple of
    // 1e18) half-even takes the even neighbour, q − (q & 1), with the parity of div(n', den)
    // (2^j is even). Then + zp − lo and one unsigned compare for both clamps.
    let j = 227 - (127 - den.leading_zeros());
    let off = crate::layer::word(crate::layer::pack(&[den / 2, den], j)); // 2^j·den + den/2
    let unbias = crate::layer::word(crate::layer::pack(&[-zpb, 1], j)); // 2^j − (zp − lo)
    // |x| > 2^100 is clamped to ±2^100 first, as the reference does; the normal path then gives
    // the reference's constant for that sign
    let bound = 1i128 << 100;
    Ok(format!(
        "let w := {x}\n\
         if gt(add(w, {bound}), {b2}) {{ w := sub(mul(sgt(w, 0), {b2}), {bound}) }}\n\
         w := add(shl({sh}, w), {off})\n\
         let q := div(w, {den})\n\
         if iszero(mod(w, {den})) {{ q := sub(q, and(q, 1)) }}\n\
         w := sub(q, {unbias})\n\
         if gt(w, {span}) {{ w := mul({span}, sgt(w, 0)) }}",
        b2 = 2 * bound
    ))
}

/// Yul statements setting `r` to the 18-decimal value of the int8 whose biased value is `xb`
/// (io.rs `dequantize_fixed18`, exactly): `round_half_even((q − zp)·m·10^18·2^e)`.
pub(crate) fn dequantize_yul(scale: f32, zp: i32) -> Result<String, String> {
    let (mant, e) = io::scale_parts(scale);
    let c = mant * io::FIXED18_ONE;
    // compile-time check that every code gives a value in i128 (the reference's arithmetic)
    for q in -128i128..=127 {
        let v = (q - zp as i128) * c;
        if e >= 0 && v.checked_mul(1i128 << e.min(60)).is_none() {
            return Err("output scale too large for 18-decimal fixed point".into());
        }
    }
    let zpb = zp as i128 + 128;
    let d = format!("mul({}, {c})", add_const("xb", -zpb));
    if e >= 0 {
        return Ok(format!("let r := shl({}, {d})", e.min(60)));
    }
    let sh = (-e).min(126) as u32;
    let half = 1i128 << (sh - 1);
    // floor and remainder of v / 2^sh; ties to even
    Ok(format!(
        "let v := {d}\nlet r := sar({sh}, v)\nlet rem := and(v, {})\nr := add(r, add(gt(rem, {half}), and(eq(rem, {half}), and(r, 1))))",
        (1i128 << sh) - 1
    ))
}

/// Yul statements setting `r` to the 18-decimal value of the code `q` (a signed word: an
/// int16 or int32 code) of a tensor with `scale` and `zp` (io.rs `dequantize_fixed18`,
/// exactly): `round_half_even((q − zp)·m·10^18·2^e)`, saturated to the i128 range as the
/// reference does (only scales far above 1 reach it).
pub(crate) fn dequantize_code_yul(scale: f32, zp: i32, q: &str, (lo, hi): (i64, i64)) -> String {
    let (mant, e) = io::scale_parts(scale);
    let c = mant * io::FIXED18_ONE;
    // |q − zp| < 2^33, c < 2^84: |v| < 2^117, exact in a signed word
    let d = format!("mul({}, {c})", add_const(q, -(zp as i128)));
    if e < 0 {
        let sh = (-e).min(126) as u32;
        let half = 1i128 << (sh - 1);
        // floor and remainder of v / 2^sh; ties to even (|v| < 2^117: never beyond i128)
        return format!(
            "let v := {d}\nlet r := sar({sh}, v)\nlet rem := and(v, {})\nr := add(r, add(gt(rem, {half}), and(eq(rem, {half}), and(r, 1))))",
            (1i128 << sh) - 1
        );
    }
    // v·2^e (e ≤ 104: |v·2^e| < 2^221, exact), saturated to i128 where the codes can reach it
    let mut y = format!("let r := shl({e}, {d})");
    let reach = (lo as i128 - zp as i128).abs().max((hi as i128 - zp as i128).abs()) * c;
    // reach·2^e < 2^127 ⟺ e < leading_zeros(reach) (reach < 2^117 as an i128)
    if reach > 0 && e as u32 >= reach.leading_zeros() {
        y.push_str(&format!(
            "\nif slt(r, sub(0, {m})) {{ r := sub(0, {m}) }}\nif sgt(r, {max}) {{ r := {max} }}",
            m = 1u128 << 127,
            max = i128::MAX
        ));
    }
    y
}

/// `v := v + k` as a Yul statement.
pub(crate) fn add_const_stmt(v: &str, k: i128) -> String {
    format!("{v} := {}", add_const(v, k))
}

/// Yul statements: `acc := div_round_half_away(acc, count)` (count > 0, compile time).
pub(crate) fn div_half_away_yul(acc: &str, count: usize) -> String {
    format!(
        "{{\n    let q := sdiv({acc}, {count})\n    let rm := smod({acc}, {count})\n    if slt(rm, 0) {{ rm := sub(0, rm) }}\n    if iszero(lt(shl(1, rm), {count})) {{ switch slt({acc}, 0) case 0 {{ q := add(q, 1) }} default {{ q := sub(q, 1) }} }}\n    {acc} := q\n}}"
    )
}

/// Yul statements setting `r` to `requantize(x, m)` (arith.rs, exactly) for an i32 value `x`
/// known only at run time: saturating left shift, `srdhm = ⌊(y·m + 2^30) / 2^31⌋` (both signs,
/// m ≥ 0), then `rdbpot` folded into one floor as in [`dense`].
pub(crate) fn requant_raw_yul(m: Multiplier, x: &str) -> String {
    if m.multiplier == 0 {
        return "let r := 0".into();
    }
    let mm = m.multiplier;
    if m.shift > 0 {
        format!(
            "let r := shl({}, {x})\nif slt(r, sub(0, 0x80000000)) {{ r := sub(0, 0x80000000) }}\nif sgt(r, 0x7fffffff) {{ r := 0x7fffffff }}\nr := sar(31, add(mul(r, {mm}), 0x40000000))",
            m.shift
        )
    } else if m.shift == 0 {
        format!("let r := sar(31, add(mul({x}, {mm}), 0x40000000))")
    } else {
        let e = (-m.shift) as u32;
        format!("let r := add(mul({x}, {mm}), 0x40000000)\nr := sar({}, sub(add(r, {}), shl(31, slt(r, 0))))", 31 + e, 1i128 << (30 + e))
    }
}

/// Yul statements setting `r` to the biased output `clamp(requantize(x, m) + zp, lo, hi) + 128`.
pub(crate) fn requant_yul(m: Multiplier, x: &str, zp: i32, lo: i32, hi: i32) -> String {
    format!(
        "{}\nr := add(r, {})\nif slt(r, {}) {{ r := {} }}\nif sgt(r, {}) {{ r := {} }}",
        requant_raw_yul(m, x),
        zp as i128 + 128,
        lo + 128,
        lo + 128,
        hi + 128,
        hi + 128
    )
}

/// A Yul function `isqrt(a) -> z`: `⌊√a⌋` for an unsigned `a` (Newton's method from a power of
/// two above the root, which decreases to the exact floor).
pub(crate) const ISQRT_YUL: &str = "function isqrt(a) -> z {
    z := a
    if gt(a, 1) {
        let b := 0
        for { let t := a } t { t := shr(1, t) } { b := add(b, 1) }
        z := shl(shr(1, add(b, 1)), 1)
        let w := shr(1, add(z, div(a, z)))
        for {} lt(w, z) {} {
            z := w
            w := shr(1, add(z, div(a, z)))
        }
    }
}";

/// A Yul function `div_half_away(a, d) -> q`: the spec's `div_round_half_away` of a signed `a`
/// by `d > 0` (truncate, then one step away from zero when `2·|remainder| ≥ d`).
pub(crate) const DIV_HALF_AWAY_YUL: &str = "function div_half_away(a, d) -> q {
    q := sdiv(a, d)
    let rm := smod(a, d)
    if slt(rm, 0) { rm := sub(0, rm) }
    if iszero(lt(shl(1, rm), d)) { switch slt(a, 0) case 0 { q := add(q, 1) } default { q := sub(q, 1) } }
}";
