//! Ops decomposed into simpler ones before calibration, so every intermediate is a tensor
//! with a calibrated range (Gemm with a run-time `B`; variadic Sum/Max/Min; the reductions
//! built on a sum, [`reductions`]; ReduceProd, [`products`]; `Where`, [`select`];
//! LayerNormalization and RMSNormalization, [`normalizations`]; the integer operands of a real
//! `Pow`, [`real_pow`]):
//!
//! A Gemm whose `B` is a run-time tensor (`torch.mm`, `torch.addmm`) becomes the core ops it
//! is made of, so calibration sees each intermediate: `Transpose` for `transA`/`transB`, a
//! `MatMul` of the two run-time tensors, `Mul` by `alpha` when it is not 1, and `Add` of
//! `beta · C` when `C` is present and `beta` is not 0.

use ndarray::{ArrayD, IxDyn};

use crate::{
    ir::{Attr, Graph, Node, Value},
    ops::gemm::GemmAttrs,
};

fn node(g: &mut Graph, name: String, op: &str, inputs: Vec<usize>, attrs: Vec<(&str, Attr)>) -> (Node, usize) {
    let out = g.add_tensor(&format!("{name}.out"), true);
    let n = Node {
        name,
        op: op.into(),
        domain: String::new(),
        attrs: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        inputs: inputs.into_iter().map(Some).collect(),
        outputs: vec![out],
    };
    (n, out)
}

fn scalar(g: &mut Graph, name: &str, v: f32) -> usize {
    let t = g.add_tensor(name, true);
    g.tensors[t].shape = Some(vec![]);
    g.consts.insert(t, Value::Float(ArrayD::from_elem(IxDyn(&[]), v)));
    t
}

/// Variadic Sum, Max and Min with more than two operands become chains of binary nodes, so
/// each partial result is a tensor of its own with a calibrated range.
pub fn variadic(g: &mut Graph) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i < g.nodes.len() {
        let n = g.nodes[i].clone();
        let args: Vec<usize> = n.inputs.iter().flatten().copied().collect();
        if !(n.domain.is_empty() && matches!(n.op.as_str(), "Sum" | "Max" | "Min") && args.len() > 2) {
            i += 1;
            continue;
        }
        let mut new = vec![];
        let mut acc = args[0];
        for (k, &b) in args.iter().enumerate().skip(1) {
            let (mut nd, out) = node(g, format!("{}.{k}", n.name), &n.op, vec![acc, b], vec![]);
            if k == args.len() - 1 {
                nd.outputs[0] = n.outputs[0];
            }
            new.push(nd);
            acc = out;
        }
        let count = new.len();
        g.nodes.splice(i..i + 1, new);
        i += count;
        changed = true;
    }
    changed
}

