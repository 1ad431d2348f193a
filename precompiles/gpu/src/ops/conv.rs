//! Conv (`shaders/conv.wgsl`): per output channel, the reduction over (tap, input channel of the
//! group) is packed tap-major four int8 lanes to a word; the input zero point is folded into
//! the bias (taps outside the input read the zero point, which the fold cancels). One thread per
//! output when its reduction is at most 2,048 MACs; longer ones in chunks of `chunk` reduction
//! indices (2,048, doubled while fewer than the chunks), partial accumulators in scratch, then
//! one thread per output summing them, over batches of ≤ 2^21 partials: no invocation loops
//! more than max(2,048, 2·√(klen·Cg_in)) · (s + 2) times.

use solidml_spec::Conv;

use super::{Builder, NodeRef, mult_words, numel, pack_row};
use crate::GpuError;
use crate::shaders::Shader;

/// `conv.wgsl`: N-d Conv (spec §Op: Conv), one thread per output element; uses `dot4_*`.
pub(crate) const CONV: Shader = crate::shader!("conv", true);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[CONV];

/// The per-spatial-axis block shared by Conv, ConvTranspose and the pools: in_dim, out_dim,
/// kernel, stride, dilation, pad_begin.
pub(crate) fn spatial_block(
    in_shape: &[u32],
    out_shape: &[u32],
    kernel: &[u32],
    strides: &[u32],
    dilations: &[u32],
    pads_begin: &[u32],
) -> Vec<u32> {
    (0..kernel.len()).flat_map(|d| [in_shape[d + 2], out_shape[d + 2], kernel[d], strides[d], dilations[d], pads_begin[d]]).collect()
}

/// The shortest chunk of an output's reduction (a multiple of 4).
const FIRST_CHUNK: u64 = 2048;

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, c: &Conv) -> Result<(), GpuError> {
    let (xs, ys) = (&n.input(0).shape, &n.output().shape);
    let (cin, cout, g) = (xs[1] as usize, ys[1] as usize, c.groups as usize);
    let (cin_g, cout_g) = (cin / g, cout / g);
    let klen: usize = c.kernel.iter().map(|&k| k as usize).product();
    let kw = (klen * cin_g).div_ceil(4);
    let mut data = super::dense::folded_bias(&c.bias, &c.weights, c.input_zero_point);
    let mult_off = data.len();
    data.extend(c.epilogue.multipliers.iter().flat_map(|&m| mult_words(m)));
    let w_off = data.len();
    for co in 0..cout {
        // tap-major order: t · Cg_in + ci
        let w = &c.weights[co * cin_g * klen..(co + 1) * cin_g * klen];
        pack_row((0..klen).flat_map(|t| (0..cin_g).map(move |ci| w[ci * klen + t])), kw, &mut data);
    }
    let total = numel(ys);
    // the reduction (klen · Cg_in) in chunks of `chunk` ≥ 2,048 indices, doubled while fewer
    // than the chunks: one invocation loops ≤ chunk · (s + 2) times, a combine ≤ chunk
    let flat = (klen * cin_g) as u64;
    let mut chunk = FIRST_CHUNK;
    while chunk * chunk < flat {
        chunk *= 2;
    }
    let chunks = flat.div_ceil(chunk);
    let e = &c.epilogue;
    let mut params = vec![
        total as u32,
        c.kernel.len() as u32,
        cin as u32,
        cout as u32,
        cin_g as u32,
        cout_g as u32,
        numel(&xs[2..]) as u32,
        numel(&ys[2..]) as u32,
        klen as u32,
        kw as u32,
        e.multipliers.len() as u32,
        mult_off as u32,
        w_off as u32,
        c.input_zero_point as u32,
        e.output_zero_point as u32,
        e.clamp_min as i32 as u32,
        e.clamp_max as i32 as u32,
        chunks as u32,
        chunk as u32,
        0,
        0,
    ];
    params.extend(spatial_block(xs, ys, &c.kernel, &c.strides, &c.dilations, &c.pads_begin));
    let buf = b.data(&format!("{} weights", n.label()), &data)?;
    let mut binds = n.binds(b, 1);
    binds.data = buf.as_ref();
    if chunks <= 1 {
        b.dispatch(CONV, "main", total, &params, binds)?;
    } else {
        super::dispatch_batched(b, CONV, ("partial", "combine"), total, chunks, 1, &mut params, 19, binds)?;
    }
    if let Some(buf) = buf {
        b.keep(buf);
    }
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Conv`] (`solidml_spec::for_each_op!`).
    pub(crate) fn conv(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, op: &solidml_spec::Conv) -> super::BuildResult {
        build(b, n, op)
    }
}
