//! Binary and variadic element-wise ops with numpy broadcasting: `Add`, `Sub`, `Mul`, `Div`,
//! `Pow`, `Max`, `Min`, `Mod`, `Sum`, `PRelu`, the comparisons (`Equal`, `Less`, `Greater`,
//! `LessOrEqual`, `GreaterOrEqual`) and `And`, `Or`, `Xor` ([`BinaryOp`]; booleans are the reals
//! 0 and 1, which any int8 quantization of `[0, 1]` holds exactly).
//!
//! Float semantics: a left fold over the operands, in `i64` when every operand is an integer
//! (except `Pow`), in `f32` otherwise; PRelu's opset ≤ 6 per-channel slope is aligned to the
//! channel axis ([`align_prelu_slope`]). Lowering: a table (one per channel) for a constant
//! operand that is uniform or varies along one axis, `Binary` with an int8 constant otherwise,
//! `Binary`/`Extremum` chains or a 65536-entry `BinaryLut` for run-time operands, `IntBinary`
//! on integer tensors, `IntCompare` for a comparison of integer tensors ([`super::int_compare`]).

use ndarray::{ArrayD, IxDyn, Zip};
use solidml_spec::{
    Binary, BinaryKind, ConstData, DType, Extremum, IntBinaryKind, Lut, Op, Quant, TensorId, arith::Multiplier, io::quantize_f32,
};

use super::{OpDef, R, input};
use crate::{
    float::broadcast_shape,
    ir::{Graph, Node, Tid, Value},
    quantize::{Lowering, lut_table, multiplier, quant_from_range},
};

pub(crate) const OPS: &[OpDef] = &[
    binary_op("Add"),
    binary_op("And"),
    binary_op("Div"),
    binary_op("Equal"),
    binary_op("Greater"),
    binary_op("GreaterOrEqual"),
    binary_op("Less"),
    binary_op("LessOrEqual"),
    binary_op("Or"),
    binary_op("Xor"),
    binary_op("Max"),
    binary_op("Min"),
    binary_op("Mod"),
    binary_op("Mul"),
    binary_op("Pow"),
    binary_op("PRelu"),
    binary_op("Sub"),
    binary_op("Sum"),
    OpDef::new("", "Where", eval_where, lower_where),
];

/// ONNX `Where(condition, a, b)`: `a` where the condition is true (non-zero), else `b`, with
/// numpy broadcasting over the three.
fn eval_where(_: &Graph, _: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let (c, a, b) = (input(ins, 0)?.to_f32(), input(ins, 1)?, input(ins, 2)?);
    let out = broadcast_shape(&broadcast_shape(c.shape(), &a.shape())?, &b.shape())?;
    let c = c.broadcast(IxDyn(&out)).ok_or("condition does not broadcast")?.to_owned();
    Ok(vec![if !a.is_float() && !b.is_float() {
        Value::Int(select(&c, &a.to_i64(), &b.to_i64())?)
    } else {
        Value::Float(select(&c, &a.to_f32(), &b.to_f32())?)
    }])
}

/// `c ≠ 0 ? a : b` element by element, `a` and `b` broadcast to `c`'s shape.
fn select<T: Copy>(c: &ArrayD<f32>, a: &ArrayD<T>, b: &ArrayD<T>) -> R<ArrayD<T>> {
    let (a, b) = (a.broadcast(c.raw_dim()).ok_or("a does not broadcast")?, b.broadcast(c.raw_dim()).ok_or("b does not broadcast")?);
    Ok(Zip::from(c).and(&a).and(&b).map_collect(|&c, &p, &q| if c != 0.0 { p } else { q }))
}

/// Reached only for what `passes/decompose.rs` (`select`) leaves: integer operands
/// ([`integer_where`]), or a constant with an infinity or a NaN.
fn lower_where(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let operands: Vec<Tid> = n.inputs.iter().skip(1).flatten().copied().collect();
    if operands.iter().all(|&t| g.tensors[t].is_float) {
        return Err("an infinite or NaN constant operand is not supported (no int8 quantization holds it; mask with a finite value)".into());
    }
    if operands.len() != 2 || operands.iter().any(|&t| g.tensors[t].is_float) || g.tensors[n.outputs[0]].is_float {
        return Err("mixing integer and real operands is not supported".into());
    }
    integer_where(l, n)
}

