//! Means and normalizations by moments or norms over axes, each expanded before calibration
//! ([`crate::passes::expand_ops`]) into ops with lowerings of their own:
//!
//! * `Mean(x₁, …, xₙ)` (numpy broadcasting): `(x₁ + … + xₙ) / n`, expanded into `Sum` (a
//!   chain of Binary Add) and `Mul` by `1/n` (a Lut); one operand is the operand itself.
//! * `LpNormalization(x)`, `axis` (default −1), `p` ∈ {1, 2} (default 2): `x / ‖x‖ₚ` along
//!   `axis` (a lane whose norm is 0 stays 0). Expanded into `Transpose` of `axis` to the end,
//!   `Reshape` to 2-D, `ai.onnx.ml` `Normalizer` (`L1`/`L2`: spec `Normalize`, exact integer
//!   norms, fixed output quantization), and back.
//! * `MeanVarianceNormalization(x)`, `axes` (default `[0, 2, 3]`): `(x − E[x]) / (√Var[x] +
//!   10⁻⁹)` with the moments over `axes`. Expanded into `Transpose` (kept axes first),
//!   `Reshape` to `[1, kept, reduced]`, `InstanceNormalization` (unit scale, zero bias: exact
//!   integer moments, spec `InstanceNorm`, with ε = 10⁻¹⁸ added to the variance in place of
//!   the 10⁻⁹ added to the standard deviation), and back.
//! * `GroupNormalization(x, scale, bias)`, `num_groups = G`, `epsilon` (default 10⁻⁵), `x` of
//!   shape `[N, C, …]`: per `(n, group)` of `C/G` consecutive channels, `(x − mean) / √(var +
//!   ε)`, then `· scale + bias` per channel (opset ≥ 21; `[C]` values) or per group (opset 18,
//!   `[G]` values). Expanded into `Reshape` to `[N, G, C/G · …]`, `InstanceNormalization`
//!   (unit scale, zero bias, ε), `Mul`/`Add` by the per-group parameters (opset 18), `Reshape`
//!   back, `Mul`/`Add` by the per-channel parameters (opset ≥ 21); the parameters may be
//!   constants (Luts per channel) or run-time tensors (Binary). `stash_type` only sets the
//!   precision of ONNX's intermediates; the float semantics here are `f32` for any value.

use ndarray::{ArrayD, Axis, IxDyn};

use super::{OpDef, R, input};
use crate::{
    float::{broadcast_shape, norm_axis},
    ir::{Attr, Graph, Node, Tid, Value},
    passes::expand_ops::{Expansion, lower_expanded},
};

pub(crate) const OPS: &[OpDef] = &[
    OpDef::new("", "GroupNormalization", eval_group_normalization, lower_expanded),
    OpDef::new("", "LpNormalization", eval_lp_normalization, lower_expanded),
    OpDef::new("", "Mean", eval_mean, lower_expanded),
    OpDef::new("", "MeanVarianceNormalization", eval_mvn, lower_expanded),
];

fn eval_mean(_: &Graph, _: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let xs: Vec<ArrayD<f32>> = ins.iter().flatten().map(|v| v.to_f32()).collect();
    if xs.is_empty() {
        return Err("Mean needs at least one input".into());
    }
    let shape = xs.iter().try_fold(vec![], |s, x| broadcast_shape(&s, x.shape()))?;
    let mut sum = ArrayD::<f32>::zeros(IxDyn(&shape));
    for x in &xs {
        sum += &x.broadcast(IxDyn(&shape)).ok_or("Mean operands do not broadcast")?;
    }
    Ok(vec![Value::Float(sum / xs.len() as f32)])
}

/// Mean: `Sum` of the operands, then `Mul` by `1/n`.
pub(crate) fn expand_mean(e: &mut Expansion<'_>, n: &Node) -> R<Tid> {
    let xs: Vec<Tid> = n.inputs.iter().flatten().copied().collect();
    if xs.iter().any(|&t| !e.g.tensors[t].is_float) {
        return Err("Mean of integer tensors is not supported".into());
    }
    match xs.len() {
        0 => Err("Mean needs at least one input".into()),
        1 => Ok(xs[0]),
        k => {
            let s = e.op("Sum", &xs, vec![]);
            let inv = e.scalar(1.0 / k as f32);
            Ok(e.op("Mul", &[s, inv], vec![]))
        }
    }
}

