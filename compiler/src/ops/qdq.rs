//! `QuantizeLinear` and `DequantizeLinear` ([`QdqParams`]: a scalar scale and zero point, or
//! one per index along `axis`, default 1, which only per-axis parameters read; the saturation
//! range from the zero point's type or `output_dtype`, [`qdq_range`]).
//!
//! Float semantics (ONNX's, rounding half to even) serve constant folding of quantized weights
//! and calibration. [`crate::passes::qdq`] turns Q → DQ pairs on run-time tensors into
//! prescribed quantizations, and constant folding removes the ops on constants. What is left
//! is lowered on **code tensors**: int8 spec tensors that hold 8-bit integers `v` exactly, with
//! the quantization `(1, −128)` for uint8 (code `v − 128`) or `(1, 0)` for int8 (code `v`), so
//! the runner's dequantization gives back the integers:
//!
//! * an 8-bit integer model input that only DequantizeLinear reads is a code tensor
//!   ([`code_input_quant`]): the caller passes the integers, which its quantization converts
//!   exactly;
//! * DequantizeLinear of a code tensor is a Lut: with scalar parameters the codes themselves,
//!   read with the scale `s` and the zero point moved by `z` (exact); per-axis, one table per
//!   index along `axis` into the calibrated output quantization;
//! * QuantizeLinear of a real tensor is a Lut into a code tensor (one table per index along
//!   `axis` for per-axis parameters), exact when its input already has the node's quantization
//!   (`passes::qdq::quantized_inputs` prescribes it when the QuantizeLinear is its only
//!   reader); its codes may only be model outputs or DequantizeLinear inputs. A float model
//!   input that a QuantizeLinear alone reads takes the node's parameters as its input
//!   quantization instead ([`fold_input_quantize`], per axis when they are), exactly ONNX's
//!   rounding and saturation, and is the code tensor itself.
//!
//! 16-bit, 4-bit and float8 codes and blocked quantization (`block_size`) are not supported.

use ndarray::{ArrayD, IxDyn};
use solidml_spec::{DType, InputQuant, Lut, Op, Quant, io::quantize_f32};

use super::{OpDef, R, input};
use crate::{
    float::norm_axis,
    ir::{Graph, Node, Tid, Value},
    quantize::{Lowering, lut_table},
};

pub(crate) const OPS: &[OpDef] =
    &[OpDef::new("", "DequantizeLinear", eval, lower_dequantize), OpDef::new("", "QuantizeLinear", eval, lower_quantize)];

/// The scale and zero point of a QuantizeLinear or DequantizeLinear over an input of a given
/// shape: one pair for the whole tensor, or one per index along `axis`.
#[derive(Debug, Clone, PartialEq)]
pub struct QdqParams {
    /// The axis of per-axis parameters; `None` for per-tensor ones (ONNX ignores `axis` then).
    pub axis: Option<usize>,
    /// One per index along `axis`, or one.
    pub scales: Vec<f32>,
    /// As many as `scales` (0 where the node has no zero point).
    pub zero_points: Vec<f32>,
}

impl QdqParams {
    /// The parameters of `op` (named in errors) given its `scale` and optional zero point `zp`
    /// over an input of `shape`: per-tensor when both hold one value, else per index along
    /// `axis` (resolved against the rank; the count must match that axis; a single scale or
    /// zero point is repeated, as MatMulInteger's per-column zero points with a unit scale).
    pub fn new(op: &str, axis: i64, scale: &Value, zp: Option<&Value>, shape: &[usize]) -> R<QdqParams> {
        let mut scales: Vec<f32> = scale.to_f32().iter().copied().collect();
        let mut zero_points: Vec<f32> = zp.map_or_else(|| vec![0.0; scales.len()], |z| z.to_f32().iter().copied().collect());
        if scales.is_empty() || zero_points.is_empty() {
            return Err(format!("{op} with an empty scale or zero point"));
        }
        if zero_points.len() == 1 && scales.len() > 1 {
            zero_points = vec![zero_points[0]; scales.len()];
        }
        if scales.len() == 1 && zero_points.len() > 1 {
            scales = vec![scales[0]; zero_points.len()];
        }
        if zero_points.len() != scales.len() {
            return Err(format!("{op} with {} scales and {} zero points", scales.len(), zero_points.len()));
        }
        if scales.len() == 1 {
            return Ok(QdqParams { axis: None, scales, zero_points });
        }
        let a = norm_axis(axis, shape.len())?;
        if scales.len() != shape[a] {
            return Err(format!("{op} parameters of {} values for axis {a} of {shape:?}", scales.len()));
        }
        Ok(QdqParams { axis: Some(a), scales, zero_points })
    }

