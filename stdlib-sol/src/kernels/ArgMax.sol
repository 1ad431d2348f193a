// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/// ArgMax (spec §ArgMax, `precompiles/cpu/src/ops/argmax.rs`): per lane along `axis` (lanes in
/// row-major order of the other axes) the index of the first maximum, or of the last with
/// `selectLastIndex`; i64 outputs.
library ArgMaxKernel {
    error ArgMaxShape(uint256 inputLength);
    error AxisOutOfRange(uint256 axis, uint256 rank);

    function argmax(bytes memory x, uint256[] memory shape, uint256 axis, bool selectLastIndex)
        internal
        pure
        returns (int64[] memory y)
    {
        if (axis >= shape.length) revert AxisOutOfRange(axis, shape.length);
        uint256 len = 1;
        for (uint256 a; a < shape.length; ++a) len *= shape[a];
        uint256 dim = shape[axis];
        if (len != x.length || dim == 0) revert ArgMaxShape(x.length);
        uint256 inner = 1;
        for (uint256 a = axis + 1; a < shape.length; ++a) inner *= shape[a];
        uint256 outer = inner == 0 ? 0 : len / (dim * inner);
        y = new int64[](outer * inner);
        for (uint256 o; o < outer; ++o) {
            for (uint256 i; i < inner; ++i) {
                y[o * inner + i] = int64(uint64(_lane(x, o * dim * inner + i, dim, inner, selectLastIndex)));
            }
        }
    }

    /// Index of the first (last) maximum of the lane `x[base + j·inner]`, `j < dim`.
    function _lane(bytes memory x, uint256 base, uint256 dim, uint256 inner, bool selectLastIndex)
        private
        pure
        returns (uint256 best)
    {
        int256 vb = _at(x, base);
        for (uint256 j = 1; j < dim; ++j) {
            int256 v = _at(x, base + j * inner);
            if (v > vb || (selectLastIndex && v == vb)) {
                best = j;
                vb = v;
            }
        }
    }

    function _at(bytes memory b, uint256 i) private pure returns (int256 v) {
        assembly ("memory-safe") {
            v := signextend(0, byte(0, mload(add(add(b, 0x20), i))))
        }
    }
}
