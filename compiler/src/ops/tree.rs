//! `ai.onnx.ml` tree ensembles: `TreeEnsembleRegressor` and `TreeEnsembleClassifier` (ai.onnx.ml
//! opsets 1–3, as skl2onnx writes scikit-learn's DecisionTree*, RandomForest*, ExtraTrees* and
//! GradientBoosting*) and `TreeEnsemble` (opset 5).
//!
//! * [`Ensemble`], [`Tree`], [`Split`]: the attributes parsed once into trees of branch and
//!   leaf nodes (root first), with the float semantics ([`Ensemble::eval`]) onnxruntime gives
//!   the forms accepted here.
//! * [`Classifier`]: TreeEnsembleClassifier as the regression ensemble of its raw class scores
//!   plus a label rule; [`crate::passes::expand_trees`] rewrites it into TreeEnsembleRegressor,
//!   the post transform (Sigmoid, Softmax) and ArgMax → ArrayFeatureExtractor, so it is never
//!   lowered itself.
//! * `lower`: TreeEnsembleRegressor and TreeEnsemble in existing spec ops, with **exact
//!   integer thresholds**:
//!
//!   1. every split of feature `f` is a predicate on the int8 code `q` of `x[f]`, tabulated over
//!      the 256 codes ([`Split::code_table`]): the order modes compare the dequantized value
//!      `dequantize_f32(q)` with the split value as the float op compares `x` (so `x ≤ t` is
//!      exactly `q ≤ c` with `c` the largest code whose dequantized value is `≤ t`), the
//!      equality modes compare codes (`q = quantize(t)`). Any predicate on codes is a sum of
//!      runs `[a ≤ q ≤ b] = u_b − u_{a−1}` of the steps `u_c = [q ≤ c]`;
//!   2. the steps each tree reads, one per channel (the trees padded to the same count, plus
//!      one step that always holds): a Gather of each step's feature from `X` (`[N, F]`), a
//!      Binary Sub `c − q` from a constant of the step codes (exact; saturating, which keeps
//!      its sign) and a Lut `[d ≥ 0]`: `u_c` as the codes 0 and 1 (scale 1);
//!   3. the leaves: a View to `[N, T, 1, M]` and a MatMul by a constant `[T, M, L]` (per tree,
//!      each leaf's ±1 combination of its path's conditions, a false branch being
//!      `1 − cond`, and on the always-true step its constant `− (len − 1)`), then a Lut
//!      `[v ≥ 1]`: 1 exactly for the leaf reached;
//!   4. the leaf values summed per target: a View to `[N, T·L]` and a Dense (DenseWide at the
//!      wide precisions, an int32 accumulator for a model output), weights the leaf values
//!      (divided by the tree count for `AVERAGE`), bias `base_values`; `MIN`/`MAX`: a MatMul
//!      by each tree's value per target (the base added), a View to `[N, T, K]` and a Reduce
//!      Min/Max over the trees.
//!
//!   Only Gather, Binary, Lut and MatMul touch the `T·M` steps and `T·M·L` path matrices, their
//!   constants as data: no op whose code grows with the number of trees (the Solidity
//!   emitter writes one layer per Conv group, so a grouped convolution per tree does not fit
//!   a contract).
//!
//!   Steps 1–3 are exact: the leaf indicators equal the float op's leaves on the dequantized
//!   input. Step 4 rounds the leaf values to int8 (int16 at `int16x16`) weights and the sum to
//!   the output's calibrated quantization.

use std::collections::{BTreeMap, HashMap};

use ndarray::{ArrayD, IxDyn};
use solidml_spec::{
    Binary, BinaryKind, ConstData, DType, Dense, Epilogue, Lut, Op, Quant, Reduce, ReduceKind, TensorId, View,
    arith::Multiplier,
    io::{dequantize_f32, quantize_f32},
};

use super::{OpDef, R, input};
use crate::{
    Precision,
    ir::{Attr, Graph, Node, Value},
    quantize::{Lowering, multiplier},
};

const ML: &str = "ai.onnx.ml";

pub(crate) const OPS: &[OpDef] = &[
    OpDef::new(ML, "TreeEnsemble", eval_ensemble_node, lower),
    OpDef::folded(ML, "TreeEnsembleClassifier", Some(eval_classifier_node), "passes::expand_trees"),
    OpDef::new(ML, "TreeEnsembleRegressor", eval_ensemble_node, lower),
];

/// The comparison of a branch node (`nodes_modes`) with its split value(s).
#[derive(Debug, Clone, PartialEq)]
pub enum Split {
    /// `BRANCH_LEQ`: `x ≤ t`.
    Leq(f32),
    /// `BRANCH_LT`: `x < t`.
    Lt(f32),
    /// `BRANCH_GTE`: `x ≥ t`.
    Gte(f32),
    /// `BRANCH_GT`: `x > t`.
    Gt(f32),
    /// `BRANCH_EQ`: `x = t`.
    Eq(f32),
    /// `BRANCH_NEQ`: `x ≠ t`.
    Neq(f32),
    /// `BRANCH_MEMBER` (TreeEnsemble, opset 5): `x` is one of the values (NaNs in the list
    /// are ignored).
    Member(Vec<f32>),
}

impl Split {
    /// The split of an opset 1–3 mode string (`None` for `LEAF`).
    fn from_mode(mode: &str, t: f32) -> R<Option<Split>> {
        Ok(Some(match mode {
            "BRANCH_LEQ" => Split::Leq(t),
            "BRANCH_LT" => Split::Lt(t),
            "BRANCH_GTE" => Split::Gte(t),
            "BRANCH_GT" => Split::Gt(t),
            "BRANCH_EQ" => Split::Eq(t),
            "BRANCH_NEQ" => Split::Neq(t),
            "LEAF" => return Ok(None),
            other => {
                return Err(format!(
                    "node mode {other} is not one of BRANCH_LEQ, BRANCH_LT, BRANCH_GTE, BRANCH_GT, BRANCH_EQ, BRANCH_NEQ, LEAF"
                ));
            }
        }))
    }

    /// Whether the comparison holds for `x` (in `f32`, as the float op compares: false for a
    /// NaN `x`, except `NEQ`).
    pub fn holds(&self, x: f32) -> bool {
        match self {
            Split::Leq(t) => x <= *t,
            Split::Lt(t) => x < *t,
            Split::Gte(t) => x >= *t,
            Split::Gt(t) => x > *t,
            Split::Eq(t) => x == *t,
            Split::Neq(t) => x != *t,
            Split::Member(v) => v.contains(&x),
        }
    }

    /// Whether the split compares for equality (`EQ`, `NEQ`, `MEMBER`).
    pub fn is_equality(&self) -> bool {
        matches!(self, Split::Eq(_) | Split::Neq(_) | Split::Member(_))
    }

    /// The split value(s).
    pub fn values(&self) -> Vec<f32> {
        match self {
            Split::Leq(t) | Split::Lt(t) | Split::Gte(t) | Split::Gt(t) | Split::Eq(t) | Split::Neq(t) => vec![*t],
            Split::Member(v) => v.clone(),
        }
    }

    /// Whether the split holds on each int8 code `q = −128 + i` of a feature quantized by
    /// `quant`. Order modes: the float comparison of the dequantized value
    /// `dequantize_f32(q)` with the split value (exact: the decision on the code is the float
    /// decision on the value it stands for). Equality modes: `q` is the code the split value
    /// quantizes to (`quantize_f32`, saturating); a NaN value equals no code.
    pub fn code_table(&self, quant: Quant) -> [bool; 256] {
        let code_of = |t: f32| (!t.is_nan()).then(|| quantize_f32(t, quant.scale, quant.zero_point) as i32);
        let mut table = [false; 256];
        for (i, slot) in table.iter_mut().enumerate() {
            let q = i as i32 - 128;
            let x = dequantize_f32(q, quant.scale, quant.zero_point);
            *slot = match self {
                Split::Eq(t) => code_of(*t) == Some(q),
                Split::Neq(t) => code_of(*t) != Some(q),
                Split::Member(v) => v.iter().any(|&t| code_of(t) == Some(q)),
                order => order.holds(x),
            };
        }
        table
    }
}

/// One node of a [`Tree`].
#[derive(Debug, Clone, PartialEq)]
pub enum TreeNode {
    /// A branch: `yes` when the split holds for `x[feature]` (or `x[feature]` is NaN and
    /// `missing_true`), otherwise `no` (indices into [`Tree::nodes`]).
    Branch {
        /// The feature index (last axis of `X`).
        feature: usize,
        /// The comparison.
        split: Split,
        /// `nodes_missing_value_tracks_true`: a NaN feature takes the `yes` branch.
        missing_true: bool,
        /// The child when the split holds.
        yes: usize,
        /// The child when it does not.
        no: usize,
    },
    /// A leaf: its `(target or class, weight)` entries (none, one or several per target).
    Leaf(Vec<(usize, f32)>),
}

/// One tree: its nodes in depth-first order, the root first; every node is reached by one
/// path (a DAG or a cycle in the attributes is refused).
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    /// The nodes; children have larger indices than their parent.
    pub nodes: Vec<TreeNode>,
}

/// A node as the attributes describe it, before [`build_tree`] numbers it.
enum Raw<K> {
    Branch { feature: usize, split: Split, missing_true: bool, yes: K, no: K },
    Leaf(Vec<(usize, f32)>),
}

