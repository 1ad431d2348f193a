//! CumSum (`shaders/cum_sum.wgsl`): one thread per lane along the axis, walking it in order
//! (or in reverse) with the running sum.

use solidml_spec::CumSum;

use super::{Builder, NodeRef, softmax::lanes};
use crate::GpuError;
use crate::shaders::Shader;

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, c: &CumSum) -> Result<(), GpuError> {
    let (l, dim, inner) = lanes(&n.input(0).shape, c.axis);
    if dim == 0 || l == 0 {
        return Ok(());
    }
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
    ];
    b.dispatch(Shader::CumSum, "main", l, &params, n.binds(b, 1))
}
