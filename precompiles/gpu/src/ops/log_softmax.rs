//! LogSoftmax (`shaders/log_softmax.wgsl`): one thread per lane.

use solidml_spec::LogSoftmax;

use super::{Builder, NodeRef, softmax::lanes};
use crate::GpuError;
use crate::shaders::Shader;

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
    ];
    let mut data: Vec<u32> = s.exp_table.clone();
    data.extend(s.ln_table.iter().map(|&v| v as u32));
    let buf = b.data(&format!("{} tables", n.label()), &data)?;
    let mut binds = n.binds(b, 1);
    binds.data = buf.as_ref();
    b.dispatch(Shader::LogSoftmax, "main", l, &params, binds)?;
    if let Some(buf) = buf {
        b.keep(buf);
    }
    Ok(())
}
