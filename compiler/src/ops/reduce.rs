//! Reductions: `ReduceSum`, `ReduceMean`, `ReduceMax`, `ReduceMin` ([`ReduceAttrs`]: axes
//! from the attribute or, opset ≥ 13/18, the constant input 1, `keepdims`,
//! `noop_with_empty_axes`), `GlobalAveragePool` and `GlobalMaxPool` (the spatial axes, kept),
//! `ArgMax` and `ArgMin` ([`ArgMaxAttrs`]), and the reductions built on a sum ([`DERIVED`]:
//! `ReduceL1`, `ReduceL2`, `ReduceLogSum`, `ReduceLogSumExp`, `ReduceSumSquare`), and
//! `ReduceProd` ([`prod_plan`]).
//!
//! Float semantics in `f32`. Lowering: spec `Reduce`; a mean is a sum whose multiplier
//! carries `1/count` (one rounding). ArgMax becomes spec `ArgMax` with an i64 output. A
//! product has no exact int8 form; `passes/decompose.rs` (`products`) rewrites ReduceProd into
//! a tree of binary `Mul`s of the reduced slices, each with its own calibrated range.
//!
//! An empty input (a zero-length axis; spec `Reduce` needs `len(x) > 0`) reads nothing: an
//! empty output is a View of it, a sum over an empty axis is the constant 0 (a Pad of an empty
//! view, [`empty_gives_zeros`]); a mean, max or min over one (NaN, ±∞) is refused.

use ndarray::{ArrayD, Axis};
use solidml_spec::{DType, Op, Pad, PadMode, Reduce, ReduceKind, TensorId, View};

use super::{OpDef, R, input};
use crate::{
    float::norm_axis,
    ir::{Graph, Node, Value},
    quantize::{Lowering, multiplier, row_major},
};

pub(crate) const OPS: &[OpDef] = &[
    OpDef::new("", "ArgMax", eval_argmax, lower_argmax),
    OpDef::new("", "ArgMin", eval_argmax, lower_argmax),
    OpDef::new("", "GlobalAveragePool", eval, lower),
    OpDef::new("", "GlobalMaxPool", eval, lower),
    OpDef::new("", "ReduceMax", eval, lower),
    OpDef::new("", "ReduceMean", eval, lower),
    OpDef::new("", "ReduceMin", eval, lower),
    OpDef::new("", "ReduceProd", eval, lower_prod),
    OpDef::new("", "ReduceSum", eval, lower),
    OpDef::new("", "ReduceL1", eval_derived, lower_derived),
    OpDef::new("", "ReduceL2", eval_derived, lower_derived),
    OpDef::new("", "ReduceLogSum", eval_derived, lower_derived),
    OpDef::new("", "ReduceLogSumExp", eval_derived, lower_derived),
    OpDef::new("", "ReduceSumSquare", eval_derived, lower_derived),
];

/// The reductions made of an element-wise function, a sum and a function of the sum:
/// `(op, before, after)`. `passes/decompose.rs` (`reductions`) rewrites them so, before
/// calibration, so each part is a tensor with its own calibrated range.
pub(crate) const DERIVED: &[(&str, Option<&str>, Option<&str>)] = &[
    ("ReduceL1", Some("Abs"), None),
    ("ReduceL2", Some("Square"), Some("Sqrt")),
    ("ReduceLogSum", None, Some("Log")),
    ("ReduceLogSumExp", Some("Exp"), Some("Log")),
    ("ReduceSumSquare", Some("Square"), None),
];

/// Float semantics of a [`DERIVED`] reduction (`Square` is `x · x`).
fn eval_derived(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let &(_, before, after) = DERIVED.iter().find(|d| d.0 == n.op).ok_or("not a derived reduction")?;
    let f = |name: Option<&str>, x: f32| match name {
        Some("Abs") => x.abs(),
        Some("Square") => x * x,
        Some("Exp") => x.exp(),
        Some("Sqrt") => x.sqrt(),
        Some("Log") => x.ln(),
        _ => x,
    };
    let x = input(ins, 0)?.to_f32().mapv(|v| f(before, v));
    let a = ReduceAttrs::parse(&Node { op: "ReduceSum".into(), ..n.clone() }, ins, x.ndim())?;
    Ok(vec![Value::Float(reduce(&x, &a.axes, a.keepdims, ReduceOp::Sum).mapv(|v| f(after, v)))])
}

