//! Dead-node elimination: drop nodes none of whose outputs reach a graph output, and
//! constants nothing reads.

use std::collections::HashSet;

use crate::ir::Graph;

/// Apply the pass (see the module docs) to `g`; returns whether it changed the graph.
pub fn run(g: &mut Graph) -> bool {
    let mut live: HashSet<usize> = g.outputs.iter().copied().collect();
    let mut keep = vec![false; g.nodes.len()];
    for (i, n) in g.nodes.iter().enumerate().rev() {
        if n.outputs.iter().any(|o| live.contains(o)) {
            keep[i] = true;
            live.extend(n.inputs.iter().flatten().copied());
        }
    }
    let before = g.nodes.len();
    let mut i = 0;
    g.nodes.retain(|_| {
        i += 1;
        keep[i - 1]
    });
    g.consts.retain(|t, _| live.contains(t));
    g.nodes.len() != before
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ir::Attr, passes::testutil::*};

    #[test]
    fn removes_unused_branch() {
        let mut g = graph(&[("x", &[1, 4])]);
        let a = node(&mut g, "Relu", &[0], vec![]);
        let _dead = node(&mut g, "Sigmoid", &[0], vec![]);
        let b = node(&mut g, "LeakyRelu", &[a], vec![("alpha", Attr::Float(0.1))]);
        output(&mut g, b);
        let (g, changed) = check_preserves(g, run);
        assert!(changed);
        assert_eq!(g.nodes.len(), 2);
    }
}
