"""§Artifact format: the postcard wire format, the decoding steps and the canonical check."""

import json
import os
import unittest

import _path
from solidml_execspec import artifact, postcard
from solidml_execspec import model as M
from solidml_execspec.errors import ValidationError


def op_bytes(op) -> bytes:
    return postcard.encode(M.OP, op)


def cumsum_1():
    """The worked example of §Artifact format: the bytes the text lists, one CumSum node."""
    return bytes.fromhex(
        "534f4c49444d4c00 0100 06766563746f72 02"
        " 0178 03010301 00 010862c43d 15"
        " 0179 03010301 00 012cc1153d 8f01"
        " 00 0100 0101 01 026f70 18 010000 15 b6a0ebbe0a 04 8f01 0100 0101".replace(" ", "")
    )


class VariantEncoding(unittest.TestCase):
    """The byte-level examples of §Artifact format."""

    def test_examples(self):
        self.assertEqual(op_bytes(M.Extremum("Min")).hex(), "0301")
        self.assertEqual(op_bytes(M.Concat(1)).hex(), "0701")
        self.assertEqual(op_bytes(M.ArgMax(1, True)).hex(), "0c0101")
        self.assertEqual(op_bytes(M.Take([10, -20])).hex(), "0d021427")
        self.assertEqual(op_bytes(M.IntBinary("Mul")).hex(), "1502")
        self.assertEqual(op_bytes(M.IntBinary("Min")).hex(), "1507")
        self.assertEqual(op_bytes(M.IntCompare("Less", 127, -128)).hex(), "1b017f80")
        self.assertEqual(op_bytes(M.IntLut([0] * 255 + [-1])).hex(), "1c8002" + "00" * 255 + "01")
        self.assertEqual(postcard.encode(M.CONST_DATA, M.ConstI8([1, -2])).hex(), "000201fe")
        self.assertEqual(postcard.encode(M.CONST_DATA, M.ConstI64([-1])).hex(), "010101")
        pool = dict(kernel=[2], strides=[1], dilations=[1], pads_begin=[0], pads_end=[0], count_include_pad=False, zero_point=0)
        self.assertEqual(op_bytes(M.MaxPool(**pool))[0], 0x08)
        self.assertEqual(op_bytes(M.AvgPool(**pool))[0], 0x09)
        self.assertEqual(op_bytes(M.MaxPool(**pool))[1:], op_bytes(M.AvgPool(**pool))[1:])

    def test_varints(self):
        self.assertEqual(postcard.encode_varint(0), b"\x00")
        self.assertEqual(postcard.encode_varint(127), b"\x7f")
        self.assertEqual(postcard.encode_varint(128), b"\x80\x01")
        self.assertEqual(postcard.encode("i32", -11), b"\x15")  # zigzag 21
        self.assertEqual(postcard.encode("i32", 1408067611).hex(), "b6a0ebbe0a")
        self.assertEqual(postcard.decode("u32", b"\xff\xff\xff\xff\x0f")[0], (1 << 32) - 1)
        with self.assertRaises(postcard.DecodeError):  # above u32
            postcard.decode("u32", b"\xff\xff\xff\xff\x1f")
        with self.assertRaises(postcard.DecodeError):  # longer than 5 bytes
            postcard.decode("u32", b"\x80\x80\x80\x80\x80\x00")


class WorkedExample(unittest.TestCase):
    """The byte-by-byte artifact example of §Artifact format: it decodes, re-encodes to itself,
    and holds the fields the text names."""

    def test_bytes(self):
        raw = cumsum_1()
        m = artifact.decode(raw)
        self.assertEqual(artifact.encode(m), raw)
        op = m.nodes[0].op
        self.assertIsInstance(op, M.CumSum)
        self.assertEqual((op.axis, op.exclusive, op.reverse, op.input_zero_point), (1, False, False, -11))
        self.assertEqual((op.multiplier.multiplier, op.multiplier.shift), (1408067611, 2))
        self.assertEqual(m.tensors[1].quant.zero_point, -72)


class DecodingSteps(unittest.TestCase):
    def rule(self, raw: bytes) -> str:
        with self.assertRaises(ValidationError) as cm:
            artifact.decode(raw)
        return cm.exception.rule

    def test_magic_and_version(self):
        raw = cumsum_1()
        self.assertEqual(self.rule(b""), "artifact.magic")
        self.assertEqual(self.rule(raw[:9]), "artifact.magic")
        self.assertEqual(self.rule(b"X" + raw[1:]), "artifact.magic")
        self.assertEqual(self.rule(raw[:8] + b"\x00\x00" + raw[10:]), "artifact.version")
        self.assertEqual(self.rule(raw[:8] + b"\x03\x00" + raw[10:]), "artifact.version")
        # version 2 exists: the same body lacks its input_quant list (step 4), or has an empty
        # one, which version 1 encodes (step 6)
        self.assertEqual(self.rule(raw[:8] + b"\x02\x00" + raw[10:]), "artifact.decode")
        self.assertEqual(self.rule(raw[:8] + b"\x02\x00" + raw[10:] + b"\x00"), "artifact.canonical")

    def test_truncated(self):
        raw = cumsum_1()
        for cut in (10, 11, len(raw) - 1):
            self.assertEqual(self.rule(raw[:cut]), "artifact.decode")

    def test_trailing_bytes(self):
        self.assertEqual(self.rule(cumsum_1() + b"\x00"), "artifact.decode")

    def test_overlong_varint_is_not_canonical(self):
        raw = cumsum_1()
        # the model name's length 06 written as 86 00 (same value, one redundant byte)
        overlong = raw[:10] + b"\x86\x00" + raw[11:]
        self.assertEqual(self.rule(overlong), "artifact.canonical")

    def test_bad_tags(self):
        raw = cumsum_1()
        i = raw.index(bytes.fromhex("026f7018")) + 3  # the Op variant byte
        self.assertEqual(self.rule(raw[:i] + b"\x7f" + raw[i + 1 :]), "artifact.decode")
        self.assertEqual(self.rule(raw[:i + 2] + b"\x02" + raw[i + 3 :]), "artifact.decode")  # bool 2

    def test_size_limit(self):
        class Huge(bytes):
            def __len__(self):
                return artifact.MAX_ARTIFACT_BYTES + 1

        self.assertEqual(self.rule(Huge(b"")), "artifact.size")


if __name__ == "__main__":
    unittest.main()
