"""spec.md §Op: MatMul."""

from ..arith import assert_i32, requantize_to_i8
from ..model import numel, strides_of
from . import broadcast_source, flat, indices


def run(op, ins, out, values, node):
    a, b = values
    a_shape, b_shape, y_shape = ins[0].shape, ins[1].shape, out.shape
    M, K, N = a_shape[-2], a_shape[-1], b_shape[-1]
    batch = y_shape[:-2]
    a_batch = broadcast_source(batch, a_shape[:-2])  # flat index of a's batch
    b_batch = broadcast_source(batch, b_shape[:-2])
    y = []
    for bi in indices(batch):  # row-major over y's batch
        a0 = a_batch(bi) * M * K
        b0 = b_batch(bi) * K * N
        for m in range(M):
            for n in range(N):
                acc = sum((a[a0 + m * K + k] - op.a_zero_point) * (b[b0 + k * N + n] - op.b_zero_point) for k in range(K))
                y.append(requantize_to_i8(assert_i32(acc, "MatMul accumulator"), op.multiplier, op.output_zero_point))
    assert len(y) == numel(y_shape)
    return y
