//! The work of an inference, what the gas schedule prices (docs/spec.md §Gas; the schedule's
//! rates are `solidml_precompile::gas`):
//!
//! * `units`: per node, the MACs of the matrix ops (Conv, ConvTranspose, Dense, MatMul, and
//!   Mul), or for every other node the elements it reads and writes (times the window size for
//!   pools; a TopK's read elements times the bit length of its lane), summed per [`WorkClass`]
//!   (by the node's op);
//! * `elements`: per node, the elements it reads and writes;
//! * `weights`: the constant weights of the Conv, ConvTranspose, Dense and DenseWide nodes;
//! * `nodes`: the number of nodes.
//!
//! Each operator's class and work are consensus (every node must price a call alike), so they
//! live here with the operators: a new operator decides its class and its units in this file.

use crate::{Model, Node, Op};

/// How a node's work is priced: by what an executor does for its op (spec §Gas, "classes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WorkClass {
    /// Conv and Dense: exact int8 GEMMs over pre-packed weights (MACs).
    Gemm,
    /// MaxPool and AvgPool: fixed windows (taps read plus elements read).
    Window,
    /// Lut, Reduce, Concat, Binary (Add, Sub, Mul) and Extremum (Max, Min): one streaming
    /// pass (their units: elements read plus written, or a Mul's products).
    Stream,
    /// Every other op, run by kernels no faster than the reference's.
    Reference,
}

impl WorkClass {
    /// Every class, in schedule order.
    pub const ALL: [WorkClass; 4] = [WorkClass::Gemm, WorkClass::Window, WorkClass::Stream, WorkClass::Reference];

    /// The class of a node running `op`.
    pub fn of(op: &Op) -> WorkClass {
        match op {
            Op::Conv(_) | Op::Dense(_) => WorkClass::Gemm,
            Op::MaxPool(_) | Op::AvgPool(_) => WorkClass::Window,
            Op::Lut(_) | Op::Reduce(_) | Op::Concat { .. } | Op::Binary(_) | Op::Extremum(_) => WorkClass::Stream,
            // a new operator decides its class here
            Op::ConvTranspose(_)
            | Op::MatMul(_)
            | Op::BinaryLut { .. }
            | Op::IntBinary { .. }
            | Op::View(_)
            | Op::Pad(_)
            | Op::Softmax(_)
            | Op::LogSoftmax(_)
            | Op::ArgMax { .. }
            | Op::Take { .. }
            | Op::Gather { .. }
            | Op::GatherDynamic { .. }
            | Op::InstanceNorm(_)
            | Op::Lrn(_)
            | Op::Normalize(_)
            | Op::CumSum(_)
            | Op::DenseWide(_)
            | Op::TopK { .. }
            | Op::IntCompare(_)
            | Op::IntLut { .. } => WorkClass::Reference,
        }
    }

    /// The class's name as docs and `solidml bench --gas` print it.
    pub fn name(self) -> &'static str {
        match self {
            WorkClass::Gemm => "gemm",
            WorkClass::Window => "window",
            WorkClass::Stream => "stream",
            WorkClass::Reference => "reference",
        }
    }

    /// The class's position in [`WorkClass::ALL`] (a schedule's cost array is in that order).
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The work of one inference: units per [`WorkClass`], elements streamed, nodes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    units: [u64; 4],
    /// Elements read and written (see the module docs).
    pub elements: u64,
    /// Constant weights of the matrix ops.
    pub weights: u64,
    /// Nodes run.
    pub nodes: u64,
}

impl Work {
    /// The work of one inference of `model` (see the module docs), saturating.
    pub fn of(model: &Model) -> Work {
        let mut work = Work { nodes: model.nodes.len() as u64, ..Work::default() };
        for (n, units) in model.nodes.iter().zip(node_units(model)) {
            work.add(WorkClass::of(&n.op), units);
            work.elements = work.elements.saturating_add(node_elements(model, n));
            work.weights = work.weights.saturating_add(node_weights(n));
        }
        work
    }

    /// This work with `units` more in `class`, saturating.
    pub fn add(&mut self, class: WorkClass, units: u64) {
        let u = &mut self.units[class.index()];
        *u = u.saturating_add(units);
    }

