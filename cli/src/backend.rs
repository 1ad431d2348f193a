//! `--backend cpu|gpu|auto`: which executor runs models for `run` and `precompile`.
//!
//! `gpu` takes the best Vulkan adapter (a real GPU, else lavapipe) and fails with a clear error
//! when there is none; `auto` takes it when present and falls back to the CPU reference
//! otherwise. Every backend is bit-exact with the CPU reference, so the choice changes speed,
//! never results.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use miette::Result;
use solidml_cpu::Value;
use solidml_gpu::{GpuContext, GpuExecutor};
use solidml_precompile::{Backend, CpuBackend, LoadedModel};
use solidml_spec::{Model, ModelId};

use crate::error::CliError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendChoice {
    Cpu,
    Gpu,
    Auto,
}

/// Executors kept per model by a [`GpuBackend`] (each holds the model's weights on the GPU).
const CACHED_EXECUTORS: usize = 16;

/// The wgpu executor behind the precompile's [`Backend`] seam. Pipelines are cached by the
/// context; executors (buffers, weights, bind groups, recorded dispatches) per model id, so a
/// repeated call pays only the upload of its inputs, one submission and the readback.
pub struct GpuBackend {
    ctx: GpuContext,
    executors: Mutex<HashMap<ModelId, Arc<GpuExecutor>>>,
}

impl GpuBackend {
    pub fn new() -> Result<Self, solidml_gpu::GpuError> {
        Ok(GpuBackend { ctx: GpuContext::new()?, executors: Mutex::new(HashMap::new()) })
    }

    /// An executor for one model: buffers and weights uploaded once, then `run` per sample.
    pub fn executor(&self, model: &Model) -> Result<GpuExecutor, solidml_gpu::GpuError> {
        GpuExecutor::new(&self.ctx, model)
    }

    /// The cached executor of a stored model, prepared on first use. At most
    /// `CACHED_EXECUTORS` are kept: when full, the cache starts over (simple and bounded; a
    /// node with many hot models can host the precompile with its own policy).
    pub fn cached(&self, model: &LoadedModel) -> Result<Arc<GpuExecutor>, solidml_gpu::GpuError> {
        let mut cache = self.executors.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = cache.get(&model.id) {
            return Ok(e.clone());
        }
        let e = Arc::new(self.executor(&model.model)?);
        if cache.len() >= CACHED_EXECUTORS {
            cache.clear();
        }
        cache.insert(model.id, e.clone());
        Ok(e)
    }
}

impl Backend for GpuBackend {
    fn name(&self) -> String {
        format!("gpu ({})", self.ctx.adapter().name)
    }

    fn run(&self, model: &LoadedModel, inputs: &[Value]) -> Result<Vec<Value>, String> {
        self.cached(model).and_then(|e| e.run(inputs)).map_err(|e| e.to_string())
    }
}

/// The GPU backend a choice asks for: `None` for `cpu`, and for `auto` without an adapter.
pub fn gpu(choice: BackendChoice) -> Result<Option<GpuBackend>> {
    match choice {
        BackendChoice::Cpu => Ok(None),
        BackendChoice::Gpu => Ok(Some(GpuBackend::new().map_err(|e| {
            CliError::Usage(format!(
                "--backend gpu: {e} (install a Vulkan driver, e.g. `bash scripts/vulkan-env.sh` for lavapipe, or use --backend cpu)"
            ))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gpu_backend_caches_one_executor_per_model_and_equals_the_cpu() {
        let gpu = match GpuBackend::new() {
            Ok(g) => g,
            Err(e) => {
                assert!(std::env::var("CI").is_err(), "CI installs lavapipe: {e}");
                eprintln!("skipped: {e}");
                return;
            }
        };
        let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/models");
        let compiled = solidml_compiler::compile(&examples.join("digits_logreg.onnx"), &Default::default()).unwrap();
        let model = LoadedModel::from_artifact(&compiled.artifact, Some(compiled.model_id)).unwrap();
        let inputs: Vec<Vec<i8>> = (0..4).map(|s| (0..64).map(|i| ((i * 7 + s * 13) % 256) as u8 as i8).collect()).collect();
        for x in &inputs {
            let want = CpuBackend.run(&model, &[Value::I8(x.clone())]).unwrap();
            assert_eq!(gpu.run(&model, &[Value::I8(x.clone())]).unwrap(), want);
        }
        assert!(Arc::ptr_eq(&gpu.cached(&model).unwrap(), &gpu.cached(&model).unwrap()));
        assert_eq!(gpu.executors.lock().unwrap().len(), 1);
    }
}
