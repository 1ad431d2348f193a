//! `ScatterElements` (`axis`, `reduction`), its deprecated alias `Scatter`, and `ScatterND`
//! (`reduction`): a copy of `data` with elements (ScatterElements: `data[i with i_axis :=
//! indices[i]] = updates[i]`) or slices (ScatterND: `data[indices[k, :]] = updates[k]`)
//! replaced; negative indices count from the end; a reduction `add`/`mul`/`max`/`min`
//! combines instead of replacing.
//!
//! Float semantics on `f32` or `i64` values, every reduction, updates applied in order (so a
//! duplicate index keeps the last update). Lowering of `reduction = none`, exactly, as a
//! selection from `cat = concat(data rows, update rows)` (rows: single elements for
//! ScatterElements, the trailing slices for ScatterND; int8 parts requantized to the
//! calibrated output quantization first):
//!
//! * `q[k]`, the row update `k` writes: constant indices give a constant; run-time ones are
//!   computed exactly (ScatterElements: the flat position of [`super::gather_elements`];
//!   ScatterND: the tuple's row of [`super::gather_nd`]);
//! * `e[r, 0] = R` and `e[r, 1 + k] = r − q[k]` (IntBinary Sub, Concat), `h = table[e]` by a
//!   `GatherDynamic` of an int8 table of `2R + 1` codes (2 at `e = 0`, 1 at `e = R`, else 0);
//! * `a[r] = ArgMax(h[r, :])` with `select_last_index`: the last update written to row `r`,
//!   or 0 when none;
//! * `src[r] = T[r, a[r]]` (a `GatherDynamic` of the constant i64 table `T[r, 0] = r`,
//!   `T[r, 1 + k] = R + k`), and the output rows are `GatherDynamic(cat, src)`.
//!
//! At most `2^22` entries in the `R × (K + 1)` match matrix. Reductions `add`, `max`, `min` on
//! real tensors: see [`reduce_rows`] (`mul` is refused).
//!
//! `TensorScatter` (opset 24; `axis` default −2, not 0; `mode` `linear` or `circular`) writes
//! `update` (`[B, …, U, …]`) into `past_cache` (`[B, …, S, …]`) at sequence positions
//! `write_indices[b] + u` (modulo `S` when circular; `write_indices` defaults to 0). Lowered
//! as the same selection with rows the elements past `axis`: the row of update `(o, u)`
//! (`o` the position over the axes before `axis`) is `o · S + pos`, with
//! `pos = write_indices[b] + u` checked to lie in `[0, S)` (linear) or reduced modulo `S`
//! (circular; `write_indices` in `[0, S)`) by a `GatherDynamic` of a constant i64 table.

use ndarray::{ArrayD, IxDyn};
use solidml_spec::{BinaryKind, DType, IntBinaryKind, Op, Quant, TensorId};

use super::{
    OpDef, R,
    gather_elements::{
        base_positions, check_shapes, const_i8, const_i64, data_id, flat_positions, gather_dynamic, int_binary, reshape_view, resolve,
    },
    input,
};
use crate::{
    ir::{Graph, Node, Value},
    quantize::{Lowering, row_major},
};

pub(crate) const OPS: &[OpDef] = &[
    OpDef::new("", "Scatter", eval_elements, lower_elements),
    OpDef::new("", "ScatterElements", eval_elements, lower_elements),
    OpDef::new("", "ScatterND", eval_nd, lower_nd),
    OpDef::new("", "TensorScatter", eval_tensor, lower_tensor),
];

/// Most entries of the match matrix the lowering builds.
pub const MAX_MATCHES: usize = 1 << 22;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Reduction {
    None,
    Add,
    Mul,
    Max,
    Min,
}

fn reduction(n: &Node) -> R<Reduction> {
    Ok(match n.str("reduction", "none").as_str() {
        "none" => Reduction::None,
        "add" => Reduction::Add,
        "mul" => Reduction::Mul,
        "max" => Reduction::Max,
        "min" => Reduction::Min,
        r => return Err(format!("{}: reduction `{r}` is not none, add, mul, max or min", n.op)),
    })
}

