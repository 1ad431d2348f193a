"""Version 3 of the text: the element types I16 and I32 and §Op: DenseWide.

The expected outputs are worked by hand from the section's formula (the arithmetic is written
out in the comments), not produced by the code under test.
"""

import unittest

import _path  # noqa: F401
from solidml_execspec import artifact, io, postcard, precompile
from solidml_execspec import model as M
from solidml_execspec.arith import requantize, scale_wide
from solidml_execspec.errors import ValidationError
from solidml_execspec.model import model_from_json, model_to_json
from solidml_execspec.ops import dense_wide
from solidml_execspec.run import run
from solidml_execspec.validate import validate

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1


def wide_model(x_shape, y_shape, op, x_dtype="I16", y_dtype="I32", x_zp=None, y_zp=None):
    """A one-node DenseWide model ``x → y`` whose tensors carry the op's zero points."""
    xq = M.Quant(0.5, op.input_zero_point if x_zp is None else x_zp)
    yq = M.Quant(0.25, op.output_zero_point if y_zp is None else y_zp)
    tensors = [M.TensorInfo("x", x_shape, x_dtype, xq), M.TensorInfo("y", y_shape, y_dtype, yq)]
    return M.Model("wide", tensors, [], [0], [1], [M.Node("dw", op, [0], [1])])


def run_op(op, x_shape, y_shape, x, x_dtype="I16", y_dtype="I32"):
    m = wide_model(x_shape, y_shape, op, x_dtype, y_dtype)
    validate(m)
    return run(m, [x])[0]


class ScaleWide(unittest.TestCase):
    """``scale_wide(acc, M) = sign(p) · ⌊(|p| + 2^(r−1)) / 2^r⌋``, ``p = acc · M.multiplier``,
    ``r = 31 − M.shift``."""

    def test_halves_away_from_zero(self):
        # M = {2^30, 0} = 1/2, r = 31: p = acc · 2^30, ⌊(|acc| · 2^30 + 2^30) / 2^31⌋ = ⌊(|acc| + 1) / 2⌋
        half = (1 << 30, 0)
        for acc, want in [(3, 2), (-3, -2), (5, 3), (-5, -3), (1, 1), (-1, -1), (2, 1), (-2, -1), (0, 0)]:
            self.assertEqual(scale_wide(acc, *half), want, acc)
        # Dense's requantize rounds halves up (srdhm): −1.5 → −1, −0.5 → 0
        self.assertEqual(requantize(-3, *half), -1)
        self.assertEqual(requantize(-1, *half), 0)

    def test_r_extremes(self):
        # shift 30: r = 1, M = 2^30 · 2^−1 = 2^29; no saturation (requantize's left shift would)
        self.assertEqual(scale_wide(3, 1 << 30, 30), 3 << 29)
        self.assertEqual(scale_wide(-5, 1 << 30, 30), -5 << 29)
        # shift −31: r = 62; acc = 2^62, mantissa 2^31 − 1:
        # p = 2^93 − 2^62, ⌊(2^93 − 2^62 + 2^61) / 2^62⌋ = 2^31 − 1
        self.assertEqual(scale_wide(1 << 62, I32_MAX, -31), I32_MAX)
        self.assertEqual(scale_wide(-(1 << 62), I32_MAX, -31), -I32_MAX)
        # mantissa 0: M = 0
        self.assertEqual(scale_wide(12345, 0, 7), 0)


