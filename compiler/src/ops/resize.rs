//! `Resize(X, roi?, scales?, sizes?)` and `Upsample(X, scales)`: each resized axis `a`
//! (`axes`, default all) of length `L` becomes `O = ⌊L · scale⌋` (from `scales`) or `sizes[a]`
//! (with `keep_aspect_ratio_policy` `stretch`, `not_larger`, `not_smaller`: one scale for all
//! resized axes, `O = ⌊scale · L + ½⌋`). Output `o` reads the input coordinate `x` given by
//! `coordinate_transformation_mode` (`half_pixel` (default), `half_pixel_symmetric`,
//! `pytorch_half_pixel`, `align_corners`, `asymmetric`, `tf_half_pixel_for_nn`,
//! `tf_crop_and_resize`: `x = start · (L − 1) + o · (end − start) · (L − 1) / (O − 1)` over the
//! region `[start, end]` of `roi`, `extrapolation_value` where `x` falls outside `[0, L − 1]`)
//! and mixes the neighbours of `x` (edge values beyond the ends) with weights of `mode`: `nearest`
//! (`nearest_mode` `round_prefer_floor` (default), `round_prefer_ceil`, `floor`, `ceil`),
//! `linear` (`1 − r`, `r`), `cubic` (Keys' kernel with `cubic_coeff_a`, default −0.75; with
//! `exclude_outside`, weights outside the input are dropped and the rest renormalized), as the
//! ONNX reference computes it, axis by axis. Resize before opset 11 and Upsample: `asymmetric`
//! coordinates, `nearest` rounds down.
//!
//! So each axis is a constant linear map `y = W·x` (`W` is `O × L`): the float semantics
//! apply the maps in turn, and the expansion ([`crate::passes::expand_ops`]) lowers each:
//! `nearest` (one 1 per row) as `Gather` with constant indices; `linear`/`cubic` as `MatMul` by
//! the constant `Wᵀ` (a Dense) on the axis moved last by `Transpose` (and back). With
//! `antialias = 1` (linear, cubic) the kernel is stretched by `1/scale` when downsampling
//! (more neighbours per output, weights normalized to sum 1), as in the reference. `scales`,
//! `sizes` and `roi` must be constants. The outputs of `tf_crop_and_resize` outside the input
//! are the first and last ones of the axis (`x` is monotone in `o`): the map covers the others
//! and a constant `Pad` adds `extrapolation_value` around them. The axes are resized in turn, so
//! an output outside the input on any axis is `extrapolation_value` (a mix of such values
//! only, weights summing to 1), as in the reference.

use ndarray::{Array2, IxDyn};

use super::{OpDef, R, input};
use crate::{
    float::norm_axis,
    ir::{Attr, Graph, Node, Tid, Value},
    passes::expand_ops::{Expansion, lower_expanded},
};

pub(crate) const OPS: &[OpDef] = &[OpDef::new("", "Resize", eval, lower_expanded), OpDef::new("", "Upsample", eval, lower_expanded)];

/// The interpolation of one axis: for each output, `(input index, weight)` pairs, or `None` for
/// an output outside the input (`tf_crop_and_resize`: `extrapolation_value`).
type AxisMap = Vec<Option<Vec<(usize, f64)>>>;

/// The attributes that shape the weights.
struct Mode {
    kind: String,
    coordinates: String,
    nearest: String,
    cubic_a: f64,
    exclude_outside: bool,
    antialias: bool,
    /// `extrapolation_value`, the outputs of `tf_crop_and_resize` outside the input.
    extrapolation: f64,
}

