//! `CumSum` (opset 11, 14) ([`CumSumAttrs`]: the axis from the constant input 1, `exclusive`,
//! `reverse`).
//!
//! Float semantics in `f32` (integer inputs in `i64`). Lowering: spec `CumSum` with
//! `multiplier = s_in / s_out` (docs/spec.md §Op: CumSum).

use ndarray::{ArrayD, Axis};
use solidml_spec::{CumSum, Op};

use super::{OpDef, R, input};
use crate::{
    float::norm_axis,
    ir::{Graph, Node, Value},
    quantize::{Lowering, multiplier},
};

pub(crate) const OPS: &[OpDef] = &[OpDef::new("", "CumSum", eval, lower)];

/// CumSum's attributes, the axis resolved against the input rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CumSumAttrs {
    /// The summed axis.
    pub axis: usize,
    /// Each element's own value left out of its sum.
    pub exclusive: bool,
    /// Sums run from the end of the axis.
    pub reverse: bool,
}

impl CumSumAttrs {
    /// Parse a node whose input 1 (the axis, a scalar) is `axis`.
    pub fn parse(n: &Node, axis: Option<&Value>, rank: usize) -> R<CumSumAttrs> {
        let axis = axis.ok_or_else(|| format!("CumSum `{}` needs a constant axis (input 1)", n.name))?.to_i64();
        let a = match axis.iter().collect::<Vec<_>>()[..] {
            [&a] => a,
            _ => return Err(format!("CumSum `{}`: the axis must be a scalar, got {} values", n.name, axis.len())),
        };
        Ok(CumSumAttrs { axis: norm_axis(a, rank)?, exclusive: n.int("exclusive", 0) != 0, reverse: n.int("reverse", 0) != 0 })
    }
}

/// Running sums of `x` along `a.axis`, in the element type of `x`.
fn cum_sum<T: Copy + Default + std::ops::AddAssign>(x: &ArrayD<T>, a: CumSumAttrs) -> ArrayD<T> {
    let mut y = x.clone();
    for mut lane in y.lanes_mut(Axis(a.axis)) {
        let n = lane.len();
        let mut sum = T::default();
        for k in 0..n {
            let j = if a.reverse { n - 1 - k } else { k };
            let v = lane[j];
            if !a.exclusive {
                sum += v;
            }
            lane[j] = sum;
            if a.exclusive {
                sum += v;
            }
        }
    }
    y
}

fn eval(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?;
    let a = CumSumAttrs::parse(n, ins.get(1).copied().flatten(), x.shape().len())?;
    Ok(vec![match x {
        Value::Float(x) => Value::Float(cum_sum(x, a)),
        Value::Int(x) => Value::Int(cum_sum(x, a)),
    }])
}

fn lower(l: &mut Lowering<'_>, n: &Node, ins: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let xt = n.input(0).ok_or("input 0 missing")?;
    let x = l.id(xt)?;
    let a = CumSumAttrs::parse(n, ins.get(1).copied().flatten(), g.shape(xt).len())?;
    let y = n.outputs[0];
    let (qi, qo) = (l.quant(x), l.range_quant(y)?);
    let o = l.out(y, qo);
    let c = CumSum {
        axis: a.axis as u32,
        exclusive: a.exclusive,
        reverse: a.reverse,
        input_zero_point: qi.zero_point,
        multiplier: multiplier(qi.scale as f64 / qo.scale as f64)?,
        output_zero_point: qo.zero_point,
    };
    l.emit(&n.name, Op::CumSum(c), vec![x], vec![o]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn the_four_forms_match_onnx() {
        // onnx's reference (onnx/reference/ops/op_cum_sum.py) on [1, 2, 3, 4, 5]
        let x = array![1.0f32, 2.0, 3.0, 4.0, 5.0].into_dyn();
        let at = |exclusive, reverse| cum_sum(&x, CumSumAttrs { axis: 0, exclusive, reverse }).into_raw_vec_and_offset().0;
        assert_eq!(at(false, false), [1.0, 3.0, 6.0, 10.0, 15.0]);
        assert_eq!(at(true, false), [0.0, 1.0, 3.0, 6.0, 10.0]);
        assert_eq!(at(false, true), [15.0, 14.0, 12.0, 9.0, 5.0]);
        assert_eq!(at(true, true), [14.0, 12.0, 9.0, 5.0, 0.0]);
        // along axis 1 of a matrix
        let m = array![[1i64, 2, 3], [4, 5, 6]].into_dyn();
        assert_eq!(cum_sum(&m, CumSumAttrs { axis: 1, exclusive: false, reverse: false }), array![[1i64, 3, 6], [4, 9, 15]].into_dyn());
    }
}
