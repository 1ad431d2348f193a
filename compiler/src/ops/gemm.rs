//! Matrix products: `Gemm` ([`GemmAttrs`]) and `MatMul` (numpy batch broadcasting; a bias
//! input 2 is added by [`crate::passes::fuse_matmul_add`]).
//!
//! Float semantics in `f32`. Lowering: a run-time operand times a constant matrix is `Dense`
//! (weights per output channel, `alpha` folded into the weights, `beta` into the bias); two
//! run-time MatMul operands are spec `MatMul`.

use ndarray::{ArrayD, Axis, IxDyn};
use solidml_spec::{ConstData, DType, Dense, DenseWide, Op, Quant, TensorId, io::quantize_f32};

use super::{OpDef, R, input};
use crate::{
    float::{broadcast_shape, to2d},
    ir::{Graph, Node, Tid, Value},
    ops::qdq::{grid_codes, grid_rows},
    quantize::{INTEGER_ATTR, Lowering, epilogue, multiplier, quant_from_range, quantize_weights, quantize_wide_weights, wide_clamp},
};

pub(crate) const OPS: &[OpDef] = &[OpDef::new("", "Gemm", eval_gemm, lower), OpDef::new("", "MatMul", eval_matmul, lower)];

/// Gemm's attributes (ONNX defaults: `alpha = beta = 1`, no transposition).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GemmAttrs {
    /// Scale of the product `A' · B'` (attribute `alpha`, default 1.0).
    pub alpha: f32,
    /// Scale of the bias `C` (attribute `beta`, default 1.0).
    pub beta: f32,
    /// Whether `A` is transposed before the product (attribute `transA`, default 0).
    pub trans_a: bool,
    /// Whether `B` is transposed before the product (attribute `transB`, default 0).
    pub trans_b: bool,
}

impl GemmAttrs {
    /// The attributes of Gemm node `n`, ONNX defaults where absent (a non-zero `transA` or
    /// `transB` is true).
    pub fn parse(n: &Node) -> GemmAttrs {
        GemmAttrs {
            alpha: n.float("alpha", 1.0),
            beta: n.float("beta", 1.0),
            trans_a: n.int("transA", 0) != 0,
            trans_b: n.int("transB", 0) != 0,
        }
    }
}

fn eval_gemm(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let at = GemmAttrs::parse(n);
    let b = input(ins, 1)?;
    if b.shape().len() != 2 {
        // the BatchNormalization fold and the lowering read B's axes as [K, N] (or [N, K])
        return Err(format!("Gemm B of shape {:?} is not a matrix", b.shape()));
    }
    let (mut a, mut b) = (to2d(input(ins, 0)?.to_f32())?, to2d(b.to_f32())?);
    if at.trans_a {
        a = a.reversed_axes();
    }
    if at.trans_b {
        b = b.reversed_axes();
    }
    if a.ncols() != b.nrows() {
        return Err(format!("Gemm operands {:?} × {:?} (after transposition) do not multiply", a.shape(), b.shape()));
    }
    let (m, k, nc) = (a.nrows(), a.ncols(), b.ncols());
    super::check_elements(&[m, nc], "the Gemm output")?;
    super::check_work(&[m, k, nc], &format!("Gemm {:?} × {:?}", a.shape(), b.shape()))?;
    let mut y = (a.dot(&b) * at.alpha).into_dyn();
    if let Some(c) = ins.get(2).copied().flatten() {
        let c = c.to_f32() * at.beta;
        y = add_bias(&y, &c)?;
        if y.ndim() != 2 {
            return Err(format!("the Gemm bias {:?} widens the product {:?}", c.shape(), [m, nc]));
        }
    }
    Ok(vec![Value::Float(y)])
}

/// `y + c`, broadcast (an error, not ndarray's panic, when the shapes do not broadcast).
fn add_bias(y: &ArrayD<f32>, c: &ArrayD<f32>) -> R<ArrayD<f32>> {
    broadcast_shape(y.shape(), c.shape())?;
    Ok(y + c)
}

