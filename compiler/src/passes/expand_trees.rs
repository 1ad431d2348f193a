//! `ai.onnx.ml` tree ensembles prepared for lowering ([`crate::ops::tree`]), before calibration:
//!
//! * `TreeEnsembleClassifier(X) → (label, probabilities)` becomes `TreeEnsembleRegressor(X) →
//!   raw` (the raw class scores, one target per column: [`tree::Classifier`]), the transform of
//!   the raw scores (Sigmoid, Softmax or none) → `probabilities`, and
//!   `ArrayFeatureExtractor(class_labels, ArgMax(raw)) → label`, as [`super::expand_ml`] does
//!   for LinearClassifier.
//! * A TreeEnsembleRegressor with `post_transform` LOGISTIC or SOFTMAX (several targets) becomes
//!   the regressor without it, then Sigmoid or Softmax.
//! * A float model input read only by tree ensembles (as their `X`) is rescaled per feature,
//!   `y_j = (x_j − o_j) · k_j` (an `ai.onnx.ml` Scaler), with `(o_j, k_j)` chosen from the split
//!   values of feature `j` so that they span about ±0.96, and the splits move to `y`. `y` is
//!   quantized at scale 1/128, zero point 0 (prescribed), and the quantizer folds the Scaler
//!   into a per-feature input quantization (`ops::ml::fold_input_scaler`): every
//!   feature keeps 256 codes around its own split values, where one scale for the tensor
//!   leaves a feature of small values a few codes (raw breast-cancer features span 0.05 to
//!   4,254). The split values move as the Scaler moves the features, `t' = y(t)` computed in
//!   `f32` exactly as the Scaler computes `y(x)`: `y` is monotonic, so every input `x` takes the
//!   branch it takes in the original model except where `y(x) = y(t)` with `x ≠ t`, an input
//!   within one `f32` rounding of a split value (far inside one code of the quantized
//!   feature). The candidates (`feature_affine`): the split values' midpoint as offset and
//!   the scale that takes the farthest to ±0.96; else no offset and a power-of-two scale (an
//!   exact product); a candidate must put every moved split value within ±0.97 (the codes −128
//!   and 127 then lie beyond every split), and if none does the input is left as it is. A
//!   feature with equality splits (EQ, NEQ, MEMBER) gets the power-of-two form only, checked
//!   exact on its split values, so that an input equal to a split value converts to exactly the
//!   code that split value quantizes to; a feature no split reads gets `k = 2^-64` (every value
//!   converts to one code, none saturates).

use std::collections::HashMap;

use ndarray::{ArrayD, IxDyn};
use solidml_spec::Quant;

use crate::{
    error::{CompileError, Result},
    ir::{Attr, Graph, Node, Tid, Value},
    ops::{
        ml,
        tree::{self, Ensemble, TreeNode},
    },
};

const ML: &str = "ai.onnx.ml";

/// The quantization of a rescaled input: codes −128..127 stand for −1 to 127/128.
pub const RESCALED: Quant = Quant { scale: 1.0 / 128.0, zero_point: 0 };

/// The half-range the split values of a feature are scaled to.
const REACH: f64 = 0.96;

/// The largest `|y(t)|` a rescaled split value may have: below 127/128, the top code.
const LIMIT: f32 = 0.97;

/// The scale of a feature no split reads: its input scale becomes `2^57`, so every value below
/// `2^56` in magnitude converts to code 0 (no saturation to report).
const UNREAD: f32 = 1.0 / (1u64 << 63) as f32 / 2.0;

/// Apply the pass (see the module docs) to `g`; returns whether it changed the graph, or why a
/// tree ensemble cannot be handled.
pub fn run(g: &mut Graph) -> Result<bool> {
    let mut changed = expand_classifiers(g)?;
    changed |= split_post_transforms(g)?;
    changed |= rescale_inputs(g)?;
    Ok(changed)
}

fn is_tree(n: &Node) -> bool {
    n.domain == ML && matches!(n.op.as_str(), "TreeEnsembleRegressor" | "TreeEnsemble")
}

