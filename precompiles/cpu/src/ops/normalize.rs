//! Normalize (spec §Normalize) over rows of the last axis: `d_j = q_j − zp_in`;
//! L1: `out_j = clamp(zp_out + round_half_away(d_j · 2^k / Σ|d|))`;
//! L2: `r = isqrt(Σ d² · 2^16)`, `out_j = clamp(zp_out + round_half_away(d_j · 2^(k+8) / r))`;
//! a zero row gives `zp_out`.

use solidml_exec::Value;
use solidml_spec::{NormKind, Normalize, arith::div_round_half_away};

/// Normalize (spec §Normalize) of the int8 input `x` of `shape`, one row per run of the last
/// axis; the output has the same shape.
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

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Normalize`] (`solidml_spec::for_each_op!`).
    pub fn normalize(n: &super::NodeArgs<'_>, op: &solidml_spec::Normalize) -> super::NodeResult {
        Ok(Value::I8(normalize(op, n.input_shape(0), n.args[0].as_i8())))
    }
}

#[cfg(test)]
mod tests {
    use solidml_spec::{NormKind, Normalize};

    use super::normalize;
    use crate::ops::tests::{Rng, numel};

    fn op(kind: NormKind, input_zero_point: i32, output_zero_point: i32, scale_log2: u32) -> Normalize {
        Normalize { kind, input_zero_point, output_zero_point, scale_log2 }
    }

    #[test]
    fn l1_ties_round_half_away_and_a_zero_row_gives_zp_out() {
        // k = 7, zp_in = −2, zp_out = 5, shape [3, 4]:
        // row 0: d = [1, −3, 127, −125], D = Σ|d| = 256, d · 2^7 / 256 = d / 2
        //        = [0.5, −1.5, 63.5, −62.5] → [1, −2, 64, −63] (halves away from zero) → + 5
        //        = [6, 3, 69, −58]
        // row 1: d = 0 everywhere (D = 0) → zp_out = 5
        // row 2: d = [0, 10, 0, 0], D = 10 → [0, 128, 0, 0] → + 5 → [5, 133 → 127, 5, 5]
        let x = [-1, -5, 125, -127, -2, -2, -2, -2, -2, 8, -2, -2];
        assert_eq!(normalize(&op(NormKind::L1, -2, 5, 7), &[3, 4], &x), vec![6, 3, 69, -58, 5, 5, 5, 5, 5, 127, 5, 5]);
        // k = 1, zp_in = zp_out = 0: d = [1, 3] → 2·[1, 3]/4 = [0.5, 1.5] → [1, 2]; negated → [−1, −2].
        assert_eq!(normalize(&op(NormKind::L1, 0, 0, 1), &[2, 2], &[1, 3, -1, -3]), vec![1, 2, -1, -2]);
        // k = 0: 1/4 → 0, 2/4 = 0.5 → 1
        assert_eq!(normalize(&op(NormKind::L1, 0, 0, 0), &[3], &[1, 1, 2]), vec![0, 0, 1]);
    }

    #[test]
    fn l2_uses_the_floor_isqrt() {
        // k = 7, zp_in = 1, zp_out = 0; out = round_half_away(d · 2^15 / r), r = isqrt(Σd² · 2^16):
        // d = [3, 4]:   r = isqrt(25 · 65536) = 1280 (exact) → 98304/1280 = 76.8 → 77,
        //               131072/1280 = 102.4 → 102
        // d = [1, 1]:   r = isqrt(131072) = 362 (362² = 131044 ≤ 131072 < 363² = 131769)
        //               → 32768/362 = 90.52 → 91 (for both)
        // d = [1, 2]:   r = isqrt(327680) = 572 (572² = 327184, 573² = 328329)
        //               → 32768/572 = 57.29 → 57; 65536/572 = 114.57 → 115 (the exact real
        //               256/√5 = 114.49 would round to 114: the floor of the root shows)
        // d = [−1, −2]: → [−57, −115]
        let x = [4, 5, 2, 2, 2, 3, 0, -1];
        assert_eq!(normalize(&op(NormKind::L2, 1, 0, 7), &[4, 2], &x), vec![77, 102, 91, 91, 57, 115, -57, -115]);
        // compiler's non-negative form: k = 8, zp_out = −128. d = [0, 5]: r = 1280,
        // 5 · 2^16 / 1280 = 256 → −128 + 256 = 128 → clamped to 127; a zero row gives −128.
        assert_eq!(normalize(&op(NormKind::L2, -128, -128, 8), &[2, 2], &[-128, -123, -128, -128]), vec![-128, 127, -128, -128]);
    }

    #[test]
    fn random_normalize_matches_the_formula() {
        let mut rng = Rng::new(24);
        let mut interior = 0;
        for case in 0..50 {
            let mut shape = rng.shape(1, 3, 4);
            *shape.last_mut().unwrap() = if rng.one_in(5) { rng.range(100, 600) as u32 } else { rng.range(1, 8) as u32 };
            let kind = if case % 2 == 0 { NormKind::L1 } else { NormKind::L2 };
            let nm = op(kind, rng.zero_point(), rng.zero_point(), rng.range(0, 8) as u32);
            // near the zero point often, so rows of zeros (and small norms) come up
            let x: Vec<i8> = if rng.one_in(3) {
                (0..numel(&shape)).map(|_| (nm.input_zero_point as i64 + rng.range(-1, 1)).clamp(-128, 127) as i8).collect()
            } else {
                rng.i8s(numel(&shape))
            };
            let row = *shape.last().unwrap() as usize;
            let k = nm.scale_log2;
            let want: Vec<i8> = (0..x.len())
                .map(|i| {
                    let r0 = i / row * row;
                    let d: Vec<i128> = x[r0..r0 + row].iter().map(|&q| q as i128 - nm.input_zero_point as i128).collect();
                    let v = d[i - r0];
                    // out = v · num / den as an exact fraction
                    let (num, den) = match kind {
                        NormKind::L1 => (1i128 << k, d.iter().map(|a| a.abs()).sum::<i128>()),
                        NormKind::L2 => {
                            let n = d.iter().map(|a| a * a).sum::<i128>() * 65536;
                            let mut r = (n as f64).sqrt() as i128;
                            while r * r > n {
                                r -= 1;
                            }
                            while (r + 1) * (r + 1) <= n {
                                r += 1;
                            }
                            (1i128 << (k + 8), r)
                        }
                    };
                    let y = if den == 0 { 0 } else { v.signum() * ((2 * v.abs() * num + den) / (2 * den)) };
                    (y + nm.output_zero_point as i128).clamp(-128, 127) as i8
                })
                .collect();
            assert_eq!(normalize(&nm, &shape, &x), want, "{nm:?} {shape:?} x={x:?}");
            interior += want.iter().filter(|&&q| q > -128 && q < 127 && q as i32 != nm.output_zero_point).count();
        }
        assert!(interior > 200, "too few unsaturated, non-trivial outputs: {interior}");
    }
}
