//! Reduce (spec §Reduce) over `axes`: with `r = Σ (q − zp_in)` (Sum),
//! `round_half_away(Σ (q − zp_in) / count)` (Mean), or `max/min (q − zp_in)` (Max/Min),
//! `out = clamp(requantize(r, M) + zp_out)`. Elements are visited in row-major order; the
//! output is row-major over the kept axes.

use solidml_spec::{
    Reduce, ReduceKind,
    arith::{clamp_i8, div_round_half_away, requantize},
};

pub fn reduce(r: &Reduce, shape: &[u32], x: &[i8]) -> Vec<i8> {
    let rank = shape.len();
    let reduced: Vec<bool> = (0..rank).map(|i| r.axes.contains(&(i as u32))).collect();
    let kept_shape: Vec<usize> = (0..rank).filter(|&i| !reduced[i]).map(|i| shape[i] as usize).collect();
    let out_len: usize = kept_shape.iter().product();
    let count = x.len() / out_len.max(1);
    let mut acc: Vec<Vec<i32>> = vec![Vec::with_capacity(count); out_len];
    let mut pos = vec![0usize; rank];
    for &q in x {
        let mut o = 0usize;
        for i in 0..rank {
            if !reduced[i] {
                o = o * shape[i] as usize + pos[i];
            }
        }
        acc[o].push(q as i32 - r.input_zero_point);
        for k in (0..rank).rev() {
            pos[k] += 1;
            if pos[k] < shape[k] as usize {
                break;
            }
            pos[k] = 0;
        }
    }
    acc.iter()
        .map(|vals| {
            let v: i32 = match r.kind {
                ReduceKind::Sum => vals.iter().sum(),
                ReduceKind::Mean => div_round_half_away(vals.iter().map(|&v| v as i64).sum(), vals.len().max(1) as i64) as i32,
                ReduceKind::Max => vals.iter().copied().max().unwrap_or(0),
                ReduceKind::Min => vals.iter().copied().min().unwrap_or(0),
            };
            clamp_i8(requantize(v, r.multiplier).saturating_add(r.output_zero_point), -128, 127)
        })
        .collect()
}
