"""spec.md §Op: Gather (constant indices)."""

from ..model import numel


def gather(x, shape, axis, resolved):
    """Gather's loop: ``for o, for j, for i: append x_flat[(o · dim + indices[j]) · inner + i]``."""
    outer = numel(shape[:axis])
    dim = shape[axis]
    inner = numel(shape[axis + 1 :])
    y = []
    for o in range(outer):
        for j in resolved:
            base = (o * dim + j) * inner
            y.extend(x[base : base + inner])
    return y


def run(op, ins, out, values, node):
    return gather(values[0], ins[0].shape, op.axis, op.indices)
