// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {SolidMLMath} from "../SolidMLMath.sol";

/// Softmax (spec §Softmax, `precompiles/cpu/src/ops/softmax.rs`). Output codes at scale 1/256,
/// zero point −128. Per lane along `axis`: `m = max x`, `e_j = exp_table[m − x_j]`,
/// `S = Σ e_j`, `y_j = clamp(div_round_half_away(256·e_j, max(S, 1)) − 128, −128, 127)`.
library SoftmaxKernel {
    error SoftmaxShape(uint256 inputLength, uint256 expTableLength);
    error AxisOutOfRange(uint256 axis, uint256 rank);

    function softmax(bytes memory x, uint256[] memory shape, uint256 axis, bytes memory expTable)
        internal
        pure
        returns (bytes memory y)
    {
        if (axis >= shape.length) revert AxisOutOfRange(axis, shape.length);
        uint256 len = 1;
        for (uint256 a; a < shape.length; ++a) len *= shape[a];
        if (len != x.length || expTable.length != 1024) revert SoftmaxShape(x.length, expTable.length);
        uint256 dim = shape[axis];
        uint256 inner = 1;
        for (uint256 a = axis + 1; a < shape.length; ++a) inner *= shape[a];
        y = new bytes(len);
        if (len == 0) return y;
        uint256 outer = len / (dim * inner);
        for (uint256 o; o < outer; ++o) {
            for (uint256 i; i < inner; ++i) {
                _lane(x, y, o * dim * inner + i, dim, inner, expTable);
            }
        }
    }

    /// Softmax of the lane `x[base + j·inner]`, `j < dim`, written to the same positions of `y`.
    function _lane(
        bytes memory x,
        bytes memory y,
        uint256 base,
        uint256 dim,
        uint256 inner,
        bytes memory expTable
    ) private pure {
        int256 m = -128;
        for (uint256 j; j < dim; ++j) {
            int256 v = _at(x, base + j * inner);
            if (v > m) m = v;
        }
        uint256 s;
        for (uint256 j; j < dim; ++j) {
            s += _exp(expTable, uint256(m - _at(x, base + j * inner)));
        }
        if (s == 0) s = 1; // the reference's sum.max(1) (unreachable for valid tables)
        for (uint256 j; j < dim; ++j) {
            uint256 p = base + j * inner;
            uint256 e = _exp(expTable, uint256(m - _at(x, p)));
            int256 q = SolidMLMath.divRoundHalfAway(int256(256 * e), int256(s)) - 128;
            y[p] = bytes1(uint8(SolidMLMath.clampI8(q)));
        }
    }

    /// Entry `d` of the exp table: 256 big-endian u32 (1024 bytes, checked by the caller).
    function _exp(bytes memory t, uint256 d) private pure returns (uint256 e) {
        assembly ("memory-safe") {
            e := shr(224, mload(add(add(t, 0x20), mul(d, 4))))
        }
    }

    function _at(bytes memory b, uint256 i) private pure returns (int256 v) {
        assembly ("memory-safe") {
            v := signextend(0, byte(0, mload(add(add(b, 0x20), i))))
        }
    }
}
