"""Self-fuzzing: random models from the wire schema; every model that validation accepts must
run without an exception other than the defined run-time errors (spec.md §What validation
guarantees: "An accepted model cannot make an executor index out of bounds … no intermediate
… leaves its stated width"). Any other exception is a gap of the text or a bug here.

    PYTHONPATH=execspec python3 execspec/tools/selffuzz.py [TRIALS] [SEED]
"""

import random
import sys
import traceback
from collections import Counter

from solidml_execspec import artifact, io, postcard
from solidml_execspec import model as M
from solidml_execspec.errors import ExecutionError, ValidationError
from solidml_execspec.run import run

R = random.Random()


def small_int(lo, hi):
    c = R.random()
    if c < 0.7:
        return R.randint(max(lo, -3), min(hi, 4))
    if c < 0.85:
        return R.choice([lo, hi])
    return R.randint(lo, hi)


def gen(t, field=""):
    if isinstance(t, str):
        if t == "bool":
            return R.random() < 0.5
        if t == "f32":
            return 0.5
        if t == "str":
            return "n"
        lo, hi = postcard.INT_RANGE[t]
        if "zero_point" in field:
            return R.randint(-128, 127) if R.random() < 0.95 else small_int(lo, hi)
        return small_int(lo, hi)
    if isinstance(t, postcard.Vec):
        n = R.choice([0, 1, 1, 2, 2, 3, 4])
        if field in ("table",):
            n = 65536 if R.random() < 0.1 else n
        if field in ("exp_table", "ln_table"):
            n = 256 if R.random() < 0.9 else n
        if field == "tables":
            n = 256 * R.choice([1, 2, 3]) if R.random() < 0.9 else n
        return [gen(t.elem, field) for _ in range(n)]
    if isinstance(t, postcard.Opt):
        return None if R.random() < 0.5 else gen(t.elem, field)
    if isinstance(t, postcard.Struct):
        if t.cls is M.Multiplier:
            return M.Multiplier(R.choice([0, 1 << 30, (1 << 31) - 1, R.randint(1 << 30, (1 << 31) - 1)]), R.randint(-31, 30) if R.random() < 0.95 else 99)
        return t.cls(**{n: gen(ft, n) for n, ft in t.cls.WIRE})
    if isinstance(t, postcard.UnitEnum):
        return R.choice(t.names)
    raise TypeError(t)


def fix_op(op):
    """Nudge some fields into their valid ranges so that more models are accepted."""
    if isinstance(op, (M.Softmax, M.LogSoftmax)) and op.exp_table:
        op.exp_table[0] = 1 << 16
        op.exp_table = [min(e, 1 << 16) for e in op.exp_table]
    if isinstance(op, M.LogSoftmax):
        op.ln_table = [e % 45427 for e in op.ln_table]
    if isinstance(op, (M.Conv, M.ConvTranspose, M.Dense)):
        op.weights = [w % 8 for w in op.weights]
        op.bias = [b % 100 for b in op.bias]
    if isinstance(op, M.Lrn):
        op.factors = [f % (1 << 23) for f in op.factors] or [1]
    return op


def rand_shape():
    return [R.choice([0, 1, 1, 2, 2, 3]) for _ in range(R.choice([0, 1, 2, 2, 3, 3, 4]))]


