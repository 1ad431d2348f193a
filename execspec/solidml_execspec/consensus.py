"""spec.md §Consensus vectors: the ``validation``, ``io`` and ``calls`` files."""

from __future__ import annotations

from . import artifact, io, precompile
from .errors import ValidationError
from .model import DTYPE, code_range


def replay_validation(doc):
    """Each case's artifact must be rejected, by the check named in ``rule`` (``error`` is
    informative only)."""
    passed, fails = 0, []
    for c in doc["cases"]:
        raw = bytes.fromhex(c["artifact"].removeprefix("0x"))
        try:
            artifact.decode(raw)
            fails.append((c["name"], f"accepted; expected rejection by {c['rule']}"))
        except ValidationError as e:
            if e.rule == c["rule"]:
                passed += 1
            else:
                fails.append((c["name"], f"rejected by {e.rule} ({e.message}); expected {c['rule']} ({c['error']})"))
    return passed, len(doc["cases"]), fails


def replay_io(doc):
    """§IO quantization conversions; ``scale`` and f32 values are bit patterns. A case may name
    the element type in a ``dtype`` key (not documented; GAPS.md §32): the quantizers then clamp
    to its code range (``I16``: ``[−32768, 32767]``), otherwise to the int8 one."""
    passed, fails = 0, []
    for c in doc["cases"]:
        s = int(c["scale"], 16)
        zp = c["zero_point"]
        fn = c["fn"]
        dtype = c.get("dtype", "I8")
        if dtype not in DTYPE.names or dtype == "I64":
            fails.append((str(c), f"unknown dtype {dtype!r}"))
            continue
        lo, hi = code_range(dtype)
        if fn == "quantize_f32":
            got, want = io.quantize_f32(int(c["x"], 16), s, zp, lo, hi), c["q"]
        elif fn == "quantize_fixed18":
            got, want = io.quantize_fixed18(int(c["x"]), s, zp, lo, hi), c["q"]
        elif fn == "quantize_number":
            got, want = io.quantize_number(int(c["value"]), int(c["decimals"]), s, zp, lo, hi), c["q"]
        elif fn == "dequantize_f32":
            got, want = io.f32_to_bits(io.dequantize_f32(c["q"], s, zp)), int(c["x"], 16)
        elif fn == "dequantize_fixed18":
            got, want = io.dequantize_fixed18(c["q"], s, zp), int(c["x"])
        else:
            fails.append((str(c), f"unknown fn {fn}"))
            continue
        if got == want:
            passed += 1
        else:
            fails.append((str(c), f"got {got}, expected {want}"))
    return passed, len(doc["cases"]), fails


def _revert_message(data: bytes) -> str:
    if data[:4] != precompile.ERROR_SELECTOR or len(data) < 100:
        return data.hex()
    code = int.from_bytes(data[4:36], "big")
    n = int.from_bytes(data[68:100], "big")
    return f"code {code}: {data[100 : 100 + n].decode('utf-8', 'replace')}"


def replay_calls(doc):
    """Precompile calls against a store holding exactly the header's ``models``."""
    store = precompile.Store()
    for name, hexart in doc["models"].items():
        store.insert(bytes.fromhex(hexart.removeprefix("0x")))
    passed, fails = 0, []
    for c in doc["cases"]:
        data = bytes.fromhex(c["input"].removeprefix("0x")) + b"\0" * c.get("zero_padding", 0)
        out = precompile.call(store, int(c["address"], 16), data, c["gas_limit"])
        want = bytes.fromhex(c["output"].removeprefix("0x"))
        problems = []
        if out.status != c["status"]:
            problems.append(f"status {out.status}, expected {c['status']}")
        if out.gas_used != c["gas_used"]:
            problems.append(f"gas {out.gas_used}, expected {c['gas_used']}")
        if out.output != want:
            problems.append(f"output {_revert_message(out.output)!r}, expected {_revert_message(want)!r}")
        if problems:
            fails.append((c["name"], "; ".join(problems)))
        else:
            passed += 1
    return passed, len(doc["cases"]), fails


KINDS = {"validation": replay_validation, "io": replay_io, "calls": replay_calls}
