//! `Einsum(x₁, …, xₙ)`, attribute `equation` (`"ij,jk->ik"`; spaces ignored; `...` for
//! broadcast leading axes; without `->` the output is the labels used once, in alphabetical
//! order, after the `...` axes): `y[out] = Σ_{other labels} Π_k xₖ[labels of k]`, a label
//! repeated within one operand reading its diagonal.
//!
//! Float semantics: that sum, label by label, in `f32`. Expanded before calibration
//! ([`crate::passes::expand_ops`]), operand by operand, into ops with lowerings of their own:
//! a repeated label becomes `Transpose` + `Reshape` + `Gather` of the diagonal (constant
//! indices); labels no later operand nor the output uses become a `ReduceSum`; two operands
//! are contracted by one `MatMul` (`Transpose` and `Reshape` to `[batch…, M, K] × [batch…, K,
//! N]`: batch labels in both operands and the result, contracted labels in both operands
//! only); the result is put in the output order by `Transpose`. A constant right operand with
//! no batch labels makes the MatMul a Dense.

use std::collections::BTreeMap;

use ndarray::{ArrayD, IxDyn};

use super::{OpDef, R};
use crate::{
    float::broadcast_shape,
    ir::{Attr, Graph, Node, Tid, Value},
    passes::expand_ops::{Expansion, lower_expanded},
};

pub(crate) const OPS: &[OpDef] = &[OpDef::new("", "Einsum", eval, lower_expanded)];

/// A parsed equation: each operand's labels and the output's (the `...` axes as labels
/// `'\u{100}' + k`).
#[derive(Debug, PartialEq)]
struct Equation {
    inputs: Vec<Vec<char>>,
    output: Vec<char>,
}

/// The label of broadcast axis `k` (of `count`, counting from the first).
fn ellipsis_labels(count: usize, total: usize) -> Vec<char> {
    (total - count..total).map(|k| char::from_u32(0x100 + k as u32).unwrap_or('\u{100}')).collect()
}

/// Parse `equation` for operands of `ranks`.
fn parse(equation: &str, ranks: &[usize]) -> R<Equation> {
    let eq: String = equation.chars().filter(|c| !c.is_whitespace()).collect();
    let (lhs, rhs) = match eq.split_once("->") {
        Some((l, r)) => (l, Some(r)),
        None => (eq.as_str(), None),
    };
    let terms: Vec<&str> = lhs.split(',').collect();
    if terms.len() != ranks.len() {
        return Err(format!("Einsum equation `{equation}` has {} operands, the node {}", terms.len(), ranks.len()));
    }
    let letters = |t: &str| -> R<(Vec<char>, bool)> {
        let ell = t.contains("...");
        let rest = t.replacen("...", "", 1);
        if rest.contains('.') || rest.chars().any(|c| !c.is_ascii_alphabetic()) {
            return Err(format!("Einsum term `{t}` of `{equation}`: only letters and one `...`"));
        }
        Ok((t.chars().filter(|c| *c != '.').collect(), ell))
    };
    // the number of broadcast axes: the most any operand has
    let mut ell_total = 0;
    let mut parsed = vec![];
    for (t, &rank) in terms.iter().zip(ranks) {
        let (l, ell) = letters(t)?;
        if l.len() > rank || (!ell && l.len() != rank) {
            return Err(format!("Einsum term `{t}` for an operand of rank {rank}"));
        }
        ell_total = ell_total.max(rank - l.len());
        parsed.push((t.to_string(), l, rank));
    }
    let expand = |t: &str, l: &[char], count: usize| -> Vec<char> {
        match t.find("...") {
            Some(pos) => {
                let before = t[..pos].chars().count();
                let mut v = l[..before].to_vec();
                v.extend(ellipsis_labels(count, ell_total));
                v.extend(&l[before..]);
                v
            }
            None => l.to_vec(),
        }
    };
    let inputs: Vec<Vec<char>> = parsed.iter().map(|(t, l, rank)| expand(t, l, rank - l.len())).collect();
    let output = match rhs {
        Some(r) => {
            let (l, _) = letters(r)?;
            if l.iter().any(|c| !inputs.iter().any(|i| i.contains(c))) {
                return Err(format!("Einsum output `{r}` names a label no operand has"));
            }
            let mut seen = l.clone();
            seen.sort_unstable();
            seen.dedup();
            if seen.len() != l.len() {
                return Err(format!("Einsum output `{r}` repeats a label"));
            }
            expand(r, &l, ell_total)
        }
        None => {
            let mut counts: BTreeMap<char, usize> = BTreeMap::new();
            for c in inputs.iter().flatten().filter(|c| c.is_ascii_alphabetic()) {
                *counts.entry(*c).or_default() += 1;
            }
            let mut out = ellipsis_labels(ell_total, ell_total);
            out.extend(counts.iter().filter(|&(_, &k)| k == 1).map(|(&c, _)| c));
            out
        }
    };
    Ok(Equation { inputs, output })
}

