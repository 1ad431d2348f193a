// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {SolidMLMath} from "../src/SolidMLMath.sol";

/// The 18-decimal IO vectors of the spec (`docs/spec/io.json`, `quantize_fixed18` and
/// `dequantize_fixed18` cases) replayed by the EVM's IO: `SolidMLMath`, which every generated
/// contract's `predict` uses. The cases come from `test/data/io_fixed18.hex`, written from
/// io.json by `tests/consensus_vectors.rs`: 41-byte records `tag ++ x (int256) ++ m (uint32) ++
/// e (int16) ++ zero point (int8) ++ q (int8)`, tag 0 = quantize (x → q), 1 = dequantize (q → x).
contract IoVectorsTest {
    uint256 constant RECORD = 41;

    // forge-std is not a dependency of stdlib-sol: the one cheatcode used, declared here
    address constant VM = address(uint160(uint256(keccak256("hevm cheat code"))));

    function _readRecords() private view returns (bytes memory) {
        (bool ok, bytes memory ret) =
            VM.staticcall(abi.encodeWithSignature("readFile(string)", "test/data/io_fixed18.hex"));
        require(ok, "readFile failed: fs_permissions must allow reading test/data");
        (bool ok2, bytes memory parsed) =
            VM.staticcall(abi.encodeWithSignature("parseBytes(string)", abi.decode(ret, (string))));
        require(ok2, "parseBytes failed");
        return abi.decode(parsed, (bytes));
    }

    function _word(bytes memory b, uint256 at) private pure returns (uint256 w) {
        assembly {
            w := mload(add(add(b, 32), at))
        }
    }

    function test_fixed18_io_vectors() public view {
        bytes memory data = _readRecords();
        require(data.length % RECORD == 0 && data.length >= 100 * RECORD, "io_fixed18.hex: bad length");
        uint256 n = data.length / RECORD;
        uint256 quantized;
        for (uint256 i = 0; i < n; i++) {
            uint256 at = i * RECORD;
            uint8 tag = uint8(data[at]);
            int256 x = int256(_word(data, at + 1));
            uint256 m = _word(data, at + 33) >> 224;
            int256 e = int256(int16(uint16(_word(data, at + 37) >> 240)));
            int256 zp = int256(int8(uint8(data[at + 39])));
            int8 q = int8(uint8(data[at + 40]));
            if (tag == 0) {
                int8 got = SolidMLMath.quantizeFixed18(x, m, e, zp);
                if (got != q) revert QuantizeMismatch(i, x, m, e, zp, q, got);
                quantized++;
            } else {
                int256 got = SolidMLMath.dequantizeFixed18(q, m, e, zp);
                if (got != x) revert DequantizeMismatch(i, q, m, e, zp, x, got);
            }
        }
        require(quantized > 0 && quantized < n, "both directions replayed");
    }

    error QuantizeMismatch(uint256 index, int256 x, uint256 m, int256 e, int256 zp, int8 want, int8 got);
    error DequantizeMismatch(uint256 index, int8 q, uint256 m, int256 e, int256 zp, int256 want, int256 got);
}
