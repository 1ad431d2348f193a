//! `Concat` (`axis`): float semantics on `f32` (or `i64` when every input is an integer);
//! lowering to spec `Concat`, int8 inputs requantized to the output quantization first.

use ndarray::{ArrayD, Axis};
use solidml_spec::{DType, Op, TensorId};

use super::{OpDef, R, input};
use crate::{
    float::norm_axis,
    ir::{Graph, Node, Value},
    quantize::Lowering,
};

pub(crate) const OPS: &[OpDef] = &[OpDef::new("", "Concat", eval, lower)];

fn eval(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let axis = norm_axis(n.int("axis", 0), input(ins, 0)?.shape().len())?;
    let vals: Vec<&Value> = ins.iter().flatten().copied().collect();
    // the output before any input is converted: one tensor listed many times can concatenate
    // to far more than the element cap
    let mut out = input(ins, 0)?.shape();
    out[axis] = vals.iter().try_fold(0usize, |a, v| a.checked_add(v.shape().get(axis).copied().unwrap_or(0))).unwrap_or(usize::MAX);
    super::check_elements(&out, "the Concat output")?;
    if vals.iter().all(|v| !v.is_float()) {
        let arrs: Vec<ArrayD<i64>> = vals.iter().map(|v| v.to_i64()).collect();
        let views: Vec<_> = arrs.iter().map(|a| a.view()).collect();
        Ok(vec![Value::Int(ndarray::concatenate(Axis(axis), &views).map_err(|e| e.to_string())?)])
    } else {
        let arrs: Vec<ArrayD<f32>> = vals.iter().map(|v| v.to_f32()).collect();
        let views: Vec<_> = arrs.iter().map(|a| a.view()).collect();
        Ok(vec![Value::Float(ndarray::concatenate(Axis(axis), &views).map_err(|e| e.to_string())?)])
    }
}

fn lower(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let y = n.outputs[0];
    let xs: Vec<TensorId> = n.inputs.iter().flatten().map(|&t| l.id(t)).collect::<R<_>>()?;
    let axis = norm_axis(n.int("axis", 0), g.shape(y).len())? as u32;
    let dtype = l.model.tensors[xs[0] as usize].dtype;
    let (o, xs) = if dtype == DType::I8 {
        let q = l.range_quant(y)?;
        let xs: Vec<TensorId> = xs.iter().map(|&x| l.rescale(x, q, &n.name)).collect();
        (l.out(y, q), xs)
    } else {
        let o = l.tensor(g.name(y), g.shape(y), DType::I64, None);
        l.map.insert(y, o);
        (o, xs)
    };
    l.emit(&n.name, Op::Concat { axis }, xs, vec![o]);
    Ok(())
}
