//! Import of already-quantized models (QDQ, as onnxruntime's `quantize_static` writes them,
//! and its QOperator ops once `passes::qlinear` has rewritten them into QDQ).
//!
//! A `QuantizeLinear → DequantizeLinear` pair with the same scalar scale and zero point on a
//! run-time tensor `x` is the model saying "x is int8 with this scale and zero point": the
//! pair is removed and the quantization prescribed for `x` ([`Graph::prescribed`]), which the
//! quantizer then uses instead of a calibrated range ([`run`]; a QuantizeLinear whose codes
//! several such DequantizeLinear read is one pair with each). A uint8 pair `(s, z)` is the same
//! quantization as int8 `(s, z − 128)`. A QuantizeLinear left alone (its codes a model output)
//! prescribes its input when it is that input's only reader ([`quantized_inputs`]). Weights and
//! biases stored as integers followed by a DequantizeLinear fold to float constants (constant
//! folding); their integer grid is recorded first ([`weight_grids`]), so the lowering can use
//! the model's own 8-bit integers where an op takes them (`ops::gemm`, `ops::conv`), and
//! re-derives symmetric per-channel integers from the reals elsewhere.

use solidml_spec::Quant;

use crate::{
    ir::{Graph, Grid, Node, Tid, Value},
    ops::qdq::QdqParams,
};

fn scalar(g: &Graph, t: Option<usize>) -> Option<f32> {
    let v = g.consts.get(&t?)?;
    (v.shape().iter().product::<usize>() == 1).then(|| v.to_f32().iter().next().copied())?
}

fn is_op(n: &Node, op: &str) -> bool {
    n.op == op && n.domain.is_empty()
}

/// The scalar scale and zero point of the QuantizeLinear or DequantizeLinear `n` (zero point 0
/// when absent), when they are constants.
fn params(g: &Graph, n: &Node) -> Option<(f32, f32)> {
    Some((scalar(g, n.input(1))?, scalar(g, n.input(2)).unwrap_or(0.0)))
}

/// The int8 quantization QuantizeLinear `q` prescribes, with its scale and zero point as
/// given: constant scalars, a positive scale, 8-bit codes (uint8 shifted by 128).
fn int8_quant(g: &Graph, q: &Node) -> Option<(Quant, (f32, f32))> {
    let (s, z) = params(g, q)?;
    if s.is_nan() || s <= 0.0 {
        return None;
    }
    let (lo, hi) = crate::ops::qdq::qdq_range(g, q);
    let zero_point = match (lo as i32, hi as i32) {
        (0, 255) => z as i32 - 128,
        (-128, 127) => z as i32,
        _ => return None, // 16-bit QDQ: not an int8 prescription
    };
    Some((Quant { scale: s, zero_point }, (s, z)))
}

/// Apply the pass (see the module docs) to `g`; returns whether it changed the graph.
pub fn run(g: &mut Graph) -> bool {
    let mut changed = false;
    let mut j = 0;
    while j < g.nodes.len() {
        let q = &g.nodes[j];
        let Some((quant, given)) = is_op(q, "QuantizeLinear").then(|| int8_quant(g, q)).flatten() else {
            j += 1;
            continue;
        };
        let (x, q_out) = (q.input(0).unwrap(), q.outputs[0]);
        // every reader of the codes: a DequantizeLinear with the same parameters
        let readers: Vec<usize> = (0..g.nodes.len()).filter(|&k| g.nodes[k].inputs.contains(&Some(q_out))).collect();
        let pairs = !readers.is_empty()
            && !g.outputs.contains(&q_out)
            && readers.iter().all(|&k| {
                let dq = &g.nodes[k];
                is_op(dq, "DequantizeLinear")
                    && dq.inputs.iter().filter(|&&t| t == Some(q_out)).count() == 1
                    && dq.input(0) == Some(q_out)
                    && params(g, dq) == Some(given)
            });
        if !pairs {
            j += 1;
            continue;
        }
        g.prescribed.insert(x, quant);
        for &k in &readers {
            let y = g.nodes[k].outputs[0];
            for o in g.outputs.iter_mut() {
                if *o == y {
                    *o = x;
                }
            }
            g.replace_uses(y, x);
        }
        let mut gone: Vec<usize> = readers;
        gone.push(j);
        gone.sort_unstable();
        for &k in gone.iter().rev() {
            g.nodes.remove(k);
        }
        changed = true;
    }
    changed
}

