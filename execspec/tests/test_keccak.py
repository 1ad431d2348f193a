"""Keccak-256 (original padding), the modelId hash."""

import hashlib
import unittest

import _path  # noqa: F401
from solidml_execspec.keccak import keccak256


class Keccak(unittest.TestCase):
    def test_known_values(self):
        self.assertEqual(keccak256(b"").hex(), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
        self.assertEqual(keccak256(b"abc").hex(), "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")
        # the 4-byte selector of the revert error (§Errors)
        self.assertEqual(keccak256(b"SolidMLError(uint8,string)")[:4].hex(), "63bf3d28")

    def test_not_sha3(self):
        self.assertNotEqual(keccak256(b"").hex(), hashlib.sha3_256(b"").hexdigest())

    def test_block_boundaries(self):
        # 135, 136, 137 bytes straddle the rate: the padding must still be one 0x01 … 0x80 run
        digests = {keccak256(b"\x00" * n) for n in (135, 136, 137, 272)}
        self.assertEqual(len(digests), 4)


if __name__ == "__main__":
    unittest.main()
