//! The steps of an inference: what one leaf of the trace commitment holds and what its
//! one-step proof re-executes (docs/verification.md §Steps). Deterministic: every party derives
//! the same plan from the model alone.
//!
//! * Step 0, **Input**: the packed model inputs (int8 one byte each, int64 8 bytes big-endian,
//!   concatenated: the precompile's and `predictQ`'s format). Its leaf is
//!   `leaf_of_hash(inputHash)`, so a claim's input hash fixes it.
//! * Then, per node in the artifact's order, one step per **chunk** of the node's output: a
//!   contiguous byte range of the output's packed form, in order. A node is cut only when it
//!   passes the [`Limits`] (a one-step proof must stay under 10M gas): convolutions and pools
//!   by output channels, then by output rows of the first spatial axis (one channel at a time);
//!   Dense by output features (one row) or rows; element-wise ops by element ranges;
//!   a Concat whose axis leaves nothing in front by pieces of its inputs; channel-wise
//!   reductions and per-channel tables by channels. Any other node is one step.
//! * Last, **Output**: the packed model outputs; its leaf is `leaf_of_hash(keccak256(output))`,
//!   so a claim's output fixes it.
//!
//! Each step reads [`Arg`]s: per argument of its sub-model (see [`crate::submodel`]), the byte
//! ranges of earlier tensors that, concatenated, are that argument. A range of a node's output
//! lies in the leaves of that node's chunks ([`Plan::resolve`]); a model input in leaf 0;
//! constants are read from the step contract's code, never from the trace.

use std::ops::Range;

use serde::{Deserialize, Serialize};
use solidml_spec::{DType, Model, Op, TensorId};

/// What one step may cost, in the units the EVM kernels' gas follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Multiply-accumulates (window taps for pools) of one chunk.
    pub max_macs: u64,
    /// Elements of one chunk's sub-model inputs together (calldata, gather tables).
    pub max_input: usize,
    /// Bytes of one chunk's output (a leaf's size).
    pub max_output: usize,
}

impl Default for Limits {
    /// The limits of docs/verification.md: every step of the example models and the
    /// SqueezeNet-class CNN re-executes under 10M gas with them.
    fn default() -> Self {
        Limits { max_macs: 150_000, max_input: 32_768, max_output: 16_384 }
    }
}

/// Which part of a node's output a step computes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Chunk {
    /// The whole output.
    Whole,
    /// Output channels `channels` (axis 1, batch of one) and rows `rows` of the first spatial
    /// axis (all of them, or a band of one channel): Conv, MaxPool, AvgPool, and channel-wise
    /// Reduce and Lut (all rows).
    Planes {
        /// Output channels.
        channels: Range<usize>,
        /// Output rows of axis 2.
        rows: Range<usize>,
    },
    /// Output features `range` of a Dense over one row.
    Features(Range<usize>),
    /// Rows `range` of a Dense (the product of the leading axes).
    Rows(Range<usize>),
    /// Elements `range` of an element-wise op (every input has the output's shape).
    Flat(Range<usize>),
    /// Elements `elems` of Concat input `input` (a Concat over its leading axis, in effect).
    Copy {
        /// The node's input.
        input: usize,
        /// Its elements.
        elems: Range<usize>,
    },
}

/// One argument of a step's sub-model: byte ranges of `tensor`'s packed form, concatenated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arg {
    /// The tensor read (a model input or a node output; never a constant).
    pub tensor: TensorId,
    /// Byte ranges of its packed form, in order.
    pub pieces: Vec<Range<usize>>,
}

/// What a step is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepKind {
    /// The packed model inputs.
    Input,
    /// A chunk of node `node`'s output.
    Node {
        /// Index in [`Model::nodes`].
        node: usize,
        /// Which part.
        chunk: Chunk,
    },
    /// The packed model outputs.
    Output,
}

/// One step: one leaf of the commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// What it computes.
    pub kind: StepKind,
    /// What it reads, one entry per sub-model argument.
    pub args: Vec<Arg>,
    /// Its output: a byte range of the node's output tensor (Node), or the whole packed
    /// inputs/outputs.
    pub bytes: Range<usize>,
}

/// Where a tensor's bytes are in the trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Home {
    /// In leaf 0, from this byte on.
    Input(usize),
    /// In the model (the step contracts' code), not in the trace.
    Constant,
    /// In these steps' leaves, in byte order.
    Steps(Vec<usize>),
    /// Not computed (a tensor no node writes: never read).
    Nowhere,
}