fn lower_derived(_: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    Err(format!("{} is decomposed before lowering (passes/decompose.rs)", n.op))
}

/// The reduction a node computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReduceOp {
    /// `ReduceSum`: the sum over the reduced axes.
    Sum,
    /// `ReduceMean` and `GlobalAveragePool`: the arithmetic mean over the reduced axes
    /// (lowered as a sum with `1/count` in the multiplier).
    Mean,
    /// `ReduceMax` and `GlobalMaxPool`: the maximum over the reduced axes.
    Max,
    /// `ReduceMin`: the minimum over the reduced axes.
    Min,
    /// `ReduceProd`: the product over the reduced axes (1 over none), decomposed before
    /// lowering.
    Prod,
}

/// A reduction's attributes, axes resolved against the input rank.
#[derive(Debug, Clone, PartialEq)]
pub struct ReduceAttrs {
    /// The reduction, from the node's `op_type`.
    pub op: ReduceOp,
    /// Sorted, distinct.
    pub axes: Vec<usize>,
    /// Whether reduced axes stay as size-1 axes (attribute `keepdims`, default 1; always true
    /// for the global pools).
    pub keepdims: bool,
}

impl ReduceAttrs {
    /// The attributes of reduction node `n` over an input of rank `rank` (constant inputs in
    /// `ins`): the global pools reduce axes `2..rank`; the `Reduce*` ops take their axes from
    /// input 1 when present, else from attribute `axes` (empty: all axes, or none with
    /// `noop_with_empty_axes = 1`). An error for another op or an axis outside
    /// `[-rank, rank)`.
    pub fn parse(n: &Node, ins: &[Option<&Value>], rank: usize) -> R<ReduceAttrs> {
        let op = match n.op.as_str() {
            "ReduceSum" => ReduceOp::Sum,
            "ReduceMean" | "GlobalAveragePool" => ReduceOp::Mean,
            "ReduceMax" | "GlobalMaxPool" => ReduceOp::Max,
            "ReduceMin" => ReduceOp::Min,
            "ReduceProd" => ReduceOp::Prod,
            other => return Err(format!("{other} is not a reduction")),
        };
        if n.op.starts_with("Global") {
            return Ok(ReduceAttrs { op, axes: (2..rank).collect(), keepdims: true });
        }
        Ok(ReduceAttrs { op, axes: reduce_axes(n, ins, rank)?, keepdims: n.int("keepdims", 1) != 0 })
    }
}

/// The reduced axes: input 1 when present, else the `axes` attribute; none given means all
/// axes, or none with `noop_with_empty_axes`.
fn reduce_axes(n: &Node, ins: &[Option<&Value>], rank: usize) -> R<Vec<usize>> {
    let axes: Vec<i64> = match ins.get(1).copied().flatten() {
        Some(v) => v.to_i64().iter().copied().collect(),
        None => n.ints("axes").unwrap_or_default(),
    };
    if axes.is_empty() {
        return Ok(if n.int("noop_with_empty_axes", 0) != 0 { vec![] } else { (0..rank).collect() });
    }
    let mut v: Vec<usize> = axes.iter().map(|&a| norm_axis(a, rank)).collect::<R<_>>()?;
    v.sort_unstable();
    v.dedup();
    Ok(v)
}

fn eval(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?.to_f32();
    let a = ReduceAttrs::parse(n, ins, x.ndim())?;
    Ok(vec![Value::Float(reduce(&x, &a.axes, a.keepdims, a.op))])
}

/// Float semantics of a reduction: `x` reduced with `op` over `axes` (sorted, distinct, in
/// range), each kept as a size-1 axis when `keep`. A mean over an empty axis is 0, a product 1;
/// max and min over one are −∞ and +∞.
pub fn reduce(x: &ArrayD<f32>, axes: &[usize], keep: bool, op: ReduceOp) -> ArrayD<f32> {
    let mut y = x.clone();
    for &a in axes.iter().rev() {
        y = match op {
            ReduceOp::Sum => y.sum_axis(Axis(a)),
            ReduceOp::Mean => y.mean_axis(Axis(a)).unwrap_or_else(|| y.sum_axis(Axis(a))),
            ReduceOp::Max => y.fold_axis(Axis(a), f32::NEG_INFINITY, |m, &v| m.max(v)),
            ReduceOp::Min => y.fold_axis(Axis(a), f32::INFINITY, |m, &v| m.min(v)),
            ReduceOp::Prod => y.fold_axis(Axis(a), 1.0, |p, &v| p * v),
        };
        if keep {
            y.insert_axis_inplace(Axis(a));
        }
    }
    y
}