/// `ReduceL1`, `ReduceL2`, `ReduceLogSum`, `ReduceLogSumExp` and `ReduceSumSquare`
/// (`ops::reduce::DERIVED`) become an element-wise op (`Abs`, `Mul(x, x)`, `Exp`), a `ReduceSum`
/// with the node's axes and attributes, and a function of the sum (`Sqrt`, `Log`).
///
/// `ReduceLogSumExp` subtracts the maximum first, as numerically careful implementations do:
/// `m + log Σ exp(x − m)` with `m = ReduceMax(x)` (kept dimensions for the `Sub`, the node's
/// for the final `Add`). Each step then has a short calibrated range (`exp` in `(0, 1]`, the sum
/// in `[1, n]`) instead of `exp(x)` spanning e^max, where int8 kept only the largest terms
/// (the node suite's example, max 60: 170 output steps off).
pub fn reductions(g: &mut Graph) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i < g.nodes.len() {
        let n = g.nodes[i].clone();
        let Some(&(_, before, after)) = crate::ops::reduce::DERIVED.iter().find(|d| n.domain.is_empty() && d.0 == n.op) else {
            i += 1;
            continue;
        };
        let Some(x) = n.input(0) else {
            i += 1;
            continue;
        };
        let mut new = vec![];
        let mut y = x;
        let mut max = None;
        // (an empty x keeps the plain form: its sum is 0, and there is no maximum)
        if n.op == "ReduceLogSumExp" && !g.shape(x).contains(&0) {
            let reduce_max = |g: &mut Graph, name: String, keepdims: Option<i64>| {
                let (mut nd, out) = node(g, name, "ReduceMax", vec![x], vec![]);
                nd.inputs.extend(n.inputs.iter().skip(1).copied());
                nd.attrs = n.attrs.clone();
                if let Some(k) = keepdims {
                    nd.attrs.insert("keepdims".into(), Attr::Int(k));
                }
                (nd, out)
            };
            let (kept, m) = reduce_max(g, format!("{}.max", n.name), Some(1));
            let (sub, shifted) = node(g, format!("{}.shift", n.name), "Sub", vec![x, m], vec![]);
            let (out_max, m_out) = reduce_max(g, format!("{}.max_out", n.name), None);
            new.extend([kept, sub, out_max]);
            y = shifted;
            max = Some(m_out);
        }
        if let Some(f) = before {
            let (nd, out) = match f {
                "Square" => node(g, format!("{}.square", n.name), "Mul", vec![y, y], vec![]),
                f => node(g, format!("{}.{}", n.name, f.to_lowercase()), f, vec![y], vec![]),
            };
            new.push(nd);
            y = out;
        }
        let (mut sum, out) = node(g, format!("{}.sum", n.name), "ReduceSum", vec![y], vec![]);
        sum.inputs.extend(n.inputs.iter().skip(1).copied());
        sum.attrs = n.attrs.clone();
        new.push(sum);
        if let Some(f) = after {
            let (nd, out) = node(g, format!("{}.{}", n.name, f.to_lowercase()), f, vec![out], vec![]);
            new.push(nd);
            if let Some(m) = max {
                new.push(node(g, format!("{}.unshift", n.name), "Add", vec![out, m], vec![]).0);
            }
        }
        // the last node writes the reduction's output
        new.last_mut().expect("a sum at least").outputs[0] = n.outputs[0];
        let count = new.len();
        g.nodes.splice(i..i + 1, new);
        i += count;
        changed = true;
    }
    changed
}

