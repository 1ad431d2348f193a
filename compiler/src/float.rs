//! The float interpreter: ONNX semantics on `f32` (and `i64` for shape arithmetic).
//!
//! It serves the passes (constant folding, shape inference), calibration (activation ranges)
//! and the quantizer (the real functions that lookup tables tabulate). Each op's semantics is
//! found through the op registry ([`crate::ops`]), which lists exactly the supported ops; the
//! float reference for accuracy figures is tract, an independent implementation
//! ([`crate::eval`]).

use ndarray::{ArrayD, Axis, IxDyn, Slice};

use crate::ir::{Attr, Graph, Node, Value};

type R<T> = std::result::Result<T, String>;

/// Evaluate one node given its input values (`None` for omitted optional inputs). A fused
/// activation (attribute `solidml.clamp`, set by [`crate::passes::fuse_activation`]) clamps the
/// first output.
pub fn eval_node(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let mut outs = crate::ops::eval(g, n, ins)?;
    if let (Some(Attr::Floats(b)), Some(Value::Float(y))) = (n.attr("solidml.clamp"), outs.first_mut()) {
        let (lo, hi) = (b[0], b[1]);
        y.mapv_inplace(|v| v.max(lo).min(hi));
    }
    Ok(outs)
}

pub(crate) fn eval_onnx(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let opset = g.opset;
    let get = |i: usize| -> R<&Value> { ins.get(i).copied().flatten().ok_or_else(|| format!("missing input {i}")) };
    let f = |i: usize| -> R<ArrayD<f32>> { Ok(get(i)?.to_f32()) };
    let ints = |i: usize| -> R<Vec<i64>> { Ok(get(i)?.to_i64().iter().copied().collect()) };
    let one = |v: Value| Ok(vec![v]);
    let op = n.op.as_str();
    match (n.domain.as_str(), op) {
        ("", "Reshape") => {
            let v = get(0)?;
            let target = ints(1)?;
            let shape = reshape_target(&v.shape(), &target, n.int("allowzero", 0) != 0)?;
            one(reshape(v, &shape)?)
        }
        ("", "Flatten") => {
            let v = get(0)?;
            let s = v.shape();
            let a = norm_axis_incl(n.int("axis", 1), s.len())?;
            one(reshape(v, &[s[..a].iter().product(), s[a..].iter().product()])?)
        }
        ("", "Squeeze" | "Unsqueeze") => {
            let v = get(0)?;
            let s = v.shape();
            let axes = match ins.get(1).copied().flatten() {
                Some(a) => a.to_i64().iter().copied().collect(),
                None => n.ints("axes").unwrap_or_default(),
            };
            let shape = if op == "Squeeze" {
                let axes: Vec<usize> = axes.iter().map(|&a| norm_axis(a, s.len())).collect::<R<_>>()?;
                s.iter().enumerate().filter(|(i, d)| if axes.is_empty() { **d != 1 } else { !axes.contains(i) }).map(|(_, &d)| d).collect()
            } else {
                let rank = s.len() + axes.len();
                let axes: Vec<usize> = axes.iter().map(|&a| norm_axis(a, rank)).collect::<R<_>>()?;
                let mut it = s.iter();
                (0..rank).map(|i| if axes.contains(&i) { 1 } else { *it.next().unwrap_or(&1) }).collect::<Vec<_>>()
            };
            one(reshape(v, &shape)?)
        }
        ("", "Transpose") => {
            let v = get(0)?;
            let rank = v.shape().len();
            let perm: Vec<usize> =
                n.ints("perm").map(|p| p.iter().map(|&a| a as usize).collect()).unwrap_or_else(|| (0..rank).rev().collect());
            if perm.len() != rank || (0..rank).any(|i| !perm.contains(&i)) {
                return Err(format!("perm {perm:?} is not a permutation of rank {rank}"));
            }
            one(map_value(
                v,
                |a| a.view().permuted_axes(IxDyn(&perm)).as_standard_layout().to_owned(),
                |a| a.view().permuted_axes(IxDyn(&perm)).as_standard_layout().to_owned(),
            ))
        }
        ("", "Concat") => {
            let axis = norm_axis(n.int("axis", 0), get(0)?.shape().len())?;
            let vals: Vec<&Value> = ins.iter().flatten().copied().collect();
            if vals.iter().all(|v| !v.is_float()) {
                let arrs: Vec<ArrayD<i64>> = vals.iter().map(|v| v.to_i64()).collect();
                let views: Vec<_> = arrs.iter().map(|a| a.view()).collect();
                one(Value::Int(ndarray::concatenate(Axis(axis), &views).map_err(|e| e.to_string())?))
            } else {
                let arrs: Vec<ArrayD<f32>> = vals.iter().map(|v| v.to_f32()).collect();
                let views: Vec<_> = arrs.iter().map(|a| a.view()).collect();
                one(Value::Float(ndarray::concatenate(Axis(axis), &views).map_err(|e| e.to_string())?))
            }
        }
        ("", "Split") => {
            let v = get(0)?;
            let s = v.shape();
            let axis = norm_axis(n.int("axis", 0), s.len())?;
            let sizes = split_sizes(n, ins, s[axis], n.outputs.len())?;
            let mut start = 0;
            let mut outs = vec![];
            for len in sizes {
                outs.push(map_value(
                    v,
                    |a| a.slice_axis(Axis(axis), Slice::from(start..start + len)).to_owned(),
                    |a| a.slice_axis(Axis(axis), Slice::from(start..start + len)).to_owned(),
                ));
                start += len;
            }
            Ok(outs)
        }
        ("", "Slice") => {
            let v = get(0)?;
            let spec = slice_spec(n, ins, &v.shape(), opset)?;
            one(map_value(v, |a| apply_slice(a, &spec), |a| apply_slice(a, &spec)))
        }
        ("", "Tile") => {
            let v = get(0)?;
            let reps = ints(1)?;
            one(map_value(v, |a| tile(a, &reps), |a| tile(a, &reps)))
        }
        ("", "Expand") => {
            let v = get(0)?;
            let shape = ints(1)?;
            let out = crate::float::broadcast_shape(&v.shape(), &shape.iter().map(|&d| d as usize).collect::<Vec<_>>())?;
            one(map_value(v, |a| a.broadcast(IxDyn(&out)).unwrap().to_owned(), |a| a.broadcast(IxDyn(&out)).unwrap().to_owned()))
        }
        ("", "Pad") => {
            let x = get(0)?;
            let rank = x.shape().len();
            let (pads, value) = pad_spec(n, ins, rank, opset)?;
            one(Value::Float(pad(&x.to_f32(), &pads, value, pad_mode(n)?)))
        }
        ("", "Gather") => {
            let v = get(0)?;
            let s = v.shape();
            let axis = norm_axis(n.int("axis", 0), s.len())?;
            let idx = get(1)?.to_i64();
            let resolved: Vec<usize> = idx.iter().map(|&i| norm_index(i, s[axis])).collect::<R<_>>()?;
            let mut out_shape = s[..axis].to_vec();
            out_shape.extend_from_slice(idx.shape());
            out_shape.extend_from_slice(&s[axis + 1..]);
            let gather_f = |a: &ArrayD<f32>| a.select(Axis(axis), &resolved);
            let gather_i = |a: &ArrayD<i64>| a.select(Axis(axis), &resolved);
            let g = map_value(v, gather_f, gather_i);
            one(reshape(&g, &out_shape)?)
        }
        ("", "QuantizeLinear" | "DequantizeLinear") => {
            let x = f(0)?;
            let scale = f(1)?;
            let zp = ins.get(2).copied().flatten().map(|z| z.to_f32()).unwrap_or_else(|| ArrayD::zeros(IxDyn(scale.shape())));
            let axis = norm_axis(n.int("axis", 1), x.ndim().max(1))?;
            // per-axis parameters broadcast along `axis`; scalars everywhere
            let shaped = |p: ArrayD<f32>| -> R<ArrayD<f32>> {
                if p.len() <= 1 || x.ndim() == 0 {
                    return Ok(ArrayD::from_elem(IxDyn(&[]), p.iter().next().copied().unwrap_or(0.0)));
                }
                let mut s = vec![1; x.ndim()];
                s[axis] = p.len();
                p.into_shape_with_order(IxDyn(&s)).map_err(|e| e.to_string())
            };
            let (scale, zp) = (shaped(scale)?, shaped(zp)?);
            if op == "DequantizeLinear" {
                one(Value::Float((&x - &zp) * &scale))
            } else {
                let (lo, hi) = qdq_range(g, n);
                let q = (&x / &scale).mapv(|v| v.round_ties_even()) + &zp;
                one(Value::Int(q.mapv(|v| v.clamp(lo, hi) as i64)))
            }
        }
        ("", "Shape") => {
            let s: Vec<i64> = get(0)?.shape().iter().map(|&d| d as i64).collect();
            let rank = s.len() as i64;
            let clampi = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank) as usize;
            let (a, b) = (clampi(n.int("start", 0)), clampi(n.int("end", rank)));
            let s = s[a..b.max(a)].to_vec();
            one(Value::Int(ArrayD::from_shape_vec(IxDyn(&[s.len()]), s).unwrap()))
        }
        ("", "Size") => one(Value::Int(ArrayD::from_elem(IxDyn(&[]), get(0)?.shape().iter().product::<usize>() as i64))),
        ("", "ConstantOfShape") => {
            let shape: Vec<usize> = ints(0)?.iter().map(|&d| d as usize).collect();
            match n.attr("value") {
                Some(Attr::Tensor(Value::Int(v))) => {
                    one(Value::Int(ArrayD::from_elem(IxDyn(&shape), v.iter().next().copied().unwrap_or(0))))
                }
                Some(Attr::Tensor(Value::Float(v))) => {
                    one(Value::Float(ArrayD::from_elem(IxDyn(&shape), v.iter().next().copied().unwrap_or(0.0))))
                }
                _ => one(Value::Float(ArrayD::zeros(IxDyn(&shape)))),
            }
        }
        ("", "Cast") => {
            let to = n.int("to", 1);
            let v = get(0)?;
            one(if matches!(to, 1 | 10 | 11 | 16) { Value::Float(v.to_f32()) } else { Value::Int(v.to_i64()) })
        }
        ("", "Identity" | "Dropout") => {
            let v = get(0)?.clone();
            let mut outs = vec![v.clone()];
            if n.outputs.len() > 1 {
                outs.push(Value::Int(ArrayD::from_elem(IxDyn(&v.shape()), 1)));
            }
            Ok(outs)
        }
        ("", "Range") => {
            let (s, l, d) = (f(0)?, f(1)?, f(2)?);
            let (s, l, d) =
                (s.iter().next().copied().unwrap_or(0.0), l.iter().next().copied().unwrap_or(0.0), d.iter().next().copied().unwrap_or(1.0));
            let count = ((l - s) / d).ceil().max(0.0) as usize;
            let v: Vec<f32> = (0..count).map(|i| s + i as f32 * d).collect();
            let all_int = !get(0)?.is_float();
            let a = ArrayD::from_shape_vec(IxDyn(&[count]), v).unwrap();
            one(if all_int { Value::Int(a.mapv(|x| x as i64)) } else { Value::Float(a) })
        }
        ("ai.onnx.ml", "LinearClassifier" | "LinearRegressor") => crate::ml::eval_linear(n, &f(0)?),
        ("ai.onnx.ml", "Normalizer") => one(Value::Float(crate::ml::normalize(&n.str("norm", "MAX"), &to2d(f(0)?)?.into_dyn()))),
        ("ai.onnx.ml", "ArrayFeatureExtractor") => {
            let x = get(0)?;
            let idx: Vec<usize> = ints(1)?.iter().map(|&i| i as usize).collect();
            let last = x.shape().len() - 1;
            if idx.iter().any(|&i| i >= x.shape()[last]) {
                return Err("index out of range".into());
            }
            one(map_value(x, |a| a.select(Axis(last), &idx), |a| a.select(Axis(last), &idx)))
        }
        ("ai.onnx.ml", "Scaler") => {
            let x = to2d(f(0)?)?;
            let (off, sc) = (n.floats("offset").unwrap_or_default(), n.floats("scale").unwrap_or_default());
            let mut y = x.clone();
            for (j, mut col) in y.columns_mut().into_iter().enumerate() {
                let o = if off.len() == 1 { off[0] } else { *off.get(j).unwrap_or(&0.0) };
                let s = if sc.len() == 1 { sc[0] } else { *sc.get(j).unwrap_or(&1.0) };
                col.mapv_inplace(|v| (v - o) * s);
            }
            one(Value::Float(y.into_dyn()))
        }
        ("ai.onnx.ml", "Cast") => one(get(0)?.clone()),
        _ => Err(format!("no float implementation of {}:{}", n.domain, op)),
    }
}

