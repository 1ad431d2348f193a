//! The float reference, through tract (an independent ONNX implementation), and the accuracy
//! figures `solidml compile` prints: per output ([`compare`]), the accuracy guard's thresholds
//! ([`guard_failure`]) and, when they are crossed, the float-vs-int8 error of every quantized
//! tensor ([`layer_errors`], as onnxruntime's QDQ debugger's `compute_activation_error`).

use std::collections::HashMap;

use ndarray::{ArrayD, IxDyn};
use solidml_cpu::CpuExecutor;
use solidml_spec::{DType, Model, Op, Quant, io};
use tract_onnx::prelude::*;

use crate::{
    error::{CompileError, Result},
    runner::Output,
};

/// A float model loaded and optimized by tract for one sample of the given input shapes.
pub struct TractModel {
    plan: std::sync::Arc<TypedSimplePlan>,
}

/// tract is a reference we do not control: a panic inside it becomes an error here.
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(CompileError::Tract(format!("tract panicked while {what} the float model"))))
}

impl TractModel {
    /// Load an ONNX file into tract with these input shapes (panics inside tract become errors).
    pub fn load(path: &std::path::Path, input_shapes: &[Vec<usize>]) -> Result<TractModel> {
        guarded("loading", || Self::load_unguarded(path, input_shapes))
    }

    fn load_unguarded(path: &std::path::Path, input_shapes: &[Vec<usize>]) -> Result<TractModel> {
        let err = |e: TractError| CompileError::Tract(format!("{e:#}"));
        // intermediate shape annotations may carry the symbolic batch; facts come from the inputs
        let mut model =
            tract_onnx::onnx().with_ignore_value_info(true).with_ignore_output_shapes(true).model_for_path(path).map_err(err)?;
        for (i, s) in input_shapes.iter().enumerate() {
            model = model.with_input_fact(i, f32::fact(s).into()).map_err(err)?;
        }
        let plan = model.into_optimized().map_err(err)?.into_runnable().map_err(err)?;
        Ok(TractModel { plan })
    }

    /// Run one sample; integer outputs come back as `Output::Int`.
    pub fn run(&self, inputs: &[ArrayD<f32>]) -> Result<Vec<Output>> {
        guarded("running", || self.run_unguarded(inputs))
    }

    fn run_unguarded(&self, inputs: &[ArrayD<f32>]) -> Result<Vec<Output>> {
        let err = |e: TractError| CompileError::Tract(format!("{e:#}"));
        let ins: TVec<TValue> = inputs.iter().map(|a| Tensor::from(a.clone()).into()).collect();
        let outs = self.plan.run(ins).map_err(err)?;
        outs.iter()
            .map(|t| {
                let shape = t.shape().to_vec();
                if t.datum_type().is_float() {
                    let t = t.cast_to::<f32>().map_err(err)?;
                    Ok(Output::Float(t.to_plain_array_view::<f32>().map_err(err)?.to_owned().into_shape_with_order(IxDyn(&shape)).unwrap()))
                } else {
                    let t = t.cast_to::<i64>().map_err(err)?;
                    Ok(Output::Int(t.to_plain_array_view::<i64>().map_err(err)?.to_owned().into_shape_with_order(IxDyn(&shape)).unwrap()))
                }
            })
            .collect()
    }
}

/// The float model `--eval` compares against: tract, an independent ONNX implementation, when
/// it can load the model, else the compiler's own float interpreter (the semantics the
/// quantizer calibrates with, after the graph passes), for the ops tract lacks (`ai.onnx.ml`
/// Scaler, for one).
pub enum FloatReference {
    /// tract's optimized plan.
    Tract(TractModel),
    /// The compiler's interpreter over the imported graph; holds why tract could not be used.
    Interpreter {
        /// The graph after [`crate::passes::run_all`].
        graph: Box<crate::ir::Graph>,
        /// tract's error, for the report.
        tract_error: String,
    },
}

