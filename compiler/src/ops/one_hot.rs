//! `OneHot` (`axis`, default −1, the position of the new axis in the output) and `Compress`
//! (`axis`, or the flattened input without it).
//!
//! OneHot: `y[…, j, …] = values[1]` where `indices[…] = j` (a negative index counts from the
//! end, `j ∈ [−depth, depth)`), `values[0]` elsewhere (all of a lane for an index out of
//! range). Lowering with constant `depth` and `values` and run-time integer indices, exactly:
//! `t = GatherDynamic([0, …, depth − 1, 0, …, depth − 1], indices)` resolves negative indices
//! (an index outside `[−depth, depth)` fails the inference at run time instead of giving a lane
//! of `values[0]`), `e = range − t` (IntBinary Sub, the range along the new axis, values in
//! `(−depth, depth)`), and `y = GatherDynamic(table, e)` with a table of `2 · depth − 1`
//! entries, `values[1]` at index 0 and `values[0]` elsewhere (int8 codes of the calibrated
//! output quantization for real values, i64 for integer ones).
//!
//! Compress: the slices (elements) of `input` along `axis` whose `condition` entry is
//! non-zero (a condition shorter than the axis counts as false past its end). Lowering with a
//! constant condition: spec `Gather` of the selected indices (after a flat View without
//! `axis`).

use ndarray::{ArrayD, Axis, IxDyn};
use solidml_spec::{DType, IntBinaryKind, Op, io::quantize_f32};

use super::{
    OpDef, R,
    gather_elements::{const_i8, const_i64, flat_view, gather_dynamic, int_binary, reshape_view},
    input,
};
use crate::{
    float::{map_value, norm_axis, reshape},
    ir::{Graph, Node, Value},
    quantize::Lowering,
};

pub(crate) const OPS: &[OpDef] =
    &[OpDef::new("", "Compress", eval_compress, lower_compress), OpDef::new("", "OneHot", eval_one_hot, lower_one_hot)];

/// Largest `depth` the lowering tabulates.
pub const MAX_DEPTH: i64 = 1 << 20;

/// OneHot: (depth, the new axis, the output shape).
fn one_hot_shape(n: &Node, ishape: &[usize], depth: &Value, values: &Value) -> R<(usize, usize, Vec<usize>)> {
    let d = depth.to_f32().iter().next().copied().ok_or("OneHot: empty depth")?;
    if depth.shape().iter().product::<usize>() != 1 || !d.is_finite() || d < 1.0 || d > MAX_DEPTH as f32 {
        return Err(format!(
            "OneHot: depth {d} is not one value in [1, {MAX_DEPTH}] (the depth must be a constant: a run-time one gives an output of run-time shape)"
        ));
    }
    if values.shape().iter().product::<usize>() != 2 {
        return Err(format!("OneHot: values of shape {:?}, not two values", values.shape()));
    }
    let d = d as usize;
    let axis = norm_axis(n.int("axis", -1), ishape.len() + 1)?;
    let mut out = ishape.to_vec();
    out.insert(axis, d);
    super::check_elements(&out, "the OneHot output")?;
    Ok((d, axis, out))
}

fn eval_one_hot(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let idx = input(ins, 0)?.to_i64();
    let (depth, values) = (input(ins, 1)?, input(ins, 2)?);
    let (d, axis, out) = one_hot_shape(n, idx.shape(), depth, values)?;
    let hot = |j: usize, i: i64| if i == j as i64 || i + d as i64 == j as i64 { 1usize } else { 0 };
    let mut sel = ArrayD::<usize>::zeros(IxDyn(&out));
    for (pos, s) in sel.indexed_iter_mut() {
        let mut ix: Vec<usize> = ndarray::Dimension::slice(&pos).to_vec();
        let j = ix.remove(axis);
        *s = hot(j, idx[IxDyn(&ix)]);
    }
    let (vf, vi) = (values.to_f32(), values.to_i64());
    let (vf, vi): (Vec<f32>, Vec<i64>) = (vf.iter().copied().collect(), vi.iter().copied().collect());
    Ok(vec![match values {
        Value::Float(_) => Value::Float(sel.mapv(|s| vf[s])),
        Value::Int(_) => Value::Int(sel.mapv(|s| vi[s])),
    }])
}

