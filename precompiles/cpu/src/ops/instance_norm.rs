//! InstanceNorm (spec §InstanceNorm) per `(n, c)` plane of `C` elements:
//! `S1 = Σ(q − zp)`, `S2 = Σ(q − zp)²`, `r = isqrt(C·S2 − S1² + ε_term)`,
//! `d_j = C·(q_j − zp) − S1`,
//! `out_j = clamp(zp_out + round_half_away((γ[c]·d_j + β[c]·r) / (r·2^16)))`
//! (`r = 0`: `clamp(zp_out + round_half_away(β[c] / 2^16))`). All in i64.

use solidml_exec::Value;
use solidml_spec::{InstanceNorm, arith::div_round_half_away};

/// InstanceNorm (spec §InstanceNorm) of the int8 input `x` of `shape` (`[N, C, spatial…]`),
/// each `(n, c)` plane on its own; the output has the same shape.
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

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::InstanceNorm`] (`solidml_spec::for_each_op!`).
    pub fn instance_norm(n: &super::NodeArgs<'_>, op: &solidml_spec::InstanceNorm) -> super::NodeResult {
        Ok(Value::I8(instance_norm(op, n.input_shape(0), n.args[0].as_i8())))
    }
}

#[cfg(test)]
mod tests {
    use solidml_spec::InstanceNorm;

    use super::instance_norm;
    use crate::ops::tests::Rng;

    fn params(zi: i32, zo: i32, eps: i64, gamma: Vec<i64>, beta: Vec<i64>) -> InstanceNorm {
        InstanceNorm { input_zero_point: zi, output_zero_point: zo, epsilon_term: eps, gamma_q16: gamma, beta_q16: beta }
    }

    #[test]
    fn a_plane_of_two_values() {
        // plane [1, 3] (zp 0): C = 2, S1 = 4, S2 = 10, C·S2 − S1² = 4, ε = 0 → r = 2;
        // d = [2·1 − 4, 2·3 − 4] = [−2, 2] → d/r = [−1, 1] (the normalized values).
        // γ = 10 (Q16: 655360), β = 0.5 (32768): (655360·(−2) + 32768·2) / (2·65536) = −9.5 → −10
        // (half away from zero); the other: (1310720 + 65536) / 131072 = 10.5 → 11.
        let p = params(0, 3, 0, vec![655360], vec![32768]);
        assert_eq!(instance_norm(&p, &[1, 1, 2], &[1, 3]), vec![-7, 14]);
        // a constant plane: r = isqrt(ε) = 0 when ε = 0 → β alone: 0.5 → 1, + zp 3
        assert_eq!(instance_norm(&p, &[1, 1, 2], &[5, 5]), vec![4, 4]);
        // ε lifts r: ε = 12 → r = isqrt(4 + 12) = 4 → (−1310720 + 131072) / 262144 = −4.5 → −5,
        // (1310720 + 131072) / 262144 = 5.5 → 6
        let p = params(0, 0, 12, vec![655360], vec![32768]);
        assert_eq!(instance_norm(&p, &[1, 1, 2], &[1, 3]), vec![-5, 6]);
    }

    #[test]
    fn random_planes_match_the_formula() {
        let mut r = Rng::new(19);
        for _ in 0..50 {
            let (n, c, h) = (r.range(1, 2) as usize, r.range(1, 3) as usize, r.range(1, 6) as usize);
            let shape = [n as u32, c as u32, h as u32, 2];
            let x: Vec<i8> = (0..n * c * h * 2).map(|_| r.range(-128, 127) as i8).collect();
            let p = params(
                r.range(-128, 127) as i32,
                r.range(-20, 20) as i32,
                r.range(0, 5000),
                (0..c).map(|_| r.range(-(1 << 24), 1 << 24)).collect(),
                (0..c).map(|_| r.range(-(1 << 24), 1 << 24)).collect(),
            );
            let got = instance_norm(&p, &shape, &x);
            let plane = h * 2;
            for (k, chunk) in x.chunks(plane).enumerate() {
                let ch = k % c;
                let d: Vec<i128> = chunk.iter().map(|&q| q as i128 - p.input_zero_point as i128).collect();
                let (s1, s2): (i128, i128) = (d.iter().sum(), d.iter().map(|v| v * v).sum());
                let v = plane as i128 * s2 - s1 * s1 + p.epsilon_term as i128;
                let mut root = (v as f64).sqrt() as i128;
                while root * root > v {
                    root -= 1;
                }
                while (root + 1) * (root + 1) <= v {
                    root += 1;
                }
                for (j, dj) in d.iter().enumerate() {
                    let (num, den) = if root == 0 {
                        (p.beta_q16[ch] as i128, 1i128 << 16)
                    } else {
                        (p.gamma_q16[ch] as i128 * (plane as i128 * dj - s1) + p.beta_q16[ch] as i128 * root, root << 16)
                    };
                    let q = (2 * num.abs() + den) / (2 * den) * num.signum();
                    assert_eq!(got[k * plane + j] as i128, (q + p.output_zero_point as i128).clamp(-128, 127), "{p:?} plane {k} elem {j}");
                }
            }
        }
    }
}
