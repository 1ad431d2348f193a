//! `NegativeLogLikelihoodLoss` and `SoftmaxCrossEntropyLoss` ([`LossAttrs`]: `reduction`
//! `none`, `sum` or `mean` (default), optional `ignore_index`).
//!
//! NLL: input `x` of shape `[N, C, d…]`, targets `t` of shape `[N, d…]`, optional weights `w`
//! of `C` values. Per element, `loss[n, d…] = −x[n, t[n, d…], d…] · w[t]` (`w = 1` when absent),
//! and `0` with weight `0` where `t = ignore_index`; `sum` adds the losses, `mean` divides the
//! sum by the sum of the weights of the elements (their count without weights).
//! SoftmaxCrossEntropyLoss is NLL of `log_prob = LogSoftmax(scores)` over axis 1; its optional
//! second output is `log_prob`.
//!
//! Float semantics in `f32`. Lowering: both are decomposed before calibration
//! (`passes/loss.rs`) into ops that lower on their own — GatherElements of `x` by the targets
//! on axis 1, Neg, Gather of the weights by the targets, Mul, ReduceSum / ReduceMean / Div;
//! `ignore_index` remaps targets through a constant i64 table (a `Take`) to an extra class `C`
//! whose input is a zero (a Pad of `x`) and whose weight is 0 — so each intermediate has a
//! calibrated range. A node the decomposition leaves (bad shapes or attributes) gets the reason
//! as its lowering error.

use ndarray::{ArrayD, Axis, IxDyn};

use super::{OpDef, R, input};
use crate::{
    ir::{Graph, Node, Value},
    quantize::Lowering,
};

pub(crate) const OPS: &[OpDef] =
    &[OpDef::new("", "NegativeLogLikelihoodLoss", eval_nll, lower), OpDef::new("", "SoftmaxCrossEntropyLoss", eval_sce, lower)];

/// Largest `|ignore_index|` the decomposition's remapping table spans.
pub const MAX_IGNORE_INDEX: i64 = 1 << 16;

/// Most classes the `ignore_index` remapping table spans.
pub const MAX_IGNORE_CLASSES: usize = 1 << 20;

/// How the losses are reduced (attribute `reduction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduction {
    /// One loss per element.
    None,
    /// Their sum.
    Sum,
    /// Their weighted mean.
    Mean,
}

/// The attributes of a loss node, checked against the shapes of its input and targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LossAttrs {
    /// Attribute `reduction` (default `mean`).
    pub reduction: Reduction,
    /// Attribute `ignore_index`, if set.
    pub ignore_index: Option<i64>,
    /// The number of classes (axis 1 of the input).
    pub classes: usize,
}

impl LossAttrs {
    /// The attributes of node `n` with input shape `x` and target shape `t` (and weights of
    /// shape `w`, when given); an error names a bad attribute or shape.
    pub fn parse(n: &Node, x: &[usize], t: &[usize], w: Option<&[usize]>) -> R<LossAttrs> {
        let reduction = match n.str("reduction", "mean").as_str() {
            "none" => Reduction::None,
            "sum" => Reduction::Sum,
            "mean" => Reduction::Mean,
            r => return Err(format!("{}: reduction `{r}` is not none, sum or mean", n.op)),
        };
        if x.len() < 2 {
            return Err(format!("{}: the input of shape {x:?} has no class axis (rank < 2)", n.op));
        }
        let want: Vec<usize> = x.iter().enumerate().filter(|(k, _)| *k != 1).map(|(_, &d)| d).collect();
        if t != want.as_slice() {
            return Err(format!("{}: targets of shape {t:?} do not match the input {x:?} (expected {want:?})", n.op));
        }
        let classes = x[1];
        if let Some(w) = w
            && w != [classes]
        {
            return Err(format!("{}: weights of shape {w:?}, expected [{classes}]", n.op));
        }
        let ignore_index = n.attr("ignore_index").map(|_| n.int("ignore_index", 0));
        if ignore_index.is_some_and(|i| !(-MAX_IGNORE_INDEX..=MAX_IGNORE_INDEX).contains(&i)) {
            return Err(format!("{}: ignore_index {} is beyond ±{MAX_IGNORE_INDEX}", n.op, ignore_index.unwrap_or(0)));
        }
        if ignore_index.is_some() && classes > MAX_IGNORE_CLASSES {
            return Err(format!("{}: ignore_index with {classes} classes (at most {MAX_IGNORE_CLASSES})", n.op));
        }
        Ok(LossAttrs { reduction, ignore_index, classes })
    }
}

/// The NLL of `x` (`[N, C, d…]`) by targets `t` and weights `w`.
pub(crate) fn nll(a: &LossAttrs, x: &ArrayD<f32>, t: &ArrayD<i64>, w: Option<&ArrayD<f32>>) -> R<ArrayD<f32>> {
    let c = a.classes;
    let xs = x.as_standard_layout();
    let xf = xs.as_slice().ok_or("not contiguous")?;
    let inner: usize = x.shape()[2..].iter().product();
    let w: Option<Vec<f32>> = w.map(|w| w.iter().copied().collect());
    let tt = t.as_standard_layout();
    let (mut loss, mut weights) = (Vec::with_capacity(t.len()), Vec::with_capacity(t.len()));
    for (i, &k) in tt.iter().enumerate() {
        if a.ignore_index == Some(k) {
            loss.push(0.0);
            weights.push(0.0);
            continue;
        }
        if k < 0 || k >= c as i64 {
            return Err(format!("target {k} out of range for {c} classes"));
        }
        let (n, d) = (i / inner.max(1), i % inner.max(1));
        let wk = w.as_ref().map_or(1.0, |w| w[k as usize]);
        loss.push(-xf[(n * c + k as usize) * inner + d] * wk);
        weights.push(wk);
    }
    Ok(match a.reduction {
        Reduction::None => ArrayD::from_shape_vec(IxDyn(t.shape()), loss).map_err(|e| e.to_string())?,
        Reduction::Sum => ArrayD::from_elem(IxDyn(&[]), loss.iter().sum()),
        Reduction::Mean => ArrayD::from_elem(IxDyn(&[]), loss.iter().sum::<f32>() / weights.iter().sum::<f32>()),
    })
}