fn map_value(v: &Value, ff: impl Fn(&ArrayD<f32>) -> ArrayD<f32>, fi: impl Fn(&ArrayD<i64>) -> ArrayD<i64>) -> Value {
    match v {
        Value::Float(a) => Value::Float(ff(a)),
        Value::Int(a) => Value::Int(fi(a)),
    }
}

pub fn reshape(v: &Value, shape: &[usize]) -> R<Value> {
    let err = |e: ndarray::ShapeError| format!("cannot reshape {:?} to {shape:?}: {e}", v.shape());
    Ok(match v {
        Value::Float(a) => Value::Float(a.as_standard_layout().to_owned().into_shape_with_order(IxDyn(shape)).map_err(err)?),
        Value::Int(a) => Value::Int(a.as_standard_layout().to_owned().into_shape_with_order(IxDyn(shape)).map_err(err)?),
    })
}

pub fn reshape_target(input: &[usize], target: &[i64], allow_zero: bool) -> R<Vec<usize>> {
    let total: usize = input.iter().product();
    let mut out: Vec<usize> = Vec::with_capacity(target.len());
    let mut infer = None;
    for (i, &d) in target.iter().enumerate() {
        match d {
            -1 => {
                infer = Some(i);
                out.push(1);
            }
            0 if !allow_zero => out.push(*input.get(i).ok_or("reshape 0 beyond input rank")?),
            d if d >= 0 => out.push(d as usize),
            _ => return Err(format!("bad reshape dimension {d}")),
        }
    }
    if let Some(i) = infer {
        let known: usize = out.iter().product();
        if known == 0 || total % known != 0 {
            return Err(format!("cannot infer -1 reshaping {input:?} to {target:?}"));
        }
        out[i] = total / known;
    }
    if out.iter().product::<usize>() != total {
        return Err(format!("cannot reshape {input:?} to {target:?}"));
    }
    Ok(out)
}

