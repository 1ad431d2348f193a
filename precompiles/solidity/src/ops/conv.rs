//! Conv (spec §Conv): a Dense per group over an im2col gather (a compile-time table of the taps the CPU reference walks), through the packed-lane layer code. ConvTranspose shares [`emit_taps`] with its own tap table.

use solidml_spec::{Conv, DType, Epilogue, Node};

mod direct;
use crate::{NodeFailure, layer::*, plan::*, yul::*};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, c: &Conv) -> Result<(), NodeFailure> {
    if direct::emit(cx, n, c)? {
        return Ok(());
    }
    let m = cx.m;
    let xin = m.tensor(n.inputs[0]);
    let yinfo = m.tensor(n.outputs[0]);
    // the reference's window: input coordinate o·stride − pad_begin + k·dilation per axis
    let taps = tap_table(&xin.shape[2..], &yinfo.shape[2..], &c.kernel, |d, o, k| {
        Some(o * c.strides[d] as i64 - c.pads_begin[d] as i64 + k * c.dilations[d] as i64)
    });
    let params =
        ConvLike { weights: &c.weights, bias: &c.bias, epilogue: &c.epilogue, input_zero_point: c.input_zero_point, groups: c.groups };
    emit_taps(cx, n, &params, &taps)
}

/// `table[o][t]`: the offset within an input plane of shape `in_sp` that kernel tap `t` reads
/// at output position `o`, or `None` (the input zero point), as the CPU reference walks them.
/// `coord(d, o_d, k_d)` is the input coordinate along axis `d` (or `None`: no input there);
/// a coordinate outside `0..in_sp[d]` is `None` too.
pub(crate) fn tap_table(
    in_sp: &[u32],
    out_sp: &[u32],
    kernel: &[u32],
    coord: impl Fn(usize, i64, i64) -> Option<i64>,
) -> Vec<Vec<Option<usize>>> {
    let klen: usize = kernel.iter().map(|&k| k as usize).product();
    let out_plane: usize = out_sp.iter().map(|&d| d as usize).product();
    let ist = row_major(in_sp);
    (0..out_plane)
        .map(|o| {
            let opos = unravel(o, out_sp);
            (0..klen)
                .map(|k| {
                    let kpos = unravel(k, kernel);
                    let mut off = 0i64;
                    for d in 0..opos.len() {
                        let p = coord(d, opos[d], kpos[d]).filter(|&p| (0..in_sp[d] as i64).contains(&p))?;
                        off += p * ist[d];
                    }
                    Some(off as usize)
                })
                .collect()
        })
        .collect()
}

/// The position of flat index `i` in a row-major array of `dims`.
pub(crate) fn unravel(mut i: usize, dims: &[u32]) -> Vec<i64> {
    let mut v = vec![0i64; dims.len()];
    for d in (0..dims.len()).rev() {
        v[d] = (i % dims[d] as usize) as i64;
        i /= dims[d] as usize;
    }
    v
}

/// What Conv and ConvTranspose share: `[C_out, C_in / groups, taps]` weights, bias, epilogue.
pub(crate) struct ConvLike<'a> {
    pub(crate) weights: &'a [i8],
    pub(crate) bias: &'a [i32],
    pub(crate) epilogue: &'a Epilogue,
    pub(crate) input_zero_point: i32,
    pub(crate) groups: u32,
}

/// A convolution-like node as a Dense per group over the gather `taps[o][t]` (the offset
/// within an input plane that kernel tap `t` reads at output position `o`; `None` reads the
/// input zero point, contributing nothing).
pub(crate) fn emit_taps(cx: &mut Ctx<'_>, n: &Node, c: &ConvLike<'_>, taps: &[Vec<Option<usize>>]) -> Result<(), NodeFailure> {
    let m = cx.m;
    let x = n.inputs.first().copied().unwrap_or(0);
    let xin = m.tensor(x);
    let yt = n.outputs[0];
    let yinfo = m.tensor(yt);
    if xin.dtype != DType::I8 {
        return Err("int8 input expected".into());
    }
    let (batch, cin, cout) = (xin.shape[0] as usize, xin.shape[1] as usize, yinfo.shape[1] as usize);
    let g = c.groups as usize;
    let (cin_g, cout_g) = (cin / g, cout / g);
    let klen = c.weights.len() / (cout * cin_g).max(1);
    let in_plane: usize = xin.shape[2..].iter().map(|&d| d as usize).product();
    let out_plane: usize = yinfo.shape[2..].iter().map(|&d| d as usize).product();
    let y = cx.place_output(yt);
    let src = cx.at(x);
    let (lo, hi) = cx.range[x as usize];
    let xr = (lo.min(c.input_zero_point), hi.max(c.input_zero_point));
    let mut out_lo = 127;
    let mut out_hi = -128;
    for gi in 0..g {
        let wlen = cin_g * klen;
        let layer = Layer {
            k: wlen,
            n: cout_g,
            weights: &c.weights[gi * cout_g * wlen..(gi + 1) * cout_g * wlen],
            bias: &c.bias[gi * cout_g..(gi + 1) * cout_g],
            input_zero_point: c.input_zero_point,
            epilogue: c.epilogue,
            channel_offset: gi * cout_g,
            x_range: xr,
        };
        let mut row_src = vec![];
        let mut row_dst = vec![];
        for b in 0..batch {
            for (o, tap) in taps.iter().enumerate() {
                let mut r = Vec::with_capacity(wlen);
                for ci in 0..cin_g {
                    let base = (b * cin + gi * cin_g + ci) * in_plane;
                    r.extend(tap.iter().map(|t| t.map(|t| base + t)));
                }
                row_src.push(r);
                row_dst.push((b * cout + gi * cout_g) * out_plane + o);
            }
        }
        let (l2, h2) = emit_layer(cx, &layer, src, y, &row_src, &row_dst, out_plane, yt)?;
        out_lo = out_lo.min(l2);
        out_hi = out_hi.max(h2);
    }
    cx.range[yt as usize] = (out_lo, out_hi);
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Conv`] (`solidml_spec::for_each_op!`).
    pub(crate) fn conv(cx: &mut Ctx<'_>, n: &Node, op: &solidml_spec::Conv) -> super::EmitResult {
        emit(cx, n, op)
    }
}
