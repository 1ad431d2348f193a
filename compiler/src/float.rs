//! The float interpreter: ONNX semantics on `f32` (and `i64` for shape arithmetic).
//!
//! It serves the passes (constant folding, shape inference), calibration (activation ranges)
//! and the quantizer (the real functions that lookup tables tabulate). Each op's semantics is
//! found through the op registry ([`crate::ops`]), which lists exactly the supported ops; the
//! float reference for accuracy figures is tract, an independent implementation
//! ([`crate::eval`]).

use ndarray::{ArrayD, Axis, IxDyn, Slice, Zip};

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
    if let Some(func) = unary_fn(n, ins)? {
        return one(Value::Float(f(0)?.mapv(|x| func(x as f64) as f32)));
    }
    match (n.domain.as_str(), op) {
        ("", "Add" | "Sub" | "Mul" | "Div" | "Pow" | "Max" | "Min" | "Sum" | "Mean" | "PRelu") => {
            let all_int = ins.iter().flatten().all(|v| !v.is_float()) && op != "Pow";
            if op == "PRelu" {
                let x = f(0)?;
                let slope = align_prelu_slope(x.shape(), f(1)?);
                return one(binary(op, &Value::Float(x), &Value::Float(slope), false)?);
            }
            let mut acc = get(0)?.clone();
            for i in 1..ins.len() {
                acc = binary(op, &acc, get(i)?, all_int)?;
            }
            if op == "Mean" {
                let k = ins.len() as f32;
                acc = Value::Float(acc.to_f32().mapv(|x| x / k));
            }
            one(acc)
        }
        ("", "Gemm") => {
            let (mut a, mut b) = (to2d(f(0)?)?, to2d(f(1)?)?);
            if n.int("transA", 0) != 0 {
                a = a.reversed_axes();
            }
            if n.int("transB", 0) != 0 {
                b = b.reversed_axes();
            }
            if a.ncols() != b.nrows() {
                return Err(format!("Gemm operands {:?} × {:?} (after transposition) do not multiply", a.shape(), b.shape()));
            }
            let mut y = a.dot(&b) * n.float("alpha", 1.0);
            if let Some(c) = ins.get(2).copied().flatten() {
                let c = c.to_f32() * n.float("beta", 1.0);
                y = (&y + &c).into_dimensionality().map_err(|e| e.to_string())?;
            }
            one(Value::Float(y.into_dyn()))
        }
        ("", "MatMul") => {
            let y = matmul(&f(0)?, &f(1)?)?;
            // a bias input is added by `passes::fuse_matmul_add`
            one(Value::Float(match ins.get(2).copied().flatten() {
                Some(b) => &y + &b.to_f32(),
                None => y,
            }))
        }
        ("", "Conv") => one(Value::Float(conv(n, &f(0)?, &f(1)?, ins.get(2).copied().flatten().map(|b| b.to_f32()))?)),
        ("", "ConvTranspose") => {
            let (x, w) = (f(0)?, f(1)?);
            let p = conv_transpose_params(n, x.shape(), w.shape())?;
            let wt = conv_transpose_weights(&w, p.groups)?;
            let bias = ins.get(2).copied().flatten().map(|b| b.to_f32().iter().copied().collect::<Vec<_>>());
            one(Value::Float(conv_transpose(&p, &x, &wt, bias.as_deref())))
        }
        ("", "BatchNormalization") => {
            let x = f(0)?;
            let (scale, bias, mean, var) = (f(1)?, f(2)?, f(3)?, f(4)?);
            let eps = n.float("epsilon", 1e-5);
            let c = x.shape()[1];
            let mut y = x.clone();
            for ch in 0..c {
                let k = scale[[ch]] / (var[[ch]] + eps).sqrt();
                let b = bias[[ch]] - mean[[ch]] * k;
                y.index_axis_mut(Axis(1), ch).mapv_inplace(|v| v * k + b);
            }
            one(Value::Float(y))
        }
        ("", "LRN") => {
            let x = f(0)?;
            let size = n.int("size", 1).max(1) as usize;
            let (alpha, beta, bias) = (n.float("alpha", 1e-4), n.float("beta", 0.75), n.float("bias", 1.0));
            if x.ndim() < 2 {
                return Err("LRN needs rank ≥ 2".into());
            }
            let ch = x.shape()[1];
            let mut y = x.clone();
            for (idx, v) in y.indexed_iter_mut() {
                let c = idx[1];
                let (lo, hi) = (c.saturating_sub((size - 1) / 2), (c + size / 2).min(ch - 1));
                let mut pos = idx.clone();
                let mut sq = 0f32;
                for k in lo..=hi {
                    pos[1] = k;
                    sq += x[&pos] * x[&pos];
                }
                *v /= (bias + alpha / size as f32 * sq).powf(beta);
            }
            one(Value::Float(y))
        }
        ("", "InstanceNormalization") => {
            let x = f(0)?;
            let (scale, bias) = (f(1)?, f(2)?);
            let eps = n.float("epsilon", 1e-5);
            let mut y = x.clone();
            for nb in 0..x.shape()[0] {
                for ch in 0..x.shape()[1] {
                    let mut plane = y.index_axis_mut(Axis(0), nb);
                    let mut plane = plane.index_axis_mut(Axis(0), ch);
                    let cnt = plane.len() as f32;
                    let mean = plane.sum() / cnt;
                    let var = plane.mapv(|v| (v - mean) * (v - mean)).sum() / cnt;
                    let k = scale[[ch]] / (var + eps).sqrt();
                    plane.mapv_inplace(|v| (v - mean) * k + bias[[ch]]);
                }
            }
            one(Value::Float(y))
        }
        ("", "MaxPool" | "AveragePool" | "LpPool") => one(Value::Float(pool(n, &f(0)?)?)),
        ("", "GlobalAveragePool" | "GlobalMaxPool") => {
            let x = f(0)?;
            let axes: Vec<usize> = (2..x.ndim()).collect();
            let r = reduce(&x, &axes, true, if op == "GlobalMaxPool" { "ReduceMax" } else { "ReduceMean" });
            one(Value::Float(r))
        }
        ("", "ReduceMean" | "ReduceSum" | "ReduceMax" | "ReduceMin") => {
            let x = f(0)?;
            let axes = reduce_axes(n, ins, x.ndim(), opset)?;
            one(Value::Float(reduce(&x, &axes, n.int("keepdims", 1) != 0, op)))
        }
        ("", "Softmax" | "LogSoftmax") => {
            let x = f(0)?;
            let (axis, flatten) = softmax_axis(n, x.ndim(), opset)?;
            let shape = x.shape().to_vec();
            let work = if flatten {
                let outer: usize = shape[..axis].iter().product();
                x.into_shape_with_order(IxDyn(&[outer, shape[axis..].iter().product()])).map_err(|e| e.to_string())?
            } else {
                x
            };
            let ax = if flatten { 1 } else { axis };
            let mut y = work.clone();
            for mut lane in y.lanes_mut(Axis(ax)) {
                let m = lane.fold(f32::NEG_INFINITY, |a, &b| a.max(b));
                let s: f32 = lane.iter().map(|&v| (v - m).exp()).sum();
                lane.mapv_inplace(|v| if op == "Softmax" { (v - m).exp() / s } else { v - m - s.ln() });
            }
            one(Value::Float(y.into_shape_with_order(IxDyn(&shape)).map_err(|e| e.to_string())?))
        }
        ("", "ArgMax") => {
            let x = f(0)?;
            let axis = norm_axis(n.int("axis", 0), x.ndim())?;
            let last = n.int("select_last_index", 0) != 0;
            let mut r = x.map_axis(Axis(axis), |lane| {
                let mut best = 0usize;
                for (j, &v) in lane.iter().enumerate() {
                    if v > lane[best] || (last && v == lane[best]) {
                        best = j;
                    }
                }
                best as i64
            });
            if n.int("keepdims", 1) != 0 {
                r.insert_axis_inplace(Axis(axis));
            }
            one(Value::Int(r))
        }
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

/// The real function of a unary element-wise node (with constant extra inputs such as Clip's
/// bounds), or `None` when the node is not unary. Shared with the quantizer, which tabulates it.
pub fn unary_fn(n: &Node, ins: &[Option<&Value>]) -> R<Option<Box<dyn Fn(f64) -> f64>>> {
    if !n.domain.is_empty() {
        return Ok(None);
    }
    let alpha = n.float("alpha", f32::NAN) as f64;
    let scalar_in = |i: usize| -> Option<f64> { ins.get(i).copied().flatten().and_then(|v| v.to_f32().iter().next().map(|&x| x as f64)) };
    let f: Box<dyn Fn(f64) -> f64> = match n.op.as_str() {
        "Relu" => Box::new(|x: f64| x.max(0.0)),
        "LeakyRelu" => {
            let a = if alpha.is_nan() { 0.01 } else { alpha };
            Box::new(move |x| if x < 0.0 { a * x } else { x })
        }
        "Elu" => {
            let a = if alpha.is_nan() { 1.0 } else { alpha };
            Box::new(move |x: f64| if x < 0.0 { a * (x.exp() - 1.0) } else { x })
        }
        "Selu" => {
            let a = if alpha.is_nan() { 1.673_263_192_176_818_8 } else { alpha };
            let gm = n.float("gamma", 1.050_701_0) as f64;
            Box::new(move |x: f64| gm * if x <= 0.0 { a * (x.exp() - 1.0) } else { x })
        }
        "Clip" => {
            let (lo, hi) = if n.attrs.contains_key("min") || n.attrs.contains_key("max") {
                (n.float("min", f32::NEG_INFINITY) as f64, n.float("max", f32::INFINITY) as f64)
            } else {
                (scalar_in(1).unwrap_or(f64::NEG_INFINITY), scalar_in(2).unwrap_or(f64::INFINITY))
            };
            Box::new(move |x: f64| x.max(lo).min(hi))
        }
        "Sigmoid" => Box::new(|x: f64| 1.0 / (1.0 + (-x).exp())),
        "HardSigmoid" => {
            let a = if alpha.is_nan() { 0.2 } else { alpha };
            let b = n.float("beta", 0.5) as f64;
            Box::new(move |x: f64| (a * x + b).clamp(0.0, 1.0))
        }
        "HardSwish" => Box::new(|x: f64| x * (x / 6.0 + 0.5).clamp(0.0, 1.0)),
        "Tanh" => Box::new(f64::tanh),
        "Softplus" => Box::new(|x: f64| if x > 30.0 { x } else { x.exp().ln_1p() }),
        "Softsign" => Box::new(|x: f64| x / (1.0 + x.abs())),
        "Erf" => Box::new(erf),
        "Gelu" => {
            if n.str("approximate", "none") == "tanh" {
                Box::new(|x: f64| 0.5 * x * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x * x * x)).tanh()))
            } else {
                Box::new(|x: f64| 0.5 * x * (1.0 + erf(x / std::f64::consts::SQRT_2)))
            }
        }
        "Exp" => Box::new(f64::exp),
        "Log" => Box::new(f64::ln),
        "Sqrt" => Box::new(f64::sqrt),
        "Neg" => Box::new(|x: f64| -x),
        "Abs" => Box::new(f64::abs),
        "Reciprocal" => Box::new(|x: f64| 1.0 / x),
        "Floor" => Box::new(f64::floor),
        "Ceil" => Box::new(f64::ceil),
        "Round" => Box::new(f64::round_ties_even),
        "Sign" => Box::new(|x: f64| {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            }
        }),
        "Sin" => Box::new(f64::sin),
        "Cos" => Box::new(f64::cos),
        _ => return Ok(None),
    };
    Ok(Some(f))
}

