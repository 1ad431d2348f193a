//! Identity removal: `Identity`, inference-mode `Dropout`, and `Cast` and `CastLike` between
//! float types (or between integer types) forward their input. A Dropout's mask output becomes
//! a constant of ones (every element kept).

use crate::ir::Graph;

fn is_noop(g: &Graph, n: &crate::ir::Node) -> bool {
    match (n.domain.as_str(), n.op.as_str()) {
        ("", "Identity") => true,
        ("", "Dropout") => crate::ops::shape::dropout_is_identity(g, n),
        // to BOOL is a comparison with 0, never a no-op on reals
        ("", "Cast") if n.int("to", 1) == 9 => false,
        // to a float8 or float4 format: a rounding
        ("", "Cast" | "CastLike") if crate::ops::shape::cast_rounding(g, n).is_some() => false,
        ("", "Cast") => {
            let to_float = crate::ops::shape::is_float_type(n.int("to", 1));
            n.input(0).is_some_and(|t| g.tensors[t].is_float == to_float)
        }
        // CastLike takes the target type from input 1
        ("", "CastLike") => match (n.input(0), n.input(1)) {
            (Some(x), Some(like)) => g.tensors[x].is_float == g.tensors[like].is_float,
            _ => false,
        },
        ("ai.onnx.ml", "Cast") => {
            let to_float = matches!(n.str("cast_to", "TO_FLOAT").as_str(), "TO_FLOAT" | "TO_DOUBLE");
            n.input(0).is_some_and(|t| g.tensors[t].is_float == to_float)
        }
        _ => false,
    }
}

/// Apply the pass (see the module docs) to `g`; returns whether it changed the graph.
pub fn run(g: &mut Graph) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i < g.nodes.len() {
        let n = &g.nodes[i];
        if is_noop(g, n) && n.input(0).is_some() {
            // inference-mode Dropout's mask (output 1): every element kept, a constant
            if let (Some(&mask), Some(shape)) = (n.outputs.get(1), n.input(0).and_then(|x| g.tensors[x].shape.clone())) {
                g.consts.insert(mask, crate::ir::Value::Int(ndarray::ArrayD::from_elem(ndarray::IxDyn(&shape), 1)));
            }
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
    fn forwards_identity_and_float_cast() {
        let mut g = graph(&[("x", &[2, 3])]);
        let a = node(&mut g, "Identity", &[0], vec![]);
        let b = node(&mut g, "Cast", &[a], vec![("to", Attr::Int(1))]);
        let c = node(&mut g, "Relu", &[b], vec![]);
        output(&mut g, c);
        let (g, changed) = check_preserves(g, run);
        assert!(changed);
        assert_eq!(g.nodes.len(), 1);
        assert_eq!(g.nodes[0].inputs[0], Some(0));
    }

    #[test]
    fn forwards_cast_like_between_floats() {
        let mut g = graph(&[("x", &[2, 3]), ("like", &[1])]);
        let a = node(&mut g, "CastLike", &[0, 1], vec![]);
        let c = node(&mut g, "Relu", &[a], vec![]);
        output(&mut g, c);
        let (g, changed) = check_preserves(g, run);
        assert!(changed);
        assert_eq!(g.nodes.len(), 1);
        assert_eq!(g.nodes[0].inputs[0], Some(0));
    }
}