/// The tree reached from `root`, each node described by `get`; an error when a node is reached
/// twice (not a tree).
fn build_tree<K: Copy + Eq + std::hash::Hash + std::fmt::Debug>(root: K, mut get: impl FnMut(K) -> R<Raw<K>>) -> R<Tree> {
    let mut nodes: Vec<TreeNode> = vec![];
    let mut seen: HashMap<K, usize> = HashMap::new();
    // (node, the parent's branch to point at it: (index, yes))
    let mut stack: Vec<(K, Option<(usize, bool)>)> = vec![(root, None)];
    while let Some((k, parent)) = stack.pop() {
        if seen.insert(k, nodes.len()).is_some() {
            return Err(format!("node {k:?} is reached twice: the nodes do not form a tree"));
        }
        let at = nodes.len();
        if let Some((p, yes)) = parent
            && let TreeNode::Branch { yes: y, no: n, .. } = &mut nodes[p]
        {
            *(if yes { y } else { n }) = at;
        }
        match get(k)? {
            Raw::Branch { feature, split, missing_true, yes, no } => {
                nodes.push(TreeNode::Branch { feature, split, missing_true, yes: usize::MAX, no: usize::MAX });
                stack.push((no, Some((at, false))));
                stack.push((yes, Some((at, true))));
            }
            Raw::Leaf(w) => nodes.push(TreeNode::Leaf(w)),
        }
    }
    Ok(Tree { nodes })
}

impl Tree {
    /// The leaf entries row `x` reaches.
    fn leaf(&self, x: &[f32]) -> R<&[(usize, f32)]> {
        let mut i = 0;
        loop {
            match &self.nodes[i] {
                TreeNode::Branch { feature, split, missing_true, yes, no } => {
                    let v = *x.get(*feature).ok_or_else(|| format!("feature {feature} is out of range for {} features", x.len()))?;
                    i = if split.holds(v) || (*missing_true && v.is_nan()) { *yes } else { *no };
                }
                TreeNode::Leaf(w) => return Ok(w),
            }
        }
    }

    /// The indices of its leaves, in node order.
    fn leaves(&self) -> Vec<usize> {
        (0..self.nodes.len()).filter(|&i| matches!(self.nodes[i], TreeNode::Leaf(_))).collect()
    }
}

/// How the trees' values combine per target (`aggregate_function`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// The sum (default).
    Sum,
    /// The sum divided by the number of trees.
    Average,
    /// The smallest value among the trees whose leaf has one for the target.
    Min,
    /// The largest.
    Max,
}

/// A regression ensemble: TreeEnsembleRegressor, TreeEnsemble, or a classifier's raw scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Ensemble {
    /// Columns of the output (`n_targets`).
    pub n_targets: usize,
    /// The trees, in the order of their first node in the attributes.
    pub trees: Vec<Tree>,
    /// How the trees combine.
    pub aggregate: Aggregate,
    /// The value added to each target, as onnxruntime applies `base_values`: all of them when
    /// there is one per target, the single one for a single target, else none (zeros).
    pub base: Vec<f32>,
    /// `post_transform`: `NONE`, or `LOGISTIC` / `SOFTMAX` (several targets only).
    pub post: String,
}

/// A real attribute given as `FLOATS` (`k`) or as a tensor (`k_as_tensor`, opset 3's double
/// precision; read as `f32`).
fn reals(n: &Node, k: &str) -> Option<Vec<f32>> {
    if let Some(Attr::Tensor(v)) = n.attr(&format!("{k}_as_tensor")) {
        return Some(v.to_f32().iter().copied().collect());
    }
    n.floats(k)
}

/// A tensor attribute (opset 5) as reals.
fn tensor_reals(n: &Node, k: &str) -> Option<Vec<f32>> {
    match n.attr(k) {
        Some(Attr::Tensor(v)) => Some(v.to_f32().iter().copied().collect()),
        _ => n.floats(k),
    }
}

/// A non-negative index.
fn index(v: i64, what: &str) -> R<usize> {
    usize::try_from(v).map_err(|_| format!("{what} {v} is negative"))
}

/// The `ints` attribute `k`, required.
fn req_ints(n: &Node, k: &str) -> R<Vec<i64>> {
    n.ints(k).ok_or_else(|| format!("attribute {k} missing"))
}

/// The trees of an opset 1–3 node and the leaf weights `{prefix}_treeids/nodeids/ids/weights`
/// (`prefix` is `target` or `class`).
fn trees_v3(n: &Node, prefix: &str) -> R<Vec<Tree>> {
    let tree_ids = req_ints(n, "nodes_treeids")?;
    let node_ids = req_ints(n, "nodes_nodeids")?;
    let features = req_ints(n, "nodes_featureids")?;
    let modes = match n.attr("nodes_modes") {
        Some(Attr::Strs(m)) => m.clone(),
        _ => return Err("attribute nodes_modes missing".into()),
    };
    let values = reals(n, "nodes_values").unwrap_or_default();
    let yes = n.ints("nodes_truenodeids").unwrap_or_default();
    let no = n.ints("nodes_falsenodeids").unwrap_or_default();
    let missing = n.ints("nodes_missing_value_tracks_true").unwrap_or_default();
    let count = tree_ids.len();
    if [node_ids.len(), features.len(), modes.len(), values.len(), yes.len(), no.len()].iter().any(|&l| l != count)
        || !(missing.is_empty() || missing.len() == count)
    {
        return Err(format!("the nodes_* attributes have different lengths ({count} nodes_treeids)"));
    }
    let mut at: HashMap<(i64, i64), usize> = HashMap::new();
    let mut order: Vec<i64> = vec![];
    for i in 0..count {
        if at.insert((tree_ids[i], node_ids[i]), i).is_some() {
            return Err(format!("node {} of tree {} is listed twice", node_ids[i], tree_ids[i]));
        }
        if !order.contains(&tree_ids[i]) {
            order.push(tree_ids[i]);
        }
    }
    let (wt, wn, wi) = (
        n.ints(&format!("{prefix}_treeids")).unwrap_or_default(),
        n.ints(&format!("{prefix}_nodeids")).unwrap_or_default(),
        n.ints(&format!("{prefix}_ids")).unwrap_or_default(),
    );
    let ww = reals(n, &format!("{prefix}_weights")).unwrap_or_default();
    if [wn.len(), wi.len(), ww.len()].iter().any(|&l| l != wt.len()) {
        return Err(format!("the {prefix}_* attributes have different lengths"));
    }
    let mut weights: HashMap<usize, Vec<(usize, f32)>> = HashMap::new();
    for j in 0..wt.len() {
        let i = *at
            .get(&(wt[j], wn[j]))
            .ok_or_else(|| format!("{prefix} weight {j} names node {} of tree {}, which does not exist", wn[j], wt[j]))?;
        if modes[i] != "LEAF" {
            return Err(format!("{prefix} weight {j} is on node {} of tree {}, which is not a leaf", wn[j], wt[j]));
        }
        weights.entry(i).or_default().push((index(wi[j], &format!("{prefix}_ids"))?, ww[j]));
    }
    order
        .iter()
        .map(|&tree| {
            // the root is the tree's first node in the attributes (as onnxruntime and the ONNX
            // reference take it)
            let root = (0..count).find(|&i| tree_ids[i] == tree).unwrap();
            build_tree(root, |i| {
                let child = |id: i64| at.get(&(tree, id)).copied().ok_or_else(|| format!("node {id} of tree {tree} does not exist"));
                Ok(match Split::from_mode(&modes[i], values[i])? {
                    None => Raw::Leaf(weights.get(&i).cloned().unwrap_or_default()),
                    Some(split) => Raw::Branch {
                        feature: index(features[i], "nodes_featureids")?,
                        split,
                        missing_true: missing.get(i).is_some_and(|&m| m != 0),
                        yes: child(yes[i])?,
                        no: child(no[i])?,
                    },
                })
            })
            .map_err(|e| format!("tree {tree}: {e}"))
        })
        .collect()
}

/// The per-target base of onnxruntime's aggregators (see [`Ensemble::base`]).
fn effective_base(base: &[f32], targets: usize) -> R<Vec<f32>> {
    Ok(match base.len() {
        0 => vec![0.0; targets],
        l if l == targets => base.to_vec(),
        1 if targets == 1 => base.to_vec(),
        l => return Err(format!("{l} base_values for {targets} targets")),
    })
}

impl Ensemble {
    /// The ensemble of a TreeEnsembleRegressor or TreeEnsemble node.
    pub fn from_node(n: &Node) -> R<Ensemble> {
        let e = match n.op.as_str() {
            "TreeEnsembleRegressor" => Ensemble::regressor(n)?,
            "TreeEnsemble" => Ensemble::opset5(n)?,
            other => return Err(format!("{other} is not a regression tree ensemble")),
        };
        e.check()?;
        Ok(e)
    }

    fn regressor(n: &Node) -> R<Ensemble> {
        let targets = index(n.int("n_targets", 1), "n_targets")?;
        let aggregate = match n.str("aggregate_function", "SUM").as_str() {
            "SUM" => Aggregate::Sum,
            "AVERAGE" => Aggregate::Average,
            "MIN" => Aggregate::Min,
            "MAX" => Aggregate::Max,
            other => return Err(format!("aggregate_function {other} is not one of SUM, AVERAGE, MIN, MAX")),
        };
        Ok(Ensemble {
            n_targets: targets,
            trees: trees_v3(n, "target")?,
            aggregate,
            base: effective_base(&reals(n, "base_values").unwrap_or_default(), targets)?,
            post: n.str("post_transform", "NONE"),
        })
    }

