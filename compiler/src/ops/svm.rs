//! `ai.onnx.ml` support vector machines, `SVMClassifier` and `SVMRegressor` (as skl2onnx writes
//! scikit-learn's SVC, NuSVC, SVR, NuSVR and OneClassSVM), with onnxruntime's float semantics
//! (`svmclassifier.cc`, `svmregressor.cc`), and `RbfKernel` (domain `solidml`), the
//! compiler-internal op their RBF kernels lower through.
//!
//! **Float semantics.** For rows `x` (`[N, F]`) and support vectors `sv_v` (`[V, F]`), with
//! `kernel_params = [γ, c₀, d]`, the kernel `k_v(x)` is LINEAR `x·sv_v`, POLY
//! `(γ·x·sv_v + c₀)^d`, SIGMOID `tanh(γ·x·sv_v + c₀)` or RBF `exp(−γ·Σ_f (x_f − sv_vf)²)` (the sum
//! in `f32`, feature by feature).
//!
//! * SVMRegressor ([`Regressor`]): `y = Σ_v coefficients_v·k_v(x) + rho₀`, `[N, 1]`; with
//!   `one_class`, `y > 0 ? 1 : −1`. With `n_supports = 0` (the liblinear form)
//!   `y = x·coefficients + rho₀`. onnxruntime ignores `post_transform`; anything but NONE is
//!   refused (the ONNX specification applies it).
//! * SVMClassifier ([`Classifier`]), classes `0..C` (`classlabels_ints`), `vectors_per_class`
//!   support vectors each in class order, `coefficients` `[C − 1, V]`: each pair `i < j`, in the
//!   order (0,1), (0,2), …, (0,C−1), (1,2), …, has the decision
//!   `D_ij = Σ_{v ∈ i} coef[j − 1, v]·k_v + Σ_{v ∈ j} coef[i, v]·k_v + rho_ij` (products in
//!   `f32`, summed in `f64`): [`Classifier::weights`] holds it as one dense `[P, V]` matrix
//!   (zeros for the other classes' vectors), `P = C(C − 1)/2`. `D_ij > 0` is a vote for `i`,
//!   else for `j`; the label is the class with the most votes (the first on ties). The scores
//!   (output 1): for `C > 2` the post-transformed decisions `[N, P]`; for `C = 2` `[−D, D]`
//!   with NONE and `[1 − D, D]` with any other transform (onnxruntime then applies none); with
//!   `prob_a`/`prob_b` (Platt scaling) the pairwise probabilities
//!   `r_ij = clamp(1 − σ(a_ij·D_ij + b_ij), 10⁻⁷, 1 − 10⁻⁷)`, `r_ji = 1 − r_ij`, coupled into
//!   `C` class probabilities by libsvm's iterative `multiclass_probability` (in `f32`), then the
//!   post transform; the label still comes from the votes. With no support vectors (the
//!   liblinear form) the scores are `x·coefficientsᵀ + rho₀` per class and the label is their
//!   arg max (two classes: onnxruntime's thresholds, [`Classifier::eval`]).
//!
//! [`crate::passes::expand_svm`] rewrites both into core ops before calibration; the RBF
//! kernel `K = exp(−γ·|x − sv|²)` (`[N, V]`) stays one `RbfKernel` node, lowered here exactly up
//! to two roundings:
//!
//! 1. with `x`'s int8 quantization `(s, z)` and `a_f = q_f − z ∈ [−255, 255]`, the squares
//!    `a_f² ≤ 65025` are tabulated exactly as two int8 codes, `⌊a²/256⌋ − 128` and
//!    `(a² mod 256) − 128` (two Luts); a Concat `[q, high, low]` (`[N, 3F]`, one quantization);
//! 2. a DenseWide with int16 weights and an exact i64 accumulator gives
//!    `acc_v = −L·(Σ_f a_f² − 2 Σ_f a_f·u_vf + Σ_f u_vf²)` with `u_vf = sv_vf / s` (the support
//!    vector in input steps): weights `−256L` and `−L` on the two square codes (their offsets
//!    in the bias), `round(2L·u_vf)` on `q`, bias `−round(L·Σ u²)`; `L ≤ 127` is the largest
//!    integer keeping every weight within ±32767. So `acc_v = −L·|x − sv_v|²/s²` up to the
//!    rounding of the support vectors to `1/(2L)` input steps;
//! 3. one multiplier `γ·s²/(L·s_e)` requantizes `acc_v` to the exponent `e = −γ·|x − sv|²` at
//!    the fixed int8 quantization of `[E_LO, 0]` (scale `−E_LO/255`, zero point 127): farther
//!    vectors saturate at `E_LO`, where `exp(E_LO)` is under half a step of `K`;
//! 4. a Lut `exp(e)` into `K`'s fixed quantization (scale 1/255, zero point −128, so 0 and 1
//!    are exact).
//!
//! The only roundings are `e`'s (±0.0123: ±1.2% of a kernel value) and `K`'s (±1/510).
//! Summing `|x|²` and `x·sv` apart and adding the two int8 results instead loses the small
//! distances that matter most to their cancellation (breast-cancer SVC: mean |ΔD| 0.106, 3
//! labels of 569 off, against 0.022 and none here, `tests/svm.rs`).

use ndarray::{Array2, ArrayD, IxDyn};
use solidml_spec::{DType, DenseWide, Lut, Op, Quant, arith::Multiplier};

use super::{OpDef, R, input};
use crate::{
    float::to2d,
    ir::{Attr, Graph, Node, Value},
    quantize::{Lowering, lut_table},
};

const ML: &str = "ai.onnx.ml";

/// The domain of the compiler-internal ops (no ONNX file is expected to hold them).
pub const INTERNAL: &str = "solidml";

pub(crate) const OPS: &[OpDef] = &[
    OpDef::folded(ML, "SVMClassifier", Some(eval_classifier_node), "passes::expand_svm"),
    OpDef::folded(ML, "SVMRegressor", Some(eval_regressor_node), "passes::expand_svm"),
    OpDef::new(INTERNAL, "RbfKernel", eval_rbf_node, lower_rbf),
];

