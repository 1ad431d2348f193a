//! Import of already-quantized models (QDQ, as onnxruntime's `quantize_static` writes them).
//!
//! A `QuantizeLinear → DequantizeLinear` pair with the same scalar scale and zero point on a
//! run-time tensor `x` is the model saying "x is int8 with this scale and zero point": the
//! pair is removed and the quantization prescribed for `x` ([`Graph::prescribed`]), which the
//! quantizer then uses instead of a calibrated range. A uint8 pair `(s, z)` is the same
//! quantization as int8 `(s, z − 128)`. Weights and biases stored as integers followed by a
//! DequantizeLinear fold to float constants (constant folding); the quantizer re-derives the
//! same symmetric per-channel integers from them.

use solidml_spec::Quant;

use crate::ir::Graph;

fn scalar(g: &Graph, t: Option<usize>) -> Option<f32> {
    let v = g.consts.get(&t?)?;
    (v.shape().iter().product::<usize>() == 1).then(|| v.to_f32().iter().next().copied())?
}

/// Apply the pass (see the module docs) to `g`; returns whether it changed the graph.
pub fn run(g: &mut Graph) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i < g.nodes.len() {
        let dq = &g.nodes[i];
        if !(dq.op == "DequantizeLinear" && dq.domain.is_empty()) {
            i += 1;
            continue;
        }
        let q_out = dq.input(0).unwrap();
        let Some(j) = g.nodes.iter().position(|n| n.op == "QuantizeLinear" && n.domain.is_empty() && n.outputs[0] == q_out) else {
            i += 1;
            continue;
        };
        let q = &g.nodes[j];
        let (s1, z1, s2, z2) =
            (scalar(g, q.input(1)), scalar(g, q.input(2)).or(Some(0.0)), scalar(g, dq.input(1)), scalar(g, dq.input(2)).or(Some(0.0)));
        let (Some(s), Some(z)) = (s1, z1) else {
            i += 1;
            continue;
        };
        if s1 != s2 || z1 != z2 || s.is_nan() || s <= 0.0 || g.consumers().get(&q_out) != Some(&1) {
            i += 1;
            continue;
        }
        let (lo, hi) = crate::ops::qdq::qdq_range(g, q);
        if !matches!((lo as i32, hi as i32), (0, 255) | (-128, 127)) {
            i += 1; // 16-bit QDQ: not an int8 prescription
            continue;
        }
        let zero_point = if lo == 0.0 { z as i32 - 128 } else { z as i32 };
        let x = q.input(0).unwrap();
        let y = dq.outputs[0];
        g.prescribed.insert(x, Quant { scale: s, zero_point });
        for o in g.outputs.iter_mut() {
            if *o == y {
                *o = x;
            }
        }
        g.replace_uses(y, x);
        let (a, b) = (i.max(j), i.min(j));
        g.nodes.remove(a);
        g.nodes.remove(b);
        changed = true;
        i = b;
    }
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

        // the quantized tensor has another consumer
        let mut g = graph(&[("x", &[2, 4])]);
        let p = params(&mut g, 0.05, 0.0, INT8);
        let (q, dq) = qdq(&mut g, 0, p, p);
        let other = node(&mut g, "DequantizeLinear", &[q, p.0, p.1], vec![]);
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