/// `log_softmax` over axis 1.
pub(crate) fn log_softmax_axis1(x: &ArrayD<f32>) -> ArrayD<f32> {
    let mut y = x.to_owned();
    for mut lane in y.lanes_mut(Axis(1)) {
        let m = lane.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let s: f32 = lane.iter().map(|&v| (v - m).exp()).sum();
        let ls = m + s.ln();
        lane.mapv_inplace(|v| v - ls);
    }
    y
}

/// A loss node's attributes, input, targets and weights.
type Parsed = (LossAttrs, ArrayD<f32>, ArrayD<i64>, Option<ArrayD<f32>>);

fn parse(n: &Node, ins: &[Option<&Value>]) -> R<Parsed> {
    let x = input(ins, 0)?.to_f32();
    let t = input(ins, 1)?.to_i64();
    let w = ins.get(2).copied().flatten().map(|w| w.to_f32());
    let a = LossAttrs::parse(n, x.shape(), t.shape(), w.as_ref().map(|w| w.shape()))?;
    Ok((a, x, t, w))
}

fn eval_nll(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let (a, x, t, w) = parse(n, ins)?;
    Ok(vec![Value::Float(nll(&a, &x, &t, w.as_ref())?)])
}

fn eval_sce(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let (a, x, t, w) = parse(n, ins)?;
    let lp = log_softmax_axis1(&x);
    let loss = nll(&a, &lp, &t, w.as_ref())?;
    Ok(vec![Value::Float(loss), Value::Float(lp)])
}

/// The decomposition (`passes/loss.rs`) replaces every well-formed loss node before
/// calibration; one that is left is refused with the reason.
fn lower(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let (x, t) = (n.input(0).ok_or("input missing")?, n.input(1).ok_or("target missing")?);
    LossAttrs::parse(n, g.shape(x), g.shape(t), n.input(2).map(|w| g.shape(w)))?;
    Err(format!("{} is decomposed before calibration, but this node was left (an integer input or a constant one?)", n.op))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Attr;

    use crate::passes::testutil::detached_node as node;

    #[test]
    fn nll_by_hand() {
        // x [2, 3], targets [2, 0], weights [1, 2, 3]
        let x = Value::Float(ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![1., 2., 3., 4., 5., 6.]).unwrap());
        let t = Value::Int(ArrayD::from_shape_vec(IxDyn(&[2]), vec![2, 0]).unwrap());
        let w = Value::Float(ArrayD::from_shape_vec(IxDyn(&[3]), vec![1., 2., 3.]).unwrap());
        let g = Graph::default();
        let run = |attrs: &[(&str, Attr)], w: Option<&Value>| {
            eval_nll(&g, &node("NegativeLogLikelihoodLoss", attrs), &[Some(&x), Some(&t), w]).unwrap()[0].to_f32()
        };
        let none = run(&[("reduction", Attr::Str("none".into()))], Some(&w));
        assert_eq!(none.iter().copied().collect::<Vec<_>>(), [-9., -4.]);
        assert_eq!(run(&[("reduction", Attr::Str("sum".into()))], None).sum(), -7.);
        // mean: (−9 − 4) / (3 + 1)
        assert_eq!(run(&[], Some(&w)).sum(), -13. / 4.);
        // ignoring class 0: −9 / 3
        assert_eq!(run(&[("ignore_index", Attr::Int(0))], Some(&w)).sum(), -3.);
        let bad = eval_nll(&g, &node("NegativeLogLikelihoodLoss", &[("reduction", Attr::Str("max".into()))]), &[Some(&x), Some(&t)]);
        assert!(bad.unwrap_err().contains("reduction `max`"));
        let t3 = Value::Int(ArrayD::from_shape_vec(IxDyn(&[2]), vec![3, 0]).unwrap());
        assert!(eval_nll(&g, &node("NegativeLogLikelihoodLoss", &[]), &[Some(&x), Some(&t3)]).unwrap_err().contains("out of range"));
    }

    #[test]
    fn sce_is_nll_of_log_softmax() {
        let x = Value::Float(ArrayD::from_shape_vec(IxDyn(&[1, 2]), vec![0., 0.]).unwrap());
        let t = Value::Int(ArrayD::from_shape_vec(IxDyn(&[1]), vec![1]).unwrap());
        let out = eval_sce(&Graph::default(), &node("SoftmaxCrossEntropyLoss", &[]), &[Some(&x), Some(&t)]).unwrap();
        assert!((out[0].to_f32().sum() - 2f32.ln()).abs() < 1e-6);
        assert!(out[1].to_f32().iter().all(|&v| (v + 2f32.ln()).abs() < 1e-6));
    }
}
