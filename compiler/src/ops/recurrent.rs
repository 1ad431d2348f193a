//! The recurrent layers `RNN`, `GRU` and `LSTM` ([`RecurrentDims`]), unrolled before
//! calibration over the static sequence length ([`crate::passes::decompose_recurrent`]).
//!
//! Inputs `X [S, B, I]` (`layout = 1`: `[B, S, I]`), `W [dirs, G·H, I]`, `R [dirs, G·H, H]`,
//! optional `B [dirs, 2·G·H]` (`Wb` then `Rb`), `sequence_lens [B]`, `initial_h [dirs, B, H]`
//! (`layout = 1`: `[B, dirs, H]`), LSTM's `initial_c` and peepholes `P [dirs, 3H]`
//! (`i, o, f`). Per direction (`forward`, `reverse` or both, `dirs = 2`), per step `t`, with
//! `xg = X_t·W_gᵀ + Wb_g + Rb_g` and `hg = H_{t−1}·R_gᵀ` for gate `g` (the gates in ONNX
//! order), `f`, `g`, `h` the activations (default Sigmoid, Tanh, Tanh; RNN: Tanh) applied after
//! the optional `clip` to `[−clip, clip]`:
//!
//! ```text
//! RNN:  H = f(xg + hg)
//! GRU:  z = f(xz + hz),  r = f(xr + hr)
//!       ĥ = g(xh + (r ⊙ H_{t−1})·R_hᵀ)            (linear_before_reset = 0)
//!       ĥ = g(xh − Rb_h + r ⊙ (hh + Rb_h))        (linear_before_reset = 1)
//!       H = H_{t−1} + u ⊙ (ĥ − H_{t−1})           (u = 1 − z, as σ(−x) when f is σ)
//! LSTM: i = f(xi + hi + Pi ⊙ C_{t−1}),  f_ = f(xf + hf + Pf ⊙ C_{t−1}),  c = g(xc + hc)
//!       C = f_ ⊙ C_{t−1} + i ⊙ c,  o = f(xo + ho + Po ⊙ C),  H = o ⊙ h(C)
//! ```
//!
//! `Y [S, dirs, B, H]` (`layout = 1`: `[B, S, dirs, H]`) holds every step's `H` in time order,
//! `Y_h` and `Y_c` the last ones. With `sequence_lens`, batch row `b` stops after
//! `sequence_lens[b]` steps (its later `Y` rows are 0; the reverse direction starts at its
//! last valid step).
//!
//! Unrolled: one MatMul per gate of `X` by `W_gᵀ` for all steps at once (Dense when `W` is a
//! constant, a run-time MatMul when it is a graph input, as in the node tests) plus the bias,
//! a Slice per step, a MatMul of the state by `R_gᵀ`, Add, the activations as tables, and Mul,
//! Sub and Add for the element-wise steps; a zero initial state skips its products. The
//! outputs are Concats of the steps. A `sequence_lens` (other than a constant equal to `S`
//! everywhere) becomes `valid [B, S]`, a Gather of a constant 0/1 table by the lengths
//! (GatherDynamic for run-time ones; a length above `S` fails at run time), and per step
//! `Y_t = valid_t ⊙ H'`, `H = H + valid_t ⊙ (H' − H)` (and `C` likewise). Not supported:
//! activations other than Sigmoid, Tanh and Relu, LSTM `input_forget`, more than
//! [`MAX_UNROLL`] steps.

use ndarray::{Array2, ArrayD, Axis, IxDyn, s};

use super::{OpDef, R, check_elements, check_work, input};
use crate::{
    ir::{Attr, Graph, Node, Value},
    quantize::Lowering,
};

pub(crate) const OPS: &[OpDef] =
    &[OpDef::new("", "GRU", eval, lower), OpDef::new("", "LSTM", eval, lower), OpDef::new("", "RNN", eval, lower)];

/// Most time steps a recurrent layer is unrolled over (each step adds a dozen nodes).
pub const MAX_UNROLL: usize = 1024;

