//! `Trilu`: the upper (`upper = 1`, default) or lower triangle of the last two axes, from
//! diagonal `k` (constant input 1, default 0): element `[…, i, j]` is kept where `j − i ≥ k`
//! (upper) or `j − i ≤ k` (lower), else 0.
//!
//! Float semantics in `f32` (integers in `i64`). Lowering: `Binary` Mul by a constant 0/1 mask
//! of the last two axes (an int8 constant tensor), the product requantized to the calibrated
//! output range; on integer tensors an exact `IntBinary` Mul by the mask as an i64 constant.

use ndarray::{ArrayD, IxDyn};
use solidml_spec::{ConstData, DType, IntBinaryKind, Op};

use super::{OpDef, R, input};
use crate::{
    ir::{Graph, Node, Value},
    quantize::Lowering,
};

pub(crate) const OPS: &[OpDef] = &[OpDef::new("", "Trilu", eval, lower)];

/// The 0/1 mask of the last two axes (`rows × cols`) of a Trilu with diagonal `k`.
fn mask(rows: usize, cols: usize, k: i64, upper: bool) -> ArrayD<f32> {
    ArrayD::from_shape_fn(IxDyn(&[rows, cols]), |ix| {
        let d = ix[1] as i64 - ix[0] as i64;
        (if upper { d >= k } else { d <= k }) as u8 as f32
    })
}

/// The diagonal `k`: constant input 1, or 0.
fn diagonal(ins: &[Option<&Value>]) -> i64 {
    ins.get(1).copied().flatten().and_then(|v| v.to_i64().iter().next().copied()).unwrap_or(0)
}

fn shape2(shape: &[usize]) -> R<(usize, usize)> {
    match shape {
        [.., r, c] => Ok((*r, *c)),
        _ => Err("Trilu needs a tensor of rank 2 or more".into()),
    }
}

fn eval(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?;
    let (rows, cols) = shape2(&x.shape())?;
    let m = mask(rows, cols, diagonal(ins), n.int("upper", 1) != 0);
    Ok(vec![if x.is_float() { Value::Float(&x.to_f32() * &m) } else { Value::Int(&x.to_i64() * &m.mapv(|v| v as i64)) }])
}

fn lower(l: &mut Lowering<'_>, n: &Node, ins: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let x = n.input(0).ok_or("input 0 missing")?;
    if let Some(t) = n.input(1).filter(|&t| !g.is_const(t)) {
        return Err(format!("the diagonal `k` must be constant, but input 1 (`{}`) is computed at run time", g.name(t)));
    }
    let (rows, cols) = shape2(g.shape(x))?;
    let m = mask(rows, cols, diagonal(ins), n.int("upper", 1) != 0);
    if g.tensors[x].is_float {
        return super::binary::binary_with_const(l, n, x, &m, 0, super::binary::BinaryOp::Mul);
    }
    // integers: an exact IntBinary Mul by the mask as an i64 constant
    let xi = l.id(x)?;
    let mt = l.tensor(&format!("{}.mask", n.name), &[rows, cols], DType::I64, None);
    l.model.constants.push((mt, ConstData::I64(m.iter().map(|&v| v as i64).collect())));
    let y = n.outputs[0];
    let o = l.tensor(g.name(y), g.shape(y), DType::I64, None);
    l.map.insert(y, o);
    l.emit(&n.name, Op::IntBinary { kind: IntBinaryKind::Mul }, vec![xi, mt], vec![o]);
    Ok(())
}
