//! `BitwiseNot`, `BitwiseAnd`, `BitwiseOr`, `BitwiseXor` (opset 18) and `BitShift` (opset 11,
//! `direction` `LEFT` or `RIGHT`, unsigned operands) on integer tensors.
//!
//! Float semantics in `i64` on the values of the input's ONNX element type (a tensor of
//! unknown type, an intermediate one, counts as signed): Not is `−1 − x` for signed types and
//! `2^w − 1 − x` for unsigned ones of `w` bits; a shift is taken modulo `2^w` (a shift by `w`
//! or more gives 0).
//!
//! Lowering, exactly:
//!
//! * Not: `IntBinary` Sub from the constant `−1` (signed) or `2^w − 1` (uint8/16/32); uint64
//!   is refused (its values do not fit an i64).
//! * And, Or, Xor: IntBinary And, Or, Xor on the i64 values (the two's-complement bits of
//!   every type but uint64, whose values above `2^63 − 1` an i64 input cannot hold).
//! * BitShift of uint16 and uint32: IntBinary arithmetic ([`wide_shift`]).
//! * BitShift of 8-bit operands (uint8, or int8 shifted by 128): the
//!   result of every pair is tabulated: each operand is checked to lie in `[0, 256)` by a
//!   `Take` of the identity table (an out-of-range value fails the inference at run time),
//!   `k = 256 · a + b` by IntBinary Mul and Add (numpy broadcasting), and the result is a
//!   `Take` of the 65536-entry table. BitShift of uint64 is refused.

use ndarray::{ArrayD, IxDyn, Zip};
use solidml_spec::{DType, IntBinaryKind, Op, TensorId};

use super::{
    OpDef, R,
    gather_elements::{const_i64, data_id, int_binary},
    input,
};
use crate::{
    float::broadcast_shape,
    ir::{Graph, Node, Tid, Value},
    quantize::Lowering,
};

pub(crate) const OPS: &[OpDef] = &[
    OpDef::new("", "BitShift", eval, lower),
    OpDef::new("", "BitwiseAnd", eval, lower),
    OpDef::new("", "BitwiseNot", eval, lower),
    OpDef::new("", "BitwiseOr", eval, lower),
    OpDef::new("", "BitwiseXor", eval, lower),
];

/// `(bits, signed)` of an ONNX integer element type ([`super::shape::integer_type`]).
fn int_type(onnx_type: i32) -> Option<(u32, bool)> {
    super::shape::integer_type(onnx_type as i64)
}

/// The element type of input `i` of `n`: `(bits, signed)`, signed 64 bits when unknown.
fn operand_type(g: &Graph, n: &Node, i: usize) -> (u32, bool) {
    n.input(i).and_then(|t| g.tensors.get(t)).and_then(|t| int_type(t.onnx_type)).unwrap_or((64, true))
}

/// The binary function of `n` on two values of an unsigned type of `bits` (or signed ones).
fn binary_fn(n: &Node, bits: u32) -> R<Box<dyn Fn(i64, i64) -> i64>> {
    Ok(match n.op.as_str() {
        "BitwiseAnd" => Box::new(|a, b| a & b),
        "BitwiseOr" => Box::new(|a, b| a | b),
        "BitwiseXor" => Box::new(|a, b| a ^ b),
        "BitShift" => {
            let mask = if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 };
            match n.str("direction", "").as_str() {
                "LEFT" => Box::new(move |a, b| if (0..bits as i64).contains(&b) { ((a as u64) << b & mask) as i64 } else { 0 }),
                "RIGHT" => Box::new(move |a, b| if (0..bits as i64).contains(&b) { ((a as u64 & mask) >> b) as i64 } else { 0 }),
                d => return Err(format!("BitShift: direction `{d}` is not LEFT or RIGHT")),
            }
        }
        op => return Err(format!("{op} is not a binary bitwise op")),
    })
}

