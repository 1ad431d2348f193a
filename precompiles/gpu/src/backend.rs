//! [`GpuBackend`]: the wgpu executor behind the [`Executor`] interface, for hosts that pick an
//! executor at start-up (the precompile, a node, `solidml run --backend gpu`).
//!
//! One [`GpuContext`] per backend (adapter, device, the pipeline cache shared by all models);
//! [`Executor::prepare`] builds a [`GpuExecutor`] (buffers, weights, bind groups and recorded
//! dispatches), so a repeated call pays only the upload of its inputs, one submission and the
//! readback. Hosts keep prepared models per modelId with `solidml_exec::PreparedCache`.
//! Failures both executors share come back as the CPU reference reports them; GPU-only ones
//! (device lost, a tensor over a binding limit) as [`ExecError::Backend`].

use std::sync::Arc;

use solidml_exec::{ExecError, Executor, PreparedModel, Value};
use solidml_spec::Model;

use crate::{GpuContext, GpuError, GpuExecutor};

/// The wgpu executor as an [`Executor`].
pub struct GpuBackend {
    ctx: GpuContext,
}

impl GpuBackend {
    /// The best Vulkan adapter (a real GPU, else lavapipe; see [`GpuContext::new`]).
    pub fn new() -> Result<Self, GpuError> {
        Ok(GpuBackend { ctx: GpuContext::new()? })
    }

    /// The context models are prepared on.
    pub fn context(&self) -> &GpuContext {
        &self.ctx
    }
}

impl From<GpuError> for ExecError {
    fn from(e: GpuError) -> Self {
        match e {
            GpuError::Model(e) => e,
            other => ExecError::Backend(other.to_string()),
        }
    }
}

impl Executor for GpuBackend {
    fn name(&self) -> String {
        format!("gpu ({})", self.ctx.adapter().name)
    }

    fn prepare(&self, model: Arc<Model>) -> Result<Arc<dyn PreparedModel>, ExecError> {
        Ok(Arc::new(GpuExecutor::new(&self.ctx, &model)?))
    }
}

impl PreparedModel for GpuExecutor {
    fn run(&self, inputs: &[Value]) -> Result<Vec<Value>, ExecError> {
        Ok(GpuExecutor::run(self, inputs)?)
    }
}