fn lower_one_hot(l: &mut Lowering<'_>, n: &Node, ins: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let it = n.input(0).ok_or("indices missing")?;
    let (Some(depth), Some(values)) = (ins.get(1).copied().flatten(), ins.get(2).copied().flatten()) else {
        return Err("OneHot needs a constant depth and constant values".into());
    };
    let ishape = g.shape(it).to_vec();
    let (d, axis, out) = one_hot_shape(n, &ishape, depth, values)?;
    let idx = l.id(it)?;
    if l.model.tensors[idx as usize].dtype != DType::I64 {
        return Err("OneHot of real (quantized) indices is not supported: the indices must be an integer tensor".into());
    }
    let name = |s: &str| format!("{}.{s}", n.name);
    let twice = (0..2 * d as i64).map(|k| k % d as i64).collect();
    let twice = const_i64(l, &name("resolve"), &[2 * d], twice);
    let t = gather_dynamic(l, &name("resolved"), twice, idx, 0)?;
    let mut tshape = ishape.clone();
    tshape.insert(axis, 1);
    let tv = reshape_view(l, &name("unsqueezed"), t, &tshape);
    let mut rshape = vec![1; out.len()];
    rshape[axis] = d;
    let range = const_i64(l, &name("range"), &rshape, (0..d as i64).collect());
    let e = int_binary(l, &name("offset"), IntBinaryKind::Sub, range, tv)?;
    let y = n.outputs[0];
    let table = if values.is_float() {
        let q = l.range_quant(y)?;
        let v: Vec<i8> = values.to_f32().iter().map(|&v| quantize_f32(v, q.scale, q.zero_point)).collect();
        const_i8(l, &name("values"), &[2 * d - 1], (0..2 * d - 1).map(|k| if k == 0 { v[1] } else { v[0] }).collect(), q)
    } else {
        let v: Vec<i64> = values.to_i64().iter().copied().collect();
        const_i64(l, &name("values"), &[2 * d - 1], (0..2 * d - 1).map(|k| if k == 0 { v[1] } else { v[0] }).collect())
    };
    let o = gather_dynamic(l, &n.name, table, e, 0)?;
    l.model.tensors[o as usize].name = g.name(y).to_string();
    l.map.insert(y, o);
    Ok(())
}

/// Compress: the axis (`None`: the flattened input), and the selected indices.
fn compress_plan(n: &Node, shape: &[usize], cond: &ArrayD<i64>) -> R<(Option<usize>, Vec<usize>)> {
    let axis = n.attr("axis").map(|_| norm_axis(n.int("axis", 0), shape.len())).transpose()?;
    let dim = axis.map_or(shape.iter().product(), |a| shape[a]);
    if cond.ndim() != 1 {
        return Err(format!("Compress: a condition of shape {:?} (one axis needed)", cond.shape()));
    }
    let sel: Vec<usize> = cond.iter().enumerate().filter(|(_, c)| **c != 0).map(|(i, _)| i).collect();
    if let Some(&i) = sel.iter().find(|&&i| i >= dim) {
        return Err(format!("Compress: condition entry {i} is true beyond the axis of {dim}"));
    }
    Ok((axis, sel))
}

fn eval_compress(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?;
    let cond = input(ins, 1)?.to_i64();
    let (axis, sel) = compress_plan(n, &x.shape(), &cond)?;
    let (x, axis) = match axis {
        Some(a) => (x.clone(), a),
        None => (reshape(x, &[x.shape().iter().product()])?, 0),
    };
    Ok(vec![map_value(&x, |a| a.select(Axis(axis), &sel), |a| a.select(Axis(axis), &sel))])
}