fn mk(name: String, op: &str, domain: &str, inputs: Vec<Tid>, outputs: Vec<Tid>, attrs: Vec<(&str, Attr)>) -> Node {
    Node {
        name,
        op: op.into(),
        domain: domain.into(),
        attrs: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        inputs: inputs.into_iter().map(Some).collect(),
        outputs,
    }
}

/// The transform node of the raw scores `raw` into `out` (`None` for `NONE`).
fn transform(name: &str, kind: &str, raw: Tid, out: Tid) -> Option<Node> {
    match kind {
        "LOGISTIC" => Some(mk(format!("{name}.logistic"), "Sigmoid", "", vec![raw], vec![out], vec![])),
        "SOFTMAX" => Some(mk(format!("{name}.softmax"), "Softmax", "", vec![raw], vec![out], vec![("axis", Attr::Int(1))])),
        _ => None,
    }
}

fn expand_classifiers(g: &mut Graph) -> Result<bool> {
    let mut changed = false;
    let mut i = 0;
    while i < g.nodes.len() {
        let n = g.nodes[i].clone();
        if n.domain != ML || n.op != "TreeEnsembleClassifier" {
            i += 1;
            continue;
        }
        let c = tree::Classifier::from_node(&n).map_err(|e| CompileError::node(&n, e))?;
        let x = n.input(0).ok_or_else(|| CompileError::node(&n, "input X missing"))?;
        let probabilities = n.outputs.get(1).copied();
        let raw = match (c.transform.as_str(), probabilities) {
            ("NONE", Some(p)) => p,
            _ => g.add_tensor(&format!("{}.scores", n.name), true),
        };
        // the regressor of the raw scores: the classifier's nodes, its class weights as targets
        let mut attrs: HashMap<String, Attr> =
            n.attrs.iter().filter(|(k, _)| k.starts_with("nodes_")).map(|(k, v)| (k.clone(), v.clone())).collect();
        let (tree_ids, node_ids) = (n.ints("class_treeids").unwrap_or_default(), n.ints("class_nodeids").unwrap_or_default());
        let (ids, weights) = (n.ints("class_ids").unwrap_or_default(), tree_weights(&n));
        let (mut tt, mut tn, mut ti, mut tw) = (vec![], vec![], vec![], vec![]);
        let binary = c.labels.len() == 2;
        for j in 0..tree_ids.len() {
            if binary {
                // the columns [c − p, p] of p = Σ w + base (tree::Classifier)
                tt.extend([tree_ids[j]; 2]);
                tn.extend([node_ids[j]; 2]);
                ti.extend([0, 1]);
                tw.extend([-weights[j], weights[j]]);
            } else {
                tt.push(tree_ids[j]);
                tn.push(node_ids[j]);
                ti.push(ids[j]);
                tw.push(weights[j]);
            }
        }
        for (k, v) in [
            ("n_targets", Attr::Int(c.scores.n_targets as i64)),
            ("target_treeids", Attr::Ints(tt)),
            ("target_nodeids", Attr::Ints(tn)),
            ("target_ids", Attr::Ints(ti)),
            ("target_weights", Attr::Floats(tw)),
            ("base_values", Attr::Floats(c.scores.base.clone())),
            ("aggregate_function", Attr::Str("SUM".into())),
            ("post_transform", Attr::Str("NONE".into())),
        ] {
            attrs.insert(k.into(), v);
        }
        let regressor = Node {
            name: format!("{}.scores", n.name),
            op: "TreeEnsembleRegressor".into(),
            domain: ML.into(),
            attrs,
            inputs: vec![Some(x)],
            outputs: vec![raw],
        };
        let mut new_nodes = vec![regressor];
        if let Some(p) = probabilities
            && let Some(t) = transform(&n.name, &c.transform, raw, p)
        {
            new_nodes.push(t);
        }
        let labels = g.add_tensor(&format!("{}.labels", n.name), false);
        g.tensors[labels].shape = Some(vec![c.labels.len()]);
        g.consts.insert(labels, Value::Int(ArrayD::from_shape_vec(IxDyn(&[c.labels.len()]), c.labels.clone()).unwrap()));
        let idx = g.add_tensor(&format!("{}.argmax", n.name), false);
        let argmax_attrs = vec![("axis", Attr::Int(1)), ("keepdims", Attr::Int(0))];
        new_nodes.push(mk(format!("{}.argmax", n.name), "ArgMax", "", vec![raw], vec![idx], argmax_attrs));
        new_nodes.push(mk(format!("{}.label", n.name), "ArrayFeatureExtractor", ML, vec![labels, idx], vec![n.outputs[0]], vec![]));
        let count = new_nodes.len();
        g.nodes.splice(i..i + 1, new_nodes);
        i += count;
        changed = true;
    }
    Ok(changed)
}

