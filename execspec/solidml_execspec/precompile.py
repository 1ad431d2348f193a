"""spec.md §Gas and §Errors, with ``docs/precompile.md`` (call layout, entries).

``call(store, address, data, gas_limit)`` answers ``(status, return data, gas used)`` with
``status`` one of ``success``, ``revert``, ``halt``.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import io
from . import model as M
from .arith import I64_MAX, I64_MIN
from .artifact import decode, model_id
from .errors import ExecutionError
from .keccak import keccak256
from .model import numel
from .run import run

SOLIDML_ADDRESS = 0x501D
OPENGRADIENT_ADDRESS = 0xF4

# §Gas, version 2's constants (the default schedule); version 1 in REFERENCE_SCHEDULE
BASE = 2_000
PER_BYTE = 6
COST_UNITS = 1024
CLASSES = ("gemm", "window", "stream", "reference")


@dataclass(frozen=True)
class Schedule:
    """The per-work costs of §Gas: gas per 1,024 units of each class, elements or weights; per node."""

    cost: dict
    element_cost: int
    weight_cost: int
    node_cost: int


SCHEDULE = Schedule({"gemm": 5, "window": 16, "stream": 24, "reference": 384}, element_cost=96, weight_cost=16, node_cost=16)
REFERENCE_SCHEDULE = Schedule({c: 128 for c in CLASSES}, element_cost=0, weight_cost=0, node_cost=0)
MAX_WORK = 1 << 40
MAX_INPUT_BYTES = 16 * 1024 * 1024

# §Errors, codes
MISSING_MODEL_ID, UNKNOWN_MODEL, INPUT_LENGTH, INPUT_TOO_LARGE, MODEL_TOO_LARGE = 1, 2, 3, 4, 5
EXECUTION, STORE, ABI, UNSUPPORTED, OUT_OF_GAS = 6, 7, 8, 9, 10


class Store:
    """A model store: modelId → (artifact, decoded model, work units)."""

    def __init__(self):
        self.models = {}

    def insert(self, artifact: bytes) -> bytes:
        m = decode(artifact)
        mid = model_id(artifact)
        self.models[mid] = (artifact, m, work(m))
        return mid

    def get(self, mid: bytes):
        return self.models.get(mid)


# ---------------------------------------------------------------- §Gas


@dataclass
class Work:
    """§Gas: units per class, elements streamed, weights, nodes."""

    units: dict
    elements: int
    weights: int
    nodes: int

    def total(self) -> int:
        return sum(self.units.values())


def work_class(op) -> str:
    """§Gas, classes: the class of a node's op ("``reference`` | every other op (DenseWide
    included: its i64 accumulation is priced at the reference rate)")."""
    if isinstance(op, (M.Conv, M.Dense)):
        return "gemm"
    if isinstance(op, (M.MaxPool, M.AvgPool)):
        return "window"
    if isinstance(op, (M.Lut, M.Reduce, M.Concat, M.Binary, M.Extremum)):
        return "stream"
    return "reference"


def work(m: M.Model) -> Work:
    """§Gas: the work of one inference, exact over the integers."""
    units = {c: 0 for c in CLASSES}
    elements = weights = 0
    for node in m.nodes:
        units[work_class(node.op)] += node_units(m, node)
        elements += sum(numel(m.tensors[t].shape) for t in list(node.inputs) + list(node.outputs))
        # "weights = Σ_{Conv, ConvTranspose, Dense and DenseWide nodes} len(node.weights)"
        if isinstance(node.op, (M.Conv, M.Dense, M.ConvTranspose, M.DenseWide)):
            weights += len(node.op.weights)
    return Work(units, elements, weights, len(m.nodes))


def work_units(m: M.Model) -> int:
    """``Σ_nodes w(node)`` (§Gas, work units table), exact over the integers."""
    return work(m).total()


