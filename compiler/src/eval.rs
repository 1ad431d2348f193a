//! The float reference, through tract (an independent ONNX implementation), and the accuracy
//! figures `solidml compile --eval` prints.

use ndarray::{ArrayD, IxDyn};
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
            Err(e) => {
                let mut graph = crate::onnx::load(path)?;
                crate::passes::run_all(&mut graph)?;
                Ok(FloatReference::Interpreter { graph: Box::new(graph), tract_error: e.to_string() })
            }
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
                let ins: Vec<crate::ir::Value> = inputs.iter().map(|a| crate::ir::Value::Float(a.clone())).collect();
                let vals = crate::calibrate::run_float(graph, &ins)?;
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

/// Accuracy figures of one model output over an evaluation set.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OutputReport {
    /// The output's name.
    pub name: String,
    /// Samples compared.
    pub samples: usize,
    /// Fraction of samples whose top-1 (argmax over the last axis, or the integer label)
    /// agrees between the quantized and the float model.
    pub top1_agreement: f64,
    /// Largest absolute difference between the dequantized and the float output.
    pub max_abs_error: f64,
    /// Mean absolute difference over every element of every sample.
    pub mean_abs_error: f64,
    /// Accuracies against labels, when labels are given: (quantized, float).
    pub accuracy: Option<(f64, f64)>,
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
    let (mut agree, mut total, mut max_err, mut sum_err, mut count) = (0usize, 0usize, 0f64, 0f64, 0usize);
    let (mut acc_q, mut acc_f) = (0usize, 0usize);
    for (s, (a, b)) in q.iter().zip(f).enumerate() {
        let (ta, tb) = (top1(a), top1(b));
        for (i, (x, y)) in ta.iter().zip(&tb).enumerate() {
            total += 1;
            agree += (x == y) as usize;
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
            count += 1;
        }
    }
    OutputReport {
        name: name.to_string(),
        samples: q.len(),
        top1_agreement: agree as f64 / total.max(1) as f64,
        max_abs_error: max_err,
        mean_abs_error: sum_err / count.max(1) as f64,
        accuracy: labels.map(|_| (acc_q as f64 / total.max(1) as f64, acc_f as f64 / total.max(1) as f64)),
    }
}