impl Mode {
    fn parse(n: &Node, opset: i64) -> R<Mode> {
        let legacy = n.op == "Upsample" || opset < 11;
        let kind = n.str("mode", "nearest");
        let kind = if kind == "bilinear" && n.op == "Upsample" { "linear".to_string() } else { kind };
        if !matches!(kind.as_str(), "nearest" | "linear" | "cubic") || (legacy && kind == "cubic") {
            return Err(format!("{} mode `{kind}` is not supported", n.op));
        }
        let coordinates = if legacy { "asymmetric".into() } else { n.str("coordinate_transformation_mode", "half_pixel") };
        let known = [
            "half_pixel",
            "half_pixel_symmetric",
            "pytorch_half_pixel",
            "align_corners",
            "asymmetric",
            "tf_half_pixel_for_nn",
            "tf_crop_and_resize",
        ];
        if !known.contains(&coordinates.as_str()) {
            return Err(format!("Resize coordinate_transformation_mode `{coordinates}` is not supported"));
        }
        let nearest = if legacy { "floor".into() } else { n.str("nearest_mode", "round_prefer_floor") };
        if !matches!(nearest.as_str(), "round_prefer_floor" | "round_prefer_ceil" | "floor" | "ceil") {
            return Err(format!("Resize nearest_mode `{nearest}` is not supported"));
        }
        let antialias = n.int("antialias", 0) != 0;
        if antialias && kind == "nearest" {
            return Err("Resize with antialias = 1 in mode `nearest` is not supported (ONNX defines it for linear and cubic)".into());
        }
        Ok(Mode {
            kind,
            coordinates,
            nearest,
            cubic_a: n.float("cubic_coeff_a", -0.75) as f64,
            exclude_outside: n.int("exclude_outside", 0) != 0,
            antialias,
            extrapolation: n.float("extrapolation_value", 0.0) as f64,
        })
    }

    /// The weights of the neighbours at `ratio` (in `(0, 1]`, 1 on a grid point) for an axis
    /// resized by `scale`.
    fn coeffs(&self, ratio: f64, scale: f64) -> Vec<f64> {
        let on_grid = ratio == 1.0;
        if self.antialias {
            // the kernel stretched by 1/scale when downsampling, normalized to sum 1
            let s = scale.min(1.0);
            let a = self.cubic_a;
            let (start, kernel): (i64, Box<dyn Fn(f64) -> f64>) = if self.kind == "linear" {
                ((-1.0 / s).floor() as i64 + 1, Box::new(|t: f64| (1.0 - t.abs()).clamp(0.0, 1.0)))
            } else {
                let k = move |t: f64| {
                    let t = t.abs();
                    if t <= 1.0 {
                        ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0
                    } else if t < 2.0 {
                        ((a * t - 5.0 * a) * t + 8.0 * a) * t - 4.0 * a
                    } else {
                        0.0
                    }
                };
                ((-2.0 / s).floor() as i64 + 1, Box::new(k))
            };
            let c: Vec<f64> = (start..2 - start).map(|i| kernel(s * (i as f64 - ratio))).collect();
            let sum: f64 = c.iter().sum();
            return c.into_iter().map(|v| v / sum).collect();
        }
        match self.kind.as_str() {
            "nearest" => {
                let up = on_grid
                    || match self.nearest.as_str() {
                        "round_prefer_floor" => ratio > 0.5,
                        "round_prefer_ceil" => ratio >= 0.5,
                        "floor" => false,
                        _ => true,
                    };
                vec![(!up) as u8 as f64, up as u8 as f64]
            }
            "linear" => vec![1.0 - ratio, ratio],
            _ => {
                let (a, r) = (self.cubic_a, ratio);
                let far = |t: f64| ((a * t - 5.0 * a) * t + 8.0 * a) * t - 4.0 * a;
                let near = |t: f64| ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0;
                vec![far(r + 1.0), near(r), near(1.0 - r), far(2.0 - r)]
            }
        }
    }

