//! Pad (`shaders/pad.wgsl`): Constant, Reflect and Edge modes, int8 or i64.

use solidml_spec::{Pad, PadMode};

use super::{Builder, NodeRef, numel};
use crate::GpuError;
use crate::shaders::Shader;

/// `pad.wgsl`: Constant / Reflect / Edge padding, int8 or i64 (spec §Op: Pad).
pub(crate) const PAD: Shader = crate::shader!("pad", false);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[PAD];

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, p: &Pad) -> Result<(), GpuError> {
    let (xs, ys) = (&n.input(0).shape, &n.output().shape);
    let total = numel(ys);
    let mode = match p.mode {
        PadMode::Constant => 0,
        PadMode::Reflect => 1,
        PadMode::Edge => 2,
    };
    let ist = solidml_exec::index::strides(xs);
    let mut params = vec![total as u32, n.words(), mode, p.value as u64 as u32, (p.value as u64 >> 32) as u32, xs.len() as u32];
    for d in 0..xs.len() {
        params.extend([ys[d], xs[d], ist[d] as u32, p.pads_begin[d]]);
    }
    b.dispatch(PAD, "main", total, &params, n.binds(b, 1))
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Pad`] (`solidml_spec::for_each_op!`).
    pub(crate) fn pad(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, op: &solidml_spec::Pad) -> super::BuildResult {
        build(b, n, op)
    }
}
