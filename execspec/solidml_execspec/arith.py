"""spec.md §Conventions and §Primitives.

Every function here works on Python ints (unbounded), follows the text's formula, and asserts
that its operands and result lie in the width the text states. An ``AssertionError`` from this
module therefore means "the text's width claim is false for this case" (an overflow gap), never
a wrong answer silently wrapped.
"""

import math

I8_MIN, I8_MAX = -(1 << 7), (1 << 7) - 1
I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1
I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1

# §Multiplier: shift ∈ [MIN_SHIFT, MAX_SHIFT]
MIN_SHIFT, MAX_SHIFT = -31, 30


def in_i8(x: int) -> bool:
    return I8_MIN <= x <= I8_MAX


def in_i32(x: int) -> bool:
    return I32_MIN <= x <= I32_MAX


def in_i64(x: int) -> bool:
    return I64_MIN <= x <= I64_MAX


def assert_i32(x: int, what: str = "value") -> int:
    """Assert the text's claim that ``x`` fits in i32 (the claim is what is being tested)."""
    assert in_i32(x), f"{what} = {x} leaves i32"
    return x


def assert_i64(x: int, what: str = "value") -> int:
    """Assert the text's claim that ``x`` fits in i64."""
    assert in_i64(x), f"{what} = {x} leaves i64"
    return x


def clamp(x: int, lo: int, hi: int) -> int:
    """§Conventions: ``clamp(x, lo, hi) = min(max(x, lo), hi)``."""
    return min(max(x, lo), hi)


def sat32(x: int) -> int:
    """§Conventions: ``sat32(x) = clamp(x, −2^31, 2^31 − 1)``."""
    return clamp(x, I32_MIN, I32_MAX)


def floor_div(a: int, b: int) -> int:
    """``⌊a / b⌋`` for b > 0 (Python's ``//`` is floor division)."""
    assert b > 0
    return a // b


