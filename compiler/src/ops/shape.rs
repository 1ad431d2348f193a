//! Ops that only move data: `Reshape` (`allowzero`), `Flatten` (`axis`), `Squeeze` and
//! `Unsqueeze` (axes from the attribute, or the constant input 1 from opset 13), `Transpose`
//! (`perm`, default reversed), `Expand` and `Tile` (constant shape / repeats), and the
//! pass-through ops `Identity`, `Dropout` (inference mode) and `Cast`.
//!
//! Float semantics on `f32` or `i64` values alike. Lowering: spec `View`s (strided reads of
//! the input, which keep its type and quantization); a Cast of integers to a real type reads a
//! table of codes ([`integer_to_real`]), to a boolean compares with 0 ([`integer_to_boolean`]).

use ndarray::{ArrayD, IxDyn};
use solidml_spec::{DType, Op, View};

use super::{OpDef, R, input};
use crate::{
    float::{broadcast_shape, map_value, norm_axis, reshape},
    ir::{Graph, Node, Value},
    quantize::{Lowering, broadcast_strides, row_major, u32s},
};

pub(crate) const OPS: &[OpDef] = &[
    OpDef::new("", "Cast", eval_cast, lower_reshape),
    OpDef::new("", "CastLike", eval_cast, lower_reshape),
    OpDef::new("", "Dropout", eval_identity, lower_reshape),
    OpDef::new("", "Expand", eval_expand, lower_expand),
    OpDef::new("", "Flatten", eval_flatten, lower_reshape),
    OpDef::new("", "Identity", eval_identity, lower_reshape),
    OpDef::new("", "Reshape", eval_reshape, lower_reshape),
    OpDef::new("", "Squeeze", eval_squeeze, lower_reshape),
    OpDef::new("", "Tile", eval_tile, lower_tile),
    OpDef::new("", "Transpose", eval_transpose, lower_transpose),
    OpDef::new("", "Unsqueeze", eval_squeeze, lower_reshape),
];

/// ONNX `TensorProto.DataType`s of the real types: float, float16, double, bfloat16, the float8
/// formats (E4M3FN, E4M3FNUZ, E5M2, E5M2FNUZ, E8M0) and FLOAT4E2M1.
pub fn is_float_type(to: i64) -> bool {
    matches!(to, 1 | 10 | 11 | 16..=20 | 23 | 24)
}

/// A real format of 8 bits or fewer that a Cast rounds to (round to nearest, ties to even, as
/// ONNX's Cast and `ml_dtypes` do): float16 and bfloat16 keep more than an int8 code holds and
/// are cast as the identity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct NarrowFloat {
    /// Stored mantissa bits.
    mantissa: i32,
    /// Exponent of the smallest normal number (below it the spacing stays `2^(min_exp − mantissa)`).
    min_exp: i32,
    /// Largest finite magnitude.
    max: f64,
    /// Whether the format has infinities (else an overflow without saturation is NaN).
    infinities: bool,
}

impl NarrowFloat {
    /// The format of ONNX type `to`, if it is one (FLOAT8E8M0, which rounds by its own
    /// `round_mode`, is refused by [`eval_cast`]).
    pub(crate) fn of(to: i64) -> Option<NarrowFloat> {
        let f = |mantissa, min_exp, max, infinities| Some(NarrowFloat { mantissa, min_exp, max, infinities });
        match to {
            17 => f(3, -6, 448.0, false),    // FLOAT8E4M3FN
            18 => f(3, -7, 240.0, false),    // FLOAT8E4M3FNUZ
            19 => f(2, -14, 57344.0, true),  // FLOAT8E5M2
            20 => f(2, -15, 57344.0, false), // FLOAT8E5M2FNUZ
            23 => f(1, 0, 6.0, false),       // FLOAT4E2M1
            _ => None,
        }
    }

