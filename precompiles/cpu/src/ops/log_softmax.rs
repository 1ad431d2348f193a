//! LogSoftmax (spec §LogSoftmax) along `axis`: `m = max q`, `S = Σ exp_table[m − q_j]`,
//! `k = ⌊log2 S⌋`, `i = (S >> (k − 8)) − 256`, `L = (k − 16)·LN2_Q16 + ln_table[i]`,
//! `out_j = clamp(requantize((q_j − m)·input_scale_q16 − L, M) + zp_out)`.

use solidml_spec::{
    LN2_Q16, LogSoftmax,
    arith::{clamp_i8, requantize},
};

/// `ln(S / 2^16)` in Q16 by the spec's table method; `S ≥ 2^16`.
pub fn ln_q16(s: &LogSoftmax, sum: u32) -> i32 {
    let k = 31 - sum.leading_zeros() as i32; // ⌊log2 S⌋ ≥ 16
    let i = (sum >> (k - 8)) as usize - 256;
    (k - 16) * LN2_Q16 + s.ln_table[i]
}

pub fn log_softmax(s: &LogSoftmax, shape: &[u32], x: &[i8]) -> Vec<i8> {
    let a = s.axis as usize;
    let dim = shape[a] as usize;
    let inner: usize = shape[a + 1..].iter().map(|&d| d as usize).product();
    let outer = x.len() / (dim * inner).max(1);
    let mut out = vec![0i8; x.len()];
    for o in 0..outer {
        for i in 0..inner {
            let at = |j: usize| o * dim * inner + j * inner + i;
            let m = (0..dim).map(|j| x[at(j)]).max().unwrap_or(0) as i32;
            let sum: u32 = (0..dim).map(|j| s.exp_table[(m - x[at(j)] as i32) as usize]).sum();
            let l = ln_q16(s, sum);
            for j in 0..dim {
                let v = (x[at(j)] as i32 - m) * s.input_scale_q16 - l;
                out[at(j)] = clamp_i8(requantize(v, s.multiplier).saturating_add(s.output_zero_point), -128, 127);
            }
        }
    }
    out
}
