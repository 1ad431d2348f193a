// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {SolidMLMath} from "../SolidMLMath.sol";

/// A real multiplier `multiplier · 2^(shift − 31)` (spec §Multiplier, arith.rs `Multiplier`).
struct Multiplier {
    int32 multiplier;
    int32 shift;
}

/// The requantization epilogue shared by Conv, ConvTranspose and Dense (spec §Epilogue).
struct Epilogue {
    Multiplier[] multipliers; // one, or one per output channel
    int32 outputZeroPoint;
    int8 clampMin;
    int8 clampMax;
}

/// spec §Epilogue / `precompiles/cpu/src/ops/mod.rs` `apply_epilogue`.
library EpilogueLib {
    /// The epilogue has no multiplier, or neither one nor `channels` of them.
    error BadMultiplierCount(uint256 count, uint256 channels);

    function check(Epilogue memory e, uint256 channels) internal pure {
        uint256 n = e.multipliers.length;
        if (n != 1 && n != channels) revert BadMultiplierCount(n, channels);
        SolidMLMath.clampI8(0, e.clampMin, e.clampMax); // reverts on a bad clamp range
    }

    /// `clamp(sat32(requantize(acc, M[c]) + zp_out), clamp_min, clamp_max)`.
    function run(Epilogue memory e, uint256 channel, int256 acc) internal pure returns (int8) {
        Multiplier memory m = e.multipliers.length == 1 ? e.multipliers[0] : e.multipliers[channel];
        int256 r = SolidMLMath.requantize(acc, m.multiplier, m.shift);
        return SolidMLMath.clampI8(SolidMLMath.sat32(r + e.outputZeroPoint), e.clampMin, e.clampMax);
    }
}
