"""§Primitives, against the worked examples of spec.md."""

import unittest

import _path  # noqa: F401
from solidml_execspec.arith import (I32_MAX, I32_MIN, div_round_half_away, multiplier_is_valid, rdbpot,
                                    requantize, sat32, srdhm)


class Srdhm(unittest.TestCase):
    def test_saturating_case(self):
        self.assertEqual(srdhm(I32_MIN, I32_MIN), I32_MAX)

    def test_halves_round_up(self):
        # a·b / 2^31 = ±1/2 exactly: halves go toward +∞
        self.assertEqual(srdhm(1 << 30, 1), 1)  # 2^30 / 2^31 = 0.5 → 1
        self.assertEqual(srdhm(-(1 << 30), 1), 0)  # −0.5 → 0
        self.assertEqual(srdhm(3 << 29, 1), 1)  # 0.75 → 1
        self.assertEqual(srdhm(-(3 << 29), 1), -1)  # −0.75 → −1

    def test_closed_form(self):
        for a in (0, 1, -1, 12345, -98765, I32_MAX, I32_MIN + 1, 1 << 30):
            for b in (0, 1, -1, 1 << 30, I32_MAX, I32_MIN, 1518500250):
                if a == b == I32_MIN:
                    continue
                self.assertEqual(srdhm(a, b), (a * b + (1 << 30)) // (1 << 31))


class Rdbpot(unittest.TestCase):
    def test_examples(self):
        # spec.md §RoundingDivideByPOT
        self.assertEqual(rdbpot(5, 1), 3)
        self.assertEqual(rdbpot(-5, 1), -3)
        self.assertEqual(rdbpot(-6, 2), -2)
        self.assertEqual(rdbpot(-5, 2), -1)
        self.assertEqual(rdbpot(-(1 << 31), 31), -1)
        self.assertEqual(rdbpot(7, 0), 7)


class Requantize(unittest.TestCase):
    def test_saturating_left_shift(self):
        # M = {2^30, 3} (= 4.0): the left shift saturates to 2^31 − 1, then times 1/2
        self.assertEqual(requantize(I32_MAX, 1 << 30, 3), 1 << 30)

    def test_identity_and_zero(self):
        self.assertEqual(requantize(1000, 1 << 30, 1), 1000)  # M = 2^30·2^(1−31) = 1
        self.assertEqual(requantize(1000, 0, 0), 0)

    def test_multiplier_validity(self):
        self.assertTrue(multiplier_is_valid(1 << 30, -31))
        self.assertTrue(multiplier_is_valid(I32_MAX, 30))
        self.assertTrue(multiplier_is_valid(0, 0))
        self.assertFalse(multiplier_is_valid((1 << 30) - 1, 0))
        self.assertFalse(multiplier_is_valid(1 << 30, 31))
        self.assertFalse(multiplier_is_valid(1 << 30, -32))


class DivRoundHalfAway(unittest.TestCase):
    def test_halves(self):
        self.assertEqual(div_round_half_away(5, 2), 3)
        self.assertEqual(div_round_half_away(-5, 2), -3)
        self.assertEqual(div_round_half_away(7, 3), 2)
        self.assertEqual(div_round_half_away(-7, 3), -2)
        self.assertEqual(div_round_half_away(0, 9), 0)

    def test_closed_form(self):
        for a in range(-50, 51):
            for b in range(1, 12):
                sgn = (a > 0) - (a < 0)
                self.assertEqual(div_round_half_away(a, b), sgn * ((2 * abs(a) + b) // (2 * b)))

    def test_sat32(self):
        self.assertEqual(sat32(1 << 40), I32_MAX)
        self.assertEqual(sat32(-(1 << 40)), I32_MIN)


if __name__ == "__main__":
    unittest.main()