impl FloatReference {
    /// tract if it loads `path` with these input shapes, else the compiler's interpreter.
    pub fn load(path: &std::path::Path, input_shapes: &[Vec<usize>]) -> Result<FloatReference> {
        match TractModel::load(path, input_shapes) {
            Ok(t) => Ok(FloatReference::Tract(t)),
            Err(e) => Self::interpreter(path, e.to_string()),
        }
    }

    /// The compiler's interpreter over `path`, because tract failed with `tract_error` (for
    /// one, when tract loads a model but fails to run it).
    pub fn interpreter(path: &std::path::Path, tract_error: String) -> Result<FloatReference> {
        let mut graph = crate::onnx::load(path)?;
        crate::passes::run_all(&mut graph)?;
        Ok(FloatReference::Interpreter { graph: Box::new(graph), tract_error })
    }

    /// Run every sample; should tract fail on one, the compiler's interpreter runs them all
    /// instead (the reference used is returned with the outputs).
    pub fn run_all(self, path: &std::path::Path, samples: &[Vec<ArrayD<f32>>]) -> Result<(FloatReference, Vec<Vec<Output>>)> {
        let outputs: Result<Vec<Vec<Output>>> = samples.iter().map(|s| self.run(s)).collect();
        match (outputs, &self) {
            (Ok(o), _) => Ok((self, o)),
            (Err(e), FloatReference::Tract(_)) => {
                let reference = Self::interpreter(path, e.to_string())?;
                let o = samples.iter().map(|s| reference.run(s)).collect::<Result<_>>()?;
                Ok((reference, o))
            }
            (Err(e), _) => Err(e),
        }
    }

    /// Which reference this is, in words (printed beside the table).
    pub fn describe(&self) -> String {
        match self {
            FloatReference::Tract(_) => "tract".into(),
            FloatReference::Interpreter { tract_error, .. } => {
                format!("the compiler's float interpreter (tract cannot run this model: {tract_error})")
            }
        }
    }

    /// Run one sample.
    pub fn run(&self, inputs: &[ArrayD<f32>]) -> Result<Vec<Output>> {
        match self {
            FloatReference::Tract(t) => t.run(inputs),
            FloatReference::Interpreter { graph, .. } => {
                let vals = crate::calibrate::run_float(graph, &graph_inputs(graph, inputs))?;
                graph
                    .outputs
                    .iter()
                    .map(|t| match vals.get(t) {
                        Some(crate::ir::Value::Float(a)) => Ok(Output::Float(a.clone())),
                        Some(crate::ir::Value::Int(a)) => Ok(Output::Int(a.clone())),
                        None => Err(CompileError::Tract(format!("the interpreter computed no value for output {t}"))),
                    })
                    .collect()
            }
        }
    }
}

/// One sample as the interpreter takes it: integer graph inputs (indices, an integer model's
/// operands) as integers, the others as floats.
fn graph_inputs(graph: &crate::ir::Graph, inputs: &[ArrayD<f32>]) -> Vec<crate::ir::Value> {
    inputs
        .iter()
        .zip(&graph.inputs)
        .map(
            |(a, &t)| {
                if graph.tensors[t].is_float { crate::ir::Value::Float(a.clone()) } else { crate::ir::Value::Int(a.mapv(|v| v as i64)) }
            },
        )
        .collect()
}