pub fn norm_axis(a: i64, rank: usize) -> R<usize> {
    let r = rank as i64;
    let v = if a < 0 { a + r } else { a };
    if v < 0 || v >= r.max(1) {
        return Err(format!("axis {a} out of range for rank {rank}"));
    }
    Ok(v as usize)
}

fn norm_axis_incl(a: i64, rank: usize) -> R<usize> {
    let r = rank as i64;
    let v = if a < 0 { a + r } else { a };
    if v < 0 || v > r {
        return Err(format!("axis {a} out of range for rank {rank}"));
    }
    Ok(v as usize)
}

fn norm_index(i: i64, dim: usize) -> R<usize> {
    let v = if i < 0 { i + dim as i64 } else { i };
    if v < 0 || v >= dim as i64 {
        return Err(format!("index {i} out of range for axis of {dim}"));
    }
    Ok(v as usize)
}

pub fn broadcast_shape(a: &[usize], b: &[usize]) -> R<Vec<usize>> {
    let au: Vec<u32> = a.iter().map(|&d| d as u32).collect();
    let bu: Vec<u32> = b.iter().map(|&d| d as u32).collect();
    solidml_spec::validate::broadcast_shapes(&au, &bu)
        .map(|v| v.into_iter().map(|d| d as usize).collect())
        .ok_or_else(|| format!("shapes {a:?} and {b:?} do not broadcast"))
}

