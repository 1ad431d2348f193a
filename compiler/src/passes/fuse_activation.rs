//! Activation fusion: a Relu or Clip (constant bounds) right after a Conv, Gemm or MatMul
//! with constant weights whose output feeds nothing else becomes a clamp of that op (attribute `solidml.clamp` =
//! `[lo, hi]`); in the quantized model it is just the clamp bounds of the epilogue.

use crate::ir::{Attr, Graph};

/// Apply the pass (see the module docs) to `g`; returns whether it changed the graph.
pub fn run(g: &mut Graph) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i < g.nodes.len() {
        let a = &g.nodes[i];
        let bounds = match (a.domain.as_str(), a.op.as_str()) {
            ("", "Relu") => Some((0.0, f32::INFINITY)),
            ("", "Clip") => {
                let c = |k: usize, d: f32| {
                    a.input(k).map(|t| g.consts.get(&t).map(|v| v.to_f32().iter().next().copied().unwrap_or(d))).unwrap_or(Some(d))
                };
                if a.attrs.contains_key("min") || a.attrs.contains_key("max") {
                    Some((a.float("min", f32::NEG_INFINITY), a.float("max", f32::INFINITY)))
                } else {
                    match (c(1, f32::NEG_INFINITY), c(2, f32::INFINITY)) {
                        (Some(lo), Some(hi)) => Some((lo, hi)),
                        _ => None,
                    }
                }
            }
            _ => None,
        };
        let Some((lo, hi)) = bounds else {
            i += 1;
            continue;
        };
        let x = a.input(0).unwrap();
        // only ops whose integer form has an epilogue clamp: constant weights
        let producer = g.nodes.iter().position(|n| {
            n.outputs.first() == Some(&x)
                && n.domain.is_empty()
                && matches!(n.op.as_str(), "Conv" | "ConvTranspose" | "Gemm" | "MatMul")
                && n.input(1).is_some_and(|w| g.is_const(w))
        });
        match producer {
            Some(j) if g.consumers().get(&x) == Some(&1) && !g.outputs.contains(&x) && !g.nodes[j].attrs.contains_key("solidml.clamp") => {
                let out = g.nodes[i].outputs[0];
                let p = &mut g.nodes[j];
                p.attrs.insert("solidml.clamp".into(), Attr::Floats(vec![lo, hi]));
                p.outputs[0] = out;
                g.nodes.remove(i);
                changed = true;
            }
            _ => i += 1,
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testutil::*;

    #[test]
    fn fuses_relu_and_clip() {
        let mut g = graph(&[("x", &[2, 4])]);
        let w = constant(&mut g, "w", &[4, 3], (0..12).map(|i| i as f32 * 0.1 - 0.5).collect());
        let y = node(&mut g, "Gemm", &[0, w], vec![]);
        let r = node(&mut g, "Relu", &[y], vec![]);
        let w2 = constant(&mut g, "w2", &[3, 3], (0..9).map(|i| i as f32 * 0.2 - 0.7).collect());
        let z = node(&mut g, "MatMul", &[r, w2], vec![]);
        let c = node(&mut g, "Clip", &[z], vec![("min", Attr::Float(-0.1)), ("max", Attr::Float(0.2))]);
        output(&mut g, c);
        let (g, changed) = check_preserves(g, run);
        assert!(changed);
        assert_eq!(g.nodes.len(), 2);
    }
}