/// Each label's length over operands of `shapes` (broadcast axes may be 1 in some operands).
fn label_sizes(eq: &Equation, shapes: &[Vec<usize>]) -> R<BTreeMap<char, usize>> {
    let mut sizes: BTreeMap<char, usize> = BTreeMap::new();
    for (labels, shape) in eq.inputs.iter().zip(shapes) {
        for (&c, &d) in labels.iter().zip(shape) {
            let s = sizes.entry(c).or_insert(d);
            if *s != d {
                if *s == 1 && !c.is_ascii_alphabetic() {
                    *s = d;
                } else if d != 1 || c.is_ascii_alphabetic() {
                    return Err(format!("Einsum label `{c}` has lengths {s} and {d}"));
                }
            }
        }
    }
    Ok(sizes)
}

fn eval(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let xs: Vec<ArrayD<f32>> =
        ins.iter().map(|v| v.map(|v| v.to_f32()).ok_or_else(|| "Einsum operand missing".to_string())).collect::<R<_>>()?;
    let shapes: Vec<Vec<usize>> = xs.iter().map(|x| x.shape().to_vec()).collect();
    let eq = parse(&n.str("equation", ""), &shapes.iter().map(|s| s.len()).collect::<Vec<_>>())?;
    let sizes = label_sizes(&eq, &shapes)?;
    let mut labels = eq.output.clone();
    labels.extend(sizes.keys().filter(|c| !eq.output.contains(c)));
    let dims: Vec<usize> = labels.iter().map(|c| sizes[c]).collect();
    let out_shape: Vec<usize> = dims[..eq.output.len()].to_vec();
    super::check_elements(&out_shape, "the Einsum output")?;
    super::check_work(&dims, "Einsum")?;
    let pos = |c: &char| labels.iter().position(|l| l == c).unwrap_or(0);
    let index_of: Vec<Vec<usize>> = eq.inputs.iter().map(|l| l.iter().map(pos).collect()).collect();
    let inner: usize = dims[eq.output.len()..].iter().product();
    let mut out = ArrayD::<f32>::zeros(IxDyn(&out_shape));
    let mut idx = vec![0usize; labels.len()];
    for (o, v) in out.iter_mut().enumerate() {
        let mut r = o;
        for d in (0..eq.output.len()).rev() {
            idx[d] = r % dims[d];
            r /= dims[d];
        }
        let mut acc = 0f32;
        for i in 0..inner {
            let mut r = i;
            for d in (eq.output.len()..labels.len()).rev() {
                idx[d] = r % dims[d];
                r /= dims[d];
            }
            let mut p = 1f32;
            for (x, ix) in xs.iter().zip(&index_of) {
                // broadcast axes of length 1 read index 0
                let at: Vec<usize> = ix.iter().zip(x.shape()).map(|(&l, &d)| if d == 1 { 0 } else { idx[l] }).collect();
                p *= x[IxDyn(&at)];
            }
            acc += p;
        }
        *v = acc;
    }
    Ok(vec![Value::Float(out)])
}

/// An operand in the expansion: its tensor, labels and shape.
struct Term {
    t: Tid,
    labels: Vec<char>,
    shape: Vec<usize>,
}

/// The term with its axes in the order `labels`.
fn permute(e: &mut Expansion<'_>, x: Term, labels: &[char]) -> Term {
    let perm: Vec<usize> = labels.iter().map(|c| x.labels.iter().position(|l| l == c).unwrap_or(0)).collect();
    let shape = perm.iter().map(|&p| x.shape[p]).collect();
    Term { t: e.transpose(x.t, &perm), labels: labels.to_vec(), shape }
}

