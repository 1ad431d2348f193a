//! Reduce (spec §Reduce) over `axes`: with `r = Σ (q − zp_in)` (Sum),
//! `round_half_away(Σ (q − zp_in) / count)` (Mean), or `max/min (q − zp_in)` (Max/Min),
//! `out = clamp(requantize(r, M) + zp_out)`. Elements are visited in row-major order; the
//! output is row-major over the kept axes.

use solidml_spec::{
    Reduce, ReduceKind,
    arith::{clamp_i8, div_round_half_away, requantize},
};

use solidml_exec::Value;
use solidml_exec::index::reduce_groups as groups;

/// Reduce (spec §Reduce) of the int8 input `x` of `shape` over `r.axes`: one output code per
/// group, row-major over the kept axes.
pub fn reduce(r: &Reduce, shape: &[u32], x: &[i8]) -> Vec<i8> {
    let acc: Vec<Vec<i32>> = groups(&r.axes, shape).iter().map(|g| g.iter().map(|&i| x[i] as i32 - r.input_zero_point).collect()).collect();
    acc.iter()
        .map(|vals| {
            let v: i32 = match r.kind {
                ReduceKind::Sum => vals.iter().sum(),
                ReduceKind::Mean => div_round_half_away(vals.iter().map(|&v| v as i64).sum(), vals.len().max(1) as i64) as i32,
                ReduceKind::Max => vals.iter().copied().max().unwrap_or(0),
                ReduceKind::Min => vals.iter().copied().min().unwrap_or(0),
            };
            clamp_i8(requantize(v, r.multiplier).saturating_add(r.output_zero_point), -128, 127)
        })
        .collect()
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Reduce`] (`solidml_spec::for_each_op!`).
    pub fn reduce(n: &super::NodeArgs<'_>, op: &solidml_spec::Reduce) -> super::NodeResult {
        Ok(Value::I8(reduce(op, n.input_shape(0), n.args[0].as_i8())))
    }
}

#[cfg(test)]
mod tests {
    use solidml_spec::{
        Reduce, ReduceKind,
        arith::{Multiplier, requantize},
    };

    use super::reduce;
    use crate::ops::tests::{Rng, numel, unravel};

    fn op(kind: ReduceKind, axes: Vec<u32>, input_zero_point: i32, multiplier: f64, output_zero_point: i32) -> Reduce {
        Reduce { kind, axes, input_zero_point, multiplier: Multiplier::from_real(multiplier), output_zero_point }
    }

    #[test]
    fn mean_ties_round_half_away() {
        // [2, 2] over axis 1, M = 1.0 (exact): (1 + 2)/2 = 1.5 → 2; (−1 − 2)/2 = −1.5 → −2; then + 3.
        assert_eq!(reduce(&op(ReduceKind::Mean, vec![1], 0, 1.0, 3), &[2, 2], &[1, 2, -1, -2]), vec![5, 1]);
        // zp_in = 127: [127, 126] − 127 = [0, −1] → −0.5 → −1; [127, 127] → 0.
        assert_eq!(reduce(&op(ReduceKind::Mean, vec![1], 127, 1.0, 0), &[2, 2], &[127, 126, 127, 127]), vec![-1, 0]);
    }

    #[test]
    fn outer_and_inner_axes() {
        // x[i][j][k] = 6i + 2j + k over [2, 3, 2], reduce axes {0, 2}, zp_in = 1, M = 1, zp_out = −1.
        // Group j holds {2j, 2j + 1, 6 + 2j, 7 + 2j}; minus zp_in: {2j − 1, 2j, 2j + 5, 2j + 6}.
        //   Sum  = 8j + 10 → [10, 18, 26] → [9, 17, 25]
        //   Mean = 2j + 2.5 → [3, 5, 7] (ties away) → [2, 4, 6]
        //   Max  = 2j + 6 → [5, 7, 9];  Min = 2j − 1 → [−2, 0, 2]
        let x: Vec<i8> = (0..12).collect();
        let run = |kind| reduce(&op(kind, vec![2, 0], 1, 1.0, -1), &[2, 3, 2], &x);
        assert_eq!(run(ReduceKind::Sum), vec![9, 17, 25]);
        assert_eq!(run(ReduceKind::Mean), vec![2, 4, 6]);
        assert_eq!(run(ReduceKind::Max), vec![5, 7, 9]);
        assert_eq!(run(ReduceKind::Min), vec![-2, 0, 2]);
        // Sum with M = 0.25 and saturation: 26·0.25 = 6.5 → 7 (SRDHM 13, then 13/2 half away).
        assert_eq!(reduce(&op(ReduceKind::Sum, vec![0, 2], 1, 0.25, 125), &[2, 3, 2], &x), vec![127, 127, 127]);
        assert_eq!(reduce(&op(ReduceKind::Sum, vec![0, 2], 1, 0.25, 0), &[2, 3, 2], &x), vec![3, 5, 7]);
    }

    #[test]
    fn random_reductions_match_the_formula() {
        let mut rng = Rng::new(9);
        for case in 0..60 {
            let shape = rng.shape(1, 4, 5);
            let axes: Vec<u32> = (0..shape.len() as u32).filter(|_| rng.one_in(2)).collect();
            let kind = [ReduceKind::Sum, ReduceKind::Mean, ReduceKind::Max, ReduceKind::Min][case % 4];
            let r = Reduce {
                kind,
                axes: axes.clone(),
                input_zero_point: rng.zero_point(),
                multiplier: rng.multiplier(),
                output_zero_point: rng.zero_point(),
            };
            let x = rng.i8s(numel(&shape));
            let kept = |i: usize| -> Vec<usize> {
                unravel(i, &shape).into_iter().enumerate().filter(|(d, _)| !axes.contains(&(*d as u32))).map(|(_, k)| k).collect()
            };
            let kept_shape: Vec<u32> = (0..shape.len()).filter(|d| !axes.contains(&(*d as u32))).map(|d| shape[d]).collect();
            let want: Vec<i8> = (0..numel(&kept_shape))
                .map(|o| {
                    let v: Vec<i64> = (0..x.len())
                        .filter(|&i| kept(i) == unravel(o, &kept_shape))
                        .map(|i| x[i] as i64 - r.input_zero_point as i64)
                        .collect();
                    let n = v.len() as i64;
                    let s: i64 = v.iter().sum();
                    let red = match kind {
                        ReduceKind::Sum => s,
                        ReduceKind::Mean => (2 * s.abs() + n) / (2 * n) * s.signum(),
                        ReduceKind::Max => *v.iter().max().unwrap(),
                        ReduceKind::Min => *v.iter().min().unwrap(),
                    };
                    (requantize(red as i32, r.multiplier) as i64 + r.output_zero_point as i64).clamp(-128, 127) as i8
                })
                .collect();
            assert_eq!(reduce(&r, &shape, &x), want, "{r:?} {shape:?}");
        }
    }
}