/// The lowest exponent `e = −γ·|x − sv|²` the RBF lowering represents: `exp(E_LO) ≈ 0.00193`
/// rounds to the kernel code of 0 (half a step is `1/510 ≈ 0.00196`).
pub const E_LO: f32 = -6.25;

/// The fixed quantization of the RBF exponent: `[E_LO, 0]`, 0 exact (code 127).
pub const EXPONENT_QUANT: Quant = Quant { scale: -E_LO / 255.0, zero_point: 127 };

/// The fixed quantization of a kernel value in `[0, 1]`: both ends exact.
pub const KERNEL_QUANT: Quant = Quant { scale: 1.0 / 255.0, zero_point: -128 };

/// `kernel_type` with its `kernel_params`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kernel {
    /// `x·sv`.
    Linear,
    /// `(γ·x·sv + c₀)^d`.
    Poly {
        /// `γ`.
        gamma: f32,
        /// `c₀`.
        coef0: f32,
        /// `d`.
        degree: f32,
    },
    /// `exp(−γ·|x − sv|²)`.
    Rbf {
        /// `γ`.
        gamma: f32,
    },
    /// `tanh(γ·x·sv + c₀)`.
    Sigmoid {
        /// `γ`.
        gamma: f32,
        /// `c₀`.
        coef0: f32,
    },
}

/// `v^d` as onnxruntime computes it (a square and a cube by products).
fn power(v: f32, d: f32) -> f32 {
    if d == 2.0 {
        v * v
    } else if d == 3.0 {
        v * v * v
    } else {
        v.powf(d)
    }
}

impl Kernel {
    /// The kernel of node `n` (`kernel_type`, default LINEAR; `kernel_params`, none or three).
    pub fn from_node(n: &Node) -> R<Kernel> {
        let params = n.floats("kernel_params").unwrap_or_default();
        let (gamma, coef0, degree) = match params.as_slice() {
            [] => (0.0, 0.0, 0.0),
            [g, c, d] => (*g, *c, *d),
            p => return Err(format!("kernel_params holds {} values, not 3 ([gamma, coef0, degree])", p.len())),
        };
        Ok(match n.str("kernel_type", "LINEAR").as_str() {
            "LINEAR" => Kernel::Linear,
            "POLY" => Kernel::Poly { gamma, coef0, degree },
            "RBF" => Kernel::Rbf { gamma },
            "SIGMOID" => Kernel::Sigmoid { gamma, coef0 },
            other => return Err(format!("kernel_type {other} is not one of LINEAR, POLY, RBF, SIGMOID")),
        })
    }

    /// The kernel of a row and a support vector, in `f32` as onnxruntime computes it.
    pub fn apply(&self, x: &[f32], sv: &[f32]) -> f32 {
        let dot = || x.iter().zip(sv).fold(0f32, |s, (a, b)| s + a * b);
        match *self {
            Kernel::Linear => dot(),
            Kernel::Poly { gamma, coef0, degree } => power(gamma * dot() + coef0, degree),
            Kernel::Sigmoid { gamma, coef0 } => (gamma * dot() + coef0).tanh(),
            Kernel::Rbf { gamma } => {
                let sum = x.iter().zip(sv).fold(0f32, |s, (a, b)| {
                    let d = a - b;
                    s + d * d
                });
                (-gamma * sum).exp()
            }
        }
    }

    /// `k(x_n, sv_v)` for every row and support vector: `[N, V]`.
    pub fn matrix(&self, x: &Array2<f32>, sv: &Array2<f32>) -> R<Array2<f32>> {
        super::check_work(&[x.nrows(), sv.nrows(), x.ncols()], "the SVM kernel")?;
        let x = x.as_standard_layout();
        let sv = sv.as_standard_layout();
        let (xs, ss) = (x.as_slice().unwrap(), sv.as_slice().unwrap());
        let f = x.ncols();
        Ok(Array2::from_shape_fn((x.nrows(), sv.nrows()), |(i, v)| self.apply(&xs[i * f..(i + 1) * f], &ss[v * f..(v + 1) * f])))
    }
}

/// The rows of input `x` as a matrix (`[F]` is one row), checked to have `features` columns.
fn rows(x: &ArrayD<f32>, features: usize) -> R<Array2<f32>> {
    if x.ndim() > 2 {
        return Err(format!("X of shape {:?}: an SVM takes [N, F] or [F]", x.shape()));
    }
    let m = to2d(x.clone())?;
    if m.ncols() != features {
        return Err(format!("X has {} features, the support vectors or coefficients {features}", m.ncols()));
    }
    Ok(m)
}

/// The support vectors `[count, F]` of node `n` (attribute `support_vectors`).
fn support_vectors(n: &Node, count: usize) -> R<Array2<f32>> {
    let sv = n.floats("support_vectors").unwrap_or_default();
    if count == 0 || sv.is_empty() || !sv.len().is_multiple_of(count) {
        return Err(format!("{} support_vectors values do not split into {count} vectors", sv.len()));
    }
    Array2::from_shape_vec((count, sv.len() / count), sv).map_err(|e| e.to_string())
}

/// A non-empty `FLOATS` attribute.
fn required_floats(n: &Node, k: &str) -> R<Vec<f32>> {
    match n.floats(k) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(format!("attribute {k} missing or empty")),
    }
}

/// SVMRegressor's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Regressor {
    /// The kernel (LINEAR in the liblinear form).
    pub kernel: Kernel,
    /// `[V, F]`; `None` in the liblinear form (`n_supports = 0`).
    pub support: Option<Array2<f32>>,
    /// `V` dual coefficients, or `F` weights in the liblinear form.
    pub coefficients: Vec<f32>,
    /// `rho[0]`.
    pub rho: f32,
    /// `one_class`: the sign of the decision, `±1`.
    pub one_class: bool,
}

