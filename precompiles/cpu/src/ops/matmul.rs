//! MatMul of two run-time tensors (spec §MatMul): for each broadcast batch index,
//! `acc[m, n] = Σ_k (a[m, k] − za) · (b[k, n] − zb)`,
//! `out = clamp(requantize(acc, M) + zp_out)`.

use solidml_spec::{
    MatMul,
    arith::{clamp_i8, requantize},
};

use solidml_exec::Value;
use solidml_exec::index::{broadcast_strides, for_each_offset};

/// MatMul (spec §MatMul) of int8 `a` (shape `sa`, `[…, M, K]`) and `b` (shape `sb`,
/// `[…, K, N]`) into the int8 output of shape `so` (`[broadcast batch…, M, N]`).
pub fn matmul(mm: &MatMul, sa: &[u32], sb: &[u32], so: &[u32], a: &[i8], b: &[i8]) -> Vec<i8> {
    let (m, k, n) = (sa[sa.len() - 2] as usize, sa[sa.len() - 1] as usize, sb[sb.len() - 1] as usize);
    let batch = &so[..so.len() - 2];
    // batch offsets in units of whole matrices
    let (ta, tb) = (broadcast_strides(&sa[..sa.len() - 2], batch), broadcast_strides(&sb[..sb.len() - 2], batch));
    let mut out = Vec::with_capacity(so.iter().map(|&d| d as usize).product());
    for_each_offset(batch, [&ta, &tb], |[ia, ib]| {
        let (ma, mb) = (&a[ia * m * k..(ia + 1) * m * k], &b[ib * k * n..(ib + 1) * k * n]);
        for r in 0..m {
            for c in 0..n {
                let mut acc = 0i32;
                for j in 0..k {
                    acc += (ma[r * k + j] as i32 - mm.a_zero_point) * (mb[j * n + c] as i32 - mm.b_zero_point);
                }
                out.push(clamp_i8(requantize(acc, mm.multiplier).saturating_add(mm.output_zero_point), -128, 127));
            }
        }
    });
    out
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::MatMul`] (`solidml_spec::for_each_op!`).
    pub fn matmul(n: &super::NodeArgs<'_>, op: &solidml_spec::MatMul) -> super::NodeResult {
        Ok(Value::I8(matmul(op, n.input_shape(0), n.input_shape(1), n.output_shape(), n.args[0].as_i8(), n.args[1].as_i8())))
    }
}

#[cfg(test)]
mod tests {
    use solidml_spec::{
        MatMul,
        arith::{Multiplier, requantize},
    };

    use super::matmul;
    use crate::ops::tests::{Rng, numel, ravel, unravel};

    fn op(a_zero_point: i32, b_zero_point: i32, m: f64, output_zero_point: i32) -> MatMul {
        MatMul { a_zero_point, b_zero_point, multiplier: Multiplier::from_real(m), output_zero_point }
    }

    #[test]
    fn broadcast_batch() {
        // a [2, 1, 1, 2] (batch [2, 1], M = 1, K = 2), b [3, 2, 1] (batch [3], N = 1) → [2, 3, 1, 1].
        // a − za (za = 1, a = [2, 3, 4, 0]): A0 = [1, 2], A1 = [3, −1].
        // b − zb (zb = −2, b = [−1, −2, −2, −1, −1, −1]): B0 = [1, 0]ᵀ, B1 = [0, 1]ᵀ, B2 = [1, 1]ᵀ.
        // out[p, q] = A_p · B_q: p = 0: [1, 2, 3]; p = 1: [3, −1, 2]. M = 1, zp_out = 5.
        let mm = op(1, -2, 1.0, 5);
        let (a, b) = ([2, 3, 4, 0], [-1, -2, -2, -1, -1, -1]);
        assert_eq!(matmul(&mm, &[2, 1, 1, 2], &[3, 2, 1], &[2, 3, 1, 1], &a, &b), vec![6, 7, 8, 8, 4, 7]);
        // Swapping roles: b's batch broadcast against a 2-d a. a [1, 2] = A0, b [3, 2, 1] → [3, 1, 1].
        assert_eq!(matmul(&mm, &[1, 2], &[3, 2, 1], &[3, 1, 1], &a[..2], &b), vec![6, 7, 8]);
    }

    #[test]
    fn plain_2x2_rounding_and_saturation() {
        // [[1, 2], [3, 4]] × [[5, 6], [7, 8]] = [[19, 22], [43, 50]]; M = 0.5 (Q31 2^30, shift 0):
        // SRDHM rounds the halves up: [[9.5 → 10, 11], [21.5 → 22, 25]]; zp_out = −10.
        let mm = op(0, 0, 0.5, -10);
        assert_eq!(matmul(&mm, &[2, 2], &[2, 2], &[2, 2], &[1, 2, 3, 4], &[5, 6, 7, 8]), vec![0, 1, 12, 15]);
        // Negative halves go toward +∞ too: −[[19, 22], [43, 50]]·0.5 → [[−9, −11], [−21, −25]].
        let neg = op(0, 0, 0.5, 0);
        assert_eq!(matmul(&neg, &[2, 2], &[2, 2], &[2, 2], &[-1, -2, -3, -4], &[5, 6, 7, 8]), vec![-9, -11, -21, -25]);
        // (127 − (−128))·(−128 − 127) = −65025 → clamp −128; (127 + 128)·(127 + 128) → 127.
        let sat = op(-128, 127, 1.0, 0);
        assert_eq!(matmul(&sat, &[1, 1], &[1, 1], &[1, 1], &[127], &[-128]), vec![-128]);
        let sat = op(-128, -128, 1.0, 0);
        assert_eq!(matmul(&sat, &[1, 1], &[1, 1], &[1, 1], &[127], &[127]), vec![127]);
    }

    #[test]
    fn largest_k_does_not_overflow() {
        // K = 33025 (the validator's limit) with every product ±255·255 = ±65025:
        // acc = ±33025·65025 = ±2147450625, just inside i32. M = 2^−25 (Q31 2^30, shift −24):
        // SRDHM gives (acc + 1)/2 = 1073725313, resp. −1073725312 (halves toward +∞), then
        // RDBPOT(·, 24) = ±63.998 → ±64.
        let k = 33025;
        let (a, b_pos, b_neg) = (vec![127i8; k], vec![127i8; k], vec![-128i8; k]);
        let mm = op(-128, -128, 2f64.powi(-25), 0);
        assert_eq!(matmul(&mm, &[1, k as u32], &[k as u32, 1], &[1, 1], &a, &b_pos), vec![64]);
        let mm = op(-128, 127, 2f64.powi(-25), 0);
        assert_eq!(matmul(&mm, &[1, k as u32], &[k as u32, 1], &[1, 1], &a, &b_neg), vec![-64]);
    }

    #[test]
    fn random_matmuls_match_naive_loops() {
        let mut rng = Rng::new(16);
        for _ in 0..60 {
            let batch = rng.shape(0, 3, 3);
            // each operand's batch axes: a suffix of the output's, some axes set to 1
            let operand = |rng: &mut Rng| -> Vec<u32> {
                let rank = rng.range(0, batch.len() as i64) as usize;
                batch[batch.len() - rank..].iter().map(|&d| if rng.one_in(3) { 1 } else { d }).collect()
            };
            let (ba, bb) = (operand(&mut rng), operand(&mut rng));
            let dim = |s: &[u32], i: usize| (i + s.len()).checked_sub(batch.len()).map_or(1, |j| s[j]);
            let batch: Vec<u32> = (0..batch.len()).map(|i| dim(&ba, i).max(dim(&bb, i))).collect();
            let (m, k, n) = (rng.range(1, 5) as usize, rng.range(1, 40) as usize, rng.range(1, 5) as usize);
            let sa: Vec<u32> = ba.iter().copied().chain([m as u32, k as u32]).collect();
            let sb: Vec<u32> = bb.iter().copied().chain([k as u32, n as u32]).collect();
            let so: Vec<u32> = batch.iter().copied().chain([m as u32, n as u32]).collect();
            let mm = MatMul {
                a_zero_point: rng.zero_point(),
                b_zero_point: rng.zero_point(),
                multiplier: rng.multiplier(),
                output_zero_point: rng.zero_point(),
            };
            let (a, b) = (rng.i8s(numel(&sa)), rng.i8s(numel(&sb)));
            // explicit broadcasting: an operand's batch index is the output's, right-aligned,
            // with 0 on its size-1 axes
            let own = |s: &[u32], idx: &[usize]| -> usize {
                let lead = idx.len() - s.len();
                let i: Vec<usize> = s.iter().enumerate().map(|(j, &d)| if d == 1 { 0 } else { idx[lead + j] }).collect();
                ravel(&i, s)
            };
            let mut want = vec![];
            for p in 0..numel(&batch) {
                let idx = unravel(p, &batch);
                let (pa, pb) = (own(&ba, &idx), own(&bb, &idx));
                for r in 0..m {
                    for c in 0..n {
                        let mut acc = 0i64;
                        for j in 0..k {
                            let av = a[(pa * m + r) * k + j] as i64 - mm.a_zero_point as i64;
                            let bv = b[(pb * k + j) * n + c] as i64 - mm.b_zero_point as i64;
                            acc += av * bv;
                        }
                        let q = requantize(i32::try_from(acc).unwrap(), mm.multiplier) as i64 + mm.output_zero_point as i64;
                        want.push(q.clamp(-128, 127) as i8);
                    }
                }
            }
            assert_eq!(matmul(&mm, &sa, &sb, &so, &a, &b), want, "{mm:?} {sa:?} × {sb:?} → {so:?}");
        }
    }
}