    /// `x` rounded to the format; beyond its largest value, that value (`saturate`, ONNX's
    /// default) or infinity / NaN.
    pub(crate) fn round(self, x: f32, saturate: bool) -> f32 {
        let a = (x as f64).abs();
        if x.is_nan() || a == 0.0 {
            return x;
        }
        let overflow = |x: f32| -> f32 {
            if saturate {
                (self.max as f32).copysign(x)
            } else if self.infinities {
                f32::INFINITY.copysign(x)
            } else {
                f32::NAN
            }
        };
        if a.is_infinite() {
            return overflow(x);
        }
        // the binade of a (log2 corrected at exact powers of two), not below the normals'
        let mut e = a.log2().floor() as i32;
        if 2f64.powi(e) > a {
            e -= 1;
        } else if 2f64.powi(e + 1) <= a {
            e += 1;
        }
        let quantum = 2f64.powi(e.max(self.min_exp) - self.mantissa);
        let q = (a / quantum).round_ties_even() * quantum;
        if q > self.max { overflow(x) } else { (q as f32).copysign(x) }
    }
}

/// The ONNX type a Cast or CastLike node converts to.
fn cast_target(g: &Graph, n: &Node) -> i64 {
    if n.op == "CastLike" { n.input(1).map_or(1, |t| g.tensors[t].onnx_type as i64) } else { n.int("to", 1) }
}

/// The narrow real format a Cast or CastLike node `n` rounds to, if any.
pub(crate) fn cast_rounding(g: &Graph, n: &Node) -> Option<NarrowFloat> {
    (n.domain.is_empty() && matches!(n.op.as_str(), "Cast" | "CastLike")).then(|| NarrowFloat::of(cast_target(g, n))).flatten()
}

/// ONNX `TensorProto.DataType` BOOL.
const BOOL: i64 = 9;

/// `Cast` to the type `to`, `CastLike` to the type of input 1: real or integer; to BOOL, 1 where
/// the value is non-zero, else 0 (a boolean is the reals 0 and 1).
fn eval_cast(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let v = input(ins, 0)?;
    if n.op == "Cast" && n.int("to", 1) == BOOL {
        return Ok(vec![Value::Float(v.to_f32().mapv(|x| (x != 0.0) as u8 as f32))]);
    }
    if n.domain.is_empty() && cast_target(g, n) == 24 {
        return Err("a Cast to FLOAT8E8M0 (rounded by `round_mode`) is not supported".into());
    }
    if let Some(format) = cast_rounding(g, n) {
        let saturate = n.int("saturate", 1) != 0;
        return Ok(vec![Value::Float(v.to_f32().mapv(|x| format.round(x, saturate)))]);
    }
    let to_float = if n.op == "CastLike" { matches!(input(ins, 1)?, Value::Float(_)) } else { is_float_type(n.int("to", 1)) };
    if let (Value::Float(r), false, Some((width, signed))) = (v, to_float, integer_type(cast_target(g, n))) {
        return Ok(vec![Value::Int(r.mapv(|x| real_to_int(x as f64, width, signed)))]);
    }
    Ok(vec![if to_float { Value::Float(v.to_f32()) } else { Value::Int(v.to_i64()) }])
}

/// Whether Dropout node `n` forwards its input: inference mode (`training_mode`, input 2,
/// absent or a constant false) or a constant `ratio` (input 1) of 0.
pub(crate) fn dropout_is_identity(g: &Graph, n: &Node) -> bool {
    let constant = |i: usize| n.input(i).map(|t| g.consts.get(&t).map(|v| v.to_f32().iter().next().copied().unwrap_or(0.0)));
    match constant(2) {
        None | Some(Some(0.0)) => true,
        Some(None) => false,
        Some(Some(_)) => constant(1) == Some(Some(0.0)),
    }
}

fn eval_identity(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let v = input(ins, 0)?.clone();
    if n.op == "Dropout" && n.input(2).is_some() {
        // training mode (input 2) drops a random share `ratio` (input 1, default 0.5)
        super::constant_parameter(g, n, 2, "training_mode")?;
        super::constant_parameter(g, n, 1, "the ratio")?;
        let training = ins.get(2).copied().flatten().is_some_and(|t| t.to_f32().iter().any(|&b| b != 0.0));
        let ratio = ins.get(1).copied().flatten().map_or(0.5, |r| r.to_f32().iter().next().copied().unwrap_or(0.5));
        if training && ratio != 0.0 {
            return Err(format!("Dropout in training mode (ratio {ratio}) draws a random mask: it has no deterministic form"));
        }
    }
    let mut outs = vec![v.clone()];
    if n.outputs.len() > 1 {
        // Dropout's mask: all kept
        outs.push(Value::Int(ArrayD::from_elem(IxDyn(&v.shape()), 1)));
    }
    Ok(outs)
}

