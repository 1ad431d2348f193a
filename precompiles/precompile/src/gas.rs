//! The gas schedule: what a call costs, known before any work is done.
//!
//! ```text
//! gas = base + per_byte · (input bytes + output bytes) + ⌈work / work_per_gas⌉
//! ```
//!
//! `work` ([`work_units`]) is fixed per model and computed when the model is loaded: the MACs
//! of the matrix ops (Conv, ConvTranspose, Dense, MatMul, and Mul) plus, for every other node,
//! the elements it reads and writes (times the window size for pools). Every executor does
//! work proportional to it, so charging it before running bounds the work by the gas limit.
//!
//! Calls that fail early are charged less (all before any model work):
//! * input shorter than 32 bytes, or over [`crate::abi::MAX_INPUT_BYTES`]: `base`;
//! * unknown model, or wrong input length: `base + per_byte · input bytes`;
//! * a gas limit below the price: out of gas (a halt: the whole limit is consumed, as for every
//!   precompile);
//! * an error during execution (an index out of range in a Gather): the full price.
//!
//! The default constants are calibrated against the CPU reference executor (the slowest
//! executor, the fallback every node has): `solidml bench` prints the gas per second each
//! example model is charged at that executor's measured speed; docs/precompile.md records the
//! figures. The schedule keeps that rate at or above the ~60 Mgas/s at which clients execute
//! ordinary EVM code, so the precompile is never a cheaper way to burn a node's time: measured
//! at 16 work units per gas, the SqueezeNet-class CNN came out at 35 Mgas/s (under-priced), so
//! the default is 8 (about 70 Mgas/s for it, more for the smaller models).

use solidml_spec::{Model, Op};

/// Largest work (units) one call may carry; larger models are refused before running.
pub const MAX_WORK: u64 = 1 << 40;

/// The schedule's constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GasSchedule {
    /// Charged on every call.
    pub base: u64,
    /// Per byte of input and of output.
    pub per_byte: u64,
    /// Work units bought by one gas.
    pub work_per_gas: u64,
}

impl Default for GasSchedule {
    fn default() -> Self {
        GasSchedule { base: 2_000, per_byte: 6, work_per_gas: 8 }
    }
}

impl GasSchedule {
    /// This schedule with [`GasSchedule::base`] set to `base`.
    pub fn with_base(mut self, base: u64) -> Self {
        self.base = base;
        self
    }
    /// This schedule with [`GasSchedule::per_byte`] set to `per_byte`.
    pub fn with_per_byte(mut self, per_byte: u64) -> Self {
        self.per_byte = per_byte;
        self
    }
    /// This schedule with [`GasSchedule::work_per_gas`] set to `work_per_gas` (at least 1).
    pub fn with_work_per_gas(mut self, work_per_gas: u64) -> Self {
        self.work_per_gas = work_per_gas.max(1);
        self
    }

    /// Gas of a call that fails before pricing a model (see the module docs).
    pub fn early_failure(&self, input_bytes: usize) -> u64 {
        self.base.saturating_add(self.per_byte.saturating_mul(input_bytes as u64))
    }

    /// Gas of one inference.
    pub fn price(&self, work: u64, input_bytes: usize, output_bytes: usize) -> u64 {
        let bytes = (input_bytes as u64).saturating_add(output_bytes as u64);
        self.base.saturating_add(self.per_byte.saturating_mul(bytes)).saturating_add(work.div_ceil(self.work_per_gas.max(1)))
    }
}

/// Work units of one inference of `model` (see the module docs).
pub fn work_units(model: &Model) -> u64 {
    let macs = model.macs_per_node();
    model
        .nodes
        .iter()
        .zip(macs)
        .map(|(n, macs)| {
            if macs > 0 {
                return macs;
            }
            let read: u64 = n.inputs.iter().map(|&i| model.tensor(i).len() as u64).sum();
            let written: u64 = n.outputs.iter().map(|&o| model.tensor(o).len() as u64).sum();
            match &n.op {
                Op::MaxPool(p) | Op::AvgPool(p) => {
                    written.saturating_mul(p.kernel.iter().map(|&k| k as u64).product::<u64>()).saturating_add(read)
                }
                // one pass over what the node reads and writes (MAC operators reach here only
                // with no MACs: empty tensors); a new operator decides its work here
                Op::Conv(_)
                | Op::Dense(_)
                | Op::ConvTranspose(_)
                | Op::MatMul(_)
                | Op::Binary(_)
                | Op::Extremum(_)
                | Op::BinaryLut { .. }
                | Op::IntBinary { .. }
                | Op::Lut(_)
                | Op::View(_)
                | Op::Pad(_)
                | Op::Concat { .. }
                | Op::Reduce(_)
                | Op::Softmax(_)
                | Op::LogSoftmax(_)
                | Op::ArgMax { .. }
                | Op::Take { .. }
                | Op::Gather { .. }
                | Op::GatherDynamic { .. }
                | Op::InstanceNorm(_)
                | Op::Lrn(_)
                | Op::Normalize(_)
                | Op::CumSum(_) => read.saturating_add(written),
            }
        })
        .fold(0u64, u64::saturating_add)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::tiny_model;

    #[test]
    fn work_of_a_dense_model_is_its_macs() {
        assert_eq!(work_units(&tiny_model()), 8);
    }

    #[test]
    fn price_follows_the_formula() {
        let s = GasSchedule::default();
        assert_eq!(s.price(8, 4, 2), 2_000 + 6 * 6 + 1);
        assert_eq!(s.price(32, 0, 0), 2_000 + 4);
        assert_eq!(s.price(33, 0, 0), 2_000 + 5);
        assert_eq!(s.early_failure(10), 2_060);
        assert_eq!(s.price(u64::MAX, usize::MAX, usize::MAX), u64::MAX);
    }
}