/// The term with every repeated label read on its diagonal, and the labels not in `keep`
/// summed.
fn simplify(e: &mut Expansion<'_>, mut x: Term, keep: &[char]) -> R<Term> {
    while let Some((i, j)) = (0..x.labels.len()).find_map(|i| (i + 1..x.labels.len()).find(|&j| x.labels[j] == x.labels[i]).map(|j| (i, j)))
    {
        let (c, d) = (x.labels[i], x.shape[i]);
        let mut order: Vec<char> = x.labels.iter().enumerate().filter(|&(k, _)| k != i && k != j).map(|(_, &l)| l).collect();
        let mut perm: Vec<usize> = (0..x.labels.len()).filter(|&k| k != i && k != j).collect();
        perm.extend([i, j]);
        let t = e.transpose(x.t, &perm);
        let mut shape: Vec<usize> = perm[..perm.len() - 2].iter().map(|&p| x.shape[p]).collect();
        let mut flat = shape.clone();
        flat.push(d * d);
        let t = e.reshape(t, &flat)?;
        let idx = e.ints(&(0..d).map(|k| (k * (d + 1)) as i64).collect::<Vec<_>>());
        let t = e.op("Gather", &[t, idx], vec![("axis", Attr::Int(shape.len() as i64))]);
        order.push(c);
        shape.push(d);
        x = Term { t, labels: order, shape };
    }
    let summed: Vec<usize> = (0..x.labels.len()).filter(|&k| !keep.contains(&x.labels[k])).collect();
    if summed.is_empty() {
        return Ok(x);
    }
    let axes = Attr::Ints(summed.iter().map(|&a| a as i64).collect());
    let t = e.op("ReduceSum", &[x.t], vec![("axes", axes), ("keepdims", Attr::Int(0))]);
    let kept: Vec<usize> = (0..x.labels.len()).filter(|k| !summed.contains(k)).collect();
    Ok(Term { t, labels: kept.iter().map(|&k| x.labels[k]).collect(), shape: kept.iter().map(|&k| x.shape[k]).collect() })
}

/// `a · b` contracted by one MatMul, keeping the labels in `keep`.
fn contract(e: &mut Expansion<'_>, a: Term, b: Term, keep: &[char]) -> R<Term> {
    let in_b = |c: &char| b.labels.contains(c);
    let batch: Vec<char> = a.labels.iter().filter(|c| in_b(c) && keep.contains(c)).copied().collect();
    let inner: Vec<char> = a.labels.iter().filter(|c| in_b(c) && !keep.contains(c)).copied().collect();
    let a_only: Vec<char> = a.labels.iter().filter(|c| !in_b(c)).copied().collect();
    let b_only: Vec<char> = b.labels.iter().filter(|c| !a.labels.contains(c)).copied().collect();
    let size = |x: &Term, c: char| x.shape[x.labels.iter().position(|&l| l == c).unwrap_or(0)];
    for &c in &inner {
        if size(&a, c) != size(&b, c) {
            return Err(format!("Einsum contracts label `{c}` of lengths {} and {}", size(&a, c), size(&b, c)));
        }
    }
    let prod = |x: &Term, ls: &[char]| ls.iter().map(|&c| size(x, c)).product::<usize>();
    let (m, k, nn) = (prod(&a, &a_only), prod(&a, &inner), prod(&b, &b_only));
    let (ba, bb): (Vec<usize>, Vec<usize>) = (batch.iter().map(|&c| size(&a, c)).collect(), batch.iter().map(|&c| size(&b, c)).collect());
    let out_batch = broadcast_shape(&ba, &bb)?;
    let la: Vec<char> = batch.iter().chain(&a_only).chain(&inner).copied().collect();
    let lb: Vec<char> = batch.iter().chain(&inner).chain(&b_only).copied().collect();
    let (pa, pb) = (permute(e, a, &la), permute(e, b, &lb));
    let mut sa = ba.clone();
    sa.extend([m, k]);
    let mut sb = bb.clone();
    sb.extend([k, nn]);
    let ta = if pa.shape == sa { pa.t } else { e.reshape(pa.t, &sa)? };
    let tb = if pb.shape == sb { pb.t } else { e.reshape(pb.t, &sb)? };
    let y = e.op("MatMul", &[ta, tb], vec![]);
    let mut labels = batch.clone();
    labels.extend(&a_only);
    labels.extend(&b_only);
    let mut shape = out_batch;
    shape.extend(a_only.iter().map(|&c| size(&pa, c)));
    shape.extend(b_only.iter().map(|&c| size(&pb, c)));
    let mut product = broadcast_shape(&ba, &bb)?;
    product.extend([m, nn]);
    let t = if product == shape { y } else { e.reshape(y, &shape)? };
    Ok(Term { t, labels, shape })
}

