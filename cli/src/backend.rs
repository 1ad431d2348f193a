//! `--backend cpu|gpu|auto`: which executor runs models for `run` and `precompile`.
//!
//! `gpu` takes the best Vulkan adapter (a real GPU, else lavapipe) and fails with a clear error
//! when there is none; `auto` takes it when present and falls back to the CPU reference
//! otherwise. Every backend is bit-exact with the CPU reference, so the choice changes speed,
//! never results.

use std::sync::Arc;

use miette::Result;
use solidml_cpu::Value;
use solidml_gpu::{GpuContext, GpuExecutor};
use solidml_precompile::{Backend, CpuBackend, LoadedModel};
use solidml_spec::Model;

use crate::error::CliError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendChoice {
    Cpu,
    Gpu,
    Auto,
}

/// The wgpu executor behind the precompile's [`Backend`] seam.
pub struct GpuBackend {
    ctx: GpuContext,
}

impl GpuBackend {
    pub fn new() -> Result<Self, solidml_gpu::GpuError> {
        Ok(GpuBackend { ctx: GpuContext::new()? })
    }

    /// An executor for one model: buffers and weights uploaded once, then `run` per sample.
    pub fn executor<'a>(&'a self, model: &'a Model) -> Result<GpuExecutor<'a, 'a>, solidml_gpu::GpuError> {
        GpuExecutor::new(&self.ctx, model)
    }

    /// Run a model once (pipelines are cached by the context; buffers are made per call).
    pub fn run_model(&self, model: &Model, inputs: &[Value]) -> Result<Vec<Value>, solidml_gpu::GpuError> {
        self.executor(model)?.run(inputs)
    }
}

impl Backend for GpuBackend {
    fn name(&self) -> String {
        format!("gpu ({})", self.ctx.adapter().name)
    }

    fn run(&self, model: &LoadedModel, inputs: &[Value]) -> Result<Vec<Value>, String> {
        self.run_model(&model.model, inputs).map_err(|e| e.to_string())
    }
}

/// The GPU backend a choice asks for: `None` for `cpu`, and for `auto` without an adapter.
pub fn gpu(choice: BackendChoice) -> Result<Option<GpuBackend>> {
    match choice {
        BackendChoice::Cpu => Ok(None),
        BackendChoice::Gpu => Ok(Some(GpuBackend::new().map_err(|e| {
            CliError::Usage(format!("--backend gpu: {e} (install a Vulkan driver, e.g. `bash scripts/vulkan-env.sh` for lavapipe, or use --backend cpu)"))
        })?)),
        BackendChoice::Auto => Ok(GpuBackend::new().ok()),
    }
}

/// The backend for a choice (see the module docs).
pub fn make(choice: BackendChoice) -> Result<Arc<dyn Backend>> {
    Ok(match gpu(choice)? {
        Some(g) => Arc::new(g),
        None => Arc::new(CpuBackend),
    })
}
