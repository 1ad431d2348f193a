"""spec.md §Model and execution, the struct listings of every ``## Op:`` section, and the variant
table of §Artifact format.

Each dataclass's ``WIRE`` lists its fields in declaration order with their wire types: that
order *is* the postcard layout (§Artifact format: "Field orders are those of ``model.rs``
(listed in the op sections above …)"). The field order of every struct below is copied from the
text's listing; the JSON form of the vectors lists keys alphabetically, so it cannot confirm
the order, but decoding every committed artifact and comparing with its JSON model does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from .postcard import Enum, Opt, Struct, Tuple, UnitEnum, Vec, check_wire

# ---------------------------------------------------------------- fieldless enums (§Artifact format table)

# "DType: I8 0, I64 1, I16 2, I32 3" (I16, I32: version 3, the wide precisions)
DTYPE = UnitEnum(("I8", "I64", "I16", "I32"))
QUANTIZED_DTYPES = ("I8", "I16", "I32")  # §Conventions: I16, I32 are "quantized like I8"
WIDE_DTYPES = ("I16", "I32")  # §Conventions: "Only §Op: DenseWide reads or writes them"


def code_range(dtype: str) -> tuple[int, int]:
    """The codes of a quantized element type (``DType::code_range``, named by §IO quantization):
    ``I8`` ``[−128, 127]``; ``I16`` ``[−32768, 32767]``; ``I32`` "the i32 range"
    (§Conventions). Its zero points lie in the same range."""
    return {"I8": (-(1 << 7), (1 << 7) - 1), "I16": (-(1 << 15), (1 << 15) - 1),
            "I32": (-(1 << 31), (1 << 31) - 1)}[dtype]

PAD_MODE = UnitEnum(("Constant", "Reflect", "Edge"))
BINARY_KIND = UnitEnum(("Add", "Sub", "Mul"))
INT_BINARY_KIND = UnitEnum(("Add", "Sub", "Mul", "Div", "Mod", "Rem", "Max", "Min", "And", "Or", "Xor"))
EXTREMUM = UnitEnum(("Max", "Min"))
REDUCE_KIND = UnitEnum(("Sum", "Mean", "Max", "Min"))
NORM_KIND = UnitEnum(("L1", "L2"))
# "TopKOutput (TopK) | Values 0, Indices 1" (version 4)
TOPK_OUTPUT = UnitEnum(("Values", "Indices"))
# "CompareKind (IntCompare) | Equal 0, Less 1, Greater 2" (version 5)
COMPARE_KIND = UnitEnum(("Equal", "Less", "Greater"))

# ---------------------------------------------------------------- shared structs


@dataclass
class Multiplier:
    """§Multiplier: ``M = multiplier · 2^(shift − 31)``."""

    multiplier: int
    shift: int
    WIRE = [("multiplier", "i32"), ("shift", "i32")]


MULT = Struct(Multiplier)


@dataclass
class Epilogue:
    """§Epilogue (shared by Conv, ConvTranspose and Dense)."""

    multipliers: list
    output_zero_point: int
    clamp_min: int
    clamp_max: int
    WIRE = [("multipliers", Vec(MULT)), ("output_zero_point", "i32"), ("clamp_min", "i8"), ("clamp_max", "i8")]


EPILOGUE = Struct(Epilogue)

# ---------------------------------------------------------------- ops, in variant-index order


@dataclass
class Conv:
    """§Op: Conv."""

    kernel: list
    strides: list
    dilations: list
    pads_begin: list
    pads_end: list
    groups: int
    input_zero_point: int
    weights: list
    bias: list
    epilogue: Epilogue
    WIRE = [
        ("kernel", Vec("u32")), ("strides", Vec("u32")), ("dilations", Vec("u32")),
        ("pads_begin", Vec("u32")), ("pads_end", Vec("u32")), ("groups", "u32"),
        ("input_zero_point", "i32"), ("weights", Vec("i8")), ("bias", Vec("i32")),
        ("epilogue", EPILOGUE),
    ]


@dataclass
class Dense:
    """§Op: Dense."""

    in_features: int
    out_features: int
    input_zero_point: int
    weights: list
    bias: list
    epilogue: Epilogue
    WIRE = [
        ("in_features", "u32"), ("out_features", "u32"), ("input_zero_point", "i32"),
        ("weights", Vec("i8")), ("bias", Vec("i32")), ("epilogue", EPILOGUE),
    ]


@dataclass
class Binary:
    """§Op: Binary (Add, Sub, Mul)."""

    kind: str
    a_zero_point: int
    b_zero_point: int
    left_shift: int
    a_multiplier: Multiplier
    b_multiplier: Multiplier
    output_multiplier: Multiplier
    output_zero_point: int
    clamp_min: int
    clamp_max: int
    WIRE = [
        ("kind", BINARY_KIND), ("a_zero_point", "i32"), ("b_zero_point", "i32"),
        ("left_shift", "u32"), ("a_multiplier", MULT), ("b_multiplier", MULT),
        ("output_multiplier", MULT), ("output_zero_point", "i32"), ("clamp_min", "i8"),
        ("clamp_max", "i8"),
    ]


@dataclass
class Extremum:
    """§Op: Extremum: the ``Op::Extremum`` variant carries the unit enum ``Extremum = Max | Min``
    (a newtype variant: on the wire, the op's index then the kind's index)."""

    kind: str
    WIRE = [("kind", EXTREMUM)]
    NEWTYPE = True  # JSON form {"Extremum": "Max"}


@dataclass
class Lut:
    """§Op: Lut."""

    axis: Optional[int]
    tables: list
    WIRE = [("axis", Opt("u32")), ("tables", Vec("i8"))]


@dataclass
class View:
    """§Op: View."""

    offset: int
    strides: list
    WIRE = [("offset", "u64"), ("strides", Vec("i64"))]


@dataclass
class Pad:
    """§Op: Pad."""

    pads_begin: list
    pads_end: list
    mode: str
    value: int
    WIRE = [("pads_begin", Vec("u32")), ("pads_end", Vec("u32")), ("mode", PAD_MODE), ("value", "i64")]


@dataclass
class Concat:
    """§Op: Concat."""

    axis: int
    WIRE = [("axis", "u32")]


POOL_WIRE = [
    ("kernel", Vec("u32")), ("strides", Vec("u32")), ("dilations", Vec("u32")),
    ("pads_begin", Vec("u32")), ("pads_end", Vec("u32")), ("count_include_pad", "bool"),
    ("zero_point", "i32"),
]


@dataclass
class MaxPool:
    """§Op: MaxPool (payload: the ``Pool`` struct)."""

    kernel: list
    strides: list
    dilations: list
    pads_begin: list
    pads_end: list
    count_include_pad: bool
    zero_point: int
    WIRE = POOL_WIRE


@dataclass
class AvgPool:
    """§Op: AvgPool (payload: the ``Pool`` struct)."""

    kernel: list
    strides: list
    dilations: list
    pads_begin: list
    pads_end: list
    count_include_pad: bool
    zero_point: int
    WIRE = POOL_WIRE


@dataclass
class Reduce:
    """§Op: Reduce."""

    kind: str
    axes: list
    input_zero_point: int
    multiplier: Multiplier
    output_zero_point: int
    WIRE = [("kind", REDUCE_KIND), ("axes", Vec("u32")), ("input_zero_point", "i32"), ("multiplier", MULT), ("output_zero_point", "i32")]


@dataclass
class Softmax:
    """§Op: Softmax."""

    axis: int
    exp_table: list
    WIRE = [("axis", "u32"), ("exp_table", Vec("u32"))]


@dataclass
class ArgMax:
    """§Op: ArgMax."""

    axis: int
    select_last_index: bool
    WIRE = [("axis", "u32"), ("select_last_index", "bool")]


@dataclass
class Take:
    """§Op: Take."""

    table: list
    WIRE = [("table", Vec("i64"))]


@dataclass
class Gather:
    """§Op: Gather."""

    axis: int
    indices: list
    WIRE = [("axis", "u32"), ("indices", Vec("u32"))]


@dataclass
class LogSoftmax:
    """§Op: LogSoftmax."""

    axis: int
    exp_table: list
    ln_table: list
    input_scale_q16: int
    multiplier: Multiplier
    output_zero_point: int
    WIRE = [
        ("axis", "u32"), ("exp_table", Vec("u32")), ("ln_table", Vec("i32")),
        ("input_scale_q16", "i32"), ("multiplier", MULT), ("output_zero_point", "i32"),
    ]


@dataclass
class ConvTranspose:
    """§Op: ConvTranspose."""

    kernel: list
    strides: list
    dilations: list
    pads_begin: list
    pads_end: list
    output_padding: list
    groups: int
    input_zero_point: int
    weights: list
    bias: list
    epilogue: Epilogue
    WIRE = [
        ("kernel", Vec("u32")), ("strides", Vec("u32")), ("dilations", Vec("u32")),
        ("pads_begin", Vec("u32")), ("pads_end", Vec("u32")), ("output_padding", Vec("u32")),
        ("groups", "u32"), ("input_zero_point", "i32"), ("weights", Vec("i8")),
        ("bias", Vec("i32")), ("epilogue", EPILOGUE),
    ]


@dataclass
class MatMul:
    """§Op: MatMul."""

    a_zero_point: int
    b_zero_point: int
    multiplier: Multiplier
    output_zero_point: int
    WIRE = [("a_zero_point", "i32"), ("b_zero_point", "i32"), ("multiplier", MULT), ("output_zero_point", "i32")]


@dataclass
class BinaryLut:
    """§Op: BinaryLut."""

    table: list
    WIRE = [("table", Vec("i8"))]


@dataclass
class GatherDynamic:
    """§Op: GatherDynamic."""

    axis: int
    WIRE = [("axis", "u32")]


@dataclass
class InstanceNorm:
    """§Op: InstanceNorm."""

    input_zero_point: int
    output_zero_point: int
    epsilon_term: int
    gamma_q16: list
    beta_q16: list
    WIRE = [
        ("input_zero_point", "i32"), ("output_zero_point", "i32"), ("epsilon_term", "i64"),
        ("gamma_q16", Vec("i64")), ("beta_q16", Vec("i64")),
    ]


@dataclass
class IntBinary:
    """§Op: IntBinary."""

    kind: str
    WIRE = [("kind", INT_BINARY_KIND)]


@dataclass
class Lrn:
    """§Op: Lrn."""

    size: int
    input_zero_point: int
    output_zero_point: int
    sum_shift: int
    factors: list
    multiplier: Multiplier
    WIRE = [
        ("size", "u32"), ("input_zero_point", "i32"), ("output_zero_point", "i32"),
        ("sum_shift", "u32"), ("factors", Vec("i32")), ("multiplier", MULT),
    ]


@dataclass
class Normalize:
    """§Op: Normalize."""

    kind: str
    input_zero_point: int
    output_zero_point: int
    scale_log2: int
    WIRE = [("kind", NORM_KIND), ("input_zero_point", "i32"), ("output_zero_point", "i32"), ("scale_log2", "u32")]


@dataclass
class CumSum:
    """§Op: CumSum."""

    axis: int
    exclusive: bool
    reverse: bool
    input_zero_point: int
    multiplier: Multiplier
    output_zero_point: int
    WIRE = [
        ("axis", "u32"), ("exclusive", "bool"), ("reverse", "bool"),
        ("input_zero_point", "i32"), ("multiplier", MULT), ("output_zero_point", "i32"),
    ]


@dataclass
class DenseWide:
    """§Op: DenseWide (version 3): the dense layer of the wide precisions. ``weights`` are
    ``Vec<i16>`` (each in ``[−32767, 32767]``), ``bias`` ``Vec<i64>``, ``multipliers`` none, one
    or ``N``; the clamp bounds are ``i32``. No ``Epilogue``: the fields are the struct's own."""

    in_features: int
    out_features: int
    input_zero_point: int
    weights: list
    bias: list
    multipliers: list
    output_zero_point: int
    clamp_min: int
    clamp_max: int
    WIRE = [
        ("in_features", "u32"), ("out_features", "u32"), ("input_zero_point", "i32"),
        ("weights", Vec("i16")), ("bias", Vec("i64")), ("multipliers", Vec(MULT)),
        ("output_zero_point", "i32"), ("clamp_min", "i32"), ("clamp_max", "i32"),
    ]