/// Integer `Where(c, a, b)`: `m·a + (1 − m)·b` in exact IntBinary nodes, `m` the condition as
/// an i64 0 or 1, so each product is its operand or 0 and nothing overflows. An int8 (real)
/// condition becomes `m` through a Lut to the codes 1 (true: a code other than the zero point)
/// and 0, a 0 code beside each (a View of one constant code), and ArgMax over each such pair
/// (a tie of two 0s picks index 0); an i64 condition through `clamp(c, −1, 1)²`.
fn integer_where(l: &mut Lowering<'_>, n: &Node) -> R<()> {
    use super::gather_elements::{const_i8, const_i64, data_id, int_binary};
    let g = l.g;
    let name = |s: &str| format!("{}.{s}", n.name);
    let (c, a, b) = (input_id(n, 0)?, input_id(n, 1)?, input_id(n, 2)?);
    let c = data_id(l, c)?;
    let ids = int_operands(l, &[a, b])?;
    let (a, b) = (ids[0], ids[1]);
    let info = l.model.tensors[c as usize].clone();
    let m = if info.dtype == DType::I64 {
        let (one, minus_one) = (const_i64(l, &name("one"), &[], vec![1]), const_i64(l, &name("minus_one"), &[], vec![-1]));
        let low = int_binary(l, &name("at_most_one"), IntBinaryKind::Min, c, one)?;
        let sign = int_binary(l, &name("sign"), IntBinaryKind::Max, low, minus_one)?;
        int_binary(l, &name("mask"), IntBinaryKind::Mul, sign, sign)?
    } else {
        let zp = info.quant.map_or(0, |q| q.zero_point);
        let shape = l.shape_of(c);
        let bits = Quant { scale: 1.0, zero_point: 0 };
        let truth = l.tensor(&name("truth"), &shape, DType::I8, Some(bits));
        let tables = (-128..=127).map(|q: i32| (q != zp) as i8).collect();
        l.emit(&name("truth"), Op::Lut(Lut { axis: None, tables }), vec![c], vec![truth]);
        // [S] → [S, 1], and a 0 code broadcast to [S, 1] beside it
        let mut paired = shape.clone();
        paired.push(1);
        let strides: Vec<i64> = crate::quantize::row_major(&paired).iter().map(|&s| s as i64).collect();
        let column = l.tensor(&name("truth_column"), &paired, DType::I8, Some(bits));
        l.emit(&name("truth_column"), Op::View(solidml_spec::View { offset: 0, strides }), vec![truth], vec![column]);
        let zero = const_i8(l, &name("false"), &[1], vec![0], bits);
        let zeros = l.tensor(&name("false_column"), &paired, DType::I8, Some(bits));
        l.emit(&name("false_column"), Op::View(solidml_spec::View { offset: 0, strides: vec![0; paired.len()] }), vec![zero], vec![zeros]);
        let axis = shape.len();
        paired[axis] = 2;
        let pairs = l.tensor(&name("pairs"), &paired, DType::I8, Some(bits));
        l.emit(&name("pairs"), Op::Concat { axis: axis as u32 }, vec![zeros, column], vec![pairs]);
        let m = l.tensor(&name("mask"), &shape, DType::I64, None);
        l.emit(&name("mask"), Op::ArgMax { axis: axis as u32, select_last_index: false }, vec![pairs], vec![m]);
        m
    };
    let one = const_i64(l, &name("one_for_else"), &[], vec![1]);
    let not_m = int_binary(l, &name("else_mask"), IntBinaryKind::Sub, one, m)?;
    let then = int_binary(l, &name("then"), IntBinaryKind::Mul, m, a)?;
    let otherwise = int_binary(l, &name("else"), IntBinaryKind::Mul, not_m, b)?;
    let y = n.outputs[0];
    let o = l.tensor(g.name(y), g.shape(y), DType::I64, None);
    l.map.insert(y, o);
    l.emit(&n.name, Op::IntBinary { kind: IntBinaryKind::Add }, vec![then, otherwise], vec![o]);
    Ok(())
}

fn input_id(n: &Node, i: usize) -> R<Tid> {
    n.input(i).ok_or_else(|| format!("input {i} missing"))
}

