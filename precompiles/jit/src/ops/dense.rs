//! Dense (spec §Dense) as a GEMM: the input rows are the broadcast side, the weights — packed
//! once, at prepare — the lane side (`B[k][n] = w[n, k]`), the zero point folded into the bias.

use solidml_exec::{ExecError, Value};
use solidml_spec::Dense;

use crate::{
    epilogue::{Lanes16, Requant, VectorConstants},
    gemm::{Broadcast, Kernel, Lanes, MR, NR, Tile},
};

/// A Dense node ready to run.
pub(crate) struct DensePlan {
    k: usize,
    n: usize,
    weights: Lanes,
    requant: Requant,
    vector: Option<VectorConstants>,
}

impl DensePlan {
    pub(crate) fn new(d: &Dense) -> DensePlan {
        let (k, n) = (d.in_features as usize, d.out_features as usize);
        let requant = Requant::new(&d.epilogue, &d.weights, &d.bias, d.input_zero_point);
        DensePlan { k, n, weights: Lanes::pack(k, n, |kk, j| d.weights[j * k + kk] as i16), vector: requant.vector_constants(), requant }
    }

    pub(crate) fn packed_bytes(&self) -> usize {
        self.weights.data.len() * 2
    }

    pub(crate) fn run(&self, kernel: Kernel, x: &[i8]) -> Result<Value, ExecError> {
        kernel.run(
            #[inline(always)]
            || self.run_on(kernel, x),
        )
    }

    /// [`DensePlan::run`]'s body, compiled for `kernel` by [`Kernel::run`].
    #[inline(always)]
    fn run_on(&self, kernel: Kernel, x: &[i8]) -> Result<Value, ExecError> {
        let rows = x.len().checked_div(self.k).unwrap_or(0);
        let a = Broadcast::pack_rows_i8(x, rows, self.k);
        let mut out = vec![0i8; rows * self.n];
        let mut t: Tile = [[0; NR]; MR];
        for jb in 0..self.weights.blocks() {
            let b = self.weights.block(jb);
            let cols = (self.n - jb * NR).min(NR);
            for ib in 0..a.blocks() {
                kernel.tile(a.block(ib), b, &mut t);
                for (r, row) in t.iter().enumerate().take((rows - ib * MR).min(MR)) {
                    let i = ib * MR + r;
                    let dst = &mut out[i * self.n + jb * NR..][..cols];
                    self.requant.apply16(self.vector.as_ref(), kernel, Lanes16::From(jb * NR), row, dst);
                }
            }
        }
        Ok(Value::I8(out))
    }
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Dense`] (`solidml_spec::for_each_op!`).
    pub(crate) fn dense(cx: &super::NodeCx<'_>, d: &solidml_spec::Dense) -> super::CompileResult {
        cx.within(
            super::gemm_bytes(d.in_features as usize, d.out_features as usize)
                .saturating_add(super::requant_bytes(d.out_features as usize)),
        )?;
        Ok(super::Plan::Dense(DensePlan::new(d)))
    }
}
