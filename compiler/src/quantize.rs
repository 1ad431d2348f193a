//! Post-training static quantization: the float IR with calibrated ranges becomes a
//! [`solidml_spec::Model`] (the arithmetic contract).
//!
//! [`quantize`] walks the nodes and lowers each by its entry in the op registry
//! ([`crate::ops`], one lowering per op family); [`Lowering`] is the model under construction
//! with the quantization rules below, which every family's lowering shares.
//!
//! * Activations: per-tensor asymmetric int8, `scale = (max − min) / 255` over the calibrated
//!   range widened to include 0, `zero_point = round(−128 − min / scale)`; ops that only move
//!   data (views, pads, max pooling, concatenation) keep their input's quantization.
//! * Weights: symmetric int8 per output channel (`scale = max|w| / 127`), bias int32 at
//!   `s_in · s_w[c]`, requantization multipliers `s_in · s_w[c] / s_out` in gemmlowp form.
//! * Unary functions and element-wise ops with a constant operand become 256-entry tables
//!   (one per channel when the constant varies along one axis), tabulated ([`lut_table`])
//!   from the float semantics: exact everywhere by construction.
//! * Softmax outputs have scale 1/256 and zero point −128.
//!
//! * Wide precisions ([`Precision::Int16`], TFLite's 16x8, and [`Precision::Int16x16`]): a
//!   tensor between dense layers (every consumer a Gemm/MatMul with constant weights) is int16,
//!   `scale = (max − min) / 65535`, `zero_point = round(−32768 − min / scale)`; those layers
//!   become `DenseWide` with weights within ±127 (±32767 in 16x16) and i64 bias. A model
//!   output a dense layer writes with no fused clamp is its accumulator (int32, scale
//!   `s_in · s_w`, per-tensor weights). Every other tensor stays int8.
//!
//! Every other model output is int8 (dequantized by the runner) or i64 (labels).

use std::{cmp::Ordering, collections::HashMap};

use ndarray::ArrayD;
use solidml_spec::{
    DType, Epilogue, Lut, Model, Node as QNode, Op, Quant, TensorId, TensorInfo, View, arith::Multiplier, io::quantize_f32,
};

use crate::{
    Precision,
    calibrate::Ranges,
    error::{CompileError, Result, UnsupportedNode},
    ir::{Attr, Graph, Node, Tid, Value},
    ops,
};

/// The node attribute that marks a MatMul or Conv whose output is ONNX's exact int32 (the
/// product of zero-point-corrected integers, `passes::qlinear`).
pub const INTEGER_ATTR: &str = "solidml.integer";

/// Quantization of a real range (widened to include 0) as int8 codes.
pub fn quant_from_range(lo: f32, hi: f32) -> Quant {
    quant_from_range_in(lo, hi, (-128, 127))
}

/// Quantization of a real range (widened to include 0) as int16 codes: 65535 steps.
pub fn quant16_from_range(lo: f32, hi: f32) -> Quant {
    quant_from_range_in(lo, hi, (-32768, 32767))
}

/// Quantization of an integer-valued range (ONNX's exact int32 products, MatMulInteger and
/// ConvInteger): int8 codes whose step is a whole number (at least 1), so every integer of a
/// range of at most 256 values keeps its exact code.
pub fn integer_quant_from_range(lo: f32, hi: f32) -> Quant {
    let (lo, hi) = (lo.min(0.0).floor() as f64, hi.max(0.0).ceil() as f64);
    if !lo.is_finite() || !hi.is_finite() {
        return Quant { scale: 1.0, zero_point: 0 };
    }
    let scale = ((hi - lo) / 255.0).ceil().max(1.0);
    let zp = (-128.0 - lo / scale).round().clamp(-128.0, 127.0) as i32;
    Quant { scale: scale as f32, zero_point: zp }
}

