// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

// Written by `solidml init`: an example to start from (yours to edit; `init` never overwrites
// it without --force).

import {SolidML} from "solidml/SolidML.sol";
import {SolidMLTest, SolidMLRoute, SOLIDML_VM} from "solidml/test/SolidMLTest.sol";
import {SolidMLModels} from "../src/models/SolidMLModels.sol";

interface IPredictQ {
    function predictQ(bytes calldata q) external view returns (bytes memory);
}

contract SolidMLExampleTest is SolidMLTest {
    function setUp() public {
        // the route of solidml.toml; pass SolidMLRoute.Native or .Evm to choose per test
        solidmlSetUp(SolidMLModels.all(), SolidMLModels.ROUTE);
    }

    /// 64 int8 codes, deterministic.
    function sampleInput() internal pure returns (bytes memory input) {
        input = new bytes(64);
        for (uint256 i; i < input.length; ++i) input[i] = bytes1(uint8((i * 37 + 11) % 256));
    }

    /// The model answers at the SolidML precompile address: 18 bytes of packed outputs.
    function test_model_answers() public view {
        bytes memory out = SolidML.run(SolidMLModels.DIGITS, sampleInput());
        require(out.length == 18, "output length");
    }

    /// A wrong input length reverts with the precompile's SolidMLError (code 3).
    function test_wrong_input_length_reverts() public view {
        try this.callModel(new bytes(1)) {
            revert("expected a revert");
        } catch (bytes memory reason) {
            require(bytes4(reason) == SolidML.SolidMLError.selector, "SolidMLError");
        }
    }

    function callModel(bytes memory input) external view returns (bytes memory) {
        return SolidML.run(SolidMLModels.DIGITS, input);
    }

    /// The precompile's answer equals the generated pure-Solidity contract's.
    function test_precompile_equals_contract() public {
        bytes memory input = sampleInput();
        address model = SOLIDML_VM.deployCode("digits.sol:digits");
        bytes memory direct = IPredictQ(model).predictQ(input);
        require(keccak256(SolidML.run(SolidMLModels.DIGITS, input)) == keccak256(direct), "precompile != digits.predictQ");
    }
}
