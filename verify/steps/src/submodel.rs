//! The sub-model of one step: a valid spec [`Model`] whose inputs are the step's [`Arg`]s (in
//! order) and whose one output is the step's output bytes. Every executor runs it like any
//! model, and the Solidity backend compiles it into the step's contract, so a one-step proof
//! re-executes exactly the kernels of the full model (docs/verification.md §Steps).
//!
//! How a chunk becomes a model (the operator's semantics unchanged; only its extent):
//! * A **Block** (channels × rows) of a Conv: the output channels' weights, biases and
//!   multipliers; the input channels they read (all of them, or their groups'); a band of rows
//!   gets the band of input rows it touches and, on axis 2, the padding the full input had
//!   there ([`crate::plan::band`]). Pools likewise without weights; a Concat on channels the
//!   blocks of the inputs it overlaps; element-wise ops the same block of every operand
//!   (constants cut likewise, a per-channel Lut's tables sliced); a channel-wise Reduce its
//!   input channels.
//! * **Features** of a Dense: its weight rows; **Rows**: the input rows, as a `[rows, K]` input.
//! * **Flat**: every operand flattened to the element range (constants sliced).
//! * **Copy** and the **Output** step: no node; each output is an input (or a constant) as is.

use solidml_spec::{ConstData, Conv, Dense, Epilogue, Lut, Model, Node, Op, Pool, TensorId, TensorInfo};

use crate::plan::{Chunk, Plan, StepKind, band, block_ranges, concat_parts, input_channels, window};

fn with_shape(info: &TensorInfo, shape: Vec<u32>) -> TensorInfo {
    TensorInfo { shape, ..info.clone() }
}

fn slice_const(data: &ConstData, r: std::ops::Range<usize>) -> ConstData {
    match data {
        ConstData::I8(v) => ConstData::I8(v[r].to_vec()),
        ConstData::I64(v) => ConstData::I64(v[r].to_vec()),
    }
}

/// The elements `ranges` of a constant, concatenated.
fn gather_const(data: &ConstData, ranges: &[std::ops::Range<usize>]) -> ConstData {
    match data {
        ConstData::I8(v) => ConstData::I8(ranges.iter().flat_map(|r| v[r.clone()].iter().copied()).collect()),
        ConstData::I64(v) => ConstData::I64(ranges.iter().flat_map(|r| v[r.clone()].iter().copied()).collect()),
    }
}

fn slice_epilogue(e: &Epilogue, c: &std::ops::Range<usize>) -> Epilogue {
    let multipliers = if e.multipliers.len() > 1 { e.multipliers[c.clone()].to_vec() } else { e.multipliers.clone() };
    Epilogue { multipliers, ..e.clone() }
}

