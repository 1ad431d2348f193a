"""Errors, named by rule.

``ValidationError.rule`` is a rule id: ``artifact.<step>`` for the decoding steps of spec.md
§Artifact format (``artifact.size``, ``artifact.magic``, ``artifact.version``,
``artifact.decode``, ``artifact.canonical``), ``model.<rule>`` for the model rules of §Validation
rules (``model.tensor``, ``model.id``, ``model.constant``, ``model.order``, ``model.output``) and
``op.<Op>`` for a row of the per-op table (``op.Conv``, …; ``op.Binary`` for Add/Sub/Mul,
``op.Extremum`` for Max/Min), as the text names them.
"""


class ValidationError(Exception):
    """An artifact or model is rejected; ``rule`` names the rule that rejects it."""

    def __init__(self, rule: str, message: str):
        super().__init__(f"[{rule}] {message}")
        self.rule = rule
        self.message = message


class ExecutionError(Exception):
    """A run-time error of an accepted model (spec.md §Model and execution: the out-of-range
    indices of Take and GatherDynamic, IntBinary's i64 overflow and division by zero), or inputs that do not match
    the model (step 1 of execution)."""

    def __init__(self, kind: str, message: str, node: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.node = node