impl Regressor {
    /// The parameters of SVMRegressor node `n`.
    pub fn from_node(n: &Node) -> R<Regressor> {
        let post = n.str("post_transform", "NONE");
        if post != "NONE" {
            return Err(format!(
                "post_transform {post} is not supported: onnxruntime ignores it, the ONNX specification applies it (NONE only)"
            ));
        }
        let count = n.int("n_supports", 0);
        let count = usize::try_from(count).map_err(|_| format!("n_supports {count} is negative"))?;
        let coefficients = required_floats(n, "coefficients")?;
        let rho = required_floats(n, "rho")?[0];
        let one_class = n.int("one_class", 0) != 0;
        if count == 0 {
            return Ok(Regressor { kernel: Kernel::Linear, support: None, coefficients, rho, one_class });
        }
        let support = support_vectors(n, count)?;
        if coefficients.len() < count {
            return Err(format!("{} coefficients for {count} support vectors", coefficients.len()));
        }
        Ok(Regressor {
            kernel: Kernel::from_node(n)?,
            support: Some(support),
            coefficients: coefficients[..count].to_vec(),
            rho,
            one_class,
        })
    }

    /// The number of features `F`.
    pub fn features(&self) -> usize {
        self.support.as_ref().map_or(self.coefficients.len(), |s| s.ncols())
    }

    /// The predictions `[N, 1]` for rows `x`.
    pub fn eval(&self, x: &ArrayD<f32>) -> R<Array2<f32>> {
        let x = rows(x, self.features())?;
        let k = match &self.support {
            Some(sv) => self.kernel.matrix(&x, sv)?,
            None => x,
        };
        Ok(Array2::from_shape_fn((k.nrows(), 1), |(i, _)| {
            let y = k.row(i).iter().zip(&self.coefficients).fold(0f32, |s, (a, b)| s + a * b) + self.rho;
            if !self.one_class {
                y
            } else if y > 0.0 {
                1.0
            } else {
                -1.0
            }
        }))
    }
}

/// The pairs `(i, j)`, `i < j`, of `classes` classes in onnxruntime's order.
pub fn pairs(classes: usize) -> Vec<(usize, usize)> {
    (0..classes).flat_map(|i| (i + 1..classes).map(move |j| (i, j))).collect()
}

/// SVMClassifier's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Classifier {
    /// The kernel (LINEAR in the liblinear form).
    pub kernel: Kernel,
    /// `[V, F]`; `None` in the liblinear form (no `vectors_per_class`).
    pub support: Option<Array2<f32>>,
    /// With support vectors: the decision weights `[P, V]` of the pairs ([`pairs`]) over the
    /// kernel values; liblinear form: `[C, F]`, one row per class over the features.
    pub weights: Array2<f32>,
    /// One bias per row of `weights` (`rho₀` repeated in the liblinear form).
    pub rho: Vec<f32>,
    /// `classlabels_ints`, one per class.
    pub labels: Vec<i64>,
    /// `prob_a`, `prob_b` per pair (Platt scaling), when given.
    pub prob: Option<(Vec<f32>, Vec<f32>)>,
    /// `post_transform`.
    pub post: String,
    /// Whether every coefficient is `≥ 0` (onnxruntime's two-class liblinear label rule).
    pub positive: bool,
}

impl Classifier {
    /// The parameters of SVMClassifier node `n`.
    pub fn from_node(n: &Node) -> R<Classifier> {
        // onnxruntime reads classlabels_strings first
        if matches!(n.attr("classlabels_strings"), Some(Attr::Strs(s)) if !s.is_empty()) {
            return Err("string class labels are not supported (integer labels only: no string tensors)".into());
        }
        let labels = match n.attr("classlabels_ints") {
            Some(Attr::Ints(v)) => v.clone(),
            _ => return Err("attribute classlabels_ints missing".into()),
        };
        let classes = labels.len();
        if classes < 2 {
            return Err(format!("{classes} class labels: a classifier needs at least 2"));
        }
        let per_class: Vec<usize> = n
            .ints("vectors_per_class")
            .unwrap_or_default()
            .iter()
            .map(|&c| usize::try_from(c).map_err(|_| format!("vectors_per_class holds {c}")))
            .collect::<R<_>>()?;
        let count: usize = per_class.iter().sum();
        let coefficients = required_floats(n, "coefficients")?;
        let rho = required_floats(n, "rho")?;
        let (a, b) = (n.floats("prob_a").unwrap_or_default(), n.floats("prob_b").unwrap_or_default());
        if a.len() != b.len() {
            return Err(format!("{} prob_a values but {} prob_b", a.len(), b.len()));
        }
        let positive = coefficients.iter().all(|&c| c >= 0.0);
        let post = n.str("post_transform", "NONE");
        let prob = (!a.is_empty()).then_some((a, b));
        if count == 0 {
            // the liblinear form: one row of coefficients per class
            if !coefficients.len().is_multiple_of(classes) {
                return Err(format!("{} coefficients do not split into {classes} class rows", coefficients.len()));
            }
            let weights = Array2::from_shape_vec((classes, coefficients.len() / classes), coefficients).map_err(|e| e.to_string())?;
            return Ok(Classifier {
                kernel: Kernel::Linear,
                support: None,
                weights,
                rho: vec![rho[0]; classes],
                labels,
                prob,
                post,
                positive,
            });
        }
        if per_class.len() != classes {
            return Err(format!("vectors_per_class has {} entries for {classes} classes", per_class.len()));
        }
        let support = support_vectors(n, count)?;
        let pairs = pairs(classes);
        if coefficients.len() < (classes - 1) * count {
            return Err(format!("{} coefficients, fewer than (classes − 1) · vectors = {}", coefficients.len(), (classes - 1) * count));
        }
        if rho.len() < pairs.len() {
            return Err(format!("{} rho values for {} class pairs", rho.len(), pairs.len()));
        }
        if prob.as_ref().is_some_and(|(a, _)| a.len() < pairs.len()) {
            return Err(format!("prob_a and prob_b need one value per class pair ({})", pairs.len()));
        }
        let start: Vec<usize> = per_class.iter().scan(0, |s, &c| Some(std::mem::replace(s, *s + c))).collect();
        let mut weights = Array2::zeros((pairs.len(), count));
        for (p, &(i, j)) in pairs.iter().enumerate() {
            for v in start[i]..start[i] + per_class[i] {
                weights[[p, v]] = coefficients[(j - 1) * count + v];
            }
            for v in start[j]..start[j] + per_class[j] {
                weights[[p, v]] = coefficients[i * count + v];
            }
        }
        Ok(Classifier {
            kernel: Kernel::from_node(n)?,
            support: Some(support),
            weights,
            rho: rho[..pairs.len()].to_vec(),
            labels,
            prob: prob.map(|(a, b)| (a[..pairs.len()].to_vec(), b[..pairs.len()].to_vec())),
            post,
            positive,
        })
    }

