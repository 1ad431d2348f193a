//! MatMul of two run-time int8 tensors (`shaders/matmul.wgsl`), batch axes broadcast.

use solidml_spec::MatMul;

use super::{Builder, NodeRef, broadcast_block, numel};
use crate::GpuError;
use crate::shaders::Shader;

/// `matmul.wgsl`: MatMul of two run-time int8 tensors (spec §Op: MatMul); uses `dot4_*`.
pub(crate) const MATMUL: Shader = crate::shader!("matmul", true);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[MATMUL];

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, mm: &MatMul) -> Result<(), GpuError> {
    let (sa, sb, so) = (&n.input(0).shape, &n.input(1).shape, &n.output().shape);
    let (m, k, nn) = (sa[sa.len() - 2], sa[sa.len() - 1], sb[sb.len() - 1]);
    let total = numel(so);
    let mut params = vec![
        total as u32,
        m,
        k,
        nn,
        mm.a_zero_point as u32,
        mm.b_zero_point as u32,
        mm.multiplier.multiplier as u32,
        mm.multiplier.shift as u32,
        mm.output_zero_point as u32,
    ];
    params.extend(broadcast_block(&sa[..sa.len() - 2], &sb[..sb.len() - 2], &so[..so.len() - 2]));
    b.dispatch(MATMUL, "main", total, &params, n.binds(b, 2))
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::MatMul`] (`solidml_spec::for_each_op!`).
    pub(crate) fn matmul(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, op: &solidml_spec::MatMul) -> super::BuildResult {
        build(b, n, op)
    }
}