def trunc_div(a: int, b: int) -> int:
    """``trunc(a / b)``: exact rational quotient rounded toward zero (b ≠ 0)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def sign(x: int) -> int:
    return (x > 0) - (x < 0)


def srdhm(a: int, b: int) -> int:
    """§SaturatingRoundingDoublingHighMul (SRDHM), ``a, b: i32 → i32``.

    gemmlowp's form: ``a·b / 2^31`` rounded to nearest, halves toward +∞; the only overflowing
    case ``a = b = −2^31`` saturates to ``2^31 − 1``.
    """
    assert_i32(a, "srdhm a")
    assert_i32(b, "srdhm b")
    if a == I32_MIN and b == I32_MIN:
        return I32_MAX
    p = assert_i64(a * b, "srdhm product")
    nudge = (1 << 30) if p >= 0 else 1 - (1 << 30)
    r = trunc_div(p + nudge, 1 << 31)
    # the closed form stated by the text
    assert r == (a * b + (1 << 30)) // (1 << 31)
    return assert_i32(r, "srdhm result")


def rdbpot(x: int, e: int) -> int:
    """§RoundingDivideByPOT (RDBPOT): ``x / 2^e`` rounded to nearest, halves away from zero.

    ``x: i32``, ``e ∈ [0, 31]``.
    """
    assert_i32(x, "rdbpot x")
    assert 0 <= e <= 31, f"rdbpot exponent {e} outside [0, 31]"
    mask = (1 << e) - 1
    remainder = x & mask  # Python's & on negative ints is two's complement: the low e bits
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    r = (x >> e) + (1 if remainder > threshold else 0)  # >> on Python ints is arithmetic
    if e >= 1:  # the closed form stated by the text
        assert r == sign(x) * ((abs(x) + (1 << (e - 1))) >> e)
    else:
        assert r == x
    return r


def multiplier_is_valid(multiplier: int, shift: int) -> bool:
    """§Multiplier (``Multiplier::is_valid``): mantissa in ``[2^30, 2^31 − 1]`` or 0, and
    ``shift ∈ [−31, 30]``.

    The text does not say whether ``multiplier = 0`` also constrains ``shift``; this reads the
    shift range as applying in every case (GAPS.md §10).
    """
    mantissa_ok = multiplier == 0 or (1 << 30) <= multiplier <= I32_MAX
    return mantissa_ok and MIN_SHIFT <= shift <= MAX_SHIFT


def requantize(x: int, multiplier: int, shift: int) -> int:
    """§requantize: TFLite's ``MultiplyByQuantizedMultiplier`` with a saturating left shift.

    ``x: i32``; approximates ``x · multiplier · 2^(shift − 31)``.
    """
    assert_i32(x, "requantize argument")
    assert multiplier_is_valid(multiplier, shift), (multiplier, shift)
    left = max(shift, 0)
    right = max(-shift, 0)
    y = sat32(x * (1 << left))
    return rdbpot(srdhm(y, multiplier), right)


def div_round_half_away(a: int, b: int) -> int:
    """§div_round_half_away: ``a / b`` for ``a: i64``, ``b: i64 > 0``, rounded to nearest,
    halves away from zero."""
    assert_i64(a, "div_round_half_away a")
    assert_i64(b, "div_round_half_away b")
    assert b > 0, f"div_round_half_away divisor {b} ≤ 0"
    q = trunc_div(a, b)
    r = a - q * b
    out = q + sign(a) if 2 * abs(r) >= b else q
    assert out == sign(a) * ((2 * abs(a) + b) // (2 * b))  # the closed form
    return out


def clamp_i8(x: int, lo: int, hi: int) -> int:
    """§clamp_i8: ``clamp(x, lo, hi)`` for ``lo ≤ hi`` in the int8 range."""
    assert I8_MIN <= lo <= hi <= I8_MAX
    return clamp(x, lo, hi)


def epilogue(acc: int, c: int, ep) -> int:
    """§Epilogue (shared by Conv, ConvTranspose and Dense).

    ``M = multipliers[0]`` if there is one multiplier, else ``multipliers[c]`` (c = output
    channel); ``clamp(sat32(requantize(acc, M) + output_zero_point), clamp_min, clamp_max)``.
    """
    assert_i32(acc, "accumulator")
    m = ep.multipliers[0] if len(ep.multipliers) == 1 else ep.multipliers[c]
    r = requantize(acc, m.multiplier, m.shift)
    return clamp_i8(sat32(r + ep.output_zero_point), ep.clamp_min, ep.clamp_max)


def requantize_to_i8(r: int, m, output_zero_point: int) -> int:
    """The output stage the op sections write as
    ``clamp(sat32(requantize(r, multiplier) + output_zero_point), −128, 127)``."""
    return clamp(sat32(requantize(r, m.multiplier, m.shift) + output_zero_point), I8_MIN, I8_MAX)


def isqrt(n: int) -> int:
    """``isqrt``: floor of the square root of ``n ≥ 0`` (InstanceNorm, Normalize)."""
    assert n >= 0, f"isqrt of negative {n}"
    r = math.isqrt(n)  # the standard library's exact integer square root
    assert r * r <= n < (r + 1) * (r + 1)
    return r


def scale_wide(acc: int, multiplier: int, shift: int) -> int:
    """§Op: DenseWide, ``scale_wide`` (``arith::scale_wide``, version 3): ``acc · M`` rounded to
    nearest with halves away from zero, exact, nothing saturated:

        scale_wide(acc, M) = sign(p) · ⌊(|p| + 2^(r−1)) / 2^r⌋,
        p = acc · M.multiplier,  r = 31 − M.shift

    The text: "``r`` lies in ``1..=62``", "``|acc| ≤ 2^62`` (i64) and ``|p| < 2^93``"; both
    asserted. (For ``M.multiplier = 0``, ``p = 0`` and the result is 0.)"""
    assert multiplier_is_valid(multiplier, shift), (multiplier, shift)
    assert abs(acc) <= 1 << 62, f"DenseWide accumulator {acc} beyond 2^62"
    r = 31 - shift
    assert 1 <= r <= 62, f"scale_wide exponent r = {r} outside 1..=62"
    p = acc * multiplier
    assert abs(p) < 1 << 93, f"scale_wide product {p} beyond 2^93"
    return sign(p) * ((abs(p) + (1 << (r - 1))) >> r)
