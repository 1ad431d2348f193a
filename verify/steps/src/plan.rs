//! The steps of an inference: what one leaf of the trace commitment holds and what its
//! one-step proof re-executes (docs/verification.md §Steps). Deterministic: every party derives
//! the same plan from the model alone.
//!
//! * Step 0, **Input**: the packed model inputs (int8 one byte each, int64 8 bytes big-endian,
//!   concatenated: the precompile's and `predictQ`'s format). Its leaf is
//!   `leaf_of_hash(inputHash)`, so a claim's input hash fixes it.
//! * Then, per node in the artifact's order, one step per **chunk** of the node's output, in
//!   order. A node is cut only when it passes the [`Limits`] (a one-step proof must stay under
//!   10M gas). On a batch-of-one tensor of rank ≥ 3 (`[1, C, H, …]`) a chunk is a **block**:
//!   output channels × rows of axis 2, chosen to hold as many outputs as the limits allow
//!   (Conv, MaxPool, AvgPool, Concat on channels, element-wise ops, channel-wise Reduce and
//!   Lut); Dense is cut by output features (one row) or rows; other element-wise ops and
//!   Concats with nothing in front of the axis by element ranges. Any other node is one step.
//! * Last, **Output**: the packed model outputs; its leaf is `leaf_of_hash(keccak256(output))`,
//!   so a claim's output fixes it. It also *checks* every leaf no step reads (their lengths
//!   only), so that a failed step anywhere fails the output.
//!
//! A step's bytes are its **segments** (byte ranges of its tensor's packed form: a block's
//! rows, channel by channel) concatenated. Each step reads [`Arg`]s: per argument of its
//! sub-model (see [`crate::submodel`]), byte ranges of earlier tensors that, concatenated, are
//! that argument; [`Plan::resolve`] finds them in the leaves. Constants are read from the step
//! contract's code, never from the trace.
//!
//! **Work** (the [`Limits::max_work`] budget; units of about 14 gas of the EVM kernels):
//! a Conv chunk costs its multiply-accumulates plus 6 per input element its im2col gathers
//! (`positions × C_in read × kernel size`); a pool 24 per window tap; Dense its MACs;
//! element-wise ops, Lut and Concat 8 per element read, a channel-wise Reduce 32. (Measured on
//! the SqueezeNet-class CNN's steps in the fast layout: tests/dispute_game.rs.)

// segments and pieces are lists of byte ranges; one range is a list of one, not a range's items
#![allow(clippy::single_range_in_vec_init)]

use std::ops::Range;

use serde::{Deserialize, Serialize};
use solidml_spec::{DType, Model, Node, Op, TensorId};

/// What one step may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Work of one chunk (see the module doc).
    pub max_work: u64,
    /// Elements of one chunk's sub-model inputs together (calldata, 16-bit gather tables).
    pub max_input: usize,
    /// Bytes of one chunk's output (a leaf's size).
    pub max_output: usize,
    /// Weights of one Conv chunk (the Solidity backend keeps a convolution's weights in one
    /// contract's code).
    pub max_weights: usize,
}

impl Default for Limits {
    /// The limits of docs/verification.md.
    fn default() -> Self {
        Limits { max_work: 300_000, max_input: 32_768, max_output: 8_192, max_weights: 2_048 }
    }
}

/// Which part of a node's output a step computes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Chunk {
    /// The whole output.
    Whole,
    /// Output channels `channels` (axis 1 of a batch of one) and rows `rows` of axis 2 (all of
    /// them for a Reduce, and `0..1` for an output of rank 2).
    Block {
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
    /// Elements `elems` of Concat input `input` (a Concat with nothing in front of its axis).
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
    /// Its bytes: ranges of the node's output tensor (Node), or of the packed inputs/outputs.
    pub segments: Vec<Range<usize>>,
    /// Leaves read only for their length (the Output step: every leaf no other step reads, so
    /// that a failed step anywhere fails the output).
    pub checks: Vec<usize>,
}

impl Step {
    /// Bytes of the step's output (its leaf's preimage).
    pub fn len(&self) -> usize {
        self.segments.iter().map(|s| s.len()).sum()
    }

