//! Gather with constant indices and GatherDynamic with run-time i64 indices
//! (`shaders/gather.wgsl`, `shaders/gather_dynamic.wgsl`).

use super::{Builder, FailKind, NodeRef, numel};
use crate::GpuError;
use crate::shaders::Shader;

/// `gather.wgsl`: Gather with constant indices (spec §Op: Gather).
pub(crate) const GATHER: Shader = crate::shader!("gather", false);

/// `gather_dynamic.wgsl`: Gather with run-time i64 indices, out-of-range a run-time error
/// (spec §Op: GatherDynamic).
pub(crate) const GATHER_DYNAMIC: Shader = crate::shader!("gather_dynamic", false);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[GATHER, GATHER_DYNAMIC];

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, axis: u32, indices: &[u32]) -> Result<(), GpuError> {
    let xs = &n.input(0).shape;
    let a = axis as usize;
    let total = numel(&n.output().shape);
    let params = [total as u32, n.words(), xs[a], numel(&xs[a + 1..]) as u32, indices.len() as u32];
    let buf = b.data(&format!("{} indices", n.label()), indices)?;
    let mut binds = n.binds(b, 1);
    binds.data = buf.as_ref();
    b.dispatch(GATHER, "main", total, &params, binds)?;
    if let Some(buf) = buf {
        b.keep(buf);
    }
    Ok(())
}

pub(crate) fn build_dynamic(b: &mut Builder<'_>, n: &NodeRef<'_>, axis: u32) -> Result<(), GpuError> {
    let xs = &n.input(0).shape;
    let a = axis as usize;
    let nidx = numel(&n.input(1).shape);
    let total = numel(&n.output().shape);
    let slot = b.slot(n.index, FailKind::Index { len: xs[a] as usize });
    let params = [total as u32, n.words(), xs[a], numel(&xs[a + 1..]) as u32, nidx as u32, slot];
    b.dispatch(GATHER_DYNAMIC, "check", nidx, &params, n.binds(b, 2))?;
    b.dispatch(GATHER_DYNAMIC, "main", total, &params, n.binds(b, 2))?;
    if nidx > 0 {
        b.dispatch(GATHER_DYNAMIC, "report", 1, &params, n.binds(b, 2))?;
    }
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Gather`] (`solidml_spec::for_each_op!`).
    pub(crate) fn gather(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, axis: &u32, indices: &[u32]) -> super::BuildResult {
        build(b, n, *axis, indices)
    }

    /// The node entry of [`solidml_spec::Op::GatherDynamic`] (`solidml_spec::for_each_op!`).
    pub(crate) fn gather_dynamic(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, axis: &u32) -> super::BuildResult {
        build_dynamic(b, n, *axis)
    }
}
