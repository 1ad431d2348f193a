//! One file per operator the JIT specializes; [`compile`] picks a node's plan. A node whose op
//! has no file here yet (or whose plan would pass the size cap) runs on the host's fallback
//! executor, one node at a time (`crate::JitBackend::with_fallback`).

pub(crate) mod conv;
pub(crate) mod dense;

use solidml_exec::{ExecError, Value};
use solidml_spec::{Model, Node, Op};

use crate::gemm::Kernel;

/// A node specialized by the JIT.
pub(crate) enum Plan {
    Conv(conv::ConvPlan),
    Dense(dense::DensePlan),
}

impl Plan {
    /// Bytes the plan holds (packed weights, tables).
    pub(crate) fn bytes(&self) -> usize {
        match self {
            Plan::Conv(p) => p.packed_bytes(),
            Plan::Dense(p) => p.packed_bytes(),
        }
    }

    /// Run the node on its (already checked) inputs.
    pub(crate) fn run(&self, kernel: Kernel, args: &[&Value]) -> Result<Value, ExecError> {
        match self {
            Plan::Conv(p) => p.run(kernel, args[0].as_i8()),
            Plan::Dense(p) => p.run(kernel, args[0].as_i8()),
        }
    }
}

/// Why a node is not specialized.
pub(crate) enum NotCompiled {
    /// The JIT has no kernel for this op yet.
    Op(&'static str),
    /// Its plan would take more than `max_bytes`.
    TooLarge { bytes: usize },
}

/// The plan of `node` (of a validated `model`), if the JIT specializes it within `max_bytes`.
pub(crate) fn compile(model: &Model, node: &Node, max_bytes: usize) -> Result<Plan, NotCompiled> {
    let shape = |id: u32| &model.tensor(id).shape[..];
    let within = |bytes: usize| if bytes <= max_bytes { Ok(()) } else { Err(NotCompiled::TooLarge { bytes }) };
    match &node.op {
        Op::Dense(d) => {
            within(gemm_bytes(d.in_features as usize, d.out_features as usize))?;
            Ok(Plan::Dense(dense::DensePlan::new(d)))
        }
        Op::Conv(c) => {
            let (sin, sout) = (shape(node.inputs[0]), shape(node.outputs[0]));
            let numel = |s: &[u32]| s.iter().map(|&d| d as usize).product::<usize>();
            let (in_plane, out_plane, klen) = (numel(&sin[2..]), numel(&sout[2..]), numel(&c.kernel));
            let cout = sout[1] as usize;
            let k = (sin[1] / c.groups) as usize * klen;
            if in_plane >= u32::MAX as usize {
                return Err(NotCompiled::TooLarge { bytes: in_plane });
            }
            within(gemm_bytes(k, cout).saturating_add(klen.saturating_mul(out_plane).saturating_mul(4)))?;
            Ok(Plan::Conv(conv::ConvPlan::new(c, sin, sout)))
        }
        op => Err(NotCompiled::Op(op.kind())),
    }
}

/// An upper bound of the bytes a `k × n` operand takes packed (padding to whole blocks).
fn gemm_bytes(k: usize, n: usize) -> usize {
    (k + 2).saturating_mul(n + 16).saturating_mul(2)
}