/// Which recurrent cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// `RNN`: one gate.
    Rnn,
    /// `GRU`: gates `z, r, h`.
    Gru,
    /// `LSTM`: gates `i, o, f, c`.
    Lstm,
}

impl Cell {
    /// Gates `G`.
    pub fn gates(self) -> usize {
        match self {
            Cell::Rnn => 1,
            Cell::Gru => 3,
            Cell::Lstm => 4,
        }
    }
    /// Activations per direction.
    fn activations(self) -> usize {
        match self {
            Cell::Rnn => 1,
            Cell::Gru => 2,
            Cell::Lstm => 3,
        }
    }
}

/// The sizes and attributes of a recurrent node.
#[derive(Debug, Clone, PartialEq)]
pub struct RecurrentDims {
    /// The cell.
    pub cell: Cell,
    /// Sequence length `S`.
    pub len: usize,
    /// Batch size `B`.
    pub batch: usize,
    /// Input size `I`.
    pub input: usize,
    /// Attribute `hidden_size` `H`.
    pub hidden: usize,
    /// Per direction: whether it runs backwards in time.
    pub reverse: Vec<bool>,
    /// Attribute `layout = 1` (batch first).
    pub batch_first: bool,
    /// The activation op names, [`Cell::activations`] per direction.
    pub activations: Vec<String>,
    /// Attribute `clip`, when set.
    pub clip: Option<f32>,
    /// GRU attribute `linear_before_reset`.
    pub linear_before_reset: bool,
}

impl RecurrentDims {
    /// Check node `n`'s attributes against its input shapes.
    pub fn parse(n: &Node, shapes: &[Option<Vec<usize>>]) -> R<RecurrentDims> {
        let op = n.op.as_str();
        let cell = match op {
            "RNN" => Cell::Rnn,
            "GRU" => Cell::Gru,
            "LSTM" => Cell::Lstm,
            _ => return Err(format!("{op} is not a recurrent layer")),
        };
        let get = |i: usize, what: &str| shapes.get(i).cloned().flatten().ok_or_else(|| format!("{op} needs input {i} ({what})"));
        let (x, w, r) = (get(0, "X")?, get(1, "W")?, get(2, "R")?);
        let batch_first = match n.int("layout", 0) {
            0 => false,
            1 => true,
            l => return Err(format!("{op} layout {l} is not 0 or 1")),
        };
        let reverse = match n.str("direction", "forward").as_str() {
            "forward" => vec![false],
            "reverse" => vec![true],
            "bidirectional" => vec![false, true],
            d => return Err(format!("{op} direction `{d}` is not forward, reverse or bidirectional")),
        };
        let dirs = reverse.len();
        let [a, b, input] = x[..] else { return Err(format!("{op} X of shape {x:?} is not 3-D")) };
        let (len, batch) = if batch_first { (b, a) } else { (a, b) };
        let h = n.int("hidden_size", 0);
        let g = cell.gates();
        let hidden = match w.get(1) {
            Some(&rows) if h > 0 && (h as u64).checked_mul(g as u64) == Some(rows as u64) => h as usize,
            _ => return Err(format!("{op} hidden_size {h} does not match W of shape {w:?} ({g} gates)")),
        };
        let want = |name: &str, s: &[usize], e: &[usize]| -> R<()> {
            if s != e { Err(format!("{op} {name} of shape {s:?} is not {e:?}")) } else { Ok(()) }
        };
        want("W", &w, &[dirs, g * hidden, input])?;
        want("R", &r, &[dirs, g * hidden, hidden])?;
        if let Some(b) = shapes.get(3).cloned().flatten() {
            want("B", &b, &[dirs, 2 * g * hidden])?;
        }
        if let Some(s) = shapes.get(4).cloned().flatten() {
            want("sequence_lens", &s, &[batch])?;
        }
        let state = if batch_first { [batch, dirs, hidden] } else { [dirs, batch, hidden] };
        for (i, name) in [(5, "initial_h"), (6, "initial_c")] {
            if let Some(s) = shapes.get(i).cloned().flatten() {
                want(name, &s, &state)?;
            }
        }
        if let Some(p) = shapes.get(7).cloned().flatten() {
            want("P", &p, &[dirs, 3 * hidden])?;
        }
        check_elements(&[len, dirs, batch, g * hidden], &format!("the {op} output"))?;
        check_work(&[len, dirs, batch, g * hidden, input + 2 * hidden], op)?;
        let activations = match n.attr("activations") {
            None => {
                let one: &[&str] = match cell {
                    Cell::Rnn => &["Tanh"],
                    Cell::Gru => &["Sigmoid", "Tanh"],
                    Cell::Lstm => &["Sigmoid", "Tanh", "Tanh"],
                };
                (0..dirs).flat_map(|_| one.iter().map(|s| s.to_string())).collect()
            }
            Some(Attr::Strs(v)) if v.len() == dirs * cell.activations() => v.clone(),
            Some(_) => return Err(format!("{op} activations: {} names expected", dirs * cell.activations())),
        };
        if let Some(a) = activations.iter().find(|a| !matches!(a.as_str(), "Sigmoid" | "Tanh" | "Relu")) {
            return Err(format!("{op} activation `{a}` is not supported (Sigmoid, Tanh and Relu are)"));
        }
        if n.attr("activation_alpha").is_some() || n.attr("activation_beta").is_some() {
            return Err(format!("{op} activation_alpha / activation_beta are not supported"));
        }
        let clip = match n.attr("clip") {
            None => None,
            Some(_) => {
                let c = n.float("clip", 0.0);
                if !(c.is_finite() && c > 0.0) {
                    return Err(format!("{op} clip {c} is not a positive number"));
                }
                Some(c)
            }
        };
        if n.int("input_forget", 0) != 0 {
            return Err("LSTM input_forget is not supported".into());
        }
        let linear_before_reset = n.int("linear_before_reset", 0) != 0;
        Ok(RecurrentDims { cell, len, batch, input, hidden, reverse, batch_first, activations, clip, linear_before_reset })
    }
}

