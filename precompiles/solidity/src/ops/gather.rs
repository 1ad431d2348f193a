//! Gather with constant indices (spec §Gather): a gather through a compile-time index table.

use solidml_spec::Node;

use crate::{NodeFailure, plan::*};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, axis: &u32, indices: &[u32]) -> Result<(), NodeFailure> {
    let m = cx.m;
    let x = n.inputs.first().copied().unwrap_or(0);
    let xin = m.tensor(x);
    let yt = n.outputs[0];
    let a = *axis as usize;
    let dim = xin.shape[a] as usize;
    let inner: usize = xin.shape[a + 1..].iter().map(|&d| d as usize).product();
    let outer: usize = xin.shape[..a].iter().map(|&d| d as usize).product();
    let idx: Vec<Option<usize>> = (0..outer)
        .flat_map(|o| indices.iter().flat_map(move |&j| (0..inner).map(move |i| Some((o * dim + j as usize) * inner + i))))
        .collect();
    copy_gather(cx, x, yt, &idx, 0)?;
    cx.range[yt as usize] = cx.range[x as usize];
    Ok(())
}