/// `dst[rows[k] · len + e] ∘= src[k · len + e]` for every update `k` in order.
fn apply<T: Copy + PartialOrd + std::ops::Add<Output = T> + std::ops::Mul<Output = T>>(
    dst: &mut [T],
    src: &[T],
    rows: &[usize],
    len: usize,
    red: Reduction,
) {
    for (k, &r) in rows.iter().enumerate() {
        for e in 0..len {
            let (d, s) = (&mut dst[r * len + e], src[k * len + e]);
            *d = match red {
                Reduction::None => s,
                Reduction::Add => *d + s,
                Reduction::Mul => *d * s,
                Reduction::Max => {
                    if s > *d {
                        s
                    } else {
                        *d
                    }
                }
                Reduction::Min => {
                    if s < *d {
                        s
                    } else {
                        *d
                    }
                }
            };
        }
    }
}

fn scatter(data: &Value, upd: &Value, rows: &[usize], len: usize, red: Reduction) -> R<Value> {
    let shape = IxDyn(&data.shape()).clone();
    if !data.is_float() && !upd.is_float() {
        let mut d: Vec<i64> = data.to_i64().iter().copied().collect();
        apply(&mut d, &upd.to_i64().iter().copied().collect::<Vec<_>>(), rows, len, red);
        return Ok(Value::Int(ArrayD::from_shape_vec(shape, d).map_err(|e| e.to_string())?));
    }
    let mut d: Vec<f32> = data.to_f32().iter().copied().collect();
    apply(&mut d, &upd.to_f32().iter().copied().collect::<Vec<_>>(), rows, len, red);
    Ok(Value::Float(ArrayD::from_shape_vec(shape, d).map_err(|e| e.to_string())?))
}

/// ScatterElements: the checked axis and the flat position each update writes.
fn element_positions(n: &Node, ds: &[usize], idx: &ArrayD<i64>, us: &[usize]) -> R<(usize, Vec<usize>)> {
    let axis = check_shapes(ds, idx.shape(), n.int("axis", 0))?;
    if us != idx.shape() {
        return Err(format!("{}: updates of shape {us:?} differ from the indices {:?}", n.op, idx.shape()));
    }
    let stride = row_major(ds)[axis];
    let base = base_positions(ds, idx.shape(), axis);
    let pos = base.iter().zip(idx.iter()).map(|(&b, &j)| Ok(b + resolve(j, ds[axis], &n.op)? * stride)).collect::<R<_>>()?;
    Ok((axis, pos))
}

/// ScatterND: (rows per data, row length, updates) after checking the shapes.
fn nd_shape(n: &Node, ds: &[usize], is: &[usize], us: &[usize]) -> R<(usize, usize, usize)> {
    let m = *is.last().ok_or("ScatterND: indices of rank 0")?;
    if m < 1 || m > ds.len() {
        return Err(format!("ScatterND: index tuples of {m} into data of rank {}", ds.len()));
    }
    let mut want = is[..is.len() - 1].to_vec();
    want.extend_from_slice(&ds[m..]);
    if us != want.as_slice() {
        return Err(format!("{}: updates of shape {us:?}, expected {want:?}", n.op));
    }
    Ok((ds[..m].iter().product(), ds[m..].iter().product(), is[..is.len() - 1].iter().product()))
}

/// ScatterND: the row each index tuple writes.
fn nd_rows(ds: &[usize], idx: &ArrayD<i64>) -> R<Vec<usize>> {
    let m = *idx.shape().last().ok_or("ScatterND: indices of rank 0")?;
    let strides = row_major(&ds[..m]);
    let v: Vec<i64> = idx.iter().copied().collect();
    v.chunks(m.max(1))
        .map(|t| t.iter().enumerate().try_fold(0, |r, (j, &i)| Ok(r + resolve(i, ds[j], "ScatterND")? * strides[j])))
        .collect()
}

fn eval_elements(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let (data, upd) = (input(ins, 0)?, input(ins, 2)?);
    let idx = input(ins, 1)?.to_i64();
    let red = if n.op == "Scatter" { Reduction::None } else { reduction(n)? };
    let (_, pos) = element_positions(n, &data.shape(), &idx, &upd.shape())?;
    Ok(vec![scatter(data, upd, &pos, 1, red)?])
}

