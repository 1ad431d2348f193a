"""Shared window walk of spec.md §Op: MaxPool and §Op: AvgPool (``windows``)."""

from ..model import strides_of
from . import flat, indices


def taps_inside(op, h, o):
    """The kernel positions ``k`` (row-major) whose input position
    ``p_d = o_d · strides[d] − pads_begin[d] + k_d · dilations[d]`` lies inside the input;
    yields each such ``p``."""
    s = len(op.kernel)
    for k in indices(op.kernel):
        p = [o[d] * op.strides[d] - op.pads_begin[d] + k[d] * op.dilations[d] for d in range(s)]
        if all(0 <= p[d] < h[d] for d in range(s)):
            yield p


def pool(op, ins, out, values, reduce_window):
    """For each plane ``(n, c)`` and output position ``o``: ``reduce_window(taps)`` where
    ``taps`` are the input codes at the taps inside, in row-major kernel order."""
    x = values[0]
    x_shape = ins[0].shape
    h = x_shape[2:]
    xs = strides_of(x_shape)
    y = []
    for n in range(out.shape[0]):
        for c in range(out.shape[1]):
            for o in indices(out.shape[2:]):
                taps = [x[flat((n, c, *p), xs)] for p in taps_inside(op, h, o)]
                y.append(reduce_window(taps))
    return y
