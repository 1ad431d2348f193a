//! Concat (`shaders/concat.wgsl`): one dispatch per input.

use super::{Binds, Builder, NodeRef, numel};
use crate::GpuError;
use crate::shaders::Shader;

/// `concat.wgsl`: Concat, one dispatch per input (spec §Op: Concat).
pub(crate) const CONCAT: Shader = crate::shader!("concat", false);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[CONCAT];

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, axis: u32) -> Result<(), GpuError> {
    let a = axis as usize;
    let chunk_out = numel(&n.output().shape[a..]);
    let mut prefix = 0u64;
    for (i, &input) in n.node.inputs.iter().enumerate() {
        let shape = &n.input(i).shape;
        let chunk_in = numel(&shape[a..]);
        let total = numel(shape);
        let params = [total as u32, n.words(), chunk_in as u32, chunk_out as u32, prefix as u32];
        let binds = Binds { out: Some(b.tensor(n.node.outputs[0])), in0: Some(b.tensor(input)), ..Default::default() };
        b.dispatch(CONCAT, "main", total, &params, binds)?;
        prefix += chunk_in;
    }
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Concat`] (`solidml_spec::for_each_op!`).
    pub(crate) fn concat(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, axis: &u32) -> super::BuildResult {
        build(b, n, *axis)
    }
}
