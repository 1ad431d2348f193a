//! View (`shaders/view.wgsl`): strided reads, for int8 and i64 tensors.

use solidml_spec::View;

use super::{Builder, NodeRef, numel};
use crate::GpuError;
use crate::shaders::Shader;

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, v: &View) -> Result<(), GpuError> {
    let shape = &n.output().shape;
    let total = numel(shape);
    // offsets wrap modulo 2^32 in the kernel; validation keeps the final offset in the input
    let mut params = vec![total as u32, n.words(), v.offset as u32, shape.len() as u32];
    params.extend_from_slice(shape);
    params.extend(v.strides.iter().map(|&s| s as u32));
    b.dispatch(Shader::View, "main", total, &params, n.binds(b, 1))
}
