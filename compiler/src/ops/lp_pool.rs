//! `LpPool(x)`: `y = (Σ_window |x|ᵖ)^(1/p)` over each window of `kernel_shape` (`p` an integer
//! ≥ 1, default 2; `strides`, `dilations`, `pads`, `auto_pad`, `ceil_mode` as for the other
//! pools, padding contributing 0), on `x` of shape `[N, C, spatial…]`.
//!
//! Float semantics in `f32` over the shared window walk ([`super::window::for_windows`]).
//! Expanded before calibration ([`crate::passes::expand_ops`]) into `Pow(x, p)` (even `p`) or
//! `Pow(Abs(x), p)` (odd `p`) — Luts —, a depthwise `Conv` (`group = C`) with all-ones weights
//! and the node's window attributes — the window sum, exact in the int32 accumulator — and
//! `Pow(·, 1/p)`, a Lut. Each step rounds to its calibrated int8 range, so small `|x|ᵖ` next
//! to large ones in the same tensor are lost (worse as `p` grows).

use ndarray::{ArrayD, IxDyn};

use super::{OpDef, R, input, window::WindowAttrs};
use crate::{
    ir::{Attr, Graph, Node, Tid, Value},
    passes::expand_ops::{Expansion, lower_expanded},
};

pub(crate) const OPS: &[OpDef] = &[OpDef::new("", "LpPool", eval, lower_expanded)];

/// LpPool's `p` and kernel, checked.
fn attrs(n: &Node, rank: usize) -> R<(i64, Vec<usize>)> {
    let p = n.int("p", 2);
    if p < 1 {
        return Err(format!("LpPool p = {p} is not supported (p must be an integer ≥ 1)"));
    }
    let kernel = n.ints("kernel_shape").ok_or("LpPool needs `kernel_shape`")?;
    if rank < 3 || kernel.len() != rank - 2 || kernel.iter().any(|&k| k < 1 || k > u32::MAX as i64) {
        return Err(format!("LpPool kernel_shape {kernel:?} for an input of rank {rank}"));
    }
    let auto_pad = n.str("auto_pad", "NOTSET");
    if !matches!(auto_pad.as_str(), "NOTSET" | "VALID" | "SAME_UPPER" | "SAME_LOWER") {
        return Err(format!("LpPool auto_pad `{auto_pad}` is not NOTSET, VALID, SAME_UPPER or SAME_LOWER"));
    }
    Ok((p, kernel.iter().map(|&k| k as usize).collect()))
}

fn eval(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?.to_f32();
    let xs = x.shape().to_vec();
    let (p, kernel) = attrs(n, xs.len())?;
    let w = WindowAttrs::parse(n).resolve(&xs[2..], kernel)?;
    let out_sp = super::window::out_shape(&w, &xs[2..])?;
    let mut shape = xs[..2].to_vec();
    shape.extend(&out_sp);
    super::check_elements(&shape, "the LpPool output")?;
    let total: usize = out_sp.iter().product();
    let planes = xs[0] * xs[1];
    super::check_work(&[planes, total, w.kernel.iter().product()], &format!("LpPool {:?} over {xs:?}", w.kernel))?;
    let x = x.as_standard_layout();
    let xd = x.as_slice().ok_or("LpPool input layout")?;
    let in_plane: usize = xs[2..].iter().product();
    let mut out = vec![0f32; planes * total];
    super::window::for_windows(&w, &xs[2..], |o, taps| {
        for pl in 0..planes {
            let s: f32 = taps.iter().map(|&(_, t)| xd[pl * in_plane + t].abs().powi(p as i32)).sum();
            out[pl * total + o] = s.powf(1.0 / p as f32);
        }
    })?;
    Ok(vec![Value::Float(ArrayD::from_shape_vec(IxDyn(&shape), out).map_err(|e| e.to_string())?)])
}

/// LpPool: `|x|ᵖ`, a depthwise all-ones Conv with the window attributes, `^(1/p)`.
pub(crate) fn expand(e: &mut Expansion<'_>, n: &Node) -> R<Tid> {
    let x = n.input(0).ok_or("input 0 missing")?;
    let xs = e.shape(x);
    let (p, kernel) = attrs(n, xs.len())?;
    // the window must fit (checked as the Conv would)
    WindowAttrs::parse(n).resolve(&xs[2..], kernel.clone())?;
    let c = xs[1];
    let mut ws = vec![c, 1];
    ws.extend(&kernel);
    let ones = e.floats(&ws, vec![1.0; ws.iter().product()])?;
    let base = if p % 2 == 0 { x } else { e.op("Abs", &[x], vec![]) };
    let pe = e.scalar(p as f32);
    let powered = if p == 1 { base } else { e.op("Pow", &[base, pe], vec![]) };
    let mut attrs: Vec<(&str, Attr)> =
        vec![("group", Attr::Int(c as i64)), ("kernel_shape", Attr::Ints(kernel.iter().map(|&k| k as i64).collect()))];
    for k in ["strides", "dilations", "pads", "auto_pad", "ceil_mode"] {
        if let Some(a) = n.attr(k) {
            attrs.push((k, a.clone()));
        }
    }
    let sum = e.op("Conv", &[powered, ones], attrs);
    if p == 1 {
        return Ok(sum);
    }
    let root = e.scalar(1.0 / p as f32);
    Ok(e.op("Pow", &[sum, root], vec![]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::expand_ops::tests::expands;

    #[test]
    fn lp_pool_expands_to_powers_around_a_window_sum() {
        let attrs = |p: i64| {
            vec![
                ("kernel_shape", Attr::Ints(vec![2, 2])),
                ("p", Attr::Int(p)),
                ("pads", Attr::Ints(vec![1, 0, 1, 0])),
                ("dilations", Attr::Ints(vec![1, 2])),
            ]
        };
        assert_eq!(expands("LpPool", &[&[1, 3, 5, 6]], vec![], attrs(2)), ["Pow", "Conv", "Pow"]);
        assert_eq!(expands("LpPool", &[&[1, 3, 5, 6]], vec![], attrs(3)), ["Abs", "Pow", "Conv", "Pow"]);
        assert_eq!(expands("LpPool", &[&[1, 3, 5, 6]], vec![], attrs(1)), ["Abs", "Conv"]);
    }

    #[test]
    fn lp_pool_is_the_p_norm_of_each_window() {
        let n = Node {
            name: "p".into(),
            op: "LpPool".into(),
            domain: String::new(),
            attrs: [("kernel_shape".to_string(), Attr::Ints(vec![2])), ("p".to_string(), Attr::Int(2))].into(),
            inputs: vec![],
            outputs: vec![],
        };
        let x = Value::Float(ArrayD::from_shape_vec(IxDyn(&[1, 1, 3]), vec![3.0, -4.0, 0.0]).unwrap());
        let y = eval(&Graph::default(), &n, &[Some(&x)]).unwrap().remove(0).to_f32();
        assert_eq!(y.as_slice().unwrap(), [5.0, 4.0]);
    }
}
