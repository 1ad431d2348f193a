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

/// Apply the pass (see the module docs) to `g`; returns whether it changed the graph, or why
/// the graph cannot be handled.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Tid;
    use crate::passes::testutil::*;

    /// A 3-class linear model over 4 features (`ai.onnx.ml` node `lc`).
    fn linear(g: &mut Graph, op: &str, post: &str, outputs: Vec<Tid>) {
        let coefficients: Vec<f32> = (0..12).map(|i| ((i * 7) % 11) as f32 * 0.3 - 1.4).collect();
        let mut attrs = vec![
            ("coefficients", Attr::Floats(coefficients)),
            ("intercepts", Attr::Floats(vec![0.5, -0.25, 0.125])),
            ("post_transform", Attr::Str(post.into())),
        ];
        if op == "LinearClassifier" {
            attrs.push(("classlabels_ints", Attr::Ints(vec![10, 20, 30])));
        }
        g.nodes.push(Node {
            name: "lc".into(),
            op: op.into(),
            domain: "ai.onnx.ml".into(),
            attrs: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            inputs: vec![Some(0)],
            outputs,
        });
    }

    /// `LinearClassifier(x) → (label, scores)`, both graph outputs.
    fn classifier(post: &str) -> Graph {
        let mut g = graph(&[("x", &[5, 4])]);
        let (label, scores) = (g.add_tensor("label", false), g.add_tensor("scores", true));
        linear(&mut g, "LinearClassifier", post, vec![label, scores]);
        output(&mut g, label);
        output(&mut g, scores);
        g
    }

    fn ops(g: &Graph) -> Vec<&str> {
        g.nodes.iter().map(|n| n.op.as_str()).collect()
    }

    #[test]
    fn classifiers_become_gemm_post_transform_and_argmax() {
        for (post, want) in [
            ("SOFTMAX", &["Gemm", "Softmax", "ArgMax", "ArrayFeatureExtractor"][..]),
            ("LOGISTIC", &["Gemm", "Sigmoid", "ArgMax", "ArrayFeatureExtractor"][..]),
            ("NONE", &["Gemm", "ArgMax", "ArrayFeatureExtractor"][..]),
        ] {
            // check_preserves compares the labels (as numbers) and the scores
            let (g, changed) = check_preserves(classifier(post), |g| run(g).unwrap());
            assert!(changed, "{post}");
            assert_eq!(ops(&g), want, "{post}");
            let gemm = &g.nodes[0];
            assert_eq!((gemm.int("transB", 0), g.shape(gemm.input(1).unwrap())), (1, &[3, 4][..]), "{post}");
            // the labels come from the argmax of the raw scores, before the post transform
            let argmax = &g.nodes[want.len() - 2];
            assert_eq!(argmax.input(0), Some(gemm.outputs[0]), "{post}");
            assert_eq!(g.nodes.last().unwrap().domain, "ai.onnx.ml");
        }
    }

    #[test]
    fn a_classifier_without_its_scores_output_keeps_only_the_label() {
        let mut g = graph(&[("x", &[5, 4])]);
        let label = g.add_tensor("label", false);
        linear(&mut g, "LinearClassifier", "SOFTMAX", vec![label]);
        output(&mut g, label);
        let (g, changed) = check_preserves(g, |g| run(g).unwrap());
        assert!(changed);
        assert_eq!(ops(&g), ["Gemm", "ArgMax", "ArrayFeatureExtractor"]);
    }

    #[test]
    fn a_regressor_becomes_its_gemm() {
        for (post, want) in [("NONE", &["Gemm"][..]), ("LOGISTIC", &["Gemm", "Sigmoid"][..])] {
            let mut g = graph(&[("x", &[5, 4])]);
            let y = g.add_tensor("y", true);
            linear(&mut g, "LinearRegressor", post, vec![y]);
            output(&mut g, y);
            let (g, changed) = check_preserves(g, |g| run(g).unwrap());
            assert!(changed, "{post}");
            assert_eq!(ops(&g), want, "{post}");
            assert_eq!(g.outputs, [y], "{post}: the graph output is the same tensor");
        }
    }

    #[test]
    fn other_nodes_are_left_alone_and_bad_attributes_fail() {
        // a Relu and an ai.onnx.ml Normalizer: nothing to expand
        let mut g = graph(&[("x", &[5, 4])]);
        let r = node(&mut g, "Relu", &[0], vec![]);
        let n = node(&mut g, "Normalizer", &[r], vec![("norm", Attr::Str("L1".into()))]);
        g.nodes[1].domain = "ai.onnx.ml".into();
        output(&mut g, n);
        let (_, changed) = check_preserves(g, |g| run(g).unwrap());
        assert!(!changed);

        // an unsupported post transform
        let mut g = classifier("PROBIT");
        let e = run(&mut g).unwrap_err().to_string();
        assert!(e.contains("post_transform PROBIT is not supported"), "{e}");

        // coefficients that do not split into rows of the feature count
        let mut g = classifier("NONE");
        g.tensors[0].shape = Some(vec![5, 5]);
        let e = run(&mut g).unwrap_err().to_string();
        assert!(e.contains("do not split into rows of 5 features"), "{e}");
    }
}