    fn opset5(n: &Node) -> R<Ensemble> {
        let targets = index(n.int("n_targets", 1), "n_targets")?;
        let aggregate = match n.int("aggregate_function", 1) {
            0 => Aggregate::Average,
            1 => Aggregate::Sum,
            2 => Aggregate::Min,
            3 => Aggregate::Max,
            other => return Err(format!("aggregate_function {other} is not one of 0 (AVERAGE), 1 (SUM), 2 (MIN), 3 (MAX)")),
        };
        // onnxruntime reads post_transform 1 as LOGISTIC and 2 as SOFTMAX where the ONNX
        // specification says SOFTMAX (1) and LOGISTIC (2): only NONE means the same to both
        let post = match n.int("post_transform", 0) {
            0 => "NONE".to_string(),
            other => format!("{other} (read differently by onnxruntime and the ONNX specification)"),
        };
        let roots = req_ints(n, "tree_roots")?;
        let features = req_ints(n, "nodes_featureids")?;
        let modes: Vec<i64> = match n.attr("nodes_modes") {
            Some(Attr::Tensor(v)) => v.to_i64().iter().copied().collect(),
            _ => n.ints("nodes_modes").ok_or("attribute nodes_modes missing")?,
        };
        let splits = tensor_reals(n, "nodes_splits").ok_or("attribute nodes_splits missing")?;
        let yes = req_ints(n, "nodes_truenodeids")?;
        let no = req_ints(n, "nodes_falsenodeids")?;
        let yes_leaf = n.ints("nodes_trueleafs").unwrap_or_default();
        let no_leaf = n.ints("nodes_falseleafs").unwrap_or_default();
        let missing = n.ints("nodes_missing_value_tracks_true").unwrap_or_default();
        let leaf_targets = req_ints(n, "leaf_targetids")?;
        let leaf_weights = tensor_reals(n, "leaf_weights").ok_or("attribute leaf_weights missing")?;
        let members = tensor_reals(n, "membership_values").unwrap_or_default();
        let count = features.len();
        if [modes.len(), splits.len(), yes.len(), no.len(), yes_leaf.len(), no_leaf.len()].iter().any(|&l| l != count)
            || !(missing.is_empty() || missing.len() == count)
            || leaf_targets.len() != leaf_weights.len()
        {
            return Err("the nodes_* (or leaf_*) attributes have different lengths".into());
        }
        // the membership sets, in the order of the BRANCH_MEMBER nodes, each ended by a NaN
        let mut sets = members.split(|v| v.is_nan());
        let mut split_of = Vec::with_capacity(count);
        for i in 0..count {
            let t = splits[i];
            split_of.push(match modes[i] {
                0 => Split::Leq(t),
                1 => Split::Lt(t),
                2 => Split::Gte(t),
                3 => Split::Gt(t),
                4 => Split::Eq(t),
                5 => Split::Neq(t),
                6 => Split::Member(sets.next().ok_or("fewer membership sets than BRANCH_MEMBER nodes")?.to_vec()),
                other => return Err(format!("node mode {other} is not one of 0 to 6")),
            });
        }
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        enum K {
            Node(usize),
            Leaf(usize),
        }
        let key = |id: i64, leaf: bool| -> R<K> {
            let i = index(id, "child id")?;
            if leaf {
                (i < leaf_targets.len()).then_some(K::Leaf(i)).ok_or_else(|| format!("leaf {i} does not exist"))
            } else {
                (i < count).then_some(K::Node(i)).ok_or_else(|| format!("node {i} does not exist"))
            }
        };
        let trees = roots
            .iter()
            .map(|&r| {
                build_tree(key(r, false)?, |k| {
                    Ok(match k {
                        K::Leaf(j) => Raw::Leaf(vec![(index(leaf_targets[j], "leaf_targetids")?, leaf_weights[j])]),
                        K::Node(i) => Raw::Branch {
                            feature: index(features[i], "nodes_featureids")?,
                            split: split_of[i].clone(),
                            missing_true: missing.get(i).is_some_and(|&m| m != 0),
                            yes: key(yes[i], yes_leaf[i] != 0)?,
                            no: key(no[i], no_leaf[i] != 0)?,
                        },
                    })
                })
                .map_err(|e| format!("tree of root {r}: {e}"))
            })
            .collect::<R<Vec<_>>>()?;
        Ok(Ensemble { n_targets: targets, trees, aggregate, base: vec![0.0; targets], post })
    }

    /// The checks common to every form: trees, targets in range, a supported post transform.
    fn check(&self) -> R<()> {
        if self.trees.is_empty() {
            return Err("the ensemble has no tree".into());
        }
        if self.n_targets == 0 {
            return Err("n_targets is 0".into());
        }
        for t in &self.trees {
            for node in &t.nodes {
                if let TreeNode::Leaf(w) = node
                    && let Some(&(k, _)) = w.iter().find(|(k, _)| *k >= self.n_targets)
                {
                    return Err(format!("a leaf weight for target {k} of {}", self.n_targets));
                }
            }
        }
        match self.post.as_str() {
            "NONE" => Ok(()),
            "LOGISTIC" | "SOFTMAX" if self.n_targets >= 2 => Ok(()),
            "LOGISTIC" | "SOFTMAX" => Err(format!(
                "post_transform {} on a single target is not supported (onnxruntime ignores it, the ONNX reference applies it)",
                self.post
            )),
            other => Err(format!("post_transform {other} is not supported (NONE; LOGISTIC and SOFTMAX with several targets)")),
        }
    }

    /// The largest feature index a branch reads, plus one (0 for trees of a single leaf).
    pub fn features_read(&self) -> usize {
        self.trees
            .iter()
            .flat_map(|t| &t.nodes)
            .filter_map(|n| if let TreeNode::Branch { feature, .. } = n { Some(feature + 1) } else { None })
            .max()
            .unwrap_or(0)
    }

    /// The outputs `[N, n_targets]` for `x` of shape `[N, F]`, as onnxruntime computes them
    /// (each row's trees in order, in `f32`; then `base`, the average's division and the post
    /// transform).
    pub fn eval(&self, x: &ArrayD<f32>) -> R<ArrayD<f32>> {
        if x.ndim() != 2 {
            return Err(format!("the features X must have shape [N, F], got {:?}", x.shape()));
        }
        let (rows, k) = (x.shape()[0], self.n_targets);
        super::check_elements(&[rows, k], "the tree ensemble's output")?;
        let nodes: usize = self.trees.iter().map(|t| t.nodes.len()).sum();
        super::check_work(&[rows, nodes], "the tree ensemble")?;
        let x = x.as_standard_layout();
        let data = x.as_slice().unwrap();
        let f = x.shape()[1];
        let mut out = Vec::with_capacity(rows * k);
        for r in 0..rows {
            let row = &data[r * f..(r + 1) * f];
            let (mut score, mut has) = (vec![0f32; k], vec![false; k]);
            for t in &self.trees {
                for &(j, w) in t.leaf(row)? {
                    score[j] = match self.aggregate {
                        Aggregate::Sum | Aggregate::Average => score[j] + w,
                        Aggregate::Min if has[j] => score[j].min(w),
                        Aggregate::Max if has[j] => score[j].max(w),
                        _ => w,
                    };
                    has[j] = true;
                }
            }
            let n = self.trees.len() as f32;
            let mut v: Vec<f32> = (0..k)
                .map(|j| match self.aggregate {
                    Aggregate::Sum => score[j] + self.base[j],
                    Aggregate::Average => score[j] / n + self.base[j],
                    Aggregate::Min | Aggregate::Max => self.base[j] + if has[j] { score[j] } else { 0.0 },
                })
                .collect();
            post_transform(&self.post, &mut v);
            out.extend(v);
        }
        Ok(ArrayD::from_shape_vec(IxDyn(&[rows, k]), out).unwrap())
    }
}

/// onnxruntime's `LOGISTIC` of each score, or `SOFTMAX` of them all (max-subtracted); `NONE`
/// leaves them.
fn post_transform(kind: &str, v: &mut [f32]) {
    match kind {
        "LOGISTIC" => v.iter_mut().for_each(|s| *s = logistic(*s)),
        "SOFTMAX" => {
            let m = v.iter().fold(f32::MIN, |a, &b| a.max(b));
            v.iter_mut().for_each(|s| *s = (*s - m).exp());
            let sum: f32 = v.iter().sum();
            v.iter_mut().for_each(|s| *s /= sum);
        }
        _ => {}
    }
}

/// onnxruntime's `ComputeLogistic`.
fn logistic(x: f32) -> f32 {
    let v = 1.0 / (1.0 + (-x.abs()).exp());
    if x < 0.0 { 1.0 - v } else { v }
}

/// A TreeEnsembleClassifier: the raw class scores as a regression ensemble, and how the labels
/// and the probabilities follow from them.
#[derive(Debug, Clone, PartialEq)]
pub struct Classifier {
    /// `classlabels_int64s`.
    pub labels: Vec<i64>,
    /// The raw scores, one column per output column: SUM, no post transform, the base added.
    /// With three or more classes, the class sums plus `base_values`. With two classes and
    /// weights for class 0 only (scikit-learn's binary forests), `p = Σ w + base` and the
    /// columns `[c − p, p]`, `c = 1` when every weight is ≥ 0 and 0 otherwise: the label is
    /// the second class exactly when `p > c − p`, i.e. `p > 0.5` or `p > 0` as onnxruntime
    /// decides.
    pub scores: Ensemble,
    /// The transform from the raw scores to the probabilities: `post_transform` for three
    /// or more classes; for the binary form onnxruntime writes `[1 − p, p]` as they are when
    /// every weight is ≥ 0, `[σ(−p), σ(p)]` with `LOGISTIC`, else `[−p, p]`.
    pub transform: String,
}