/// LpNormalization's axis and norm (`"L1"` or `"L2"`).
fn lp_attrs(n: &Node, rank: usize) -> R<(usize, &'static str)> {
    let axis = norm_axis(n.int("axis", -1), rank)?;
    match n.int("p", 2) {
        1 => Ok((axis, "L1")),
        2 => Ok((axis, "L2")),
        p => Err(format!("LpNormalization p = {p} is not supported (ONNX allows 1 and 2)")),
    }
}

fn eval_lp_normalization(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?.to_f32();
    let (axis, norm) = lp_attrs(n, x.ndim())?;
    let mut y = x;
    for mut lane in y.lanes_mut(Axis(axis)) {
        let d = if norm == "L1" { lane.iter().map(|v| v.abs()).sum::<f32>() } else { lane.iter().map(|v| v * v).sum::<f32>().sqrt() };
        if d != 0.0 {
            lane.mapv_inplace(|v| v / d);
        }
    }
    Ok(vec![Value::Float(y)])
}

/// The permutation moving `first` axes ahead of the others (each group in order), and its
/// inverse.
fn split_perm(rank: usize, first: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let mut perm: Vec<usize> = first.to_vec();
    perm.extend((0..rank).filter(|a| !first.contains(a)));
    let mut inv = vec![0; rank];
    for (i, &p) in perm.iter().enumerate() {
        inv[p] = i;
    }
    (perm, inv)
}

/// LpNormalization: the axis moved last, a 2-D `Normalizer`, and back.
pub(crate) fn expand_lp_normalization(e: &mut Expansion<'_>, n: &Node) -> R<Tid> {
    let x = n.input(0).ok_or("input 0 missing")?;
    let shape = e.shape(x);
    let (axis, norm) = lp_attrs(n, shape.len())?;
    let others: Vec<usize> = (0..shape.len()).filter(|&a| a != axis).collect();
    let (perm, inv) = split_perm(shape.len(), &others);
    let t = e.transpose(x, &perm);
    let rows: usize = others.iter().map(|&a| shape[a]).product();
    let flat = e.reshape(t, &[rows, shape[axis]])?;
    let y = e.node_in("ai.onnx.ml", "Normalizer", &[Some(flat)], vec![("norm", Attr::Str(norm.into()))]);
    let permuted: Vec<usize> = perm.iter().map(|&a| shape[a]).collect();
    let y = e.reshape(y, &permuted)?;
    Ok(e.transpose(y, &inv))
}

/// The normalized axes of a MeanVarianceNormalization.
fn mvn_axes(n: &Node, rank: usize) -> R<Vec<usize>> {
    let mut axes: Vec<usize> = n.ints("axes").unwrap_or(vec![0, 2, 3]).iter().map(|&a| norm_axis(a, rank)).collect::<R<_>>()?;
    axes.sort_unstable();
    axes.dedup();
    Ok(axes)
}

/// `(x − mean) · scale(var)` with the moments over `axes` (kept).
fn normalize_over(x: &ArrayD<f32>, axes: &[usize], scale: impl Fn(f32) -> f32) -> ArrayD<f32> {
    let reduce = |a: &ArrayD<f32>| super::reduce::reduce(a, axes, true, super::reduce::ReduceOp::Mean);
    let d = x - &reduce(x);
    let var = reduce(&d.mapv(|v| v * v));
    d * var.mapv(scale)
}

fn eval_mvn(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?.to_f32();
    let axes = mvn_axes(n, x.ndim())?;
    Ok(vec![Value::Float(normalize_over(&x, &axes, |v| 1.0 / (v.sqrt() + 1e-9)))])
}

/// `InstanceNormalization` of the 3-D (or more) `x` with unit scale and zero bias over its
/// `channels` channels.
fn instance_norm(e: &mut Expansion<'_>, x: Tid, channels: usize, eps: f32) -> R<Tid> {
    let (ones, zeros) = (e.floats(&[channels], vec![1.0; channels])?, e.floats(&[channels], vec![0.0; channels])?);
    Ok(e.op("InstanceNormalization", &[x, ones, zeros], vec![("epsilon", Attr::Float(eps))]))
}