fn eval_reshape(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    super::constant_parameter(g, n, 1, "the target shape")?;
    let v = input(ins, 0)?;
    let target: Vec<i64> = input(ins, 1)?.to_i64().iter().copied().collect();
    let shape = reshape_target(&v.shape(), &target, n.int("allowzero", 0) != 0)?;
    Ok(vec![reshape(v, &shape)?])
}

/// Reshape's target shape resolved against the input shape (`-1` inferred, `0` copies the
/// input dimension unless `allowzero`).
pub fn reshape_target(input: &[usize], target: &[i64], allow_zero: bool) -> R<Vec<usize>> {
    let total: usize = input.iter().product();
    let mut out: Vec<usize> = Vec::with_capacity(target.len());
    let mut infer = None;
    for (i, &d) in target.iter().enumerate() {
        match d {
            -1 => {
                infer = Some(i);
                out.push(1);
            }
            0 if !allow_zero => out.push(*input.get(i).ok_or("reshape 0 beyond input rank")?),
            d if d >= 0 => out.push(d as usize),
            _ => return Err(format!("bad reshape dimension {d}")),
        }
    }
    if target.len() > super::MAX_EVAL_RANK {
        return Err(format!("cannot reshape {input:?} to rank {}", target.len()));
    }
    let product = |s: &[usize]| s.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    if let Some(i) = infer {
        let known = product(&out).unwrap_or(0);
        if known == 0 || !total.is_multiple_of(known) {
            return Err(format!("cannot infer -1 reshaping {input:?} to {target:?}"));
        }
        out[i] = total / known;
    }
    if product(&out) != Some(total) {
        return Err(format!("cannot reshape {input:?} to {target:?}"));
    }
    Ok(out)
}

fn eval_flatten(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let v = input(ins, 0)?;
    let s = v.shape();
    let a = norm_axis_incl(n.int("axis", 1), s.len())?;
    Ok(vec![reshape(v, &[s[..a].iter().product(), s[a..].iter().product()])?])
}

/// An axis in `[-rank, rank]` (Flatten's axis may equal the rank).
fn norm_axis_incl(a: i64, rank: usize) -> R<usize> {
    let r = rank as i64;
    let v = if a < 0 { a + r } else { a };
    if v < 0 || v > r {
        return Err(format!("axis {a} out of range for rank {rank}"));
    }
    Ok(v as usize)
}

fn eval_squeeze(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let v = input(ins, 0)?;
    let s = v.shape();
    super::constant_parameter(g, n, 1, "the axes")?;
    let axes = match ins.get(1).copied().flatten() {
        Some(a) => a.to_i64().iter().copied().collect(),
        None => n.ints("axes").unwrap_or_default(),
    };
    let shape = if n.op == "Squeeze" {
        let axes: Vec<usize> = axes.iter().map(|&a| norm_axis(a, s.len())).collect::<R<_>>()?;
        s.iter().enumerate().filter(|(i, d)| if axes.is_empty() { **d != 1 } else { !axes.contains(i) }).map(|(_, &d)| d).collect()
    } else {
        let rank = s.len() + axes.len();
        if rank > super::MAX_EVAL_RANK {
            return Err(format!("Unsqueeze of {s:?} by {} axes: rank {rank}, more than {}", axes.len(), super::MAX_EVAL_RANK));
        }
        let axes: Vec<usize> = axes.iter().map(|&a| norm_axis(a, rank)).collect::<R<_>>()?;
        let mut it = s.iter();
        (0..rank).map(|i| if axes.contains(&i) { 1 } else { *it.next().unwrap_or(&1) }).collect::<Vec<_>>()
    };
    Ok(vec![reshape(v, &shape)?])
}

