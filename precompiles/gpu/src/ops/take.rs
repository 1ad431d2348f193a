//! Take (`shaders/take.wgsl`): i64 table lookups by run-time index, fallible.

use super::{Builder, FailKind, NodeRef, numel};
use crate::GpuError;
use crate::executor::i64_words;
use crate::shaders::Shader;

/// `take.wgsl`: Take, `table[in[i]]` for i64 indices (spec §Op: Take).
pub(crate) const TAKE: Shader = crate::shader!("take", false);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[TAKE];

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, table: &[i64]) -> Result<(), GpuError> {
    let total = numel(&n.output().shape);
    let slot = b.slot(n.index, FailKind::Index { len: table.len() });
    let params = [total as u32, table.len().min(u32::MAX as usize) as u32, slot];
    let buf = b.data(&format!("{} table", n.label()), &i64_words(table))?;
    let mut binds = n.binds(b, 1);
    binds.data = buf.as_ref();
    b.dispatch(TAKE, "main", total, &params, binds)?;
    if total > 0 {
        b.dispatch(TAKE, "report", 1, &params, binds)?;
    }
    if let Some(buf) = buf {
        b.keep(buf);
    }
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Take`] (`solidml_spec::for_each_op!`).
    pub(crate) fn take(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, table: &[i64]) -> super::BuildResult {
        build(b, n, table)
    }
}
