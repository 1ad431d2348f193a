//! ConvTranspose (`shaders/conv_transpose.wgsl`), gather form; weights one i32 each. One
//! thread per output when its reduction (klen · Cg_in) is at most 2,048; longer ones in chunks
//! of `chunk` reduction indices (2,048, doubled while fewer than the chunks), partial
//! accumulators in scratch, then one thread per output summing them, over batches of ≤ 2^21
//! partials: no invocation loops more than max(2,048, 2·√(klen·Cg_in)) · (s + 2) times.

use solidml_spec::ConvTranspose;

use super::{Builder, NodeRef, conv::spatial_block, mult_words, numel};
use crate::GpuError;
use crate::shaders::Shader;

/// `conv_transpose.wgsl`: N-d ConvTranspose in gather form (spec §Op: ConvTranspose).
pub(crate) const CONV_TRANSPOSE: Shader = crate::shader!("conv_transpose", false);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[CONV_TRANSPOSE];

/// The shortest chunk of an output's reduction.
const FIRST_CHUNK: u64 = 2048;

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, c: &ConvTranspose) -> Result<(), GpuError> {
    let (xs, ys) = (&n.input(0).shape, &n.output().shape);
    let (cin, cout, g) = (xs[1] as usize, ys[1] as usize, c.groups as usize);
    let klen: usize = c.kernel.iter().map(|&k| k as usize).product();
    let mut data: Vec<u32> = c.bias.iter().map(|&x| x as u32).collect();
    let mult_off = data.len();
    data.extend(c.epilogue.multipliers.iter().flat_map(|&m| mult_words(m)));
    let w_off = data.len();
    data.extend(c.weights.iter().map(|&w| w as i32 as u32));
    let total = numel(ys);
    let flat = (klen * (cin / g)) as u64;
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
        (cin / g) as u32,
        (cout / g) as u32,
        numel(&xs[2..]) as u32,
        numel(&ys[2..]) as u32,
        klen as u32,
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
        b.dispatch(CONV_TRANSPOSE, "main", total, &params, binds)?;
    } else {
        super::dispatch_batched(b, CONV_TRANSPOSE, ("partial", "combine"), total, chunks, 1, &mut params, 18, binds)?;
    }
    if let Some(buf) = buf {
        b.keep(buf);
    }
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::ConvTranspose`] (`solidml_spec::for_each_op!`).
    pub(crate) fn conv_transpose(
        b: &mut super::Builder<'_>,
        n: &super::NodeRef<'_>,
        op: &solidml_spec::ConvTranspose,
    ) -> super::BuildResult {
        build(b, n, op)
    }
}
