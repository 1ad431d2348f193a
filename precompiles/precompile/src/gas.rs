//! The gas schedule: what a call costs, known before any work is done.
//!
//! ```text
//! gas = base + per_byte · (input bytes + output bytes) + work_gas
//! work_gas = ⌈(Σ_class units[class] · cost[class] + elements · element_cost + weights · weight_cost) / 1024⌉
//!            + nodes · node_cost
//! ```
//!
//! The [`Work`] of a model is fixed and computed when the model is loaded ([`Work::of`], in the
//! spec crate with the operators, `solidml_spec::work`: each op's class and units are consensus):
//! * `units`: per node, the MACs of the matrix ops (Conv, ConvTranspose, Dense, MatMul, and
//!   Mul), or for every other node the elements it reads and writes (times the window size for
//!   pools; a TopK's read elements times the bit length of its lane), summed per
//!   [`WorkClass`] (by the node's op);
//! * `elements`: per node, the elements it reads and writes: the activations every executor
//!   streams (and requantizes, for the matrix ops' outputs) whatever the arithmetic;
//! * `weights`: the constant weights of the Conv, ConvTranspose and Dense nodes, read once per
//!   call (what bounds a matrix–vector product);
//! * `nodes`: the number of nodes (each has a fixed cost: a dispatch, an allocation).
//!
//! Every executor's time is at most proportional to these, so charging them before running
//! bounds the work by the gas limit.
//!
//! Calls that fail early are charged less (all before any model work):
//! * input shorter than 32 bytes, or over [`crate::abi::MAX_INPUT_BYTES`]: `base`;
//! * unknown model, or wrong input length: `base + per_byte · input bytes`;
//! * a gas limit below the price: out of gas (a halt: the whole limit is consumed, as for every
//!   precompile);
//! * an error during execution (an index out of range in a Gather): the full price.
//!
//! Two schedules are defined (docs/precompile.md records their calibration):
//! * [`GasSchedule::default`] (version 2) follows the fast CPU executor (the JIT): the classes
//!   it specializes — [`WorkClass::Gemm`], [`WorkClass::Window`], [`WorkClass::Stream`] — are
//!   priced at the JIT's measured speed on the slowest shapes of each class, and the ops it
//!   leaves to the reference kernels ([`WorkClass::Reference`]) at the reference's price;
//! * [`GasSchedule::reference`] (version 1) prices every class at the CPU reference executor's
//!   speed, 8 units per gas: for networks whose nodes do not all run the JIT.
//!
//! Either way the rule is the same: each class's rate keeps the gas per second of CPU time at
//! or above the ~60 Mgas/s at which clients execute ordinary EVM code, so the precompile is
//! never a cheaper way to burn a node's time. `solidml bench --gas` measures it per class.

pub use solidml_spec::work::{Work, WorkClass, work_units};

/// Largest work (units) one call may carry; larger models are refused before running.
pub const MAX_WORK: u64 = 1 << 40;

/// Units per cost step: a class's cost is in gas per this many units.
pub const COST_UNITS: u64 = 1024;

/// The schedule's constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GasSchedule {
    /// Charged on every call.
    pub base: u64,
    /// Per byte of input and of output.
    pub per_byte: u64,
    /// Gas per [`COST_UNITS`] units of each class, in [`WorkClass::ALL`] order.
    pub cost: [u64; 4],
    /// Gas per [`COST_UNITS`] elements streamed.
    pub element_cost: u64,
    /// Gas per [`COST_UNITS`] weights.
    pub weight_cost: u64,
    /// Gas per node.
    pub node_cost: u64,
}

impl Default for GasSchedule {
    /// Version 2, following the JIT (see the module docs).
    fn default() -> Self {
        GasSchedule {
            base: 2_000,
            per_byte: 6,
            cost: [GEMM_COST, WINDOW_COST, STREAM_COST, REFERENCE_COST_V2],
            element_cost: ELEMENT_COST,
            weight_cost: WEIGHT_COST,
            node_cost: NODE_COST,
        }
    }
}