/// Error function (W. J. Cody's rational approximations are overkill for int8 tables:
/// Abramowitz & Stegun 7.1.26 has |error| < 1.5e-7, far below one int8 step).
pub fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let y =
        1.0 - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736) * t + 0.254_829_592) * t * (-x * x).exp();
    if x >= 0.0 { y } else { -y }
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

/// The softmax axis and whether the pre-13 "flatten to 2-D at `axis`" semantics applies.
pub fn softmax_axis(n: &Node, rank: usize, opset: i64) -> R<(usize, bool)> {
    if opset < 13 {
        let a = norm_axis(n.int("axis", 1), rank)?;
        Ok((a, a != rank - 1))
    } else {
        Ok((norm_axis(n.int("axis", -1), rank)?, false))
    }
}

pub fn reduce_axes(n: &Node, ins: &[Option<&Value>], rank: usize, _opset: i64) -> R<Vec<usize>> {
    let axes: Vec<i64> = match ins.get(1).copied().flatten() {
        Some(v) => v.to_i64().iter().copied().collect(),
        None => n.ints("axes").unwrap_or_default(),
    };
    if axes.is_empty() {
        return Ok(if n.int("noop_with_empty_axes", 0) != 0 { vec![] } else { (0..rank).collect() });
    }
    let mut v: Vec<usize> = axes.iter().map(|&a| norm_axis(a, rank)).collect::<R<_>>()?;
    v.sort_unstable();
    v.dedup();
    Ok(v)
}

