"""spec.md §Artifact format, "Postcard encoding, as used here".

The wire format of postcard 1.x, as the text describes it:

* structs and tuples: their fields in declaration order, no tags;
* ``u8``/``i8``: one byte; ``bool``: one byte ``0``/``1``;
* ``u16``, ``u32``, ``u64``: unsigned LEB128 varints; ``i32``, ``i64``: zigzag, then varint;
  ``i16`` (``DenseWide::weights``, version 3): not named by the text; here postcard's own
  encoding, zigzag then a varint of at most 3 bytes, like ``u16`` (GAPS.md §27);
* ``f32``: 4 bytes little-endian;
* sequences and strings: a varint length, then the elements (UTF-8 bytes for strings);
* ``Option``: a byte ``0`` (None) or ``1`` followed by the value;
* enums: the variant index as a varint, then the variant's fields.

Type descriptors used by the schema in ``model.py``: the strings ``"u8" "i8" "bool" "u16"
"u32" "u64" "i16" "i32" "i64" "f32" "str"``, and ``Vec(t)``, ``Opt(t)``, ``Tuple(t…)``,
``Struct(cls)`` (``cls.WIRE`` lists ``(field, type)`` in declaration order), ``UnitEnum(names)``
(a fieldless enum, represented as the variant's name) and ``Enum(variants)`` (variants with
payloads, see ``model.py``).

What the text leaves open, and the choices here (GAPS.md §5):

* the longest varint accepted for each width: here postcard's maxima, ⌈bits/7⌉ bytes
  (u16: 3, u32: 5, u64 and lengths: 10); a longer one, or one whose value exceeds the type, is
  a decoding error. A varint with redundant high zero groups ("over-long", e.g. ``80 00`` for
  0) decodes here; the canonical-encoding check (§Artifact format, step 6) rejects it.
* the width of a length prefix: a ``u64`` varint (postcard's ``usize`` on 64-bit targets).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, fields
from typing import Any

VARINT_BITS = {"u16": 16, "u32": 32, "u64": 64, "len": 64}
ZIGZAG_BITS = {"i16": 16, "i32": 32, "i64": 64}


class DecodeError(Exception):
    """Postcard could not decode a value (truncated or malformed input)."""


# ---------------------------------------------------------------- type descriptors


@dataclass(frozen=True)
class Vec:
    elem: Any


@dataclass(frozen=True)
class Opt:
    elem: Any


@dataclass(frozen=True)
class Tuple:
    elems: tuple


@dataclass(frozen=True)
class Struct:
    cls: Any


@dataclass(frozen=True)
class UnitEnum:
    """A fieldless enum; Python value: the variant's name (``str``)."""

    names: tuple


@dataclass(frozen=True)
class Enum:
    """An enum whose variants carry data. ``variants``: tuple of classes; a class's ``WIRE``
    gives the payload's fields. Python value: an instance of one of the classes."""

    variants: tuple


# ---------------------------------------------------------------- varints


def max_varint_len(bits: int) -> int:
    """postcard's maximum varint length for a ``bits``-wide integer: ⌈bits / 7⌉."""
    return (bits + 6) // 7


def encode_varint(value: int) -> bytes:
    """Unsigned LEB128, shortest form: 7 bits per byte, low group first, high bit = "more"."""
    assert value >= 0
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def zigzag(v: int) -> int:
    """Zigzag: 0, −1, 1, −2, … ↦ 0, 1, 2, 3, …"""
    return 2 * v if v >= 0 else -2 * v - 1


def unzigzag(u: int) -> int:
    return u >> 1 if u & 1 == 0 else -((u + 1) >> 1)


INT_RANGE = {
    "u8": (0, (1 << 8) - 1),
    "i8": (-(1 << 7), (1 << 7) - 1),
    "u16": (0, (1 << 16) - 1),
    "u32": (0, (1 << 32) - 1),
    "u64": (0, (1 << 64) - 1),
    "i16": (-(1 << 15), (1 << 15) - 1),
    "i32": (-(1 << 31), (1 << 31) - 1),
    "i64": (-(1 << 63), (1 << 63) - 1),
}


# ---------------------------------------------------------------- reader


class Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n > len(self.data) - self.pos:
            raise DecodeError("hit the end of the buffer, expected more data")
        b = self.data[self.pos : self.pos + n]
        self.pos += n
        return b

    def byte(self) -> int:
        return self.take(1)[0]

    def varint(self, bits: int) -> int:
        value = 0
        for i in range(max_varint_len(bits)):
            b = self.byte()
            value |= (b & 0x7F) << (7 * i)
            if b & 0x80 == 0:
                if value >> bits:
                    raise DecodeError(f"varint exceeds {bits} bits")
                return value
        raise DecodeError(f"varint longer than {max_varint_len(bits)} bytes")

    def read(self, t) -> Any:
        if isinstance(t, str):
            if t == "u8":
                return self.byte()
            if t == "i8":
                b = self.byte()
                return b - 256 if b >= 128 else b
            if t == "bool":
                b = self.byte()
                if b > 1:
                    raise DecodeError(f"bool byte {b}")
                return b == 1
            if t in ("u16", "u32", "u64"):
                return self.varint(VARINT_BITS[t])
            if t in ZIGZAG_BITS:
                return unzigzag(self.varint(ZIGZAG_BITS[t]))
            if t == "f32":
                return struct.unpack("<f", self.take(4))[0]
            if t == "str":
                n = self.varint(VARINT_BITS["len"])
                try:
                    return self.take(n).decode("utf-8")
                except UnicodeDecodeError as e:
                    raise DecodeError("invalid UTF-8") from e
            raise TypeError(t)
        if isinstance(t, Vec):
            n = self.varint(VARINT_BITS["len"])
            if t.elem in ("u8", "i8"):  # bytes: check the length before reading
                raw = self.take(n)
                return [b - 256 if t.elem == "i8" and b >= 128 else b for b in raw]
            return [self.read(t.elem) for _ in range(n)]
        if isinstance(t, Opt):
            tag = self.byte()
            if tag == 0:
                return None
            if tag == 1:
                return self.read(t.elem)
            raise DecodeError(f"Option tag {tag}")
        if isinstance(t, Tuple):
            return tuple(self.read(e) for e in t.elems)
        if isinstance(t, Struct):
            return t.cls(**{name: self.read(ft) for name, ft in t.cls.WIRE})
        if isinstance(t, UnitEnum):
            i = self.varint(32)
            if i >= len(t.names):
                raise DecodeError(f"variant index {i} out of range")
            return t.names[i]
        if isinstance(t, Enum):
            i = self.varint(32)
            if i >= len(t.variants):
                raise DecodeError(f"variant index {i} out of range")
            cls = t.variants[i]
            return cls(**{name: self.read(ft) for name, ft in cls.WIRE})
        raise TypeError(t)


# ---------------------------------------------------------------- writer


def write(t, v, out: bytearray) -> None:
    """Append the postcard encoding of value ``v`` of type ``t`` to ``out`` (shortest varints)."""
    if isinstance(t, str):
        if t in INT_RANGE:
            lo, hi = INT_RANGE[t]
            if not (lo <= v <= hi) or isinstance(v, bool):
                raise ValueError(f"{v!r} is not a {t}")
        if t == "u8":
            out.append(v)
        elif t == "i8":
            out.append(v & 0xFF)
        elif t == "bool":
            if not isinstance(v, bool):
                raise ValueError(f"{v!r} is not a bool")
            out.append(1 if v else 0)
        elif t in ("u16", "u32", "u64"):
            out += encode_varint(v)
        elif t in ZIGZAG_BITS:
            out += encode_varint(zigzag(v))
        elif t == "f32":
            out += struct.pack("<f", v)
        elif t == "str":
            b = v.encode("utf-8")
            out += encode_varint(len(b))
            out += b
        else:
            raise TypeError(t)
    elif isinstance(t, Vec):
        out += encode_varint(len(v))
        for e in v:
            write(t.elem, e, out)
    elif isinstance(t, Opt):
        if v is None:
            out.append(0)
        else:
            out.append(1)
            write(t.elem, v, out)
    elif isinstance(t, Tuple):
        assert len(v) == len(t.elems)
        for et, e in zip(t.elems, v):
            write(et, e, out)
    elif isinstance(t, Struct):
        assert type(v) is t.cls, (v, t.cls)
        for name, ft in t.cls.WIRE:
            write(ft, getattr(v, name), out)
    elif isinstance(t, UnitEnum):
        out += encode_varint(t.names.index(v))
    elif isinstance(t, Enum):
        i = t.variants.index(type(v))
        out += encode_varint(i)
        for name, ft in type(v).WIRE:
            write(ft, getattr(v, name), out)
    else:
        raise TypeError(t)


def encode(t, v) -> bytes:
    out = bytearray()
    write(t, v, out)
    return bytes(out)


def decode(t, data: bytes) -> tuple[Any, int]:
    """Decode one value of type ``t`` from the start of ``data``; returns it and the number of
    bytes read (the caller decides what trailing bytes mean)."""
    r = Reader(data)
    v = r.read(t)
    return v, r.pos


def check_wire(cls) -> None:
    """Consistency check: a dataclass's WIRE (then its EXTRA fields, outside the wire body, if
    any) names exactly its fields, in order."""
    names = [f.name for f in fields(cls)]
    assert names == [n for n, _ in cls.WIRE + getattr(cls, "EXTRA", [])], (cls.__name__, names)
