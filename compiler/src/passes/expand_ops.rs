//! Expansion of ONNX ops that have no lowering of their own into ONNX ops that do, before
//! calibration (so every intermediate tensor gets a calibrated range): DepthToSpace,
//! SpaceToDepth and CenterCropPad ([`crate::ops::space`]), DFT ([`crate::ops::spectral`]),
//! Resize and Upsample ([`crate::ops::resize`]), Einsum ([`crate::ops::einsum`]), Mean,
//! LpNormalization, MeanVarianceNormalization and GroupNormalization ([`crate::ops::stats`]),
//! LpPool ([`crate::ops::lp_pool`]); EyeLike of a tensor of known shape becomes its constant.
//!
//! Each op's expansion is a function of its family module that builds the replacement nodes
//! through an [`Expansion`] and returns the tensor holding the result, or an error saying why
//! the node cannot be expanded (a run-time parameter, an unsupported attribute value). A node
//! that fails is left in place, and its lowering ([`lower_expanded`]) reports that error.

use std::collections::HashMap;

use ndarray::{ArrayD, IxDyn};

use crate::{
    ir::{Attr, Graph, Node, Tid, Value},
    ops::R,
    quantize::Lowering,
};

/// Builds one node's replacement: new nodes and constants in the graph.
pub(crate) struct Expansion<'g> {
    /// The graph (shapes of the node's inputs, constants).
    pub(crate) g: &'g mut Graph,
    prefix: String,
    pub(crate) nodes: Vec<Node>,
}

/// An expansion: the replacement of node `n`, returning the tensor that holds its output.
pub(crate) type ExpandFn = fn(&mut Expansion<'_>, &Node) -> R<Tid>;

impl Expansion<'_> {
    fn fresh(&mut self, tag: &str) -> String {
        format!("{}.{tag}{}", self.prefix, self.nodes.len() + self.g.tensors.len())
    }

    /// A node `op` of `domain` on `inputs` (`None`: omitted) with `attrs`; its (real) output.
    pub(crate) fn node_in(&mut self, domain: &str, op: &str, inputs: &[Option<Tid>], attrs: Vec<(&str, Attr)>) -> Tid {
        let name = self.fresh(&op.to_lowercase());
        let out = self.g.add_tensor(&format!("{name}.out"), true);
        self.nodes.push(Node {
            name,
            op: op.into(),
            domain: domain.into(),
            attrs: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            inputs: inputs.to_vec(),
            outputs: vec![out],
        });
        out
    }

    /// A default-domain node `op` on `inputs` with `attrs`; its (real) output.
    pub(crate) fn op(&mut self, op: &str, inputs: &[Tid], attrs: Vec<(&str, Attr)>) -> Tid {
        let ins: Vec<Option<Tid>> = inputs.iter().map(|&t| Some(t)).collect();
        self.node_in("", op, &ins, attrs)
    }

    /// A constant.
    pub(crate) fn constant(&mut self, v: Value) -> Tid {
        let name = self.fresh("const");
        let t = self.g.add_tensor(&name, v.is_float());
        self.g.tensors[t].shape = Some(v.shape());
        self.g.consts.insert(t, v);
        t
    }

    /// An int64 vector constant.
    pub(crate) fn ints(&mut self, v: &[i64]) -> Tid {
        self.constant(Value::Int(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v.to_vec()).expect("a vector")))
    }

    /// A real constant of `shape`.
    pub(crate) fn floats(&mut self, shape: &[usize], v: Vec<f32>) -> R<Tid> {
        let a = ArrayD::from_shape_vec(IxDyn(shape), v).map_err(|e| e.to_string())?;
        Ok(self.constant(Value::Float(a)))
    }

    /// A real scalar constant.
    pub(crate) fn scalar(&mut self, v: f32) -> Tid {
        self.constant(Value::Float(ArrayD::from_elem(IxDyn(&[]), v)))
    }

    /// `x` reshaped to `shape` (a new constant when `x` is one).
    pub(crate) fn reshape(&mut self, x: Tid, shape: &[usize]) -> R<Tid> {
        if let Some(v) = self.g.consts.get(&x) {
            let v = crate::float::reshape(v, shape)?;
            return Ok(self.constant(v));
        }
        let s = self.ints(&shape.iter().map(|&d| d as i64).collect::<Vec<_>>());
        Ok(self.op("Reshape", &[x, s], vec![]))
    }

    /// `x` with its axes permuted by `perm` (`x` itself for the identity).
    pub(crate) fn transpose(&mut self, x: Tid, perm: &[usize]) -> Tid {
        if perm.iter().enumerate().all(|(i, &p)| i == p) {
            return x;
        }
        self.op("Transpose", &[x], vec![("perm", Attr::Ints(perm.iter().map(|&p| p as i64).collect()))])
    }

    /// The static shape of `t` (known for the node's inputs).
    pub(crate) fn shape(&self, t: Tid) -> Vec<usize> {
        self.g.shape(t).to_vec()
    }
}

/// The expansion of each op (default domain).
fn expander(op: &str) -> Option<ExpandFn> {
    use crate::ops::{einsum, lp_pool, resize, space, spectral, stats};
    Some(match op {
        "DepthToSpace" | "SpaceToDepth" => space::expand_depth_space,
        "CenterCropPad" => space::expand_center_crop_pad,
        "DFT" => spectral::expand_dft,
        "Resize" | "Upsample" => resize::expand,
        "Einsum" => einsum::expand,
        "Mean" => stats::expand_mean,
        "LpNormalization" => stats::expand_lp_normalization,
        "MeanVarianceNormalization" => stats::expand_mvn,
        "GroupNormalization" => stats::expand_group_normalization,
        "LpPool" => lp_pool::expand,
        _ => return None,
    })
}

