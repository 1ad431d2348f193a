"""spec.md §Op: BinaryLut: ``y = table[(qa + 128) · 256 + (qb + 128)]``."""

from .binary import broadcast_pairs


def run(op, ins, out, values, node):
    return [op.table[(qa + 128) * 256 + (qb + 128)] for qa, qb in broadcast_pairs(ins, out, values)]
