//! Weight equalization for the wide precisions (16x8): a dense layer with **one output
//! channel** moves the magnitude of each of its weights into what feeds it, so that every
//! weight it keeps has the same magnitude and quantizes to ±127 with no rounding error.
//!
//! At `--precision int16` the activations are int16 and the weights int8 per output channel;
//! the weights' rounding then dominates the error (a regression head of `F` weights keeps about
//! 8 bits of each). For a layer `y = Σ_j w_j · x_j + b` with one output, scale input `j` by
//! `m_j = |w_j| / max_k |w_k|` and its weight by `1 / m_j`: `y` is unchanged and every
//! `|w_j / m_j|` is `max_k |w_k|` (a feature with `w_j = 0` keeps `m_j = 1`; `m_j` is at least
//! [`MIN_FACTOR`], so that no scale leaves the `f32` range). Where `x_j` goes:
//!
//! * **A model input** (read by this layer alone): a `Scaler` `x'_j = x_j · m_j` is inserted,
//!   or an existing `Scaler` (the input's only reader, its output read by this layer alone)
//!   gets `k_j · m_j`. The quantizer folds the Scaler into a per-feature input quantization
//!   (`ops::ml::fold_input_scaler`): each feature keeps all its codes over its own range, so
//!   the scaling costs no input precision at all.
//! * **A dense layer's output through a ReLU** (or no activation): `relu(m·z) = m·relu(z)` for
//!   `m > 0`, so output channel `j` of that layer (its weights and bias) is scaled by `m_j`.
//!   The int16 activation's per-tensor range can only shrink (`m_j ≤ 1`).
//!
//! A layer is a `MatMul` by a constant 2-D matrix (with or without the fused bias input of
//! `fuse_matmul_add`) or a `Gemm` by a constant `B` (`transA = 0`); a producer's activation is
//! `fuse_activation`'s `solidml.clamp` of `[0, +∞)` or none. Only the wide precisions run this
//! pass ([`crate::compile_graph`]): at int8 the activations' 256 codes, not the weights,
//! bound the error, and the hidden-channel scaling would cost activation codes.
//!
//! Measured on the diabetes data (`tests/diabetes.rs`): scikit-learn's LinearRegression at
//! 16x8 goes from 3.2× under int8's mean error to far beyond 10×; the MLP example's output layer
//! becomes exact (its first layer's 32 output channels cannot all be equalized this way).

use ndarray::{ArrayD, IxDyn};

use crate::ir::{Attr, Graph, Node, Tid, Value};
use crate::ops::ml::scaler_param;

/// The smallest factor a feature is scaled by: below it, a feature's quantization scale
/// `s / m_j` could leave the `f32` range; its weight then keeps part of its rounding error.
pub const MIN_FACTOR: f32 = 1.0 / 1048576.0;

/// Apply the pass (see the module docs) to `g`; returns whether it changed the graph.
pub fn run(g: &mut Graph) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i < g.nodes.len() {
        let took = equalize(g, i);
        changed |= took.is_some();
        // skip the layer itself when a Scaler went in before it
        i += 1 + took.unwrap_or(0);
    }
    changed
}

/// The constant weights of a dense layer, as `(tensor, transposed)`: element `[j, c]` of the
/// `[in, out]` matrix is `w[c, j]` when transposed.
fn dense_weights(g: &Graph, n: &Node) -> Option<(Tid, bool)> {
    if !n.domain.is_empty() {
        return None;
    }
    let w = n.input(1)?;
    let constant_2d = matches!(g.consts.get(&w), Some(Value::Float(a)) if a.ndim() == 2);
    match n.op.as_str() {
        "MatMul" if constant_2d => Some((w, false)),
        "Gemm" if constant_2d && n.int("transA", 0) == 0 => Some((w, n.int("transB", 0) != 0)),
        _ => None,
    }
}

fn floats(g: &Graph, t: Tid) -> &ArrayD<f32> {
    match &g.consts[&t] {
        Value::Float(a) => a,
        Value::Int(_) => unreachable!("dense_weights checked a float constant"),
    }
}

