//! InstanceNorm (spec §InstanceNorm) per `(n, c)` plane of `C` elements:
//! `S1 = Σ(q − zp)`, `S2 = Σ(q − zp)²`, `r = isqrt(C·S2 − S1² + ε_term)`,
//! `d_j = C·(q_j − zp) − S1`,
//! `out_j = clamp(zp_out + round_half_away((γ[c]·d_j + β[c]·r) / (r·2^16)))`
//! (`r = 0`: `clamp(zp_out + round_half_away(β[c] / 2^16))`). All in i64.

use solidml_spec::{InstanceNorm, arith::div_round_half_away};

pub fn instance_norm(p: &InstanceNorm, shape: &[u32], x: &[i8]) -> Vec<i8> {
    let ch = shape[1] as usize;
    let plane: usize = shape[2..].iter().map(|&d| d as usize).product();
    let count = plane as i64;
    let mut out = vec![0i8; x.len()];
    for (k, chunk) in x.chunks(plane).enumerate() {
        let c = k % ch;
        let v: Vec<i64> = chunk.iter().map(|&q| q as i64 - p.input_zero_point as i64).collect();
        let s1: i64 = v.iter().sum();
        let s2: i64 = v.iter().map(|d| d * d).sum();
        let r = ((count * s2 - s1 * s1 + p.epsilon_term) as u64).isqrt() as i64;
        for (j, d) in v.iter().enumerate() {
            let y = if r == 0 {
                div_round_half_away(p.beta_q16[c], 1 << 16)
            } else {
                let dj = count * d - s1;
                div_round_half_away(p.gamma_q16[c] * dj + p.beta_q16[c] * r, r << 16)
            };
            out[k * plane + j] = (y + p.output_zero_point as i64).clamp(-128, 127) as i8;
        }
    }
    out
}
