//! Dense (spec §Dense): for each row `r` of `[…, K]` and output feature `n`,
//! `acc = bias[n] + Σ_k w[n, k] · (x[r, k] − zp_in)`, then the epilogue.

use solidml_spec::Dense;

use super::apply_epilogue;
use solidml_exec::Value;

/// Dense (spec §Dense) of the int8 input `x`, read as rows of `d.in_features` codes: one row
/// of `d.out_features` codes per input row.
pub fn dense(d: &Dense, x: &[i8]) -> Vec<i8> {
    let (k, n) = (d.in_features as usize, d.out_features as usize);
    let rows = x.len().checked_div(k).unwrap_or(0);
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

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Dense`] (`solidml_spec::for_each_op!`).
    pub fn dense(n: &super::NodeArgs<'_>, op: &solidml_spec::Dense) -> super::NodeResult {
        Ok(Value::I8(dense(op, n.args[0].as_i8())))
    }
}

#[cfg(test)]
mod tests {
    use solidml_spec::{
        DType, Dense, Epilogue, Model, Node, Op, Quant, TensorInfo,
        arith::{Multiplier, requantize},
    };

    use super::dense;
    use crate::{CpuExecutor, ops::tests::Rng};

    #[test]
    fn two_rows_per_channel_multipliers() {
        // zp_in = 2, W = [[1, 2, 3], [−4, 5, 127]], bias = [10, −20], M = [1.0, 0.25], zp_out = −100.
        // row 0: x − zp = [0, 3, −3]:     acc = [10 + 6 − 9, −20 + 15 − 381] = [7, −386]
        //   → [7, −96.5 → −97] (1.0 is exact; 0.25: SRDHM −193, then −193/2 half away → −97)
        //   + zp_out = [−93, −197 → clamp −128]
        // row 1: x − zp = [−130, 125, −2]: acc = [10 − 130 + 250 − 6, −20 + 520 + 625 − 254] = [124, 871]
        //   → [124, 217.75 → 218] + zp_out = [24, 118]
        let d = Dense {
            in_features: 3,
            out_features: 2,
            input_zero_point: 2,
            weights: vec![1, 2, 3, -4, 5, 127],
            bias: vec![10, -20],
            epilogue: Epilogue {
                multipliers: vec![Multiplier::from_real(1.0), Multiplier::from_real(0.25)],
                output_zero_point: -100,
                clamp_min: -128,
                clamp_max: 127,
            },
        };
        assert_eq!(dense(&d, &[2, 5, -1, -128, 127, 0]), vec![-93, -128, 24, 118]);
    }

    #[test]
    fn random_dense_layers_match_the_formula() {
        let mut rng = Rng::new(2);
        for _ in 0..50 {
            let (rows, k, n) = (rng.range(1, 4) as usize, rng.range(1, 40) as usize, rng.range(1, 6) as usize);
            let nmul = if rng.one_in(2) { 1 } else { n };
            let (clamp_min, clamp_max) = rng.clamp();
            let d = Dense {
                in_features: k as u32,
                out_features: n as u32,
                input_zero_point: rng.zero_point(),
                weights: rng.i8s(n * k),
                bias: (0..n).map(|_| rng.range(-100_000, 100_000) as i32).collect(),
                epilogue: Epilogue {
                    multipliers: (0..nmul).map(|_| rng.multiplier()).collect(),
                    output_zero_point: rng.zero_point(),
                    clamp_min,
                    clamp_max,
                },
            };
            let x = rng.i8s(rows * k);
            let mut want = vec![];
            for r in 0..rows {
                for j in 0..n {
                    let mut acc = d.bias[j] as i64;
                    for i in 0..k {
                        acc += d.weights[j * k + i] as i64 * (x[r * k + i] as i64 - d.input_zero_point as i64);
                    }
                    let m = d.epilogue.multipliers[if nmul == 1 { 0 } else { j }];
                    let q = requantize(acc as i32, m) as i64 + d.epilogue.output_zero_point as i64;
                    want.push(q.clamp(clamp_min as i64, clamp_max as i64) as i8);
                }
            }
            assert_eq!(dense(&d, &x), want, "{d:?} x={x:?}");
        }
    }

    #[test]
    fn zero_in_features_is_rejected() {
        // [2, 0] → [2, 3] would leave the row count undefined (R = len(x)/K): the spec
        // requires K ≥ 1 and validation rejects the model before any executor sees it.
        let t = |name: &str, shape: Vec<u32>| TensorInfo {
            name: name.into(),
            shape,
            dtype: DType::I8,
            quant: Some(Quant { scale: 1.0, zero_point: 0 }),
        };
        let d = Dense {
            in_features: 0,
            out_features: 3,
            input_zero_point: 0,
            weights: vec![],
            bias: vec![1, 2, 3],
            epilogue: Epilogue { multipliers: vec![Multiplier::from_real(1.0)], output_zero_point: 0, clamp_min: -128, clamp_max: 127 },
        };
        let model = Model {
            name: "dense0".into(),
            tensors: vec![t("x", vec![2, 0]), t("y", vec![2, 3])],
            constants: vec![],
            inputs: vec![0],
            outputs: vec![1],
            nodes: vec![Node { name: "d".into(), op: Op::Dense(d), inputs: vec![0], outputs: vec![1] }],
            input_quant: vec![],
        };
        let err = CpuExecutor::new(&model).err().expect("rejected");
        assert!(err.to_string().contains("in_features must be at least 1"), "{err}");
    }
}