pub fn reduce(x: &ArrayD<f32>, axes: &[usize], keep: bool, op: &str) -> ArrayD<f32> {
    let mut y = x.clone();
    for &a in axes.iter().rev() {
        y = match op {
            "ReduceSum" => y.sum_axis(Axis(a)),
            "ReduceMean" => y.mean_axis(Axis(a)).unwrap_or_else(|| y.sum_axis(Axis(a))),
            "ReduceMax" => y.fold_axis(Axis(a), f32::NEG_INFINITY, |m, &v| m.max(v)),
            _ => y.fold_axis(Axis(a), f32::INFINITY, |m, &v| m.min(v)),
        };
        if keep {
            y.insert_axis_inplace(Axis(a));
        }
    }
    y
}

pub fn broadcast_shape(a: &[usize], b: &[usize]) -> R<Vec<usize>> {
    let au: Vec<u32> = a.iter().map(|&d| d as u32).collect();
    let bu: Vec<u32> = b.iter().map(|&d| d as u32).collect();
    solidml_spec::validate::broadcast_shapes(&au, &bu)
        .map(|v| v.into_iter().map(|d| d as usize).collect())
        .ok_or_else(|| format!("shapes {a:?} and {b:?} do not broadcast"))
}

fn binary(op: &str, a: &Value, b: &Value, int: bool) -> R<Value> {
    let out = broadcast_shape(&a.shape(), &b.shape())?;
    let sh = IxDyn(&out);
    if int {
        let (x, y) = (a.to_i64(), b.to_i64());
        let (x, y) = (x.broadcast(sh.clone()).unwrap(), y.broadcast(sh).unwrap());
        let mut r = ArrayD::<i64>::zeros(IxDyn(&out));
        Zip::from(&mut r).and(&x).and(&y).for_each(|r, &p, &q| {
            *r = match op {
                "Add" | "Sum" | "Mean" => p + q,
                "Sub" => p - q,
                "Mul" => p * q,
                "Div" => {
                    if q == 0 {
                        0
                    } else {
                        p.div_euclid(q)
                    }
                }
                "Max" => p.max(q),
                "Min" => p.min(q),
                _ => {
                    if p < 0 {
                        p * q
                    } else {
                        p
                    }
                }
            }
        });
        return Ok(Value::Int(r));
    }
    let (x, y) = (a.to_f32(), b.to_f32());
    let (x, y) = (x.broadcast(sh.clone()).unwrap(), y.broadcast(sh).unwrap());
    let mut r = ArrayD::<f32>::zeros(IxDyn(&out));
    Zip::from(&mut r).and(&x).and(&y).for_each(|r, &p, &q| *r = binary_f(op, p, q));
    Ok(Value::Float(r))
}

