"""spec.md §Op: Normalize (L1, L2 rows of the last axis)."""

from ..arith import assert_i64, clamp, div_round_half_away, isqrt


def run(op, ins, out, values, node):
    x = values[0]
    shape = ins[0].shape
    row = shape[-1]
    k = op.scale_log2
    y = []
    if row == 0:
        return y
    for start in range(0, len(x), row):
        d = [q - op.input_zero_point for q in x[start : start + row]]
        if op.kind == "L1":
            D = assert_i64(sum(abs(dj) for dj in d))
            if D == 0:
                y.extend([op.output_zero_point] * row)
                continue
            y.extend(clamp(op.output_zero_point + div_round_half_away(dj * (1 << k), D), -128, 127) for dj in d)
        else:
            r = isqrt(assert_i64(sum(dj * dj for dj in d) * (1 << 16)))
            if r == 0:
                y.extend([op.output_zero_point] * row)
                continue
            y.extend(clamp(op.output_zero_point + div_round_half_away(dj * (1 << (k + 8)), r), -128, 127) for dj in d)
    return y
