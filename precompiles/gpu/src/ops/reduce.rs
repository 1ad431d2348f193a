//! Reduce Sum / Mean / Max / Min (`shaders/reduce.wgsl`): one thread per output when it reduces
//! at most `SPAN` (1,024) elements; longer ones in two passes, a partial per span of 1,024
//! into scratch and then one thread per output folding its partials, so that no invocation walks
//! more than 1,024 elements (each costs 1 + rank ≤ 9 loop iterations: ≤ 9,216) or folds more
//! than 8,225 partials (≤ 8,421,504 reduced elements per output).

use solidml_spec::{Reduce, ReduceKind};

use super::{Builder, CHUNK, NodeRef, numel};

/// Reduced elements per partial: a quarter of `CHUNK`, as each costs up to 9 loop iterations.
const SPAN: u64 = CHUNK / 4;
use crate::GpuError;
use crate::shaders::Shader;

/// `reduce.wgsl`: Reduce Sum / Mean / Max / Min over a set of axes (spec §Op: Reduce).
pub(crate) const REDUCE: Shader = crate::shader!("reduce", false);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[REDUCE];

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, r: &Reduce) -> Result<(), GpuError> {
    let xs = &n.input(0).shape;
    let total = numel(&n.output().shape);
    let count = numel(xs) / total.max(1);
    let kind = match r.kind {
        ReduceKind::Sum => 0,
        ReduceKind::Mean => 1,
        ReduceKind::Max => 2,
        ReduceKind::Min => 3,
    };
    let st = solidml_exec::index::strides(xs);
    let mut params = vec![
        total as u32,
        kind,
        r.input_zero_point as u32,
        r.multiplier.multiplier as u32,
        r.multiplier.shift as u32,
        r.output_zero_point as u32,
        count as u32,
        xs.len() as u32,
        count.div_ceil(SPAN) as u32,
        SPAN as u32,
    ];
    for d in 0..xs.len() {
        params.extend([xs[d], r.axes.contains(&(d as u32)) as u32, st[d] as u32]);
    }
    if count <= SPAN {
        return b.dispatch(REDUCE, "main", total, &params, n.binds(b, 1));
    }
    // count > SPAN: total ≤ 2^28 / SPAN outputs, so total · chunks ≤ 2^19
    let chunks = count.div_ceil(SPAN);
    let scratch = b.scratch(total * chunks)?;
    let mut binds = n.binds(b, 1);
    binds.scratch = Some(&scratch);
    b.dispatch(REDUCE, "partial", total * chunks, &params, binds)?;
    b.dispatch(REDUCE, "combine", total, &params, binds)?;
    b.keep(scratch);
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Reduce`] (`solidml_spec::for_each_op!`).
    pub(crate) fn reduce(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, op: &solidml_spec::Reduce) -> super::BuildResult {
        build(b, n, op)
    }
}