/// Quantization of a real range (widened to include 0) onto the codes `min..=max`:
/// `scale = (hi − lo) / (max − min)`, `zero_point = round(min − lo / scale)`.
fn quant_from_range_in(lo: f32, hi: f32, (min, max): (i32, i32)) -> Quant {
    let (lo, hi) = (lo.min(0.0) as f64, hi.max(0.0) as f64);
    // `hi` not strictly above `lo`, incomparable included: a NaN bound also falls back
    if hi.partial_cmp(&lo) != Some(Ordering::Greater) || !lo.is_finite() || !hi.is_finite() {
        return Quant { scale: 1.0, zero_point: 0 };
    }
    let scale = ((hi - lo) / (max - min) as f64) as f32;
    let zp = (min as f64 - lo / scale as f64).round().clamp(min as f64, max as f64) as i32;
    Quant { scale, zero_point: zp }
}

/// The fixed quantization of softmax outputs.
pub const SOFTMAX_QUANT: Quant = Quant { scale: 1.0 / 256.0, zero_point: -128 };

/// Tabulate `f` from one quantization to another.
pub fn lut_table(f: &dyn Fn(f64) -> f64, qin: Quant, qout: Quant) -> Vec<i8> {
    (-128i32..=127)
        .map(|q| {
            let y = f(qin.real(q));
            if y.is_nan() {
                qout.zero_point.clamp(-128, 127) as i8
            } else {
                quantize_f32(y.clamp(-3e38, 3e38) as f32, qout.scale, qout.zero_point)
            }
        })
        .collect()
}

/// The integer model under construction: the lowering functions of [`crate::ops`] add tensors
/// and nodes to it.
pub struct Lowering<'g> {
    pub(crate) g: &'g Graph,
    ranges: &'g Ranges,
    /// Whether any tensor's quantization came from calibrated ranges (not prescribed by QDQ).
    used_ranges: std::cell::Cell<bool>,
    pub(crate) model: Model,
    pub(crate) map: HashMap<Tid, TensorId>,
    /// The precision asked for ([`Precision`]).
    pub(crate) precision: Precision,
}

type R<T> = std::result::Result<T, String>;

