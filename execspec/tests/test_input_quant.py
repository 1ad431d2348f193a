"""Version 2 of the text: per-axis input quantization (§IO quantization), its artifact format
(§Artifact format, version 2), the rule ``model.input_quant`` (§Validation rules) and the
element's parameters on the OpenGradient ``Number`` path."""

import unittest

import _path  # noqa: F401
from solidml_execspec import artifact, io, postcard, precompile
from solidml_execspec import model as M
from solidml_execspec.errors import ValidationError
from solidml_execspec.io import f32_from_bits
from solidml_execspec.validate import validate


def identity_model(shape, quant=M.Quant(1.0, 0), input_quant=(), dtype="I8", constants=()):
    """One int8 input that is also the model's output (no node): its codes come back as they
    are, dequantized with the tensor's own ``Quant``."""
    tensors = [M.TensorInfo("x", list(shape), dtype, quant if dtype == "I8" else None)]
    cons = []
    for k, data in enumerate(constants):
        tensors.append(M.TensorInfo(f"c{k}", [len(data.values)], "I8", M.Quant(1.0, 0)))
        cons.append((len(tensors) - 1, data))
    return M.Model("m", tensors, cons, [0], [0], [], list(input_quant))


def iq(input, axis, params):
    return M.InputQuant(input, axis, [M.Quant(s, zp) for s, zp in params])


class Encoding(unittest.TestCase):
    def test_example_bytes(self):
        """§Artifact format: ``[InputQuant { input: 0, axis: 1, params: [Quant { 0.25, −3 }] }]``
        is ``01  00 01  01 00 00 80 3e 05``."""
        got = postcard.encode(M.INPUT_QUANT_LIST, [iq(0, 1, [(0.25, -3)])])
        self.assertEqual(got.hex(), "01" "0001" "010000803e05")

    def test_version_follows_the_list(self):
        v1 = identity_model([2, 3])
        raw1 = artifact.encode(v1)
        self.assertEqual(raw1[8:10], b"\x01\x00")
        self.assertEqual(artifact.decode(raw1), v1)
        v2 = identity_model([2, 3], input_quant=[iq(0, 1, [(0.5, 1), (0.25, -3), (2.0, 1 << 24)])])
        raw2 = artifact.encode(v2)
        self.assertEqual(raw2[8:10], b"\x02\x00")
        # the body is the version-1 body; the list follows it
        self.assertEqual(raw2[10 : len(raw1)], raw1[10:])
        self.assertEqual(raw2[len(raw1) :], postcard.encode(M.INPUT_QUANT_LIST, v2.input_quant))
        self.assertEqual(artifact.decode(raw2), v2)
        self.assertNotEqual(artifact.model_id(raw1), artifact.model_id(raw2))

    def test_decoding_steps(self):
        raw1 = artifact.encode(identity_model([2, 3]))
        v2_header = raw1[:8] + b"\x02\x00"

        def rule(raw):
            with self.assertRaises(ValidationError) as cm:
                artifact.decode(raw)
            return cm.exception.rule

        self.assertEqual(rule(v2_header + raw1[10:]), "artifact.decode")  # no list at all
        self.assertEqual(rule(v2_header + raw1[10:] + b"\x00"), "artifact.canonical")  # empty list
        self.assertEqual(rule(raw1[:8] + b"\x03\x00" + raw1[10:]), "artifact.version")
        self.assertEqual(rule(raw1 + b"\x00"), "artifact.decode")  # version 1: a list is trailing bytes
        good = artifact.encode(identity_model([2, 3], input_quant=[iq(0, 0, [(1.0, 0), (1.0, 0)])]))
        self.assertEqual(rule(good + b"\x00"), "artifact.decode")  # trailing after the list
        self.assertEqual(rule(good[:-1]), "artifact.decode")  # truncated list
        # an over-long varint inside the list (axis 00 written 80 00) is not canonical
        n = len(raw1)
        self.assertEqual(good[n : n + 3], b"\x01\x00\x00")
        self.assertEqual(rule(good[: n + 2] + b"\x80\x00" + good[n + 3 :]), "artifact.canonical")

    def test_json_form(self):
        m = identity_model([2], input_quant=[iq(0, 0, [(0.5, 1), (0.25, -3)])])
        j = M.model_to_json(m)
        self.assertEqual(j["input_quant"], [{"input": 0, "axis": 0, "params": [
            {"scale": 0.5, "zero_point": 1}, {"scale": 0.25, "zero_point": -3}]}])
        self.assertEqual(M.model_from_json(j), m)
        self.assertNotIn("input_quant", M.model_to_json(identity_model([2])))


