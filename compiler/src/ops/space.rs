//! Rearrangements between depth and space, centred crops and pads, and the identity matrix:
//!
//! * `DepthToSpace(x)`, `blocksize = b`, `x` of shape `[N, C, H, W]`: `y[n, c, h·b + i, w·b + j]`
//!   is `x[n, (i·b + j)·C/b² + c, h, w]` (`mode = DCR`, default) or `x[n, c·b² + i·b + j, h, w]`
//!   (`CRD`). `SpaceToDepth` is the inverse of DCR: `y[n, (i·b + j)·C + c, h, w] =
//!   x[n, c, h·b + i, w·b + j]`. Both are expanded ([`crate::passes::expand_ops`]) into
//!   `Reshape` (6-D) → `Transpose` → `Reshape` (4-D): three Views.
//! * `CenterCropPad(x, shape)`, optional `axes` (default all): along each axis `a` with target
//!   `s = shape[i]` and length `d`, a crop keeps `[⌊(d − s)/2⌋, ⌊(d − s)/2⌋ + s)` when `s < d`,
//!   a pad of zeros puts `⌊(s − d)/2⌋` before and the rest after when `s > d`. Expanded into a
//!   `Slice` (a View) and a `Pad`; `shape` must be a constant.
//! * `EyeLike(x)`, `k` (default 0), `dtype` (default: `x`'s type): a 2-D tensor of `x`'s shape
//!   holding 1 where `j − i = k`, else 0. It depends only on `x`'s shape, so it becomes a
//!   constant (folded when `x` is constant, replaced by its value by the expansion pass
//!   otherwise); it has no lowering of its own.

use ndarray::{ArrayD, IxDyn};

use super::{OpDef, R, input};
use crate::{
    float::reshape,
    ir::{Graph, Node, Tid, Value},
    passes::expand_ops::{Expansion, lower_expanded},
    quantize::Lowering,
};

pub(crate) const OPS: &[OpDef] = &[
    OpDef::new("", "CenterCropPad", eval_center_crop_pad, lower_expanded),
    OpDef::new("", "DepthToSpace", eval_depth_space, lower_expanded),
    OpDef::new("", "EyeLike", eval_eye_like, lower_eye_like),
    OpDef::new("", "SpaceToDepth", eval_depth_space, lower_expanded),
];

/// The rearrangement of DepthToSpace/SpaceToDepth node `n` on an input of `shape`: reshape to
/// the first shape, permute the axes, reshape to the second shape.
fn depth_space_plan(n: &Node, shape: &[usize]) -> R<(Vec<usize>, Vec<usize>, Vec<usize>)> {
    let &[nb, c, h, w] = shape else {
        return Err(format!("{} needs a 4-D input [N, C, H, W], got {shape:?}", n.op));
    };
    let b = usize::try_from(n.int("blocksize", 0))
        .ok()
        .filter(|&b| b > 0)
        .ok_or_else(|| format!("{} needs a positive `blocksize`, got {}", n.op, n.int("blocksize", 0)))?;
    if n.op == "SpaceToDepth" {
        if !h.is_multiple_of(b) || !w.is_multiple_of(b) {
            return Err(format!("SpaceToDepth: H = {h} and W = {w} must be multiples of the blocksize {b}"));
        }
        let (ho, wo) = (h / b, w / b);
        return Ok((vec![nb, c, ho, b, wo, b], vec![0, 3, 5, 1, 2, 4], vec![nb, c * b * b, ho, wo]));
    }
    if !c.is_multiple_of(b * b) {
        return Err(format!("DepthToSpace: C = {c} must be a multiple of blocksize² = {}", b * b));
    }
    let co = c / (b * b);
    let out = vec![nb, co, h * b, w * b];
    match n.str("mode", "DCR").as_str() {
        "DCR" => Ok((vec![nb, b, b, co, h, w], vec![0, 3, 4, 1, 5, 2], out)),
        "CRD" => Ok((vec![nb, co, b, b, h, w], vec![0, 1, 4, 2, 5, 3], out)),
        m => Err(format!("DepthToSpace mode `{m}` is not DCR or CRD")),
    }
}

fn permute(v: &Value, perm: &[usize]) -> Value {
    crate::float::map_value(
        v,
        |a| a.view().permuted_axes(IxDyn(perm)).as_standard_layout().to_owned(),
        |a| a.view().permuted_axes(IxDyn(perm)).as_standard_layout().to_owned(),
    )
}

fn eval_depth_space(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?;
    let (s1, perm, s2) = depth_space_plan(n, &x.shape())?;
    Ok(vec![reshape(&permute(&reshape(x, &s1)?, &perm), &s2)?])
}

/// DepthToSpace, SpaceToDepth: Reshape → Transpose → Reshape.
pub(crate) fn expand_depth_space(e: &mut Expansion<'_>, n: &Node) -> R<Tid> {
    let x = n.input(0).ok_or("input 0 missing")?;
    let (s1, perm, s2) = depth_space_plan(n, &e.shape(x))?;
    let r = e.reshape(x, &s1)?;
    let t = e.transpose(r, &perm);
    e.reshape(t, &s2)
}