@dataclass
class TopK:
    """§Op: TopK (version 4): ``Op::TopK { axis: u32, k: u32, largest: bool, output: TopKOutput }``."""

    axis: int
    k: int
    largest: bool
    output: str
    WIRE = [("axis", "u32"), ("k", "u32"), ("largest", "bool"), ("output", TOPK_OUTPUT)]


@dataclass
class IntCompare:
    """§Op: IntCompare (version 5): ``Op::IntCompare(IntCompare { kind: CompareKind, true_code: i8,
    false_code: i8 })``."""

    kind: str
    true_code: int
    false_code: int
    WIRE = [("kind", COMPARE_KIND), ("true_code", "i8"), ("false_code", "i8")]


@dataclass
class IntLut:
    """§Op: IntLut (version 7): ``Op::IntLut { table: Vec<i64> }``, 256 entries."""

    table: list
    WIRE = [("table", Vec("i64"))]


# §Artifact format: "Op: Conv 0, Dense 1, Binary 2, Extremum 3, Lut 4, View 5, Pad 6, Concat 7,
# MaxPool 8, AvgPool 9, Reduce 10, Softmax 11, ArgMax 12, Take 13, Gather 14, LogSoftmax 15,
# ConvTranspose 16, MatMul 17, BinaryLut 18, GatherDynamic 19, InstanceNorm 20, IntBinary 21,
# Lrn 22, Normalize 23, CumSum 24, DenseWide 25, TopK 26, IntCompare 27, IntLut 28"
OP_VARIANTS = (
    Conv, Dense, Binary, Extremum, Lut, View, Pad, Concat, MaxPool, AvgPool, Reduce, Softmax,
    ArgMax, Take, Gather, LogSoftmax, ConvTranspose, MatMul, BinaryLut, GatherDynamic,
    InstanceNorm, IntBinary, Lrn, Normalize, CumSum, DenseWide, TopK, IntCompare, IntLut,
)
OP = Enum(OP_VARIANTS)