class WorkedExamples(unittest.TestCase):
    def test_accumulator_output_without_multipliers(self):
        # K = 2, N = 2, x: I16 [2, 2] with zero point −3, y: I32 with zero point 10, no multipliers
        op = M.DenseWide(2, 2, -3, [32767, -32767, 1, 2], [5, -7], [], 10, I32_MIN, I32_MAX)
        # row 0: x = [32767, −32768], x − zp = [32770, −32765]
        #   acc_0 = 5 + 32767 · 32770 + (−32767) · (−32765) = 5 + 32767 · 65535 = 2147385350
        #   acc_1 = −7 + 32770 − 2 · 32765 = −32767
        # row 1: x = [−3, 0], x − zp = [0, 3]
        #   acc_0 = 5 − 3 · 32767 = −98296;  acc_1 = −7 + 6 = −1
        # y = acc + 10
        y = run_op(op, [2, 2], [2, 2], [32767, -32768, -3, 0])
        self.assertEqual(y, [2147385360, -32757, -98286, 9])

    def test_one_multiplier_and_clamps(self):
        # the same accumulators, y: I16 with zero point 10, M = {2^30, −4} = 1/32 (r = 35),
        # clamp [−100, 30000]:
        #   2147385350 / 32 = 67105792.19 → 67105792 + 10 → 30000 (clamp_max)
        #   −32767 / 32 = −1023.97 → −1024 + 10 = −1014 → −100 (clamp_min)
        #   −98296 / 32 = −3071.75 → −3072 + 10 → −100;   −1 / 32 → 0 + 10 = 10
        op = M.DenseWide(2, 2, -3, [32767, -32767, 1, 2], [5, -7], [M.Multiplier(1 << 30, -4)], 10, -100, 30000)
        y = run_op(op, [2, 2], [2, 2], [32767, -32768, -3, 0], "I16", "I16")
        self.assertEqual(y, [30000, -100, -100, 10])

    def test_halves_through_the_op(self):
        # K = 1, weight 1, bias 0, M = 1/2, x: I8 (zero point 0) → y: I8 (zero point 0)
        # x · 1/2 with halves away from zero: 3 → 2, −3 → −2, 5 → 3, −5 → −3, 1 → 1, −1 → −1, −128 → −64
        op = M.DenseWide(1, 1, 0, [1], [0], [M.Multiplier(1 << 30, 0)], 0, -128, 127)
        y = run_op(op, [7, 1], [7, 1], [3, -3, 5, -5, 1, -1, -128], "I8", "I8")
        self.assertEqual(y, [2, -2, 3, -3, 1, -1, -64])

    def test_per_feature_multipliers_at_the_accumulator_bound(self):
        # K = 1, weights 0, bias ±2^62 (the bound: 0 · 65535 + 2^62 ≤ 2^62), M_j = {2^31 − 1, −31}:
        # v_0 = 2^31 − 1, v_1 = −(2^31 − 1) (ScaleWide.test_r_extremes); y zero point −3:
        # y_0 = 2^31 − 4, y_1 = −2^31 − 2 → clamped to −2^31 (nothing saturated before the clamp)
        m = M.Multiplier(I32_MAX, -31)
        op = M.DenseWide(1, 2, 0, [0, 0], [1 << 62, -(1 << 62)], [m, m], -3, I32_MIN, I32_MAX)
        y = run_op(op, [1, 1], [1, 2], [0], "I8", "I32")
        self.assertEqual(y, [I32_MAX - 3, I32_MIN])

    def test_large_multiplier_no_saturation_before_the_clamp(self):
        # M = {2^30, 30} = 2^29, x: I8 with zero point 0, K = 1, weight 1:
        # 3 → 3 · 2^29 = 1610612736; 4 → 2^31 → clamp 2^31 − 1; −5 → −5 · 2^29 → clamp −2^31
        op = M.DenseWide(1, 1, 0, [1], [0], [M.Multiplier(1 << 30, 30)], 0, I32_MIN, I32_MAX)
        y = run_op(op, [3, 1], [3, 1], [3, 4, -5], "I8", "I32")
        self.assertEqual(y, [1610612736, I32_MAX, I32_MIN])

    def test_zero_mantissa_and_empty_rows(self):
        # multiplier 0: v = 0, y = clamp(output zero point)
        op = M.DenseWide(2, 1, 0, [5, 5], [100], [M.Multiplier(0, -31)], 7, -128, 127)
        self.assertEqual(run_op(op, [2], [1], [9, 9], "I16", "I8"), [7])
        # no rows: R = 0
        op = M.DenseWide(2, 1, 0, [5, 5], [100], [], 0, -128, 127)
        self.assertEqual(run_op(op, [0, 2], [0, 1], [], "I16", "I8"), [])

    def test_kernel_helper_matches(self):
        op = M.DenseWide(1, 3, 0, [1, 2, 3], [0, 0, 0], [M.Multiplier(1 << 30, 0)] * 3, 0, -128, 127)
        self.assertIs(dense_wide.multiplier_for(op, 2), op.multipliers[2])
        op.multipliers = op.multipliers[:1]
        self.assertIs(dense_wide.multiplier_for(op, 2), op.multipliers[0])


