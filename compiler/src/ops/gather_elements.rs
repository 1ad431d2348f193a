//! `GatherElements` (`axis`, default 0; opset 11, 13): `data` and `indices` have the same
//! rank, the output has the shape of `indices`, and
//! `y[i_0, …, i_{r−1}] = data[i_0, …, j, …, i_{r−1}]` with `j = indices[i_0, …, i_{r−1}]` at
//! position `axis` (negative `j` counts from the end; `indices` may be shorter than `data` on
//! the other axes).
//!
//! Float semantics on `f32` or `i64` values. Lowering, by the flat (row-major) position of the
//! source element, `p = base[i] + j · stride` with `base[i] = Σ_{k ≠ axis} i_k · stride_k`:
//!
//! * constant indices: `data` viewed flat (`View`), then spec `Gather` on axis 0 with the
//!   constant list of positions `p`;
//! * run-time indices: `j` resolved exactly (negative ones counted from the end, an
//!   out-of-range one a run-time error) by a `GatherDynamic` of the constant i64 table
//!   `[0, 1, …, dim − 1]`, then `p = j · stride + base` by `IntBinary` Mul and Add with i64
//!   constants, then `GatherDynamic` of the flat `data` by `p`. A constant `data` becomes an
//!   int8 constant quantized over its own range (integer data: an i64 constant).
//!
//! The lowering helpers here (`const_i64`, `int_binary`, `gather_dynamic`, …) are shared by the
//! other index-moving families ([`super::loss`], [`super::hardmax`], …).

use ndarray::{ArrayD, IxDyn};
use solidml_spec::{ConstData, DType, IntBinaryKind, Op, Quant, TensorId, View, io::quantize_f32};

use super::{OpDef, R, input};
use crate::{
    float::{broadcast_shape, norm_axis},
    ir::{Graph, Node, Tid, Value},
    quantize::{Lowering, quant_from_range, row_major},
};

pub(crate) const OPS: &[OpDef] = &[OpDef::new("", "GatherElements", eval, lower)];

/// Index `i` of an axis of `dim` (negative counts from the end), or an error naming it.
pub(crate) fn resolve(i: i64, dim: usize, what: &str) -> R<usize> {
    let v = if i < 0 { i.checked_add(dim as i64) } else { Some(i) };
    match v {
        Some(v) if v >= 0 && v < dim as i64 => Ok(v as usize),
        _ => Err(format!("{what}: index {i} out of range for an axis of {dim}")),
    }
}

/// Check the shapes of a GatherElements: equal ranks, indices no longer than data on the other
/// axes; returns the normalised axis.
pub(crate) fn check_shapes(data: &[usize], idx: &[usize], axis: i64) -> R<usize> {
    let axis = norm_axis(axis, data.len())?;
    if data.len() != idx.len() {
        return Err(format!("GatherElements: indices of shape {idx:?} do not have the rank of the data {data:?}"));
    }
    if data.iter().zip(idx).enumerate().any(|(k, (&d, &i))| k != axis && i > d) {
        return Err(format!("GatherElements: indices of shape {idx:?} are longer than the data {data:?} on an axis other than {axis}"));
    }
    super::check_elements(idx, "the GatherElements output")?;
    Ok(axis)
}

/// `base[i] = Σ_{k ≠ axis} i_k · stride_k` over the positions `i` of `idx_shape`, where the
/// strides are the row-major ones of `data_shape`.
pub(crate) fn base_positions(data_shape: &[usize], idx_shape: &[usize], axis: usize) -> Vec<usize> {
    let strides = row_major(data_shape);
    let n: usize = idx_shape.iter().product();
    let mut out = Vec::with_capacity(n);
    let mut ix = vec![0usize; idx_shape.len()];
    for _ in 0..n {
        out.push(ix.iter().zip(&strides).enumerate().filter(|(k, _)| *k != axis).map(|(_, (i, s))| i * s).sum());
        for k in (0..ix.len()).rev() {
            ix[k] += 1;
            if ix[k] < idx_shape[k] {
                break;
            }
            ix[k] = 0;
        }
    }
    out
}

/// The flat positions in `data` of the elements GatherElements picks.
fn source_positions(data_shape: &[usize], idx: &ArrayD<i64>, axis: usize) -> R<Vec<usize>> {
    let dim = data_shape[axis];
    let stride = row_major(data_shape)[axis];
    let base = base_positions(data_shape, idx.shape(), axis);
    let idx = idx.as_standard_layout();
    base.iter().zip(idx.iter()).map(|(&b, &j)| Ok(b + resolve(j, dim, "GatherElements")? * stride)).collect()
}

/// The elements of `v` at flat positions `pos`, in the shape `shape`.
pub(crate) fn pick(v: &Value, pos: &[usize], shape: &[usize]) -> R<Value> {
    let err = |e: ndarray::ShapeError| e.to_string();
    Ok(match v {
        Value::Float(a) => {
            let a = a.as_standard_layout();
            let s = a.as_slice().ok_or("not contiguous")?;
            Value::Float(ArrayD::from_shape_vec(IxDyn(shape), pos.iter().map(|&p| s[p]).collect()).map_err(err)?)
        }
        Value::Int(a) => {
            let a = a.as_standard_layout();
            let s = a.as_slice().ok_or("not contiguous")?;
            Value::Int(ArrayD::from_shape_vec(IxDyn(shape), pos.iter().map(|&p| s[p]).collect()).map_err(err)?)
        }
    })
}

