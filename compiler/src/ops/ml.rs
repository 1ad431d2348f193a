//! `ai.onnx.ml`: the operators scikit-learn's linear models and MLPs export through skl2onnx.
//!
//! * LinearClassifier / LinearRegressor ([`linear_params`]): float semantics here; expanded
//!   into core ops by [`crate::passes::expand_ml`] before calibration, never lowered.
//! * Normalizer (`norm`): lowered to spec `Normalize` (L1, L2) with a fixed output
//!   quantization.
//! * Scaler (`offset`, `scale` per feature of the last axis): one table per feature.
//! * ArrayFeatureExtractor: a gather on the last axis, lowered as Gather ([`super::gather`]).
//! * Cast (`cast_to`): removed between real types or between integer types
//!   ([`super::shape`]).
//! * Binarizer (`threshold`): `y = [x > threshold]` (a NaN stays NaN), one table on the codes
//!   whose decision is the float op's on each code's dequantized value, compared in `f32`
//!   ([`binarizer_table`]): exact on the int8 input.
//! * TreeEnsembleRegressor, TreeEnsembleClassifier, TreeEnsemble: [`super::tree`].

use ndarray::{Array2, ArrayD, Axis, IxDyn};
use solidml_spec::{
    DType, Lut, Op, Quant,
    io::{dequantize_f32, quantize_f32},
};

use super::{OpDef, R, input};
use crate::{
    float::{map_value, to2d},
    ir::{Attr, Graph, Node, Tid, Value},
    quantize::Lowering,
};

pub(crate) const OPS: &[OpDef] = &[
    OpDef::new(ML, "ArrayFeatureExtractor", eval_array_feature_extractor, super::gather::lower),
    OpDef::new(ML, "Binarizer", eval_binarizer, lower_binarizer),
    OpDef::new(ML, "Cast", eval_cast, super::shape::lower_reshape),
    OpDef::folded(ML, "LinearClassifier", Some(eval_linear_node), "passes::expand_ml"),
    OpDef::folded(ML, "LinearRegressor", Some(eval_linear_node), "passes::expand_ml"),
    OpDef::new(ML, "Normalizer", eval_normalizer, lower_normalizer),
    OpDef::new(ML, "Scaler", eval_scaler, lower_scaler),
    OpDef::new(ML, "ZipMap", eval_zip_map, super::shape::lower_reshape),
];

/// ZipMap (skl2onnx's default classifier output): the probabilities `[N, C]` as they are. ONNX
/// turns them into a sequence of maps keyed by the class labels; SolidML returns the tensor and
/// the compiler records the labels ([`zip_map_labels`]) for `NAME.json`.
fn eval_zip_map(_: &Graph, _: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = super::input(ins, 0)?;
    if !x.is_float() || x.shape().len() > 2 {
        return Err(format!("ZipMap takes a real tensor of shape [C] or [N, C], got {:?}", x.shape()));
    }
    Ok(vec![x.clone()])
}

/// The class labels of a ZipMap node (`classlabels_int64s` as decimal strings, or
/// `classlabels_strings`), in class order.
pub fn zip_map_labels(n: &Node) -> Option<Vec<String>> {
    if let Some(ints) = n.ints("classlabels_int64s") {
        return Some(ints.iter().map(|i| i.to_string()).collect());
    }
    match n.attr("classlabels_strings") {
        Some(crate::ir::Attr::Strs(s)) => Some(s.clone()),
        _ => None,
    }
}

const ML: &str = "ai.onnx.ml";

/// Coefficients `[targets, features]`, intercepts `[targets]` and class labels of a
/// LinearClassifier / LinearRegressor.
pub struct Linear {
    /// Attribute `coefficients` (row-major, required) as a `[targets, features]` matrix: row
    /// `t` holds the weights of class or target `t`.
    pub weights: Array2<f32>,
    /// Attribute `intercepts`, one per target (all 0 when absent or empty).
    pub intercepts: Vec<f32>,
    /// Attribute `classlabels_ints` (LinearClassifier only; string labels are rejected):
    /// the label of each coefficient row.
    pub labels: Option<Vec<i64>>,
    /// Attribute `post_transform` applied to the scores (default `"NONE"`; see
    /// [`post_transform`]).
    pub post_transform: String,
}

