"""Models at the validation bounds: the widths the text claims must hold (every kernel asserts
them), and validation must accept each model. A failure here is an overflow gap of the text."""

import unittest

import _path  # noqa: F401
from solidml_execspec import artifact
from solidml_execspec import model as M
from solidml_execspec.run import run

I32_MAX = (1 << 31) - 1
BIG_M = M.Multiplier(I32_MAX, 30)  # the largest multiplier
SMALL_M = M.Multiplier(1 << 30, -31)


def q(scale=0.5, zp=0):
    return M.Quant(scale, zp)


def one_node(op, in_shapes, out_shape, in_quants=None, out_quant=None, dtypes=None, out_dtype="I8"):
    """A one-node model, through encode/decode (so validation and the canonical check run)."""
    tensors = []
    for k, s in enumerate(in_shapes):
        dt = dtypes[k] if dtypes else "I8"
        tensors.append(M.TensorInfo(f"x{k}", s, dt, (in_quants[k] if in_quants else q()) if dt == "I8" else None))
    tensors.append(M.TensorInfo("y", out_shape, out_dtype, (out_quant or q()) if out_dtype == "I8" else None))
    n = len(in_shapes)
    m = M.Model("bounds", tensors, [], list(range(n)), [n], [M.Node("op", op, list(range(n)), [n])])
    return artifact.decode(artifact.encode(m))


def extremes(n, lo=-128, hi=127):
    return [lo if i % 2 else hi for i in range(n)]


class Bounds(unittest.TestCase):
    def test_instance_norm(self):
        op = M.InstanceNorm(-128, 0, 1 << 53, [-(1 << 36)], [1 << 36])
        m = one_node(op, [[1, 1, 256, 256]], [1, 1, 256, 256], [q(0.5, -128)])
        for x in (extremes(1 << 16), [127] + [-128] * ((1 << 16) - 1)):
            run(m, [x])
        op = M.InstanceNorm(127, 0, 0, [1 << 36], [-(1 << 36)])
        m = one_node(op, [[1, 1, 256, 256]], [1, 1, 256, 256], [q(0.5, 127)])
        run(m, [[-128] + [127] * ((1 << 16) - 1)])

    def test_log_softmax(self):
        exp = [1 << 16] * 256
        op = M.LogSoftmax(0, exp, [45426] * 256, 1 << 22, BIG_M, 0)
        m = one_node(op, [[1 << 14]], [1 << 14])
        run(m, [[0] * (1 << 14)])
        run(m, [extremes(1 << 14)])

    def test_softmax(self):
        op = M.Softmax(0, [1 << 16] * 256)
        m = one_node(op, [[1 << 15]], [1 << 15])
        y = run(m, [[5] * (1 << 15)])[0]  # S = 2^31
        self.assertEqual(set(y), {-128})  # 256·2^16 / 2^31 = 1/128 → 0 → −128

    def test_lrn(self):
        op = M.Lrn(4096, 127, 0, 0, [1 << 23] * 4096, BIG_M)
        m = one_node(op, [[1, 64, 2]], [1, 64, 2], [q(0.5, 127)])
        run(m, [[-128] * 128])

    def test_binary(self):
        for kind in ("Add", "Sub", "Mul"):
            op = M.Binary(kind, 127, -128, 20, M.Multiplier(I32_MAX, 0), M.Multiplier(I32_MAX, 0), BIG_M, 0, -128, 127)
            m = one_node(op, [[4], [4]], [4], [q(0.5, 127), q(0.5, -128)])
            run(m, [[-128, -128, 127, 127], [127, -128, 127, -128]])

    def test_conv_accumulator_bound(self):
        # Σ|w|·255 + |bias| = 2^31 − 1 exactly, every weight and input at the extreme
        k = 9
        w = [-128] * k
        bias = I32_MAX - 128 * k * 255
        ep = M.Epilogue([SMALL_M], 0, -128, 127)
        op = M.Conv([3, 3], [1, 1], [1, 1], [0, 0], [0, 0], 1, 127, w, [bias], ep)
        m = one_node(op, [[1, 1, 3, 3]], [1, 1, 1, 1])
        run(m, [[-128] * 9])
        op = M.Dense(k, 1, -128, w, [-bias], ep)
        m = one_node(op, [[1, k]], [1, 1])
        run(m, [[127] * k])
        with self.assertRaises(Exception):  # one more unit is rejected (op.Dense)
            one_node(M.Dense(k, 1, -128, w, [-bias - 1], ep), [[1, k]], [1, 1])

    def test_normalize(self):
        for kind in ("L1", "L2"):
            op = M.Normalize(kind, 127, 0, 8)
            m = one_node(op, [[1 << 16]], [1 << 16], [q(0.5, 127)], q(2.0**-8, 0))
            run(m, [[-128] * (1 << 16)])

    def test_matmul(self):
        K = 33025
        op = M.MatMul(127, 127, BIG_M, 0)
        m = one_node(op, [[1, K], [K, 1]], [1, 1], [q(0.5, 127), q(0.5, 127)])
        self.assertEqual(run(m, [[-128] * K, [-128] * K])[0], [127])

    def test_int_binary_overflow_is_an_error(self):
        from solidml_execspec.errors import ExecutionError

        m = one_node(M.IntBinary("Mul"), [[2], [1]], [2], dtypes=["I64", "I64"], out_dtype="I64")
        self.assertEqual(run(m, [[3, -4], [5]]), [[15, -20]])
        with self.assertRaises(ExecutionError) as cm:
            run(m, [[1, 1 << 62], [2]])
        self.assertEqual(str(cm.exception), "execution failed: node `op`: integer overflow (operand 4611686018427387904)")

    def test_int_binary_division(self):
        from solidml_execspec.errors import ExecutionError

        a, b = [7, -7, 7, -7, -(1 << 63)], [2, 2, -2, -2, -1]
        expect = {"Div": [3, -3, -3, 3, None], "Rem": [1, -1, 1, -1, 0], "Mod": [1, 1, -1, -1, 0]}
        for kind, want in expect.items():
            m = one_node(M.IntBinary(kind), [[5], [5]], [5], dtypes=["I64", "I64"], out_dtype="I64")
            if None in want:
                with self.assertRaises(ExecutionError) as cm:
                    run(m, [a, b])
                self.assertIn("integer overflow (operand -9223372036854775808)", str(cm.exception))
            else:
                self.assertEqual(run(m, [a, b]), [want])
            m = one_node(M.IntBinary(kind), [[2], [2]], [2], dtypes=["I64", "I64"], out_dtype="I64")
            with self.assertRaises(ExecutionError) as cm:
                run(m, [[3, -5], [1, 0]])
            self.assertEqual(str(cm.exception), "execution failed: node `op`: division by zero (operand -5)")

    def test_int_binary_bits(self):
        a, b = [-(1 << 63), -8, 12], [-1, 7, -3]
        for kind, want in {"And": [-(1 << 63), 0, 12], "Or": [-1, -1, -3], "Xor": [(1 << 63) - 1, -1, -15]}.items():
            m = one_node(M.IntBinary(kind), [[3], [3]], [3], dtypes=["I64", "I64"], out_dtype="I64")
            self.assertEqual(run(m, [a, b]), [want])


if __name__ == "__main__":
    unittest.main()
