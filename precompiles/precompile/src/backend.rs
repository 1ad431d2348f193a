//! The executor seam: where a node plugs in the engine that runs a model.
//!
//! A [`Backend`] runs one inference of a loaded model. Every backend must return exactly what
//! the CPU reference executor returns (the spec is integer-exact; the tests replay the spec
//! vectors and randomized models on each). [`CpuBackend`] is the reference; the wgpu executor
//! (`solidml-gpu`) implements the same trait, and a node picks one at start-up.

use solidml_cpu::{CpuExecutor, Value};

use crate::LoadedModel;

/// Runs models for the precompile. Shared between the threads of a node.
pub trait Backend: Send + Sync {
    /// Short name for logs and CLI output (`cpu`, `gpu (NVIDIA H100)`).
    fn name(&self) -> String;
    /// One inference. The inputs have already been checked against the model's input layout.
    fn run(&self, model: &LoadedModel, inputs: &[Value]) -> Result<Vec<Value>, String>;
}

/// The CPU reference executor.
#[derive(Debug, Default, Clone, Copy)]
pub struct CpuBackend;

impl Backend for CpuBackend {
    fn name(&self) -> String {
        "cpu".into()
    }

    fn run(&self, model: &LoadedModel, inputs: &[Value]) -> Result<Vec<Value>, String> {
        // a LoadedModel was validated when its artifact was decoded
        CpuExecutor::for_validated(&model.model).run(inputs).map_err(|e| e.to_string())
    }
}
