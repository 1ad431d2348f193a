//! Normalizations over the channel axis 1: `BatchNormalization` (inference form),
//! `InstanceNormalization` (both with `epsilon`, default 1e-5) and `LRN` ([`LrnAttrs`]); and
//! over the trailing axes, `LayerNormalization` and `RMSNormalization`, which
//! `passes/decompose.rs` (`normalizations`) rewrites into reductions and element-wise ops.
//!
//! Float semantics in `f32`. Lowering: BatchNormalization not folded into a preceding
//! Conv/Gemm ([`crate::passes::fold_batchnorm`]) is one table per channel; InstanceNorm and
//! Lrn are the spec ops of the same names (parameters must be constants).

use ndarray::Axis;
use solidml_spec::Op;

use super::{OpDef, R, input};
use crate::{
    ir::{Graph, Node, Value},
    quantize::{Lowering, multiplier},
};

pub(crate) const OPS: &[OpDef] = &[
    OpDef::new("", "BatchNormalization", eval_batchnorm, lower_batchnorm),
    OpDef::new("", "InstanceNormalization", eval_instancenorm, lower_instancenorm),
    OpDef::new("", "LRN", eval_lrn, lower_lrn),
    OpDef::new("", "LayerNormalization", eval_layer_norm, lower_decomposed),
    OpDef::new("", "RMSNormalization", eval_layer_norm, lower_decomposed),
];

/// `LayerNormalization` (outputs `Y`, `Mean`, `InvStdDev`) and `RMSNormalization` (`Y`) over
/// the axes `axis..rank` (`axis` default −1, `epsilon` default 1e-5): per row,
/// `Y = (x − mean) / √(var + ε) · scale + bias` (RMS: `Y = x / √(mean(x²) + ε) · scale`);
/// `Mean` and `InvStdDev` keep the normalized axes as size 1.
fn eval_layer_norm(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let rms = n.op == "RMSNormalization";
    let x = input(ins, 0)?.to_f32();
    let shape = x.shape().to_vec();
    let axis = crate::float::norm_axis(n.int("axis", -1), shape.len())?;
    let eps = n.float("epsilon", 1e-5);
    let inner: usize = shape[axis..].iter().product();
    let rows = x.len().checked_div(inner).unwrap_or(0);
    let flat: Vec<f32> = x.iter().copied().collect();
    let bcast = |i: usize| -> R<Option<Vec<f32>>> {
        ins.get(i)
            .copied()
            .flatten()
            .map(|v| {
                v.to_f32().broadcast(ndarray::IxDyn(&shape)).map(|b| b.iter().copied().collect()).ok_or("a parameter does not broadcast")
            })
            .transpose()
            .map_err(String::from)
    };
    let (scale, bias) = (bcast(1)?, if rms { None } else { bcast(2)? });
    let (mut y, mut means, mut invs) = (vec![0f32; flat.len()], vec![0f32; rows], vec![0f32; rows]);
    for r in 0..rows {
        let row = &flat[r * inner..(r + 1) * inner];
        let mean = if rms { 0.0 } else { row.iter().sum::<f32>() / inner as f32 };
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / inner as f32;
        let inv = 1.0 / (var + eps).sqrt();
        (means[r], invs[r]) = (mean, inv);
        for (j, v) in row.iter().enumerate() {
            let i = r * inner + j;
            y[i] = (v - mean) * inv * scale.as_ref().map_or(1.0, |s| s[i]) + bias.as_ref().map_or(0.0, |b| b[i]);
        }
    }
    let kept: Vec<usize> = shape.iter().enumerate().map(|(d, &s)| if d < axis { s } else { 1 }).collect();
    let arr =
        |v: Vec<f32>, sh: &[usize]| ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(sh), v).map(Value::Float).map_err(|e| e.to_string());
    let mut outs = vec![arr(y, &shape)?];
    if !rms {
        outs.push(arr(means, &kept)?);
        outs.push(arr(invs, &kept)?);
    }
    Ok(outs)
}