def op_name(op) -> str:
    """The op's variant name (``Conv``, ``MaxPool``, …), as used in rule ids ``op.<Name>``."""
    return type(op).__name__


# ---------------------------------------------------------------- the model


@dataclass
class Quant:
    """``Quant { scale: f32, zero_point: i32 }``: code ``q`` stands for ``(q − zero_point) · scale``."""

    scale: float
    zero_point: int
    WIRE = [("scale", "f32"), ("zero_point", "i32")]


@dataclass
class TensorInfo:
    name: str
    shape: list
    dtype: str
    quant: Optional[Quant]
    WIRE = [("name", "str"), ("shape", Vec("u32")), ("dtype", DTYPE), ("quant", Opt(Struct(Quant)))]


@dataclass
class ConstI8:
    """``ConstData::I8(Vec<i8>)``."""

    values: list
    WIRE = [("values", Vec("i8"))]
    NEWTYPE = True
    DTYPE = "I8"


@dataclass
class ConstI64:
    """``ConstData::I64(Vec<i64>)``."""

    values: list
    WIRE = [("values", Vec("i64"))]
    NEWTYPE = True
    DTYPE = "I64"


ConstI8.__name__ = "I8"  # the variant names, for the JSON form and messages
ConstI64.__name__ = "I64"
CONST_DATA = Enum((ConstI8, ConstI64))


