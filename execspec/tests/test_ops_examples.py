"""Worked examples of the op sections, and IO quantization."""

import unittest

import _path  # noqa: F401
from solidml_execspec import io
from solidml_execspec import model as M
from solidml_execspec.ops import int_compare, normalize, top_k
from solidml_execspec.precompile import node_units
from solidml_execspec.validate import window_output_len


def t8(shape, scale=1.0, zp=0):
    return M.TensorInfo("t", shape, "I8", M.Quant(scale, zp))


class Normalize(unittest.TestCase):
    def test_l2_example(self):
        # §Op: Normalize: d = [1, 2], k = 7: r = isqrt(327680) = 572, y_1 = round(65536/572) = 115
        op = M.Normalize("L2", 0, 0, 7)
        y = normalize.run(op, [t8([2])], t8([2], 1 / 128), [[1, 2]], None)
        self.assertEqual(y[1], 115)
        self.assertEqual(y[0], 57)  # 32768 / 572 = 57.29

    def test_zero_row(self):
        op = M.Normalize("L1", 5, -3, 7)
        self.assertEqual(normalize.run(op, [t8([3])], t8([3]), [[5, 5, 5]], None), [-3, -3, -3])


class TopK(unittest.TestCase):
    def test_ties_to_the_lower_index(self):
        # §Op: TopK: lane [3, 7, 7, −1, 7]; largest: 7 (1), 7 (2), 7 (4); smallest: −1 (3), 3 (0)
        x = [[3, 7, 7, -1, 7]]
        y64 = M.TensorInfo("y", [3], "I64", None)
        self.assertEqual(top_k.run(M.TopK(0, 3, True, "Indices"), [t8([5])], y64, x, None), [1, 2, 4])
        self.assertEqual(top_k.run(M.TopK(0, 3, True, "Values"), [t8([5])], t8([3]), x, None), [7, 7, 7])
        y2 = M.TensorInfo("y", [2], "I64", None)
        self.assertEqual(top_k.run(M.TopK(0, 2, False, "Indices"), [t8([5])], y2, x, None), [3, 0])

    def test_inner_lanes(self):
        # [3, 2] along axis 0, k = 2: lanes [5, 1, 5] and [0, 9, 9]
        y = top_k.run(M.TopK(0, 2, True, "Indices"), [t8([3, 2])], M.TensorInfo("y", [2, 2], "I64", None),
                      [[5, 0, 1, 9, 5, 9]], None)
        self.assertEqual(y, [0, 1, 2, 2])

    def test_work_units(self):
        # §Gas: len(x) · bits(shape[axis]) + len(y): 3000 · bits(1000) + 15 = 3000 · 10 + 15
        m = M.Model("m", [t8([3, 1000]), M.TensorInfo("y", [3, 5], "I64", None)], [], [0], [1],
                    [M.Node("n", M.TopK(1, 5, True, "Indices"), [0], [1])], [])
        self.assertEqual(node_units(m, m.nodes[0]), 30015)


class IntCompare(unittest.TestCase):
    def test_each_kind_broadcast_at_the_i64_bounds(self):
        # §Op: IntCompare: a [2, 1] = [i64::MIN, 5] against b [3] = [5, i64::MIN, i64::MAX]
        lo, hi = -(1 << 63), (1 << 63) - 1
        ins = [M.TensorInfo("a", [2, 1], "I64", None), M.TensorInfo("b", [3], "I64", None)]
        vals = [[lo, 5], [5, lo, hi]]
        run = lambda kind, t, f: int_compare.run(M.IntCompare(kind, t, f), ins, t8([2, 3]), vals, None)  # noqa: E731
        self.assertEqual(run("Equal", 1, 0), [0, 1, 0, 1, 0, 0])
        self.assertEqual(run("Less", 1, 0), [1, 0, 1, 0, 0, 1])
        self.assertEqual(run("Greater", 1, 0), [0, 0, 0, 0, 1, 0])
        # a ≤ b as the compiler writes it: Greater with the codes swapped
        self.assertEqual(run("Greater", -128, 127), [127, 127, 127, 127, -128, 127])

    def test_work_units_are_elements_read_and_written(self):
        # §Gas, the last row: 6 + 3 read, 6 written
        i64 = lambda s: M.TensorInfo("t", s, "I64", None)  # noqa: E731
        m = M.Model("m", [i64([2, 3]), i64([3]), t8([2, 3])], [], [0, 1], [2],
                    [M.Node("n", M.IntCompare("Equal", 1, 0), [0, 1], [2])], [])
        self.assertEqual(node_units(m, m.nodes[0]), 15)


class Shapes(unittest.TestCase):
    def test_window_output_len(self):
        self.assertEqual(window_output_len(4, 3, 2, 1, 1, 1), 2)
        self.assertIsNone(window_output_len(4, 0, 1, 1, 0, 0))
        self.assertIsNone(window_output_len(4, 3, 0, 1, 0, 0))
        self.assertIsNone(window_output_len(1, 3, 1, 1, 0, 0))


class IoQuantization(unittest.TestCase):
    def test_scale_parts(self):
        self.assertEqual(io.scale_parts(0x3F800000), (1 << 23, -23))  # 1.0
        self.assertEqual(io.scale_parts(0x00000001), (1, -149))  # smallest subnormal

    def test_quantize_half_to_even(self):
        s = io.f32_to_bits(0.5)
        self.assertEqual(io.quantize_f32(io.f32_to_bits(0.25), s, 0), 0)  # 0.5 → 0
        self.assertEqual(io.quantize_f32(io.f32_to_bits(0.75), s, 0), 2)  # 1.5 → 2
        self.assertEqual(io.quantize_fixed18(25 * 10**16, s, 0), 0)
        self.assertEqual(io.quantize_fixed18(75 * 10**16, s, 0), 2)
        self.assertEqual(io.quantize_f32(0x7FC00000, s, 3), 3)  # NaN → zp
        self.assertEqual(io.quantize_f32(0xFF800000, s, 3), -128)  # −∞ saturates

    def test_fixed18_bound(self):
        # X beyond ±2^100 is quantized as if at the bound: visible only for huge scales
        s = io.f32_to_bits(1e10)
        self.assertEqual(io.quantize_fixed18(1 << 120, s, 0), io.quantize_fixed18(1 << 100, s, 0))
        self.assertEqual(io.quantize_fixed18(1 << 100, s, 0), round((1 << 100) / 10**18 / 1e10))

    def test_dequantize(self):
        s = io.f32_to_bits(0.1)
        self.assertEqual(io.dequantize_fixed18(-128, s, 0), -12800000190734863281)
        self.assertEqual(io.dequantize_f32(10, 0x3F800000, 0), 10.0)


if __name__ == "__main__":
    unittest.main()