fn eval(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let data = input(ins, 0)?;
    let idx = input(ins, 1)?.to_i64();
    let axis = check_shapes(&data.shape(), idx.shape(), n.int("axis", 0))?;
    let pos = source_positions(&data.shape(), &idx, axis)?;
    Ok(vec![pick(data, &pos, idx.shape())?])
}

fn lower(l: &mut Lowering<'_>, n: &Node, ins: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let (data, idx) = (n.input(0).ok_or("data missing")?, n.input(1).ok_or("indices missing")?);
    let y = n.outputs[0];
    let (dshape, ishape) = (g.shape(data).to_vec(), g.shape(idx).to_vec());
    let axis = check_shapes(&dshape, &ishape, n.int("axis", 0))?;
    let x = data_id(l, data)?;
    let flat = flat_view(l, &format!("{}.flat", n.name), x);
    if let Some(iv) = ins.get(1).copied().flatten() {
        let pos = source_positions(&dshape, &iv.to_i64(), axis)?;
        let info = l.model.tensors[x as usize].clone();
        let o = l.tensor(g.name(y), &ishape, info.dtype, info.quant);
        l.map.insert(y, o);
        l.emit(&n.name, Op::Gather { axis: 0, indices: pos.iter().map(|&p| p as u32).collect() }, vec![flat], vec![o]);
        return Ok(());
    }
    let j = l.id(idx)?;
    let p = flat_positions(l, &n.name, j, &dshape, &ishape, axis)?;
    let o = gather_dynamic(l, &n.name, flat, p, 0)?;
    l.map.insert(y, o);
    l.model.tensors[o as usize].name = g.name(y).to_string();
    Ok(())
}

/// The flat positions `base + resolve(j) · stride` (i64, of shape `ishape`) of run-time indices
/// `j` along `axis` of a tensor of shape `dshape` (see the module docs).
pub(crate) fn flat_positions(
    l: &mut Lowering<'_>,
    name: &str,
    j: TensorId,
    dshape: &[usize],
    ishape: &[usize],
    axis: usize,
) -> R<TensorId> {
    let dim = dshape[axis];
    check_table(dim, name)?;
    let stride = row_major(dshape)[axis];
    let table = const_i64(l, &format!("{name}.range"), &[dim], (0..dim as i64).collect());
    let mut p = gather_dynamic(l, &format!("{name}.resolve"), table, j, 0)?;
    if stride != 1 {
        let s = const_i64(l, &format!("{name}.stride"), &[], vec![stride as i64]);
        p = int_binary(l, &format!("{name}.scale"), IntBinaryKind::Mul, p, s)?;
    }
    let base = base_positions(dshape, ishape, axis);
    if base.iter().any(|&b| b != 0) {
        let b = const_i64(l, &format!("{name}.base"), ishape, base.iter().map(|&b| b as i64).collect());
        p = int_binary(l, &format!("{name}.position"), IntBinaryKind::Add, p, b)?;
    }
    Ok(p)
}

/// Most entries of a constant lookup table (an index range, a one-hot or remapping table) the
/// index lowerings build: 2^24 (128 MiB of i64).
pub const MAX_TABLE: usize = 1 << 24;

/// Refuse a lookup table of `len` entries beyond [`MAX_TABLE`].
pub(crate) fn check_table(len: usize, what: &str) -> R<()> {
    if len > MAX_TABLE {
        return Err(format!("{what}: a lookup table of {len} entries, more than the {MAX_TABLE} the lowering builds"));
    }
    Ok(())
}

/// A new i64 constant tensor.
pub(crate) fn const_i64(l: &mut Lowering<'_>, name: &str, shape: &[usize], data: Vec<i64>) -> TensorId {
    let t = l.tensor(name, shape, DType::I64, None);
    l.model.constants.push((t, ConstData::I64(data)));
    t
}

/// A new int8 constant tensor with quantization `q` holding the codes `data`.
pub(crate) fn const_i8(l: &mut Lowering<'_>, name: &str, shape: &[usize], data: Vec<i8>, q: Quant) -> TensorId {
    let t = l.tensor(name, shape, DType::I8, Some(q));
    l.model.constants.push((t, ConstData::I8(data)));
    t
}

/// The spec tensor of IR tensor `t`: its run-time tensor, or a constant made a model constant
/// (a float one quantized over its own range, widened to include 0; an integer one as i64).
pub(crate) fn data_id(l: &mut Lowering<'_>, t: Tid) -> R<TensorId> {
    if let Some(&x) = l.map.get(&t) {
        return Ok(x);
    }
    let g = l.g;
    let c = g.consts.get(&t).ok_or_else(|| format!("tensor `{}` is not computed", g.name(t)))?;
    let shape = g.shape(t).to_vec();
    Ok(if c.is_float() {
        let c = c.to_f32();
        let (lo, hi) = c.iter().fold((0f32, 0f32), |(l, h), &v| (l.min(v), h.max(v)));
        let q = quant_from_range(lo, hi);
        let codes = c.iter().map(|&v| quantize_f32(v, q.scale, q.zero_point)).collect();
        const_i8(l, g.name(t), &shape, codes, q)
    } else {
        const_i64(l, g.name(t), &shape, c.to_i64().iter().copied().collect())
    })
}

