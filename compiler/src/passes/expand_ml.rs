//! `ai.onnx.ml` linear models expanded into core ops, so calibration sees every intermediate
//! tensor and the quantizer needs no ML-specific lowering:
//!
//! * `LinearClassifier(X) → (label, scores)` becomes `Gemm(X, coefficients, intercepts,
//!   transB=1) → raw`, the post transform on `raw` (Softmax / Sigmoid / none) → `scores`, and
//!   `ArrayFeatureExtractor(class_labels, ArgMax(raw)) → label` (argmax before the monotonic
//!   transform, as ONNX Runtime does).
//! * `LinearRegressor(X)` becomes the Gemm alone.

use ndarray::{ArrayD, IxDyn};

use crate::{
    error::{CompileError, Result},
    ir::{Attr, Graph, Node, Value},
    ops::ml,
};

pub fn run(g: &mut Graph) -> Result<bool> {
    let mut changed = false;
    let mut i = 0;
    while i < g.nodes.len() {
        let n = g.nodes[i].clone();
        if n.domain != "ai.onnx.ml" || !matches!(n.op.as_str(), "LinearClassifier" | "LinearRegressor") {
            i += 1;
            continue;
        }
        let x = n.input(0).ok_or_else(|| CompileError::node(&n, "input missing"))?;
        let features = *g.shape(x).last().unwrap_or(&0);
        let p = ml::linear_params(&n, features).map_err(|e| CompileError::node(&n, e))?;
        let rows = p.intercepts.len();
        let w = g.add_tensor(&format!("{}.coefficients", n.name), true);
        g.tensors[w].shape = Some(vec![rows, features]);
        g.consts.insert(w, Value::Float(p.weights.clone().into_dyn()));
        let b = g.add_tensor(&format!("{}.intercepts", n.name), true);
        g.tensors[b].shape = Some(vec![rows]);
        g.consts.insert(b, Value::Float(ArrayD::from_shape_vec(IxDyn(&[rows]), p.intercepts.clone()).unwrap()));
        let mk = |op: &str, name: String, inputs: Vec<usize>, outputs: Vec<usize>, attrs: Vec<(&str, Attr)>| Node {
            name,
            op: op.into(),
            domain: String::new(),
            attrs: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            inputs: inputs.into_iter().map(Some).collect(),
            outputs,
        };
        let mut new_nodes = vec![];
        let scores_out = if n.op == "LinearClassifier" { n.outputs.get(1).copied() } else { Some(n.outputs[0]) };
        let post = p.post_transform.as_str();
        let raw = match (post, scores_out) {
            ("NONE", Some(s)) => s,
            _ => g.add_tensor(&format!("{}.raw_scores", n.name), true),
        };
        new_nodes.push(mk("Gemm", format!("{}.gemm", n.name), vec![x, w, b], vec![raw], vec![("transB", Attr::Int(1))]));
        if let Some(s) = scores_out {
            match post {
                "NONE" => {}
                "SOFTMAX" => new_nodes.push(mk("Softmax", format!("{}.softmax", n.name), vec![raw], vec![s], vec![("axis", Attr::Int(1))])),
                "LOGISTIC" => new_nodes.push(mk("Sigmoid", format!("{}.logistic", n.name), vec![raw], vec![s], vec![])),
                other => return Err(CompileError::node(&n, format!("post_transform {other} is not supported"))),
            }
        }
        if n.op == "LinearClassifier" {
            let labels = p.labels.clone().unwrap_or_default();
            let lt = g.add_tensor(&format!("{}.labels", n.name), false);
            g.tensors[lt].shape = Some(vec![labels.len()]);
            g.consts.insert(lt, Value::Int(ArrayD::from_shape_vec(IxDyn(&[labels.len()]), labels).unwrap()));
            let idx = g.add_tensor(&format!("{}.argmax", n.name), false);
            new_nodes.push(mk(
                "ArgMax",
                format!("{}.argmax", n.name),
                vec![raw],
                vec![idx],
                vec![("axis", Attr::Int(1)), ("keepdims", Attr::Int(0))],
            ));
            let mut afe = mk("ArrayFeatureExtractor", format!("{}.label", n.name), vec![lt, idx], vec![n.outputs[0]], vec![]);
            afe.domain = "ai.onnx.ml".into();
            new_nodes.push(afe);
        }
        let count = new_nodes.len();
        g.nodes.splice(i..i + 1, new_nodes);
        i += count;
        changed = true;
    }
    Ok(changed)
}
