//! CumSum (spec §CumSum): per lane along `axis`, the running sum `r_j = Σ_{i ∈ prefix(j)}
//! (q_i − zp_in)` — `prefix(j)` is `i ≤ j`, or `i < j` when `exclusive`, mirrored when `reverse`
//! — then `out_j = clamp(requantize(r_j, M) + zp_out)`.

use solidml_exec::Value;
use solidml_exec::index::for_each_lane;
use solidml_spec::{
    CumSum,
    arith::{clamp_i8, requantize},
};

/// The CumSum of `x` (shape `shape`), same shape.
pub fn cum_sum(c: &CumSum, shape: &[u32], x: &[i8]) -> Vec<i8> {
    let mut out = vec![0i8; x.len()];
    for_each_lane(shape, c.axis as usize, |lane| {
        let mut sum = 0i32;
        for k in 0..lane.len() {
            let p = if c.reverse { lane[lane.len() - 1 - k] } else { lane[k] };
            let v = x[p] as i32 - c.input_zero_point;
            if !c.exclusive {
                sum += v;
            }
            out[p] = clamp_i8(requantize(sum, c.multiplier).saturating_add(c.output_zero_point), -128, 127);
            if c.exclusive {
                sum += v;
            }
        }
    });
    out
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::CumSum`] (`solidml_spec::for_each_op!`).
    pub fn cum_sum(n: &super::NodeArgs<'_>, op: &solidml_spec::CumSum) -> super::NodeResult {
        Ok(Value::I8(cum_sum(op, n.input_shape(0), n.args[0].as_i8())))
    }
}

#[cfg(test)]
mod tests {
    use solidml_spec::{CumSum, arith::Multiplier};

    use super::cum_sum;
    use crate::ops::tests::{Rng, numel, ravel, unravel};

    fn op(axis: u32, exclusive: bool, reverse: bool, multiplier: f64) -> CumSum {
        CumSum { axis, exclusive, reverse, input_zero_point: 2, multiplier: Multiplier::from_real(multiplier), output_zero_point: -3 }
    }

    #[test]
    fn the_four_forms_on_one_row() {
        // q − zp_in = [1, 2, 3, 4], M = 1 (exact), + zp_out −3
        let x = [3, 4, 5, 6];
        assert_eq!(cum_sum(&op(0, false, false, 1.0), &[4], &x), vec![-2, 0, 3, 7]);
        assert_eq!(cum_sum(&op(0, true, false, 1.0), &[4], &x), vec![-3, -2, 0, 3]);
        assert_eq!(cum_sum(&op(0, false, true, 1.0), &[4], &x), vec![7, 6, 4, 1]);
        assert_eq!(cum_sum(&op(0, true, true, 1.0), &[4], &x), vec![6, 4, 1, -3]);
    }

    #[test]
    fn saturates_at_the_int8_bounds() {
        let x = [127; 4];
        assert_eq!(cum_sum(&op(0, false, false, 1.0), &[4], &x), vec![122, 127, 127, 127]);
        let x = [-128; 3];
        assert_eq!(cum_sum(&op(0, false, false, 1.0), &[3], &x), vec![-128, -128, -128]);
    }

    #[test]
    fn random_tensors_match_the_formula() {
        let mut rng = Rng::new(11);
        for _ in 0..100 {
            let shape = rng.shape(1, 4, 5);
            let axis = rng.below(shape.len()) as u32;
            let c = op(axis, rng.below(2) == 1, rng.below(2) == 1, 0.01 + rng.below(100) as f64 / 50.0);
            let x = rng.i8s(numel(&shape));
            let got = cum_sum(&c, &shape, &x);
            for (o, &g) in got.iter().enumerate() {
                let idx = unravel(o, &shape);
                let a = axis as usize;
                let j = idx[a] as i64;
                let sum: i32 = (0..shape[a] as i64)
                    .filter(|&i| match (c.exclusive, c.reverse) {
                        (false, false) => i <= j,
                        (true, false) => i < j,
                        (false, true) => i >= j,
                        (true, true) => i > j,
                    })
                    .map(|i| {
                        let mut k = idx.clone();
                        k[a] = i as usize;
                        x[ravel(&k, &shape)] as i32 - c.input_zero_point
                    })
                    .sum();
                let want = (solidml_spec::arith::requantize(sum, c.multiplier) + c.output_zero_point).clamp(-128, 127) as i8;
                assert_eq!(g, want, "{c:?} {shape:?} at {idx:?}");
            }
        }
    }
}