/// `x` viewed as a vector of its elements (row-major).
pub(crate) fn flat_view(l: &mut Lowering<'_>, name: &str, x: TensorId) -> TensorId {
    let info = l.model.tensors[x as usize].clone();
    let len: usize = info.shape.iter().map(|&d| d as usize).product();
    let o = l.tensor(name, &[len], info.dtype, info.quant);
    l.emit(name, Op::View(View { offset: 0, strides: vec![1] }), vec![x], vec![o]);
    o
}

/// `x` (contiguous) viewed in `shape` (same number of elements).
pub(crate) fn reshape_view(l: &mut Lowering<'_>, name: &str, x: TensorId, shape: &[usize]) -> TensorId {
    let info = l.model.tensors[x as usize].clone();
    let o = l.tensor(name, shape, info.dtype, info.quant);
    let strides = row_major(shape).iter().map(|&s| s as i64).collect();
    l.emit(name, Op::View(View { offset: 0, strides }), vec![x], vec![o]);
    o
}

/// Exact i64 `a ∘ b` (numpy broadcasting).
pub(crate) fn int_binary(l: &mut Lowering<'_>, name: &str, kind: IntBinaryKind, a: TensorId, b: TensorId) -> R<TensorId> {
    let shape = broadcast_shape(&l.shape_of(a), &l.shape_of(b))?;
    let o = l.tensor(name, &shape, DType::I64, None);
    l.emit(name, Op::IntBinary { kind }, vec![a, b], vec![o]);
    Ok(o)
}

/// `GatherDynamic` of `x` along `axis` by the run-time i64 indices `idx`.
pub(crate) fn gather_dynamic(l: &mut Lowering<'_>, name: &str, x: TensorId, idx: TensorId, axis: usize) -> R<TensorId> {
    let info = l.model.tensors[x as usize].clone();
    let xs = l.shape_of(x);
    if xs.get(axis).is_none_or(|&d| d == 0) {
        return Err(format!("{name}: gathering from an empty axis"));
    }
    let mut shape = xs[..axis].to_vec();
    shape.extend(l.shape_of(idx));
    shape.extend_from_slice(&xs[axis + 1..]);
    super::check_elements(&shape, name)?;
    let o = l.tensor(name, &shape, info.dtype, info.quant);
    l.emit(name, Op::GatherDynamic { axis: axis as u32 }, vec![x, idx], vec![o]);
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Attr;

    fn run(data: Value, idx: Vec<i64>, ishape: &[usize], axis: i64) -> R<Value> {
        let g = Graph::default();
        let mut n = Node {
            name: "g".into(),
            op: "GatherElements".into(),
            domain: String::new(),
            attrs: Default::default(),
            inputs: vec![],
            outputs: vec![],
        };
        n.attrs.insert("axis".into(), Attr::Int(axis));
        let i = Value::Int(ArrayD::from_shape_vec(IxDyn(ishape), idx).unwrap());
        Ok(eval(&g, &n, &[Some(&data), Some(&i)])?.remove(0))
    }

    #[test]
    fn picks_along_the_axis() {
        // the ONNX examples (test_gather_elements_0, _negative_indices)
        let d = Value::Float(ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1., 2., 3., 4.]).unwrap());
        let y = run(d, vec![0, 0, 1, 0], &[2, 2], 1).unwrap();
        assert_eq!(y.to_f32().iter().copied().collect::<Vec<_>>(), [1., 1., 4., 3.]);
        let d = Value::Int(ArrayD::from_shape_vec(IxDyn(&[3, 3]), (1..=9).collect()).unwrap());
        let y = run(d, vec![-1, -2, 0, -2, 0, 0], &[2, 3], 0).unwrap();
        assert_eq!(y.to_i64().iter().copied().collect::<Vec<_>>(), [7, 5, 3, 4, 2, 3]);
    }

    #[test]
    fn bad_indices_and_shapes_are_errors() {
        let d = || Value::Float(ArrayD::zeros(IxDyn(&[2, 2])));
        assert!(run(d(), vec![2, 0], &[1, 2], 1).unwrap_err().contains("index 2 out of range"));
        assert!(run(d(), vec![i64::MIN, 0], &[1, 2], 1).unwrap_err().contains("out of range"));
        assert!(run(d(), vec![0; 3], &[1, 3], 0).unwrap_err().contains("longer than the data"));
        assert!(run(d(), vec![0; 2], &[2], 0).unwrap_err().contains("rank"));
        assert!(run(d(), vec![0; 2], &[1, 2], 2).unwrap_err().contains("axis 2 out of range"));
    }
}