pub fn to2d(a: ArrayD<f32>) -> R<ndarray::Array2<f32>> {
    let s = a.shape().to_vec();
    match s.len() {
        2 => a.into_dimensionality().map_err(|e| e.to_string()),
        1 => a.into_shape_with_order((1, s[0])).map_err(|e| e.to_string()),
        _ => {
            let last = *s.last().unwrap();
            let rows: usize = s[..s.len() - 1].iter().product();
            a.as_standard_layout().to_owned().into_shape_with_order((rows, last)).map_err(|e| e.to_string())
        }
    }
}

/// Resolved Slice: per axis (start, length, step).
pub fn slice_spec(n: &Node, ins: &[Option<&Value>], shape: &[usize], opset: i64) -> R<Vec<(i64, usize, i64)>> {
    let rank = shape.len();
    let vals = |i: usize| ins.get(i).copied().flatten().map(|v| v.to_i64().iter().copied().collect::<Vec<_>>());
    let (starts, ends, axes, steps) = if opset < 10 {
        (n.ints("starts").unwrap_or_default(), n.ints("ends").unwrap_or_default(), n.ints("axes"), None)
    } else {
        (vals(1).ok_or("starts missing")?, vals(2).ok_or("ends missing")?, vals(3), vals(4))
    };
    let axes: Vec<i64> = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
    let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
    let mut spec: Vec<(i64, usize, i64)> = shape.iter().map(|&d| (0, d, 1)).collect();
    for i in 0..starts.len() {
        let a = norm_axis(axes[i], rank)?;
        let d = shape[a] as i64;
        let step = steps[i];
        if step == 0 {
            return Err("slice step 0".into());
        }
        let clamp = |v: i64, lo: i64, hi: i64| v.clamp(lo, hi);
        let fix = |v: i64| if v < 0 { v + d } else { v };
        let (start, end) = if step > 0 {
            (clamp(fix(starts[i]), 0, d), clamp(fix(ends[i]), 0, d))
        } else {
            (clamp(fix(starts[i]), -1, d - 1), clamp(fix(ends[i]), -1, d - 1))
        };
        let len = if step > 0 { ((end - start).max(0) + step - 1) / step } else { ((start - end).max(0) - step - 1) / -step };
        spec[a] = (start, len as usize, step);
    }
    Ok(spec)
}