impl Classifier {
    /// The classifier of a TreeEnsembleClassifier node, in the forms accepted: integer labels;
    /// three or more classes each scored on every row (`base_values` for all, or a tree whose
    /// every leaf has a weight for it: onnxruntime leaves a class no leaf reached out of the
    /// argmax); or two classes with weights for class 0 only and at most one base value.
    pub fn from_node(n: &Node) -> R<Classifier> {
        let labels = match n.attr("classlabels_int64s") {
            Some(Attr::Ints(v)) => v.clone(),
            _ if n.attr("classlabels_strings").is_some() => {
                return Err("string class labels are not supported (integer labels only)".into());
            }
            _ => return Err("attribute classlabels_int64s missing".into()),
        };
        let classes = labels.len();
        let post = n.str("post_transform", "NONE");
        if !matches!(post.as_str(), "NONE" | "LOGISTIC" | "SOFTMAX") {
            return Err(format!("post_transform {post} is not supported (NONE, LOGISTIC, SOFTMAX)"));
        }
        let trees = trees_v3(n, "class")?;
        let base = reals(n, "base_values").unwrap_or_default();
        let weights =
            || trees.iter().flat_map(|t| &t.nodes).filter_map(|n| if let TreeNode::Leaf(w) = n { Some(w) } else { None }).flatten();
        let ids: std::collections::BTreeSet<usize> = weights().map(|&(k, _)| k).collect();
        if let Some(&k) = ids.iter().find(|&&k| k >= classes) {
            return Err(format!("class id {k} for {classes} class labels"));
        }
        let (scores, transform) = if classes >= 3 {
            if !(base.is_empty() || base.len() == classes) {
                return Err(format!("{} base_values for {classes} classes", base.len()));
            }
            if base.is_empty()
                && let Some(k) = (0..classes).find(|&k| {
                    !trees
                        .iter()
                        .any(|t| t.leaves().iter().all(|&i| matches!(&t.nodes[i], TreeNode::Leaf(w) if w.iter().any(|e| e.0 == k))))
                })
            {
                return Err(format!(
                    "class {k} is not scored on every row (no base_values, and no tree with a weight for it on every leaf)"
                ));
            }
            let base = effective_base(&base, classes)?;
            (Ensemble { n_targets: classes, trees, aggregate: Aggregate::Sum, base, post: "NONE".into() }, post)
        } else if classes == 2 && ids.iter().all(|&k| k == 0) && base.len() <= 1 {
            if !trees.iter().any(|t| t.leaves().iter().all(|&i| matches!(&t.nodes[i], TreeNode::Leaf(w) if !w.is_empty()))) {
                return Err("the binary score is not computed on every row (no tree with a weight on every leaf)".into());
            }
            let all_positive = !weights().any(|&(_, w)| w < 0.0);
            let b0 = base.first().copied().unwrap_or(0.0);
            let c = if all_positive { 1.0f32 } else { 0.0 };
            let trees = trees
                .into_iter()
                .map(|t| Tree {
                    nodes: t
                        .nodes
                        .into_iter()
                        .map(|n| match n {
                            TreeNode::Leaf(w) => TreeNode::Leaf(w.iter().flat_map(|&(_, w)| [(0, -w), (1, w)]).collect()),
                            branch => branch,
                        })
                        .collect(),
                })
                .collect();
            let transform = if !all_positive && post == "LOGISTIC" { "LOGISTIC" } else { "NONE" };
            (Ensemble { n_targets: 2, trees, aggregate: Aggregate::Sum, base: vec![c - b0, b0], post: "NONE".into() }, transform.into())
        } else {
            return Err(format!(
                "{classes} classes with weights for classes {ids:?} and {} base_values: only three or more classes, or two with weights for class 0 alone and at most one base value, are supported",
                base.len()
            ));
        };
        scores.check()?;
        Ok(Classifier { labels, scores, transform })
    }

    /// The labels `[N]` (the class of the first largest raw score) and the probabilities
    /// `[N, classes]` for `x` of shape `[N, F]`.
    pub fn eval(&self, x: &ArrayD<f32>) -> R<(ArrayD<i64>, ArrayD<f32>)> {
        let mut s = self.scores.eval(x)?;
        let labels: Vec<i64> =
            s.rows().into_iter().map(|r| self.labels[r.iter().enumerate().fold(0, |b, (j, &v)| if v > r[b] { j } else { b })]).collect();
        for mut row in s.rows_mut() {
            post_transform(&self.transform, row.as_slice_mut().unwrap());
        }
        Ok((ArrayD::from_shape_vec(IxDyn(&[labels.len()]), labels).unwrap(), s))
    }
}

fn eval_ensemble_node(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    Ok(vec![Value::Float(Ensemble::from_node(n)?.eval(&input(ins, 0)?.to_f32())?)])
}

fn eval_classifier_node(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let (labels, probabilities) = Classifier::from_node(n)?.eval(&input(ins, 0)?.to_f32())?;
    Ok(vec![Value::Int(labels), Value::Float(probabilities)])
}

