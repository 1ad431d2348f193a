"""spec.md §IO quantization: the conversions between reals and int8 codes at the boundary.

Version 3: "An ``I16`` input uses the same formulas with the clamp ``[−32768, 32767]``
(``quantize_f32_in``, ``quantize_fixed18_in`` with ``DType::code_range``); an ``I16`` or ``I32``
output dequantizes by the same formulas as an int8 one (``q − zp`` taken in i64)." The quantizers
take the clamp as ``lo, hi`` (default the int8 range); ``code_range`` in ``model.py`` gives it
per type. The same clamp is used on the OpenGradient ``Number`` path, and ``I32`` inputs are
clamped to the i32 range, neither of which the text states (GAPS.md §28).

Reals here are exact rationals (``fractions.Fraction``); the text defines every conversion as an
exact rounding of an exact quotient or product, so this module computes exactly and, where the
text describes a floating-point evaluation (``quantize_f32``'s f64 quotient), asserts that the
two agree, as the text claims they do.

An ``f32`` is passed as its 32-bit pattern (``int``) or as a Python float holding an f32 value.
"""

from __future__ import annotations

import math
import struct
from fractions import Fraction

from .arith import clamp

TEN18 = 10**18
FIXED18_INPUT_BOUND = 1 << 100  # quantize_fixed18 clamps X to [−2^100, 2^100]


