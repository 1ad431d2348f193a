//! `NegativeLogLikelihoodLoss` and `SoftmaxCrossEntropyLoss` (`ops::loss`) become the ops
//! they are made of, before calibration, so every intermediate gets a calibrated range:
//!
//! ```text
//! SCE:  log_prob = LogSoftmax(x, axis 1)        (opset < 13, rank > 2: Transpose to last and back)
//! NLL:  [ignore_index]  t' = Gather(table, t + s)    table: class → itself, ignored → C
//!                       x' = Pad(x, one zero class at the end of axis 1)
//!                       w' = w ++ [0]  (no w: [1, …, 1, 0])
//!       picked = Reshape(GatherElements(x', Reshape(t', [N, 1, d…]), axis 1), [N, d…])
//!       loss   = Neg(picked)  · Gather(w', t')   (the product only with weights)
//!       none: loss;  sum: ReduceSum(loss);  mean: ReduceSum(loss) / ReduceSum(w_t), or
//!       ReduceMean(loss) without weights
//! ```
//!
//! `s = max(0, −ignore_index)` makes every table index non-negative (the table is a `Take`).

use ndarray::{ArrayD, IxDyn};

use crate::{
    ir::{Attr, Graph, Node, Tid, Value},
    ops::loss::{LossAttrs, Reduction},
};

struct Builder<'a> {
    g: &'a mut Graph,
    name: String,
    nodes: Vec<Node>,
}

impl Builder<'_> {
    fn node(&mut self, tag: &str, op: &str, inputs: &[Tid], attrs: Vec<(&str, Attr)>) -> Tid {
        let name = format!("{}.{tag}", self.name);
        let out = self.g.add_tensor(&format!("{name}.out"), true);
        self.nodes.push(Node {
            name,
            op: op.into(),
            domain: String::new(),
            attrs: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            inputs: inputs.iter().map(|&t| Some(t)).collect(),
            outputs: vec![out],
        });
        out
    }
    fn konst(&mut self, tag: &str, v: Value) -> Tid {
        let t = self.g.add_tensor(&format!("{}.{tag}", self.name), v.is_float());
        self.g.tensors[t].shape = Some(v.shape());
        self.g.consts.insert(t, v);
        t
    }
    fn ints(&mut self, tag: &str, shape: &[usize], v: Vec<i64>) -> Tid {
        self.konst(tag, Value::Int(ArrayD::from_shape_vec(IxDyn(shape), v).expect("the shape holds the values")))
    }
    fn floats(&mut self, tag: &str, v: Vec<f32>) -> Tid {
        self.konst(tag, Value::Float(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v).expect("a vector")))
    }
    /// Make the last node write `out`.
    fn finish(&mut self, out: Tid) {
        self.nodes.last_mut().expect("a node").outputs[0] = out;
    }
}

