//! onnxruntime's integer products as the float ops they quantize, before anything else runs
//! (`ops::qlinear`):
//!
//! * `QLinearMatMul(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp)` becomes
//!   `QuantizeLinear(MatMul(DequantizeLinear(a), DequantizeLinear(b)), y_scale, y_zp)`, the
//!   parameters of `a` along axis −2 (per row) and of `b` along −1 (per column) when they are
//!   not scalars;
//! * `QLinearConv(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B)` becomes
//!   `QuantizeLinear(Conv(DequantizeLinear(x), DequantizeLinear(w), DequantizeLinear(B,
//!   x_scale · w_scale)), y_scale, y_zp)` with the node's attributes (`w` and `B` per output
//!   channel, axis 0);
//! * `MatMulInteger(A, B, a_zp, b_zp)` and `ConvInteger(x, w, x_zp, w_zp)` become `MatMul` and
//!   `Conv` of `DequantizeLinear(·, 1, zp)`: the zero-point-corrected integers as reals, whose
//!   product is the int32 result. The product carries the attribute `solidml.integer`
//!   ([`crate::quantize::INTEGER_ATTR`]): its output is an exact integer, which the lowering
//!   keeps exact where it can (`ops::gemm`, `ops::conv`). A `Cast` of it to a float type (as
//!   dynamically quantized models follow it with the scale) is then a no-op that
//!   `remove_identity` drops.
//!
//! Weights, scales and zero points that are constants fold (constant folding); the `Q → DQ`
//! pairs this leaves between consecutive QLinear ops, and a QuantizeLinear that writes a model
//! output, become prescribed quantizations (`passes::qdq`); a DequantizeLinear of an 8-bit
//! model input reads it as exact codes (`ops::qdq`).

use ndarray::{ArrayD, IxDyn};

use crate::{
    ir::{Attr, Graph, Node, Tid, Value},
    ops::qlinear::{W_AXIS, layout},
    quantize::INTEGER_ATTR,
};

/// The ops this pass rewrites.
const OPS: [&str; 4] = ["QLinearMatMul", "QLinearConv", "MatMulInteger", "ConvInteger"];

/// A new node `op` of `inputs` (`None`: omitted) named `name`, and its fresh output.
fn add(g: &mut Graph, name: String, op: &str, inputs: Vec<Option<Tid>>, attrs: Vec<(&str, Attr)>) -> (Node, Tid) {
    let out = g.add_tensor(&format!("{name}.out"), true);
    let n = Node {
        name,
        op: op.into(),
        domain: String::new(),
        attrs: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        inputs,
        outputs: vec![out],
    };
    (n, out)
}

