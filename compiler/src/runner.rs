//! Running a compiled model on real-valued data: quantize the inputs by the spec's IO rules,
//! run the CPU reference executor, dequantize the outputs.

use ndarray::{ArrayD, IxDyn};
use solidml_cpu::CpuExecutor;
use solidml_exec::Value;
use solidml_spec::{Model, io};

use crate::error::{CompileError, Result};

/// One output of one sample, real-valued (dequantized) or integer.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// A dequantized int8 output.
    Float(ArrayD<f32>),
    /// An integer output (labels, indices).
    Int(ArrayD<i64>),
}

impl Output {
    /// The elements as `f32`.
    pub fn to_f32(&self) -> ArrayD<f32> {
        match self {
            Output::Float(a) => a.clone(),
            Output::Int(a) => a.mapv(|v| v as f32),
        }
    }
}

/// Quantize one sample of one input (per element with [`Model::input_element_quant`]: the
/// tensor's quantization, or its per-axis input quantization).
pub fn quantize_input(model: &Model, index: usize, x: &ArrayD<f32>) -> Value {
    let quant = model.input_element_quant(index);
    let t = model.tensor(model.inputs[index]);
    match t.dtype.code_range() {
        Some(range) => Value::from_codes(
            t.dtype,
            x.iter().enumerate().map(|(i, &v)| quant(i).map_or(0, |q| io::quantize_f32_in(v, q.scale, q.zero_point, range))),
        ),
        None => Value::I64(x.iter().map(|&v| v as i64).collect()),
    }
}

/// How many values of one sample of input `index` saturate when quantized: a real value whose
/// code `round(x / scale) + zero_point` falls outside the input type's code range (`[-128, 127]`
/// for int8; infinities included) is
/// clamped to the nearest end of the input's range, so the model sees another value. NaN is
/// not counted (it quantizes to the zero point), nor are integer inputs (not quantized).
pub fn count_saturated(model: &Model, index: usize, x: &ArrayD<f32>) -> usize {
    // per element: the tensor's quantization or its per-axis input quantization
    let quant = model.input_element_quant(index);
    let Some((lo, hi)) = model.tensor(model.inputs[index]).dtype.code_range() else { return 0 };
    x.iter()
        .enumerate()
        .filter(|&(i, &v)| {
            let Some(q) = quant(i) else { return false };
            let code = (v as f64 / q.scale as f64).round_ties_even() + q.zero_point as f64;
            !(lo as f64..=hi as f64).contains(&code) && !code.is_nan()
        })
        .count()
}

/// The real range input `index` represents, `[(lo − zp) · scale, (hi − zp) · scale]` for the
/// code range `[lo, hi]` of its type
/// (`None` for an integer input, or one quantized per axis: a range per index).
pub fn input_range(model: &Model, index: usize) -> Option<(f32, f32)> {
    if model.input_quant_of(index).is_some() {
        return None;
    }
    let t = model.tensor(model.inputs[index]);
    let (q, (lo, hi)) = (t.quant?, t.dtype.code_range()?);
    Some((io::dequantize_f32(lo as i32, q.scale, q.zero_point), io::dequantize_f32(hi as i32, q.scale, q.zero_point)))
}

/// Dequantize one output value (or pass integers through).
pub fn dequantize_output(model: &Model, index: usize, v: &Value) -> Output {
    let t = model.tensor(model.outputs[index]);
    let shape: Vec<usize> = t.shape.iter().map(|&d| d as usize).collect();
    let codes = || (0..v.len()).filter_map(|i| v.code(i));
    match (t.quant, v) {
        (_, Value::I64(a)) => Output::Int(ArrayD::from_shape_vec(IxDyn(&shape), a.clone()).unwrap()),
        (Some(qp), _) => Output::Float(
            ArrayD::from_shape_vec(IxDyn(&shape), codes().map(|x| io::dequantize_f32(x, qp.scale, qp.zero_point)).collect()).unwrap(),
        ),
        (None, _) => Output::Int(ArrayD::from_shape_vec(IxDyn(&shape), codes().map(|x| x as i64).collect()).unwrap()),
    }
}

/// The model's input shapes.
pub fn input_shapes(model: &Model) -> Vec<Vec<usize>> {
    model.inputs.iter().map(|&i| model.tensor(i).shape.iter().map(|&d| d as usize).collect()).collect()
}

/// Split each input array into samples (see [`crate::calibrate::split_batch`]) and zip them.
pub fn samples(shapes: &[Vec<usize>], arrays: &[ArrayD<f32>]) -> Result<Vec<Vec<ArrayD<f32>>>> {
    if arrays.len() != shapes.len() {
        return Err(CompileError::Calibration(format!("the model takes {} input(s), {} given", shapes.len(), arrays.len())));
    }
    let per: Vec<Vec<ArrayD<f32>>> = arrays.iter().zip(shapes).map(|(a, s)| crate::calibrate::split_batch(a, s)).collect::<Result<_>>()?;
    let n = per[0].len();
    if per.iter().any(|p| p.len() != n) {
        return Err(CompileError::Calibration("inputs hold different numbers of samples".into()));
    }
    Ok((0..n).map(|i| per.iter().map(|p| p[i].clone()).collect()).collect())
}

