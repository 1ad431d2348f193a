"""spec.md §Op: Dense."""

from ..arith import assert_i32, epilogue
from ..model import numel


def run(op, ins, out, values, node):
    x = values[0]
    K, N = op.in_features, op.out_features
    R = numel(ins[0].shape) // K
    y = [0] * (R * N)
    for r in range(R):
        for j in range(N):
            acc = op.bias[j] + sum(op.weights[j * K + k] * (x[r * K + k] - op.input_zero_point) for k in range(K))
            y[r * N + j] = epilogue(assert_i32(acc, "Dense accumulator"), j, op.epilogue)
    return y
