//! IntCompare (`shaders/int_compare.wgsl`): one thread per output element; both i64 operands
//! (u32 pairs) read at their broadcast offsets, compared signed (`=`, `<` or `>`), and the
//! element written as `true_code` where the comparison holds, else `false_code` (spec §Op:
//! IntCompare). One dispatch, never fails.

use solidml_spec::{CompareKind, IntCompare};

use super::{Builder, NodeRef, broadcast_block, numel};
use crate::GpuError;
use crate::shaders::Shader;

/// `int_compare.wgsl`: i64 Equal / Less / Greater with broadcasting into two int8 codes
/// (spec §Op: IntCompare).
pub(crate) const INT_COMPARE: Shader = crate::shader!("int_compare", false);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[INT_COMPARE];

/// The shader's word for a comparison (params[1]).
fn kind_word(kind: CompareKind) -> u32 {
    match kind {
        CompareKind::Equal => 0,
        CompareKind::Less => 1,
        CompareKind::Greater => 2,
    }
}

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, c: &IntCompare) -> Result<(), GpuError> {
    let total = numel(&n.output().shape);
    let mut params = vec![total as u32, kind_word(c.kind), c.true_code as i32 as u32, c.false_code as i32 as u32];
    params.extend(broadcast_block(&n.input(0).shape, &n.input(1).shape, &n.output().shape));
    b.dispatch(INT_COMPARE, "main", total, &params, n.binds(b, 2))
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::IntCompare`] (`solidml_spec::for_each_op!`).
    pub(crate) fn int_compare(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, op: &solidml_spec::IntCompare) -> super::BuildResult {
        build(b, n, op)
    }
}