fn eval_matmul(_: &Graph, _: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let y = matmul(&input(ins, 0)?.to_f32(), &input(ins, 1)?.to_f32())?;
    // a bias input is added by `passes::fuse_matmul_add`
    Ok(vec![Value::Float(match ins.get(2).copied().flatten() {
        Some(b) => add_bias(&y, &b.to_f32())?,
        None => y,
    })])
}

pub(crate) fn matmul(a: &ArrayD<f32>, b: &ArrayD<f32>) -> R<ArrayD<f32>> {
    if a.ndim() == 0 || b.ndim() == 0 {
        return Err("MatMul of a scalar".into());
    }
    if b.ndim() == 2 {
        let k = b.shape()[0];
        let lead = &a.shape()[..a.ndim() - 1];
        if *a.shape().last().unwrap_or(&0) != k {
            return Err(format!("MatMul shapes {:?} × {:?}", a.shape(), b.shape()));
        }
        let mut shape = lead.to_vec();
        shape.push(b.shape()[1]);
        super::check_elements(&shape, "the MatMul output")?;
        super::check_work(&[lead.iter().product(), k, b.shape()[1]], &format!("MatMul {:?} × {:?}", a.shape(), b.shape()))?;
        let a2 = to2d(a.clone())?;
        let b2: ndarray::Array2<f32> = b.clone().into_dimensionality().unwrap();
        let y = a2.dot(&b2);
        return y.into_shape_with_order(IxDyn(&shape)).map_err(|e| e.to_string());
    }
    if a.ndim() < 2 || b.ndim() < 2 {
        return Err("MatMul with 1-D operands is not supported".into());
    }
    let (m, k, n) = (a.shape()[a.ndim() - 2], a.shape()[a.ndim() - 1], b.shape()[b.ndim() - 1]);
    if b.shape()[b.ndim() - 2] != k {
        return Err(format!("MatMul shapes {:?} × {:?}", a.shape(), b.shape()));
    }
    let batch = broadcast_shape(&a.shape()[..a.ndim() - 2], &b.shape()[..b.ndim() - 2])?;
    let mut sa = batch.clone();
    sa.extend([m, k]);
    let mut sb = batch.clone();
    sb.extend([k, n]);
    let mut so = batch.clone();
    so.extend([m, n]);
    for (s, what) in [(&sa, "the broadcast MatMul operand A"), (&sb, "the broadcast MatMul operand B"), (&so, "the MatMul output")] {
        super::check_elements(s, what)?;
    }
    super::check_work(&[batch.iter().product(), m, k, n], &format!("MatMul {:?} × {:?}", a.shape(), b.shape()))?;
    let ab = a.broadcast(IxDyn(&sa)).ok_or("broadcast")?.as_standard_layout().into_owned();
    let bb = b.broadcast(IxDyn(&sb)).ok_or("broadcast")?.as_standard_layout().into_owned();
    let nb: usize = batch.iter().product();
    let a3 = ab.into_shape_with_order((nb, m, k)).unwrap();
    let b3 = bb.into_shape_with_order((nb, k, n)).unwrap();
    let mut out = ndarray::Array3::<f32>::zeros((nb, m, n));
    for i in 0..nb {
        out.index_axis_mut(Axis(0), i).assign(&a3.index_axis(Axis(0), i).dot(&b3.index_axis(Axis(0), i)));
    }
    out.into_shape_with_order(IxDyn(&so)).map_err(|e| e.to_string())
}

