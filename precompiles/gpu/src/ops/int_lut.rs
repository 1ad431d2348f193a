//! IntLut (`shaders/int_lut.wgsl`): int8 codes to i64 values by a 256-entry table, one thread
//! per element (no loop).

use super::{Builder, NodeRef, numel};
use crate::GpuError;
use crate::executor::i64_words;
use crate::shaders::Shader;

/// `int_lut.wgsl`: IntLut, `table[in[i] + 128]` as i64 (spec §Op: IntLut).
pub(crate) const INT_LUT: Shader = crate::shader!("int_lut", false);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[INT_LUT];

fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, table: &[i64]) -> Result<(), GpuError> {
    let total = numel(&n.output().shape);
    let buf = b.data(&format!("{} table", n.label()), &i64_words(table))?;
    let mut binds = n.binds(b, 1);
    binds.data = buf.as_ref();
    b.dispatch(INT_LUT, "main", total, &[total as u32], binds)?;
    if let Some(buf) = buf {
        b.keep(buf);
    }
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::IntLut`] (`solidml_spec::for_each_op!`).
    pub(crate) fn int_lut(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, table: &[i64]) -> super::BuildResult {
        build(b, n, table)
    }
}
