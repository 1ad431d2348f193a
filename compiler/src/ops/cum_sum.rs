//! `CumSum` (opset 11, 14) ([`CumSumAttrs`]: the axis from the constant input 1, `exclusive`,
//! `reverse`).
//!
//! Float semantics in `f32` (integer inputs in `i64`). Lowering: spec `CumSum` with
//! `multiplier = s_in / s_out` (docs/spec.md §Op: CumSum) for int8 tensors. An integer tensor
//! (i64) is summed exactly by a Hillis–Steele scan ([`lower_integer`]): `y ← y + shift(y, s)`
//! for `s = 1, 2, 4, … < L` (`L` the axis length), each shift a View of `L − s` elements
//! and a constant Pad of `s` zeros (at the start, or the end with `reverse`) and the sum an
//! `IntBinary` Add; `exclusive` shifts the input by one first. A sum outside i64 is a run-time
//! error (ONNX's int32 and int64 CumSum wrap around instead).

use ndarray::{ArrayD, Axis};
use solidml_spec::{CumSum, DType, IntBinaryKind, Op, Pad, PadMode, TensorId, View};

use super::{OpDef, R, gather_elements::int_binary, input};
use crate::{
    float::norm_axis,
    ir::{Graph, Node, Value},
    quantize::{Lowering, multiplier, row_major},
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
    if l.model.tensor(x).dtype == DType::I64 {
        return lower_integer(l, n, x, a);
    }
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

/// `y` shifted by `s` along `a.axis` (towards the end, or the start with `a.reverse`), zeros
/// filling the vacated positions: a View of the `L − s` kept elements and a constant Pad.
fn shifted(l: &mut Lowering<'_>, name: &str, y: TensorId, a: CumSumAttrs, s: usize) -> TensorId {
    let shape = l.shape_of(y);
    let (axis, len) = (a.axis, shape[a.axis]);
    let strides = row_major(&shape);
    let kept = len.saturating_sub(s);
    let mut part = shape.clone();
    part[axis] = kept;
    // reverse: y[k + s] lands at k, so the view starts s elements in
    let offset = if a.reverse && kept > 0 { (s * strides[axis]) as u64 } else { 0 };
    let v = l.tensor(&format!("{name}.kept"), &part, DType::I64, None);
    let view = View { offset, strides: strides.iter().map(|&d| d as i64).collect() };
    l.emit(&format!("{name}.kept"), Op::View(view), vec![y], vec![v]);
    let (mut begin, mut end) = (vec![0u32; shape.len()], vec![0u32; shape.len()]);
    let fill = (len - kept) as u32;
    if a.reverse {
        end[axis] = fill
    } else {
        begin[axis] = fill
    }
    let o = l.tensor(name, &shape, DType::I64, None);
    l.emit(name, Op::Pad(Pad { pads_begin: begin, pads_end: end, mode: PadMode::Constant, value: 0 }), vec![v], vec![o]);
    o
}

/// CumSum of the i64 tensor `x`, exactly: the scan of the module docs.
fn lower_integer(l: &mut Lowering<'_>, n: &Node, x: TensorId, a: CumSumAttrs) -> R<()> {
    let len = l.shape_of(x)[a.axis];
    let mut y = x;
    if a.exclusive {
        y = shifted(l, &format!("{}.exclusive", n.name), y, a, 1);
    }
    let mut s = 1;
    while s < len {
        let sh = shifted(l, &format!("{}.shift{s}", n.name), y, a, s);
        y = int_binary(l, &format!("{}.sum{s}", n.name), IntBinaryKind::Add, y, sh)?;
        s *= 2;
    }
    let out = n.outputs[0];
    if y == x {
        // nothing to add (an axis of at most one element): the input itself
        let strides = row_major(&l.shape_of(x)).iter().map(|&d| d as i64).collect();
        l.view(&n.name, x, out, 0, strides);
        return Ok(());
    }
    l.model.tensors[y as usize].name = l.g.name(out).to_string();
    l.map.insert(out, y);
    Ok(())
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn, array};

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

    /// Compile CumSum of an int32 input of `shape` along `axis` and run it on `x`: the i64
    /// outputs, and the spec ops of the model.
    fn run_integer(shape: &[usize], x: &[i64], axis: i64, exclusive: i64, reverse: i64) -> (Vec<i64>, Vec<&'static str>) {
        use crate::{CompileOptions, compile_graph, ir::Attr, passes::testutil::node};
        let mut g = Graph { opset: 14, ..Default::default() };
        let t = g.add_tensor("x", false);
        g.tensors[t].shape = Some(shape.to_vec());
        g.tensors[t].onnx_type = 6;
        g.inputs.push(t);
        let a = g.add_tensor("axis", false);
        g.tensors[a].shape = Some(vec![]);
        g.consts.insert(a, Value::Int(ArrayD::from_elem(IxDyn(&[]), axis)));
        let y = node(&mut g, "CumSum", &[t, a], vec![("exclusive", Attr::Int(exclusive)), ("reverse", Attr::Int(reverse))]);
        crate::passes::testutil::output(&mut g, y);
        let data = vec![ArrayD::from_shape_vec(IxDyn(shape), x.iter().map(|&v| v as f32).collect()).unwrap()];
        let c = compile_graph(&mut g, "m", &CompileOptions::default().with_calibration(data.clone())).unwrap();
        let samples = crate::runner::samples(&crate::runner::input_shapes(&c.model), &data).unwrap();
        let out = crate::runner::run_samples(&c.model, &samples).unwrap().remove(0).0.remove(0);
        let ops = c.model.nodes.iter().map(|n| n.op.kind()).collect();
        (out.as_i64().to_vec(), ops)
    }

    #[test]
    fn integer_cumsum_is_exact() {
        // test_cumsum_1d_int32_exclusive and test_cumsum_2d_int32 (onnx node tests)
        assert_eq!(run_integer(&[5], &[1, 2, 3, 4, 5], 0, 1, 0).0, [0, 1, 3, 6, 10]);
        assert_eq!(run_integer(&[2, 3], &[1, 2, 3, 4, 5, 6], 0, 0, 0).0, [1, 2, 3, 5, 7, 9]);
        // the four forms along the last axis, with values far beyond int8
        let x = [1000, -2, 70000, 4, 5, 3_000_000, 6, 7];
        let by_hand = |exclusive: bool, reverse: bool| {
            let f = cum_sum(&ArrayD::from_shape_vec(IxDyn(&[2, 4]), x.to_vec()).unwrap(), CumSumAttrs { axis: 1, exclusive, reverse });
            f.iter().copied().collect::<Vec<i64>>()
        };
        for (e, r) in [(false, false), (true, false), (false, true), (true, true)] {
            let (got, ops) = run_integer(&[2, 4], &x, -1, e as i64, r as i64);
            assert_eq!(got, by_hand(e, r), "exclusive {e}, reverse {r}");
            // ⌈log2 4⌉ = 2 shifted adds (and one more shift when exclusive)
            assert_eq!(ops.iter().filter(|&&o| o == "IntBinary").count(), 2);
            assert_eq!(ops.iter().filter(|&&o| o == "Pad").count(), 2 + e as usize);
        }
        // a one-element axis: the input itself
        assert_eq!(run_integer(&[3, 1], &[7, 8, 9], 1, 0, 0), (vec![7, 8, 9], vec!["View"]));
    }
}
