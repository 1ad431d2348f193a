//! View (`shaders/view.wgsl`): strided reads, for int8 and i64 tensors.

use solidml_spec::View;

use super::{Builder, NodeRef, numel};
use crate::GpuError;
use crate::shaders::Shader;

/// `view.wgsl`: strided View of int8 or i64 tensors (spec §Op: View).
pub(crate) const VIEW: Shader = crate::shader!("view", false);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[VIEW];

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, v: &View) -> Result<(), GpuError> {
    let shape = &n.output().shape;
    let total = numel(shape);
    // offsets wrap modulo 2^32 in the kernel; validation keeps the final offset in the input
    let mut params = vec![total as u32, n.words(), v.offset as u32, shape.len() as u32];
    params.extend_from_slice(shape);
    params.extend(v.strides.iter().map(|&s| s as u32));
    b.dispatch(VIEW, "main", total, &params, n.binds(b, 1))
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::View`] (`solidml_spec::for_each_op!`).
    pub(crate) fn view(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, op: &solidml_spec::View) -> super::BuildResult {
        build(b, n, op)
    }
}
