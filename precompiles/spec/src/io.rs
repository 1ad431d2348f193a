//! Quantization at the model boundary: real numbers in, real numbers out.
//!
//! A tensor's scale is an `f32`, so it is exactly `m · 2^e` with an integer mantissa `m`; this
//! module states IO conversion as exact functions of that rational value.
//!
//! * **Quantize** (ONNX `QuantizeLinear`): `q = clamp(zp + round_half_even(x / s), −128, 127)`.
//!   For `f32` inputs the quotient is taken in `f64`: both operands have 24-bit mantissas, so a
//!   quotient that is not exactly a half-integer lies more than one `f64` ulp away from one, and
//!   the rounding decision is the exact one.
//! * **Quantize from 18-decimal fixed point** (`X = x · 10^18`, what Solidity passes): the same
//!   formula evaluated exactly in integers, [`quantize_fixed18`].
//! * **Dequantize**: `x = (q − zp) · s`, exact in `f64` and then rounded to `f32` for `.npy`
//!   outputs; to 18-decimal fixed point, [`dequantize_fixed18`] rounds half to even.

/// `10^18`, one in 18-decimal fixed point.
pub const FIXED18_ONE: i128 = 1_000_000_000_000_000_000;

/// Round `x` to the nearest integer, halves to even (ONNX `QuantizeLinear`'s rule).
pub fn round_half_even(x: f64) -> f64 {
    x.round_ties_even()
}

/// Quantize one real value given as `f32` to int8.
pub fn quantize_f32(x: f32, scale: f32, zero_point: i32) -> i8 {
    quantize_f32_in(x, scale, zero_point, (-128, 127)) as i8
}

/// Quantize one real value given as `f32` to the code range `(lo, hi)` of the tensor's type
/// (`solidml_spec::DType::code_range`): `clamp(zp + round_half_even(x / s), lo, hi)`; NaN gives
/// the zero point. The quotient in `f64` decides ties exactly for every range up to i32.
pub fn quantize_f32_in(x: f32, scale: f32, zero_point: i32, (lo, hi): (i64, i64)) -> i64 {
    if x.is_nan() {
        return (zero_point as i64).clamp(lo, hi);
    }
    let q = (x as f64 / scale as f64).round_ties_even();
    (q + zero_point as f64).clamp(lo as f64, hi as f64) as i64
}

/// Dequantize one code (any quantized type, widened to i32) to `f32`.
pub fn dequantize_f32(q: i32, scale: f32, zero_point: i32) -> f32 {
    ((q as i64 - zero_point as i64) as f64 * scale as f64) as f32
}

/// Split a positive finite `f32` into `(m, e)` with `scale = m · 2^e` exactly.
pub fn scale_parts(scale: f32) -> (i128, i32) {
    let bits = scale.to_bits();
    let exp = ((bits >> 23) & 0xff) as i32;
    let frac = (bits & 0x7f_ffff) as i128;
    if exp == 0 { (frac, -149) } else { (frac | 0x80_0000, exp - 150) }
}

/// `num / den` rounded half to even, exact (`den > 0`).
fn div_round_half_even(num: i128, den: i128) -> i128 {
    let q = num.div_euclid(den);
    let r = num.rem_euclid(den);
    // `r` against `den − r` rather than `2r` against `den`: `den` may be close to 2^127
    match r.cmp(&(den - r)) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + (q & 1),
    }
}

/// Quantize an 18-decimal fixed-point value: `clamp(zp + round_half_even(X / (10^18 · s)))`.
/// Values whose quotient exceeds the int8 range saturate; nothing overflows for any `i128` X
/// within ±2^100 (far beyond int256 inputs that matter: larger inputs saturate first).
pub fn quantize_fixed18(x: i128, scale: f32, zero_point: i32) -> i8 {
    quantize_fixed18_in(x, scale, zero_point, (-128, 127)) as i8
}

/// [`quantize_fixed18`] to the code range `(lo, hi)` of the tensor's type.
pub fn quantize_fixed18_in(x: i128, scale: f32, zero_point: i32, (lo, hi): (i64, i64)) -> i64 {
    let (m, e) = scale_parts(scale);
    // x / (1e18 · m · 2^e)
    let x = x.clamp(-(1i128 << 100), 1i128 << 100);
    let (num, den) = if e >= 0 {
        // den = 1e18 · m · 2^e may overflow for huge scales: then |q| < 1 for all clamped x
        match (FIXED18_ONE * m).checked_mul(1i128 << e.min(60)) {
            Some(d) if e <= 60 => (x, d),
            _ => (0, 1),
        }
    } else {
        let sh = (-e).min(126) as u32;
        // num = x · 2^-e; shrink if needed, saturating the result (|x·2^-e| huge ⇒ saturates)
        match x.checked_mul(1i128 << sh.min(126)) {
            Some(n) => (n, FIXED18_ONE * m),
            None => (x.signum() * (1i128 << 120), 1),
        }
    };
    let q = div_round_half_even(num, den) + zero_point as i128;
    q.clamp(lo as i128, hi as i128) as i64
}

/// Dequantize to 18-decimal fixed point: `round_half_even((q − zp) · s · 10^18)`, saturated to
/// the i128 range `[−2^127, 2^127 − 1]` (reached only for scales above `≈ 6.7 · 10^17`).
pub fn dequantize_fixed18(q: i32, scale: f32, zero_point: i32) -> i128 {
    let (m, e) = scale_parts(scale);
    // |q − zp| < 2^33 (any i32s), m < 2^24, 10^18 < 2^60: |v| < 2^117, exact
    let v = (q as i128 - zero_point as i128) * m * FIXED18_ONE;
    if e < 0 {
        // 2^−e > 2^126 > |v| · 2 for the exponents below −126: the quotient rounds to 0 either way
        return div_round_half_even(v, 1i128 << (-e).min(126));
    }
    // v · 2^e is an integer: exact while |v| · 2^e < 2^127, i.e. e < leading_zeros(|v|)
    if v == 0 || (e as u32) < v.unsigned_abs().leading_zeros() {
        v << e
    } else if v > 0 {
        i128::MAX
    } else {
        i128::MIN
    }
}

