// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

// The types of `SolidMLModels.sol` (written by `solidml init` / `solidml build`): what a
// project's contracts import with their model ids, without any test code.

/// The route a test picks for the SolidML addresses.
enum SolidMLRoute {
    /// Generated pure-Solidity contracts, no ffi.
    Evm,
    /// `solidml precompile` through `vm.ffi`: the node's executor.
    Native
}

/// One model the routes serve (written by `solidml init` / `solidml build` into
/// `src/models/SolidMLModels.sol`).
struct SolidMLModel {
    /// keccak256 of the artifact.
    bytes32 id;
    /// The artifact, relative to the project root (`src/models/NAME.smodel`): the native route.
    string artifact;
    /// `NAME.sol:NAME` for `vm.deployCode`: the EVM route ("" when the model has none).
    string evmContract;
    /// The work's share of one call's price under the default schedule,
    /// `⌈Σ_class units · cost / 1024⌉` (docs/precompile.md §Gas schedule).
    uint256 workGas;
    /// Packed input bytes (after the modelId).
    uint256 inputBytes;
    /// Packed output bytes.
    uint256 outputBytes;
    /// The input layout the precompile names in its InputLength error (`x: int8[1×64]`).
    string inputLayout;
    /// `abi.encode(SolidMLTensor[] inputs, SolidMLTensor[] outputs)`: what the OpenGradient
    /// entry needs (names, shapes, scales, zero points).
    bytes tensors;
}