/// `class_weights` (or `class_weights_as_tensor`) of a classifier.
fn tree_weights(n: &Node) -> Vec<f32> {
    match n.attr("class_weights_as_tensor") {
        Some(Attr::Tensor(v)) => v.to_f32().iter().copied().collect(),
        _ => n.floats("class_weights").unwrap_or_default(),
    }
}

fn split_post_transforms(g: &mut Graph) -> Result<bool> {
    let mut changed = false;
    let mut i = 0;
    while i < g.nodes.len() {
        let n = &g.nodes[i];
        let post = n.str("post_transform", "NONE");
        if !(n.domain == ML
            && n.op == "TreeEnsembleRegressor"
            && matches!(post.as_str(), "LOGISTIC" | "SOFTMAX")
            && n.int("n_targets", 1) >= 2)
        {
            i += 1;
            continue;
        }
        let (name, out) = (n.name.clone(), n.outputs[0]);
        let raw = g.add_tensor(&format!("{name}.scores"), true);
        let n = &mut g.nodes[i];
        n.outputs[0] = raw;
        n.attrs.insert("post_transform".into(), Attr::Str("NONE".into()));
        g.nodes.insert(i + 1, transform(&name, &post, raw, out).expect("LOGISTIC or SOFTMAX"));
        i += 2;
        changed = true;
    }
    Ok(changed)
}

/// `y = (v − o) · k` in `f32`, as the Scaler computes it.
fn scaled(v: f32, (o, k): (f32, f32)) -> f32 {
    (v - o) * k
}

/// Whether `(o, k)` puts every split value in `values` within `±LIMIT` (the codes −128 and 127
/// then lie beyond every split) and, with `equality`, maps each exactly (`y(t) / k = t`).
fn fits(values: &[f32], ok: (f32, f32), equality: bool) -> bool {
    ok.1 > 0.0
        && ok.1.is_finite()
        && ok.0.is_finite()
        && values.iter().filter(|t| !t.is_nan()).all(|&t| {
            let y = scaled(t, ok);
            y.abs() <= LIMIT && (!equality || y / ok.1 == t)
        })
}

/// The largest power of two `≤ v` (`v > 0`), when it is a normal `f32`.
fn power_of_two_below(v: f64) -> Option<f32> {
    let e = v.log2().floor() as i32;
    (-126..=127).contains(&e).then(|| 2f32.powi(e))
}

/// The rescaling `(o, k)` of a feature with split values `values` (`equality`: some split
/// compares for equality), or `None` when no candidate fits ([`fits`]). The candidates: the
/// split values' midpoint and the scale taking the farthest one to `REACH` (not for
/// equality splits); then no offset and a power of two (an exact product).
fn feature_affine(values: &[f32], equality: bool) -> Option<(f32, f32)> {
    let finite: Vec<f64> = values.iter().filter(|v| !v.is_nan()).map(|&v| v as f64).collect();
    if finite.iter().any(|v| v.is_infinite()) {
        return None;
    }
    if finite.is_empty() {
        // a feature no split reads: every value converts to code 0, none saturates
        return Some((0.0, UNREAD));
    }
    let (lo, hi) = finite.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let mut candidates = vec![];
    if !equality {
        let mid = ((lo + hi) / 2.0) as f32;
        let mut half = finite.iter().fold(0f64, |m, &t| m.max((t - mid as f64).abs()));
        if half == 0.0 {
            // one split value: a sixteenth of its magnitude on each side
            half = if mid != 0.0 { mid.abs() as f64 / 16.0 } else { 1.0 };
        }
        candidates.push((mid, (REACH / half) as f32));
    }
    let m = lo.abs().max(hi.abs());
    if let Some(k) = power_of_two_below(if m > 0.0 { REACH / m } else { 1.0 }) {
        candidates.push((0.0, k));
    }
    candidates.into_iter().find(|&ok| fits(values, ok, equality))
}

