//! The exact integer primitives of the arithmetic contract.
//!
//! Every executor (CPU, EVM, WGSL) implements these functions bit for bit. They are the
//! gemmlowp / TFLite definitions, restated here as total functions over `i32` so that no input
//! is undefined behaviour:
//!
//! * [`saturating_rounding_doubling_high_mul`] — gemmlowp's `SaturatingRoundingDoublingHighMul`:
//!   `(a·b + nudge) / 2^31` truncated toward zero, with `nudge = 2^30` when `a·b ≥ 0` and
//!   `1 − 2^30` otherwise; the single overflowing case `a = b = i32::MIN` saturates to
//!   `i32::MAX`.
//! * [`rounding_divide_by_pot`] — gemmlowp's `RoundingDivideByPOT`: `x / 2^e` rounded to
//!   nearest, **halves away from zero**.
//! * [`requantize`] — `MultiplyByQuantizedMultiplier` of TFLite: a left shift (saturating to
//!   `i32`) for multipliers ≥ 1, then the high multiply, then the rounding right shift.
//! * [`div_round_half_away`] — exact integer division rounded half away from zero, used where
//!   a count divides a sum (average pooling, means).
//!
//! Rounding rules: the high multiply rounds halves toward +∞ (its nudge); the power-of-two
//! division and [`div_round_half_away`] round halves away from zero. Round-half-to-even
//! appears only at the IO boundary ([`crate::io`]), where ONNX's `QuantizeLinear` defines it.

use serde::{Deserialize, Serialize};

/// gemmlowp `SaturatingRoundingDoublingHighMul(a, b)`.
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let ab = a as i64 * b as i64;
    let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    // Rust's `/` truncates toward zero, as C++'s does in gemmlowp.
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// gemmlowp `RoundingDivideByPOT(x, exponent)`: `x / 2^exponent`, halves away from zero.
/// `exponent` is in `0..=31`.
pub fn rounding_divide_by_pot(x: i32, exponent: u32) -> i32 {
    debug_assert!(exponent <= 31);
    let mask: i64 = (1i64 << exponent) - 1;
    let remainder = (x as i64) & mask;
    let threshold = (mask >> 1) + if x < 0 { 1 } else { 0 };
    ((x as i64 >> exponent) + if remainder > threshold { 1 } else { 0 }) as i32
}

/// A real multiplier `M = multiplier · 2^(shift − 31)` in gemmlowp form.
///
/// `multiplier` is a Q31 value in `[2^30, 2^31)` (or 0 for `M = 0`); `shift` is in `-31..=30`:
/// positive values shift left before the high multiply (multipliers ≥ 1), negative values are
/// a rounding right shift after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Multiplier {
    /// Q31 mantissa in `[2^30, 2^31 − 1]`, or `0` for `M = 0` (spec §Multiplier).
    pub multiplier: i32,
    /// Power-of-two exponent in `[MIN_SHIFT, MAX_SHIFT]`: a left shift before the high
    /// multiply when positive, a rounding right shift after it when negative.
    pub shift: i32,
}

/// Smallest `shift` a [`Multiplier`] may carry (a rounding right shift by 31 bits).
pub const MIN_SHIFT: i32 = -31;
/// Largest `shift` a [`Multiplier`] may carry (a saturating left shift by 30 bits).
pub const MAX_SHIFT: i32 = 30;

impl Multiplier {
    /// Decompose a real, non-negative multiplier (compile time only: this is where floats end).
    /// Multipliers too small to represent become zero; too large ones saturate at the largest
    /// representable value (the compiler checks its multipliers are in range before that).
    pub fn from_real(real: f64) -> Multiplier {
        assert!(real.is_finite() && real >= 0.0, "multiplier must be finite and ≥ 0, got {real}");
        if real == 0.0 {
            return Multiplier { multiplier: 0, shift: 0 };
        }
        // real = q · 2^shift with q in [0.5, 1)
        let mut shift = real.log2().floor() as i32 + 1;
        let mut q = real / 2f64.powi(shift);
        // guard against log2 rounding
        while q >= 1.0 {
            q /= 2.0;
            shift += 1;
        }
        while q < 0.5 {
            q *= 2.0;
            shift -= 1;
        }
        let mut q_fixed = (q * (1u64 << 31) as f64).round() as i64;
        if q_fixed == 1i64 << 31 {
            q_fixed /= 2;
            shift += 1;
        }
        if shift < MIN_SHIFT {
            return Multiplier { multiplier: 0, shift: 0 };
        }
        if shift > MAX_SHIFT {
            return Multiplier { multiplier: i32::MAX, shift: MAX_SHIFT };
        }
        Multiplier { multiplier: q_fixed as i32, shift }
    }