/// The NLL of `x` (shape `xs`) by targets `t`, weights `w`, written to `out`.
fn nll(b: &mut Builder<'_>, a: &LossAttrs, xs: &[usize], x: Tid, t: Tid, w: Option<Tid>, out: Tid) {
    let c = a.classes;
    let (mut x, mut t, mut w) = (x, t, w);
    if let Some(ii) = a.ignore_index {
        let s = (-ii).max(0);
        let len = (c as i64).max(ii + 1) + s;
        let table = (0..len).map(|k| k - s).map(|v| if v == ii || v < 0 || v >= c as i64 { c as i64 } else { v }).collect();
        let table = b.ints("remap", &[len as usize], table);
        if s > 0 {
            let sh = b.ints("shift", &[], vec![s]);
            t = b.node("shifted", "Add", &[t, sh], vec![]);
        }
        t = b.node("target", "Gather", &[table, t], vec![("axis", Attr::Int(0))]);
        let mut pads = vec![0i64; 2 * xs.len()];
        pads[xs.len() + 1] = 1;
        let pads = b.ints("pads", &[pads.len()], pads);
        x = b.node("padded", "Pad", &[x, pads], vec![]);
        w = Some(match w {
            Some(w) if b.g.is_const(w) => {
                let mut v: Vec<f32> = b.g.consts[&w].to_f32().iter().copied().collect();
                v.push(0.0);
                b.floats("weights", v)
            }
            Some(w) => {
                let p = b.ints("weight_pads", &[2], vec![0, 1]);
                b.node("weights", "Pad", &[w, p], vec![])
            }
            None => {
                let mut v = vec![1.0; c];
                v.push(0.0);
                b.floats("weights", v)
            }
        });
    }
    let mut ts: Vec<i64> = xs.iter().map(|&d| d as i64).collect();
    ts[1] = 1;
    let tshape = b.ints("target_shape", &[ts.len()], ts);
    let tu = b.node("target_unsqueezed", "Reshape", &[t, tshape], vec![]);
    let picked = b.node("picked", "GatherElements", &[x, tu], vec![("axis", Attr::Int(1))]);
    let ls: Vec<i64> = xs.iter().enumerate().filter(|(k, _)| *k != 1).map(|(_, &d)| d as i64).collect();
    let lshape = b.ints("loss_shape", &[ls.len()], ls);
    let picked = b.node("picked_squeezed", "Reshape", &[picked, lshape], vec![]);
    let mut loss = b.node("neg", "Neg", &[picked], vec![]);
    let wt = w.map(|w| {
        let wt = b.node("target_weight", "Gather", &[w, t], vec![("axis", Attr::Int(0))]);
        loss = b.node("weighted", "Mul", &[loss, wt], vec![]);
        wt
    });
    let keep = || vec![("keepdims", Attr::Int(0))];
    match (a.reduction, wt) {
        (Reduction::None, _) => {}
        (Reduction::Sum, _) => {
            b.node("sum", "ReduceSum", &[loss], keep());
        }
        (Reduction::Mean, None) => {
            b.node("mean", "ReduceMean", &[loss], keep());
        }
        (Reduction::Mean, Some(wt)) => {
            let s = b.node("sum", "ReduceSum", &[loss], keep());
            let ws = b.node("weight_sum", "ReduceSum", &[wt], keep());
            b.node("mean", "Div", &[s, ws], vec![]);
        }
    }
    b.finish(out);
}