/// Apply the pass (see the module docs) to `g`; returns whether it changed the graph.
pub fn run(g: &mut Graph) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i < g.nodes.len() {
        let n = g.nodes[i].clone();
        if !(n.domain.is_empty() && OPS.contains(&n.op.as_str())) {
            i += 1;
            continue;
        }
        let lay = layout(&n.op);
        let tag = |s: &str| format!("{}.{s}", n.name);
        let mut new = vec![];
        let mut reals = vec![];
        let mut one = None;
        for (k, &(x, s, z, axis)) in lay.operands.iter().enumerate() {
            let scale = match s {
                Some(s) => n.input(s),
                None => Some(*one.get_or_insert_with(|| {
                    let t = g.add_tensor(&tag("one"), true);
                    g.tensors[t].shape = Some(vec![]);
                    g.tensors[t].onnx_type = 1;
                    g.consts.insert(t, Value::Float(ArrayD::from_elem(IxDyn(&[]), 1.0)));
                    t
                })),
            };
            let name = tag(if k == 0 { "dequantize_a" } else { "dequantize_b" });
            let (dq, real) = add(g, name, "DequantizeLinear", vec![n.input(x), scale, n.input(z)], vec![("axis", Attr::Int(axis))]);
            new.push(dq);
            reals.push(Some(real));
        }
        if let Some(bias) = lay.bias.and_then(|b| n.input(b)) {
            // the int32 bias at x_scale · w_scale
            let (mul, scale) = add(g, tag("bias_scale"), "Mul", vec![n.input(1), n.input(4)], vec![]);
            let (dq, real) =
                add(g, tag("dequantize_bias"), "DequantizeLinear", vec![Some(bias), Some(scale)], vec![("axis", Attr::Int(W_AXIS))]);
            new.extend([mul, dq]);
            reals.push(Some(real));
        }
        let conv = n.op.contains("Conv");
        let (mut product, y) = add(g, tag(if conv { "conv" } else { "matmul" }), if conv { "Conv" } else { "MatMul" }, reals, vec![]);
        if conv {
            product.attrs = n.attrs.clone();
        }
        match lay.output {
            Some((scale, zero_point)) => {
                let (mut q, _) = add(g, tag("quantize"), "QuantizeLinear", vec![Some(y), n.input(scale), n.input(zero_point)], vec![]);
                q.outputs[0] = n.outputs[0];
                new.extend([product, q]);
            }
            None => {
                product.attrs.insert(INTEGER_ATTR.into(), Attr::Int(1));
                product.outputs[0] = n.outputs[0];
                new.push(product);
            }
        }
        let count = new.len();
        g.nodes.splice(i..i + 1, new);
        i += count;
        changed = true;
    }
    changed
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::{
        CompileOptions, compile_graph,
        passes::testutil::{check_preserves, constant, graph, node_n},
    };

    const UINT8: i32 = 2;
    const INT8: i32 = 3;
    const INT32: i32 = 6;

    /// An integer constant of ONNX type `ty`.
    fn ints(g: &mut Graph, name: &str, shape: &[usize], v: Vec<i64>, ty: i32) -> Tid {
        let t = g.add_tensor(name, false);
        g.tensors[t].shape = Some(shape.to_vec());
        g.tensors[t].onnx_type = ty;
        g.consts.insert(t, Value::Int(ArrayD::from_shape_vec(IxDyn(shape), v).unwrap()));
        t
    }

    /// Make graph input `t` an integer input of ONNX type `ty`.
    fn integer_input(g: &mut Graph, t: Tid, ty: i32) {
        g.tensors[t].is_float = false;
        g.tensors[t].onnx_type = ty;
    }

    /// Deterministic integers in `[lo, hi]`.
    fn codes(n: usize, lo: i64, hi: i64, seed: u64) -> Vec<i64> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                lo + (s % (hi - lo + 1) as u64) as i64
            })
            .collect()
    }

    fn ops(g: &Graph) -> Vec<&str> {
        g.nodes.iter().map(|n| n.op.as_str()).collect()
    }

    /// The float semantics of the rewritten graph are the op's (the very same functions), on
    /// the interpreter's pseudo-random inputs.
    #[test]
    fn each_op_becomes_dequantize_the_float_op_and_quantize() {
        // QLinearMatMul: a [2, 3, 4] per row, b [4, 5] per column, uint8
        let mut g = graph(&[("a", &[2, 3, 4])]);
        let a_s = constant(&mut g, "a_s", &[3], vec![0.02, 0.05, 0.03]);
        let a_z = ints(&mut g, "a_z", &[3], vec![120, 128, 131], UINT8);
        let b = ints(&mut g, "b", &[4, 5], codes(20, 0, 255, 1), UINT8);
        let b_s = constant(&mut g, "b_s", &[5], vec![0.01, 0.02, 0.015, 0.03, 0.005]);
        let b_z = ints(&mut g, "b_z", &[5], vec![128, 100, 140, 127, 90], UINT8);
        let y_s = constant(&mut g, "y_s", &[], vec![0.004]);
        let y_z = ints(&mut g, "y_z", &[], vec![125], UINT8);
        node_n(&mut g, "QLinearMatMul", &[Some(0), Some(a_s), Some(a_z), Some(b), Some(b_s), Some(b_z), Some(y_s), Some(y_z)], 1, vec![]);
        let (g, changed) = check_preserves(g, run);
        assert!(changed);
        assert_eq!(ops(&g), ["DequantizeLinear", "DequantizeLinear", "MatMul", "QuantizeLinear"]);

        // QLinearConv with a bias, per-channel int8 weights, padding
        let mut g = graph(&[("x", &[1, 2, 5, 5])]);
        let x_s = constant(&mut g, "x_s", &[], vec![0.05]);
        let x_z = ints(&mut g, "x_z", &[], vec![-3], INT8);
        let w = ints(&mut g, "w", &[3, 2, 3, 3], codes(54, -127, 127, 2), INT8);
        let w_s = constant(&mut g, "w_s", &[3], vec![0.01, 0.002, 0.004]);
        let w_z = ints(&mut g, "w_z", &[3], vec![0, 0, 0], INT8);
        let y_s = constant(&mut g, "y_s", &[], vec![0.01]);
        let y_z = ints(&mut g, "y_z", &[], vec![5], INT8);
        let bias = ints(&mut g, "bias", &[3], vec![1000, -400, 0], INT32);
        let ins = [0, x_s, x_z, w, w_s, w_z, y_s, y_z, bias].map(Some);
        node_n(&mut g, "QLinearConv", &ins, 1, vec![("pads", Attr::Ints(vec![1, 1, 1, 1])), ("strides", Attr::Ints(vec![2, 2]))]);
        let (g, changed) = check_preserves(g, run);
        assert!(changed);
        assert_eq!(ops(&g), ["DequantizeLinear", "DequantizeLinear", "Mul", "DequantizeLinear", "Conv", "QuantizeLinear"]);
        assert_eq!(g.nodes[4].attrs["pads"], Attr::Ints(vec![1, 1, 1, 1]));

        // MatMulInteger and ConvInteger: the product marked as an exact integer
        let mut g = graph(&[("a", &[3, 4])]);
        let b = ints(&mut g, "b", &[4, 2], codes(8, 0, 255, 3), UINT8);
        let (a_z, b_z) = (ints(&mut g, "a_z", &[], vec![7], UINT8), ints(&mut g, "b_z", &[2], vec![128, 3], UINT8));
        node_n(&mut g, "MatMulInteger", &[Some(0), Some(b), Some(a_z), Some(b_z)], 1, vec![]);
        let (g, changed) = check_preserves(g, run);
        assert!(changed);
        assert_eq!(ops(&g), ["DequantizeLinear", "DequantizeLinear", "MatMul"]);
        assert_eq!(g.nodes[2].attrs, HashMap::from([(INTEGER_ATTR.to_string(), Attr::Int(1))]));

        let mut g = graph(&[("x", &[1, 1, 4, 4])]);
        let w = ints(&mut g, "w", &[2, 1, 2, 2], codes(8, 0, 255, 4), UINT8);
        node_n(&mut g, "ConvInteger", &[Some(0), Some(w), None, None], 1, vec![("pads", Attr::Ints(vec![0, 1, 0, 1]))]);
        let (g, changed) = check_preserves(g, run);
        assert!(changed);
        assert_eq!(ops(&g), ["DequantizeLinear", "DequantizeLinear", "Conv"]);
        assert!(g.nodes[2].attrs.contains_key(INTEGER_ATTR) && g.nodes[2].attrs.contains_key("pads"));
    }

    /// Compile `g` calibrated on `x` (one array per input) and run it on the same data.
    fn compiled_outputs(g: &mut Graph, x: Vec<ArrayD<f32>>) -> (solidml_spec::Model, ArrayD<f32>) {
        let c = compile_graph(g, "m", &CompileOptions::default().with_calibration(x.clone())).unwrap();
        let shapes = crate::runner::input_shapes(&c.model);
        let samples = crate::runner::samples(&shapes, &x).unwrap();
        let out = crate::runner::run_samples(&c.model, &samples).unwrap().remove(0).1.remove(0).to_f32();
        (c.model, out)
    }

    /// onnxruntime's result of a product of integers: the int32 sums, requantized to
    /// `(y_scale, y_zp)` (half to even, saturated to uint8) when `y` is given.
    fn reference(acc: &[i64], scale: f64, y: Option<(f64, i64)>) -> Vec<f32> {
        acc.iter()
            .map(|&v| match y {
                Some((ys, yz)) => ((v as f64 * scale / ys).round_ties_even() as i64 + yz).clamp(0, 255) as f32,
                None => v as f32,
            })
            .collect()
    }

    #[test]
    fn matmul_integer_is_the_exact_int32_product() {
        // a uint8 [3, 5] model input, b uint8 [5, 4] with per-column zero points
        let (a, bv) = (codes(15, 0, 255, 5), codes(20, 0, 255, 6));
        let (az, bz) = (37i64, [128i64, 0, 255, 90]);
        let mut g = graph(&[("a", &[3, 5])]);
        integer_input(&mut g, 0, UINT8);
        let b = ints(&mut g, "b", &[5, 4], bv.clone(), UINT8);
        let (a_z, b_z) = (ints(&mut g, "a_z", &[], vec![az], UINT8), ints(&mut g, "b_z", &[4], bz.to_vec(), UINT8));
        let y = node_n(&mut g, "MatMulInteger", &[Some(0), Some(b), Some(a_z), Some(b_z)], 1, vec![])[0];
        g.tensors[y].onnx_type = INT32;
        let x = ArrayD::from_shape_vec(IxDyn(&[3, 5]), a.iter().map(|&v| v as f32).collect()).unwrap();
        let (m, out) = compiled_outputs(&mut g, vec![x]);
        let acc: Vec<i64> = (0..3)
            .flat_map(|i| (0..4).map(move |j| (i, j)))
            .map(|(i, j)| (0..5).map(|k| (a[i * 5 + k] - az) * (bv[k * 4 + j] - bz[j])).sum())
            .collect();
        assert_eq!(out.iter().copied().collect::<Vec<_>>(), reference(&acc, 1.0, None));
        let kinds: Vec<&str> = m.nodes.iter().map(|n| n.op.kind()).collect();
        assert_eq!(kinds, ["Lut", "DenseWide"], "the codes relabelled, then the exact product");
        assert_eq!(m.tensor(m.outputs[0]).dtype, solidml_spec::DType::I32);
    }

    #[test]
    fn a_cast_matmul_integer_is_a_real_product() {
        // dynamic quantization's shape: MatMulInteger → Cast(float) → Mul(scale): the Cast goes,
        // the product is an int8 real with integer steps, the Mul a table
        let (a, bv) = (codes(6, 0, 255, 11), codes(6, 0, 255, 12));
        let mut g = graph(&[("a", &[2, 3])]);
        integer_input(&mut g, 0, UINT8);
        let b = ints(&mut g, "b", &[3, 2], bv.clone(), UINT8);
        let a_z = ints(&mut g, "a_z", &[], vec![128], UINT8);
        let y = crate::passes::testutil::node(&mut g, "MatMulInteger", &[0, b, a_z], vec![]);
        let f = crate::passes::testutil::node(&mut g, "Cast", &[y], vec![("to", Attr::Int(1))]);
        let s = constant(&mut g, "s", &[], vec![0.001]);
        let out = crate::passes::testutil::node(&mut g, "Mul", &[f, s], vec![]);
        crate::passes::testutil::output(&mut g, out);
        let x = ArrayD::from_shape_vec(IxDyn(&[2, 3]), a.iter().map(|&v| v as f32).collect()).unwrap();
        let (m, got) = compiled_outputs(&mut g, vec![x]);
        let kinds: Vec<&str> = m.nodes.iter().map(|n| n.op.kind()).collect();
        assert_eq!(kinds, ["Lut", "DenseWide", "Lut"]);
        let step = m.tensor(m.outputs[0]).quant.unwrap().scale;
        for i in 0..2 {
            for j in 0..2 {
                let acc: i64 = (0..3).map(|k| (a[i * 3 + k] - 128) * bv[k * 2 + j]).sum();
                let want = acc as f32 * 0.001;
                assert!((got[[i, j]] - want).abs() <= step, "{} vs {want} (step {step})", got[[i, j]]);
            }
        }
    }

    #[test]
    fn conv_integer_is_exact_within_256_integers() {
        // the ONNX node test's data: x_zp pads with zeros, the sums span [0, 28]
        let mut g = graph(&[("x", &[1, 1, 3, 3])]);
        integer_input(&mut g, 0, UINT8);
        let w = ints(&mut g, "w", &[1, 1, 2, 2], vec![1; 4], UINT8);
        let x_z = ints(&mut g, "x_z", &[], vec![1], UINT8);
        let y = node_n(&mut g, "ConvInteger", &[Some(0), Some(w), Some(x_z)], 1, vec![("pads", Attr::Ints(vec![1, 1, 1, 1]))])[0];
        g.tensors[y].onnx_type = INT32;
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 3, 3]), (2..11).map(|v| v as f32).collect()).unwrap();
        let (m, out) = compiled_outputs(&mut g, vec![x]);
        let want = [1.0, 3.0, 5.0, 3.0, 5.0, 12.0, 16.0, 9.0, 11.0, 24.0, 28.0, 15.0, 7.0, 15.0, 17.0, 9.0];
        assert_eq!(out.iter().copied().collect::<Vec<_>>(), want);
        assert_eq!(m.tensor(m.outputs[0]).quant.unwrap().scale, 1.0, "integer steps");
    }

    #[test]
    fn qlinear_ops_match_onnxruntime() {
        // QLinearMatMul: uint8 a [2, 4] (a model input), b [4, 3]; the node test's parameters
        let (a, bv) = (codes(8, 0, 255, 7), codes(12, 0, 255, 8));
        let (a_s, a_z, b_s, b_z, y_s, y_z) = (0.0066f32, 113i64, 0.00705f32, 114i64, 0.0107f32, 118i64);
        let mut g = graph(&[("a", &[2, 4])]);
        integer_input(&mut g, 0, UINT8);
        let p = [
            constant(&mut g, "a_s", &[], vec![a_s]),
            ints(&mut g, "a_z", &[], vec![a_z], UINT8),
            ints(&mut g, "b", &[4, 3], bv.clone(), UINT8),
            constant(&mut g, "b_s", &[], vec![b_s]),
            ints(&mut g, "b_z", &[], vec![b_z], UINT8),
            constant(&mut g, "y_s", &[], vec![y_s]),
            ints(&mut g, "y_z", &[], vec![y_z], UINT8),
        ];
        let ins: Vec<Option<Tid>> = std::iter::once(0).chain(p).map(Some).collect();
        let y = node_n(&mut g, "QLinearMatMul", &ins, 1, vec![])[0];
        g.tensors[y].onnx_type = UINT8;
        let x = ArrayD::from_shape_vec(IxDyn(&[2, 4]), a.iter().map(|&v| v as f32).collect()).unwrap();
        let (m, out) = compiled_outputs(&mut g, vec![x]);
        let acc: Vec<i64> = (0..2)
            .flat_map(|i| (0..3).map(move |j| (i, j)))
            .map(|(i, j)| (0..4).map(|k| (a[i * 4 + k] - a_z) * (bv[k * 3 + j] - b_z)).sum())
            .collect();
        let want = reference(&acc, a_s as f64 * b_s as f64, Some((y_s as f64, y_z)));
        assert_eq!(out.iter().copied().collect::<Vec<_>>(), want, "the model's own integers: exact sums, one rounding");
        let kinds: Vec<&str> = m.nodes.iter().map(|n| n.op.kind()).collect();
        assert_eq!(kinds, ["Lut", "DenseWide", "Lut"], "codes read as a, the uint8 weights' integers, y's codes");
        assert_eq!(m.tensor(m.outputs[0]).quant, Some(solidml_spec::Quant { scale: 1.0, zero_point: -128 }), "uint8 codes");

        // QLinearConv 1×1 with a bias, per-channel uint8 weights within ±127 of their zero
        // points: Conv with the model's integers
        let xv = codes(8, 0, 255, 9);
        let mut g = graph(&[("x", &[1, 2, 2, 2])]);
        integer_input(&mut g, 0, UINT8);
        let p = [
            constant(&mut g, "x_s", &[], vec![0.02]),
            ints(&mut g, "x_z", &[], vec![100], UINT8),
            ints(&mut g, "w", &[2, 2, 1, 1], vec![200, 30, 7, 255], UINT8),
            constant(&mut g, "w_s", &[2], vec![0.01, 0.004]),
            ints(&mut g, "w_z", &[2], vec![128, 131], UINT8),
            constant(&mut g, "y_s", &[], vec![0.03]),
            ints(&mut g, "y_z", &[], vec![128], UINT8),
            ints(&mut g, "bias", &[2], vec![500, -2000], INT32),
        ];
        let ins: Vec<Option<Tid>> = std::iter::once(0).chain(p).map(Some).collect();
        let y = node_n(&mut g, "QLinearConv", &ins, 1, vec![])[0];
        g.tensors[y].onnx_type = UINT8;
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 2, 2, 2]), xv.iter().map(|&v| v as f32).collect()).unwrap();
        let (_, out) = compiled_outputs(&mut g, vec![x]);
        let (w, wz, ws, bias) = ([[200i64, 30], [7, 255]], [128i64, 131], [0.01f32, 0.004], [500i64, -2000]);
        for co in 0..2 {
            for pos in 0..4 {
                let acc: i64 = bias[co] + (0..2).map(|ci| (xv[ci * 4 + pos] - 100) * (w[co][ci] - wz[co])).sum::<i64>();
                let want = reference(&[acc], 0.02f32 as f64 * ws[co] as f64, Some((0.03, 128)))[0];
                let got = out[[0, co, pos / 2, pos % 2]];
                assert_eq!(got, want, "channel {co} position {pos}");
            }
        }
    }
}
