//! Structural validation of a [`Model`]: everything an executor indexes is checked here, once,
//! so executors can rely on it (an accepted model never makes them read out of bounds), and
//! shape rules shared by all executors ([`window_output_len`], [`broadcast_shapes`]).

use crate::{DType, Model, Op, SpecError, TensorId, TopKOutput};

/// Largest number of elements in one tensor.
pub const MAX_TENSOR_ELEMENTS: usize = 1 << 28;
/// Bound of LogSoftmax's ln table entries (`ln 2 · 2^16`).
const LN2_MAX: i32 = crate::LN2_Q16;

/// Largest rank of a tensor.
pub const MAX_RANK: usize = 8;

/// Output length of a sliding window along one axis (Conv, pooling):
/// `floor((n + pad_begin + pad_end − dilation·(k − 1) − 1) / stride) + 1`, or `None` when the
/// window does not fit.
pub fn window_output_len(n: u32, k: u32, stride: u32, dilation: u32, pb: u32, pe: u32) -> Option<u32> {
    let span = dilation as u64 * (k as u64).checked_sub(1)? + 1;
    let padded = n as u64 + pb as u64 + pe as u64;
    if stride == 0 || padded < span {
        return None;
    }
    Some(((padded - span) / stride as u64 + 1) as u32)
}

/// numpy broadcasting of two shapes.
pub fn broadcast_shapes(a: &[u32], b: &[u32]) -> Option<Vec<u32>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i + a.len() >= rank { a[i + a.len() - rank] } else { 1 };
        let db = if i + b.len() >= rank { b[i + b.len() - rank] } else { 1 };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// A rule of spec §Validation rules (and of §Artifact format's decoding steps), as errors and the
/// validation vectors (`docs/spec/validation.json`) name it. The spec decides only
/// whether an artifact is accepted; the rule says which check rejected it, so an implementation
/// that rejects for another reason is caught by the vectors. Messages are informative only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// `artifact.size`: the artifact is longer than `MAX_ARTIFACT_BYTES`.
    ArtifactSize,
    /// `artifact.magic`: shorter than 10 bytes, or no `SOLIDML\0` magic.
    ArtifactMagic,
    /// `artifact.version`: the format version is not 1.
    ArtifactVersion,
    /// `artifact.decode`: the bytes after the header are not one postcard `Model` (truncated,
    /// an invalid variant index, invalid UTF-8, a varint out of its type's range, trailing bytes).
    ArtifactDecode,
    /// `artifact.canonical`: re-encoding the model does not give back the bytes.
    ArtifactCanonical,
    /// `model.tensor`: a tensor's rank, element count, dtype or quantization.
    Tensor,
    /// `model.id`: a tensor id out of range.
    TensorId,
    /// `model.constant`: a constant's data, or a constant bound twice or to a model input.
    Constant,
    /// `model.order`: a node reads a tensor not yet defined, or defines one already defined.
    Order,
    /// `model.output`: a model output that nothing defines.
    Output,
    /// `model.input_quant`: a per-axis input quantization entry (its position, order, tensor
    /// type, axis, parameter count or a parameter's range).
    InputQuant,
    /// `op.<Op>`: a per-op rule of the operator of that spec section ([`Op::section`]).
    Op(&'static str),
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let id = match self {
            Rule::ArtifactSize => "artifact.size",
            Rule::ArtifactMagic => "artifact.magic",
            Rule::ArtifactVersion => "artifact.version",
            Rule::ArtifactDecode => "artifact.decode",
            Rule::ArtifactCanonical => "artifact.canonical",
            Rule::Tensor => "model.tensor",
            Rule::TensorId => "model.id",
            Rule::Constant => "model.constant",
            Rule::Order => "model.order",
            Rule::Output => "model.output",
            Rule::InputQuant => "model.input_quant",
            Rule::Op(op) => return write!(f, "op.{op}"),
        };
        f.write_str(id)
    }
}