/// A new constant tensor holding `value` (weights may be shared, so they are never edited).
fn add_constant(g: &mut Graph, like: Tid, value: ArrayD<f32>) -> Tid {
    let name = format!("{}.equalized", g.tensors[like].name);
    let t = g.add_tensor(&name, true);
    g.tensors[t].shape = Some(value.shape().to_vec());
    g.consts.insert(t, Value::Float(value));
    t
}

/// Equalize node `i` if it is a one-output dense layer whose input can take the factors;
/// `Some(number of nodes inserted before it)` when it did.
fn equalize(g: &mut Graph, i: usize) -> Option<usize> {
    let n = &g.nodes[i];
    let (w, transposed) = dense_weights(g, n)?;
    let x = n.input(0)?;
    let wa = floats(g, w);
    let (features, outputs) = if transposed { (wa.shape()[1], wa.shape()[0]) } else { (wa.shape()[0], wa.shape()[1]) };
    if outputs != 1 || features < 2 {
        return None;
    }
    let column: Vec<f32> = wa.iter().copied().collect();
    let largest = column.iter().fold(0f32, |m, v| m.max(v.abs()));
    if !(largest.is_finite() && largest > 0.0) {
        return None;
    }
    let factors: Vec<f32> = column.iter().map(|&v| if v == 0.0 { 1.0 } else { (v.abs() / largest).max(MIN_FACTOR) }).collect();
    if factors.iter().all(|&m| m == 1.0) {
        return None;
    }
    let consumers = g.consumers();
    if consumers.get(&x) != Some(&1) || g.outputs.contains(&x) || *g.shape(x).last().unwrap_or(&0) != features {
        return None;
    }
    let inserted = if g.inputs.contains(&x) {
        insert_scaler(g, i, x, &factors).then_some(1)?
    } else {
        let p = g.nodes.iter().position(|p| p.outputs.first() == Some(&x))?;
        (scale_scaler(g, p, &consumers, &factors) || scale_producer(g, p, &factors)).then_some(0)?
    };
    let scaled = ArrayD::from_shape_vec(IxDyn(floats(g, w).shape()), column.iter().zip(&factors).map(|(v, m)| v / m).collect())
        .expect("same length");
    let w2 = add_constant(g, w, scaled);
    g.nodes[i + inserted].inputs[1] = Some(w2);
    Some(inserted)
}

/// `x` is a model input read by node `i` alone: node `i` reads `Scaler(x)` with offsets 0 and
/// scales `factors` instead.
fn insert_scaler(g: &mut Graph, i: usize, x: Tid, factors: &[f32]) -> bool {
    if !g.tensors[x].is_float {
        return false;
    }
    let name = format!("{}.equalized", g.tensors[x].name);
    let y = g.add_tensor(&name, true);
    g.tensors[y].shape = Some(g.shape(x).to_vec());
    let scaler = Node {
        name: name.clone(),
        op: "Scaler".into(),
        domain: "ai.onnx.ml".into(),
        attrs: [("offset".to_string(), Attr::Floats(vec![0.0; factors.len()])), ("scale".to_string(), Attr::Floats(factors.to_vec()))]
            .into_iter()
            .collect(),
        inputs: vec![Some(x)],
        outputs: vec![y],
    };
    g.nodes[i].inputs[0] = Some(y);
    g.nodes.insert(i, scaler);
    true
}

/// Node `p` is a Scaler of a model input, read by that input alone, its output read by the
/// layer alone: its scales take the factors.
fn scale_scaler(g: &mut Graph, p: usize, consumers: &std::collections::HashMap<Tid, usize>, factors: &[f32]) -> bool {
    let n = &g.nodes[p];
    if n.domain != "ai.onnx.ml" || n.op != "Scaler" {
        return false;
    }
    let Some(x) = n.input(0) else { return false };
    if !g.inputs.contains(&x) || consumers.get(&x) != Some(&1) || g.outputs.contains(&x) {
        return false;
    }
    let (offset, scale) = (n.floats("offset").unwrap_or_default(), n.floats("scale").unwrap_or_default());
    let offsets: Vec<f32> = (0..factors.len()).map(|j| scaler_param(&offset, j, 0.0)).collect();
    let scales: Vec<f32> = factors.iter().enumerate().map(|(j, m)| scaler_param(&scale, j, 1.0) * m).collect();
    let n = &mut g.nodes[p];
    n.attrs.insert("offset".into(), Attr::Floats(offsets));
    n.attrs.insert("scale".into(), Attr::Floats(scales));
    true
}

