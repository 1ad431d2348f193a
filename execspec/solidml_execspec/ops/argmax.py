"""spec.md §Op: ArgMax (first maximum, or last with ``select_last_index``)."""

from . import lanes


def run(op, ins, out, values, node):
    x = values[0]
    y = []
    for lane in lanes(ins[0].shape, op.axis):
        best = 0
        for j in range(1, len(lane)):
            if x[lane[j]] > x[lane[best]] or (op.select_last_index and x[lane[j]] == x[lane[best]]):
                best = j
        y.append(best)
    return y
