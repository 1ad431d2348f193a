"""spec.md §Op: Take: ``y[i] = table[x[i]]``; an index outside ``[0, len(table))`` is a
run-time error (negative indices do not count from the end)."""

from ..errors import ExecutionError


def run(op, ins, out, values, node):
    y = []
    for i in values[0]:
        if not 0 <= i < len(op.table):
            raise ExecutionError("Execution", f"execution failed: node `{node.name}`: index {i} out of range 0..{len(op.table)}")
        y.append(op.table[i])
    return y