/// Accuracy figures of one model output over an evaluation set.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OutputReport {
    /// The output's name.
    pub name: String,
    /// Samples compared.
    pub samples: usize,
    /// Values of the output per sample.
    pub values: usize,
    /// Fraction of samples whose top-1 (argmax over the last axis, or the integer label)
    /// agrees between the quantized and the float model.
    pub top1_agreement: f64,
    /// Top-1 agreement counting as agreeing the rows where the int8 model's pick scores within
    /// one output quantization step of the float model's in the float model (a tie int8
    /// cannot resolve): for an int8 output whose quantization is known. The guard's figure.
    pub top1_agreement_beyond_ties: Option<f64>,
    /// Largest absolute difference between the dequantized and the float output.
    pub max_abs_error: f64,
    /// Mean absolute difference over every element of every sample.
    pub mean_abs_error: f64,
    /// Accuracies against labels, when labels are given: (quantized, float).
    pub accuracy: Option<(f64, f64)>,
    /// The largest error in steps of the output's quantization (`max_abs_error / scale`), for
    /// an int8 output whose quantization is known ([`compare_quantized`]).
    pub max_error_steps: Option<f64>,
    /// The 99th percentile of the errors of every element of every sample, in steps of the
    /// output's quantization (as `max_error_steps`): the bulk of the error, which one
    /// unlucky sample does not move.
    pub p99_error_steps: Option<f64>,
    /// Whether top-1 agreement holds the accuracy guard to [`GUARD_MIN_AGREEMENT`]: by default
    /// (from the outputs alone) an integer output or one whose last axis holds more than one
    /// value; for a compiled model, an output that holds classes or class scores by
    /// construction ([`class_output`]).
    pub classification: bool,
}

fn top1(o: &Output) -> Vec<i64> {
    match o {
        Output::Int(a) => a.iter().copied().collect(),
        Output::Float(a) => {
            let last = a.shape().last().copied().unwrap_or(1).max(1);
            a.as_standard_layout()
                .as_slice()
                .unwrap()
                .chunks(last)
                .map(|row| {
                    row.iter().enumerate().fold((0usize, f32::NEG_INFINITY), |(bi, bv), (i, &v)| if v > bv { (i, v) } else { (bi, bv) }).0
                        as i64
                })
                .collect()
        }
    }
}

/// Compare per-sample outputs of the quantized (`q`) and float (`f`) models.
pub fn compare(name: &str, q: &[Output], f: &[Output], labels: Option<&[i64]>) -> OutputReport {
    compare_quantized(name, q, f, labels, None)
}

/// [`compare`], with the error also in steps of the output's quantization `quant`.
pub fn compare_quantized(name: &str, q: &[Output], f: &[Output], labels: Option<&[i64]>, quant: Option<Quant>) -> OutputReport {
    let (mut agree, mut total, mut max_err, mut sum_err, mut count) = (0usize, 0usize, 0f64, 0f64, 0usize);
    let (mut acc_q, mut acc_f) = (0usize, 0usize);
    let mut errors: Vec<f64> = vec![];
    let mut ties = 0usize;
    for (s, (a, b)) in q.iter().zip(f).enumerate() {
        let (ta, tb) = (top1(a), top1(b));
        // the float model's scores by row, to tell a near-tie from a real disagreement
        let rows = match (b, quant) {
            (Output::Float(fb), Some(qp)) if matches!(a, Output::Float(_)) => {
                let last = fb.shape().last().copied().unwrap_or(1).max(1);
                Some((fb.as_standard_layout().iter().copied().collect::<Vec<f32>>(), last, qp.scale as f64))
            }
            _ => None,
        };
        for (i, (x, y)) in ta.iter().zip(&tb).enumerate() {
            total += 1;
            agree += (x == y) as usize;
            if let Some((scores, last, step)) = &rows
                && x != y
            {
                let score = |c: i64| scores.get(i * last + c as usize).map_or(f64::NAN, |&v| v as f64);
                ties += (score(*y) - score(*x) <= *step) as usize;
            }
            if let Some(l) = labels.and_then(|l| l.get(s + i)) {
                acc_q += (x == l) as usize;
                acc_f += (y == l) as usize;
            }
        }
        let (fa, fb) = (a.to_f32(), b.to_f32());
        for (x, y) in fa.iter().zip(fb.iter()) {
            let e = (*x as f64 - *y as f64).abs();
            max_err = max_err.max(e);
            sum_err += e;
            errors.push(e);
            count += 1;
        }
    }
    // the 99th percentile, nearest rank (NaN errors, from NaN outputs, sort last)
    let p99 = if errors.is_empty() {
        0.0
    } else {
        let k = ((errors.len() as f64 * 0.99).ceil() as usize).clamp(1, errors.len()) - 1;
        *errors.select_nth_unstable_by(k, f64::total_cmp).1
    };
    let steps = |e: f64| match (q.first(), quant) {
        (Some(Output::Float(_)), Some(qp)) if qp.scale > 0.0 => Some(e / qp.scale as f64),
        _ => None,
    };
    OutputReport {
        name: name.to_string(),
        samples: q.len(),
        values: q.first().map_or(0, |o| o.to_f32().len()),
        top1_agreement: agree as f64 / total.max(1) as f64,
        top1_agreement_beyond_ties: (q.first().is_some_and(|o| matches!(o, Output::Float(_))) && quant.is_some())
            .then(|| (agree + ties) as f64 / total.max(1) as f64),
        max_abs_error: max_err,
        mean_abs_error: sum_err / count.max(1) as f64,
        accuracy: labels.map(|_| (acc_q as f64 / total.max(1) as f64, acc_f as f64 / total.max(1) as f64)),
        max_error_steps: steps(max_err),
        p99_error_steps: steps(p99),
        classification: match q.first() {
            Some(Output::Int(_)) => true,
            Some(Output::Float(a)) => a.shape().last().is_some_and(|&d| d > 1),
            None => false,
        },
    }
}