    /// The real value this multiplier stands for (diagnostics and tests only).
    pub fn to_real(self) -> f64 {
        self.multiplier as f64 * 2f64.powi(self.shift - 31)
    }

    /// Whether the fields are in the ranges the contract allows.
    pub fn is_valid(self) -> bool {
        (self.multiplier == 0 || (1 << 30..=i32::MAX).contains(&self.multiplier)) && (MIN_SHIFT..=MAX_SHIFT).contains(&self.shift)
    }
}

/// TFLite `MultiplyByQuantizedMultiplier(x, multiplier, shift)`, with the left shift saturating.
pub fn requantize(x: i32, m: Multiplier) -> i32 {
    let left = m.shift.max(0) as u32;
    let right = (-m.shift).max(0) as u32;
    let shifted = ((x as i64) << left).clamp(i32::MIN as i64, i32::MAX as i64) as i32;
    rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, m.multiplier), right)
}

/// The wide requantization of `DenseWide` (spec §Op: DenseWide): `acc · M` with
/// `M = multiplier · 2^(shift − 31)`, rounded to nearest with **halves away from zero**, exact:
/// with `p = acc · multiplier` (exact; `|p| < 2^93` for the accumulators validation allows)
/// and `r = 31 − shift` (in `1..=62`), the result is `sign(p) · ⌊(|p| + 2^(r−1)) / 2^r⌋`.
/// Unlike [`requantize`] there is no saturation: the caller's clamp bounds the result.
pub fn scale_wide(acc: i64, m: Multiplier) -> i128 {
    let p = acc as i128 * m.multiplier as i128;
    let r = (31 - m.shift) as u32;
    let magnitude = (p.unsigned_abs() + (1u128 << (r - 1))) >> r;
    if p < 0 { -(magnitude as i128) } else { magnitude as i128 }
}

/// `a / b` rounded to nearest, halves away from zero. `b > 0`.
pub fn div_round_half_away(a: i64, b: i64) -> i64 {
    debug_assert!(b > 0);
    let q = a / b;
    let r = a % b;
    if 2 * r.abs() >= b { q + a.signum() } else { q }
}