def node_units(m: M.Model, node) -> int:
    """``w(node)`` (§Gas, work units table; version 3: "Dense, DenseWide | ``len(y) ·
    in_features``")."""
    op = node.op
    ins = [m.tensors[t] for t in node.inputs]
    y = m.tensors[node.outputs[0]]
    len_y = numel(y.shape)
    x = ins[0]
    w = 0  # the MAC formula; 0 falls to the last row
    if isinstance(op, M.Conv):
        w = len_y * numel(op.kernel) * (x.shape[1] // op.groups)
    elif isinstance(op, M.ConvTranspose):
        w = numel(x.shape) * numel(op.kernel) * y.shape[1] // op.groups
    elif isinstance(op, (M.Dense, M.DenseWide)):
        w = len_y * op.in_features
    elif isinstance(op, M.MatMul):
        w = len_y * x.shape[-1]
    elif isinstance(op, M.Binary) and op.kind == "Mul":
        w = len_y
    elif isinstance(op, (M.MaxPool, M.AvgPool)):
        w = len_y * numel(op.kernel) + numel(x.shape)
    elif isinstance(op, M.TopK):
        # version 4: "``len(x) · bits(shape[axis]) + len(y)``, ``bits(d)`` = the number of binary
        # digits of ``d``" (its own row: never falls to the last one)
        return numel(x.shape) * x.shape[op.axis].bit_length() + len_y
    if w == 0:  # every other node: elements read, by position, plus written
        w = sum(numel(t.shape) for t in ins) + len_y
    return w


# bytes per packed element (docs/precompile.md, version 3): "int8 tensors one byte per element
# (two's complement); int16, int32 (the wide precisions, spec version 3) and int64 tensors 2, 4
# and 8 bytes per element, big-endian two's complement" (spec.md §Gas's "Packed sizes" still
# names only int8 and i64: GAPS.md §30)
ELEMENT_BYTES = {"I8": 1, "I16": 2, "I32": 4, "I64": 8}


def packed_size(t: M.TensorInfo) -> int:
    """1 byte per int8 element, 2 per int16, 4 per int32, 8 per i64 element."""
    return numel(t.shape) * ELEMENT_BYTES[t.dtype]


def work_gas(w: Work, s: Schedule = SCHEDULE) -> int:
    """``⌈(Σ_class units · cost + elements · element_cost + weights · weight_cost) / 1024⌉ + nodes · node_cost``."""
    weighted = sum(w.units[c] * s.cost[c] for c in CLASSES) + w.elements * s.element_cost + w.weights * s.weight_cost
    return -(-weighted // COST_UNITS) + w.nodes * s.node_cost


def price(in_bytes: int, out_bytes: int, w: Work, s: Schedule = SCHEDULE) -> int:
    """``price = base + per_byte · (in_bytes + out_bytes) + work_gas``."""
    return BASE + PER_BYTE * (in_bytes + out_bytes) + work_gas(w, s)


# ---------------------------------------------------------------- §Errors


def abi_word(v: int) -> bytes:
    return (v % (1 << 256)).to_bytes(32, "big")


def abi_bytes_tail(b: bytes) -> bytes:
    """Length word, then the bytes padded with zeros to a multiple of 32."""
    return abi_word(len(b)) + b + b"\0" * (-len(b) % 32)


ERROR_SELECTOR = keccak256(b"SolidMLError(uint8,string)")[:4]


def revert_data(code: int, message: str) -> bytes:
    """``error SolidMLError(uint8 code, string message)``, ABI-encoded."""
    return ERROR_SELECTOR + abi_word(code) + abi_word(0x40) + abi_bytes_tail(message.encode("utf-8"))


def hex_id(mid: bytes) -> str:
    return "0x" + mid.hex()


@dataclass
class Outcome:
    status: str  # success | revert | halt
    output: bytes
    gas_used: int


def _charge(gas_limit: int, charge: int, code: int, message: str) -> Outcome:
    """A failure charged ``charge``; above the gas limit it is a halt consuming the limit."""
    if charge > gas_limit:
        return Outcome("halt", b"", gas_limit)
    return Outcome("revert", revert_data(code, message), charge)


# ---------------------------------------------------------------- SolidML entry


# §Errors, InputLength: "``{name}: int8[{dims}]`` or ``{name}: int64 big-endian[{dims}]``";
# the text gives no word for I16/I32 inputs (GAPS.md §30): here ``int16 big-endian`` and
# ``int32 big-endian``, the pattern of the int64 one (the call vector ``wide_io_input_length``
# confirms the int16 one)
LAYOUT_KIND = {"I8": "int8", "I16": "int16 big-endian", "I32": "int32 big-endian", "I64": "int64 big-endian"}


def layout(m: M.Model) -> str:
    """``{name}: int8[{dims}]`` / ``{name}: int64 big-endian[{dims}]`` per model input by
    position, dims joined by ``×``, inputs joined by ``, ``."""
    parts = []
    for tid in m.inputs:
        t = m.tensors[tid]
        kind = LAYOUT_KIND[t.dtype]
        parts.append(f"{t.name}: {kind}[{'×'.join(str(d) for d in t.shape)}]")
    return ", ".join(parts)


def unpack_inputs(m: M.Model, data: bytes) -> list:
    """The packed inputs (docs/precompile.md): int8 one byte each (two's complement), int16,
    int32 and int64 2, 4 and 8 bytes big-endian two's complement, in declared order. (Every
    byte string is a valid value: no range check is needed.)"""
    values, pos = [], 0
    for tid in m.inputs:
        t = m.tensors[tid]
        n, w = numel(t.shape), ELEMENT_BYTES[t.dtype]
        values.append([int.from_bytes(data[pos + w * i : pos + w * (i + 1)], "big", signed=True) for i in range(n)])
        pos += w * n
    assert pos == len(data)
    return values


def pack_outputs(m: M.Model, outputs: list) -> bytes:
    """The outputs "packed the same way" as the inputs."""
    out = bytearray()
    for tid, v in zip(m.outputs, outputs):
        w = ELEMENT_BYTES[m.tensors[tid].dtype]
        for e in v:
            out += e.to_bytes(w, "big", signed=True)
    return bytes(out)


def call_solidml(store: Store, data: bytes, gas_limit: int) -> Outcome:
    """§Gas, "Order of a SolidML call"."""
    n = len(data)
    if n > MAX_INPUT_BYTES:  # 1.
        return _charge(gas_limit, BASE, INPUT_TOO_LARGE, f"call input of {n} bytes exceeds the limit of {MAX_INPUT_BYTES} bytes")
    if n < 32:  # 2.
        return _charge(gas_limit, BASE, MISSING_MODEL_ID, f"input of {n} bytes is shorter than the 32-byte modelId")
    early = BASE + PER_BYTE * n
    mid = data[:32]
    entry = store.get(mid)  # 3.
    if entry is None:
        return _charge(gas_limit, early, UNKNOWN_MODEL, f"unknown model {hex_id(mid)}")
    _, m, w = entry
    if w.total() > MAX_WORK:
        return _charge(gas_limit, early, MODEL_TOO_LARGE, f"model {hex_id(mid)} exceeds the precompile's work limit ({w.total()} > {MAX_WORK} units)")
    in_bytes = sum(packed_size(m.tensors[t]) for t in m.inputs)  # 4.
    if n - 32 != in_bytes:
        return _charge(gas_limit, early, INPUT_LENGTH, f"model {hex_id(mid)} expects {in_bytes} input bytes ({layout(m)}), got {n - 32}")
    out_bytes = sum(packed_size(m.tensors[t]) for t in m.outputs)
    p = price(n - 32, out_bytes, w)
    if p > gas_limit:  # 5.
        return Outcome("halt", b"", gas_limit)
    try:  # 6.
        outputs = run(m, unpack_inputs(m, data[32:]))
    except ExecutionError as e:
        return Outcome("revert", revert_data(EXECUTION, str(e)), p)
    return Outcome("success", pack_outputs(m, outputs), p)


# ---------------------------------------------------------------- OpenGradient entry

OG_SELECTOR = bytes.fromhex("7289e9c2")  # runModelInference(ModelInferenceRequest)
I128_MIN, I128_MAX = -(1 << 127), (1 << 127) - 1


class AbiError(Exception):
    pass


class _Abi:
    """A reader of Solidity ABI data (``data`` without the selector), as lenient as §Errors
    "The OpenGradient request, exactly" says: every word, offset and length must lie inside the
    data; narrow types are read from the low-order bytes of their word (``int128``: the last 16
    bytes as two's complement; ``uint32``: the last 4); strings are UTF-8 with each maximal
    invalid subsequence replaced by U+FFFD; bytes after the encoding are ignored."""

    def __init__(self, data: bytes):
        self.data = data

    def word(self, pos: int) -> int:
        if pos < 0 or pos + 32 > len(self.data):
            raise AbiError("out of bounds")
        return int.from_bytes(self.data[pos : pos + 32], "big")

    def offset(self, base: int, pos: int) -> int:
        off = self.word(pos)
        if off > len(self.data):
            raise AbiError("offset out of bounds")
        return base + off

    def int128(self, pos: int) -> int:
        low = self.word(pos) & ((1 << 128) - 1)  # the high 16 bytes are ignored
        return low - (1 << 128) if low >> 127 else low

    def uint32(self, pos: int) -> int:
        return self.word(pos) & 0xFFFFFFFF  # the high 28 bytes are ignored

    def string(self, start: int) -> str:
        n = self.word(start)
        if start + 32 + n > len(self.data):
            raise AbiError("string out of bounds")
        return self.data[start + 32 : start + 32 + n].decode("utf-8", errors="replace")

    def array(self, start: int, elem):
        """A dynamic array at ``start``: length, then the elements' heads (``elem(base, pos)``)."""
        n = self.word(start)
        if n > len(self.data):
            raise AbiError("array length out of bounds")
        base = start + 32
        return [elem(base, base + 32 * i) for i in range(n)]


def decode_og_request(calldata: bytes):
    """ABI-decode ``runModelInference(ModelInferenceRequest)``: returns (mode word, modelCID,
    number tensors [(name, [(value, decimals)], shape)], string tensors [(name, [str])])."""
    if calldata[:4] != OG_SELECTOR or len(calldata) < 4:
        raise AbiError("selector")
    a = _Abi(calldata[4:])
    req = a.offset(0, 0)  # the one (dynamic) tuple argument
    mode = a.word(req) & 0xFF  # the enum's last byte; checked at step 2
    cid = a.string(a.offset(req, req + 32))
    inp = a.offset(req, req + 64)

    def number_tensor(base, pos):
        t = a.offset(base, pos)
        name = a.string(a.offset(t, t))
        vstart = a.offset(t, t + 32)
        # Number is a static tuple (int128, int128): elements are inline, 64 bytes each
        n = a.word(vstart)
        if vstart + 32 + 64 * n > len(a.data):
            raise AbiError("values out of bounds")
        values = [(a.int128(vstart + 32 + 64 * i), a.int128(vstart + 64 + 64 * i)) for i in range(n)]
        shape = a.array(a.offset(t, t + 64), lambda b, p: a.uint32(p))
        return name, values, shape

    def string_tensor(base, pos):
        t = a.offset(base, pos)
        name = a.string(a.offset(t, t))
        values = a.array(a.offset(t, t + 32), lambda b, p: a.string(a.offset(b, p)))
        return name, values

    numbers = a.array(a.offset(inp, inp), number_tensor)
    strings = a.array(a.offset(inp, inp + 32), string_tensor)
    return mode, cid, numbers, strings


def encode_og_output(m: M.Model, outputs: list) -> bytes:
    """``abi.encode(ModelOutput)``: numbers = one tensor per model output (its name and shape;
    int8 as ``Number {dequantize_fixed18(q), 18}``, i64 as ``Number {v, 0}``), strings and jsons
    empty, ``is_simulation_result`` false. Version 3: "an ``I16`` or ``I32`` output dequantizes
    by the same formulas as an int8 one", so it is returned as the int8 one is."""

    def enc_string(s: str) -> bytes:
        return abi_bytes_tail(s.encode("utf-8"))

    def enc_dynamic_array(elems: list) -> bytes:
        """Length, offsets (relative to the first head), then the elements' encodings."""
        heads, tails, off = b"", b"", 32 * len(elems)
        for e in elems:
            heads += abi_word(off)
            tails += e
            off += len(e)
        return abi_word(len(elems)) + heads + tails

    tensors = []
    for tid, v in zip(m.outputs, outputs):
        t = m.tensors[tid]
        if t.dtype in M.QUANTIZED_DTYPES:
            nums = [(io.dequantize_fixed18(q, t.quant.scale, t.quant.zero_point), 18) for q in v]
        else:
            nums = [(e, 0) for e in v]
        name = enc_string(t.name)
        values = abi_word(len(nums)) + b"".join(abi_word(val) + abi_word(dec) for val, dec in nums)
        shape = abi_word(len(t.shape)) + b"".join(abi_word(d) for d in t.shape)
        head = abi_word(96) + abi_word(96 + len(name)) + abi_word(96 + len(name) + len(values))
        tensors.append(head + name + values + shape)
    numbers = enc_dynamic_array(tensors)
    strings = abi_word(0)
    jsons = abi_word(0)
    head = abi_word(128) + abi_word(128 + len(numbers)) + abi_word(128 + len(numbers) + len(strings)) + abi_word(0)
    return abi_word(32) + head + numbers + strings + jsons


def _number_to_code(value: int, decimals: int, scale, zero_point: int, lo: int = -128, hi: int = 127) -> int:
    """The ``Number`` path with the element's parameters: its per-axis ones where the input has
    an ``InputQuant`` entry, else the tensor's ``Quant`` (§IO quantization); clamped to the
    input type's code range (int8; ``I16``/``I32``: GAPS.md §28)."""
    return io.quantize_number(value, decimals, scale, zero_point, lo, hi)


def _number_to_i64(value: int, decimals: int):
    """``value · 10^−decimals`` if it is an integer in the i64 range, else None."""
    if decimals <= 0:
        v = value * 10 ** (-decimals)
    else:
        q, r = divmod(value, 10**decimals)
        if r:
            return None
        v = q
    return v if I64_MIN <= v <= I64_MAX else None


def call_opengradient(store: Store, calldata: bytes, gas_limit: int) -> Outcome:
    """§Gas, "Order of an OpenGradient call"."""
    early = BASE + PER_BYTE * len(calldata)

    def fail(code, msg):
        return _charge(gas_limit, early, code, msg)

    try:  # 1.
        mode, cid, numbers, strings = decode_og_request(calldata)
    except AbiError:
        return fail(ABI, "malformed ABI input: calldata is not a runModelInference(ModelInferenceRequest) call")
    if mode in (1, 2):  # 2.
        name = "ZK" if mode == 1 else "TEE"
        return fail(UNSUPPORTED, f"inference mode {name} is not available on SolidML: use VANILLA (results are exact and re-checkable)")
    if mode != 0:
        return fail(ABI, "malformed ABI input: unknown inference mode")
    digits = cid[2:] if cid.startswith("0x") else cid  # 3.
    if len(digits) != 64 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        return fail(UNSUPPORTED, f"modelCID `{cid}` is not a SolidML modelId (expected 0x followed by 64 hex digits)")
    mid = bytes.fromhex(digits)
    entry = store.get(mid)  # 4.
    if entry is None:
        return fail(UNKNOWN_MODEL, f"unknown model {hex_id(mid)}")
    _, m, w = entry
    if w.total() > MAX_WORK:
        return fail(MODEL_TOO_LARGE, f"model {hex_id(mid)} exceeds the precompile's work limit ({w.total()} > {MAX_WORK} units)")
    if strings:  # 5.
        return fail(UNSUPPORTED, "string tensors are not supported: SolidML models take numbers only")
    # 6. number tensors: count, names, sizes, Numbers
    n_in = len(m.inputs)
    if len(numbers) != n_in:
        return fail(ABI, f"malformed ABI input: the model takes {n_in} input tensor(s), the request has {len(numbers)}")
    inputs = []
    for position, tid in enumerate(m.inputs):
        t = m.tensors[tid]
        if n_in == 1:
            req = numbers[0]
        else:
            req = next((r for r in numbers if r[0] == t.name), None)
            if req is None:
                return fail(ABI, f"malformed ABI input: no input tensor named `{t.name}`")
        _, values, shape = req
        n = numel(t.shape)
        if numel(shape) != n or len(values) != n:
            return fail(ABI, f"malformed ABI input: input `{t.name}` expects {n} values (shape {_shape(t.shape)}), got shape {_shape(shape)} with {len(values)} values")
        row = []
        quantized = t.dtype in M.QUANTIZED_DTYPES
        params = io.input_params(m, position) if quantized else None
        lo, hi = M.code_range(t.dtype) if quantized else (None, None)
        for i, (value, decimals) in enumerate(values):
            if not -38 <= decimals <= 38:
                return fail(ABI, f"malformed ABI input: Number decimals {decimals} out of range -38..=38")
            if quantized:
                row.append(_number_to_code(value, decimals, *params[i], lo, hi))
            else:
                v = _number_to_i64(value, decimals)
                if v is None:
                    return fail(ABI, f"malformed ABI input: Number {value}e-{decimals} is not an int64")
                row.append(v)
        inputs.append(row)
    out_elems = sum(numel(m.tensors[t].shape) for t in m.outputs)
    p = price(len(calldata), 64 * out_elems, w)
    if p > gas_limit:  # 7.
        return Outcome("halt", b"", gas_limit)
    try:  # 8.
        outputs = run(m, inputs)
    except ExecutionError as e:
        return Outcome("revert", revert_data(EXECUTION, str(e)), p)
    return Outcome("success", encode_og_output(m, outputs), p)


def _shape(shape) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def call(store: Store, address: int, data: bytes, gas_limit: int) -> Outcome:
    if address == SOLIDML_ADDRESS:
        return call_solidml(store, data, gas_limit)
    if address == OPENGRADIENT_ADDRESS:
        return call_opengradient(store, data, gas_limit)
    raise ValueError(f"no SolidML entry at address {address:#x}")
