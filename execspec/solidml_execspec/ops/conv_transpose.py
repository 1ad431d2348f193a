"""spec.md §Op: ConvTranspose (gather form)."""

from ..arith import assert_i32, epilogue
from ..model import numel, strides_of
from . import flat, indices


def run(op, ins, out, values, node):
    x_shape, y_shape = ins[0].shape, out.shape
    x = values[0]
    n_batch, c_in = x_shape[0], x_shape[1]
    c_out = y_shape[1]
    s = len(op.kernel)
    h = x_shape[2:]
    o_shape = y_shape[2:]
    K = numel(op.kernel)
    cg_in = c_in // op.groups
    cg_out = c_out // op.groups
    xs = strides_of(x_shape)
    ys = strides_of(y_shape)
    kernel_positions = list(indices(op.kernel))
    y = [0] * numel(y_shape)
    for n in range(n_batch):
        for o in indices(o_shape):
            for co in range(c_out):
                g = co // cg_out
                acc = op.bias[co]
                for ci in range(cg_in):
                    for t, k in enumerate(kernel_positions):
                        num = [o[d] + op.pads_begin[d] - k[d] * op.dilations[d] for d in range(s)]
                        if all(num[d] >= 0 and num[d] % op.strides[d] == 0 and num[d] // op.strides[d] < h[d] for d in range(s)):
                            p = [num[d] // op.strides[d] for d in range(s)]
                            xv = x[flat((n, g * cg_in + ci, *p), xs)]
                            acc += op.weights[(co * cg_in + ci) * K + t] * (xv - op.input_zero_point)
                            assert_i32(acc, "ConvTranspose accumulator")
                y[flat((n, co, *o), ys)] = epilogue(acc, co, op.epilogue)
    return y
