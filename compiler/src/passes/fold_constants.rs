//! Constant folding: a node whose inputs are all constants (or a `Shape`/`Size` of a tensor
//! whose static shape is known) is evaluated once with the float interpreter and replaced by
//! its value. Covers Constant, ConstantOfShape, Shape → Gather → Concat → Reshape chains and
//! Cast chains, and weights that reach an op through Transpose or Reshape.

use crate::{
    error::{CompileError, Result},
    float,
    ir::{Graph, Value},
};

/// Apply the pass (see the module docs) to `g`; returns whether it changed the graph, or why
/// the graph cannot be handled.
pub fn run(g: &mut Graph) -> Result<bool> {
    let mut changed = false;
    let mut i = 0;
    while i < g.nodes.len() {
        let n = &g.nodes[i];
        let shape_of_known =
            matches!(n.op.as_str(), "Shape" | "Size") && n.domain.is_empty() && n.input(0).is_some_and(|t| g.tensors[t].shape.is_some());
        let all_const = n.inputs.iter().flatten().all(|t| g.is_const(*t)) && !n.inputs.is_empty();
        if !(all_const || shape_of_known) || n.domain == "ai.onnx.ml" && n.op != "ArrayFeatureExtractor" {
            i += 1;
            continue;
        }
        let vals: Vec<Option<Value>> = n
            .inputs
            .iter()
            .map(|t| {
                t.map(|t| match g.consts.get(&t) {
                    Some(v) => v.clone(),
                    // Shape/Size need only the shape: a zero tensor of it stands in
                    None => Value::Float(ndarray::ArrayD::zeros(ndarray::IxDyn(g.shape(t)))),
                })
            })
            .collect();
        let refs: Vec<Option<&Value>> = vals.iter().map(|v| v.as_ref()).collect();
        let outs = float::eval_node(g, n, &refs).map_err(|e| CompileError::node(n, e))?;
        let n = g.nodes.remove(i);
        for (t, v) in n.outputs.iter().zip(outs) {
            g.tensors[*t].shape = Some(v.shape());
            g.tensors[*t].is_float = v.is_float();
            g.consts.insert(*t, v);
        }
        changed = true;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ir::Attr, passes::testutil::*};

    #[test]
    fn folds_shape_chain_into_constant_reshape() {
        let mut g = graph(&[("x", &[1, 2, 3])]);
        let s = node(&mut g, "Shape", &[0], vec![]);
        let idx = constant(&mut g, "idx", &[1], vec![0.0]);
        g.consts.insert(idx, Value::Int(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[1]), vec![0]).unwrap()));
        let first = node(&mut g, "Gather", &[s, idx], vec![("axis", Attr::Int(0))]);
        let minus1 = constant(&mut g, "m1", &[1], vec![0.0]);
        g.consts.insert(minus1, Value::Int(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[1]), vec![-1]).unwrap()));
        let target = node(&mut g, "Concat", &[first, minus1], vec![("axis", Attr::Int(0))]);
        let r = node(&mut g, "Reshape", &[0, target], vec![]);
        output(&mut g, r);
        let (g, changed) = check_preserves(g, |g| run(g).unwrap());
        assert!(changed);
        assert_eq!(g.nodes.len(), 1);
        assert_eq!(g.nodes[0].op, "Reshape");
        assert_eq!(g.consts[&target], Value::Int(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[2]), vec![1, -1]).unwrap()));
    }
}
