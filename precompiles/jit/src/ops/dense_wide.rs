//! DenseWide (spec §Op: DenseWide): for each row `r` of `[…, K]` and output feature `n`,
//! `acc = bias[n] + Σ_k w[n, k] · (x[r, k] − zp_in)` exact in i64, then `v = acc` (no
//! multipliers) or `scale_wide(acc, M_n)`, and `y = clamp(v + zp_out, clamp_min, clamp_max)`.
//!
//! Prepared once: the zero point folded into an i64 bias (`bias[n] − zp_in · Σ_k w[n, k]`,
//! exact), and weights beyond the int8 range (16x16) split into bytes, `w = 256 · hi + lo`
//! with `hi ∈ [−128, 127]`, `lo ∈ [0, 255]`. Every product of a byte weight and an int16 code
//! is below `2^23` in magnitude, so runs of 255 of them sum exactly in i32 (lanes the compiler
//! vectorizes for the running `Kernel`), and the runs add in i64: the sum is the exact one
//! (`Σ w·x = 256 · Σ hi·x + Σ lo·x`). A row's codes are widened to i16 once. The epilogue is
//! the spec's (`DenseWide::output_code`).

use solidml_exec::Value;
use solidml_spec::{DType, DenseWide};

use crate::gemm::Kernel;

/// A DenseWide node ready to run.
pub(crate) struct DenseWidePlan {
    op: DenseWide,
    /// `bias[n] − zp_in · Σ_k w[n, k]`: the accumulator of raw codes starts here.
    folded_bias: Vec<i64>,
    /// The weights within the int8 range (16x8), or the low bytes `w & 255` of wider ones.
    low: Vec<i16>,
    /// The high bytes `w >> 8` of weights beyond the int8 range (`None`: all within it).
    high: Option<Vec<i16>>,
    out: DType,
}

/// Products of a byte weight and an int16 code summed in i32 before they join the i64 sum:
/// `255 · 255 · 32768 < 2^31`.
const RUN: usize = 255;

impl DenseWidePlan {
    pub(crate) fn new(d: &DenseWide, out: DType) -> DenseWidePlan {
        let k = d.in_features as usize;
        let folded_bias = d
            .bias
            .iter()
            .enumerate()
            .map(|(j, &b)| b - d.input_zero_point as i64 * d.weights[j * k..(j + 1) * k].iter().map(|&w| w as i64).sum::<i64>())
            .collect();
        let (low, high) = if d.weights.iter().all(|&w| (-128..=127).contains(&w)) {
            (d.weights.clone(), None)
        } else {
            (d.weights.iter().map(|&w| w & 255).collect(), Some(d.weights.iter().map(|&w| w >> 8).collect()))
        };
        DenseWidePlan { op: d.clone(), folded_bias, low, high, out }
    }

    pub(crate) fn packed_bytes(&self) -> usize {
        (self.op.weights.len() + self.low.len() + self.high.as_ref().map_or(0, Vec::len)) * 2 + self.folded_bias.len() * 8
    }

    pub(crate) fn run(&self, kernel: Kernel, x: &Value) -> Value {
        kernel.run(
            #[inline(always)]
            || self.run_on(x),
        )
    }

    /// [`DenseWidePlan::run`]'s body, compiled for the running kernel by [`Kernel::run`].
    #[inline(always)]
    fn run_on(&self, x: &Value) -> Value {
        let (k, n) = (self.op.in_features as usize, self.op.out_features as usize);
        let codes: Vec<i16> = match x {
            Value::I16(v) => v.clone(),
            other => other.as_i8().iter().map(|&c| c as i16).collect(),
        };
        let rows = codes.len().checked_div(k).unwrap_or(0);
        let mut y = Vec::with_capacity(rows * n);
        for row in codes.chunks_exact(k).take(rows) {
            for j in 0..n {
                let mut acc = self.folded_bias[j] + dot(&self.low[j * k..(j + 1) * k], row);
                if let Some(high) = &self.high {
                    acc += 256 * dot(&high[j * k..(j + 1) * k], row);
                }
                y.push(self.op.output_code(j, acc));
            }
        }
        Value::from_codes(self.out, y)
    }
}

/// `Σ w·x` exactly, for byte weights (`|w| ≤ 255`) and int16 codes: runs of [`RUN`] in i32.
#[inline(always)]
fn dot(w: &[i16], x: &[i16]) -> i64 {
    w.chunks(RUN).zip(x.chunks(RUN)).map(|(wr, xr)| wr.iter().zip(xr).map(|(&a, &b)| a as i32 * b as i32).sum::<i32>() as i64).sum()
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::DenseWide`] (`solidml_spec::for_each_op!`).
    pub(crate) fn dense_wide(cx: &super::NodeCx<'_>, d: &solidml_spec::DenseWide) -> super::CompileResult {
        cx.within(d.weights.len().saturating_mul(2).saturating_add(d.bias.len().saturating_mul(8)))?;
        Ok(super::Plan::DenseWide(DenseWidePlan::new(d, cx.model.tensor(cx.node.outputs[0]).dtype)))
    }
}

#[cfg(test)]
mod tests {
    use solidml_exec::Value;
    use solidml_spec::{DType, DenseWide, arith::Multiplier};

    use super::DenseWidePlan;
    use crate::gemm::Kernel;

    #[test]
    fn runs_of_products_stay_exact_at_the_extremes() {
        // 1,000 products of −32768 · −32767 (16x16): byte halves, runs of 255 in i32
        let k = 1000;
        let d = DenseWide {
            in_features: k as u32,
            out_features: 1,
            input_zero_point: 0,
            weights: vec![-32767; k],
            bias: vec![-7],
            multipliers: vec![],
            output_zero_point: 0,
            clamp_min: i32::MIN,
            clamp_max: i32::MAX,
        };
        let plan = DenseWidePlan::new(&d, DType::I32);
        assert!(plan.high.is_some());
        let acc = -7 + k as i64 * 32768 * 32767;
        assert_eq!(plan.run_on(&Value::I16(vec![-32768; k])), Value::I32(vec![acc.min(i32::MAX as i64) as i32]));
        // 16x8 weights and a zero point: one byte per weight, folded bias, M = 2^-30
        let d = DenseWide {
            weights: vec![127; k],
            input_zero_point: -32768,
            multipliers: vec![Multiplier { multiplier: 1 << 30, shift: -29 }],
            clamp_min: -32768,
            clamp_max: 32767,
            ..d
        };
        let plan = DenseWidePlan::new(&d, DType::I16);
        assert!(plan.high.is_none());
        // x − zp = 65535 everywhere: acc = −7 + 1000 · 127 · 65535 = 8,322,944,993 → / 2^30 = 7.75 → 8
        assert_eq!(plan.run(Kernel::detect(), &Value::I16(vec![32767; k])), Value::I16(vec![8]));
    }
}