fn apply_slice<T: Clone>(a: &ArrayD<T>, spec: &[(i64, usize, i64)]) -> ArrayD<T> {
    let mut v = a.view();
    for (ax, &(start, len, step)) in spec.iter().enumerate() {
        if len == 0 {
            v.slice_axis_inplace(Axis(ax), Slice::from(0..0));
            continue;
        }
        let last = start + (len as i64 - 1) * step;
        let (lo, hi) = if step > 0 { (start, last + 1) } else { (last, start + 1) };
        v.slice_axis_inplace(Axis(ax), Slice::new(lo as isize, Some(hi as isize), step as isize));
    }
    v.to_owned()
}

fn tile<T: Clone>(a: &ArrayD<T>, reps: &[i64]) -> ArrayD<T> {
    let mut r = a.clone();
    for (ax, &k) in reps.iter().enumerate() {
        let views: Vec<_> = (0..k.max(0)).map(|_| r.view()).collect();
        r = ndarray::concatenate(Axis(ax), &views).unwrap_or(r.clone());
    }
    r
}

/// Split sizes along the axis (attribute, input, or equal parts).
pub fn split_sizes(n: &Node, ins: &[Option<&Value>], dim: usize, parts: usize) -> R<Vec<usize>> {
    let given = ins
        .get(1)
        .copied()
        .flatten()
        .map(|v| v.to_i64().iter().map(|&x| x as usize).collect::<Vec<_>>())
        .or_else(|| n.ints("split").map(|v| v.iter().map(|&x| x as usize).collect()));
    match given {
        Some(s) if s.iter().sum::<usize>() == dim => Ok(s),
        Some(s) => Err(format!("split sizes {s:?} do not add up to {dim}")),
        None => {
            let k = n.int("num_outputs", parts as i64).max(1) as usize;
            let chunk = dim.div_ceil(k);
            Ok((0..k).map(|i| chunk.min(dim.saturating_sub(i * chunk))).collect())
        }
    }
}

