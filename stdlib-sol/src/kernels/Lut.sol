// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/// Lut (spec §Lut, `precompiles/cpu/src/ops/lut.rs`): `y[i] = tables[256·c + (x[i] + 128)]`,
/// `c = (i / inner) mod dim` along `axis` (`c = 0` without an axis).
library LutKernel {
    error LutShape(uint256 inputLength, uint256 tablesLength);
    error AxisOutOfRange(uint256 axis, uint256 rank);

    /// `x` int8 codes with shape `shape`; `tables` 256 bytes per table (int8 codes): one table
    /// without an axis (`hasAxis = false`), `shape[axis]` tables with one.
    function lut(bytes memory x, uint256[] memory shape, bool hasAxis, uint256 axis, bytes memory tables)
        internal
        pure
        returns (bytes memory y)
    {
        uint256 len = 1;
        for (uint256 a; a < shape.length; ++a) len *= shape[a];
        uint256 dim = 1;
        uint256 inner = 1;
        if (hasAxis) {
            if (axis >= shape.length) revert AxisOutOfRange(axis, shape.length);
            dim = shape[axis];
            for (uint256 a = axis + 1; a < shape.length; ++a) inner *= shape[a];
        }
        if (len != x.length || tables.length != 256 * dim) revert LutShape(x.length, tables.length);
        y = new bytes(len);
        if (dim == 0 || inner == 0) return y; // empty tensor
        assembly ("memory-safe") {
            let xp := add(x, 0x20)
            let yp := add(y, 0x20)
            let tp := add(tables, 0x20)
            for { let i := 0 } lt(i, len) { i := add(i, 1) } {
                let c := mod(div(i, inner), dim)
                // x[i] + 128 == (byte + 128) mod 256 == byte xor 0x80
                let idx := add(shl(8, c), xor(byte(0, mload(add(xp, i))), 0x80))
                mstore8(add(yp, i), byte(0, mload(add(tp, idx))))
            }
        }
    }
}
