//! Softmax (spec §Softmax) along `axis`: `m = max q`, `e_j = exp_table[m − q_j]`,
//! `S = Σ e_j`, `out_j = clamp(round_half_away(256 · e_j / S) − 128)`.
//! Output scale 1/256, zero point −128.

use solidml_spec::{Softmax, arith::div_round_half_away};

pub fn softmax(s: &Softmax, shape: &[u32], x: &[i8]) -> Vec<i8> {
    let a = s.axis as usize;
    let dim = shape[a] as usize;
    let inner: usize = shape[a + 1..].iter().map(|&d| d as usize).product();
    let outer = x.len() / (dim * inner).max(1);
    let mut out = vec![0i8; x.len()];
    for o in 0..outer {
        for i in 0..inner {
            let at = |j: usize| o * dim * inner + j * inner + i;
            let m = (0..dim).map(|j| x[at(j)]).max().unwrap_or(0) as i32;
            let e = |j: usize| s.exp_table[(m - x[at(j)] as i32) as usize] as i64;
            let sum: i64 = (0..dim).map(e).sum();
            for j in 0..dim {
                let p = div_round_half_away(256 * e(j), sum.max(1)) - 128;
                out[at(j)] = p.clamp(-128, 127) as i8;
            }
        }
    }
    out
}
