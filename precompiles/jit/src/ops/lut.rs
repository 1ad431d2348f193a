//! Lut (spec §Lut): `out[i] = tables[256 · c + (x[i] + 128)]`, `c` the index of element `i`
//! along `axis` (0 without an axis) — run as runs of `inner` elements sharing one table.

use solidml_exec::Value;
use solidml_spec::Lut;

use crate::gemm::Kernel;

/// A Lut node ready to run.
pub(crate) struct LutPlan {
    /// `256 × tables`, each table indexed by `code + 128`.
    tables: Vec<i8>,
    /// Number of tables (the axis length, 1 without an axis).
    dim: usize,
    /// Elements after the axis (one run shares a table).
    inner: usize,
}

impl LutPlan {
    pub(crate) fn new(l: &Lut, shape: &[u32]) -> LutPlan {
        let (dim, inner) = match l.axis {
            Some(a) => (shape[a as usize] as usize, shape[a as usize + 1..].iter().map(|&d| d as usize).product::<usize>()),
            None => (1, usize::MAX),
        };
        LutPlan { tables: l.tables.clone(), dim: dim.max(1), inner: inner.max(1) }
    }

    pub(crate) fn packed_bytes(&self) -> usize {
        self.tables.len()
    }

    pub(crate) fn run(&self, kernel: Kernel, x: &[i8]) -> Value {
        kernel.run(
            #[inline(always)]
            || self.run_on(x),
        )
    }

    #[inline(always)]
    fn run_on(&self, x: &[i8]) -> Value {
        let mut out = vec![0i8; x.len()];
        for (run, (src, dst)) in x.chunks(self.inner).zip(out.chunks_mut(self.inner)).enumerate() {
            let c = run % self.dim;
            let table: &[i8; 256] = self.tables[256 * c..256 * (c + 1)].try_into().expect("256 entries");
            for (d, &q) in dst.iter_mut().zip(src) {
                *d = table[(q as u8 ^ 0x80) as usize];
            }
        }
        Value::I8(out)
    }
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Lut`] (`solidml_spec::for_each_op!`).
    pub(crate) fn lut(cx: &super::NodeCx<'_>, l: &solidml_spec::Lut) -> super::CompileResult {
        cx.within(l.tables.len())?;
        Ok(super::Plan::Lut(LutPlan::new(l, cx.input_shape(0))))
    }
}
