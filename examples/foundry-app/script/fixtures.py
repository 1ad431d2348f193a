#!/usr/bin/env python3
"""Write test/DigitFixtures.sol: real digit images for DigitMint's tests, as int8 codes.

The images are rows of the repository's examples/models/digits_eval.npy (scikit-learn's digits
dataset, all 1,797 images in dataset order, 8x8 pixels of 0..16) with their labels from
digits_eval_labels.npy. Each is quantized to the model input's int8 codes exactly as the
SolidML spec does it (docs/spec.md, IO quantization):

    q = clamp(zp + round_half_even(x / scale), -128, 127)

with `x / scale` computed in f64 from the f32 pixel and the f32 scale, and `scale`, `zp` read
from src/models/digits.json (written by `solidml init` / `solidml build`).

Which rows: one clear image of each digit, two the model is unsure about, one it gets wrong.
They were chosen by running the compiled model over the whole file
(`solidml run src/models/digits.smodel --input ../models/digits_eval.npy --raw -o OUT`);
what the model says about each one is asserted by test/DigitMint.t.sol, through both routes.

Usage (numpy only), from anywhere:
    python3 script/fixtures.py          # rewrites test/DigitFixtures.sol
    python3 script/fixtures.py --check  # fails if test/DigitFixtures.sol is not what it writes
"""

import json
import os
import sys

import numpy as np

APP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(APP, "..", "models")
OUT = os.path.join(APP, "test", "DigitFixtures.sol")

# name in Solidity -> (row of digits_eval.npy, what the row is)
CLEAR = [0, 1, 2, 3, 4, 15, 6, 7, 8, 9]  # the first row of each digit the model sees at >= 250/256
SPECIAL = [
    ("UNSURE_FIVE", 5, "a 5 the model sees as a 5 at only 229/256 (89.5%)"),
    ("UNSURE_SIX", 420, "a 6 the model sees as a 6 at only 153/256 (59.8%)"),
    ("NINE_SEEN_AS_FIVE", 37, "a 9 the model takes for a 5 (255/256)"),
]
WORDS = ["ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE"]
SHADES = " .:-=+*o%#"  # pixel 0..16 -> a character, for the pictures in the comments (no @: NatSpec tags)


def quantize(x, scale, zp):
    """The spec's quantize_f32: f64 quotient of two f32 values, rounded half to even."""
    q = zp + np.rint(x.astype(np.float64) / np.float64(scale))  # np.rint rounds half to even
    return np.clip(q, -128, 127).astype(np.int8)


def picture(x):
    rows = []
    for r in range(8):
        rows.append("".join(SHADES[min(int(v) * len(SHADES) // 17, len(SHADES) - 1)] * 2 for v in x[8 * r : 8 * r + 8]))
    return rows


def main():
    meta = json.load(open(os.path.join(APP, "src", "models", "digits.json")))
    (inp,) = meta["inputs"]
    assert inp["dtype"] == "int8" and inp["shape"] == [1, 64], inp
    scale = np.float32(inp["scale"])
    assert float(scale) == inp["scale"], "digits.json's scale is not an f32 value"
    zp = int(inp["zero_point"])

    X = np.load(os.path.join(MODELS, "digits_eval.npy"))
    y = np.load(os.path.join(MODELS, "digits_eval_labels.npy"))
    assert X.dtype == np.float32 and X.shape[1:] == (64,), (X.dtype, X.shape)

    entries = []
    for d, row in enumerate(CLEAR):
        assert y[row] == d, (row, y[row], d)
        entries.append((WORDS[d], row, "a clear %d" % d))
    entries += SPECIAL

    out = [
        "// SPDX-License-Identifier: MIT",
        "pragma solidity ^0.8.20;",
        "",
        "// Written by script/fixtures.py from ../models/digits_eval.npy: do not edit, rerun it.",
        "",
        "/// @title DigitFixtures: real 8x8 digit images as the model's 64 int8 input codes.",
        "/// @notice Rows of scikit-learn's digits dataset (examples/models/digits_eval.npy), quantized",
        "///         with the input's scale %r and zero point %d (src/models/digits.json):" % (float(scale), zp),
        "///         q = clamp(zp + round_half_even(pixel / scale), -128, 127); pixel 0 -> -128, 16 -> 127.",
        "library DigitFixtures {",
    ]
    for name, row, what in entries:
        q = quantize(X[row], scale, zp)
        out.append("    /// digits_eval.npy[%d], label %d: %s." % (row, y[row], what))
        out += ["    ///     |%s|" % line for line in picture(X[row])]
        out.append('    bytes internal constant %s = hex"%s";' % (name, q.tobytes().hex()))
        out.append("")
    out += [
        "    /// The dataset's label of each constant above (ground truth, not the model's answer).",
        "    function labelOf(bytes memory image) internal pure returns (uint8) {",
    ]
    for name, row, _ in entries:
        out.append("        if (keccak256(image) == keccak256(%s)) return %d;" % (name, y[row]))
    out += [
        '        revert("DigitFixtures: not a fixture");',
        "    }",
        "",
        "    /// The clear image of `digit`.",
        "    function clear(uint8 digit) internal pure returns (bytes memory) {",
    ]
    for d in range(10):
        out.append("        if (digit == %d) return %s;" % (d, WORDS[d]))
    out += [
        '        revert("DigitFixtures: not a digit");',
        "    }",
        "}",
        "",
    ]
    text = "\n".join(out)

    if "--check" in sys.argv[1:]:
        have = open(OUT).read() if os.path.exists(OUT) else ""
        if have != text:
            sys.exit("fixtures.py: %s is stale: rerun python3 script/fixtures.py" % os.path.relpath(OUT, APP))
        print("fixtures.py: %s is up to date" % os.path.relpath(OUT, APP))
        return
    with open(OUT, "w") as f:
        f.write(text)
    print("fixtures.py: wrote %s (%d images)" % (os.path.relpath(OUT, APP), len(entries)))


if __name__ == "__main__":
    main()
