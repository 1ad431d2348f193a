"""spec.md §Op: Binary (Add, Sub, Mul)."""

from ..arith import assert_i32, clamp, requantize, sat32
from . import broadcast_source, indices


def broadcast_pairs(ins, out, values):
    """The broadcast input pairs ``(qa, qb)`` for each output element, row-major."""
    sa = broadcast_source(out.shape, ins[0].shape)
    sb = broadcast_source(out.shape, ins[1].shape)
    a, b = values
    for idx in indices(out.shape):
        yield a[sa(idx)], b[sb(idx)]


def element(op, qa: int, qb: int) -> int:
    xa = qa - op.a_zero_point
    xb = qb - op.b_zero_point
    if op.kind in ("Add", "Sub"):
        am, bm = op.a_multiplier, op.b_multiplier
        a2 = requantize(assert_i32(xa * (1 << op.left_shift)), am.multiplier, am.shift)
        b2 = requantize(assert_i32(xb * (1 << op.left_shift)), bm.multiplier, bm.shift)
        acc = a2 + b2 if op.kind == "Add" else a2 - b2
    else:  # Mul
        acc = xa * xb
    acc = assert_i32(acc, "Binary accumulator")
    om = op.output_multiplier
    return clamp(sat32(requantize(acc, om.multiplier, om.shift) + op.output_zero_point), op.clamp_min, op.clamp_max)


def run(op, ins, out, values, node):
    return [element(op, qa, qb) for qa, qb in broadcast_pairs(ins, out, values)]