/// Quantize a calibrated graph. Also says whether any calibrated range was used (a fully
/// prescribed QDQ model needs none).
pub fn quantize(g: &Graph, ranges: &Ranges, name: &str, precision: Precision) -> Result<(Model, bool)> {
    let unsupported = ops::unsupported_nodes(g);
    if !unsupported.is_empty() {
        return Err(CompileError::Unsupported(unsupported));
    }
    let mut l = Lowering { g, ranges, used_ranges: std::cell::Cell::new(false), model: Model::empty(name), map: HashMap::new(), precision };
    for (position, &t) in g.inputs.iter().enumerate() {
        // a Scaler right after the input moves ahead of quantization: the input's codes are the
        // Scaler's output codes, reached per feature by the input quantization (spec §IO
        // quantization), when every parameter is in the validated range
        let folded = ops::ml::fold_input_scaler(&l, t).and_then(|(scaler, affine)| {
            let y = scaler.outputs[0];
            let qy = l.activation_quant(y).ok()?;
            let params = ops::ml::folded_input_params(&affine, qy.0);
            let valid = |q: &Quant| {
                q.scale.is_finite() && q.scale > 0.0 && q.zero_point.unsigned_abs() <= solidml_spec::MAX_INPUT_ZERO_POINT as u32
            };
            params.iter().all(valid).then_some((y, qy, params))
        });
        let id = if let Some((y, qy, params)) = folded {
            let id = l.tensor(g.name(t), g.shape(t), qy.1, Some(qy.0));
            l.map.insert(y, id);
            let axis = (g.shape(t).len() - 1) as u32;
            l.model.input_quant.push(solidml_spec::InputQuant { input: position as u32, axis, params });
            id
        } else if let Some((y, q, input_quant)) = ops::qdq::fold_input_quantize(g, t, position) {
            // a QuantizeLinear alone reads the input: its parameters turn the caller's reals
            // into the codes it gives (ops::qdq)
            let id = l.tensor(g.name(t), g.shape(t), DType::I8, Some(q));
            l.map.insert(y, id);
            l.model.input_quant.push(input_quant);
            id
        } else if let Some(q) = ops::elementwise::rounded_input_quant(&l, t) {
            // a Round alone reads the input: scale 1, its quantization rounds as Round does
            l.tensor(g.name(t), g.shape(t), DType::I8, Some(q))
        } else if g.tensors[t].is_float {
            let (q, dtype) = l.activation_quant(t).map_err(CompileError::Calibration)?;
            l.tensor(g.name(t), g.shape(t), dtype, Some(q))
        } else if let Some(q) = ops::qdq::code_input_quant(g, t) {
            // 8-bit integers that DequantizeLinear reads: int8 codes that hold them exactly
            l.tensor(g.name(t), g.shape(t), DType::I8, Some(q))
        } else {
            // integer inputs (indices) stay plain i64
            l.tensor(g.name(t), g.shape(t), DType::I64, None)
        };
        l.model.inputs.push(id);
        l.map.insert(t, id);
    }
    let mut failures = vec![];
    for n in &g.nodes {
        if n.inputs.iter().flatten().any(|t| !g.is_const(*t) && !l.map.contains_key(t)) {
            continue; // depends on a node that already failed
        }
        if n.outputs.iter().all(|t| l.map.contains_key(t)) {
            continue; // folded into the input quantization
        }
        if let Err(reason) = l.lower(n) {
            failures.push(UnsupportedNode {
                name: n.name.clone(),
                op: n.op.clone(),
                domain: n.domain.clone(),
                opset: g.opset,
                reason: Some(reason),
            });
        }
    }
    if !failures.is_empty() {
        return Err(CompileError::Unsupported(failures));
    }
    for (i, &t) in g.outputs.iter().enumerate() {
        let id = match l.map.get(&t) {
            Some(&id) => id,
            // an output the compiler computed itself (Shape, Size, an EyeLike: static shapes):
            // a model constant, and a View of it so that a node writes every model output
            None if g.is_const(t) => {
                let c = ops::gather_elements::data_id(&mut l, t).map_err(CompileError::Calibration)?;
                ops::gather_elements::reshape_view(&mut l, &format!("{}.constant", g.output_names[i]), c, g.shape(t))
            }
            None => return Err(CompileError::Calibration(format!("output `{}` is not computed", g.output_names[i]))),
        };
        l.model.tensors[id as usize].name = g.output_names[i].clone();
        l.model.outputs.push(id);
    }
    solidml_spec::validate::validate(&l.model)?;
    Ok((l.model, l.used_ranges.get()))
}

pub(crate) fn u32s(v: &[usize]) -> Vec<u32> {
    v.iter().map(|&d| d as u32).collect()
}