/// Decompose every loss node whose attributes and shapes are valid (the others stay, and
/// lowering reports why); returns whether the graph changed.
pub fn run(g: &mut Graph) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i < g.nodes.len() {
        let n = g.nodes[i].clone();
        let sce = n.op == "SoftmaxCrossEntropyLoss";
        if !(n.domain.is_empty() && (sce || n.op == "NegativeLogLikelihoodLoss")) {
            i += 1;
            continue;
        }
        let (Some(x), Some(t)) = (n.input(0), n.input(1)) else {
            i += 1;
            continue;
        };
        let w = n.input(2);
        let xs = g.shape(x).to_vec();
        let parsed = LossAttrs::parse(&n, &xs, g.shape(t), w.map(|w| g.shape(w)));
        // run-time real input, integer targets, real weights
        let typed = !g.is_const(x) && g.tensors[x].is_float && !g.tensors[t].is_float && w.is_none_or(|w| g.tensors[w].is_float);
        let Ok(a) = parsed.map_err(|_| ()).and_then(|a| if typed { Ok(a) } else { Err(()) }) else {
            i += 1;
            continue;
        };
        let mut b = Builder { g, name: n.name.clone(), nodes: vec![] };
        let mut x = x;
        if sce {
            let rank = xs.len();
            let lp = if rank == 2 || b.g.opset >= 13 {
                b.node("log_softmax", "LogSoftmax", &[x], vec![("axis", Attr::Int(1))])
            } else {
                let perm: Vec<i64> = std::iter::once(0).chain(2..rank as i64).chain(std::iter::once(1)).collect();
                let mut inv = vec![0i64; rank];
                for (k, &p) in perm.iter().enumerate() {
                    inv[p as usize] = k as i64;
                }
                let xt = b.node("to_last", "Transpose", &[x], vec![("perm", Attr::Ints(perm))]);
                let l = b.node("log_softmax", "LogSoftmax", &[xt], vec![("axis", Attr::Int(rank as i64 - 1))]);
                b.node("from_last", "Transpose", &[l], vec![("perm", Attr::Ints(inv))])
            };
            x = lp;
            if let Some(&out) = n.outputs.get(1) {
                b.finish(out);
                x = out;
            }
        }
        nll(&mut b, &a, &xs, x, t, w, n.outputs[0]);
        let new = b.nodes;
        let count = new.len();
        g.nodes.splice(i..i + 1, new);
        i += count;
        changed = true;
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testutil::*;

    /// A graph of one loss node over input `x` `[3, 4, 2]` and targets `t` `[3, 2]` (an integer
    /// input), with run-time weights when `weights`.
    fn loss_graph(op: &str, attrs: Vec<(&str, Attr)>, weights: bool, outputs: usize) -> Graph {
        let mut g = graph(&[("x", &[3, 4, 2]), ("t", &[3, 2]), ("w", &[4])]);
        g.tensors[1].is_float = false;
        let ins: &[usize] = if weights { &[0, 1, 2] } else { &[0, 1] };
        let y = node(&mut g, op, ins, attrs);
        output(&mut g, y);
        if outputs == 2 {
            let lp = g.add_tensor("log_prob", true);
            g.nodes[0].outputs.push(lp);
            output(&mut g, lp);
        }
        g
    }

    /// `check_preserves` with targets in `[0, 4)` (the generic input is real).
    fn preserves(g: Graph) -> Graph {
        let mut g2 = g.clone();
        crate::calibrate::infer_shapes(&mut g2).unwrap();
        let inputs: Vec<Value> = g2
            .inputs
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                if i == 1 {
                    Value::Int(ArrayD::from_shape_vec(IxDyn(&[3, 2]), vec![0, 3, 1, 2, 1, 0]).unwrap())
                } else {
                    input(g2.shape(t), i as u32)
                }
            })
            .collect();
        let before = crate::calibrate::run_float(&g2, &inputs).unwrap();
        let outs = g2.outputs.clone();
        assert!(run(&mut g2));
        crate::calibrate::infer_shapes(&mut g2).unwrap();
        let after = crate::calibrate::run_float(&g2, &inputs).unwrap();
        for o in outs {
            let (a, b) = (before[&o].to_f32(), after[&o].to_f32());
            assert_eq!(a.shape(), b.shape());
            for (x, y) in a.iter().zip(b.iter()) {
                assert!((x - y).abs() <= 1e-4 * (1.0 + x.abs()), "{x} vs {y}");
            }
        }
        g2
    }

    #[test]
    fn nll_decomposes_for_every_reduction_weight_and_ignore_index() {
        for reduction in ["none", "sum", "mean"] {
            for weights in [false, true] {
                for ii in [None, Some(1), Some(-1), Some(7)] {
                    let mut attrs = vec![("reduction", Attr::Str(reduction.into()))];
                    if let Some(ii) = ii {
                        attrs.push(("ignore_index", Attr::Int(ii)));
                    }
                    let g = preserves(loss_graph("NegativeLogLikelihoodLoss", attrs, weights, 1));
                    assert!(g.nodes.iter().any(|n| n.op == "GatherElements"), "{reduction} {weights} {ii:?}");
                }
            }
        }
    }

    #[test]
    fn sce_decomposes_with_its_log_prob_output() {
        for opset in [12, 13] {
            for outputs in [1, 2] {
                let mut g = loss_graph("SoftmaxCrossEntropyLoss", vec![("ignore_index", Attr::Int(2))], true, outputs);
                g.opset = opset;
                let g = preserves(g);
                assert_eq!(g.nodes.iter().filter(|n| n.op == "Transpose").count(), if opset < 13 { 2 } else { 0 });
            }
        }
    }

    #[test]
    fn bad_loss_nodes_stay() {
        let mut g = loss_graph("NegativeLogLikelihoodLoss", vec![("reduction", Attr::Str("max".into()))], false, 1);
        crate::calibrate::infer_shapes(&mut g).unwrap_err();
        assert!(!run(&mut g));
    }
}
