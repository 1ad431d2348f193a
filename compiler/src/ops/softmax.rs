//! `Softmax` and `LogSoftmax` ([`SoftmaxAttrs`]: the axis, and before opset 13 the
//! "flatten to 2-D at `axis`" semantics).
//!
//! Float semantics in `f32` (max-subtracted). Lowering: spec `Softmax` with the fixed output
//! quantization [`SOFTMAX_QUANT`] (flattened forms: View → Softmax → View) and spec
//! `LogSoftmax` with calibrated output quantization (last-axis forms only).

use ndarray::{Axis, IxDyn};
use solidml_spec::{DType, Op, Softmax, View};

use super::{OpDef, R, input};
use crate::{
    float::norm_axis,
    ir::{Graph, Node, Value},
    quantize::{Lowering, SOFTMAX_QUANT, multiplier},
};

pub(crate) const OPS: &[OpDef] = &[OpDef::new("", "LogSoftmax", eval, lower_log_softmax), OpDef::new("", "Softmax", eval, lower_softmax)];

/// The softmax axis of a node over an input of rank `rank`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoftmaxAttrs {
    /// The normalised axis (attribute `axis`), made non-negative.
    pub axis: usize,
    /// Opset < 13 with a non-last axis: softmax over the flattened trailing axes `axis..`.
    pub flatten: bool,
}

impl SoftmaxAttrs {
    /// Opset < 13: `axis` defaults to 1 and flattens; from 13: defaults to −1, one axis.
    pub fn parse(n: &Node, rank: usize, opset: i64) -> R<SoftmaxAttrs> {
        if opset < 13 {
            let a = norm_axis(n.int("axis", 1), rank)?;
            Ok(SoftmaxAttrs { axis: a, flatten: a != rank - 1 })
        } else {
            Ok(SoftmaxAttrs { axis: norm_axis(n.int("axis", -1), rank)?, flatten: false })
        }
    }
}

fn eval(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?.to_f32();
    let SoftmaxAttrs { axis, flatten } = SoftmaxAttrs::parse(n, x.ndim(), g.opset)?;
    let log = n.op == "LogSoftmax";
    let shape = x.shape().to_vec();
    let work = if flatten {
        let outer: usize = shape[..axis].iter().product();
        x.into_shape_with_order(IxDyn(&[outer, shape[axis..].iter().product()])).map_err(|e| e.to_string())?
    } else {
        x
    };
    let ax = if flatten { 1 } else { axis };
    let mut y = work.clone();
    for mut lane in y.lanes_mut(Axis(ax)) {
        let m = lane.fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        let s: f32 = lane.iter().map(|&v| (v - m).exp()).sum();
        lane.mapv_inplace(|v| if !log { (v - m).exp() / s } else { v - m - s.ln() });
    }
    Ok(vec![Value::Float(y.into_shape_with_order(IxDyn(&shape)).map_err(|e| e.to_string())?)])
}

fn lower_softmax(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let xt = n.input(0).ok_or("input 0 missing")?;
    let x = l.id(xt)?;
    let shape = g.shape(xt).to_vec();
    let SoftmaxAttrs { axis, flatten } = SoftmaxAttrs::parse(n, shape.len(), g.opset)?;
    let y = n.outputs[0];
    let qi = l.quant(x);
    let exp_table: Vec<u32> = (0..256).map(|d| ((-(d as f64) * qi.scale as f64).exp() * 65536.0).round() as u32).collect();
    if flatten {
        let outer: usize = shape[..axis].iter().product();
        let inner: usize = shape[axis..].iter().product();
        let flat = l.tensor(&format!("{}.2d", g.name(y)), &[outer, inner], DType::I8, Some(qi));
        l.emit(&format!("{}.flatten", n.name), Op::View(View { offset: 0, strides: vec![inner as i64, 1] }), vec![x], vec![flat]);
        let sm = l.tensor(&format!("{}.2d_softmax", g.name(y)), &[outer, inner], DType::I8, Some(SOFTMAX_QUANT));
        l.emit(&n.name, Op::Softmax(Softmax { axis: 1, exp_table }), vec![flat], vec![sm]);
        l.contiguous_view(&format!("{}.unflatten", n.name), sm, y);
    } else {
        let o = l.out(y, SOFTMAX_QUANT);
        l.emit(&n.name, Op::Softmax(Softmax { axis: axis as u32, exp_table }), vec![x], vec![o]);
    }
    Ok(())
}

fn lower_log_softmax(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let xt = n.input(0).ok_or("input 0 missing")?;
    let x = l.id(xt)?;
    let shape = g.shape(xt).to_vec();
    let SoftmaxAttrs { axis, flatten } = SoftmaxAttrs::parse(n, shape.len(), g.opset)?;
    if flatten {
        return Err("LogSoftmax over several trailing axes (opset < 13 with axis not last) is not supported".into());
    }
    let y = n.outputs[0];
    let (qi, qo) = (l.quant(x), l.range_quant(y)?);
    let exp_table: Vec<u32> = (0..256).map(|d| ((-(d as f64) * qi.scale as f64).exp() * 65536.0).round() as u32).collect();
    let ln_table: Vec<i32> = (0..256).map(|i| ((1.0 + i as f64 / 256.0).ln() * 65536.0).round() as i32).collect();
    let input_scale_q16 = (qi.scale as f64 * 65536.0).round();
    if input_scale_q16 > (1 << 22) as f64 {
        return Err("input scale above 64 is not supported".into());
    }
    let ls = solidml_spec::LogSoftmax {
        axis: axis as u32,
        exp_table,
        ln_table,
        input_scale_q16: input_scale_q16 as i32,
        multiplier: multiplier(1.0 / (65536.0 * qo.scale as f64))?,
        output_zero_point: qo.zero_point,
    };
    let o = l.out(y, qo);
    l.emit(&n.name, Op::LogSoftmax(ls), vec![x], vec![o]);
    Ok(())
}
