"""spec.md §Op: Lrn (local response normalization across channels)."""

from ..arith import assert_i32, requantize_to_i8
from ..model import numel


def run(op, ins, out, values, node):
    x = values[0]
    shape = ins[0].shape
    N, C = shape[0], shape[1]
    P = numel(shape[2:])  # spatial positions (1 for rank 2)
    before = (op.size - 1) // 2  # ⌊(size − 1)/2⌋
    after = op.size // 2  # ⌈(size − 1)/2⌉ = ⌊size/2⌋
    y = [0] * len(x)
    for n in range(N):
        for c in range(C):
            for p in range(P):
                def d(cc):
                    return x[(n * C + cc) * P + p] - op.input_zero_point

                lo = max(c - before, 0)
                hi = min(c + after, C - 1)
                Q = sum(d(cc) ** 2 for cc in range(lo, hi + 1))
                F = op.factors[min(Q >> op.sum_shift, len(op.factors) - 1)]
                arg = assert_i32(d(c) * F, "Lrn d · F")
                y[(n * C + c) * P + p] = requantize_to_i8(arg, op.multiplier, op.output_zero_point)
    return y
