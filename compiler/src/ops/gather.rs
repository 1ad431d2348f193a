//! `Gather` (`axis`, negative indices counted from the end); its lowering also serves
//! `ai.onnx.ml` ArrayFeatureExtractor ([`super::ml`]), a gather on the last axis.
//!
//! Float semantics on `f32` or `i64` values. Lowering: constant indices are spec `Gather`; a
//! constant integer table indexed at run time is `Take`; run-time indices into a run-time
//! tensor or a constant float table (quantized over its own range) are `GatherDynamic`.

use ndarray::Axis;
use solidml_spec::{ConstData, DType, Op, io::quantize_f32};

use super::{OpDef, R, input};
use crate::{
    float::{map_value, norm_axis, reshape},
    ir::{Graph, Node, Value},
    quantize::{Lowering, quant_from_range},
};

pub(crate) const OPS: &[OpDef] = &[OpDef::new("", "Gather", eval, lower)];

fn norm_index(i: i64, dim: usize) -> R<usize> {
    let v = if i < 0 { i + dim as i64 } else { i };
    if v < 0 || v >= dim as i64 {
        return Err(format!("index {i} out of range for axis of {dim}"));
    }
    Ok(v as usize)
}

fn eval(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let v = input(ins, 0)?;
    let s = v.shape();
    let axis = norm_axis(n.int("axis", 0), s.len())?;
    let idx = input(ins, 1)?.to_i64();
    let resolved: Vec<usize> = idx.iter().map(|&i| norm_index(i, s[axis])).collect::<R<_>>()?;
    let mut out_shape = s[..axis].to_vec();
    out_shape.extend_from_slice(idx.shape());
    out_shape.extend_from_slice(&s[axis + 1..]);
    super::check_elements(&out_shape, "the Gather output")?;
    let g = map_value(v, |a| a.select(Axis(axis), &resolved), |a| a.select(Axis(axis), &resolved));
    Ok(vec![reshape(&g, &out_shape)?])
}

/// Gather, and ArrayFeatureExtractor (the last axis).
pub(crate) fn lower(l: &mut Lowering<'_>, n: &Node, ins: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let (data, idx) = (n.input(0).ok_or("data missing")?, n.input(1).ok_or("indices missing")?);
    let y = n.outputs[0];
    if g.is_const(data) && !g.is_const(idx) && !g.consts[&data].is_float() {
        // class labels picked by a run-time index: `Take`
        let table: Vec<i64> = g.consts[&data].to_i64().iter().copied().collect();
        let x = l.id(idx)?;
        let o = l.tensor(g.name(y), g.shape(y), DType::I64, None);
        l.map.insert(y, o);
        l.emit(&n.name, Op::Take { table }, vec![x], vec![o]);
        return Ok(());
    }
    let Some(iv) = ins.get(1).copied().flatten() else {
        if n.op != "Gather" {
            return Err("ArrayFeatureExtractor with run-time indices on run-time data is not supported".into());
        }
        // run-time indices: the data is a run-time tensor or a constant table (embeddings)
        let shape = g.shape(data).to_vec();
        let axis = norm_axis(n.int("axis", 0), shape.len())?;
        let x = match l.map.get(&data) {
            Some(&x) => x,
            None => {
                let c = g.consts[&data].to_f32();
                let (lo, hi) = c.iter().fold((0f32, 0f32), |(l, h), &v| (l.min(v), h.max(v)));
                let qc = quant_from_range(lo, hi);
                let ct = l.tensor(g.name(data), &shape, DType::I8, Some(qc));
                l.model.constants.push((ct, ConstData::I8(c.iter().map(|&v| quantize_f32(v, qc.scale, qc.zero_point)).collect())));
                ct
            }
        };
        let idx = l.id(idx)?;
        let info = l.model.tensors[x as usize].clone();
        let o = l.tensor(g.name(y), g.shape(y), info.dtype, info.quant);
        l.map.insert(y, o);
        l.emit(&n.name, Op::GatherDynamic { axis: axis as u32 }, vec![x, idx], vec![o]);
        return Ok(());
    };
    let x = l.id(data)?;
    let shape = g.shape(data).to_vec();
    let axis = if n.op == "Gather" { norm_axis(n.int("axis", 0), shape.len())? } else { shape.len() - 1 };
    let d = shape[axis] as i64;
    let indices: Vec<u32> = iv
        .to_i64()
        .iter()
        .map(|&i| if i < 0 { i + d } else { i })
        .map(|i| if (0..d).contains(&i) { Ok(i as u32) } else { Err(format!("index {i} out of range")) })
        .collect::<R<_>>()?;
    let info = l.model.tensors[x as usize].clone();
    let o = l.tensor(g.name(y), g.shape(y), info.dtype, info.quant);
    l.map.insert(y, o);
    l.emit(&n.name, Op::Gather { axis: axis as u32, indices }, vec![x], vec![o]);
    Ok(())
}
