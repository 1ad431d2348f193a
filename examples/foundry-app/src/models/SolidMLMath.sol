// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/// @title SolidMLMath — the exact integer primitives of the SolidML arithmetic contract.
/// @notice Bit-for-bit ports of `precompiles/spec/src/arith.rs` (gemmlowp / TFLite primitives)
///         and of the 18-decimal fixed-point IO conversions of `precompiles/spec/src/io.rs`
///         (docs/spec.md, "Primitives" and "IO quantization").
/// @dev    All arguments are `int256` for cheap stack handling, but each function only accepts
///         the domain of its Rust reference (e.g. `i32` values) and reverts with a custom error
///         outside it, so that every accepted input gives exactly the reference's result.
library SolidMLMath {
    int256 internal constant INT32_MIN = -2147483648;
    int256 internal constant INT32_MAX = 2147483647;
    int256 internal constant MIN_SHIFT = -31;
    int256 internal constant MAX_SHIFT = 30;
    int256 internal constant FIXED18_ONE = 1e18;

    /// A value that must be an `i32` is not.
    error NotInt32(int256 value);
    /// `rdbpot` exponent outside `0..=31`.
    error ExponentOutOfRange(uint256 exponent);
    /// `requantize` shift outside `[MIN_SHIFT, MAX_SHIFT] = [-31, 30]`.
    error ShiftOutOfRange(int256 shift);
    /// `divRoundHalfAway` divisor must be > 0.
    error NonPositiveDivisor(int256 divisor);
    /// `clampI8` bounds must satisfy `-128 <= lo <= hi <= 127`.
    error BadClampRange(int256 lo, int256 hi);
    /// `(mantissa, exponent)` is not the exact decomposition of a positive finite f32
    /// (io.rs `scale_parts`: normal `m in [2^23, 2^24)`, `e = exp - 150 in [-149, 104]`;
    /// subnormal `m in [1, 2^23)`, `e = -149`).
    error InvalidScale(uint256 mantissa, int256 exponent);
    /// `dequantizeFixed18` result outside the reference's i128 range (spec: undefined in v1).
    error Fixed18OutOfRange(int8 q, uint256 mantissa, int256 exponent, int256 zeroPoint);

    // ------------------------------------------------------------------ primitives

    /// gemmlowp `SaturatingRoundingDoublingHighMul(a, b)` on i32 values:
    /// `floor((a·b + 2^30) / 2^31)`, i.e. `a·b/2^31` rounded half toward +inf; `a = b = -2^31`
    /// saturates to `2^31 - 1`. (Equal to the reference's `trunc((a·b + nudge) / 2^31)`.)
    function srdhm(int256 a, int256 b) internal pure returns (int256 r) {
        _int32(a);
        _int32(b);
        if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
        assembly ("memory-safe") {
            // |a·b| <= 2^62: no overflow; sar is floor division by 2^31.
            r := sar(31, add(mul(a, b), 0x40000000))
        }
    }

    /// gemmlowp `RoundingDivideByPOT(x, e)`: `x / 2^e` rounded to nearest, halves away from
    /// zero. `x` an i32, `e` in `0..=31`.
    function rdbpot(int256 x, uint256 e) internal pure returns (int256 r) {
        _int32(x);
        if (e > 31) revert ExponentOutOfRange(e);
        assembly ("memory-safe") {
            let mask := sub(shl(e, 1), 1)
            let remainder := and(x, mask)
            let threshold := add(shr(1, mask), slt(x, 0))
            r := add(sar(e, x), gt(remainder, threshold))
        }
    }

    /// TFLite `MultiplyByQuantizedMultiplier(x, multiplier, shift)` with the left shift
    /// saturating to i32 (arith.rs `requantize`). `x`, `multiplier` i32; `shift` in [-31, 30].
    /// (Multiplier validity — 0 or in [2^30, 2^31) — is a model-validation rule; any i32
    /// multiplier is accepted here, as by the reference function.)
    function requantize(int256 x, int256 multiplier, int256 shift) internal pure returns (int256) {
        _int32(x);
        _int32(multiplier);
        if (shift < MIN_SHIFT || shift > MAX_SHIFT) revert ShiftOutOfRange(shift);
        int256 y = x;
        uint256 right;
        unchecked {
            if (shift > 0) {
                y = x << uint256(shift); // |x·2^30| < 2^62: exact
                if (y > INT32_MAX) y = INT32_MAX;
                else if (y < INT32_MIN) y = INT32_MIN;
            } else {
                right = uint256(-shift);
            }
        }
        return rdbpot(srdhm(y, multiplier), right);
    }

    /// `a / b` rounded to nearest, halves away from zero (arith.rs `div_round_half_away`),
    /// `b > 0`. Exact for all int256 `a` (the reference's i64 domain included).
    function divRoundHalfAway(int256 a, int256 b) internal pure returns (int256 q) {
        if (b <= 0) revert NonPositiveDivisor(b);
        unchecked {
            q = a / b; // truncates toward zero; b > 0 so no overflow
            int256 r = a % b; // sign of a, |r| < b
            int256 ar = r < 0 ? -r : r;
            // 2|r| >= b  <=>  |r| >= b - |r|   (no overflow)
            if (ar >= b - ar) q += (a > 0 ? int256(1) : int256(-1));
        }
    }

    /// `clamp(x, lo, hi)` narrowed to int8 (arith.rs `clamp_i8`); `-128 <= lo <= hi <= 127`.
    function clampI8(int256 x, int256 lo, int256 hi) internal pure returns (int8) {
        if (lo < -128 || hi > 127 || lo > hi) revert BadClampRange(lo, hi);
        if (x < lo) return int8(lo);
        if (x > hi) return int8(hi);
        return int8(x);
    }

    /// `clamp(x, -128, 127)` narrowed to int8.
    function clampI8(int256 x) internal pure returns (int8) {
        if (x < -128) return -128;
        if (x > 127) return 127;
        return int8(x);
    }

    /// `clamp(x, -2^31, 2^31 - 1)` (the spec's `sat32`).
    function sat32(int256 x) internal pure returns (int256) {
        if (x > INT32_MAX) return INT32_MAX;
        if (x < INT32_MIN) return INT32_MIN;
        return x;
    }

    // ------------------------------------------------------------------ IO (io.rs)

    /// io.rs `quantize_fixed18`: `clamp(zp + round_half_even(X / (1e18 · s)), -128, 127)` for an
    /// 18-decimal fixed-point `X` and the f32 scale `s = m · 2^e` (io.rs `scale_parts`), with the
    /// reference's range rules: `X` is first clamped to `[-2^100, 2^100]`; a denominator that
    /// overflows i128 gives quotient 0; a numerator `X · 2^min(-e, 126)` that overflows i128
    /// saturates to the sign of `X`. `zeroPoint` must be an i32.
    function quantizeFixed18(int256 x, uint256 scaleMantissa, int256 scaleExp, int256 zeroPoint)
        internal
        pure
        returns (int8)
    {
        _scale(scaleMantissa, scaleExp);
        _int32(zeroPoint);
        int256 bound = int256(1) << 100;
        if (x > bound) x = bound;
        else if (x < -bound) x = -bound;
        int256 num;
        int256 den;
        unchecked {
            int256 m = int256(scaleMantissa);
            if (scaleExp >= 0) {
                // den = 1e18 · m · 2^e must fit i128 (and e <= 60), else (0, 1)
                if (scaleExp <= 60) {
                    int256 d = FIXED18_ONE * m << uint256(scaleExp); // < 2^84 · 2^60: exact
                    if (d <= type(int128).max) (num, den) = (x, d);
                    else (num, den) = (0, 1);
                } else {
                    (num, den) = (0, 1);
                }
            } else {
                uint256 sh = uint256(-scaleExp);
                if (sh > 126) sh = 126;
                int256 n = x << sh; // |x| <= 2^100, sh <= 126: < 2^226, exact
                if (n >= type(int128).min && n <= type(int128).max) {
                    (num, den) = (n, FIXED18_ONE * m);
                } else {
                    (num, den) = (x > 0 ? int256(1) << 120 : -(int256(1) << 120), 1);
                }
            }
            return clampI8(_divRoundHalfEven(num, den) + zeroPoint);
        }
    }

    /// io.rs `dequantize_fixed18`: `round_half_even((q - zp) · m · 1e18 · 2^e)`, saturated to the
    /// int128 range (spec §IO quantization; reached only for scales above ≈ 6.7e17). For `e < 0`
    /// the reference divides by `2^min(-e, 126)` (the same result: |v| < 2^125). Reverts
    /// (`Fixed18OutOfRange`) only when `q - zp` leaves the i32 range, which no valid model's
    /// zero point allows.
    function dequantizeFixed18(int8 q, uint256 scaleMantissa, int256 scaleExp, int256 zeroPoint)
        internal
        pure
        returns (int256 r)
    {
        _scale(scaleMantissa, scaleExp);
        _int32(zeroPoint);
        unchecked {
            int256 d = int256(q) - zeroPoint;
            if (d < INT32_MIN || d > INT32_MAX) revert Fixed18OutOfRange(q, scaleMantissa, scaleExp, zeroPoint);
            int256 v = d * int256(scaleMantissa) * FIXED18_ONE; // < 2^32 · 2^24 · 2^60: exact
            if (scaleExp >= 0) {
                r = v << uint256(scaleExp); // < 2^116 · 2^104: exact in int256
            } else {
                uint256 sh = uint256(-scaleExp);
                if (sh > 126) sh = 126;
                r = _divRoundHalfEven(v, int256(1) << sh);
            }
            if (r > type(int128).max) r = type(int128).max;
            else if (r < type(int128).min) r = type(int128).min;
        }
    }

    // ------------------------------------------------------------------ helpers

    /// `num / den` rounded half to even, `den > 0` (io.rs `div_round_half_even`).
    function _divRoundHalfEven(int256 num, int256 den) private pure returns (int256 q) {
        unchecked {
            q = num / den;
            int256 r = num % den;
            if (r < 0) {
                q -= 1;
                r += den;
            }
            // r in [0, den): compare 2r with den without overflow
            if (r > den - r) q += 1;
            else if (r == den - r) q += (q & 1);
        }
    }

    function _int32(int256 v) private pure {
        if (v < INT32_MIN || v > INT32_MAX) revert NotInt32(v);
    }

    function _scale(uint256 m, int256 e) private pure {
        bool ok = m > 0 && m < (1 << 24) && e >= -149 && e <= 104 && (e == -149 || m >= (1 << 23));
        if (!ok) revert InvalidScale(m, e);
    }
}
