//! Lrn (spec §Lrn): per element, `Q = Σ (q_c' − zp)²` over the channel window,
//! `F = factors[min(Q >> sum_shift, len − 1)]`,
//! `out = clamp(zp_out + requantize((q_c − zp) · F, M))`.

use solidml_spec::{
    Lrn,
    arith::{clamp_i8, requantize},
};

pub fn lrn(l: &Lrn, shape: &[u32], x: &[i8]) -> Vec<i8> {
    let ch = shape[1] as i64;
    let inner: usize = shape[2..].iter().map(|&d| d as usize).product();
    let (before, after) = ((l.size as i64 - 1) / 2, l.size as i64 / 2);
    let d = |i: usize| x[i] as i64 - l.input_zero_point as i64;
    let mut out = vec![0i8; x.len()];
    for (i, o) in out.iter_mut().enumerate() {
        let c = (i / inner) as i64 % ch;
        let base = i as i64 - c * inner as i64;
        let q: i64 = ((c - before).max(0)..=(c + after).min(ch - 1)).map(|k| d((base + k * inner as i64) as usize).pow(2)).sum();
        let f = l.factors[((q >> l.sum_shift) as usize).min(l.factors.len() - 1)];
        let v = (d(i) * f as i64) as i32; // |d| ≤ 255, f ≤ 2^23: fits
        *o = clamp_i8(requantize(v, l.multiplier).saturating_add(l.output_zero_point), -128, 127);
    }
    out
}
