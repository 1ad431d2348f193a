"""spec.md §Op: AvgPool."""

from ..arith import clamp, div_round_half_away
from ..model import numel
from .pool import pool


def run(op, ins, out, values, node):
    window_taps = numel(op.kernel)

    def average(taps):
        s = sum(q - op.zero_point for q in taps)  # i64
        count = window_taps if op.count_include_pad else len(taps)
        avg = 0 if count == 0 else div_round_half_away(s, count)
        return clamp(avg + op.zero_point, -128, 127)

    return pool(op, ins, out, values, average)