const fn binary_op(op_type: &'static str) -> OpDef {
    OpDef::new("", op_type, eval, lower)
}

/// The element-wise binary ops (`Sum` is `Add` over any number of operands).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// ONNX `Add`: `a + b`.
    Add,
    /// ONNX `Sum`: the sum of one or more operands, folded left as repeated `Add`.
    Sum,
    /// ONNX `Sub`: `a − b`.
    Sub,
    /// ONNX `Mul`: `a · b`.
    Mul,
    /// ONNX `Div`: `a / b`; on integers it rounds toward zero (onnxruntime's C++ division).
    Div,
    /// ONNX `Pow`: `a` raised to `b`; its float semantics are in `f32` even on integer operands.
    Pow,
    /// ONNX `Max`: the element-wise maximum of one or more operands.
    Max,
    /// ONNX `Min`: the element-wise minimum of one or more operands.
    Min,
    /// ONNX `PRelu`: `x` where `x ≥ 0`, `slope · x` where `x < 0` (operand 1 is the slope).
    PRelu,
    /// ONNX `Equal`, `Less`, `Greater`, `LessOrEqual`, `GreaterOrEqual`: 1 where the comparison
    /// of the real values holds, else 0 (a boolean tensor, held as the reals 0 and 1).
    Compare(Comparison),
    /// ONNX `And`, `Or`, `Xor` on booleans (any non-zero real is true): 1 or 0.
    Logic(Logic),
    /// ONNX `Mod`: the remainder of `a / b`, with the sign of `a` when `fmod` (C's `fmod`, the
    /// only form ONNX allows on reals) and of `b` otherwise (Python's `%`); by zero, NaN on
    /// reals.
    Mod {
        /// Attribute `fmod`.
        fmod: bool,
    },
}

/// The comparisons of [`BinaryOp::Compare`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `a = b`.
    Equal,
    /// `a < b`.
    Less,
    /// `a > b`.
    Greater,
    /// `a ≤ b`.
    LessOrEqual,
    /// `a ≥ b`.
    GreaterOrEqual,
}

/// The connectives of [`BinaryOp::Logic`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logic {
    /// Both true.
    And,
    /// Either true.
    Or,
    /// Exactly one true.
    Xor,
}

impl Comparison {
    /// Whether `p` compares to `q` so (on reals or integers alike).
    fn holds<T: PartialOrd>(self, p: T, q: T) -> bool {
        match self {
            Comparison::Equal => p == q,
            Comparison::Less => p < q,
            Comparison::Greater => p > q,
            Comparison::LessOrEqual => p <= q,
            Comparison::GreaterOrEqual => p >= q,
        }
    }
}

impl Logic {
    /// The connective of two truth values.
    fn of(self, a: bool, b: bool) -> bool {
        match self {
            Logic::And => a && b,
            Logic::Or => a || b,
            Logic::Xor => a != b,
        }
    }
}

impl BinaryOp {
    /// Whether the op's output is a boolean (held as the reals 0 and 1).
    pub fn is_boolean(self) -> bool {
        matches!(self, BinaryOp::Compare(_) | BinaryOp::Logic(_))
    }
}

impl BinaryOp {
    /// The op of an ONNX `op_type` (default domain), or `None` when it is not one of these.
    pub fn parse(op_type: &str) -> Option<BinaryOp> {
        Some(match op_type {
            "Add" => BinaryOp::Add,
            "Sum" => BinaryOp::Sum,
            "Sub" => BinaryOp::Sub,
            "Mul" => BinaryOp::Mul,
            "Div" => BinaryOp::Div,
            "Pow" => BinaryOp::Pow,
            "Max" => BinaryOp::Max,
            "Min" => BinaryOp::Min,
            "PRelu" => BinaryOp::PRelu,
            "Equal" => BinaryOp::Compare(Comparison::Equal),
            "Less" => BinaryOp::Compare(Comparison::Less),
            "Greater" => BinaryOp::Compare(Comparison::Greater),
            "LessOrEqual" => BinaryOp::Compare(Comparison::LessOrEqual),
            "GreaterOrEqual" => BinaryOp::Compare(Comparison::GreaterOrEqual),
            "And" => BinaryOp::Logic(Logic::And),
            "Or" => BinaryOp::Logic(Logic::Or),
            "Xor" => BinaryOp::Logic(Logic::Xor),
            "Mod" => BinaryOp::Mod { fmod: false },
            _ => return None,
        })
    }

