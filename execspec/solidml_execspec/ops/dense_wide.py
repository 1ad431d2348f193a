"""spec.md §Op: DenseWide (version 3): the dense layer of the wide precisions.

``x: […, K]`` of type ``I8`` or ``I16``, ``y: […, N]`` of type ``I8``, ``I16`` or ``I32``; with
``R = len(x) / K`` rows:

    acc = bias[j] + Σ_k weights[j · K + k] · (x[r · K + k] − input_zero_point)     # exact
    v   = acc                   if multipliers is empty
          scale_wide(acc, M_j)  otherwise, M_j = multipliers[0 or j]
    y[r · N + j] = clamp(v + output_zero_point, clamp_min, clamp_max)             # exact

Nothing saturates before the final clamp (unlike Dense's ``Epilogue``, whose ``requantize``
saturates its left shift and whose zero-point addition saturates to i32).
"""

from ..arith import assert_i64, clamp, scale_wide
from ..model import numel


def multiplier_for(op, j: int):
    """``M_j = multipliers[0 or j]``: the one multiplier when there is one, else the ``j``-th
    (the text's "none, one, or N")."""
    return op.multipliers[0] if len(op.multipliers) == 1 else op.multipliers[j]


def run(op, ins, out, values, node):
    x = values[0]
    K, N = op.in_features, op.out_features
    R = numel(ins[0].shape) // K  # validation: "in_features ≥ 1"
    y = [0] * (R * N)
    for r in range(R):
        row = x[r * K : (r + 1) * K]
        for j in range(N):
            w = op.weights[j * K : (j + 1) * K]
            acc = op.bias[j] + sum(wk * (xk - op.input_zero_point) for wk, xk in zip(w, row))
            # "|acc| ≤ 2^62 (i64)" by the validation bound
            assert abs(assert_i64(acc, "DenseWide accumulator")) <= 1 << 62, f"DenseWide accumulator {acc} beyond 2^62"
            if op.multipliers:
                m = multiplier_for(op, j)
                v = scale_wide(acc, m.multiplier, m.shift)
            else:
                v = acc
            y[r * N + j] = clamp(v + op.output_zero_point, op.clamp_min, op.clamp_max)
    return y