    /// The parameters of node `n` (`axis`, no `block_size`) over an input of `shape`.
    pub fn of(n: &Node, scale: &Value, zp: Option<&Value>, shape: &[usize]) -> R<QdqParams> {
        if n.int("block_size", 0) != 0 {
            return Err(format!("{} with blocked parameters (block_size) is not supported", n.op));
        }
        QdqParams::new(&n.op, n.int("axis", 1), scale, zp, shape)
    }

    /// The scale and the zero point as arrays that broadcast against an input of rank `rank`.
    fn arrays(&self, rank: usize) -> (ArrayD<f32>, ArrayD<f32>) {
        let shaped = |v: &[f32]| match self.axis {
            None => ArrayD::from_elem(IxDyn(&[]), v[0]),
            Some(a) => {
                let mut s = vec![1; rank];
                s[a] = v.len();
                ArrayD::from_shape_vec(IxDyn(&s), v.to_vec()).expect("one value per index along the axis")
            }
        };
        (shaped(&self.scales), shaped(&self.zero_points))
    }
}

/// ONNX DequantizeLinear: `(x − zero_point) · scale`.
pub fn dequantize(x: &Value, p: &QdqParams) -> ArrayD<f32> {
    let x = x.to_f32();
    let (s, z) = p.arrays(x.ndim());
    (&x - &z) * &s
}

/// ONNX QuantizeLinear: `clamp(round_half_even(x / scale) + zero_point, lo, hi)`.
pub fn quantize(x: &ArrayD<f32>, p: &QdqParams, (lo, hi): (f32, f32)) -> ArrayD<i64> {
    let (s, z) = p.arrays(x.ndim());
    let q = (x / &s).mapv(|v| v.round_ties_even()) + &z;
    q.mapv(|v| v.clamp(lo, hi) as i64)
}

fn eval(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?;
    let p = QdqParams::of(n, input(ins, 1)?, ins.get(2).copied().flatten(), &x.shape())?;
    if n.op == "DequantizeLinear" {
        Ok(vec![Value::Float(dequantize(x, &p))])
    } else {
        Ok(vec![Value::Int(quantize(&x.to_f32(), &p, qdq_range(g, n)))])
    }
}

/// Saturation range of QuantizeLinear's output type: that of its zero point (uint8 when
/// there is none, or `output_dtype` when given).
pub fn qdq_range(g: &Graph, n: &Node) -> (f32, f32) {
    type_range(match n.input(2) {
        Some(t) => g.tensors[t].onnx_type,
        None => n.int("output_dtype", 2) as i32,
    })
}

/// The value range of the ONNX integer type `ty` (int4, uint4, int8, int16, uint16; uint8 for any other).
pub fn type_range(ty: i32) -> (f32, f32) {
    match ty {
        22 => (-8.0, 7.0),
        21 => (0.0, 15.0),
        3 => (-128.0, 127.0),
        5 => (-32768.0, 32767.0),
        4 => (0.0, 65535.0),
        _ => (0.0, 255.0),
    }
}

/// The zero point of the code tensor that holds integers of the range `(lo, hi)`: −128 for
/// uint8 (and uint4), 0 for int8 (and int4), none for the other types.
pub(crate) fn code_zero_point((lo, hi): (f32, f32)) -> Option<i32> {
    match (lo as i32, hi as i32) {
        (0, 255 | 15) => Some(-128),
        (-128, 127) | (-8, 7) => Some(0),
        _ => None,
    }
}

fn is_op(n: &Node, op: &str) -> bool {
    n.domain.is_empty() && n.op == op
}

