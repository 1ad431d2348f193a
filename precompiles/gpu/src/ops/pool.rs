//! MaxPool and AvgPool (`shaders/pool.wgsl`).

use solidml_spec::Pool;

use super::{Builder, NodeRef, conv::spatial_block, numel};
use crate::GpuError;
use crate::shaders::Shader;

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, p: &Pool, avg: bool) -> Result<(), GpuError> {
    let (xs, ys) = (&n.input(0).shape, &n.output().shape);
    let total = numel(ys);
    let klen = numel(&p.kernel);
    if klen > u32::MAX as u64 {
        return Err(GpuError::TooLarge { what: format!("{} window", n.label()), bytes: klen, limit: u32::MAX as u64 });
    }
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
    ];
    params.extend(spatial_block(xs, ys, &p.kernel, &p.strides, &p.dilations, &p.pads_begin));
    b.dispatch(Shader::Pool, if avg { "avg_pool" } else { "max_pool" }, total, &params, n.binds(b, 1))
}