@dataclass
class Node:
    name: str
    op: object
    inputs: list
    outputs: list
    WIRE = [("name", "str"), ("op", OP), ("inputs", Vec("u32")), ("outputs", Vec("u32"))]


@dataclass
class InputQuant:
    """§IO quantization, "Per-axis input quantization" (version 2):
    ``InputQuant { input: u32, axis: u32, params: Vec<Quant> }``: the model input at position
    ``input`` of ``inputs`` converts the real of the element whose index along ``axis`` is ``c``
    with ``params[c]`` instead of its tensor's ``Quant``."""

    input: int
    axis: int
    params: list
    WIRE = [("input", "u32"), ("axis", "u32"), ("params", Vec(Struct(Quant)))]


@dataclass
class Model:
    """``Model { name, tensors, constants, inputs, outputs, nodes, input_quant }``.

    ``WIRE`` is the postcard **body** (§Artifact format: "The ``Model`` body never contains
    ``input_quant`` (its fields are ``name`` … ``nodes``)"); ``input_quant`` follows the body in
    a version-2 artifact (``INPUT_QUANT_LIST``) and is empty for version 1."""

    name: str
    tensors: list
    constants: list  # of (tensor id, ConstI8 | ConstI64)
    inputs: list
    outputs: list
    nodes: list
    input_quant: list = field(default_factory=list)  # of InputQuant; not in the postcard body
    WIRE = [
        ("name", "str"), ("tensors", Vec(Struct(TensorInfo))),
        ("constants", Vec(Tuple(("u32", CONST_DATA)))), ("inputs", Vec("u32")),
        ("outputs", Vec("u32")), ("nodes", Vec(Struct(Node))),
    ]
    EXTRA = [("input_quant", Vec(Struct(InputQuant)))]  # fields outside the postcard body