    /// Whether the step's output is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where a tensor's bytes are in the trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Home {
    /// In leaf 0, from this byte on.
    Input(usize),
    /// In the model (the step contracts' code), not in the trace.
    Constant,
    /// In these steps' leaves: `(tensor byte range, step, offset in the step's bytes)`, sorted
    /// by the range.
    Steps(Vec<(Range<usize>, usize, usize)>),
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
    dtype.packed_bytes()
}

fn packed_len(model: &Model, t: TensorId) -> usize {
    let info = model.tensor(t);
    info.len() * width(info.dtype)
}

fn is_constant(model: &Model, t: TensorId) -> bool {
    model.constants.iter().any(|(c, _)| *c == t)
}

/// The input rows of axis 2 that output rows `rows` of a window (kernel `k`, stride `s`,
/// dilation `d`, padding before `pb`) touch, clipped to `[0, h)`, and the padding the band
/// needs before and after: `(band, pad_begin, pad_end)`.
pub fn band(rows: &Range<usize>, (k, s, d, pb): (usize, usize, usize, usize), h: usize) -> (Range<usize>, usize, usize) {
    let lo = (rows.start * s) as i64 - pb as i64;
    let hi = ((rows.end - 1) * s) as i64 - pb as i64 + (d * (k - 1)) as i64 + 1;
    let b = (lo.max(0) as usize)..(hi.min(h as i64).max(lo.max(0)) as usize);
    let (pad_begin, pad_end) = ((b.start as i64 - lo) as usize, (hi - h as i64).max(0) as usize);
    (b, pad_begin, pad_end)
}

/// The window of a Conv or pool: `(k, s, d, pb)` of axis 2, and the kernel's size.
pub fn window(op: &Op) -> Option<((usize, usize, usize, usize), u64)> {
    let first = |k: &[u32], s: &[u32], d: &[u32], p: &[u32]| (k[0] as usize, s[0] as usize, d[0] as usize, p[0] as usize);
    let size = |k: &[u32]| k.iter().map(|&k| k as u64).product::<u64>();
    match op {
        Op::Conv(c) => Some((first(&c.kernel, &c.strides, &c.dilations, &c.pads_begin), size(&c.kernel))),
        Op::MaxPool(p) | Op::AvgPool(p) => Some((first(&p.kernel, &p.strides, &p.dilations, &p.pads_begin), size(&p.kernel))),
        _ => None,
    }
}

/// Input channels that output channels `channels` of a windowed op read.
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

/// `[1, C, H, …]` as `(C, H, row)`: channels, rows of axis 2 (1 for rank 2), elements per row.
fn nchw(shape: &[u32]) -> (usize, usize, usize) {
    let c = shape[1] as usize;
    let h = shape.get(2).map_or(1, |&h| h as usize);
    let row = shape.get(3..).map_or(1, |r| r.iter().map(|&x| x as usize).product());
    (c, h, row)
}

/// Byte ranges of block `channels × rows` of a `[1, C, H, …]` tensor with `w`-byte elements,
/// channel by channel (one range when the rows are all of them).
pub fn block_ranges(shape: &[u32], w: usize, channels: &Range<usize>, rows: &Range<usize>) -> Vec<Range<usize>> {
    let (_, h, row) = nchw(shape);
    let plane = h * row;
    if rows.start == 0 && rows.end == h {
        return vec![channels.start * plane * w..channels.end * plane * w];
    }
    channels.clone().map(|c| (c * plane + rows.start * row) * w..(c * plane + rows.end * row) * w).collect()
}

/// How a node with a batch-of-one output of rank ≥ 3 splits into blocks, if it does.
enum BlockForm {
    /// A window over axis 2 (Conv, pools).
    Window,
    /// Each output element reads the same element of every input.
    Elementwise,
    /// Concat on axis 1.
    Concat,
    /// Reduce over axes ≥ 2: channels only.
    Channels,
}

