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
pub mod access;
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
    /// The call input is shorter than the 32-byte modelId (code 1).
    #[error("input of {len} bytes is shorter than the 32-byte modelId")]
    MissingModelId {
        /// Length of the call input, in bytes (`< 32`).
        len: usize,
    },
    #[error("unknown model 0x{}", hex::encode(.0))]
    /// The store has no model with this modelId (code 2).
    UnknownModel([u8; 32]),
    #[error("model 0x{id} expects {expected} input bytes ({layout}), got {got}", id = hex::encode(.model_id))]
    /// The packed inputs after the modelId have the wrong length (code 3).
    InputLength {
        /// The model called.
        model_id: [u8; 32],
        /// Bytes of packed inputs the model takes ([`abi::input_bytes`]).
        expected: usize,
        /// Bytes of packed inputs the call carries (after the modelId).
        got: usize,
        /// The expected layout, input by input ([`abi::input_layout`], e.g. `x: int8[1×64]`).
        layout: String,
    },
    #[error("call input of {len} bytes exceeds the limit of {max} bytes")]
    /// The call input exceeds [`abi::MAX_INPUT_BYTES`] (code 4).
    InputTooLarge {
        /// Length of the call input, in bytes.
        len: usize,
        /// The limit, [`abi::MAX_INPUT_BYTES`].
        max: usize,
    },
    #[error("model 0x{} needs {needed} gas, the call has {limit}", hex::encode(.model_id))]
    /// The gas limit is below the call's price (code 10; on chain a halt, not a revert).
    OutOfGas {
        /// The model called.
        model_id: [u8; 32],
        /// The call's price ([`GasSchedule::price`]).
        needed: u64,
        /// The gas limit the call was given.
        limit: u64,
    },
    #[error("model 0x{} exceeds the precompile's work limit ({work} > {max} units)", hex::encode(.model_id))]
    /// The model's work exceeds [`gas::MAX_WORK`] (code 5).
    ModelTooLarge {
        /// The model called.
        model_id: [u8; 32],
        /// Its work units per inference ([`gas::work_units`]).
        work: u64,
        /// The limit, [`gas::MAX_WORK`].
        max: u64,
    },
    #[error("execution failed: {0}")]
    /// A run-time error of the model, e.g. a Take or Gather index out of range (code 6); holds
    /// the executor's message.
    Execution(String),
    #[error("model store: {0}")]
    /// The model store failed (code 7).
    Store(#[from] StoreError),
    #[error("malformed ABI input: {0}")]
    /// Malformed ABI input to the OpenGradient entry (code 8); holds what was expected.
    Abi(String),
    #[error("model 0x{} is private and caller 0x{} is not allowed", hex::encode(.model_id), hex::encode(.caller))]
    /// The model is private in the model registry and the caller is not allowed (code 11).
    NotAllowed {
        /// The model called.
        model_id: [u8; 32],
        /// The address that called the precompile.
        caller: [u8; 20],
    },
    #[error("{0}")]
    /// A request the OpenGradient entry cannot serve: mode ZK/TEE, a modelCID that is not a
    /// modelId, string tensors (code 9); holds the explanation.
    Unsupported(String),
}

/// Errors of the model store.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StoreError {
    #[error("store directory `{path}`: {reason}")]
    /// The store's directory is missing or not a directory ([`DirStore::open`]), or cannot be
    /// created ([`DirStore::create`]).
    Directory {
        /// The directory's path.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    #[error("model file {path}: {reason}")]
    /// Reading or writing a model file failed.
    Io {
        /// The file's path.
        path: String,
        /// The I/O error's message.
        reason: String,
    },
    #[error("artifact hash 0x{} does not match its key 0x{}", hex::encode(.found), hex::encode(.expected))]
    /// An artifact's keccak256 differs from the modelId it is stored under.
    HashMismatch {
        /// The modelId asked for (the file name of a [`DirStore`] entry).
        expected: [u8; 32],
        /// The keccak256 of the artifact found.
        found: [u8; 32],
    },
    #[error("invalid artifact 0x{}: {error}", hex::encode(.model_id))]
    /// The artifact does not decode or validate (`solidml_spec::decode`).
    Invalid {
        /// keccak256 of the rejected artifact.
        model_id: [u8; 32],
        /// Why decoding rejected it (boxed: it is the largest error, and call results carry it).
        error: Box<SpecError>,
    },
}
