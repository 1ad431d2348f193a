//! MaxPool and AvgPool (`shaders/pool.wgsl`): one thread per output for windows of at most
//! `SPAN` (2,048) taps; larger windows in two passes per batch of outputs — a partial per span
//! of 2,048 taps into scratch, then one thread per output over its ≤ 4,113 partials (windows
//! ≤ 8,421,504 taps) — so that no invocation walks more than 2,048 taps (each costs 1 + s ≤ 7
//! loop iterations: ≤ 14,336). Batches: `super::dispatch_batched`.

use solidml_spec::Pool;

use super::{Builder, CHUNK, NodeRef, conv::spatial_block, numel};

/// Taps per partial: half of `CHUNK`, as each costs up to 7 loop iterations.
const SPAN: u64 = CHUNK / 2;
use crate::GpuError;
use crate::shaders::Shader;

/// `pool.wgsl`: MaxPool and AvgPool (spec §Op: MaxPool, §Op: AvgPool).
pub(crate) const POOL: Shader = crate::shader!("pool", false);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[POOL];

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, p: &Pool, avg: bool) -> Result<(), GpuError> {
    let (xs, ys) = (&n.input(0).shape, &n.output().shape);
    let total = numel(ys);
    let klen = numel(&p.kernel);
    if klen > u32::MAX as u64 {
        return Err(GpuError::TooLarge { what: format!("{} window", n.label()), bytes: klen, limit: u32::MAX as u64 });
    }
    let chunks = klen.div_ceil(SPAN);
    // the count_include_pad divisor, as the CPU computes it (i64)
    let window = p.kernel.iter().fold(1i64, |acc, &k| acc.wrapping_mul(k as i64)) as u64;
    let mut params = vec![
        total as u32,
        p.kernel.len() as u32,
        numel(&xs[2..]) as u32,
        numel(&ys[2..]) as u32,
        p.count_include_pad as u32,
        p.zero_point as u32,
        window as u32,
        (window >> 32) as u32,
        klen as u32,
        chunks as u32,
        SPAN as u32,
        0,
        0,
        avg as u32,
    ];
    params.extend(spatial_block(xs, ys, &p.kernel, &p.strides, &p.dilations, &p.pads_begin));
    if chunks <= 1 {
        return b.dispatch(POOL, if avg { "avg_pool" } else { "max_pool" }, total, &params, n.binds(b, 1));
    }
    // two words per partial
    let combine = if avg { "avg_combine" } else { "max_combine" };
    super::dispatch_batched(b, POOL, ("partial", combine), total, chunks, 2, &mut params, 11, n.binds(b, 1))
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::MaxPool`] (`solidml_spec::for_each_op!`).
    pub(crate) fn max_pool(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, op: &solidml_spec::Pool) -> super::BuildResult {
        build(b, n, op, false)
    }

    /// The node entry of [`solidml_spec::Op::AvgPool`] (`solidml_spec::for_each_op!`).
    pub(crate) fn avg_pool(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, op: &solidml_spec::Pool) -> super::BuildResult {
        build(b, n, op, true)
    }
}