/// Rule `model.input_quant` (spec §IO quantization, "Per-axis input quantization"): entries in
/// strictly increasing input position, each naming an int8 input, an axis of its rank and one
/// parameter per index of that axis, with finite positive scales and zero points within
/// `±2^24`. Runs after the tensors and the input ids are checked.
fn validate_input_quant(model: &Model) -> Result<(), SpecError> {
    let fail = |reason: String| Err(SpecError::Invalid { rule: Rule::InputQuant, reason });
    let mut previous: Option<u32> = None;
    for q in &model.input_quant {
        if previous.is_some_and(|p| q.input <= p) {
            return fail(format!("input position {} is not after {} (entries sorted, one per input)", q.input, previous.unwrap()));
        }
        previous = Some(q.input);
        let Some(&id) = model.inputs.get(q.input as usize) else {
            return fail(format!("input position {} out of range ({} inputs)", q.input, model.inputs.len()));
        };
        let t = model.tensor(id);
        if !matches!(t.dtype, DType::I8 | DType::I16) {
            return fail(format!("input `{}` is not int8 or int16", t.name));
        }
        let Some(&dim) = t.shape.get(q.axis as usize) else {
            return fail(format!("axis {} out of range for input `{}` of rank {}", q.axis, t.name, t.shape.len()));
        };
        if q.params.len() != dim as usize {
            return fail(format!("{} parameters for axis {} of input `{}` of length {dim}", q.params.len(), q.axis, t.name));
        }
        if let Some((c, p)) = q.params.iter().enumerate().find(|(_, p)| {
            !(p.scale.is_finite() && p.scale > 0.0 && (-crate::MAX_INPUT_ZERO_POINT..=crate::MAX_INPUT_ZERO_POINT).contains(&p.zero_point))
        }) {
            return fail(format!("parameter {c} of input `{}`: scale {:e}, zero point {} out of range", t.name, p.scale, p.zero_point));
        }
    }
    Ok(())
}

/// Validate a whole model.
pub fn validate(model: &Model) -> Result<(), SpecError> {
    let n = model.tensors.len();
    let mut defined = vec![false; n];
    let check_id = |id: TensorId| -> Result<usize, SpecError> {
        if (id as usize) < n {
            Ok(id as usize)
        } else {
            Err(SpecError::Invalid { rule: Rule::TensorId, reason: format!("tensor id {id} out of range ({n} tensors)") })
        }
    };
    for t in &model.tensors {
        if t.shape.len() > MAX_RANK {
            return Err(SpecError::Invalid {
                rule: Rule::Tensor,
                reason: format!("tensor `{}` has rank {} > {MAX_RANK}", t.name, t.shape.len()),
            });
        }
        let len = t.shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d as usize));
        if !matches!(len, Some(l) if l <= MAX_TENSOR_ELEMENTS) {
            return Err(SpecError::Invalid { rule: Rule::Tensor, reason: format!("tensor `{}` has too many elements", t.name) });
        }
        match (t.dtype.code_range(), t.quant) {
            (Some((lo, hi)), Some(q)) if q.scale.is_finite() && q.scale > 0.0 && (lo..=hi).contains(&(q.zero_point as i64)) => {}
            (None, None) => {}
            _ => {
                return Err(SpecError::Invalid {
                    rule: Rule::Tensor,
                    reason: format!("tensor `{}` has an invalid type or quantization", t.name),
                });
            }
        }
    }
    for &i in &model.inputs {
        defined[check_id(i)?] = true;
    }
    validate_input_quant(model)?;
    for (id, data) in &model.constants {
        let t = &model.tensors[check_id(*id)?];
        let ok = match data {
            crate::ConstData::I8(v) => t.dtype == DType::I8 && v.len() == t.len(),
            crate::ConstData::I64(v) => t.dtype == DType::I64 && v.len() == t.len(),
        };
        if !ok || defined[*id as usize] {
            return Err(SpecError::Invalid { rule: Rule::Constant, reason: format!("constant `{}` does not match its tensor", t.name) });
        }
        defined[*id as usize] = true;
    }
    for node in &model.nodes {
        let fail_as = |rule: Rule, reason: String| SpecError::InvalidNode { rule, node: node.name.clone(), op: node.op.kind(), reason };
        let fail = |reason: String| fail_as(Rule::Order, reason);
        for &i in &node.inputs {
            if !defined[check_id(i)?] {
                return Err(fail(format!("input tensor {i} is used before it is defined")));
            }
        }
        for &o in &node.outputs {
            if defined[check_id(o)?] {
                return Err(fail(format!("output tensor {o} is defined twice")));
            }
            defined[o as usize] = true;
        }
        validate_node(model, node).map_err(|reason| fail_as(Rule::Op(node.op.section()), reason))?;
    }
    for &o in &model.outputs {
        if !defined[check_id(o)?] {
            return Err(SpecError::Invalid { rule: Rule::Output, reason: format!("model output {o} is never computed") });
        }
    }
    Ok(())
}