MODEL = Struct(Model)
INPUT_QUANT_LIST = Vec(Struct(InputQuant))  # version 2: written after the body

for _cls in (Multiplier, Epilogue, *OP_VARIANTS, Quant, TensorInfo, ConstI8, ConstI64, Node, InputQuant, Model):
    check_wire(_cls)


def numel(shape) -> int:
    """Element count of a shape (1 for rank 0)."""
    n = 1
    for d in shape:
        n *= d
    return n


def strides_of(shape) -> list:
    """§Conventions, Layout: ``stride_{r−1} = 1``, ``stride_k = stride_{k+1} · d_{k+1}``."""
    s = [1] * len(shape)
    for k in range(len(shape) - 2, -1, -1):
        s[k] = s[k + 1] * shape[k + 1]
    return s


# ---------------------------------------------------------------- JSON form (§Test vectors)


def to_json(t, v):
    """The serde JSON form of value ``v`` of wire type ``t`` (externally tagged enums), as the
    vectors' ``model`` field writes it: structs as objects, tuples as arrays, ``None`` as null,
    a unit variant as its name, a newtype variant ``{"Name": value}``, a struct variant
    ``{"Name": {fields}}``."""
    from . import postcard as pc

    if isinstance(t, str):
        return v
    if isinstance(t, pc.Vec):
        return [to_json(t.elem, e) for e in v]
    if isinstance(t, pc.Opt):
        return None if v is None else to_json(t.elem, v)
    if isinstance(t, pc.Tuple):
        return [to_json(et, e) for et, e in zip(t.elems, v)]
    if isinstance(t, pc.Struct):
        return {n: to_json(ft, getattr(v, n)) for n, ft in t.cls.WIRE}
    if isinstance(t, pc.UnitEnum):
        return v
    if isinstance(t, pc.Enum):
        cls = type(v)
        if getattr(cls, "NEWTYPE", False):
            (n, ft), = cls.WIRE
            return {cls.__name__: to_json(ft, getattr(v, n))}
        return {cls.__name__: {n: to_json(ft, getattr(v, n)) for n, ft in cls.WIRE}}
    raise TypeError(t)


def model_to_json(m: Model) -> dict:
    """The body's fields, and ``input_quant`` only when it is non-empty (GAPS.md §21: the text
    does not say how an empty list is written; every version-1 vector omits the key)."""
    j = to_json(MODEL, m)
    if m.input_quant:
        j["input_quant"] = to_json(INPUT_QUANT_LIST, m.input_quant)
    return j


def from_json(t, j):
    """The inverse of ``to_json``: a value of wire type ``t`` from its serde JSON form."""
    from . import postcard as pc

    if isinstance(t, str):
        if t == "f32":
            return float(j)
        if t == "bool":
            if not isinstance(j, bool):
                raise ValueError(f"{j!r} is not a bool")
            return j
        if t == "str":
            return str(j)
        if not isinstance(j, int) or isinstance(j, bool):
            raise ValueError(f"{j!r} is not an integer")
        return j
    if isinstance(t, pc.Vec):
        return [from_json(t.elem, e) for e in j]
    if isinstance(t, pc.Opt):
        return None if j is None else from_json(t.elem, j)
    if isinstance(t, pc.Tuple):
        return tuple(from_json(et, e) for et, e in zip(t.elems, j))
    if isinstance(t, pc.Struct):
        return t.cls(**{n: from_json(ft, j[n]) for n, ft in t.cls.WIRE})
    if isinstance(t, pc.UnitEnum):
        if j not in t.names:
            raise ValueError(f"unknown variant {j!r}")
        return j
    if isinstance(t, pc.Enum):
        (name, payload), = j.items()
        cls = next(c for c in t.variants if c.__name__ == name)
        if getattr(cls, "NEWTYPE", False):
            (n, ft), = cls.WIRE
            return cls(**{n: from_json(ft, payload)})
        return cls(**{n: from_json(ft, payload[n]) for n, ft in cls.WIRE})
    raise TypeError(t)


def model_from_json(j) -> Model:
    """A ``Model`` from the vectors' JSON form (§Test vectors: "or load the model from JSON")."""
    m = from_json(MODEL, j)
    m.constants = [tuple(c) for c in m.constants]
    m.input_quant = from_json(INPUT_QUANT_LIST, j.get("input_quant", []))
    return m
