//! Ops evaluated at compile time: `Constant` (resolved by the importer), `ConstantOfShape`,
//! `Shape` (`start`, `end`), `Size` and `Range`.
//!
//! Float semantics for constant folding ([`crate::passes::fold_constants`], which also folds
//! Shape and Size of statically shaped tensors); none reaches the quantizer.

use ndarray::{ArrayD, IxDyn};

use super::{OpDef, R, input};
use crate::ir::{Attr, Graph, Node, Value};

pub(crate) const OPS: &[OpDef] = &[
    OpDef::folded("", "Constant", None, "import"),
    OpDef::folded("", "ConstantOfShape", Some(eval_constant_of_shape), "constant folding"),
    OpDef::folded("", "Range", Some(eval_range), "constant folding"),
    OpDef::folded("", "Shape", Some(eval_shape), "constant folding"),
    OpDef::folded("", "Size", Some(eval_size), "constant folding"),
];

fn eval_shape(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let s: Vec<i64> = input(ins, 0)?.shape().iter().map(|&d| d as i64).collect();
    let rank = s.len() as i64;
    let clampi = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank) as usize;
    let (a, b) = (clampi(n.int("start", 0)), clampi(n.int("end", rank)));
    let s = s[a..b.max(a)].to_vec();
    Ok(vec![Value::Int(ArrayD::from_shape_vec(IxDyn(&[s.len()]), s).unwrap())])
}

fn eval_size(_: &Graph, _: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    Ok(vec![Value::Int(ArrayD::from_elem(IxDyn(&[]), input(ins, 0)?.shape().iter().product::<usize>() as i64))])
}

fn eval_constant_of_shape(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let shape: Vec<usize> = input(ins, 0)?
        .to_i64()
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| format!("ConstantOfShape with a negative dimension {d}")))
        .collect::<R<_>>()?;
    super::check_elements(&shape, "the ConstantOfShape output")?;
    Ok(vec![match n.attr("value") {
        Some(Attr::Tensor(Value::Int(v))) => Value::Int(ArrayD::from_elem(IxDyn(&shape), v.iter().next().copied().unwrap_or(0))),
        Some(Attr::Tensor(Value::Float(v))) => Value::Float(ArrayD::from_elem(IxDyn(&shape), v.iter().next().copied().unwrap_or(0.0))),
        _ => Value::Float(ArrayD::zeros(IxDyn(&shape))),
    }])
}

fn eval_range(_: &Graph, _: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let f = |i: usize| -> R<ArrayD<f32>> { Ok(input(ins, i)?.to_f32()) };
    let (s, l, d) = (f(0)?, f(1)?, f(2)?);
    let (s, l, d) =
        (s.iter().next().copied().unwrap_or(0.0), l.iter().next().copied().unwrap_or(0.0), d.iter().next().copied().unwrap_or(1.0));
    let count = ((l - s) / d).ceil().max(0.0);
    // NaN (d = 0 with l = s), ∞ and huge counts are refused before the loop
    if !count.is_finite() || count > solidml_spec::validate::MAX_TENSOR_ELEMENTS as f32 {
        return Err(format!("Range from {s} to {l} by {d} has {count} elements, more than a tensor may hold"));
    }
    let count = count as usize;
    let v: Vec<f32> = (0..count).map(|i| s + i as f32 * d).collect();
    let all_int = !input(ins, 0)?.is_float();
    let a = ArrayD::from_shape_vec(IxDyn(&[count]), v).unwrap();
    Ok(vec![if all_int { Value::Int(a.mapv(|x| x as i64)) } else { Value::Float(a) }])
}
