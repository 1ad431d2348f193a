// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {SolidML} from "../src/SolidML.sol";
import {OG_INFERENCE_CONTRACT} from "../src/opengradient/OGInference.sol";

/// External wrappers, so that tests can observe reverts (custom errors) with try/catch.
contract SolidMLHarness {
    function run(bytes32 id, bytes memory input) external view returns (bytes memory) {
        return SolidML.run(id, input);
    }

    function quantize(int256[] memory x, uint256 m, int256 e, int256 zp) external pure returns (bytes memory) {
        return SolidML.quantize(x, m, e, zp);
    }

    function dequantize(bytes memory q, uint256 off, uint256 n, uint256 m, int256 e, int256 zp)
        external
        pure
        returns (int256[] memory)
    {
        return SolidML.dequantize(q, off, n, m, e, zp);
    }

    function unpackInt64(bytes memory q, uint256 off, uint256 n) external pure returns (int256[] memory) {
        return SolidML.unpackInt64(q, off, n);
    }
}

/// The precompile itself runs in the Rust tests (revm, tests/precompile_evm.rs); forge's EVM
/// has no SolidML precompile, which is the case checked here: a clear error, not empty output.
contract SolidMLTest {
    SolidMLHarness h;

    function setUp() public {
        h = new SolidMLHarness();
    }

    function test_addresses() public pure {
        require(SolidML.PRECOMPILE == address(0x501d), "SolidML precompile address");
        require(address(OG_INFERENCE_CONTRACT) == address(0xF4), "OpenGradient entry address");
    }

    function test_run_without_precompile_reverts_precompile_unavailable() public view {
        try h.run(bytes32(uint256(1)), hex"0102") returns (bytes memory) {
            revert("expected PrecompileUnavailable");
        } catch (bytes memory err) {
            require(bytes4(err) == SolidML.PrecompileUnavailable.selector, "PrecompileUnavailable");
        }
    }

    function test_quantize_dequantize_scale_half() public view {
        // scale 0.5 = 8388608 · 2^-24, zero point 3: 1.0 → round(2) + 3 = 5; −0.75 → round(−1.5) + 3
        // = −2 + 3 = 1 (half to even); 1000 → saturates at 127
        int256[] memory x = new int256[](3);
        x[0] = 1e18;
        x[1] = -0.75e18;
        x[2] = 1000e18;
        bytes memory q = h.quantize(x, 8388608, -24, 3);
        require(q.length == 3 && uint8(q[0]) == 5 && uint8(q[1]) == 1 && uint8(q[2]) == 127, "quantize");
        int256[] memory back = h.dequantize(q, 1, 2, 8388608, -24, 3);
        require(back.length == 2 && back[0] == -1e18 && back[1] == 62e18, "dequantize");
    }

    function test_unpack_int64_big_endian_signed() public view {
        int256[] memory v = h.unpackInt64(hex"00000000000000ffffffffffffffffff", 0, 2);
        require(v[0] == 255 && v[1] == -1, "unpackInt64");
    }
}