/// Version 2's price of [`WorkClass::Gemm`]: gas per 1,024 MACs.
const GEMM_COST: u64 = 5;
/// Version 2's price of [`WorkClass::Window`]: gas per 1,024 taps.
const WINDOW_COST: u64 = 16;
/// Version 2's price of [`WorkClass::Stream`]: gas per 1,024 elements.
const STREAM_COST: u64 = 24;
/// Version 2's price of [`WorkClass::Reference`].
const REFERENCE_COST_V2: u64 = 384;
/// Version 2's price of streamed elements, per 1,024.
const ELEMENT_COST: u64 = 96;
/// Version 2's price of weights, per 1,024.
const WEIGHT_COST: u64 = 16;
/// Version 2's price of a node.
const NODE_COST: u64 = 16;
/// Version 1's price of every class: 8 units per gas (its `work_per_gas`).
const REFERENCE_COST: u64 = COST_UNITS / 8;

impl GasSchedule {
    /// Version 1: every class at the CPU reference executor's price, 8 units per gas, and
    /// nothing for elements, weights or nodes.
    pub fn reference() -> GasSchedule {
        GasSchedule { cost: [REFERENCE_COST; 4], element_cost: 0, weight_cost: 0, node_cost: 0, ..GasSchedule::default() }
    }

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
    /// This schedule with `class` priced at `cost` gas per [`COST_UNITS`] units.
    pub fn with_cost(mut self, class: WorkClass, cost: u64) -> Self {
        self.cost[class.index()] = cost;
        self
    }
    /// This schedule with streamed elements priced at `cost` gas per [`COST_UNITS`].
    pub fn with_element_cost(mut self, cost: u64) -> Self {
        self.element_cost = cost;
        self
    }
    /// This schedule with weights priced at `cost` gas per [`COST_UNITS`].
    pub fn with_weight_cost(mut self, cost: u64) -> Self {
        self.weight_cost = cost;
        self
    }
    /// This schedule with each node priced at `cost` gas.
    pub fn with_node_cost(mut self, cost: u64) -> Self {
        self.node_cost = cost;
        self
    }

    /// The price of `class`, in gas per [`COST_UNITS`] units.
    pub fn cost(&self, class: WorkClass) -> u64 {
        self.cost[class.index()]
    }

    /// Gas of a call that fails before pricing a model (see the module docs).
    pub fn early_failure(&self, input_bytes: usize) -> u64 {
        self.base.saturating_add(self.per_byte.saturating_mul(input_bytes as u64))
    }

    /// The gas of `work` (see the module docs), saturating.
    pub fn work_gas(&self, work: &Work) -> u64 {
        // exact in u128: six products, each below 2^128 / 8
        let weighted: u128 = WorkClass::ALL.iter().map(|&c| work.units(c) as u128 * self.cost(c) as u128).sum::<u128>()
            + work.elements as u128 * self.element_cost as u128
            + work.weights as u128 * self.weight_cost as u128;
        let fixed = work.nodes as u128 * self.node_cost as u128;
        u64::try_from(weighted.div_ceil(COST_UNITS as u128) + fixed).unwrap_or(u64::MAX)
    }