    /// The map of an axis of length `len` resized to `out` with `scale` (`roi`: the region
    /// `(start, end)` of `tf_crop_and_resize`).
    fn axis_map(&self, len: usize, out: usize, scale: f64, (start, end): (f64, f64)) -> AxisMap {
        let (l, o) = (len as f64, out as f64);
        let output_width = scale * l;
        (0..out)
            .map(|i| {
                let x = i as f64;
                let xo = match self.coordinates.as_str() {
                    "align_corners" if output_width == 1.0 => 0.0,
                    "align_corners" => x * (l - 1.0) / (output_width - 1.0),
                    "asymmetric" => x / scale,
                    "pytorch_half_pixel" if output_width == 1.0 => -0.5,
                    "half_pixel_symmetric" => {
                        let offset = l / 2.0 * (1.0 - o / output_width);
                        offset + (x + 0.5) / scale - 0.5
                    }
                    "tf_half_pixel_for_nn" => (x + 0.5) / scale,
                    "tf_crop_and_resize" => {
                        let xo = if output_width == 1.0 {
                            (end - start) * (l - 1.0) / 2.0
                        } else {
                            x * (end - start) * (l - 1.0) / (output_width - 1.0)
                        };
                        xo + start * (l - 1.0)
                    }
                    _ => (x + 0.5) / scale - 0.5,
                };
                if self.coordinates == "tf_crop_and_resize" && !(0.0..=l - 1.0).contains(&xo) {
                    return None;
                }
                let ratio = if xo.fract() == 0.0 { 1.0 } else { xo - xo.floor() };
                let mut c = self.coeffs(ratio, scale);
                let idx = neighbours(xo, c.len(), len);
                if self.exclude_outside {
                    for (w, &k) in c.iter_mut().zip(&idx) {
                        if k < 0 || k >= len as i64 {
                            *w = 0.0;
                        }
                    }
                    let s: f64 = c.iter().sum();
                    c.iter_mut().for_each(|w| *w /= s);
                }
                let mut row: Vec<(usize, f64)> = vec![];
                for (w, k) in c.into_iter().zip(idx) {
                    let k = k.clamp(0, len as i64 - 1) as usize;
                    match row.iter_mut().find(|(j, _)| *j == k) {
                        Some(e) => e.1 += w,
                        None => row.push((k, w)),
                    }
                }
                row.retain(|&(_, w)| w != 0.0);
                Some(row)
            })
            .collect()
    }
}

/// The `n` indices nearest `x` (ties: the smaller) in the input padded by `⌈n/2⌉` edge
/// values at each end, in ascending order, as indices of the unpadded input (so possibly
/// negative or past the end), as the ONNX reference picks them.
fn neighbours(x: f64, n: usize, len: usize) -> Vec<i64> {
    let pad = n.div_ceil(2) as i64;
    let (xp, limit) = (x + pad as f64, len as i64 + 2 * pad);
    let f = xp.floor() as i64;
    let mut cand: Vec<i64> = (f - n as i64..=f + n as i64 + 1).filter(|&i| i >= 0 && i < limit).collect();
    cand.sort_by(|&a, &b| (xp - a as f64).abs().total_cmp(&(xp - b as f64).abs()).then(a.cmp(&b)));
    cand.truncate(n);
    cand.sort_unstable();
    cand.into_iter().map(|i| i - pad).collect()
}

/// The resize of node `n` under `opset` on an input of `shape`, with constant `scales`,
/// `sizes`, `roi`: the map of each axis (`None`: unchanged).
fn plan(n: &Node, opset: i64, shape: &[usize], [scales, sizes, roi]: [Option<&Value>; 3]) -> R<(Mode, Vec<Option<AxisMap>>)> {
    let mode = Mode::parse(n, opset)?;
    let rank = shape.len();
    let axes: Vec<usize> = match n.ints("axes") {
        Some(a) => a.iter().map(|&a| norm_axis(a, rank)).collect::<R<_>>()?,
        None => (0..rank).collect(),
    };
    let scales: Option<Vec<f64>> = match (n.op.as_str(), scales) {
        ("Upsample", None) => n.floats("scales").map(|v| v.iter().map(|&s| s as f64).collect()),
        (_, s) => s.map(|v| v.to_f32().iter().map(|&s| s as f64).collect()),
    };
    let sizes: Option<Vec<i64>> = sizes.map(|v| v.to_i64().iter().copied().collect()).filter(|v: &Vec<i64>| !v.is_empty());
    let (mut scale, mut out): (Vec<f64>, Vec<usize>) = ((0..rank).map(|_| 1.0).collect(), shape.to_vec());
    if let Some(sz) = sizes {
        if sz.len() != axes.len() {
            return Err(format!("{} sizes of {} values for {} axes", n.op, sz.len(), axes.len()));
        }
        for (&a, &s) in axes.iter().zip(&sz) {
            out[a] = usize::try_from(s).map_err(|_| format!("{} size {s} is negative", n.op))?;
            scale[a] = out[a] as f64 / shape[a] as f64;
        }
        let policy = n.str("keep_aspect_ratio_policy", "stretch");
        let pick = match policy.as_str() {
            "stretch" => None,
            "not_larger" => Some(axes.iter().map(|&a| scale[a]).fold(f64::INFINITY, f64::min)),
            "not_smaller" => Some(axes.iter().map(|&a| scale[a]).fold(0.0, f64::max)),
            p => return Err(format!("Resize keep_aspect_ratio_policy `{p}` is not supported")),
        };
        if let Some(s) = pick {
            for &a in &axes {
                scale[a] = s;
                out[a] = (s * shape[a] as f64 + 0.5) as usize;
            }
        }
    } else {
        let sc = scales.filter(|s| !s.is_empty()).ok_or_else(|| format!("{} needs `scales` or `sizes`", n.op))?;
        if sc.len() != axes.len() {
            return Err(format!("{} scales of {} values for {} axes", n.op, sc.len(), axes.len()));
        }
        for (&a, &s) in axes.iter().zip(&sc) {
            if !(s.is_finite() && s > 0.0) {
                return Err(format!("{} scale {s} is not a positive number", n.op));
            }
            scale[a] = s;
            out[a] = (shape[a] as f64 * s) as usize;
        }
    }
    super::check_elements(&out, "the Resize output")?;
    // tf_crop_and_resize: the region of each axis, `[0, 1]` (the whole axis) unless `roi` says
    let mut region = vec![(0.0, 1.0); rank];
    if mode.coordinates == "tf_crop_and_resize" {
        let roi: Vec<f64> = roi.map(|v| v.to_f32().iter().map(|&r| r as f64).collect()).unwrap_or_default();
        if roi.len() != 2 * axes.len() {
            return Err(format!(
                "Resize tf_crop_and_resize needs a `roi` of {} values (a start and an end per axis), got {}",
                2 * axes.len(),
                roi.len()
            ));
        }
        for (i, &a) in axes.iter().enumerate() {
            region[a] = (roi[i], roi[axes.len() + i]);
        }
    }
    let maps = (0..rank)
        .map(|a| {
            let m = mode.axis_map(shape[a], out[a], scale[a], region[a]);
            let identity = out[a] == shape[a] && m.iter().enumerate().all(|(i, r)| r.as_deref() == Some(&[(i, 1.0)]));
            (!identity).then_some(m)
        })
        .collect();
    Ok((mode, maps))
}

