//! # solidml-revm
//!
//! SolidML's precompiles hosted in [revm](https://github.com/bluealloy/revm) 43, and a small
//! in-process chain for deploying and calling contracts.
//!
//! * [`SolidMlPrecompiles`]: a revm [`PrecompileProvider`](revm::handler::PrecompileProvider)
//!   that serves Ethereum's precompiles plus the SolidML precompile at
//!   [`SOLIDML_PRECOMPILE`](solidml_precompile::SOLIDML_PRECOMPILE) and the OpenGradient entry
//!   at `0x…F4`. Any revm-based node installs it with `Evm::with_precompiles`.
//! * [`Chain`]: an in-memory chain (revm, Prague rules, as solc 0.8.30 and forge 1.7 default to)
//!   with those precompiles: deploy init code, call, and read the execution gas of a call the
//!   way forge's gas report counts it. `solidml gas` and the randomized EVM tests use it.

pub mod chain;
pub mod provider;

pub use chain::{CallResult, Chain, EvmError};
pub use provider::{CallRecord, Observer, SolidMlPrecompiles};