fn lower(l: &mut Lowering<'_>, n: &Node, ins: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let xt = n.input(0).ok_or("input 0 missing")?;
    let x = l.id(xt)?;
    let shape = g.shape(xt);
    // run-time axes would give the node a shape known only at run time
    if let Some(t) = n.input(1).filter(|&t| !g.is_const(t)) {
        return Err(format!("the reduced axes must be constant, but input 1 (`{}`) is computed at run time", g.name(t)));
    }
    let a = ReduceAttrs::parse(n, ins, shape.len())?;
    if shape.contains(&0) {
        return lower_empty(l, n, &a, x);
    }
    let count: usize = a.axes.iter().map(|&a| shape[a]).product();
    // a mean is lowered as a sum whose multiplier carries 1/count: one rounding
    // (the spec's Mean kind rounds to input units first, then requantizes)
    let (kind, divisor) = match a.op {
        ReduceOp::Mean => (ReduceKind::Sum, count.max(1) as f64),
        ReduceOp::Sum => (ReduceKind::Sum, 1.0),
        ReduceOp::Max => (ReduceKind::Max, 1.0),
        ReduceOp::Min => (ReduceKind::Min, 1.0),
        ReduceOp::Prod => return lower_prod(l, n, ins),
    };
    let y = n.outputs[0];
    let (qi, qo) = (l.quant(x), l.range_quant(y)?);
    let o = l.out(y, qo);
    let r = Reduce {
        kind,
        axes: a.axes.iter().map(|&a| a as u32).collect(),
        input_zero_point: qi.zero_point,
        multiplier: multiplier(qi.scale as f64 / (qo.scale as f64 * divisor))?,
        output_zero_point: qo.zero_point,
    };
    l.emit(&n.name, Op::Reduce(r), vec![x], vec![o]);
    Ok(())
}

/// Whether the reduction `op` of an empty input (no element to read) giving `output_shape`
/// has values, by ONNX's rules: none for an empty output (`false`); the sum over nothing, `0`,
/// everywhere (`true`; the [`DERIVED`] reductions' sums too). The other reductions' values over
/// nothing are errors naming them: NaN for a mean (`0 / 0`), `−∞` for a max and `+∞` for a
/// min, which int8 cannot hold, and the product's `1`.
pub fn empty_gives_zeros(op: ReduceOp, output_shape: &[usize]) -> R<bool> {
    if output_shape.contains(&0) {
        return Ok(false);
    }
    match op {
        ReduceOp::Sum => Ok(true),
        ReduceOp::Mean => Err("a mean over an empty axis (NaN, 0 / 0) is not supported".into()),
        ReduceOp::Max => Err("a max over an empty axis (−∞) is not supported".into()),
        ReduceOp::Min => Err("a min over an empty axis (+∞) is not supported".into()),
        ReduceOp::Prod => Err("a product over an empty axis (the constant 1) is not supported".into()),
    }
}

/// A reduction of an empty input `x` ([`empty_gives_zeros`]): no element is read. An empty output is
/// a View of the input; a sum over an empty axis, the constant 0, is the input viewed as
/// `[0] ++ shape(y)` (empty), a constant Pad of one row along that first axis with the input's
/// zero point (the real 0 exactly), and a View to `shape(y)`. The output keeps the input's
/// quantization.
fn lower_empty(l: &mut Lowering<'_>, n: &Node, a: &ReduceAttrs, x: TensorId) -> R<()> {
    let y = n.outputs[0];
    let out = l.g.shape(y).to_vec();
    if !empty_gives_zeros(a.op, &out)? {
        let strides = row_major(&out).iter().map(|&s| s as i64).collect();
        l.view(&n.name, x, y, 0, strides);
        return Ok(());
    }
    let info = l.model.tensors[x as usize].clone();
    let value = info.quant.map_or(0, |q| q.zero_point as i64);
    let rows: Vec<usize> = [0].into_iter().chain(out.iter().copied()).collect();
    let strides: Vec<i64> = row_major(&rows).iter().map(|&s| s as i64).collect();
    let empty = l.tensor(&format!("{}.empty", n.name), &rows, info.dtype, info.quant);
    l.emit(&format!("{}.empty", n.name), Op::View(View { offset: 0, strides }), vec![x], vec![empty]);
    let row = [1].into_iter().chain(out.iter().copied()).collect::<Vec<_>>();
    let padded = l.tensor(&format!("{}.zeros", n.name), &row, info.dtype, info.quant);
    let mut pads_end = vec![0; rows.len()];
    pads_end[0] = 1;
    let pad = Pad { pads_begin: vec![0; rows.len()], pads_end, mode: PadMode::Constant, value };
    l.emit(&format!("{}.zeros", n.name), Op::Pad(pad), vec![empty], vec![padded]);
    let strides = row_major(&out).iter().map(|&s| s as i64).collect();
    l.view(&n.name, padded, y, 0, strides);
    Ok(())
}

