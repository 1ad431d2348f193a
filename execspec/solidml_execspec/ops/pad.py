"""spec.md §Op: Pad (Constant, Reflect, Edge)."""

from ..arith import clamp
from ..model import strides_of
from . import flat, indices


def source_index(i: int, n: int, mode: str):
    """``src(i, n)``: the source index along one axis, or ``None`` (Constant padding)."""
    if 0 <= i < n:
        return i
    if mode == "Constant":
        return None
    if mode == "Edge":
        return clamp(i, 0, n - 1)
    # Reflect: mirror without repeating the edge
    return -i if i < 0 else 2 * (n - 1) - i


def run(op, ins, out, values, node):
    x = values[0]
    x_shape = ins[0].shape
    xs = strides_of(x_shape)
    y = []
    for o in indices(out.shape):
        src = [source_index(o[d] - op.pads_begin[d], x_shape[d], op.mode) for d in range(len(o))]
        if any(s is None for s in src):
            y.append(op.value)
        else:
            assert all(0 <= s < n for s, n in zip(src, x_shape)), "Pad source outside the input"
            y.append(x[flat(src, xs)])
    return y