fn block_form(model: &Model, node: &Node) -> Option<BlockForm> {
    let out = model.tensor(node.outputs[0]);
    if out.shape.len() < 3 || out.shape[0] != 1 {
        return (matches!(&node.op, Op::Reduce(r) if out.shape.len() == 2 && out.shape[0] == 1 && r.axes.iter().all(|&a| a >= 2)))
            .then_some(BlockForm::Channels);
    }
    let same_shapes = node.inputs.iter().all(|&i| model.tensor(i).shape == out.shape);
    match &node.op {
        Op::Conv(_) | Op::MaxPool(_) | Op::AvgPool(_) => Some(BlockForm::Window),
        Op::Lut(l) if matches!(l.axis, None | Some(1)) => Some(BlockForm::Elementwise),
        Op::Binary(_) | Op::Extremum(_) | Op::BinaryLut { .. } | Op::IntBinary { .. } | Op::Take { .. } if same_shapes => {
            Some(BlockForm::Elementwise)
        }
        Op::Concat { axis: 1 } => Some(BlockForm::Concat),
        Op::Reduce(r) if r.axes.iter().all(|&a| a >= 2) => Some(BlockForm::Channels),
        _ => None,
    }
}

/// Work, input elements and weights of block `cc` channels × `rr` rows of a node (see the
/// module doc).
fn block_cost(model: &Model, node: &Node, form: &BlockForm, cc: usize, rr: usize) -> (u64, usize, usize) {
    let out = model.tensor(node.outputs[0]);
    let (_, _, row) = nchw(&out.shape);
    let outputs = (cc * rr * row) as u64;
    match form {
        BlockForm::Window => {
            let x = model.tensor(node.inputs[0]);
            let (cin, h, row_in) = nchw(&x.shape);
            let ((k, s, d, _), size) = window(&node.op).expect("windowed");
            let rows_in = ((rr - 1) * s + d * (k - 1) + 1).min(h);
            let positions = (rr * row) as u64;
            match &node.op {
                Op::Conv(c) => {
                    let ins = input_channels(&node.op, &(0..cc), cin, out.shape[1] as usize).len();
                    let macs = outputs * (cin / c.groups as usize) as u64 * size;
                    let weights = cc * (cin / c.groups as usize) * size as usize;
                    (macs + 6 * positions * ins as u64 * size, ins * rows_in * row_in, weights)
                }
                _ => (24 * outputs * size, cc * rows_in * row_in, 0),
            }
        }
        BlockForm::Elementwise | BlockForm::Concat => {
            let inputs = node.inputs.iter().filter(|&&i| !is_constant(model, i)).count().max(1);
            let n = if matches!(form, BlockForm::Concat) { 1 } else { inputs };
            (8 * outputs * n as u64, outputs as usize * n, 0)
        }
        BlockForm::Channels => {
            let x = model.tensor(node.inputs[0]);
            let plane: usize = x.shape[2..].iter().map(|&d| d as usize).product();
            (32 * (cc * plane) as u64, cc * plane, 0)
        }
    }
}

/// The blocks of a node: the channels × rows that hold the most outputs within the limits
/// (ties: more channels), channel groups outer, row bands inner.
fn blocks(model: &Model, node: &Node, form: &BlockForm, lim: &Limits) -> Vec<Chunk> {
    let out = model.tensor(node.outputs[0]);
    let (c, h, row) = nchw(&out.shape);
    if c == 0 || h == 0 || row == 0 {
        return vec![Chunk::Whole];
    }
    let w = width(out.dtype);
    let unit = match &node.op {
        Op::Conv(cv) if cv.groups > 1 => c / cv.groups as usize,
        _ => 1,
    };
    let fits = |cc: usize, rr: usize| {
        let (work, input, weights) = block_cost(model, node, form, cc, rr);
        work <= lim.max_work && input <= lim.max_input && cc * rr * row * w <= lim.max_output && weights <= lim.max_weights
    };
    let row_choices: Vec<usize> = if matches!(form, BlockForm::Channels) { vec![h] } else { (1..=h).collect() };
    let mut best: Option<(usize, usize)> = None;
    for &rr in &row_choices {
        // channels: whole groups first, else single channels
        let mut cc = 0;
        while cc + unit <= c && fits(cc + unit, rr) {
            cc += unit;
        }
        if cc == 0 && unit > 1 && fits(1, rr) {
            cc = 1;
        }
        if cc > 0 && best.is_none_or(|(bc, br)| cc * rr > bc * br || (cc * rr == bc * br && cc > bc)) {
            best = Some((cc, rr));
        }
    }
    // nothing fits: one channel, one row (its cost is what it is)
    let (cc, rr) = best.unwrap_or((1, *row_choices.first().expect("h ≥ 1")));
    if cc >= c && rr >= h {
        return vec![Chunk::Whole];
    }
    let mut v = vec![];
    for channels in cut(c, cc) {
        for rows in cut(h, rr) {
            if let BlockForm::Window = form {
                let ((k, s, d, pb), _) = window(&node.op).expect("windowed");
                // a band that touches no input row (padding only) cannot be cut out
                if band(&rows, (k, s, d, pb), model.tensor(node.inputs[0]).shape[2] as usize).0.is_empty() {
                    return vec![Chunk::Whole];
                }
            }
            v.push(Chunk::Block { channels: channels.clone(), rows });
        }
    }
    v
}

