//! `ReverseSequence` (`batch_axis` default 1, `time_axis` default 0, the two axes 0 and 1 in
//! some order): for each batch entry `b`, its first `lens[b]` time steps are reversed,
//! `y[b, t] = x[b, lens[b] − 1 − t]` for `t < lens[b]`, and the others copied.
//!
//! Float semantics on `f32` or `i64` values. Lowering onto the flat (row-major) source
//! positions `p = base + src · stride_time` (`base`: the position with the time coordinate 0):
//! constant lengths give a View of `x` as a vector and a `Gather` of the constant positions;
//! run-time lengths compute `src` exactly in i64: `d = lens[b] − 1 − t` (IntBinary Sub of a
//! View of `lens` and a constant), `c = [d ≥ 0]` by a `GatherDynamic` of the constant table of
//! `2T` entries that are 1 at `[0, T)` and 0 at `[T, 2T)` (where a negative `d` lands),
//! `src = t + c · (d − t)`, then `p` by IntBinary Mul and Add and a `GatherDynamic` of the flat
//! `x`. Lengths must lie in `[0, T]` (ONNX); a length above `2T` fails the inference at run
//! time, one in `(T, 2T]` copies its row unchanged.

use solidml_spec::IntBinaryKind;

use super::{
    OpDef, R,
    gather_elements::{base_positions, const_i64, data_id, flat_view, gather_dynamic, int_binary, pick, reshape_view},
    input,
};
use crate::{
    ir::{Graph, Node, Value},
    quantize::{Lowering, row_major},
};

pub(crate) const OPS: &[OpDef] = &[OpDef::new("", "ReverseSequence", eval, lower)];

/// `(batch_axis, time_axis)` checked against shape `x` and lengths of shape `lens`.
fn axes(n: &Node, x: &[usize], lens: &[usize]) -> R<(usize, usize)> {
    let (b, t) = (n.int("batch_axis", 1), n.int("time_axis", 0));
    if !matches!((b, t), (0, 1) | (1, 0)) {
        return Err(format!("ReverseSequence: batch_axis {b} and time_axis {t} must be 0 and 1"));
    }
    if x.len() < 2 {
        return Err(format!("ReverseSequence: input of rank {} (at least 2 needed)", x.len()));
    }
    let (b, t) = (b as usize, t as usize);
    if lens != [x[b]] {
        return Err(format!("ReverseSequence: sequence_lens of shape {lens:?} for a batch of {}", x[b]));
    }
    Ok((b, t))
}

/// The flat source positions for constant lengths.
fn positions(shape: &[usize], b: usize, t: usize, lens: &[i64]) -> R<Vec<usize>> {
    let steps = shape[t];
    if let Some(&l) = lens.iter().find(|&&l| l < 0 || l > steps as i64) {
        return Err(format!("ReverseSequence: sequence length {l} outside [0, {steps}]"));
    }
    let strides = row_major(shape);
    let total: usize = shape.iter().product();
    Ok((0..total)
        .map(|p| {
            let (bi, ti) = ((p / strides[b]) % shape[b], (p / strides[t]) % steps);
            let len = lens[bi] as usize;
            if ti < len { p - ti * strides[t] + (len - 1 - ti) * strides[t] } else { p }
        })
        .collect())
}

fn eval(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?;
    let lens = input(ins, 1)?.to_i64();
    let shape = x.shape();
    let (b, t) = axes(n, &shape, lens.shape())?;
    let pos = positions(&shape, b, t, &lens.iter().copied().collect::<Vec<_>>())?;
    Ok(vec![pick(x, &pos, &shape)?])
}

