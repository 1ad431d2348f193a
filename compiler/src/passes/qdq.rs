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
        if s1 != s2 || z1 != z2 || !(s > 0.0) || g.consumers().get(&q_out) != Some(&1) {
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