fn eval_nd(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let (data, upd) = (input(ins, 0)?, input(ins, 2)?);
    let idx = input(ins, 1)?.to_i64();
    let (_, len, _) = nd_shape(n, &data.shape(), idx.shape(), &upd.shape())?;
    let rows = nd_rows(&data.shape(), &idx)?;
    Ok(vec![scatter(data, upd, &rows, len, reduction(n)?)?])
}

fn lower_elements(l: &mut Lowering<'_>, n: &Node, ins: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let [dt, it, ut] = [0, 1, 2].map(|i| n.input(i).ok_or(format!("{}: input {i} missing", n.op)));
    let (dt, it, ut) = (dt?, it?, ut?);
    let red = if n.op == "Scatter" { Reduction::None } else { reduction(n)? };
    let (ds, is) = (g.shape(dt).to_vec(), g.shape(it).to_vec());
    let zeros = ArrayD::zeros(IxDyn(&is));
    let (axis, _) = element_positions(n, &ds, &zeros, g.shape(ut))?;
    let k = is.iter().product();
    let q = match ins.get(1).copied().flatten() {
        Some(iv) => {
            let (_, pos) = element_positions(n, &ds, &iv.to_i64(), g.shape(ut))?;
            const_i64(l, &format!("{}.positions", n.name), &[k], pos.iter().map(|&p| p as i64).collect())
        }
        None => {
            let idx = l.id(it)?;
            flat_positions(l, &n.name, idx, &ds, &is, axis)?
        }
    };
    scatter_rows(l, n, dt, ut, q, (ds.iter().product(), 1, k), red)
}

fn lower_nd(l: &mut Lowering<'_>, n: &Node, ins: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let [dt, it, ut] = [0, 1, 2].map(|i| n.input(i).ok_or(format!("{}: input {i} missing", n.op)));
    let (dt, it, ut) = (dt?, it?, ut?);
    let red = reduction(n)?;
    let (ds, is) = (g.shape(dt).to_vec(), g.shape(it).to_vec());
    let (rows, len, k) = nd_shape(n, &ds, &is, g.shape(ut))?;
    let q = match ins.get(1).copied().flatten() {
        Some(iv) => {
            let r = nd_rows(&ds, &iv.to_i64())?;
            const_i64(l, &format!("{}.rows", n.name), &[k], r.iter().map(|&p| p as i64).collect())
        }
        None => {
            let idx = l.id(it)?;
            super::gather_nd::tuple_rows(l, &n.name, idx, &ds, &is, 0, rows)?
        }
    };
    scatter_rows(l, n, dt, ut, q, (rows, len, k), red)
}