/// Transpose's `perm` (default: the axes reversed).
fn perm(n: &Node, rank: usize) -> Vec<usize> {
    n.ints("perm").map(|p| p.iter().map(|&a| a as usize).collect()).unwrap_or_else(|| (0..rank).rev().collect())
}

fn eval_transpose(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let v = input(ins, 0)?;
    let rank = v.shape().len();
    let perm = perm(n, rank);
    if perm.len() != rank || (0..rank).any(|i| !perm.contains(&i)) {
        return Err(format!("perm {perm:?} is not a permutation of rank {rank}"));
    }
    Ok(vec![map_value(
        v,
        |a| a.view().permuted_axes(IxDyn(&perm)).as_standard_layout().to_owned(),
        |a| a.view().permuted_axes(IxDyn(&perm)).as_standard_layout().to_owned(),
    )])
}

fn eval_tile(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    super::constant_parameter(g, n, 1, "the repeats")?;
    let v = input(ins, 0)?;
    let reps: Vec<i64> = input(ins, 1)?.to_i64().iter().copied().collect();
    if reps.len() != v.shape().len() {
        return Err(format!("Tile of {:?} with {} repeats (one per axis)", v.shape(), reps.len()));
    }
    let shape: Vec<usize> =
        v.shape().iter().zip(reps.iter().chain(std::iter::repeat(&1))).map(|(&d, &k)| d.saturating_mul(k.max(0) as usize)).collect();
    super::check_elements(&shape, "the tiled output")?;
    Ok(vec![map_value(v, |a| tile(a, &shape), |a| tile(a, &shape))])
}

/// `a` repeated to `shape` (each axis a multiple of `a`'s): one pass over the output, so an
/// empty input repeated any number of times costs nothing.
fn tile<T: Clone>(a: &ArrayD<T>, shape: &[usize]) -> ArrayD<T> {
    let src = a.shape();
    let mut at = vec![0usize; src.len()];
    ArrayD::from_shape_fn(IxDyn(shape), |idx| {
        for (d, i) in at.iter_mut().enumerate() {
            *i = idx[d] % src[d];
        }
        a[IxDyn(&at)].clone()
    })
}

fn eval_expand(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    super::constant_parameter(g, n, 1, "the target shape")?;
    let v = input(ins, 0)?;
    let shape: Vec<i64> = input(ins, 1)?.to_i64().iter().copied().collect();
    let shape: Vec<usize> =
        shape.iter().map(|&d| usize::try_from(d).map_err(|_| format!("Expand to a negative dimension {d}"))).collect::<R<_>>()?;
    let out = broadcast_shape(&v.shape(), &shape)?;
    super::check_elements(&out, "the expanded output")?;
    Ok(vec![map_value(v, |a| a.broadcast(IxDyn(&out)).unwrap().to_owned(), |a| a.broadcast(IxDyn(&out)).unwrap().to_owned())])
}

/// Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout and the Casts (and CastLikes) that
/// keep the kind of value (real or integer): a contiguous View.
pub(crate) fn lower_reshape(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let x = l.id(n.input(0).ok_or("input 0 missing")?)?;
    let y = n.outputs[0];
    if n.domain.is_empty() && n.op == "Cast" && n.int("to", 1) == BOOL {
        // a real to a boolean: 1 where it is non-zero (a table; its zero point reads 0)
        if l.model.tensors[x as usize].dtype == DType::I64 {
            return integer_to_boolean(l, n, x, y);
        }
        let qo = l.range_quant(y)?;
        l.unary_lut(&n.name, x, y, qo, &|v| (v != 0.0) as u8 as f64);
        return Ok(());
    }
    if let Some(format) = cast_rounding(l.g, n).filter(|_| l.model.tensors[x as usize].dtype == DType::I8) {
        // a real rounded to a float8 or float4 format: a table
        let saturate = n.int("saturate", 1) != 0;
        let qo = l.range_quant(y)?;
        l.unary_lut(&n.name, x, y, qo, &|v| format.round(v as f32, saturate) as f64);
        return Ok(());
    }
    let to = if n.domain == "ai.onnx.ml" { n.str("cast_to", "TO_FLOAT") } else { n.int("to", 1).to_string() };
    let want_float = match n.op.as_str() {
        "Cast" => to.parse().is_ok_and(is_float_type) || matches!(to.as_str(), "TO_FLOAT" | "TO_DOUBLE"),
        "CastLike" => n.input(1).is_some_and(|like| l.g.tensors[like].is_float),
        _ => true,
    };
    if l.model.tensors[x as usize].dtype == DType::I64 && want_float && matches!(n.op.as_str(), "Cast" | "CastLike") {
        return integer_to_real(l, n, x, y);
    }
    if l.model.tensors[x as usize].dtype == DType::I8 && !want_float && matches!(n.op.as_str(), "Cast" | "CastLike") {
        return real_to_integer(l, n, x, y, cast_target(l.g, n));
    }
    if l.model.tensors[x as usize].dtype == DType::I8 && !want_float {
        return Err("casting a quantized real tensor to an integer type is not supported".into());
    }
    l.contiguous_view(&n.name, x, y);
    Ok(())
}