def base_op():
    return M.DenseWide(2, 3, -5, [1, -2, 3, 32767, -32767, 0], [10, -20, 30], [M.Multiplier(1 << 30, -3)], 4, -1000, 1000)


class Validation(unittest.TestCase):
    def rejects(self, m, rule):
        with self.assertRaises(ValidationError) as cm:
            validate(m)
        self.assertEqual(cm.exception.rule, rule, cm.exception.message)

    def model(self, op=None, x=("I16", [4, 2]), y=("I16", [4, 3]), **kw):
        return wide_model(x[1], y[1], op or base_op(), x[0], y[0], **kw)

    def test_valid_base_and_types(self):
        for xt in ("I8", "I16"):
            for yt in ("I8", "I16", "I32"):
                op = base_op()
                op.clamp_min, op.clamp_max = M.code_range(yt)
                validate(self.model(op, x=(xt, [4, 2]), y=(yt, [4, 3])))
        op = base_op()  # [−1000, 1000] is not an int8 clamp
        self.rejects(self.model(op, y=("I8", [4, 3])), "op.DenseWide")

    def test_types(self):
        for xt in ("I32", "I64"):
            self.rejects(self.model(x=(xt, [4, 2])), "op.DenseWide" if xt == "I32" else "model.tensor")
        # an I64 input without quant passes model.tensor and is refused by the op
        m = self.model()
        m.tensors[0] = M.TensorInfo("x", [4, 2], "I64", None)
        self.rejects(m, "op.DenseWide")
        m = self.model()
        m.tensors[1] = M.TensorInfo("y", [4, 3], "I64", None)
        self.rejects(m, "op.DenseWide")

    def test_shapes(self):
        self.rejects(self.model(y=("I16", [5, 3])), "op.DenseWide")  # leading axes
        self.rejects(self.model(y=("I16", [4, 1, 3])), "op.DenseWide")  # rank
        self.rejects(self.model(x=("I16", [4, 3])), "op.DenseWide")  # K
        self.rejects(self.model(y=("I16", [4, 2])), "op.DenseWide")  # N
        self.rejects(self.model(x=("I16", []), y=("I16", [])), "op.DenseWide")  # rank 0
        op = base_op()
        op.weights = op.weights[:-1]
        self.rejects(self.model(op), "op.DenseWide")
        op = base_op()
        op.bias = op.bias[:-1]
        self.rejects(self.model(op), "op.DenseWide")
        # K = 0: "in_features ≥ 1" (GAPS.md §29)
        op = M.DenseWide(0, 3, -5, [], [1, 2, 3], [], 4, -1000, 1000)
        self.rejects(self.model(op, x=("I16", [4, 0])), "op.DenseWide")

    def test_weight_minus_32768(self):
        op = base_op()
        op.weights[1] = -32768
        self.rejects(self.model(op), "op.DenseWide")

    def test_accumulator_bound(self):
        # K = 1, weight 1: 65535 + |bias| ≤ 2^62
        limit = (1 << 62) - 65535
        for b in (limit, -limit):
            validate(self.model(M.DenseWide(1, 1, 0, [1], [b], [], 0, -5, 5), x=("I16", [1]), y=("I16", [1])))
        for b in (limit + 1, -limit - 1):
            self.rejects(self.model(M.DenseWide(1, 1, 0, [1], [b], [], 0, -5, 5), x=("I16", [1]), y=("I16", [1])), "op.DenseWide")
        # a full row of ±32767 weights: K · 32767 · 65535 + |bias| ≤ 2^62
        k = 3
        room = (1 << 62) - k * 32767 * 65535
        validate(self.model(M.DenseWide(k, 1, 0, [32767, -32767, 32767], [room], [], 0, 0, 0), x=("I8", [k]), y=("I32", [1])))
        self.rejects(self.model(M.DenseWide(k, 1, 0, [32767, -32767, 32767], [room + 1], [], 0, 0, 0), x=("I8", [k]), y=("I32", [1])), "op.DenseWide")

    def test_multipliers(self):
        op = base_op()
        op.multipliers = []
        validate(self.model(op))
        op.multipliers = [M.Multiplier(1 << 30, 0)] * 3
        validate(self.model(op))
        op.multipliers = [M.Multiplier(1 << 30, 0)] * 2
        self.rejects(self.model(op), "op.DenseWide")
        for bad in (M.Multiplier(1 << 30, 31), M.Multiplier(1 << 30, -32), M.Multiplier(5, 0), M.Multiplier(-(1 << 30), 0)):
            op.multipliers = [bad]
            self.rejects(self.model(op), "op.DenseWide")

    def test_zero_points(self):
        self.rejects(self.model(x_zp=-4), "op.DenseWide")
        self.rejects(self.model(y_zp=5), "op.DenseWide")

    def test_clamps(self):
        for lo, hi, yt, ok in [(-128, 127, "I8", True), (-129, 0, "I8", False), (0, 128, "I8", False),
                               (-32768, 32767, "I16", True), (-32769, 0, "I16", False), (0, 32768, "I16", False),
                               (I32_MIN, I32_MAX, "I32", True), (5, 4, "I32", False), (3, 3, "I8", True)]:
            op = base_op()
            op.clamp_min, op.clamp_max = lo, hi
            m = self.model(op, y=(yt, [4, 3]))
            if ok:
                validate(m)
            else:
                self.rejects(m, "op.DenseWide")

    def test_arity(self):
        m = self.model()
        m.tensors.append(M.TensorInfo("z", [4, 2], "I16", M.Quant(0.5, -5)))
        m.inputs.append(2)
        m.nodes[0].inputs.append(2)
        self.rejects(m, "op.DenseWide")

    def test_model_tensor_zero_points(self):
        for dt, zp, ok in [("I16", -32768, True), ("I16", 32767, True), ("I16", 32768, False), ("I16", -32769, False),
                           ("I32", I32_MIN, True), ("I32", I32_MAX, True), ("I8", 128, False)]:
            m = M.Model("t", [M.TensorInfo("x", [2], dt, M.Quant(1.0, zp))], [], [0], [0], [])
            if ok:
                validate(m)
            else:
                self.rejects(m, "model.tensor")
        for dt in ("I16", "I32"):
            self.rejects(M.Model("t", [M.TensorInfo("x", [2], dt, None)], [], [0], [0], []), "model.tensor")
            self.rejects(M.Model("t", [M.TensorInfo("x", [2], dt, M.Quant(0.0, 0))], [], [0], [0], []), "model.tensor")

    def test_no_constant_data_for_wide_types(self):
        # ConstData has only I8 and I64: "the data variant matches the dtype" fails
        for dt in ("I16", "I32"):
            t = M.TensorInfo("c", [1], dt, M.Quant(1.0, 0))
            for data in (M.ConstI8([1]), M.ConstI64([1])):
                self.rejects(M.Model("t", [t], [(0, data)], [], [0], []), "model.constant")

    def test_input_quant_for_int8_and_int16_only(self):
        # "the tensor inputs[input] is I8 or I16 (version 3; the codes then clamp to the int16 range)"
        m = self.model()
        m.input_quant = [M.InputQuant(0, 1, [M.Quant(0.5, 100), M.Quant(2.0, -7)])]
        validate(m)
        # element c = i mod 2 takes params[c]: 300 / 0.5 + 100 = 700; −7 + round(−5·10^8) → −32768
        self.assertEqual(io.quantize_input_f32(m, 0, [300.0, -1e9] * 4), [700, -32768] * 4)
        # 3 / 2 = 1.5 → 2 (half to even), −7 + 2 = −5
        self.assertEqual(io.quantize_input_fixed18(m, 0, [300 * 10**18, 3 * 10**18] * 4), [700, -5] * 4)
        m = M.Model("t", [M.TensorInfo("x", [2], "I32", M.Quant(1.0, 0))], [], [0], [0], [],
                    [M.InputQuant(0, 0, [M.Quant(1.0, 0), M.Quant(1.0, 0)])])
        self.rejects(m, "model.input_quant")

    def test_other_ops_refuse_wide_tensors(self):
        q = M.Quant(0.5, 0)
        for dt in ("I16", "I32"):
            cases = [
                (M.View(0, [1, 1]), [[2, 1]], [2, 1], "op.View"),
                (M.Concat(0), [[2], [3]], [5], "op.Concat"),
                (M.Gather(0, [1]), [[2]], [1], "op.Gather"),
                (M.Pad([1], [0], "Constant", 0), [[2]], [3], "op.Pad"),
                (M.Dense(1, 1, 0, [1], [0], M.Epilogue([M.Multiplier(1 << 30, 0)], 0, -128, 127)), [[1]], [1], "op.Dense"),
            ]
            for op, in_shapes, out_shape, rule in cases:
                tensors = [M.TensorInfo(f"x{k}", s, dt, q) for k, s in enumerate(in_shapes)]
                tensors.append(M.TensorInfo("y", out_shape, dt, q))
                n = len(in_shapes)
                m = M.Model("t", tensors, [], list(range(n)), [n], [M.Node("n", op, list(range(n)), [n])])
                self.rejects(m, rule)
            # a wide output only
            m = M.Model("t", [M.TensorInfo("x", [2], "I8", q), M.TensorInfo("y", [2], dt, q)], [], [0], [1],
                        [M.Node("n", M.View(0, [1]), [0], [1])])
            self.rejects(m, "op.View")
            # GatherDynamic with wide data
            m = M.Model("t", [M.TensorInfo("x", [2], dt, q), M.TensorInfo("i", [1], "I64", None), M.TensorInfo("y", [1], dt, q)],
                        [], [0, 1], [2], [M.Node("n", M.GatherDynamic(0), [0, 1], [2])])
            self.rejects(m, "op.GatherDynamic")

    def test_wide_model_input_as_output(self):
        # no op reads or writes it: accepted, the value passes through
        for dt, v in (("I16", [-32768, 32767]), ("I32", [I32_MIN, I32_MAX])):
            m = M.Model("t", [M.TensorInfo("x", [2], dt, M.Quant(1.0, 0))], [], [0], [0], [])
            validate(m)
            self.assertEqual(run(m, [v]), [v])
            with self.assertRaises(Exception):
                run(m, [[v[0] - 1, 0]])