/// The outputs of axis map `m` outside the input, at its start and at its end: `(before,
/// after)`. An error when some are elsewhere (not the case for a monotone coordinate) or when
/// every output is outside (a constant).
fn outside(m: &AxisMap) -> R<(usize, usize)> {
    let before = m.iter().take_while(|r| r.is_none()).count();
    let after = m[before..].iter().rev().take_while(|r| r.is_none()).count();
    if before == m.len() {
        return Err("Resize tf_crop_and_resize: every output of an axis lies outside the input (the constant extrapolation_value), which is not supported".into());
    }
    if m[before..m.len() - after].iter().any(|r| r.is_none()) {
        return Err("Resize tf_crop_and_resize: outputs outside the input between inside ones".into());
    }
    Ok((before, after))
}

/// The constant inputs `scales`, `sizes` and `roi` of node `n`, by opset (`Upsample`: input 1
/// or the attribute; Resize 10: input 1; Resize 11+: inputs 2, 3 and 1).
fn operand_indices(n: &Node, opset: i64) -> [Option<usize>; 3] {
    if n.op == "Upsample" || opset < 11 { [Some(1), None, None] } else { [Some(2), Some(3), Some(1)] }
}

/// The names of the operands of [`operand_indices`].
const OPERANDS: [&str; 3] = ["scales", "sizes", "roi"];

/// `W` of an axis map, `O × L` (a zero row for an output outside the input).
fn matrix(m: &[Option<Vec<(usize, f64)>>], len: usize) -> Array2<f32> {
    let mut w = Array2::zeros((m.len(), len));
    for (o, row) in m.iter().enumerate() {
        for &(i, v) in row.iter().flatten() {
            w[[o, i]] += v as f32;
        }
    }
    w
}

/// Whether tensor `t` of `g` is computed from a graph input (its value known only at run time).
fn from_input(g: &Graph, t: Tid) -> bool {
    let mut todo = vec![t];
    let mut seen = std::collections::HashSet::new();
    while let Some(t) = todo.pop() {
        if g.inputs.contains(&t) {
            return true;
        }
        if !seen.insert(t) || g.is_const(t) {
            continue;
        }
        if let Some(p) = g.nodes.iter().find(|p| p.outputs.contains(&t)) {
            todo.extend(p.inputs.iter().flatten().copied());
        }
    }
    false
}

