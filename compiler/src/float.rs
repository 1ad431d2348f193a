//! The float interpreter: ONNX semantics on `f32` (and `i64` for shape arithmetic).
//!
//! It serves the passes (constant folding, shape inference), calibration (activation ranges)
//! and the quantizer (the real functions that lookup tables tabulate). [`eval_node`] finds each
//! op's semantics in the op registry ([`crate::ops`]), which lists exactly the supported ops,
//! and applies a fused activation clamp; the helpers here (axes, broadcasting, reshapes) are
//! shared by the op families. The float reference for accuracy figures is tract, an
//! independent implementation ([`crate::eval`]).

use ndarray::{ArrayD, IxDyn};

use crate::ir::{Attr, Graph, Node, Value};

type R<T> = std::result::Result<T, String>;

/// Evaluate one node given its input values (`None` for omitted optional inputs). A fused
/// activation (attribute `solidml.clamp`, set by [`crate::passes::fuse_activation`]) clamps the
/// first output.
pub fn eval_node(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let mut outs = crate::ops::eval(g, n, ins)?;
    if let (Some(Attr::Floats(b)), Some(Value::Float(y))) = (n.attr("solidml.clamp"), outs.first_mut()) {
        let (lo, hi) = (b[0], b[1]);
        y.mapv_inplace(|v| v.max(lo).min(hi));
    }
    Ok(outs)
}

/// Apply `ff` or `fi` to a float or integer value.
pub(crate) fn map_value(v: &Value, ff: impl Fn(&ArrayD<f32>) -> ArrayD<f32>, fi: impl Fn(&ArrayD<i64>) -> ArrayD<i64>) -> Value {
    match v {
        Value::Float(a) => Value::Float(ff(a)),
        Value::Int(a) => Value::Int(fi(a)),
    }
}

/// `v` with its elements, in row-major order, laid out in `shape` (ONNX `Reshape` with the
/// target shape already resolved: no `0` or `-1` entries); an error when the element counts
/// differ.
pub fn reshape(v: &Value, shape: &[usize]) -> R<Value> {
    let err = |e: ndarray::ShapeError| format!("cannot reshape {:?} to {shape:?}: {e}", v.shape());
    Ok(match v {
        Value::Float(a) => Value::Float(a.as_standard_layout().to_owned().into_shape_with_order(IxDyn(shape)).map_err(err)?),
        Value::Int(a) => Value::Int(a.as_standard_layout().to_owned().into_shape_with_order(IxDyn(shape)).map_err(err)?),
    })
}

/// An axis in `[-rank, rank)` as a non-negative index (a scalar has none).
pub fn norm_axis(a: i64, rank: usize) -> R<usize> {
    let r = rank as i64;
    let v = if a < 0 { a + r } else { a };
    if v < 0 || v >= r {
        return Err(format!("axis {a} out of range for rank {rank}"));
    }
    Ok(v as usize)
}

/// The numpy broadcast of two shapes.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> R<Vec<usize>> {
    let u32s = |s: &[usize]| s.iter().map(|&d| u32::try_from(d).ok()).collect::<Option<Vec<u32>>>();
    let (Some(au), Some(bu)) = (u32s(a), u32s(b)) else {
        return Err(format!("shapes {a:?} and {b:?}: a dimension of 2^32 or more"));
    };
    let out: Vec<usize> = solidml_spec::validate::broadcast_shapes(&au, &bu)
        .map(|v| v.into_iter().map(|d| d as usize).collect())
        .ok_or_else(|| format!("shapes {a:?} and {b:?} do not broadcast"))?;
    // the broadcast of two tensors can be far larger than either ([n, 1] and [1, n])
    crate::ops::check_elements(&out, &format!("the broadcast of {a:?} and {b:?}"))?;
    Ok(out)
}

/// A tensor as a matrix: the last axis is the columns (a vector is one row).
pub fn to2d(a: ArrayD<f32>) -> R<ndarray::Array2<f32>> {
    let s = a.shape().to_vec();
    match s.len() {
        0 => Err("a scalar is not a matrix".into()),
        2 => a.into_dimensionality().map_err(|e| e.to_string()),
        1 => a.into_shape_with_order((1, s[0])).map_err(|e| e.to_string()),
        _ => {
            let last = *s.last().unwrap();
            let rows: usize = s[..s.len() - 1].iter().product();
            a.as_standard_layout().to_owned().into_shape_with_order((rows, last)).map_err(|e| e.to_string())
        }
    }
}