class Wire(unittest.TestCase):
    def test_densewide_bytes(self):
        # Op::DenseWide { in 2, out 1, izp −1, weights [−1, 32767], bias [2^62], [], 0, −2^31, 2^31 − 1 }
        op = M.DenseWide(2, 1, -1, [-1, 32767], [1 << 62], [], 0, I32_MIN, I32_MAX)
        want = bytes.fromhex(
            "19"            # variant 25
            "02" "01"       # in_features 2, out_features 1
            "01"            # input_zero_point zigzag(−1) = 1
            "02" "01" "feff03"  # weights: length 2, zigzag(−1) = 1, zigzag(32767) = 65534
            "01" "80808080808080808001"  # bias: length 1, zigzag(2^62) = 2^63 (10 bytes)
            "00"            # multipliers []
            "00"            # output_zero_point 0
            "ffffffff0f"    # clamp_min zigzag(−2^31) = 2^32 − 1
            "feffffff0f"    # clamp_max zigzag(2^31 − 1) = 2^32 − 2
        )
        self.assertEqual(postcard.encode(M.OP, op), want)
        self.assertEqual(postcard.decode(M.OP, want), (op, len(want)))

    def test_i16_varints(self):
        self.assertEqual(postcard.decode("i16", bytes.fromhex("ffff03")), (-32768, 3))
        with self.assertRaises(postcard.DecodeError):
            postcard.decode("i16", bytes.fromhex("808004"))  # 65536: beyond 16 bits
        with self.assertRaises(postcard.DecodeError):
            postcard.decode("i16", bytes.fromhex("80808000"))  # 4 bytes: beyond ⌈16/7⌉
        with self.assertRaises(ValueError):
            postcard.encode("i16", 32768)

    def test_dtype_indices(self):
        self.assertEqual(postcard.encode(M.DTYPE, "I16"), b"\x02")
        self.assertEqual(postcard.encode(M.DTYPE, "I32"), b"\x03")

    def test_artifact_round_trip_is_version_1(self):
        m = wide_model([1, 2], [1, 3], base_op(), "I16", "I32")
        raw = artifact.encode(m)
        self.assertEqual(raw[8:10], b"\x01\x00")  # GAPS.md §33: the format version is unchanged
        self.assertEqual(artifact.decode(raw), m)
        j = model_to_json(m)
        self.assertEqual(j["tensors"][0]["dtype"], "I16")
        self.assertEqual(j["nodes"][0]["op"]["DenseWide"]["weights"], base_op().weights)
        self.assertEqual(model_from_json(j), m)

    def test_unknown_dtype_index(self):
        raw = bytearray(artifact.encode(wide_model([1, 2], [1, 3], base_op(), "I16", "I32")))
        # the first tensor's dtype byte follows "wide" (name), 02 tensors, 01 'x', shape 02 01 02
        k = raw.index(bytes.fromhex("0178020102")) + 5
        self.assertEqual(raw[k], 2)
        raw[k] = 4
        with self.assertRaises(ValidationError) as cm:
            artifact.decode(bytes(raw))
        self.assertEqual(cm.exception.rule, "artifact.decode")


