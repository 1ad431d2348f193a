//! Softmax (spec §Softmax) along `axis`: `m = max q`, `e_j = exp_table[m − q_j]`,
//! `S = Σ e_j`, `out_j = clamp(round_half_away(256 · e_j / S) − 128)`.
//! Output scale 1/256, zero point −128.

use solidml_spec::{Softmax, arith::div_round_half_away};

use solidml_exec::Value;
use solidml_exec::index::for_each_lane;

/// Softmax (spec §Softmax) of the int8 input `x` of `shape` along `s.axis`: codes at scale
/// 1/256, zero point −128, same shape.
pub fn softmax(s: &Softmax, shape: &[u32], x: &[i8]) -> Vec<i8> {
    let mut out = vec![0i8; x.len()];
    for_each_lane(shape, s.axis as usize, |lane| {
        let m = lane.iter().map(|&p| x[p]).max().unwrap_or(0) as i32;
        let e = |p: usize| s.exp_table[(m - x[p] as i32) as usize] as i64;
        let sum: i64 = lane.iter().map(|&p| e(p)).sum();
        for &p in lane {
            out[p] = (div_round_half_away(256 * e(p), sum.max(1)) - 128).clamp(-128, 127) as i8;
        }
    });
    out
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Softmax`] (`solidml_spec::for_each_op!`).
    pub fn softmax(n: &super::NodeArgs<'_>, op: &solidml_spec::Softmax) -> super::NodeResult {
        Ok(Value::I8(softmax(op, n.input_shape(0), n.args[0].as_i8())))
    }
}

#[cfg(test)]
mod tests {
    use solidml_spec::Softmax;

    use super::softmax;
    use crate::ops::tests::{Rng, numel, ravel, unravel};

    /// `exp_table[d] = 2^(16 − d)` (input scale ln 2), 0 from d = 17 on.
    fn halving_table() -> Vec<u32> {
        (0..256).map(|d| if d <= 16 { 1 << (16 - d) } else { 0 }).collect()
    }

    #[test]
    fn equal_inputs_give_round_256_over_n_minus_128() {
        let s = Softmax { axis: 0, exp_table: halving_table() };
        // n = 1: 256 − 128 = 128 → clamped to 127; n = 2: 128 − 128 = 0; n = 3: 85.33 → 85 → −43;
        // n = 4: 64 → −64; n = 512: 0.5 is a tie → 1 (half away) → −127; n = 1024: 0.25 → 0 → −128.
        for (n, want) in [(1, 127), (2, 0), (3, -43), (4, -64), (512, -127), (1024, -128)] {
            for q in [-128, 0, 127] {
                assert_eq!(softmax(&s, &[n], &vec![q; n as usize]), vec![want; n as usize], "n={n} q={q}");
            }
        }
    }

    #[test]
    fn halving_table_along_the_first_axis() {
        // Lane [2, 1, 0]: m = 2, e = [65536, 32768, 16384], S = 114688;
        // 256·e/S = [146.29, 73.14, 36.57] → [146, 73, 37] − 128 = [18, −55, −91].
        // Lane [5, 5, −128]: e = [65536, 65536, 0] (d = 133 is past the table's 2^−16) → [0, 0, −128].
        // Laid out as [3, 2] with axis 0, the two lanes interleave.
        let s = Softmax { axis: 0, exp_table: halving_table() };
        assert_eq!(softmax(&s, &[3, 2], &[2, 5, 1, 5, 0, -128]), vec![18, 0, -55, 0, -91, -128]);
    }

    #[test]
    fn random_softmax_matches_the_formula() {
        let mut rng = Rng::new(10);
        for _ in 0..50 {
            let shape = rng.shape(1, 4, 6);
            let axis = rng.below(shape.len());
            // compiler-style table for a random input scale in [0.004, 1]
            let scale = rng.range(4, 1000) as f64 / 1000.0;
            let mut exp_table: Vec<u32> = (0..256).map(|d| (65536.0 * (-(d as f64) * scale).exp()).round() as u32).collect();
            if rng.one_in(4) {
                exp_table = (0..256).map(|d| if d == 0 { 65536 } else { rng.range(0, 65536) as u32 }).collect(); // not monotonic
            }
            let s = Softmax { axis: axis as u32, exp_table };
            let x: Vec<i8> =
                if rng.one_in(3) { (0..numel(&shape)).map(|_| rng.range(-3, 3) as i8).collect() } else { rng.i8s(numel(&shape)) };
            let mut want = vec![0i8; x.len()];
            for i in 0..x.len() {
                let lane: Vec<i64> = (0..shape[axis] as usize)
                    .map(|j| {
                        let mut idx = unravel(i, &shape);
                        idx[axis] = j;
                        x[ravel(&idx, &shape)] as i64
                    })
                    .collect();
                let m = *lane.iter().max().unwrap();
                let total: i64 = lane.iter().map(|&q| s.exp_table[(m - q) as usize] as i64).sum();
                let e = s.exp_table[(m - x[i] as i64) as usize] as i64;
                // 256·e/S rounded half up (all positive, so half away) via floor((512·e + S) / 2S)
                want[i] = ((512 * e + total) / (2 * total) - 128).clamp(-128, 127) as i8;
            }
            assert_eq!(softmax(&s, &shape, &x), want, "{shape:?} axis {axis} x={x:?}");
        }
    }
}
