"""Replay of every committed vector: §Test vectors and §Consensus vectors."""

import json
import os
import unittest

import _path
from solidml_execspec import consensus, precompile
from solidml_execspec.artifact import decode
from solidml_execspec.replay import json_files, replay_case


class OpVectors(unittest.TestCase):
    def test_every_case(self):
        files = json_files([_path.VECTORS])
        self.assertTrue(files)
        total = 0
        for path in files:
            with open(path) as f:
                doc = json.load(f)
            if "kind" in doc:
                continue
            for case in doc["cases"]:
                with self.subTest(case=case["name"]):
                    r = replay_case(case)
                    self.assertTrue(r.ok, r.detail)
                total += 1
        self.assertGreaterEqual(total, 200)


class ConsensusVectors(unittest.TestCase):
    def replay(self, name):
        path = os.path.join(_path.CONSENSUS, name)
        if not os.path.exists(path):
            self.skipTest(f"{name} absent")
        with open(path) as f:
            doc = json.load(f)
        passed, total, fails = consensus.KINDS[doc["kind"]](doc)
        self.assertEqual(fails, [])
        self.assertEqual(passed, total)

    def test_validation(self):
        self.replay("validation.json")

    def test_io(self):
        self.replay("io.json")

    def test_calls(self):
        self.replay("calls.json")


class GasExamples(unittest.TestCase):
    """§Gas worked examples."""

    def test_gas_example_and_too_much_work(self):
        with open(os.path.join(_path.CONSENSUS, "calls.json")) as f:
            doc = json.load(f)
        store = precompile.Store()
        ids = {name: store.insert(bytes.fromhex(a[2:])) for name, a in doc["models"].items()}
        w = store.get(ids["gas_example"])[2]
        self.assertEqual((w.total(), w.units["gemm"], w.elements, w.weights, w.nodes), (6, 6, 7, 6, 1))
        self.assertEqual(precompile.price(6, 1, w), 2059)
        self.assertEqual(precompile.price(6, 1, w, precompile.REFERENCE_SCHEDULE), 2043)
        out = precompile.call(store, precompile.SOLIDML_ADDRESS, ids["gas_example"] + b"\0" * 7, 10**6)
        self.assertEqual((out.status, out.gas_used), ("revert", 2234))
        big = decode(bytes.fromhex(doc["models"]["too_much_work"][2:]))
        self.assertEqual(precompile.work_units(big), (1 << 40) + (1 << 28))
        out = precompile.call(store, precompile.SOLIDML_ADDRESS, ids["too_much_work"], 10**6)
        self.assertEqual((out.status, out.gas_used), ("revert", 2192))


if __name__ == "__main__":
    unittest.main()
