// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/// Exact comparison helpers for the spec-vector replay tests (no forge-std).
abstract contract VectorAssert {
    /// Output of case `name` differs at flat position `index` (or in length: index = type(uint256).max).
    error VectorMismatch(string name, uint256 index, int256 got, int256 want);

    function _eqInt8(string memory name, bytes memory got, bytes memory want) internal pure {
        if (got.length != want.length) revert VectorMismatch(name, type(uint256).max, int256(got.length), int256(want.length));
        for (uint256 i; i < got.length; ++i) {
            if (got[i] != want[i]) {
                revert VectorMismatch(name, i, int8(uint8(got[i])), int8(uint8(want[i])));
            }
        }
    }

    function _eqInt64(string memory name, int64[] memory got, int64[] memory want) internal pure {
        if (got.length != want.length) revert VectorMismatch(name, type(uint256).max, int256(got.length), int256(want.length));
        for (uint256 i; i < got.length; ++i) {
            if (got[i] != want[i]) revert VectorMismatch(name, i, got[i], want[i]);
        }
    }
}
