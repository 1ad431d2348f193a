//! `GatherND` (`batch_dims` b, default 0): with `indices` of shape `[B…, I…, m]` (`B…` the
//! first b axes of `data`) each tuple of m indices picks the slice
//! `data[B…, i_0, …, i_{m−1}, :]` (negative indices count from the end); the output has
//! shape `[B…, I…] ++ data.shape[b + m..]`.
//!
//! Float semantics on `f32` or `i64` values. Lowering: `data` viewed as rows of its trailing
//! `data.shape[b + m..]` elements; the row of a tuple, `r = batch · R + Σ_j resolve(i_j) · s_j`
//! (`R` the rows per batch entry, `s_j` the row strides), is computed exactly in i64 — each
//! `i_j` a `Gather` of the last index axis, resolved by a `GatherDynamic` of the constant table
//! `[0, dim_j)` (out-of-range: a run-time error), then IntBinary Mul and Add with constants —
//! and the rows are a `GatherDynamic`, viewed in the output shape. Constant indices: the same
//! rows as a constant `Gather`.

use ndarray::ArrayD;
use solidml_spec::{IntBinaryKind, Op};

use super::{
    OpDef, R,
    gather_elements::{const_i64, data_id, gather_dynamic, int_binary, reshape_view, resolve},
    input,
};
use crate::{
    ir::{Graph, Node, Value},
    quantize::{Lowering, row_major},
};

pub(crate) const OPS: &[OpDef] = &[OpDef::new("", "GatherND", eval, lower)];

/// The shape facts of a GatherND.
struct Plan {
    /// `batch_dims`.
    b: usize,
    /// The index tuple length.
    m: usize,
    /// Rows per batch entry (`Π data.shape[b..b + m]`) and elements per row.
    rows: usize,
    row_len: usize,
    out: Vec<usize>,
}

fn plan(n: &Node, data: &[usize], idx: &[usize]) -> R<Plan> {
    let b = n.int("batch_dims", 0);
    let (r, q) = (data.len(), idx.len());
    if q == 0 || b < 0 || b as usize >= q.min(r.max(1)) {
        return Err(format!("GatherND: batch_dims {b} for data of rank {r} and indices of rank {q}"));
    }
    let b = b as usize;
    let m = idx[q - 1];
    if m < 1 || b + m > r {
        return Err(format!("GatherND: index tuples of {m} into data of rank {r} with batch_dims {b}"));
    }
    if data[..b] != idx[..b] {
        return Err(format!("GatherND: batch axes {:?} of the indices differ from the data's {:?}", &idx[..b], &data[..b]));
    }
    let mut out = idx[..q - 1].to_vec();
    out.extend_from_slice(&data[b + m..]);
    super::check_elements(&out, "the GatherND output")?;
    Ok(Plan { b, m, rows: data[b..b + m].iter().product(), row_len: data[b + m..].iter().product(), out })
}

/// The row (of `data` seen as `[.., row_len]`) of every index tuple, for constant indices.
fn rows(p: &Plan, data: &[usize], idx: &ArrayD<i64>) -> R<Vec<usize>> {
    let idx = idx.as_standard_layout();
    let v = idx.as_slice().ok_or("not contiguous")?;
    let tuples = v.len() / p.m;
    let per_batch = tuples / data[..p.b].iter().product::<usize>().max(1);
    let strides = row_major(&data[p.b..p.b + p.m]);
    (0..tuples)
        .map(|k| {
            let mut r = (k / per_batch.max(1)) * p.rows;
            for j in 0..p.m {
                r += resolve(v[k * p.m + j], data[p.b + j], "GatherND")? * strides[j];
            }
            Ok(r)
        })
        .collect()
}

fn eval(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let data = input(ins, 0)?;
    let idx = input(ins, 1)?.to_i64();
    let ds = data.shape();
    let p = plan(n, &ds, idx.shape())?;
    let rows = rows(&p, &ds, &idx)?;
    let pos: Vec<usize> = rows.iter().flat_map(|&r| (0..p.row_len).map(move |e| r * p.row_len + e)).collect();
    Ok(vec![super::gather_elements::pick(data, &pos, &p.out)?])
}

fn lower(l: &mut Lowering<'_>, n: &Node, ins: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let (dt, it) = (n.input(0).ok_or("data missing")?, n.input(1).ok_or("indices missing")?);
    let (ds, is) = (g.shape(dt).to_vec(), g.shape(it).to_vec());
    let p = plan(n, &ds, &is)?;
    let name = |s: &str| format!("{}.{s}", n.name);
    let total_rows = ds[..p.b + p.m].iter().product::<usize>();
    if total_rows == 0 {
        return Err("GatherND from empty data is not supported".into());
    }
    let x = data_id(l, dt)?;
    let x2 = reshape_view(l, &name("rows"), x, &[total_rows, p.row_len]);
    let y = n.outputs[0];
    let mut tuple_shape = is.clone();
    *tuple_shape.last_mut().expect("rank ≥ 1") = 1;
    let picked = if let Some(iv) = ins.get(1).copied().flatten() {
        let rows = rows(&p, &ds, &iv.to_i64())?;
        let info = l.model.tensors[x as usize].clone();
        let o = l.tensor(&name("picked"), &[rows.len(), p.row_len], info.dtype, info.quant);
        l.emit(&name("picked"), Op::Gather { axis: 0, indices: rows.iter().map(|&r| r as u32).collect() }, vec![x2], vec![o]);
        o
    } else {
        let idx = l.id(it)?;
        let r = tuple_rows(l, &n.name, idx, &ds, &is, p.b, p.rows)?;
        gather_dynamic(l, &name("picked"), x2, r, 0)?
    };
    let info = l.model.tensors[x as usize].clone();
    let o = l.tensor(g.name(y), &p.out, info.dtype, info.quant);
    l.map.insert(y, o);
    let strides = row_major(&p.out).iter().map(|&s| s as i64).collect();
    l.emit(&n.name, Op::View(solidml_spec::View { offset: 0, strides }), vec![picked], vec![o]);
    Ok(())
}