/// Most factors of one product of a ReduceProd (the product of the reduced axes' lengths): the
/// decomposition multiplies them as a balanced tree of binary `Mul`s, `factors − 1` per output
/// value, each rounding to its calibrated range.
pub const MAX_PROD_FACTORS: usize = 256;

/// The attributes of ReduceProd node `n` over an input of `shape` (constant inputs in `ins`),
/// when `passes/decompose.rs` (`products`) can rewrite it: constant axes, no empty reduced axis
/// (an all-ones constant), at most [`MAX_PROD_FACTORS`] factors per product.
pub fn prod_plan(n: &Node, ins: &[Option<&Value>], shape: &[usize]) -> R<ReduceAttrs> {
    if n.input(1).is_some() && ins.get(1).copied().flatten().is_none() {
        return Err("the reduced axes must be constant, but input 1 is computed at run time".into());
    }
    let a = ReduceAttrs::parse(n, ins, shape.len())?;
    let factors = a.axes.iter().try_fold(1usize, |p, &ax| p.checked_mul(shape[ax]));
    match factors {
        Some(0) => Err("a product over an empty axis (the constant 1) is not supported".into()),
        Some(f) if f <= MAX_PROD_FACTORS => Ok(a),
        _ => Err(format!(
            "a product of more than {MAX_PROD_FACTORS} factors per output value is not supported (each factor is a quantized Mul)"
        )),
    }
}

/// ReduceProd is rewritten before lowering: what is left is a form the rewrite refuses.
fn lower_prod(l: &mut Lowering<'_>, n: &Node, ins: &[Option<&Value>]) -> R<()> {
    let xt = n.input(0).ok_or("input 0 missing")?;
    prod_plan(n, ins, l.g.shape(xt))?;
    Err("ReduceProd is decomposed before lowering (passes/decompose.rs, products)".into())
}

/// ArgMax's attributes (defaults: axis 0, keepdims, first index on ties).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgMaxAttrs {
    /// The reduced axis (attribute `axis`, default 0), made non-negative.
    pub axis: usize,
    /// Whether the reduced axis stays as a size-1 axis (attribute `keepdims`, default 1).
    pub keepdims: bool,
    /// On ties, the last maximal index rather than the first (attribute
    /// `select_last_index`, opset ≥ 12, default 0).
    pub select_last_index: bool,
}

impl ArgMaxAttrs {
    /// The attributes of ArgMax node `n` over an input of rank `rank`; an error when `axis`
    /// is outside `[-rank, rank)`.
    pub fn parse(n: &Node, rank: usize) -> R<ArgMaxAttrs> {
        Ok(ArgMaxAttrs {
            axis: norm_axis(n.int("axis", 0), rank)?,
            keepdims: n.int("keepdims", 1) != 0,
            select_last_index: n.int("select_last_index", 0) != 0,
        })
    }
}

/// `ArgMax`, and `ArgMin` (`n.op`): the index of the largest (smallest) value along the axis,
/// the first or, with `select_last_index`, the last of equals.
fn eval_argmax(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let min = n.op == "ArgMin";
    let x = input(ins, 0)?.to_f32();
    let a = ArgMaxAttrs::parse(n, x.ndim())?;
    let mut r = x.map_axis(Axis(a.axis), |lane| {
        let mut best = 0usize;
        for (j, &v) in lane.iter().enumerate() {
            let better = if min { v < lane[best] } else { v > lane[best] };
            if better || (a.select_last_index && v == lane[best]) {
                best = j;
            }
        }
        best as i64
    });
    if a.keepdims {
        r.insert_axis_inplace(Axis(a.axis));
    }
    Ok(vec![Value::Int(r)])
}

