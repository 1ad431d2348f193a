//! Normalize (spec §Normalize) over rows of the last axis: `d_j = q_j − zp_in`;
//! L1: `out_j = clamp(zp_out + round_half_away(d_j · 2^k / Σ|d|))`;
//! L2: `r = isqrt(Σ d² · 2^16)`, `out_j = clamp(zp_out + round_half_away(d_j · 2^(k+8) / r))`;
//! a zero row gives `zp_out`.

use solidml_spec::{NormKind, Normalize, arith::div_round_half_away};

pub fn normalize(nm: &Normalize, shape: &[u32], x: &[i8]) -> Vec<i8> {
    let row = *shape.last().unwrap() as usize;
    let mut out = Vec::with_capacity(x.len());
    for chunk in x.chunks(row.max(1)) {
        let d: Vec<i64> = chunk.iter().map(|&q| q as i64 - nm.input_zero_point as i64).collect();
        let (num_shift, den) = match nm.kind {
            NormKind::L1 => (nm.scale_log2, d.iter().map(|v| v.abs()).sum::<i64>()),
            NormKind::L2 => (nm.scale_log2 + 8, ((d.iter().map(|v| v * v).sum::<i64>() as u64) << 16).isqrt() as i64),
        };
        for &v in &d {
            let y = if den == 0 { 0 } else { div_round_half_away(v << num_shift, den) };
            out.push((y + nm.output_zero_point as i64).clamp(-128, 127) as i8);
        }
    }
    out
}
