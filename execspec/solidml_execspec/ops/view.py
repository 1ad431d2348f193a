"""spec.md §Op: View: ``y[i_0…i_{r−1}] = x_flat[offset + Σ_k i_k · strides[k]]``."""

from . import indices


def run(op, ins, out, values, node):
    x = values[0]
    y = []
    for idx in indices(out.shape):
        pos = op.offset + sum(i * s for i, s in zip(idx, op.strides))
        assert 0 <= pos < len(x), "View reads outside its input"
        y.append(x[pos])
    return y
