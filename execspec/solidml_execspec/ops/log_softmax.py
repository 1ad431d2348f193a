"""spec.md §Op: LogSoftmax."""

from ..arith import assert_i32, requantize_to_i8
from . import lanes

LN2_Q16 = 45426  # round(ln 2 · 2^16)


def run(op, ins, out, values, node):
    x = values[0]
    y = [0] * len(x)
    for lane in lanes(ins[0].shape, op.axis):
        if not lane:
            continue
        m = max(x[p] for p in lane)
        S = sum(op.exp_table[m - x[p]] for p in lane)
        assert (1 << 16) <= S <= (1 << 30), f"LogSoftmax S = {S}"
        k = S.bit_length() - 1  # ⌊log2 S⌋
        i = (S >> (k - 8)) - 256
        assert 0 <= i <= 255
        L = (k - 16) * LN2_Q16 + op.ln_table[i]
        for p in lane:
            v = assert_i32((x[p] - m) * op.input_scale_q16 - L, "LogSoftmax v_j")
            y[p] = requantize_to_i8(v, op.multiplier, op.output_zero_point)
    return y
