//! # solidml-precompile
//!
//! The SolidML precompile, independent of any EVM implementation: a node that hosts it (the
//! revm integration in `solidml-revm`, or any other) hands it the call's input bytes and gas
//! limit and gets back an [`Outcome`]: output bytes, a revert with an ABI-encoded error, or
//! out-of-gas, each with the gas it charges.
//!
//! * [`abi`]: the fixed address [`SOLIDML_PRECOMPILE`], the input layout
//!   `modelId (bytes32) ++ packed inputs`, the packed output layout and the error encoding.
//! * [`gas`]: the gas schedule, a function of the model's work (MACs and elements) and the bytes
//!   in and out, charged before any work is done.
//! * [`store`]: the content-addressed model store ([`ModelStore`]): in memory, or a directory of
//!   `<modelId>.smodel` files whose hash is checked on load.
//! * the executor seam is `solidml_exec::Executor`: the host passes the CPU reference
//!   (`solidml_cpu::CpuBackend`), the wgpu executor (`solidml_gpu::GpuBackend`) or any other;
//!   models are prepared once per modelId (`solidml_exec::PreparedCache`).
//! * [`precompile`]: [`SolidMlPrecompile`], which ties them together.
//! * [`opengradient`]: the OpenGradient-compatible entry at `0x…F4` (`runModelInference`).
//!
//! The contract is written out in `docs/precompile.md`.

pub mod abi;
pub mod gas;
pub mod opengradient;
pub mod precompile;
pub mod store;

pub use abi::{OPENGRADIENT_PRECOMPILE, SOLIDML_PRECOMPILE};
pub use gas::GasSchedule;
pub use precompile::{Outcome, SolidMlPrecompile};
pub use store::{DirStore, LoadedModel, MemoryStore, ModelStore};

use solidml_spec::SpecError;

/// Why a precompile call failed. Each maps to an error code in the revert data
/// ([`abi::encode_error`]); the message says what was expected.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PrecompileError {
    #[error("input of {len} bytes is shorter than the 32-byte modelId")]
    MissingModelId { len: usize },
    #[error("unknown model 0x{}", hex::encode(.0))]
    UnknownModel([u8; 32]),
    #[error("model 0x{id} expects {expected} input bytes ({layout}), got {got}", id = hex::encode(.model_id))]
    InputLength { model_id: [u8; 32], expected: usize, got: usize, layout: String },
    #[error("call input of {len} bytes exceeds the limit of {max} bytes")]
    InputTooLarge { len: usize, max: usize },
    #[error("model 0x{} needs {needed} gas, the call has {limit}", hex::encode(.model_id))]
    OutOfGas { model_id: [u8; 32], needed: u64, limit: u64 },
    #[error("model 0x{} exceeds the precompile's work limit ({work} > {max} units)", hex::encode(.model_id))]
    ModelTooLarge { model_id: [u8; 32], work: u64, max: u64 },
    #[error("execution failed: {0}")]
    Execution(String),
    #[error("model store: {0}")]
    Store(#[from] StoreError),
    #[error("malformed ABI input: {0}")]
    Abi(String),
    #[error("{0}")]
    Unsupported(String),
}

/// Errors of the model store.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StoreError {
    #[error("model file {path}: {reason}")]
    Io { path: String, reason: String },
    #[error("artifact hash 0x{} does not match its key 0x{}", hex::encode(.found), hex::encode(.expected))]
    HashMismatch { expected: [u8; 32], found: [u8; 32] },
    #[error("invalid artifact 0x{}: {error}", hex::encode(.model_id))]
    Invalid { model_id: [u8; 32], error: SpecError },
}
