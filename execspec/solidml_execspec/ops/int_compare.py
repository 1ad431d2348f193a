"""spec.md §Op: IntCompare (version 5): for each output element (row-major), with ``a``, ``b``
the broadcast input values, ``y = true_code`` if ``a kind b`` (``a = b``, ``a < b`` or
``a > b``) else ``false_code``."""

from .binary import broadcast_pairs

HOLDS = {"Equal": lambda a, b: a == b, "Less": lambda a, b: a < b, "Greater": lambda a, b: a > b}


def run(op, ins, out, values, node):
    holds = HOLDS[op.kind]
    return [op.true_code if holds(a, b) else op.false_code for a, b in broadcast_pairs(ins, out, values)]
