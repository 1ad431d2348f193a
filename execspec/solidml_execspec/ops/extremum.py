"""spec.md §Op: Extremum (Max, Min), on the codes."""

from .binary import broadcast_pairs


def run(op, ins, out, values, node):
    f = max if op.kind == "Max" else min
    return [f(qa, qb) for qa, qb in broadcast_pairs(ins, out, values)]
