// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {ISolidMLStep, ISolidMLSteps} from "./SolidMLSteps.sol";

/// A steps registry over some steps only (the SqueezeNet-class CNN has thousands: a test
/// deploys the ones it plays). A test fixture: the step contracts it lists are the real ones.
contract SparseSteps is ISolidMLSteps {
    bytes32 public immutable MODEL_ID;
    uint256 public immutable STEP_COUNT;
    uint256 public immutable INPUT_BYTES;
    mapping(uint256 => ISolidMLStep) private s;
    constructor(bytes32 id, uint256 n, uint256 inputBytes) { (MODEL_ID, STEP_COUNT, INPUT_BYTES) = (id, n, inputBytes); }
    function set(uint256 k, ISolidMLStep a) external { s[k] = a; }
    function step(uint256 k) external view returns (ISolidMLStep) { return s[k]; }
    function complete() external pure returns (bool) { return true; }
}
