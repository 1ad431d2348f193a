//! LogSoftmax (spec §LogSoftmax) along `axis`: `m = max q`, `S = Σ exp_table[m − q_j]`,
//! `k = ⌊log2 S⌋`, `i = (S >> (k − 8)) − 256`, `L = (k − 16)·LN2_Q16 + ln_table[i]`,
//! `out_j = clamp(requantize((q_j − m)·input_scale_q16 − L, M) + zp_out)`.

use solidml_spec::{
    LN2_Q16, LogSoftmax,
    arith::{clamp_i8, requantize},
};

use solidml_exec::Value;
use solidml_exec::index::for_each_lane;

/// `ln(S / 2^16)` in Q16 by the spec's table method; `S ≥ 2^16`.
pub fn ln_q16(s: &LogSoftmax, sum: u32) -> i32 {
    let k = 31 - sum.leading_zeros() as i32; // ⌊log2 S⌋ ≥ 16
    let i = (sum >> (k - 8)) as usize - 256;
    (k - 16) * LN2_Q16 + s.ln_table[i]
}

/// LogSoftmax (spec §LogSoftmax) of the int8 input `x` of `shape` along `s.axis`; the output
/// has the same shape.
pub fn log_softmax(s: &LogSoftmax, shape: &[u32], x: &[i8]) -> Vec<i8> {
    let mut out = vec![0i8; x.len()];
    for_each_lane(shape, s.axis as usize, |lane| {
        let m = lane.iter().map(|&p| x[p]).max().unwrap_or(0) as i32;
        let sum: u32 = lane.iter().map(|&p| s.exp_table[(m - x[p] as i32) as usize]).sum();
        let l = ln_q16(s, sum);
        for &p in lane {
            let v = (x[p] as i32 - m) * s.input_scale_q16 - l;
            out[p] = clamp_i8(requantize(v, s.multiplier).saturating_add(s.output_zero_point), -128, 127);
        }
    });
    out
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::LogSoftmax`] (`solidml_spec::for_each_op!`).
    pub fn log_softmax(n: &super::NodeArgs<'_>, op: &solidml_spec::LogSoftmax) -> super::NodeResult {
        Ok(Value::I8(log_softmax(op, n.input_shape(0), n.args[0].as_i8())))
    }
}

#[cfg(test)]
mod tests {
    use solidml_spec::{
        LN2_Q16, LogSoftmax,
        arith::{Multiplier, requantize},
    };

    use super::{ln_q16, log_softmax};
    use crate::ops::tests::{Rng, numel, ravel, unravel};

    /// Compiler-style tables for input scale `s_in`: `exp_table[d] = round(2^16·exp(−d·s_in))`,
    /// `ln_table[i] = round(2^16·ln(1 + i/256))`.
    fn tables(s_in: f64) -> (Vec<u32>, Vec<i32>) {
        let exp = (0..256).map(|d| (65536.0 * (-(d as f64) * s_in).exp()).round() as u32).collect();
        let ln = (0..256).map(|i| (65536.0 * (1.0 + i as f64 / 256.0).ln()).round() as i32).collect();
        (exp, ln)
    }

    fn op(axis: u32, s_in: f64, s_out: f64, output_zero_point: i32) -> LogSoftmax {
        let (exp_table, ln_table) = tables(s_in);
        LogSoftmax {
            axis,
            exp_table,
            ln_table,
            input_scale_q16: (s_in * 65536.0).round() as i32,
            multiplier: Multiplier::from_real(1.0 / (65536.0 * s_out)),
            output_zero_point,
        }
    }

    #[test]
    fn equal_inputs_give_minus_ln_n() {
        // s_out = 1/16: M = 2^−12 = Q31 2^30 with shift −11.
        // All-equal lane of n = 2^p: m = q, every exp_table[0] = 2^16, S = n·2^16 = 2^(16 + p),
        // k = 16 + p, i = (S >> (k − 8)) − 256 = 256 − 256 = 0, L = p·LN2_Q16 + ln_table[0] = p·45426.
        // v_j = 0 − L. requantize(−p·45426, 2^−12): SRDHM halves exactly (−p·22713) with the
        // negative nudge truncating back to it, then RDBPOT(·, 11) rounds half away:
        //   n = 1: L = 0 → 0;   n = 2: −45426/4096 = −11.09 → −11;   n = 4: −22.18 → −22;
        //   n = 8: −33.27 → −33;   n = 1024: −454260/4096 = −110.90 → −111.
        // (Real: ln(1/n)/s_out = −16·ln n: 0, −11.09, −22.18, −33.27, −110.90.)  + zp_out 10.
        let s = op(0, 0.1, 1.0 / 16.0, 10);
        assert_eq!(s.multiplier, Multiplier { multiplier: 1 << 30, shift: -11 });
        assert_eq!((s.exp_table[0], s.ln_table[0]), (65536, 0));
        for (n, want) in [(1u32, 10i8), (2, -1), (4, -12), (8, -23), (1024, -101)] {
            let p = n.trailing_zeros() as i32;
            assert_eq!(ln_q16(&s, n << 16), p * LN2_Q16, "n={n}");
            for q in [-128i8, 0, 127] {
                assert_eq!(log_softmax(&s, &[n], &vec![q; n as usize]), vec![want; n as usize], "n={n} q={q}");
            }
        }
        // n = 3 is not a power of two: S = 3·2^16 = 196608, k = 17, i = (196608 >> 9) − 256 = 128,
        // L = 45426 + ln_table[128] = 45426 + round(2^16·ln 1.5 = 26572.56) = 71999 (2^16·ln 3 =
        // 71998.4: both roundings went up). −71999/4096 = −17.58 → −18, + 10 = −8.
        assert_eq!(s.ln_table[128], 26573);
        assert_eq!(ln_q16(&s, 3 << 16), 71999);
        assert_eq!(log_softmax(&s, &[3], &[7, 7, 7]), vec![-8, -8, -8]);
    }

    #[test]
    fn two_values_along_a_middle_axis() {
        // s_in = ln 2: input_scale_q16 = round(2^16·ln 2) = 45426, exp_table[1] = 2^15.
        // Lane [0, −1]: m = 0, S = 65536 + 32768 = 98304, k = 16, i = (98304 >> 8) − 256 = 128,
        // L = 0·LN2 + 26573 = 26573.  v = [0 − 26573, −45426 − 26573] = [−26573, −71999].
        // M = 2^−12 (s_out = 1/16): SRDHM halves with ties toward +∞ (−13286.5 → −13286,
        // −35999.5 → −35999), then RDBPOT(·, 11): [−6.49 → −6, −17.58 → −18];
        // zp_out = −115 → [−121, −133 → −128].
        // (Real: log_softmax([0, −ln 2]) = [−0.405, −1.099] → /s_out = [−6.49, −17.58].)
        // Lane [5, 5]: all equal, n = 2: −45426/4096 = −11.09 → −11 → −126.
        // Shape [1, 2, 2], axis 1: the lanes interleave, x = [[0, 5], [−1, 5]].
        let s = op(1, std::f64::consts::LN_2, 1.0 / 16.0, -115);
        assert_eq!((s.input_scale_q16, s.exp_table[1]), (45426, 32768));
        assert_eq!(log_softmax(&s, &[1, 2, 2], &[0, 5, -1, 5]), vec![-121, -126, -128, -126]);
    }

    #[test]
    fn random_log_softmax_matches_the_formula() {
        let mut rng = Rng::new(14);
        for case in 0..60 {
            let shape = rng.shape(1, 4, 6);
            let axis = rng.below(shape.len());
            let s_in = rng.range(1, 1000) as f64 / 1000.0 * if rng.one_in(4) { 64.0 } else { 1.0 }; // ≤ 64: scale_q16 ≤ 2^22
            let s_out = rng.range(1, 400) as f64 / 100.0 / 16.0; // [1/1600, 1/4]
            let mut s = op(axis as u32, s_in, s_out, rng.zero_point());
            if case % 5 == 4 {
                // arbitrary valid tables: exp_table[0] = 2^16, others ≤ 2^16; ln entries in 0..=LN2
                s.exp_table = (0..256).map(|d| if d == 0 { 65536 } else { rng.range(0, 65536) as u32 }).collect();
                s.ln_table = (0..256).map(|_| rng.range(0, LN2_Q16 as i64) as i32).collect();
                s.input_scale_q16 = rng.range(0, 1 << 22) as i32;
                s.multiplier = rng.multiplier();
            }
            let x: Vec<i8> =
                if rng.one_in(3) { (0..numel(&shape)).map(|_| rng.range(-2, 2) as i8).collect() } else { rng.i8s(numel(&shape)) };
            let mut want = vec![0i8; x.len()];
            for (i, w) in want.iter_mut().enumerate() {
                let lane: Vec<i64> = (0..shape[axis] as usize)
                    .map(|j| {
                        let mut idx = unravel(i, &shape);
                        idx[axis] = j;
                        x[ravel(&idx, &shape)] as i64
                    })
                    .collect();
                let m = *lane.iter().max().unwrap();
                let total: i64 = lane.iter().map(|&q| s.exp_table[(m - q) as usize] as i64).sum();
                assert!(total >= 1 << 16);
                let k = 63 - total.leading_zeros() as i64;
                let idx = ((total >> (k - 8)) - 256) as usize;
                let l = (k - 16) * LN2_Q16 as i64 + s.ln_table[idx] as i64;
                let v = (x[i] as i64 - m) * s.input_scale_q16 as i64 - l;
                let q = requantize(i32::try_from(v).unwrap(), s.multiplier) as i64 + s.output_zero_point as i64;
                *w = q.clamp(-128, 127) as i8;
            }
            assert_eq!(log_softmax(&s, &shape, &x), want, "{shape:?} axis {axis} {s:?} x={x:?}");
        }
    }

    #[test]
    fn extremes_do_not_overflow() {
        // Largest lane the validator allows (2^14) with the largest scale (2^22): one element at
        // 127 and the rest at −128: the most negative v the contract allows, −255·2^22 − L, and the
        // largest S, 2^14·2^16 = 2^30, both computed without overflow.
        let mut s = op(0, 64.0, 1.0, 0);
        s.input_scale_q16 = 1 << 22;
        s.exp_table = vec![1 << 16; 256]; // every term 2^16: S = 2^30, k = 30, L = 14·LN2_Q16
        s.multiplier = Multiplier::from_real(2f64.powi(-24));
        let n = 1 << 14;
        let mut x = vec![-128i8; n];
        x[0] = 127;
        let l = 14 * LN2_Q16;
        assert_eq!(ln_q16(&s, 1 << 30), l);
        let low = requantize(-255 * (1 << 22) - l, s.multiplier).clamp(-128, 127) as i8;
        let high = requantize(-l, s.multiplier) as i8;
        let got = log_softmax(&s, &[n as u32], &x);
        assert_eq!((got[0], got[1], got[n - 1]), (high, low, low));
        assert_eq!((high, low), (0, -64)); // −635964/2^24 → 0;  −1069547520 − 635964 ≈ −63.79·2^24 → −64
    }
}