    /// The ONNX `op_type` of the op (the inverse of [`BinaryOp::parse`]).
    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "Add",
            BinaryOp::Sum => "Sum",
            BinaryOp::Sub => "Sub",
            BinaryOp::Mul => "Mul",
            BinaryOp::Div => "Div",
            BinaryOp::Pow => "Pow",
            BinaryOp::Max => "Max",
            BinaryOp::Min => "Min",
            BinaryOp::PRelu => "PRelu",
            BinaryOp::Compare(Comparison::Equal) => "Equal",
            BinaryOp::Compare(Comparison::Less) => "Less",
            BinaryOp::Compare(Comparison::Greater) => "Greater",
            BinaryOp::Compare(Comparison::LessOrEqual) => "LessOrEqual",
            BinaryOp::Compare(Comparison::GreaterOrEqual) => "GreaterOrEqual",
            BinaryOp::Logic(Logic::And) => "And",
            BinaryOp::Logic(Logic::Or) => "Or",
            BinaryOp::Logic(Logic::Xor) => "Xor",
            BinaryOp::Mod { .. } => "Mod",
        }
    }

    /// Scalar float semantics.
    pub fn apply_f32(self, p: f32, q: f32) -> f32 {
        match self {
            BinaryOp::Add | BinaryOp::Sum => p + q,
            BinaryOp::Sub => p - q,
            BinaryOp::Mul => p * q,
            BinaryOp::Div => p / q,
            BinaryOp::Pow => p.powf(q),
            BinaryOp::Max => p.max(q),
            BinaryOp::Min => p.min(q),
            BinaryOp::PRelu => {
                if p < 0.0 {
                    p * q
                } else {
                    p
                }
            }
            BinaryOp::Compare(c) => c.holds(p, q) as u8 as f32,
            BinaryOp::Logic(l) => l.of(p != 0.0, q != 0.0) as u8 as f32,
            // reals: always `fmod` (ONNX requires it); Rust's `%` on floats is C's fmod
            BinaryOp::Mod { .. } => p % q,
        }
    }

    /// Scalar integer semantics, as `IntBinary` computes them (spec §Op: IntBinary; division
    /// rounds toward zero, Mod takes the divisor's sign and `fmod` the dividend's), except
    /// that overflow wraps as ONNX runtimes' int64 arithmetic does (never a panic on constants
    /// read from a model) and a division by zero gives 0: calibration samples (the synthetic
    /// ones truncate to 0) may divide by zero where the model's real inputs never do; the
    /// lowered `IntBinary` fails the inference there.
    fn apply_i64(self, p: i64, q: i64) -> i64 {
        let exact = |k: IntBinaryKind| match k.apply(p, q) {
            Ok(v) => v,
            Err(solidml_spec::IntFault::DivisionByZero) => 0,
            // only MIN / −1 and the wrapping ops get here
            Err(solidml_spec::IntFault::Overflow) => match k {
                IntBinaryKind::Add => p.wrapping_add(q),
                IntBinaryKind::Sub => p.wrapping_sub(q),
                IntBinaryKind::Mul => p.wrapping_mul(q),
                _ => p.wrapping_div(q),
            },
        };
        match self {
            BinaryOp::Add | BinaryOp::Sum => exact(IntBinaryKind::Add),
            BinaryOp::Sub => exact(IntBinaryKind::Sub),
            BinaryOp::Mul => exact(IntBinaryKind::Mul),
            BinaryOp::Div => exact(IntBinaryKind::Div),
            BinaryOp::Mod { fmod: false } => exact(IntBinaryKind::Mod),
            BinaryOp::Mod { fmod: true } => exact(IntBinaryKind::Rem),
            BinaryOp::Max => exact(IntBinaryKind::Max),
            BinaryOp::Min => exact(IntBinaryKind::Min),
            BinaryOp::Pow | BinaryOp::PRelu => {
                if p < 0 {
                    p.wrapping_mul(q)
                } else {
                    p
                }
            }
            // exact on integers too: the comparison of the values
            BinaryOp::Compare(c) => c.holds(p, q) as i64,
            BinaryOp::Logic(l) => l.of(p != 0, q != 0) as i64,
        }
    }
}