/// Scalar float semantics of the element-wise binary ops.
pub fn binary_f(op: &str, p: f32, q: f32) -> f32 {
    match op {
        "Add" | "Sum" | "Mean" => p + q,
        "Sub" => p - q,
        "Mul" => p * q,
        "Div" => p / q,
        "Pow" => p.powf(q),
        "Max" => p.max(q),
        "Min" => p.min(q),
        _ => {
            if p < 0.0 {
                p * q
            } else {
                p
            }
        } // PRelu
    }
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

fn matmul(a: &ArrayD<f32>, b: &ArrayD<f32>) -> R<ArrayD<f32>> {
    if b.ndim() == 2 {
        let k = b.shape()[0];
        let lead = &a.shape()[..a.ndim() - 1];
        if *a.shape().last().unwrap_or(&0) != k {
            return Err(format!("MatMul shapes {:?} × {:?}", a.shape(), b.shape()));
        }
        let a2 = to2d(a.clone())?;
        let b2: ndarray::Array2<f32> = b.clone().into_dimensionality().unwrap();
        let y = a2.dot(&b2);
        let mut shape = lead.to_vec();
        shape.push(b.shape()[1]);
        return y.into_shape_with_order(IxDyn(&shape)).map_err(|e| e.to_string());
    }
    if a.ndim() < 2 || b.ndim() < 2 {
        return Err("MatMul with 1-D operands is not supported".into());
    }
    let (m, k, n) = (a.shape()[a.ndim() - 2], a.shape()[a.ndim() - 1], b.shape()[b.ndim() - 1]);
    if b.shape()[b.ndim() - 2] != k {
        return Err(format!("MatMul shapes {:?} × {:?}", a.shape(), b.shape()));
    }
    let batch = broadcast_shape(&a.shape()[..a.ndim() - 2], &b.shape()[..b.ndim() - 2])?;
    let mut sa = batch.clone();
    sa.extend([m, k]);
    let mut sb = batch.clone();
    sb.extend([k, n]);
    let ab = a.broadcast(IxDyn(&sa)).ok_or("broadcast")?.as_standard_layout().into_owned();
    let bb = b.broadcast(IxDyn(&sb)).ok_or("broadcast")?.as_standard_layout().into_owned();
    let nb: usize = batch.iter().product();
    let a3 = ab.into_shape_with_order((nb, m, k)).unwrap();
    let b3 = bb.into_shape_with_order((nb, k, n)).unwrap();
    let mut out = ndarray::Array3::<f32>::zeros((nb, m, n));
    for i in 0..nb {
        out.index_axis_mut(Axis(0), i).assign(&a3.index_axis(Axis(0), i).dot(&b3.index_axis(Axis(0), i)));
    }
    let mut so = batch;
    so.extend([m, n]);
    out.into_shape_with_order(IxDyn(&so)).map_err(|e| e.to_string())
}

/// Spatial attributes of Conv and pooling, with `auto_pad` resolved.
#[derive(Debug, Clone)]
pub struct Window {
    pub kernel: Vec<usize>,
    pub strides: Vec<usize>,
    pub dilations: Vec<usize>,
    pub pads_begin: Vec<usize>,
    pub pads_end: Vec<usize>,
}

pub fn window(n: &Node, in_spatial: &[usize], kernel: Vec<usize>) -> R<Window> {
    let s = kernel.len();
    let get = |k: &str| n.ints(k).map(|v| v.iter().map(|&x| x.max(0) as usize).collect::<Vec<_>>()).unwrap_or_else(|| vec![1; s]);
    let (strides, dilations) = (get("strides"), get("dilations"));
    if strides.len() != s || dilations.len() != s || strides.contains(&0) || dilations.contains(&0) || in_spatial.len() != s {
        return Err("strides/dilations do not match the kernel rank".into());
    }
    let mut pb = vec![0; s];
    let mut pe = vec![0; s];
    match n.str("auto_pad", "NOTSET").as_str() {
        "SAME_UPPER" | "SAME_LOWER" => {
            for d in 0..s {
                let out = in_spatial[d].div_ceil(strides[d]);
                let span = dilations[d] * (kernel[d] - 1) + 1;
                let total = ((out - 1) * strides[d] + span).saturating_sub(in_spatial[d]);
                let small = total / 2;
                if n.str("auto_pad", "") == "SAME_UPPER" {
                    pb[d] = small;
                    pe[d] = total - small;
                } else {
                    pb[d] = total - small;
                    pe[d] = small;
                }
            }
        }
        "VALID" => {}
        _ => {
            if let Some(p) = n.ints("pads") {
                if p.len() != 2 * s || p.iter().any(|&x| x < 0) {
                    return Err(format!("pads {p:?} do not match the kernel rank {s}"));
                }
                pb = p[..s].iter().map(|&x| x as usize).collect();
                pe = p[s..].iter().map(|&x| x as usize).collect();
            }
        }
    }
    if n.int("ceil_mode", 0) != 0 {
        // ceil mode: extend the end padding so the last partial window exists (for MaxPool
        // padding never wins, so this is exact; AveragePool rejects it in the quantizer).
        for d in 0..s {
            let span = dilations[d] * (kernel[d] - 1) + 1;
            let padded = in_spatial[d] + pb[d] + pe[d];
            if padded >= span {
                let rem = (padded - span) % strides[d];
                if rem != 0 {
                    let out_ceil = (padded - span).div_ceil(strides[d]) + 1;
                    // ONNX: the last window must start inside the input or the begin padding
                    if (out_ceil - 1) * strides[d] < in_spatial[d] + pb[d] {
                        pe[d] += strides[d] - rem;
                    }
                }
            }
        }
    }
    Ok(Window { kernel, strides, dilations, pads_begin: pb, pads_end: pe })
}

pub fn out_len(w: &Window, d: usize, n: usize) -> R<usize> {
    solidml_spec::validate::window_output_len(
        n as u32,
        w.kernel[d] as u32,
        w.strides[d] as u32,
        w.dilations[d] as u32,
        w.pads_begin[d] as u32,
        w.pads_end[d] as u32,
    )
    .map(|v| v as usize)
    .ok_or_else(|| "the window does not fit in the padded input".to_string())
}

/// Calls `f(out_index, taps)` for each output position, `taps` the `(kernel tap, flat spatial
/// input offset)` pairs of the window taps inside the input (padding omitted); returns the
/// output spatial shape. Shared by convolution and pooling.
fn for_windows(w: &Window, in_sp: &[usize], mut f: impl FnMut(usize, &[(usize, usize)])) -> R<Vec<usize>> {
    let s = w.kernel.len();
    let out_sp: Vec<usize> = (0..s).map(|d| out_len(w, d, in_sp[d])).collect::<R<_>>()?;
    let total: usize = out_sp.iter().product();
    let klen: usize = w.kernel.iter().product();
    let mut taps = Vec::with_capacity(klen);
    for o in 0..total {
        let mut pos = vec![0usize; s];
        let mut r = o;
        for d in (0..s).rev() {
            pos[d] = r % out_sp[d];
            r /= out_sp[d];
        }
        taps.clear();
        'k: for k in 0..klen {
            let mut r = k;
            let mut off = 0;
            let mut stride = 1;
            let mut coords = vec![0usize; s];
            for d in (0..s).rev() {
                let kd = r % w.kernel[d];
                r /= w.kernel[d];
                let p = (pos[d] * w.strides[d] + kd * w.dilations[d]) as i64 - w.pads_begin[d] as i64;
                if p < 0 || p >= in_sp[d] as i64 {
                    continue 'k;
                }
                coords[d] = p as usize;
            }
            for d in (0..s).rev() {
                off += coords[d] * stride;
                stride *= in_sp[d];
            }
            taps.push((k, off));
        }
        f(o, &taps);
    }
    Ok(out_sp)
}