/// The chunks of one node under `limits`.
fn chunks(model: &Model, node: &Node, limits: &Limits) -> Vec<Chunk> {
    let out = model.tensor(node.outputs[0]);
    let lim = limits;
    if let Some(form) = block_form(model, node) {
        return blocks(model, node, &form, lim);
    }
    match &node.op {
        Op::Dense(d) => {
            let (kf, nf) = (d.in_features as usize, d.out_features as usize);
            let rows = out.len().checked_div(nf).unwrap_or(0);
            let macs = |r: usize, f: usize| (r * f * kf) as u64;
            if macs(rows, nf) <= lim.max_work && rows * nf <= lim.max_output && rows * kf <= lim.max_input {
                return vec![Chunk::Whole];
            }
            if rows == 1 {
                let ff = (lim.max_work / kf.max(1) as u64).min(lim.max_output as u64).max(1) as usize;
                cut(nf, ff).into_iter().map(Chunk::Features).collect()
            } else {
                let rr = (lim.max_work / (kf * nf).max(1) as u64)
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
            let per = (lim.max_output / w_out).min(lim.max_input / w_in.max(1)).min((lim.max_work / 8) as usize).max(1);
            if out.len() <= per {
                return vec![Chunk::Whole];
            }
            cut(out.len(), per).into_iter().map(Chunk::Flat).collect()
        }
        Op::Concat { axis } if out.shape[..*axis as usize].iter().all(|&d| d == 1) => {
            let per = (lim.max_output / width(out.dtype)).min(lim.max_input).min((lim.max_work / 8) as usize).max(1);
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

/// The output byte ranges a chunk covers, in the order of the step's bytes.
pub fn chunk_segments(model: &Model, node: &Node, chunk: &Chunk) -> Vec<Range<usize>> {
    let out = model.tensor(node.outputs[0]);
    let w = width(out.dtype);
    let r = |e: Range<usize>| vec![e.start * w..e.end * w];
    match chunk {
        Chunk::Whole => r(0..out.len()),
        Chunk::Block { channels, rows } => block_ranges(&out.shape, w, channels, rows),
        Chunk::Features(f) => r(f.clone()),
        Chunk::Rows(rows) => {
            let Op::Dense(d) = &node.op else { unreachable!("Rows chunks are Dense's") };
            let n = d.out_features as usize;
            r(rows.start * n..rows.end * n)
        }
        Chunk::Flat(e) => r(e.clone()),
        Chunk::Copy { input, elems } => {
            let before: usize = node.inputs[..*input].iter().map(|&t| model.tensor(t).len()).sum();
            r(before + elems.start..before + elems.end)
        }
    }
}

/// The parts of a channel block of a Concat on axis 1: `(input, its channels)` for every
/// input the block's channels overlap, in order.
pub fn concat_parts(model: &Model, node: &Node, channels: &Range<usize>) -> Vec<(usize, Range<usize>)> {
    let mut at = 0;
    let mut parts = vec![];
    for (i, &t) in node.inputs.iter().enumerate() {
        let ci = model.tensor(t).shape[1] as usize;
        let (lo, hi) = (channels.start.max(at), channels.end.min(at + ci));
        if lo < hi {
            parts.push((i, lo - at..hi - at));
        }
        at += ci;
    }
    parts
}

/// What a chunk reads: one [`Arg`] per non-constant input of its sub-model, in input order.
fn chunk_args(model: &Model, node: &Node, chunk: &Chunk) -> Vec<Arg> {
    let whole = |t: TensorId| Arg { tensor: t, pieces: vec![0..packed_len(model, t)] };
    let w_of = |t: TensorId| width(model.tensor(t).dtype);
    let non_constant = node.inputs.iter().copied().filter(|&t| !is_constant(model, t));
    match chunk {
        Chunk::Whole | Chunk::Features(_) => non_constant.map(whole).collect(),
        Chunk::Block { channels, rows } => match block_form(model, node).expect("a block form") {
            BlockForm::Window => {
                let (x, out) = (node.inputs[0], model.tensor(node.outputs[0]));
                let input = model.tensor(x);
                let (cin, h, _) = nchw(&input.shape);
                let ins = input_channels(&node.op, channels, cin, out.shape[1] as usize);
                let b = if rows.len() == out.shape[2] as usize { 0..h } else { band(rows, window(&node.op).expect("windowed").0, h).0 };
                vec![Arg { tensor: x, pieces: block_ranges(&input.shape, w_of(x), &ins, &b) }]
            }
            BlockForm::Elementwise => {
                non_constant.map(|t| Arg { tensor: t, pieces: block_ranges(&model.tensor(t).shape, w_of(t), channels, rows) }).collect()
            }
            BlockForm::Channels => {
                let x = node.inputs[0];
                let shape = &model.tensor(x).shape;
                vec![Arg { tensor: x, pieces: block_ranges(shape, w_of(x), channels, &(0..nchw(shape).1)) }]
            }
            BlockForm::Concat => concat_parts(model, node, channels)
                .into_iter()
                .filter(|(i, _)| !is_constant(model, node.inputs[*i]))
                .map(|(i, ch)| {
                    let t = node.inputs[i];
                    Arg { tensor: t, pieces: block_ranges(&model.tensor(t).shape, w_of(t), &ch, rows) }
                })
                .collect(),
        },
        Chunk::Rows(r) => {
            let x = node.inputs[0];
            let k = model.tensor(x).shape.last().copied().unwrap_or(1) as usize;
            vec![Arg { tensor: x, pieces: vec![r.start * k..r.end * k] }]
        }
        Chunk::Flat(e) => non_constant.map(|t| Arg { tensor: t, pieces: vec![e.start * w_of(t)..e.end * w_of(t)] }).collect(),
        Chunk::Copy { input, elems } => {
            let t = node.inputs[*input];
            if is_constant(model, t) { vec![] } else { vec![Arg { tensor: t, pieces: vec![elems.start * w_of(t)..elems.end * w_of(t)] }] }
        }
    }
}

/// `count` copies of `len` bytes from a leaf a step reads into its sub-model's packed
/// arguments: copy `i` takes bytes `src + i·src_stride ..` of leaf `leaf` (a position in
/// [`Plan::reads`]) to `dst + i·dst_stride ..`. How a step contract assembles its input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Copy {
    /// Position of the leaf in the step's reads.
    pub leaf: usize,
    /// Bytes per copy.
    pub len: usize,
    /// Copies.
    pub count: usize,
    /// First byte read in the leaf.
    pub src: usize,
    /// Step between copies in the leaf.
    pub src_stride: usize,
    /// First byte written in the packed arguments.
    pub dst: usize,
    /// Step between copies in the packed arguments.
    pub dst_stride: usize,
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
        let mut steps = vec![Step { kind: StepKind::Input, args: vec![], segments: vec![0..in_len], checks: vec![] }];
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
            let mut index = vec![];
            for chunk in chunks(model, node, &limits) {
                let segments = chunk_segments(model, node, &chunk);
                let mut at = 0;
                for s in &segments {
                    index.push((s.clone(), steps.len(), at));
                    at += s.len();
                }
                steps.push(Step {
                    args: chunk_args(model, node, &chunk),
                    kind: StepKind::Node { node: i, chunk },
                    segments,
                    checks: vec![],
                });
            }
            index.sort_by_key(|(r, _, _)| r.start);
            homes[node.outputs[0] as usize] = Home::Steps(index);
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
        steps.push(Step { kind: StepKind::Output, args, segments: vec![0..out_len], checks: vec![] });
        let mut plan = Plan { steps, homes, limits };
        // the Output step also checks every leaf no step reads: a step that fails (a run-time
        // error of the model) then fails the output however it sits in the graph
        let out = plan.output_step();
        let mut read = vec![false; out + 1];
        for k in 1..=out {
            for j in plan.reads(k) {
                read[j] = true;
            }
        }
        plan.steps[out].checks = (1..out).filter(|&j| !read[j]).collect();
        Ok(plan)
    }

    /// Index of the Output step (the last).
    pub fn output_step(&self) -> usize {
        self.steps.len() - 1
    }

    /// Where byte range `r` of `tensor` lies in the trace: `(leaf step, byte range in that
    /// step's bytes)` pieces, in order.
    pub fn resolve(&self, tensor: TensorId, r: &Range<usize>) -> Vec<(usize, Range<usize>)> {
        match &self.homes[tensor as usize] {
            Home::Input(o) => vec![(0, o + r.start..o + r.end)],
            Home::Steps(index) => {
                // the first segment that ends after r.start, then on while they start before r.end
                let first = index.partition_point(|(s, _, _)| s.end <= r.start);
                index[first..]
                    .iter()
                    .take_while(|(s, _, _)| s.start < r.end)
                    .filter_map(|(s, step, at)| {
                        let (lo, hi) = (s.start.max(r.start), s.end.min(r.end));
                        (lo < hi).then(|| (*step, at + lo - s.start..at + hi - s.start))
                    })
                    .collect()
            }
            Home::Constant | Home::Nowhere => vec![],
        }
    }

    /// How step `k`'s packed sub-model arguments are assembled from the leaves it reads: the
    /// pieces in order, adjacent ones joined, regular ones folded into strided [`Copy`]s.
    pub fn copies(&self, k: usize) -> Vec<Copy> {
        let reads = self.reads(k);
        let mut out: Vec<Copy> = vec![];
        let mut dst = 0;
        for a in &self.steps[k].args {
            for p in &a.pieces {
                for (s, r) in self.resolve(a.tensor, p) {
                    let leaf = reads.iter().position(|&j| j == s).expect("a read leaf");
                    let len = r.len();
                    let piece = Copy { leaf, len, count: 1, src: r.start, src_stride: 0, dst, dst_stride: 0 };
                    dst += len;
                    let Some(last) = out.last_mut() else {
                        out.push(piece);
                        continue;
                    };
                    let (next_src, next_dst) = (last.src + last.count * last.src_stride, last.dst + last.count * last.dst_stride);
                    if last.leaf != leaf {
                        out.push(piece);
                    } else if last.count == 1 && last.src + last.len == piece.src && last.dst + last.len == piece.dst {
                        last.len += len; // adjacent: one longer copy
                    } else if last.count == 1 && last.len == len && piece.src > last.src {
                        (last.src_stride, last.dst_stride, last.count) = (piece.src - last.src, piece.dst - last.dst, 2);
                    } else if last.count > 1 && last.len == len && piece.src == next_src && piece.dst == next_dst {
                        last.count += 1;
                    } else {
                        out.push(piece);
                    }
                }
            }
        }
        out
    }

    /// Bytes of step `k`'s packed sub-model arguments.
    pub fn args_len(&self, k: usize) -> usize {
        self.steps[k].args.iter().flat_map(|a| &a.pieces).map(|p| p.len()).sum()
    }

    /// The leaves step `k` reads, each once, in order of first use, then the leaves it checks
    /// only ([`Step::checks`]): what a one-step proof passes (with their Merkle proofs).
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
        for &j in &self.steps[k].checks {
            if !leaves.contains(&j) {
                leaves.push(j);
            }
        }
        leaves
    }
}
