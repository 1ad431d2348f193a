//! Normalize (`shaders/normalize.wgsl`): one thread per row of the last axis when the row is at
//! most `CHUNK` (4,096) long; a longer row (≤ 2^16) in three passes — partial sums per chunk of
//! 4,096 into scratch, the row's denominator from its ≤ 16 partials, then one thread per
//! element — so that no invocation walks more than 4,096 elements.

use solidml_spec::{NormKind, Normalize};

use super::{Builder, CHUNK, NodeRef, numel};
use crate::GpuError;
use crate::shaders::Shader;

/// `normalize.wgsl`: rows scaled to unit L1 or L2 norm, one thread per row
/// (spec §Op: Normalize).
pub(crate) const NORMALIZE: Shader = crate::shader!("normalize", false);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[NORMALIZE];

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
    let chunks = row.div_ceil(CHUNK);
    let params = [
        rows as u32,
        row as u32,
        kind,
        nm.input_zero_point as u32,
        nm.output_zero_point as u32,
        nm.scale_log2,
        chunks as u32,
        CHUNK as u32,
    ];
    if chunks == 1 {
        return b.dispatch(NORMALIZE, "main", rows, &params, n.binds(b, 1));
    }
    // row > CHUNK: rows ≤ 2^28 / CHUNK
    let scratch = b.scratch(rows * (2 * chunks + 1))?;
    let mut binds = n.binds(b, 1);
    binds.scratch = Some(&scratch);
    b.dispatch(NORMALIZE, "partial", rows * chunks, &params, binds)?;
    b.dispatch(NORMALIZE, "den", rows, &params, binds)?;
    b.dispatch(NORMALIZE, "apply", rows * row, &params, binds)?;
    b.keep(scratch);
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Normalize`] (`solidml_spec::for_each_op!`).
    pub(crate) fn normalize(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, op: &solidml_spec::Normalize) -> super::BuildResult {
        build(b, n, op)
    }
}