/// The parameters of LinearClassifier / LinearRegressor node `n` for inputs with `features`
/// features (the last axis). An error when the coefficients do not split into rows of
/// `features`, the intercepts do not match the rows, the labels are strings, or a classifier
/// has not one row per class (the one-row binary form is not supported).
pub fn linear_params(n: &Node, features: usize) -> Result<Linear, String> {
    let coef = n.floats("coefficients").ok_or("coefficients missing")?;
    if features == 0 || coef.len() % features != 0 {
        return Err(format!("{} coefficients do not split into rows of {features} features", coef.len()));
    }
    let rows = coef.len() / features;
    let mut intercepts = n.floats("intercepts").unwrap_or_default();
    if intercepts.is_empty() {
        intercepts = vec![0.0; rows];
    }
    if intercepts.len() != rows {
        return Err(format!("{} intercepts for {rows} rows", intercepts.len()));
    }
    let labels = match n.attr("classlabels_ints") {
        Some(Attr::Ints(v)) => Some(v.clone()),
        _ if n.attr("classlabels_strings").is_some() => return Err("string class labels are not supported (integer labels only)".into()),
        _ => None,
    };
    if n.op == "LinearClassifier" {
        let count = labels.as_ref().map_or(0, |l| l.len());
        if count != rows {
            return Err(format!("{rows} coefficient rows for {count} classes (binary classifiers with one row are not supported yet)"));
        }
    }
    Ok(Linear {
        weights: Array2::from_shape_vec((rows, features), coef).map_err(|e| e.to_string())?,
        intercepts,
        labels,
        post_transform: n.str("post_transform", "NONE"),
    })
}

/// Applies the ONNX-ML `post_transform` `kind` to `scores` (`[rows, targets]`) in place:
/// `NONE` leaves them, `LOGISTIC` is the sigmoid of each score, `SOFTMAX` the softmax of each
/// row (max-subtracted); any other kind (`SOFTMAX_ZERO`, `PROBIT`) is an error.
pub fn post_transform(kind: &str, scores: &mut Array2<f32>) -> Result<(), String> {
    match kind {
        "NONE" => {}
        "LOGISTIC" => scores.mapv_inplace(|v| 1.0 / (1.0 + (-v).exp())),
        "SOFTMAX" => {
            for mut row in scores.rows_mut() {
                let m = row.fold(f32::NEG_INFINITY, |a, &b| a.max(b));
                let s: f32 = row.iter().map(|&v| (v - m).exp()).sum();
                row.mapv_inplace(|v| (v - m).exp() / s);
            }
        }
        other => return Err(format!("post_transform {other} is not supported")),
    }
    Ok(())
}

/// Float semantics of LinearClassifier / LinearRegressor node `n` on input `x` (as a matrix:
/// the last axis is the features): `scores = x · Wᵀ + intercepts`. A regressor returns the
/// post-transformed scores `[rows, targets]`; a classifier returns `[labels (i64, [rows]),
/// scores]`, the label of each row being that of its highest raw score (first one on ties),
/// chosen before the post transform.
pub fn eval_linear(n: &Node, x: &ArrayD<f32>) -> Result<Vec<Value>, String> {
    let x2 = to2d(x.clone())?;
    let p = linear_params(n, x2.shape()[1])?;
    let mut scores = x2.dot(&p.weights.t());
    for mut row in scores.rows_mut() {
        for (v, b) in row.iter_mut().zip(&p.intercepts) {
            *v += b;
        }
    }
    if n.op == "LinearRegressor" {
        post_transform(&p.post_transform, &mut scores)?;
        return Ok(vec![Value::Float(scores.into_dyn())]);
    }
    let labels = p.labels.unwrap_or_default();
    let best: Vec<i64> = scores
        .rows()
        .into_iter()
        .map(|r| {
            let mut b = 0;
            for (j, &v) in r.iter().enumerate() {
                if v > r[b] {
                    b = j;
                }
            }
            labels[b]
        })
        .collect();
    post_transform(&p.post_transform, &mut scores)?;
    let n_rows = best.len();
    Ok(vec![Value::Int(ArrayD::from_shape_vec(IxDyn(&[n_rows]), best).unwrap()), Value::Float(scores.into_dyn())])
}

/// Normalizer (attribute `norm`): each lane of the last axis divided by its L1 norm (`"L1"`),
/// its L2 norm (`"L2"`) or, for any other value (`"MAX"`), its largest element floored at 0;
/// a lane whose divisor is 0 is left unchanged.
pub fn normalize(norm: &str, x: &ArrayD<f32>) -> ArrayD<f32> {
    let mut y = x.clone();
    let last = y.ndim() - 1;
    for mut row in y.lanes_mut(Axis(last)) {
        let d = match norm {
            "L1" => row.iter().map(|v| v.abs()).sum::<f32>(),
            "L2" => row.iter().map(|v| v * v).sum::<f32>().sqrt(),
            _ => row.iter().fold(0f32, |a, &b| a.max(b)),
        };
        if d != 0.0 {
            row.mapv_inplace(|v| v / d);
        }
    }
    y
}