class Rule(unittest.TestCase):
    def rule(self, m):
        with self.assertRaises(ValidationError) as cm:
            validate(m)
        return cm.exception.rule

    def test_each_condition(self):
        ok = [(1.0, 0)] * 3
        validate(identity_model([2, 3], input_quant=[iq(0, 1, ok)]))
        validate(identity_model([2, 3], input_quant=[iq(0, 1, [(f32_from_bits(1), -(1 << 24)), (3e38, 1 << 24), (1.0, 0)])]))
        bad = [
            [iq(0, 1, ok), iq(0, 1, ok)],  # not strictly increasing
            [iq(1, 1, ok)],  # input position out of range
            [iq(0, 2, ok)],  # axis out of range
            [iq(0, 1, ok[:2])],  # parameter count
            [iq(0, 1, [(1.0, 0), (0.0, 0), (1.0, 0)])],  # scale 0
            [iq(0, 1, [(1.0, 0), (-0.0, 0), (1.0, 0)])],  # scale −0
            [iq(0, 1, [(1.0, 0), (float("inf"), 0), (1.0, 0)])],
            [iq(0, 1, [(1.0, 0), (float("nan"), 0), (1.0, 0)])],
            [iq(0, 1, [(-1.0, 0), (1.0, 0), (1.0, 0)])],
            [iq(0, 1, [(1.0, 0), (1.0, (1 << 24) + 1), (1.0, 0)])],
            [iq(0, 1, [(1.0, -(1 << 24) - 1), (1.0, 0), (1.0, 0)])],
        ]
        for lst in bad:
            with self.subTest(lst=lst):
                self.assertEqual(self.rule(identity_model([2, 3], input_quant=lst)), "model.input_quant")
        # an i64 input
        m = identity_model([3], dtype="I64", input_quant=[iq(0, 0, ok)])
        self.assertEqual(self.rule(m), "model.input_quant")

    def test_place_in_the_order(self):
        bad_list = [iq(0, 5, [(1.0, 0)])]
        # after model.tensor
        m = identity_model([2, 3], input_quant=bad_list)
        m.tensors[0].quant = M.Quant(0.0, 0)
        self.assertEqual(self.rule(m), "model.tensor")
        # after every model input's model.id
        m = identity_model([2, 3], input_quant=bad_list)
        m.inputs = [0, 7]
        self.assertEqual(self.rule(m), "model.id")
        # before model.constant, model.order and model.output
        m = identity_model([2, 3], input_quant=bad_list, constants=[M.ConstI8([1])])
        m.constants[0][1].values.append(2)  # length 2 for a tensor of 1
        self.assertEqual(self.rule(m), "model.input_quant")
        m = identity_model([2, 3], input_quant=bad_list)
        m.outputs = [0, 0, 5]
        self.assertEqual(self.rule(m), "model.input_quant")


class ElementParameters(unittest.TestCase):
    def test_index_along_the_axis(self):
        """``c = ⌊i / stride_axis⌋ mod d_axis``."""
        params = [(float(c + 1), c) for c in range(3)]
        m = identity_model([2, 3, 2], input_quant=[iq(0, 1, params)])
        got = [zp for _, zp in io.input_params(m, 0)]
        self.assertEqual(got, [0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2])
        m = identity_model([2, 3], input_quant=[iq(0, 0, [(1.0, 5), (1.0, 6)])])
        self.assertEqual([zp for _, zp in io.input_params(m, 0)], [5, 5, 5, 6, 6, 6])
        m = identity_model([4])
        self.assertEqual(io.input_params(m, 0), [(1.0, 0)] * 4)  # no entry: the tensor's Quant

    def test_conversions(self):
        m = identity_model([3], quant=M.Quant(0.125, 7), input_quant=[iq(0, 0, [(0.5, 1), (0.25, -3), (2.0, 1 << 24)])])
        self.assertEqual(io.quantize_input_f32(m, 0, [1.0, 1.0, 3.0]), [3, 1, 127])  # 1 + 2, −3 + 4, 2^24 + 2
        self.assertEqual(io.quantize_input_f32(m, 0, [0.0, 0.0, -(2.0**100)]), [1, -3, -128])  # 2^24 − 2^99
        self.assertEqual(io.quantize_input_fixed18(m, 0, [10**18, -(10**18), 10**18]), [3, -7, 127])
        # the large zero point decides the code when the quotient does not outweigh it
        m = identity_model([1], input_quant=[iq(0, 0, [(1.0, -(1 << 24))])])
        self.assertEqual(io.quantize_input_fixed18(m, 0, [(1 << 24) * 10**18 - 10**18]), [-1])


# ---------------------------------------------------------------- OpenGradient calls


def _w(v: int) -> bytes:
    return (v % (1 << 256)).to_bytes(32, "big")


def _tail(b: bytes) -> bytes:
    return _w(len(b)) + b + b"\0" * (-len(b) % 32)


