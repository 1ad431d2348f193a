//! ConvTranspose (spec §ConvTranspose), in gather form as the CPU reference computes it: output
//! position `o` reads, for kernel tap `k`, the input at `p = (o + pad_begin − k · dilation) /
//! stride` where that is an integer inside the input; then Conv's layer code ([`super::conv::emit_taps`]).

use solidml_spec::{ConvTranspose, Node};

use super::conv::{ConvLike, emit_taps, tap_table};
use crate::{NodeFailure, plan::*};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, c: &ConvTranspose) -> Result<(), NodeFailure> {
    let m = cx.m;
    let xin = m.tensor(n.inputs[0]);
    let yinfo = m.tensor(n.outputs[0]);
    // the reference's gather form: (o + pad_begin − k·dilation) / stride where that divides
    let taps = tap_table(&xin.shape[2..], &yinfo.shape[2..], &c.kernel, |d, o, k| {
        let (num, s) = (o + c.pads_begin[d] as i64 - k * c.dilations[d] as i64, c.strides[d] as i64);
        (num >= 0 && num % s == 0).then_some(num / s)
    });
    let params =
        ConvLike { weights: &c.weights, bias: &c.bias, epilogue: &c.epilogue, input_zero_point: c.input_zero_point, groups: c.groups };
    emit_taps(cx, n, &params, &taps)
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::ConvTranspose`] (`solidml_spec::for_each_op!`).
    pub(crate) fn conv_transpose(cx: &mut Ctx<'_>, n: &Node, op: &solidml_spec::ConvTranspose) -> super::EmitResult {
        emit(cx, n, op)
    }
}