/// Everything wrong with a plan's inputs.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    /// A node writes other than one tensor (the spec's version 1 has one output per node).
    #[error("node `{0}` writes {1} tensors; steps need exactly one")]
    Outputs(String, usize),
    /// A step reads a tensor no earlier step, input or constant holds.
    #[error("node `{node}` reads tensor `{tensor}`, which nothing before it writes")]
    Unwritten {
        /// The reading node.
        node: String,
        /// The tensor.
        tensor: String,
    },
}

/// The steps of a model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Input, node chunks in order, Output.
    pub steps: Vec<Step>,
    /// Per tensor, where its bytes are.
    pub homes: Vec<Home>,
    /// The limits the plan was cut with.
    pub limits: Limits,
}

/// Bytes per element of the packed form.
pub fn width(dtype: DType) -> usize {
    match dtype {
        DType::I8 => 1,
        DType::I64 => 8,
    }
}

fn packed_len(model: &Model, t: TensorId) -> usize {
    let info = model.tensor(t);
    info.len() * width(info.dtype)
}

/// The input rows of the first spatial axis that output rows `rows` of a window
/// (kernel `k`, stride `s`, dilation `d`, padding before `pb`) touch, clipped to `[0, h)`, and
/// the padding the band needs before and after: `(band, pad_begin, pad_end)`.
pub fn band(rows: &Range<usize>, (k, s, d, pb): (usize, usize, usize, usize), h: usize) -> (Range<usize>, usize, usize) {
    let lo = (rows.start * s) as i64 - pb as i64;
    let hi = ((rows.end - 1) * s) as i64 - pb as i64 + (d * (k - 1)) as i64 + 1;
    let b = (lo.max(0) as usize)..(hi.min(h as i64).max(0) as usize);
    let (pad_begin, pad_end) = ((b.start as i64 - lo) as usize, (hi - h as i64).max(0) as usize);
    (b, pad_begin, pad_end)
}

/// The window of a Conv or pool: `(k, s, d, pb)` of the first spatial axis, and the taps per
/// output element (`C_in / groups` times the kernel's size for a Conv).
pub fn window(op: &Op, cin: usize) -> Option<((usize, usize, usize, usize), u64)> {
    let first = |k: &[u32], s: &[u32], d: &[u32], p: &[u32]| (k[0] as usize, s[0] as usize, d[0] as usize, p[0] as usize);
    let size = |k: &[u32]| k.iter().map(|&k| k as u64).product::<u64>();
    match op {
        Op::Conv(c) => {
            Some((first(&c.kernel, &c.strides, &c.dilations, &c.pads_begin), (cin / c.groups as usize) as u64 * size(&c.kernel)))
        }
        Op::MaxPool(p) | Op::AvgPool(p) => Some((first(&p.kernel, &p.strides, &p.dilations, &p.pads_begin), size(&p.kernel))),
        _ => None,
    }
}

/// Input channels a chunk of output channels `channels` of a windowed op reads.
pub fn input_channels(op: &Op, channels: &Range<usize>, cin: usize, cout: usize) -> Range<usize> {
    match op {
        Op::Conv(c) if c.groups > 1 => {
            let (cin_g, cout_g) = (cin / c.groups as usize, cout / c.groups as usize);
            let (g0, g1) = (channels.start / cout_g, (channels.end - 1) / cout_g + 1);
            g0 * cin_g..g1 * cin_g
        }
        Op::Conv(_) => 0..cin,
        _ => channels.clone(),
    }
}

/// Cut `0..n` into ranges of `per` (the last one shorter).
fn cut(n: usize, per: usize) -> Vec<Range<usize>> {
    let per = per.max(1);
    (0..n.div_ceil(per)).map(|i| i * per..((i + 1) * per).min(n)).collect()
}