/// The selection of the module docs: `data` as `R` rows of `len`, `K` update rows, `q` the
/// (i64, `K` values) row each update writes.
fn scatter_rows(
    l: &mut Lowering<'_>,
    n: &Node,
    dt: usize,
    ut: usize,
    q: TensorId,
    (r, len, k): (usize, usize, usize),
    red: Reduction,
) -> R<()> {
    let g = l.g;
    let name = |s: &str| format!("{}.{s}", n.name);
    if r == 0 || r.checked_mul(k + 1).is_none_or(|m| m > MAX_MATCHES) {
        return Err(format!("{}: {r} rows × {} updates is beyond the {MAX_MATCHES} the lowering matches", n.op, k + 1));
    }
    let y = n.outputs[0];
    let (x, u) = (data_id(l, dt)?, data_id(l, ut)?);
    let dtype = l.model.tensors[x as usize].dtype;
    if l.model.tensors[u as usize].dtype != dtype {
        return Err(format!("{}: data and updates of different types", n.op));
    }
    let (x, u, qo) = if dtype == DType::I8 {
        let qo = l.range_quant(y)?;
        (l.rescale(x, qo, &name("data")), l.rescale(u, qo, &name("updates")), Some(qo))
    } else {
        (x, u, None)
    };
    if red != Reduction::None {
        return reduce_rows(l, n, (x, u, qo), q, (r, len, k), red);
    }
    // the match matrix and the last update of each row
    let qv = reshape_view(l, &name("targets"), q, &[1, k]);
    let rows = const_i64(l, &name("row"), &[r, 1], (0..r as i64).collect());
    let e = int_binary(l, &name("difference"), IntBinaryKind::Sub, rows, qv)?;
    let sentinel = const_i64(l, &name("sentinel"), &[r, 1], vec![r as i64; r]);
    let e2 = l.tensor(&name("matches"), &[r, k + 1], DType::I64, None);
    l.emit(&name("matches"), Op::Concat { axis: 1 }, vec![sentinel, e], vec![e2]);
    let flags: Vec<i8> = (0..=2 * r)
        .map(|i| {
            if i == 0 {
                2
            } else if i == r {
                1
            } else {
                0
            }
        })
        .collect();
    let flags = const_i8(l, &name("hit"), &[2 * r + 1], flags, Quant { scale: 1.0, zero_point: 0 });
    let h = gather_dynamic(l, &name("hit"), flags, e2, 0)?;
    let a = l.tensor(&name("last"), &[r, 1], DType::I64, None);
    l.emit(&name("last"), Op::ArgMax { axis: 1, select_last_index: true }, vec![h], vec![a]);
    // the source row in concat(data, updates)
    let start = const_i64(l, &name("row_start"), &[r, 1], (0..r).map(|i| (i * (k + 1)) as i64).collect());
    let at = int_binary(l, &name("choice"), IntBinaryKind::Add, a, start)?;
    let table = (0..r).flat_map(|i| std::iter::once(i as i64).chain((0..k).map(move |j| (r + j) as i64))).collect();
    let table = const_i64(l, &name("sources"), &[r * (k + 1)], table);
    let src = gather_dynamic(l, &name("source"), table, at, 0)?;
    // the rows
    let xv = reshape_view(l, &name("data_rows"), x, &[r, len]);
    let uv = reshape_view(l, &name("update_rows"), u, &[k, len]);
    let cat = l.tensor(&name("all_rows"), &[r + k, len], dtype, qo);
    l.emit(&name("all_rows"), Op::Concat { axis: 0 }, vec![xv, uv], vec![cat]);
    let picked = gather_dynamic(l, &name("picked"), cat, src, 0)?;
    let o = l.tensor(g.name(y), g.shape(y), dtype, qo);
    l.map.insert(y, o);
    let strides = row_major(g.shape(y)).iter().map(|&s| s as i64).collect();
    l.emit(&n.name, Op::View(solidml_spec::View { offset: 0, strides }), vec![picked], vec![o]);
    Ok(())
}

/// TensorScatter: (axis, circular, outer, S, U, inner) after checking the shapes.
fn tensor_shape(n: &Node, cs: &[usize], us: &[usize], ws: Option<&[usize]>) -> R<(usize, bool, usize, usize, usize, usize)> {
    let axis = crate::float::norm_axis(n.int("axis", -2), cs.len())?;
    if axis == 0 {
        return Err("TensorScatter: axis 0 is the batch axis".into());
    }
    let circular = match n.str("mode", "linear").as_str() {
        "linear" => false,
        "circular" => true,
        m => return Err(format!("TensorScatter: mode `{m}` is not linear or circular")),
    };
    if us.len() != cs.len() || us.iter().zip(cs).enumerate().any(|(k, (u, c))| k != axis && u != c) || us[axis] > cs[axis] {
        return Err(format!("TensorScatter: update of shape {us:?} does not fit the cache {cs:?} on axis {axis}"));
    }
    if let Some(ws) = ws
        && ws != [cs[0]]
    {
        return Err(format!("TensorScatter: write_indices of shape {ws:?} for a batch of {}", cs[0]));
    }
    Ok((axis, circular, cs[..axis].iter().product(), cs[axis], us[axis], cs[axis + 1..].iter().product()))
}

/// TensorScatter: the row (of the cache seen as `[outer · S, inner]`) each update row writes.
fn tensor_rows(cs: &[usize], (circular, outer, s, u): (bool, usize, usize, usize), w: &[i64]) -> R<Vec<usize>> {
    let per_batch = outer / cs[0].max(1);
    let mut rows = Vec::with_capacity(outer * u);
    for o in 0..outer {
        let wb = w.get(o / per_batch.max(1)).copied().unwrap_or(0);
        for j in 0..u {
            let p = wb.checked_add(j as i64).ok_or("TensorScatter: write index overflows")?;
            let p = if circular { p.rem_euclid(s.max(1) as i64) } else { p };
            if !(0..s as i64).contains(&p) {
                return Err(format!("TensorScatter: write position {p} outside the sequence of {s}"));
            }
            rows.push(o * s + p as usize);
        }
    }
    Ok(rows)
}

