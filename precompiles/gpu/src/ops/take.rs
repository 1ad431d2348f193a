//! Take (`shaders/take.wgsl`): i64 table lookups by run-time index, fallible.

use super::{Builder, FailKind, NodeRef, numel};
use crate::GpuError;
use crate::executor::i64_words;
use crate::shaders::Shader;

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, table: &[i64]) -> Result<(), GpuError> {
    let total = numel(&n.output().shape);
    let slot = b.slot(n.index, FailKind::Index { len: table.len() });
    let params = [total as u32, table.len().min(u32::MAX as usize) as u32, slot];
    let buf = b.data(&format!("{} table", n.label()), &i64_words(table))?;
    let mut binds = n.binds(b, 1);
    binds.data = buf.as_ref();
    b.dispatch(Shader::Take, "main", total, &params, binds)?;
    if total > 0 {
        b.dispatch(Shader::Take, "report", 1, &params, binds)?;
    }
    if let Some(buf) = buf {
        b.keep(buf);
    }
    Ok(())
}