fn act(name: &str, x: f32) -> f32 {
    match name {
        "Sigmoid" => 1.0 / (1.0 + (-x).exp()),
        "Tanh" => x.tanh(),
        _ => x.max(0.0),
    }
}

/// `[rows, cols]` slice of a 3-D input at direction `d`.
fn matrix(a: &ArrayD<f32>, d: usize) -> Array2<f32> {
    a.index_axis(Axis(0), d).to_owned().into_dimensionality().expect("checked 3-D")
}

fn eval(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let shapes: Vec<Option<Vec<usize>>> = ins.iter().map(|v| v.map(|v| v.shape())).collect();
    let dm = RecurrentDims::parse(n, &shapes)?;
    let (s_len, b, hd, g) = (dm.len, dm.batch, dm.hidden, dm.cell.gates());
    let dirs = dm.reverse.len();
    let mut x = input(ins, 0)?.to_f32();
    if dm.batch_first {
        x = x.permuted_axes(IxDyn(&[1, 0, 2])).as_standard_layout().to_owned();
    }
    let (w, r) = (input(ins, 1)?.to_f32(), input(ins, 2)?.to_f32());
    let bias = ins.get(3).copied().flatten().map(|v| v.to_f32());
    let lens: Vec<usize> = match ins.get(4).copied().flatten() {
        Some(v) => v.to_i64().iter().map(|&l| l.clamp(0, s_len as i64) as usize).collect(),
        None => vec![s_len; b],
    };
    let state = |i: usize| {
        ins.get(i).copied().flatten().map(|v| {
            let a = v.to_f32();
            if dm.batch_first { a.permuted_axes(IxDyn(&[1, 0, 2])).as_standard_layout().to_owned() } else { a }
        })
    };
    let (h0, c0) = (state(5), state(6));
    let peep = ins.get(7).copied().flatten().map(|v| v.to_f32());
    let clip = |v: f32| dm.clip.map_or(v, |c| v.clamp(-c, c));
    let mut y = ArrayD::<f32>::zeros(IxDyn(&[s_len, dirs, b, hd]));
    let mut yh = ArrayD::<f32>::zeros(IxDyn(&[dirs, b, hd]));
    let mut yc = yh.clone();
    let na = dm.cell.activations();
    for (d, &rev) in dm.reverse.iter().enumerate() {
        let (wd, rd) = (matrix(&w, d), matrix(&r, d));
        let bd: Vec<f32> = bias.as_ref().map_or(vec![0.0; 2 * g * hd], |bb| bb.index_axis(Axis(0), d).iter().copied().collect());
        let pd: Vec<f32> = peep.as_ref().map_or(vec![0.0; 3 * hd], |p| p.index_axis(Axis(0), d).iter().copied().collect());
        let acts = &dm.activations[d * na..(d + 1) * na];
        let mut h = h0.as_ref().map_or(Array2::zeros((b, hd)), |a| matrix(a, d));
        let mut c = c0.as_ref().map_or(Array2::zeros((b, hd)), |a| matrix(a, d));
        let steps: Vec<usize> = if rev { (0..s_len).rev().collect() } else { (0..s_len).collect() };
        for t in steps {
            let xt = x.slice(s![t, .., ..]).to_owned();
            let gx = xt.dot(&wd.t());
            let gh = h.dot(&rd.t());
            let mut hn = h.clone();
            let mut cn = c.clone();
            for bi in (0..b).filter(|&bi| t < lens[bi]) {
                let xg = |k: usize, j: usize| gx[[bi, k * hd + j]] + bd[k * hd + j];
                let hg = |k: usize, j: usize| gh[[bi, k * hd + j]] + bd[(g + k) * hd + j];
                for j in 0..hd {
                    match dm.cell {
                        Cell::Rnn => hn[[bi, j]] = act(&acts[0], clip(xg(0, j) + hg(0, j))),
                        Cell::Gru => {
                            let z = act(&acts[0], clip(xg(0, j) + hg(0, j)));
                            let rg = |jj: usize| act(&acts[0], clip(xg(1, jj) + hg(1, jj)));
                            let pre = if dm.linear_before_reset {
                                xg(2, j) + rg(j) * hg(2, j)
                            } else {
                                let rh: f32 = (0..hd).map(|k| rg(k) * h[[bi, k]] * rd[[2 * hd + j, k]]).sum();
                                xg(2, j) + rh + bd[(g + 2) * hd + j]
                            };
                            let hh = act(&acts[1], clip(pre));
                            hn[[bi, j]] = (1.0 - z) * hh + z * h[[bi, j]];
                        }
                        Cell::Lstm => {
                            let cp = c[[bi, j]];
                            let i = act(&acts[0], clip(xg(0, j) + hg(0, j) + pd[j] * cp));
                            let f = act(&acts[0], clip(xg(2, j) + hg(2, j) + pd[2 * hd + j] * cp));
                            let cc = act(&acts[1], clip(xg(3, j) + hg(3, j)));
                            let cnew = f * cp + i * cc;
                            let o = act(&acts[0], clip(xg(1, j) + hg(1, j) + pd[hd + j] * cnew));
                            cn[[bi, j]] = cnew;
                            hn[[bi, j]] = o * act(&acts[2], cnew);
                        }
                    }
                }
                for j in 0..hd {
                    y[[t, d, bi, j]] = hn[[bi, j]];
                }
            }
            h = hn;
            c = cn;
        }
        yh.index_axis_mut(Axis(0), d).assign(&h);
        yc.index_axis_mut(Axis(0), d).assign(&c);
    }
    if dm.batch_first {
        y = y.permuted_axes(IxDyn(&[2, 0, 1, 3])).as_standard_layout().to_owned();
        yh = yh.permuted_axes(IxDyn(&[1, 0, 2])).as_standard_layout().to_owned();
        yc = yc.permuted_axes(IxDyn(&[1, 0, 2])).as_standard_layout().to_owned();
    }
    Ok([y, yh, yc].into_iter().take(n.outputs.len().max(1)).map(Value::Float).collect())
}

fn lower(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    Err(crate::passes::decompose_recurrent::plan(l.g, n)
        .err()
        .unwrap_or_else(|| format!("{} is unrolled before lowering, but this node was not", n.op)))
}
