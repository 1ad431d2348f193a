//! DenseWide (spec §Op: DenseWide): for each row `r` of `[…, K]` (int8 or int16 codes) and
//! output feature `n`, `acc = bias[n] + Σ_k w[n, k] · (x[r, k] − zp_in)` exact in i64, then
//! `v = acc` (no multipliers) or `scale_wide(acc, M_n)`, and
//! `y = clamp(v + zp_out, clamp_min, clamp_max)` exact (`DenseWide::output_code`), as codes of
//! the output type.

use solidml_exec::Value;
use solidml_spec::{DType, DenseWide};

/// DenseWide of the input `x` (an I8 or I16 value, read as rows of `d.in_features` codes):
/// one row of `d.out_features` codes of type `out` per input row.
pub fn dense_wide(d: &DenseWide, x: &Value, out: DType) -> Value {
    let (k, n) = (d.in_features as usize, d.out_features as usize);
    let rows = x.len().checked_div(k).unwrap_or(0);
    let codes: Vec<i64> = match x {
        Value::I16(v) => v.iter().map(|&c| c as i64).collect(),
        other => other.as_i8().iter().map(|&c| c as i64).collect(),
    };
    let mut y = Vec::with_capacity(rows * n);
    for row in codes.chunks_exact(k).take(rows) {
        for j in 0..n {
            let w = &d.weights[j * k..(j + 1) * k];
            let acc = d.bias[j] + w.iter().zip(row).map(|(&wi, &xi)| wi as i64 * (xi - d.input_zero_point as i64)).sum::<i64>();
            y.push(d.output_code(j, acc));
        }
    }
    Value::from_codes(out, y)
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::DenseWide`] (`solidml_spec::for_each_op!`).
    pub fn dense_wide(n: &super::NodeArgs<'_>, op: &solidml_spec::DenseWide) -> super::NodeResult {
        Ok(dense_wide(op, n.args[0], n.model.tensor(n.node.outputs[0]).dtype))
    }
}

#[cfg(test)]
mod tests {
    use solidml_exec::Value;
    use solidml_spec::{DType, DenseWide, arith::Multiplier};

    use super::dense_wide;

    fn layer(multipliers: Vec<Multiplier>, clamp: (i32, i32)) -> DenseWide {
        DenseWide {
            in_features: 3,
            out_features: 2,
            input_zero_point: 0,
            weights: vec![1, -2, 3, 32767, 127, -32767],
            bias: vec![5, -1_000_000_000_000],
            multipliers,
            output_zero_point: 0,
            clamp_min: clamp.0,
            clamp_max: clamp.1,
        }
    }

    #[test]
    fn accumulates_exactly_in_i64() {
        // row [30000, −30000, 32767]: acc0 = 5 + 30000 + 60000 + 98301 = 188306
        // acc1 = −10^12 + 32767·30000 − 127·30000 − 32767·32767 = −10^12 + 979_200_000 − 1_073_676_289
        let x = Value::I16(vec![30000, -30000, 32767]);
        let acc1 = -1_000_000_000_000i64 + 32767 * 30000 - 127 * 30000 - 32767 * 32767;
        let d = layer(vec![], (i32::MIN, i32::MAX));
        // no multipliers: the accumulator, clamped to the i32 range
        assert_eq!(dense_wide(&d, &x, DType::I32), Value::I32(vec![188306, i32::MIN]));
        // M = 2^-20 per feature: rounded halves away from zero, then the int16 clamp
        let m = Multiplier { multiplier: 1 << 30, shift: -19 };
        let d = layer(vec![m], (-32768, 32767));
        let want1 = -(((-acc1) as i128 + (1 << 19)) >> 20);
        assert_eq!(dense_wide(&d, &x, DType::I16), Value::I16(vec![0, want1.clamp(-32768, 32767) as i16]));
        // int8 input, a fused ReLU as the clamp
        let d = layer(vec![Multiplier { multiplier: 1 << 30, shift: 1 }], (0, 127));
        assert_eq!(dense_wide(&d, &Value::I8(vec![1, 2, 3]), DType::I8), Value::I8(vec![11, 0]));
    }
}