fn eval(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    // calibration feeds integer model inputs as reals: their values are taken as integers
    let a = input(ins, 0)?;
    let (bits, signed) = operand_type(g, n, 0);
    if n.op == "BitwiseNot" {
        let a = a.to_i64();
        return Ok(vec![Value::Int(if signed || bits >= 64 { a.mapv(|v| !v) } else { a.mapv(|v| ((1i64 << bits) - 1) - v) })]);
    }
    let b = input(ins, 1)?;
    if n.op == "BitShift" && signed && bits < 64 {
        return Err("BitShift of a signed type".into());
    }
    let f = binary_fn(n, bits)?;
    let (a, b) = (a.to_i64(), b.to_i64());
    let shape = broadcast_shape(a.shape(), b.shape())?;
    let (a, b) = (a.broadcast(IxDyn(&shape)).ok_or("broadcast")?, b.broadcast(IxDyn(&shape)).ok_or("broadcast")?);
    let mut y = ArrayD::zeros(IxDyn(&shape));
    Zip::from(&mut y).and(&a).and(&b).for_each(|y, &a, &b| *y = f(a, b));
    Ok(vec![Value::Int(y)])
}

fn lower(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let name = |s: &str| format!("{}.{s}", n.name);
    let a = n.input(0).ok_or("input 0 missing")?;
    let y = n.outputs[0];
    let (bits, signed) = operand_type(g, n, 0);
    let int = |t: Tid, l: &mut Lowering<'_>| -> R<TensorId> {
        let id = data_id(l, t)?;
        if l.model.tensors[id as usize].dtype != DType::I64 {
            return Err(format!("{} of the real tensor `{}`", n.op, g.name(t)));
        }
        Ok(id)
    };
    let xa = int(a, l)?;
    let out = if n.op == "BitwiseNot" {
        let c = match (bits, signed) {
            (64, false) => return Err("BitwiseNot of uint64 is not supported (its values do not fit an i64)".into()),
            (_, true) => -1,
            (w, false) => (1i64 << w) - 1,
        };
        let c = const_i64(l, &name("ones"), &[], vec![c]);
        int_binary(l, &n.name, IntBinaryKind::Sub, c, xa)?
    } else {
        let b = n.input(1).ok_or("input 1 missing")?;
        let same_type = operand_type(g, n, 1) == (bits, signed);
        if let Some(kind) = match n.op.as_str() {
            "BitwiseAnd" => Some(IntBinaryKind::And),
            "BitwiseOr" => Some(IntBinaryKind::Or),
            "BitwiseXor" => Some(IntBinaryKind::Xor),
            _ => None,
        } {
            if !same_type {
                return Err(format!("{} of operands of two different types", n.op));
            }
            let xb = int(b, l)?;
            let out = int_binary(l, &n.name, kind, xa, xb)?;
            l.model.tensors[out as usize].name = g.name(y).to_string();
            l.map.insert(y, out);
            return Ok(());
        }
        if n.op == "BitShift" && same_type && !signed && (bits == 16 || bits == 32) {
            let xb = int(b, l)?;
            let left = match n.str("direction", "").as_str() {
                "LEFT" => true,
                "RIGHT" => false,
                d => return Err(format!("BitShift: direction `{d}` is not LEFT or RIGHT")),
            };
            let out = wide_shift(l, n, xa, xb, bits, left)?;
            l.model.tensors[out as usize].name = g.name(y).to_string();
            l.map.insert(y, out);
            return Ok(());
        }
        if !same_type || bits != 8 {
            return Err(format!("{} is supported on two operands of the same type of 8, 16 or 32 bits only", n.op));
        }
        let xb = int(b, l)?;
        let f = binary_fn(n, bits)?;
        let off = if signed { 128 } else { 0 };
        let byte = |x: TensorId, tag: &str, l: &mut Lowering<'_>| -> R<TensorId> {
            let x = if off != 0 {
                let c = const_i64(l, &name(&format!("{tag}_offset")), &[], vec![off]);
                int_binary(l, &name(&format!("{tag}_offset")), IntBinaryKind::Add, x, c)?
            } else {
                x
            };
            let o = l.tensor(&name(&format!("{tag}_checked")), &l.shape_of(x), DType::I64, None);
            l.emit(&name(&format!("{tag}_checked")), Op::Take { table: (0..256).collect() }, vec![x], vec![o]);
            Ok(o)
        };
        let (ca, cb) = (byte(xa, "a", l)?, byte(xb, "b", l)?);
        let k256 = const_i64(l, &name("radix"), &[], vec![256]);
        let hi = int_binary(l, &name("high"), IntBinaryKind::Mul, ca, k256)?;
        let k = int_binary(l, &name("pair"), IntBinaryKind::Add, hi, cb)?;
        let table = (0..65536i64).map(|k| f(k / 256 - off, k % 256 - off)).collect();
        let o = l.tensor(&n.name, &l.shape_of(k), DType::I64, None);
        l.emit(&n.name, Op::Take { table }, vec![k], vec![o]);
        o
    };
    l.model.tensors[out as usize].name = g.name(y).to_string();
    l.map.insert(y, out);
    Ok(())
}