/// The chunks of one node under `limits`.
fn chunks(model: &Model, node: &solidml_spec::Node, limits: &Limits) -> Vec<Chunk> {
    let out = model.tensor(node.outputs[0]);
    let lim = limits;
    let batch_one = |shape: &[u32]| shape.len() >= 3 && shape[0] == 1;
    match &node.op {
        op @ (Op::Conv(_) | Op::MaxPool(_) | Op::AvgPool(_)) if batch_one(&out.shape) => {
            let input = model.tensor(node.inputs[0]);
            let (cin, cout) = (input.shape[1] as usize, out.shape[1] as usize);
            let ((k, s, d, pb), taps) = window(op, cin).expect("a windowed op");
            let (h, ho) = (input.shape[2] as usize, out.shape[2] as usize);
            let row_in: usize = input.shape[3..].iter().map(|&x| x as usize).product();
            let row_out: usize = out.shape[3..].iter().map(|&x| x as usize).product();
            let (plane_in, plane_out) = (h * row_in, ho * row_out);
            if cout == 0 || ho == 0 || plane_out == 0 {
                return vec![Chunk::Whole];
            }
            // whole planes: channels per chunk, a multiple of a group's output channels
            let unit = match op {
                Op::Conv(c) if c.groups > 1 => cout / c.groups as usize,
                _ => 1,
            };
            let fits = |cc: usize| {
                let ins = input_channels(op, &(0..cc), cin, cout).len();
                (cc * plane_out) as u64 * taps <= lim.max_macs && cc * plane_out <= lim.max_output && ins * plane_in <= lim.max_input
            };
            let mut cc = 0;
            while cc + unit <= cout && fits(cc + unit) {
                cc += unit;
            }
            if cc >= cout {
                return vec![Chunk::Whole];
            }
            if cc > 0 {
                return cut(cout, cc).into_iter().map(|channels| Chunk::Planes { channels, rows: 0..ho }).collect();
            }
            // one channel at a time, by bands of rows
            let ins = input_channels(op, &(0..1), cin, cout).len();
            let band_fits = |rr: usize| {
                // the widest band of `rr` rows (one away from the padding)
                let rows_in = ((rr - 1) * s + d * (k - 1) + 1).min(h);
                (rr * row_out) as u64 * taps <= lim.max_macs && rr * row_out <= lim.max_output && ins * rows_in * row_in <= lim.max_input
            };
            let mut rr = 1;
            while rr < ho && band_fits(rr + 1) {
                rr += 1;
            }
            let mut v = vec![];
            for c in 0..cout {
                for rows in cut(ho, rr) {
                    // a band that touches no input row (padding only) cannot be cut out
                    if band(&rows, (k, s, d, pb), h).0.is_empty() {
                        return vec![Chunk::Whole];
                    }
                    v.push(Chunk::Planes { channels: c..c + 1, rows });
                }
            }
            v
        }
        Op::Reduce(r) if batch_one(&out.shape) && r.axes.iter().all(|&a| a >= 2) => {
            channel_chunks(model, node, lim, |cc, plane_in| cc * plane_in)
        }
        Op::Lut(l) if l.axis == Some(1) && batch_one(&out.shape) => channel_chunks(model, node, lim, |cc, plane_in| cc * plane_in),
        Op::Dense(d) => {
            let (kf, nf) = (d.in_features as usize, d.out_features as usize);
            let rows = if nf == 0 { 0 } else { out.len() / nf };
            let macs = |r: usize, f: usize| (r * f * kf) as u64;
            if macs(rows, nf) <= lim.max_macs && rows * nf <= lim.max_output && rows * kf <= lim.max_input {
                return vec![Chunk::Whole];
            }
            if rows == 1 {
                let ff = (lim.max_macs / kf.max(1) as u64).min(lim.max_output as u64).max(1) as usize;
                cut(nf, ff).into_iter().map(Chunk::Features).collect()
            } else {
                let rr = (lim.max_macs / (kf * nf).max(1) as u64)
                    .min((lim.max_output / nf.max(1)) as u64)
                    .min((lim.max_input / kf.max(1)) as u64)
                    .max(1) as usize;
                cut(rows, rr).into_iter().map(Chunk::Rows).collect()
            }
        }
        Op::Lut(solidml_spec::Lut { axis: None, .. })
        | Op::Binary(_)
        | Op::Extremum(_)
        | Op::BinaryLut { .. }
        | Op::IntBinary { .. }
        | Op::Take { .. }
            if node.inputs.iter().all(|&i| model.tensor(i).shape == out.shape) =>
        {
            let w_out = width(out.dtype);
            let w_in: usize = node.inputs.iter().filter(|&&i| !is_constant(model, i)).map(|&i| width(model.tensor(i).dtype)).sum();
            let per = (lim.max_output / w_out).min(lim.max_input / w_in.max(1)).max(1);
            if out.len() <= per {
                return vec![Chunk::Whole];
            }
            cut(out.len(), per).into_iter().map(Chunk::Flat).collect()
        }
        Op::Concat { axis } if out.shape[..*axis as usize].iter().all(|&d| d == 1) => {
            let per = (lim.max_output / width(out.dtype)).min(lim.max_input).max(1);
            if out.len() <= per {
                return vec![Chunk::Whole];
            }
            node.inputs
                .iter()
                .enumerate()
                .flat_map(|(input, &t)| cut(model.tensor(t).len(), per).into_iter().map(move |elems| Chunk::Copy { input, elems }))
                .collect()
        }
        _ => vec![Chunk::Whole],
    }
}