fn eval_tensor(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let (cache, upd) = (input(ins, 0)?, input(ins, 1)?);
    let w = ins.get(2).copied().flatten().map(|w| w.to_i64());
    let cs = cache.shape();
    let (_, circular, outer, s, u, inner) = tensor_shape(n, &cs, &upd.shape(), w.as_ref().map(|w| w.shape()))?;
    let w: Vec<i64> = w.map(|w| w.iter().copied().collect()).unwrap_or_default();
    let rows = tensor_rows(&cs, (circular, outer, s, u), &w)?;
    Ok(vec![scatter(cache, upd, &rows, inner, Reduction::None)?])
}

fn lower_tensor(l: &mut Lowering<'_>, n: &Node, ins: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let (ct, ut) = (n.input(0).ok_or("past_cache missing")?, n.input(1).ok_or("update missing")?);
    let wt = n.input(2);
    let cs = g.shape(ct).to_vec();
    let (_, circular, outer, s, u, inner) = tensor_shape(n, &cs, g.shape(ut), wt.map(|w| g.shape(w)))?;
    let name = |t: &str| format!("{}.{t}", n.name);
    let k = outer * u;
    let q = match (wt, ins.get(2).copied().flatten()) {
        (Some(_), None) => {
            // run-time write indices: pos = w[b] + j, checked or reduced modulo S by a table
            let w = l.id(wt.expect("present"))?;
            let b = cs[0];
            super::gather_elements::check_table(s + u, &n.name)?;
            let wv = reshape_view(l, &name("write_indices"), w, &[b, 1, 1]);
            let steps = const_i64(l, &name("steps"), &[1, 1, u], (0..u as i64).collect());
            let p = int_binary(l, &name("positions"), IntBinaryKind::Add, wv, steps)?;
            let table: Vec<i64> =
                if circular { (0..(s + u) as i64).map(|v| v % s.max(1) as i64).collect() } else { (0..s as i64).collect() };
            let table = const_i64(l, &name("wrap"), &[table.len()], table);
            let p = gather_dynamic(l, &name("wrapped"), table, p, 0)?;
            let per_batch = outer / b.max(1);
            let base = (0..outer).map(|o| (o * s) as i64).collect();
            let base = const_i64(l, &name("row_base"), &[b, per_batch, 1], base);
            int_binary(l, &name("rows"), IntBinaryKind::Add, p, base)?
        }
        (_, w) => {
            let w: Vec<i64> = w.map(|w| w.to_i64().iter().copied().collect()).unwrap_or_default();
            let rows = tensor_rows(&cs, (circular, outer, s, u), &w)?;
            const_i64(l, &name("rows"), &[k], rows.iter().map(|&r| r as i64).collect())
        }
    };
    scatter_rows(l, n, ct, ut, q, (outer * s, inner, k), Reduction::None)
}