/// BitShift of unsigned `w`-bit integers (16 or 32 bits) in exact i64 arithmetic: the shift
/// `s` clamped to `w` (IntBinary Min), `2^s` read from a table of powers of two (`2^w` at
/// `s = w`, which empties every value) by Take; left: `(x mod 2^(w−s)) · 2^s`, the bits shifted
/// out dropped before the product so that nothing overflows; right: `x / 2^s`.
fn wide_shift(l: &mut Lowering<'_>, n: &Node, x: TensorId, s: TensorId, w: u32, left: bool) -> R<TensorId> {
    let name = |t: &str| format!("{}.{t}", n.name);
    let width = const_i64(l, &name("width"), &[], vec![w as i64]);
    let shift = int_binary(l, &name("shift_clamped"), IntBinaryKind::Min, s, width)?;
    let take = |l: &mut Lowering<'_>, tag: &str, table: Vec<i64>| {
        let o = l.tensor(&name(tag), &l.shape_of(shift), DType::I64, None);
        l.emit(&name(tag), Op::Take { table }, vec![shift], vec![o]);
        o
    };
    let power = take(l, "power", (0..=w).map(|k| 1i64 << k).collect());
    if !left {
        return int_binary(l, &n.name, IntBinaryKind::Div, x, power);
    }
    let room = take(l, "room", (0..=w).map(|k| 1i64 << (w - k)).collect());
    let kept = int_binary(l, &name("kept"), IntBinaryKind::Mod, x, room)?;
    int_binary(l, &n.name, IntBinaryKind::Mul, kept, power)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Attr;

    fn run(op: &str, ty: i32, a: Vec<i64>, b: Option<Vec<i64>>, attrs: &[(&str, Attr)]) -> R<Vec<i64>> {
        let mut g = Graph::default();
        let t = g.add_tensor("a", false);
        g.tensors[t].onnx_type = ty;
        let n = Node {
            name: "b".into(),
            op: op.into(),
            domain: String::new(),
            attrs: attrs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            inputs: vec![Some(t)],
            outputs: vec![],
        };
        let v = |x: Vec<i64>| Value::Int(ArrayD::from_shape_vec(IxDyn(&[x.len()]), x).unwrap());
        let (a, b) = (v(a), b.map(v));
        Ok(eval(&g, &n, &[Some(&a), b.as_ref()])?[0].to_i64().iter().copied().collect())
    }

    /// Compile `op(a, b)` on two integer inputs of ONNX type `ty`, calibrated and run on `a`,
    /// `b` (values exact in f32): the spec ops and the output.
    fn compile_and_run(op: &str, ty: i32, a: &[f32], b: &[f32], attrs: Vec<(&str, Attr)>) -> (Vec<&'static str>, Vec<f64>) {
        use crate::{
            CompileOptions, compile_graph,
            passes::testutil::{graph, node_n},
        };
        let mut g = graph(&[("a", &[a.len()]), ("b", &[b.len()])]);
        for t in [0, 1] {
            g.tensors[t].is_float = false;
            g.tensors[t].onnx_type = ty;
        }
        node_n(&mut g, op, &[Some(0), Some(1)], 1, attrs);
        let data: Vec<ArrayD<f32>> = [a, b].iter().map(|v| ArrayD::from_shape_vec(IxDyn(&[v.len()]), v.to_vec()).unwrap()).collect();
        let c = compile_graph(&mut g, "m", &CompileOptions::default().with_calibration(data.clone())).unwrap();
        let samples = crate::runner::samples(&crate::runner::input_shapes(&c.model), &data).unwrap();
        let outs = crate::runner::run_samples(&c.model, &samples).unwrap().remove(0).1;
        let ops = c.model.nodes.iter().map(|n| n.op.kind()).collect();
        (ops, outs[0].to_f32().iter().map(|&v| v as f64).collect())
    }

    #[test]
    fn wide_shifts_and_bitwise_ops_compile_to_exact_integer_ops() {
        let two = |e: i32| 2f32.powi(e);
        let x = [1.0, 3.0, two(32) - two(16), two(31)];
        let (ops, y) = compile_and_run("BitShift", 12, &x, &[31.0, 30.0, 8.0, 1.0], vec![("direction", Attr::Str("LEFT".into()))]);
        assert_eq!(ops, ["IntBinary", "Take", "Take", "IntBinary", "IntBinary"]);
        assert_eq!(y, [two(31), two(31) + two(30), two(32) - two(24), 0.0].map(f64::from));
        // a shift of 32 or more empties the value
        let (_, y) = compile_and_run("BitShift", 12, &x, &[0.0, 1.0, 16.0, 40.0], vec![("direction", Attr::Str("RIGHT".into()))]);
        assert_eq!(y, [1.0, 1.0, two(16) - 1.0, 0.0].map(f64::from));
        // int32 bits, negative values included
        let (ops, y) = compile_and_run("BitwiseAnd", 6, &[-1.0, -8.0, 12.0], &[5.0, 7.0, -3.0], vec![]);
        assert_eq!(ops, ["IntBinary"]);
        assert_eq!(y, [5.0, 0.0, 12.0]);
        let (_, y) = compile_and_run("BitwiseXor", 6, &[-1.0, 6.0], &[5.0, 3.0], vec![]);
        assert_eq!(y, [-6.0, 5.0]);
    }

    #[test]
    fn bitwise_by_hand() {
        assert_eq!(run("BitwiseNot", 6, vec![0, 5, -1], None, &[]).unwrap(), [-1, -6, 0]);
        assert_eq!(run("BitwiseNot", 2, vec![0, 5, 255], None, &[]).unwrap(), [255, 250, 0]);
        assert_eq!(run("BitwiseAnd", 2, vec![12, 10], Some(vec![10, 6]), &[]).unwrap(), [8, 2]);
        assert_eq!(run("BitwiseOr", 3, vec![-128, 1], Some(vec![1, 2]), &[]).unwrap(), [-127, 3]);
        assert_eq!(run("BitwiseXor", 2, vec![12], Some(vec![10]), &[]).unwrap(), [6]);
        let left = [("direction", Attr::Str("LEFT".into()))];
        assert_eq!(run("BitShift", 2, vec![16, 4, 1, 200], Some(vec![1, 2, 3, 1]), &left).unwrap(), [32, 16, 8, 144]);
        let right = [("direction", Attr::Str("RIGHT".into()))];
        assert_eq!(run("BitShift", 2, vec![16, 4, 1, 7], Some(vec![1, 2, 3, 9]), &right).unwrap(), [8, 1, 0, 0]);
        let up = [("direction", Attr::Str("UP".into()))];
        assert!(run("BitShift", 2, vec![1], Some(vec![1]), &up).unwrap_err().contains("`UP`"));
    }
}
