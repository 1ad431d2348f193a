"""spec.md §Op: Reduce (Sum, Mean, Max, Min)."""

from ..arith import assert_i32, assert_i64, div_round_half_away, requantize_to_i8
from ..model import numel, strides_of
from . import flat, indices


def run(op, ins, out, values, node):
    x = values[0]
    shape = ins[0].shape
    kept = [d for d in range(len(shape)) if d not in op.axes]
    kept_shape = [shape[d] for d in kept]
    ks = strides_of(kept_shape)
    groups = [[] for _ in range(numel(kept_shape))]  # one per output element, row-major over the kept axes
    # visit the input in row-major order; each element joins the group of its kept index
    for pos, idx in enumerate(indices(shape)):
        groups[flat([idx[d] for d in kept], ks)].append(x[pos] - op.input_zero_point)
    y = []
    for v in groups:
        if op.kind == "Sum":
            r = assert_i32(sum(v), "Reduce Sum")
        elif op.kind == "Mean":
            r = div_round_half_away(assert_i64(sum(v)), len(v))
        elif op.kind == "Max":
            r = max(v)
        else:
            r = min(v)
        y.append(requantize_to_i8(r, op.multiplier, op.output_zero_point))
    return y