/// `ArgMax` as the spec's ArgMax of the codes (quantization is monotone); `ArgMin` as ArgMax of
/// the codes' bitwise complement `!q = −1 − q` (a Lut), which reverses their order exactly and
/// keeps ties.
fn lower_argmax(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let xt = n.input(0).ok_or("input 0 missing")?;
    let mut x = l.id(xt)?;
    if n.op == "ArgMin" {
        let q = l.quant(x);
        let flipped = l.tensor(&format!("{}__complement", n.name), g.shape(xt), DType::I8, Some(q));
        let tables = (-128i32..=127).map(|c| !(c as i8)).collect();
        l.emit(&format!("{}__complement", n.name), Op::Lut(solidml_spec::Lut { axis: None, tables }), vec![x], vec![flipped]);
        x = flipped;
    }
    let a = ArgMaxAttrs::parse(n, g.shape(xt).len())?;
    let y = n.outputs[0];
    let o = l.tensor(g.name(y), g.shape(y), DType::I64, None);
    l.map.insert(y, o);
    l.emit(&n.name, Op::ArgMax { axis: a.axis as u32, select_last_index: a.select_last_index }, vec![x], vec![o]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn};

    use crate::{
        CompileOptions, compile_graph,
        ir::Attr,
        passes::testutil::{graph, node, output},
    };

    /// Compile `x → op(axes, keepdims)` on an input of `shape` and run it: the output's shape and
    /// values, or the compile error.
    fn run(op: &str, shape: &[usize], axes: &[i64], keepdims: i64) -> Result<(Vec<usize>, Vec<f32>), String> {
        let mut g = graph(&[("x", shape)]);
        let attrs = vec![("axes", Attr::Ints(axes.to_vec())), ("keepdims", Attr::Int(keepdims))];
        let y = node(&mut g, op, &[0], attrs);
        output(&mut g, y);
        let n: usize = shape.iter().product();
        let data = vec![ArrayD::from_shape_vec(IxDyn(shape), (0..n).map(|i| i as f32 - 1.5).collect()).unwrap()];
        let c = compile_graph(&mut g, "m", &CompileOptions::default().with_calibration(data.clone())).map_err(|e| e.to_string())?;
        let samples = crate::runner::samples(&crate::runner::input_shapes(&c.model), &data).unwrap();
        let out = crate::runner::run_samples(&c.model, &samples).unwrap().remove(0).1.remove(0).to_f32();
        Ok((out.shape().to_vec(), out.iter().copied().collect()))
    }

    #[test]
    fn a_sum_over_an_empty_axis_is_zero() {
        // onnx's test_reduce_sum_empty_set (and its L1, L2, SumSquare forms): zeros
        for op in ["ReduceSum", "ReduceL1", "ReduceL2", "ReduceSumSquare"] {
            assert_eq!(run(op, &[2, 0, 4], &[1], 1).unwrap(), (vec![2, 1, 4], vec![0.0; 8]), "{op}");
            assert_eq!(run(op, &[2, 0, 4], &[1], 0).unwrap(), (vec![2, 4], vec![0.0; 8]), "{op}");
            // every axis, none kept: a scalar 0
            assert_eq!(run(op, &[2, 0, 4], &[0, 1, 2], 0).unwrap(), (vec![], vec![0.0]), "{op}");
        }
        // test_reduce_sum_empty_set_non_reduced_axis_zero: the output is empty too
        assert_eq!(run("ReduceSum", &[2, 0, 4], &[2], 1).unwrap(), (vec![2, 0, 1], vec![]));
        assert_eq!(run("ReduceMax", &[2, 0, 4], &[2], 0).unwrap(), (vec![2, 0], vec![]));
        // a non-empty input still reduces
        let (shape, sums) = run("ReduceSum", &[1, 2, 2], &[1], 0).unwrap();
        assert_eq!(shape, [1, 2]);
        assert!(sums.iter().zip([-1.0, 1.0]).all(|(s, w)| (s - w).abs() < 0.01), "{sums:?}");
    }

    #[test]
    fn reductions_over_nothing_that_int8_cannot_hold_are_refused() {
        for (op, what) in [("ReduceMax", "max"), ("ReduceMin", "min"), ("ReduceMean", "mean")] {
            let e = run(op, &[2, 0, 4], &[1], 1).unwrap_err();
            assert!(e.contains(&format!("a {what} over an empty axis")), "{op}: {e}");
        }
    }
}