/// `ReduceProd` becomes a `Transpose` of the reduced axes to the end (when they are not
/// there), a `Reshape` of them into one axis of `L` factors, a `Split` of that axis into its `L`
/// slices and a balanced tree of `L − 1` binary `Mul`s of them (pairs of neighbours, level by
/// level), then a `Reshape` to the output shape: each partial product is a tensor of one value
/// per output position with its own calibrated range (an exact IntBinary Mul on integers). An
/// `Identity` when there is nothing to multiply. Forms `ops::reduce::prod_plan` refuses
/// (run-time axes, an empty or too long product) stay, and lowering names the reason.
pub fn products(g: &mut Graph) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i < g.nodes.len() {
        let n = g.nodes[i].clone();
        let Some(x) = n.input(0).filter(|_| n.domain.is_empty() && n.op == "ReduceProd") else {
            i += 1;
            continue;
        };
        let shape = g.shape(x).to_vec();
        let ins: Vec<Option<&Value>> = n.inputs.iter().map(|t| t.and_then(|t| g.consts.get(&t))).collect();
        let Ok(plan) = crate::ops::reduce::prod_plan(&n, &ins, &shape) else {
            i += 1;
            continue;
        };
        let tag = |s: &str| format!("{}.{s}", n.name);
        let ints = |g: &mut Graph, name: &str, v: Vec<i64>| {
            let t = g.add_tensor(name, false);
            g.tensors[t].shape = Some(vec![v.len()]);
            g.consts.insert(t, Value::Int(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v).expect("a vector")));
            t
        };
        let kept: Vec<usize> = (0..shape.len()).filter(|a| !plan.axes.contains(a)).collect();
        let factors: usize = plan.axes.iter().map(|&a| shape[a]).product();
        let mut out_shape: Vec<i64> = vec![];
        for (a, &d) in shape.iter().enumerate() {
            if !plan.axes.contains(&a) {
                out_shape.push(d as i64);
            } else if plan.keepdims {
                out_shape.push(1);
            }
        }
        let mut new = vec![];
        let mut y = x;
        if factors > 1 {
            // the reduced axes last, as one axis of the factors
            let perm: Vec<usize> = kept.iter().chain(&plan.axes).copied().collect();
            if perm.iter().enumerate().any(|(k, &a)| k != a) {
                let perm = Attr::Ints(perm.iter().map(|&a| a as i64).collect());
                let (transpose, out) = node(g, tag("transpose"), "Transpose", vec![y], vec![("perm", perm)]);
                new.push(transpose);
                y = out;
            }
            let mut flat: Vec<i64> = kept.iter().map(|&a| shape[a] as i64).collect();
            flat.push(factors as i64);
            if plan.axes.len() > 1 {
                let target = ints(g, &tag("factors_shape"), flat);
                let (reshape, out) = node(g, tag("factors"), "Reshape", vec![y, target], vec![("allowzero", Attr::Int(1))]);
                new.push(reshape);
                y = out;
            }
            let mut level: Vec<usize> = (0..factors).map(|k| g.add_tensor(&tag(&format!("factor{k}")), true)).collect();
            new.push(Node {
                name: tag("split"),
                op: "Split".into(),
                domain: String::new(),
                attrs: [("axis".to_string(), Attr::Int(kept.len() as i64))].into(),
                inputs: vec![Some(y)],
                outputs: level.clone(),
            });
            let mut depth = 0;
            while level.len() > 1 {
                let mut next = Vec::with_capacity(level.len().div_ceil(2));
                for (k, pair) in level.chunks(2).enumerate() {
                    if let [a, b] = *pair {
                        let (mul, out) = node(g, tag(&format!("mul{depth}_{k}")), "Mul", vec![a, b], vec![]);
                        new.push(mul);
                        next.push(out);
                    } else {
                        next.push(pair[0]);
                    }
                }
                level = next;
                depth += 1;
            }
            y = level[0];
        }
        // the product has shape kept + [1] (or the input's, with one factor)
        let mut have: Vec<i64> = kept.iter().map(|&a| shape[a] as i64).collect();
        have.push(1);
        if factors <= 1 {
            have = shape.iter().map(|&d| d as i64).collect();
        }
        if have != out_shape {
            let target = ints(g, &tag("shape"), out_shape);
            let (reshape, _) = node(g, tag("reshape"), "Reshape", vec![y, target], vec![("allowzero", Attr::Int(1))]);
            new.push(reshape);
        } else if new.is_empty() {
            let (identity, _) = node(g, tag("identity"), "Identity", vec![x], vec![]);
            new.push(identity);
        }
        // the last node writes the reduction's output
        new.last_mut().expect("a node at least").outputs[0] = n.outputs[0];
        let count = new.len();
        g.nodes.splice(i..i + 1, new);
        i += count;
        changed = true;
    }
    changed
}