/// The row numbers (i64, of shape `indices.shape[..q − 1] ++ [1]`) of the run-time index
/// tuples `idx` (shape `is`, the last axis the tuple) into `data` (shape `ds`) seen as rows of
/// its axes past `b + m`, `batch_dims` b, `rows` rows per batch entry (see the module docs).
pub(crate) fn tuple_rows(
    l: &mut Lowering<'_>,
    node: &str,
    idx: solidml_spec::TensorId,
    ds: &[usize],
    is: &[usize],
    b: usize,
    rows: usize,
) -> R<solidml_spec::TensorId> {
    let name = |s: &str| format!("{node}.{s}");
    let m = *is.last().ok_or("indices of rank 0")?;
    let mut tuple_shape = is.to_vec();
    *tuple_shape.last_mut().expect("rank ≥ 1") = 1;
    let p = Plan { b, m, rows, row_len: 0, out: vec![] };
    let strides = row_major(&ds[p.b..p.b + p.m]);
    let mut r: Option<solidml_spec::TensorId> = None;
    for j in 0..p.m {
        let ij = l.tensor(&name(&format!("index{j}")), &tuple_shape, solidml_spec::DType::I64, None);
        l.emit(&name(&format!("index{j}")), Op::Gather { axis: (is.len() - 1) as u32, indices: vec![j as u32] }, vec![idx], vec![ij]);
        let dim = ds[p.b + j];
        super::gather_elements::check_table(dim, node)?;
        let table = const_i64(l, &name(&format!("range{j}")), &[dim], (0..dim as i64).collect());
        let mut v = gather_dynamic(l, &name(&format!("resolved{j}")), table, ij, 0)?;
        if strides[j] != 1 {
            let s = const_i64(l, &name(&format!("stride{j}")), &[], vec![strides[j] as i64]);
            v = int_binary(l, &name(&format!("offset{j}")), IntBinaryKind::Mul, v, s)?;
        }
        r = Some(match r {
            None => v,
            Some(acc) => int_binary(l, &name(&format!("row{j}")), IntBinaryKind::Add, acc, v)?,
        });
    }
    let mut r = r.ok_or("no index tuple")?;
    if p.b > 0 {
        let tuples: usize = tuple_shape.iter().product();
        let per_batch = tuples / ds[..p.b].iter().product::<usize>().max(1);
        let base = (0..tuples).map(|k| ((k / per_batch.max(1)) * p.rows) as i64).collect();
        let base = const_i64(l, &name("batch_rows"), &tuple_shape, base);
        r = int_binary(l, &name("row"), IntBinaryKind::Add, r, base)?;
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use ndarray::IxDyn;

    use super::*;
    use crate::ir::Attr;

    fn run(data: Vec<i64>, ds: &[usize], idx: Vec<i64>, is: &[usize], b: i64) -> R<Vec<i64>> {
        let mut n = Node {
            name: "g".into(),
            op: "GatherND".into(),
            domain: String::new(),
            attrs: Default::default(),
            inputs: vec![],
            outputs: vec![],
        };
        n.attrs.insert("batch_dims".into(), Attr::Int(b));
        let d = Value::Int(ArrayD::from_shape_vec(IxDyn(ds), data).unwrap());
        let i = Value::Int(ArrayD::from_shape_vec(IxDyn(is), idx).unwrap());
        Ok(eval(&Graph::default(), &n, &[Some(&d), Some(&i)])?[0].to_i64().iter().copied().collect())
    }

    #[test]
    fn the_onnx_examples() {
        assert_eq!(run(vec![0, 1, 2, 3], &[2, 2], vec![0, 0, 1, 1], &[2, 2], 0).unwrap(), [0, 3]);
        assert_eq!(run(vec![0, 1, 2, 3], &[2, 2], vec![1, 0], &[2, 1], 0).unwrap(), [2, 3, 0, 1]);
        assert_eq!(run((0..8).collect(), &[2, 2, 2], vec![1, 0], &[2, 1], 1).unwrap(), [2, 3, 4, 5]);
        assert_eq!(run((0..8).collect(), &[2, 2, 2], vec![0, 1, 1, 0], &[2, 1, 2], 0).unwrap(), [2, 3, 4, 5]);
        assert!(run(vec![0, 1, 2, 3], &[2, 2], vec![2, 0], &[1, 2], 0).unwrap_err().contains("out of range"));
        assert!(run(vec![0, 1, 2, 3], &[2, 2], vec![0, 0, 0], &[1, 3], 0).unwrap_err().contains("tuples of 3"));
        assert!(run(vec![0, 1, 2, 3], &[2, 2], vec![0, 0], &[2, 1], 2).unwrap_err().contains("batch_dims 2"));
    }
}