/// MeanVarianceNormalization: the kept axes first, `[1, kept, reduced]`, InstanceNormalization,
/// and back.
pub(crate) fn expand_mvn(e: &mut Expansion<'_>, n: &Node) -> R<Tid> {
    let x = n.input(0).ok_or("input 0 missing")?;
    let shape = e.shape(x);
    let axes = mvn_axes(n, shape.len())?;
    let kept: Vec<usize> = (0..shape.len()).filter(|a| !axes.contains(a)).collect();
    let (perm, inv) = split_perm(shape.len(), &kept);
    let (k, r): (usize, usize) = (kept.iter().map(|&a| shape[a]).product(), axes.iter().map(|&a| shape[a]).product());
    let t = e.transpose(x, &perm);
    let flat = e.reshape(t, &[1, k, r])?;
    let y = instance_norm(e, flat, k, 1e-18)?;
    let permuted: Vec<usize> = perm.iter().map(|&a| shape[a]).collect();
    let y = e.reshape(y, &permuted)?;
    Ok(e.transpose(y, &inv))
}

/// GroupNormalization's groups, and whether scale and bias are per channel (opset ≥ 21).
fn group_attrs(n: &Node, shape: &[usize], opset: i64) -> R<(usize, bool)> {
    let c = *shape.get(1).ok_or_else(|| format!("GroupNormalization needs an input of rank ≥ 2, got {shape:?}"))?;
    let g = usize::try_from(n.int("num_groups", 0))
        .ok()
        .filter(|&g| g > 0 && c.is_multiple_of(g))
        .ok_or_else(|| format!("GroupNormalization num_groups = {} does not divide the {c} channels", n.int("num_groups", 0)))?;
    Ok((g, opset >= 21))
}

fn eval_group_normalization(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?.to_f32();
    let (scale, bias) = (input(ins, 1)?.to_f32(), input(ins, 2)?.to_f32());
    let shape = x.shape().to_vec();
    let (groups, per_channel) = group_attrs(n, &shape, g.opset)?;
    let want = if per_channel { shape[1] } else { groups };
    if scale.len() != want || bias.len() != want {
        return Err(format!("GroupNormalization scale and bias of {} and {} values, expected {want}", scale.len(), bias.len()));
    }
    let eps = n.float("epsilon", 1e-5);
    let grouped = x.into_shape_with_order(IxDyn(&[shape[0], groups, shape[1..].iter().product::<usize>() / groups]));
    let norm = normalize_over(&grouped.map_err(|e| e.to_string())?, &[2], |v| 1.0 / (v + eps).sqrt());
    let mut y = norm.into_shape_with_order(IxDyn(&shape)).map_err(|e| e.to_string())?;
    let per_group = shape[1] / groups;
    for (c, mut plane) in y.axis_iter_mut(Axis(1)).enumerate() {
        let k = if per_channel { c } else { c / per_group };
        plane.mapv_inplace(|v| v * scale[[k]] + bias[[k]]);
    }
    Ok(vec![Value::Float(y)])
}

