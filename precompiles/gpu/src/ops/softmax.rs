//! Softmax (`shaders/softmax.wgsl`): one thread per lane.

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
    let params = [l as u32, dim, inner];
    let buf = b.data(&format!("{} table", n.label()), &s.exp_table)?;
    let mut binds = n.binds(b, 1);
    binds.data = buf.as_ref();
    b.dispatch(Shader::Softmax, "main", l, &params, binds)?;
    if let Some(buf) = buf {
        b.keep(buf);
    }
    Ok(())
}
