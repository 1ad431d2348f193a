"""Replay of spec.md §Test vectors: decode ``artifact``, check that the JSON ``model`` is the
decoded model, compute the modelId, validate, run on ``inputs``, compare with ``outputs``."""

from __future__ import annotations

import json
import os
import time
import traceback

from . import artifact
from .errors import ExecutionError, ValidationError
from .consensus import KINDS
from .model import model_from_json, model_to_json
from .run import run


class CaseResult:
    def __init__(self, name, ok, detail=""):
        self.name, self.ok, self.detail = name, ok, detail


def first_difference(got, want):
    """A description of the first differing element of two lists of output arrays."""
    if len(got) != len(want):
        return f"{len(got)} outputs, expected {len(want)}"
    for k, (g, w) in enumerate(zip(got, want)):
        if len(g) != len(w):
            return f"output {k}: {len(g)} elements, expected {len(w)}"
        for i, (a, b) in enumerate(zip(g, w)):
            if a != b:
                return f"output {k} element {i}: got {a}, expected {b}"
    return None


def json_difference(a, b, path="model"):
    """The first path at which two JSON values differ."""
    if type(a) is not type(b) and not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
        return f"{path}: {a!r} vs {b!r}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}.{k}: present on one side only"
            d = json_difference(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: length {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = json_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: {a!r} vs {b!r}"


def replay_case(case) -> CaseResult:
    name = case.get("name", "?")
    try:
        raw = bytes.fromhex(case["artifact"].removeprefix("0x"))
        try:
            model = artifact.decode(raw)  # validates (step 5) and checks the canonical encoding
        except ValidationError as e:
            return CaseResult(name, False, f"rejected by validation: {e}")
        if "model" in case:
            want = case["model"]
            if isinstance(want, dict) and want.get("input_quant") == []:
                # GAPS.md §21: an empty list may be written or omitted; both mean version 1
                want = {k: v for k, v in want.items() if k != "input_quant"}
            d = json_difference(model_to_json(model), want)
            if d:
                return CaseResult(name, False, f"JSON model differs from the decoded artifact at {d}")
            # and the other way: the JSON model, encoded here, is the artifact byte for byte
            if artifact.encode(model_from_json(case["model"])) != raw:
                return CaseResult(name, False, "encoding the JSON model does not give the artifact")
        artifact.model_id(raw)
        try:
            got = run(model, case["inputs"])
        except ExecutionError as e:
            if "error" not in case:
                return CaseResult(name, False, f"run-time error: {e}")
            # a case that expects a run-time error: the message is consensus (§Errors); the
            # case may carry it with or without the "execution failed: " prefix of code 6
            want = case["error"]
            if str(e) in (want, f"execution failed: {want}"):
                return CaseResult(name, True)
            return CaseResult(name, False, f"run-time error {str(e)!r}, expected {want!r}")
        if "error" in case:
            return CaseResult(name, False, f"ran to completion, expected the run-time error {case['error']!r}")
        diff = first_difference(got, case["outputs"])
        if diff:
            return CaseResult(name, False, diff)
        return CaseResult(name, True)
    except AssertionError as e:
        return CaseResult(name, False, f"width assertion failed (an overflow the text rules out): {e}\n{traceback.format_exc()}")


def json_files(paths):
    out = []
    for p in paths:
        if os.path.isdir(p):  # every *.json below, recursively, in sorted order
            for root, dirs, files in os.walk(p):
                dirs.sort()
                out += sorted(os.path.join(root, f) for f in files if f.endswith(".json"))
        else:
            out.append(p)
    return out


def load(path):
    """A vector file: ``{"op"…, "cases": [...]}`` (op vectors), ``{"kind": …, "cases": [...]}``
    (§Consensus vectors), a single case, or a list of cases. Returns (kind, document, cases)."""
    with open(path) as f:
        d = json.load(f)
    if isinstance(d, dict) and "kind" in d:
        return d["kind"], d, d.get("cases", [])
    if isinstance(d, dict) and "cases" in d:
        return None, d, d["cases"]
    if isinstance(d, dict) and "artifact" in d:
        return None, d, [d]
    if isinstance(d, list):
        return None, d, d
    return "unknown", d, []


def replay_files(paths, verbose=True, label="replay"):
    """Replay every case of every file; returns (passed, total, failures)."""
    passed = total = 0
    failures = []
    t0 = time.time()
    for path in json_files(paths):
        kind, doc, cases = load(path)
        if kind is not None:
            fn = KINDS.get(kind)
            if fn is None:
                print(f"{path}: skipped (kind {kind!r}: format not documented in spec.md)")
                continue
            p, n, kind_fails = fn(doc)
            fails = [(path, CaseResult(name, False, detail)) for name, detail in kind_fails]
        else:
            p = n = 0
            fails = []
            for case in cases:
                r = replay_case(case)
                n += 1
                if r.ok:
                    p += 1
                else:
                    fails.append((path, r))
        passed += p
        total += n
        failures += fails
        if verbose:
            print(f"{path}: {p}/{n} passed")
        for _, r in fails[:3] if verbose else []:
            print(f"  FAIL {r.name}: {r.detail}")
    print(f"{label}: {passed}/{total} cases passed in {time.time() - t0:.1f} s")
    return passed, total, failures