/// Whole-plane chunks over output channels for a channel-wise op (each output channel reads
/// its own input channel): as many channels per chunk as `input_elems(cc, plane_in)` and the
/// output limit allow.
fn channel_chunks(model: &Model, node: &solidml_spec::Node, lim: &Limits, input_elems: impl Fn(usize, usize) -> usize) -> Vec<Chunk> {
    let (input, out) = (model.tensor(node.inputs[0]), model.tensor(node.outputs[0]));
    let c = out.shape[1] as usize;
    let plane_in: usize = input.shape[2..].iter().map(|&x| x as usize).product();
    let plane_out: usize = out.shape[2..].iter().map(|&x| x as usize).product();
    let mut cc = 1;
    while cc < c && input_elems(cc + 1, plane_in) <= lim.max_input && (cc + 1) * plane_out <= lim.max_output {
        cc += 1;
    }
    if cc >= c {
        return vec![Chunk::Whole];
    }
    cut(c, cc).into_iter().map(|channels| Chunk::Planes { channels, rows: 0..out.shape.get(2).map_or(1, |&h| h as usize) }).collect()
}

fn is_constant(model: &Model, t: TensorId) -> bool {
    model.constants.iter().any(|(c, _)| *c == t)
}

/// The output elements a chunk covers (contiguous by construction).
pub fn chunk_elems(model: &Model, node: &solidml_spec::Node, chunk: &Chunk) -> Range<usize> {
    let out = model.tensor(node.outputs[0]);
    match chunk {
        Chunk::Whole => 0..out.len(),
        Chunk::Planes { channels, rows } => {
            let plane: usize = out.shape[2..].iter().map(|&x| x as usize).product();
            let row: usize = out.shape.get(3..).map_or(1, |r| r.iter().map(|&x| x as usize).product());
            let h = out.shape.get(2).map_or(1, |&h| h as usize);
            if rows.len() == h {
                channels.start * plane..channels.end * plane
            } else {
                channels.start * plane + rows.start * row..channels.start * plane + rows.end * row
            }
        }
        Chunk::Features(f) => f.clone(),
        Chunk::Rows(r) => {
            let n = match &node.op {
                Op::Dense(d) => d.out_features as usize,
                _ => unreachable!("Rows chunks are Dense's"),
            };
            r.start * n..r.end * n
        }
        Chunk::Flat(e) => e.clone(),
        Chunk::Copy { input, elems } => {
            let before: usize = node.inputs[..*input].iter().map(|&t| model.tensor(t).len()).sum();
            before + elems.start..before + elems.end
        }
    }
}

/// What a chunk reads: one [`Arg`] per non-constant input of its sub-model, in input order.
fn chunk_args(model: &Model, node: &solidml_spec::Node, chunk: &Chunk) -> Vec<Arg> {
    let whole = |t: TensorId| Arg { tensor: t, pieces: vec![0..packed_len(model, t)] };
    let non_constant = node.inputs.iter().copied().filter(|&t| !is_constant(model, t));
    match chunk {
        Chunk::Whole | Chunk::Features(_) => non_constant.map(whole).collect(),
        Chunk::Planes { channels, rows } => {
            let (x, out) = (node.inputs[0], model.tensor(node.outputs[0]));
            let input = model.tensor(x);
            let w = width(input.dtype);
            let plane: usize = input.shape[2..].iter().map(|&d| d as usize).product();
            let row: usize = input.shape[3..].iter().map(|&d| d as usize).product();
            let (cin, cout, h) = (input.shape[1] as usize, out.shape[1] as usize, input.shape[2] as usize);
            let ins = input_channels(&node.op, channels, cin, cout);
            let b = match window(&node.op, cin) {
                Some((win, _)) if rows.len() != out.shape[2] as usize => band(rows, win, h).0,
                _ => 0..h,
            };
            let pieces = if b.len() == h {
                vec![ins.start * plane * w..ins.end * plane * w]
            } else {
                ins.map(|c| (c * plane + b.start * row) * w..(c * plane + b.end * row) * w).collect()
            };
            vec![Arg { tensor: x, pieces }]
        }
        Chunk::Rows(r) => {
            let x = node.inputs[0];
            let k = model.tensor(x).shape.last().copied().unwrap_or(1) as usize;
            vec![Arg { tensor: x, pieces: vec![r.start * k..r.end * k] }]
        }
        Chunk::Flat(e) => non_constant
            .map(|t| Arg { tensor: t, pieces: vec![e.start * width(model.tensor(t).dtype)..e.end * width(model.tensor(t).dtype)] })
            .collect(),
        Chunk::Copy { input, elems } => {
            let t = node.inputs[*input];
            if is_constant(model, t) {
                vec![]
            } else {
                let w = width(model.tensor(t).dtype);
                vec![Arg { tensor: t, pieces: vec![elems.start * w..elems.end * w] }]
            }
        }
    }
}