fn eval(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?.to_f32();
    let idx = operand_indices(n, g.opset);
    let get = |i: Option<usize>| i.and_then(|i| ins.get(i).copied().flatten());
    let (mode, maps) = plan(n, g.opset, x.shape(), idx.map(get)).map_err(|e| {
        // shape inference runs the graph on zeros: a parameter that comes from a graph input
        // is one the compiler needs constant, whatever its value
        let run_time = idx.iter().zip(OPERANDS).find_map(|(i, what)| {
            let t = i.and_then(|i| n.input(i)).filter(|&t| !g.is_const(t) && from_input(g, t))?;
            Some(format!("the {} {what} must be constant, but `{}` is computed at run time", n.op, g.name(t)))
        });
        run_time.map_or(e.clone(), |r| format!("{e}: {r}"))
    })?;
    let mut y = x;
    for (a, m) in maps.iter().enumerate() {
        let Some(m) = m else { continue };
        let w = matrix(m, y.shape()[a]);
        let mut shape = y.shape().to_vec();
        shape[a] = m.len();
        super::check_elements(&shape, "the Resize output")?;
        super::check_work(&[shape.iter().product(), y.shape()[a]], "Resize")?;
        let moved = y.view().permuted_axes(move_last(shape.len(), a)).as_standard_layout().to_owned();
        let rows = moved.len() / w.ncols().max(1);
        let flat = moved.into_shape_with_order((rows, w.ncols())).map_err(|e| e.to_string())?;
        let mut r = flat.dot(&w.t());
        for (o, row) in m.iter().enumerate() {
            if row.is_none() {
                r.column_mut(o).fill(mode.extrapolation as f32);
            }
        }
        let mut ms: Vec<usize> = (0..shape.len()).filter(|&d| d != a).map(|d| shape[d]).collect();
        ms.push(m.len());
        let r = r.into_shape_with_order(IxDyn(&ms)).map_err(|e| e.to_string())?;
        y = r.view().permuted_axes(move_back(shape.len(), a)).as_standard_layout().to_owned();
    }
    Ok(vec![Value::Float(y)])
}

/// The permutation moving axis `a` last, and its inverse.
fn move_last(rank: usize, a: usize) -> Vec<usize> {
    let mut p: Vec<usize> = (0..rank).filter(|&d| d != a).collect();
    p.push(a);
    p
}

fn move_back(rank: usize, a: usize) -> Vec<usize> {
    let p = move_last(rank, a);
    let mut inv = vec![0; rank];
    for (i, &d) in p.iter().enumerate() {
        inv[d] = i;
    }
    inv
}

