//! `TopK` (opsets 1, 10, 11) ([`TopKAttrs`]: `k` from the attribute (opset 1) or the constant
//! input 1 (opset ≥ 10), `axis` (default −1), `largest` and `sorted` (opset 11, default 1)).
//!
//! Float semantics, in `f32` (integer inputs in `i64`): per lane along the axis, the elements
//! in the order "greater first" (smaller first when not `largest`), equal values by increasing
//! index — onnxruntime's tie-break, for `largest` and not — and the first `k` of that order:
//! output 0 their values, output 1 their indices (int64). `sorted = 0` lets ONNX return any
//! order: the sorted one is returned (as onnxruntime does). NaN sorts above every number.
//!
//! Lowering: spec `TopK` (docs/spec.md §Op: TopK) on the int8 codes, or on the i64 values of
//! an integer input: the quantization is monotonic (scale > 0), so the `k` largest codes are the
//! `k` largest reals, and the values keep the input's quantization (no requantization). One
//! spec node per output the model reads (`Values`, `Indices`), both with the same `axis`, `k`
//! and `largest`, so they select the same elements.

use std::cmp::Ordering;

use ndarray::{ArrayD, Axis, IxDyn};
use solidml_spec::{DType, Op, TopKOutput};

use super::{OpDef, R, input};
use crate::{
    float::norm_axis,
    ir::{Graph, Node, Value},
    quantize::Lowering,
};

pub(crate) const OPS: &[OpDef] = &[OpDef::new("", "TopK", eval, lower)];

/// TopK's attributes, the axis resolved against the input rank and `k` read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopKAttrs {
    /// The axis of the lanes.
    pub axis: usize,
    /// Elements kept per lane, `≤` the axis length.
    pub k: usize,
    /// The largest first (attribute `largest`, default 1), else the smallest.
    pub largest: bool,
}

impl TopKAttrs {
    /// Parse node `n` (default-domain opset `opset`) over an input of `shape`; `k_input` is
    /// input 1 (opset ≥ 10), `None` when it is missing or not a constant.
    pub fn parse(n: &Node, shape: &[usize], opset: i64, k_input: Option<&Value>) -> R<TopKAttrs> {
        let axis = norm_axis(n.int("axis", -1), shape.len()).map_err(|e| format!("TopK `{}`: {e}", n.name))?;
        let k = if opset < 10 {
            n.attr("k").map(|_| n.int("k", 0)).ok_or_else(|| format!("TopK `{}` (opset {opset}) has no `k` attribute", n.name))?
        } else {
            let v = k_input.ok_or_else(|| format!("TopK `{}`: k (input 1) must be a constant", n.name))?.to_i64();
            match v.iter().collect::<Vec<_>>()[..] {
                [&k] => k,
                _ => return Err(format!("TopK `{}`: k must be a single value, got {}", n.name, v.len())),
            }
        };
        let dim = shape[axis];
        if k < 0 || k as u64 > dim as u64 {
            return Err(format!("TopK `{}`: k = {k} is outside 0..={dim}, the length of axis {axis}", n.name));
        }
        Ok(TopKAttrs { axis, k: k as usize, largest: n.int("largest", 1) != 0 })
    }
}

/// The order of two values: NaN above every number (a total order, so sorting cannot fail).
fn value_order<T: PartialOrd>(a: &T, b: &T) -> Ordering {
    #[allow(clippy::eq_op)] // `v != v` is NaN for floats, never for integers
    let nan = |v: &T| v != v;
    match (nan(a), nan(b)) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
    }
}

/// TopK of `x`: the values (with `x`'s element type) and the indices.
fn top_k<T: PartialOrd + Copy + Default>(x: &ArrayD<T>, a: TopKAttrs) -> (ArrayD<T>, ArrayD<i64>) {
    let mut shape = x.shape().to_vec();
    shape[a.axis] = a.k;
    let mut values = ArrayD::from_elem(IxDyn(&shape), T::default());
    let mut indices = ArrayD::from_elem(IxDyn(&shape), 0i64);
    let lanes = x.lanes(Axis(a.axis)).into_iter();
    let outs = values.lanes_mut(Axis(a.axis)).into_iter().zip(indices.lanes_mut(Axis(a.axis)));
    for (lane, (mut vs, mut is)) in lanes.zip(outs) {
        let mut order: Vec<usize> = (0..lane.len()).collect();
        // a stable sort: equal values keep their index order
        order.sort_by(|&p, &q| if a.largest { value_order(&lane[q], &lane[p]) } else { value_order(&lane[p], &lane[q]) });
        for (r, &j) in order.iter().take(a.k).enumerate() {
            vs[r] = lane[j];
            is[r] = j as i64;
        }
    }
    (values, indices)
}