/// Whether output `index` of `model` holds classes or class scores by construction, so that
/// its top-1 is the model's decision: an integer output (labels, indices), the result of a
/// Softmax, LogSoftmax or L1 Normalize (probabilities), or a tensor an ArgMax reads (views
/// looked through). Other outputs (a Gemm's logits, a scaler's features) are held to the error
/// ceiling alone: the top-1 of a regression vector flips between near-equal values at any
/// precision (an `ai.onnx.ml` Scaler of 4 features: 98.4% "agreement" at 0.9 steps of error).
pub fn class_output(model: &Model, index: usize) -> bool {
    let id = model.outputs[index];
    if model.tensor(id).dtype != DType::I8 {
        return true;
    }
    let producer = |t: u32| model.nodes.iter().find(|n| n.outputs.contains(&t));
    // the tensor a chain of views reads
    let source = |mut t: u32| {
        while let Some(n) = producer(t).filter(|n| matches!(n.op, Op::View(_))) {
            t = n.inputs[0];
        }
        t
    };
    let src = source(id);
    let scores = producer(src).is_some_and(|n| match &n.op {
        Op::Softmax(_) | Op::LogSoftmax(_) => true,
        Op::Normalize(nm) => nm.kind == solidml_spec::NormKind::L1,
        _ => false,
    });
    scores || model.nodes.iter().any(|n| matches!(n.op, Op::ArgMax { .. }) && source(n.inputs[0]) == src)
}

/// The accuracy guard's agreement floor: a class output ([`OutputReport::classification`])
/// whose top-1 agreement with the float model is below this fails the guard, near-ties aside
/// where the output is int8 ([`OutputReport::top1_agreement_beyond_ties`]: on random data, a
/// LogSoftmax of the ONNX backend suite flips 1 row of 10 between scores within one step).
pub const GUARD_MIN_AGREEMENT: f64 = 0.99;

/// The accuracy guard's error ceiling, in steps of an output's quantization: an int8 output
/// the 99th percentile of whose errors ([`OutputReport::p99_error_steps`]) is beyond this fails
/// the guard. The percentile, not the maximum: one unlucky sample of many takes the digits MLP's
/// probabilities 17.7 steps off on its evaluation set at 100% agreement, while the bulk stays
/// within 1 step. Measured (calibration data; evaluation data): digits MLP 1.0; 1.0, digits
/// logistic regression 1.0; 1.0, its one-vs-rest variant 4.6; 5.8 (probabilities divided by
/// their sum), digits CNN 2.7; 2.8, its QDQ variant 1.0; 1.0. A collapsed model is tens of steps
/// off (the digits MLP calibrated with its ranges cut to the central 50%: 84.5% agreement).
pub const GUARD_MAX_STEPS: f64 = 8.0;

