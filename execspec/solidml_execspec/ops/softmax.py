"""spec.md §Op: Softmax (outputs at scale 1/256, zero point −128)."""

from ..arith import clamp, div_round_half_away
from . import lanes


def run(op, ins, out, values, node):
    x = values[0]
    y = [0] * len(x)
    for lane in lanes(ins[0].shape, op.axis):
        if not lane:
            continue
        m = max(x[p] for p in lane)
        e = [op.exp_table[m - x[p]] for p in lane]  # m − x_j ∈ [0, 255]
        S = sum(e)
        assert (1 << 16) <= S <= (1 << 31), f"Softmax S = {S}"
        for p, ej in zip(lane, e):
            y[p] = clamp(div_round_half_away(256 * ej, S) - 128, -128, 127)
    return y
