//! Softmax (`shaders/softmax.wgsl`): a max pass and a sum pass per lane into a scratch
//! buffer, then one thread per element.

use solidml_spec::Softmax;

use super::{Builder, NodeRef, numel};
use crate::GpuError;
use crate::shaders::Shader;

/// (lanes, dim, inner) of an axis.
pub(crate) fn lanes(shape: &[u32], axis: u32) -> (u64, u32, u32) {
    let a = axis as usize;
    let inner = numel(&shape[a + 1..]);
    let lanes = numel(&shape[..a]) * inner;
    (lanes, shape[a], inner as u32)
}

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, s: &Softmax) -> Result<(), GpuError> {
    let (l, dim, inner) = lanes(&n.input(0).shape, s.axis);
    if dim == 0 {
        return Ok(());
    }
    let total = l * dim as u64;
    let params = [l as u32, dim, inner, total as u32];
    let buf = b.data(&format!("{} table", n.label()), &s.exp_table)?;
    // per lane: its max, then its sum of exponentials
    let scratch = b.scratch(2 * l)?;
    let mut binds = n.binds(b, 1);
    binds.data = buf.as_ref();
    binds.scratch = Some(&scratch);
    b.dispatch(Shader::Softmax, "lane_max", l, &params, binds)?;
    b.dispatch(Shader::Softmax, "lane_sum", l, &params, binds)?;
    b.dispatch(Shader::Softmax, "main", total, &params, binds)?;
    if let Some(buf) = buf {
        b.keep(buf);
    }
    b.keep(scratch);
    Ok(())
}
