//! One file per spec operator, named as in every other backend (`precompiles/cpu/src/ops`,
//! `precompiles/gpu/src/ops`): `emit` writes the node's Yul into the forward pass.
//!
//! `emit_node` dispatches with an exhaustive `match` over the spec's operators: a new
//! operator does not compile until it has a kernel here or is added to [`REFUSED`], whose
//! operators have no file and are answered with [`crate::SolidityError::Unsupported`]
//! (empty today: every operator of the spec has a kernel).

mod argmax;
mod binary;
mod concat;
mod conv;
mod conv_transpose;
mod cum_sum;
mod dense;
mod dense_wide;
mod gather;
mod instance_norm;
mod int_compare;
mod log_softmax;
mod lrn;
mod lut;
mod matmul;
mod normalize;
mod pad;
mod pool;
mod reduce;
mod softmax;
mod take;
mod top_k;
mod view;

use solidml_spec::{Node, Op};

use crate::{NodeFailure, plan::Ctx};

/// The spec operators (`Op::kind()` names) this backend has no kernel for.
pub const REFUSED: &[&str] = &[];

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
        Op::LogSoftmax(sm) => log_softmax::emit(cx, n, sm),
        Op::ConvTranspose(c) => conv_transpose::emit(cx, n, c),
        Op::MatMul(mm) => matmul::emit(cx, n, mm),
        Op::BinaryLut { table } => binary::emit(cx, n, binary::Form::Lut(table)),
        Op::GatherDynamic { axis } => gather::emit_dynamic(cx, n, axis),
        Op::InstanceNorm(p) => instance_norm::emit(cx, n, p),
        Op::IntBinary { kind } => binary::emit(cx, n, binary::Form::Int(*kind)),
        Op::Lrn(l) => lrn::emit(cx, n, l),
        Op::DenseWide(d) => dense_wide::emit(cx, n, d),
        Op::TopK { axis, k, largest, output } => top_k::emit(cx, n, *axis, *k, *largest, *output),
        Op::IntCompare(c) => int_compare::emit(cx, n, c),
    }
}