def candidate_models(op):
    n_in = 2 if isinstance(op, (M.Binary, M.Extremum, M.BinaryLut, M.IntBinary, M.MatMul, M.GatherDynamic)) else (R.choice([1, 2, 3]) if isinstance(op, M.Concat) else 1)
    i64_in = isinstance(op, (M.IntBinary, M.Take))
    ins = []
    base = rand_shape()
    for k in range(n_in):
        s = list(base) if R.random() < 0.6 else rand_shape()
        dt = "I64" if i64_in or (isinstance(op, M.GatherDynamic) and k == 1) else ("I64" if R.random() < 0.1 else "I8")
        if R.random() < 0.05:  # version 3: a wide tensor, which only DenseWide may read
            dt = R.choice(M.WIDE_DTYPES)
        ins.append((s, dt))
    outs = [list(base), rand_shape()]
    if n_in == 2:
        from solidml_execspec.validate import broadcast_shapes
        b = broadcast_shapes(ins[0][0], ins[1][0])
        if b is not None:
            outs.append(b)
    if isinstance(op, (M.Pad,)):
        outs.append([d + (op.pads_begin[i] if i < len(op.pads_begin) else 0) + (op.pads_end[i] if i < len(op.pads_end) else 0) for i, d in enumerate(base)])
    for os_ in outs:
        out_dt = "I64" if isinstance(op, (M.ArgMax, M.IntBinary, M.Take)) else ins[0][1]
        if R.random() < 0.05:
            out_dt = R.choice(M.WIDE_DTYPES)
        quant = M.Quant(0.5, 0)
        tensors = [M.TensorInfo(f"x{k}", s, dt, quant if dt != "I64" else None) for k, (s, dt) in enumerate(ins)]
        oq = quant if out_dt != "I64" else None
        if isinstance(op, M.Normalize) and oq:
            oq = M.Quant(2.0 ** -op.scale_log2 if op.scale_log2 <= 8 else 1.0, 0)
        tensors.append(M.TensorInfo("y", os_, out_dt, oq))
        yield M.Model("f", tensors, [], list(range(n_in)), [n_in], [M.Node("op", op, list(range(n_in)), [n_in])])


def _epi(c):
    mults = [gen(M.MULT) for _ in range(R.choice([1, c]) if c else R.choice([0, 1]))]
    lo, hi = sorted([R.randint(-128, 127), R.randint(-128, 127)])
    return M.Epilogue(mults, R.randint(-128, 127), lo, hi)


def _spatial_params(s, transpose=False):
    kernel = [R.choice([1, 1, 2, 3]) for _ in range(s)]
    strides = [R.choice([1, 1, 2, 3]) for _ in range(s)]
    dil = [R.choice([1, 1, 2]) for _ in range(s)]
    pb = [R.choice([0, 0, 1, 2]) for _ in range(s)]
    pe = [R.choice([0, 0, 1, 2]) for _ in range(s)]
    return kernel, strides, dil, pb, pe