/// Resize, Upsample: per resized axis, a Gather (nearest) or a MatMul by `Wᵀ` on the axis moved
/// last.
pub(crate) fn expand(e: &mut Expansion<'_>, n: &Node) -> R<Tid> {
    let x = n.input(0).ok_or("input 0 missing")?;
    let opset = e.g.opset;
    let mut consts = vec![];
    for (i, what) in operand_indices(n, opset).into_iter().zip(OPERANDS) {
        match i.and_then(|i| n.input(i)) {
            // roi matters to tf_crop_and_resize only
            Some(_) if what == "roi" && n.str("coordinate_transformation_mode", "half_pixel") != "tf_crop_and_resize" => consts.push(None),
            Some(t) if !e.g.is_const(t) => {
                return Err(format!("the {} {what} must be constant, but `{}` is computed at run time", n.op, e.g.name(t)));
            }
            t => consts.push(t.map(|t| e.g.consts[&t].clone())),
        }
    }
    let shape = e.shape(x);
    let (mode, maps) = plan(n, opset, &shape, [0, 1, 2].map(|i| consts[i].as_ref()))?;
    let mut y = x;
    let mut cur = shape.clone();
    let rank = cur.len();
    for (a, m) in maps.iter().enumerate() {
        let Some(m) = m else { continue };
        let (before, after) = outside(m)?;
        let inside: Vec<&Vec<(usize, f64)>> = m[before..m.len() - after].iter().flatten().collect();
        // the outputs outside the input: extrapolation_value padded along `axis`
        let pad = |e: &mut Expansion<'_>, y: Tid, axis: usize| -> Tid {
            if before + after == 0 {
                return y;
            }
            let mut pads = vec![0i64; 2 * rank];
            (pads[axis], pads[rank + axis]) = (before as i64, after as i64);
            let (pads, value) = (e.ints(&pads), e.scalar(mode.extrapolation as f32));
            e.op("Pad", &[y, pads, value], vec![])
        };
        if inside.iter().all(|r| r.len() == 1 && r[0].1 == 1.0) {
            let idx = e.ints(&inside.iter().map(|r| r[0].0 as i64).collect::<Vec<_>>());
            let gathered = e.op("Gather", &[y, idx], vec![("axis", Attr::Int(a as i64))]);
            y = pad(e, gathered, a);
        } else {
            let rows: Vec<Option<Vec<(usize, f64)>>> = inside.into_iter().map(|r| Some(r.clone())).collect();
            let wt = matrix(&rows, cur[a]).t().as_standard_layout().to_owned();
            let (rows, cols) = wt.dim();
            let w = e.floats(&[rows, cols], wt.into_raw_vec_and_offset().0)?;
            let t = e.transpose(y, &move_last(rank, a));
            let r = e.op("MatMul", &[t, w], vec![]);
            let r = pad(e, r, rank - 1);
            y = e.transpose(r, &move_back(rank, a));
        }
        cur[a] = m.len();
    }
    Ok(y)
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, Axis};

    use super::*;
    use crate::passes::expand_ops::tests::expands;

    fn floats(v: &[f32]) -> Value {
        Value::Float(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v.to_vec()).unwrap())
    }

    fn node(attrs: Vec<(&str, Attr)>) -> Node {
        crate::passes::testutil::detached_node("Resize", &attrs)
    }

    /// The ONNX reference's outputs for `test_resize_upsample_scales_linear` and
    /// `test_resize_upsample_scales_nearest` (onnx 1.19 node tests).
    #[test]
    fn resize_matches_the_onnx_examples() {
        let g = Graph { opset: 19, ..Default::default() };
        let x = Value::Float(ArrayD::from_shape_vec(IxDyn(&[1, 1, 2, 2]), vec![1.0, 2.0, 3.0, 4.0]).unwrap());
        let s = floats(&[1.0, 1.0, 2.0, 2.0]);
        let n = node(vec![("mode", Attr::Str("linear".into()))]);
        let y = eval(&g, &n, &[Some(&x), None, Some(&s)]).unwrap().remove(0).to_f32();
        let want = [1.0, 1.25, 1.75, 2.0, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3.0, 3.25, 3.75, 4.0];
        assert_eq!(y.as_slice().unwrap(), want);
        let s = floats(&[1.0, 1.0, 2.0, 3.0]);
        let y = eval(&g, &node(vec![]), &[Some(&x), None, Some(&s)]).unwrap().remove(0).to_f32();
        assert_eq!(y.shape(), [1, 1, 4, 6]);
        assert_eq!(y.index_axis(Axis(2), 1).iter().copied().collect::<Vec<_>>(), [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
    }

    /// The ONNX reference's outputs for `test_resize_tf_crop_and_resize` and
    /// `test_resize_tf_crop_and_resize_extrapolation_value` (onnx 1.19 node tests), and the
    /// expansion: per axis a MatMul on the outputs inside the input, a Pad of the others.
    #[test]
    fn tf_crop_and_resize_matches_the_onnx_examples() {
        let g = Graph { opset: 19, ..Default::default() };
        let x = Value::Float(ArrayD::from_shape_vec(IxDyn(&[1, 1, 4, 4]), (1..=16).map(|v| v as f32).collect()).unwrap());
        let sizes = Value::Int(ArrayD::from_shape_vec(IxDyn(&[4]), vec![1, 1, 3, 3]).unwrap());
        let attrs = |e: f32| {
            vec![
                ("mode", Attr::Str("linear".into())),
                ("coordinate_transformation_mode", Attr::Str("tf_crop_and_resize".into())),
                ("extrapolation_value", Attr::Float(e)),
            ]
        };
        let close = |y: &ArrayD<f32>, want: &[f32]| y.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-5);
        let roi = floats(&[0.0, 0.0, 0.4, 0.6, 1.0, 1.0, 0.6, 0.8]);
        let y = eval(&g, &node(attrs(0.0)), &[Some(&x), Some(&roi), None, Some(&sizes)]).unwrap().remove(0).to_f32();
        assert_eq!(y.shape(), [1, 1, 3, 3]);
        assert!(close(&y, &[7.6, 7.9, 8.2, 8.8, 9.1, 9.4, 10.0, 10.3, 10.6]), "{y:?}");
        // a region reaching past the input: extrapolation_value there
        let roi = floats(&[0.0, 0.0, 0.4, 0.6, 1.0, 1.0, 1.2, 1.7]);
        let y = eval(&g, &node(attrs(10.0)), &[Some(&x), Some(&roi), None, Some(&sizes)]).unwrap().remove(0).to_f32();
        assert!(close(&y, &[7.6, 10.0, 10.0, 12.4, 10.0, 10.0, 10.0, 10.0, 10.0]), "{y:?}");
        let inputs = vec![roi, Value::Float(ArrayD::zeros(IxDyn(&[0]))), sizes];
        let ops = expands("Resize", &[&[1, 1, 4, 4]], inputs, attrs(10.0));
        assert_eq!(ops, ["Transpose", "MatMul", "Pad", "Transpose", "MatMul", "Pad"]);
        // the roi must give a start and an end per resized axis
        let short = floats(&[0.0, 1.0]);
        let e = eval(&g, &node(attrs(0.0)), &[Some(&x), Some(&short), None, Some(&floats(&[1.0, 1.0, 2.0, 2.0]))]).unwrap_err();
        assert!(e.contains("a `roi` of 8 values"), "{e}");
    }

    /// Shape inference runs the graph on zeros: scales that come from a graph input are named as
    /// a parameter the compiler needs constant, not as a bad value.
    #[test]
    fn run_time_scales_are_named() {
        let mut g = crate::passes::testutil::graph(&[("x", &[1, 1, 2, 2]), ("scales", &[4])]);
        let y = crate::passes::testutil::node_n(&mut g, "Resize", &[Some(0), None, Some(1)], 1, vec![])[0];
        let e = crate::calibrate::infer_shapes(&mut g).unwrap_err().to_string();
        assert!(e.contains("the Resize scales must be constant, but `scales` is computed at run time"), "{e}");
        assert!(g.tensors[y].shape.is_none());
    }

    #[test]
    fn neighbours_follow_the_reference() {
        assert_eq!(neighbours(4.0, 2, 10), [3, 4]);
        assert_eq!(neighbours(4.4, 4, 10), [3, 4, 5, 6]);
        assert_eq!(neighbours(-0.25, 2, 10), [-1, 0]);
        // antialiased linear at scale ½: a tent twice as wide, normalized
        let m = Mode {
            kind: "linear".into(),
            coordinates: "half_pixel".into(),
            nearest: String::new(),
            cubic_a: -0.75,
            exclude_outside: false,
            antialias: true,
            extrapolation: 0.0,
        };
        assert_eq!(m.coeffs(0.5, 0.5), [0.125, 0.375, 0.375, 0.125]);
    }

    #[test]
    fn resize_expands_to_gathers_and_dense_maps() {
        let s = || vec![floats(&[1.0, 1.0, 2.0, 3.0])];
        let roi = Value::Float(ArrayD::zeros(IxDyn(&[0])));
        let inputs = |s: Vec<Value>| [vec![roi.clone()], s].concat();
        assert_eq!(expands("Resize", &[&[1, 2, 3, 4]], inputs(s()), vec![]), ["Gather", "Gather"]);
        let ops = expands("Resize", &[&[1, 2, 3, 4]], inputs(s()), vec![("mode", Attr::Str("cubic".into()))]);
        assert_eq!(ops, ["Transpose", "MatMul", "Transpose", "MatMul"]);
        let sizes = Value::Int(ArrayD::from_shape_vec(IxDyn(&[2]), vec![5, 7]).unwrap());
        let attrs = vec![
            ("mode", Attr::Str("linear".into())),
            ("axes", Attr::Ints(vec![3, 2])),
            ("coordinate_transformation_mode", Attr::Str("align_corners".into())),
        ];
        let ops = expands("Resize", &[&[1, 2, 3, 4]], vec![roi.clone(), Value::Float(ArrayD::zeros(IxDyn(&[0]))), sizes], attrs);
        assert_eq!(ops, ["Transpose", "MatMul", "Transpose", "MatMul"]);
    }
}