/// Einsum: operand by operand, simplified and contracted into the running result.
pub(crate) fn expand(e: &mut Expansion<'_>, n: &Node) -> R<Tid> {
    let xs: Vec<Tid> = n.inputs.iter().map(|t| t.ok_or_else(|| "Einsum operand missing".to_string())).collect::<R<_>>()?;
    if xs.is_empty() {
        return Err("Einsum needs an operand".into());
    }
    let shapes: Vec<Vec<usize>> = xs.iter().map(|&t| e.shape(t)).collect();
    let eq = parse(&n.str("equation", ""), &shapes.iter().map(|s| s.len()).collect::<Vec<_>>())?;
    label_sizes(&eq, &shapes)?;
    // the labels still needed after operand `k`: the output's and later operands'
    let needed = |k: usize| -> Vec<char> {
        let mut v = eq.output.clone();
        v.extend(eq.inputs[k + 1..].iter().flatten());
        v
    };
    let term = |k: usize| Term { t: xs[k], labels: eq.inputs[k].clone(), shape: shapes[k].clone() };
    // labels of the running result and of the next operand both stay until contracted
    let keep_with = |k: usize, other: &[char]| -> Vec<char> {
        let mut v = needed(k);
        v.extend(other);
        v
    };
    let first_keep = keep_with(0, eq.inputs.get(1).map_or(&[][..], |v| v.as_slice()));
    let mut acc = simplify(e, term(0), &first_keep)?;
    for k in 1..xs.len() {
        let b = simplify(e, term(k), &keep_with(k, &acc.labels))?;
        acc = contract(e, acc, b, &needed(k))?;
    }
    let acc = simplify(e, acc, &eq.output)?;
    Ok(permute(e, acc, &eq.output).t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::expand_ops::tests::expands;

    #[test]
    fn equations_parse_with_ellipses_and_implicit_outputs() {
        let eq = parse("...ii ->...i", &[3]).unwrap();
        let e0 = ellipsis_labels(1, 1)[0];
        assert_eq!(eq, Equation { inputs: vec![vec![e0, 'i', 'i']], output: vec![e0, 'i'] });
        assert_eq!(parse("ij,jk", &[2, 2]).unwrap().output, ['i', 'k']);
        assert!(parse("ij,jk->ik", &[2]).unwrap_err().contains("2 operands"));
        assert!(parse("ij->iz", &[2]).unwrap_err().contains("no operand"));
    }

    #[test]
    fn einsum_evaluates_a_matrix_product() {
        let g = Graph::default();
        let n = Node {
            name: "e".into(),
            op: "Einsum".into(),
            domain: String::new(),
            attrs: [("equation".to_string(), Attr::Str("ij,jk->ik".into()))].into(),
            inputs: vec![],
            outputs: vec![],
        };
        let a = Value::Float(ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1.0, 2.0, 3.0, 4.0]).unwrap());
        let b = Value::Float(ArrayD::from_shape_vec(IxDyn(&[2, 1]), vec![1.0, -1.0]).unwrap());
        let y = eval(&g, &n, &[Some(&a), Some(&b)]).unwrap().remove(0);
        assert_eq!(y.to_f32().as_slice().unwrap(), [-1.0, -1.0]);
    }

    #[test]
    fn einsum_forms_expand() {
        let eq = |s: &str| vec![("equation", Attr::Str(s.into()))];
        assert_eq!(expands("Einsum", &[&[5, 2, 3], &[5, 3, 4]], vec![], eq("bij, bjk -> bik")), ["MatMul"]);
        assert_eq!(expands("Einsum", &[&[5], &[5]], vec![], eq("i,i")), ["Reshape", "Reshape", "MatMul", "Reshape"]);
        assert_eq!(expands("Einsum", &[&[3, 4]], vec![], eq("ij->ji")), ["Transpose"]);
        assert_eq!(expands("Einsum", &[&[3, 4]], vec![], eq("ij->i")), ["ReduceSum"]);
        assert_eq!(expands("Einsum", &[&[]], vec![], eq("->")), ["Identity"]);
        assert_eq!(expands("Einsum", &[&[3, 5, 5]], vec![], eq("...ii ->...i")), ["Reshape", "Gather"]);
        let ops = expands("Einsum", &[&[2, 3], &[3, 4], &[4]], vec![], eq("ij,jk,k->i"));
        assert_eq!(ops.iter().filter(|o| *o == "MatMul").count(), 2);
        expands("Einsum", &[&[2, 3, 4], &[4, 3]], vec![], eq("bij,ji->b"));
        expands("Einsum", &[&[2, 3], &[1, 3]], vec![], eq("...j,...j->..."));
    }
}