class Io(unittest.TestCase):
    def test_quantize_i16(self):
        s = io.f32_to_bits(0.5)
        lo, hi = M.code_range("I16")
        self.assertEqual(io.quantize_f32(io.f32_to_bits(100.0), s, 7, lo, hi), 207)  # beyond int8
        self.assertEqual(io.quantize_f32(io.f32_to_bits(20000.0), s, 0, lo, hi), 32767)
        self.assertEqual(io.quantize_f32(io.f32_to_bits(-20000.0), s, 0, lo, hi), -32768)
        self.assertEqual(io.quantize_f32(io.f32_to_bits(0.75), s, 0, lo, hi), 2)  # 1.5 → 2 (half to even)
        self.assertEqual(io.quantize_f32(0x7FC00000, s, 32767, lo, hi), 32767)  # NaN → zp
        self.assertEqual(io.quantize_f32(0x7F800000, s, 0, lo, hi), 32767)  # +∞
        self.assertEqual(io.quantize_fixed18(100 * 10**18, s, -7, lo, hi), 193)
        self.assertEqual(io.quantize_fixed18(-(10**30), s, 0, lo, hi), -32768)
        self.assertEqual(io.quantize_number(12345, 1, s, 0, lo, hi), 2469)  # 1234.5 / 0.5
        # the int8 defaults are unchanged
        self.assertEqual(io.quantize_f32(io.f32_to_bits(100.0), s, 7), 127)

    def test_dequantize_wide(self):
        s = io.f32_to_bits(0.25)
        self.assertEqual(io.dequantize_fixed18(I32_MAX, s, I32_MIN), ((1 << 32) - 1) * 25 * 10**16)
        self.assertEqual(io.dequantize_f32(-32768, s, 32767), -16383.75)

    def test_input_conversion_of_an_i16_input(self):
        m = wide_model([1, 2], [1, 3], base_op(), "I16", "I32")  # x: scale 0.5, zero point −5
        self.assertEqual(io.quantize_input_f32(m, 0, [300.0, -1e9]), [595, -32768])
        self.assertEqual(io.quantize_input_fixed18(m, 0, [300 * 10**18, 10**40]), [595, 32767])


