//! `QuantizeLinear` and `DequantizeLinear` (`axis`, default 1; per-axis or scalar scale and
//! zero point; the saturation range from the zero point's type or `output_dtype`,
//! [`qdq_range`]).
//!
//! Float semantics (ONNX's, rounding half to even) serve constant folding of quantized
//! weights. Neither op is lowered: [`crate::passes::qdq`] turns Q → DQ pairs on run-time
//! tensors into prescribed quantizations, and constant folding removes the rest.

use ndarray::{ArrayD, IxDyn};

use super::{OpDef, R, input};
use crate::{
    float::norm_axis,
    ir::{Graph, Node, Value},
};

pub(crate) const OPS: &[OpDef] = &[
    OpDef::folded("", "DequantizeLinear", Some(eval), "passes::qdq and constant folding"),
    OpDef::folded("", "QuantizeLinear", Some(eval), "passes::qdq and constant folding"),
];

fn eval(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?.to_f32();
    let scale = input(ins, 1)?.to_f32();
    let zp = ins.get(2).copied().flatten().map(|z| z.to_f32()).unwrap_or_else(|| ArrayD::zeros(IxDyn(scale.shape())));
    let axis = norm_axis(n.int("axis", 1), x.ndim().max(1))?;
    // per-axis parameters broadcast along `axis`; scalars everywhere
    let shaped = |p: ArrayD<f32>| -> R<ArrayD<f32>> {
        if p.len() <= 1 || x.ndim() == 0 {
            return Ok(ArrayD::from_elem(IxDyn(&[]), p.iter().next().copied().unwrap_or(0.0)));
        }
        if p.len() != x.shape()[axis] {
            return Err(format!("{} parameters of {} values for axis {axis} of {:?}", n.op, p.len(), x.shape()));
        }
        let mut s = vec![1; x.ndim()];
        s[axis] = p.len();
        p.into_shape_with_order(IxDyn(&s)).map_err(|e| e.to_string())
    };
    let (scale, zp) = (shaped(scale)?, shaped(zp)?);
    if n.op == "DequantizeLinear" {
        Ok(vec![Value::Float((&x - &zp) * &scale)])
    } else {
        let (lo, hi) = qdq_range(g, n);
        let q = (&x / &scale).mapv(|v| v.round_ties_even()) + &zp;
        Ok(vec![Value::Int(q.mapv(|v| v.clamp(lo, hi) as i64))])
    }
}

/// Saturation range of QuantizeLinear's output type: that of its zero point (uint8 when
/// there is none, or `output_dtype` when given).
pub fn qdq_range(g: &Graph, n: &Node) -> (f32, f32) {
    let ty = match n.input(2) {
        Some(t) => g.tensors[t].onnx_type,
        None => n.int("output_dtype", 2) as i32,
    };
    match ty {
        3 => (-128.0, 127.0),
        5 => (-32768.0, 32767.0),
        4 => (0.0, 65535.0),
        _ => (0.0, 255.0),
    }
}
