//! `ai.onnx.ml` `OneHotEncoder` (`cats_int64s`, `zeros`, default 1): `y[…, k] = 1` where the
//! input value is category `k`, 0 elsewhere; the output has the input's shape plus one axis of
//! `K = len(cats_int64s)`. As onnxruntime: a real input value is truncated toward zero to an
//! integer first; a repeated category takes its last position; a value that is no category
//! gives a row of zeros, or (`zeros = 0`) fails, except on an input of zeros only (the float
//! interpreter's shape inference runs on zeros: an unknown 0 there gives zeros; the compiled
//! model fails on it). `cats_strings` is refused: SolidML has no string tensors.
//!
//! Lowering, exact:
//!
//! * integer (i64) input, categories spanning `[lo, hi]`: `j = Take(x − lo)` (IntBinary Sub,
//!   then a table of the `hi − lo + 1` values giving each one's category index, or `K` for a
//!   value that is none), then `y = GatherDynamic(rows, j)` from the constant int8 rows of an
//!   identity (plus a row of zeros for `K` when `zeros = 1`; without it the index `K` fails
//!   the inference, as onnxruntime fails). A value outside `[lo, hi]` fails the inference too
//!   (`Take`'s range error), where onnxruntime gives zeros with `zeros = 1`.
//! * real (int8) input: a View repeating each element along a new last axis of `K`, and a Lut
//!   along that axis: table `k` is `[trunc(real(q)) is category k]` for each code `q` (exact for
//!   the quantized input). `zeros = 0` is refused here (a table cannot fail the inference).
//!
//! The output quantization is the calibrated one of `[0, 1]` (0 and 1 exact).

use std::collections::HashMap;

use ndarray::{ArrayD, IxDyn};
use solidml_spec::{DType, IntBinaryKind, Lut, Op, View, io::quantize_f32};

use super::{
    OpDef, R,
    gather_elements::{check_table, const_i8, const_i64, gather_dynamic, int_binary},
    input,
};
use crate::{
    ir::{Attr, Graph, Node, Value},
    quantize::{Lowering, row_major},
};

pub(crate) const OPS: &[OpDef] = &[OpDef::new("ai.onnx.ml", "OneHotEncoder", eval, lower)];

/// The categories and their positions.
struct Encoder {
    /// `cats_int64s`, in order.
    cats: Vec<i64>,
    /// Each category's position (the last one for a repeated category).
    index: HashMap<i64, usize>,
    /// `zeros`: an unknown value gives zeros (else it fails).
    zeros: bool,
}

impl Encoder {
    fn from_node(n: &Node) -> R<Encoder> {
        let cats = match n.attr("cats_int64s") {
            Some(Attr::Ints(v)) if !v.is_empty() => v.clone(),
            _ if n.attr("cats_strings").is_some() => {
                return Err("string categories (cats_strings) are not supported: there are no string tensors".into());
            }
            _ => return Err("attribute cats_int64s missing or empty".into()),
        };
        let index = cats.iter().enumerate().map(|(i, &c)| (c, i)).collect();
        Ok(Encoder { cats, index, zeros: n.int("zeros", 1) != 0 })
    }

    /// The category position of integer `v`.
    fn of(&self, v: i64) -> Option<usize> {
        self.index.get(&v).copied()
    }

    /// The category position of real `v` (truncated; NaN is none).
    fn of_real(&self, v: f64) -> Option<usize> {
        if v.is_nan() { None } else { self.of(v.trunc() as i64) }
    }
}

fn eval(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let e = Encoder::from_node(n)?;
    let x = input(ins, 0)?;
    let k = e.cats.len();
    let lenient = match x {
        Value::Float(a) => a.iter().all(|&v| v == 0.0),
        Value::Int(a) => a.iter().all(|&v| v == 0),
    };
    let hits: Vec<(Option<usize>, String)> = match x {
        Value::Float(a) => a.iter().map(|&v| (e.of_real(v as f64), v.to_string())).collect(),
        Value::Int(a) => a.iter().map(|&v| (e.of(v), v.to_string())).collect(),
    };
    let mut shape = x.shape();
    shape.push(k);
    super::check_elements(&shape, "the OneHotEncoder output")?;
    let mut y = vec![0f32; hits.len() * k];
    for (i, (hit, text)) in hits.iter().enumerate() {
        match hit {
            Some(c) => y[i * k + c] = 1.0,
            // shape inference runs the interpreter on zeros, rarely a category: there a row of
            // zeros (the compiled model fails as onnxruntime does)
            None if !e.zeros && !lenient => return Err(format!("value {text} is no category and zeros = 0")),
            None => {}
        }
    }
    Ok(vec![Value::Float(ArrayD::from_shape_vec(IxDyn(&shape), y).unwrap())])
}

