//! Shape inference and calibration, both by running the float interpreter.
//!
//! * [`infer_shapes`] evaluates the graph once on zero-valued inputs of the declared static
//!   shapes and records every tensor's shape: static shapes follow from the input shapes (a
//!   symbolic batch is 1, see [`crate::onnx`]), so one abstract run is exact.
//! * [`calibrate`] runs every calibration sample and records each tensor's value range;
//!   [`calibrate_with`] then narrows it by a [`CalibrationMethod`]:
//!   - `MinMax`: the observed `[min, max]` (every value representable, outliers included);
//!   - `Percentile(p)`: the central `p` percent of the values, `(100 − p) / 2` percent clipped
//!     from each tail, read off a 2,048-bin histogram over `[min, max]` (bin edges outward, so
//!     the range never cuts inside a bin that holds kept values);
//!   - `Entropy`: TensorRT's KL-divergence threshold (onnxruntime's `Entropy` calibrator), on
//!     a 2,048-bin histogram of magnitudes: for each candidate threshold `t` (bin `i`, from
//!     the number of levels up), `P` is the histogram clipped at `t` (the tail folded into its
//!     last bin) and `Q` is `P` merged into the levels int8 gives that side (256 when the
//!     tensor is never negative, else 128) and spread back over `P`'s non-empty bins; the `t`
//!     of least `KL(P‖Q)` wins, and the range is `[max(min, −t), min(max, t)]`.
//!
//!   Both are computed in a second pass over the samples and narrow every tensor but the
//!   model's outputs (whose clipping merges top classes into ties); every range still contains 0 after
//!   quantization (`quantize.rs`), and the chosen range is never wider than `[min, max]`.

use std::collections::{HashMap, HashSet};

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

