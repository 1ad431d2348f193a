"""spec.md §Op: IntBinary: exact i64 arithmetic. Div rounds toward zero; Rem takes the sign of
``a`` and Mod the sign of ``b``; And, Or, Xor act on the two's-complement bits. A result outside i64 and a division by zero are run-time errors,
reported at the first failing element (row-major in the output) by its operand ``a``."""

from ..arith import in_i64
from ..errors import ExecutionError
from .binary import broadcast_pairs


def _rem(a, b):
    # |a| mod |b| with a's sign (Python's % takes b's)
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def _apply(kind, a, b):
    if kind == "Add":
        return a + b
    if kind == "Sub":
        return a - b
    if kind == "Mul":
        return a * b
    if kind == "Div":
        q = abs(a) // abs(b)
        return -q if (a < 0) != (b < 0) else q
    if kind == "Rem":
        return _rem(a, b)
    if kind == "Mod":
        return a % b
    if kind == "Max":
        return max(a, b)
    if kind == "Min":
        return min(a, b)
    # Python's ints are two's complement of unbounded width: the bits of i64 operands
    if kind == "And":
        return a & b
    if kind == "Or":
        return a | b
    return a ^ b


def run(op, ins, out, values, node):
    y = []
    for a, b in broadcast_pairs(ins, out, values):
        if b == 0 and op.kind in ("Div", "Mod", "Rem"):
            raise ExecutionError("Execution", f"execution failed: node `{node.name}`: division by zero (operand {a})")
        r = _apply(op.kind, a, b)
        if not in_i64(r):
            raise ExecutionError("Execution", f"execution failed: node `{node.name}`: integer overflow (operand {a})")
        y.append(r)
    return y