fn conv(n: &Node, x: &ArrayD<f32>, wt: &ArrayD<f32>, b: Option<ArrayD<f32>>) -> R<ArrayD<f32>> {
    let (xs, ws) = (x.shape().to_vec(), wt.shape().to_vec());
    if xs.len() < 3 || ws.len() != xs.len() {
        return Err(format!("Conv input {xs:?} and weights {ws:?} ranks"));
    }
    let g = n.int("group", 1).max(1) as usize;
    let (nb, cin, cout) = (xs[0], xs[1], ws[0]);
    if cin % g != 0 || cout % g != 0 || ws[1] * g != cin {
        return Err(format!("Conv channels: input {cin}, weights {ws:?}, group {g}"));
    }
    let w = window(n, &xs[2..], ws[2..].to_vec())?;
    let x = x.as_standard_layout();
    let wt = wt.as_standard_layout();
    let (xd, wd) = (x.as_slice().unwrap(), wt.as_slice().unwrap());
    let in_plane: usize = xs[2..].iter().product();
    let klen: usize = ws[2..].iter().product();
    let (cin_g, cout_g) = (cin / g, cout / g);
    // (kernel tap, input offset) pairs per output position
    let mut positions: Vec<Vec<(usize, usize)>> = vec![];
    let out_sp = for_windows(&w, &xs[2..], |_, taps| positions.push(taps.to_vec()))?;
    let total: usize = out_sp.iter().product();
    let mut out = vec![0f32; nb * cout * total];
    let bias = b.map(|b| b.iter().copied().collect::<Vec<_>>());
    for bn in 0..nb {
        for co in 0..cout {
            let gi = co / cout_g;
            for (o, taps) in positions.iter().enumerate() {
                let mut acc = bias.as_ref().map_or(0.0, |b| b[co]);
                for ci in 0..cin_g {
                    let xb = (bn * cin + gi * cin_g + ci) * in_plane;
                    let wb = (co * cin_g + ci) * klen;
                    for &(k, off) in taps {
                        acc += wd[wb + k] * xd[xb + off];
                    }
                }
                out[(bn * cout + co) * total + o] = acc;
            }
        }
    }
    let mut shape = vec![nb, cout];
    shape.extend(out_sp);
    ArrayD::from_shape_vec(IxDyn(&shape), out).map_err(|e| e.to_string())
}