fn parse(n: &Node) -> R<BinaryOp> {
    match BinaryOp::parse(&n.op).ok_or_else(|| format!("{} is not a binary element-wise op", n.op))? {
        BinaryOp::Mod { .. } => Ok(BinaryOp::Mod { fmod: n.int("fmod", 0) != 0 }),
        op => Ok(op),
    }
}

fn eval(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let op = parse(n)?;
    let all_int = ins.iter().flatten().all(|v| !v.is_float()) && op != BinaryOp::Pow;
    if op == BinaryOp::PRelu {
        let x = input(ins, 0)?.to_f32();
        let slope = align_prelu_slope(x.shape(), input(ins, 1)?.to_f32());
        return Ok(vec![binary(op, &Value::Float(x), &Value::Float(slope), false)?]);
    }
    let mut acc = input(ins, 0)?.clone();
    for i in 1..ins.len() {
        acc = binary(op, &acc, input(ins, i)?, all_int)?;
    }
    if op.is_boolean() {
        // a boolean tensor is a real one (0 and 1), whatever its operands were
        acc = Value::Float(acc.to_f32());
    }
    Ok(vec![acc])
}

fn binary(op: BinaryOp, a: &Value, b: &Value, int: bool) -> R<Value> {
    let out = broadcast_shape(&a.shape(), &b.shape())?;
    let sh = IxDyn(&out);
    if int {
        let (x, y) = (a.to_i64(), b.to_i64());
        let (x, y) = (x.broadcast(sh.clone()).unwrap(), y.broadcast(sh).unwrap());
        let mut r = ArrayD::<i64>::zeros(IxDyn(&out));
        Zip::from(&mut r).and(&x).and(&y).for_each(|r, &p, &q| *r = op.apply_i64(p, q));
        return Ok(Value::Int(r));
    }
    let (x, y) = (a.to_f32(), b.to_f32());
    let (x, y) = (x.broadcast(sh.clone()).unwrap(), y.broadcast(sh).unwrap());
    let mut r = ArrayD::<f32>::zeros(IxDyn(&out));
    Zip::from(&mut r).and(&x).and(&y).for_each(|r, &p, &q| *r = op.apply_f32(p, q));
    Ok(Value::Float(r))
}

/// PRelu's slope as ONNX opset ≤ 6 exporters wrote it (`[C]` for an `N×C×…` input) aligned
/// to the channel axis; slopes that already broadcast are returned unchanged.
pub fn align_prelu_slope(x_shape: &[usize], slope: ArrayD<f32>) -> ArrayD<f32> {
    if broadcast_shape(x_shape, slope.shape()).is_ok_and(|s| s == x_shape) {
        return slope;
    }
    if slope.ndim() == 1 && x_shape.len() >= 2 && slope.len() == x_shape[1] {
        let mut s = vec![1; x_shape.len() - 1];
        s[0] = slope.len();
        return slope.into_shape_with_order(IxDyn(&s)).unwrap();
    }
    slope
}

