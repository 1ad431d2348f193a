//! One file per spec operator, named as in every other backend (`precompiles/cpu/src/ops`,
//! `precompiles/gpu/src/ops`): `emit` writes the node's Yul into the forward pass.
//!
//! `emit_node` dispatches with an exhaustive `match` over the spec's operators: a new
//! operator does not compile until it has a kernel here or is added to [`REFUSED`], whose
//! operators have no file and are answered with [`crate::SolidityError::Unsupported`].

mod argmax;
mod binary;
mod concat;
mod conv;
mod cum_sum;
mod dense;
mod gather;
mod lut;
mod normalize;
mod pad;
mod pool;
mod reduce;
mod softmax;
mod take;
mod view;

use solidml_spec::{Node, Op};

use crate::{NodeFailure, plan::Ctx};

/// The spec operators (`Op::kind()` names) this backend has no kernel for.
pub const REFUSED: &[&str] = &["LogSoftmax", "ConvTranspose", "MatMul", "BinaryLut", "GatherDynamic", "InstanceNorm", "IntBinary", "Lrn"];

/// Emit one node (its output placed in the memory plan, its Yul appended to the forward pass).
pub(crate) fn emit_node(cx: &mut Ctx<'_>, n: &Node) -> Result<(), NodeFailure> {
    match &n.op {
        Op::Dense(d) => dense::emit(cx, n, d),
        Op::Conv(c) => conv::emit(cx, n, c),
        Op::Lut(l) => lut::emit(cx, n, l),
        Op::Softmax(sm) => softmax::emit(cx, n, sm),
        Op::Normalize(nm) => normalize::emit(cx, n, nm),
        Op::ArgMax { axis, select_last_index } => argmax::emit(cx, n, axis, select_last_index),
        Op::Take { table } => take::emit(cx, n, table),
        Op::View(v) => view::emit(cx, n, v),
        Op::Pad(p) => pad::emit(cx, n, p),
        Op::Gather { axis, indices } => gather::emit(cx, n, axis, indices),
        Op::Concat { axis } => concat::emit(cx, n, axis),
        Op::MaxPool(p) | Op::AvgPool(p) => pool::emit(cx, n, p),
        Op::Reduce(rd) => reduce::emit(cx, n, rd),
        Op::Binary(b) => binary::emit(cx, n, binary::Form::Binary(b)),
        Op::Extremum(e) => binary::emit(cx, n, binary::Form::Extremum(*e)),
        Op::CumSum(c) => cum_sum::emit(cx, n, c),
        Op::LogSoftmax(_)
        | Op::ConvTranspose(_)
        | Op::MatMul(_)
        | Op::BinaryLut { .. }
        | Op::GatherDynamic { .. }
        | Op::InstanceNorm(_)
        | Op::IntBinary { .. }
        | Op::Lrn(_) => {
            debug_assert!(REFUSED.contains(&n.op.kind()));
            Err(NodeFailure::Unsupported)
        }
    }
}
