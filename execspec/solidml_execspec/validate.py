"""spec.md §Validation rules.

``validate(model)`` raises ``ValidationError(rule, message)`` for the first rule a model breaks.
The order is the text's ("tensors first, then model inputs, the per-axis input quantization,
constants, nodes in order, outputs"; in a node, inputs before outputs, then the op's row), and
the rule id is part of the contract: "an implementation that rejects a vector by another rule
has a bug". Per tensor id, the id check (``model.id``) comes right before the definition check
(GAPS.md §12).
"""

from __future__ import annotations

import math

from . import model as M
from .arith import I8_MAX, I8_MIN, I32_MAX, multiplier_is_valid
from .errors import ValidationError
from .model import numel

MAX_RANK = 8
MAX_ELEMENTS = 1 << 28
MAX_MATMUL_K = 33025
MAX_SUM_COUNT = 8_421_504  # ⌊(2^31 − 1) / 255⌋
MAX_POOL_OUTPUT_TAPS = 1 << 40
LN2_Q16 = 45426  # round(ln 2 · 2^16), §Op: LogSoftmax


# ---------------------------------------------------------------- shape formulas


def window_output_len(n: int, k: int, stride: int, dilation: int, pb: int, pe: int):
    """§Validation rules, shape formulas: ``⌊(padded − span) / stride⌋ + 1`` with
    ``span = dilation · (k − 1) + 1``, ``padded = n + pb + pe``; ``None`` (undefined) when
    ``k = 0``, ``stride = 0`` or ``padded < span``."""
    if k == 0 or stride == 0:
        return None
    span = dilation * (k - 1) + 1
    padded = n + pb + pe
    if padded < span:
        return None
    return (padded - span) // stride + 1


def broadcast_shapes(a, b):
    """numpy broadcasting (§Conventions, Broadcasting); ``None`` when two aligned axes differ
    and neither is 1."""
    r = max(len(a), len(b))
    a = [1] * (r - len(a)) + list(a)
    b = [1] * (r - len(b)) + list(b)
    out = []
    for x, y in zip(a, b):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            return None
    return out


# ---------------------------------------------------------------- helpers


class _Node:
    """What the per-op rules see of a node: its tensors' infos."""

    def __init__(self, model, node):
        self.node = node
        self.ins = [model.tensors[t] for t in node.inputs]
        self.outs = [model.tensors[t] for t in node.outputs]
        self.rule = "op." + M.op_name(node.op)

    def fail(self, msg: str):
        raise ValidationError(self.rule, f"node {self.node.name!r} ({M.op_name(self.node.op)}): {msg}")

    def need(self, cond: bool, msg: str):
        if not cond:
            self.fail(msg)

    def arity(self, n_in, n_out: int = 1):
        """``n_in``: an exact count, or ``(min, None)`` for "at least"."""
        ni, no = len(self.ins), len(self.outs)
        ok_in = (ni >= n_in[0]) if isinstance(n_in, tuple) else ni == n_in
        self.need(ok_in and no == n_out, f"expects {n_in} input(s) and {n_out} output(s), has {ni} and {no}")

    def int8(self, *tensors):
        for t in tensors:
            self.need(t.dtype == "I8", f"tensor {t.name!r} must be int8")

    def i64(self, *tensors):
        for t in tensors:
            self.need(t.dtype == "I64", f"tensor {t.name!r} must be i64")

    def zp(self, v: int, what: str):
        self.need(I8_MIN <= v <= I8_MAX, f"{what} {v} outside [−128, 127]")

    def mult(self, m, what: str = "multiplier"):
        self.need(multiplier_is_valid(m.multiplier, m.shift), f"invalid {what} {m}")

    def same_dtype_quant(self, a, b):
        self.need(a.dtype == b.dtype and a.quant == b.quant, "input and output must have the same dtype and quantization")


def accumulator_ok(weights, bias, c_out: int) -> bool:
    """``accumulator_ok``: for every output channel ``co``,
    ``Σ_{ci,t} |w[co, ci, t]| · 255 + |bias[co]| ≤ 2^31 − 1`` (weights row-major, one row of
    ``len(weights) / C_out`` per output channel)."""
    if c_out == 0:
        return True
    row = len(weights) // c_out
    for co in range(c_out):
        s = sum(abs(w) for w in weights[co * row : (co + 1) * row])
        if s * 255 + abs(bias[co]) > I32_MAX:
            return False
    return True