/// The crop (`start`, `end`) and pad (`before`, `after`) of each axis of CenterCropPad node
/// `n` on an input of `shape` with target `target`.
type CropPad = Vec<((usize, usize), (usize, usize))>;

fn center_crop_pad_plan(n: &Node, shape: &[usize], target: &[i64]) -> R<CropPad> {
    let rank = shape.len();
    let axes: Vec<usize> = match n.ints("axes") {
        Some(a) => a.iter().map(|&a| crate::float::norm_axis(a, rank)).collect::<R<_>>()?,
        None => (0..rank).collect(),
    };
    if axes.len() != target.len() {
        return Err(format!("CenterCropPad: {} target lengths for {} axes", target.len(), axes.len()));
    }
    let mut plan: CropPad = shape.iter().map(|&d| ((0, d), (0, 0))).collect();
    for (&a, &s) in axes.iter().zip(target) {
        let s = usize::try_from(s).map_err(|_| format!("CenterCropPad: negative target length {s}"))?;
        let d = shape[a];
        plan[a] = if s <= d { (((d - s) / 2, (d - s) / 2 + s), (0, 0)) } else { ((0, d), ((s - d) / 2, s - d - (s - d) / 2)) };
    }
    let out: Vec<usize> = plan.iter().map(|&((a, b), (p, q))| b - a + p + q).collect();
    super::check_elements(&out, "the CenterCropPad output")?;
    Ok(plan)
}

fn eval_center_crop_pad(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?;
    let target: Vec<i64> = input(ins, 1)?.to_i64().iter().copied().collect();
    let plan = center_crop_pad_plan(n, &x.shape(), &target)?;
    let out: Vec<usize> = plan.iter().map(|&((a, b), (p, q))| b - a + p + q).collect();
    let pick = |ix: &IxDyn| -> Option<Vec<usize>> {
        plan.iter().enumerate().map(|(d, &((a, b), (p, _)))| ix[d].checked_sub(p).map(|i| i + a).filter(|&i| i < b)).collect()
    };
    Ok(vec![match x {
        Value::Float(a) => Value::Float(ArrayD::from_shape_fn(IxDyn(&out), |ix| pick(&ix).map_or(0.0, |i| a[IxDyn(&i)]))),
        Value::Int(a) => Value::Int(ArrayD::from_shape_fn(IxDyn(&out), |ix| pick(&ix).map_or(0, |i| a[IxDyn(&i)]))),
    }])
}

/// CenterCropPad: a Slice of the cropped axes, then a Pad of the padded ones.
pub(crate) fn expand_center_crop_pad(e: &mut Expansion<'_>, n: &Node) -> R<Tid> {
    let x = n.input(0).ok_or("input 0 missing")?;
    let st = n.input(1).ok_or("CenterCropPad needs the target shape (input 1)")?;
    let Some(target) = e.g.consts.get(&st).map(|v| v.to_i64().iter().copied().collect::<Vec<i64>>()) else {
        return Err(format!("the target shape must be constant, but input 1 (`{}`) is computed at run time", e.g.name(st)));
    };
    let shape = e.shape(x);
    let plan = center_crop_pad_plan(n, &shape, &target)?;
    let mut y = x;
    let cropped: Vec<usize> = (0..shape.len()).filter(|&a| plan[a].0 != (0, shape[a])).collect();
    if !cropped.is_empty() {
        let starts = e.ints(&cropped.iter().map(|&a| plan[a].0.0 as i64).collect::<Vec<_>>());
        let ends = e.ints(&cropped.iter().map(|&a| plan[a].0.1 as i64).collect::<Vec<_>>());
        let axes = e.ints(&cropped.iter().map(|&a| a as i64).collect::<Vec<_>>());
        y = e.op("Slice", &[y, starts, ends, axes], vec![]);
    }
    if plan.iter().any(|p| p.1 != (0, 0)) {
        let mut pads: Vec<i64> = plan.iter().map(|p| p.1.0 as i64).collect();
        pads.extend(plan.iter().map(|p| p.1.1 as i64));
        let pads = e.ints(&pads);
        y = e.op("Pad", &[y, pads], vec![]);
    }
    Ok(y)
}

/// EyeLike's output: `[rows, cols]` with ones on diagonal `k`, real unless `dtype` (or, without
/// it, the input) is an integer type.
fn eye_like(n: &Node, shape: &[usize], input_is_float: bool) -> R<Value> {
    let &[rows, cols] = shape else {
        return Err(format!("EyeLike needs a 2-D input, got shape {shape:?}"));
    };
    let k = n.int("k", 0);
    let is_float = match n.attr("dtype") {
        Some(_) => super::shape::is_float_type(n.int("dtype", 1)),
        None => input_is_float,
    };
    let eye = ArrayD::from_shape_fn(IxDyn(&[rows, cols]), |ix| (ix[1] as i64 - ix[0] as i64 == k) as i64);
    Ok(if is_float { Value::Float(eye.mapv(|v| v as f32)) } else { Value::Int(eye) })
}

