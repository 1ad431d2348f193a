// SPDX-License-Identifier: MIT
pragma solidity ^0.8.18;

// A consumer written against OpenGradient's published interface, the way their NeuroML
// README uses it: build a ModelInput with TensorLib.numberTensor1D and call
// OG_INFERENCE_CONTRACT.runModelInference. Nothing here knows about SolidML.
import "./opengradient/OGInference.sol";

contract OGConsumer {
    function classify(string memory modelCID, ModelInferenceMode mode, int128[] memory values, int128 decimals)
        external
        returns (ModelOutput memory)
    {
        TensorLib.Number[] memory numbers = new TensorLib.Number[](values.length);
        for (uint256 i = 0; i < values.length; i++) {
            numbers[i] = TensorLib.Number(values[i], decimals);
        }
        ModelInput memory modelInput = ModelInput(new TensorLib.MultiDimensionalNumberTensor[](1), new TensorLib.StringTensor[](0));
        modelInput.numbers[0] = TensorLib.numberTensor1D("input", numbers);
        return OG_INFERENCE_CONTRACT.runModelInference(ModelInferenceRequest(mode, modelCID, modelInput));
    }
}
