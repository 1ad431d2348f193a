//! Graph passes. Each takes the graph, rewrites it, and says whether it changed anything;
//! each is semantics-preserving under the float interpreter, which its unit tests check.
//!
//! [`run_all`] runs them in order: shape inference and constant folding to a fixed point, then
//! the structural rewrites, then dead-node elimination.

pub mod dead_nodes;
pub mod decompose;
pub mod decompose_attention;
pub mod decompose_recurrent;
pub mod equalize_dense;
pub mod expand_ml;
pub mod expand_ops;
pub mod expand_svm;
pub mod expand_trees;
pub mod fold_batchnorm;
pub mod fold_constants;
pub mod fuse_activation;
pub mod fuse_matmul_add;
pub mod loss;
pub mod qdq;
pub mod qlinear;
pub mod remove_identity;
pub mod simplify_outputs;

use crate::{error::Result, ir::Graph};

/// Run every pass.
pub fn run_all(g: &mut Graph) -> Result<()> {
    qlinear::run(g);
    qdq::run(g);
    qdq::quantized_inputs(g);
    qdq::weight_grids(g);
    loop {
        crate::calibrate::infer_shapes(g)?;
        if !fold_constants::run(g)? {
            break;
        }
    }
    expand_ml::run(g)?;
    expand_trees::run(g)?;
    expand_svm::run(g)?;
    decompose_attention::run(g);
    decompose_recurrent::run(g);
    decompose::run(g);
    expand_ops::run(g);
    decompose::variadic(g);
    decompose::reductions(g);
    decompose::products(g);
    decompose::select(g);
    decompose::normalizations(g);
    decompose::real_pow(g);
    loss::run(g);
    crate::calibrate::infer_shapes(g)?;
    remove_identity::run(g);
    fuse_matmul_add::run(g);
    fold_batchnorm::run(g);
    simplify_outputs::run(g);
    fuse_activation::run(g);
    dead_nodes::run(g);
    crate::calibrate::infer_shapes(g)?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Build small graphs and compare them under the float interpreter.
    use std::collections::HashMap;

    use ndarray::{ArrayD, IxDyn};

    use crate::ir::{Attr, Graph, Node, Tid, Value};

    pub(crate) fn graph(inputs: &[(&str, &[usize])]) -> Graph {
        let mut g = Graph { opset: 17, ..Default::default() };
        for (name, shape) in inputs {
            let t = g.add_tensor(name, true);
            g.tensors[t].shape = Some(shape.to_vec());
            g.inputs.push(t);
        }
        g
    }
    pub(crate) fn constant(g: &mut Graph, name: &str, shape: &[usize], data: Vec<f32>) -> Tid {
        let t = g.add_tensor(name, true);
        g.tensors[t].shape = Some(shape.to_vec());
        g.consts.insert(t, Value::Float(ArrayD::from_shape_vec(IxDyn(shape), data).unwrap()));
        t
    }
    pub(crate) fn node(g: &mut Graph, op: &str, inputs: &[Tid], attrs: Vec<(&str, Attr)>) -> Tid {
        let out = g.add_tensor(&format!("{op}_{}", g.nodes.len()), true);
        let attrs: HashMap<String, Attr> = attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        g.nodes.push(Node {
            name: format!("{op}_{}", g.nodes.len()),
            op: op.into(),
            domain: String::new(),
            attrs,
            inputs: inputs.iter().map(|&t| Some(t)).collect(),
            outputs: vec![out],
        });
        out
    }
    /// A node of `op` with `inputs` (`None`: omitted) and `outputs` fresh outputs, each a graph
    /// output.
    pub(crate) fn node_n(g: &mut Graph, op: &str, inputs: &[Option<Tid>], outputs: usize, attrs: Vec<(&str, Attr)>) -> Vec<Tid> {
        let outs: Vec<Tid> = (0..outputs).map(|k| g.add_tensor(&format!("{op}.out{k}"), true)).collect();
        g.nodes.push(Node {
            name: op.into(),
            op: op.into(),
            domain: String::new(),
            attrs: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            inputs: inputs.to_vec(),
            outputs: outs.clone(),
        });
        for &o in &outs {
            output(g, o);
        }
        outs
    }
    /// A node of `op` outside any graph (no inputs or outputs), for calling an op's float
    /// semantics directly.
    pub(crate) fn detached_node(op: &str, attrs: &[(&str, Attr)]) -> Node {
        Node {
            name: op.into(),
            op: op.into(),
            domain: String::new(),
            attrs: attrs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            inputs: vec![],
            outputs: vec![],
        }
    }
    pub(crate) fn output(g: &mut Graph, t: Tid) {
        g.outputs.push(t);
        g.output_names.push(g.tensors[t].name.clone());
    }
    /// Deterministic pseudo-random input.
    pub(crate) fn input(shape: &[usize], seed: u32) -> Value {
        let n: usize = shape.iter().product();
        let mut s = seed.wrapping_mul(2654435761).wrapping_add(1);
        let v = (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s % 2000) as f32 / 500.0 - 2.0
            })
            .collect();
        Value::Float(ArrayD::from_shape_vec(IxDyn(shape), v).unwrap())
    }
    /// Assert a pass keeps the outputs (within float tolerance) and returns what it returned.
    pub(crate) fn check_preserves(mut g: Graph, pass: impl Fn(&mut Graph) -> bool) -> (Graph, bool) {
        crate::calibrate::infer_shapes(&mut g).unwrap();
        let inputs: Vec<Value> = g.inputs.iter().enumerate().map(|(i, &t)| input(g.shape(t), i as u32)).collect();
        let before = crate::calibrate::run_float(&g, &inputs).unwrap();
        let outs_before = g.outputs.clone();
        let changed = pass(&mut g);
        crate::calibrate::infer_shapes(&mut g).unwrap();
        let after = crate::calibrate::run_float(&g, &inputs).unwrap();
        for (&o, &p) in outs_before.iter().zip(&g.outputs) {
            let (a, b) = (before[&o].to_f32(), after[&p].to_f32());
            assert_eq!(a.shape(), b.shape());
            for (x, y) in a.iter().zip(b.iter()) {
                assert!((x - y).abs() <= 1e-4 * (1.0 + x.abs()), "{x} vs {y}");
            }
        }
        (g, changed)
    }
}