fn eval(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?;
    let a = TopKAttrs::parse(n, &x.shape(), g.opset, ins.get(1).copied().flatten())?;
    Ok(match x {
        Value::Float(x) => {
            let (v, i) = top_k(x, a);
            vec![Value::Float(v), Value::Int(i)]
        }
        Value::Int(x) => {
            let (v, i) = top_k(x, a);
            vec![Value::Int(v), Value::Int(i)]
        }
    })
}

fn lower(l: &mut Lowering<'_>, n: &Node, ins: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let xt = n.input(0).ok_or("input 0 missing")?;
    let x = l.id(xt)?;
    let a = TopKAttrs::parse(n, g.shape(xt), g.opset, ins.get(1).copied().flatten())?;
    let info = l.model.tensor(x).clone();
    if !matches!(info.dtype, DType::I8 | DType::I64) {
        return Err(format!("TopK `{}` on a {:?} tensor is not supported (int8 or int64 only)", n.name, info.dtype));
    }
    let read = g.consumers();
    for (slot, output) in [(0, TopKOutput::Values), (1, TopKOutput::Indices)] {
        let Some(&y) = n.outputs.get(slot) else { continue };
        if !read.contains_key(&y) {
            continue; // an output nothing reads is not computed
        }
        let (dtype, quant) = match output {
            TopKOutput::Values => (info.dtype, info.quant),
            TopKOutput::Indices => (DType::I64, None),
        };
        let o = l.tensor(g.name(y), g.shape(y), dtype, quant);
        l.map.insert(y, o);
        let name = if slot == 0 { format!("{}.values", n.name) } else { format!("{}.indices", n.name) };
        let op = Op::TopK { axis: a.axis as u32, k: a.k as u32, largest: a.largest, output };
        l.emit(&name, op, vec![x], vec![o]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;
    use crate::ir::Attr;
    use crate::passes::testutil::detached_node;

    fn attrs(axis: usize, k: usize, largest: bool) -> TopKAttrs {
        TopKAttrs { axis, k, largest }
    }

    #[test]
    fn matches_the_onnx_node_tests() {
        // test_top_k / test_top_k_smallest (onnx node tests), k = 3 along axis 1
        let x = array![[0.0f32, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0]].into_dyn();
        let (v, i) = top_k(&x, attrs(1, 3, true));
        assert_eq!(v, array![[3.0f32, 2.0, 1.0], [7.0, 6.0, 5.0], [11.0, 10.0, 9.0]].into_dyn());
        assert_eq!(i, array![[3i64, 2, 1], [3, 2, 1], [3, 2, 1]].into_dyn());
        let x = array![[0.0f32, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [11.0, 10.0, 9.0, 8.0]].into_dyn();
        let (v, i) = top_k(&x, attrs(1, 3, false));
        assert_eq!(v, array![[0.0f32, 1.0, 2.0], [4.0, 5.0, 6.0], [8.0, 9.0, 10.0]].into_dyn());
        assert_eq!(i, array![[0i64, 1, 2], [0, 1, 2], [3, 2, 1]].into_dyn());
        // test_top_k_same_values_2d: ties to the lower index
        let x = array![[0i64, 0, 0, 0], [1, 1, 1, 1], [2, 2, 1, 1]].into_dyn();
        let (v, i) = top_k(&x, attrs(1, 3, true));
        assert_eq!(v, array![[0i64, 0, 0], [1, 1, 1], [2, 2, 1]].into_dyn());
        assert_eq!(i, array![[0i64, 1, 2], [0, 1, 2], [0, 1, 2]].into_dyn());
    }

    #[test]
    fn ties_lower_index_first_nan_on_top_along_axis_0() {
        let x = array![[1.0f32, f32::NAN], [2.0, 0.0], [2.0, f32::NAN], [1.0, -0.0]].into_dyn();
        let (v, i) = top_k(&x, attrs(0, 2, true));
        assert_eq!(i, array![[1i64, 0], [2, 2]].into_dyn());
        assert_eq!(v[[0, 0]], 2.0);
        assert!(v[[0, 1]].is_nan() && v[[1, 1]].is_nan());
        // smallest: 0.0 and −0.0 tie, the lower index first
        let (_, i) = top_k(&x, attrs(0, 2, false));
        assert_eq!(i, array![[0i64, 1], [3, 3]].into_dyn());
    }

    /// Compile `TopK(x, k)` along the last axis with both outputs read, calibrated and run on
    /// `x` (an int64 input when `integer`): the spec ops, then the dequantized outputs.
    fn compile_and_run(shape: &[usize], x: &[f32], k: i64, largest: bool, integer: bool) -> (Vec<&'static str>, Vec<Vec<f64>>) {
        use crate::{
            CompileOptions, compile_graph,
            passes::testutil::{graph, node_n},
        };
        let mut g = graph(&[("x", shape)]);
        g.tensors[0].is_float = !integer;
        if integer {
            g.tensors[0].onnx_type = 7;
        }
        let kt = g.add_tensor("k", false);
        g.tensors[kt].shape = Some(vec![1]);
        g.consts.insert(kt, Value::Int(ArrayD::from_elem(IxDyn(&[1]), k)));
        node_n(&mut g, "TopK", &[Some(0), Some(kt)], 2, vec![("largest", Attr::Int(largest as i64))]);
        let data = vec![ArrayD::from_shape_vec(IxDyn(shape), x.to_vec()).unwrap()];
        let c = compile_graph(&mut g, "m", &CompileOptions::default().with_calibration(data.clone())).unwrap();
        let samples = crate::runner::samples(&crate::runner::input_shapes(&c.model), &data).unwrap();
        let outs = crate::runner::run_samples(&c.model, &samples).unwrap().remove(0).1;
        let ops = c.model.nodes.iter().map(|n| n.op.kind()).collect();
        (ops, outs.iter().map(|o| o.to_f32().iter().map(|&v| v as f64).collect()).collect())
    }

    #[test]
    fn compiles_to_one_spec_node_per_output() {
        // values 0.5 apart (far more than a step of [−3, 3] over 255 codes): no new ties
        let x = [0.5f32, -3.0, 2.5, 1.0, -0.5, 3.0, -1.0, 2.0, 0.0, -2.5, 1.5, -2.0];
        for largest in [true, false] {
            let (ops, outs) = compile_and_run(&[2, 6], &x, 4, largest, false);
            assert_eq!(ops, ["TopK", "TopK"]);
            let f = ArrayD::from_shape_vec(IxDyn(&[2, 6]), x.to_vec()).unwrap();
            let (v, i) = top_k(&f, attrs(1, 4, largest));
            assert_eq!(outs[1], i.iter().map(|&j| j as f64).collect::<Vec<_>>(), "largest {largest}");
            for (got, want) in outs[0].iter().zip(v.iter()) {
                assert!((got - *want as f64).abs() <= 6.0 / 255.0, "largest {largest}: {got} vs {want}");
            }
        }
        // int64 data, beyond int8, with ties: exact
        let x = [1000.0f32, -7.0, 1000.0, 70000.0, -7.0, 3.0];
        let (ops, outs) = compile_and_run(&[6], &x, 3, false, true);
        assert_eq!(ops, ["TopK", "TopK"]);
        assert_eq!(outs, [vec![-7.0, -7.0, 3.0], vec![1.0, 4.0, 5.0]]);
    }

    #[test]
    fn k_from_the_attribute_or_the_constant_input() {
        let k = |v: i64| Value::Int(ArrayD::from_elem(IxDyn(&[1]), v));
        let n = detached_node("TopK", &[("axis", Attr::Int(0)), ("largest", Attr::Int(0))]);
        assert_eq!(TopKAttrs::parse(&n, &[5, 2], 11, Some(&k(2))).unwrap(), attrs(0, 2, false));
        let e = TopKAttrs::parse(&n, &[5, 2], 11, None).unwrap_err();
        assert!(e.contains("must be a constant"), "{e}");
        assert!(TopKAttrs::parse(&n, &[5, 2], 11, Some(&k(6))).unwrap_err().contains("outside 0..=5"));
        assert!(TopKAttrs::parse(&n, &[5, 2], 11, Some(&k(-1))).unwrap_err().contains("outside"));
        // opset 1: the attribute, axis −1 by default
        let n = detached_node("TopK", &[("k", Attr::Int(1))]);
        assert_eq!(TopKAttrs::parse(&n, &[5, 2], 1, None).unwrap(), attrs(1, 1, true));
        assert!(TopKAttrs::parse(&detached_node("TopK", &[]), &[5, 2], 1, None).unwrap_err().contains("no `k` attribute"));
    }
}
