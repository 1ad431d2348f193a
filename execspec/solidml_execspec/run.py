"""spec.md §Model and execution.

``run(model, inputs)`` executes an accepted model:

1. check the number of inputs and, for each, its dtype and element count against its tensor;
2. bind the inputs in ``inputs`` order (for a repeated id the last position wins), then the
   constants;
3. evaluate ``nodes`` in order; each node reads its input tensors and writes its one output;
4. return the values of ``outputs``, in order (a repeated id at every position).

The only run-time errors of an accepted model are Take's and GatherDynamic's out-of-range
indices and IntBinary's i64 overflow and division by zero (``ExecutionError``); execution stops at the first failing
node, which reports its first failing element.
"""

from __future__ import annotations

from . import model as M
from .arith import in_i64
from .errors import ExecutionError
from .model import numel
from .ops import (argmax, avg_pool, binary, binary_lut, concat, conv, conv_transpose, cum_sum, dense,
                  dense_wide, extremum, gather, gather_dynamic, instance_norm, int_binary, int_compare, int_lut, log_softmax,
                  lrn, lut, matmul, max_pool, normalize, pad, reduce, softmax, take, top_k, view)

KERNELS = {
    M.Conv: conv.run, M.ConvTranspose: conv_transpose.run, M.Dense: dense.run,
    M.MatMul: matmul.run, M.Binary: binary.run, M.Extremum: extremum.run,
    M.BinaryLut: binary_lut.run, M.IntBinary: int_binary.run, M.Lut: lut.run, M.View: view.run,
    M.Pad: pad.run, M.Concat: concat.run, M.MaxPool: max_pool.run, M.AvgPool: avg_pool.run,
    M.Reduce: reduce.run, M.InstanceNorm: instance_norm.run, M.Lrn: lrn.run,
    M.Normalize: normalize.run, M.Softmax: softmax.run, M.LogSoftmax: log_softmax.run,
    M.ArgMax: argmax.run, M.Take: take.run, M.Gather: gather.run,
    M.GatherDynamic: gather_dynamic.run, M.CumSum: cum_sum.run, M.DenseWide: dense_wide.run,
    M.TopK: top_k.run, M.IntCompare: int_compare.run, M.IntLut: int_lut.run,
}
assert set(KERNELS) == set(M.OP_VARIANTS)


def check_value(t: M.TensorInfo, value) -> bool:
    """A value fits a tensor: its element count, and codes in the dtype's range (``I8``
    ``[−128, 127]``, ``I16`` ``[−32768, 32767]``, ``I32`` the i32 range, ``I64`` the i64 range)."""
    if len(value) != numel(t.shape):
        return False
    if t.dtype in M.QUANTIZED_DTYPES:
        lo, hi = M.code_range(t.dtype)
        return all(lo <= v <= hi for v in value)
    return all(in_i64(v) for v in value)


def run(model: M.Model, inputs: list) -> list:
    """Execute ``model`` (already validated) on ``inputs`` (one flat list per model input)."""
    # 1. check the inputs
    if len(inputs) != len(model.inputs):
        raise ExecutionError("InputLength", f"expected {len(model.inputs)} inputs, got {len(inputs)}")
    for k, (tid, value) in enumerate(zip(model.inputs, inputs)):
        if not check_value(model.tensors[tid], value):
            raise ExecutionError("InputLength", f"input {k} does not match tensor {model.tensors[tid].name!r}")
    # 2. bind the inputs in order (the last position bound to an id wins), then the constants
    env = {}
    for tid, value in zip(model.inputs, inputs):
        env[tid] = list(value)
    for tid, data in model.constants:
        env[tid] = list(data.values)
    # 3. evaluate the nodes in order
    for index, node in enumerate(model.nodes):
        ins = [model.tensors[t] for t in node.inputs]
        out = model.tensors[node.outputs[0]]
        values = [env[t] for t in node.inputs]
        try:
            y = KERNELS[type(node.op)](node.op, ins, out, values, node)
        except ExecutionError as e:
            e.node = index
            raise
        assert check_value(out, y), f"node {node.name!r} produced a value that does not fit its output"
        env[node.outputs[0]] = y
    # 4. the outputs, in order
    return [env[t] for t in model.outputs]