fn validate_node(model: &Model, node: &crate::Node) -> Result<(), String> {
    let t = |i: usize, list: &[TensorId]| model.tensor(list[i]);
    let arity = |ins: usize, outs: usize| -> Result<(), String> {
        if node.inputs.len() != ins || node.outputs.len() != outs {
            return Err(format!("expects {ins} input(s) and {outs} output(s), has {} and {}", node.inputs.len(), node.outputs.len()));
        }
        Ok(())
    };
    let want = |cond: bool, what: &str| if cond { Ok(()) } else { Err(what.to_string()) };
    let int8_in_out = |node: &crate::Node| node.inputs.iter().chain(&node.outputs).all(|&i| model.tensor(i).dtype == DType::I8);
    let clamp_ok = |lo: i8, hi: i8| want(lo <= hi, "clamp_min > clamp_max");
    let wide = |i: &TensorId| matches!(model.tensor(*i).dtype, DType::I16 | DType::I32);
    if !matches!(node.op, Op::DenseWide(_)) && node.inputs.iter().chain(&node.outputs).any(wide) {
        return Err("only DenseWide reads or writes int16 or int32 tensors".into());
    }
    match &node.op {
        Op::Conv(c) => {
            arity(1, 1)?;
            want(int8_in_out(node), "Conv takes and gives int8")?;
            let (x, y) = (&t(0, &node.inputs).shape, &t(0, &node.outputs).shape);
            let s = c.kernel.len();
            want(x.len() == s + 2 && y.len() == s + 2, "rank must be 2 + spatial rank")?;
            want(
                [c.strides.len(), c.dilations.len(), c.pads_begin.len(), c.pads_end.len()].iter().all(|&l| l == s),
                "attribute lengths differ from the kernel rank",
            )?;
            let (cin, cout, g) = (x[1], y[1], c.groups);
            want(g >= 1 && cin % g == 0 && cout % g == 0 && x[0] == y[0], "groups must divide both channel counts; batch must match")?;
            let klen: u64 = c.kernel.iter().map(|&k| k as u64).product();
            want(c.weights.len() as u64 == cout as u64 * (cin / g) as u64 * klen, "weights length != C_out·C_in/groups·kernel")?;
            want(c.bias.len() == cout as usize, "bias length != C_out")?;
            epilogue_ok(&c.epilogue, cout)?;
            accumulator_ok(&c.weights, &c.bias)?;
            want((-128..=127).contains(&c.input_zero_point), "input zero point out of int8 range")?;
            for d in 0..s {
                let o = window_output_len(x[d + 2], c.kernel[d], c.strides[d], c.dilations[d], c.pads_begin[d], c.pads_end[d]);
                want(o == Some(y[d + 2]) && c.dilations[d] >= 1, "output spatial shape does not follow from the attributes")?;
            }
            Ok(())
        }
        Op::ConvTranspose(c) => {
            arity(1, 1)?;
            want(int8_in_out(node), "ConvTranspose takes and gives int8")?;
            let (x, y) = (&t(0, &node.inputs).shape, &t(0, &node.outputs).shape);
            let s = c.kernel.len();
            want(x.len() == s + 2 && y.len() == s + 2, "rank must be 2 + spatial rank")?;
            want(
                [c.strides.len(), c.dilations.len(), c.pads_begin.len(), c.pads_end.len(), c.output_padding.len()].iter().all(|&l| l == s),
                "attribute lengths differ from the kernel rank",
            )?;
            let (cin, cout, g) = (x[1], y[1], c.groups);
            want(g >= 1 && cin % g == 0 && cout % g == 0 && x[0] == y[0], "groups must divide both channel counts; batch must match")?;
            let klen: u64 = c.kernel.iter().map(|&k| k as u64).product();
            want(
                c.weights.len() as u64 == cout as u64 * (cin / g) as u64 * klen && c.bias.len() == cout as usize,
                "weights or bias length",
            )?;
            epilogue_ok(&c.epilogue, cout)?;
            accumulator_ok(&c.weights, &c.bias)?;
            want((-128..=127).contains(&c.input_zero_point), "input zero point out of int8 range")?;
            for d in 0..s {
                want(
                    c.strides[d] >= 1 && c.dilations[d] >= 1 && c.kernel[d] >= 1 && x[d + 2] >= 1,
                    "strides, dilations, kernel and input must be ≥ 1",
                )?;
                let full = (x[d + 2] as i64 - 1) * c.strides[d] as i64
                    + c.dilations[d] as i64 * (c.kernel[d] as i64 - 1)
                    + 1
                    + c.output_padding[d] as i64;
                want(
                    full - c.pads_begin[d] as i64 - c.pads_end[d] as i64 == y[d + 2] as i64,
                    "output spatial shape does not follow from the attributes",
                )?;
            }
            Ok(())
        }
        Op::Dense(d) => {
            arity(1, 1)?;
            want(int8_in_out(node), "Dense takes and gives int8")?;
            let (x, y) = (&t(0, &node.inputs).shape, &t(0, &node.outputs).shape);
            want(!x.is_empty() && x.len() == y.len() && x[..x.len() - 1] == y[..y.len() - 1], "leading axes must match")?;
            want(*x.last().unwrap() == d.in_features && *y.last().unwrap() == d.out_features, "feature counts differ from the shapes")?;
            want(d.in_features >= 1, "in_features must be at least 1")?;
            want(
                d.weights.len() as u64 == d.in_features as u64 * d.out_features as u64 && d.bias.len() == d.out_features as usize,
                "weights or bias length",
            )?;
            want((-128..=127).contains(&d.input_zero_point), "input zero point out of int8 range")?;
            accumulator_ok(&d.weights, &d.bias)?;
            epilogue_ok(&d.epilogue, d.out_features)
        }
        Op::DenseWide(d) => {
            arity(1, 1)?;
            let (x, y) = (t(0, &node.inputs), t(0, &node.outputs));
            want(matches!(x.dtype, DType::I8 | DType::I16), "DenseWide takes int8 or int16")?;
            let Some((lo, hi)) = y.dtype.code_range() else { return Err("DenseWide gives int8, int16 or int32".into()) };
            let (xs, ys) = (&x.shape, &y.shape);
            want(!xs.is_empty() && xs.len() == ys.len() && xs[..xs.len() - 1] == ys[..ys.len() - 1], "leading axes must match")?;
            want(*xs.last().unwrap() == d.in_features && *ys.last().unwrap() == d.out_features, "feature counts differ from the shapes")?;
            want(d.in_features >= 1, "in_features must be at least 1")?;
            want(
                d.weights.len() as u64 == d.in_features as u64 * d.out_features as u64 && d.bias.len() == d.out_features as usize,
                "weights or bias length",
            )?;
            want(x.quant.is_some_and(|q| q.zero_point == d.input_zero_point), "input zero point differs from the input tensor's")?;
            want(d.weights.iter().all(|&w| w != i16::MIN), "weight −32768 (weights are symmetric: [−32767, 32767])")?;
            let ok = |m: &[crate::arith::Multiplier]| m.is_empty() || m.len() == 1 || m.len() == d.out_features as usize;
            want(
                ok(&d.multipliers) && d.multipliers.iter().all(|m| m.is_valid()),
                "multipliers: none, one, or one per output feature, each valid",
            )?;
            want(y.quant.is_some_and(|q| q.zero_point == d.output_zero_point), "output zero point differs from the output tensor's")?;
            want(
                lo <= d.clamp_min as i64 && d.clamp_min <= d.clamp_max && d.clamp_max as i64 <= hi,
                "clamp out of the output type's range, or clamp_min > clamp_max",
            )?;
            wide_accumulator_ok(&d.weights, &d.bias)
        }
        Op::Binary(b) => {
            arity(2, 1)?;
            want(int8_in_out(node), "Binary ops take and give int8")?;
            want(
                broadcast_shapes(&t(0, &node.inputs).shape, &t(1, &node.inputs).shape).as_deref() == Some(&t(0, &node.outputs).shape[..]),
                "output shape is not the broadcast of the inputs",
            )?;
            want(
                b.a_multiplier.is_valid() && b.b_multiplier.is_valid() && b.output_multiplier.is_valid() && b.left_shift <= 20,
                "multiplier out of range",
            )?;
            // |a'|, |b'| ≤ 255·2^20 when the input multipliers are < 1: their sum fits in i32
            want(b.a_multiplier.shift <= 0 && b.b_multiplier.shift <= 0, "Add/Sub input multipliers must be < 1")?;
            want(
                [b.a_zero_point, b.b_zero_point, b.output_zero_point].iter().all(|z| (-128..=127).contains(z)),
                "zero point out of range",
            )?;
            clamp_ok(b.clamp_min, b.clamp_max)
        }
        Op::MatMul(mm) => {
            arity(2, 1)?;
            want(int8_in_out(node), "MatMul takes and gives int8")?;
            let (a, b, y) = (&t(0, &node.inputs).shape, &t(1, &node.inputs).shape, &t(0, &node.outputs).shape);
            want(a.len() >= 2 && b.len() >= 2 && y.len() >= 2, "operands must have rank ≥ 2")?;
            let (m, k, k2, nn) = (a[a.len() - 2], a[a.len() - 1], b[b.len() - 2], b[b.len() - 1]);
            want(k == k2 && (1..=33025).contains(&k), "inner dimensions must match and be in 1..=33025")?;
            let batch = broadcast_shapes(&a[..a.len() - 2], &b[..b.len() - 2]).ok_or("batch axes do not broadcast")?;
            let mut want_shape = batch;
            want_shape.extend([m, nn]);
            want(*y == want_shape, "output shape")?;
            want(
                mm.multiplier.is_valid()
                    && [mm.a_zero_point, mm.b_zero_point, mm.output_zero_point].iter().all(|z| (-128..=127).contains(z)),
                "multiplier or zero points out of range",
            )
        }
        Op::BinaryLut { table } => {
            arity(2, 1)?;
            want(int8_in_out(node), "BinaryLut takes and gives int8")?;
            want(table.len() == 65536, "table must have 65536 entries")?;
            want(
                broadcast_shapes(&t(0, &node.inputs).shape, &t(1, &node.inputs).shape).as_deref() == Some(&t(0, &node.outputs).shape[..]),
                "output shape is not the broadcast of the inputs",
            )
        }
        Op::GatherDynamic { axis } => {
            arity(2, 1)?;
            let (x, i, y) = (t(0, &node.inputs), t(1, &node.inputs), t(0, &node.outputs));
            want(x.dtype == y.dtype && x.quant == y.quant && i.dtype == DType::I64, "data keeps its type; indices are i64")?;
            let a = *axis as usize;
            want(a < x.shape.len() && x.shape[a] > 0, "axis out of range or empty")?;
            let mut s = x.shape[..a].to_vec();
            s.extend_from_slice(&i.shape);
            s.extend_from_slice(&x.shape[a + 1..]);
            want(y.shape == s, "output shape != data[:axis] + indices + data[axis+1:]")
        }
        Op::InstanceNorm(inn) => {
            arity(1, 1)?;
            want(int8_in_out(node), "InstanceNorm takes and gives int8")?;
            let x = t(0, &node.inputs);
            want(x.shape == t(0, &node.outputs).shape && x.shape.len() >= 3, "shape must be kept, rank ≥ 3")?;
            let c = x.shape[1] as usize;
            let plane: usize = x.shape[2..].iter().map(|&d| d as usize).product();
            // bounds keep every product in i64: |d_j| < 2^25, r < 2^24
            want((1..=1 << 16).contains(&plane), "plane size must be in 1..=2^16")?;
            want(inn.gamma_q16.len() == c && inn.beta_q16.len() == c, "one gamma and beta per channel")?;
            want(inn.gamma_q16.iter().chain(&inn.beta_q16).all(|v| v.abs() <= 1 << 36), "gamma/beta out of range")?;
            want((0..=1i64 << 53).contains(&inn.epsilon_term), "epsilon term out of range")?;
            want((-128..=127).contains(&inn.input_zero_point) && (-128..=127).contains(&inn.output_zero_point), "zero point out of range")
        }
        Op::IntBinary { .. } => {
            arity(2, 1)?;
            want(node.inputs.iter().chain(&node.outputs).all(|&i| model.tensor(i).dtype == DType::I64), "IntBinary takes and gives i64")?;
            want(
                broadcast_shapes(&t(0, &node.inputs).shape, &t(1, &node.inputs).shape).as_deref() == Some(&t(0, &node.outputs).shape[..]),
                "output shape is not the broadcast of the inputs",
            )
        }
        Op::IntCompare(_) => {
            arity(2, 1)?;
            let (a, b, y) = (t(0, &node.inputs), t(1, &node.inputs), t(0, &node.outputs));
            want(a.dtype == DType::I64 && b.dtype == DType::I64 && y.dtype == DType::I8, "IntCompare takes i64 and gives int8")?;
            want(broadcast_shapes(&a.shape, &b.shape).as_deref() == Some(&y.shape[..]), "output shape is not the broadcast of the inputs")
        }
        Op::Lrn(l) => {
            arity(1, 1)?;
            want(int8_in_out(node), "Lrn takes and gives int8")?;
            let x = t(0, &node.inputs);
            want(x.shape == t(0, &node.outputs).shape && x.shape.len() >= 2, "shape must be kept, rank ≥ 2")?;
            want(l.size >= 1 && l.size <= 1 << 12 && l.sum_shift <= 40, "size in 1..=4096, sum_shift ≤ 40")?;
            want(
                !l.factors.is_empty() && l.factors.len() <= 4096 && l.factors.iter().all(|&f| (0..=1 << 23).contains(&f)),
                "factors: 1..=4096 entries in 0..=2^23",
            )?;
            want(
                l.multiplier.is_valid() && (-128..=127).contains(&l.input_zero_point) && (-128..=127).contains(&l.output_zero_point),
                "multiplier or zero points out of range",
            )
        }
        Op::Normalize(nm) => {
            arity(1, 1)?;
            want(int8_in_out(node), "Normalize takes and gives int8")?;
            let x = t(0, &node.inputs);
            want(
                x.shape == t(0, &node.outputs).shape && !x.shape.is_empty() && *x.shape.last().unwrap() <= 1 << 16,
                "shape must be kept; rows of at most 2^16",
            )?;
            want(
                nm.scale_log2 <= 8 && (-128..=127).contains(&nm.input_zero_point) && (-128..=127).contains(&nm.output_zero_point),
                "scale_log2 ≤ 8, zero points in range",
            )?;
            want(
                t(0, &node.outputs).quant.map(|q| q.scale) == Some(1.0 / (1u32 << nm.scale_log2) as f32),
                "the output scale must be 2^−scale_log2",
            )
        }
        Op::Extremum(_) => {
            arity(2, 1)?;
            want(int8_in_out(node), "Max/Min take and give int8")?;
            let qo = t(0, &node.outputs).quant;
            want(t(0, &node.inputs).quant == qo && t(1, &node.inputs).quant == qo, "inputs must share the output's quantization")?;
            want(
                broadcast_shapes(&t(0, &node.inputs).shape, &t(1, &node.inputs).shape).as_deref() == Some(&t(0, &node.outputs).shape[..]),
                "output shape is not the broadcast of the inputs",
            )
        }
        Op::Lut(l) => {
            arity(1, 1)?;
            want(int8_in_out(node), "Lut takes and gives int8")?;
            let x = &t(0, &node.inputs).shape;
            want(*x == t(0, &node.outputs).shape, "shape changes")?;
            let tables = match l.axis {
                None => 1,
                Some(a) => *x.get(a as usize).ok_or("axis out of range")? as usize,
            };
            want(l.tables.len() == 256 * tables, "tables length != 256 × tables")
        }
        Op::View(v) => {
            arity(1, 1)?;
            let (x, y) = (t(0, &node.inputs), t(0, &node.outputs));
            want(x.dtype == y.dtype && x.quant == y.quant, "a view keeps type and quantization")?;
            want(v.strides.len() == y.shape.len(), "one stride per output axis")?;
            if y.is_empty() {
                return Ok(());
            }
            let (mut lo, mut hi) = (v.offset as i128, v.offset as i128);
            for (&d, &s) in y.shape.iter().zip(&v.strides) {
                let span = (d as i128 - 1) * s as i128;
                if span < 0 { lo += span } else { hi += span }
            }
            want(lo >= 0 && hi < x.len() as i128, "view reads outside its input")
        }
        Op::Pad(p) => {
            arity(1, 1)?;
            let (x, y) = (t(0, &node.inputs), t(0, &node.outputs));
            want(x.dtype == y.dtype && x.quant == y.quant, "pad keeps type and quantization")?;
            want(p.pads_begin.len() == x.shape.len() && p.pads_end.len() == x.shape.len() && y.shape.len() == x.shape.len(), "pads rank")?;
            want(
                x.shape.iter().enumerate().all(|(i, &d)| d as u64 + p.pads_begin[i] as u64 + p.pads_end[i] as u64 == y.shape[i] as u64),
                "output shape != input + pads",
            )?;
            want(x.dtype != DType::I8 || (-128..=127).contains(&p.value), "pad value out of int8 range")?;
            let fits = |i: usize| match p.mode {
                crate::PadMode::Constant => true,
                crate::PadMode::Edge => x.shape[i] > 0 || p.pads_begin[i] + p.pads_end[i] == 0,
                crate::PadMode::Reflect => {
                    p.pads_begin[i] < x.shape[i] && p.pads_end[i] < x.shape[i] || p.pads_begin[i] + p.pads_end[i] == 0
                }
            };
            want((0..x.shape.len()).all(fits), "reflect pads must be smaller than the axis (edge: the axis non-empty)")
        }
        Op::Concat { axis } => {
            want(!node.inputs.is_empty() && node.outputs.len() == 1, "needs inputs and one output")?;
            let y = t(0, &node.outputs);
            let a = *axis as usize;
            want(a < y.shape.len(), "axis out of range")?;
            let mut total = 0u64;
            for &i in &node.inputs {
                let x = model.tensor(i);
                want(
                    x.dtype == y.dtype && x.quant == y.quant && x.shape.len() == y.shape.len(),
                    "inputs share the output's type, quantization and rank",
                )?;
                want(x.shape.iter().zip(&y.shape).enumerate().all(|(k, (p, q))| k == a || p == q), "non-axis dimensions differ")?;
                total += x.shape[a] as u64;
            }
            want(total == y.shape[a] as u64, "axis lengths do not add up")
        }
        Op::MaxPool(p) | Op::AvgPool(p) => {
            arity(1, 1)?;
            let (x, y) = (t(0, &node.inputs), t(0, &node.outputs));
            want(int8_in_out(node) && x.quant == y.quant, "pooling keeps int8 quantization")?;
            want(x.quant.map(|q| q.zero_point) == Some(p.zero_point), "zero_point differs from the input's")?;
            let s = p.kernel.len();
            want(x.shape.len() == s + 2 && y.shape.len() == s + 2 && x.shape[..2] == y.shape[..2], "rank must be 2 + spatial rank")?;
            want([p.strides.len(), p.dilations.len(), p.pads_begin.len(), p.pads_end.len()].iter().all(|&l| l == s), "attribute lengths")?;
            for d in 0..s {
                let o = window_output_len(x.shape[d + 2], p.kernel[d], p.strides[d], p.dilations[d], p.pads_begin[d], p.pads_end[d]);
                want(
                    o == Some(y.shape[d + 2]) && p.dilations[d] >= 1 && p.kernel[d] >= 1,
                    "output spatial shape does not follow from the attributes",
                )?;
                want(p.pads_begin[d] < p.kernel[d] && p.pads_end[d] < p.kernel[d], "a pad is not smaller than the window")?;
            }
            // bounded windows: a window's sum (Σ(q − zp), |q − zp| ≤ 255) fits in i32, and the
            // taps of the whole op stay far from overflowing any index arithmetic
            let taps = p.kernel.iter().try_fold(1u64, |a, &k| a.checked_mul(k as u64)).unwrap_or(u64::MAX);
            want(taps <= (i32::MAX / 255) as u64, "window of more than 8,421,504 taps")?;
            want(taps.saturating_mul(y.len() as u64) <= 1 << 40, "more than 2^40 window taps in all")?;
            Ok(())
        }
        Op::Reduce(r) => {
            arity(1, 1)?;
            want(int8_in_out(node), "Reduce takes and gives int8")?;
            let (x, y) = (t(0, &node.inputs), t(0, &node.outputs));
            let mut seen = vec![false; x.shape.len()];
            for &a in &r.axes {
                want((a as usize) < x.shape.len() && !seen[a as usize], "axes out of range or repeated")?;
                seen[a as usize] = true;
            }
            let kept: usize = x.shape.iter().enumerate().filter(|(i, _)| !seen[*i]).map(|(_, &d)| d as usize).product();
            want(y.len() == kept && !x.is_empty(), "output length != product of kept axes")?;
            // Σ(q − zp) over the reduced elements must fit in i32
            want(x.len() / kept.max(1) <= (i32::MAX / 255) as usize, "too many reduced elements for an i32 sum")?;
            want((-128..=127).contains(&r.input_zero_point) && (-128..=127).contains(&r.output_zero_point), "zero point out of range")?;
            want(r.multiplier.is_valid(), "multiplier out of range")
        }
        Op::CumSum(c) => {
            arity(1, 1)?;
            want(int8_in_out(node), "CumSum takes and gives int8")?;
            let x = t(0, &node.inputs);
            want(x.shape == t(0, &node.outputs).shape && (c.axis as usize) < x.shape.len(), "shape must be kept; axis < rank")?;
            // Σ(q − zp) over a whole lane must fit in i32
            want(x.shape[c.axis as usize] <= (i32::MAX / 255) as u32, "axis longer than 8,421,504 (an i32 sum)")?;
            want((-128..=127).contains(&c.input_zero_point) && (-128..=127).contains(&c.output_zero_point), "zero point out of range")?;
            want(c.multiplier.is_valid(), "multiplier out of range")
        }
        Op::Softmax(s) => {
            arity(1, 1)?;
            want(int8_in_out(node), "Softmax takes and gives int8")?;
            let x = t(0, &node.inputs);
            want(x.shape == t(0, &node.outputs).shape && (s.axis as usize) < x.shape.len(), "shape or axis")?;
            want(x.shape[s.axis as usize] <= 1 << 15, "softmax axis longer than 32768")?;
            want(
                s.exp_table.len() == 256 && s.exp_table.iter().all(|&e| e <= 1 << 16) && s.exp_table[0] == 1 << 16,
                "exp table must have 256 entries ≤ 2^16, the first 2^16",
            )
        }
        Op::LogSoftmax(s) => {
            arity(1, 1)?;
            want(int8_in_out(node), "LogSoftmax takes and gives int8")?;
            let x = t(0, &node.inputs);
            want(x.shape == t(0, &node.outputs).shape && (s.axis as usize) < x.shape.len(), "shape or axis")?;
            want(x.shape[s.axis as usize] <= 1 << 14, "axis longer than 16384")?;
            want(
                s.exp_table.len() == 256 && s.exp_table.iter().all(|&e| e <= 1 << 16) && s.exp_table[0] == 1 << 16,
                "exp table must have 256 entries ≤ 2^16, the first 2^16",
            )?;
            want(
                s.ln_table.len() == 256 && s.ln_table.iter().all(|&l| (0..=LN2_MAX).contains(&l)),
                "ln table must have 256 entries in 0..=ln2·2^16",
            )?;
            want(
                (0..=1 << 22).contains(&s.input_scale_q16) && s.multiplier.is_valid() && (-128..=127).contains(&s.output_zero_point),
                "scale, multiplier or zero point out of range",
            )
        }
        Op::ArgMax { axis, .. } => {
            arity(1, 1)?;
            let (x, y) = (t(0, &node.inputs), t(0, &node.outputs));
            want(x.dtype == DType::I8 && y.dtype == DType::I64, "int8 in, i64 out")?;
            let d = *x.shape.get(*axis as usize).ok_or("axis out of range")?;
            want(d > 0 && y.len() * d as usize == x.len(), "output length")
        }
        Op::TopK { axis, k, output, .. } => {
            arity(1, 1)?;
            let (x, y) = (t(0, &node.inputs), t(0, &node.outputs));
            // x is int8 or i64: the wide types were refused above
            let ok = match output {
                TopKOutput::Values => y.dtype == x.dtype && y.quant == x.quant,
                TopKOutput::Indices => y.dtype == DType::I64,
            };
            want(ok, "values keep the input's type and quantization, indices are i64")?;
            let d = *x.shape.get(*axis as usize).ok_or("axis out of range")?;
            want(*k <= d, "k larger than the axis")?;
            let mut shape = x.shape.clone();
            shape[*axis as usize] = *k;
            want(y.shape == shape, "output shape must be the input's with k along the axis")
        }
        Op::IntLut { table } => {
            arity(1, 1)?;
            let (x, y) = (t(0, &node.inputs), t(0, &node.outputs));
            want(x.dtype == DType::I8 && y.dtype == DType::I64, "IntLut takes int8 and gives i64")?;
            want(x.shape == y.shape, "output shape must be the input's")?;
            want(table.len() == 256, "the table must hold 256 values")
        }
        Op::Take { table } => {
            arity(1, 1)?;
            let (x, y) = (t(0, &node.inputs), t(0, &node.outputs));
            want(
                x.dtype == DType::I64 && y.dtype == DType::I64 && x.len() == y.len() && !table.is_empty(),
                "i64 in and out, same length, non-empty table",
            )
        }
        Op::Gather { axis, indices } => {
            arity(1, 1)?;
            let (x, y) = (t(0, &node.inputs), t(0, &node.outputs));
            want(x.dtype == y.dtype && x.quant == y.quant, "gather keeps type and quantization")?;
            let d = *x.shape.get(*axis as usize).ok_or("axis out of range")?;
            want(indices.iter().all(|&i| i < d), "index out of range")?;
            // len(y) = len(x) / d · len(indices); an empty axis (d = 0, so no index) gives an
            // empty output (the product form alone would accept any output then)
            let ok = if d == 0 { y.is_empty() } else { y.len() as u64 * d as u64 == x.len() as u64 * indices.len() as u64 };
            want(ok, "output length")
        }
    }
}

