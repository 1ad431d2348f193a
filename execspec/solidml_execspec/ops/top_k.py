"""spec.md §Op: TopK (version 4): per lane, the elements of rank ``0 … k − 1`` in the order
"``j`` precedes ``i`` ⇔ ``v_j > v_i`` (``v_j < v_i`` when not ``largest``) or (``v_j = v_i``
and ``j < i``)", as values or as indices."""

from . import lanes
from ..model import numel


def run(op, ins, out, values, node):
    x = values[0]
    shape = ins[0].shape
    inner = numel(shape[op.axis + 1 :])
    y = [0] * numel(out.shape)
    for n, lane in enumerate(lanes(shape, op.axis)):
        o, i = divmod(n, inner)
        v = [x[p] for p in lane]

        def precedes(j, i2):
            better = v[j] > v[i2] if op.largest else v[j] < v[i2]
            return better or (v[j] == v[i2] and j < i2)

        for j in range(len(v)):
            rank = sum(1 for i2 in range(len(v)) if precedes(i2, j))  # "#{ i : i precedes j }"
            if rank < op.k:
                # "y_r is the lane's element r of y along axis"
                y[(o * op.k + rank) * inner + i] = v[j] if op.output == "Values" else j
    return y