/// Every split value of feature `f` in node `n` (a tree ensemble) mapped by `map(f, v)`.
fn map_splits(n: &mut Node, map: impl Fn(usize, f32) -> f32) -> std::result::Result<(), String> {
    let features = n.ints("nodes_featureids").ok_or("attribute nodes_featureids missing")?;
    let feature = |i: usize| features.get(i).map(|&f| f as usize).ok_or("nodes_featureids too short");
    if n.op == "TreeEnsembleRegressor" {
        let modes = match n.attr("nodes_modes") {
            Some(Attr::Strs(m)) => m.clone(),
            _ => return Err("attribute nodes_modes missing".into()),
        };
        let mut values = match n.attrs.remove("nodes_values_as_tensor") {
            Some(Attr::Tensor(v)) => v.to_f32().iter().copied().collect(),
            _ => n.floats("nodes_values").unwrap_or_default(),
        };
        for (i, v) in values.iter_mut().enumerate() {
            if modes.get(i).is_some_and(|m| m != "LEAF") {
                *v = map(feature(i)?, *v);
            }
        }
        n.attrs.insert("nodes_values".into(), Attr::Floats(values));
        return Ok(());
    }
    let modes: Vec<i64> = match n.attr("nodes_modes") {
        Some(Attr::Tensor(v)) => v.to_i64().iter().copied().collect(),
        _ => n.ints("nodes_modes").unwrap_or_default(),
    };
    let tensor = |n: &Node, k: &str| match n.attr(k) {
        Some(Attr::Tensor(v)) => v.to_f32(),
        _ => ArrayD::from_shape_vec(IxDyn(&[0]), vec![]).unwrap(),
    };
    let mut splits = tensor(n, "nodes_splits");
    let mut members = tensor(n, "membership_values");
    let mut member_values = members.iter_mut();
    for (i, s) in splits.iter_mut().enumerate() {
        let f = feature(i)?;
        if modes.get(i) != Some(&6) {
            *s = map(f, *s);
            continue;
        }
        // this node's membership set: the values up to the next NaN
        for v in member_values.by_ref() {
            if v.is_nan() {
                break;
            }
            *v = map(f, *v);
        }
    }
    n.attrs.insert("nodes_splits".into(), Attr::Tensor(Value::Float(splits)));
    if n.attr("membership_values").is_some() {
        n.attrs.insert("membership_values".into(), Attr::Tensor(Value::Float(members)));
    }
    Ok(())
}