/// `Where(c, a, b)` on real tensors becomes `Add(Mul(Not(Not(c)), a), Mul(Not(c), b))`: the
/// condition made exactly 0 or 1, so each product is its operand or 0, and each part gets a
/// calibrated range of its own. Integer `a` and `b`, and constants with an infinity or a NaN,
/// stay (lowering refuses them).
pub fn select(g: &mut Graph) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i < g.nodes.len() {
        let n = g.nodes[i].clone();
        // real and, for constants, finite: `0 · ∞` is NaN, so an infinite operand (the `-inf`
        // of an attention mask) cannot go through the products (lowering refuses it)
        let real = |t: Option<usize>| {
            t.is_some_and(|t| g.tensors[t].is_float && g.consts.get(&t).is_none_or(|v| v.to_f32().iter().all(|x| x.is_finite())))
        };
        if !(n.domain.is_empty() && n.op == "Where" && real(n.input(1)) && real(n.input(2))) {
            i += 1;
            continue;
        }
        let (c, a, b) = (n.input(0).unwrap(), n.input(1).unwrap(), n.input(2).unwrap());
        // Not twice: the condition as exactly 0 or 1, whatever real it holds
        let (not, nc) = node(g, format!("{}.not", n.name), "Not", vec![c], vec![]);
        let (is, cc) = node(g, format!("{}.condition", n.name), "Not", vec![nc], vec![]);
        let (then, t) = node(g, format!("{}.then", n.name), "Mul", vec![cc, a], vec![]);
        let (otherwise, e) = node(g, format!("{}.else", n.name), "Mul", vec![nc, b], vec![]);
        let (mut add, _) = node(g, format!("{}.add", n.name), "Add", vec![t, e], vec![]);
        add.outputs[0] = n.outputs[0];
        g.nodes.splice(i..i + 1, [not, is, then, otherwise, add]);
        i += 5;
        changed = true;
    }
    changed
}

/// `Pow(x, e)` with a real output and a run-time integer operand gets a `Cast` of that
/// operand to float before it, so the cast (a table of codes over its calibrated range) and
/// the real Pow each lower as they do alone.
pub fn real_pow(g: &mut Graph) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i < g.nodes.len() {
        let n = g.nodes[i].clone();
        let integer: Vec<bool> = n.inputs.iter().map(|t| t.is_some_and(|t| !g.tensors[t].is_float && !g.consts.contains_key(&t))).collect();
        if !(n.domain.is_empty() && n.op == "Pow" && g.tensors[n.outputs[0]].is_float && integer.contains(&true)) {
            i += 1;
            continue;
        }
        let mut pow = n.clone();
        let mut casts = vec![];
        for (k, slot) in pow.inputs.iter_mut().enumerate() {
            if let Some(t) = *slot
                && integer[k]
            {
                let (cast, real) = node(g, format!("{}.real{k}", n.name), "Cast", vec![t], vec![("to", Attr::Int(1))]);
                casts.push(cast);
                *slot = Some(real);
            }
        }
        let count = casts.len() + 1;
        casts.push(pow);
        g.nodes.splice(i..i + 1, casts);
        i += count;
        changed = true;
    }
    changed
}