/// The steps `u_c = [q ≤ c]` (as `(step, ±1)` terms) and the constant whose sum is 1 where
/// `table` holds and 0 elsewhere: one run `[a, b]` of codes is `u_b − u_{a−1}`, with
/// `u_127 = 1` and `u_{−129} = 0` constants.
fn predicate_terms(table: &[bool; 256]) -> (Vec<(i32, i64)>, i64) {
    let (mut terms, mut constant) = (vec![], 0);
    let mut i = 0;
    while i < 256 {
        if !table[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < 256 && table[i] {
            i += 1;
        }
        let (a, b) = (start as i32 - 128, i as i32 - 129);
        if b == 127 {
            constant += 1;
        } else {
            terms.push((b, 1));
        }
        if a > -128 {
            terms.push((a - 1, -1));
        }
    }
    (terms, constant)
}

/// One tree in integer form: the steps `(feature, c)` it reads and, per leaf, the linear form
/// `Σ coef · u + constant` over them that is 1 exactly on the leaf the row reaches and ≤ 0 on
/// the others.
struct TreePlan {
    steps: Vec<(usize, i32)>,
    leaves: Vec<LeafPlan>,
}

/// A leaf of a [`TreePlan`]: `Σ coef · u + constant`, and its `(target, value)` entries.
struct LeafPlan {
    coef: Vec<(usize, i64)>,
    constant: i64,
    entries: Vec<(usize, f32)>,
}

/// The integer form of `tree` for features quantized by `quant` (`features` of them).
fn plan_tree(tree: &Tree, quant: Quant, features: usize) -> R<TreePlan> {
    let mut steps: Vec<(usize, i32)> = vec![];
    let mut step_of: HashMap<(usize, i32), usize> = HashMap::new();
    let mut leaves = vec![];
    // (node, Σ coef·u over steps, constant, number of conditions on the path)
    let mut stack: Vec<(usize, BTreeMap<usize, i64>, i64, i64)> = vec![(0, BTreeMap::new(), 0, 0)];
    while let Some((i, form, constant, len)) = stack.pop() {
        match &tree.nodes[i] {
            TreeNode::Leaf(w) => {
                // all `len` conditions hold: the sum is `len`; shifted so that it is then 1
                let coef: Vec<(usize, i64)> = form.into_iter().filter(|&(_, c)| c != 0).collect();
                leaves.push(LeafPlan { coef, constant: constant - (len - 1), entries: w.clone() });
            }
            TreeNode::Branch { feature, split, yes, no, .. } => {
                if *feature >= features {
                    return Err(format!("feature {feature} is out of range for {features} features"));
                }
                let (terms, c0) = predicate_terms(&split.code_table(quant));
                let (mut on_yes, mut on_no) = (form.clone(), form);
                for (c, sign) in terms {
                    let s = *step_of.entry((*feature, c)).or_insert_with(|| {
                        steps.push((*feature, c));
                        steps.len() - 1
                    });
                    *on_yes.entry(s).or_default() += sign;
                    *on_no.entry(s).or_default() -= sign;
                }
                stack.push((*no, on_no, constant + 1 - c0, len + 1));
                stack.push((*yes, on_yes, constant + c0, len + 1));
            }
        }
    }
    Ok(TreePlan { steps, leaves })
}

/// The multiplier 1: the exact identity requantization.
fn one() -> Multiplier {
    Multiplier::from_real(1.0)
}

/// The quantization of the 0/1 tensors (steps, leaf indicators): codes 0 and 1 at scale 1.
const UNIT: Quant = Quant { scale: 1.0, zero_point: 0 };

/// The table of `[v ≥ at]` on int8 codes, as codes 0 and 1.
fn at_least(at: i32) -> Op {
    Op::Lut(Lut { axis: None, tables: (-128i32..=127).map(|v| i8::from(v >= at)).collect() })
}

/// Symmetric int8 weights for one output channel of values `w` and bias `b` over a 0/1 input
/// (scale 1): the weight scale (large enough that the bias fits in ±2^30), the codes and the
/// bias code.
fn channel_weights(w: &[f64], b: f64) -> (f64, Vec<i8>, i32) {
    let maxabs = w.iter().fold(0f64, |m, v| m.max(v.abs()));
    let mut ws = (maxabs / 127.0).max(b.abs() / 2f64.powi(30));
    if !(ws > 0.0 && ws.is_finite()) {
        ws = 1.0;
    }
    let codes = w.iter().map(|v| (v / ws).round_ties_even().clamp(-127.0, 127.0) as i8).collect();
    (ws, codes, (b / ws).round() as i32)
}

/// Lower TreeEnsembleRegressor / TreeEnsemble (see the module docs).
pub(crate) fn lower(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let ens = Ensemble::from_node(n)?;
    if ens.post != "NONE" {
        return Err(format!("post_transform {} is not supported here (passes::expand_trees moves it after the ensemble)", ens.post));
    }
    let g = l.g;
    let xt = n.input(0).ok_or("input X missing")?;
    let x = l.id(xt)?;
    if l.model.tensor(x).dtype != DType::I8 {
        return Err("the features X must be a real (int8) tensor".into());
    }
    let (rows, features) = match g.shape(xt) {
        &[r, f] => (r, f),
        other => return Err(format!("the features X must have shape [N, F], got {other:?}")),
    };
    let qx = l.quant(x);
    let plans = ens.trees.iter().map(|t| plan_tree(t, qx, features)).collect::<R<Vec<_>>>()?;
    let trees = plans.len();
    // per tree: its steps, then a step that always holds (u_127 = 1: the leaves' constants)
    let m = plans.iter().map(|p| p.steps.len()).max().unwrap_or(0) + 1;
    let lv = plans.iter().map(|p| p.leaves.len()).max().unwrap_or(0).max(1);
    super::check_elements(&[trees, m, lv], "the ensemble's path matrices (trees × steps × leaves)")?;
    super::check_elements(&[rows, trees, m], "the ensemble's steps")?;
    super::check_elements(&[rows, trees, lv], "the ensemble's leaves")?;
    if m > 33025 {
        return Err(format!("a tree reads {} steps, more than the 33,025 a MatMul sums", m - 1));
    }
    let name = n.name.clone();
    let tensor =
        |l: &mut Lowering<'_>, what: &str, shape: &[usize], q: Quant| l.tensor(&format!("{name}.{what}"), shape, DType::I8, Some(q));
    let constant = |l: &mut Lowering<'_>, what: &str, shape: &[usize], q: Quant, codes: Vec<i8>| {
        let t = l.tensor(&format!("{name}.{what}"), shape, DType::I8, Some(q));
        l.model.constants.push((t, ConstData::I8(codes)));
        t
    };

    // the steps u_c = [q_f ≤ c]: the features gathered, c − q (saturating: its sign is exact),
    // and the table [d ≥ 0]
    let (mut indices, mut thresholds) = (Vec::with_capacity(trees * m), Vec::with_capacity(trees * m));
    for p in &plans {
        for j in 0..m {
            let (f, c) = p.steps.get(j).copied().unwrap_or((0, 127));
            indices.push(f as u32);
            thresholds.push(c as i8);
        }
    }
    let gathered = tensor(l, "split_features", &[rows, trees * m], qx);
    l.emit(&format!("{name}.split_features"), Op::Gather { axis: 1, indices }, vec![x], vec![gathered]);
    let cs = constant(l, "split_codes", &[trees * m], qx, thresholds);
    let diff_q = Quant { scale: qx.scale, zero_point: 0 };
    let diff = tensor(l, "split_margins", &[rows, trees * m], diff_q);
    // exact: (c − zp)·2^20 / 2 − (q − zp)·2^20 / 2 = (c − q)·2^19, times 2^-19
    let sub = Binary {
        kind: BinaryKind::Sub,
        a_zero_point: qx.zero_point,
        b_zero_point: qx.zero_point,
        left_shift: 20,
        a_multiplier: Multiplier::from_real(0.5),
        b_multiplier: Multiplier::from_real(0.5),
        output_multiplier: Multiplier::from_real(2f64.powi(-19)),
        output_zero_point: 0,
        clamp_min: -128,
        clamp_max: 127,
    };
    l.emit(&format!("{name}.split_margins"), Op::Binary(sub), vec![cs, gathered], vec![diff]);
    let steps = tensor(l, "steps", &[rows, trees * m], UNIT);
    l.emit(&format!("{name}.steps"), at_least(0), vec![diff], vec![steps]);
    let steps4 = tensor(l, "steps_per_tree", &[rows, trees, 1, m], UNIT);
    let strides = vec![(trees * m) as i64, m as i64, m as i64, 1];
    l.emit(&format!("{name}.steps_per_tree"), Op::View(View { offset: 0, strides }), vec![steps], vec![steps4]);

    // the leaves: per tree, Σ coef·u + constant (the constant on the always-true step), then
    // the table [v ≥ 1]
    let mut paths = vec![0i8; trees * m * lv];
    for (t, p) in plans.iter().enumerate() {
        for (j, LeafPlan { coef, constant, .. }) in p.leaves.iter().enumerate() {
            for &(s, c) in coef {
                paths[(t * m + s) * lv + j] =
                    i8::try_from(c).map_err(|_| format!("a leaf's path reads one step {c} times (more than 127)"))?;
            }
            paths[(t * m + m - 1) * lv + j] = i8::try_from(*constant).map_err(|_| "a leaf's path is longer than 127 splits".to_string())?;
        }
    }
    let paths = constant(l, "paths", &[trees, m, lv], UNIT, paths);
    let sums = tensor(l, "path_sums", &[rows, trees, 1, lv], UNIT);
    let mm = solidml_spec::MatMul { a_zero_point: 0, b_zero_point: 0, multiplier: one(), output_zero_point: 0 };
    l.emit(&format!("{name}.path_sums"), Op::MatMul(mm), vec![steps4, paths], vec![sums]);
    let leaves = tensor(l, "leaves", &[rows, trees, 1, lv], UNIT);
    l.emit(&format!("{name}.leaves"), at_least(1), vec![sums], vec![leaves]);

    let y = n.outputs[0];
    let k = ens.n_targets;
    match ens.aggregate {
        Aggregate::Sum | Aggregate::Average => {
            let scale = if ens.aggregate == Aggregate::Average { 1.0 / trees as f64 } else { 1.0 };
            let mut w = vec![0f64; k * trees * lv];
            for (t, p) in plans.iter().enumerate() {
                for (j, LeafPlan { entries, .. }) in p.leaves.iter().enumerate() {
                    for &(target, v) in entries {
                        w[target * trees * lv + t * lv + j] += v as f64 * scale;
                    }
                }
            }
            let flat = tensor(l, "leaf_indicators", &[rows, trees * lv], UNIT);
            let strides = vec![(trees * lv) as i64, 1];
            l.emit(&format!("{name}.leaf_indicators"), Op::View(View { offset: 0, strides }), vec![leaves], vec![flat]);
            let bias: Vec<f64> = ens.base.iter().map(|&b| b as f64).collect();
            sum_leaf_values(l, n, flat, &w, &bias, trees * lv)
        }
        Aggregate::Min | Aggregate::Max => {
            let min = ens.aggregate == Aggregate::Min;
            // each tree's value per target (the smallest/largest entry of its leaf), the base
            // added: min_t(v_t) + b = min_t(v_t + b)
            let mut values = vec![0f64; trees * lv * k];
            for (t, p) in plans.iter().enumerate() {
                for (j, LeafPlan { entries, .. }) in p.leaves.iter().enumerate() {
                    for target in 0..k {
                        let v = entries.iter().filter(|e| e.0 == target).map(|e| e.1).reduce(|a, b| if min { a.min(b) } else { a.max(b) });
                        let v = v.ok_or_else(|| {
                            format!(
                                "aggregate_function {:?}: a leaf has no value for target {target} (onnxruntime then leaves its tree out of the extremum; not supported)",
                                ens.aggregate
                            )
                        })?;
                        values[(t * lv + j) * k + target] = v as f64 + ens.base[target] as f64;
                    }
                }
            }
            let qo = l.range_quant(y)?;
            let maxabs = values.iter().fold(0f64, |a, v| a.max(v.abs()));
            let ws = if maxabs > 0.0 && maxabs.is_finite() { maxabs / 127.0 } else { 1.0 };
            let codes = values.iter().map(|v| (v / ws).round_ties_even().clamp(-127.0, 127.0) as i8).collect();
            let vq = Quant { scale: ws as f32, zero_point: 0 };
            let table = constant(l, "leaf_values", &[trees, lv, k], vq, codes);
            let per_tree = tensor(l, "tree_values", &[rows, trees, 1, k], qo);
            let mm = solidml_spec::MatMul {
                a_zero_point: 0,
                b_zero_point: 0,
                multiplier: multiplier(ws / qo.scale as f64)?,
                output_zero_point: qo.zero_point,
            };
            l.emit(&format!("{name}.tree_values"), Op::MatMul(mm), vec![leaves, table], vec![per_tree]);
            let grid = tensor(l, "tree_values_grid", &[rows, trees, k], qo);
            let strides = vec![(trees * k) as i64, k as i64, 1];
            l.emit(&format!("{name}.tree_values_grid"), Op::View(View { offset: 0, strides }), vec![per_tree], vec![grid]);
            let kind = if min { ReduceKind::Min } else { ReduceKind::Max };
            let r = Reduce { kind, axes: vec![1], input_zero_point: qo.zero_point, multiplier: one(), output_zero_point: qo.zero_point };
            let o = l.out(y, qo);
            l.emit(&name, Op::Reduce(r), vec![grid], vec![o]);
            Ok(())
        }
    }
}