fn eval_linear_node(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    eval_linear(n, &input(ins, 0)?.to_f32())
}

fn eval_cast(_: &Graph, _: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    Ok(vec![input(ins, 0)?.clone()])
}

fn eval_normalizer(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    Ok(vec![Value::Float(normalize(&n.str("norm", "MAX"), &to2d(input(ins, 0)?.to_f32())?.into_dyn()))])
}

fn eval_array_feature_extractor(_: &Graph, _: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?;
    let idx: Vec<usize> = input(ins, 1)?.to_i64().iter().map(|&i| i as usize).collect();
    let last = x.shape().len() - 1;
    if idx.iter().any(|&i| i >= x.shape()[last]) {
        return Err("index out of range".into());
    }
    Ok(vec![map_value(x, |a| a.select(Axis(last), &idx), |a| a.select(Axis(last), &idx))])
}

/// Scaler's `offset` and `scale` for feature `j` (one value applies to every feature; missing
/// ones are 0 and 1).
/// Feature `j`'s Scaler parameter: `v`'s only value, its `j`-th, or `default` when absent.
pub(crate) fn scaler_param(v: &[f32], j: usize, default: f32) -> f32 {
    if v.len() == 1 { v[0] } else { *v.get(j).unwrap_or(&default) }
}

fn eval_scaler(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = to2d(input(ins, 0)?.to_f32())?;
    let (off, sc) = (n.floats("offset").unwrap_or_default(), n.floats("scale").unwrap_or_default());
    let mut y = x.clone();
    for (j, mut col) in y.columns_mut().into_iter().enumerate() {
        let (o, s) = (scaler_param(&off, j, 0.0), scaler_param(&sc, j, 1.0));
        col.mapv_inplace(|v| (v - o) * s);
    }
    Ok(vec![Value::Float(y.into_dyn())])
}

/// Binarizer as onnxruntime computes it: 1 where `v > t`, 0 where `v ≤ t`, NaN kept.
fn binarize(v: f32, t: f32) -> f32 {
    if v > t {
        1.0
    } else if v <= t {
        0.0
    } else {
        v
    }
}

fn eval_binarizer(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?;
    if !x.is_float() {
        return Err("Binarizer of an integer tensor is not supported (a real tensor is)".into());
    }
    let t = n.float("threshold", 0.0);
    Ok(vec![map_value(x, |a| a.mapv(|v| binarize(v, t)), |a| a.clone())])
}

/// The Binarizer table from input codes (quantization `qi`) to output codes (`qo`): each code's
/// dequantized `f32` value decided as the float op decides it.
fn binarizer_table(qi: Quant, qo: Quant, t: f32) -> Vec<i8> {
    (-128i32..=127).map(|q| quantize_f32(binarize(dequantize_f32(q, qi.scale, qi.zero_point), t), qo.scale, qo.zero_point)).collect()
}

fn lower_binarizer(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let x = l.id(n.input(0).ok_or("input 0 missing")?)?;
    if l.model.tensor(x).dtype != DType::I8 {
        return Err("Binarizer of an integer tensor is not supported (a real tensor is)".into());
    }
    let (qi, y) = (l.quant(x), n.outputs[0]);
    let qo = l.range_quant(y)?;
    let tables = binarizer_table(qi, qo, n.float("threshold", 0.0));
    let o = l.out(y, qo);
    l.emit(&n.name, Op::Lut(Lut { axis: None, tables }), vec![x], vec![o]);
    Ok(())
}

fn lower_normalizer(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let x = l.id(n.input(0).ok_or("input 0 missing")?)?;
    let kind = match n.str("norm", "MAX").as_str() {
        "L1" => solidml_spec::NormKind::L1,
        "L2" => solidml_spec::NormKind::L2,
        other => return Err(format!("norm {other} is not supported (L1 and L2 are)")),
    };
    let qi = l.quant(x);
    // non-negative inputs give outputs in [0, 1]: scale 1/256, zero point −128;
    // otherwise [−1, 1]: scale 1/128, zero point 0
    let non_negative = qi.zero_point == -128;
    let (scale_log2, zo) = if non_negative { (8, -128) } else { (7, 0) };
    let qo = Quant { scale: 1.0 / (1u32 << scale_log2) as f32, zero_point: zo };
    let o = l.out(n.outputs[0], qo);
    let nm = solidml_spec::Normalize { kind, input_zero_point: qi.zero_point, output_zero_point: zo, scale_log2 };
    l.emit(&n.name, Op::Normalize(nm), vec![x], vec![o]);
    Ok(())
}

