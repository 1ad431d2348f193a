//! `RNN`, `GRU` and `LSTM` unrolled before calibration over their static sequence length
//! into MatMul (Dense for constant weights), Slice, Add/Sub/Mul, the activations (tables) and
//! Concat: the formulas are in [`crate::ops::recurrent`]'s docs. Every step's state is a
//! tensor `[1, B, H]` with a calibrated range of its own.
//!
//! A node whose form is not supported is left in place; its lowering then reports why
//! ([`plan`]).

use ndarray::{ArrayD, IxDyn};

use super::decompose_attention::{Builder, expand};
use crate::{
    ir::{Attr, Graph, Node, Tid, Value},
    ops::recurrent::{Cell, MAX_UNROLL, RecurrentDims},
};

type R<T> = std::result::Result<T, String>;

/// The checked sizes of recurrent node `n`, or why its form is not supported.
pub fn plan(g: &Graph, n: &Node) -> R<RecurrentDims> {
    let shapes: Vec<Option<Vec<usize>>> = (0..8).map(|i| n.input(i).map(|t| g.shape(t).to_vec())).collect();
    let d = RecurrentDims::parse(n, &shapes)?;
    if d.len == 0 || d.batch == 0 || d.hidden == 0 {
        return Err(format!("{} over an empty sequence, batch or state", n.op));
    }
    if d.len > MAX_UNROLL {
        return Err(format!("{} over {} steps: at most {MAX_UNROLL} are unrolled", n.op, d.len));
    }
    if let Some(s) = n.input(4)
        && g.tensors[s].is_float
    {
        return Err(format!("{} sequence_lens is a real tensor, not integers", n.op));
    }
    Ok(d)
}

/// Whether `sequence_lens` needs masking: present, and not a constant equal to the sequence
/// length everywhere.
fn masked(g: &Graph, n: &Node, len: usize) -> bool {
    n.input(4).is_some_and(|s| g.consts.get(&s).is_none_or(|v| v.to_i64().iter().any(|&l| l != len as i64)))
}

/// Output `i` of `n` when the model reads it (present and named).
fn wanted(g: &Graph, n: &Node, i: usize) -> Option<Tid> {
    n.outputs.get(i).copied().filter(|&t| !g.tensors[t].name.is_empty())
}

/// Row `d` of a `[dirs, …]` input, as `shape`.
fn row(b: &mut Builder<'_>, x: Tid, d: usize, shape: &[usize]) -> R<Tid> {
    let s = b.slice(x, 0, d, d + 1, 1)?;
    b.reshape(s, shape)
}

