//! View (spec §View): a gather through the View's index table (`solidml_exec::index::view_indices`).

use solidml_spec::{Node, View};

use crate::{NodeFailure, plan::*, yul::*};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, v: &View) -> Result<(), NodeFailure> {
    let m = cx.m;
    let x = n.inputs.first().copied().unwrap_or(0);
    let xin = m.tensor(x);
    let yt = n.outputs[0];
    let yinfo = m.tensor(yt);
    let contiguous = v.offset == 0 && (v.strides == row_major(&yinfo.shape) || yinfo.len() <= 1) && yinfo.len() == xin.len();
    let src = cx.at(x);
    if contiguous && matches!(src, Loc::Words(_)) == cx.wants_words(yt) {
        cx.loc[yt as usize] = Some(src);
        cx.range[yt as usize] = cx.range[x as usize];
        return Ok(());
    }
    let idx: Vec<Option<usize>> = solidml_exec::index::view_indices(v, &yinfo.shape).into_iter().map(Some).collect();
    copy_gather(cx, x, yt, &idx, 0)?;
    cx.range[yt as usize] = cx.range[x as usize];
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::View`] (`solidml_spec::for_each_op!`).
    pub(crate) fn view(cx: &mut Ctx<'_>, n: &Node, op: &solidml_spec::View) -> super::EmitResult {
        emit(cx, n, op)
    }
}