    /// The number of classes `C`.
    pub fn classes(&self) -> usize {
        self.labels.len()
    }

    /// The number of features `F`.
    pub fn features(&self) -> usize {
        self.support.as_ref().map_or(self.weights.ncols(), |s| s.ncols())
    }

    /// The decision values `[N, P]` (or the liblinear scores `[N, C]`) of rows `x`, summed in
    /// `f64` as onnxruntime does (its order: the weights are zero outside the pair's classes).
    pub fn decisions(&self, x: &ArrayD<f32>) -> R<Array2<f64>> {
        let x = rows(x, self.features())?;
        let Some(sv) = &self.support else {
            let s = x.dot(&self.weights.t());
            return Ok(Array2::from_shape_fn(s.dim(), |(i, c)| (s[[i, c]] + self.rho[c]) as f64));
        };
        let k = self.kernel.matrix(&x, sv)?;
        Ok(Array2::from_shape_fn((x.nrows(), self.weights.nrows()), |(i, p)| {
            let sum = k.row(i).iter().zip(self.weights.row(p)).fold(0f64, |s, (a, b)| s + (a * b) as f64);
            sum + self.rho[p] as f64
        }))
    }

    /// The labels `[N]` and scores of rows `x` (module docs).
    pub fn eval(&self, x: &ArrayD<f32>) -> R<(Vec<i64>, Array2<f32>)> {
        let d = self.decisions(x)?;
        let classes = self.classes();
        let mut labels = Vec::with_capacity(d.nrows());
        let mut scores = vec![];
        for row in d.rows() {
            let decisions: Vec<f32> = row.iter().map(|&v| v as f32).collect();
            if self.support.is_none() {
                let best = first_max(&decisions);
                let top = decisions[best];
                labels.push(if classes != 2 || self.prob.is_some() {
                    self.labels[best]
                } else if (self.positive && top >= 0.5) || (!self.positive && top > 0.0) {
                    self.labels[1]
                } else {
                    self.labels[best]
                });
                let mut s = decisions;
                transform(&self.post, &mut s)?;
                scores.push(s);
                continue;
            }
            let mut votes = vec![0i64; classes];
            for (&v, &(i, j)) in row.iter().zip(&pairs(classes)) {
                votes[if v > 0.0 { i } else { j }] += 1;
            }
            labels.push(self.labels[first_max(&votes)]);
            scores.push(match &self.prob {
                Some((a, b)) => {
                    let mut r = vec![0f32; classes * classes];
                    for (p, &(i, j)) in pairs(classes).iter().enumerate() {
                        let v = (1.0 - logistic(decisions[p] * a[p] + b[p])).clamp(1.0e-7, 1.0 - 1.0e-7);
                        r[i * classes + j] = v;
                        r[j * classes + i] = 1.0 - v;
                    }
                    let mut p = multiclass_probability(classes, &r);
                    transform(&self.post, &mut p)?;
                    p
                }
                None if classes > 2 => {
                    let mut s = decisions;
                    transform(&self.post, &mut s)?;
                    s
                }
                None => match self.post.as_str() {
                    "NONE" => vec![-decisions[0], decisions[0]],
                    "PROBIT" => return Err("post_transform PROBIT of a two-class SVM writes one score of two".into()),
                    _ => vec![1.0 - decisions[0], decisions[0]],
                },
            });
        }
        let cols = scores.first().map_or(0, |s| s.len());
        Ok((labels, Array2::from_shape_vec((scores.len(), cols), scores.concat()).map_err(|e| e.to_string())?))
    }
}

/// The index of the first largest value.
fn first_max<T: PartialOrd + Copy>(v: &[T]) -> usize {
    (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b })
}

/// onnxruntime's `ComputeLogistic`.
fn logistic(v: f32) -> f32 {
    let e = 1.0 / (1.0 + (-v.abs()).exp());
    if v < 0.0 { 1.0 - e } else { e }
}

/// onnxruntime's `ErfInv` (a closed-form approximation, with its 3.14159).
#[allow(clippy::approx_constant)]
fn erf_inv(x: f32) -> f32 {
    let sgn = if x < 0.0 { -1.0 } else { 1.0 };
    let x = (1.0 - x) * (1.0 + x);
    let log = x.ln();
    let v = 2.0 / (3.14159f32 * 0.147) + 0.5 * log;
    let v2 = 1.0 / 0.147f32 * log;
    sgn * (-v + (v * v - v2).sqrt()).sqrt()
}

/// onnxruntime's post transform of one row of two or more scores, in place.
pub fn transform(kind: &str, s: &mut [f32]) -> R<()> {
    match kind {
        "NONE" => {}
        "LOGISTIC" => s.iter_mut().for_each(|v| *v = logistic(*v)),
        "PROBIT" => s.iter_mut().for_each(|v| *v = std::f32::consts::SQRT_2 * erf_inv(2.0 * *v - 1.0)),
        "SOFTMAX" | "SOFTMAX_ZERO" => {
            let max = s.iter().fold(-f32::MAX, |m, &v| if v > m { v } else { m });
            let zero = kind == "SOFTMAX_ZERO";
            let mut sum = 0f32;
            for v in s.iter_mut() {
                if zero && v.abs() <= 1.0e-7 {
                    *v *= (-max).exp();
                } else {
                    *v = (*v - max).exp();
                    sum += *v;
                }
            }
            s.iter_mut().for_each(|v| *v /= sum);
        }
        other => return Err(format!("post_transform {other} is not one of NONE, LOGISTIC, SOFTMAX, SOFTMAX_ZERO, PROBIT")),
    }
    Ok(())
}

