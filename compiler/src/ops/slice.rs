//! Slicing views: `Slice` ([`slice_spec`]: `starts`/`ends`/`axes` attributes before opset 10,
//! then constant inputs with `steps`, negative steps included) and `Split` ([`split_sizes`]:
//! sizes from the attribute, the constant input 1, or equal parts).
//!
//! Float semantics on `f32` or `i64` values. Lowering: one spec `View` per output.

use ndarray::{ArrayD, Axis, Slice};

use super::{OpDef, R, input};
use crate::{
    float::{map_value, norm_axis},
    ir::{Graph, Node, Value},
    quantize::{Lowering, row_major},
};

pub(crate) const OPS: &[OpDef] = &[OpDef::new("", "Slice", eval_slice, lower_slice), OpDef::new("", "Split", eval_split, lower_split)];

/// Resolved Slice: per axis (start, length, step).
pub fn slice_spec(n: &Node, ins: &[Option<&Value>], shape: &[usize], opset: i64) -> R<Vec<(i64, usize, i64)>> {
    let rank = shape.len();
    let vals = |i: usize| ins.get(i).copied().flatten().map(|v| v.to_i64().iter().copied().collect::<Vec<_>>());
    let (starts, ends, axes, steps) = if opset < 10 {
        (n.ints("starts").unwrap_or_default(), n.ints("ends").unwrap_or_default(), n.ints("axes"), None)
    } else {
        (vals(1).ok_or("starts missing")?, vals(2).ok_or("ends missing")?, vals(3), vals(4))
    };
    let axes: Vec<i64> = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
    let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
    if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
        return Err(format!(
            "Slice with {} starts, {} ends, {} axes and {} steps (all must be as many)",
            starts.len(),
            ends.len(),
            axes.len(),
            steps.len()
        ));
    }
    let mut spec: Vec<(i64, usize, i64)> = shape.iter().map(|&d| (0, d, 1)).collect();
    for i in 0..starts.len() {
        let a = norm_axis(axes[i], rank)?;
        let d = shape[a] as i64;
        // a step longer than the axis takes at most one element, as `±(d + 1)` does (and
        // keeps the arithmetic below far from overflowing)
        let step = steps[i].clamp(-d - 1, d + 1);
        if step == 0 {
            return Err("slice step 0".into());
        }
        let clamp = |v: i64, lo: i64, hi: i64| v.clamp(lo, hi);
        let fix = |v: i64| if v < 0 { v.saturating_add(d) } else { v };
        let (start, end) = if step > 0 {
            (clamp(fix(starts[i]), 0, d), clamp(fix(ends[i]), 0, d))
        } else {
            (clamp(fix(starts[i]), -1, d - 1), clamp(fix(ends[i]), -1, d - 1))
        };
        let len = if step > 0 { ((end - start).max(0) + step - 1) / step } else { ((start - end).max(0) - step - 1) / -step };
        spec[a] = (start, len as usize, step);
    }
    Ok(spec)
}

fn apply_slice<T: Clone>(a: &ArrayD<T>, spec: &[(i64, usize, i64)]) -> ArrayD<T> {
    let mut v = a.view();
    for (ax, &(start, len, step)) in spec.iter().enumerate() {
        if len == 0 {
            v.slice_axis_inplace(Axis(ax), Slice::from(0..0));
            continue;
        }
        let last = start + (len as i64 - 1) * step;
        let (lo, hi) = if step > 0 { (start, last + 1) } else { (last, start + 1) };
        v.slice_axis_inplace(Axis(ax), Slice::new(lo as isize, Some(hi as isize), step as isize));
    }
    v.to_owned()
}

fn eval_slice(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    for (i, what) in [(1, "the starts"), (2, "the ends"), (3, "the axes"), (4, "the steps")] {
        super::constant_parameter(g, n, i, what)?;
    }
    let v = input(ins, 0)?;
    let spec = slice_spec(n, ins, &v.shape(), g.opset)?;
    Ok(vec![map_value(v, |a| apply_slice(a, &spec), |a| apply_slice(a, &spec))])
}

/// Split sizes along the axis (attribute, input, or equal parts).
pub fn split_sizes(n: &Node, ins: &[Option<&Value>], dim: usize, parts: usize) -> R<Vec<usize>> {
    let given = ins.get(1).copied().flatten().map(|v| v.to_i64().iter().copied().collect::<Vec<_>>()).or_else(|| n.ints("split"));
    match given {
        Some(s) if s.len() != parts => Err(format!("{} split sizes for {parts} outputs", s.len())),
        Some(s) if s.iter().all(|&x| x >= 0) && s.iter().try_fold(0usize, |a, &x| a.checked_add(x as usize)) == Some(dim) => {
            Ok(s.iter().map(|&x| x as usize).collect())
        }
        Some(s) => Err(format!("split sizes {s:?} do not add up to {dim}")),
        None => {
            let k = n.int("num_outputs", parts as i64).max(1) as usize;
            if k != parts.max(1) {
                return Err(format!("Split into {k} parts with {parts} outputs"));
            }
            let chunk = dim.div_ceil(k);
            Ok((0..k).map(|i| chunk.min(dim.saturating_sub(i * chunk))).collect())
        }
    }
}

fn eval_split(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    super::constant_parameter(g, n, 1, "the split sizes")?;
    let v = input(ins, 0)?;
    let s = v.shape();
    let axis = norm_axis(n.int("axis", 0), s.len())?;
    let sizes = split_sizes(n, ins, s[axis], n.outputs.len())?;
    let mut start = 0;
    let mut outs = vec![];
    for len in sizes {
        outs.push(map_value(
            v,
            |a| a.slice_axis(Axis(axis), Slice::from(start..start + len)).to_owned(),
            |a| a.slice_axis(Axis(axis), Slice::from(start..start + len)).to_owned(),
        ));
        start += len;
    }
    Ok(outs)
}

fn lower_slice(l: &mut Lowering<'_>, n: &Node, ins: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let xt = n.input(0).ok_or("input 0 missing")?;
    let x = l.id(xt)?;
    let shape = g.shape(xt).to_vec();
    let spec = slice_spec(n, ins, &shape, g.opset)?;
    let st = row_major(&shape);
    let offset: i64 = spec.iter().zip(&st).map(|(&(s, len, _), &k)| if len == 0 { 0 } else { s * k as i64 }).sum();
    let strides = spec.iter().zip(&st).map(|(&(_, _, step), &k)| step * k as i64).collect();
    l.view(&n.name, x, n.outputs[0], offset as u64, strides);
    Ok(())
}

fn lower_split(l: &mut Lowering<'_>, n: &Node, ins: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let xt = n.input(0).ok_or("input 0 missing")?;
    let x = l.id(xt)?;
    let shape = g.shape(xt).to_vec();
    let axis = norm_axis(n.int("axis", 0), shape.len())?;
    let sizes = split_sizes(n, ins, shape[axis], n.outputs.len())?;
    let st = row_major(&shape);
    let mut start = 0;
    for (k, &o) in n.outputs.iter().enumerate() {
        let strides = st.iter().map(|&s| s as i64).collect();
        l.view(&format!("{}.{k}", n.name), x, o, (start * st[axis]) as u64, strides);
        start += sizes[k];
    }
    Ok(())
}