/// Node `p` is a dense layer with no activation or a ReLU (`solidml.clamp` `[0, +∞)`): its
/// output channel `j` (weights and bias) is scaled by `factors[j]`.
fn scale_producer(g: &mut Graph, p: usize, factors: &[f32]) -> bool {
    let n = &g.nodes[p];
    let Some((w, transposed)) = dense_weights(g, n) else { return false };
    let homogeneous = match n.floats("solidml.clamp").as_deref() {
        None => true,
        Some([lo, hi]) => *lo == 0.0 && *hi == f32::INFINITY,
        Some(_) => false,
    };
    if !homogeneous || n.outputs.len() != 1 {
        return false;
    }
    let wa = floats(g, w);
    let outputs = if transposed { wa.shape()[0] } else { wa.shape()[1] };
    if outputs != factors.len() {
        return false;
    }
    // Gemm's C is scaled by beta, a fused MatMul bias is added as is: either way per channel
    let bias = n.input(2);
    let bias_value = match bias.map(|b| g.consts.get(&b)) {
        None => None,
        Some(Some(Value::Float(a))) if a.len() == outputs || a.len() == 1 => Some(a.clone()),
        Some(_) => return false,
    };
    let mut scaled = wa.clone();
    for ((r, c), v) in scaled.indexed_iter_mut().map(|(ix, v)| ((ix[0], ix[1]), v)) {
        *v *= factors[if transposed { r } else { c }];
    }
    let w2 = add_constant(g, w, scaled);
    g.nodes[p].inputs[1] = Some(w2);
    if let (Some(b), Some(a)) = (bias, bias_value) {
        // a one-value bias is broadcast to every channel
        let bias: Vec<f32> = a.iter().copied().collect();
        let values: Vec<f32> = (0..outputs).map(|j| bias[if bias.len() == 1 { 0 } else { j }] * factors[j]).collect();
        let shape = if a.len() == outputs { a.shape().to_vec() } else { vec![outputs] };
        let b2 = add_constant(g, b, ArrayD::from_shape_vec(IxDyn(&shape), values).expect("bias length"));
        g.nodes[p].inputs[2] = Some(b2);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testutil::*;

    fn weights(values: &[f32]) -> Vec<f32> {
        values.to_vec()
    }

    /// The largest and smallest magnitudes of a constant's non-zero values.
    fn magnitudes(g: &Graph, t: Tid) -> (f32, f32) {
        let a = floats(g, t);
        let nz = a.iter().filter(|v| **v != 0.0).map(|v| v.abs());
        nz.clone().fold((0f32, f32::INFINITY), |(hi, lo), v| (hi.max(v), lo.min(v)))
    }

    #[test]
    fn a_regression_head_on_a_model_input_gets_a_scaler_and_equal_weights() {
        let mut g = graph(&[("x", &[2, 4])]);
        let w = constant(&mut g, "w", &[4, 1], weights(&[0.5, -2.0, 0.0, 0.125]));
        let b = constant(&mut g, "b", &[1], vec![3.0]);
        let y = node(&mut g, "MatMul", &[0, w, b], vec![]);
        output(&mut g, y);
        let (g, changed) = check_preserves(g, run);
        assert!(changed);
        assert_eq!(g.nodes[0].op, "Scaler");
        assert_eq!(g.nodes[0].floats("scale").unwrap(), [0.25, 1.0, 1.0, 0.0625]);
        let (hi, lo) = magnitudes(&g, g.nodes[1].input(1).unwrap());
        assert_eq!((hi, lo), (2.0, 2.0));
    }

    #[test]
    fn an_existing_scaler_takes_the_factors_and_a_transposed_gemm_its_weights() {
        let mut g = graph(&[("x", &[3, 3])]);
        let s = node(&mut g, "Scaler", &[0], vec![("offset", Attr::Floats(vec![1.0])), ("scale", Attr::Floats(vec![2.0, 4.0, 0.5]))]);
        g.nodes[0].domain = "ai.onnx.ml".into();
        let w = constant(&mut g, "w", &[1, 3], weights(&[1.0, -0.25, 4.0]));
        let y = node(&mut g, "Gemm", &[s, w], vec![("transB", Attr::Int(1)), ("alpha", Attr::Float(0.5))]);
        output(&mut g, y);
        let (g, changed) = check_preserves(g, run);
        assert!(changed);
        assert_eq!(g.nodes.len(), 2);
        assert_eq!(g.nodes[0].floats("scale").unwrap(), [0.5, 0.25, 0.5]);
        assert_eq!(g.nodes[0].floats("offset").unwrap(), [1.0, 1.0, 1.0]);
        assert_eq!(magnitudes(&g, g.nodes[1].input(1).unwrap()), (4.0, 4.0));
    }

    #[test]
    fn a_hidden_relu_layer_takes_the_factors_on_its_output_channels() {
        let mut g = graph(&[("x", &[2, 3])]);
        let w1 = constant(&mut g, "w1", &[3, 3], (0..9).map(|i| i as f32 * 0.3 - 1.2).collect());
        let b1 = constant(&mut g, "b1", &[3], vec![0.5, -0.25, 1.0]);
        let h = node(&mut g, "MatMul", &[0, w1, b1], vec![("solidml.clamp", Attr::Floats(vec![0.0, f32::INFINITY]))]);
        let w2 = constant(&mut g, "w2", &[3, 1], weights(&[0.1, -0.8, 0.4]));
        let y = node(&mut g, "MatMul", &[h, w2], vec![]);
        output(&mut g, y);
        let (g, changed) = check_preserves(g, run);
        assert!(changed);
        assert_eq!(magnitudes(&g, g.nodes[1].input(1).unwrap()), (0.8, 0.8));
        let b = floats(&g, g.nodes[0].input(2).unwrap());
        assert_eq!(b.iter().copied().collect::<Vec<_>>(), [0.0625, -0.25, 0.5]);
    }

    #[test]
    fn layers_that_cannot_take_the_factors_are_left_alone() {
        // a Relu6-like clamp is not homogeneous; two output channels are not equalized; a
        // weight matrix read twice keeps its values (a new constant is written)
        let mut g = graph(&[("x", &[2, 3])]);
        let w1 = constant(&mut g, "w1", &[3, 3], (0..9).map(|i| i as f32 * 0.3 - 1.2).collect());
        let h = node(&mut g, "MatMul", &[0, w1], vec![("solidml.clamp", Attr::Floats(vec![0.0, 6.0]))]);
        let w2 = constant(&mut g, "w2", &[3, 1], weights(&[0.1, -0.8, 0.4]));
        let y = node(&mut g, "MatMul", &[h, w2], vec![]);
        output(&mut g, y);
        let (_, changed) = check_preserves(g, run);
        assert!(!changed);

        let mut g = graph(&[("x", &[2, 3])]);
        let w = constant(&mut g, "w", &[3, 2], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let y = node(&mut g, "MatMul", &[0, w], vec![]);
        output(&mut g, y);
        assert!(!check_preserves(g, run).1);

        let mut g = graph(&[("x", &[2, 3]), ("z", &[2, 3])]);
        let w = constant(&mut g, "w", &[3, 1], weights(&[0.1, -0.8, 0.4]));
        let y = node(&mut g, "MatMul", &[0, w], vec![]);
        let y2 = node(&mut g, "MatMul", &[1, w], vec![]);
        output(&mut g, y);
        output(&mut g, y2);
        let (g, changed) = check_preserves(g, run);
        assert!(changed);
        assert_eq!(floats(&g, w).iter().copied().collect::<Vec<_>>(), [0.1, -0.8, 0.4]);
    }
}