fn lower(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let e = Encoder::from_node(n)?;
    let xt = n.input(0).ok_or("input X missing")?;
    let x = l.id(xt)?;
    let y = n.outputs[0];
    let k = e.cats.len();
    let qo = l.range_quant(y)?;
    let (zero, one) = (quantize_f32(0.0, qo.scale, qo.zero_point), quantize_f32(1.0, qo.scale, qo.zero_point));
    let name = |s: &str| format!("{}.{s}", n.name);
    let xshape = g.shape(xt).to_vec();
    match l.model.tensor(x).dtype {
        DType::I64 => {
            let (lo, hi) = (*e.cats.iter().min().unwrap(), *e.cats.iter().max().unwrap());
            let span = hi as i128 - lo as i128 + 1;
            check_table(usize::try_from(span).unwrap_or(usize::MAX), &format!("categories {lo} to {hi}"))?;
            let lo_t = const_i64(l, &name("lowest"), &[1], vec![lo]);
            let offset = int_binary(l, &name("offset"), IntBinaryKind::Sub, x, lo_t)?;
            let table: Vec<i64> = (0..span as i64).map(|r| e.of(lo + r).map_or(k as i64, |c| c as i64)).collect();
            let j = l.tensor(&name("category"), &xshape, DType::I64, None);
            l.emit(&name("category"), Op::Take { table }, vec![offset], vec![j]);
            let rows_count = if e.zeros { k + 1 } else { k };
            let rows: Vec<i8> = (0..rows_count * k).map(|i| if i / k == i % k { one } else { zero }).collect();
            let rows = const_i8(l, &name("rows"), &[rows_count, k], rows, qo);
            let o = gather_dynamic(l, &n.name, rows, j, 0)?;
            l.model.tensors[o as usize].name = g.name(y).to_string();
            l.map.insert(y, o);
        }
        DType::I8 => {
            if !e.zeros {
                return Err("zeros = 0 on a real input is not supported (a table cannot fail the inference on an unknown value)".into());
            }
            let qi = l.quant(x);
            let mut strides: Vec<i64> = row_major(&xshape).iter().map(|&s| s as i64).collect();
            strides.push(0);
            let mut wide = xshape.clone();
            wide.push(k);
            let repeated = l.tensor(&name("repeated"), &wide, DType::I8, Some(qi));
            l.emit(&name("repeated"), Op::View(View { offset: 0, strides }), vec![x], vec![repeated]);
            let tables: Vec<i8> = (0..k)
                .flat_map(|c| (-128i32..=127).map(move |q| (c, q)))
                .map(|(c, q)| if e.of_real(qi.real(q)) == Some(c) { one } else { zero })
                .collect();
            let o = l.out(y, qo);
            l.emit(&n.name, Op::Lut(Lut { axis: Some(xshape.len() as u32), tables }), vec![repeated], vec![o]);
        }
        other => return Err(format!("an input of type {other:?} is not supported (int8 reals or i64 integers)")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CompileOptions, compile_graph, passes::testutil::*};
    use solidml_cpu::CpuExecutor;

    fn encoder(cats: Vec<i64>, zeros: i64) -> Node {
        Node {
            name: "ohe".into(),
            op: "OneHotEncoder".into(),
            domain: "ai.onnx.ml".into(),
            attrs: [("cats_int64s".to_string(), Attr::Ints(cats)), ("zeros".to_string(), Attr::Int(zeros))].into(),
            inputs: vec![Some(0)],
            outputs: vec![],
        }
    }

    fn run(n: &Node, x: Value) -> R<Vec<f32>> {
        Ok(eval(&Graph::default(), n, &[Some(&x)])?[0].to_f32().iter().copied().collect())
    }

    #[test]
    fn float_semantics_are_onnxruntimes() {
        let ints = |v: Vec<i64>| Value::Int(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v).unwrap());
        // categories [3, 7, 100, 7]: 7 takes its last position (3)
        let n = encoder(vec![3, 7, 100, 7], 1);
        assert_eq!(run(&n, ints(vec![7, 3, 5])).unwrap(), [[0., 0., 0., 1.], [1., 0., 0., 0.], [0., 0., 0., 0.]].concat());
        // reals are truncated toward zero; NaN is no category
        let reals = Value::Float(ArrayD::from_shape_vec(IxDyn(&[1, 3]), vec![100.9, -3.5, f32::NAN]).unwrap());
        assert_eq!(run(&encoder(vec![100, -3], 1), reals).unwrap(), [1., 0., 0., 1., 0., 0.]);
        // zeros = 0: an unknown value fails
        assert!(run(&encoder(vec![1, 2], 0), ints(vec![1, 5])).unwrap_err().contains("value 5 is no category"));
        let mut n = encoder(vec![], 1);
        n.attrs.remove("cats_int64s");
        n.attrs.insert("cats_strings".into(), Attr::Strs(vec!["a".into()]));
        assert!(Encoder::from_node(&n).err().unwrap().contains("no string tensors"));
    }

    /// The encoder over input `x` (a real or an integer input, as `x` is), compiled on `calib`
    /// and run on `x`: the spec ops, the outputs (or the run-time error) and the float ones.
    fn lowered(cats: Vec<i64>, zeros: i64, calib: &Value, x: &Value) -> (Vec<&'static str>, Result<Vec<f32>, String>, Vec<f32>) {
        let mut g = graph(&[("x", &x.shape())]);
        g.tensors[0].is_float = x.is_float();
        let y = g.add_tensor("y", true);
        g.nodes.push(Node { outputs: vec![y], ..encoder(cats, zeros) });
        output(&mut g, y);
        let want =
            crate::calibrate::run_float(&g, std::slice::from_ref(x)).map(|v| v[&y].to_f32().iter().copied().collect()).unwrap_or_default();
        let c = compile_graph(&mut g, "ohe", &CompileOptions::default().with_calibration(vec![calib.to_f32()])).unwrap();
        let m = &c.model;
        let kinds = m.nodes.iter().map(|n| n.op.kind()).collect();
        let got = CpuExecutor::new(m)
            .unwrap()
            .run(&[crate::runner::quantize_input(m, 0, &x.to_f32())])
            .map(|o| crate::runner::dequantize_output(m, 0, &o[0]).to_f32().iter().copied().collect())
            .map_err(|e| e.to_string());
        (kinds, got, want)
    }

    #[test]
    fn integer_inputs_lower_to_exact_lookups() {
        let ints = |shape: &[usize], v: Vec<i64>| Value::Int(ArrayD::from_shape_vec(IxDyn(shape), v).unwrap());
        let x = ints(&[2, 3], vec![7, 3, 5, 100, 8, 7]);
        let (kinds, got, want) = lowered(vec![3, 7, 100, 7], 1, &x, &x);
        assert_eq!(kinds, ["IntBinary", "Take", "GatherDynamic"]);
        assert_eq!(got.unwrap(), want);
        assert_eq!(want.iter().sum::<f32>(), 4.0, "5 and 8 are no category");
        // zeros = 0: an unknown value inside the span fails the inference, as onnxruntime fails
        let known = ints(&[2, 3], vec![7, 3, 100, 100, 3, 7]);
        let (_, got, want) = lowered(vec![3, 7, 100], 0, &known, &known);
        assert_eq!(got.unwrap(), want);
        let (_, got, _) = lowered(vec![3, 7, 100], 0, &known, &x);
        assert!(got.unwrap_err().contains("out of range"));
        // a value outside the categories' span fails (onnxruntime: zeros)
        let (_, got, _) = lowered(vec![3, 7, 100], 1, &known, &ints(&[2, 3], vec![3, 101, 7, 7, 7, 7]));
        assert!(got.unwrap_err().contains("out of range"));
    }

    #[test]
    fn real_inputs_lower_to_one_table_per_category() {
        let v: Vec<f32> = (0..40).map(|i| i as f32 * 0.25 - 3.0).collect();
        let x = Value::Float(ArrayD::from_shape_vec(IxDyn(&[4, 10]), v).unwrap());
        let (kinds, got, _) = lowered(vec![-2, 0, 1, 5], 1, &x, &x);
        assert_eq!(kinds, ["View", "Lut"]);
        // exact on the quantized input: the float semantics of the dequantized values
        let mut g = graph(&[("x", &[4, 10])]);
        let y = g.add_tensor("y", true);
        g.nodes.push(Node { outputs: vec![y], ..encoder(vec![-2, 0, 1, 5], 1) });
        output(&mut g, y);
        let c = compile_graph(&mut g, "ohe", &CompileOptions::default().with_calibration(vec![x.to_f32()])).unwrap();
        let q = c.model.tensor(c.model.inputs[0]).quant.unwrap();
        let dq = x.to_f32().mapv(|v| q.real(quantize_f32(v, q.scale, q.zero_point) as i32) as f32);
        let want = run(&encoder(vec![-2, 0, 1, 5], 1), Value::Float(dq)).unwrap();
        assert_eq!(got.unwrap(), want);
        let ones = want.iter().sum::<f32>();
        assert!(ones > 10.0 && ones < 30.0, "{ones} of 40 values are categories");
        // zeros = 0 is refused on reals (calibrated on values that all are categories)
        let mut g = graph(&[("x", &[1, 4])]);
        let y = g.add_tensor("y", true);
        g.nodes.push(Node { outputs: vec![y], ..encoder(vec![1, 2], 0) });
        output(&mut g, y);
        let calib = ArrayD::from_shape_vec(IxDyn(&[1, 4]), vec![1.0, 1.5, 2.0, 2.25]).unwrap();
        let e = compile_graph(&mut g, "ohe", &CompileOptions::default().with_calibration(vec![calib])).err().unwrap();
        assert!(e.to_string().contains("zeros = 0 on a real input"), "{e}");
    }
}
