//! Lut (`shaders/lut.wgsl`): 256-entry tables, one per channel of the table axis.

use solidml_spec::Lut;

use super::{Builder, NodeRef, numel};
use crate::GpuError;
use crate::shaders::Shader;

/// `lut.wgsl`: 256-entry lookup tables, per channel or one (spec §Op: Lut).
pub(crate) const LUT: Shader = crate::shader!("lut", false);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[LUT];

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, l: &Lut) -> Result<(), GpuError> {
    let shape = &n.input(0).shape;
    let (dim, inner) = match l.axis {
        Some(a) => (shape[a as usize] as u64, numel(&shape[a as usize + 1..])),
        None => (1, 1),
    };
    let total = numel(shape);
    let params = [total as u32, dim.max(1) as u32, inner.max(1) as u32];
    let data: Vec<u32> = l.tables.iter().map(|&v| v as i32 as u32).collect();
    let buf = b.data(&format!("{} tables", n.label()), &data)?;
    let mut binds = n.binds(b, 1);
    binds.data = buf.as_ref();
    b.dispatch(LUT, "main", total, &params, binds)?;
    if let Some(buf) = buf {
        b.keep(buf);
    }
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Lut`] (`solidml_spec::for_each_op!`).
    pub(crate) fn lut(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, op: &solidml_spec::Lut) -> super::BuildResult {
        build(b, n, op)
    }
}
