//! The lowering of ONNX `Equal`, `Less`, `Greater`, `LessOrEqual` and `GreaterOrEqual` whose
//! operands are integer (int64) tensors and whose output is a boolean (held as the reals 0 and
//! 1, quantized to int8): spec `IntCompare` (docs/spec.md §Op: IntCompare) on the exact i64
//! values, its codes `true_code = q(1.0)` and `false_code = q(0.0)` in the output's
//! quantization. `a ≤ b` is `¬(a > b)` and `a ≥ b` is `¬(a < b)`: `Greater` resp. `Less` with
//! the two codes swapped. A constant operand becomes an i64 constant tensor. The float
//! semantics are [`super::binary`]'s (the comparison of the i64 values, 1 or 0).

use solidml_spec::{CompareKind, DType, IntCompare, Op, io::quantize_f32};

use super::R;
use super::binary::{Comparison, int_operands};
use crate::{
    ir::{Node, Tid},
    quantize::Lowering,
};

/// The spec comparison of an ONNX one, and whether its codes are swapped (`≤`, `≥`).
pub fn spec_compare(c: Comparison) -> (CompareKind, bool) {
    match c {
        Comparison::Equal => (CompareKind::Equal, false),
        Comparison::Less => (CompareKind::Less, false),
        Comparison::Greater => (CompareKind::Greater, false),
        Comparison::LessOrEqual => (CompareKind::Greater, true),
        Comparison::GreaterOrEqual => (CompareKind::Less, true),
    }
}

/// Lower `c` of the two integer tensors `args` into the boolean output of `n`.
pub(crate) fn lower(l: &mut Lowering<'_>, n: &Node, c: Comparison, args: &[Tid]) -> R<()> {
    if args.len() != 2 {
        return Err("a comparison takes two operands".into());
    }
    let ids = int_operands(l, args)?;
    if ids.iter().any(|&i| l.model.tensors[i as usize].dtype != DType::I64) {
        return Err("comparing an integer tensor with a real one is not supported".into());
    }
    let y = n.outputs[0];
    let qo = l.range_quant(y)?;
    let (one, zero) = (quantize_f32(1.0, qo.scale, qo.zero_point), quantize_f32(0.0, qo.scale, qo.zero_point));
    let (kind, swapped) = spec_compare(c);
    let (true_code, false_code) = if swapped { (zero, one) } else { (one, zero) };
    let o = l.out(y, qo);
    l.emit(&n.name, Op::IntCompare(IntCompare { kind, true_code, false_code }), ids, vec![o]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn};

    use super::*;
    use crate::ir::Value;

    #[test]
    fn or_equal_is_the_strict_opposite_with_swapped_codes() {
        for (a, b) in [(-3i64, 5), (5, 5), (i64::MAX, i64::MIN)] {
            for (c, want) in [
                (Comparison::Equal, a == b),
                (Comparison::Less, a < b),
                (Comparison::Greater, a > b),
                (Comparison::LessOrEqual, a <= b),
                (Comparison::GreaterOrEqual, a >= b),
            ] {
                let (kind, swapped) = spec_compare(c);
                assert_eq!(kind.holds(a, b) != swapped, want, "{c:?} {a} {b}");
            }
        }
    }

    /// Compile `op(a, b)` of an int64 input `a` and an int64 operand `b` (a constant when
    /// `b_const`) into a boolean, calibrated and run on `a`: the spec ops, then the output.
    fn compile_and_run(op: &str, a: &[i64], b: &[i64], b_const: bool) -> (Vec<&'static str>, Vec<f64>) {
        use crate::{
            CompileOptions, compile_graph,
            passes::testutil::{graph, node_n},
        };
        let names: &[(&str, &[usize])] = if b_const { &[("a", &[2, 3])] } else { &[("a", &[2, 3]), ("b", &[3])] };
        let mut g = graph(names);
        for t in 0..names.len() {
            g.tensors[t].is_float = false;
            g.tensors[t].onnx_type = 7;
        }
        let bt = if b_const {
            let bt = g.add_tensor("b", false);
            g.tensors[bt].shape = Some(vec![3]);
            g.consts.insert(bt, Value::Int(ArrayD::from_shape_vec(IxDyn(&[3]), b.to_vec()).unwrap()));
            bt
        } else {
            1
        };
        node_n(&mut g, op, &[Some(0), Some(bt)], 1, vec![]);
        let to_f = |v: &[i64], s: &[usize]| ArrayD::from_shape_vec(IxDyn(s), v.iter().map(|&x| x as f32).collect()).unwrap();
        let mut data = vec![to_f(a, &[2, 3])];
        if !b_const {
            data.push(to_f(b, &[3]));
        }
        let c = compile_graph(&mut g, "m", &CompileOptions::default().with_calibration(data.clone())).unwrap();
        let samples = crate::runner::samples(&crate::runner::input_shapes(&c.model), &data).unwrap();
        let outs = crate::runner::run_samples(&c.model, &samples).unwrap().remove(0).1;
        let ops = c.model.nodes.iter().map(|n| n.op.kind()).collect();
        (ops, outs[0].to_f32().iter().map(|&v| v as f64).collect())
    }

    /// The ONNX comparison, on i64.
    type Holds = fn(i64, i64) -> bool;

    #[test]
    fn integer_comparisons_compile_to_one_int_compare_node() {
        let (a, b) = ([1, 5, -7, 7, 3, -5], [5, 5, -7]);
        let want = |f: Holds| -> Vec<f64> { (0..6).map(|i| f(a[i], b[i % 3]) as u8 as f64).collect() };
        let cases: [(&str, Holds); 5] = [
            ("Equal", |p, q| p == q),
            ("Less", |p, q| p < q),
            ("Greater", |p, q| p > q),
            ("LessOrEqual", |p, q| p <= q),
            ("GreaterOrEqual", |p, q| p >= q),
        ];
        for (op, f) in cases {
            for b_const in [false, true] {
                let (ops, out) = compile_and_run(op, &a, &b, b_const);
                assert_eq!(ops, ["IntCompare"], "{op}");
                assert_eq!(out, want(f), "{op} (constant b: {b_const})");
            }
        }
    }
}
