//! CumSum (`shaders/cum_sum.wgsl`): one thread per lane when the lane is at most `CHUNK`
//! (4,096) long; a longer lane as a chunked scan — each chunk's total into scratch, then per
//! lane the exclusive prefix of its chunk totals (≤ 2,057: dim ≤ 8,421,504), then each chunk's
//! running sum from its prefix — so that no invocation loops more than 4,096 times.

use solidml_spec::CumSum;

use super::{Builder, CHUNK, NodeRef, softmax::lanes};
use crate::GpuError;
use crate::shaders::Shader;

/// Running sums along an axis (`cum_sum.wgsl`, spec §CumSum).
pub(crate) const CUM_SUM: Shader = crate::shader!("cum_sum", false);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[CUM_SUM];

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, c: &CumSum) -> Result<(), GpuError> {
    let (l, dim, inner) = lanes(&n.input(0).shape, c.axis);
    if dim == 0 || l == 0 {
        return Ok(());
    }
    let chunks = (dim as u64).div_ceil(CHUNK);
    let params = [
        l as u32,
        dim,
        inner,
        c.exclusive as u32,
        c.reverse as u32,
        c.input_zero_point as u32,
        c.multiplier.multiplier as u32,
        c.multiplier.shift as u32,
        c.output_zero_point as u32,
        chunks as u32,
        CHUNK as u32,
    ];
    if chunks == 1 {
        return b.dispatch(CUM_SUM, "main", l, &params, n.binds(b, 1));
    }
    // dim > CHUNK: l · chunks ≤ 2 · 2^28 / CHUNK words
    let scratch = b.scratch(l * chunks)?;
    let mut binds = n.binds(b, 1);
    binds.scratch = Some(&scratch);
    b.dispatch(CUM_SUM, "chunk_total", l * chunks, &params, binds)?;
    b.dispatch(CUM_SUM, "chunk_prefix", l, &params, binds)?;
    b.dispatch(CUM_SUM, "chunk_scan", l * chunks, &params, binds)?;
    b.keep(scratch);
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::CumSum`] (`solidml_spec::for_each_op!`).
    pub(crate) fn cum_sum(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, op: &solidml_spec::CumSum) -> super::BuildResult {
        build(b, n, op)
    }
}
