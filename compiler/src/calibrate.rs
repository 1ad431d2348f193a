//! Shape inference and calibration, both by running the float interpreter.
//!
//! * [`infer_shapes`] evaluates the graph once on zero-valued inputs of the declared static
//!   shapes and records every tensor's shape: static shapes follow from the input shapes (a
//!   symbolic batch is 1, see [`crate::onnx`]), so one abstract run is exact.
//! * [`calibrate`] runs every calibration sample and records each tensor's value range.

use std::collections::HashMap;

use ndarray::{ArrayD, IxDyn};

use crate::{
    error::{CompileError, Result},
    float,
    ir::{Graph, Tid, Value},
};

/// Evaluate the whole graph; returns every tensor's value.
pub fn run_float(g: &Graph, inputs: &[Value]) -> Result<HashMap<Tid, Value>> {
    let mut vals: HashMap<Tid, Value> = g.consts.clone();
    for (&t, v) in g.inputs.iter().zip(inputs) {
        vals.insert(t, v.clone());
    }
    for n in &g.nodes {
        let ins: Vec<Option<&Value>> = n.inputs.iter().map(|t| t.and_then(|t| vals.get(&t))).collect();
        if n.inputs.iter().zip(&ins).any(|(t, v)| t.is_some() && v.is_none()) {
            return Err(CompileError::node(n, "an input is not computed before this node"));
        }
        let outs = float::eval_node(g, n, &ins).map_err(|e| CompileError::node(n, e))?;
        if outs.len() < n.outputs.len() {
            return Err(CompileError::node(n, format!("produces {} outputs, the graph expects {}", outs.len(), n.outputs.len())));
        }
        for (&t, v) in n.outputs.iter().zip(outs) {
            vals.insert(t, v);
        }
    }
    Ok(vals)
}

/// Give every tensor its static shape.
pub fn infer_shapes(g: &mut Graph) -> Result<()> {
    let inputs: Vec<Value> = g
        .inputs
        .iter()
        .map(|&t| {
            let shape = g.shape(t).to_vec();
            if g.tensors[t].is_float { Value::Float(ArrayD::zeros(IxDyn(&shape))) } else { Value::Int(ArrayD::zeros(IxDyn(&shape))) }
        })
        .collect();
    let vals = run_float(g, &inputs)?;
    for (t, v) in vals {
        g.tensors[t].shape = Some(v.shape());
        g.tensors[t].is_float = v.is_float();
    }
    Ok(())
}

/// Observed `[min, max]` of every float tensor over the calibration samples.
pub type Ranges = HashMap<Tid, (f32, f32)>;

/// Run each sample (one value per graph input) and record ranges.
pub fn calibrate(g: &Graph, samples: &[Vec<Value>]) -> Result<Ranges> {
    let mut ranges: Ranges = HashMap::new();
    for s in samples {
        let vals = run_float(g, s)?;
        for (t, v) in vals {
            if let Value::Float(a) = v {
                let (lo, hi) =
                    a.iter().filter(|x| x.is_finite()).fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &x| (l.min(x), h.max(x)));
                let e = ranges.entry(t).or_insert((f32::INFINITY, f32::NEG_INFINITY));
                e.0 = e.0.min(lo);
                e.1 = e.1.max(hi);
            }
        }
    }
    Ok(ranges)
}

/// Split a batch array (first axis = samples) into per-sample inputs of `shape`. An array of
/// exactly `shape` is one sample.
pub fn split_batch(x: &ArrayD<f32>, shape: &[usize]) -> Result<Vec<ArrayD<f32>>> {
    if x.shape() == shape {
        return Ok(vec![x.clone()]);
    }
    let per: usize = shape.iter().product();
    let total = x.len();
    let tail_ok = x.ndim() >= 1 && (x.shape()[1..].iter().product::<usize>() == per);
    if per == 0 || !tail_ok {
        return Err(CompileError::Calibration(format!(
            "data of shape {:?} does not hold samples of shape {shape:?} along its first axis",
            x.shape()
        )));
    }
    let x = x.as_standard_layout();
    let flat = x.as_slice().unwrap();
    Ok((0..total / per).map(|i| ArrayD::from_shape_vec(IxDyn(shape), flat[i * per..(i + 1) * per].to_vec()).unwrap()).collect())
}
