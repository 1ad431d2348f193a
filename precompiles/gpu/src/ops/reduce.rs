//! Reduce Sum / Mean / Max / Min (`shaders/reduce.wgsl`).

use solidml_spec::{Reduce, ReduceKind};

use super::{Builder, NodeRef, numel};
use crate::GpuError;
use crate::shaders::Shader;

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
    ];
    for d in 0..xs.len() {
        params.extend([xs[d], r.axes.contains(&(d as u32)) as u32, st[d] as u32]);
    }
    b.dispatch(Shader::Reduce, "main", total, &params, n.binds(b, 1))
}