/// Prescribe to the run-time input `x` of each QuantizeLinear that is left (constant scalar
/// 8-bit parameters) and is the only reader of `x` the node's quantization, so whatever computes
/// `x` writes the node's codes directly (one rounding; `ops::qdq` then lowers the node to the
/// identity on codes, and a float model input takes it as its input quantization). Returns
/// whether it prescribed any.
pub fn quantized_inputs(g: &mut Graph) -> bool {
    let consumers = g.consumers();
    let found: Vec<(Tid, Quant)> = g
        .nodes
        .iter()
        .filter(|q| is_op(q, "QuantizeLinear"))
        .filter_map(|q| {
            let x = q.input(0)?;
            // its codes used (dead nodes go later), and the only reader of a run-time `x`
            let used = consumers.contains_key(&q.outputs[0]);
            let only_reader = used && consumers.get(&x) == Some(&1) && !g.is_const(x) && !g.prescribed.contains_key(&x);
            only_reader.then(|| int8_quant(g, q)).flatten().map(|(quant, _)| (x, quant))
        })
        .collect();
    let changed = !found.is_empty();
    g.prescribed.extend(found);
    changed
}

/// Record the grid ([`Graph::grids`]) of the output of each DequantizeLinear of a constant int8
/// or uint8 tensor with constant parameters (per tensor or per axis): the weights of QDQ and
/// QOperator models, which constant folding then turns into reals. Returns whether it recorded
/// any.
pub fn weight_grids(g: &mut Graph) -> bool {
    let mut found = vec![];
    for n in g.nodes.iter().filter(|n| is_op(n, "DequantizeLinear")) {
        let Some((x, Some(Value::Int(_)))) = n.input(0).map(|x| (x, g.consts.get(&x))) else { continue };
        let offset = match g.tensors[x].onnx_type {
            2 => -128,
            3 => 0,
            _ => continue,
        };
        let Some(scale) = n.input(1).and_then(|t| g.consts.get(&t)) else { continue };
        let zero_point = match n.input(2) {
            Some(t) => match g.consts.get(&t) {
                Some(z) => Some(z),
                None => continue,
            },
            None => None,
        };
        let Ok(p) = QdqParams::of(n, scale, zero_point, g.shape(x)) else { continue };
        if p.scales.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            continue;
        }
        let params = p.scales.iter().zip(&p.zero_points).map(|(&scale, &z)| Quant { scale, zero_point: z as i32 + offset }).collect();
        found.push((n.outputs[0], Grid { axis: p.axis, params }));
    }
    let changed = !found.is_empty();
    g.grids.extend(found);
    changed
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use ndarray::{ArrayD, IxDyn};

    use super::*;
    use crate::ir::{Tid, Value};
    use crate::passes::testutil::*;

    /// ONNX element types of the zero-point tensors.
    const UINT8: i32 = 2;
    const INT8: i32 = 3;
    const INT16: i32 = 5;

    /// A scalar scale and a scalar zero point of ONNX type `ty` (which sets the quantized range).
    fn params(g: &mut Graph, scale: f32, zero_point: f32, ty: i32) -> (Tid, Tid) {
        let n = g.tensors.len();
        let s = constant(g, &format!("scale{n}"), &[], vec![scale]);
        let z = constant(g, &format!("zp{n}"), &[], vec![zero_point]);
        g.tensors[z].onnx_type = ty;
        (s, z)
    }

    /// `x → QuantizeLinear(s, z) → DequantizeLinear(s2, z2)`; returns (q, dq) outputs.
    fn qdq(g: &mut Graph, x: Tid, (s, z): (Tid, Tid), (s2, z2): (Tid, Tid)) -> (Tid, Tid) {
        let q = node(g, "QuantizeLinear", &[x, s, z], vec![]);
        g.tensors[q].is_float = false;
        let dq = node(g, "DequantizeLinear", &[q, s2, z2], vec![]);
        (q, dq)
    }

    /// The float outputs of `g` on input `x` (shape `[2, 4]`).
    fn outputs(g: &mut Graph, x: &[f32]) -> Vec<ArrayD<f32>> {
        crate::calibrate::infer_shapes(g).unwrap();
        let input = Value::Float(ArrayD::from_shape_vec(IxDyn(&[2, 4]), x.to_vec()).unwrap());
        let vals = crate::calibrate::run_float(g, &[input]).unwrap();
        g.outputs.iter().map(|o| vals[o].to_f32()).collect()
    }

    /// Eight values of the grid `(q − zp) · scale`, `q` in `lo..=hi` (first and last included):
    /// the values a QDQ pair leaves unchanged.
    fn grid(scale: f32, zp: i32, lo: i32, hi: i32) -> Vec<f32> {
        (0..8).map(|i| ((lo + (hi - lo) * i / 7 - zp) as f32) * scale).collect()
    }

    /// The pass on `g`: the outputs on `x` are the same floats before and after.
    fn run_preserving(g: &mut Graph, x: &[f32]) -> bool {
        let before = outputs(g, x);
        let changed = run(g);
        assert_eq!(outputs(g, x), before);
        changed
    }

    fn ops(g: &Graph) -> Vec<&str> {
        g.nodes.iter().map(|n| n.op.as_str()).collect()
    }

    #[test]
    fn an_int8_pair_becomes_a_prescribed_quantization() {
        let mut g = graph(&[("x", &[2, 4])]);
        let p = params(&mut g, 0.05, 3.0, INT8);
        let (_, dq) = qdq(&mut g, 0, p, p);
        let w = constant(&mut g, "w", &[4, 3], (0..12).map(|i| i as f32 * 0.1 - 0.5).collect());
        let y = node(&mut g, "MatMul", &[dq, w], vec![]);
        output(&mut g, y);
        assert!(run_preserving(&mut g, &grid(0.05, 3, -128, 127)));
        assert_eq!(ops(&g), ["MatMul"]);
        assert_eq!(g.nodes[0].inputs[0], Some(0), "the MatMul reads x itself");
        assert_eq!(g.prescribed, HashMap::from([(0, Quant { scale: 0.05, zero_point: 3 })]));
    }

    #[test]
    fn a_uint8_pair_is_the_int8_quantization_shifted_by_128() {
        let mut g = graph(&[("x", &[2, 4])]);
        let p = params(&mut g, 0.25, 131.0, UINT8);
        let (_, dq) = qdq(&mut g, 0, p, p);
        let y = node(&mut g, "Relu", &[dq], vec![]);
        output(&mut g, y);
        assert!(run_preserving(&mut g, &grid(0.25, 131, 0, 255)));
        assert_eq!(ops(&g), ["Relu"]);
        assert_eq!(g.prescribed[&0], Quant { scale: 0.25, zero_point: 3 });
    }

    #[test]
    fn a_pair_at_the_graph_output_hands_the_output_to_its_input() {
        let mut g = graph(&[("x", &[2, 4])]);
        let r = node(&mut g, "Relu", &[0], vec![]);
        let p = params(&mut g, 0.5, -10.0, INT8);
        let (_, dq) = qdq(&mut g, r, p, p);
        output(&mut g, dq);
        assert!(run_preserving(&mut g, &grid(0.5, -10, -128, 127)));
        assert_eq!(ops(&g), ["Relu"]);
        assert_eq!(g.outputs, [r]);
        assert_eq!(g.prescribed[&r], Quant { scale: 0.5, zero_point: -10 });
    }

    #[test]
    fn a_pair_without_a_zero_point_input_has_zero_point_zero() {
        let mut g = graph(&[("x", &[2, 4])]);
        let s = constant(&mut g, "s", &[], vec![0.125]);
        let q = node(&mut g, "QuantizeLinear", &[0, s], vec![]);
        g.tensors[q].is_float = false;
        let dq = node(&mut g, "DequantizeLinear", &[q, s], vec![]);
        output(&mut g, dq);
        // no zero point and no output_dtype: ONNX's default, uint8, zero point 0
        assert!(run_preserving(&mut g, &grid(0.125, 0, 0, 255)));
        assert!(g.nodes.is_empty());
        assert_eq!(g.prescribed[&0], Quant { scale: 0.125, zero_point: -128 });
    }

    /// Pairs the pass must leave alone (it changes nothing, prescribes nothing).
    fn unchanged(mut g: Graph) {
        let before = g.nodes.clone();
        assert!(!run(&mut g));
        assert_eq!(g.nodes, before);
        assert!(g.prescribed.is_empty());
    }

    #[test]
    fn pairs_that_do_not_prescribe_an_int8_quantization_are_kept() {
        // different scales: the pair requantizes, it does not describe x
        let mut g = graph(&[("x", &[2, 4])]);
        let (a, b) = (params(&mut g, 0.05, 0.0, INT8), params(&mut g, 0.1, 0.0, INT8));
        let (_, dq) = qdq(&mut g, 0, a, b);
        output(&mut g, dq);
        unchanged(g);

        // different zero points
        let mut g = graph(&[("x", &[2, 4])]);
        let (a, b) = (params(&mut g, 0.05, 1.0, INT8), params(&mut g, 0.05, 2.0, INT8));
        let (_, dq) = qdq(&mut g, 0, a, b);
        output(&mut g, dq);
        unchanged(g);

        // 16-bit QDQ
        let mut g = graph(&[("x", &[2, 4])]);
        let p = params(&mut g, 0.05, 0.0, INT16);
        let (_, dq) = qdq(&mut g, 0, p, p);
        output(&mut g, dq);
        unchanged(g);

        // per-channel (non-scalar) scale
        let mut g = graph(&[("x", &[2, 4])]);
        let s = constant(&mut g, "s", &[4], vec![0.1, 0.2, 0.3, 0.4]);
        let z = constant(&mut g, "z", &[4], vec![0.0; 4]);
        g.tensors[z].onnx_type = INT8;
        let (_, dq) = qdq(&mut g, 0, (s, z), (s, z));
        output(&mut g, dq);
        unchanged(g);

        // a non-positive scale
        let mut g = graph(&[("x", &[2, 4])]);
        let p = params(&mut g, 0.0, 0.0, INT8);
        let (_, dq) = qdq(&mut g, 0, p, p);
        output(&mut g, dq);
        unchanged(g);

        // the codes have another reader than the DequantizeLinear, or are a model output
        let mut g = graph(&[("x", &[2, 4])]);
        let p = params(&mut g, 0.05, 0.0, INT8);
        let (q, dq) = qdq(&mut g, 0, p, p);
        let other = node(&mut g, "Identity", &[q], vec![]);
        output(&mut g, dq);
        output(&mut g, other);
        unchanged(g);
        let mut g = graph(&[("x", &[2, 4])]);
        let p = params(&mut g, 0.05, 0.0, INT8);
        let (q, dq) = qdq(&mut g, 0, p, p);
        output(&mut g, dq);
        output(&mut g, q);
        unchanged(g);

        // a second DequantizeLinear of other parameters
        let mut g = graph(&[("x", &[2, 4])]);
        let (a, b) = (params(&mut g, 0.05, 0.0, INT8), params(&mut g, 0.05, 1.0, INT8));
        let (q, dq) = qdq(&mut g, 0, a, a);
        let other = node(&mut g, "DequantizeLinear", &[q, b.0, b.1], vec![]);
        output(&mut g, dq);
        output(&mut g, other);
        unchanged(g);

        // a DequantizeLinear of stored integers (weights) has no QuantizeLinear
        let mut g = graph(&[("x", &[2, 4])]);
        let w = g.add_tensor("w", false);
        g.tensors[w].shape = Some(vec![4, 3]);
        g.consts.insert(w, Value::Int(ArrayD::from_shape_vec(IxDyn(&[4, 3]), (0..12).collect()).unwrap()));
        let p = params(&mut g, 0.05, 0.0, INT8);
        let wf = node(&mut g, "DequantizeLinear", &[w, p.0, p.1], vec![]);
        let y = node(&mut g, "MatMul", &[0, wf], vec![]);
        output(&mut g, y);
        unchanged(g);

        // a QuantizeLinear of another domain
        let mut g = graph(&[("x", &[2, 4])]);
        let p = params(&mut g, 0.05, 0.0, INT8);
        let (_, dq) = qdq(&mut g, 0, p, p);
        g.nodes[0].domain = "com.microsoft".into();
        output(&mut g, dq);
        unchanged(g);
    }

    #[test]
    fn codes_read_by_several_dequantize_nodes_are_one_pair_with_each() {
        // x → Q → {DQ → Relu, DQ → Neg} (onnxruntime's QOperator models: one Q, many readers)
        let mut g = graph(&[("x", &[2, 4])]);
        let p = params(&mut g, 0.25, 140.0, UINT8);
        let (q, dq) = qdq(&mut g, 0, p, p);
        let dq2 = node(&mut g, "DequantizeLinear", &[q, p.0, p.1], vec![]);
        let (r, n) = (node(&mut g, "Relu", &[dq], vec![]), node(&mut g, "Neg", &[dq2], vec![]));
        output(&mut g, r);
        output(&mut g, n);
        assert!(run_preserving(&mut g, &grid(0.25, 140, 0, 255)));
        assert_eq!(ops(&g), ["Relu", "Neg"]);
        assert!(g.nodes.iter().all(|n| n.inputs[0] == Some(0)), "both read x itself");
        assert_eq!(g.prescribed, HashMap::from([(0, Quant { scale: 0.25, zero_point: 12 })]));
    }

    #[test]
    fn a_quantize_left_alone_prescribes_its_only_input() {
        // Relu → Q (a model output): the Relu output takes the Q's quantization
        let mut g = graph(&[("x", &[2, 4])]);
        let r = node(&mut g, "Relu", &[0], vec![]);
        let p = params(&mut g, 0.5, 3.0, UINT8);
        let q = node(&mut g, "QuantizeLinear", &[r, p.0, p.1], vec![]);
        output(&mut g, q);
        let before = g.nodes.clone();
        assert!(!run(&mut g));
        assert!(quantized_inputs(&mut g));
        assert_eq!(g.nodes, before, "nothing removed");
        assert_eq!(g.prescribed, HashMap::from([(r, Quant { scale: 0.5, zero_point: -125 })]));

        // an input with another reader, a 16-bit Q, run-time parameters, unused codes: nothing
        // prescribed
        for case in 0..4 {
            let mut g = graph(&[("x", &[2, 4]), ("s", &[])]);
            let r = node(&mut g, "Relu", &[0], vec![]);
            let p = match case {
                1 => params(&mut g, 0.5, 0.0, INT16),
                2 => (1, params(&mut g, 0.5, 0.0, INT8).1),
                _ => params(&mut g, 0.5, 0.0, INT8),
            };
            let q = node(&mut g, "QuantizeLinear", &[r, p.0, p.1], vec![]);
            if case != 3 {
                output(&mut g, q);
            }
            if case == 0 {
                output(&mut g, r);
            }
            assert!(!quantized_inputs(&mut g), "case {case}");
            assert!(g.prescribed.is_empty());
        }
    }

    #[test]
    fn integer_weights_record_their_grid() {
        // uint8 weights per column (axis 1), int8 per tensor; run-time codes and int32 have none
        let mut g = graph(&[("x", &[2, 4])]);
        let w = g.add_tensor("w", false);
        g.tensors[w].shape = Some(vec![4, 3]);
        g.tensors[w].onnx_type = UINT8;
        g.consts.insert(w, Value::Int(ArrayD::from_shape_vec(IxDyn(&[4, 3]), (0..12).map(|v| v * 20).collect()).unwrap()));
        let s = constant(&mut g, "s", &[3], vec![0.5, 0.25, 0.125]);
        let z = constant(&mut g, "z", &[3], vec![128.0, 0.0, 255.0]);
        g.tensors[z].onnx_type = UINT8;
        let wf = node(&mut g, "DequantizeLinear", &[w, s, z], vec![]);
        let v = g.add_tensor("v", false);
        g.tensors[v].shape = Some(vec![3]);
        g.tensors[v].onnx_type = INT8;
        g.consts.insert(v, Value::Int(ArrayD::from_shape_vec(IxDyn(&[3]), vec![-3, 0, 127]).unwrap()));
        let p = params(&mut g, 0.05, 2.0, INT8);
        let vf = node(&mut g, "DequantizeLinear", &[v, p.0, p.1], vec![]);
        let q = params(&mut g, 0.05, 0.0, INT8);
        let (_, dq) = qdq(&mut g, 0, q, q);
        let y = node(&mut g, "MatMul", &[dq, wf], vec![]);
        let y = node(&mut g, "Add", &[y, vf], vec![]);
        output(&mut g, y);
        assert!(weight_grids(&mut g));
        let grid = |scale, zero_point| Quant { scale, zero_point };
        assert_eq!(
            g.grids,
            HashMap::from([
                (wf, Grid { axis: Some(1), params: vec![grid(0.5, 0), grid(0.25, -128), grid(0.125, 127)] }),
                (vf, Grid { axis: None, params: vec![grid(0.05, 2)] }),
            ])
        );
        // folded, the reals are the grid's multiples
        crate::calibrate::infer_shapes(&mut g).unwrap();
        assert!(crate::passes::fold_constants::run(&mut g).unwrap());
        let folded = g.consts[&wf].to_f32();
        assert_eq!(folded[[3, 2]], (220.0 - 255.0) * 0.125);
    }

    #[test]
    fn consecutive_pairs_are_all_removed() {
        // x → QDQ → Relu → QDQ → MatMul: both pairs prescribe their input
        let mut g = graph(&[("x", &[2, 4])]);
        let p = params(&mut g, 0.05, 0.0, INT8);
        let (_, dq) = qdq(&mut g, 0, p, p);
        let r = node(&mut g, "Relu", &[dq], vec![]);
        let p2 = params(&mut g, 0.05, -128.0, INT8);
        let (_, dq2) = qdq(&mut g, r, p2, p2);
        let w = constant(&mut g, "w", &[4, 2], (0..8).map(|i| i as f32 * 0.25 - 1.0).collect());
        let y = node(&mut g, "MatMul", &[dq2, w], vec![]);
        output(&mut g, y);
        // x on the grid of both pairs: Relu of a grid value is on the second grid
        assert!(run_preserving(&mut g, &grid(0.05, 0, -128, 127)));
        assert_eq!(ops(&g), ["Relu", "MatMul"]);
        assert_eq!(g.prescribed, HashMap::from([(0, Quant { scale: 0.05, zero_point: 0 }), (r, Quant { scale: 0.05, zero_point: -128 })]));
    }
}