fn lower(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let op = parse(n)?;
    let g = l.g;
    let y = n.outputs[0];
    let args: Vec<Tid> = n.inputs.iter().flatten().copied().collect();
    let consts: Vec<bool> = args.iter().map(|&t| g.is_const(t)).collect();
    if !g.tensors[y].is_float {
        return int_elementwise(l, n, op, &args);
    }
    if let BinaryOp::Compare(c) = op
        && args.iter().all(|&t| !g.tensors[t].is_float)
    {
        return super::int_compare::lower(l, n, c, &args);
    }
    if let Some(&t) = args.iter().find(|&&t| !g.tensors[t].is_float) {
        return Err(format!("{} of the integer tensor `{}` into a real or boolean tensor is not supported", op.name(), g.name(t)));
    }
    if args.len() == 2 && consts[0] != consts[1] {
        // one run-time operand, one constant
        let (dyn_i, c_i) = if consts[0] { (1, 0) } else { (0, 1) };
        let x = args[dyn_i];
        let mut c = g.consts[&args[c_i]].to_f32();
        if op == BinaryOp::PRelu {
            c = align_prelu_slope(g.shape(x), c);
        }
        let out_shape = g.shape(y).to_vec();
        if out_shape != g.shape(x) {
            return Err(format!("the constant operand {:?} widens the run-time operand {:?}", c.shape(), g.shape(x)));
        }
        let cb = c.broadcast(IxDyn(&out_shape)).ok_or("constant does not broadcast")?.to_owned();
        let varying: Vec<usize> =
            (0..out_shape.len()).filter(|&a| c.ndim() + a >= out_shape.len() && c.shape()[a + c.ndim() - out_shape.len()] > 1).collect();
        let apply = |cv: f32| -> Box<dyn Fn(f64) -> f64> {
            Box::new(move |v: f64| if dyn_i == 0 { op.apply_f32(v as f32, cv) as f64 } else { op.apply_f32(cv, v as f32) as f64 })
        };
        let all_same = cb.iter().all(|&v| v == cb.iter().next().copied().unwrap_or(0.0));
        if all_same {
            let f = apply(cb.iter().next().copied().unwrap_or(0.0));
            let xi = l.id(x)?;
            let qo = l.range_quant(y)?;
            l.unary_lut(&n.name, xi, y, qo, &*f);
            return Ok(());
        }
        if varying.len() == 1 {
            let a = varying[0];
            let per: Vec<f32> = (0..out_shape[a]).map(|k| *cb.index_axis(ndarray::Axis(a), k).iter().next().unwrap()).collect();
            let fs: Vec<Box<dyn Fn(f64) -> f64>> = per.iter().map(|&cv| apply(cv)).collect();
            return l.channel_lut(n, x, y, a, &fs);
        }
        if op == BinaryOp::Div && dyn_i == 1 {
            return Err("dividing a constant tensor by a run-time tensor is not supported".into());
        }
        if op == BinaryOp::Div {
            // x / c = x · (1/c)
            let recip = c.mapv(|v| 1.0 / v);
            return binary_with_const(l, n, x, &recip, dyn_i, BinaryOp::Mul);
        }
        return binary_with_const(l, n, x, &c, dyn_i, op);
    }
    if consts.iter().any(|&c| c) {
        return Err("constant operands of a variadic op are not supported".into());
    }
    let xs: Vec<TensorId> = args.iter().map(|&t| l.id(t)).collect::<R<_>>()?;
    match op {
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Sum if !xs.is_empty() => {
            let kind = match op {
                BinaryOp::Sub => BinaryKind::Sub,
                BinaryOp::Mul => BinaryKind::Mul,
                _ => BinaryKind::Add,
            };
            let qo = l.range_quant(y)?;
            let mut acc = xs[0];
            for (k, &b) in xs.iter().enumerate().skip(1) {
                let last = k == xs.len() - 1;
                let o = if last {
                    l.out(y, qo)
                } else {
                    let shape = broadcast_shape(&l.shape_of(acc), &l.shape_of(b))?;
                    l.tensor(&format!("{}.partial{k}", g.name(y)), &shape, DType::I8, Some(qo))
                };
                let bin = binary_params(l, kind, acc, b, qo)?;
                l.emit(&n.name, Op::Binary(bin), vec![acc, b], vec![o]);
                acc = o;
            }
            if xs.len() == 1 {
                let o = l.rescale(xs[0], qo, &n.name);
                l.map.insert(y, o);
            }
            Ok(())
        }
        BinaryOp::Max | BinaryOp::Min => {
            let qo = l.range_quant(y)?;
            let e = if op == BinaryOp::Max { Extremum::Max } else { Extremum::Min };
            let xs: Vec<TensorId> = xs.iter().map(|&x| l.rescale(x, qo, &n.name)).collect();
            let mut acc = xs[0];
            for (k, &b) in xs.iter().enumerate().skip(1) {
                let o = if k == xs.len() - 1 {
                    l.out(y, qo)
                } else {
                    let shape = broadcast_shape(&l.shape_of(acc), &l.shape_of(b))?;
                    l.tensor(&format!("{}.partial{k}", g.name(y)), &shape, DType::I8, Some(qo))
                };
                l.emit(&n.name, Op::Extremum(e), vec![acc, b], vec![o]);
                acc = o;
            }
            if xs.len() == 1 {
                l.map.insert(y, xs[0]);
            }
            Ok(())
        }
        BinaryOp::Div | BinaryOp::Pow | BinaryOp::PRelu | BinaryOp::Compare(_) | BinaryOp::Logic(_) | BinaryOp::Mod { .. }
            if xs.len() == 2 =>
        {
            // any function of two int8 tensors: a 65536-entry table
            let (qa, qb) = (l.quant(xs[0]), l.quant(xs[1]));
            let qo = l.range_quant(y)?;
            let table: Vec<i8> = (-128i32..=127)
                .flat_map(|a| (-128i32..=127).map(move |b| (a, b)))
                .map(|(a, b)| {
                    let v = op.apply_f32(qa.real(a) as f32, qb.real(b) as f32) as f64;
                    lut_table(&|_| v, Quant { scale: 1.0, zero_point: 0 }, qo)[0]
                })
                .collect();
            let o = l.out(y, qo);
            l.emit(&n.name, Op::BinaryLut { table }, xs, vec![o]);
            Ok(())
        }
        _ => Err(format!("{} of two run-time tensors is not supported", op.name())),
    }
}