/// The sub-model of step `k` (`None` for the Input step, which runs nothing).
pub fn sub_model(model: &Model, plan: &Plan, k: usize) -> Option<Model> {
    let step = &plan.steps[k];
    let name = format!("{}_step{k}", model.name);
    let mut sub = Model { name, tensors: vec![], constants: vec![], inputs: vec![], outputs: vec![], nodes: vec![], input_quant: vec![] };
    let constant = |t: TensorId| model.constants.iter().find(|(c, _)| *c == t).map(|(_, d)| d);
    let add = |sub: &mut Model, info: TensorInfo| {
        sub.tensors.push(info);
        (sub.tensors.len() - 1) as TensorId
    };
    let (node_index, chunk) = match &step.kind {
        StepKind::Input => return None,
        StepKind::Output => {
            let mut args = step.args.iter();
            for &t in &model.outputs {
                let id = add(&mut sub, model.tensor(t).clone());
                match constant(t) {
                    Some(d) => sub.constants.push((id, d.clone())),
                    None => {
                        debug_assert_eq!(args.next().map(|a| a.tensor), Some(t));
                        sub.inputs.push(id);
                    }
                }
                sub.outputs.push(id);
            }
            return Some(sub);
        }
        StepKind::Node { node, chunk } => (*node, chunk),
    };
    let node = &model.nodes[node_index];
    let out = model.tensor(node.outputs[0]);
    let x = model.tensor(node.inputs[0]);
    let shape_with = |shape: &[u32], at: &[(usize, usize)]| {
        let mut s = shape.to_vec();
        for &(axis, len) in at {
            s[axis] = len as u32;
        }
        s
    };
    // (input tensors of the sub-node, its op, the output's shape)
    let (op, in_shapes, out_shape): (Op, Vec<Vec<u32>>, Vec<u32>) = match chunk {
        Chunk::Whole => (node.op.clone(), node.inputs.iter().map(|&t| model.tensor(t).shape.clone()).collect(), out.shape.clone()),
        Chunk::Copy { input, elems } => {
            let t = node.inputs[*input];
            let info = with_shape(model.tensor(t), vec![elems.len() as u32]);
            let id = add(&mut sub, info);
            match constant(t) {
                Some(d) => sub.constants.push((id, slice_const(d, elems.clone()))),
                None => sub.inputs.push(id),
            }
            sub.outputs.push(id);
            return Some(sub);
        }
        Chunk::Flat(e) => (node.op.clone(), node.inputs.iter().map(|_| vec![e.len() as u32]).collect(), vec![e.len() as u32]),
        Chunk::Features(f) => {
            let Op::Dense(d) = &node.op else { unreachable!("Features chunks are Dense's") };
            let kf = d.in_features as usize;
            let op = Op::Dense(Dense {
                out_features: f.len() as u32,
                weights: d.weights[f.start * kf..f.end * kf].to_vec(),
                bias: d.bias[f.clone()].to_vec(),
                epilogue: slice_epilogue(&d.epilogue, f),
                ..d.clone()
            });
            let last = out.shape.len() - 1;
            (op, vec![x.shape.clone()], shape_with(&out.shape, &[(last, f.len())]))
        }
        Chunk::Rows(r) => {
            let Op::Dense(d) = &node.op else { unreachable!("Rows chunks are Dense's") };
            (node.op.clone(), vec![vec![r.len() as u32, d.in_features]], vec![r.len() as u32, d.out_features])
        }
        Chunk::Block { channels, rows } => {
            let block = |shape: &[u32], ch: usize, r: usize| {
                let mut s = shape.to_vec();
                s[1] = ch as u32;
                if s.len() > 2 {
                    s[2] = r as u32;
                }
                s
            };
            let out_shape = block(&out.shape, channels.len(), rows.len());
            match &node.op {
                op @ (Op::Conv(_) | Op::MaxPool(_) | Op::AvgPool(_)) => {
                    let (cin, cout, h) = (x.shape[1] as usize, out.shape[1] as usize, x.shape[2] as usize);
                    let ins = input_channels(op, channels, cin, cout);
                    let (win, _) = window(op).expect("windowed");
                    let (b, pb, pe) = if rows.len() == out.shape[2] as usize {
                        (0..h, None, None)
                    } else {
                        let (b, pb, pe) = band(rows, win, h);
                        (b, Some(pb as u32), Some(pe as u32))
                    };
                    let pads = |begin: &[u32], end: &[u32]| {
                        let (mut begin, mut end) = (begin.to_vec(), end.to_vec());
                        if let (Some(pb), Some(pe)) = (pb, pe) {
                            (begin[0], end[0]) = (pb, pe);
                        }
                        (begin, end)
                    };
                    let op = match op {
                        Op::Conv(c) => {
                            let per: usize = c.weights.len() / cout;
                            let (cout_g, groups) = (cout / c.groups as usize, c.groups as usize);
                            let whole_groups = groups > 1 && channels.start % cout_g == 0 && channels.end % cout_g == 0;
                            let (pads_begin, pads_end) = pads(&c.pads_begin, &c.pads_end);
                            Op::Conv(Conv {
                                groups: if whole_groups { (channels.len() / cout_g) as u32 } else { 1 },
                                weights: c.weights[channels.start * per..channels.end * per].to_vec(),
                                bias: c.bias[channels.clone()].to_vec(),
                                epilogue: slice_epilogue(&c.epilogue, channels),
                                pads_begin,
                                pads_end,
                                ..c.clone()
                            })
                        }
                        Op::MaxPool(p) | Op::AvgPool(p) => {
                            let (pads_begin, pads_end) = pads(&p.pads_begin, &p.pads_end);
                            let pool = Pool { pads_begin, pads_end, ..p.clone() };
                            if matches!(op, Op::MaxPool(_)) { Op::MaxPool(pool) } else { Op::AvgPool(pool) }
                        }
                        _ => unreachable!(),
                    };
                    (op, vec![block(&x.shape, ins.len(), b.len())], out_shape)
                }
                Op::Concat { .. } => {
                    // the inputs the block's channels overlap, each cut to its block
                    let parts = concat_parts(model, node, channels);
                    let mut ins = vec![];
                    for (i, ch) in parts {
                        let t = node.inputs[i];
                        let info = model.tensor(t);
                        let id = add(&mut sub, with_shape(info, block(&info.shape, ch.len(), rows.len())));
                        match constant(t) {
                            Some(d) => sub.constants.push((id, gather_const(d, &block_ranges(&info.shape, 1, &ch, rows)))),
                            None => sub.inputs.push(id),
                        }
                        ins.push(id);
                    }
                    let y = add(&mut sub, with_shape(out, out_shape));
                    sub.nodes.push(Node { name: node.name.clone(), op: node.op.clone(), inputs: ins, outputs: vec![y] });
                    sub.outputs.push(y);
                    return Some(sub);
                }
                Op::Lut(l) => {
                    let tables = match l.axis {
                        Some(_) => l.tables[channels.start * 256..channels.end * 256].to_vec(),
                        None => l.tables.clone(),
                    };
                    (Op::Lut(Lut { axis: l.axis, tables }), vec![block(&x.shape, channels.len(), rows.len())], out_shape)
                }
                // channel-wise Reduce: every input row
                op @ Op::Reduce(_) => {
                    let h = x.shape.get(2).map_or(1, |&h| h as usize);
                    (op.clone(), vec![block(&x.shape, channels.len(), h)], out_shape)
                }
                // element-wise: every input has the output's shape
                op => (op.clone(), node.inputs.iter().map(|_| out_shape.clone()).collect(), out_shape.clone()),
            }
        }
    };
    let inputs: Vec<TensorId> = node
        .inputs
        .iter()
        .zip(in_shapes)
        .map(|(&t, shape)| {
            let id = add(&mut sub, with_shape(model.tensor(t), shape));
            match (constant(t), chunk) {
                (Some(d), Chunk::Flat(e)) => sub.constants.push((id, slice_const(d, e.clone()))),
                (Some(d), Chunk::Block { channels, rows }) => {
                    sub.constants.push((id, gather_const(d, &block_ranges(&model.tensor(t).shape, 1, channels, rows))))
                }
                (Some(d), _) => sub.constants.push((id, d.clone())),
                (None, _) => sub.inputs.push(id),
            }
            id
        })
        .collect();
    let y = add(&mut sub, with_shape(out, out_shape));
    sub.nodes.push(Node { name: node.name.clone(), op, inputs, outputs: vec![y] });
    sub.outputs.push(y);
    Some(sub)
}