    /// Gas of one inference.
    pub fn price(&self, work: &Work, input_bytes: usize, output_bytes: usize) -> u64 {
        let bytes = (input_bytes as u64).saturating_add(output_bytes as u64);
        self.base.saturating_add(self.per_byte.saturating_mul(bytes)).saturating_add(self.work_gas(work))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::tiny_model;
    use solidml_spec::{Model, Op};

    #[test]
    fn work_of_a_dense_model_is_its_macs() {
        let w = Work::of(&tiny_model());
        assert_eq!((w.total(), w.units(WorkClass::Gemm)), (8, 8));
        // 4 read, 2 written, 8 weights; one node
        assert_eq!((w.elements, w.weights, w.nodes), (6, 8, 1));
        assert_eq!(work_units(&tiny_model()), 8);
    }

    #[test]
    fn price_follows_the_formula() {
        let s = GasSchedule::reference();
        let gemm = |units| {
            let mut w = Work::default();
            w.add(WorkClass::Gemm, units);
            w
        };
        assert_eq!(s.price(&gemm(8), 4, 2), 2_000 + 6 * 6 + 1);
        assert_eq!(s.price(&gemm(32), 0, 0), 2_000 + 4);
        assert_eq!(s.price(&gemm(33), 0, 0), 2_000 + 5);
        assert_eq!(s.early_failure(10), 2_060);
        assert_eq!(s.price(&gemm(u64::MAX), usize::MAX, usize::MAX), u64::MAX);
        let v2 = GasSchedule::default().with_element_cost(0).with_weight_cost(0).with_node_cost(0);
        assert_eq!(v2.price(&gemm(1024), 0, 0), 2_000 + GEMM_COST);
        assert_eq!(v2.price(&gemm(1025), 0, 0), 2_000 + GEMM_COST + 1);
        let mut w = gemm(1024);
        (w.elements, w.weights, w.nodes) = (2048, 1024, 3);
        assert_eq!(GasSchedule::default().work_gas(&w), GEMM_COST + 2 * ELEMENT_COST + WEIGHT_COST + 3 * NODE_COST);
    }

    #[test]
    fn top_k_pays_bits_of_the_lane_per_element_read() {
        use solidml_spec::{DType, Node, Quant, TensorInfo, TopKOutput};
        // x [3, 1000] → k = 5 along axis 1: 3,000 read, 15 written, bits(1000) = 10
        let t = |name: &str, shape: &[u32], dtype: DType| TensorInfo {
            name: name.into(),
            shape: shape.to_vec(),
            dtype,
            quant: (dtype == DType::I8).then_some(Quant { scale: 0.1, zero_point: 0 }),
        };
        let op = Op::TopK { axis: 1, k: 5, largest: true, output: TopKOutput::Indices };
        let model = Model {
            tensors: vec![t("x", &[3, 1000], DType::I8), t("y", &[3, 5], DType::I64)],
            inputs: vec![0],
            outputs: vec![1],
            nodes: vec![Node { name: "top".into(), op, inputs: vec![0], outputs: vec![1] }],
            ..Model::empty("top_k")
        };
        solidml_spec::validate::validate(&model).unwrap();
        let w = Work::of(&model);
        assert_eq!((w.units(WorkClass::Reference), w.elements, w.nodes), (3_000 * 10 + 15, 3_015, 1));
        // a lane of 1024 has 11 bits; k = 0 writes nothing
        let mut m = model.clone();
        m.tensors[0].shape = vec![1, 1024];
        m.tensors[1].shape = vec![1, 1024];
        m.nodes[0].op = Op::TopK { axis: 1, k: 1024, largest: false, output: TopKOutput::Indices };
        assert_eq!(work_units(&m), 1024 * 11 + 1024);
        m.tensors[1].shape = vec![1, 0];
        m.nodes[0].op = Op::TopK { axis: 1, k: 0, largest: false, output: TopKOutput::Indices };
        assert_eq!(work_units(&m), 1024 * 11);
    }

    #[test]
    fn classes_are_summed_before_the_one_rounding() {
        let s = GasSchedule::default()
            .with_cost(WorkClass::Window, 3)
            .with_cost(WorkClass::Stream, 1)
            .with_cost(WorkClass::Reference, 128)
            .with_node_cost(0);
        let mut w = Work::default();
        w.add(WorkClass::Window, 100);
        w.add(WorkClass::Stream, 100);
        w.add(WorkClass::Reference, 1);
        assert_eq!(s.work_gas(&w), (300 + 100 + 128u64).div_ceil(1024));
        assert_eq!(GasSchedule::reference().work_gas(&w), 201u64.div_ceil(8));
    }
}