def _tuple(parts) -> bytes:
    """ABI tuple: ``parts`` of (dynamic?, encoding); dynamic parts by offset."""
    head_len = sum(32 if dyn else len(enc) for dyn, enc in parts)
    head, tail = b"", b""
    for dyn, enc in parts:
        if dyn:
            head += _w(head_len + len(tail))
            tail += enc
        else:
            head += enc
    return head + tail


def og_request(cid: bytes, tensors) -> bytes:
    """``runModelInference(ModelInferenceRequest)`` calldata, mode VANILLA; ``tensors``: (name,
    [(value, decimals)], shape)."""
    encoded = []
    for name, values, shape in tensors:
        nums = _w(len(values)) + b"".join(_w(v) + _w(d) for v, d in values)
        shp = _w(len(shape)) + b"".join(_w(d) for d in shape)
        encoded.append(_tuple([(True, _tail(name.encode())), (True, nums), (True, shp)]))
    numbers = _w(len(encoded)) + _tuple([(True, e) for e in encoded])
    model_input = _tuple([(True, numbers), (True, _w(0))])
    request = _tuple([(False, _w(0)), (True, _tail(("0x" + cid.hex()).encode())), (True, model_input)])
    return precompile.OG_SELECTOR + _tuple([(True, request)])


def og_output_values(out: bytes) -> list:
    """The ``value`` words of the first number tensor of an ``abi.encode(ModelOutput)``."""
    word = lambda p: int.from_bytes(out[p : p + 32], "big")
    top = word(0)
    numbers = top + word(top)
    t = numbers + 32 + word(numbers + 32)
    vals = t + word(t + 32)
    n = word(vals)
    return [word(vals + 32 + 64 * i) for i in range(n)]


class OpenGradientPath(unittest.TestCase):
    def test_each_element_uses_its_parameters(self):
        params = [(0.5, 1), (0.25, -3), (2.0, 1 << 24)]
        m = identity_model([2, 3], quant=M.Quant(1.0, 0), input_quant=[iq(0, 1, params)])
        store = precompile.Store()
        mid = store.insert(artifact.encode(m))
        reals = [(1, 0), (1, 0), (-3, 0), (-15, 1), (25, 2), (0, 0)]  # 1, 1, −3, −1.5, 0.25, 0
        data = og_request(mid, [("x", reals, [2, 3])])
        out = precompile.call(store, precompile.OPENGRADIENT_ADDRESS, data, 10**7)
        self.assertEqual(out.status, "success")
        # codes: 1 + 2, −3 + 4, 2^24 − 2 → 127; 1 − 3, −3 + 1, 2^24 → 127
        codes = [3, 1, 127, -2, -2, 127]
        # the output (the input tensor itself) is dequantized with the tensor's Quant (1, 0)
        self.assertEqual(og_output_values(out.output), [(q * 10**18) % (1 << 256) for q in codes])
        # the same model without the list: the tensor's Quant for every element
        m1 = identity_model([2, 3], quant=M.Quant(1.0, 0))
        mid1 = store.insert(artifact.encode(m1))
        out1 = precompile.call(store, precompile.OPENGRADIENT_ADDRESS, og_request(mid1, [("x", reals, [2, 3])]), 10**7)
        self.assertEqual(og_output_values(out1.output), [(q * 10**18) % (1 << 256) for q in [1, 1, -3, -2, 0, 0]])
        self.assertEqual(out.gas_used, out1.gas_used)  # same calldata length, same work

    def test_codes_passed_directly_are_used_as_they_are(self):
        m = identity_model([3], input_quant=[iq(0, 0, [(0.5, 100), (0.25, -100), (2.0, 5)])])
        store = precompile.Store()
        mid = store.insert(artifact.encode(m))
        out = precompile.call(store, precompile.SOLIDML_ADDRESS, mid + bytes([1, 0xFF, 0x80]), 10**6)
        self.assertEqual((out.status, out.output), ("success", bytes([1, 0xFF, 0x80])))



class CallVectors(unittest.TestCase):
    """The version-2 model of ``calls.json`` and its two calls (the whole file is replayed by
    test_vectors; this names them, so that their absence is visible)."""

    def test_per_axis_input(self):
        import json
        import os

        from solidml_execspec import consensus

        with open(os.path.join(_path.CONSENSUS, "calls.json")) as f:
            doc = json.load(f)
        if "per_axis_input" not in doc["models"]:
            self.skipTest("calls.json has no per_axis_input model yet")
        raw = bytes.fromhex(doc["models"]["per_axis_input"].removeprefix("0x"))
        self.assertEqual(raw[8:10], b"\x02\x00")
        self.assertTrue(artifact.decode(raw).input_quant)
        names = {"og_per_axis_input", "per_axis_input_codes"}
        cases = [c for c in doc["cases"] if c["name"] in names]
        self.assertEqual({c["name"] for c in cases}, names)
        passed, total, fails = consensus.replay_calls(dict(doc, cases=cases))
        self.assertEqual(fails, [])


if __name__ == "__main__":
    unittest.main()