/// `LayerNormalization(X, scale, bias)` becomes `mean = ReduceMean(X)`, `d = X − mean`,
/// `var = ReduceMean(d · d)`, `inv = Reciprocal(Sqrt(var + ε))`, `Y = d · inv · scale + bias`
/// (reductions over `axis..rank`, kept; `Mean` and `InvStdDev` are `mean` and `inv`);
/// `RMSNormalization(X, scale)` the same without the mean. Each intermediate gets its own
/// calibrated range (and the division is a product by a table's reciprocal).
pub fn normalizations(g: &mut Graph) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i < g.nodes.len() {
        let n = g.nodes[i].clone();
        let rms = n.op == "RMSNormalization";
        let Some(x) = n.input(0).filter(|_| n.domain.is_empty() && (rms || n.op == "LayerNormalization")) else {
            i += 1;
            continue;
        };
        let rank = g.shape(x).len();
        let Ok(axis) = crate::float::norm_axis(n.int("axis", -1), rank) else {
            i += 1;
            continue; // lowering reports the bad axis
        };
        let axes = || vec![("axes", Attr::Ints((axis as i64..rank as i64).collect())), ("keepdims", Attr::Int(1))];
        let tag = |s: &str| format!("{}.{s}", n.name);
        let mut new = vec![];
        let mut centered = x;
        if !rms {
            let (mut mean, m) = node(g, tag("mean"), "ReduceMean", vec![x], axes());
            if let Some(&out) = n.outputs.get(1) {
                mean.outputs[0] = out;
            }
            let m = n.outputs.get(1).copied().unwrap_or(m);
            new.push(mean);
            let (sub, d) = node(g, tag("centered"), "Sub", vec![x, m], vec![]);
            new.push(sub);
            centered = d;
        }
        let (sq, s2) = node(g, tag("square"), "Mul", vec![centered, centered], vec![]);
        let (var, v) = node(g, tag("variance"), "ReduceMean", vec![s2], axes());
        let eps = scalar(g, &tag("epsilon"), n.float("epsilon", 1e-5));
        let (add, ve) = node(g, tag("plus_epsilon"), "Add", vec![v, eps], vec![]);
        let (sqrt, sd) = node(g, tag("std"), "Sqrt", vec![ve], vec![]);
        let (mut recip, inv) = node(g, tag("inv_std"), "Reciprocal", vec![sd], vec![]);
        if let Some(&out) = n.outputs.get(2) {
            recip.outputs[0] = out;
        }
        let inv = n.outputs.get(2).copied().unwrap_or(inv);
        new.extend([sq, var, add, sqrt, recip]);
        let (norm, mut y) = node(g, tag("normalized"), "Mul", vec![centered, inv], vec![]);
        new.push(norm);
        if let Some(scale) = n.input(1) {
            let (nd, out) = node(g, tag("scaled"), "Mul", vec![y, scale], vec![]);
            new.push(nd);
            y = out;
        }
        if let Some(bias) = n.input(2).filter(|_| !rms) {
            let (nd, out) = node(g, tag("shifted"), "Add", vec![y, bias], vec![]);
            new.push(nd);
            y = out;
        }
        let _ = y;
        new.last_mut().expect("a product at least").outputs[0] = n.outputs[0];
        let count = new.len();
        g.nodes.splice(i..i + 1, new);
        i += count;
        changed = true;
    }
    changed
}

