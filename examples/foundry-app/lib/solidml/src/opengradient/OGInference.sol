// SPDX-License-Identifier: MIT
pragma solidity ^0.8.18;

// OpenGradient's on-chain inference interface (ML models part), as the SolidML brief states it
// (docs/precompile.md, "OpenGradient compatibility"): same address, selector, structs and
// field order, so contracts written for OpenGradient compile against this file unchanged and
// run on a SolidML node, whose precompile answers at 0x…F4 with exact, re-checkable results.

address constant OG_INFERENCE_ADDRESS = 0x00000000000000000000000000000000000000F4;
OGInference constant OG_INFERENCE_CONTRACT = OGInference(OG_INFERENCE_ADDRESS);

enum ModelInferenceMode { VANILLA, ZK, TEE }

struct ModelInferenceRequest {
    ModelInferenceMode mode;
    string modelCID;
    ModelInput input;
}

struct ModelInput {
    TensorLib.MultiDimensionalNumberTensor[] numbers;
    TensorLib.StringTensor[] strings;
}

struct ModelOutput {
    TensorLib.MultiDimensionalNumberTensor[] numbers;
    TensorLib.StringTensor[] strings;
    TensorLib.JsonScalar[] jsons;
    bool is_simulation_result;
}

interface OGInference {
    function runModelInference(ModelInferenceRequest memory request) external returns (ModelOutput memory);
}

library TensorLib {
    /// `value · 10^-decimals`.
    struct Number {
        int128 value;
        int128 decimals;
    }

    /// Row-major values with their shape.
    struct MultiDimensionalNumberTensor {
        string name;
        Number[] values;
        uint32[] shape;
    }

    struct StringTensor {
        string name;
        string[] values;
    }

    struct JsonScalar {
        string name;
        string value;
    }

    /// A 1-D tensor of `values`.
    function numberTensor1D(string memory name, Number[] memory values)
        internal
        pure
        returns (MultiDimensionalNumberTensor memory t)
    {
        uint32[] memory shape = new uint32[](1);
        shape[0] = uint32(values.length);
        t = MultiDimensionalNumberTensor(name, values, shape);
    }
}
