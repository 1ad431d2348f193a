"""Mutation fuzzing of the decoder: random byte edits of the committed artifacts must be either
rejected with a ``ValidationError`` or accepted, and an accepted model must run (small ones)
without an exception other than the defined run-time errors.

    PYTHONPATH=execspec python3 execspec/tools/mutfuzz.py [TRIALS] [SEED]
"""

import glob
import json
import os
import random
import sys
import traceback
from collections import Counter

from solidml_execspec import artifact
from solidml_execspec.errors import ExecutionError, ValidationError
from solidml_execspec.model import numel
from solidml_execspec.run import run

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "..", "docs", "spec", "vectors", "*.json")
CALLS = os.path.join(HERE, "..", "..", "docs", "spec", "calls.json")  # its models (version 2 among them)


def main():
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    seeds = []
    for f in sorted(glob.glob(VECTORS)):
        if "binarylut" in f:
            continue
        seeds += [bytes.fromhex(c["artifact"][2:]) for c in json.load(open(f))["cases"]]
    if os.path.exists(CALLS):
        for name, a in json.load(open(CALLS))["models"].items():
            if name != "too_much_work" and len(a) < 200_000:
                seeds += [bytes.fromhex(a[2:])] * 20  # weighted: few models, some of version 2
    outcome, problems = Counter(), 0
    for _ in range(trials):
        b = bytearray(rng.choice(seeds))
        if rng.random() < 0.05:  # the other format version (1 ↔ 2), sometimes with a list appended
            b[8] = 3 - b[8] if b[8] in (1, 2) else b[8]
            if b[8] == 2 and rng.random() < 0.5:
                b += bytes([1, 0, rng.randrange(3), 1]) + bytes(rng.randrange(256) for _ in range(5))
        for _ in range(rng.choice([1, 1, 2, 3])):
            k = rng.randrange(10, len(b))
            r = rng.random()
            if r < 0.6:
                b[k] = rng.randrange(256)
            elif r < 0.8:
                del b[k]
            else:
                b.insert(k, rng.randrange(256))
        try:
            m = artifact.decode(bytes(b))
        except ValidationError as e:
            outcome[e.rule] += 1
            continue
        except Exception:
            problems += 1
            print("DECODER CRASH", bytes(b).hex())
            traceback.print_exc()
            continue
        outcome["accepted"] += 1
        if sum(numel(t.shape) for t in m.tensors) > 20000:
            continue
        inputs = [[rng.randint(-128, 127) if m.tensors[t].dtype == "I8" else rng.randint(-3, 3) for _ in range(numel(m.tensors[t].shape))] for t in m.inputs]
        try:
            run(m, inputs)
        except ExecutionError:
            pass
        except Exception:
            problems += 1
            print("RUN CRASH", bytes(b).hex())
            traceback.print_exc()
    print(dict(outcome.most_common()))
    print("problems:", problems)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