/// libsvm's pairwise coupling as onnxruntime computes it (`f32`): the class probabilities from
/// `r[i·k + j]`, the probability of `i` against `j`.
pub fn multiclass_probability(k: usize, r: &[f32]) -> Vec<f32> {
    let mut q = vec![0f32; k * k];
    let mut qp = vec![0f32; k];
    let mut p = vec![1.0 / k as f32; k];
    let eps = 0.005 / k as f32;
    for i in 0..k {
        for j in 0..i {
            q[i * k + i] += r[j * k + i] * r[j * k + i];
            q[i * k + j] = q[j * k + i];
        }
        for j in i + 1..k {
            q[i * k + i] += r[j * k + i] * r[j * k + i];
            q[i * k + j] = -r[j * k + i] * r[i * k + j];
        }
    }
    for _ in 0..100 {
        let mut pqp = 0f32;
        for i in 0..k {
            qp[i] = 0.0;
            for j in 0..k {
                qp[i] += q[i * k + j] * p[j];
            }
            pqp += p[i] * qp[i];
        }
        let max_error = qp.iter().fold(0f32, |m, &v| m.max((v - pqp).abs()));
        if max_error < eps {
            break;
        }
        for i in 0..k {
            let diff = (-qp[i] + pqp) / q[i * k + i];
            p[i] += diff;
            pqp = (pqp + diff * (diff * q[i * k + i] + 2.0 * qp[i])) / (1.0 + diff) / (1.0 + diff);
            for j in 0..k {
                qp[j] = (qp[j] + diff * q[i * k + j]) / (1.0 + diff);
                p[j] /= 1.0 + diff;
            }
        }
    }
    p
}

fn eval_classifier_node(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let (labels, scores) = Classifier::from_node(n)?.eval(&input(ins, 0)?.to_f32())?;
    let count = labels.len();
    Ok(vec![Value::Int(ArrayD::from_shape_vec(IxDyn(&[count]), labels).unwrap()), Value::Float(scores.into_dyn())])
}

fn eval_regressor_node(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    Ok(vec![Value::Float(Regressor::from_node(n)?.eval(&input(ins, 0)?.to_f32())?.into_dyn())])
}

/// RbfKernel's support vectors `[V, F]` (attribute `support_vectors`, `F` the input's
/// features) and `γ` (attribute `gamma`).
pub fn rbf_params(n: &Node, features: usize) -> R<(Array2<f32>, f32)> {
    let sv = n.floats("support_vectors").unwrap_or_default();
    if features == 0 || sv.is_empty() || !sv.len().is_multiple_of(features) {
        return Err(format!("{} support_vectors values do not split into vectors of {features} features", sv.len()));
    }
    let gamma = n.float("gamma", f32::NAN);
    if !gamma.is_finite() {
        return Err("attribute gamma missing or not finite".into());
    }
    Ok((Array2::from_shape_vec((sv.len() / features, features), sv).map_err(|e| e.to_string())?, gamma))
}

fn eval_rbf_node(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?.to_f32();
    let x = rows(&x, *x.shape().last().unwrap_or(&0))?;
    let (sv, gamma) = rbf_params(n, x.ncols())?;
    Ok(vec![Value::Float(Kernel::Rbf { gamma }.matrix(&x, &sv)?.into_dyn())])
}

/// The two int8 codes holding `(q − z)²` exactly for each code `q`: `⌊a²/256⌋ − 128` and
/// `(a² mod 256) − 128`, `a = q − z`.
fn square_tables(z: i32) -> (Vec<i8>, Vec<i8>) {
    (-128i32..=127)
        .map(|q| {
            let a2 = (q - z) * (q - z);
            ((a2 / 256 - 128) as i8, (a2 % 256 - 128) as i8)
        })
        .unzip()
}

/// The DenseWide of step 2 (module docs) over `[q, high, low]` for input quantization `q`:
/// weights `[V, 3F]`, bias `[V]` and the integer `L`.
fn distance_layer(sv: &Array2<f32>, q: Quant) -> R<(Vec<i16>, Vec<i64>, i64)> {
    let (count, features) = sv.dim();
    let s = q.scale as f64;
    let u: Vec<f64> = sv.iter().map(|&v| v as f64 / s).collect();
    let umax = u.iter().fold(0f64, |m, v| m.max(v.abs()));
    if !umax.is_finite() {
        return Err("a support vector is not finite".into());
    }
    let l = if umax == 0.0 { 127 } else { (32767.0 / (2.0 * umax)).floor().min(127.0) as i64 };
    if l < 1 {
        return Err(format!(
            "a support vector lies {umax:.0} input steps from zero, past what int16 weights reach (16383): the input's calibrated range is far narrower than the support vectors'"
        ));
    }
    let z = q.zero_point as i64;
    let (mut weights, mut bias) = (Vec::with_capacity(count * 3 * features), Vec::with_capacity(count));
    for v in 0..count {
        let row = &u[v * features..(v + 1) * features];
        weights.extend(row.iter().map(|&u| (2.0 * l as f64 * u).round() as i16));
        weights.extend(std::iter::repeat_n((-256 * l) as i16, features));
        weights.extend(std::iter::repeat_n(-l as i16, features));
        // the square codes carry the offsets −128 − z (each read minus z): 257·(−128 − z) per feature
        let norm: f64 = row.iter().map(|u| u * u).sum();
        bias.push(l * features as i64 * 257 * (-128 - z) - (l as f64 * norm).round() as i64);
    }
    Ok((weights, bias, l))
}