fn lower(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let at = n.input(0).ok_or("input missing")?;
    if g.is_const(at) {
        return Err("a constant left operand is not supported (only run-time × constant)".into());
    }
    let x = l.id(at)?;
    let bt = n.input(1).ok_or("input missing")?;
    if n.op == "MatMul" && !g.is_const(bt) {
        // two run-time tensors
        if n.input(2).is_some() {
            return Err("a bias on a product of two run-time tensors is not supported".into());
        }
        let b = l.id(bt)?;
        if g.shape(at).len() < 2 || g.shape(bt).len() < 2 {
            return Err("MatMul of run-time tensors needs operands of rank ≥ 2".into());
        }
        return emit_matmul(l, n, x, b);
    }
    let b = l.const_value(n.input(1)).ok_or("products of two run-time tensors are not supported for Gemm")?.to_f32();
    if n.op == "MatMul" && b.ndim() > 2 {
        return lower_batched_constant(l, n, x, bt, &b);
    }
    if b.ndim() != 2 {
        return Err(format!("the constant operand must be a matrix, it has shape {:?}", b.shape()));
    }
    let (w, bias): (ArrayD<f32>, Option<Vec<f32>>) = if n.op == "Gemm" {
        let ga = GemmAttrs::parse(n);
        if ga.trans_a {
            return Err("Gemm with transA=1 is not supported".into());
        }
        let wt = if ga.trans_b { b.clone() } else { b.t().to_owned() };
        let wt = wt * ga.alpha;
        let rows = if ga.trans_b { b.shape()[0] } else { b.shape()[1] };
        (wt, bias_vector(l, n, rows, ga.beta)?)
    } else {
        let cols = b.shape()[1];
        (b.t().to_owned(), bias_vector(l, n, cols, 1.0)?)
    };
    // the output channels are B's columns, or its rows for Gemm with transB
    let channel = if n.op == "Gemm" && GemmAttrs::parse(n).trans_b { 0 } else { 1 };
    if lower_integer(l, n, x, &w, bias.as_deref())?
        || l.is_wide_dense(n) && lower_wide(l, n, x, &w, bias.as_deref())?
        || lower_grid(l, n, x, bt, channel, &w, bias.as_deref())?
    {
        return Ok(());
    }
    let y = n.outputs[0];
    let (qi, qo) = (l.quant(x), l.output_quant(n, y)?);
    let (weights, bias_q, multipliers) = quantize_weights(&w, 0, bias.as_deref(), qi, qo)?;
    let (nout, k) = (w.shape()[0], w.shape()[1]);
    let d = Dense {
        in_features: k as u32,
        out_features: nout as u32,
        input_zero_point: qi.zero_point,
        weights,
        bias: bias_q,
        epilogue: epilogue(n, multipliers, qo),
    };
    let o = l.out(y, qo);
    l.emit(&n.name, Op::Dense(d), vec![x], vec![o]);
    Ok(())
}

/// A dense layer at a wide precision (`DenseWide`, `w` as `[N, K]`): int16 output between wide
/// layers, the int32 accumulator for a model output with no fused clamp, int8 otherwise.
/// Emits nothing and says `false` when both its input and its output would be int8 (an int8
/// `Dense` is the same layer, cheaper).
fn lower_wide(l: &mut Lowering<'_>, n: &Node, x: TensorId, w: &ArrayD<f32>, bias: Option<&[f32]>) -> R<bool> {
    let y = n.outputs[0];
    let g = l.g;
    let accumulator = l.only_reaches_output(y) && n.attr("solidml.clamp").is_none() && !g.prescribed.contains_key(&y);
    if !accumulator && !l.is_wide_tensor(y) && l.model.tensor(x).dtype == DType::I8 {
        return Ok(false);
    }
    emit_wide(l, n, x, l.quant(x), w, bias, accumulator)?;
    Ok(true)
}

