// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {SolidMLMath} from "./SolidMLMath.sol";

/// @title SolidML: call the SolidML precompile from a contract.
/// @notice The precompile runs a stored model by its id: input `modelId ++ packed inputs`
///         (int8 one byte per element, int64 8 bytes big-endian), output the packed outputs in
///         the model's output order. See docs/precompile.md for the gas schedule and errors.
/// @dev    The address is defined once in Rust (`solidml_precompile::SOLIDML_PRECOMPILE`) and
///         here; a test checks they agree.
library SolidML {
    /// The SolidML precompile's address.
    address internal constant PRECOMPILE = 0x000000000000000000000000000000000000501d;

    /// What the precompile reverts with (bubbled up unchanged): `code` as in docs/precompile.md.
    error SolidMLError(uint8 code, string message);
    /// The call returned nothing: this chain has no SolidML precompile at `PRECOMPILE`.
    error PrecompileUnavailable();
    /// Fixed-point input of the wrong length.
    error InputLength(uint256 expected, uint256 got);

    /// Raw call: packed int8/int64 inputs in, packed outputs out. Reverts with the
    /// precompile's `SolidMLError` on bad input.
    function run(bytes32 modelId, bytes memory input) internal view returns (bytes memory out) {
        (bool ok, bytes memory ret) = PRECOMPILE.staticcall(abi.encodePacked(modelId, input));
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        if (ret.length == 0) revert PrecompileUnavailable();
        return ret;
    }

    /// 18-decimal fixed point to int8 codes by the spec's formula (scale = `m · 2^e`).
    function quantize(int256[] memory x, uint256 scaleMantissa, int256 scaleExp, int256 zeroPoint)
        internal
        pure
        returns (bytes memory q)
    {
        q = new bytes(x.length);
        for (uint256 i; i < x.length; ++i) {
            q[i] = bytes1(uint8(SolidMLMath.quantizeFixed18(x[i], scaleMantissa, scaleExp, zeroPoint)));
        }
    }

    /// `count` int8 codes of `q` from byte `offset` to 18-decimal fixed point.
    function dequantize(bytes memory q, uint256 offset, uint256 count, uint256 scaleMantissa, int256 scaleExp, int256 zeroPoint)
        internal
        pure
        returns (int256[] memory x)
    {
        x = new int256[](count);
        for (uint256 i; i < count; ++i) {
            x[i] = SolidMLMath.dequantizeFixed18(int8(uint8(q[offset + i])), scaleMantissa, scaleExp, zeroPoint);
        }
    }

    /// `count` int64 values (8 bytes big-endian each) of `q` from byte `offset`.
    function unpackInt64(bytes memory q, uint256 offset, uint256 count) internal pure returns (int256[] memory x) {
        x = new int256[](count);
        for (uint256 i; i < count; ++i) {
            uint64 v;
            for (uint256 b; b < 8; ++b) v = (v << 8) | uint64(uint8(q[offset + 8 * i + b]));
            x[i] = int256(int64(v));
        }
    }
}
