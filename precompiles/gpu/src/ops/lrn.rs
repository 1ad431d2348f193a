//! Lrn (`shaders/lrn.wgsl`): one thread per element.

use solidml_spec::Lrn;

use super::{Builder, NodeRef, numel};
use crate::GpuError;
use crate::shaders::Shader;

/// `lrn.wgsl`: local response normalization across channels (spec §Op: Lrn).
pub(crate) const LRN: Shader = crate::shader!("lrn", false);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[LRN];

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, l: &Lrn) -> Result<(), GpuError> {
    let xs = &n.input(0).shape;
    let total = numel(xs);
    let inner = numel(&xs[2..]);
    let (before, after) = ((l.size - 1) / 2, l.size / 2);
    let params = [
        total as u32,
        xs[1],
        inner as u32,
        before,
        after,
        l.input_zero_point as u32,
        l.output_zero_point as u32,
        l.sum_shift,
        l.factors.len() as u32,
        l.multiplier.multiplier as u32,
        l.multiplier.shift as u32,
    ];
    let data: Vec<u32> = l.factors.iter().map(|&f| f as u32).collect();
    let buf = b.data(&format!("{} factors", n.label()), &data)?;
    let mut binds = n.binds(b, 1);
    binds.data = buf.as_ref();
    b.dispatch(LRN, "main", total, &params, binds)?;
    if let Some(buf) = buf {
        b.keep(buf);
    }
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Lrn`] (`solidml_spec::for_each_op!`).
    pub(crate) fn lrn(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, op: &solidml_spec::Lrn) -> super::BuildResult {
        build(b, n, op)
    }
}
