//! Pad (spec §Pad): a gather through the per-axis source index of `solidml_exec::index::pad_source_index`, the constant where it has none.

use solidml_spec::{DType, Node, Pad};

use crate::{NodeFailure, plan::*, yul::*};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, p: &Pad) -> Result<(), NodeFailure> {
    let m = cx.m;
    let x = n.inputs.first().copied().unwrap_or(0);
    let xin = m.tensor(x);
    let yt = n.outputs[0];
    let yinfo = m.tensor(yt);
    let ist = row_major(&xin.shape);
    let total = yinfo.len();
    let idx: Vec<Option<usize>> = (0..total)
        .map(|mut o| {
            let mut off = 0usize;
            let mut inside = true;
            for d in (0..yinfo.shape.len()).rev() {
                let i = (o % yinfo.shape[d] as usize) as i64 - p.pads_begin[d] as i64;
                o /= yinfo.shape[d] as usize;
                match solidml_exec::index::pad_source_index(p.mode, i, xin.shape[d] as i64) {
                    Some(s) => off += s as usize * ist[d] as usize,
                    None => inside = false,
                }
            }
            inside.then_some(off)
        })
        .collect();
    copy_gather(cx, x, yt, &idx, p.value)?;
    if xin.dtype == DType::I8 {
        let (lo, hi) = cx.range[x as usize];
        let pv = p.value as i8 as i32;
        cx.range[yt as usize] = if idx.iter().any(|i| i.is_none()) { (lo.min(pv), hi.max(pv)) } else { (lo, hi) };
    }
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Pad`] (`solidml_spec::for_each_op!`).
    pub(crate) fn pad(cx: &mut Ctx<'_>, n: &Node, op: &solidml_spec::Pad) -> super::EmitResult {
        emit(cx, n, op)
    }
}