fn lower(l: &mut Lowering<'_>, n: &Node, ins: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let (xt, lt) = (n.input(0).ok_or("input missing")?, n.input(1).ok_or("sequence_lens missing")?);
    let shape = g.shape(xt).to_vec();
    let (b, t) = axes(n, &shape, g.shape(lt))?;
    let y = n.outputs[0];
    let x = data_id(l, xt)?;
    let flat = flat_view(l, &format!("{}.flat", n.name), x);
    let name = |s: &str| format!("{}.{s}", n.name);
    let p = if let Some(lv) = ins.get(1).copied().flatten() {
        let pos = positions(&shape, b, t, &lv.to_i64().iter().copied().collect::<Vec<_>>())?;
        let info = l.model.tensors[x as usize].clone();
        let o = l.tensor(g.name(y), &shape, info.dtype, info.quant);
        l.map.insert(y, o);
        l.emit(&n.name, solidml_spec::Op::Gather { axis: 0, indices: pos.iter().map(|&p| p as u32).collect() }, vec![flat], vec![o]);
        return Ok(());
    } else {
        let steps = shape[t];
        super::gather_elements::check_table(2 * steps, &n.name)?;
        if steps == 0 {
            return Err("ReverseSequence over an empty time axis is not supported".into());
        }
        let mut bshape = vec![1; shape.len()];
        bshape[b] = shape[b];
        let mut tshape = vec![1; shape.len()];
        tshape[t] = steps;
        let lens = reshape_view(l, &name("lens"), l.id(lt)?, &bshape);
        let t1 = const_i64(l, &name("t_plus_1"), &tshape, (1..=steps as i64).collect());
        let d = int_binary(l, &name("reversed"), IntBinaryKind::Sub, lens, t1)?;
        let table = const_i64(l, &name("in_prefix"), &[2 * steps], (0..2 * steps).map(|k| (k < steps) as i64).collect());
        let c = gather_dynamic(l, &name("in_prefix"), table, d, 0)?;
        let t0 = const_i64(l, &name("t"), &tshape, (0..steps as i64).collect());
        let diff = int_binary(l, &name("shift"), IntBinaryKind::Sub, d, t0)?;
        let m = int_binary(l, &name("masked_shift"), IntBinaryKind::Mul, c, diff)?;
        let mut src = int_binary(l, &name("source_step"), IntBinaryKind::Add, t0, m)?;
        let stride = row_major(&shape)[t];
        if stride != 1 {
            let s = const_i64(l, &name("stride"), &[], vec![stride as i64]);
            src = int_binary(l, &name("source_offset"), IntBinaryKind::Mul, src, s)?;
        }
        let base = base_positions(&shape, &shape, t).iter().map(|&p| p as i64).collect();
        let base = const_i64(l, &name("base"), &shape, base);
        int_binary(l, &name("source"), IntBinaryKind::Add, src, base)?
    };
    let o = gather_dynamic(l, &n.name, flat, p, 0)?;
    l.model.tensors[o as usize].name = g.name(y).to_string();
    l.map.insert(y, o);
    Ok(())
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn};

    use super::*;
    use crate::ir::Attr;

    #[test]
    fn reverses_the_prefixes() {
        // test_reversesequence_batch: x[b, t] = 4b + t, lens [1, 2, 3, 4]
        let x = Value::Float(ArrayD::from_shape_vec(IxDyn(&[4, 4]), (0..16).map(|v| v as f32).collect()).unwrap());
        let lens = Value::Int(ArrayD::from_shape_vec(IxDyn(&[4]), vec![1, 2, 3, 4]).unwrap());
        let mut n = Node {
            name: "r".into(),
            op: "ReverseSequence".into(),
            domain: String::new(),
            attrs: Default::default(),
            inputs: vec![],
            outputs: vec![],
        };
        n.attrs.insert("batch_axis".into(), Attr::Int(0));
        n.attrs.insert("time_axis".into(), Attr::Int(1));
        let y = eval(&Graph::default(), &n, &[Some(&x), Some(&lens)]).unwrap()[0].to_f32();
        let want = [0., 1., 2., 3., 5., 4., 6., 7., 10., 9., 8., 11., 15., 14., 13., 12.];
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), want);
        let bad = Value::Int(ArrayD::from_shape_vec(IxDyn(&[4]), vec![1, 2, 5, 4]).unwrap());
        assert!(eval(&Graph::default(), &n, &[Some(&x), Some(&bad)]).unwrap_err().contains("outside [0, 4]"));
        n.attrs.insert("time_axis".into(), Attr::Int(2));
        assert!(eval(&Graph::default(), &n, &[Some(&x), Some(&lens)]).unwrap_err().contains("must be 0 and 1"));
    }
}