/// Whether `n` reads `t` as its input 0 only.
fn reads_as_data(n: &Node, t: Tid) -> bool {
    n.input(0) == Some(t) && !n.inputs[1..].contains(&Some(t))
}

/// The quantization of model input `t` as a code tensor: an int8 or uint8 input that one or
/// more DequantizeLinear read (as their data, and nothing else reads).
pub(crate) fn code_input_quant(g: &Graph, t: Tid) -> Option<Quant> {
    let zero_point = match g.tensors[t].onnx_type {
        2 => -128,
        3 => 0,
        _ => return None,
    };
    let mut readers = g.nodes.iter().filter(|n| n.inputs.contains(&Some(t))).peekable();
    let only_dequantize = readers.peek().is_some() && readers.all(|n| is_op(n, "DequantizeLinear") && reads_as_data(n, t));
    only_dequantize.then_some(Quant { scale: 1.0, zero_point })
}

/// An error unless the codes `y` of a QuantizeLinear are only model outputs or DequantizeLinear
/// data.
fn codes_readers_ok(g: &Graph, y: Tid) -> R<()> {
    match g.nodes.iter().find(|n| n.inputs.contains(&Some(y)) && !(is_op(n, "DequantizeLinear") && reads_as_data(n, y))) {
        Some(n) => Err(format!(
            "its integer output is read by {} `{}`; only DequantizeLinear and model outputs may read QuantizeLinear's codes",
            n.op, n.name
        )),
        None => Ok(()),
    }
}

/// The constant parameters of the QuantizeLinear or DequantizeLinear `n` over an input of
/// `shape`: an error naming the input when the scale or the zero point is computed at run time.
fn const_params(g: &Graph, n: &Node, shape: &[usize]) -> R<QdqParams> {
    let value = |i: usize| -> R<Option<&Value>> {
        match n.input(i) {
            None => Ok(None),
            Some(t) => g
                .consts
                .get(&t)
                .map(Some)
                .ok_or_else(|| format!("the scale and the zero point must be constants, but `{}` is computed at run time", g.name(t))),
        }
    };
    let scale = value(1)?.ok_or("the scale is missing")?;
    let p = QdqParams::of(n, scale, value(2)?, shape)?;
    if let Some(s) = p.scales.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
        return Err(format!("the scale {s} is not a positive finite number"));
    }
    Ok(p)
}

/// A float model input (at `position`) that only a QuantizeLinear with constant 8-bit
/// parameters reads, and whose codes only DequantizeLinear or model outputs read: the
/// QuantizeLinear output it stands for, its quantization as a code tensor, and the input
/// quantization that turns the caller's reals into those codes (the node's parameters, the
/// zero point moved to the code range; per axis, or repeated along axis 0 for scalar ones).
pub(crate) fn fold_input_quantize(g: &Graph, t: Tid, position: usize) -> Option<(Tid, Quant, InputQuant)> {
    if !g.tensors[t].is_float || g.outputs.contains(&t) {
        return None;
    }
    let readers: Vec<&Node> = g.nodes.iter().filter(|n| n.inputs.contains(&Some(t))).collect();
    let [q] = readers.as_slice() else { return None };
    if !(is_op(q, "QuantizeLinear") && reads_as_data(q, t)) {
        return None;
    }
    let shape = g.shape(t);
    let p = const_params(g, q, shape).ok()?;
    // (8-bit codes only: the input quantization saturates to them, not to a 4-bit range)
    let range = qdq_range(g, q);
    let zq = code_zero_point(range).filter(|_| range.1 - range.0 == 255.0)?;
    codes_readers_ok(g, q.outputs[0]).ok()?;
    let param = |c: usize| Quant { scale: p.scales[c], zero_point: p.zero_points[c].round() as i32 + zq };
    let (axis, params) = match p.axis {
        Some(a) => (a, (0..shape[a]).map(param).collect()),
        None if !shape.is_empty() => (0, vec![param(0); shape[0]]),
        None => return None,
    };
    let quant = Quant { scale: 1.0, zero_point: zq };
    Some((q.outputs[0], quant, InputQuant { input: position as u32, axis: axis as u32, params }))
}

