"""spec.md §Op: IntBinary: exact i64 arithmetic; a result outside i64 is a run-time error,
reported at the first overflowing element (row-major in the output) by its operand ``a``."""

from ..arith import in_i64
from ..errors import ExecutionError
from .binary import broadcast_pairs


def run(op, ins, out, values, node):
    y = []
    for a, b in broadcast_pairs(ins, out, values):
        r = a + b if op.kind == "Add" else a - b if op.kind == "Sub" else a * b
        if not in_i64(r):
            raise ExecutionError("Execution", f"execution failed: node `{node.name}`: integer overflow (operand {a})")
        y.append(r)
    return y