/// A scatter with reduction `red` (add, max or min) on int8 rows: `hit[r, k] = [q[k] = r]`
/// (IntBinary Sub, a `GatherDynamic` of a constant 0/1 table), `sel = K + hit · (k − K)`, the
/// updates with a neutral filler row appended (the lowest code for max, the highest for min,
/// the zero point for add) gathered by `sel` into `[R, K, len]`, reduced over `K` (`Reduce`
/// Max/Min with multiplier 1, exact; Sum to twice the output scale), and combined with the
/// data rows (`Extremum`, exact; `Binary` Add).
fn reduce_rows(
    l: &mut Lowering<'_>,
    n: &Node,
    (x, u, qo): (TensorId, TensorId, Option<Quant>),
    q: TensorId,
    (r, len, k): (usize, usize, usize),
    red: Reduction,
) -> R<()> {
    let g = l.g;
    let name = |s: &str| format!("{}.{s}", n.name);
    let (Some(qo), Some(kind)) = (
        qo,
        match red {
            Reduction::Add => Some(solidml_spec::ReduceKind::Sum),
            Reduction::Max => Some(solidml_spec::ReduceKind::Max),
            Reduction::Min => Some(solidml_spec::ReduceKind::Min),
            _ => None,
        },
    ) else {
        return Err(format!(
            "{} with reduction `{}` is not supported (none, add, max or min on real tensors)",
            n.op,
            n.str("reduction", "none")
        ));
    };
    if k == 0 {
        return Err(format!("{}: a reduction with no update", n.op));
    }
    let qv = reshape_view(l, &name("targets"), q, &[1, k]);
    let rows = const_i64(l, &name("row"), &[r, 1], (0..r as i64).collect());
    let e = int_binary(l, &name("difference"), IntBinaryKind::Sub, rows, qv)?;
    let flags = const_i64(l, &name("hit"), &[2 * r - 1], (0..2 * r - 1).map(|i| (i == 0) as i64).collect());
    let hit = gather_dynamic(l, &name("hit"), flags, e, 0)?;
    let kk = const_i64(l, &name("update_offset"), &[1, k], (0..k as i64).map(|j| j - k as i64).collect());
    let m = int_binary(l, &name("hit_offset"), IntBinaryKind::Mul, hit, kk)?;
    let kc = const_i64(l, &name("filler_index"), &[], vec![k as i64]);
    let sel = int_binary(l, &name("selection"), IntBinaryKind::Add, m, kc)?;
    let filler = match red {
        Reduction::Max => -128,
        Reduction::Min => 127,
        _ => qo.zero_point.clamp(-128, 127) as i8,
    };
    let uv = reshape_view(l, &name("update_rows"), u, &[k, len]);
    let fill = const_i8(l, &name("filler"), &[1, len], vec![filler; len], qo);
    let ext = l.tensor(&name("updates_and_filler"), &[k + 1, len], DType::I8, Some(qo));
    l.emit(&name("updates_and_filler"), Op::Concat { axis: 0 }, vec![uv, fill], vec![ext]);
    let picked = gather_dynamic(l, &name("per_row"), ext, sel, 0)?;
    let qs = if red == Reduction::Add { Quant { scale: 2.0 * qo.scale, zero_point: 0 } } else { qo };
    let reduced = l.tensor(&name("reduced"), &[r, len], DType::I8, Some(qs));
    let reduce = solidml_spec::Reduce {
        kind,
        axes: vec![1],
        input_zero_point: qo.zero_point,
        multiplier: crate::quantize::multiplier(qo.scale as f64 / qs.scale as f64)?,
        output_zero_point: qs.zero_point,
    };
    l.emit(&name("reduced"), Op::Reduce(reduce), vec![picked], vec![reduced]);
    let xv = reshape_view(l, &name("data_rows"), x, &[r, len]);
    let y = n.outputs[0];
    let combined = l.tensor(&name("combined"), &[r, len], DType::I8, Some(qo));
    let op = match red {
        Reduction::Max => Op::Extremum(solidml_spec::Extremum::Max),
        Reduction::Min => Op::Extremum(solidml_spec::Extremum::Min),
        _ => {
            // spec §Binary, the compiler's Add parameters
            let (sa, sb) = (qo.scale as f64, qs.scale as f64);
            let twice = 2.0 * sa.max(sb);
            Op::Binary(solidml_spec::Binary {
                kind: BinaryKind::Add,
                a_zero_point: qo.zero_point,
                b_zero_point: qs.zero_point,
                left_shift: 20,
                a_multiplier: crate::quantize::multiplier(sa / twice)?,
                b_multiplier: crate::quantize::multiplier(sb / twice)?,
                output_multiplier: crate::quantize::multiplier(twice / ((1 << 20) as f64 * qo.scale as f64))?,
                output_zero_point: qo.zero_point,
                clamp_min: -128,
                clamp_max: 127,
            })
        }
    };
    l.emit(&name("combined"), op, vec![xv, reduced], vec![combined]);
    let o = l.tensor(g.name(y), g.shape(y), DType::I8, Some(qo));
    l.map.insert(y, o);
    let strides = row_major(g.shape(y)).iter().map(|&s| s as i64).collect();
    l.emit(&n.name, Op::View(solidml_spec::View { offset: 0, strides }), vec![combined], vec![o]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Attr;

    use crate::passes::testutil::detached_node as node;
    fn f(shape: &[usize], v: Vec<f32>) -> Value {
        Value::Float(ArrayD::from_shape_vec(IxDyn(shape), v).unwrap())
    }
    fn i(shape: &[usize], v: Vec<i64>) -> Value {
        Value::Int(ArrayD::from_shape_vec(IxDyn(shape), v).unwrap())
    }

    #[test]
    fn scatter_elements_by_hand() {
        // test_scatter_elements_with_axis and _with_duplicate_indices
        let (d, u) = (f(&[1, 5], vec![1., 2., 3., 4., 5.]), f(&[1, 2], vec![1.1, 2.1]));
        let idx = i(&[1, 2], vec![1, 3]);
        let y = eval_elements(&Graph::default(), &node("ScatterElements", &[("axis", Attr::Int(1))]), &[Some(&d), Some(&idx), Some(&u)])
            .unwrap();
        assert_eq!(y[0].to_f32().iter().copied().collect::<Vec<_>>(), [1., 1.1, 3., 2.1, 5.]);
        let dup = i(&[1, 2], vec![1, -4]);
        let add = node("ScatterElements", &[("axis", Attr::Int(1)), ("reduction", Attr::Str("add".into()))]);
        let y = eval_elements(&Graph::default(), &add, &[Some(&d), Some(&dup), Some(&u)]).unwrap();
        assert_eq!(y[0].to_f32().iter().copied().collect::<Vec<_>>(), [1., 5.2, 3., 4., 5.]);
        let bad = i(&[1, 2], vec![1, 5]);
        assert!(eval_elements(&Graph::default(), &add, &[Some(&d), Some(&bad), Some(&u)]).unwrap_err().contains("out of range"));
        let odd = node("ScatterElements", &[("reduction", Attr::Str("xor".into()))]);
        assert!(eval_elements(&Graph::default(), &odd, &[Some(&d), Some(&idx), Some(&u)]).unwrap_err().contains("`xor`"));
    }

    #[test]
    fn scatter_nd_by_hand() {
        let d = i(&[4, 2], (0..8).collect());
        let (idx, u) = (i(&[2, 1], vec![2, 0]), i(&[2, 2], vec![10, 11, 12, 13]));
        let y = eval_nd(&Graph::default(), &node("ScatterND", &[]), &[Some(&d), Some(&idx), Some(&u)]).unwrap();
        assert_eq!(y[0].to_i64().iter().copied().collect::<Vec<_>>(), [12, 13, 2, 3, 10, 11, 6, 7]);
        let short = i(&[2], vec![10, 11]);
        assert!(
            eval_nd(&Graph::default(), &node("ScatterND", &[]), &[Some(&d), Some(&idx), Some(&short)])
                .unwrap_err()
                .contains("expected [2, 2]")
        );
    }

    #[test]
    fn tensor_scatter_by_hand() {
        // cache [1, 4, 1] (S = 4), two updates written at 3 (circular: 3, 0)
        let (c, u, w) = (i(&[1, 4, 1], vec![0, 1, 2, 3]), i(&[1, 2, 1], vec![8, 9]), i(&[1], vec![3]));
        let circ = node("TensorScatter", &[("mode", Attr::Str("circular".into()))]);
        let y = eval_tensor(&Graph::default(), &circ, &[Some(&c), Some(&u), Some(&w)]).unwrap();
        assert_eq!(y[0].to_i64().iter().copied().collect::<Vec<_>>(), [9, 1, 2, 8]);
        let lin = node("TensorScatter", &[]);
        assert!(eval_tensor(&Graph::default(), &lin, &[Some(&c), Some(&u), Some(&w)]).unwrap_err().contains("position 4"));
        let y = eval_tensor(&Graph::default(), &lin, &[Some(&c), Some(&u), None]).unwrap();
        assert_eq!(y[0].to_i64().iter().copied().collect::<Vec<_>>(), [8, 9, 2, 3]);
        let axis0 = node("TensorScatter", &[("axis", Attr::Int(0))]);
        assert!(eval_tensor(&Graph::default(), &axis0, &[Some(&c), Some(&u), None]).unwrap_err().contains("batch axis"));
    }
}