/// The integers `k` of the weights `w` (`[N, …]`, a row per output channel, row-major) read from
/// the constant `t`, whose axis `channel` is that output channel, and each row's scale: when `t`
/// has a grid ([`Graph::grids`]) per tensor or along `channel`, and every value is still
/// exactly `k · scale` with `|k| ≤ max` (a weight scaled or transformed since is not).
pub(crate) fn grid_rows(g: &Graph, t: Tid, channel: usize, w: &ArrayD<f32>, max: f32) -> Option<(Vec<i32>, Vec<f32>)> {
    let grid = g.grids.get(&t)?;
    let rows = *w.shape().first()?;
    let scales: Vec<f32> = match grid.axis {
        None => vec![grid.params[0].scale; rows],
        Some(a) if a == channel && grid.params.len() == rows => grid.params.iter().map(|q| q.scale).collect(),
        Some(_) => return None,
    };
    let per = w.len() / rows.max(1);
    let ks = w
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let s = scales[i / per.max(1)];
            let k = (v / s).round();
            (k * s == v && k.abs() <= max).then_some(k as i32)
        })
        .collect::<Option<Vec<i32>>>()?;
    Some((ks, scales))
}

/// Int8 weights, int32 biases and per-channel multipliers, as `quantize_weights` gives them.
pub(crate) type QuantizedWeights = (Vec<i8>, Vec<i32>, Vec<solidml_spec::arith::Multiplier>);

/// [`crate::quantize::quantize_weights`] with the model's own integers: the int8 weights, the
/// int32 bias at `s_in · s_c` and the multipliers `s_in · s_c / s_out` when the weights `w`
/// (output channels on axis 0) come from the constant `t` with a grid per tensor or per output
/// channel ([`grid_rows`]) and every integer is within ±127 (exact sums); `None` otherwise.
pub(crate) fn grid_weights(g: &Graph, t: Tid, w: &ArrayD<f32>, bias: Option<&[f32]>, qi: Quant, qo: Quant) -> R<Option<QuantizedWeights>> {
    let Some((ks, scales)) = grid_rows(g, t, 0, w, 127.0) else { return Ok(None) };
    let per = w.len() / scales.len().max(1);
    let (mut biases, mut multipliers) = (vec![], vec![]);
    for (c, &s) in scales.iter().enumerate() {
        let acc = qi.scale as f64 * s as f64;
        let b = (bias.map_or(0.0, |b| b[c] as f64) / acc).round();
        let bound: i64 = ks[c * per..(c + 1) * per].iter().map(|&v| v.abs() as i64 * 255).sum::<i64>() + b.abs() as i64;
        if b.is_nan() || b.abs() > (1i64 << 30) as f64 || bound > i32::MAX as i64 {
            return Ok(None);
        }
        biases.push(b as i32);
        multipliers.push(crate::quantize::multiplier(acc / qo.scale as f64)?);
    }
    Ok(Some((ks.iter().map(|&v| v as i8).collect(), biases, multipliers)))
}

/// The int8 codes and the quantization of the constant `t` of value `v` when `t` has a per-tensor
/// grid ([`Graph::grids`]) that every value still lies on: the model's own codes.
pub(crate) fn grid_codes(g: &Graph, t: Tid, v: &ArrayD<f32>) -> Option<(Vec<i8>, Quant)> {
    let grid = g.grids.get(&t).filter(|grid| grid.axis.is_none())?;
    let q = grid.params[0];
    let codes = v
        .iter()
        .map(|&x| {
            let k = (x / q.scale).round();
            let c = k as i64 + q.zero_point as i64;
            (k * q.scale == x && (-128..=127).contains(&c)).then_some(c as i8)
        })
        .collect::<Option<Vec<i8>>>()?;
    Some((codes, q))
}