/// Emit `n` as a `DenseWide` of input `x` (quantization `qi`) by the real weights `w` (`[N, K]`)
/// and bias: its output the int32 accumulator when `accumulator` (rescaled to int32 codes over
/// twice the calibrated range when the accumulator is finer than that holds), else the
/// activation quantization of `n`'s output (int16 between wide layers, int8 otherwise).
pub(crate) fn emit_wide(
    l: &mut Lowering<'_>,
    n: &Node,
    x: TensorId,
    qi: Quant,
    w: &ArrayD<f32>,
    bias: Option<&[f32]>,
    accumulator: bool,
) -> R<()> {
    let y = n.outputs[0];
    let (weights, bias_q, acc_scales) = quantize_wide_weights(w, bias, qi, l.precision.weight_max(), accumulator)?;
    let (nout, k) = (w.shape()[0], w.shape()[1]);
    let (dtype, qo, multipliers) = if accumulator {
        // the calibrated range with room for twice its magnitude, in int32 codes
        let (lo, hi) = l.range_of(y)?;
        let reach = 2.0 * (lo.abs().max(hi.abs()) as f64).max(f64::MIN_POSITIVE);
        if reach / acc_scales[0] < 2f64.powi(31) {
            // the accumulator itself fits: one scale for all features (per-tensor weights)
            let q = Quant { scale: acc_scales[0] as f32, zero_point: 0 };
            if !(q.scale.is_finite() && q.scale > 0.0) {
                return Err(format!("the accumulator scale {:e} is not a positive f32", acc_scales[0]));
            }
            (DType::I32, q, vec![])
        } else {
            // a finer accumulator (16x16 weights): rescaled to int32 codes over that reach
            let q = Quant { scale: (reach / 2f64.powi(31)) as f32, zero_point: 0 };
            let multipliers = acc_scales.iter().map(|s| multiplier(s / q.scale as f64)).collect::<R<Vec<_>>>()?;
            (DType::I32, q, multipliers)
        }
    } else {
        let (qo, dtype) = l.activation_quant(y)?;
        let multipliers = acc_scales.iter().map(|s| multiplier(s / qo.scale as f64)).collect::<R<Vec<_>>>()?;
        (dtype, qo, multipliers)
    };
    let (clamp_min, clamp_max) = wide_clamp(n, qo, dtype.code_range().expect("a quantized type"));
    let d = DenseWide {
        in_features: k as u32,
        out_features: nout as u32,
        input_zero_point: qi.zero_point,
        weights,
        bias: bias_q,
        multipliers,
        output_zero_point: qo.zero_point,
        clamp_min,
        clamp_max,
    };
    let o = l.typed_out(y, dtype, qo);
    l.emit(&n.name, Op::DenseWide(d), vec![x], vec![o]);
    Ok(())
}

/// Spec `MatMul` of the int8 tensors `a` and `b` (each keeps its quantization) into `n`'s output.
fn emit_matmul(l: &mut Lowering<'_>, n: &Node, a: TensorId, b: TensorId) -> R<()> {
    let (qa, qb) = (l.quant(a), l.quant(b));
    let y = n.outputs[0];
    let qo = l.output_quant(n, y)?;
    let mm = solidml_spec::MatMul {
        a_zero_point: qa.zero_point,
        b_zero_point: qb.zero_point,
        multiplier: multiplier(qa.scale as f64 * qb.scale as f64 / qo.scale as f64)?,
        output_zero_point: qo.zero_point,
    };
    let o = l.out(y, qo);
    l.emit(&n.name, Op::MatMul(mm), vec![a, b], vec![o]);
    Ok(())
}

