//! Softmax (`shaders/softmax.wgsl`): a max pass and a sum pass per lane into a scratch
//! buffer, then one thread per element.

use solidml_spec::Softmax;

use super::{Builder, NodeRef, numel};
use crate::GpuError;
use crate::shaders::Shader;

/// `softmax.wgsl`: Softmax along an axis: max and sum passes per lane, then one thread per
/// element (spec §Op: Softmax).
pub(crate) const SOFTMAX: Shader = crate::shader!("softmax", false);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[SOFTMAX];

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
    b.dispatch(SOFTMAX, "lane_max", l, &params, binds)?;
    b.dispatch(SOFTMAX, "lane_sum", l, &params, binds)?;
    b.dispatch(SOFTMAX, "main", total, &params, binds)?;
    if let Some(buf) = buf {
        b.keep(buf);
    }
    b.keep(scratch);
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Softmax`] (`solidml_spec::for_each_op!`).
    pub(crate) fn softmax(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, op: &solidml_spec::Softmax) -> super::BuildResult {
        build(b, n, op)
    }
}
