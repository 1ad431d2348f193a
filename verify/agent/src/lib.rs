//! # solidml-agent
//!
//! The off-chain side of the dispute game (docs/verification.md): a JSON-RPC [`client`] over
//! alloy; [`register`] puts `InferenceClaims` and a model's step contracts on a chain; the
//! [`parties`] play: the claimer posts and defends claims, the verifier re-runs every claim
//! and challenges the wrong ones. `solidml claim` and `solidml verifier` drive them.

pub mod abi;
pub mod client;
pub mod parties;
pub mod register;

pub use client::Client;
pub use parties::{Claimer, Models, Verifier};
pub use register::{GameParams, deploy_claims, register_model};

/// Where a party's progress goes (one line per event).
pub type Log = dyn Fn(&str) + Send + Sync;

/// Everything that can go wrong on the agent's side.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The node could not be reached, or answered with an error.
    #[error("RPC: {0}")]
    Rpc(String),
    /// A transaction or call reverted; `reason` is the contract's named error when known.
    #[error("{what} reverted: {reason}")]
    Reverted {
        /// The call.
        what: String,
        /// The decoded error, or the revert data.
        reason: String,
    },
    /// A model or plan problem.
    #[error("{0}")]
    Model(String),
    /// Tracing failed.
    #[error(transparent)]
    Trace(#[from] solidml_trace::TraceError),
    /// Emitting or compiling step contracts failed.
    #[error(transparent)]
    Solidity(#[from] solidml_solidity::SolidityError),
}
