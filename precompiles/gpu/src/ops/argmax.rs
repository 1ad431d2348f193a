//! ArgMax (`shaders/argmax.wgsl`): int8 in, i64 out.

use super::{Builder, NodeRef, numel};
use crate::GpuError;
use crate::shaders::Shader;

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, axis: u32, select_last: bool) -> Result<(), GpuError> {
    let xs = &n.input(0).shape;
    let a = axis as usize;
    let inner = numel(&xs[a + 1..]);
    let total = numel(xs) / xs[a] as u64;
    let params = [total as u32, xs[a], inner as u32, select_last as u32];
    b.dispatch(Shader::ArgMax, "main", total, &params, n.binds(b, 1))
}