fn lower_rbf(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let xt = n.input(0).ok_or("input X missing")?;
    let &[batch, features] = g.shape(xt) else {
        return Err(format!("RbfKernel takes [N, F], got {:?}", g.shape(xt)));
    };
    let (sv, gamma) = rbf_params(n, features)?;
    let x = l.id(xt)?;
    if l.model.tensor(x).dtype != DType::I8 {
        return Err("RbfKernel needs an int8 input".into());
    }
    let q = l.quant(x);
    let name = |s: &str| format!("{}.{s}", n.name);
    let (high, low) = square_tables(q.zero_point);
    let mut parts = vec![x];
    for (what, tables) in [("square_high", high), ("square_low", low)] {
        let t = l.tensor(&name(what), &[batch, features], DType::I8, Some(q));
        l.emit(&name(what), Op::Lut(Lut { axis: None, tables }), vec![x], vec![t]);
        parts.push(t);
    }
    let terms = l.tensor(&name("terms"), &[batch, 3 * features], DType::I8, Some(q));
    l.emit(&name("terms"), Op::Concat { axis: 1 }, parts, vec![terms]);
    let (weights, bias, scale) = distance_layer(&sv, q)?;
    let real = gamma as f64 * (q.scale as f64).powi(2) / (scale as f64 * EXPONENT_QUANT.scale as f64);
    let m = crate::quantize::multiplier(real)?;
    if real > 0.0 && m == Multiplier::from_real(0.0) {
        return Err(format!("the requantization multiplier {real:e} of the exponent is too small to represent"));
    }
    let count = sv.nrows();
    let e = l.tensor(&name("exponent"), &[batch, count], DType::I8, Some(EXPONENT_QUANT));
    let d = DenseWide {
        in_features: 3 * features as u32,
        out_features: count as u32,
        input_zero_point: q.zero_point,
        weights,
        bias,
        multipliers: vec![m],
        output_zero_point: EXPONENT_QUANT.zero_point,
        clamp_min: -128,
        clamp_max: 127,
    };
    l.emit(&name("exponent"), Op::DenseWide(d), vec![terms], vec![e]);
    let o = l.out(n.outputs[0], KERNEL_QUANT);
    let tables = lut_table(&|v| v.exp(), EXPONENT_QUANT, KERNEL_QUANT);
    l.emit(&n.name, Op::Lut(Lut { axis: None, tables }), vec![e], vec![o]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CompileOptions, compile_graph, passes::testutil::*};
    use solidml_cpu::CpuExecutor;

    fn ml_node(op: &str, attrs: Vec<(&str, Attr)>) -> Node {
        Node {
            name: op.into(),
            op: op.into(),
            domain: ML.into(),
            attrs: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            inputs: vec![],
            outputs: vec![],
        }
    }

    fn row(v: &[f32]) -> ArrayD<f32> {
        ArrayD::from_shape_vec(IxDyn(&[1, v.len()]), v.to_vec()).unwrap()
    }

    fn close(a: f32, b: f32) {
        assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
    }

    #[test]
    fn kernels_are_computed_as_onnxruntime_does() {
        let (x, sv) = ([1.0f32, 2.0], [0.5f32, -1.0]);
        // x·sv = 0.5 − 2 = −1.5; |x − sv|² = 0.25 + 9 = 9.25
        close(Kernel::Linear.apply(&x, &sv), -1.5);
        close(Kernel::Poly { gamma: 0.5, coef0: 1.0, degree: 3.0 }.apply(&x, &sv), 0.25f32.powi(3));
        close(Kernel::Poly { gamma: 0.5, coef0: 1.0, degree: 2.5 }.apply(&x, &sv), 0.25f32.powf(2.5));
        close(Kernel::Sigmoid { gamma: 2.0, coef0: 0.5 }.apply(&x, &sv), (-2.5f32).tanh());
        close(Kernel::Rbf { gamma: 0.1 }.apply(&x, &sv), (-0.925f32).exp());
        let bad = ml_node("SVMRegressor", vec![("kernel_type", Attr::Str("CUBIC".into()))]);
        assert!(Kernel::from_node(&bad).unwrap_err().contains("CUBIC"));
        let bad = ml_node("SVMRegressor", vec![("kernel_params", Attr::Floats(vec![0.1, 0.0]))]);
        assert!(Kernel::from_node(&bad).unwrap_err().contains("2 values"));
    }

    #[test]
    fn the_regressor_sums_the_dual_coefficients() {
        // two support vectors, linear kernel: y = 2·(x·sv₀) − 1·(x·sv₁) + 0.5
        let mut attrs = vec![
            ("kernel_type", Attr::Str("LINEAR".into())),
            ("n_supports", Attr::Int(2)),
            ("support_vectors", Attr::Floats(vec![1.0, 0.0, 0.0, 1.0])),
            ("coefficients", Attr::Floats(vec![2.0, -1.0])),
            ("rho", Attr::Floats(vec![0.5])),
        ];
        let r = Regressor::from_node(&ml_node("SVMRegressor", attrs.clone())).unwrap();
        assert_eq!(r.eval(&row(&[3.0, 4.0])).unwrap()[[0, 0]], 2.0 * 3.0 - 4.0 + 0.5);
        // one_class: the sign, 0 counting as negative
        attrs.push(("one_class", Attr::Int(1)));
        let r = Regressor::from_node(&ml_node("SVMRegressor", attrs.clone())).unwrap();
        assert_eq!(r.eval(&row(&[3.0, 4.0])).unwrap()[[0, 0]], 1.0);
        assert_eq!(r.eval(&row(&[0.0, 0.5])).unwrap()[[0, 0]], -1.0);
        // the liblinear form: the coefficients are the weights
        let lin = ml_node("SVMRegressor", vec![("coefficients", Attr::Floats(vec![1.5, -2.0])), ("rho", Attr::Floats(vec![1.0]))]);
        assert_eq!(Regressor::from_node(&lin).unwrap().eval(&row(&[2.0, 1.0])).unwrap()[[0, 0]], 2.0);
        // a post transform is read differently by onnxruntime and the specification
        attrs.push(("post_transform", Attr::Str("LOGISTIC".into())));
        assert!(Regressor::from_node(&ml_node("SVMRegressor", attrs)).unwrap_err().contains("ignores it"));
    }

    /// Three classes of 1, 2 and 1 support vectors on a line, linear kernel.
    fn three_classes(more: Vec<(&str, Attr)>) -> Node {
        let mut attrs = vec![
            ("kernel_type", Attr::Str("LINEAR".into())),
            ("classlabels_ints", Attr::Ints(vec![10, 20, 30])),
            ("vectors_per_class", Attr::Ints(vec![1, 2, 1])),
            ("support_vectors", Attr::Floats(vec![-2.0, 0.5, -0.5, 2.0])),
            // rows: [C − 1, V] = 2 × 4
            ("coefficients", Attr::Floats(vec![1.0, -0.5, 0.25, -1.0, 0.5, 2.0, -2.0, -0.75])),
            ("rho", Attr::Floats(vec![0.1, -0.2, 0.3])),
        ];
        attrs.extend(more);
        ml_node("SVMClassifier", attrs)
    }

    #[test]
    fn one_vs_one_decisions_and_votes_follow_onnxruntime() {
        let c = Classifier::from_node(&three_classes(vec![])).unwrap();
        // pair (0,1): class 0's vector with row 0 (j − 1 = 0), class 1's with row 0 (i = 0);
        // (0,2): class 0 with row 1, class 2 with row 0; (1,2): class 1 with row 1, class 2 with row 1
        let want = [[1.0, -0.5, 0.25, 0.0], [0.5, 0.0, 0.0, -1.0], [0.0, 2.0, -2.0, -0.75]];
        for (p, w) in want.iter().enumerate() {
            assert_eq!(c.weights.row(p).to_vec(), w.to_vec(), "pair {p}");
        }
        // x = 1: kernels [−2, 0.5, −0.5, 2]; D = [−2 − 0.25 − 0.125 + 0.1, −1 − 2 − 0.2, 1 + 1 − 1.5 + 0.3]
        let (labels, scores) = c.eval(&row(&[1.0])).unwrap();
        let d = [-2.275f32, -3.2, 0.8];
        for (a, b) in scores.row(0).iter().zip(d) {
            close(*a, b);
        }
        // votes: (0,1) → 1, (0,2) → 2, (1,2) → 1: class 1
        assert_eq!(labels, [20]);
        // x = 0: every kernel 0, D = rho: (0,1) → 0, (0,2) → 2, (1,2) → 1: a three-way tie, the first
        assert_eq!(c.eval(&row(&[0.0])).unwrap().0, [10]);
        // a softmax over the pair decisions
        let c = Classifier::from_node(&three_classes(vec![("post_transform", Attr::Str("SOFTMAX".into()))])).unwrap();
        let s = c.eval(&row(&[1.0])).unwrap().1;
        let e: Vec<f32> = d.iter().map(|v| (v - 0.8).exp()).collect();
        let total: f32 = e.iter().sum();
        for (a, b) in s.row(0).iter().zip(&e) {
            close(*a, b / total);
        }
    }

    fn binary(more: Vec<(&str, Attr)>) -> Classifier {
        let mut attrs = vec![
            ("kernel_type", Attr::Str("RBF".into())),
            ("kernel_params", Attr::Floats(vec![0.5, 0.0, 3.0])),
            ("classlabels_ints", Attr::Ints(vec![0, 1])),
            ("vectors_per_class", Attr::Ints(vec![1, 1])),
            ("support_vectors", Attr::Floats(vec![0.0, 0.0, 1.0, 1.0])),
            ("coefficients", Attr::Floats(vec![1.0, -1.0])),
            ("rho", Attr::Floats(vec![0.0])),
        ];
        attrs.extend(more);
        Classifier::from_node(&ml_node("SVMClassifier", attrs)).unwrap()
    }

    #[test]
    fn two_class_scores_and_probabilities() {
        // x = (0, 0): k = [1, e^−1], D = 1 − e^−1 > 0: a vote for class 0
        let d = 1.0 - (-1.0f32).exp();
        let (labels, s) = binary(vec![]).eval(&row(&[0.0, 0.0])).unwrap();
        assert_eq!(labels, [0]);
        assert_eq!(s.row(0).to_vec(), [-d, d]);
        let (_, s) = binary(vec![("post_transform", Attr::Str("LOGISTIC".into()))]).eval(&row(&[0.0, 0.0])).unwrap();
        assert_eq!(s.row(0).to_vec(), [1.0 - d, d], "no transform for two classes, onnxruntime's [1 − D, D]");
        assert_eq!(binary(vec![]).eval(&row(&[1.0, 1.0])).unwrap().0, [1]);
        // Platt scaling: r = 1 − σ(a·D + b), coupled: about [r, 1 − r]
        let c = binary(vec![("prob_a", Attr::Floats(vec![-2.0])), ("prob_b", Attr::Floats(vec![0.1]))]);
        let (labels, p) = c.eval(&row(&[0.0, 0.0])).unwrap();
        let r = 1.0 - 1.0 / (1.0 + (2.0 * d - 0.1).exp());
        assert_eq!(labels, [0]);
        assert!((p[[0, 0]] - r).abs() < 2e-3 && (p[[0, 1]] - (1.0 - r)).abs() < 2e-3, "{p} vs {r}");
        close(p[[0, 0]] + p[[0, 1]], 1.0);
    }

    #[test]
    fn pairwise_coupling_solves_consistent_pairs_exactly() {
        // r_ij = p_i / (p_i + p_j) for p = (0.5, 0.3, 0.2): the coupling returns p
        let p = [0.5f32, 0.3, 0.2];
        let mut r = vec![0f32; 9];
        for i in 0..3 {
            for j in 0..3 {
                if i != j {
                    r[i * 3 + j] = p[i] / (p[i] + p[j]);
                }
            }
        }
        for (a, b) in multiclass_probability(3, &r).iter().zip(p) {
            assert!((a - b).abs() < 1e-3, "{a} vs {b}");
        }
    }

    #[test]
    fn the_liblinear_form_and_malformed_attributes() {
        // no support vectors: one coefficient row per class, rho₀ for every class
        let lin = |labels: Vec<i64>, coefficients: Vec<f32>| {
            Classifier::from_node(&ml_node(
                "SVMClassifier",
                vec![
                    ("classlabels_ints", Attr::Ints(labels)),
                    ("coefficients", Attr::Floats(coefficients)),
                    ("rho", Attr::Floats(vec![0.25])),
                ],
            ))
            .unwrap()
        };
        let c = lin(vec![1, 2, 3], vec![1.0, 0.0, 0.0, 1.0, -1.0, -1.0]);
        let (labels, s) = c.eval(&row(&[0.5, 2.0])).unwrap();
        assert_eq!((labels, s.row(0).to_vec()), (vec![2], vec![0.75, 2.25, -2.25]));
        // two classes, mixed signs: class 1 as soon as the top score is > 0, else the arg max
        let c = lin(vec![7, 8], vec![1.0, -1.0, -1.0, -1.0]);
        assert_eq!(c.eval(&row(&[0.5, 0.0])).unwrap().0, [8], "scores [0.75, −0.25]: top > 0 → class 1");
        assert_eq!(c.eval(&row(&[0.5, 2.0])).unwrap().0, [7], "scores [−1.25, −2.25]: the arg max");
        assert_eq!(c.eval(&row(&[-0.5, 2.0])).unwrap().0, [8], "scores [−2.25, −1.25]: the arg max");
        // every coefficient ≥ 0: class 1 when the top score is ≥ 0.5, else the arg max
        let c = lin(vec![7, 8], vec![1.0, 0.0, 0.5, 0.0]);
        assert_eq!(c.eval(&row(&[1.0, 0.0])).unwrap().0, [8], "scores [1.25, 0.75]");
        assert_eq!(c.eval(&row(&[-0.4, 0.0])).unwrap().0, [8], "scores [−0.15, 0.05]: the arg max");
        assert_eq!(c.eval(&row(&[0.1, 0.0])).unwrap().0, [7], "scores [0.35, 0.3]: the arg max");
        // malformed
        let e = Classifier::from_node(&three_classes(vec![("vectors_per_class", Attr::Ints(vec![1, 3]))])).unwrap_err();
        assert!(e.contains("2 entries for 3 classes"), "{e}");
        let e = Classifier::from_node(&three_classes(vec![("rho", Attr::Floats(vec![0.1]))])).unwrap_err();
        assert!(e.contains("1 rho values for 3 class pairs"), "{e}");
        let e = Classifier::from_node(&three_classes(vec![("classlabels_strings", Attr::Strs(vec!["a".into()]))])).unwrap_err();
        assert!(e.contains("string class labels"), "{e}");
        let mut n = three_classes(vec![]);
        n.attrs.remove("classlabels_ints");
        n.attrs.insert("classlabels_strings".into(), Attr::Strs(vec!["a".into(), "b".into(), "c".into()]));
        assert!(Classifier::from_node(&n).unwrap_err().contains("string class labels"));
        let e = Classifier::from_node(&three_classes(vec![("support_vectors", Attr::Floats(vec![1.0; 6]))])).unwrap_err();
        assert!(e.contains("do not split into 4 vectors"), "{e}");
    }

    #[test]
    fn square_tables_hold_every_square_exactly() {
        for z in [-128, -70, 0, 45, 127] {
            let (high, low) = square_tables(z);
            for q in -128i32..=127 {
                let i = (q + 128) as usize;
                let back = (high[i] as i32 + 128) * 256 + (low[i] as i32 + 128);
                assert_eq!(back, (q - z) * (q - z), "z {z} q {q}");
            }
        }
    }

    /// `x` `[rows, 3]` → RbfKernel → output, compiled on the calibration data itself.
    fn compiled_rbf(sv: Vec<f32>, gamma: f32, x: &ArrayD<f32>) -> crate::Compiled {
        let mut g = graph(&[("x", x.shape())]);
        let k = g.add_tensor("k", true);
        g.nodes.push(Node {
            name: "rbf".into(),
            op: "RbfKernel".into(),
            domain: INTERNAL.into(),
            attrs: [("support_vectors".to_string(), Attr::Floats(sv)), ("gamma".to_string(), Attr::Float(gamma))].into(),
            inputs: vec![Some(0)],
            outputs: vec![k],
        });
        output(&mut g, k);
        compile_graph(&mut g, "rbf", &CompileOptions::default().with_calibration(vec![x.clone()])).unwrap()
    }

    #[test]
    fn the_lowered_rbf_kernel_is_within_its_two_roundings() {
        // support vectors over the input's range and one outside it
        let sv = vec![0.0, 0.0, 0.0, 1.0, -0.5, 0.25, -2.0, 1.5, 0.75, 3.5, -3.0, 2.0];
        let x: Vec<f32> = (0..64 * 3).map(|i| ((i * 37) % 101) as f32 / 25.0 - 2.0).collect();
        let x = ArrayD::from_shape_vec(IxDyn(&[64, 3]), x).unwrap();
        let gamma = 0.3;
        let c = compiled_rbf(sv.clone(), gamma, &x);
        let m = &c.model;
        let ops: Vec<&str> = m.nodes.iter().map(|n| n.op.kind()).collect();
        assert_eq!(ops, ["Lut", "Lut", "Concat", "DenseWide", "Lut"]);
        let xq = crate::runner::quantize_input(m, 0, &x);
        let got = crate::runner::dequantize_output(m, 0, &CpuExecutor::new(m).unwrap().run(std::slice::from_ref(&xq)).unwrap()[0]).to_f32();
        // against the float kernel of the dequantized input: the exponent's half step (relative)
        // and the kernel's half step, with the support vectors' rounding to 1/(2L) steps
        let q = m.tensor(m.inputs[0]).quant.unwrap();
        let solidml_exec::Value::I8(codes) = &xq else { panic!("int8 input") };
        let xd = Array2::from_shape_vec((64, 3), codes.iter().map(|&c| q.real(c as i32) as f32).collect()).unwrap();
        let sv = Array2::from_shape_vec((4, 3), sv).unwrap();
        let want = Kernel::Rbf { gamma }.matrix(&xd, &sv).unwrap();
        let mut worst = 0f32;
        for (a, b) in got.iter().zip(want.iter()) {
            let bound = if b.ln() < E_LO { 1.0 / 255.0 } else { b * (EXPONENT_QUANT.scale / 2.0 + 1e-3) + 0.5 / 255.0 + 1e-6 };
            assert!((a - b).abs() <= bound, "{a} vs {b}");
            worst = worst.max((a - b).abs());
        }
        assert!(worst > 0.0);
    }
}
