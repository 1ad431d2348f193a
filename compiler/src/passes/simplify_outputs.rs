//! Output-side simplifications that make the integer model more faithful, not only smaller:
//!
//! * `ArgMax(Softmax(x))` → `ArgMax(x)` (same axis): softmax is monotonic, and an argmax over
//!   int8 logits ties less often than one over 8-bit probabilities.
//! * `Normalizer(L1)` of a Softmax output (or of LinearClassifier's SOFTMAX scores) is the
//!   identity: those rows are already non-negative and sum to one.

use crate::ir::Graph;

fn producer(g: &Graph, t: usize) -> Option<usize> {
    g.nodes.iter().position(|n| n.outputs.contains(&t))
}

fn is_softmax_rows(g: &Graph, t: usize) -> bool {
    producer(g, t).is_some_and(|j| {
        let p = &g.nodes[j];
        let last = g.shape(t).len() as i64 - 1;
        (p.op == "Softmax" && p.domain.is_empty() && {
            let a = p.int("axis", if g.opset < 13 { 1 } else { -1 });
            a == -1 || a == last
        }) || (p.op == "LinearClassifier" && p.str("post_transform", "NONE") == "SOFTMAX" && p.outputs.get(1) == Some(&t))
    })
}

/// Apply the pass (see the module docs) to `g`; returns whether it changed the graph.
pub fn run(g: &mut Graph) -> bool {
    let mut changed = false;
    for i in 0..g.nodes.len() {
        let n = &g.nodes[i];
        if n.op == "ArgMax" && n.domain.is_empty() {
            let x = n.input(0).unwrap();
            if let Some(j) = producer(g, x) {
                let p = &g.nodes[j];
                let rank = g.shape(x).len() as i64;
                let norm = |a: i64| if a < 0 { a + rank } else { a };
                let sm_axis = p.int("axis", if g.opset < 13 { 1 } else { -1 });
                if p.op == "Softmax"
                    && p.domain.is_empty()
                    && norm(sm_axis) == norm(n.int("axis", 0))
                    && (g.opset >= 13 || norm(sm_axis) == rank - 1)
                {
                    let src = p.input(0).unwrap();
                    g.nodes[i].inputs[0] = Some(src);
                    changed = true;
                }
            }
        }
    }
    let mut i = 0;
    while i < g.nodes.len() {
        let n = &g.nodes[i];
        if n.op == "Normalizer" && n.domain == "ai.onnx.ml" && n.str("norm", "MAX") == "L1" && is_softmax_rows(g, n.input(0).unwrap()) {
            g.bypass(i);
            changed = true;
        } else {
            i += 1;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ir::Attr, passes::testutil::*};

    #[test]
    fn argmax_skips_softmax() {
        let mut g = graph(&[("x", &[3, 5])]);
        let s = node(&mut g, "Softmax", &[0], vec![("axis", Attr::Int(1))]);
        let a = node(&mut g, "ArgMax", &[s], vec![("axis", Attr::Int(1))]);
        output(&mut g, s);
        output(&mut g, a);
        let (g, changed) = check_preserves(g, run);
        assert!(changed);
        assert_eq!(g.nodes[1].inputs[0], Some(0));
    }
}
