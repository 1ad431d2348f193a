//! ONNX's integer-arithmetic products, as onnxruntime's quantizer writes them: `QLinearMatMul`
//! and `QLinearConv` (QOperator format: int8/uint8 operands with their scales and zero points,
//! per-tensor or per-row `a`, per-column `b` and per-output-channel `w`, an int32 bias at
//! `x_scale · w_scale`, requantized to `y_scale`, `y_zero_point`), and `MatMulInteger` and
//! `ConvInteger` (dynamic quantization: the int32 products of the zero-point-corrected
//! operands).
//!
//! Float semantics: the float op on the dequantized operands ([`super::qdq::dequantize`]), then
//! for the QLinear ops QuantizeLinear to `y` ([`super::qdq::quantize`], half to even, saturated
//! to the type of `y_zero_point`); for the Integer ops the product itself, a real tensor that
//! holds ONNX's int32 values (exact while its sums stay below 2^24 in magnitude, as `f32`
//! computes them; a Cast of it to a float type is then a no-op). None is lowered
//! as such: [`crate::passes::qlinear`] rewrites each into DequantizeLinear, the float op and
//! (QLinear) QuantizeLinear before anything else runs.

use ndarray::{ArrayD, IxDyn};

use super::{
    OpDef, R,
    conv::{ConvAttrs, conv},
    gemm::matmul,
    input,
    qdq::{QdqParams, dequantize, quantize, type_range},
};
use crate::ir::{Graph, Node, Value};

pub(crate) const OPS: &[OpDef] = &[
    OpDef::folded("", "ConvInteger", Some(eval), "passes::qlinear"),
    OpDef::folded("", "MatMulInteger", Some(eval), "passes::qlinear"),
    OpDef::folded("", "QLinearConv", Some(eval), "passes::qlinear"),
    OpDef::folded("", "QLinearMatMul", Some(eval), "passes::qlinear"),
];

/// The axes of the per-row `a`, per-column `b` and per-output-channel `w` (and bias) parameters,
/// and of the image `x` (whose parameters ONNX makes per-tensor: the channel axis, never read).
pub(crate) const A_AXIS: i64 = -2;
pub(crate) const B_AXIS: i64 = -1;
pub(crate) const W_AXIS: i64 = 0;
pub(crate) const X_AXIS: i64 = 1;

/// The positions of each op's operands: `(x, scale, zero point, axis)` of the two operands
/// (`None`: a scale of 1), and of `y`'s scale and zero point for the QLinear ops.
pub(crate) struct Layout {
    pub operands: [(usize, Option<usize>, usize, i64); 2],
    pub output: Option<(usize, usize)>,
    pub bias: Option<usize>,
}

/// The operand positions of `op` (one of [`OPS`]).
pub(crate) fn layout(op: &str) -> Layout {
    match op {
        "QLinearMatMul" => Layout { operands: [(0, Some(1), 2, A_AXIS), (3, Some(4), 5, B_AXIS)], output: Some((6, 7)), bias: None },
        "QLinearConv" => Layout { operands: [(0, Some(1), 2, X_AXIS), (3, Some(4), 5, W_AXIS)], output: Some((6, 7)), bias: Some(8) },
        "MatMulInteger" => Layout { operands: [(0, None, 2, A_AXIS), (1, None, 3, B_AXIS)], output: None, bias: None },
        _ => Layout { operands: [(0, None, 2, X_AXIS), (1, None, 3, W_AXIS)], output: None, bias: None },
    }
}

fn eval(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let arg = |i: usize| ins.get(i).copied().flatten();
    let one = Value::Float(ArrayD::from_elem(IxDyn(&[]), 1.0));
    let lay = layout(&n.op);
    let real = |(x, s, z, axis): (usize, Option<usize>, usize, i64)| -> R<ArrayD<f32>> {
        let x = input(ins, x)?;
        let scale = match s {
            Some(s) => input(ins, s)?,
            None => &one,
        };
        Ok(dequantize(x, &QdqParams::new(&n.op, axis, scale, arg(z), &x.shape())?))
    };
    let (a, b) = (real(lay.operands[0])?, real(lay.operands[1])?);
    let y = if n.op.contains("Conv") {
        let bias = match lay.bias.and_then(arg) {
            // the int32 bias at x_scale · w_scale (per output channel)
            Some(bias) => {
                let scale = input(ins, 1)?.to_f32() * &input(ins, 4)?.to_f32();
                let p = QdqParams::new(&n.op, W_AXIS, &Value::Float(scale), None, &bias.shape())?;
                Some(dequantize(bias, &p))
            }
            None => None,
        };
        conv(&ConvAttrs::parse(n), &a, &b, bias)?
    } else {
        matmul(&a, &b)?
    };
    let Some((ys, yz)) = lay.output else {
        return Ok(vec![Value::Float(y)]);
    };
    let p = QdqParams::new(&n.op, 1, input(ins, ys)?, arg(yz), y.shape())?;
    if p.axis.is_some() {
        return Err(format!("{} with a per-axis y_scale", n.op));
    }
    let range = type_range(n.input(yz).map_or(2, |t| g.tensors[t].onnx_type));
    Ok(vec![Value::Int(quantize(&y, &p, range))])
}
