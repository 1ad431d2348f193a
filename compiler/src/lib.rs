//! # solidml-compiler
//!
//! ONNX in, exact int8 model out, as a pipeline of small stages (tract's shape):
//!
//! 1. [`onnx`] — load the protobuf into the typed graph IR ([`ir`]);
//! 2. [`passes`] — shape inference, constant folding, BatchNormalization folding, activation
//!    fusion, identity and dead-node removal, `ai.onnx.ml` expansion;
//! 3. [`calibrate`] — activation ranges from calibration data, by the float interpreter
//!    ([`float`]);
//! 4. [`quantize`] — lowering to the operator set of the arithmetic contract
//!    ([`solidml_spec::Model`]), which the artifact stores and every executor runs.
//!
//! Every ONNX op the compiler imports is an entry of the op registry ([`ops`]), grouped in
//! families that parse their attributes once and hold the op's float semantics (stages 2 and
//! 3) and its lowering (stage 4); the registry is also the supported-op list checked after
//! loading. [`eval`] compares the result with tract's float execution of the original model.

pub mod calibrate;
pub mod error;
pub mod eval;
pub mod float;
pub mod ir;
pub mod npy;
pub mod onnx;
pub mod ops;
pub mod passes;
pub mod quantize;
pub mod runner;

use std::path::Path;

use ndarray::{ArrayD, IxDyn};

pub use error::{CompileError, UnsupportedNode};

/// What users need: `use solidml_compiler::prelude::*`.
pub mod prelude {
    pub use crate::{CompileOptions, Compiled, compile, error::CompileError, runner::Output};
    pub use solidml_spec::{Model, ModelId};
}

/// Options of [`compile`], with `with_*` builders.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// The model's name (default: the file stem).
    pub name: Option<String>,
    /// One array per model input, samples along the first axis.
    pub calibration: Option<Vec<ArrayD<f32>>>,
    /// How ranges are chosen from the calibration data (default: min/max).
    pub calibration_method: calibrate::CalibrationMethod,
    /// Activation and weight precision (default: int8).
    pub precision: Precision,
}

/// Activation and weight precision of the compiled model (`solidml compile --precision`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// int8 activations and weights everywhere.
    #[default]
    Int8,
    /// TFLite's 16x8 around the dense layers: int16 activations between them, weights within
    /// the int8 range, exact i64 accumulation (spec `DenseWide`); a regression output a dense
    /// layer writes stays at the accumulator's precision (int32). Every other op stays int8.
    Int16,
    /// As [`Precision::Int16`], with int16 weights in the dense layers.
    Int16x16,
}

impl Precision {
    /// The largest weight code of a dense layer at this precision (127, or 32767 for 16x16).
    pub fn weight_max(self) -> f32 {
        if self == Precision::Int16x16 { 32767.0 } else { 127.0 }
    }
}

impl CompileOptions {
    /// Name the model.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// Calibrate on `data`: one array per model input, samples along the first axis.
    pub fn with_calibration(mut self, data: Vec<ArrayD<f32>>) -> Self {
        self.calibration = Some(data);
        self
    }
    /// Compile at `precision` ([`Precision`]).
    pub fn with_precision(mut self, precision: Precision) -> Self {
        self.precision = precision;
        self
    }
    /// Choose ranges by `method` ([`calibrate::CalibrationMethod`]).
    pub fn with_calibration_method(mut self, method: calibrate::CalibrationMethod) -> Self {
        self.calibration_method = method;
        self
    }
}

/// The result of [`compile`].
pub struct Compiled {
    /// The quantized model.
    pub model: solidml_spec::Model,
    /// Its canonical artifact (`NAME.smodel`).
    pub artifact: Vec<u8>,
    /// `keccak256(artifact)`.
    pub model_id: solidml_spec::ModelId,
    /// Things the user should know (e.g. no calibration data).
    pub warnings: Vec<String>,
    /// Calibration samples used.
    pub calibration_samples: usize,
    /// Class labels of the outputs that a ZipMap produced (`(output name, labels)`): the
    /// output is the probabilities tensor, its columns in this label order.
    pub class_labels: Vec<(String, Vec<String>)>,
}

/// Number of synthetic samples used when no calibration data is given (fewer for inputs of
/// more than 2^23 values, [`synthetic_count`]).
pub const SYNTHETIC_SAMPLES: usize = 32;

/// How many synthetic samples inputs of `shapes` get: [`SYNTHETIC_SAMPLES`], or fewer (at
/// least one) so that all of them together hold at most `MAX_TENSOR_ELEMENTS` values: every
/// sample is allocated before calibration starts, and 32 copies of an input at the element
/// cap would be 32 GiB.
fn synthetic_count(shapes: &[Vec<usize>]) -> usize {
    let per_sample: usize = shapes.iter().map(|s| s.iter().product::<usize>()).fold(0, usize::saturating_add);
    (solidml_spec::validate::MAX_TENSOR_ELEMENTS / per_sample.max(1)).clamp(1, SYNTHETIC_SAMPLES)
}

/// Compile an ONNX file.
pub fn compile(path: &Path, opts: &CompileOptions) -> Result<Compiled, CompileError> {
    let mut g = onnx::load(path)?;
    let name =
        opts.name.clone().unwrap_or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "model".into()));
    compile_graph(&mut g, &name, opts)
}

