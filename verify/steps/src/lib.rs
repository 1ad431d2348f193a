//! # solidml-steps
//!
//! The **steps** of an inference for the dispute game (docs/verification.md): [`plan`] cuts a
//! validated model into steps (one per node, or per chunk of a node's output when one EVM call
//! could not re-execute the node), and [`submodel`] gives each step's **sub-model**, which the
//! Solidity backend compiles into the step contract that re-executes it.
//!
//! Both follow from the model alone (the spec crate), so the Solidity backend depends on this
//! crate and no executor; running an inference and committing to its steps is `solidml-trace`.

pub mod plan;
pub mod submodel;

pub use plan::{Limits, Plan};
pub use submodel::sub_model;