/// `(bits, signed)` of an ONNX integer element type (INT4, UINT4, INT8, UINT8, INT16, UINT16,
/// INT32, UINT32, INT64, UINT64); `None` for an unknown (0) or non-integer one.
pub(crate) fn integer_type(onnx_type: i64) -> Option<(u32, bool)> {
    Some(match onnx_type {
        21 => (4, false),
        22 => (4, true),
        2 => (8, false),
        3 => (8, true),
        4 => (16, false),
        5 => (16, true),
        6 => (32, true),
        7 => (64, true),
        12 => (32, false),
        13 => (64, false),
        _ => return None,
    })
}

/// A real cast to an integer type as ONNX's reference (numpy's `astype`) does: toward zero,
/// then wrapped to the type's width (−9 as INT4 is 7).
fn real_to_int(v: f64, width: u32, signed: bool) -> i64 {
    let t = v.trunc() as i64;
    if width >= 64 {
        return t;
    }
    let m = 1i64 << width;
    let u = t.rem_euclid(m);
    if signed && u >= m / 2 { u - m } else { u }
}

/// A quantized real tensor cast to an integer type (`to`): each of the 256 codes has its
/// integer ([`real_to_int`] of its real, or of the integer within half a step of it), read by
/// IntLut at the code, exactly.
fn real_to_integer(l: &mut Lowering<'_>, n: &Node, x: solidml_spec::TensorId, y: usize, to: i64) -> R<()> {
    let (width, signed) = integer_type(to).ok_or_else(|| format!("a Cast of a real to ONNX type {to} is not supported"))?;
    let q = l.quant(x);
    let shape = l.shape_of(x);
    // a code stands for the reals within half a step of its own; when an integer is among them,
    // that integer (casts mostly take integer-valued reals: a Floor's, a Round's), else the
    // code's real
    let table = (-128i32..=127)
        .map(|c| {
            let r = (c - q.zero_point) as f64 * q.scale as f64;
            let snapped = if (r - r.round()).abs() <= q.scale as f64 / 2.0 { r.round() } else { r };
            real_to_int(snapped, width, signed)
        })
        .collect();
    let o = l.tensor(l.g.name(y), &shape, DType::I64, None);
    l.map.insert(y, o);
    l.emit(&n.name, Op::IntLut { table }, vec![x], vec![o]);
    Ok(())
}

/// Most integers [`integer_to_real`] tabulates.
pub(crate) const CAST_TABLE_MAX: i64 = 1 << 16;

/// An i64 tensor cast to a real one: `y = quantize(clamp(x, lo, hi))`, with `lo..=hi` the
/// integers of the output's calibrated range (or of its prescribed quantization). A table of
/// the codes of `lo..=hi` is read by GatherDynamic at `clamp(x, lo, hi) − lo` (IntBinary Max,
/// Min, Sub): exact, and an integer outside the range saturates as a real outside its
/// quantization does. At most [`CAST_TABLE_MAX`] integers.
fn integer_to_real(l: &mut Lowering<'_>, n: &Node, x: solidml_spec::TensorId, y: usize) -> R<()> {
    let qo = l.range_quant(y)?;
    let (lo, hi) = match l.calibrated_range(y) {
        Some((lo, hi)) => (lo.floor() as i64, hi.ceil() as i64),
        None => (qo.real(-128).ceil() as i64, qo.real(127).floor() as i64),
    };
    integers_to_real(l, n, x, y, (lo, hi), &|v| v as f64).map_err(|e| format!("casting integers to a real type: {e}"))
}