/// Pads as (begin, end) per axis and the constant value.
pub fn pad_spec(n: &Node, ins: &[Option<&Value>], rank: usize, opset: i64) -> R<(Vec<(usize, usize)>, f32)> {
    let (pads, value) = if opset < 11 {
        (n.ints("pads").or_else(|| n.ints("paddings")).unwrap_or_default(), n.float("value", 0.0))
    } else {
        let p: Vec<i64> = ins.get(1).copied().flatten().map(|v| v.to_i64().iter().copied().collect()).unwrap_or_default();
        let v = ins.get(2).copied().flatten().and_then(|v| v.to_f32().iter().next().copied()).unwrap_or(0.0);
        (p, v)
    };
    let axes: Vec<usize> = match ins.get(3).copied().flatten() {
        Some(a) => a.to_i64().iter().map(|&x| norm_axis(x, rank)).collect::<R<_>>()?,
        None => (0..rank).collect(),
    };
    if pads.len() != 2 * axes.len() || pads.iter().any(|&p| p < 0) {
        return Err(format!("pads {pads:?} (negative pads are not supported)"));
    }
    let mut out = vec![(0, 0); rank];
    for (i, &a) in axes.iter().enumerate() {
        out[a] = (pads[i] as usize, pads[i + axes.len()] as usize);
    }
    Ok((out, value))
}

/// The Pad mode attribute.
pub fn pad_mode(n: &Node) -> R<solidml_spec::PadMode> {
    match n.str("mode", "constant").as_str() {
        "constant" => Ok(solidml_spec::PadMode::Constant),
        "reflect" => Ok(solidml_spec::PadMode::Reflect),
        "edge" => Ok(solidml_spec::PadMode::Edge),
        other => Err(format!("Pad mode `{other}` is not supported")),
    }
}

/// Padding by the index rule the integer kernel uses (`solidml_cpu::ops::pad::source_index`).
fn pad(x: &ArrayD<f32>, pads: &[(usize, usize)], value: f32, mode: solidml_spec::PadMode) -> ArrayD<f32> {
    let shape: Vec<usize> = x.shape().iter().zip(pads).map(|(&d, &(a, b))| d + a + b).collect();
    ArrayD::from_shape_fn(IxDyn(&shape), |idx| {
        let mut src = vec![0usize; shape.len()];
        for d in 0..shape.len() {
            match solidml_cpu::ops::pad::source_index(mode, idx[d] as i64 - pads[d].0 as i64, x.shape()[d] as i64) {
                Some(i) if i >= 0 && (i as usize) < x.shape()[d] => src[d] = i as usize,
                _ => return value,
            }
        }
        x[IxDyn(&src)]
    })
}

/// Saturation range of QuantizeLinear's output type: that of its zero point (uint8 when
/// there is none, or `output_dtype` when given).
pub fn qdq_range(g: &Graph, n: &Node) -> (f32, f32) {
    let ty = match n.input(2) {
        Some(t) => g.tensors[t].onnx_type,
        None => n.int("output_dtype", 2) as i32,
    };
    match ty {
        3 => (-128.0, 127.0),
        5 => (-32768.0, 32767.0),
        4 => (0.0, 65535.0),
        _ => (0.0, 255.0),
    }
}
