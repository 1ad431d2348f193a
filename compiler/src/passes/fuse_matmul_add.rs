//! MatMul by a constant matrix followed by Add of a constant vector becomes one Gemm-like
//! node (a MatMul with a bias input), so the bias is folded into the int32 accumulator
//! instead of costing a separate requantized Add.

use crate::ir::Graph;

/// Apply the pass (see the module docs) to `g`; returns whether it changed the graph.
pub fn run(g: &mut Graph) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i < g.nodes.len() {
        let n = &g.nodes[i];
        if !(n.op == "Add" && n.domain.is_empty() && n.inputs.len() == 2) {
            i += 1;
            continue;
        }
        let (a, b) = (n.input(0).unwrap(), n.input(1).unwrap());
        let (x, bias) = if g.is_const(b) {
            (a, b)
        } else if g.is_const(a) {
            (b, a)
        } else {
            (usize::MAX, 0)
        };
        let producer = g.nodes.iter().position(|p| {
            p.outputs.first() == Some(&x)
                && p.op == "MatMul"
                && p.domain.is_empty()
                && p.inputs.len() == 2
                && p.input(1).is_some_and(|w| g.is_const(w) && g.shape(w).len() == 2)
        });
        let Some(j) = producer else {
            i += 1;
            continue;
        };
        let w = g.nodes[j].input(1).unwrap();
        let n_out = g.shape(w)[1];
        let bshape = g.shape(bias).to_vec();
        let bias_is_vector =
            bshape.iter().product::<usize>() == n_out && bshape.last() == Some(&n_out) || bshape.iter().product::<usize>() == 1;
        if !bias_is_vector || g.consumers().get(&x) != Some(&1) || g.outputs.contains(&x) || g.nodes[j].attrs.contains_key("solidml.clamp")
        {
            i += 1;
            continue;
        }
        let out = g.nodes[i].outputs[0];
        let p = &mut g.nodes[j];
        p.inputs.push(Some(bias));
        p.outputs[0] = out;
        g.nodes.remove(i);
        changed = true;
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testutil::*;

    #[test]
    fn fuses_bias() {
        let mut g = graph(&[("x", &[2, 4])]);
        let w = constant(&mut g, "w", &[4, 3], (0..12).map(|i| i as f32 * 0.1 - 0.5).collect());
        let y = node(&mut g, "MatMul", &[0, w], vec![]);
        let b = constant(&mut g, "b", &[3], vec![0.5, -1.0, 2.0]);
        let z = node(&mut g, "Add", &[b, y], vec![]);
        output(&mut g, z);
        let (g, changed) = check_preserves(g, run);
        assert!(changed);
        assert_eq!(g.nodes.len(), 1);
    }
}