fn lower_decomposed(_: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    Err(format!("{} is decomposed before lowering (passes/decompose.rs)", n.op))
}

/// `epsilon` of BatchNormalization and InstanceNormalization.
pub fn epsilon(n: &Node) -> f32 {
    n.float("epsilon", 1e-5)
}

/// LRN's attributes (ONNX defaults: alpha 1e-4, beta 0.75, bias 1; `size` is required, read
/// as at least 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LrnAttrs {
    /// Number of channels summed over, centred on each channel (attribute `size`).
    pub size: usize,
    /// Scale of the sum of squares (attribute `alpha`, default 1e-4; ONNX divides it by
    /// `size`).
    pub alpha: f32,
    /// Exponent of the divisor (attribute `beta`, default 0.75).
    pub beta: f32,
    /// Additive constant of the divisor (attribute `bias`, default 1.0).
    pub bias: f32,
}

impl LrnAttrs {
    /// The attributes of LRN node `n`, ONNX defaults where absent: `y = x / (bias +
    /// alpha / size · Σ x²)^beta` over the `size` neighbouring channels (spec `Lrn`).
    pub fn parse(n: &Node) -> LrnAttrs {
        LrnAttrs {
            size: n.int("size", 1).max(1) as usize,
            alpha: n.float("alpha", 1e-4),
            beta: n.float("beta", 0.75),
            bias: n.float("bias", 1.0),
        }
    }
}

fn eval_batchnorm(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let f = |i: usize| -> R<_> { Ok(input(ins, i)?.to_f32()) };
    let x = f(0)?;
    let (scale, bias, mean, var) = (f(1)?, f(2)?, f(3)?, f(4)?);
    let eps = epsilon(n);
    let c = channels(&x, &[&scale, &bias, &mean, &var], "BatchNormalization")?;
    let mut y = x.clone();
    for ch in 0..c {
        let k = scale[[ch]] / (var[[ch]] + eps).sqrt();
        let b = bias[[ch]] - mean[[ch]] * k;
        y.index_axis_mut(Axis(1), ch).mapv_inplace(|v| v * k + b);
    }
    Ok(vec![Value::Float(y)])
}

fn eval_lrn(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?.to_f32();
    let LrnAttrs { size, alpha, beta, bias } = LrnAttrs::parse(n);
    if x.ndim() < 2 {
        return Err("LRN needs rank ≥ 2".into());
    }
    let ch = x.shape()[1];
    // each element sums the squares of up to `size` channels
    super::check_work(&[x.len(), size.min(ch)], "LRN")?;
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
    Ok(vec![Value::Float(y)])
}

fn eval_instancenorm(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?.to_f32();
    let (scale, bias) = (input(ins, 1)?.to_f32(), input(ins, 2)?.to_f32());
    let eps = epsilon(n);
    channels(&x, &[&scale, &bias], "InstanceNormalization")?;
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
    Ok(vec![Value::Float(y)])
}

/// The channel count of `x` (axis 1), once every per-channel parameter is checked to be a
/// vector of that length.
fn channels(x: &ndarray::ArrayD<f32>, params: &[&ndarray::ArrayD<f32>], op: &str) -> R<usize> {
    let c = *x.shape().get(1).ok_or_else(|| format!("{op} needs an input of rank ≥ 2, got {:?}", x.shape()))?;
    if let Some(p) = params.iter().find(|p| p.shape() != [c]) {
        return Err(format!("{op} parameters of shape {:?} for {c} channels", p.shape()));
    }
    Ok(c)
}

/// The constant input `k` as a vector.
fn const_vec(l: &Lowering<'_>, n: &Node, k: usize, what: &'static str) -> R<Vec<f32>> {
    l.const_value(n.input(k)).map(|v| v.to_f32().iter().copied().collect::<Vec<f32>>()).ok_or_else(|| what.to_string())
}