fn lower_compress(l: &mut Lowering<'_>, n: &Node, ins: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let xt = n.input(0).ok_or("input missing")?;
    let Some(cond) = ins.get(1).copied().flatten() else {
        return Err("Compress needs a constant condition (a run-time one gives an output of run-time shape)".into());
    };
    let shape = g.shape(xt).to_vec();
    let (axis, sel) = compress_plan(n, &shape, &cond.to_i64())?;
    let mut x = l.id(xt)?;
    let axis = match axis {
        Some(a) => a,
        None => {
            x = flat_view(l, &format!("{}.flat", n.name), x);
            0
        }
    };
    let y = n.outputs[0];
    let info = l.model.tensors[x as usize].clone();
    let o = l.tensor(g.name(y), g.shape(y), info.dtype, info.quant);
    l.map.insert(y, o);
    l.emit(&n.name, Op::Gather { axis: axis as u32, indices: sel.iter().map(|&i| i as u32).collect() }, vec![x], vec![o]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Attr;

    use crate::passes::testutil::detached_node as node;

    #[test]
    fn one_hot_by_hand() {
        // test_onehot_negative_indices: indices [0, -7, -8], depth 10, values [1, 3]
        let idx = Value::Int(ArrayD::from_shape_vec(IxDyn(&[3]), vec![0, -7, -8]).unwrap());
        let depth = Value::Float(ArrayD::from_elem(IxDyn(&[]), 4.0));
        let values = Value::Float(ArrayD::from_shape_vec(IxDyn(&[2]), vec![1., 3.]).unwrap());
        let idx4 = Value::Int(ArrayD::from_shape_vec(IxDyn(&[3]), vec![0, -3, 9]).unwrap());
        let y = eval_one_hot(&Graph::default(), &node("OneHot", &[]), &[Some(&idx4), Some(&depth), Some(&values)]).unwrap();
        assert_eq!(y[0].shape(), [3, 4]);
        assert_eq!(y[0].to_f32().iter().copied().collect::<Vec<_>>(), [3., 1., 1., 1., 1., 3., 1., 1., 1., 1., 1., 1.]);
        let y = eval_one_hot(&Graph::default(), &node("OneHot", &[("axis", Attr::Int(0))]), &[Some(&idx4), Some(&depth), Some(&values)])
            .unwrap();
        assert_eq!(y[0].shape(), [4, 3]);
        let zero = Value::Float(ArrayD::from_elem(IxDyn(&[]), 0.0));
        assert!(
            eval_one_hot(&Graph::default(), &node("OneHot", &[]), &[Some(&idx), Some(&zero), Some(&values)])
                .unwrap_err()
                .contains("depth 0")
        );
    }

    #[test]
    fn compress_by_hand() {
        let x = Value::Float(ArrayD::from_shape_vec(IxDyn(&[3, 2]), vec![1., 2., 3., 4., 5., 6.]).unwrap());
        let c = Value::Int(ArrayD::from_shape_vec(IxDyn(&[2]), vec![0, 1]).unwrap());
        let y = eval_compress(&Graph::default(), &node("Compress", &[("axis", Attr::Int(0))]), &[Some(&x), Some(&c)]).unwrap();
        assert_eq!(y[0].to_f32().iter().copied().collect::<Vec<_>>(), [3., 4.]);
        let y = eval_compress(&Graph::default(), &node("Compress", &[]), &[Some(&x), Some(&c)]).unwrap();
        assert_eq!(y[0].to_f32().iter().copied().collect::<Vec<_>>(), [2.]);
        let long = Value::Int(ArrayD::from_shape_vec(IxDyn(&[4]), vec![0, 0, 0, 1]).unwrap());
        let e = eval_compress(&Graph::default(), &node("Compress", &[("axis", Attr::Int(0))]), &[Some(&x), Some(&long)]).unwrap_err();
        assert!(e.contains("beyond the axis of 3"));
    }
}