/// Calibration samples the guard runs at most (the first ones): it runs on every compile.
pub const GUARD_SAMPLES: usize = 256;

/// Why `r` fails the accuracy guard, in one sentence naming the output; `None` when it passes.
pub fn guard_failure(r: &OutputReport) -> Option<String> {
    let mut why = vec![];
    match r.top1_agreement_beyond_ties {
        _ if !r.classification => {}
        Some(a) if a < GUARD_MIN_AGREEMENT => why.push(format!(
            "top-1 agreement {:.2}% ({:.2}% counting near-ties within one output step as agreeing; below {}%)",
            r.top1_agreement * 100.0,
            a * 100.0,
            GUARD_MIN_AGREEMENT * 100.0
        )),
        None if r.top1_agreement < GUARD_MIN_AGREEMENT => {
            why.push(format!("top-1 agreement {:.2}% (below {}%)", r.top1_agreement * 100.0, GUARD_MIN_AGREEMENT * 100.0))
        }
        _ => {}
    }
    if let Some(steps) = r.p99_error_steps.filter(|&s| s > GUARD_MAX_STEPS) {
        why.push(format!("99th-percentile error {steps:.1} output steps (beyond {GUARD_MAX_STEPS})"));
    }
    // a NaN or infinite error (a NaN output, or a float infinity int8 cannot hold) is no pass:
    // every comparison with NaN is false
    if !r.max_abs_error.is_finite() || !r.mean_abs_error.is_finite() || r.p99_error_steps.is_some_and(f64::is_nan) {
        why.push(format!("errors that are not finite (max |err| {}, mean {})", r.max_abs_error, r.mean_abs_error));
    }
    (!why.is_empty()).then(|| format!("output `{}`: {}", r.name, why.join(", ")))
}

/// The float-vs-int8 error of one int8 tensor of the artifact over the guard's samples: its
/// float value from the compiler's float interpreter, its int8 value from a traced run of the
/// CPU reference executor, dequantized.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LayerError {
    /// The ONNX tensor name.
    pub name: String,
    /// The artifact op that computes it (`input` for a model input).
    pub op: String,
    /// Signal-to-quantization-noise ratio, `10 log10(Σ f² / Σ (f − q)²)` in dB over every
    /// element of every sample (onnxruntime's `compute_activation_error`): the error relative
    /// to the tensor's values, the lower the worse; infinite when exact.
    pub sqnr_db: f64,
    /// Largest `|f − q|`.
    pub max_abs_error: f64,
    /// Largest `|f − q|` in steps of the element's quantization (the tensor's; a model input's
    /// per-axis parameters where it has them).
    pub max_error_steps: f64,
    /// The float values' range over the samples.
    pub float_range: (f32, f32),
    /// The range the tensor's quantization represents.
    pub quant_range: (f32, f32),
    /// Fraction of the float values outside `quant_range` (clipped by quantization).
    pub clipped: f64,
}

/// A tensor whose SQNR is below this many dB, or which clips more than
/// [`LOSSY_CLIPPED`] of its values, has lost much of its information to quantization: the
/// first such tensor in execution order is where a collapse starts ([`first_lossy`]). (Rounding
/// alone keeps an int8 tensor that spans its range near 40 dB; every layer adds some noise.)
pub const LOSSY_SQNR_DB: f64 = 20.0;

/// See [`LOSSY_SQNR_DB`]: the share of clipped values that marks a tensor as lossy.
pub const LOSSY_CLIPPED: f64 = 0.01;

/// The first tensor of `layers` (in execution order, as [`layer_errors`] returns them) that is
/// lossy ([`LOSSY_SQNR_DB`]).
pub fn first_lossy(layers: &[LayerError]) -> Option<&LayerError> {
    layers.iter().find(|l| l.sqnr_db < LOSSY_SQNR_DB || l.clipped > LOSSY_CLIPPED)
}