/// Clamp an `i32` to the closed range `[lo, hi]` and narrow it to `i8`.
pub fn clamp_i8(x: i32, lo: i8, hi: i8) -> i8 {
    x.clamp(lo as i32, hi as i32) as i8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_wide_rounds_halves_away_from_zero_exactly() {
        let half = Multiplier { multiplier: 1 << 30, shift: 0 }; // M = 1/2
        for (acc, want) in [(1, 1), (-1, -1), (2, 1), (3, 2), (-3, -2), (0, 0), (5, 3), (-5, -3)] {
            assert_eq!(scale_wide(acc, half), want, "{acc}");
        }
        // M just under 2^30 on the largest accumulators: no overflow, no saturation
        let big = Multiplier { multiplier: i32::MAX, shift: 30 };
        assert_eq!(scale_wide(1 << 62, big), (1i128 << 62) * i32::MAX as i128 / 2);
        assert_eq!(scale_wide(-(1 << 62), big), -((1i128 << 62) * i32::MAX as i128 / 2));
        // the smallest multiplier: a 62-bit right shift
        let tiny = Multiplier { multiplier: 1 << 30, shift: -31 };
        assert_eq!(scale_wide(1 << 31, tiny), 1);
        assert_eq!(scale_wide((1 << 31) - 1, tiny), 0);
        assert_eq!(scale_wide(-(1 << 31), tiny), -1);
        // against the real product, away from the halves
        let m = Multiplier::from_real(0.0123);
        for acc in [-1_000_003i64, -77, 0, 12_345, 9_999_999_999] {
            let want = (acc as f64 * m.to_real()).round() as i128;
            assert_eq!(scale_wide(acc, m), want, "{acc}");
        }
    }

    /// Reference: gemmlowp's definition with 128-bit arithmetic, independent of the code above.
    fn srdhm_ref(a: i32, b: i32) -> i32 {
        if a == i32::MIN && b == i32::MIN {
            return i32::MAX;
        }
        let ab = a as i128 * b as i128;
        let nudge = if ab >= 0 { 1i128 << 30 } else { 1 - (1i128 << 30) };
        let n = ab + nudge;
        // truncation toward zero
        let q = n / (1i128 << 31);
        q as i32
    }

    #[test]
    fn srdhm_matches_floor_form_away_from_saturation() {
        // The brief's fact: SRDHM(a, b) == floor((a·b + 2^30) / 2^31) for both signs.
        let vals = [i32::MIN, i32::MIN + 1, -(1 << 30), -12345, -1, 0, 1, 7, 1 << 30, i32::MAX];
        for &a in &vals {
            for &b in &vals {
                if a == i32::MIN && b == i32::MIN {
                    continue;
                }
                let floor = ((a as i64 * b as i64 + (1 << 30)) as f64 / 2f64.powi(31)).floor();
                let exact = (a as i128 * b as i128 + (1 << 30)).div_euclid(1 << 31) as i64;
                assert_eq!(saturating_rounding_doubling_high_mul(a, b) as i64, exact, "{a} {b}");
                let _ = floor;
                assert_eq!(saturating_rounding_doubling_high_mul(a, b), srdhm_ref(a, b));
            }
        }
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN), i32::MAX);
    }

    #[test]
    fn rdbpot_rounds_half_away_from_zero() {
        assert_eq!(rounding_divide_by_pot(5, 1), 3);
        assert_eq!(rounding_divide_by_pot(-5, 1), -3);
        assert_eq!(rounding_divide_by_pot(4, 1), 2);
        assert_eq!(rounding_divide_by_pot(-6, 2), -2); // -1.5 -> -2
        assert_eq!(rounding_divide_by_pot(6, 2), 2); // 1.5 -> 2
        assert_eq!(rounding_divide_by_pot(-5, 2), -1); // -1.25 -> -1
        assert_eq!(rounding_divide_by_pot(i32::MIN, 31), -1);
        assert_eq!(rounding_divide_by_pot(i32::MAX, 31), 1);
        assert_eq!(rounding_divide_by_pot(i32::MAX, 0), i32::MAX);
        for x in -1000..1000 {
            for e in 0..12u32 {
                let exact = x as f64 / 2f64.powi(e as i32);
                let want = exact.abs().round() * exact.signum(); // f64::round is half away
                assert_eq!(rounding_divide_by_pot(x, e) as f64, want, "{x} {e}");
            }
        }
    }

    #[test]
    fn multiplier_roundtrip() {
        for &r in &[1e-9, 0.000123, 0.25, 0.5, 0.7, 0.999999, 1.0, 1.5, 3.0, 1000.0, 65536.5] {
            let m = Multiplier::from_real(r);
            assert!(m.is_valid(), "{r} {m:?}");
            assert!((m.to_real() - r).abs() <= r * 1e-9, "{r} {m:?}");
        }
        assert_eq!(Multiplier::from_real(0.0).to_real(), 0.0);
        assert_eq!(Multiplier::from_real(1e-30).to_real(), 0.0);
    }

    #[test]
    fn requantize_is_close_to_real_product() {
        for &r in &[0.0003, 0.013, 0.5, 0.9, 1.0, 2.5, 17.0] {
            let m = Multiplier::from_real(r);
            for x in [-100000, -1234, -7, -1, 0, 1, 3, 999, 123456] {
                let got = requantize(x, m) as f64;
                let want = x as f64 * r;
                assert!((got - want).abs() <= 1.0, "x={x} r={r} got={got} want={want}");
            }
        }
        // left shift saturates instead of wrapping
        let m = Multiplier::from_real(4.0);
        // (4.0 = 2^30 · 2^(3−31)): x·2^3 saturates to i32::MAX, then times one half.
        assert_eq!(m, Multiplier { multiplier: 1 << 30, shift: 3 });
        assert_eq!(requantize(i32::MAX, m), 1 << 30);
        assert_eq!(requantize(i32::MIN, m), -(1 << 30));
    }

    #[test]
    fn division_rounds_half_away() {
        assert_eq!(div_round_half_away(5, 2), 3);
        assert_eq!(div_round_half_away(-5, 2), -3);
        assert_eq!(div_round_half_away(7, 3), 2);
        assert_eq!(div_round_half_away(-7, 3), -2);
        assert_eq!(div_round_half_away(8, 3), 3);
        assert_eq!(div_round_half_away(-8, 3), -3);
        assert_eq!(div_round_half_away(0, 9), 0);
    }
}