    /// The units in `class`.
    pub fn units(&self, class: WorkClass) -> u64 {
        self.units[class.index()]
    }

    /// All units of every class, saturating (what `solidml_precompile::gas::MAX_WORK` bounds).
    pub fn total(&self) -> u64 {
        self.units.iter().fold(0u64, |a, &u| a.saturating_add(u))
    }
}

/// Work units of one inference of `model`, all classes together (see the module docs).
pub fn work_units(model: &Model) -> u64 {
    Work::of(model).total()
}

/// The elements `n` streams: read (by position) and written.
fn node_elements(model: &Model, n: &Node) -> u64 {
    n.inputs.iter().chain(&n.outputs).map(|&t| model.tensor(t).len() as u64).fold(0, u64::saturating_add)
}

/// The constant weights of a matrix op (none for other ops).
fn node_weights(n: &Node) -> u64 {
    let weights = match &n.op {
        Op::Conv(c) => c.weights.len(),
        Op::Dense(d) => d.weights.len(),
        Op::DenseWide(d) => d.weights.len(),
        Op::ConvTranspose(c) => c.weights.len(),
        // a new operator with constant weights counts them here
        Op::MatMul(_)
        | Op::Binary(_)
        | Op::Extremum(_)
        | Op::BinaryLut { .. }
        | Op::IntBinary { .. }
        | Op::Lut(_)
        | Op::View(_)
        | Op::Pad(_)
        | Op::Concat { .. }
        | Op::MaxPool(_)
        | Op::AvgPool(_)
        | Op::Reduce(_)
        | Op::Softmax(_)
        | Op::LogSoftmax(_)
        | Op::ArgMax { .. }
        | Op::Take { .. }
        | Op::Gather { .. }
        | Op::GatherDynamic { .. }
        | Op::InstanceNorm(_)
        | Op::Lrn(_)
        | Op::Normalize(_)
        | Op::CumSum(_)
        | Op::TopK { .. }
        | Op::IntCompare(_)
        | Op::IntLut { .. } => 0,
    };
    weights as u64
}

/// Each node's work units, in node order.
fn node_units(model: &Model) -> impl Iterator<Item = u64> + '_ {
    model.nodes.iter().zip(model.macs_per_node()).map(|(n, macs)| {
        if macs > 0 {
            return macs;
        }
        let read: u64 = n.inputs.iter().map(|&i| model.tensor(i).len() as u64).sum();
        let written: u64 = n.outputs.iter().map(|&o| model.tensor(o).len() as u64).sum();
        match &n.op {
            Op::MaxPool(p) | Op::AvgPool(p) => {
                written.saturating_mul(p.kernel.iter().map(|&k| k as u64).product::<u64>()).saturating_add(read)
            }
            // as much as a sort of every lane: `bits(dim)` comparisons per element read
            Op::TopK { axis, .. } => {
                let dim = model.tensor(n.inputs[0]).shape[*axis as usize] as u64;
                read.saturating_mul((u64::BITS - dim.leading_zeros()) as u64).saturating_add(written)
            }
            // one pass over what the node reads and writes (MAC operators reach here only
            // with no MACs: empty tensors); a new operator decides its work here
            Op::Conv(_)
            | Op::Dense(_)
            | Op::ConvTranspose(_)
            | Op::MatMul(_)
            | Op::Binary(_)
            | Op::Extremum(_)
            | Op::BinaryLut { .. }
            | Op::IntBinary { .. }
            | Op::Lut(_)
            | Op::View(_)
            | Op::Pad(_)
            | Op::Concat { .. }
            | Op::Reduce(_)
            | Op::Softmax(_)
            | Op::LogSoftmax(_)
            | Op::ArgMax { .. }
            | Op::Take { .. }
            | Op::Gather { .. }
            | Op::GatherDynamic { .. }
            | Op::InstanceNorm(_)
            | Op::Lrn(_)
            | Op::Normalize(_)
            | Op::CumSum(_)
            | Op::DenseWide(_)
            | Op::IntCompare(_)
            | Op::IntLut { .. } => read.saturating_add(written),
        }
    })
}