/// [`LayerError`] of every int8 tensor of `model` that is an ONNX tensor of `onnx` (matched by
/// name, as the compiler names them; inputs included, weights and tensors the lowering adds
/// left out), on `samples`, in execution order (inputs first).
pub fn layer_errors(onnx: &std::path::Path, model: &Model, samples: &[Vec<ArrayD<f32>>]) -> Result<Vec<LayerError>> {
    let mut graph = crate::onnx::load(onnx)?;
    crate::passes::run_all(&mut graph)?;
    // ONNX name -> graph tensor; outputs by the names the artifact gives them
    let mut by_name: HashMap<&str, crate::ir::Tid> = graph.tensors.iter().enumerate().map(|(t, d)| (d.name.as_str(), t)).collect();
    for (name, &t) in graph.output_names.iter().zip(&graph.outputs) {
        by_name.insert(name.as_str(), t);
    }
    let constants: std::collections::HashSet<u32> = model.constants.iter().map(|(id, _)| *id).collect();
    let mut producer: HashMap<u32, &str> = model.inputs.iter().map(|&i| (i, "input")).collect();
    for n in &model.nodes {
        for &o in &n.outputs {
            producer.insert(o, n.op.kind());
        }
    }
    // per artifact tensor: (graph tensor, Σ f², Σ (f − q)², max |f − q|, min f, max f, clipped, count)
    struct Acc {
        tid: crate::ir::Tid,
        signal: f64,
        noise: f64,
        max_err: f64,
        lo: f32,
        hi: f32,
        clipped: usize,
        count: usize,
        max_steps: f64,
    }
    // execution order: the inputs, then each node's outputs
    let mut accs: Vec<(u32, Acc)> = model
        .inputs
        .iter()
        .chain(model.nodes.iter().flat_map(|n| &n.outputs))
        .filter(|&&id| {
            let t = model.tensor(id);
            t.dtype == DType::I8 && t.quant.is_some() && !constants.contains(&id)
        })
        .filter_map(|&id| {
            let tid = *by_name.get(model.tensor(id).name.as_str())?;
            let acc = Acc {
                tid,
                signal: 0.0,
                noise: 0.0,
                max_err: 0.0,
                lo: f32::INFINITY,
                hi: f32::NEG_INFINITY,
                clipped: 0,
                count: 0,
                max_steps: 0.0,
            };
            Some((id, acc))
        })
        .collect();
    let exec = CpuExecutor::new(model)?;
    for s in samples {
        let floats = crate::calibrate::run_float(&graph, &graph_inputs(&graph, s))?;
        let ins: Vec<solidml_exec::Value> = s.iter().enumerate().map(|(i, x)| crate::runner::quantize_input(model, i, x)).collect();
        let (traced, _) = exec.run_traced(&ins)?;
        for (id, acc) in &mut accs {
            let (Some(crate::ir::Value::Float(f)), Some(solidml_exec::Value::I8(q))) = (floats.get(&acc.tid), &traced[*id as usize]) else {
                continue;
            };
            if f.len() != q.len() {
                continue;
            }
            // a model input with a per-axis quantization (a folded Scaler) converts each element
            // by its own parameters: its codes are measured against those
            let tensor_quant = model.tensor(*id).quant.expect("filtered");
            let position = model.inputs.iter().position(|i| i == id);
            let element_quant = position.map(|p| model.input_element_quant(p));
            for (k, (&x, &c)) in f.iter().zip(q).enumerate() {
                if !x.is_finite() {
                    continue;
                }
                let qp = element_quant.as_ref().and_then(|quant_of| quant_of(k)).unwrap_or(tensor_quant);
                let (lo, hi) = (io::dequantize_f32(-128, qp.scale, qp.zero_point), io::dequantize_f32(127, qp.scale, qp.zero_point));
                let d = x as f64 - io::dequantize_f32(c as i32, qp.scale, qp.zero_point) as f64;
                acc.signal += x as f64 * x as f64;
                acc.noise += d * d;
                acc.max_err = acc.max_err.max(d.abs());
                acc.max_steps = acc.max_steps.max(d.abs() / qp.scale as f64);
                acc.lo = acc.lo.min(x);
                acc.hi = acc.hi.max(x);
                acc.clipped += (x < lo - qp.scale / 2.0 || x > hi + qp.scale / 2.0) as usize;
                acc.count += 1;
            }
        }
    }
    let out: Vec<LayerError> = accs
        .into_iter()
        .filter(|(_, a)| a.count > 0)
        .map(|(id, a)| {
            let t = model.tensor(id);
            let qp = t.quant.expect("filtered");
            let sqnr_db = if a.noise == 0.0 { f64::INFINITY } else { 10.0 * (a.signal / a.noise).log10() };
            LayerError {
                name: t.name.clone(),
                op: producer.get(&id).copied().unwrap_or("?").to_string(),
                sqnr_db,
                max_abs_error: a.max_err,
                max_error_steps: a.max_steps,
                float_range: (a.lo, a.hi),
                quant_range: (io::dequantize_f32(-128, qp.scale, qp.zero_point), io::dequantize_f32(127, qp.scale, qp.zero_point)),
                clipped: a.clipped as f64 / a.count as f64,
            }
        })
        .collect();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probs(rows: &[[f32; 3]]) -> Vec<Output> {
        rows.iter().map(|r| Output::Float(ArrayD::from_shape_vec(IxDyn(&[1, 3]), r.to_vec()).unwrap())).collect()
    }

    #[test]
    fn the_guard_checks_agreement_and_the_bulk_of_the_error_in_output_steps() {
        let quant = Some(Quant { scale: 0.01, zero_point: 0 });
        let f = probs(&[[0.1, 0.7, 0.2]; 100]);
        // one sample 0.3 off (30 steps): the maximum moves, the 99th percentile does not
        let mut q = f.clone();
        q[7] = probs(&[[0.1, 0.4, 0.2]])[0].clone();
        let r = compare_quantized("p", &q, &f, None, quant);
        assert!(r.classification && r.top1_agreement == 1.0);
        assert!((r.max_error_steps.unwrap() - 30.0).abs() < 1e-3 && r.p99_error_steps.unwrap() < 1e-3, "{r:?}");
        assert_eq!(guard_failure(&r), None);
        // every sample 0.1 (10 steps) off in one element, 2% with another top class
        let mut q: Vec<Output> = probs(&[[0.2, 0.7, 0.2]; 100]);
        q[0] = probs(&[[0.2, 0.7, 0.75]])[0].clone();
        q[1] = q[0].clone();
        let r = compare_quantized("p", &q, &f, None, quant);
        assert_eq!(
            guard_failure(&r).as_deref(),
            Some(
                "output `p`: top-1 agreement 98.00% (98.00% counting near-ties within one output step as agreeing; below 99%), 99th-percentile error 10.0 output steps (beyond 8)"
            )
        );
        // int8 picking a class the float model scores within one step of its top: a tie
        let f = probs(&[[0.1, 0.7, 0.695]; 50]);
        let mut q = f.clone();
        q[0] = probs(&[[0.1, 0.69, 0.7]])[0].clone();
        let r = compare_quantized("p", &q, &f, None, quant);
        assert!(r.top1_agreement == 0.98 && r.top1_agreement_beyond_ties == Some(1.0) && guard_failure(&r).is_none(), "{r:?}");
        // a single regression value: agreement does not apply
        let one = |v: f32| Output::Float(ArrayD::from_shape_vec(IxDyn(&[1, 1]), vec![v]).unwrap());
        let r = compare_quantized("y", &[one(1.0)], &[one(1.05)], None, quant);
        assert!(!r.classification && guard_failure(&r).is_none(), "{r:?}");
    }
}
