// SPDX-License-Identifier: MIT
// Written by `solidml init` / `solidml build` from solidml.toml: edits are overwritten.
pragma solidity ^0.8.20;

import {SolidMLModel, SolidMLRoute} from "solidml/test/SolidMLTest.sol";

/// The project's SolidML models: ids, and what SolidMLTest's routes need to serve them.
library SolidMLModels {
    /// `digits`: 64 input bytes (input: int8[1×64]), 18 output bytes, 6499 work units.
    bytes32 internal constant DIGITS = 0x700d5e21170f4dc4409d2196fddacf61326d8a835e98a5ac70004428fe81c5c9;

    /// `[project] route` of solidml.toml: SolidMLTest's default.
    SolidMLRoute internal constant ROUTE = SolidMLRoute.Evm;

    /// Every model, for `solidmlSetUp(SolidMLModels.all(), SolidMLModels.ROUTE)`.
    function all() internal pure returns (SolidMLModel[] memory m) {
        m = new SolidMLModel[](1);
        m[0] = SolidMLModel({
            id: DIGITS,
            artifact: "src/models/digits.smodel",
            evmContract: "digits.sol:digits",
            work: 6499,
            inputBytes: 64,
            outputBytes: 18,
            inputLayout: unicode"input: int8[1×64]"
        });
    }
}