/// The i64 tensor `x` mapped by `f` to the real tensor `y` (quantized by its calibrated range):
/// a table of the codes of `f(lo..=hi)` read by GatherDynamic at `clamp(x, lo, hi) − lo`
/// (IntBinary Max, Min, Sub), exact within `lo..=hi` (at most [`CAST_TABLE_MAX`] integers) and
/// saturating outside it. Used by integer Casts and by DequantizeLinear of integers wider or
/// narrower than 8 bits.
pub(crate) fn integers_to_real(
    l: &mut Lowering<'_>,
    n: &Node,
    x: solidml_spec::TensorId,
    y: usize,
    (lo, hi): (i64, i64),
    f: &dyn Fn(i64) -> f64,
) -> R<()> {
    use super::gather_elements::{const_i8, const_i64, int_binary};
    let qo = l.range_quant(y)?;
    let count = hi.saturating_sub(lo).saturating_add(1);
    if !(1..=CAST_TABLE_MAX).contains(&count) {
        return Err(format!("the integer range {lo}..={hi} holds more than {CAST_TABLE_MAX} integers"));
    }
    let name = |s: &str| format!("{}.{s}", n.name);
    let codes = (lo..=hi).map(|v| solidml_spec::io::quantize_f32(f(v) as f32, qo.scale, qo.zero_point)).collect();
    let table = const_i8(l, &name("codes"), &[count as usize], codes, qo);
    let (lo_t, hi_t) = (const_i64(l, &name("low"), &[], vec![lo]), const_i64(l, &name("high"), &[], vec![hi]));
    let above = int_binary(l, &name("at_least_low"), solidml_spec::IntBinaryKind::Max, x, lo_t)?;
    let within = int_binary(l, &name("at_most_high"), solidml_spec::IntBinaryKind::Min, above, hi_t)?;
    let index = int_binary(l, &name("index"), solidml_spec::IntBinaryKind::Sub, within, lo_t)?;
    let o = l.out(y, qo);
    l.emit(&n.name, Op::GatherDynamic { axis: 0 }, vec![table, index], vec![o]);
    Ok(())
}

/// An i64 tensor cast to a boolean (the reals 0 and 1): IntCompare Equal against 0, with the
/// code of 0 where it holds and the code of 1 elsewhere.
fn integer_to_boolean(l: &mut Lowering<'_>, n: &Node, x: solidml_spec::TensorId, y: usize) -> R<()> {
    let qo = l.range_quant(y)?;
    let code = |v: f32| solidml_spec::io::quantize_f32(v, qo.scale, qo.zero_point);
    let zero = super::gather_elements::const_i64(l, &format!("{}.zero", n.name), &[], vec![0]);
    let o = l.out(y, qo);
    let compare = solidml_spec::IntCompare { kind: solidml_spec::CompareKind::Equal, true_code: code(0.0), false_code: code(1.0) };
    l.emit(&n.name, Op::IntCompare(compare), vec![x, zero], vec![o]);
    Ok(())
}

fn lower_transpose(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let xt = n.input(0).ok_or("input 0 missing")?;
    let x = l.id(xt)?;
    let shape = g.shape(xt);
    let perm = perm(n, shape.len());
    let st = row_major(shape);
    let strides = perm.iter().map(|&p| st[p] as i64).collect();
    l.view(&n.name, x, n.outputs[0], 0, strides);
    Ok(())
}

fn lower_expand(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let xt = n.input(0).ok_or("input 0 missing")?;
    let x = l.id(xt)?;
    let y = n.outputs[0];
    let (si, so) = (u32s(g.shape(xt)), u32s(g.shape(y)));
    let strides = broadcast_strides(&si, &so);
    l.view(&n.name, x, y, 0, strides);
    Ok(())
}