fn rescale_inputs(g: &mut Graph) -> Result<bool> {
    let mut changed = false;
    for position in 0..g.inputs.len() {
        let x = g.inputs[position];
        if !g.tensors[x].is_float || g.outputs.contains(&x) {
            continue;
        }
        let readers: Vec<usize> = (0..g.nodes.len()).filter(|&i| g.nodes[i].inputs.contains(&Some(x))).collect();
        let only_trees = readers.iter().all(|&i| {
            let n = &g.nodes[i];
            is_tree(n) && n.input(0) == Some(x) && n.inputs.iter().filter(|&&t| t == Some(x)).count() == 1
        });
        let &[_, features] = g.shape(x) else { continue };
        if readers.is_empty() || !only_trees {
            continue;
        }
        let mut values: Vec<Vec<f32>> = vec![vec![]; features];
        let mut equality = vec![false; features];
        for &i in &readers {
            let e = Ensemble::from_node(&g.nodes[i]).map_err(|e| CompileError::node(&g.nodes[i], e))?;
            for node in e.trees.iter().flat_map(|t| &t.nodes) {
                if let TreeNode::Branch { feature, split, .. } = node
                    && *feature < features
                {
                    values[*feature].extend(split.values());
                    equality[*feature] |= split.is_equality();
                }
            }
        }
        let Some(affine) = (0..features).map(|j| feature_affine(&values[j], equality[j])).collect::<Option<Vec<_>>>() else {
            continue;
        };
        // the quantizer folds the Scaler only when every per-feature parameter is valid
        let params = ml::folded_input_params(&affine.iter().map(|&(o, k)| (o as f64, k as f64)).collect::<Vec<_>>(), RESCALED);
        if !params
            .iter()
            .all(|q| q.scale.is_finite() && q.scale > 0.0 && q.zero_point.unsigned_abs() <= solidml_spec::MAX_INPUT_ZERO_POINT as u32)
        {
            continue;
        }
        let y = g.add_tensor(&format!("{}.rescaled", g.name(x)), true);
        g.tensors[y].shape = Some(g.shape(x).to_vec());
        for &i in &readers {
            let n = &mut g.nodes[i];
            map_splits(n, |f, v| affine.get(f).map_or(v, |&ok| scaled(v, ok))).map_err(|e| CompileError::node(n, e))?;
            n.inputs[0] = Some(y);
        }
        let (offset, scale): (Vec<f32>, Vec<f32>) = affine.iter().copied().unzip();
        let scaler = mk(
            format!("{}.rescale", g.name(x)),
            "Scaler",
            ML,
            vec![x],
            vec![y],
            vec![("offset", Attr::Floats(offset)), ("scale", Attr::Floats(scale))],
        );
        g.nodes.insert(0, scaler);
        g.prescribed.insert(y, RESCALED);
        changed = true;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testutil::*;

    /// A branch `(tree, node, feature, mode, value, yes, no)`, or a leaf with mode `LEAF`.
    type Row = (i64, i64, i64, &'static str, f32, i64, i64);

    fn v3(nodes: &[Row], weights: &[(i64, i64, i64, f32)], prefix: &str, more: Vec<(&str, Attr)>) -> HashMap<String, Attr> {
        let col = |f: fn(&Row) -> i64| Attr::Ints(nodes.iter().map(f).collect());
        let mut a: HashMap<String, Attr> = [
            ("nodes_treeids", col(|r| r.0)),
            ("nodes_nodeids", col(|r| r.1)),
            ("nodes_featureids", col(|r| r.2)),
            ("nodes_modes", Attr::Strs(nodes.iter().map(|r| r.3.to_string()).collect())),
            ("nodes_values", Attr::Floats(nodes.iter().map(|r| r.4).collect())),
            ("nodes_truenodeids", col(|r| r.5)),
            ("nodes_falsenodeids", col(|r| r.6)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        a.insert(format!("{prefix}_treeids"), Attr::Ints(weights.iter().map(|w| w.0).collect()));
        a.insert(format!("{prefix}_nodeids"), Attr::Ints(weights.iter().map(|w| w.1).collect()));
        a.insert(format!("{prefix}_ids"), Attr::Ints(weights.iter().map(|w| w.2).collect()));
        a.insert(format!("{prefix}_weights"), Attr::Floats(weights.iter().map(|w| w.3).collect()));
        a.extend(more.into_iter().map(|(k, v)| (k.to_string(), v)));
        a
    }

    /// Two trees over 3 features: tree 0 `x0 ≤ 0.25 ? (x1 ≤ −0.5 ? a : b) : c`, tree 1
    /// `x2 > 0.1 ? d : e`.
    const FOREST: &[Row] = &[
        (0, 0, 0, "BRANCH_LEQ", 0.25, 1, 2),
        (0, 1, 1, "BRANCH_LEQ", -0.5, 3, 4),
        (0, 2, 0, "LEAF", 0.0, 0, 0),
        (0, 3, 0, "LEAF", 0.0, 0, 0),
        (0, 4, 0, "LEAF", 0.0, 0, 0),
        (1, 0, 2, "BRANCH_GT", 0.1, 1, 2),
        (1, 1, 0, "LEAF", 0.0, 0, 0),
        (1, 2, 0, "LEAF", 0.0, 0, 0),
    ];
    const LEAVES: [(i64, i64); 5] = [(0, 2), (0, 3), (0, 4), (1, 1), (1, 2)];

    fn ml(g: &mut Graph, op: &str, attrs: HashMap<String, Attr>, outputs: usize) -> Vec<Tid> {
        let outs: Vec<Tid> = (0..outputs).map(|k| g.add_tensor(&format!("{op}.{k}"), k != 0 || op != "TreeEnsembleClassifier")).collect();
        g.nodes.push(Node { name: op.into(), op: op.into(), domain: ML.into(), attrs, inputs: vec![Some(0)], outputs: outs.clone() });
        for &o in &outs {
            output(g, o);
        }
        outs
    }

    fn ops(g: &Graph) -> Vec<&str> {
        g.nodes.iter().map(|n| n.op.as_str()).collect()
    }

    #[test]
    fn classifiers_become_the_regressor_of_their_scores() {
        let binary = |w: &[f32]| LEAVES.iter().zip(w).map(|(&(t, n), &w)| (t, n, 0, w)).collect::<Vec<_>>();
        for (weights, post, base, classes, want) in [
            // a random forest: weights ≥ 0, [1 − p, p] as they are
            (binary(&[0.1, 0.3, 0.2, 0.25, 0.05]), "NONE", vec![], 2, &["TreeEnsembleRegressor", "ArgMax", "ArrayFeatureExtractor"][..]),
            // gradient boosting: mixed signs, [σ(−p), σ(p)]
            (
                binary(&[0.4, -0.3, 0.2, -0.25, 0.05]),
                "LOGISTIC",
                vec![0.1],
                2,
                &["TreeEnsembleRegressor", "Sigmoid", "ArgMax", "ArrayFeatureExtractor"],
            ),
            // three classes, gradient boosting's softmax
            (
                LEAVES
                    .iter()
                    .enumerate()
                    .flat_map(|(i, &(t, n))| (0..3).map(move |k| (t, n, k, ((i * 3 + k as usize) % 7) as f32 * 0.1 - 0.3)))
                    .collect(),
                "SOFTMAX",
                vec![0.2, -0.1, 0.0],
                3,
                &["TreeEnsembleRegressor", "Softmax", "ArgMax", "ArrayFeatureExtractor"],
            ),
        ] {
            let mut g = graph(&[("x", &[7, 3])]);
            let labels = Attr::Ints((0..classes).map(|k| 10 + k as i64).collect());
            let mut more = vec![("classlabels_int64s", labels), ("post_transform", Attr::Str(post.into()))];
            if !base.is_empty() {
                more.push(("base_values", Attr::Floats(base.clone())));
            }
            let n = Node {
                name: "clf".into(),
                op: "TreeEnsembleClassifier".into(),
                domain: ML.into(),
                attrs: v3(FOREST, &weights, "class", more),
                inputs: vec![Some(0)],
                outputs: vec![],
            };
            let c = tree::Classifier::from_node(&n).unwrap();
            let (label, probabilities) = (g.add_tensor("label", false), g.add_tensor("probabilities", true));
            g.nodes.push(Node { outputs: vec![label, probabilities], ..n });
            output(&mut g, label);
            output(&mut g, probabilities);
            // the regressor holds exactly the classifier's raw scores
            let mut h = g.clone();
            assert!(expand_classifiers(&mut h).unwrap());
            assert_eq!(Ensemble::from_node(&h.nodes[0]).unwrap(), c.scores, "{post}");
            // and the whole pass keeps labels and probabilities
            let (g, changed) = check_preserves(g, |g| run(g).unwrap());
            assert!(changed);
            assert_eq!(&ops(&g)[1..], want, "{post}");
            assert_eq!(ops(&g)[0], "Scaler", "x is read by the ensemble alone");
        }
    }

    #[test]
    fn a_regressors_post_transform_moves_after_it() {
        let weights: Vec<_> =
            LEAVES.iter().enumerate().flat_map(|(i, &(t, n))| [(t, n, 0, i as f32 * 0.5), (t, n, 1, 1.0 - i as f32)]).collect();
        for (post, op) in [("LOGISTIC", "Sigmoid"), ("SOFTMAX", "Softmax")] {
            let mut g = graph(&[("x", &[4, 3])]);
            let more = vec![("n_targets", Attr::Int(2)), ("post_transform", Attr::Str(post.into()))];
            let y = ml(&mut g, "TreeEnsembleRegressor", v3(FOREST, &weights, "target", more), 1);
            let (g, changed) = check_preserves(g, |g| run(g).unwrap());
            assert!(changed);
            assert_eq!(ops(&g), ["Scaler", "TreeEnsembleRegressor", op], "{post}");
            assert_eq!(g.outputs, y);
            assert_eq!(g.nodes[1].str("post_transform", ""), "NONE");
        }
    }

    /// Splits of very different ranges, as raw tabular features have: areas in the hundreds,
    /// a ratio near 0.07, a negative one, one split alone, and an equality split.
    const RAW: &[Row] = &[
        (0, 0, 0, "BRANCH_LEQ", 696.25, 1, 2),
        (0, 1, 1, "BRANCH_LEQ", 0.0715, 3, 4),
        (0, 2, 0, "BRANCH_LT", 1503.5, 5, 6),
        (0, 3, 2, "BRANCH_GTE", -12.5, 7, 8),
        (0, 4, 1, "BRANCH_GT", 0.0631, 9, 10),
        (0, 5, 3, "BRANCH_LEQ", 5.0, 11, 12),
        (0, 6, 4, "BRANCH_EQ", 3.0, 13, 14),
        (0, 7, 2, "BRANCH_LEQ", -40.0, 15, 16),
        (0, 8, 0, "LEAF", 0.0, 0, 0),
        (0, 9, 0, "BRANCH_LEQ", 301.0, 17, 18),
        (0, 10, 0, "LEAF", 0.0, 0, 0),
        (0, 11, 4, "BRANCH_NEQ", 7.0, 19, 20),
        (0, 12, 0, "LEAF", 0.0, 0, 0),
        (0, 13, 0, "LEAF", 0.0, 0, 0),
        (0, 14, 0, "LEAF", 0.0, 0, 0),
        (0, 15, 0, "LEAF", 0.0, 0, 0),
        (0, 16, 0, "LEAF", 0.0, 0, 0),
        (0, 17, 0, "LEAF", 0.0, 0, 0),
        (0, 18, 0, "LEAF", 0.0, 0, 0),
        (0, 19, 0, "LEAF", 0.0, 0, 0),
        (0, 20, 0, "LEAF", 0.0, 0, 0),
    ];

    fn raw_regressor(g: &mut Graph) -> Tid {
        let weights: Vec<_> = RAW.iter().filter(|r| r.3 == "LEAF").enumerate().map(|(i, r)| (0, r.1, 0, i as f32)).collect();
        ml(g, "TreeEnsembleRegressor", v3(RAW, &weights, "target", vec![]), 1)[0]
    }

    #[test]
    fn inputs_read_only_by_trees_are_rescaled_keeping_every_decision() {
        let mut g = graph(&[("x", &[1, 6])]);
        let y = raw_regressor(&mut g);
        crate::calibrate::infer_shapes(&mut g).unwrap();
        let before = g.clone();
        assert!(run(&mut g).unwrap());
        assert_eq!(ops(&g), ["Scaler", "TreeEnsembleRegressor"]);
        let scaled_x = g.nodes[0].outputs[0];
        assert_eq!(g.prescribed.get(&scaled_x), Some(&RESCALED));
        let (offset, scale) = (g.nodes[0].floats("offset").unwrap(), g.nodes[0].floats("scale").unwrap());
        // feature 4 (equality splits): a power of two, no offset; feature 5 (no split): 2^-64
        assert_eq!((offset[4], scale[4]), (0.0, 0.125));
        assert_eq!((offset[5], scale[5]), (0.0, 2f32.powi(-64)));
        // every moved split value lies within ±0.97
        let e = Ensemble::from_node(&g.nodes[1]).unwrap();
        for node in &e.trees[0].nodes {
            if let TreeNode::Branch { split, .. } = node {
                assert!(split.values().iter().all(|v| v.abs() <= LIMIT), "{split:?}");
            }
        }
        // the same leaf at every split value and on both sides of it, on every feature; at its
        // neighbouring floats, unless the Scaler maps them onto the moved split value
        let affine = |f: usize, v: f32| scaled(v, (offset[f], scale[f]));
        let leaf = |g: &Graph, f: usize, v: f32, base: [f32; 6]| {
            let mut row = base;
            row[f] = v;
            let x = Value::Float(ArrayD::from_shape_vec(IxDyn(&[1, 6]), row.to_vec()).unwrap());
            crate::calibrate::run_float(g, &[x]).unwrap()[&y].to_f32()
        };
        for r in RAW.iter().filter(|r| r.3 != "LEAF") {
            let (f, t) = (r.2 as usize, r.4);
            for base in [[0.0f32; 6], [700.0, 0.07, -20.0, 5.0, 3.0, 9.0], [1600.0, 0.05, -50.0, 4.0, 7.0, -1.0]] {
                for v in [t, t - t.abs() * 1e-4, t + t.abs() * 1e-4] {
                    assert_eq!(leaf(&before, f, v, base), leaf(&g, f, v, base), "feature {f} at {v}");
                }
                for v in [t.next_down(), t.next_up()] {
                    if affine(f, v) != affine(f, t) {
                        assert_eq!(leaf(&before, f, v, base), leaf(&g, f, v, base), "feature {f} at {v}");
                    }
                }
            }
        }
    }

    #[test]
    fn inputs_read_elsewhere_or_with_infinite_splits_are_left() {
        let mut g = graph(&[("x", &[1, 6])]);
        raw_regressor(&mut g);
        let r = node(&mut g, "Relu", &[0], vec![]);
        output(&mut g, r);
        crate::calibrate::infer_shapes(&mut g).unwrap();
        assert!(!run(&mut g).unwrap());
        assert!(g.prescribed.is_empty());
        assert_eq!(feature_affine(&[1.0, f32::INFINITY], false), None);
    }

    #[test]
    fn the_rescaling_centres_the_splits_or_falls_back_to_a_power_of_two() {
        // ranges far from 0 or narrow: the midpoint as offset, the splits over ±0.96
        for values in
            [&[300.0f32, 1500.0, 812.5][..], &[0.05, 0.0715, 0.0631, 0.1], &[-40.0, -12.5], &[-0.098, 0.1034], &[1.0e6, 1.0e6 + 1.0]]
        {
            let (o, k) = feature_affine(values, false).unwrap();
            let ys: Vec<f32> = values.iter().map(|&v| scaled(v, (o, k))).collect();
            let span = ys.iter().fold(f32::MIN, |a, &b| a.max(b)) - ys.iter().fold(f32::MAX, |a, &b| a.min(b));
            assert!(o != 0.0 && (span - 1.92).abs() < 1e-3, "{values:?}: ({o}, {k}) spans {span}");
        }
        // equality splits: a power of two and no offset
        assert_eq!(feature_affine(&[3.0, 7.0], true), Some((0.0, 0.125)));
        // no split value, or only NaNs: every value to code 0
        assert_eq!(feature_affine(&[], false), Some((0.0, UNREAD)));
        assert_eq!(feature_affine(&[f32::NAN], true), Some((0.0, UNREAD)));
    }
}