/// Integer arithmetic on i64 tensors (indices, counts): exact, no quantization; a variadic
/// Sum, Max or Min is a left fold of `IntBinary` nodes.
fn int_elementwise(l: &mut Lowering<'_>, n: &Node, op: BinaryOp, args: &[Tid]) -> R<()> {
    let g = l.g;
    let kind = match op {
        BinaryOp::Add | BinaryOp::Sum => IntBinaryKind::Add,
        BinaryOp::Sub => IntBinaryKind::Sub,
        BinaryOp::Mul => IntBinaryKind::Mul,
        BinaryOp::Div => IntBinaryKind::Div,
        BinaryOp::Mod { fmod: false } => IntBinaryKind::Mod,
        BinaryOp::Mod { fmod: true } => IntBinaryKind::Rem,
        BinaryOp::Max => IntBinaryKind::Max,
        BinaryOp::Min => IntBinaryKind::Min,
        other => return Err(format!("{} on integer tensors is not supported", other.name())),
    };
    if args.is_empty() {
        return Err("no operands".into());
    }
    let ids = int_operands(l, args)?;
    if ids.iter().any(|&i| l.model.tensors[i as usize].dtype != DType::I64) {
        return Err("mixing integer and real operands is not supported".into());
    }
    let y = n.outputs[0];
    let o = l.tensor(g.name(y), g.shape(y), DType::I64, None);
    l.map.insert(y, o);
    if ids.len() == 1 {
        // a one-operand Sum, Max or Min is its operand
        let strides = crate::quantize::row_major(g.shape(y)).iter().map(|&s| s as i64).collect();
        l.emit(&n.name, Op::View(solidml_spec::View { offset: 0, strides }), ids, vec![o]);
        return Ok(());
    }
    let mut acc = ids[0];
    for (k, &b) in ids.iter().enumerate().skip(1) {
        let out = if k == ids.len() - 1 {
            o
        } else {
            let shape = broadcast_shape(&l.shape_of(acc), &l.shape_of(b))?;
            l.tensor(&format!("{}.partial{k}", g.name(y)), &shape, DType::I64, None)
        };
        l.emit(&n.name, Op::IntBinary { kind }, vec![acc, b], vec![out]);
        acc = out;
    }
    Ok(())
}

/// The spec tensors of integer operands `args`: a constant one becomes an i64 constant tensor,
/// a run-time one is its lowered tensor (whose type the caller checks).
pub(crate) fn int_operands(l: &mut Lowering<'_>, args: &[Tid]) -> R<Vec<TensorId>> {
    let g = l.g;
    args.iter()
        .map(|&t| match g.consts.get(&t) {
            Some(v) => {
                let id = l.tensor(g.name(t), g.shape(t), DType::I64, None);
                l.model.constants.push((id, ConstData::I64(v.to_i64().iter().copied().collect())));
                Ok(id)
            }
            None => l.id(t),
        })
        .collect()
}

