//! # solidml-trace
//!
//! What the dispute game agrees on (docs/verification.md): the **steps** of an inference
//! ([`plan`]: one per node, or per chunk of a node's output when one EVM call could not
//! re-execute the node), their keccak256 **Merkle commitment** ([`merkle`]), one traced run
//! ([`trace`]) and each step's **sub-model** ([`submodel`]), which the Solidity backend compiles
//! into the step contract that re-executes it. The steps and sub-models are `solidml-steps`
//! (re-exported here); this crate adds the run (on the CPU reference) and the commitment.
//!
//! Contract: for every validated model, input and step `k ≥ 1`, running the sub-model of `k` on
//! the arguments [`trace::Trace::args`] assembles from the earlier leaves gives exactly step
//! `k`'s bytes (tested on the example models and randomized ones).

pub mod merkle;
pub mod trace;

// the steps and their sub-models follow from the model alone (no executor): their own crate,
// which the Solidity backend uses without this one
pub use solidml_steps::{Limits, Plan, plan, sub_model, submodel};
pub use trace::Trace;

/// Everything that can go wrong tracing.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The model cannot be cut into steps.
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
    /// The inference failed (a run-time error of the model).
    #[error(transparent)]
    Exec(#[from] solidml_exec::ExecError),
    /// Packed inputs that do not fit the model.
    #[error("bad input: {0}")]
    BadInput(String),
    /// A `.trace` file is not one, or not of this model.
    #[error("bad trace file: {0}")]
    BadFile(String),
}
