//! Normalize (`shaders/normalize.wgsl`): one thread per row of the last axis.

use solidml_spec::{NormKind, Normalize};

use super::{Builder, NodeRef, numel};
use crate::GpuError;
use crate::shaders::Shader;

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, nm: &Normalize) -> Result<(), GpuError> {
    let xs = &n.input(0).shape;
    let row = *xs.last().unwrap() as u64;
    if row == 0 {
        return Ok(());
    }
    let rows = numel(xs) / row;
    let kind = match nm.kind {
        NormKind::L1 => 0,
        NormKind::L2 => 1,
    };
    let params = [rows as u32, row as u32, kind, nm.input_zero_point as u32, nm.output_zero_point as u32, nm.scale_log2];
    b.dispatch(Shader::Normalize, "main", rows, &params, n.binds(b, 1))
}