class Precompile(unittest.TestCase):
    def setUp(self):
        # x: I16 [1, 2] (zero point −5, scale 0.5) → y: I32 [1, 3] (zero point 4, scale 0.25)
        self.m = wide_model([1, 2], [1, 3], base_op(), "I16", "I32")
        self.store = precompile.Store()
        self.mid = self.store.insert(artifact.encode(self.m))

    def test_packing(self):
        x = [-32768, 300]
        data = (-32768).to_bytes(2, "big", signed=True) + (300).to_bytes(2, "big", signed=True)
        self.assertEqual(precompile.unpack_inputs(self.m, data), [x])
        y = run(self.m, [x])[0]
        out = precompile.call(self.store, precompile.SOLIDML_ADDRESS, self.mid + data, 10**6)
        self.assertEqual(out.status, "success")
        self.assertEqual(out.output, b"".join(v.to_bytes(4, "big", signed=True) for v in y))
        self.assertEqual(precompile.packed_size(self.m.tensors[0]), 4)
        self.assertEqual(precompile.packed_size(self.m.tensors[1]), 12)

    def test_input_length_message(self):
        out = precompile.call(self.store, precompile.SOLIDML_ADDRESS, self.mid + b"\0" * 2, 10**6)
        self.assertEqual(out.status, "revert")
        msg = out.output[100:].rstrip(b"\0").decode()
        self.assertEqual(msg, f"model 0x{self.mid.hex()} expects 4 input bytes (x: int16 big-endian[1×2]), got 2")

    def test_gas(self):
        # §Gas, version 3: DenseWide's w = len(y) · in_features = 3 · 2 = 6 units of class
        # reference, its 6 weights counted; elements 2 + 3 = 5:
        # work_gas = ⌈(6 · 384 + 5 · 96 + 6 · 16) / 1024⌉ + 16 = ⌈2880 / 1024⌉ + 16 = 19;
        # price = 2000 + 6 · (4 + 12) + 19 = 2115 (in_bytes 2 · 2, out_bytes 3 · 4)
        w = self.store.get(self.mid)[2]
        self.assertEqual((w.units["reference"], w.units["gemm"], w.elements, w.weights, w.nodes), (6, 0, 5, 6, 1))
        self.assertEqual(precompile.price(4, 12, w), 2115)
        # version 1: ⌈6 · 128 / 1024⌉ = 1; 2000 + 96 + 1
        self.assertEqual(precompile.price(4, 12, w, precompile.REFERENCE_SCHEDULE), 2097)
        # no rows: the MAC formula gives 0 and falls to the last row (len(x) + len(y) = 0)
        m = wide_model([0, 2], [0, 3], base_op(), "I16", "I32")
        self.assertEqual(precompile.node_units(m, m.nodes[0]), 0)
        data = (0).to_bytes(2, "big") * 2
        self.assertEqual(precompile.call(self.store, precompile.SOLIDML_ADDRESS, self.mid + data, 10**6).gas_used, 2115)

    def test_opengradient_numbers(self):
        # x: Number {20000, 0} → 40000 − 5 clamped to 32767; Number {−3, 0} → −6 − 5 = −11
        x = [io.quantize_number(20000, 0, 0.5, -5, -32768, 32767), io.quantize_number(-3, 0, 0.5, -5, -32768, 32767)]
        self.assertEqual(x, [32767, -11])
        y = run(self.m, [x])[0]
        body = precompile.encode_og_output(self.m, [y])
        # the I32 output comes back as Number {dequantize_fixed18(q), 18}
        want = [io.dequantize_fixed18(q, 0.25, 4) for q in y]
        words = [int.from_bytes(body[i : i + 32], "big", signed=True) for i in range(0, len(body), 32)]
        for v in want:
            self.assertIn(v, words)


if __name__ == "__main__":
    unittest.main()
