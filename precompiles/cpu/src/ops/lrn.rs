//! Lrn (spec §Lrn): per element, `Q = Σ (q_c' − zp)²` over the channel window,
//! `F = factors[min(Q >> sum_shift, len − 1)]`,
//! `out = clamp(zp_out + requantize((q_c − zp) · F, M))`.

use solidml_exec::Value;
use solidml_spec::{
    Lrn,
    arith::{clamp_i8, requantize},
};

/// Lrn (spec §Lrn) of the int8 input `x` of `shape` (`[N, C, spatial…]`) across channels;
/// the output has the same shape.
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

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Lrn`] (`solidml_spec::for_each_op!`).
    pub fn lrn(n: &super::NodeArgs<'_>, op: &solidml_spec::Lrn) -> super::NodeResult {
        Ok(Value::I8(lrn(op, n.input_shape(0), n.args[0].as_i8())))
    }
}

#[cfg(test)]
mod tests {
    use solidml_spec::{
        Lrn,
        arith::{Multiplier, requantize},
    };

    use super::lrn;
    use crate::ops::tests::{Rng, numel, ravel, unravel};

    #[test]
    fn window_probe_counts_the_channels_in_each_window() {
        // With every d = q − zp = 1, Q = the number of channels in the window; factors[q] = q,
        // sum_shift = 0 and M = 1 (requantize(x, {2^30, 1}) = x) make out = 1 · F = Q.
        // Window [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉] clipped to [0, C):
        //   size 1: [c, c]              → 1 everywhere
        //   size 2: [c, c + 1]          → C = 3: [2, 2, 1]
        //   size 3: [c − 1, c + 1]      → C = 5: [2, 3, 3, 3, 2]
        //   size 4: [c − 1, c + 2]      → C = 5: [3, 4, 4, 3, 2]
        //   size 9 (wider than C = 3)   → every window is the whole axis: [3, 3, 3]
        let op = |size| Lrn {
            size,
            input_zero_point: -7,
            output_zero_point: 0,
            sum_shift: 0,
            factors: (0..16).collect(),
            multiplier: Multiplier::from_real(1.0),
        };
        let ones = |c: usize| vec![-6i8; c];
        assert_eq!(lrn(&op(1), &[1, 3], &ones(3)), vec![1, 1, 1]);
        assert_eq!(lrn(&op(2), &[1, 3], &ones(3)), vec![2, 2, 1]);
        assert_eq!(lrn(&op(3), &[1, 5], &ones(5)), vec![2, 3, 3, 3, 2]);
        assert_eq!(lrn(&op(4), &[1, 5], &ones(5)), vec![3, 4, 4, 3, 2]);
        assert_eq!(lrn(&op(9), &[1, 3], &ones(3)), vec![3, 3, 3]);
    }

    #[test]
    fn size_3_buckets_and_ties() {
        // size 3, zp_in = 10, zp_out = −3, sum_shift = 5 (buckets of 32),
        // factors = 2^16 · [1, 0.75, 0.5, 0.25], M = 2^−16 = {2^30, −15}:
        // requantize(x) = rdbpot(srdhm(x, 2^30), 15) = rdbpot(x / 2, 15) for even x (every d · F
        // here is a multiple of 2^14), i.e. round_half_away(d · F / 2^16).
        // Shape [1, 4, 2]: x[c, p] at 2c + p; position p = 0 has d = [3, −4, 1, 12], p = 1 has
        // d = [1, −6, 0, 0]; codes = d + 10.
        // p = 0: c0 window {0, 1}: Q = 9 + 16 = 25 → bucket 0, F = 1    → 3 · 1 = 3
        //        c1 window {0, 1, 2}: Q = 9 + 16 + 1 = 26 → 0          → −4
        //        c2 window {1, 2, 3}: Q = 16 + 1 + 144 = 161 → 161 >> 5 = 5 → min(5, 3) = 3,
        //           F = 0.25 → 1 · 0.25 = 0.25 → 0
        //        c3 window {2, 3} (clipped): Q = 1 + 144 = 145 → 4 → last bucket 3 → 12 · 0.25 = 3
        // p = 1: c0 {0, 1}: Q = 1 + 36 = 37 → bucket 1, F = 0.75 → 0.75 → 1
        //        c1 {0, 1, 2}: Q = 37 → 0.75 · −6 = −4.5 → −5 (half away from zero)
        //        c2, c3: d = 0 → 0
        // plus zp_out: p = 0 → [0, −7, −3, 0], p = 1 → [−2, −8, −3, −3].
        let l = Lrn {
            size: 3,
            input_zero_point: 10,
            output_zero_point: -3,
            sum_shift: 5,
            factors: vec![65536, 49152, 32768, 16384],
            multiplier: Multiplier::from_real(1.0 / 65536.0),
        };
        assert_eq!(l.multiplier, Multiplier { multiplier: 1 << 30, shift: -15 });
        let x = [13, 11, 6, 4, 11, 10, 22, 10];
        assert_eq!(lrn(&l, &[1, 4, 2], &x), vec![0, -2, -7, -8, -3, -3, 0, -3]);
        // A single-entry table: every Q lands in bucket 0; F = 2^23 with |d| = 255 is the largest
        // product (255 · 2^23 < 2^31); M = 2^−16 gives ±255 · 128 → saturates at the int8 ends.
        let big = Lrn {
            size: 5,
            input_zero_point: -128,
            output_zero_point: 0,
            sum_shift: 40,
            factors: vec![1 << 23],
            multiplier: Multiplier::from_real(1.0 / 65536.0),
        };
        assert_eq!(lrn(&big, &[1, 2, 1, 1], &[127, -128]), vec![127, 0]);
        let neg = Lrn { input_zero_point: 127, ..big };
        assert_eq!(lrn(&neg, &[1, 2], &[-128, 127]), vec![-128, 0]);
    }

    #[test]
    fn random_lrn_matches_the_formula() {
        let mut rng = Rng::new(23);
        let mut interior = 0;
        for _ in 0..50 {
            let mut shape = rng.shape(2, 4, 4);
            shape[1] = rng.range(1, 8) as u32;
            let size = rng.range(1, 9) as u32;
            let sum_shift = rng.range(0, 14) as u32;
            let q_max = size as u64 * 255 * 255;
            // the compiler's table covers every bucket; a shorter one exercises the clamp to the last
            let full = ((q_max >> sum_shift) + 1).min(4096) as usize;
            let len = if rng.one_in(3) { rng.range(1, full as i64) as usize } else { full };
            let factors: Vec<i32> = (0..len)
                .map(|_| match rng.below(6) {
                    0 => 1 << 23,
                    1 => 0,
                    _ => 2f64.powf(23.0 * rng.range(0, 1000) as f64 / 1000.0) as i32, // log-uniform in [1, 2^23]
                })
                .collect();
            let multiplier = if rng.one_in(5) {
                rng.multiplier()
            } else {
                Multiplier::from_real(2f64.powf(-28.0 + 20.0 * rng.range(0, 1000) as f64 / 1000.0))
            };
            let l = Lrn { size, input_zero_point: rng.zero_point(), output_zero_point: rng.zero_point(), sum_shift, factors, multiplier };
            let x = rng.i8s(numel(&shape));
            let d = |i: usize| x[i] as i64 - l.input_zero_point as i64;
            let want: Vec<i8> = (0..x.len())
                .map(|i| {
                    let idx = unravel(i, &shape);
                    let c = idx[1] as i64;
                    let (lo, hi) = (c - (size as i64 - 1) / 2, c + size as i64 / 2); // ⌈(size−1)/2⌉ = ⌊size/2⌋
                    let q: i64 = (0..shape[1] as i64)
                        .filter(|&k| lo <= k && k <= hi)
                        .map(|k| {
                            let mut j = idx.clone();
                            j[1] = k as usize;
                            d(ravel(&j, &shape)).pow(2)
                        })
                        .sum();
                    let bucket = ((q / (1i64 << sum_shift)) as usize).min(l.factors.len() - 1);
                    let v = d(i) * l.factors[bucket] as i64;
                    assert!(v.abs() < 1 << 31);
                    (requantize(v as i32, l.multiplier) as i64 + l.output_zero_point as i64).clamp(-128, 127) as i8
                })
                .collect();
            assert_eq!(lrn(&l, &shape, &x), want, "{l:?} {shape:?} x={x:?}");
            interior += want.iter().filter(|&&q| q > -128 && q < 127 && q as i32 != l.output_zero_point).count();
        }
        assert!(interior > 200, "too few unsaturated, non-trivial outputs: {interior}");
    }
}
