//! Dense (`shaders/dense.wgsl`): weights packed four int8 lanes to a word (column-major, so
//! neighbouring threads read neighbouring words), the input zero point folded into the bias so
//! the kernel's dot products take raw int8 codes. A first dispatch packs the input rows four
//! codes to a word (scratch), the second computes one column for 4 rows per thread. When
//! `in_features` exceeds `CHUNK` (4,096), the dot products run in chunks of 1,024 packed words
//! (doubled until a chunk is at least √kw words long), partials in scratch after the packed
//! input, then one thread per 4 outputs sums its partials: no invocation loops more than
//! max(1,024, 2·√kw) times (16,384 at the 2^28-element cap; 1,024 for K ≤ 2^22).

use solidml_spec::Dense;

use super::{Builder, CHUNK, NodeRef, mult_words, numel, pack_row};
use crate::GpuError;
use crate::shaders::Shader;

/// `dense.wgsl`: Dense (spec §Op: Dense), uses the `dot4_*` functions.
pub(crate) const DENSE: Shader = crate::shader!("dense", true);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[DENSE];

/// `bias[j] − zp · Σ_k w[j, k]`, wrapped to i32 (the kernel's accumulator wraps the same way,
/// and the true accumulator fits in i32).
pub(crate) fn folded_bias(bias: &[i32], weights: &[i8], zp: i32) -> Vec<u32> {
    let per = weights.len() / bias.len().max(1);
    bias.iter()
        .enumerate()
        .map(|(j, &b)| {
            let sw: i64 = weights[j * per..(j + 1) * per].iter().map(|&w| w as i64).sum();
            (b as i64 - zp as i64 * sw) as i32 as u32
        })
        .collect()
}

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, d: &Dense) -> Result<(), GpuError> {
    let (k, nn) = (d.in_features as usize, d.out_features as usize);
    let kw = k.div_ceil(4);
    let mut data = folded_bias(&d.bias, &d.weights, d.input_zero_point);
    let mult_off = data.len();
    data.extend(d.epilogue.multipliers.iter().flat_map(|&m| mult_words(m)));
    let w_off = data.len();
    // packed rows, then stored column-major (word c of output j at c·N + j)
    let mut rows_packed = Vec::with_capacity(nn * kw);
    for j in 0..nn {
        pack_row(d.weights[j * k..(j + 1) * k].iter().copied(), kw, &mut rows_packed);
    }
    data.extend((0..kw).flat_map(|c| (0..nn).map(move |j| (c, j))).map(|(c, j)| rows_packed[j * kw + c]));
    let total = numel(&n.output().shape);
    let rows = total / nn.max(1) as u64;
    let threads = rows.div_ceil(4) * nn as u64;
    // chunks of 1,024 words, doubled while fewer than the chunks (so both loops stay ≤ 2·√kw)
    let mut chunk_words = CHUNK / 4;
    while chunk_words * chunk_words < kw as u64 {
        chunk_words *= 2;
    }
    let chunks = (kw as u64).div_ceil(chunk_words);
    let partials = if chunks > 1 { threads * chunks * 4 } else { 0 };
    let e = &d.epilogue;
    let params = [
        threads as u32,
        k as u32,
        nn as u32,
        kw as u32,
        e.multipliers.len() as u32,
        mult_off as u32,
        w_off as u32,
        e.output_zero_point as u32,
        e.clamp_min as i32 as u32,
        e.clamp_max as i32 as u32,
        rows as u32,
        chunks as u32,
        chunk_words as u32,
        (rows * kw as u64) as u32,
    ];
    let buf = b.data(&format!("{} weights", n.label()), &data)?;
    let packed_x = b.scratch(rows * kw as u64 + partials)?;
    let mut binds = n.binds(b, 1);
    binds.data = buf.as_ref();
    binds.scratch = Some(&packed_x);
    b.dispatch(DENSE, "pack", rows * kw as u64, &params, binds)?;
    if chunks > 1 {
        b.dispatch(DENSE, "partial", threads * chunks, &params, binds)?;
        b.dispatch(DENSE, "combine", threads, &params, binds)?;
    } else {
        b.dispatch(DENSE, "main", threads, &params, binds)?;
    }
    if let Some(buf) = buf {
        b.keep(buf);
    }
    b.keep(packed_x);
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Dense`] (`solidml_spec::for_each_op!`).
    pub(crate) fn dense(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, op: &solidml_spec::Dense) -> super::BuildResult {
        build(b, n, op)
    }
}
