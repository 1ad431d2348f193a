//! Concat (spec §Concat): each input copied to its slices of the output.

use solidml_spec::Node;

use crate::{NodeFailure, plan::*};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, axis: &u32) -> Result<(), NodeFailure> {
    let m = cx.m;
    let yt = n.outputs[0];
    let yinfo = m.tensor(yt);
    let a = *axis as usize;
    let y = cx.place_output(yt);
    let ydim = yinfo.shape[a] as usize;
    let inner: usize = yinfo.shape[a + 1..].iter().map(|&d| d as usize).product();
    let outer: usize = yinfo.shape[..a].iter().map(|&d| d as usize).product();
    let es = if matches!(y, Loc::I64(_)) { 32 } else { 1 };
    let mut off = 0usize;
    let (mut lo, mut hi) = (127, -128);
    for &i in &n.inputs {
        let info = m.tensor(i);
        let d = info.shape[a] as usize;
        let src = match cx.at(i) {
            Loc::Words(_) => return Err("internal: words-form concat input".into()),
            l => l,
        };
        let chunk = d * inner * es;
        if chunk > 0 && outer > 0 {
            cx.line(&format!(
                        "for {{ let o := 0 }} lt(o, {outer}) {{ o := add(o, 1) }} {{ mcopy(add({}, mul(o, {})), add({}, mul(o, {chunk})), {chunk}) }}",
                        y.addr() + off * inner * es,
                        ydim * inner * es,
                        src.addr()
                    ));
        }
        off += d;
        lo = lo.min(cx.range[i as usize].0);
        hi = hi.max(cx.range[i as usize].1);
    }
    if matches!(y, Loc::Words(_)) {
        return Err("internal: words-form concat output".into());
    }
    cx.range[yt as usize] = (lo, hi);
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Concat`] (`solidml_spec::for_each_op!`).
    pub(crate) fn concat(cx: &mut Ctx<'_>, n: &Node, axis: &u32) -> super::EmitResult {
        emit(cx, n, axis)
    }
}