/// Expand node `n` of `g` by `f`: the replacement nodes (the last ones write `n`'s output), or
/// the error, with `g` left as it was.
fn expand_node(g: &mut Graph, n: &Node, f: ExpandFn) -> R<Vec<Node>> {
    let mark = g.tensors.len();
    let mut e = Expansion { g, prefix: n.name.clone(), nodes: vec![] };
    let result = f(&mut e, n);
    let mut nodes = std::mem::take(&mut e.nodes);
    let y = match result {
        Ok(y) => y,
        Err(err) => {
            g.tensors.truncate(mark);
            g.consts.retain(|&t, _| t < mark);
            return Err(err);
        }
    };
    let out = n.outputs[0];
    if nodes.iter().any(|m| m.outputs.contains(&y)) {
        for m in &mut nodes {
            for t in m.inputs.iter_mut().flatten().chain(m.outputs.iter_mut()) {
                if *t == y {
                    *t = out;
                }
            }
        }
    } else {
        // the result is an input of the node (or a constant): an Identity writes the output
        nodes.push(Node {
            name: format!("{}.identity", n.name),
            op: "Identity".into(),
            domain: String::new(),
            attrs: HashMap::new(),
            inputs: vec![Some(y)],
            outputs: vec![out],
        });
    }
    Ok(nodes)
}

/// Apply the pass (see the module docs) to `g`; returns whether it changed the graph.
pub fn run(g: &mut Graph) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i < g.nodes.len() {
        let n = g.nodes[i].clone();
        if !n.domain.is_empty() || n.outputs.len() != 1 {
            i += 1;
            continue;
        }
        if n.op == "EyeLike" {
            // a constant of the input's (known) shape
            if let Some(x) = n.input(0).filter(|&x| g.tensors[x].shape.is_some()) {
                let shape = IxDyn(g.shape(x));
                let zeros = if g.tensors[x].is_float { Value::Float(ArrayD::zeros(shape)) } else { Value::Int(ArrayD::zeros(shape)) };
                if let Ok(mut v) = crate::float::eval_node(g, &n, &[Some(&zeros)]) {
                    let y = n.outputs[0];
                    let v = v.remove(0);
                    g.tensors[y].shape = Some(v.shape());
                    g.tensors[y].is_float = v.is_float();
                    g.consts.insert(y, v);
                    g.nodes.remove(i);
                    changed = true;
                    continue;
                }
            }
            i += 1;
            continue;
        }
        let Some(f) = expander(&n.op) else {
            i += 1;
            continue;
        };
        match expand_node(g, &n, f) {
            Ok(nodes) => {
                let count = nodes.len();
                g.nodes.splice(i..i + 1, nodes);
                i += count;
                changed = true;
            }
            Err(_) => i += 1, // lowering reports it
        }
    }
    changed
}

/// The lowering of an op this pass expands: reached only when the expansion failed, so it
/// reports why (running the expansion again on a copy of the graph).
pub(crate) fn lower_expanded(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let Some(f) = expander(&n.op).filter(|_| n.domain.is_empty()) else {
        return Err(format!("{} is lowered only through its expansion", n.op));
    };
    let mut g = l.g.clone();
    match expand_node(&mut g, n, f) {
        Err(e) => Err(e),
        Ok(_) => Err(format!("{} was not expanded before lowering", n.op)),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::passes::testutil::*;

    /// Build `op` on inputs of `shapes` (and `consts`, appended as constant inputs) with
    /// `attrs`, check that the expansion keeps the float outputs, and return the expanded ops.
    pub(crate) fn expands(op: &str, shapes: &[&[usize]], consts: Vec<Value>, attrs: Vec<(&str, Attr)>) -> Vec<String> {
        let names: Vec<String> = (0..shapes.len()).map(|i| format!("x{i}")).collect();
        let ins: Vec<(&str, &[usize])> = names.iter().map(|s| s.as_str()).zip(shapes.iter().copied()).collect();
        let mut g = graph(&ins);
        g.opset = 21;
        let mut inputs: Vec<usize> = (0..shapes.len()).collect();
        for (k, v) in consts.into_iter().enumerate() {
            let t = g.add_tensor(&format!("c{k}"), v.is_float());
            g.tensors[t].shape = Some(v.shape());
            g.consts.insert(t, v);
            inputs.push(t);
        }
        let y = node(&mut g, op, &inputs, attrs);
        output(&mut g, y);
        let (g, changed) = check_preserves(g, run);
        assert!(changed, "{op} was not expanded");
        g.nodes.iter().map(|n| n.op.clone()).collect()
    }

    #[test]
    fn a_failed_expansion_leaves_the_graph_as_it_was() {
        let mut g = graph(&[("x", &[1, 3, 4, 4])]);
        let y = node(&mut g, "LpPool", &[0], vec![("kernel_shape", Attr::Ints(vec![2, 2])), ("p", Attr::Int(0))]);
        output(&mut g, y);
        crate::calibrate::infer_shapes(&mut g).unwrap_err();
        let tensors = g.tensors.len();
        assert!(!run(&mut g));
        assert_eq!((g.tensors.len(), g.nodes.len()), (tensors, 1));
    }
}