def f32_from_bits(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def f32_to_bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def as_f32(x) -> float:
    """An f32 operand: a bit pattern (int) or a float that is already an f32 value."""
    if isinstance(x, int):
        return f32_from_bits(x)
    assert math.isnan(x) or f32_from_bits(f32_to_bits(x)) == x, f"{x!r} is not an f32 value"
    return x


def scale_parts(scale) -> tuple[int, int]:
    """``s = m · 2^e`` with integers ``m < 2^24``: ``m = frac | 2^23``, ``e = exp − 150`` for
    normal numbers; ``m = frac``, ``e = −149`` for subnormals."""
    bits = scale if isinstance(scale, int) else f32_to_bits(scale)
    exp = (bits >> 23) & 0xFF
    frac = bits & ((1 << 23) - 1)
    assert exp != 0xFF, "scale_parts of a non-finite f32"
    if exp == 0:
        m, e = frac, -149
    else:
        m, e = frac | (1 << 23), exp - 150
    assert Fraction(m) * Fraction(2) ** e == abs(Fraction(f32_from_bits(bits)))
    return m, e


def round_half_even(r: Fraction) -> int:
    """Nearest integer, halves to even (Python's ``round`` on a Fraction does exactly this)."""
    return round(r)


def quantize_f32(x, scale, zero_point: int, lo: int = -128, hi: int = 127) -> int:
    """``quantize_f32``: ``q = clamp(zp + round_half_even(x / s), −128, 127)``, the quotient in
    f64 rounded half to even; NaN gives ``clamp(zp, −128, 127)``; ±∞ saturate. (``I16``: the
    clamp ``[lo, hi] = [−32768, 32767]``, ``quantize_f32_in``.)"""
    xf, sf = as_f32(x), as_f32(scale)
    if math.isnan(xf):
        return clamp(zero_point, lo, hi)
    if math.isinf(xf):
        return hi if xf > 0 else lo
    quotient = xf / sf  # f64 division (cannot overflow: |x| < 2^128, s ≥ 2^−149)
    q_f64 = clamp(zero_point + round(quotient), lo, hi)  # round: half to even
    q_exact = clamp(zero_point + round_half_even(Fraction(xf) / Fraction(sf)), lo, hi)
    # The text: "the rounding decision equals the exact one". True wherever it matters: for
    # |x / s| ≥ 2^53 the f64 quotient is not the exact integer, but then both saturate.
    assert q_f64 == q_exact, "f64 quotient rounds differently from the exact one"
    return q_exact


def quantize_fixed18(X: int, scale, zero_point: int, lo: int = -128, hi: int = 127) -> int:
    """``quantize_fixed18``: ``X = x · 10^18``,
    ``q = clamp(zp + round_half_even(X · 2^−e / (10^18 · m)), −128, 127)`` exactly, after
    clamping ``X`` to ``[−2^100, 2^100]``. (``I16``: the clamp ``[lo, hi]``,
    ``quantize_fixed18_in``.)"""
    m, e = scale_parts(scale)
    X = clamp(X, -FIXED18_INPUT_BOUND, FIXED18_INPUT_BOUND)
    r = Fraction(X) * Fraction(2) ** (-e) / (TEN18 * m)
    return clamp(zero_point + round_half_even(r), lo, hi)


def quantize_number(value: int, decimals: int, scale, zero_point: int, lo: int = -128, hi: int = 127) -> int:
    """The OpenGradient entry's ``Number { value, decimals }`` (``docs/precompile.md``): the real
    ``value · 10^−decimals``, quantized by ``clamp(zp + round_half_even(x / scale), −128, 127)``
    exactly. (``I16``/``I32`` inputs: the clamp ``[lo, hi]`` of the type, GAPS.md §28.)"""
    assert abs(decimals) <= 38
    x = Fraction(value) * Fraction(10) ** (-decimals)
    m, e = scale_parts(scale)
    return clamp(zero_point + round_half_even(x / (m * Fraction(2) ** e)), lo, hi)


def dequantize_f32(q: int, scale, zero_point: int) -> float:
    """``dequantize_f32``: ``(q − zp) · s`` exact in f64, then rounded to f32 (nearest even).
    (``I16``/``I32`` outputs: the same formula; ``|q − zp| < 2^32`` times a 24-bit mantissa
    is still exact in f64.)"""
    sf = as_f32(scale)
    product = (q - zero_point) * sf  # exact: ≤ 33-bit times 24-bit mantissa
    assert Fraction(product) == (q - zero_point) * Fraction(sf)
    try:
        return struct.unpack("<f", struct.pack("<f", product))[0]  # round to nearest even
    except OverflowError:  # the rounded value is beyond the f32 range
        return math.copysign(math.inf, product)


def dequantize_fixed18(q: int, scale, zero_point: int) -> int:
    """``dequantize_fixed18``: ``round_half_even((q − zp) · m · 10^18 · 2^e)``, exact, then
    "saturated to the int128 range [−2^127, 2^127 − 1]" (§IO quantization)."""
    m, e = scale_parts(scale)
    exact = round_half_even((q - zero_point) * m * TEN18 * Fraction(2) ** e)
    return max(-(1 << 127), min((1 << 127) - 1, exact))


# ---------------------------------------------------------------- per-axis input quantization


def input_params(model, position: int) -> list:
    """§IO quantization, "Per-axis input quantization": the ``(scale, zero_point)`` with which
    each element (flat, row-major) of the int8 model input at ``position`` of ``inputs`` turns a
    real into its code. With an ``InputQuant`` entry for that position, the element at flat
    position ``i`` uses ``params[c]``, ``c = ⌊i / stride_axis⌋ mod d_axis``
    (``stride_axis = d_{axis+1} · … · d_{r−1}``); without one, every element uses the tensor's
    ``Quant``."""
    t = model.tensors[model.inputs[position]]
    assert t.dtype in ("I8", "I16", "I32"), "reals convert into codes only for quantized inputs"
    # (rule model.input_quant: only an I8 input has an entry; I16/I32 use the tensor's Quant)
    n = 1
    for d in t.shape:
        n *= d
    entry = next((iq for iq in model.input_quant if iq.input == position), None)
    if entry is None:
        return [(t.quant.scale, t.quant.zero_point)] * n
    d_axis = t.shape[entry.axis]
    stride_axis = 1
    for d in t.shape[entry.axis + 1 :]:
        stride_axis *= d
    out = []
    for i in range(n):
        q = entry.params[(i // stride_axis) % d_axis]
        out.append((q.scale, q.zero_point))
    return out


def input_code_range(model, position: int) -> tuple[int, int]:
    """The clamp of the model input at ``position``: its type's code range (``DType::code_range``)."""
    from .model import code_range

    return code_range(model.tensors[model.inputs[position]].dtype)


def quantize_input_f32(model, position: int, xs: list) -> list:
    """``quantize_f32`` of a whole quantized model input (row-major), each element with its own
    parameters (``input_params``) and the clamp of the input's type."""
    lo, hi = input_code_range(model, position)
    return [quantize_f32(x, s, zp, lo, hi) for x, (s, zp) in zip(xs, input_params(model, position), strict=True)]


def quantize_input_fixed18(model, position: int, Xs: list) -> list:
    """``quantize_fixed18`` (the generated contract's ``predict``) of a whole quantized model
    input, each element with its own parameters and the clamp of the input's type."""
    lo, hi = input_code_range(model, position)
    return [quantize_fixed18(X, s, zp, lo, hi) for X, (s, zp) in zip(Xs, input_params(model, position), strict=True)]