fn pool(n: &Node, x: &ArrayD<f32>) -> R<ArrayD<f32>> {
    let xs = x.shape().to_vec();
    let kernel: Vec<usize> = n.ints("kernel_shape").ok_or("kernel_shape missing")?.iter().map(|&k| k.max(1) as usize).collect();
    if xs.len() != kernel.len() + 2 {
        return Err("pooling rank".into());
    }
    let w = window(n, &xs[2..], kernel)?;
    let x = x.as_standard_layout();
    let xd = x.as_slice().unwrap();
    let in_plane: usize = xs[2..].iter().product();
    let planes = xs[0] * xs[1];
    let include_pad = n.int("count_include_pad", 0) != 0;
    let klen: usize = w.kernel.iter().product();
    let mut results: Vec<(usize, Vec<usize>)> = vec![];
    let out_sp = for_windows(&w, &xs[2..], |o, taps| results.push((o, taps.iter().map(|&(_, off)| off).collect())))?;
    let total: usize = out_sp.iter().product();
    let mut out = vec![0f32; planes * total];
    for p in 0..planes {
        for (o, taps) in &results {
            let vals = taps.iter().map(|&t| xd[p * in_plane + t]);
            out[p * total + o] = match n.op.as_str() {
                "MaxPool" => vals.fold(f32::NEG_INFINITY, f32::max),
                "AveragePool" => {
                    let s: f32 = vals.sum();
                    s / if include_pad { klen as f32 } else { taps.len().max(1) as f32 }
                }
                _ => {
                    let pw = n.int("p", 2) as i32;
                    vals.map(|v| v.abs().powi(pw)).sum::<f32>().powf(1.0 / pw as f32)
                }
            };
        }
    }
    let mut shape = xs[..2].to_vec();
    shape.extend(out_sp);
    ArrayD::from_shape_vec(IxDyn(&shape), out).map_err(|e| e.to_string())
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

/// PRelu's slope as ONNX opset ≤ 6 exporters wrote it (`[C]` for an `N×C×…` input) aligned
/// to the channel axis; slopes that already broadcast are returned unchanged.
pub fn align_prelu_slope(x_shape: &[usize], slope: ArrayD<f32>) -> ArrayD<f32> {
    if broadcast_shape(x_shape, slope.shape()).is_ok_and(|s| s == x_shape) {
        return slope;
    }
    if slope.ndim() == 1 && x_shape.len() >= 2 && slope.len() == x_shape[1] {
        let mut s = vec![1; x_shape.len() - 1];
        s[0] = slope.len();
        return slope.into_shape_with_order(IxDyn(&s)).unwrap();
    }
    slope
}

/// Resolved ConvTranspose attributes and output shape.
#[derive(Debug, Clone)]
pub struct ConvTransposeParams {
    pub kernel: Vec<usize>,
    pub strides: Vec<usize>,
    pub dilations: Vec<usize>,
    pub pads_begin: Vec<usize>,
    pub pads_end: Vec<usize>,
    pub output_padding: Vec<usize>,
    pub groups: usize,
    pub out_shape: Vec<usize>,
}

pub fn conv_transpose_params(n: &Node, xs: &[usize], ws: &[usize]) -> R<ConvTransposeParams> {
    if xs.len() < 3 || ws.len() != xs.len() {
        return Err(format!("ConvTranspose input {xs:?} and weights {ws:?} ranks"));
    }
    let s = xs.len() - 2;
    let groups = n.int("group", 1).max(1) as usize;
    if xs[1] != ws[0] || xs[1] % groups != 0 {
        return Err(format!("ConvTranspose channels: input {:?}, weights {ws:?}, group {groups}", xs[1]));
    }
    let kernel = ws[2..].to_vec();
    let get = |k: &str, d: usize| n.ints(k).map(|v| v.iter().map(|&x| x.max(0) as usize).collect::<Vec<_>>()).unwrap_or_else(|| vec![d; s]);
    let (strides, dilations, output_padding) = (get("strides", 1), get("dilations", 1), get("output_padding", 0));
    if strides.len() != s || dilations.len() != s || output_padding.len() != s || strides.contains(&0) || dilations.contains(&0) {
        return Err("strides/dilations/output_padding do not match the kernel rank".into());
    }
    let full: Vec<usize> = (0..s).map(|d| (xs[d + 2] - 1) * strides[d] + dilations[d] * (kernel[d] - 1) + 1 + output_padding[d]).collect();
    let (mut pb, mut pe) = (vec![0; s], vec![0; s]);
    let auto = n.str("auto_pad", "NOTSET");
    let target = n.ints("output_shape").map(|t| t.iter().rev().take(s).rev().map(|&x| x as usize).collect::<Vec<_>>()).or_else(|| {
        // SAME padding without output_shape: the output is input · stride
        auto.starts_with("SAME").then(|| (0..s).map(|d| xs[d + 2] * strides[d]).collect())
    });
    if let Some(target) = target {
        if target.len() != s {
            return Err("output_shape does not match the kernel rank".into());
        }
        for d in 0..s {
            let total = full[d].checked_sub(target[d]).ok_or("output_shape larger than the full transposed convolution")?;
            if auto == "SAME_UPPER" {
                pb[d] = total / 2;
                pe[d] = total - total / 2;
            } else {
                pb[d] = total - total / 2;
                pe[d] = total / 2;
            }
        }
    } else if let Some(p) = n.ints("pads").filter(|_| auto != "VALID") {
        if p.len() != 2 * s || p.iter().any(|&x| x < 0) {
            return Err(format!("pads {p:?}"));
        }
        pb = p[..s].iter().map(|&x| x as usize).collect();
        pe = p[s..].iter().map(|&x| x as usize).collect();
    }
    let mut out_shape = vec![xs[0], ws[1] * groups];
    for d in 0..s {
        out_shape.push(full[d].checked_sub(pb[d] + pe[d]).filter(|&v| v > 0).ok_or("pads remove the whole output")?);
    }
    Ok(ConvTransposeParams { kernel, strides, dilations, pads_begin: pb, pads_end: pe, output_padding, groups, out_shape })
}

/// ONNX's `[C_in, C_out/g, k…]` weights as `[C_out, C_in/g, k…]` (the spec's layout).
pub fn conv_transpose_weights(w: &ArrayD<f32>, groups: usize) -> R<ArrayD<f32>> {
    let ws = w.shape();
    let (cin, cout_g) = (ws[0], ws[1]);
    let cin_g = cin / groups;
    let mut shape = vec![cout_g * groups, cin_g];
    shape.extend_from_slice(&ws[2..]);
    let k: usize = ws[2..].iter().product();
    let src = w.as_standard_layout();
    let src = src.as_slice().unwrap();
    let mut out = vec![0f32; src.len()];
    for g in 0..groups {
        for ci in 0..cin_g {
            for co in 0..cout_g {
                for t in 0..k {
                    out[((g * cout_g + co) * cin_g + ci) * k + t] = src[(((g * cin_g + ci) * cout_g) + co) * k + t];
                }
            }
        }
    }
    ArrayD::from_shape_vec(IxDyn(&shape), out).map_err(|e| e.to_string())
}

/// The float transposed convolution, in the gather form of the integer kernel.
fn conv_transpose(p: &ConvTransposeParams, x: &ArrayD<f32>, wt: &ArrayD<f32>, bias: Option<&[f32]>) -> ArrayD<f32> {
    let xs = x.shape();
    let s = p.kernel.len();
    let (nb, cin, cout) = (xs[0], xs[1], p.out_shape[1]);
    let (cin_g, cout_g) = (cin / p.groups, cout / p.groups);
    let x = x.as_standard_layout();
    let xd = x.as_slice().unwrap();
    let wt = wt.as_standard_layout();
    let wd = wt.as_slice().unwrap();
    let in_plane: usize = xs[2..].iter().product();
    let out_sp = &p.out_shape[2..];
    let out_plane: usize = out_sp.iter().product();
    let klen: usize = p.kernel.iter().product();
    let mut out = vec![0f32; nb * cout * out_plane];
    for o in 0..out_plane {
        let mut taps = vec![];
        for k in 0..klen {
            let (mut ro, mut rk, mut off, mut stride, mut ok) = (o, k, 0usize, 1usize, true);
            for d in (0..s).rev() {
                let (od, kd) = ((ro % out_sp[d]) as i64, (rk % p.kernel[d]) as i64);
                ro /= out_sp[d];
                rk /= p.kernel[d];
                let num = od + p.pads_begin[d] as i64 - kd * p.dilations[d] as i64;
                let st = p.strides[d] as i64;
                if num < 0 || num % st != 0 || num / st >= xs[d + 2] as i64 {
                    ok = false;
                    break;
                }
                off += (num / st) as usize * stride;
                stride *= xs[d + 2];
            }
            if ok {
                taps.push((k, off));
            }
        }
        for b in 0..nb {
            for co in 0..cout {
                let g = co / cout_g;
                let mut acc = bias.map_or(0.0, |b| b[co]);
                for ci in 0..cin_g {
                    let xb = (b * cin + g * cin_g + ci) * in_plane;
                    let wb = (co * cin_g + ci) * klen;
                    for &(k, off) in &taps {
                        acc += wd[wb + k] * xd[xb + off];
                    }
                }
                out[(b * cout + co) * out_plane + o] = acc;
            }
        }
    }
    ArrayD::from_shape_vec(IxDyn(&p.out_shape), out).unwrap()
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
