//! TopK (`shaders/top_k.wgsl`): each lane's indices sorted in scratch by a bitonic network
//! (the lane padded to `P`, the next power of two, with slots that sort last), then the first
//! `k` slots of every lane written out as indices or values. `1 + m(m + 1)/2 + 1` dispatches for
//! `P = 2^m`, each one thread per (lane, slot) or per output element, none looping over the
//! lane; `lanes · P < 2 · len(x)` scratch words. Work `O(P log² P)` per lane.

use solidml_spec::TopKOutput;

use super::{Builder, NodeRef, numel};
use crate::GpuError;
use crate::executor::words;
use crate::shaders::Shader;

/// `top_k.wgsl`: TopK along an axis by a bitonic sort of each lane's indices, values or
/// indices out (spec §Op: TopK).
pub(crate) const TOP_K: Shader = crate::shader!("top_k", false);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[TOP_K];

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, axis: u32, k: u32, largest: bool, output: TopKOutput) -> Result<(), GpuError> {
    let x = n.input(0);
    let a = axis as usize;
    let dim = x.shape[a] as u64;
    let inner = numel(&x.shape[a + 1..]);
    let lanes = numel(&x.shape[..a]) * inner;
    let out_len = numel(&n.output().shape);
    if out_len == 0 {
        return Ok(()); // k = 0, or no lane
    }
    let big = dim.next_power_of_two();
    let slots = lanes * big;
    let values = output == TopKOutput::Values;
    let mut params =
        [slots as u32, big as u32, dim as u32, inner as u32, k, largest as u32, words(x.dtype) as u32, values as u32, out_len as u32, 0, 0];
    let scratch = b.scratch(slots)?;
    let mut binds = n.binds(b, 1);
    binds.scratch = Some(&scratch);
    b.dispatch(TOP_K, "init", slots, &params, binds)?;
    let mut block = 2;
    while block <= big {
        let mut distance = block / 2;
        while distance > 0 {
            (params[9], params[10]) = (block as u32, distance as u32);
            b.dispatch(TOP_K, "exchange", slots, &params, binds)?;
            distance /= 2;
        }
        block *= 2;
    }
    b.dispatch(TOP_K, "main", out_len, &params, binds)?;
    b.keep(scratch);
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::TopK`] (`solidml_spec::for_each_op!`).
    pub(crate) fn top_k(
        b: &mut super::Builder<'_>,
        n: &super::NodeRef<'_>,
        axis: &u32,
        k: &u32,
        largest: &bool,
        output: &solidml_spec::TopKOutput,
    ) -> super::BuildResult {
        build(b, n, *axis, *k, *largest, *output)
    }
}
