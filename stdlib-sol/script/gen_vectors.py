#!/usr/bin/env python3
"""Generate Solidity replay tests from the spec vectors (docs/spec/vectors/*.json).

For each op in OPS, reads docs/spec/vectors/<op>.json and writes
stdlib-sol/test/generated/<Op>Vectors.t.sol: one test contract per op, one test function per
case, which builds the op's parameters from the case's `model`, runs the stdlib-sol kernel on the
case's `inputs` and requires the exact `outputs` (revert VectorMismatch(<case name>, ...)).

Nothing is computed here: parameters, inputs and expected outputs are copied from the JSON
(arrays are passed as ABI-encoded hex literals, which compile much faster with solc-js than
element-by-element assignments). Standard library only.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
STDLIB = os.path.dirname(HERE)
REPO = os.path.dirname(STDLIB)
VECTORS = os.path.join(REPO, "docs", "spec", "vectors")
OUT = os.path.join(STDLIB, "test", "generated")

OPS = [("dense", "Dense"), ("lut", "Lut"), ("softmax", "Softmax"), ("argmax", "ArgMax")]


def word(v):
    """One ABI word: v as 256-bit two's complement, hex."""
    assert -(1 << 255) <= v < (1 << 255)
    return "%064x" % (v % (1 << 256))


def abi_array(values):
    """ABI encoding of a single dynamic array T[] (T any integer type): offset, length, items."""
    return 'hex"' + word(32) + word(len(values)) + "".join(word(v) for v in values) + '"'


def int8_bytes(values):
    for v in values:
        assert -128 <= v <= 127, v
    return 'hex"' + "".join("%02x" % (v & 0xFF) for v in values) + '"'


def single_node(case, opname):
    m = case["model"]
    if len(m["nodes"]) != 1 or len(m["inputs"]) != 1 or len(m["outputs"]) != 1 or m["constants"]:
        sys.exit("%s: expected a single-node model with one input, one output, no constants" % case["name"])
    node = m["nodes"][0]
    if node["inputs"] != m["inputs"] or node["outputs"] != m["outputs"]:
        sys.exit("%s: node does not map the model input to the model output" % case["name"])
    op = node["op"]
    if opname == "ArgMax":
        params = op["ArgMax"]
    else:
        params = op[opname]
    x = m["tensors"][m["inputs"][0]]
    if len(case["inputs"]) != 1 or len(case["outputs"]) != 1:
        sys.exit("%s: expected one input and one output array" % case["name"])
    return params, x["shape"], case["inputs"][0], case["outputs"][0]


def body_dense(case):
    p, shape, xin, yout = single_node(case, "Dense")
    ep = p["epilogue"]
    lines = [
        "bytes memory x = %s;" % int8_bytes(xin),
        "bytes memory w = %s;" % int8_bytes(p["weights"]),
        "int32[] memory bias = abi.decode(%s, (int32[]));" % abi_array(p["bias"]),
        "Epilogue memory ep;",
        "ep.multipliers = new Multiplier[](%d);" % len(ep["multipliers"]),
    ]
    for i, mu in enumerate(ep["multipliers"]):
        lines.append("ep.multipliers[%d] = Multiplier(%d, %d);" % (i, mu["multiplier"], mu["shift"]))
    lines += [
        "ep.outputZeroPoint = %d;" % ep["output_zero_point"],
        "ep.clampMin = %d;" % ep["clamp_min"],
        "ep.clampMax = %d;" % ep["clamp_max"],
        "bytes memory y = DenseKernel.dense(x, %d, %d, %d, w, bias, ep);"
        % (p["in_features"], p["out_features"], p["input_zero_point"]),
        '_eqInt8("%s", y, %s);' % (case["name"], int8_bytes(yout)),
    ]
    return lines


def body_lut(case):
    p, shape, xin, yout = single_node(case, "Lut")
    axis = p["axis"]
    return [
        "uint256[] memory shape = abi.decode(%s, (uint256[]));" % abi_array(shape),
        "bytes memory tables = %s;" % int8_bytes(p["tables"]),
        "bytes memory y = LutKernel.lut(%s, shape, %s, %d, tables);"
        % (int8_bytes(xin), "false" if axis is None else "true", 0 if axis is None else axis),
        '_eqInt8("%s", y, %s);' % (case["name"], int8_bytes(yout)),
    ]


def body_softmax(case):
    p, shape, xin, yout = single_node(case, "Softmax")
    return [
        "uint256[] memory shape = abi.decode(%s, (uint256[]));" % abi_array(shape),
        "bytes memory expTable = hex\"%s\";" % "".join("%08x" % e for e in p["exp_table"]),
        "bytes memory y = SoftmaxKernel.softmax(%s, shape, %d, expTable);" % (int8_bytes(xin), p["axis"]),
        '_eqInt8("%s", y, %s);' % (case["name"], int8_bytes(yout)),
    ]


def body_argmax(case):
    p, shape, xin, yout = single_node(case, "ArgMax")
    return [
        "uint256[] memory shape = abi.decode(%s, (uint256[]));" % abi_array(shape),
        "int64[] memory y = ArgMaxKernel.argmax(%s, shape, %d, %s);"
        % (int8_bytes(xin), p["axis"], "true" if p["select_last_index"] else "false"),
        '_eqInt64("%s", y, abi.decode(%s, (int64[])));' % (case["name"], abi_array(yout)),
    ]


IMPORTS = {
    "dense": [
        'import {DenseKernel} from "../../src/kernels/Dense.sol";',
        'import {Epilogue, Multiplier} from "../../src/kernels/Epilogue.sol";',
    ],
    "lut": ['import {LutKernel} from "../../src/kernels/Lut.sol";'],
    "softmax": ['import {SoftmaxKernel} from "../../src/kernels/Softmax.sol";'],
    "argmax": ['import {ArgMaxKernel} from "../../src/kernels/ArgMax.sol";'],
}
BODIES = {"dense": body_dense, "lut": body_lut, "softmax": body_softmax, "argmax": body_argmax}


def generate(op, title):
    path = os.path.join(VECTORS, op + ".json")
    with open(path) as f:
        doc = json.load(f)
    if doc.get("op") != op:
        sys.exit("%s: op field is %r" % (path, doc.get("op")))
    out = [
        "// SPDX-License-Identifier: MIT",
        "// GENERATED by stdlib-sol/script/gen_vectors.py from docs/spec/vectors/%s.json — do not edit." % op,
        "// Spec: %s" % doc.get("spec", ""),
        "pragma solidity ^0.8.27;",
        "",
        'import {VectorAssert} from "../VectorAssert.sol";',
    ]
    out += IMPORTS[op]
    out += ["", "contract %sVectorsTest is VectorAssert {" % title]
    names = []
    for case in doc["cases"]:
        name = case["name"]
        if not name.replace("_", "").isalnum():
            sys.exit("bad case name %r" % name)
        names.append(name)
        out.append("    function test_%s() public pure {" % name)
        out += ["        " + l for l in BODIES[op](case)]
        out.append("    }")
        out.append("")
    out[-1] = "}"
    dest = os.path.join(OUT, "%sVectors.t.sol" % title)
    with open(dest, "w") as f:
        f.write("\n".join(out) + "\n")
    return dest, names


def main():
    os.makedirs(OUT, exist_ok=True)
    for op, title in OPS:
        dest, names = generate(op, title)
        print("%s: %d cases -> %s" % (op, len(names), os.path.relpath(dest, STDLIB)))


if __name__ == "__main__":
    main()
