//! BatchNormalization folded into the Conv or Gemm before it: with
//! `k[c] = scale[c] / sqrt(var[c] + eps)`, weights of output channel `c` are multiplied by
//! `k[c]` and the bias becomes `(b[c] − mean[c]) · k[c] + bias_bn[c]`. Only when the
//! Conv/Gemm output feeds nothing else and its weights are constants.

use ndarray::{ArrayD, Axis, IxDyn};

use crate::{
    ir::{Graph, Value},
    ops::{gemm::GemmAttrs, normalization},
};

/// Apply the pass (see the module docs) to `g`; returns whether it changed the graph.
pub fn run(g: &mut Graph) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i < g.nodes.len() {
        if let Some(j) = candidate(g, i) {
            fold(g, j, i);
            changed = true;
        }
        i += 1;
    }
    changed
}

/// Index of the producing Conv/Gemm when node `i` is a foldable BatchNormalization.
fn candidate(g: &Graph, i: usize) -> Option<usize> {
    let bn = &g.nodes[i];
    if bn.op != "BatchNormalization" || !bn.domain.is_empty() || bn.outputs.len() != 1 {
        return None;
    }
    if !(1..5).all(|k| bn.input(k).is_some_and(|t| g.is_const(t))) {
        return None;
    }
    let x = bn.input(0)?;
    let j = g.nodes.iter().position(|n| n.outputs.contains(&x))?;
    let p = &g.nodes[j];
    let ok_op = matches!(p.op.as_str(), "Conv" | "Gemm") && p.domain.is_empty();
    let consts = p.input(1).is_some_and(|t| g.is_const(t)) && p.input(2).is_none_or(|t| g.is_const(t));
    (ok_op && consts && g.consumers().get(&x) == Some(&1) && !p.attrs.contains_key("solidml.clamp")).then_some(j)
}

fn fold(g: &mut Graph, j: usize, i: usize) {
    let bn = g.nodes[i].clone();
    let get = |k: usize| g.consts[&bn.input(k).unwrap()].to_f32().iter().copied().collect::<Vec<f32>>();
    let (scale, bias, mean, var) = (get(1), get(2), get(3), get(4));
    let eps = normalization::epsilon(&bn);
    let k: Vec<f32> = scale.iter().zip(&var).map(|(s, v)| s / (v + eps).sqrt()).collect();
    let p = g.nodes[j].clone();
    let wt = p.input(1).unwrap();
    let mut w = g.consts[&wt].to_f32();
    // output channel axis of the weights: 0 for Conv and Gemm with transB, 1 for plain Gemm
    let axis = if p.op == "Gemm" && !GemmAttrs::parse(&p).trans_b { 1 } else { 0 };
    for (c, &kc) in k.iter().enumerate() {
        w.index_axis_mut(Axis(axis), c).mapv_inplace(|v| v * kc);
    }
    let beta = if p.op == "Gemm" { GemmAttrs::parse(&p).beta } else { 1.0 };
    let old_b: Vec<f32> = match p.input(2) {
        Some(t) => {
            let b = g.consts[&t].to_f32() * beta;
            if b.len() == k.len() { b.iter().copied().collect() } else { vec![b.iter().next().copied().unwrap_or(0.0); k.len()] }
        }
        None => vec![0.0; k.len()],
    };
    let new_b: Vec<f32> = (0..k.len()).map(|c| (old_b[c] - mean[c]) * k[c] + bias[c]).collect();
    let wt_new = g.add_tensor(&format!("{}_bnfolded_w", p.name), true);
    g.tensors[wt_new].shape = Some(w.shape().to_vec());
    g.consts.insert(wt_new, Value::Float(w));
    let bt_new = g.add_tensor(&format!("{}_bnfolded_b", p.name), true);
    g.tensors[bt_new].shape = Some(vec![k.len()]);
    g.consts.insert(bt_new, Value::Float(ArrayD::from_shape_vec(IxDyn(&[k.len()]), new_b).unwrap()));
    let prod = &mut g.nodes[j];
    prod.inputs = vec![prod.inputs[0], Some(wt_new), Some(bt_new)];
    if prod.op == "Gemm" {
        prod.attrs.insert("beta".into(), crate::ir::Attr::Float(1.0));
    }
    // the Conv now writes the BatchNormalization's output; the BN node goes
    let bn_out = bn.outputs[0];
    prod.outputs[0] = bn_out;
    g.nodes.remove(i);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ir::Attr, passes::testutil::*};

    #[test]
    fn folds_into_conv() {
        let mut g = graph(&[("x", &[1, 2, 5, 5])]);
        let w = constant(&mut g, "w", &[3, 2, 3, 3], (0..54).map(|i| (i as f32 * 0.37).sin()).collect());
        let b = constant(&mut g, "b", &[3], vec![0.1, -0.2, 0.3]);
        let c = node(&mut g, "Conv", &[0, w, b], vec![("pads", Attr::Ints(vec![1, 1, 1, 1]))]);
        let s = constant(&mut g, "s", &[3], vec![1.5, 0.5, -2.0]);
        let bb = constant(&mut g, "bb", &[3], vec![0.3, 0.0, -0.1]);
        let m = constant(&mut g, "m", &[3], vec![0.2, -0.4, 1.0]);
        let v = constant(&mut g, "v", &[3], vec![0.5, 2.0, 1.0]);
        let y = node(&mut g, "BatchNormalization", &[c, s, bb, m, v], vec![]);
        output(&mut g, y);
        let (g, changed) = check_preserves(g, run);
        assert!(changed);
        assert_eq!(g.nodes.len(), 1);
        assert_eq!(g.nodes[0].op, "Conv");
    }
}
