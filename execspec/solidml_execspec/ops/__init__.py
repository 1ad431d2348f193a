"""The ``## Op:`` sections of spec.md, one module per section.

Every module has ``run(op, ins, out, values, node)``: ``ins`` are the input tensors'
``TensorInfo``s, ``out`` the output's, ``values`` the input values (flat row-major lists of
ints), ``node`` the ``Node`` (for error messages); it returns the output's flat value.
"""

from itertools import product

from ..model import numel, strides_of


def indices(shape):
    """Every multi-index of ``shape`` in row-major order (one empty index for rank 0)."""
    return product(*(range(d) for d in shape))


def flat(idx, strides) -> int:
    """§Conventions, Layout: flat position ``Σ_k i_k · stride_k``."""
    return sum(i * s for i, s in zip(idx, strides))


def broadcast_source(out_shape, in_shape):
    """§Conventions, Broadcasting: a function from an output multi-index to the flat position
    read in an input of shape ``in_shape`` (aligned at the last axis, missing leading axes
    count as 1, an axis of size 1 read at index 0)."""
    r = len(out_shape)
    pad = r - len(in_shape)
    aligned = [1] * pad + list(in_shape)
    st = [0] * pad + strides_of(in_shape)

    def src(idx):
        return sum((i if d != 1 else 0) * s for i, d, s in zip(idx, aligned, st))

    return src


def lanes(shape, axis):
    """The lanes along ``axis`` (the elements that agree on every other axis), in row-major
    order of the other axes: each lane is the list of flat positions ``(o · dim + j) · inner + i``
    for ``j`` in ``0..dim``."""
    outer = numel(shape[:axis])
    dim = shape[axis]
    inner = numel(shape[axis + 1 :])
    for o in range(outer):
        for i in range(inner):
            yield [(o * dim + j) * inner + i for j in range(dim)]