def targeted_model(cls):
    """A model whose shapes follow the op's parameters (most of them valid)."""
    from solidml_execspec.validate import window_output_len
    quant = M.Quant(0.5, R.randint(-128, 127))
    s = R.choice([0, 1, 1, 2, 2, 3])
    n = R.choice([0, 1, 1, 2])
    if cls in (M.Conv, M.ConvTranspose):
        g = R.choice([1, 1, 2])
        cin, cout = g * R.choice([1, 2]), g * R.choice([1, 2])
        kernel, strides, dil, pb, pe = _spatial_params(s)
        h = [R.choice([0, 1, 2, 3, 4, 5]) if cls is M.Conv else R.choice([1, 2, 3]) for _ in range(s)]
        K = M.numel(kernel)
        w = [R.randint(-127, 127) for _ in range(cout * (cin // g) * K)]
        b = [R.randint(-5000, 5000) for _ in range(cout)]
        if cls is M.Conv:
            o = [window_output_len(h[d], kernel[d], strides[d], dil[d], pb[d], pe[d]) for d in range(s)]
            if any(v is None for v in o):
                return None
            op = M.Conv(kernel, strides, dil, pb, pe, g, R.randint(-128, 127), w, b, _epi(cout))
        else:
            op_ = [R.choice([0, 0, 1]) for _ in range(s)]
            o = [(h[d] - 1) * strides[d] + dil[d] * (kernel[d] - 1) + 1 + op_[d] - pb[d] - pe[d] for d in range(s)]
            if any(v < 0 for v in o):
                return None
            op = M.ConvTranspose(kernel, strides, dil, pb, pe, op_, g, R.randint(-128, 127), w, b, _epi(cout))
        xs, ys = [n, cin, *h], [n, cout, *o]
    elif cls is M.DenseWide:
        return dense_wide_model()
    elif cls is M.Dense:
        lead = rand_shape()[:2]
        k, nn = R.choice([1, 2, 3]), R.choice([0, 1, 2, 3])
        op = M.Dense(k, nn, R.randint(-128, 127), [R.randint(-127, 127) for _ in range(k * nn)], [R.randint(-999, 999) for _ in range(nn)], _epi(nn))
        xs, ys = lead + [k], lead + [nn]
    elif cls in (M.MaxPool, M.AvgPool):
        kernel, strides, dil, pb, pe = _spatial_params(s)
        pb = [min(p, k - 1) for p, k in zip(pb, kernel)]
        pe = [min(p, k - 1) for p, k in zip(pe, kernel)]
        h = [R.choice([0, 1, 2, 3, 4, 5]) for _ in range(s)]
        o = [window_output_len(h[d], kernel[d], strides[d], dil[d], pb[d], pe[d]) for d in range(s)]
        if any(v is None for v in o):
            return None
        op = cls(kernel, strides, dil, pb, pe, R.random() < 0.5, quant.zero_point)
        c = R.choice([0, 1, 2])
        xs, ys = [n, c, *h], [n, c, *o]
    elif cls is M.InstanceNorm:
        c = R.choice([0, 1, 2])
        sp = [R.choice([1, 2, 3]) for _ in range(R.choice([1, 2]))]
        op = M.InstanceNorm(R.randint(-128, 127), R.randint(-128, 127), R.choice([0, 1, 1000, 1 << 53]),
                            [R.randint(-(1 << 36), 1 << 36) for _ in range(c)], [R.randint(-(1 << 36), 1 << 36) for _ in range(c)])
        xs = ys = [n, c, *sp]
    elif cls is M.Reduce:
        xs = [R.choice([1, 2, 3]) for _ in range(R.choice([0, 1, 2, 3]))]
        axes = [a for a in range(len(xs)) if R.random() < 0.5]
        R.shuffle(axes)
        ys = [d for i, d in enumerate(xs) if i not in axes] if R.random() < 0.5 else [1 if i in axes else d for i, d in enumerate(xs)]
        op = M.Reduce(R.choice(M.REDUCE_KIND.names), axes, R.randint(-128, 127), gen(M.MULT), R.randint(-128, 127))
    elif cls is M.Lut:
        xs = rand_shape()
        axis = R.randrange(len(xs)) if xs and R.random() < 0.5 else None
        op = M.Lut(axis, [R.randint(-128, 127) for _ in range(256 * (xs[axis] if axis is not None else 1))])
        ys = xs
    elif cls is M.Pad:
        xs = rand_shape()
        pb = [R.choice([0, 0, 1, 2]) for _ in xs]
        pe = [R.choice([0, 0, 1, 2]) for _ in xs]
        op = M.Pad(pb, pe, R.choice(M.PAD_MODE.names), R.randint(-128, 127))
        ys = [d + a + b for d, a, b in zip(xs, pb, pe)]
    elif cls is M.View:
        xs = rand_shape()
        ys = rand_shape()
        nx = M.numel(xs)
        strides = [R.choice([0, 1, -1, 2, -2, 3, (1 << 63) - 1]) for _ in ys]
        op = M.View(R.randint(0, max(nx - 1, 0)), strides)
    elif cls is M.Gather:
        xs = rand_shape()
        if not xs:
            return None
        axis = R.randrange(len(xs))
        idx = [R.randrange(xs[axis]) for _ in range(R.choice([0, 1, 2, 3]))] if xs[axis] else []
        ys = xs[:axis] + [len(idx)] + xs[axis + 1:]
        op = M.Gather(axis, idx)
    else:
        return None
    dt = "I8"
    yq = quant if cls in (M.MaxPool, M.AvgPool, M.Pad, M.View, M.Gather) else M.Quant(0.25, R.randint(-128, 127))
    tensors = [M.TensorInfo("x", xs, dt, quant), M.TensorInfo("y", ys, dt, yq)]
    return M.Model("f", tensors, [], [0], [1], [M.Node("op", op, [0], [1])])


def dense_wide_model():
    """Version 3: a DenseWide model of random wide types, weights over the whole i16 range, biases
    and multipliers up to the validation bounds (mostly valid)."""
    lead = rand_shape()[:2]
    k, nn = R.choice([1, 1, 2, 3, 5]), R.choice([0, 1, 2, 3])
    xt, yt = R.choice(["I8", "I16", "I16"]), R.choice(["I8", "I16", "I32", "I32"])
    if R.random() < 0.03:
        xt = R.choice(["I32", "I64"])
    xlo, xhi = M.code_range(xt) if xt != "I64" else (0, 0)
    ylo, yhi = M.code_range(yt)
    xzp, yzp = R.choice([0, xlo, xhi, R.randint(xlo, xhi)]), R.choice([0, ylo, yhi, R.randint(ylo, yhi)])
    wmax = R.choice([127, 32767, 32767, 3])
    w = [R.choice([-wmax, wmax, R.randint(-wmax, wmax)]) for _ in range(k * nn)]
    if w and R.random() < 0.03:
        w[R.randrange(len(w))] = -32768
    bias = []
    for j in range(nn):
        room = (1 << 62) - sum(abs(v) for v in w[j * k:(j + 1) * k]) * 65535
        b = R.choice([0, R.randint(-999, 999), room, -room, R.randint(-room, room)])
        if R.random() < 0.03:
            b += R.choice([-1, 1]) * (1 if b >= 0 else -1)
        bias.append(b)
    nm = R.choice([0, 1, nn, nn])
    mults = [gen(M.MULT) for _ in range(nm)]
    lo, hi = sorted([R.choice([ylo, yhi, R.randint(ylo, yhi)]), R.choice([ylo, yhi, R.randint(ylo, yhi)])])
    if R.random() < 0.03:
        lo, hi = ylo - 1, yhi
    izp = xzp if R.random() < 0.97 else xzp + 1
    op = M.DenseWide(k, nn, izp, w, bias, mults, yzp, lo, hi)
    tensors = [M.TensorInfo("x", lead + [k], xt, M.Quant(0.5, xzp) if xt != "I64" else None),
               M.TensorInfo("y", lead + [nn], yt, M.Quant(0.25, yzp))]
    return M.Model("f", tensors, [], [0], [1], [M.Node("op", op, [0], [1])])


def random_input_quant(m):
    """Version 2: a random ``input_quant`` list for ``m`` (mostly valid: sorted int8 positions,
    an axis of the input, one parameter per index, scales and zero points of every size)."""
    out = []
    for pos, tid in enumerate(m.inputs):
        t = m.tensors[tid]
        if R.random() < 0.5 or (t.dtype != "I8" and R.random() < 0.9) or (not t.shape and R.random() < 0.9):
            continue
        axis = R.randrange(len(t.shape)) if t.shape else 0
        n = t.shape[axis] if t.shape else 1
        if R.random() < 0.05:
            n += R.choice([-1, 1])
        params = []
        for _ in range(max(n, 0)):
            scale = R.choice([0.5, 1.0, 3.0e-3, 2.0 ** -149, 3.0e38, 1.0e10, 0.1])
            zp = R.choice([0, R.randint(-128, 127), R.randint(-(1 << 24), 1 << 24), 1 << 24, -(1 << 24)])
            if R.random() < 0.02:
                scale = R.choice([0.0, -1.0, float("inf")])
            if R.random() < 0.02:
                zp = R.choice([(1 << 24) + 1, -(1 << 24) - 1])
            params.append(M.Quant(scale, zp))
        out.append(M.InputQuant(pos, axis, params))
    if len(out) > 1 and R.random() < 0.05:
        out.reverse()
    return out


REALS_F32 = [0.0, -0.0, 1.0, -1.5, 0.25, 3.0e38, -3.0e38, 1.0e-45, float("inf"), float("-inf"), float("nan"), 12345.678]


def convert_inputs(m):
    """Every conversion of reals into codes of §IO quantization, with the elements' parameters
    (quantize_f32, quantize_fixed18, the Number path); the width and f64 assertions must hold."""
    for pos, tid in enumerate(m.inputs):
        dt = m.tensors[tid].dtype
        if dt == "I64":
            continue
        lo, hi = M.code_range(dt)
        n = M.numel(m.tensors[tid].shape)
        io.quantize_input_f32(m, pos, [io.f32_from_bits(io.f32_to_bits(R.choice(REALS_F32))) for _ in range(n)])
        io.quantize_input_fixed18(m, pos, [R.choice([0, 1, -1, 10**18, -(10**30), 1 << 101, R.randint(-(1 << 127), (1 << 127) - 1)]) for _ in range(n)])
        for (s, zp) in io.input_params(m, pos):
            io.quantize_number(R.randint(-(1 << 127), (1 << 127) - 1), R.randint(-38, 38), s, zp, lo, hi)


def known_gap(m) -> bool:
    """GAPS.md §1: a Gather on an axis of length 0 accepts any output shape."""
    op = m.nodes[0].op
    return isinstance(op, M.Gather) and m.tensors[m.nodes[0].inputs[0]].shape[op.axis] == 0


def main():
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    R.seed(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    accepted, problems = Counter(), 0
    for _ in range(trials):
        cls = R.choice(M.OP_VARIANTS)
        tm = targeted_model(cls) if R.random() < 0.7 else None
        if tm is not None:
            models = [tm]
        else:
            op = fix_op(cls(**{n: gen(ft, n) for n, ft in cls.WIRE}))
            models = candidate_models(op)
        for m in models:
            if R.random() < 0.3:
                m.input_quant = random_input_quant(m)
            try:
                raw = artifact.encode(m)
                m2 = artifact.decode(raw)
            except (ValidationError, ValueError):
                continue
            accepted[cls.__name__] += 1
            node = m2.nodes[0]
            if not isinstance(node.op, M.DenseWide) and any(m2.tensors[t].dtype in M.WIDE_DTYPES for t in node.inputs + node.outputs):
                problems += 1
                print("PROBLEM (a wide tensor accepted outside DenseWide)", m2)
            if isinstance(node.op, M.DenseWide):
                accepted["DenseWide " + "→".join(m2.tensors[t].dtype for t in node.inputs + node.outputs)] += 1
            wide_in = any(m2.tensors[t].dtype in M.WIDE_DTYPES for t in m2.inputs)
            if m2.input_quant or wide_in:
                accepted["with input_quant (version 2)" if m2.input_quant else "with a wide input (version 3)"] += 1
                try:
                    convert_inputs(m2)
                except Exception:
                    problems += 1
                    print("PROBLEM (input conversion)", m2.input_quant)
                    traceback.print_exc()
            inputs = []
            for tid in m2.inputs:
                t = m2.tensors[tid]
                n = M.numel(t.shape)
                if t.dtype == "I64":
                    inputs.append([R.randint(-3, 5) for _ in range(n)])
                else:
                    lo, hi = M.code_range(t.dtype)
                    inputs.append([R.choice([lo, hi, R.randint(lo, hi)]) for _ in range(n)])
            try:
                run(m2, inputs)
            except ExecutionError:
                pass
            except AssertionError:
                if known_gap(m2):
                    accepted["known gap: Gather on an empty axis (GAPS.md §1)"] += 1
                    break
                problems += 1
                print("PROBLEM", cls.__name__, m2, inputs)
                traceback.print_exc()
                if problems > 5:
                    return 1
            except Exception:
                problems += 1
                print("PROBLEM", cls.__name__, m2, inputs)
                traceback.print_exc()
                if problems > 5:
                    return 1
            break
    print("accepted per op:", dict(sorted(accepted.items())))
    print("problems:", problems)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
