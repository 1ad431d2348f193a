// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {Epilogue, EpilogueLib} from "./Epilogue.sol";

/// Dense (spec §Dense, `precompiles/cpu/src/ops/dense.rs`), generic: parameters in memory.
library DenseKernel {
    /// Weights, bias, input or zero point inconsistent with `[N, K]`.
    error DenseShape(uint256 inputLength, uint256 inFeatures, uint256 outFeatures);

    /// `x: [R, K]` int8 codes (two's-complement bytes), `weights: [N, K]` int8 row-major bytes,
    /// `bias: [N]`. Returns `y: [R, N]`:
    /// `y[r·N + j] = epilogue(bias[j] + Σ_k w[j·K + k] · (x[r·K + k] − zp_in), j)`.
    function dense(
        bytes memory x,
        uint256 inFeatures,
        uint256 outFeatures,
        int256 inputZeroPoint,
        bytes memory weights,
        int32[] memory bias,
        Epilogue memory epilogue
    ) internal pure returns (bytes memory y) {
        if (
            inFeatures == 0 || x.length % inFeatures != 0 || weights.length != outFeatures * inFeatures
                || bias.length != outFeatures || inputZeroPoint < -128 || inputZeroPoint > 127
        ) revert DenseShape(x.length, inFeatures, outFeatures);
        EpilogueLib.check(epilogue, outFeatures);
        uint256 rows = x.length / inFeatures;
        y = new bytes(rows * outFeatures);
        for (uint256 r; r < rows; ++r) {
            for (uint256 j; j < outFeatures; ++j) {
                int256 acc = bias[j] + _dot(x, r * inFeatures, weights, j * inFeatures, inFeatures, inputZeroPoint);
                // validation guarantees acc fits i32; requantize reverts (NotInt32) otherwise
                y[r * outFeatures + j] = bytes1(uint8(EpilogueLib.run(epilogue, j, acc)));
            }
        }
    }

    /// `Σ_{i<k} w[wo + i] · (x[xo + i] − zp)`, in order.
    function _dot(bytes memory x, uint256 xo, bytes memory w, uint256 wo, uint256 k, int256 zp)
        private
        pure
        returns (int256 acc)
    {
        unchecked {
            // |acc| <= k · 128 · 255: no int256 overflow
            for (uint256 i; i < k; ++i) {
                acc += _at(w, wo + i) * (_at(x, xo + i) - zp);
            }
        }
    }

    /// The int8 at byte `i` of `b` (no bounds check: callers index within length).
    function _at(bytes memory b, uint256 i) private pure returns (int256 v) {
        assembly ("memory-safe") {
            v := signextend(0, byte(0, mload(add(add(b, 0x20), i))))
        }
    }
}