/// DequantizeLinear of an integer tensor of another width than 8 bits (int4, uint4, int16,
/// uint16: a model input of that type): `(x − z)·s` for every integer of the type, a table
/// read at the clamped integer ([`super::shape::integers_to_real`]), exact. Per-tensor
/// parameters only.
fn dequantize_integers(l: &mut Lowering<'_>, n: &Node, x: solidml_spec::TensorId) -> R<()> {
    let g = l.g;
    let xt = n.input(0).ok_or("input 0 missing")?;
    let p = const_params(g, n, g.shape(xt))?;
    if p.axis.is_some() {
        return Err(format!("DequantizeLinear of the integers `{}` with per-axis parameters is not supported", g.name(xt)));
    }
    let ty = g.tensors[xt].onnx_type;
    if super::shape::integer_type(ty as i64).is_none_or(|(bits, _)| bits > 16) {
        return Err(format!("DequantizeLinear of `{}`: its type holds more than 2^16 integers", g.name(xt)));
    }
    let (lo, hi) = type_range(ty);
    let range = (lo as i64, hi as i64);
    let (s, z) = (p.scales[0] as f64, p.zero_points[0] as f64);
    super::shape::integers_to_real(l, n, x, n.outputs[0], range, &|v| (v as f64 - z) * s)
}

/// DequantizeLinear of a code tensor (module docs).
fn lower_dequantize(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let xt = n.input(0).ok_or("input 0 missing")?;
    let x = l.id(xt)?;
    if l.model.tensor(x).dtype == DType::I64 {
        return dequantize_integers(l, n, x);
    }
    if l.model.tensor(x).dtype != DType::I8 {
        return Err(format!(
            "the run-time tensor `{}` is not 8-bit codes (an int8 or uint8 model input that only DequantizeLinear reads, or a QuantizeLinear output)",
            g.name(xt)
        ));
    }
    let p = const_params(g, n, g.shape(xt))?;
    let (qi, y) = (l.quant(x), n.outputs[0]);
    let f = |c: usize| {
        let (s, z) = (p.scales[c] as f64, p.zero_points[c] as f64);
        move |v: f64| (v - z) * s
    };
    let (qo, tables) = match p.axis {
        None => {
            // the codes unchanged, read with the scale and the zero point moved by z
            let moved = qi.zero_point as f64 + p.zero_points[0] as f64;
            let exact = qi.scale == 1.0 && p.zero_points[0].fract() == 0.0 && (-128.0..=127.0).contains(&moved);
            let qo = if exact { Quant { scale: p.scales[0], zero_point: moved as i32 } } else { l.range_quant(y)? };
            (qo, lut_table(&f(0), qi, qo))
        }
        Some(_) => {
            let qo = l.range_quant(y)?;
            (qo, (0..p.scales.len()).flat_map(|c| lut_table(&f(c), qi, qo)).collect())
        }
    };
    let o = l.out(y, qo);
    l.emit(&n.name, Op::Lut(Lut { axis: p.axis.map(|a| a as u32), tables }), vec![x], vec![o]);
    Ok(())
}