fn recurrent(b: &mut Builder<'_>, n: &Node) -> R<()> {
    let dm = plan(b.g, n)?;
    let (s_len, batch, h, gates) = (dm.len, dm.batch, dm.hidden, dm.cell.gates());
    let mut x = n.input(0).ok_or("X")?;
    if dm.batch_first {
        x = b.transpose(x, &[1, 0, 2])?;
    }
    let (w, r) = (n.input(1).ok_or("W")?, n.input(2).ok_or("R")?);
    let state_input = |b: &mut Builder<'_>, i: usize| -> R<Option<Tid>> {
        match n.input(i) {
            Some(t) if dm.batch_first => Ok(Some(b.transpose(t, &[1, 0, 2])?)),
            t => Ok(t),
        }
    };
    let (h0, c0) = (state_input(b, 5)?, state_input(b, 6)?);
    // with sequence_lens: `valid [B, S]`, row L of a constant table (1 for steps t < L)
    let valid = match n.input(4).filter(|_| masked(b.g, n, s_len)) {
        Some(lens) => {
            let table: Vec<f32> = (0..(s_len + 1) * s_len).map(|e| ((e % s_len) < e / s_len) as u8 as f32).collect();
            let table = b.floats(&[s_len + 1, s_len], table)?;
            Some(b.op("Gather", &[table, lens], vec![("axis", Attr::Int(0))])?)
        }
        None => None,
    };
    let na = match dm.cell {
        Cell::Rnn => 1,
        Cell::Gru => 2,
        Cell::Lstm => 3,
    };
    let mut ys = vec![];
    let mut hs = vec![];
    let mut cs = vec![];
    for (d, &rev) in dm.reverse.iter().enumerate() {
        let acts = dm.activations[d * na..(d + 1) * na].to_vec();
        let wd = row(b, w, d, &[gates * h, dm.input])?;
        let rd = row(b, r, d, &[gates * h, h])?;
        let bd = match n.input(3) {
            Some(bias) => Some(row(b, bias, d, &[2 * gates * h])?),
            None => None,
        };
        let pd = match n.input(7) {
            Some(p) if dm.cell == Cell::Lstm => Some(row(b, p, d, &[3 * h])?),
            _ => None,
        };
        // per gate: X · W_gᵀ + bias for every step, R_gᵀ, and the bias of the recurrent part
        // that stays apart (GRU with linear_before_reset)
        let mut xw = vec![];
        let mut rt = vec![];
        let mut rbh = None;
        for k in 0..gates {
            let wg = b.slice(wd, 0, k * h, (k + 1) * h, 1)?;
            let wgt = b.transpose(wg, &[1, 0])?;
            let mut xg = b.binary("MatMul", x, wgt)?;
            if let Some(bd) = bd {
                let wb = b.slice(bd, 0, k * h, (k + 1) * h, 1)?;
                let rb = b.slice(bd, 0, (gates + k) * h, (gates + k + 1) * h, 1)?;
                let bias = if dm.cell == Cell::Gru && k == 2 && dm.linear_before_reset {
                    rbh = Some(rb);
                    wb
                } else {
                    b.binary("Add", wb, rb)?
                };
                xg = b.binary("Add", xg, bias)?;
            }
            xw.push(xg);
            let rg = b.slice(rd, 0, k * h, (k + 1) * h, 1)?;
            rt.push(b.transpose(rg, &[1, 0])?);
        }
        let peep = |b: &mut Builder<'_>, k: usize| -> R<Option<Tid>> {
            match pd {
                Some(p) => Ok(Some(b.slice(p, 0, k * h, (k + 1) * h, 1)?)),
                None => Ok(None),
            }
        };
        let (pi, po, pf) = (peep(b, 0)?, peep(b, 1)?, peep(b, 2)?);
        let mut hp = match h0 {
            Some(t) => Some(row(b, t, d, &[1, batch, h])?),
            None => None,
        };
        let mut cp = match c0 {
            Some(t) if dm.cell == Cell::Lstm => Some(row(b, t, d, &[1, batch, h])?),
            _ => None,
        };
        let activate = |b: &mut Builder<'_>, x: Tid, f: &str| -> R<Tid> {
            let x = match dm.clip {
                Some(c) => b.op("Clip", &[x], vec![("min", Attr::Float(-c)), ("max", Attr::Float(c))])?,
                None => x,
            };
            b.unary(f, x)
        };
        // x_g at step t plus the recurrent product (when there is a state) and more terms
        let pre = |b: &mut Builder<'_>, k: usize, t: usize, state: Option<Tid>, extra: &[Tid]| -> R<Tid> {
            let mut v = b.slice(xw[k], 0, t, t + 1, 1)?;
            if let Some(s) = state {
                let p = b.binary("MatMul", s, rt[k])?;
                v = b.binary("Add", v, p)?;
            }
            for &e in extra {
                v = b.binary("Add", v, e)?;
            }
            Ok(v)
        };
        let mut steps = vec![None; s_len];
        let order: Vec<usize> = if rev { (0..s_len).rev().collect() } else { (0..s_len).collect() };
        for t in order {
            let (hprev, cprev) = (hp, cp);
            let mut hn = match dm.cell {
                Cell::Rnn => {
                    let p = pre(b, 0, t, hp, &[])?;
                    activate(b, p, &acts[0])?
                }
                Cell::Gru => {
                    // u = 1 − z (σ(−x) for a sigmoid, which keeps the precision of a z near 1)
                    let pz = pre(b, 0, t, hp, &[])?;
                    let u = if acts[0] == "Sigmoid" {
                        let neg = b.unary("Neg", pz)?;
                        activate(b, neg, "Sigmoid")?
                    } else {
                        let z = activate(b, pz, &acts[0])?;
                        let one = b.scalar(1.0);
                        b.binary("Sub", one, z)?
                    };
                    let pr = pre(b, 1, t, hp, &[])?;
                    let rg = activate(b, pr, &acts[0])?;
                    let ph = if dm.linear_before_reset {
                        let rec = match (hp, rbh) {
                            (Some(s), _) => {
                                let p = b.binary("MatMul", s, rt[2])?;
                                Some(match rbh {
                                    Some(rb) => b.binary("Add", p, rb)?,
                                    None => p,
                                })
                            }
                            (None, rb) => rb,
                        };
                        let extra = match rec {
                            Some(rec) => vec![b.binary("Mul", rg, rec)?],
                            None => vec![],
                        };
                        pre(b, 2, t, None, &extra)?
                    } else {
                        let extra = match hp {
                            Some(s) => {
                                let gated = b.binary("Mul", rg, s)?;
                                vec![b.binary("MatMul", gated, rt[2])?]
                            }
                            None => vec![],
                        };
                        pre(b, 2, t, None, &extra)?
                    };
                    let hh = activate(b, ph, &acts[1])?;
                    // H + u ⊙ (ĥ − H), or u ⊙ ĥ from a zero state
                    match hp {
                        Some(s) => {
                            let diff = b.binary("Sub", hh, s)?;
                            let m = b.binary("Mul", u, diff)?;
                            b.binary("Add", s, m)?
                        }
                        None => b.binary("Mul", u, hh)?,
                    }
                }
                Cell::Lstm => {
                    let peephole = |b: &mut Builder<'_>, p: Option<Tid>, c: Option<Tid>| -> R<Vec<Tid>> {
                        match (p, c) {
                            (Some(p), Some(c)) => Ok(vec![b.binary("Mul", c, p)?]),
                            _ => Ok(vec![]),
                        }
                    };
                    let e = peephole(b, pi, cp)?;
                    let p = pre(b, 0, t, hp, &e)?;
                    let i = activate(b, p, &acts[0])?;
                    let e = peephole(b, pf, cp)?;
                    let p = pre(b, 2, t, hp, &e)?;
                    let f = activate(b, p, &acts[0])?;
                    let p = pre(b, 3, t, hp, &[])?;
                    let cc = activate(b, p, &acts[1])?;
                    let ic = b.binary("Mul", i, cc)?;
                    let cn = match cp {
                        Some(c) => {
                            let fc = b.binary("Mul", f, c)?;
                            b.binary("Add", fc, ic)?
                        }
                        None => ic,
                    };
                    let e = peephole(b, po, Some(cn))?;
                    let p = pre(b, 1, t, hp, &e)?;
                    let o = activate(b, p, &acts[0])?;
                    let hc = b.unary(&acts[2], cn)?;
                    cp = Some(cn);
                    b.binary("Mul", o, hc)?
                }
            };
            // past a row's length: Y is 0 and the state stays (H + valid ⊙ (H' − H))
            let mut y = hn;
            if let Some(valid) = valid {
                let k = b.slice(valid, 1, t, t + 1, 1)?;
                let k = b.reshape(k, &[1, batch, 1])?;
                y = b.binary("Mul", hn, k)?;
                let keep = |b: &mut Builder<'_>, prev: Option<Tid>, new: Tid, masked: Tid| -> R<Tid> {
                    match prev {
                        Some(p) => {
                            let diff = b.binary("Sub", new, p)?;
                            let m = b.binary("Mul", diff, k)?;
                            b.binary("Add", p, m)
                        }
                        None => Ok(masked),
                    }
                };
                hn = keep(b, hprev, hn, y)?;
                if let Some(c) = cp.filter(|_| dm.cell == Cell::Lstm) {
                    let cm = b.binary("Mul", c, k)?;
                    cp = Some(keep(b, cprev, c, cm)?);
                }
            }
            hp = Some(hn);
            steps[t] = Some(y);
        }
        if wanted(b.g, n, 0).is_some() {
            let mut parts = vec![];
            for s in steps.into_iter().flatten() {
                parts.push(b.reshape(s, &[1, 1, batch, h])?);
            }
            ys.push(b.concat(&parts, 0)?);
        }
        hs.push(match hp {
            Some(t) => t,
            None => b.constant(Value::Float(ArrayD::zeros(IxDyn(&[1, batch, h])))),
        });
        cs.push(match cp {
            Some(t) => t,
            None => b.constant(Value::Float(ArrayD::zeros(IxDyn(&[1, batch, h])))),
        });
    }
    let outs: [(Vec<Tid>, i64, &[i64]); 3] = [(ys, 1, &[2, 0, 1, 3]), (hs, 0, &[1, 0, 2]), (cs, 0, &[1, 0, 2])];
    for (i, (parts, axis, perm)) in outs.into_iter().enumerate() {
        let Some(out) = wanted(b.g, n, i).filter(|_| i < 2 || dm.cell == Cell::Lstm) else { continue };
        let mut y = b.concat(&parts, axis)?;
        if dm.batch_first {
            y = b.transpose(y, perm)?;
        }
        b.op_to("Identity", &[y], vec![], out);
    }
    Ok(())
}

