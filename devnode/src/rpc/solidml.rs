//! `solidml_*`: the node's model registry. `solidml_uploadModel(artifactHex) → modelId`
//! (validated, content-addressed: the id is keccak256 of the artifact, and uploading it again
//! returns the same id), `solidml_listModels`, `solidml_getModel(modelId)` (inputs and outputs
//! with shapes and quantization, work, MACs and the precompile's price).

use alloy_primitives::{B256, Bytes};
use jsonrpsee::RpcModule;
use serde_json::{Value, json};
use solidml_precompile::{LoadedModel, ModelStore};

use super::{blocking_method, method};
use crate::{error::RpcError, node::Node};

pub(crate) fn register(m: &mut RpcModule<Node>) {
    blocking_method(m, &["solidml_uploadModel"], |n, a| {
        let artifact: Bytes = a.next()?;
        let id = n.models.insert(&artifact).map_err(|e| RpcError::invalid_params(format!("artifact refused: {e}")))?;
        n.log(&format!("solidml_uploadModel: model 0x{} ({} bytes)", hex::encode(id), artifact.len()));
        Ok(B256::from(id))
    });
    method(m, &["solidml_listModels"], |n, _| {
        Ok(n.models.ids().into_iter().filter_map(|id| n.models.get(&id).ok().flatten()).map(|m| describe(n, &m)).collect::<Vec<_>>())
    });
    method(m, &["solidml_getModel"], |n, a| {
        let id: B256 = a.next()?;
        let model = n.models.get(&id.0).map_err(|e| RpcError::internal(e.to_string()))?;
        Ok(model.map(|m| describe(n, &m)).unwrap_or(Value::Null))
    });
}

fn tensors(m: &LoadedModel, ids: &[solidml_spec::model::TensorId]) -> Vec<Value> {
    ids.iter()
        .map(|&t| {
            let info = m.model.tensor(t);
            json!({
                "name": info.name,
                "shape": info.shape,
                "dtype": format!("{:?}", info.dtype).to_lowercase(),
                "scale": info.quant.map(|q| q.scale),
                "zeroPoint": info.quant.map(|q| q.zero_point),
            })
        })
        .collect()
}

fn describe(n: &Node, m: &LoadedModel) -> Value {
    let schedule = n.precompile_schedule();
    json!({
        "modelId": B256::from(m.id),
        "name": m.model.name,
        "inputs": tensors(m, &m.model.inputs),
        "outputs": tensors(m, &m.model.outputs),
        "inputBytes": m.input_bytes,
        "outputBytes": m.output_bytes,
        "macs": m.model.macs(),
        "work": m.work.total(),
        "price": schedule.price(&m.work, m.input_bytes, m.output_bytes),
        "artifactBytes": n.models.artifact(&m.id).map(|a| a.len()),
    })
}