fn eval_eye_like(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?;
    Ok(vec![eye_like(n, &x.shape(), x.is_float())?])
}

fn lower_eye_like(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let x = n.input(0).ok_or("input 0 missing")?;
    eye_like(n, l.g.shape(x), l.g.tensors[x].is_float)?;
    Err("EyeLike is a constant of its input's shape; it has no lowering of its own (it is replaced by its value)".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ir::Attr, passes::expand_ops::tests::expands};

    fn ints(v: &[i64]) -> Value {
        Value::Int(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v.to_vec()).unwrap())
    }

    /// The index formulas of the module docs, against the float semantics.
    #[test]
    fn depth_to_space_and_back_follow_the_index_formulas() {
        let x = ArrayD::from_shape_fn(IxDyn(&[2, 8, 2, 3]), |ix| (ix[0] * 1000 + ix[1] * 100 + ix[2] * 10 + ix[3]) as f32);
        let g = Graph::default();
        let node = |op: &str, mode: &str| Node {
            name: "n".into(),
            op: op.into(),
            domain: String::new(),
            attrs: [("blocksize".to_string(), Attr::Int(2)), ("mode".to_string(), Attr::Str(mode.into()))].into(),
            inputs: vec![Some(0)],
            outputs: vec![1],
        };
        for mode in ["DCR", "CRD"] {
            let y = eval_depth_space(&g, &node("DepthToSpace", mode), &[Some(&Value::Float(x.clone()))]).unwrap().remove(0).to_f32();
            assert_eq!(y.shape(), [2, 2, 4, 6]);
            for (ix, &v) in y.indexed_iter() {
                let (i, j, c) = (ix[2] % 2, ix[3] % 2, ix[1]);
                let ch = if mode == "DCR" { (i * 2 + j) * 2 + c } else { c * 4 + i * 2 + j };
                assert_eq!(v, x[[ix[0], ch, ix[2] / 2, ix[3] / 2]], "{mode} {ix:?}");
            }
            // SpaceToDepth inverts DCR
            if mode == "DCR" {
                let back = eval_depth_space(&g, &node("SpaceToDepth", ""), &[Some(&Value::Float(y))]).unwrap().remove(0);
                assert_eq!(back.to_f32(), x);
            }
        }
    }

    #[test]
    fn depth_space_and_center_crop_pad_expand() {
        let attrs = || vec![("blocksize", Attr::Int(2)), ("mode", Attr::Str("CRD".into()))];
        assert_eq!(expands("DepthToSpace", &[&[1, 8, 2, 3]], vec![], attrs()), ["Reshape", "Transpose", "Reshape"]);
        assert_eq!(expands("SpaceToDepth", &[&[1, 2, 4, 6]], vec![], attrs()), ["Reshape", "Transpose", "Reshape"]);
        let ops = expands("CenterCropPad", &[&[20, 8, 3]], vec![ints(&[10, 10, 3])], vec![]);
        assert_eq!(ops, ["Slice", "Pad"]);
        let ops = expands("CenterCropPad", &[&[3, 20, 8]], vec![ints(&[10, 9])], vec![("axes", Attr::Ints(vec![-2, -1]))]);
        assert_eq!(ops, ["Slice", "Pad"]);
    }

    #[test]
    fn center_crop_pad_crops_and_pads_around_the_centre() {
        let x = Value::Float(ArrayD::from_shape_vec(IxDyn(&[5]), vec![1.0, 2.0, 3.0, 4.0, 5.0]).unwrap());
        let n = Node {
            name: "n".into(),
            op: "CenterCropPad".into(),
            domain: String::new(),
            attrs: Default::default(),
            inputs: vec![Some(0), Some(1)],
            outputs: vec![2],
        };
        let run = |s: i64| eval_center_crop_pad(&Graph::default(), &n, &[Some(&x), Some(&ints(&[s]))]).unwrap().remove(0).to_f32();
        assert_eq!(run(2).as_slice().unwrap(), [2.0, 3.0]);
        assert_eq!(run(8).as_slice().unwrap(), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 0.0, 0.0]);
    }

    #[test]
    fn eye_like_puts_ones_on_diagonal_k() {
        let mut n = Node {
            name: "n".into(),
            op: "EyeLike".into(),
            domain: String::new(),
            attrs: [("k".to_string(), Attr::Int(1))].into(),
            inputs: vec![Some(0)],
            outputs: vec![1],
        };
        let y = eye_like(&n, &[2, 3], false).unwrap();
        assert_eq!(y, Value::Int(ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![0, 1, 0, 0, 0, 1]).unwrap()));
        n.attrs.insert("dtype".into(), Attr::Int(1));
        assert!(eye_like(&n, &[2, 3], false).unwrap().is_float());
        assert!(eye_like(&n, &[2], false).unwrap_err().contains("2-D"));
    }
}