impl Lowering<'_> {
    pub(crate) fn tensor(&mut self, name: &str, shape: &[usize], dtype: DType, quant: Option<Quant>) -> TensorId {
        self.model.tensors.push(TensorInfo { name: name.to_string(), shape: u32s(shape), dtype, quant });
        (self.model.tensors.len() - 1) as TensorId
    }

    /// The calibrated range of `t` as it came (not widened to hold 0), unless `t` has a
    /// prescribed quantization.
    pub(crate) fn calibrated_range(&self, t: Tid) -> Option<(f32, f32)> {
        if self.g.prescribed.contains_key(&t) {
            return None;
        }
        self.used_ranges.set(true);
        self.ranges.get(&t).copied()
    }

    pub(crate) fn range_quant(&self, t: Tid) -> R<Quant> {
        if let Some(&q) = self.g.prescribed.get(&t) {
            return Ok(q);
        }
        self.used_ranges.set(true);
        let (lo, hi) = self.ranges.get(&t).copied().ok_or_else(|| format!("no calibrated range for tensor `{}`", self.g.name(t)))?;
        Ok(quant_from_range(lo, hi))
    }

    /// The quantization of output `y` of node `n`: [`Lowering::range_quant`], or, for a product
    /// whose output is ONNX's exact int32 (attribute `solidml.integer`, set by
    /// `passes::qlinear` for MatMulInteger and ConvInteger), [`integer_quant_from_range`] over
    /// its calibrated range.
    pub(crate) fn output_quant(&self, n: &Node, y: Tid) -> R<Quant> {
        if n.attr(INTEGER_ATTR).is_none() || self.g.prescribed.contains_key(&y) {
            return self.range_quant(y);
        }
        let (lo, hi) = self.range_of(y)?;
        Ok(integer_quant_from_range(lo, hi))
    }

    /// Whether node `n` lowers to a dense layer at a wide precision: a Gemm or MatMul of a
    /// run-time tensor by a constant matrix (no transposed A), when one is asked for.
    pub(crate) fn is_wide_dense(&self, n: &Node) -> bool {
        self.precision != Precision::Int8
            && (n.op == "MatMul" || n.op == "Gemm" && n.int("transA", 0) == 0)
            && n.domain.is_empty()
            && n.input(0).is_some_and(|a| !self.g.is_const(a))
            && n.input(1).is_some_and(|b| self.g.is_const(b))
    }

    /// Whether IR tensor `t` is an int16 activation: a wide precision is asked for, its range is
    /// calibrated (not prescribed by QDQ), and it feeds only wide dense layers (as input 0), at
    /// least one, and is no model output.
    pub(crate) fn is_wide_tensor(&self, t: Tid) -> bool {
        if self.precision == Precision::Int8 || self.g.prescribed.contains_key(&t) || self.g.outputs.contains(&t) {
            return false;
        }
        let mut consumers = self.g.nodes.iter().filter(|n| n.inputs.contains(&Some(t))).peekable();
        consumers.peek().is_some() && consumers.all(|n| self.is_wide_dense(n) && n.input(0) == Some(t) && n.input(1) != Some(t))
    }

    /// The input of `n` when `n` is a Reshape, Flatten, Squeeze or Unsqueeze whose output has its
    /// input's shape (a no-op on the static shapes).
    pub(crate) fn shape_noop_input(&self, n: &Node) -> Option<Tid> {
        let x = n.input(0)?;
        let same = n.outputs.len() == 1 && self.g.shape(x) == self.g.shape(n.outputs[0]);
        (n.domain.is_empty() && matches!(n.op.as_str(), "Reshape" | "Flatten" | "Squeeze" | "Unsqueeze") && same).then_some(x)
    }

    /// Whether IR tensor `t` reaches a model output and nothing else: it is a model output no
    /// node reads, or its only reader is a shape no-op ([`Lowering::shape_noop_input`]) whose
    /// output does.
    pub(crate) fn only_reaches_output(&self, t: Tid) -> bool {
        let readers: Vec<&Node> = self.g.nodes.iter().filter(|n| n.inputs.contains(&Some(t))).collect();
        match readers.as_slice() {
            [] => self.g.outputs.contains(&t),
            [n] if !self.g.outputs.contains(&t) && self.shape_noop_input(n) == Some(t) => self.only_reaches_output(n.outputs[0]),
            _ => false,
        }
    }

    /// The calibrated range of IR tensor `t`.
    pub(crate) fn range_of(&self, t: Tid) -> R<(f32, f32)> {
        self.used_ranges.set(true);
        self.ranges.get(&t).copied().ok_or_else(|| format!("no calibrated range for tensor `{}`", self.g.name(t)))
    }

    /// The quantization and code type of activation `t`: int16 by [`quant16_from_range`] where
    /// [`Lowering::is_wide_tensor`], int8 by [`Lowering::range_quant`] otherwise.
    pub(crate) fn activation_quant(&self, t: Tid) -> R<(Quant, DType)> {
        if self.is_wide_tensor(t) {
            let (lo, hi) = self.range_of(t)?;
            return Ok((quant16_from_range(lo, hi), DType::I16));
        }
        Ok((self.range_quant(t)?, DType::I8))
    }

    pub(crate) fn id(&self, t: Tid) -> R<TensorId> {
        self.map.get(&t).copied().ok_or_else(|| format!("tensor `{}` is a constant where a run-time tensor is needed", self.g.name(t)))
    }

    pub(crate) fn quant(&self, id: TensorId) -> Quant {
        self.model.tensors[id as usize].quant.unwrap_or(Quant { scale: 1.0, zero_point: 0 })
    }

    pub(crate) fn emit(&mut self, name: &str, op: Op, inputs: Vec<TensorId>, outputs: Vec<TensorId>) {
        self.model.nodes.push(QNode { name: name.to_string(), op, inputs, outputs });
    }

    /// New int8 output tensor for IR tensor `t` with quantization `q`.
    pub(crate) fn out(&mut self, t: Tid, q: Quant) -> TensorId {
        self.typed_out(t, DType::I8, q)
    }

    /// New output tensor of type `dtype` for IR tensor `t` with quantization `q`.
    pub(crate) fn typed_out(&mut self, t: Tid, dtype: DType, q: Quant) -> TensorId {
        let id = self.tensor(self.g.name(t), self.g.shape(t), dtype, Some(q));
        self.map.insert(t, id);
        id
    }

    /// `id` requantized to `q` (a table), or `id` itself when it already has it.
    pub(crate) fn rescale(&mut self, id: TensorId, q: Quant, name: &str) -> TensorId {
        let qi = self.quant(id);
        if qi == q {
            return id;
        }
        let info = self.model.tensors[id as usize].clone();
        let out = self.tensor(
            &format!("{}.rescaled", info.name),
            &info.shape.iter().map(|&d| d as usize).collect::<Vec<_>>(),
            DType::I8,
            Some(q),
        );
        let tables = lut_table(&|x| x, qi, q);
        self.emit(&format!("{name}.rescale"), Op::Lut(Lut { axis: None, tables }), vec![id], vec![out]);
        out
    }

    /// A view of `x` producing IR tensor `t` (same type and quantization).
    pub(crate) fn view(&mut self, name: &str, x: TensorId, t: Tid, offset: u64, strides: Vec<i64>) -> TensorId {
        let info = self.model.tensors[x as usize].clone();
        let out = self.tensor(self.g.name(t), self.g.shape(t), info.dtype, info.quant);
        self.emit(name, Op::View(View { offset, strides }), vec![x], vec![out]);
        self.map.insert(t, out);
        out
    }

    pub(crate) fn contiguous_view(&mut self, name: &str, x: TensorId, t: Tid) -> TensorId {
        let strides = row_major(self.g.shape(t)).iter().map(|&s| s as i64).collect();
        self.view(name, x, t, 0, strides)
    }

    pub(crate) fn const_value(&self, t: Option<Tid>) -> Option<&Value> {
        t.and_then(|t| self.g.consts.get(&t))
    }

    /// Lower node `n` by its registry entry.
    fn lower(&mut self, n: &Node) -> R<()> {
        let g = self.g;
        // a shape op that changes no shape forwards a wide tensor (a regression output behind
        // skl2onnx's final Reshape): int16 and int32 tensors stay out of the int8 views
        if let Some(&id) = self.shape_noop_input(n).and_then(|x| self.map.get(&x))
            && matches!(self.model.tensor(id).dtype, DType::I16 | DType::I32)
        {
            self.map.insert(n.outputs[0], id);
            return Ok(());
        }
        let ins: Vec<Option<&Value>> = n.inputs.iter().map(|t| t.and_then(|t| g.consts.get(&t))).collect();
        ops::lower(self, n, &ins)
    }

    /// The int8 tensor `xi` mapped by `f` to IR tensor `y`, quantized by `qo`: one Lut.
    pub(crate) fn unary_lut(&mut self, name: &str, xi: TensorId, y: Tid, qo: Quant, f: &dyn Fn(f64) -> f64) -> TensorId {
        let tables = lut_table(f, self.quant(xi), qo);
        let o = self.out(y, qo);
        self.emit(name, Op::Lut(Lut { axis: None, tables }), vec![xi], vec![o]);
        o
    }

    pub(crate) fn channel_lut(&mut self, n: &Node, x: Tid, y: Tid, axis: usize, fs: &[Box<dyn Fn(f64) -> f64>]) -> R<()> {
        let xi = self.id(x)?;
        if self.g.shape(x).get(axis) != Some(&fs.len()) {
            return Err(format!("{} per-channel parameters for axis {axis} of shape {:?}", fs.len(), self.g.shape(x)));
        }
        let (qi, qo) = (self.quant(xi), self.range_quant(y)?);
        let tables: Vec<i8> = fs.iter().flat_map(|f| lut_table(&**f, qi, qo)).collect();
        let o = self.out(y, qo);
        self.emit(&n.name, Op::Lut(Lut { axis: Some(axis as u32), tables }), vec![xi], vec![o]);
        Ok(())
    }

    pub(crate) fn shape_of(&self, id: TensorId) -> Vec<usize> {
        self.model.tensors[id as usize].shape.iter().map(|&d| d as usize).collect()
    }
}