/// GroupNormalization: `[N, G, …]`, InstanceNormalization, the parameters, `[N, C, …]`.
pub(crate) fn expand_group_normalization(e: &mut Expansion<'_>, n: &Node) -> R<Tid> {
    let x = n.input(0).ok_or("input 0 missing")?;
    let (scale, bias) = (n.input(1).ok_or("scale missing")?, n.input(2).ok_or("bias missing")?);
    let shape = e.shape(x);
    let (groups, per_channel) = group_attrs(n, &shape, e.g.opset)?;
    let want = if per_channel { shape[1] } else { groups };
    for t in [scale, bias] {
        if e.shape(t).iter().product::<usize>() != want || !e.g.tensors[t].is_float {
            return Err(format!("GroupNormalization parameter `{}` of shape {:?}, expected {want} reals", e.g.name(t), e.shape(t)));
        }
    }
    let grouped = e.reshape(x, &[shape[0], groups, shape[1..].iter().product::<usize>() / groups])?;
    let mut y = instance_norm(e, grouped, groups, n.float("epsilon", 1e-5))?;
    let affine = |e: &mut Expansion<'_>, y: Tid, param_shape: &[usize]| -> R<Tid> {
        let (s, b) = (e.reshape(scale, param_shape)?, e.reshape(bias, param_shape)?);
        let y = e.op("Mul", &[y, s], vec![]);
        Ok(e.op("Add", &[y, b], vec![]))
    };
    if !per_channel {
        y = affine(e, y, &[groups, 1])?;
    }
    y = e.reshape(y, &shape)?;
    if per_channel {
        let mut ps = vec![shape[1]];
        ps.extend(vec![1; shape.len() - 2]);
        y = affine(e, y, &ps)?;
    }
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::expand_ops::tests::expands;

    fn floats(shape: &[usize], v: Vec<f32>) -> Value {
        Value::Float(ArrayD::from_shape_vec(IxDyn(shape), v).unwrap())
    }

    #[test]
    fn mean_expands_to_a_sum_and_a_product() {
        assert_eq!(expands("Mean", &[&[3], &[2, 3], &[3]], vec![], vec![]), ["Sum", "Mul"]);
        assert_eq!(expands("Mean", &[&[3]], vec![], vec![]), ["Identity"]);
        let g = Graph::default();
        let n =
            Node { name: "m".into(), op: "Mean".into(), domain: String::new(), attrs: Default::default(), inputs: vec![], outputs: vec![] };
        let (a, b) = (floats(&[2], vec![1.0, 2.0]), floats(&[2], vec![3.0, 6.0]));
        assert_eq!(eval_mean(&g, &n, &[Some(&a), Some(&b)]).unwrap()[0], floats(&[2], vec![2.0, 4.0]));
    }

    #[test]
    fn lp_normalization_expands_to_a_normalizer() {
        let ops = expands("LpNormalization", &[&[2, 3, 4]], vec![], vec![("axis", Attr::Int(1)), ("p", Attr::Int(1))]);
        assert_eq!(ops, ["Transpose", "Reshape", "Normalizer", "Reshape", "Transpose"]);
        assert_eq!(expands("LpNormalization", &[&[2, 3]], vec![], vec![]), ["Reshape", "Normalizer", "Reshape"]);
        let n = Node {
            name: "l".into(),
            op: "LpNormalization".into(),
            domain: String::new(),
            attrs: Default::default(),
            inputs: vec![],
            outputs: vec![],
        };
        let y = eval_lp_normalization(&Graph::default(), &n, &[Some(&floats(&[2], vec![3.0, 4.0]))]).unwrap();
        assert_eq!(y[0], floats(&[2], vec![0.6, 0.8]));
    }

    #[test]
    fn mvn_and_group_normalization_expand_to_instance_norms() {
        let ops = expands("MeanVarianceNormalization", &[&[3, 3, 3, 1]], vec![], vec![]);
        assert_eq!(ops, ["Transpose", "Reshape", "InstanceNormalization", "Reshape", "Transpose"]);
        let attrs = || vec![("num_groups", Attr::Int(2)), ("epsilon", Attr::Float(1e-2))];
        let ops = expands("GroupNormalization", &[&[3, 4, 2, 2], &[4], &[4]], vec![], attrs());
        assert_eq!(ops, ["Reshape", "InstanceNormalization", "Reshape", "Reshape", "Reshape", "Mul", "Add"]);
        // constant parameters: reshaped at once
        let p = || floats(&[4], vec![0.5, -1.0, 2.0, 1.5]);
        let ops = expands("GroupNormalization", &[&[3, 4, 2, 2]], vec![p(), p()], attrs());
        assert_eq!(ops, ["Reshape", "InstanceNormalization", "Reshape", "Mul", "Add"]);
    }

    #[test]
    fn group_normalization_normalizes_each_group() {
        // one group of two channels: the four values normalized together
        let mut g = Graph { opset: 21, ..Default::default() };
        g.opset = 21;
        let n = Node {
            name: "g".into(),
            op: "GroupNormalization".into(),
            domain: String::new(),
            attrs: [("num_groups".to_string(), Attr::Int(1)), ("epsilon".to_string(), Attr::Float(0.0))].into(),
            inputs: vec![],
            outputs: vec![],
        };
        let x = floats(&[1, 2, 2], vec![1.0, 3.0, 1.0, 3.0]);
        let (s, b) = (floats(&[2], vec![1.0, 2.0]), floats(&[2], vec![0.0, 1.0]));
        let y = eval_group_normalization(&g, &n, &[Some(&x), Some(&s), Some(&b)]).unwrap();
        assert_eq!(y[0], floats(&[1, 2, 2], vec![-1.0, 1.0, -1.0, 3.0]));
    }
}
