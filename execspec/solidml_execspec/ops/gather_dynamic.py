"""spec.md §Op: GatherDynamic (run-time i64 indices, negative ones count from the end).

Every index is resolved and checked before the gather, even when the output is empty
(GAPS.md §2)."""

from ..errors import ExecutionError
from .gather import gather


def run(op, ins, out, values, node):
    x, idx = values
    dim = ins[0].shape[op.axis]
    resolved = []
    for i in idx:  # row-major order of idx
        j = i + dim if i < 0 else i
        if not 0 <= j < dim:
            raise ExecutionError("Execution", f"execution failed: node `{node.name}`: index {i} out of range 0..{dim}")  # i as given
        resolved.append(j)
    return gather(x, ins[0].shape, op.axis, resolved)
