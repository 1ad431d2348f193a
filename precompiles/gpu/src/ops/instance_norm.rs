//! InstanceNorm (`shaders/instance_norm.wgsl`): partial sums per chunk of `CHUNK` (4,096)
//! elements of a plane into a scratch buffer, a statistics pass per plane over its ≤ 16 partials
//! (planes ≤ 2^16), then one thread per element: no invocation walks more than 4,096 elements.

use solidml_spec::InstanceNorm;

use super::{Builder, CHUNK, NodeRef, numel};
use crate::GpuError;
use crate::executor::i64_words;
use crate::shaders::Shader;

/// `instance_norm.wgsl`: InstanceNorm in exact integers, i64 emulated on u32 pairs
/// (spec §Op: InstanceNorm).
pub(crate) const INSTANCE_NORM: Shader = crate::shader!("instance_norm", false);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[INSTANCE_NORM];

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, inn: &InstanceNorm) -> Result<(), GpuError> {
    let xs = &n.input(0).shape;
    let total = numel(xs);
    let plane = numel(&xs[2..]);
    let planes = total / plane.max(1);
    let chunks = plane.div_ceil(CHUNK);
    let eps = inn.epsilon_term as u64;
    let params = [
        total as u32,
        planes as u32,
        plane as u32,
        xs[1],
        inn.input_zero_point as u32,
        inn.output_zero_point as u32,
        eps as u32,
        (eps >> 32) as u32,
        chunks as u32,
        CHUNK as u32,
    ];
    let mut data = i64_words(&inn.gamma_q16);
    data.extend(i64_words(&inn.beta_q16));
    let buf = b.data(&format!("{} parameters", n.label()), &data)?;
    let scratch = b.scratch(planes * (4 + 2 * chunks))?;
    let mut binds = n.binds(b, 1);
    binds.data = buf.as_ref();
    binds.scratch = Some(&scratch);
    b.dispatch(INSTANCE_NORM, "partial", planes * chunks, &params, binds)?;
    b.dispatch(INSTANCE_NORM, "stats", planes, &params, binds)?;
    b.dispatch(INSTANCE_NORM, "main", total, &params, binds)?;
    if let Some(buf) = buf {
        b.keep(buf);
    }
    b.keep(scratch);
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::InstanceNorm`] (`solidml_spec::for_each_op!`).
    pub(crate) fn instance_norm(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, op: &solidml_spec::InstanceNorm) -> super::BuildResult {
        build(b, n, op)
    }
}
