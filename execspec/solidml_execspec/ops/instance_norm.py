"""spec.md §Op: InstanceNorm."""

from ..arith import assert_i64, clamp, div_round_half_away, isqrt
from ..model import numel


def run(op, ins, out, values, node):
    x = values[0]
    shape = ins[0].shape
    N, C = shape[0], shape[1]
    P = numel(shape[2:])
    y = [0] * len(x)
    for n in range(N):
        for c in range(C):
            base = (n * C + c) * P
            v = [x[base + j] - op.input_zero_point for j in range(P)]
            S1 = sum(v)
            S2 = sum(vj * vj for vj in v)
            var_term = P * S2 - S1 * S1
            assert var_term >= 0
            r = isqrt(assert_i64(var_term + op.epsilon_term, "InstanceNorm P·S2 − S1² + ε"))
            for j in range(P):
                if r > 0:
                    d = P * v[j] - S1
                    num = assert_i64(op.gamma_q16[c] * d + op.beta_q16[c] * r, "InstanceNorm numerator")
                    q = div_round_half_away(num, assert_i64(r * (1 << 16)))
                else:
                    q = div_round_half_away(op.beta_q16[c], 1 << 16)
                y[base + j] = clamp(op.output_zero_point + q, -128, 127)
    return y