/// An error when a node's output in calibration sample `sample` has another shape than
/// [`infer_shapes`] gave it (from all-zero inputs): the shape depends on values known only at
/// run time, as when a parameter input (axes, a target shape, repeats) is a graph input. Every
/// op has one static shape per output; without this check such a node would compile with the
/// shape the zeros gave, silently wrong for every other input.
fn check_static_shapes(g: &Graph, vals: &HashMap<Tid, Value>, sample: usize) -> Result<()> {
    for n in &g.nodes {
        for &t in &n.outputs {
            let (Some(v), Some(inferred)) = (vals.get(&t), g.tensors[t].shape.as_ref()) else { continue };
            if v.shape() != *inferred {
                return Err(CompileError::node(
                    n,
                    format!(
                        "the shape of `{}` depends on values computed at run time: {inferred:?} with all-zero inputs, {:?} with calibration sample {sample} (a parameter input of this op must be a constant)",
                        g.name(t),
                        v.shape()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Observed `[min, max]` of every float tensor over the calibration samples.
pub type Ranges = HashMap<Tid, (f32, f32)>;

/// How far below its finite values a Softmax's input that holds −∞ (a masked score, as
/// attention masks write it) has its range extended: −∞ saturates to the range's low end, and `e^−16 ≈ 10⁻⁷` is
/// below any int8 probability step, so a Softmax after it gives the masked positions 0, as
/// the float model does.
pub const NEG_INF_MARGIN: f32 = 16.0;

/// The run-time tensors that are the input of a Softmax or LogSoftmax (the scores a mask of
/// −∞ is added to).
fn softmax_inputs(g: &Graph) -> HashSet<Tid> {
    g.nodes
        .iter()
        .filter(|n| n.domain.is_empty() && matches!(n.op.as_str(), "Softmax" | "LogSoftmax"))
        .filter_map(|n| n.input(0))
        .filter(|&t| !g.is_const(t))
        .collect()
}

/// Run each sample (one value per graph input) and record ranges.
pub fn calibrate(g: &Graph, samples: &[Vec<Value>]) -> Result<Ranges> {
    Ok(calibrate_marked(g, samples)?.0)
}

/// [`calibrate`], and the tensors that held −∞ (their ranges already extended by
/// [`NEG_INF_MARGIN`]).
fn calibrate_marked(g: &Graph, samples: &[Vec<Value>]) -> Result<(Ranges, HashSet<Tid>)> {
    let mut ranges: Ranges = HashMap::new();
    let mut neg_inf = HashSet::new();
    let scores = softmax_inputs(g);
    for (i, s) in samples.iter().enumerate() {
        let vals = run_float(g, s)?;
        check_static_shapes(g, &vals, i)?;
        for (t, v) in vals {
            if let Value::Float(a) = v {
                let (lo, hi) =
                    a.iter().filter(|x| x.is_finite()).fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &x| (l.min(x), h.max(x)));
                let e = ranges.entry(t).or_insert((f32::INFINITY, f32::NEG_INFINITY));
                e.0 = e.0.min(lo);
                e.1 = e.1.max(hi);
                if scores.contains(&t) && a.iter().any(|&x| x == f32::NEG_INFINITY) {
                    neg_inf.insert(t);
                }
            }
        }
    }
    for t in &neg_inf {
        if let Some(r) = ranges.get_mut(t).filter(|r| r.0.is_finite()) {
            r.0 -= NEG_INF_MARGIN;
        }
    }
    Ok((ranges, neg_inf))
}

/// How activation ranges are chosen from the calibration samples (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum CalibrationMethod {
    /// The observed `[min, max]`.
    #[default]
    MinMax,
    /// The central `p` percent of the values (`0 < p ≤ 100`).
    Percentile(f64),
    /// The KL-divergence threshold.
    Entropy,
}

/// Histogram bins of the percentile and entropy methods.
pub const HISTOGRAM_BINS: usize = 2048;

/// [`calibrate`], then the ranges narrowed by `method` (a second pass over `samples`).
pub fn calibrate_with(g: &Graph, samples: &[Vec<Value>], method: CalibrationMethod) -> Result<Ranges> {
    let (minmax, neg_inf) = calibrate_marked(g, samples)?;
    if method == CalibrationMethod::MinMax {
        return Ok(minmax);
    }
    // per tensor: a histogram over [min, max] (percentile) or of magnitudes over [0, max |x|]
    let entropy = method == CalibrationMethod::Entropy;
    let span =
        |&(lo, hi): &(f32, f32)| -> (f64, f64) { if entropy { (0.0, (lo.abs().max(hi.abs())) as f64) } else { (lo as f64, hi as f64) } };
    let mut hists: HashMap<Tid, Vec<u64>> = HashMap::new();
    for s in samples {
        for (t, v) in run_float(g, s)? {
            let (Value::Float(a), Some(r)) = (v, minmax.get(&t)) else { continue };
            let (from, to) = span(r);
            if to.is_nan() || from.is_nan() || to <= from {
                continue;
            }
            let h = hists.entry(t).or_insert_with(|| vec![0; HISTOGRAM_BINS]);
            let scale = HISTOGRAM_BINS as f64 / (to - from);
            for &x in a.iter().filter(|x| x.is_finite()) {
                let x = if entropy { x.abs() as f64 } else { x as f64 };
                let bin = (((x - from) * scale) as usize).min(HISTOGRAM_BINS - 1);
                h[bin] += 1;
            }
        }
    }
    let mut out = minmax.clone();
    for (t, h) in hists {
        // the model's outputs keep their whole range: clipping them makes the top classes
        // saturate together, and argmax then picks among ties (digits CNN, entropy: 79.6%
        // top-1 agreement clipped, see the README's calibration table)
        if g.outputs.contains(&t) || neg_inf.contains(&t) {
            continue; // (a masked score keeps its extended low end)
        }
        let (lo, hi) = minmax[&t];
        let (from, to) = span(&(lo, hi));
        let width = (to - from) / HISTOGRAM_BINS as f64;
        let narrowed = match method {
            CalibrationMethod::Percentile(p) => {
                let (a, b) = percentile_bins(&h, p);
                ((from + a as f64 * width) as f32, (from + (b + 1) as f64 * width) as f32)
            }
            _ => {
                let levels = if lo >= 0.0 { 256 } else { 128 };
                // the first bin holds the exact zeros (half of a ReLU's output): zero is exact
                // in every range, and left in, that spike makes KL prefer tiny thresholds
                // (digits CNN: relu1 clipped from 9.7 to 2.1, 79.6% agreement)
                let mut nonzero = h.clone();
                nonzero[0] = 0;
                let t = ((entropy_threshold_bin(&nonzero, levels) + 1) as f64 * width) as f32;
                (-t, t)
            }
        };
        out.insert(t, (narrowed.0.max(lo), narrowed.1.min(hi)));
    }
    Ok(out)
}

/// The first and last bins kept when `(100 − p) / 2` percent of the count is clipped from
/// each tail.
pub fn percentile_bins(h: &[u64], p: f64) -> (usize, usize) {
    let total: u64 = h.iter().sum();
    let cut = (total as f64 * (100.0 - p.clamp(0.0, 100.0)) / 200.0).floor() as u64;
    let mut acc = 0;
    let first = h.iter().position(|&c| {
        acc += c;
        acc > cut
    });
    acc = 0;
    let last = h.iter().rposition(|&c| {
        acc += c;
        acc > cut
    });
    match (first, last) {
        (Some(a), Some(b)) if a <= b => (a, b),
        _ => (0, h.len() - 1),
    }
}

/// The bin whose upper edge is the KL-optimal clipping threshold for `levels` levels
/// (TensorRT's entropy calibration; module docs).
pub fn entropy_threshold_bin(h: &[u64], levels: usize) -> usize {
    let n = h.len();
    if n <= levels {
        return n - 1;
    }
    let mut best = (f64::INFINITY, n - 1);
    for i in levels..=n {
        // P: the first i bins, the rest folded into the last
        let mut pdist: Vec<f64> = h[..i].iter().map(|&c| c as f64).collect();
        pdist[i - 1] += h[i..].iter().map(|&c| c as f64).sum::<f64>();
        let total: f64 = pdist.iter().sum();
        if total == 0.0 {
            continue;
        }
        // Q: P's first i bins merged into `levels` groups, each spread over its non-empty bins
        let mut q = vec![0f64; i];
        for l in 0..levels {
            let (a, b) = (l * i / levels, ((l + 1) * i / levels).max(l * i / levels + 1));
            let group: f64 = h[a..b].iter().map(|&c| c as f64).sum::<f64>();
            let nonzero = h[a..b].iter().filter(|&&c| c > 0).count();
            if nonzero > 0 {
                for k in a..b {
                    if h[k] > 0 {
                        q[k] = group / nonzero as f64;
                    }
                }
            }
        }
        let qtotal: f64 = q.iter().sum();
        if qtotal == 0.0 {
            continue;
        }
        let mut kl = 0.0;
        for k in 0..i {
            let pk = pdist[k] / total;
            if pk > 0.0 {
                // a bin P has and Q lacks (the folded tail): smoothed, as TensorRT does
                let qk = (q[k] / qtotal).max(1e-12);
                kl += pk * (pk / qk).ln();
            }
        }
        if kl < best.0 {
            best = (kl, i - 1);
        }
    }
    best.1
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_softmax_input_that_holds_minus_infinity_reaches_below_its_finite_values() {
        use crate::passes::testutil::*;
        // scores + a causal mask of 0 / −∞, then Softmax; the same sum without a Softmax
        let mut g = graph(&[("x", &[2, 2])]);
        let mask = constant(&mut g, "mask", &[2, 2], vec![0.0, f32::NEG_INFINITY, 0.0, 0.0]);
        let masked = node(&mut g, "Add", &[0, mask], vec![]);
        let p = node(&mut g, "Softmax", &[masked], vec![]);
        output(&mut g, p);
        let plain = node(&mut g, "Add", &[0, mask], vec![]);
        output(&mut g, plain);
        infer_shapes(&mut g).unwrap();
        let x = Value::Float(ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1.0, 2.0, -1.0, 3.0]).unwrap());
        let r = calibrate(&g, &[vec![x]]).unwrap();
        assert_eq!(r[&masked], (-1.0 - NEG_INF_MARGIN, 3.0));
        assert_eq!(r[&plain], (-1.0, 3.0));
    }

    #[test]
    fn percentile_clips_each_tail_by_half_the_rest() {
        let mut h = vec![0u64; 100];
        h[0] = 1; // one low outlier
        for c in &mut h[10..90] {
            *c = 100;
        }
        h[99] = 1; // one high outlier
        assert_eq!(percentile_bins(&h, 100.0), (0, 99));
        // 8,002 values: 0.1% is 8, 4 from each tail: both outliers go
        assert_eq!(percentile_bins(&h, 99.9), (10, 89));
    }

    #[test]
    fn entropy_cuts_a_long_sparse_tail_and_keeps_a_dense_range() {
        // a dense bulk in the first 300 bins and a few stragglers far out
        let mut h = vec![0u64; HISTOGRAM_BINS];
        for (i, c) in h.iter_mut().enumerate().take(300) {
            *c = 1000 - i as u64;
        }
        h[2000] = 1;
        h[1500] = 2;
        let t = entropy_threshold_bin(&h, 128);
        assert!((200..1500).contains(&t), "threshold bin {t}");
        // a flat histogram keeps (nearly) everything
        let flat = vec![10u64; HISTOGRAM_BINS];
        assert!(entropy_threshold_bin(&flat, 128) > HISTOGRAM_BINS * 9 / 10);
    }
}