/// Unroll every supported RNN, GRU and LSTM node; whether anything changed.
pub fn run(g: &mut Graph) -> bool {
    expand(g, |n| matches!(n.op.as_str(), "RNN" | "GRU" | "LSTM"), recurrent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testutil::{check_preserves, graph, node_n};

    /// A recurrent node reading `inputs` (`None`: omitted), all three outputs read.
    fn layer(g: &mut Graph, op: &str, inputs: &[Option<Tid>], attrs: Vec<(&str, Attr)>) {
        node_n(g, op, inputs, if op == "LSTM" { 3 } else { 2 }, attrs);
    }

    #[test]
    fn recurrent_layers_unroll() {
        let (s, b, i, h) = (3, 2, 3, 4);
        for (op, gates) in [("RNN", 1), ("GRU", 3), ("LSTM", 4)] {
            for (direction, layout, full) in [("forward", 0, false), ("reverse", 1, true), ("bidirectional", 0, true)] {
                let dirs = if direction == "bidirectional" { 2 } else { 1 };
                let x: &[usize] = if layout == 1 { &[b, s, i] } else { &[s, b, i] };
                let state: &[usize] = if layout == 1 { &[b, dirs, h] } else { &[dirs, b, h] };
                let mut g = graph(&[
                    ("x", x),
                    ("w", &[dirs, gates * h, i]),
                    ("r", &[dirs, gates * h, h]),
                    ("b", &[dirs, 2 * gates * h]),
                    ("h0", state),
                    ("c0", state),
                    ("p", &[dirs, 3 * h]),
                ]);
                let some = |k: usize| if full { Some(k) } else { None };
                let mut ins = vec![Some(0), Some(1), Some(2), some(3), None, some(4)];
                if op == "LSTM" {
                    ins.extend([some(5), some(6)]);
                }
                let mut attrs =
                    vec![("hidden_size", Attr::Int(h as i64)), ("direction", Attr::Str(direction.into())), ("layout", Attr::Int(layout))];
                if full {
                    attrs.push(("clip", Attr::Float(1.5)));
                    attrs.push(("linear_before_reset", Attr::Int(1)));
                }
                layer(&mut g, op, &ins, attrs);
                let (g, changed) = check_preserves(g, run);
                assert!(changed, "{op} {direction}");
                assert!(g.nodes.iter().all(|n| n.op != op), "{op} {direction}");
            }
        }
    }

    #[test]
    fn shorter_sequence_lengths_are_masked() {
        let (s, b, i, h) = (3, 3, 2, 3);
        for (op, gates) in [("RNN", 1), ("GRU", 3), ("LSTM", 4)] {
            for (direction, initial) in [("forward", false), ("bidirectional", true)] {
                let dirs = if direction == "bidirectional" { 2 } else { 1 };
                let mut g = graph(&[
                    ("x", &[s, b, i]),
                    ("w", &[dirs, gates * h, i]),
                    ("r", &[dirs, gates * h, h]),
                    ("h0", &[dirs, b, h]),
                    ("c0", &[dirs, b, h]),
                ]);
                let lens = g.add_tensor("lens", false);
                g.consts.insert(lens, Value::Int(ArrayD::from_shape_vec(IxDyn(&[b]), vec![3, 1, 0]).unwrap()));
                let state = |k: usize| if initial { Some(k) } else { None };
                let mut ins = vec![Some(0), Some(1), Some(2), None, Some(lens), state(3)];
                if op == "LSTM" {
                    ins.push(state(4));
                }
                let attrs = vec![("hidden_size", Attr::Int(h as i64)), ("direction", Attr::Str(direction.into()))];
                layer(&mut g, op, &ins, attrs);
                let (g, changed) = check_preserves(g, run);
                assert!(changed && g.nodes.iter().all(|n| n.op != op), "{op} {direction}");
            }
        }
    }

    #[test]
    fn unsupported_recurrent_forms_stay_with_a_reason() {
        let mut g = graph(&[("x", &[2, 1, 3]), ("w", &[1, 4, 3]), ("r", &[1, 4, 4]), ("lens", &[1])]);
        layer(&mut g, "RNN", &[Some(0), Some(1), Some(2), None, Some(3)], vec![("hidden_size", Attr::Int(4))]);
        crate::calibrate::infer_shapes(&mut g).unwrap();
        assert!(!run(&mut g));
        assert!(plan(&g, &g.nodes[0]).unwrap_err().contains("not integers"));
        for (attrs, want) in [
            (vec![("hidden_size", Attr::Int(5))], "does not match W"),
            (vec![("hidden_size", Attr::Int(4)), ("activations", Attr::Strs(vec!["Elu".into()]))], "activation `Elu`"),
            (vec![("hidden_size", Attr::Int(4)), ("direction", Attr::Str("sideways".into()))], "direction"),
            (vec![("hidden_size", Attr::Int(i64::MAX))], "does not match W"),
        ] {
            let mut g = graph(&[("x", &[2, 1, 3]), ("w", &[1, 4, 3]), ("r", &[1, 4, 4])]);
            layer(&mut g, "RNN", &[Some(0), Some(1), Some(2)], attrs);
            let e = crate::calibrate::infer_shapes(&mut g).unwrap_err().to_string();
            assert!(e.contains(want), "{want}: {e}");
        }
    }
}