fn binary_params(l: &Lowering<'_>, kind: BinaryKind, a: TensorId, b: TensorId, qo: Quant) -> R<Binary> {
    let (qa, qb) = (l.quant(a), l.quant(b));
    let (sa, sb, so) = (qa.scale as f64, qb.scale as f64, qo.scale as f64);
    let zero = Multiplier { multiplier: 0, shift: 0 };
    let (left_shift, am, bm, om) = match kind {
        BinaryKind::Mul => (0, zero, zero, multiplier(sa * sb / so)?),
        _ => {
            let twice = 2.0 * sa.max(sb);
            (20, multiplier(sa / twice)?, multiplier(sb / twice)?, multiplier(twice / ((1 << 20) as f64 * so))?)
        }
    };
    Ok(Binary {
        kind,
        a_zero_point: qa.zero_point,
        b_zero_point: qb.zero_point,
        left_shift,
        a_multiplier: am,
        b_multiplier: bm,
        output_multiplier: om,
        output_zero_point: qo.zero_point,
        clamp_min: -128,
        clamp_max: 127,
    })
}

pub(crate) fn binary_with_const(l: &mut Lowering<'_>, n: &Node, x: Tid, c: &ArrayD<f32>, dyn_i: usize, op: BinaryOp) -> R<()> {
    let kind = match op {
        BinaryOp::Add | BinaryOp::Sum => BinaryKind::Add,
        BinaryOp::Sub => BinaryKind::Sub,
        BinaryOp::Mul => BinaryKind::Mul,
        other => return Err(format!("{} with a constant tensor operand is not supported", other.name())),
    };
    let (lo, hi) = c.iter().fold((0f32, 0f32), |(l, h), &v| (l.min(v), h.max(v)));
    let qc = quant_from_range(lo, hi);
    let data: Vec<i8> = c.iter().map(|&v| quantize_f32(v, qc.scale, qc.zero_point)).collect();
    let ct = l.tensor(&format!("{}.const", n.name), c.shape(), DType::I8, Some(qc));
    l.model.constants.push((ct, ConstData::I8(data)));
    let xi = l.id(x)?;
    let y = n.outputs[0];
    let qo = l.range_quant(y)?;
    let (a, b) = if dyn_i == 0 { (xi, ct) } else { (ct, xi) };
    let bin = binary_params(l, kind, a, b, qo)?;
    let o = l.out(y, qo);
    l.emit(&n.name, Op::Binary(bin), vec![a, b], vec![o]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mod_follows_the_sign_onnx_asks() {
        // integers: Python's `%` (the divisor's sign) by default, C's with fmod
        let py = BinaryOp::Mod { fmod: false };
        let c = BinaryOp::Mod { fmod: true };
        for (p, q, want_py, want_c) in [(7, 3, 1, 1), (-7, 3, 2, -1), (7, -3, -2, 1), (-7, -3, -1, -1), (6, 3, 0, 0)] {
            assert_eq!((py.apply_i64(p, q), c.apply_i64(p, q)), (want_py, want_c), "{p} mod {q}");
        }
        // by zero: 0 at compile time (the lowered IntBinary fails the inference)
        assert_eq!((py.apply_i64(5, 0), c.apply_i64(5, 0), BinaryOp::Div.apply_i64(5, 0)), (0, 0, 0));
        // integer division rounds toward zero (onnxruntime), and MIN / −1 wraps
        assert_eq!(BinaryOp::Div.apply_i64(-7, 2), -3);
        assert_eq!(BinaryOp::Div.apply_i64(i64::MIN, -1), i64::MIN);
        // reals: fmod, the dividend's sign
        assert_eq!(py.apply_f32(-7.5, 2.0), -1.5);
        assert_eq!(py.apply_f32(7.5, -2.0), 1.5);
        assert!(py.apply_f32(1.0, 0.0).is_nan());
        // comparisons and connectives give 0 or 1
        assert_eq!(BinaryOp::Compare(Comparison::LessOrEqual).apply_f32(2.0, 2.0), 1.0);
        assert_eq!(BinaryOp::Logic(Logic::Xor).apply_f32(0.5, 0.0), 1.0);
        assert_eq!(BinaryOp::Compare(Comparison::Greater).apply_i64(i64::MAX, i64::MAX - 1), 1);
    }
}