/// Compile an imported graph.
pub fn compile_graph(g: &mut ir::Graph, name: &str, opts: &CompileOptions) -> Result<Compiled, CompileError> {
    let unsupported = ops::unsupported_nodes(g);
    if !unsupported.is_empty() {
        return Err(CompileError::Unsupported(unsupported));
    }
    // ZipMap's labels, recorded before the passes rewrite the graph (the node itself becomes a View)
    let class_labels: Vec<(String, Vec<String>)> = g
        .nodes
        .iter()
        .filter(|n| n.domain == "ai.onnx.ml" && n.op == "ZipMap")
        .filter_map(|n| {
            let at = g.outputs.iter().position(|&t| t == n.outputs[0])?;
            Some((g.output_names[at].clone(), ops::ml::zip_map_labels(n)?))
        })
        .collect();
    passes::run_all(g)?;
    if opts.precision != Precision::Int8 {
        // int8 weights bound 16x8's error: a one-output layer's weights all made ±127
        passes::equalize_dense::run(g);
    }
    let shapes: Vec<Vec<usize>> = g.inputs.iter().map(|&t| g.shape(t).to_vec()).collect();
    let mut warnings = vec![];
    let synthetic = opts.calibration.is_none();
    // non-finite calibration values never reach a range (calibrate skips them): say how many,
    // and refuse data with no finite value at all
    if let Some(data) = &opts.calibration {
        for (i, x) in data.iter().enumerate() {
            let bad = x.iter().filter(|v| !v.is_finite()).count();
            let input = g.inputs.get(i).map_or_else(|| format!("#{i}"), |&t| format!("`{}`", g.tensors[t].name));
            if bad > 0 && bad == x.len() {
                return Err(CompileError::Calibration(format!("calibration input {input}: all {bad} values are NaN or infinite")));
            }
            if bad > 0 {
                warnings.push(format!(
                    "calibration input {input}: {bad} of {} values are NaN or infinite; they are left out of the ranges",
                    x.len()
                ));
            }
            if let Some(why) = outlier(x) {
                return Err(CompileError::Calibration(format!(
                    "calibration input {input}: {why}; min/max calibration would stretch every range to it and erase the other values (remove or clip it)"
                )));
            }
        }
    }
    let samples: Vec<Vec<ir::Value>> = match &opts.calibration {
        Some(data) => runner::samples(&shapes, data)?.into_iter().map(|s| s.into_iter().map(ir::Value::Float).collect()).collect(),
        None => synthetic_samples(&shapes, synthetic_count(&shapes)),
    };
    if samples.is_empty() {
        return Err(CompileError::Calibration("the calibration data holds no sample".into()));
    }
    let ranges = calibrate::calibrate_with(g, &samples, opts.calibration_method)?;
    let (model, used_ranges) = quantize::quantize(g, &ranges, name, opts.precision)?;
    if synthetic && used_ranges {
        warnings.push(format!(
            "no calibration data given (--calibration X.npy): activation ranges come from {} synthetic samples uniform in [-1, 1], which rarely match real inputs; expect poor accuracy",
            samples.len()
        ));
    }
    let artifact = solidml_spec::encode(&model)?;
    let model_id = solidml_spec::keccak256(&artifact);
    Ok(Compiled { model, artifact, model_id, warnings, calibration_samples: samples.len(), class_labels })
}

/// An outlier of a calibration array: a finite value more than 1,000 times larger in magnitude
/// than the 99.9th percentile of the magnitudes (a single 3e38 among pixel values took the
/// digits MLP from 99.1% to 9.9% agreement, silently). Named by its sample and position.
fn outlier(x: &ndarray::ArrayD<f32>) -> Option<String> {
    let mut mags: Vec<f32> = x.iter().filter(|v| v.is_finite()).map(|v| v.abs()).collect();
    if mags.len() < 2 {
        return None;
    }
    let k = ((mags.len() - 1) as f64 * 0.999).floor() as usize;
    let (_, p999, _) = mags.select_nth_unstable_by(k, f32::total_cmp);
    let p999 = *p999;
    let (at, &worst) = x.iter().enumerate().filter(|(_, v)| v.is_finite()).max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))?;
    if p999 > 0.0 && worst.abs() > 1000.0 * p999 {
        let per = x.shape().iter().skip(1).product::<usize>().max(1);
        return Some(format!(
            "the value {worst:e} (sample {}, element {}) is over 1,000× the 99.9th percentile of the magnitudes ({p999:e})",
            at / per,
            at % per
        ));
    }
    None
}

fn synthetic_samples(shapes: &[Vec<usize>], count: usize) -> Vec<Vec<ir::Value>> {
    let mut state = 0x9E37_79B9u32;
    (0..count)
        .map(|_| {
            shapes
                .iter()
                .map(|s| {
                    let n: usize = s.iter().product();
                    let v: Vec<f32> = (0..n)
                        .map(|_| {
                            state ^= state << 13;
                            state ^= state >> 17;
                            state ^= state << 5;
                            (state as f64 / u32::MAX as f64 * 2.0 - 1.0) as f32
                        })
                        .collect();
                    ir::Value::Float(ArrayD::from_shape_vec(IxDyn(s), v).unwrap())
                })
                .collect()
        })
        .collect()
}
