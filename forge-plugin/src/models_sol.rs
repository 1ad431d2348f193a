//! `SolidMLModels.sol`: the models of `solidml.toml` as Solidity, for `SolidMLTest` and the
//! project's own contracts.
//!
//! Per model: a `bytes32` constant (its modelId, named after the model in upper case) and an
//! entry of `all()`: artifact path (the native route's `--model`), `NAME.sol:NAME` (the EVM
//! route's `vm.deployCode`), and what the EVM route needs to answer like the precompile: work
//! gas (the price's work term under the default schedule), input and output bytes, the input
//! layout its InputLength error names (`solidml_precompile::abi`, `solidml_precompile::gas`), and for the
//! OpenGradient entry every input and output tensor ([`tensors_abi`]). `ROUTE` is
//! `[project] route`.

use alloy_primitives::{I256, U256};
use alloy_sol_types::{SolValue, sol};
use solidml_precompile::{GasSchedule, abi, gas::Work};
use solidml_spec::{DType, InputQuant, Model, io::scale_parts};

use crate::config::Route;

/// One model of the generated file.
pub struct ModelEntry<'a> {
    /// The model's name (`[models.NAME]`).
    pub name: &'a str,
    /// The compiled model.
    pub model: &'a Model,
    /// Its modelId.
    pub model_id: [u8; 32],
    /// The artifact, relative to the project root.
    pub artifact: String,
    /// The pure-Solidity contract's name, when there is one.
    pub evm_contract: Option<String>,
}

sol! {
    /// One model tensor as SolidMLTest's OpenGradient route reads it
    /// (`stdlib-sol/src/test/SolidMLTest.sol`, `SolidMLTensor`): the scale as the spec's
    /// `m · 2^e` (`solidml_spec::io::scale_parts`).
    struct SolidMLTensor {
        string name;
        uint32[] shape;
        bool isInt64;
        uint256 scaleMantissa;
        int256 scaleExp;
        int256 zeroPoint;
        uint256 axisStride;
        uint256[] axisMantissas;
        int256[] axisExps;
        int256[] axisZeroPoints;
    }
}

/// Tensor `i`; `per_axis`: the per-axis input quantization of the input it is bound to, if any.
fn tensor(model: &Model, i: u32, per_axis: Option<&InputQuant>) -> SolidMLTensor {
    let t = model.tensor(i);
    let (int64, (m, e), zp) = match (t.dtype, t.quant) {
        (DType::I8, Some(q)) => (false, scale_parts(q.scale), q.zero_point),
        _ => (true, (0, 0), 0),
    };
    let stride = per_axis.map_or(0, |q| t.shape[q.axis as usize + 1..].iter().map(|&d| d as u64).product::<u64>());
    let params = per_axis.map_or(&[][..], |q| &q.params[..]);
    SolidMLTensor {
        name: t.name.clone(),
        shape: t.shape.clone(),
        isInt64: int64,
        scaleMantissa: U256::from(m as u128),
        scaleExp: I256::try_from(e).unwrap(),
        zeroPoint: I256::try_from(zp).unwrap(),
        axisStride: U256::from(stride),
        axisMantissas: params.iter().map(|p| U256::from(scale_parts(p.scale).0 as u128)).collect(),
        axisExps: params.iter().map(|p| I256::try_from(scale_parts(p.scale).1).unwrap()).collect(),
        axisZeroPoints: params.iter().map(|p| I256::try_from(p.zero_point).unwrap()).collect(),
    }
}

/// `abi.encode(SolidMLTensor[] inputs, SolidMLTensor[] outputs)` of `model`.
pub fn tensors_abi(model: &Model) -> Vec<u8> {
    let ins: Vec<SolidMLTensor> =
        model.inputs.iter().enumerate().map(|(position, &i)| tensor(model, i, model.input_quant_of(position))).collect();
    let outs: Vec<SolidMLTensor> = model.outputs.iter().map(|&i| tensor(model, i, None)).collect();
    (ins, outs).abi_encode_params()
}

/// The constant naming a model's id: `digits_mlp` → `DIGITS_MLP`.
pub fn id_constant(name: &str) -> String {
    name.to_ascii_uppercase()
}

/// The work term of one call's price under the default schedule.
fn work_gas(model: &Model) -> u64 {
    GasSchedule::default().work_gas(&Work::of(model))
}

/// The text of `SolidMLModels.sol`.
pub fn emit(models: &[ModelEntry<'_>], route: Route) -> String {
    let mut s = String::from(
        "// SPDX-License-Identifier: MIT\n// Written by `solidml init` / `solidml build` from solidml.toml: edits are overwritten.\npragma solidity ^0.8.20;\n\n",
    );
    s += "import {SolidMLModel, SolidMLRoute} from \"solidml/SolidMLModel.sol\";\n\n";
    s += "/// The project's SolidML models: ids, and what SolidMLTest's routes need to serve them.\nlibrary SolidMLModels {\n";
    for m in models {
        s += &format!(
            "    /// `{}`: {} input bytes ({}), {} output bytes, {} work units ({} gas).\n    bytes32 internal constant {} = 0x{};\n",
            m.name,
            abi::input_bytes(m.model),
            abi::input_layout(m.model),
            abi::output_bytes(m.model),
            Work::of(m.model).total(),
            work_gas(m.model),
            id_constant(m.name),
            hex::encode(m.model_id)
        );
    }
    let route = match route {
        Route::Evm => "Evm",
        Route::Native => "Native",
    };
    s += &format!(
        "\n    /// `[project] route` of solidml.toml: SolidMLTest's default.\n    SolidMLRoute internal constant ROUTE = SolidMLRoute.{route};\n\n"
    );
    s += "    /// Every model, for `solidmlSetUp(SolidMLModels.all(), SolidMLModels.ROUTE)`.\n";
    s += "    function all() internal pure returns (SolidMLModel[] memory m) {\n";
    s += &format!("        m = new SolidMLModel[]({});\n", models.len());
    for (i, m) in models.iter().enumerate() {
        let evm = m.evm_contract.as_ref().map(|c| format!("{c}.sol:{c}")).unwrap_or_default();
        s += &format!(
            "        m[{i}] = SolidMLModel({{\n            id: {},\n            artifact: \"{}\",\n            evmContract: \"{}\",\n            workGas: {},\n            inputBytes: {},\n            outputBytes: {},\n            inputLayout: unicode\"{}\",\n            tensors: hex\"{}\"\n        }});\n",
            id_constant(m.name),
            m.artifact,
            evm,
            work_gas(m.model),
            abi::input_bytes(m.model),
            abi::output_bytes(m.model),
            abi::input_layout(m.model).replace('"', "\\\""),
            hex::encode(tensors_abi(m.model))
        );
    }
    s += "    }\n}\n";
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_are_upper_case_names() {
        assert_eq!(id_constant("digits_mlp"), "DIGITS_MLP");
        assert_eq!(id_constant("Credit2"), "CREDIT2");
    }
}