/// The leaf values summed per target: `y[k] = Σ_j w[k, j] · leaf[j] + bias[k]` over the 0/1
/// leaf indicators `flat` (`[N, J]`), as a Dense with int8 weights, or at a wide precision a
/// DenseWide (an int32 accumulator when `y` only reaches a model output, as Gemm does).
fn sum_leaf_values(l: &mut Lowering<'_>, n: &Node, flat: TensorId, w: &[f64], bias: &[f64], j: usize) -> R<()> {
    let y = n.outputs[0];
    let k = bias.len();
    if l.precision != Precision::Int8 {
        let accumulator = l.only_reaches_output(y) && !l.g.prescribed.contains_key(&y);
        let wf = ArrayD::from_shape_vec(IxDyn(&[k, j]), w.iter().map(|&v| v as f32).collect()).unwrap();
        let bf: Vec<f32> = bias.iter().map(|&b| b as f32).collect();
        return super::gemm::emit_wide(l, n, flat, UNIT, &wf, Some(&bf), accumulator);
    }
    let qo = l.range_quant(y)?;
    let (mut weights, mut bias_q, mut multipliers) = (Vec::with_capacity(k * j), vec![], vec![]);
    for t in 0..k {
        let (ws, codes, b) = channel_weights(&w[t * j..(t + 1) * j], bias[t]);
        let bound = codes.iter().map(|&c| (c as i64).abs() * 255).sum::<i64>() + (b as i64).abs();
        if bound > i32::MAX as i64 {
            return Err(format!("target {t}: the int32 accumulator of the leaf values could overflow (bound {bound})"));
        }
        weights.extend(codes);
        bias_q.push(b);
        multipliers.push(multiplier(ws / qo.scale as f64)?);
    }
    let d = Dense {
        in_features: j as u32,
        out_features: k as u32,
        input_zero_point: 0,
        weights,
        bias: bias_q,
        epilogue: Epilogue { multipliers, output_zero_point: qo.zero_point, clamp_min: -128, clamp_max: 127 },
    };
    let o = l.out(y, qo);
    l.emit(&n.name, Op::Dense(d), vec![flat], vec![o]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn};
    use solidml_cpu::CpuExecutor;

    use super::*;
    use crate::{CompileOptions, compile_graph, passes::testutil::graph};

    /// A branch `(tree, node, feature, mode, value, yes, no)` or a leaf `(tree, node, 0, "LEAF",
    /// 0, 0, 0)` of the opset 1–3 attributes.
    type Row = (i64, i64, i64, &'static str, f32, i64, i64);

    /// The opset 1–3 attributes of `nodes` with the leaf weights `(tree, node, target or class,
    /// weight)` under `prefix`.
    fn v3(nodes: &[Row], weights: &[(i64, i64, i64, f32)], prefix: &str) -> Vec<(String, Attr)> {
        let col = |f: fn(&Row) -> i64| Attr::Ints(nodes.iter().map(f).collect());
        vec![
            ("nodes_treeids".into(), col(|r| r.0)),
            ("nodes_nodeids".into(), col(|r| r.1)),
            ("nodes_featureids".into(), col(|r| r.2)),
            ("nodes_modes".into(), Attr::Strs(nodes.iter().map(|r| r.3.to_string()).collect())),
            ("nodes_values".into(), Attr::Floats(nodes.iter().map(|r| r.4).collect())),
            ("nodes_truenodeids".into(), col(|r| r.5)),
            ("nodes_falsenodeids".into(), col(|r| r.6)),
            (format!("{prefix}_treeids"), Attr::Ints(weights.iter().map(|w| w.0).collect())),
            (format!("{prefix}_nodeids"), Attr::Ints(weights.iter().map(|w| w.1).collect())),
            (format!("{prefix}_ids"), Attr::Ints(weights.iter().map(|w| w.2).collect())),
            (format!("{prefix}_weights"), Attr::Floats(weights.iter().map(|w| w.3).collect())),
        ]
    }

    fn ml_node(op: &str, attrs: Vec<(String, Attr)>) -> Node {
        Node {
            name: op.into(),
            op: op.into(),
            domain: ML.into(),
            attrs: attrs.into_iter().collect(),
            inputs: vec![Some(0)],
            outputs: vec![1],
        }
    }

    fn with(mut attrs: Vec<(String, Attr)>, more: &[(&str, Attr)]) -> Vec<(String, Attr)> {
        attrs.extend(more.iter().map(|(k, v)| (k.to_string(), v.clone())));
        attrs
    }

    /// Two one-split trees on feature 0: `x ≤ 0` and `x ≤ 0.5` (the onnxruntime probes).
    const TWO: &[Row] = &[
        (0, 0, 0, "BRANCH_LEQ", 0.0, 1, 2),
        (0, 1, 0, "LEAF", 0.0, 0, 0),
        (0, 2, 0, "LEAF", 0.0, 0, 0),
        (1, 0, 0, "BRANCH_LEQ", 0.5, 1, 2),
        (1, 1, 0, "LEAF", 0.0, 0, 0),
        (1, 2, 0, "LEAF", 0.0, 0, 0),
    ];

    fn rows(v: &[f32]) -> ArrayD<f32> {
        ArrayD::from_shape_vec(IxDyn(&[v.len(), 1]), v.to_vec()).unwrap()
    }

    /// Outputs measured with onnxruntime 1.23.2 on the same attributes, inputs −1 and 1.
    #[test]
    fn regressors_compute_what_onnxruntime_does() {
        let one_target = [(0, 1, 0, 1.0), (0, 2, 0, 2.0), (1, 1, 0, 10.0), (1, 2, 0, 20.0)];
        for (agg, want) in [("SUM", [111.0, 122.0]), ("AVERAGE", [105.5, 111.0]), ("MIN", [101.0, 102.0]), ("MAX", [110.0, 120.0])] {
            let n = ml_node(
                "TreeEnsembleRegressor",
                with(
                    v3(TWO, &one_target, "target"),
                    &[("aggregate_function", Attr::Str(agg.into())), ("base_values", Attr::Floats(vec![100.0]))],
                ),
            );
            let y = Ensemble::from_node(&n).unwrap().eval(&rows(&[-1.0, 1.0])).unwrap();
            assert_eq!(y.iter().copied().collect::<Vec<_>>(), want, "{agg}");
        }
        // two targets; the leaf of tree 1 taken for x = 1 has no value for target 1
        let two_targets =
            [(0, 1, 0, 1.0), (0, 1, 1, -1.0), (0, 2, 0, 2.0), (0, 2, 1, -2.0), (1, 1, 0, 10.0), (1, 1, 1, -10.0), (1, 2, 0, 20.0)];
        for (agg, post, base, want) in [
            ("SUM", "NONE", vec![], [11.0, -11.0, 22.0, -2.0]),
            ("SUM", "NONE", vec![100.0, 200.0], [111.0, 189.0, 122.0, 198.0]),
            ("SUM", "NONE", vec![7.0, 8.0], [18.0, -3.0, 29.0, 6.0]),
            ("MIN", "NONE", vec![], [1.0, -10.0, 2.0, -2.0]),
            ("MAX", "NONE", vec![100.0, 200.0], [110.0, 199.0, 120.0, 198.0]),
            ("AVERAGE", "NONE", vec![], [5.5, -5.5, 11.0, -1.0]),
            ("MIN", "LOGISTIC", vec![], [0.7311, 0.0, 0.8808, 0.1192]),
            ("MIN", "SOFTMAX", vec![], [1.0, 0.0, 0.982, 0.018]),
        ] {
            let mut attrs = with(
                v3(TWO, &two_targets, "target"),
                &[("n_targets", Attr::Int(2)), ("aggregate_function", Attr::Str(agg.into())), ("post_transform", Attr::Str(post.into()))],
            );
            if !base.is_empty() {
                attrs.push(("base_values".into(), Attr::Floats(base.clone())));
            }
            let y = Ensemble::from_node(&ml_node("TreeEnsembleRegressor", attrs)).unwrap().eval(&rows(&[-1.0, 1.0])).unwrap();
            for (got, want) in y.iter().zip(want) {
                assert!((got - want).abs() < 1e-4, "{agg} {post} {base:?}: {y:?}");
            }
        }
        // onnxruntime ignores LOGISTIC on one target, the ONNX reference applies it: refused
        let n = ml_node("TreeEnsembleRegressor", with(v3(TWO, &one_target, "target"), &[("post_transform", Attr::Str("LOGISTIC".into()))]));
        assert!(Ensemble::from_node(&n).unwrap_err().contains("single target"));
    }

    /// Outputs measured with onnxruntime 1.23.2 (labels, probabilities), inputs −1 and 1.
    #[test]
    fn classifiers_compute_what_onnxruntime_does() {
        let one_tree = &TWO[..3];
        let binary = |w: [f32; 2], post: &str, base: Option<f32>| {
            let mut attrs = with(
                v3(one_tree, &[(0, 1, 0, w[0]), (0, 2, 0, w[1])], "class"),
                &[("classlabels_int64s", Attr::Ints(vec![0, 1])), ("post_transform", Attr::Str(post.into()))],
            );
            if let Some(b) = base {
                attrs.push(("base_values".into(), Attr::Floats(vec![b])));
            }
            Classifier::from_node(&ml_node("TreeEnsembleClassifier", attrs)).unwrap().eval(&rows(&[-1.0, 1.0])).unwrap()
        };
        for (w, post, base, labels, probs) in [
            // every weight ≥ 0: [1 − p, p], whatever the post transform
            ([0.3, 0.7], "NONE", None, [0, 1], [0.7, 0.3, 0.3, 0.7]),
            ([0.3, 0.7], "LOGISTIC", Some(0.1), [0, 1], [0.6, 0.4, 0.2, 0.8]),
            ([0.3, 0.7], "SOFTMAX", None, [0, 1], [0.7, 0.3, 0.3, 0.7]),
            ([0.2, 0.0], "NONE", None, [0, 0], [0.8, 0.2, 1.0, 0.0]),
            // mixed signs: [−p, p], or [σ(−p), σ(p)] with LOGISTIC; the label is p > 0
            ([-0.4, 0.6], "NONE", None, [0, 1], [0.4, -0.4, -0.6, 0.6]),
            ([-0.4, 0.6], "LOGISTIC", None, [0, 1], [0.5987, 0.4013, 0.3543, 0.6457]),
            ([-0.4, 0.6], "LOGISTIC", Some(0.1), [0, 1], [0.5744, 0.4256, 0.3318, 0.6682]),
            ([-0.4, 0.6], "SOFTMAX", Some(0.1), [0, 1], [0.3, -0.3, -0.7, 0.7]),
        ] {
            let (l, p) = binary(w, post, base);
            assert_eq!(l.iter().copied().collect::<Vec<_>>(), labels, "{w:?} {post} {base:?}");
            for (got, want) in p.iter().zip(probs) {
                assert!((got - want).abs() < 1e-4, "{w:?} {post} {base:?}: {p:?}");
            }
        }
        // three classes, class 2 only on one leaf of tree 1: needs base_values
        let weights = [(0, 1, 0, 0.1), (0, 1, 1, 0.2), (0, 2, 0, 0.3), (0, 2, 1, 0.1), (1, 1, 0, 0.1), (1, 1, 2, 0.5), (1, 2, 1, 0.05)];
        let attrs = |post: &str| {
            with(
                v3(TWO, &weights, "class"),
                &[("classlabels_int64s", Attr::Ints(vec![3, 5, 7])), ("post_transform", Attr::Str(post.into()))],
            )
        };
        let e = Classifier::from_node(&ml_node("TreeEnsembleClassifier", attrs("NONE"))).unwrap_err();
        assert!(e.contains("class 2 is not scored on every row"), "{e}");
        for (post, probs) in [
            ("NONE", [0.7, 0.2, 0.0, 0.8, 0.15, -0.5]),
            ("LOGISTIC", [0.6682, 0.5498, 0.5, 0.69, 0.5374, 0.3775]),
            ("SOFTMAX", [0.4755, 0.2884, 0.2361, 0.5572, 0.2909, 0.1519]),
        ] {
            let n = ml_node("TreeEnsembleClassifier", with(attrs(post), &[("base_values", Attr::Floats(vec![0.5, 0.0, -0.5]))]));
            let (l, p) = Classifier::from_node(&n).unwrap().eval(&rows(&[-1.0, 1.0])).unwrap();
            assert_eq!(l.iter().copied().collect::<Vec<_>>(), [3, 3], "{post}");
            for (got, want) in p.iter().zip(probs) {
                assert!((got - want).abs() < 1e-4, "{post}: {p:?}");
            }
        }
        // forms onnxruntime treats in ways of its own: refused
        let two_ids = with(
            v3(one_tree, &[(0, 1, 0, 0.3), (0, 1, 1, 0.7), (0, 2, 0, 0.6), (0, 2, 1, 0.4)], "class"),
            &[("classlabels_int64s", Attr::Ints(vec![0, 1]))],
        );
        assert!(
            Classifier::from_node(&ml_node("TreeEnsembleClassifier", two_ids)).unwrap_err().contains("two with weights for class 0 alone")
        );
        let strings = with(
            v3(one_tree, &[(0, 1, 0, 0.3), (0, 2, 0, 0.6)], "class"),
            &[("classlabels_strings", Attr::Strs(vec!["a".into(), "b".into()]))],
        );
        assert!(Classifier::from_node(&ml_node("TreeEnsembleClassifier", strings)).unwrap_err().contains("string class labels"));
    }

    /// The opset 5 cases of the ONNX node suite (`test_ai_onnx_ml_tree_ensemble_*`), their
    /// expected outputs (their split values, 3.14 among them, as the suite has them).
    #[allow(clippy::approx_constant)]
    fn opset5(single: bool) -> Node {
        let t = |v: Vec<f32>| Attr::Tensor(Value::Float(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v).unwrap()));
        let modes = |v: Vec<i64>| Attr::Tensor(Value::Int(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v).unwrap()));
        let mut attrs = vec![
            ("aggregate_function", Attr::Int(1)),
            ("nodes_featureids", Attr::Ints(vec![0, 0, 0])),
            ("nodes_falseleafs", Attr::Ints(vec![if single { 0 } else { 1 }, if single { 1 } else { 0 }, 1])),
            ("nodes_falsenodeids", Attr::Ints(vec![2, 2, 3])),
            ("nodes_trueleafs", Attr::Ints(vec![0, 1, 1])),
            ("nodes_truenodeids", Attr::Ints(vec![1, 0, 1])),
            ("post_transform", Attr::Int(0)),
            ("tree_roots", Attr::Ints(vec![0])),
        ];
        if single {
            attrs.extend([
                ("leaf_targetids", Attr::Ints(vec![0, 1, 0, 1])),
                ("leaf_weights", t(vec![5.23, 12.12, -12.23, 7.21])),
                ("n_targets", Attr::Int(2)),
                ("nodes_modes", modes(vec![0, 0, 0])),
                ("nodes_splits", t(vec![3.14, 1.2, 4.2])),
            ]);
        } else {
            attrs.extend([
                ("leaf_targetids", Attr::Ints(vec![0, 1, 2, 3])),
                ("leaf_weights", t(vec![1.0, 10.0, 1000.0, 100.0])),
                ("membership_values", t(vec![1.2, 3.7, 8.0, 9.0, f32::NAN, 12.0, 7.0, f32::NAN])),
                ("n_targets", Attr::Int(4)),
                ("nodes_modes", modes(vec![0, 6, 6])),
                ("nodes_splits", t(vec![11.0, 232344.0, f32::NAN])),
            ]);
        }
        ml_node("TreeEnsemble", attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    #[test]
    fn tree_ensemble_opset5_computes_the_suite_outputs() {
        let x = ArrayD::from_shape_vec(IxDyn(&[3, 2]), vec![1.2, 3.4, -0.12, 1.66, 4.14, 1.77]).unwrap();
        let y = Ensemble::from_node(&opset5(true)).unwrap().eval(&x).unwrap();
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), [5.23, 0.0, 5.23, 0.0, 0.0, 12.12]);
        let y = Ensemble::from_node(&opset5(false)).unwrap().eval(&rows(&[1.2, 3.4, -0.12, f32::NAN, 12.0, 7.0])).unwrap();
        let want = [
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 100.0],
            [0.0, 0.0, 0.0, 100.0],
            [0.0, 0.0, 1000.0, 0.0],
            [0.0, 0.0, 1000.0, 0.0],
            [0.0, 10.0, 0.0, 0.0],
        ];
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), want.concat());
        // a non-NONE post transform is read differently by onnxruntime and the specification
        let mut n = opset5(true);
        n.attrs.insert("post_transform".into(), Attr::Int(2));
        assert!(Ensemble::from_node(&n).unwrap_err().contains("read differently"));
    }

    #[test]
    fn malformed_trees_are_refused() {
        // node 1 of tree 0 reached from the root and from node 2: a DAG
        let dag: &[Row] = &[
            (0, 0, 0, "BRANCH_LEQ", 0.0, 1, 2),
            (0, 1, 0, "LEAF", 0.0, 0, 0),
            (0, 2, 0, "BRANCH_LEQ", 1.0, 1, 3),
            (0, 3, 0, "LEAF", 0.0, 0, 0),
        ];
        let e = Ensemble::from_node(&ml_node("TreeEnsembleRegressor", v3(dag, &[], "target"))).unwrap_err();
        assert!(e.contains("reached twice"), "{e}");
        // a child that does not exist, a weight on a branch, an unknown mode
        let bad: &[Row] = &[(0, 0, 0, "BRANCH_LEQ", 0.0, 1, 5), (0, 1, 0, "LEAF", 0.0, 0, 0)];
        assert!(Ensemble::from_node(&ml_node("TreeEnsembleRegressor", v3(bad, &[], "target"))).unwrap_err().contains("does not exist"));
        let e = Ensemble::from_node(&ml_node("TreeEnsembleRegressor", v3(&TWO[..3], &[(0, 0, 0, 1.0)], "target"))).unwrap_err();
        assert!(e.contains("not a leaf"), "{e}");
        let odd: &[Row] = &[(0, 0, 0, "BRANCH_ODD", 0.0, 1, 2), (0, 1, 0, "LEAF", 0.0, 0, 0), (0, 2, 0, "LEAF", 0.0, 0, 0)];
        assert!(Ensemble::from_node(&ml_node("TreeEnsembleRegressor", v3(odd, &[], "target"))).unwrap_err().contains("BRANCH_ODD"));
    }

    #[test]
    fn code_tables_are_the_float_decision_on_the_dequantized_code() {
        let mut s = 12345u32;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s
        };
        for _ in 0..500 {
            let quant = Quant { scale: (next() % 1000 + 1) as f32 / 997.0, zero_point: (next() % 256) as i32 - 128 };
            let t = ((next() % 4000) as f32 - 2000.0) / 93.0;
            // x ≤ t on the codes is q ≤ c with c = ⌊t/s + zp⌋ (clamped): an integer threshold
            let leq = Split::Leq(t).code_table(quant);
            let c = ((t as f64 / quant.scale as f64).floor() + quant.zero_point as f64).clamp(-129.0, 127.0) as i32;
            let exact_quotient = (t as f64 / quant.scale as f64).fract() != 0.0;
            for (i, &holds) in leq.iter().enumerate() {
                let q = i as i32 - 128;
                let x = dequantize_f32(q, quant.scale, quant.zero_point);
                if exact_quotient {
                    assert_eq!(holds, q <= c, "t {t} {quant:?} q {q}");
                }
                assert_eq!(holds, x <= t);
                assert_eq!(Split::Lt(t).code_table(quant)[i], x < t);
                assert_eq!(Split::Gte(t).code_table(quant)[i], x >= t);
                assert_eq!(Split::Gt(t).code_table(quant)[i], x > t);
                // equality: the code t quantizes to
                let qt = quantize_f32(t, quant.scale, quant.zero_point) as i32;
                assert_eq!(Split::Eq(t).code_table(quant)[i], q == qt);
                assert_eq!(Split::Neq(t).code_table(quant)[i], q != qt);
                assert_eq!(
                    Split::Member(vec![t, f32::NAN, -t]).code_table(quant)[i],
                    q == qt || q == quantize_f32(-t, quant.scale, quant.zero_point) as i32
                );
            }
        }
        assert!(Split::Eq(f32::NAN).code_table(Quant { scale: 1.0, zero_point: 0 }).iter().all(|&h| !h));
    }

    #[test]
    fn any_code_predicate_is_a_sum_of_steps() {
        let mut s = 99u32;
        for case in 0..300 {
            let mut table = [false; 256];
            // runs of random lengths, the ends included in some cases
            let mut i = 0;
            let mut on = case % 2 == 0;
            while i < 256 {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                let len = 1 + (s % if case % 3 == 0 { 256 } else { 9 }) as usize;
                for slot in table.iter_mut().skip(i).take(len) {
                    *slot = on;
                }
                i += len;
                on = !on;
            }
            let (terms, constant) = predicate_terms(&table);
            for (i, &want) in table.iter().enumerate() {
                let q = i as i32 - 128;
                let v: i64 = constant + terms.iter().map(|&(c, sign)| if q <= c { sign } else { 0 }).sum::<i64>();
                assert_eq!(v, want as i64, "case {case} q {q}");
                assert!(terms.iter().all(|&(c, _)| (-128..=126).contains(&c)));
            }
        }
    }

    /// Tree 0 reads both features with every order mode and the two equality modes (leaf values
    /// 1 to 7), tree 1 reads both (16, 32, 127): each sum names its pair of leaves.
    const MIXED: &[Row] = &[
        (0, 0, 0, "BRANCH_LEQ", 0.3, 1, 2),
        (0, 1, 1, "BRANCH_GT", -0.2, 3, 4),
        (0, 2, 0, "BRANCH_LT", 0.7, 5, 6),
        (0, 3, 0, "LEAF", 0.0, 0, 0),
        (0, 4, 1, "BRANCH_EQ", -0.5, 7, 8),
        (0, 5, 0, "LEAF", 0.0, 0, 0),
        (0, 6, 1, "BRANCH_NEQ", 0.25, 9, 10),
        (0, 7, 0, "LEAF", 0.0, 0, 0),
        (0, 8, 0, "LEAF", 0.0, 0, 0),
        (0, 9, 0, "LEAF", 0.0, 0, 0),
        (0, 10, 0, "LEAF", 0.0, 0, 0),
        (1, 0, 1, "BRANCH_GTE", 0.1, 1, 2),
        (1, 1, 0, "LEAF", 0.0, 0, 0),
        (1, 2, 0, "BRANCH_LEQ", -0.4, 3, 4),
        (1, 3, 0, "LEAF", 0.0, 0, 0),
        (1, 4, 0, "LEAF", 0.0, 0, 0),
    ];

    fn mixed_values(second: [f32; 3]) -> Vec<(i64, i64, i64, f32)> {
        let mut w: Vec<_> = [3, 5, 7, 8, 9, 10].iter().zip(1..).map(|(&n, v)| (0, n, 0, v as f32)).collect();
        w.extend([(1, 1, 0, second[0]), (1, 3, 0, second[1]), (1, 4, 0, second[2])]);
        w
    }

    /// `x` model input `[256, 2]` → the ensemble `n` → output; calibrated on a grid of the
    /// features with the split values themselves.
    fn compiled(n: Node, opts: CompileOptions) -> (Graph, crate::Compiled) {
        let mut g = graph(&[("x", &[256, 2])]);
        let y = g.add_tensor("y", true);
        let mut n = n;
        n.outputs = vec![y];
        g.nodes.push(n);
        crate::passes::testutil::output(&mut g, y);
        let calib: Vec<f32> = (0..256 * 2).map(|i| ((i * 37) % 211) as f32 / 100.0 - 1.05).collect();
        let c =
            compile_graph(&mut g, "trees", &opts.with_calibration(vec![ArrayD::from_shape_vec(IxDyn(&[256, 2]), calib).unwrap()])).unwrap();
        (g, c)
    }

    /// Runs the compiled model on every pair of input codes, 256 rows at a time; returns, per
    /// pair, the dequantized output and the leaf values the rewritten ensemble in `g` reaches
    /// when its splits are decided by their code tables.
    fn every_code_pair(g: &Graph, c: &crate::Compiled) -> Vec<(Vec<f32>, Vec<Vec<f32>>)> {
        let m = &c.model;
        let x = m.tensor(m.inputs[0]);
        let quant = x.quant.unwrap();
        let e = Ensemble::from_node(g.nodes.iter().find(|n| n.op.starts_with("TreeEnsemble")).unwrap()).unwrap();
        let cpu = CpuExecutor::new(m).unwrap();
        let mut out = vec![];
        for q0 in -128i32..=127 {
            let codes: Vec<i8> = (-128i32..=127).flat_map(|q1| [q0 as i8, q1 as i8]).collect();
            let y = cpu.run(&[solidml_exec::Value::I8(codes.clone())]).unwrap();
            let got = crate::runner::dequantize_output(m, 0, &y[0]).to_f32();
            for (r, pair) in codes.chunks(2).enumerate() {
                let leaves: Vec<Vec<f32>> = e
                    .trees
                    .iter()
                    .map(|t| {
                        let mut i = 0;
                        loop {
                            match &t.nodes[i] {
                                TreeNode::Branch { feature, split, yes, no, .. } => {
                                    i = if split.code_table(quant)[(pair[*feature] as i32 + 128) as usize] { *yes } else { *no }
                                }
                                TreeNode::Leaf(w) => break w.iter().map(|x| x.1).collect(),
                            }
                        }
                    })
                    .collect();
                out.push((got.index_axis(ndarray::Axis(0), r).iter().copied().collect(), leaves));
            }
        }
        out
    }

    #[test]
    fn lowered_ensembles_take_exactly_the_leaves_the_codes_decide() {
        let n = ml_node("TreeEnsembleRegressor", v3(MIXED, &mixed_values([16.0, 32.0, 127.0]), "target"));
        let (g, c) = compiled(n, CompileOptions::default());
        let m = &c.model;
        let ops: Vec<&str> = m.nodes.iter().map(|n| n.op.kind()).collect();
        assert_eq!(ops, ["Gather", "Sub", "Lut", "View", "MatMul", "Lut", "View", "Dense"]);
        // the input was rescaled per feature: the Scaler folded into the input quantization
        assert_eq!(m.input_quant.len(), 1);
        assert_eq!(m.tensor(m.inputs[0]).quant, Some(crate::passes::expand_trees::RESCALED));
        // the leaf values are integers up to 127 (weights exact at scale 1): each output rounds
        // to the sum of the two leaves the code tables pick
        let mut seen = std::collections::BTreeSet::new();
        for (got, leaves) in every_code_pair(&g, &c) {
            let want: f32 = leaves.iter().map(|l| l[0]).sum();
            assert_eq!(got[0].round(), want, "{leaves:?}");
            seen.extend(leaves.iter().map(|l| l[0] as i32));
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6, 16, 32, 127], "every leaf is reached");

        // AVERAGE: the same sums halved
        let avg = with(v3(MIXED, &mixed_values([16.0, 32.0, 127.0]), "target"), &[("aggregate_function", Attr::Str("AVERAGE".into()))]);
        let (g, c) = compiled(ml_node("TreeEnsembleRegressor", avg), CompileOptions::default());
        for (got, leaves) in every_code_pair(&g, &c) {
            assert_eq!((2.0 * got[0]).round(), leaves.iter().map(|l| l[0]).sum::<f32>());
        }

        // MIN and MAX: a MatMul of each tree's value, Reduce over the trees
        for agg in ["MIN", "MAX"] {
            let attrs = with(v3(MIXED, &mixed_values([2.0, 4.0, 6.0]), "target"), &[("aggregate_function", Attr::Str(agg.into()))]);
            let (g, c) = compiled(ml_node("TreeEnsembleRegressor", attrs), CompileOptions::default());
            assert_eq!(c.model.nodes.last().unwrap().op.kind(), "Reduce");
            for (got, leaves) in every_code_pair(&g, &c) {
                let (a, b) = (leaves[0][0], leaves[1][0]);
                assert_eq!(got[0].round(), if agg == "MIN" { a.min(b) } else { a.max(b) }, "{agg}");
            }
        }
    }

    #[test]
    fn wide_precisions_sum_the_leaves_in_an_int32_accumulator() {
        // leaf values that int8 weights cannot hold exactly (1/127 of the largest)
        let mut w = mixed_values([16.0, 32.0, 127.0]);
        w.iter_mut().for_each(|e| e.3 = e.3 * 0.013 + 0.0041);
        let n = ml_node("TreeEnsembleRegressor", v3(MIXED, &w, "target"));
        let (g, c) = compiled(n, CompileOptions::default().with_precision(Precision::Int16x16));
        let m = &c.model;
        assert_eq!(m.nodes.last().unwrap().op.kind(), "DenseWide");
        assert_eq!(m.tensor(m.outputs[0]).dtype, DType::I32);
        for (got, leaves) in every_code_pair(&g, &c) {
            let want: f32 = leaves.iter().map(|l| l[0]).sum();
            assert!((got[0] - want).abs() <= 2e-4, "{got:?} vs {want}");
        }
    }

    #[test]
    fn membership_splits_compile_and_the_suite_case_runs() {
        // the set_membership case of the node suite (the NaN row aside: NaN converts as 0)
        let mut g = graph(&[("x", &[5, 1])]);
        let y = g.add_tensor("y", true);
        let mut n = opset5(false);
        n.outputs = vec![y];
        g.nodes.push(n);
        crate::passes::testutil::output(&mut g, y);
        let x = ArrayD::from_shape_vec(IxDyn(&[5, 1]), vec![1.2, 3.4, -0.12, 12.0, 7.0]).unwrap();
        let c = compile_graph(&mut g, "member", &CompileOptions::default().with_calibration(vec![x.clone()])).unwrap();
        let m = &c.model;
        let got = crate::runner::dequantize_output(
            m,
            0,
            &CpuExecutor::new(m).unwrap().run(&[crate::runner::quantize_input(m, 0, &x)]).unwrap()[0],
        )
        .to_f32();
        let want =
            [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 100.0], [0.0, 0.0, 0.0, 100.0], [0.0, 0.0, 1000.0, 0.0], [0.0, 10.0, 0.0, 0.0]].concat();
        let step = m.tensor(m.outputs[0]).quant.unwrap().scale;
        for (a, b) in got.iter().zip(want) {
            assert!((a - b).abs() <= step, "{got:?}");
        }
    }
}