/// A MatMul of a run-time tensor by a constant of rank > 2 (weights per batch): spec `MatMul`
/// with the constant as an int8 tensor, the model's own codes when it has a per-tensor grid
/// (`Graph::grids`: QLinearMatMul, QDQ weights; then the sums are exact), otherwise quantized
/// over its range.
fn lower_batched_constant(l: &mut Lowering<'_>, n: &Node, x: TensorId, bt: Tid, b: &ArrayD<f32>) -> R<()> {
    if n.input(2).is_some() {
        return Err("a bias on a product by a constant of rank > 2 is not supported".into());
    }
    if l.shape_of(x).len() < 2 {
        return Err("MatMul by a constant of rank > 2 needs a left operand of rank ≥ 2".into());
    }
    let (codes, q) = grid_codes(l.g, bt, b).unwrap_or_else(|| {
        let (lo, hi) = b.iter().fold((0f32, 0f32), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let q = quant_from_range(lo, hi);
        (b.iter().map(|&v| quantize_f32(v, q.scale, q.zero_point)).collect(), q)
    });
    let c = l.tensor(&format!("{}.weights", n.name), b.shape(), DType::I8, Some(q));
    l.model.constants.push((c, ConstData::I8(codes)));
    emit_matmul(l, n, x, c)
}

/// A product by weights that a DequantizeLinear of 8-bit integers produced (`Graph::grids`: QDQ
/// and QOperator models), with the model's own integers `k` and per-channel scales, so the sums
/// are onnxruntime's exactly: `Dense` when every `|k| ≤ 127`, else `DenseWide` (int16 weights
/// between int8 tensors: uint8 weights with a zero point reach ±255). `w` is `[N, K]`, read from
/// the constant `bt` whose axis `channel` is N. Emits nothing and says `false` when `bt` has no
/// grid or `w` is off it (scaled by Gemm's `alpha`, say).
fn lower_grid(l: &mut Lowering<'_>, n: &Node, x: TensorId, bt: Tid, channel: usize, w: &ArrayD<f32>, bias: Option<&[f32]>) -> R<bool> {
    let Some((ks, scales)) = grid_rows(l.g, bt, channel, w, 32767.0) else { return Ok(false) };
    let y = n.outputs[0];
    let (qi, qo) = (l.quant(x), l.output_quant(n, y)?);
    let (nout, k) = (w.shape()[0], w.shape()[1]);
    let acc_scales: Vec<f64> = scales.iter().map(|&s| qi.scale as f64 * s as f64).collect();
    let mut bias_q = Vec::with_capacity(nout);
    for (j, acc) in acc_scales.iter().enumerate() {
        let b = (bias.map_or(0.0, |b| b[j] as f64) / acc).round();
        if !(b.is_finite() && b.abs() <= 2f64.powi(52)) {
            return Ok(false);
        }
        bias_q.push(b as i64);
    }
    let multipliers = acc_scales.iter().map(|a| multiplier(a / qo.scale as f64)).collect::<R<Vec<_>>>()?;
    let bound = |j: usize, code_span: i64| -> i128 {
        ks[j * k..(j + 1) * k].iter().map(|&v| v.unsigned_abs() as i128 * code_span as i128).sum::<i128>()
            + bias_q[j].unsigned_abs() as i128
    };
    let narrow = ks.iter().all(|v| v.abs() <= 127) && (0..nout).all(|j| bias_q[j].abs() <= 1 << 30 && bound(j, 255) <= i32::MAX as i128);
    let op = if narrow {
        Op::Dense(Dense {
            in_features: k as u32,
            out_features: nout as u32,
            input_zero_point: qi.zero_point,
            weights: ks.iter().map(|&v| v as i8).collect(),
            bias: bias_q.iter().map(|&b| b as i32).collect(),
            epilogue: epilogue(n, multipliers, qo),
        })
    } else {
        if (0..nout).any(|j| bound(j, 65535) > 1i128 << 62) {
            return Ok(false);
        }
        let (clamp_min, clamp_max) = wide_clamp(n, qo, (-128, 127));
        Op::DenseWide(DenseWide {
            in_features: k as u32,
            out_features: nout as u32,
            input_zero_point: qi.zero_point,
            weights: ks.iter().map(|&v| v as i16).collect(),
            bias: bias_q,
            multipliers,
            output_zero_point: qo.zero_point,
            clamp_min,
            clamp_max,
        })
    };
    let o = l.out(y, qo);
    l.emit(&n.name, op, vec![x], vec![o]);
    Ok(true)
}

/// A MatMul by a constant whose output is ONNX's exact int32 (attribute `solidml.integer`, from
/// MatMulInteger) and a model output: `DenseWide` with the integer weights themselves and no
/// multiplier, so the output is the int32 accumulator `Σ (a − a_zp) · (b − b_zp)` exactly (scale
/// 1). Needs integer weights within ±32767 (`w` as `[N, K]`) and an integer bias, an input of
/// scale 1 (the codes of integers) and no fused clamp; emits nothing and says `false` otherwise.
fn lower_integer(l: &mut Lowering<'_>, n: &Node, x: TensorId, w: &ArrayD<f32>, bias: Option<&[f32]>) -> R<bool> {
    let y = n.outputs[0];
    let qi = l.quant(x);
    let whole = |v: f32, max: f32| v.fract() == 0.0 && v.abs() <= max;
    let exact = n.attr(INTEGER_ATTR).is_some()
        && n.attr("solidml.clamp").is_none()
        && !l.g.prescribed.contains_key(&y)
        && l.only_reaches_output(y)
        && qi.scale == 1.0
        && l.model.tensor(x).dtype == DType::I8
        && w.iter().all(|&v| whole(v, 32767.0))
        && bias.is_none_or(|b| b.iter().all(|&v| whole(v, 2f32.powi(52))));
    if !exact {
        return Ok(false);
    }
    let (nout, k) = (w.shape()[0], w.shape()[1]);
    let weights: Vec<i16> = w.iter().map(|&v| v as i16).collect();
    let bias: Vec<i64> = (0..nout).map(|j| bias.map_or(0, |b| b[j] as i64)).collect();
    for (j, row) in weights.chunks(k.max(1)).enumerate() {
        let bound: i128 = row.iter().map(|&v| (v as i128).abs() * 65535).sum::<i128>() + (bias[j] as i128).abs();
        if bound > 1i128 << 62 {
            return Err(format!("output feature {j}: the exact integer product could pass 2^62 (bound {bound})"));
        }
    }
    let (clamp_min, clamp_max) = DType::I32.code_range().expect("a quantized type");
    let d = DenseWide {
        in_features: k as u32,
        out_features: nout as u32,
        input_zero_point: qi.zero_point,
        weights,
        bias,
        multipliers: vec![],
        output_zero_point: 0,
        clamp_min: clamp_min as i32,
        clamp_max: clamp_max as i32,
    };
    let o = l.typed_out(y, DType::I32, Quant { scale: 1.0, zero_point: 0 });
    l.emit(&n.name, Op::DenseWide(d), vec![x], vec![o]);
    Ok(true)
}

/// The bias input 2 as a vector over the `outs` outputs (a scalar is repeated), times `beta`.
fn bias_vector(l: &Lowering<'_>, n: &Node, outs: usize, beta: f32) -> R<Option<Vec<f32>>> {
    let Some(t) = n.input(2) else { return Ok(None) };
    let c = l.const_value(Some(t)).ok_or("the bias must be a constant")?.to_f32();
    let v: Vec<f32> = c.iter().map(|&x| x * beta).collect();
    if v.len() == outs {
        Ok(Some(v))
    } else if v.len() == 1 {
        Ok(Some(vec![v[0]; outs]))
    } else {
        Err(format!("bias of shape {:?} is not a vector over the {outs} outputs", c.shape()))
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn};
    use solidml_spec::{DType, Op};

    use crate::{
        CompileOptions, Precision, compile_graph,
        ir::Attr,
        passes::testutil::{constant, graph, node, output},
    };

    /// x → MatMul → Add → Relu → MatMul → Add → Reshape (the shape of skl2onnx's regressors).
    fn regressor() -> crate::ir::Graph {
        let mut g = graph(&[("x", &[1, 3])]);
        let w1 = constant(&mut g, "w1", &[3, 4], (0..12).map(|i| (i as f32 - 5.5) / 7.0).collect());
        let b1 = constant(&mut g, "b1", &[4], vec![0.1, -0.2, 0.3, 0.05]);
        let w2 = constant(&mut g, "w2", &[4, 1], vec![0.9, -0.4, 0.7, 0.2]);
        let b2 = constant(&mut g, "b2", &[1], vec![150.0]);
        let shape = g.add_tensor("shape", false);
        g.tensors[shape].shape = Some(vec![2]);
        g.consts.insert(shape, crate::ir::Value::Int(ArrayD::from_shape_vec(IxDyn(&[2]), vec![-1, 1]).unwrap()));
        let h = node(&mut g, "MatMul", &[0, w1], vec![]);
        let h = node(&mut g, "Add", &[h, b1], vec![]);
        let h = node(&mut g, "Relu", &[h], vec![]);
        let y = node(&mut g, "MatMul", &[h, w2], vec![]);
        let y = node(&mut g, "Add", &[y, b2], vec![]);
        let y = node(&mut g, "Reshape", &[y, shape], vec![("allowzero", Attr::Int(0))]);
        output(&mut g, y);
        g
    }

    fn calibration() -> Vec<ArrayD<f32>> {
        vec![ArrayD::from_shape_vec(IxDyn(&[8, 3]), (0..24).map(|i| ((i * 7) % 11) as f32 / 5.0 - 1.0).collect()).unwrap()]
    }

    #[test]
    fn wide_precision_gives_int16_activations_and_an_int32_regression_output() {
        for (precision, wmax) in [(Precision::Int16, 127), (Precision::Int16x16, 32767)] {
            let opts = CompileOptions::default().with_calibration(calibration()).with_precision(precision);
            let c = compile_graph(&mut regressor(), "r", &opts).unwrap();
            let m = &c.model;
            // two wide dense layers, the ReLU fused, the no-op Reshape gone
            let ops: Vec<&str> = m.nodes.iter().map(|n| n.op.kind()).collect();
            assert_eq!(ops, ["DenseWide", "DenseWide"], "{precision:?}");
            let dtype = |id| m.tensor(id).dtype;
            assert_eq!(dtype(m.inputs[0]), DType::I16);
            assert_eq!(dtype(m.nodes[0].outputs[0]), DType::I16);
            assert_eq!(dtype(m.outputs[0]), DType::I32);
            let Op::DenseWide(first) = &m.nodes[0].op else { unreachable!() };
            assert_eq!(first.weights.iter().map(|w| w.unsigned_abs()).max(), Some(wmax), "{precision:?}");
            assert_eq!(first.clamp_min, m.tensor(m.nodes[0].outputs[0]).quant.unwrap().zero_point, "the fused ReLU");
            let Op::DenseWide(last) = &m.nodes[1].op else { unreachable!() };
            let q = m.tensor(m.outputs[0]).quant.unwrap();
            if last.multipliers.is_empty() {
                // the accumulator itself, at scale s_in · s_w (an f32: 2^-24 relative): the bias
                // 150 comes back
                assert!((last.bias[0] as f64 * q.scale as f64 - 150.0).abs() <= 150.0 * 2f64.powi(-23), "{} · {:e}", last.bias[0], q.scale);
            } else {
                // an accumulator too fine for int32: int32 codes over twice the calibrated range
                let (lo, hi) = (q.real(i32::MIN), q.real(i32::MAX));
                assert!(lo < -150.0 && hi > 150.0 && hi < 1e4, "[{lo}, {hi}]");
            }
        }
    }

    #[test]
    fn int8_precision_is_unchanged() {
        let opts = CompileOptions::default().with_calibration(calibration());
        let c = compile_graph(&mut regressor(), "r", &opts).unwrap();
        let ops: Vec<&str> = c.model.nodes.iter().map(|n| n.op.kind()).collect();
        assert_eq!(ops, ["Dense", "Dense", "View"]);
        assert!(c.model.tensors.iter().all(|t| t.dtype == DType::I8));
    }
}