/// Whether model input `x` can take its only consumer, a Scaler, into its quantization (spec
/// §IO quantization, per-axis input quantization): the Scaler and its per-feature `(o_j, k_j)`
/// of `y = (x − o_j)·k_j`, or `None` when `x` is read elsewhere, `x` or `y` is a model output
/// (the output would take the input's tensor and name, which the OpenGradient entry matches
/// inputs by), or a `k_j` is not positive. The Scaler then lowers to tables as usual; so it
/// does when [`folded_input_params`] leaves the validated range.
pub(crate) fn fold_input_scaler<'g>(l: &Lowering<'g>, x: Tid) -> Option<(&'g Node, Vec<(f64, f64)>)> {
    let g = l.g;
    let mut readers = g.nodes.iter().filter(|n| n.inputs.contains(&Some(x)));
    let scaler = readers.next()?;
    if readers.next().is_some() || g.outputs.contains(&x) || !g.tensors[x].is_float || scaler.domain != ML || scaler.op != "Scaler" {
        return None;
    }
    if g.outputs.contains(&scaler.outputs[0]) {
        return None;
    }
    let features = *g.shape(x).last()?;
    let (off, sc) = (scaler.floats("offset").unwrap_or_default(), scaler.floats("scale").unwrap_or_default());
    let affine: Vec<(f64, f64)> = (0..features).map(|j| (scaler_param(&off, j, 0.0) as f64, scaler_param(&sc, j, 1.0) as f64)).collect();
    affine.iter().all(|&(o, k)| k > 0.0 && k.is_finite() && o.is_finite()).then_some((scaler, affine))
}

/// The per-feature input parameters that fold `y = (x − o_j)·k_j` quantized by `qy = (s_y,
/// zp_y)`: `zp_y + round(y / s_y) = zp_y − round(o_j·k_j / s_y) + round(x / (s_y / k_j))` up to
/// one rounding, so feature `j` gets scale `s_y / k_j` and zero point `zp_y − round(o_j·k_j /
/// s_y)`: every feature keeps 256 codes over its own standardized range, where one per-tensor
/// scale over raw features spanning 0.05 to 4,254 (breast-cancer data) leaves the small ones a
/// single code.
pub(crate) fn folded_input_params(affine: &[(f64, f64)], qy: Quant) -> Vec<Quant> {
    affine
        .iter()
        .map(|&(o, k)| Quant {
            scale: (qy.scale as f64 / k) as f32,
            zero_point: (qy.zero_point as f64 - (o * k / qy.scale as f64).round_ties_even()).clamp(i32::MIN as f64, i32::MAX as f64) as i32,
        })
        .collect()
}

fn lower_scaler(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let xt = n.input(0).ok_or("input 0 missing")?;
    let (off, sc) = (n.floats("offset").unwrap_or_default(), n.floats("scale").unwrap_or_default());
    let features = *g.shape(xt).last().ok_or("Scaler input rank")?;
    let fs: Vec<Box<dyn Fn(f64) -> f64>> = (0..features)
        .map(|j| {
            let (o, s) = (scaler_param(&off, j, 0.0) as f64, scaler_param(&sc, j, 1.0) as f64);
            Box::new(move |x: f64| (x - o) * s) as Box<dyn Fn(f64) -> f64>
        })
        .collect();
    let axis = g.shape(xt).len() - 1;
    l.channel_lut(n, xt, n.outputs[0], axis, &fs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binarizer_table_decides_each_code_as_the_float_op() {
        let (qi, qo) = (Quant { scale: 0.1, zero_point: 0 }, Quant { scale: 1.0 / 255.0, zero_point: -128 });
        // threshold 0.5: the code 5 stands for 0.5 (not above), 6 for 0.6
        let table = binarizer_table(qi, qo, 0.5);
        for q in -128i32..=127 {
            let want = if q > 5 { 127 } else { -128 };
            assert_eq!(table[(q + 128) as usize], want, "code {q}");
        }
        assert_eq!(binarize(f32::NAN, 0.0).to_bits(), f32::NAN.to_bits());
        assert_eq!((binarize(-0.0, 0.0), binarize(1e-30, 0.0)), (0.0, 1.0));
    }
}