impl Plan {
    /// The plan of `model` under the default [`Limits`].
    pub fn of(model: &Model) -> Result<Plan, PlanError> {
        Plan::with_limits(model, Limits::default())
    }

    /// The plan of `model` under `limits`.
    pub fn with_limits(model: &Model, limits: Limits) -> Result<Plan, PlanError> {
        let mut homes = vec![Home::Nowhere; model.tensors.len()];
        let mut offset = 0;
        for &t in &model.inputs {
            homes[t as usize] = Home::Input(offset);
            offset += packed_len(model, t);
        }
        let in_len = offset;
        for (t, _) in &model.constants {
            homes[*t as usize] = Home::Constant;
        }
        let mut steps = vec![Step { kind: StepKind::Input, args: vec![], bytes: 0..in_len }];
        let check = |homes: &[Home], node: &str, t: TensorId| match homes[t as usize] {
            Home::Nowhere => Err(PlanError::Unwritten { node: node.into(), tensor: model.tensor(t).name.clone() }),
            _ => Ok(()),
        };
        for (i, node) in model.nodes.iter().enumerate() {
            if node.outputs.len() != 1 {
                return Err(PlanError::Outputs(node.name.clone(), node.outputs.len()));
            }
            for &t in &node.inputs {
                check(&homes, &node.name, t)?;
            }
            let w = width(model.tensor(node.outputs[0]).dtype);
            let mut mine = vec![];
            for chunk in chunks(model, node, &limits) {
                let e = chunk_elems(model, node, &chunk);
                mine.push(steps.len());
                steps.push(Step {
                    args: chunk_args(model, node, &chunk),
                    kind: StepKind::Node { node: i, chunk },
                    bytes: e.start * w..e.end * w,
                });
            }
            homes[node.outputs[0] as usize] = Home::Steps(mine);
        }
        let mut args = vec![];
        let mut out_len = 0;
        for &t in &model.outputs {
            check(&homes, "(model outputs)", t)?;
            out_len += packed_len(model, t);
            if !matches!(homes[t as usize], Home::Constant) {
                args.push(Arg { tensor: t, pieces: vec![0..packed_len(model, t)] });
            }
        }
        steps.push(Step { kind: StepKind::Output, args, bytes: 0..out_len });
        Ok(Plan { steps, homes, limits })
    }

    /// Index of the Output step (the last).
    pub fn output_step(&self) -> usize {
        self.steps.len() - 1
    }

    /// Where byte range `r` of `tensor` lies in the trace: `(leaf step, byte range in that
    /// step's output)` pieces, in order.
    pub fn resolve(&self, tensor: TensorId, r: &Range<usize>) -> Vec<(usize, Range<usize>)> {
        match &self.homes[tensor as usize] {
            Home::Input(o) => vec![(0, o + r.start..o + r.end)],
            Home::Steps(steps) => steps
                .iter()
                .filter_map(|&s| {
                    let b = &self.steps[s].bytes;
                    let (lo, hi) = (b.start.max(r.start), b.end.min(r.end));
                    (lo < hi).then(|| (s, lo - b.start..hi - b.start))
                })
                .collect(),
            Home::Constant | Home::Nowhere => vec![],
        }
    }

    /// The leaves step `k` reads, each once, in order of first use: what a one-step proof
    /// passes (with their Merkle proofs).
    pub fn reads(&self, k: usize) -> Vec<usize> {
        let mut leaves: Vec<usize> = vec![];
        for a in &self.steps[k].args {
            for p in &a.pieces {
                for (s, _) in self.resolve(a.tensor, p) {
                    if !leaves.contains(&s) {
                        leaves.push(s);
                    }
                }
            }
        }
        leaves
    }
}