/// QuantizeLinear of a real tensor into a code tensor (module docs).
fn lower_quantize(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let xt = n.input(0).ok_or("input 0 missing")?;
    let x = l.id(xt)?;
    let y = n.outputs[0];
    codes_readers_ok(g, y)?;
    if l.model.tensor(x).dtype != DType::I8 {
        return Err(format!("its input `{}` is not an int8 real tensor", g.name(xt)));
    }
    let p = const_params(g, n, g.shape(xt))?;
    let (lo, hi) = qdq_range(g, n);
    let zq = code_zero_point((lo, hi)).ok_or("only 8-bit and 4-bit codes (int8, uint8, int4, uint4) are supported")?;
    let qi = l.quant(x);
    // per index: clamp(round(x / s) + z, lo, hi), shifted to the code range by zq (a 4-bit
    // type's codes: its integers within the 8-bit ones)
    let (lo_code, hi_code) = (lo as i32 + zq, hi as i32 + zq);
    let tables = (0..p.scales.len())
        .flat_map(|c| {
            let (s, z) = (p.scales[c], p.zero_points[c].round() as i32 + zq);
            (-128i32..=127).map(move |code| (quantize_f32(qi.real(code) as f32, s, z) as i32).clamp(lo_code, hi_code) as i8)
        })
        .collect();
    let o = l.out(y, Quant { scale: 1.0, zero_point: zq });
    l.emit(&n.name, Op::Lut(Lut { axis: p.axis.map(|a| a as u32), tables }), vec![x], vec![o]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        CompileOptions, compile_graph,
        ir::Attr,
        passes::testutil::{constant, graph, node, output},
    };

    /// A scalar zero point of ONNX type `ty` (2: uint8, 3: int8).
    fn zero_point(g: &mut Graph, name: &str, v: f32, ty: i32) -> Tid {
        let z = constant(g, name, &[], vec![v]);
        g.tensors[z].onnx_type = ty;
        z
    }

    /// Compile `g` with `calibration` (one array per input) and run it on the same data.
    fn compile_and_run(mut g: Graph, calibration: Vec<ArrayD<f32>>) -> (solidml_spec::Model, Vec<ArrayD<f32>>) {
        let opts = CompileOptions::default().with_calibration(calibration.clone());
        let c = compile_graph(&mut g, "m", &opts).unwrap();
        let shapes = crate::runner::input_shapes(&c.model);
        let samples = crate::runner::samples(&shapes, &calibration).unwrap();
        let outs = crate::runner::run_samples(&c.model, &samples).unwrap();
        (c.model, outs[0].1.iter().map(|o| o.to_f32()).collect())
    }

    #[test]
    fn the_axis_of_scalar_parameters_is_ignored() {
        // rank 1 with the default axis 1: per-tensor parameters never read it
        let x = Value::Float(ArrayD::from_shape_vec(IxDyn(&[3]), vec![-1.0, 0.26, 300.0]).unwrap());
        let s = Value::Float(ArrayD::from_elem(IxDyn(&[]), 0.5));
        let z = Value::Int(ArrayD::from_elem(IxDyn(&[1]), 128));
        let p = QdqParams::new("QuantizeLinear", 1, &s, Some(&z), &[3]).unwrap();
        assert_eq!(p.axis, None);
        assert_eq!(quantize(&x.to_f32(), &p, (0.0, 255.0)).into_raw_vec_and_offset().0, [126, 129, 255]);
        // per-axis parameters must match the axis
        let s3 = Value::Float(ArrayD::from_shape_vec(IxDyn(&[3]), vec![1.0, 2.0, 4.0]).unwrap());
        assert!(QdqParams::new("QuantizeLinear", 1, &s3, None, &[3]).unwrap_err().contains("out of range for rank 1"));
        let p = QdqParams::new("DequantizeLinear", -1, &s3, Some(&z), &[2, 3]).unwrap();
        assert_eq!((p.axis, p.zero_points.len()), (Some(1), 3));
        let codes = Value::Int(ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![128, 129, 130, 127, 126, 125]).unwrap());
        assert_eq!(dequantize(&codes, &p).into_raw_vec_and_offset().0, [0.0, 2.0, 8.0, -1.0, -4.0, -12.0]);
    }

    #[test]
    fn a_uint8_input_read_by_dequantize_is_exact_codes() {
        // DequantizeLinear of a uint8 model input: the caller's integers, then the scale
        let mut g = graph(&[("x", &[1, 6])]);
        g.tensors[0].is_float = false;
        g.tensors[0].onnx_type = 2;
        let s = constant(&mut g, "s", &[], vec![0.25]);
        let z = zero_point(&mut g, "z", 100.0, 2);
        let y = node(&mut g, "DequantizeLinear", &[0, s, z], vec![]);
        output(&mut g, y);
        let codes = vec![0.0, 1.0, 99.0, 100.0, 201.0, 255.0];
        let (m, outs) = compile_and_run(g, vec![ArrayD::from_shape_vec(IxDyn(&[1, 6]), codes.clone()).unwrap()]);
        assert_eq!(m.tensor(m.inputs[0]).quant, Some(Quant { scale: 1.0, zero_point: -128 }));
        assert_eq!(m.tensor(m.outputs[0]).quant, Some(Quant { scale: 0.25, zero_point: -28 }));
        let want: Vec<f32> = codes.iter().map(|v| (v - 100.0) * 0.25).collect();
        assert_eq!(outs[0].iter().copied().collect::<Vec<_>>(), want);
    }

    #[test]
    fn quantize_of_a_model_input_is_its_input_quantization() {
        // per-axis QuantizeLinear of a float input into int8 codes, then an int8 per-tensor one
        for (scales, zps, ty, axis) in [(vec![2.0, 0.5, 4.0], vec![3.0, -20.0, 0.0], 3, Some(1)), (vec![0.5], vec![128.0], 2, None)] {
            let mut g = graph(&[("x", &[2, 3])]);
            let s = constant(&mut g, "s", &[scales.len()], scales.clone());
            let z = constant(&mut g, "z", &[zps.len()], zps.clone());
            g.tensors[z].onnx_type = ty;
            let y = node(&mut g, "QuantizeLinear", &[0, s, z], vec![("axis", Attr::Int(1))]);
            g.tensors[y].is_float = false;
            output(&mut g, y);
            let x = vec![-300.0, 1.25, 0.75, 1.0, -2.5, 1000.0];
            let (m, outs) = compile_and_run(g, vec![ArrayD::from_shape_vec(IxDyn(&[2, 3]), x.clone()).unwrap()]);
            assert!(m.nodes.is_empty(), "no node: the input quantization is the QuantizeLinear");
            assert_eq!(m.input_quant.len(), 1);
            let (lo, hi) = type_range(ty);
            let want: Vec<f32> = x
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let c = if axis.is_some() { i % 3 } else { 0 };
                    ((v / scales[c]).round_ties_even() + zps[c]).clamp(lo, hi)
                })
                .collect();
            assert_eq!(outs[0].iter().copied().collect::<Vec<_>>(), want, "{scales:?}");
        }
    }

    #[test]
    fn quantize_of_a_computed_tensor_is_a_table_into_codes() {
        // x → Relu → QuantizeLinear (uint8): the Relu output takes the node's quantization
        // (passes::qdq), and the table into codes is the identity
        let mut g = graph(&[("x", &[1, 5])]);
        let r = node(&mut g, "Relu", &[0], vec![]);
        let s = constant(&mut g, "s", &[], vec![0.1]);
        let z = zero_point(&mut g, "z", 7.0, 2);
        let y = node(&mut g, "QuantizeLinear", &[r, s, z], vec![]);
        output(&mut g, y);
        let x = vec![-1.0, 0.04, 0.05, 0.15, 30.0];
        let (m, outs) = compile_and_run(g, vec![ArrayD::from_shape_vec(IxDyn(&[1, 5]), x.clone()).unwrap()]);
        // one rounding after the input's: the Relu table writes the node's codes
        let qx = m.tensor(m.inputs[0]).quant.unwrap();
        let want: Vec<f32> = x
            .iter()
            .map(|&v| {
                let xq = qx.real(quantize_f32(v, qx.scale, qx.zero_point) as i32) as f32;
                (xq.max(0.0) / 0.1).round_ties_even().clamp(-7.0, 248.0) + 7.0
            })
            .collect();
        assert_eq!(outs[0].iter().copied().collect::<Vec<_>>(), want);
        let Op::Lut(lut) = &m.nodes.last().unwrap().op else { panic!("a table") };
        assert!(lut.tables.iter().zip(-128i32..).all(|(&t, c)| t as i32 == c), "the identity on codes");
    }

    #[test]
    fn codes_read_by_other_ops_and_run_time_parameters_are_refused() {
        let mut g = graph(&[("x", &[1, 4]), ("s", &[])]);
        let z = zero_point(&mut g, "z", 0.0, 3);
        let q = node(&mut g, "QuantizeLinear", &[0, 1, z], vec![]);
        output(&mut g, q);
        let opts = CompileOptions::default();
        let e = compile_graph(&mut g, "m", &opts).err().unwrap().to_string();
        assert!(e.contains("must be constants") && e.contains("`s` is computed at run time"), "{e}");

        let mut g = graph(&[("x", &[1, 4])]);
        let s = constant(&mut g, "s", &[], vec![0.1]);
        let z = zero_point(&mut g, "z", 0.0, 3);
        let q = node(&mut g, "QuantizeLinear", &[0, s, z], vec![]);
        let n = node(&mut g, "Neg", &[q], vec![]);
        output(&mut g, n);
        let e = compile_graph(&mut g, "m", &opts).err().unwrap().to_string();
        assert!(e.contains("only DequantizeLinear and model outputs"), "{e}");
    }
}