/// Apply the pass (see the module docs) to `g`; returns whether it changed the graph.
pub fn run(g: &mut Graph) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i < g.nodes.len() {
        let n = g.nodes[i].clone();
        let dynamic_b = n.input(1).is_some_and(|b| !g.is_const(b));
        if !(n.op == "Gemm" && n.domain.is_empty() && dynamic_b) {
            i += 1;
            continue;
        }
        let ga = GemmAttrs::parse(&n);
        let mut new = vec![];
        let mut operand = |g: &mut Graph, t: usize, trans: bool, tag: &str| -> usize {
            if !trans {
                return t;
            }
            let (nd, out) = node(g, format!("{}.transpose_{tag}", n.name), "Transpose", vec![t], vec![("perm", Attr::Ints(vec![1, 0]))]);
            new.push(nd);
            out
        };
        let a = operand(g, n.input(0).unwrap(), ga.trans_a, "a");
        let b = operand(g, n.input(1).unwrap(), ga.trans_b, "b");
        let (mm, mut y) = node(g, format!("{}.matmul", n.name), "MatMul", vec![a, b], vec![]);
        new.push(mm);
        let alpha = ga.alpha;
        if alpha != 1.0 {
            let k = scalar(g, &format!("{}.alpha", n.name), alpha);
            let (nd, out) = node(g, format!("{}.alpha", n.name), "Mul", vec![y, k], vec![]);
            new.push(nd);
            y = out;
        }
        let beta = ga.beta;
        if let Some(c) = n.input(2).filter(|_| beta != 0.0) {
            let c = if beta == 1.0 {
                c
            } else {
                let k = scalar(g, &format!("{}.beta", n.name), beta);
                let (nd, out) = node(g, format!("{}.beta", n.name), "Mul", vec![c, k], vec![]);
                new.push(nd);
                out
            };
            let (nd, out) = node(g, format!("{}.bias", n.name), "Add", vec![y, c], vec![]);
            new.push(nd);
            y = out;
        }
        // the last node writes the Gemm's output
        let last = new.last_mut().unwrap();
        let _ = y;
        last.outputs[0] = n.outputs[0];
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

    #[test]
    fn addmm_decomposes() {
        let mut g = graph(&[("a", &[3, 2]), ("b", &[4, 3]), ("c", &[4])]);
        let y = node_(
            &mut g,
            "Gemm",
            &[0, 1, 2],
            vec![("transA", Attr::Int(1)), ("transB", Attr::Int(1)), ("alpha", Attr::Float(0.5)), ("beta", Attr::Float(2.0))],
        );
        output(&mut g, y);
        let (g, changed) = check_preserves(g, run);
        assert!(changed);
        let ops: Vec<&str> = g.nodes.iter().map(|n| n.op.as_str()).collect();
        assert_eq!(ops, ["Transpose", "Transpose", "MatMul", "Mul", "Mul", "Add"]);
    }

    #[test]
    fn a_real_pow_casts_its_integer_operand() {
        let mut g = graph(&[("x", &[3]), ("e", &[3])]);
        g.tensors[1].is_float = false;
        // a positive base: a negative one to the test's fractional exponents is NaN
        let base = node_(&mut g, "Exp", &[0], vec![]);
        let y = node_(&mut g, "Pow", &[base, 1], vec![]);
        output(&mut g, y);
        let (g, changed) = check_preserves(g, real_pow);
        assert!(changed);
        let ops: Vec<&str> = g.nodes.iter().map(|n| n.op.as_str()).collect();
        assert_eq!(ops, ["Exp", "Cast", "Pow"]);
        assert_eq!(g.nodes[2].inputs, [Some(base), g.nodes[1].outputs.first().copied()]);
        // a real exponent stays
        let mut g = graph(&[("x", &[3]), ("e", &[3])]);
        let y = node_(&mut g, "Pow", &[0, 1], vec![]);
        output(&mut g, y);
        assert!(!real_pow(&mut g));
    }

    #[test]
    fn derived_reductions_decompose() {
        for (op, ops) in [
            ("ReduceL1", &["Abs", "ReduceSum"][..]),
            ("ReduceL2", &["Mul", "ReduceSum", "Sqrt"]),
            ("ReduceLogSumExp", &["ReduceMax", "Sub", "ReduceMax", "Exp", "ReduceSum", "Log", "Add"]),
            ("ReduceSumSquare", &["Mul", "ReduceSum"]),
        ] {
            let mut g = graph(&[("x", &[3, 4])]);
            let y = node_(&mut g, op, &[0], vec![("axes", Attr::Ints(vec![1])), ("keepdims", Attr::Int(0))]);
            output(&mut g, y);
            let (g, changed) = check_preserves(g, reductions);
            assert!(changed);
            assert_eq!(g.nodes.iter().map(|n| n.op.as_str()).collect::<Vec<_>>(), ops, "{op}");
        }
    }

    #[test]
    fn reduce_prod_decomposes_into_a_tree_of_products() {
        let ints = |g: &mut Graph, v: Vec<i64>| {
            let t = g.add_tensor("axes", false);
            g.tensors[t].shape = Some(vec![v.len()]);
            g.consts.insert(t, Value::Int(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v).unwrap()));
            t
        };
        // (axes input, attributes, expected ops): 15 factors, 5, all 15, none, one
        let split = "Split";
        let muls = |k: usize| vec!["Mul"; k];
        for (axes, keepdims, noop, ops) in [
            (Some(vec![1, -1]), 0, 0, [&["Reshape", split][..], &muls(14), &["Reshape"]].concat()),
            (Some(vec![1]), 1, 0, [&["Transpose", split][..], &muls(4), &["Reshape"]].concat()),
            (None, 1, 0, [&["Reshape", split][..], &muls(14), &["Reshape"]].concat()),
            (Some(vec![2, 1]), 1, 0, [&["Reshape", split][..], &muls(14), &["Reshape"]].concat()),
            (Some(vec![]), 0, 1, vec!["Identity"]),
            (Some(vec![0]), 0, 0, vec!["Reshape"]),
            (Some(vec![0]), 1, 0, vec!["Identity"]),
        ] {
            let mut g = graph(&[("x", &[1, 5, 3])]);
            let mut inputs = vec![0];
            if let Some(a) = axes.clone() {
                inputs.push(ints(&mut g, a));
            }
            let attrs = vec![("keepdims", Attr::Int(keepdims)), ("noop_with_empty_axes", Attr::Int(noop))];
            let y = node_(&mut g, "ReduceProd", &inputs, attrs);
            output(&mut g, y);
            let (g, changed) = check_preserves(g, products);
            assert!(changed);
            assert_eq!(g.nodes.iter().map(|n| n.op.as_str()).collect::<Vec<_>>(), ops, "{axes:?} {keepdims}");
        }
        // run-time axes, an empty axis and too many factors stay for lowering to refuse
        let mut g = graph(&[("x", &[2, 3]), ("axes", &[1])]);
        g.tensors[1].is_float = false;
        let y = node_(&mut g, "ReduceProd", &[0, 1], vec![]);
        output(&mut g, y);
        assert!(!products(&mut g));
        for shape in [&[2, 0][..], &[3, 300]] {
            let mut g = graph(&[("x", shape)]);
            let y = node_(&mut g, "ReduceProd", &[0], vec![("axes", Attr::Ints(vec![1]))]);
            output(&mut g, y);
            assert!(!products(&mut g), "{shape:?}");
        }
    }

    #[test]
    fn layer_and_rms_normalizations_decompose() {
        for (op, ops) in [
            ("LayerNormalization", &["ReduceMean", "Sub", "Mul", "ReduceMean", "Add", "Sqrt", "Reciprocal", "Mul", "Mul", "Add"][..]),
            ("RMSNormalization", &["Mul", "ReduceMean", "Add", "Sqrt", "Reciprocal", "Mul", "Mul"]),
        ] {
            let mut g = graph(&[("x", &[2, 3, 4]), ("scale", &[4]), ("bias", &[4])]);
            crate::calibrate::infer_shapes(&mut g).unwrap();
            let inputs: &[usize] = if op == "RMSNormalization" { &[0, 1] } else { &[0, 1, 2] };
            let y = node_(&mut g, op, inputs, vec![("axis", Attr::Int(-1)), ("epsilon", Attr::Float(1e-3))]);
            output(&mut g, y);
            let (g, changed) = check_preserves(g, normalizations);
            assert!(changed);
            assert_eq!(g.nodes.iter().map(|n| n.op.as_str()).collect::<Vec<_>>(), ops, "{op}");
        }
    }

    #[test]
    fn where_decomposes_unless_an_operand_is_infinite() {
        for (fill, decomposed) in [(-1.5f32, true), (f32::NEG_INFINITY, false)] {
            let mut g = graph(&[("c", &[2, 3]), ("x", &[2, 3])]);
            let f = scalar(&mut g, "fill", fill);
            let y = node_(&mut g, "Where", &[0, 1, f], vec![]);
            output(&mut g, y);
            let (g, changed) = check_preserves(g, select);
            assert_eq!(changed, decomposed, "{fill}");
            let ops: Vec<&str> = g.nodes.iter().map(|n| n.op.as_str()).collect();
            assert_eq!(ops, if decomposed { &["Not", "Not", "Mul", "Mul", "Add"][..] } else { &["Where"] }, "{fill}");
        }
    }

    fn node_(g: &mut Graph, op: &str, inputs: &[usize], attrs: Vec<(&str, Attr)>) -> usize {
        crate::passes::testutil::node(g, op, inputs, attrs)
    }
}