fn lower_batchnorm(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let get = |k: usize| const_vec(l, n, k, "BatchNormalization parameters must be constants");
    let (s, b, m, v) = (get(1)?, get(2)?, get(3)?, get(4)?);
    let eps = epsilon(n) as f64;
    let fs: Vec<Box<dyn Fn(f64) -> f64>> = (0..s.len())
        .map(|c| {
            let k = s[c] as f64 / (v[c] as f64 + eps).sqrt();
            let (bb, mm) = (b[c] as f64, m[c] as f64);
            Box::new(move |x: f64| (x - mm) * k + bb) as Box<dyn Fn(f64) -> f64>
        })
        .collect();
    l.channel_lut(n, n.input(0).ok_or("input 0 missing")?, n.outputs[0], 1, &fs)
}

fn lower_instancenorm(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let xt = n.input(0).ok_or("input 0 missing")?;
    let x = l.id(xt)?;
    let get = |k: usize| const_vec(l, n, k, "InstanceNormalization scale and bias must be constants");
    let (gamma, beta) = (get(1)?, get(2)?);
    let shape = g.shape(xt).to_vec();
    let plane: usize = shape[2..].iter().product();
    let y = n.outputs[0];
    let (qi, qo) = (l.quant(x), l.range_quant(y)?);
    let q16 = |v: f32| ((v as f64 / qo.scale as f64) * 65536.0).round().clamp(-(2f64.powi(36)), 2f64.powi(36)) as i64;
    let eps = epsilon(n) as f64;
    let epsilon_term = (eps * (plane * plane) as f64 / (qi.scale as f64 * qi.scale as f64)).round().clamp(0.0, 2f64.powi(53)) as i64;
    let inn = solidml_spec::InstanceNorm {
        input_zero_point: qi.zero_point,
        output_zero_point: qo.zero_point,
        epsilon_term,
        gamma_q16: gamma.iter().map(|&v| q16(v)).collect(),
        beta_q16: beta.iter().map(|&v| q16(v)).collect(),
    };
    let o = l.out(y, qo);
    l.emit(&n.name, Op::InstanceNorm(inn), vec![x], vec![o]);
    Ok(())
}

fn lower_lrn(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let xt = n.input(0).ok_or("input 0 missing")?;
    let x = l.id(xt)?;
    let a = LrnAttrs::parse(n);
    let size = a.size as u32;
    let (alpha, beta, bias) = (a.alpha as f64, a.beta as f64, a.bias as f64);
    let y = n.outputs[0];
    let (qi, qo) = (l.quant(x), l.range_quant(y)?);
    let q_max = size as u64 * 255 * 255;
    let sum_shift = (0..=40).find(|&s| q_max >> s < 1024).unwrap_or(40);
    let s_in = qi.scale as f64;
    let factors: Vec<i32> = (0..=(q_max >> sum_shift))
        .map(|b| {
            let centre = ((b << sum_shift) as f64) + (((1u64 << sum_shift) - 1) as f64) / 2.0;
            (65536.0 * (bias + alpha / size as f64 * s_in * s_in * centre).powf(-beta)).round()
        })
        .map(|f| {
            if f.is_finite() && f <= (1 << 23) as f64 {
                Ok(f as i32)
            } else {
                Err("LRN factor out of range (bias too small for this input scale)".to_string())
            }
        })
        .collect::<R<_>>()?;
    let lrn = solidml_spec::Lrn {
        size,
        input_zero_point: qi.zero_point,
        output_zero_point: qo.zero_point,
        sum_shift,
        factors,
        multiplier: multiplier(s_in / (65536.0 * qo.scale as f64))?,
    };
    let o = l.out(y, qo);
    l.emit(&n.name, Op::Lrn(lrn), vec![x], vec![o]);
    Ok(())
}