fn lower_tile(l: &mut Lowering<'_>, n: &Node, ins: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let xt = n.input(0).ok_or("input 0 missing")?;
    let x = l.id(xt)?;
    let y = n.outputs[0];
    let shape = g.shape(xt).to_vec();
    let reps: Vec<usize> =
        ins.get(1).copied().flatten().ok_or("Tile repeats must be constant")?.to_i64().iter().map(|&r| r.max(0) as usize).collect();
    let st = row_major(&shape);
    // out[r0, d0, r1, d1, …] = in[d0, d1, …]: a view with zero strides on the
    // repeat axes, then a contiguous reshape to [r0·d0, r1·d1, …]
    let mut mid_shape = vec![];
    let mut strides = vec![];
    for (k, &d) in shape.iter().enumerate() {
        mid_shape.extend([reps[k], d]);
        strides.extend([0i64, st[k] as i64]);
    }
    let info = l.model.tensors[x as usize].clone();
    let mid = l.tensor(&format!("{}.tiled", g.name(y)), &mid_shape, info.dtype, info.quant);
    l.emit(&format!("{}.repeat", n.name), Op::View(View { offset: 0, strides }), vec![x], vec![mid]);
    l.contiguous_view(&n.name, mid, y);
    Ok(())
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn};
    use solidml_cpu::CpuExecutor;

    use crate::{CompileOptions, compile_graph, passes::testutil::*};

    fn samples(shape: &[usize], data: &[f32]) -> CompileOptions {
        let n = data.len() / shape.iter().product::<usize>();
        let shape: Vec<usize> = [&[n][..], shape].concat();
        CompileOptions::default().with_calibration(vec![ArrayD::from_shape_vec(IxDyn(&shape), data.to_vec()).unwrap()])
    }

    #[test]
    fn outputs_the_compiler_computes_itself_are_model_constants() {
        // Relu(x), Shape(x) (i64 [2, 3]) and an inference-mode Dropout's mask (all kept)
        let mut g = graph(&[("x", &[2, 3])]);
        let r = node(&mut g, "Relu", &[0], vec![]);
        output(&mut g, r);
        let s = node(&mut g, "Shape", &[0], vec![]);
        output(&mut g, s);
        // (node_n makes both Dropout outputs, the input forwarded and the mask, graph outputs)
        node_n(&mut g, "Dropout", &[Some(0)], 2, vec![]);
        let c = compile_graph(&mut g, "m", &samples(&[2, 3], &[-1.0, 0.5, 2.0, 0.0, 1.0, -2.0])).unwrap();
        let outs = CpuExecutor::new(&c.model).unwrap().run(&[solidml_exec::Value::I8(vec![0; 6])]).unwrap();
        assert_eq!(outs[1], solidml_exec::Value::I64(vec![2, 3]));
        assert_eq!(outs[2], solidml_exec::Value::I8(vec![0; 6]));
        assert_eq!(outs[3], solidml_exec::Value::I64(vec![1; 6]));
    }

    #[test]
    fn shapes_that_depend_on_run_time_values_are_refused() {
        // Unsqueeze's axes as a graph input: named by the op
        let mut g = graph(&[("x", &[3, 4]), ("axes", &[1])]);
        g.tensors[1].is_float = false;
        let y = node(&mut g, "Unsqueeze", &[0, 1], vec![]);
        output(&mut g, y);
        let e = compile_graph(&mut g, "m", &CompileOptions::default()).err().unwrap().to_string();
        assert!(e.contains("the axes (input 1) must be a constant: it is the graph input `axes`"), "{e}");
        // ConstantOfShape of a graph input: the shape inferred from zeros differs from the
        // calibration sample's
        let mut g = graph(&[("shape", &[2])]);
        g.tensors[0].is_float = false;
        let y = node(&mut g, "ConstantOfShape", &[0], vec![]);
        output(&mut g, y);
        let e = compile_graph(&mut g, "m", &samples(&[2], &[2.0, 3.0])).err().unwrap().to_string();
        assert!(e.contains("the shape of `ConstantOfShape_0` depends on values computed at run time: [0, 0] with all-zero inputs, [2, 3] with calibration sample 0"), "{e}");
    }

    #[test]
    fn reals_cast_to_integers_truncate_and_wrap_as_the_onnx_reference() {
        // -9..=6 as reals: to INT4 wraps (-9 is 7), to INT64 keeps; 2.5 and -2.5 truncate
        let xs: Vec<f32> = (-9..=6).map(|v| v as f32).chain([2.5, -2.5]).collect();
        for (to, want) in [
            (22, vec![7, -8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 2, -2]),
            (21, vec![7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 2, 14]),
            (7, vec![-9, -8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 2, -2]),
        ] {
            let mut g = graph(&[("x", &[18])]);
            let y = node(&mut g, "Cast", &[0], vec![("to", crate::ir::Attr::Int(to))]);
            output(&mut g, y);
            let c = compile_graph(&mut g, "m", &samples(&[18], &xs)).unwrap();
            let m = &c.model;
            // one IntLut of the codes' integers
            assert!(matches!(&m.nodes[..], [solidml_spec::Node { op: solidml_spec::Op::IntLut { .. }, .. }]), "{:?}", m.nodes);
            let x = ArrayD::from_shape_vec(IxDyn(&[18]), xs.clone()).unwrap();
            let out = CpuExecutor::new(m).unwrap().run(&[crate::runner::quantize_input(m, 0, &x)]).unwrap();
            assert_eq!(out[0], solidml_exec::Value::I64(want), "type {to}");
        }
    }

    #[test]
    fn narrow_floats_round_to_nearest_even_as_ml_dtypes_does() {
        // expected values: numpy float32 → ml_dtypes 0.7 type → float32
        let cases: [(i64, &[(f32, f32)]); 5] = [
            (17, &[(0.3, 0.3125), (0.001, 0.001953125), (449.0, 448.0), (464.0, 448.0), (-2.75, -2.75), (0.0136, 0.013671875)]),
            (18, &[(0.3, 0.3125), (0.001, 0.0009765625), (241.0, 240.0), (0.0136, 0.013671875)]),
            (19, &[(0.3, 0.3125), (60000.0, 57344.0), (1e-5, 1.5258789e-5), (3.3, 3.5)]),
            (20, &[(0.3, 0.3125), (1e-5, 7.6293945e-6), (3.3, 3.5)]),
            (23, &[(2.5, 2.0), (5.0, 4.0), (0.25, 0.0), (0.75, 1.0), (-1.25, -1.0)]),
        ];
        for (to, pairs) in cases {
            let f = super::NarrowFloat::of(to).unwrap();
            for &(x, want) in pairs {
                assert_eq!(f.round(x, true), want, "type {to}: {x}");
            }
        }
        // beyond the largest value without saturation: infinity where the format has one
        assert_eq!(super::NarrowFloat::of(19).unwrap().round(1e6, false), f32::INFINITY);
        assert!(super::NarrowFloat::of(17).unwrap().round(1e6, false).is_nan());
        assert_eq!(super::NarrowFloat::of(17).unwrap().round(-1e6, true), -448.0);
        assert!(super::NarrowFloat::of(16).is_none());
    }

    #[test]
    fn training_mode_dropout_is_refused_unless_its_ratio_is_zero() {
        for (ratio, refused) in [(0.5, true), (0.0, false)] {
            let mut g = graph(&[("x", &[2, 3])]);
            let r = constant(&mut g, "ratio", &[], vec![ratio]);
            let t = g.add_tensor("training", false);
            g.tensors[t].shape = Some(vec![]);
            g.consts.insert(t, crate::ir::Value::Int(ArrayD::from_elem(IxDyn(&[]), 1)));
            let y = node(&mut g, "Dropout", &[0, r, t], vec![]);
            output(&mut g, y);
            let got = compile_graph(&mut g, "m", &samples(&[2, 3], &[-1.0, 0.5, 2.0, 0.0, 1.0, -2.0]));
            match got {
                Err(e) if refused => assert!(e.to_string().contains("Dropout in training mode (ratio 0.5) draws a random mask"), "{e}"),
                Ok(_) if !refused => {}
                other => panic!("ratio {ratio}: {:?}", other.err()),
            }
        }
    }
}