/// Row-major strides of a graph shape (`usize` dimensions, before they are checked to fit the
/// spec's `u32`; `solidml_exec::index::strides` is the same rule on spec shapes).
pub(crate) fn row_major(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// The strides that read `shape` broadcast to `out` (the spec's rule,
/// `solidml_exec::index::broadcast_strides`), as a View's signed strides.
pub(crate) fn broadcast_strides(shape: &[u32], out: &[u32]) -> Vec<i64> {
    solidml_exec::index::broadcast_strides(shape, out).into_iter().map(|s| s as i64).collect()
}

pub(crate) fn multiplier(real: f64) -> R<Multiplier> {
    // non-finite weights or scales (a damaged or degenerate model) get an error, not a panic
    if !real.is_finite() || real < 0.0 {
        return Err(format!("requantization multiplier {real} is not a finite non-negative number (non-finite weights or scales?)"));
    }
    let m = Multiplier::from_real(real);
    if real > 0.0 && real >= 2f64.powi(solidml_spec::arith::MAX_SHIFT) {
        return Err(format!("requantization multiplier {real} is out of range"));
    }
    Ok(m)
}

pub(crate) fn epilogue(n: &Node, multipliers: Vec<Multiplier>, qo: Quant) -> Epilogue {
    let (mut lo, mut hi) = (-128i8, 127i8);
    if let Some(Attr::Floats(b)) = n.attr("solidml.clamp") {
        if b[0].is_finite() {
            lo = quantize_f32(b[0], qo.scale, qo.zero_point);
        }
        if b[1].is_finite() {
            hi = quantize_f32(b[1], qo.scale, qo.zero_point);
        }
    }
    Epilogue { multipliers, output_zero_point: qo.zero_point, clamp_min: lo, clamp_max: hi.max(lo) }
}

/// Symmetric per-output-channel weights (`axis` is the output channel axis), int32 bias,
/// and the multipliers `s_in · s_w[c] / s_out`. Checks the int32 accumulator cannot overflow.
pub(crate) fn quantize_weights(
    w: &ArrayD<f32>,
    axis: usize,
    bias: Option<&[f32]>,
    qi: Quant,
    qo: Quant,
) -> R<(Vec<i8>, Vec<i32>, Vec<Multiplier>)> {
    let channels = w.shape()[axis];
    let wc = w.as_standard_layout();
    let flat = wc.as_slice().unwrap();
    let per = flat.len() / channels.max(1);
    let mut weights = Vec::with_capacity(flat.len());
    let mut biases = Vec::with_capacity(channels);
    let mut mults = Vec::with_capacity(channels);
    for c in 0..channels {
        let row = &flat[c * per..(c + 1) * per];
        let maxabs = row.iter().fold(0f32, |m, &v| m.max(v.abs()));
        let ws = if maxabs > 0.0 { maxabs / 127.0 } else { 1.0 };
        let q: Vec<i8> = row.iter().map(|&v| (v / ws).round_ties_even().clamp(-127.0, 127.0) as i8).collect();
        let acc_scale = qi.scale as f64 * ws as f64;
        let b = bias.map_or(0.0, |b| b[c] as f64);
        let bq = (b / acc_scale).round().clamp(-(1i64 << 30) as f64, (1i64 << 30) as f64) as i32;
        let bound: i64 = q.iter().map(|&v| (v as i64).abs() * 255).sum::<i64>() + (bq as i64).abs();
        if bound > i32::MAX as i64 {
            return Err(format!("output channel {c}: the int32 accumulator could overflow (bound {bound})"));
        }
        weights.extend(q);
        biases.push(bq);
        mults.push(multiplier(acc_scale / qo.scale as f64)?);
    }
    Ok((weights, biases, mults))
}

/// A dense layer's weights at a wide precision: symmetric codes within `±weight_max`, per
/// output channel (row of `w`, `[N, K]`) or, with `per_tensor`, one scale for all; the i64 bias
/// at `s_in · s_w[c]`; and each channel's accumulator scale `s_in · s_w[c]`. Checks the
/// accumulator bound of spec §Op: DenseWide.
pub(crate) fn quantize_wide_weights(
    w: &ArrayD<f32>,
    bias: Option<&[f32]>,
    qi: Quant,
    weight_max: f32,
    per_tensor: bool,
) -> R<(Vec<i16>, Vec<i64>, Vec<f64>)> {
    let channels = w.shape()[0];
    let wc = w.as_standard_layout();
    let flat = wc.as_slice().unwrap();
    let per = flat.len() / channels.max(1);
    let scale_of = |row: &[f32]| {
        let maxabs = row.iter().fold(0f32, |m, &v| m.max(v.abs()));
        if maxabs > 0.0 && maxabs.is_finite() { maxabs / weight_max } else { 1.0 }
    };
    let global = scale_of(flat);
    let (mut weights, mut biases, mut acc_scales) = (Vec::with_capacity(flat.len()), vec![], vec![]);
    for c in 0..channels {
        let row = &flat[c * per..(c + 1) * per];
        let ws = if per_tensor { global } else { scale_of(row) };
        let q: Vec<i16> = row.iter().map(|&v| (v / ws).round_ties_even().clamp(-weight_max, weight_max) as i16).collect();
        let acc_scale = qi.scale as f64 * ws as f64;
        let b = bias.map_or(0.0, |b| b[c] as f64);
        let bq = (b / acc_scale).round();
        if !bq.is_finite() || bq.abs() > 2f64.powi(61) {
            return Err(format!("output channel {c}: the bias {b} is out of the accumulator's range at scale {acc_scale:e}"));
        }
        let bq = bq as i64;
        let bound: i128 = q.iter().map(|&v| (v as i128).abs() * 65535).sum::<i128>() + (bq as i128).abs();
        if bound > 1i128 << 62 {
            return Err(format!("output channel {c}: the accumulator could pass 2^62 (bound {bound})"));
        }
        weights.extend(q);
        biases.push(bq);
        acc_scales.push(acc_scale);
    }
    Ok((weights, biases, acc_scales))
}

/// The fused clamp of `n` (attribute `solidml.clamp`) as codes of the quantization `qo` within
/// `range`, or the whole range.
pub(crate) fn wide_clamp(n: &Node, qo: Quant, (lo, hi): (i64, i64)) -> (i32, i32) {
    let (mut a, mut b) = (lo, hi);
    if let Some(Attr::Floats(c)) = n.attr("solidml.clamp") {
        if c[0].is_finite() {
            a = solidml_spec::io::quantize_f32_in(c[0], qo.scale, qo.zero_point, (lo, hi));
        }
        if c[1].is_finite() {
            b = solidml_spec::io::quantize_f32_in(c[1], qo.scale, qo.zero_point, (lo, hi));
        }
    }
    (a as i32, b.max(a) as i32)
}
