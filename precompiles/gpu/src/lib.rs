//! # solidml-gpu
//!
//! The GPU executor of SolidML: every operator of the arithmetic contract (`docs/spec.md`) as a
//! WGSL compute shader run through wgpu (Vulkan), **bit-exact** with the CPU reference
//! executor (`solidml-cpu`). Where no GPU exists, Mesa's lavapipe is a real (software) Vulkan
//! device and runs the same shaders (`scripts/vulkan-env.sh` installs it).
//!
//! ```no_run
//! # fn demo(model: &solidml_spec::Model, x: Vec<i8>) -> Result<(), solidml_gpu::GpuError> {
//! let ctx = solidml_gpu::GpuContext::new()?;          // once per process
//! let exec = solidml_gpu::GpuExecutor::new(&ctx, model)?; // once per model
//! let outputs = exec.run(&[solidml_gpu::Value::I8(x)])?;
//! # Ok(()) }
//! ```
//!
//! * [`backend`]: [`GpuBackend`], this executor behind `solidml_exec::Executor`.
//! * [`context`]: [`GpuContext`] (adapter selection, device, the pipeline cache shared by all
//!   models) and [`DotMode`].
//! * [`executor`]: [`GpuExecutor`] (buffers, one submission per run, status → errors).
//! * [`shaders`]: the WGSL sources, `src/shaders/<op>.wgsl`, with `arith.wgsl` (SRDHM,
//!   RDBPOT, requantize and 64-bit emulation in 32-bit ops) prepended.
//! * [`ops`]: one file per operator (parameter packing and dispatch), as in `solidml-cpu`.
//! * [`bench`](mod@bench): timing helpers for `solidml bench` (model latency, int8 GEMM MAC/s).
//!
//! Storage: an int8, int16 or int32 tensor is one `i32` per element, an i64 tensor two `u32`
//! words (low first). Dense, Conv and MatMul use `dot4I8Packed` on weights packed four to a
//! word when the instance supports WGSL's `packed_4x8_integer_dot_product`, and an exact 32-bit
//! fallback otherwise ([`DotMode`] forces either); DenseWide (int16 weights, an i64 accumulator)
//! emulates its 64- and 96-bit arithmetic in 32-bit words. Run-time errors (Take/GatherDynamic
//! index out of range, IntBinary overflow) are flagged by the shaders in a status buffer and
//! reported as the CPU reports them.
//!
//! Limits: each tensor, weight block and table must fit in one storage binding (the adapter's
//! `max_storage_buffer_binding_size`, 128 MiB on lavapipe); larger ones fail with
//! [`GpuError::TooLarge`] instead of being split.

pub mod backend;
pub mod bench;
pub mod context;
pub mod executor;
pub mod ops;
pub mod shaders;

pub use backend::GpuBackend;
pub use context::{AdapterSummary, DotMode, GpuContext};
pub use executor::GpuExecutor;
pub use solidml_exec::Value;

use solidml_exec::ExecError;

/// Everything the GPU executor can report.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// No usable adapter (no Vulkan loader or driver, or none matching `SOLIDML_GPU_ADAPTER`).
    #[error("no GPU adapter found: looked for {looked_for}")]
    NoAdapter {
        /// What was searched: any adapter, or the `SOLIDML_GPU_ADAPTER` filter.
        looked_for: String,
    },
    /// The device could not be created, or wgpu reported an error.
    #[error("GPU device error: {0}")]
    Device(String),
    /// A shader failed to compile (a bug of this crate).
    #[error("WGSL shader `{shader}` failed to compile: {message}")]
    Shader {
        /// The shader's file name, [`shaders::Shader::name`].
        shader: &'static str,
        /// The WGSL compiler's diagnostic.
        message: String,
    },
    /// A requested feature is missing (e.g. [`DotMode::Packed`] without the WGSL extension).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A tensor or constant block exceeds one storage binding.
    #[error("{what} needs {bytes} bytes, over the adapter's limit of {limit}")]
    TooLarge {
        /// What needs the binding: a tensor (`` tensor `x` ``), a node's constant data, or
        /// `scratch`.
        what: String,
        /// Bytes it needs in one binding.
        bytes: u64,
        /// The largest binding, in bytes ([`GpuContext::max_binding_bytes`]: the adapter's
        /// `max_storage_buffer_binding_size`, at most `max_buffer_size`).
        limit: u64,
    },
    /// A failure both executors report the same way (invalid model, wrong inputs, a run-time
    /// index or overflow error), as the CPU executor's error.
    #[error(transparent)]
    Model(#[from] ExecError),
}

impl GpuError {
    /// The executor interface's error for the same failure, for the variants both executors share
    /// (model, input and run-time errors); `None` for GPU-only failures.
    pub fn into_exec_error(self) -> Option<ExecError> {
        match self {
            GpuError::Model(e) => Some(e),
            _ => None,
        }
    }

    /// Whether this is the "no adapter" error (tests skip on it outside CI).
    pub fn is_no_adapter(&self) -> bool {
        matches!(self, GpuError::NoAdapter { .. })
    }
}

#[cfg(test)]
mod tests;