def _epilogue(v: _Node, ep, channels: int):
    """Epilogue row: 1 multiplier or one per channel, all valid; ``output_zero_point`` in the
    int8 range; ``clamp_min ≤ clamp_max``."""
    v.need(len(ep.multipliers) in (1, channels), f"epilogue has {len(ep.multipliers)} multipliers for {channels} channels")
    for m in ep.multipliers:
        v.mult(m, "epilogue multiplier")
    v.zp(ep.output_zero_point, "output_zero_point")
    v.need(ep.clamp_min <= ep.clamp_max, "clamp_min > clamp_max")


# ---------------------------------------------------------------- per-op rules


def _conv(v: _Node, op: M.Conv):
    v.arity(1)
    x, y = v.ins[0], v.outs[0]
    v.int8(x, y)
    s = len(op.kernel)
    v.need(len(x.shape) == 2 + s and len(y.shape) == 2 + s, "ranks must be 2 + len(kernel)")
    for name in ("strides", "dilations", "pads_begin", "pads_end"):
        v.need(len(getattr(op, name)) == s, f"{name} must have {s} entries")
    c_in, c_out = x.shape[1], y.shape[1]
    v.need(op.groups >= 1 and c_in % op.groups == 0 and c_out % op.groups == 0, "groups must divide C_in and C_out")
    v.need(x.shape[0] == y.shape[0], "batch differs")
    v.need(len(op.weights) == c_out * (c_in // op.groups) * numel(op.kernel), "weights length")
    v.need(len(op.bias) == c_out, "bias length")
    _epilogue(v, op.epilogue, c_out)
    v.need(accumulator_ok(op.weights, op.bias, c_out), "accumulator bound exceeded")
    v.zp(op.input_zero_point, "input_zero_point")
    for d in range(s):
        v.need(op.dilations[d] >= 1, "dilation 0")
        o = window_output_len(x.shape[2 + d], op.kernel[d], op.strides[d], op.dilations[d], op.pads_begin[d], op.pads_end[d])
        v.need(o is not None and o == y.shape[2 + d], f"output axis {2 + d} is {y.shape[2 + d]}, window gives {o}")


def _conv_transpose(v: _Node, op: M.ConvTranspose):
    v.arity(1)
    x, y = v.ins[0], v.outs[0]
    v.int8(x, y)
    s = len(op.kernel)
    v.need(len(x.shape) == 2 + s and len(y.shape) == 2 + s, "ranks must be 2 + len(kernel)")
    for name in ("strides", "dilations", "pads_begin", "pads_end", "output_padding"):
        v.need(len(getattr(op, name)) == s, f"{name} must have {s} entries")
    c_in, c_out = x.shape[1], y.shape[1]
    v.need(op.groups >= 1 and c_in % op.groups == 0 and c_out % op.groups == 0, "groups must divide C_in and C_out")
    v.need(x.shape[0] == y.shape[0], "batch differs")
    v.need(len(op.weights) == c_out * (c_in // op.groups) * numel(op.kernel), "weights length")
    v.need(len(op.bias) == c_out, "bias length")
    _epilogue(v, op.epilogue, c_out)
    v.need(accumulator_ok(op.weights, op.bias, c_out), "accumulator bound exceeded")
    v.zp(op.input_zero_point, "input_zero_point")
    for d in range(s):
        h = x.shape[2 + d]
        v.need(op.strides[d] >= 1 and op.dilations[d] >= 1 and op.kernel[d] >= 1 and h >= 1, "strides, dilations, kernel and input axes must be ≥ 1")
        o = ((h - 1) * op.strides[d] + op.dilations[d] * (op.kernel[d] - 1) + 1 + op.output_padding[d]
             - op.pads_begin[d] - op.pads_end[d])
        v.need(o == y.shape[2 + d], f"output axis {2 + d} is {y.shape[2 + d]}, formula gives {o}")


def _dense(v: _Node, op: M.Dense):
    v.arity(1)
    x, y = v.ins[0], v.outs[0]
    v.int8(x, y)
    v.need(len(x.shape) >= 1 and len(y.shape) >= 1, "rank 0")
    v.need(x.shape[:-1] == y.shape[:-1], "leading axes must match")
    v.need(x.shape[-1] == op.in_features and y.shape[-1] == op.out_features, "last axes must be in_features / out_features")
    v.need(op.in_features >= 1, "in_features = 0")
    v.need(len(op.weights) == op.in_features * op.out_features, "weights length")
    v.need(len(op.bias) == op.out_features, "bias length")
    v.zp(op.input_zero_point, "input_zero_point")
    v.need(accumulator_ok(op.weights, op.bias, op.out_features), "accumulator bound exceeded")
    _epilogue(v, op.epilogue, op.out_features)


def _matmul(v: _Node, op: M.MatMul):
    v.arity(2)
    a, b = v.ins
    y = v.outs[0]
    v.int8(a, b, y)
    v.need(len(a.shape) >= 2 and len(b.shape) >= 2, "ranks must be ≥ 2")
    k = a.shape[-1]
    v.need(b.shape[-2] == k, "inner axes differ")
    v.need(1 <= k <= MAX_MATMUL_K, f"K = {k} outside [1, {MAX_MATMUL_K}]")
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    v.need(batch is not None, "batch axes do not broadcast")
    v.need(list(y.shape) == batch + [a.shape[-2], b.shape[-1]], "output shape")
    v.mult(op.multiplier)
    for z in (op.a_zero_point, op.b_zero_point, op.output_zero_point):
        v.zp(z, "zero point")


def _broadcast_out(v: _Node):
    a, b = v.ins
    y = v.outs[0]
    bs = broadcast_shapes(a.shape, b.shape)
    v.need(bs is not None and list(y.shape) == bs, "output shape is not the broadcast of the inputs")


def _binary(v: _Node, op: M.Binary):
    v.arity(2)
    v.int8(*v.ins, *v.outs)
    _broadcast_out(v)
    for m in (op.a_multiplier, op.b_multiplier, op.output_multiplier):
        v.mult(m)
    v.need(op.left_shift <= 20, "left_shift > 20")
    v.need(op.a_multiplier.shift <= 0 and op.b_multiplier.shift <= 0, "input multipliers must be < 1")
    for z in (op.a_zero_point, op.b_zero_point, op.output_zero_point):
        v.zp(z, "zero point")
    v.need(op.clamp_min <= op.clamp_max, "clamp_min > clamp_max")


def _extremum(v: _Node, op: M.Extremum):
    v.arity(2)
    v.int8(*v.ins, *v.outs)
    y = v.outs[0]
    v.need(all(t.quant == y.quant for t in v.ins), "inputs must carry the output's quantization")
    _broadcast_out(v)


def _binary_lut(v: _Node, op: M.BinaryLut):
    v.arity(2)
    v.int8(*v.ins, *v.outs)
    v.need(len(op.table) == 65536, "table length")
    _broadcast_out(v)


def _int_binary(v: _Node, op: M.IntBinary):
    v.arity(2)
    v.i64(*v.ins, *v.outs)
    _broadcast_out(v)


def _int_compare(v: _Node, op: M.IntCompare):
    """§Validation rules, IntCompare (version 5): "2/1; ``a``, ``b`` i64, ``y`` int8; output
    shape = broadcast of the inputs"."""
    v.arity(2)
    v.i64(*v.ins)
    v.int8(*v.outs)
    _broadcast_out(v)


def _int_lut(v: _Node, op: M.IntLut):
    """§Validation rules, IntLut (version 7): "1/1, int8 in, i64 out; output shape = input
    shape; 256 table entries"."""
    v.arity(1)
    x, y = v.ins[0], v.outs[0]
    v.need(x.dtype == "I8" and y.dtype == "I64", "IntLut takes int8 and gives i64")
    v.need(x.shape == y.shape, "output shape must be the input's")
    v.need(len(op.table) == 256, "the table must hold 256 values")


def _lut(v: _Node, op: M.Lut):
    v.arity(1)
    x, y = v.ins[0], v.outs[0]
    v.int8(x, y)
    v.need(x.shape == y.shape, "shapes differ")
    if op.axis is not None:
        v.need(op.axis < len(x.shape), "axis out of range")
    n_tables = 1 if op.axis is None else x.shape[op.axis]
    v.need(len(op.tables) == 256 * n_tables, "tables length")


def _view(v: _Node, op: M.View):
    v.arity(1)
    x, y = v.ins[0], v.outs[0]
    v.same_dtype_quant(x, y)
    v.need(len(op.strides) == len(y.shape), "one stride per output axis")
    if numel(y.shape) > 0:
        lo = op.offset + sum((d - 1) * s for d, s in zip(y.shape, op.strides) if s < 0)
        hi = op.offset + sum((d - 1) * s for d, s in zip(y.shape, op.strides) if s > 0)
        n = numel(x.shape)
        v.need(0 <= lo and hi < n, f"read offsets [{lo}, {hi}] outside [0, {n})")


def _pad(v: _Node, op: M.Pad):
    v.arity(1)
    x, y = v.ins[0], v.outs[0]
    v.same_dtype_quant(x, y)
    r = len(x.shape)
    v.need(len(op.pads_begin) == r and len(op.pads_end) == r and len(y.shape) == r, "pads and output must have the input's rank")
    v.need(all(y.shape[d] == x.shape[d] + op.pads_begin[d] + op.pads_end[d] for d in range(r)), "output shape")
    if x.dtype == "I8":
        v.need(I8_MIN <= op.value <= I8_MAX, "int8 pad value outside [−128, 127]")
    for d in range(r):
        pb, pe, n = op.pads_begin[d], op.pads_end[d], x.shape[d]
        if pb == 0 and pe == 0:
            continue
        if op.mode == "Reflect":
            v.need(pb < n and pe < n, f"Reflect pads on axis {d} must be < {n}")
        if op.mode == "Edge":
            v.need(n > 0, f"Edge padding of the empty axis {d}")


def _concat(v: _Node, op: M.Concat):
    v.arity((1, None))
    y = v.outs[0]
    r = len(y.shape)
    v.need(op.axis < r, "axis out of range")
    total = 0
    for t in v.ins:
        v.need(t.dtype == y.dtype and t.quant == y.quant and len(t.shape) == r, "inputs must have the output's dtype, quantization and rank")
        v.need(all(t.shape[d] == y.shape[d] for d in range(r) if d != op.axis), "inputs differ off the axis")
        total += t.shape[op.axis]
    v.need(total == y.shape[op.axis], "axis lengths do not add up")


def _pool(v: _Node, op):
    v.arity(1)
    x, y = v.ins[0], v.outs[0]
    v.int8(x, y)
    v.need(x.quant == y.quant, "input and output quantization differ")
    v.need(op.zero_point == x.quant.zero_point, "zero_point is not the input's")
    s = len(op.kernel)
    v.need(len(x.shape) == 2 + s and len(y.shape) == 2 + s, "ranks must be 2 + len(kernel)")
    v.need(x.shape[:2] == y.shape[:2], "first two axes differ")
    for name in ("strides", "dilations", "pads_begin", "pads_end"):
        v.need(len(getattr(op, name)) == s, f"{name} must have {s} entries")
    for d in range(s):
        v.need(op.dilations[d] >= 1 and op.kernel[d] >= 1, "dilation or kernel 0")
        v.need(op.pads_begin[d] < op.kernel[d] and op.pads_end[d] < op.kernel[d], "pads must be < kernel")
        o = window_output_len(x.shape[2 + d], op.kernel[d], op.strides[d], op.dilations[d], op.pads_begin[d], op.pads_end[d])
        v.need(o is not None and o == y.shape[2 + d], f"output axis {2 + d} is {y.shape[2 + d]}, window gives {o}")
    window = numel(op.kernel)
    v.need(window <= MAX_SUM_COUNT, f"window of {window} taps")
    v.need(window * numel(y.shape) <= MAX_POOL_OUTPUT_TAPS, "more than 2^40 taps over the output")


def _reduce(v: _Node, op: M.Reduce):
    v.arity(1)
    x, y = v.ins[0], v.outs[0]
    v.int8(x, y)
    r = len(x.shape)
    v.need(all(a < r for a in op.axes) and len(set(op.axes)) == len(op.axes), "axes out of range or repeated")
    kept = numel(x.shape[d] for d in range(r) if d not in op.axes)
    v.need(numel(y.shape) == kept, "output length is not the product of the kept axes")
    v.need(numel(x.shape) > 0, "empty input")
    v.need(numel(x.shape) // numel(y.shape) <= MAX_SUM_COUNT, "too many reduced elements per output")
    v.zp(op.input_zero_point, "input_zero_point")
    v.zp(op.output_zero_point, "output_zero_point")
    v.mult(op.multiplier)


def _same_shape_int8(v: _Node):
    v.arity(1)
    x, y = v.ins[0], v.outs[0]
    v.int8(x, y)
    v.need(x.shape == y.shape, "shapes differ")
    return x, y


def _instance_norm(v: _Node, op: M.InstanceNorm):
    x, _ = _same_shape_int8(v)
    v.need(len(x.shape) >= 3, "rank < 3")
    p = numel(x.shape[2:])
    v.need(1 <= p <= 1 << 16, f"plane of {p} elements")
    c = x.shape[1]
    v.need(len(op.gamma_q16) == c and len(op.beta_q16) == c, "one gamma and beta per channel")
    v.need(all(abs(g) <= 1 << 36 for g in op.gamma_q16 + op.beta_q16), "|gamma|, |beta| > 2^36")
    v.need(0 <= op.epsilon_term <= 1 << 53, "epsilon_term outside [0, 2^53]")
    v.zp(op.input_zero_point, "input_zero_point")
    v.zp(op.output_zero_point, "output_zero_point")


def _lrn(v: _Node, op: M.Lrn):
    x, _ = _same_shape_int8(v)
    v.need(len(x.shape) >= 2, "rank < 2")
    v.need(1 <= op.size <= 4096, "size outside [1, 4096]")
    v.need(op.sum_shift <= 40, "sum_shift > 40")
    v.need(1 <= len(op.factors) <= 4096, "1 to 4096 factors")
    v.need(all(0 <= f <= 1 << 23 for f in op.factors), "factor outside [0, 2^23]")
    v.mult(op.multiplier)
    v.zp(op.input_zero_point, "input_zero_point")
    v.zp(op.output_zero_point, "output_zero_point")


def _normalize(v: _Node, op: M.Normalize):
    x, y = _same_shape_int8(v)
    v.need(len(x.shape) >= 1 and x.shape[-1] <= 1 << 16, "rank 0 or last axis > 2^16")
    v.need(op.scale_log2 <= 8, "scale_log2 > 8")
    v.zp(op.input_zero_point, "input_zero_point")
    v.zp(op.output_zero_point, "output_zero_point")
    v.need(y.quant.scale == math.ldexp(1.0, -op.scale_log2), "output scale is not 2^−scale_log2")


def _cum_sum(v: _Node, op: M.CumSum):
    x, _ = _same_shape_int8(v)
    v.need(op.axis < len(x.shape), "axis out of range")
    v.need(x.shape[op.axis] <= MAX_SUM_COUNT, "axis too long")
    v.zp(op.input_zero_point, "input_zero_point")
    v.zp(op.output_zero_point, "output_zero_point")
    v.mult(op.multiplier)


def _exp_table_ok(table) -> bool:
    """Softmax's table rule: 256 entries, all ≤ 2^16, the first = 2^16."""
    return len(table) == 256 and table[0] == 1 << 16 and all(e <= 1 << 16 for e in table)


def _softmax(v: _Node, op: M.Softmax):
    x, _ = _same_shape_int8(v)
    v.need(op.axis < len(x.shape), "axis out of range")
    v.need(x.shape[op.axis] <= 1 << 15, "axis longer than 2^15")
    v.need(_exp_table_ok(op.exp_table), "exp_table")


def _log_softmax(v: _Node, op: M.LogSoftmax):
    x, _ = _same_shape_int8(v)
    v.need(op.axis < len(x.shape), "axis out of range")
    v.need(x.shape[op.axis] <= 1 << 14, "axis longer than 2^14")
    v.need(_exp_table_ok(op.exp_table), "exp_table")
    v.need(len(op.ln_table) == 256 and all(0 <= e <= LN2_Q16 for e in op.ln_table), "ln_table")
    v.need(0 <= op.input_scale_q16 <= 1 << 22, "input_scale_q16 outside [0, 2^22]")
    v.mult(op.multiplier)
    v.zp(op.output_zero_point, "output_zero_point")


def _argmax(v: _Node, op: M.ArgMax):
    v.arity(1)
    x, y = v.ins[0], v.outs[0]
    v.int8(x)
    v.i64(y)
    v.need(op.axis < len(x.shape), "axis out of range")
    v.need(x.shape[op.axis] > 0, "empty axis")
    v.need(numel(y.shape) * x.shape[op.axis] == numel(x.shape), "output length")


def _take(v: _Node, op: M.Take):
    v.arity(1)
    x, y = v.ins[0], v.outs[0]
    v.i64(x, y)
    v.need(numel(x.shape) == numel(y.shape), "lengths differ")
    v.need(len(op.table) > 0, "empty table")


def _gather(v: _Node, op: M.Gather):
    v.arity(1)
    x, y = v.ins[0], v.outs[0]
    v.same_dtype_quant(x, y)
    v.need(op.axis < len(x.shape), "axis out of range")
    v.need(all(i < x.shape[op.axis] for i in op.indices), "index out of range")
    # "when shape[axis] > 0 ..., and len(y) = 0 when shape[axis] = 0"
    d = x.shape[op.axis]
    v.need(numel(y.shape) == 0 if d == 0 else numel(y.shape) * d == numel(x.shape) * len(op.indices), "output length")


def _gather_dynamic(v: _Node, op: M.GatherDynamic):
    v.arity(2)
    x, idx = v.ins
    y = v.outs[0]
    v.same_dtype_quant(x, y)
    v.i64(idx)
    v.need(op.axis < len(x.shape) and x.shape[op.axis] > 0, "axis out of range or empty")
    v.need(list(y.shape) == list(x.shape[: op.axis]) + list(idx.shape) + list(x.shape[op.axis + 1 :]), "output shape")


def _top_k(v: _Node, op: M.TopK):
    """§Validation rules, TopK (version 4): "1/1; ``x`` int8 or i64 (the wide types are refused
    before); ``Values``: ``y`` of ``x``'s dtype and quant, ``Indices``: ``y`` i64;
    ``axis < rank``; ``k ≤ shape[axis]``; ``y.shape`` = ``x.shape`` with ``shape[axis]``
    replaced by ``k``"."""
    v.arity(1)
    x, y = v.ins[0], v.outs[0]
    v.need(x.dtype in ("I8", "I64"), f"input {x.name!r} must be int8 or i64")
    if op.output == "Values":
        v.same_dtype_quant(x, y)
    else:
        v.i64(y)
    v.need(op.axis < len(x.shape), "axis out of range")
    v.need(op.k <= x.shape[op.axis], "k larger than the axis")
    want = list(x.shape)
    want[op.axis] = op.k
    v.need(list(y.shape) == want, "output shape")


DENSE_WIDE_ACC_BOUND = 1 << 62  # Σ_k |weights[j, k]| · 65535 + |bias[j]| ≤ 2^62
DENSE_WIDE_DIFF = 65535  # the largest |x − input_zero_point| the bound allows for (two i16 codes)


def _dense_wide(v: _Node, op: M.DenseWide):
    """§Validation rules, DenseWide (version 3): "1/1; ``x`` ``I8`` or ``I16``, ``y`` ``I8``,
    ``I16`` or ``I32``; shapes as Dense; ``in_features ≥ 1``; ``len(weights) = K · N``,
    ``len(bias) = N``; ``input_zero_point`` = ``x``'s zero point; no weight ``−32768``; no
    multiplier, one, or ``N``, all valid; ``output_zero_point`` = ``y``'s zero point;
    ``lo ≤ clamp_min ≤ clamp_max ≤ hi`` for ``y``'s code range;
    ``Σ_k |w[n, k]| · 65535 + |bias[n]| ≤ 2^62`` for every output feature, in that order".
    ("shapes as Dense": rank ≥ 1, the same rank, equal leading axes, last axes ``in_features``
    / ``out_features``.)"""
    v.arity(1)
    x, y = v.ins[0], v.outs[0]
    v.need(x.dtype in ("I8", "I16"), f"input {x.name!r} must be int8 or int16")
    v.need(y.dtype in ("I8", "I16", "I32"), f"output {y.name!r} must be int8, int16 or int32")
    v.need(len(x.shape) >= 1 and len(y.shape) >= 1, "rank 0")
    v.need(x.shape[:-1] == y.shape[:-1], "leading axes must match")
    K, N = op.in_features, op.out_features
    v.need(x.shape[-1] == K and y.shape[-1] == N, "last axes must be in_features / out_features")
    v.need(K >= 1, "in_features = 0")
    v.need(len(op.weights) == K * N, "weights length")
    v.need(len(op.bias) == N, "bias length")
    v.need(op.input_zero_point == x.quant.zero_point, "input_zero_point is not the input's zero point")
    v.need(all(w != -(1 << 15) for w in op.weights), "weight −32768")
    v.need(len(op.multipliers) in (0, 1, N), f"{len(op.multipliers)} multipliers for {N} output features")
    for m in op.multipliers:
        v.mult(m)
    v.need(op.output_zero_point == y.quant.zero_point, "output_zero_point is not the output's zero point")
    lo, hi = M.code_range(y.dtype)
    v.need(lo <= op.clamp_min <= op.clamp_max <= hi, f"clamp [{op.clamp_min}, {op.clamp_max}] outside [{lo}, {hi}] or empty")
    for j in range(N):
        s = sum(abs(w) for w in op.weights[j * K : (j + 1) * K])
        v.need(s * DENSE_WIDE_DIFF + abs(op.bias[j]) <= DENSE_WIDE_ACC_BOUND, f"accumulator bound exceeded for output feature {j}")


OP_RULES = {
    M.Conv: _conv, M.ConvTranspose: _conv_transpose, M.Dense: _dense, M.MatMul: _matmul,
    M.Binary: _binary, M.Extremum: _extremum, M.BinaryLut: _binary_lut, M.IntBinary: _int_binary,
    M.Lut: _lut, M.View: _view, M.Pad: _pad, M.Concat: _concat, M.MaxPool: _pool,
    M.AvgPool: _pool, M.Reduce: _reduce, M.InstanceNorm: _instance_norm, M.Lrn: _lrn,
    M.Normalize: _normalize, M.CumSum: _cum_sum, M.Softmax: _softmax,
    M.LogSoftmax: _log_softmax, M.ArgMax: _argmax, M.Take: _take, M.Gather: _gather,
    M.GatherDynamic: _gather_dynamic, M.DenseWide: _dense_wide, M.TopK: _top_k,
    M.IntCompare: _int_compare, M.IntLut: _int_lut,
}
assert set(OP_RULES) == set(M.OP_VARIANTS)


# ---------------------------------------------------------------- model rules


U64_MAX = (1 << 64) - 1


def _tensor_ok(t: M.TensorInfo) -> str | None:
    """[model.tensor] Every tensor: rank ≤ 8; element count ≤ 2^28; ``I8`` with a quant of
    finite scale strictly > 0 (``±0.0`` rejected, positive subnormals allowed) and zero point in [−128, 127]; ``I64``
    without quant. Version 3: "``I16`` and ``I32`` likewise with zero points in
    ``[−32768, 32767]`` resp. the i32 range"."""
    if len(t.shape) > MAX_RANK:
        return f"tensor {t.name!r} has rank {len(t.shape)} > {MAX_RANK}"
    # "the product of the dimensions taken left to right in unsigned 64-bit arithmetic and a
    # partial product that overflows 2^64 − 1 rejects the tensor" (then the count ≤ 2^28)
    running = 1
    for d in t.shape:
        running *= d
        if running > U64_MAX:
            return f"tensor {t.name!r} has too many elements"
    if running > MAX_ELEMENTS:
        return f"tensor {t.name!r} has too many elements"
    if t.dtype in M.QUANTIZED_DTYPES:
        q = t.quant
        lo, hi = M.code_range(t.dtype)
        if q is None or not (math.isfinite(q.scale) and q.scale > 0 and lo <= q.zero_point <= hi):
            return f"tensor {t.name!r} has an invalid type or quantization"
    elif t.quant is not None:
        return f"tensor {t.name!r} has an invalid type or quantization"
    return None


MAX_INPUT_QUANT_ZERO_POINT = 1 << 24  # a per-axis zero point lies in [−2^24, 2^24]


def _input_quant_error(model: M.Model) -> str | None:
    """[model.input_quant] The entries, in list order: ``input`` strictly greater than the
    previous entry's (one entry per input position, sorted); ``input < len(inputs)``; the tensor
    ``inputs[input]`` is ``I8`` or ``I16`` (version 3; "the codes then clamp to the int16
    range"); ``axis < rank``; ``len(params) = shape[axis]``; every
    parameter's scale a finite f32 strictly greater than 0 (as ``model.tensor``) and its zero
    point in ``[−2^24, 2^24]``. Within an entry the checks are made in the order listed, the
    parameters in index order (GAPS.md §23)."""
    previous = None
    for k, iq in enumerate(model.input_quant):
        if previous is not None and iq.input <= previous:
            return f"input_quant entry {k}: input position {iq.input} is not after {previous} (entries sorted, one per input)"
        previous = iq.input
        if iq.input >= len(model.inputs):
            return f"input_quant entry {k}: input position {iq.input} out of range ({len(model.inputs)} inputs)"
        t = model.tensors[model.inputs[iq.input]]
        if t.dtype not in ("I8", "I16"):
            return f"input_quant entry {k}: input {t.name!r} is not int8 or int16"
        if iq.axis >= len(t.shape):
            return f"input_quant entry {k}: axis {iq.axis} out of range for input {t.name!r} of rank {len(t.shape)}"
        if len(iq.params) != t.shape[iq.axis]:
            return f"input_quant entry {k}: {len(iq.params)} parameters for axis {iq.axis} of input {t.name!r} of length {t.shape[iq.axis]}"
        for c, q in enumerate(iq.params):
            if not (math.isfinite(q.scale) and q.scale > 0
                    and -MAX_INPUT_QUANT_ZERO_POINT <= q.zero_point <= MAX_INPUT_QUANT_ZERO_POINT):
                return f"input_quant entry {k}: parameter {c} of input {t.name!r}: scale {q.scale!r}, zero point {q.zero_point} out of range"
    return None


def validate(model: M.Model) -> None:
    """Run every rule of §Validation rules, "checked in this order (tensors first, then model
    inputs, the per-axis input quantization, constants, nodes in order, outputs; the first
    broken rule rejects)"; a tensor id is checked (``model.id``) where it is met. Raises
    ``ValidationError`` naming the first broken rule."""
    n = len(model.tensors)

    def check_id(i: int):
        if i >= n:
            raise ValidationError("model.id", f"tensor id {i} out of range ({n} tensors)")

    # [model.tensor]
    for t in model.tensors:
        err = _tensor_ok(t)
        if err:
            raise ValidationError("model.tensor", err)
    # model inputs
    for i in model.inputs:
        check_id(i)
    # [model.input_quant] (after every model input's id passed model.id)
    err = _input_quant_error(model)
    if err:
        raise ValidationError("model.input_quant", err)
    defined = set(model.inputs)
    # [model.constant]
    for tid, data in model.constants:
        check_id(tid)
        t = model.tensors[tid]
        if (type(data).DTYPE != t.dtype or len(data.values) != numel(t.shape)
                or tid in model.inputs or tid in defined):
            raise ValidationError("model.constant", f"constant {t.name!r} does not match its tensor (or is an input or repeated)")
        defined.add(tid)
    # [model.order], then the node's own rules (op.*)
    for node in model.nodes:
        where = f"node {node.name!r} ({M.op_name(node.op)})"
        for t in node.inputs:
            check_id(t)
            if t not in defined:
                raise ValidationError("model.order", f"{where}: input tensor {t} is used before it is defined")
        for t in node.outputs:
            check_id(t)
            if t in defined:
                raise ValidationError("model.order", f"{where}: output tensor {t} is defined twice")
            defined.add(t)
        v = _Node(model, node)
        if not isinstance(node.op, M.DenseWide):
            # §Validation rules (version 3): "Before its own rules, every node other than
            # DenseWide is checked to read and write no I16 or I32 tensor"
            # ("only DenseWide reads or writes int16 or int32 tensors")
            for t in v.ins + v.outs:
                v.need(t.dtype not in M.WIDE_DTYPES, f"tensor {t.name!r} is {t.dtype}: only DenseWide reads or writes int16 or int32 tensors")
        OP_RULES[type(node.op)](v, node.op)
    # [model.output]
    for k, t in enumerate(model.outputs):
        check_id(t)
        if t not in defined:
            raise ValidationError("model.output", f"model output {k} is never computed")