/// Run every sample: per sample, the raw integer outputs and the dequantized ones.
pub fn run_samples(model: &Model, samples: &[Vec<ArrayD<f32>>]) -> Result<Vec<(Vec<Value>, Vec<Output>)>> {
    let exec = CpuExecutor::new(model)?;
    run_samples_with(model, samples, |ins| exec.run(ins).map_err(|e| e.to_string()))
}

/// [`run_samples`] with another executor (`solidml run --backend`): `run` takes the quantized
/// inputs of one sample and returns its raw outputs.
pub fn run_samples_with(
    model: &Model,
    samples: &[Vec<ArrayD<f32>>],
    mut run: impl FnMut(&[Value]) -> Result<Vec<Value>, String>,
) -> Result<Vec<(Vec<Value>, Vec<Output>)>> {
    samples
        .iter()
        .map(|s| {
            let ins: Vec<Value> = s.iter().enumerate().map(|(i, x)| quantize_input(model, i, x)).collect();
            let raw = run(&ins).map_err(CompileError::Executor)?;
            let deq = raw.iter().enumerate().map(|(i, v)| dequantize_output(model, i, v)).collect();
            Ok((raw, deq))
        })
        .collect()
}

/// What a pure-EVM `predict(int256[])` takes and returns for one sample: the inputs as
/// 18-decimal fixed point, quantized by the fixed-point rule, and the outputs dequantized to
/// 18-decimal fixed point (integer outputs as plain integers).
pub struct FixedRun {
    /// Per input, the 18-decimal fixed-point values `predict` takes.
    pub inputs: Vec<Vec<i128>>,
    /// Per output, the values `predict` returns.
    pub outputs: Vec<Vec<i128>>,
}

/// Run one sample as a pure-EVM `predict` would (see [`FixedRun`]).
pub fn run_fixed(model: &Model, sample: &[ArrayD<f32>]) -> Result<FixedRun> {
    let exec = CpuExecutor::new(model)?;
    let fixed: Vec<Vec<i128>> = sample.iter().map(|x| x.iter().map(|&v| io::f32_to_fixed18(v)).collect()).collect();
    let ins: Vec<Value> = fixed
        .iter()
        .zip(&model.inputs)
        .enumerate()
        .map(|(position, (xs, &id))| {
            let quant = model.input_element_quant(position);
            let t = model.tensor(id);
            match t.dtype.code_range() {
                Some(range) => Value::from_codes(
                    t.dtype,
                    xs.iter().enumerate().map(|(i, &x)| quant(i).map_or(0, |q| io::quantize_fixed18_in(x, q.scale, q.zero_point, range))),
                ),
                None => Value::I64(xs.iter().map(|&x| (x / io::FIXED18_ONE) as i64).collect()),
            }
        })
        .collect();
    let outs = exec.run(&ins)?;
    let outputs = outs
        .iter()
        .zip(&model.outputs)
        .map(|(v, &id)| match (v, model.tensor(id).quant) {
            (Value::I64(v), _) => v.iter().map(|&x| x as i128).collect(),
            (codes, Some(qp)) => {
                (0..codes.len()).filter_map(|i| codes.code(i)).map(|x| io::dequantize_fixed18(x, qp.scale, qp.zero_point)).collect()
            }
            (codes, None) => (0..codes.len()).filter_map(|i| codes.code(i)).map(|x| x as i128).collect(),
        })
        .collect();
    Ok(FixedRun { inputs: fixed, outputs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use solidml_spec::{Quant, TensorInfo};

    #[test]
    fn saturated_inputs_are_those_whose_code_leaves_int8() {
        // scale 1/255, zero point -128: [0, 1] is representable
        let unit = Quant { scale: 1.0 / 255.0, zero_point: -128 };
        let quant = Some(unit);
        let model = Model {
            name: "m".into(),
            tensors: vec![TensorInfo { name: "x".into(), shape: vec![1, 6], dtype: solidml_spec::DType::I8, quant }],
            constants: vec![],
            inputs: vec![0],
            outputs: vec![0],
            nodes: vec![],
            input_quant: vec![],
        };
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 6]), vec![0.0, 1.0, 1.001, -0.5, f32::INFINITY, f32::NAN]).unwrap();
        // 1.001 still rounds to 127; -0.5 and +inf saturate; NaN quantizes to the zero point
        assert_eq!(count_saturated(&model, 0, &x), 2);
        let (lo, hi) = input_range(&model, 0).unwrap();
        assert!(lo == 0.0 && (hi - 1.0).abs() < 1e-6, "{lo} {hi}");
        // per-axis input parameters: each element against its own feature's range
        let mut per_axis = model.clone();
        let wide = Quant { scale: 1.0, zero_point: 0 };
        per_axis.input_quant = vec![solidml_spec::InputQuant { input: 0, axis: 1, params: vec![unit, wide, wide, wide, wide, wide] }];
        // 1.001, -0.5 within [-128, 127]; +inf saturates; element 0 (0.0) fits feature 0
        assert_eq!(count_saturated(&per_axis, 0, &x), 1);
        assert_eq!(input_range(&per_axis, 0), None);
    }
}
