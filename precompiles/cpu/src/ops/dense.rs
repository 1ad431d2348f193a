//! Dense (spec §Dense): for each row `r` of `[…, K]` and output feature `n`,
//! `acc = bias[n] + Σ_k w[n, k] · (x[r, k] − zp_in)`, then the epilogue.

use solidml_spec::Dense;

use super::apply_epilogue;

pub fn dense(d: &Dense, x: &[i8]) -> Vec<i8> {
    let (k, n) = (d.in_features as usize, d.out_features as usize);
    let rows = if k == 0 { 0 } else { x.len() / k };
    let mut out = vec![0i8; rows * n];
    for r in 0..rows {
        let row = &x[r * k..(r + 1) * k];
        for j in 0..n {
            let w = &d.weights[j * k..(j + 1) * k];
            let mut acc = d.bias[j];
            for (wi, xi) in w.iter().zip(row) {
                acc += *wi as i32 * (*xi as i32 - d.input_zero_point);
            }
            out[r * n + j] = apply_epilogue(&d.epilogue, j, acc);
        }
    }
    out
}
