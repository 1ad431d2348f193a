//! ConvTranspose (spec §ConvTranspose), in gather form as the CPU reference computes it: output
//! position `o` reads, for kernel tap `k`, the input at `p = (o + pad_begin − k · dilation) /
//! stride` where that is an integer inside the input; then Conv's layer code ([`super::conv::emit_taps`]).

use solidml_spec::{ConvTranspose, Node};

use super::conv::{ConvLike, emit_taps, unravel};
use crate::{NodeFailure, plan::*, yul::*};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, c: &ConvTranspose) -> Result<(), NodeFailure> {
    let m = cx.m;
    let xin = m.tensor(n.inputs[0]);
    let yinfo = m.tensor(n.outputs[0]);
    let klen: usize = c.kernel.iter().map(|&k| k as usize).product();
    let out_plane: usize = yinfo.shape[2..].iter().map(|&d| d as usize).product();
    let ist = row_major(&xin.shape[2..]);
    let taps: Vec<Vec<Option<usize>>> = (0..out_plane)
        .map(|o| {
            let opos = unravel(o, &yinfo.shape[2..]);
            (0..klen)
                .map(|k| {
                    let kpos = unravel(k, &c.kernel);
                    let mut off = 0i64;
                    for d in 0..opos.len() {
                        let num = opos[d] + c.pads_begin[d] as i64 - kpos[d] * c.dilations[d] as i64;
                        let s = c.strides[d] as i64;
                        if num < 0 || num % s != 0 || num / s >= xin.shape[d + 2] as i64 {
                            return None;
                        }
                        off += num / s * ist[d];
                    }
                    Some(off as usize)
                })
                .collect()
        })
        .collect();
    let params =
        ConvLike { weights: &c.weights, bias: &c.bias, epilogue: &c.epilogue, input_zero_point: c.input_zero_point, groups: c.groups };
    emit_taps(cx, n, &params, &taps)
}
