//! LogSoftmax (`shaders/log_softmax.wgsl`): one thread per lane when the lane is at most
//! `CHUNK` (4,096) long (3 · 4,096 loop iterations); longer lanes as Softmax, a max pass and a
//! log-sum pass per lane into a scratch buffer, then one thread per element: no invocation loops
//! more than max(3 · 4,096, `dim` ≤ 2^14) times.

use solidml_spec::LogSoftmax;

use super::{Builder, CHUNK, NodeRef, softmax::lanes};
use crate::GpuError;
use crate::shaders::Shader;

/// `log_softmax.wgsl`: LogSoftmax along an axis, one thread per lane (spec §Op: LogSoftmax).
pub(crate) const LOG_SOFTMAX: Shader = crate::shader!("log_softmax", false);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[LOG_SOFTMAX];

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, s: &LogSoftmax) -> Result<(), GpuError> {
    let (l, dim, inner) = lanes(&n.input(0).shape, s.axis);
    if dim == 0 {
        return Ok(());
    }
    let params = [
        l as u32,
        dim,
        inner,
        s.input_scale_q16 as u32,
        s.multiplier.multiplier as u32,
        s.multiplier.shift as u32,
        s.output_zero_point as u32,
        (l * dim as u64) as u32,
    ];
    let mut data: Vec<u32> = s.exp_table.clone();
    data.extend(s.ln_table.iter().map(|&v| v as u32));
    let buf = b.data(&format!("{} tables", n.label()), &data)?;
    if dim as u64 <= CHUNK {
        let mut binds = n.binds(b, 1);
        binds.data = buf.as_ref();
        b.dispatch(LOG_SOFTMAX, "lane", l, &params, binds)?;
        if let Some(buf) = buf {
            b.keep(buf);
        }
        return Ok(());
    }
    // per lane (l ≤ 2^28 / CHUNK): its max, then L
    let scratch = b.scratch(2 * l)?;
    let mut binds = n.binds(b, 1);
    binds.data = buf.as_ref();
    binds.scratch = Some(&scratch);
    b.dispatch(LOG_SOFTMAX, "lane_max", l, &params, binds)?;
    b.dispatch(LOG_SOFTMAX, "lane_ln", l, &params, binds)?;
    b.dispatch(LOG_SOFTMAX, "main", l * dim as u64, &params, binds)?;
    if let Some(buf) = buf {
        b.keep(buf);
    }
    b.keep(scratch);
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::LogSoftmax`] (`solidml_spec::for_each_op!`).
    pub(crate) fn log_softmax(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, op: &solidml_spec::LogSoftmax) -> super::BuildResult {
        build(b, n, op)
    }
}
