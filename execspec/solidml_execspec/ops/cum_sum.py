"""spec.md §Op: CumSum."""

from ..arith import assert_i32, requantize_to_i8
from . import lanes


def in_prefix(i: int, j: int, exclusive: bool, reverse: bool) -> bool:
    """``prefix(j)``: ``i ≤ j``, ``i < j``, ``i ≥ j`` or ``i > j``."""
    if not reverse:
        return i < j if exclusive else i <= j
    return i > j if exclusive else i >= j


def prefix_sums(v, exclusive: bool, reverse: bool):
    """``r_j = Σ_{i ∈ prefix(j)} v_i`` for every ``j``, by a running sum walked in the prefix's
    direction (the same sums as the definition, in linear time)."""
    n = len(v)
    order = range(n - 1, -1, -1) if reverse else range(n)
    r = [0] * n
    running = 0
    for j in order:
        if exclusive:
            r[j] = running
            running += v[j]
        else:
            running += v[j]
            r[j] = running
    return r


def run(op, ins, out, values, node):
    x = values[0]
    y = [0] * len(x)
    for lane in lanes(ins[0].shape, op.axis):
        v = [x[p] - op.input_zero_point for p in lane]
        r = prefix_sums(v, op.exclusive, op.reverse)
        if len(v) <= 64:  # the definition itself, on short lanes
            assert r == [sum(v[i] for i in range(len(v)) if in_prefix(i, j, op.exclusive, op.reverse)) for j in range(len(v))]
        for p, rj in zip(lane, r):
            y[p] = requantize_to_i8(assert_i32(rj, "CumSum r_j"), op.multiplier, op.output_zero_point)
    return y