/// The 18-decimal fixed-point value nearest to an `f32` (halves to even), saturating at
/// ±2^100: how real inputs become `predict`'s `int256` arguments.
pub fn f32_to_fixed18(x: f32) -> i128 {
    if x.is_nan() || x == 0.0 {
        return 0;
    }
    let bound = 1i128 << 100;
    if x.abs() > 1e12 {
        return if x > 0.0 { bound } else { -bound };
    }
    let (m, e) = scale_parts(x.abs());
    let v = m * FIXED18_ONE;
    let r = if e >= 0 { v << e } else { div_round_half_even(v, 1i128 << (-e).min(126)) };
    if x < 0.0 { -r } else { r }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed18_dequantization_saturates_beyond_i128() {
        // s = f32::MAX = (2^24 − 1) · 2^104: (q − zp) · s · 10^18 is far beyond 2^127
        assert_eq!(dequantize_fixed18(6, f32::MAX, 5), i128::MAX);
        assert_eq!(dequantize_fixed18(4, f32::MAX, 5), i128::MIN);
        assert_eq!(dequantize_fixed18(5, f32::MAX, 5), 0);
        // 2^60 · 10^18 · 2^3 < 2^127 (exact); 2^60 · 10^18 · 255 · 2^3 is not
        assert_eq!(dequantize_fixed18(1, 2f32.powi(60), 0), (1i128 << 60) * FIXED18_ONE);
        assert_eq!(dequantize_fixed18(127, 2f32.powi(60), -128), i128::MAX);
    }

    #[test]
    fn fixed18_quantization_of_huge_scales_does_not_overflow() {
        // 1e20 = m · 2^43: the denominator 10^18 · m · 2^43 is just under 2^127 (twice the
        // remainder overflowed i128 here once)
        for x in [0, 1, -1, 1 << 100, -(1 << 100), i128::MAX, i128::MIN] {
            assert_eq!(quantize_fixed18(x, 1e20, 3), 3, "{x}");
        }
        assert_eq!(div_round_half_even(i128::MAX - 1, i128::MAX), 1);
        assert_eq!(div_round_half_even(i128::MAX / 2, i128::MAX), 0);
    }

    #[test]
    fn quantize_ties_to_even() {
        assert_eq!(quantize_f32(0.5, 1.0, 0), 0);
        assert_eq!(quantize_f32(1.5, 1.0, 0), 2);
        assert_eq!(quantize_f32(-0.5, 1.0, 0), 0);
        assert_eq!(quantize_f32(-1.5, 1.0, 0), -2);
        assert_eq!(quantize_f32(1000.0, 1.0, 0), 127);
        assert_eq!(quantize_f32(-1000.0, 1.0, 3), -128);
        assert_eq!(quantize_f32(0.3, 0.1, -5), -2);
    }

    #[test]
    fn fixed18_agrees_with_f32_path() {
        let scales = [0.1f32, 0.0625, 0.003921569, 1.7, 13.0, 1e-6];
        let xs = [-3.75f32, -1.0, -0.05, 0.0, 0.05, 0.2, 1.0, 2.5, 7.125, 100.0];
        for &s in &scales {
            for &x in &xs {
                for zp in [-128, -3, 0, 17] {
                    // x as f32 is an exact rational; feed the same rational as fixed point when
                    // it has a finite 18-decimal expansion (dyadic values below do).
                    let fixed = (x as f64 * 1e18) as i128;
                    if (fixed as f64 / 1e18) as f32 != x || x.fract() * 8.0 != (x.fract() * 8.0).trunc() {
                        continue;
                    }
                    assert_eq!(quantize_fixed18(fixed, s, zp), quantize_f32(x, s, zp), "x={x} s={s} zp={zp}");
                }
            }
        }
    }

    #[test]
    fn f32_to_fixed18_is_exact_rounding() {
        assert_eq!(f32_to_fixed18(1.5), 1_500_000_000_000_000_000);
        assert_eq!(f32_to_fixed18(-0.25), -250_000_000_000_000_000);
        // 0.1f32 = 13421773 · 2^-27 = 0.100000001490116119384765625
        assert_eq!(f32_to_fixed18(0.1), 100_000_001_490_116_119);
        assert_eq!(f32_to_fixed18(0.0), 0);
        for &x in &[0.3f32, -7.125, 16.0, 1e-7] {
            assert_eq!(quantize_fixed18(f32_to_fixed18(x), 0.05, 3), quantize_f32(x, 0.05, 3), "{x}");
        }
    }

    #[test]
    fn dequantize_fixed18_is_exact_for_dyadic_scales() {
        assert_eq!(dequantize_fixed18(10, 0.25, 2), 2 * FIXED18_ONE);
        assert_eq!(dequantize_fixed18(-128, 0.5, 0), -64 * FIXED18_ONE);
        let (m, e) = scale_parts(0.1);
        assert_eq!(m as f64 * 2f64.powi(e), 0.1f32 as f64);
        assert_eq!(round_half_even(2.5), 2.0);
        assert_eq!(round_half_even(-3.5), -4.0);
    }
}