/// The int32 accumulator of Conv and Dense cannot overflow: for every output channel,
/// `Σ|w|·255 + |bias| ≤ i32::MAX` (inputs minus their zero point lie in −255..=255).
fn accumulator_ok(weights: &[i8], bias: &[i32]) -> Result<(), String> {
    if bias.is_empty() {
        return Ok(());
    }
    let per = weights.len() / bias.len();
    for (c, b) in bias.iter().enumerate() {
        let s: i64 = weights[c * per..(c + 1) * per].iter().map(|&w| (w as i64).abs() * 255).sum::<i64>() + (*b as i64).abs();
        if s > i32::MAX as i64 {
            return Err(format!("output channel {c}: the int32 accumulator can overflow"));
        }
    }
    Ok(())
}

/// The i64 accumulator of DenseWide stays below `2^62` in magnitude: for every output feature,
/// `Σ|w| · 65535 + |bias| ≤ 2^62` (inputs minus their zero point lie in −65535..=65535), so
/// the product with a multiplier (`< 2^31`) fits 93 bits.
fn wide_accumulator_ok(weights: &[i16], bias: &[i64]) -> Result<(), String> {
    if bias.is_empty() {
        return Ok(());
    }
    let per = weights.len() / bias.len();
    for (c, b) in bias.iter().enumerate() {
        let s: i128 = weights[c * per..(c + 1) * per].iter().map(|&w| (w as i128).abs() * 65535).sum::<i128>() + (*b as i128).abs();
        if s > 1i128 << 62 {
            return Err(format!("output feature {c}: the accumulator can exceed 2^62"));
        }
    }
    Ok(())
}

fn epilogue_ok(e: &crate::Epilogue, channels: u32) -> Result<(), String> {
    if !(e.multipliers.len() == 1 || e.multipliers.len() == channels as usize) {
        return Err("epilogue needs one multiplier or one per channel".into());
    }
    if !e.multipliers.iter().all(|m| m.is_valid()) {
        return Err("multiplier out of range".into());
    }
    if !(-128..=127).contains(&e.output_zero_point) || e.clamp_min > e.clamp_max {
        return Err("output zero point or clamp out of range".into());
    }
    Ok(())
}
