//! The `ai.onnx.ml` operators that scikit-learn's linear models and MLPs export through
//! skl2onnx: float semantics here, lowering in [`crate::quantize`].

use ndarray::{Array2, ArrayD, Axis, IxDyn};

use crate::ir::{Attr, Node, Value};

/// Coefficients `[targets, features]`, intercepts `[targets]` and class labels of a
/// LinearClassifier / LinearRegressor.
pub struct Linear {
    pub weights: Array2<f32>,
    pub intercepts: Vec<f32>,
    pub labels: Option<Vec<i64>>,
    pub post_transform: String,
}

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

/// Scores after the post transform.
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

pub fn eval_linear(n: &Node, x: &ArrayD<f32>) -> Result<Vec<Value>, String> {
    let x2 = crate::float::to2d(x.clone())?;
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

/// Normalizer: rows scaled to unit MAX, L1 or L2 norm.
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
