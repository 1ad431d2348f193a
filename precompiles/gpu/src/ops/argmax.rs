//! ArgMax (`shaders/argmax.wgsl`): int8 in, i64 out. One thread per lane when the lane is at
//! most `CHUNK` (4,096) long; a longer lane in chunks of 4,096 (doubled while fewer than the
//! chunks), each chunk's best (index, value) into scratch, then one thread per lane over its
//! chunks in order: no invocation loops more than max(4,096, 2·√dim) times (16,384 at the
//! 2^28-element cap).

use super::{Builder, CHUNK, NodeRef, numel};
use crate::GpuError;
use crate::shaders::Shader;

/// `argmax.wgsl`: ArgMax along an axis, i64 output (spec §Op: ArgMax).
pub(crate) const ARGMAX: Shader = crate::shader!("argmax", false);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[ARGMAX];

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, axis: u32, select_last: bool) -> Result<(), GpuError> {
    let xs = &n.input(0).shape;
    let a = axis as usize;
    let inner = numel(&xs[a + 1..]);
    let dim = xs[a] as u64;
    let total = numel(xs) / dim;
    let mut chunk = CHUNK;
    while chunk * chunk < dim {
        chunk *= 2;
    }
    let chunks = dim.div_ceil(chunk);
    let params = [total as u32, xs[a], inner as u32, select_last as u32, chunks as u32, chunk as u32];
    if chunks <= 1 {
        return b.dispatch(ARGMAX, "main", total, &params, n.binds(b, 1));
    }
    // dim > CHUNK: total · chunks ≤ 2 · 2^28 / CHUNK
    let scratch = b.scratch(2 * total * chunks)?;
    let mut binds = n.binds(b, 1);
    binds.scratch = Some(&scratch);
    b.dispatch(ARGMAX, "partial", total * chunks, &params, binds)?;
    b.dispatch(ARGMAX, "combine", total, &params, binds)?;
    b.keep(scratch);
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::ArgMax`] (`solidml_spec::for_each_op!`).
    pub(crate) fn argmax(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, axis: &u32, select_last_index: &bool) -> super::BuildResult {
        build(b, n, *axis, *select_last_index)
    }
}
