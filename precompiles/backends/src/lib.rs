//! # solidml-backends
//!
//! `--backend cpu|gpu|auto`: which executor runs models, for every host that lets its user
//! choose (the CLI's `run`, `precompile` and `bench`, the devnode). Executors never depend on
//! each other; this crate is the one place that knows them all.
//!
//! * `cpu`: the CPU reference (`solidml_cpu::CpuBackend`).
//! * `gpu`: the wgpu executor on the best Vulkan adapter (a real GPU, else lavapipe); an error
//!   when there is none.
//! * `auto`: a hardware adapter when present, the CPU reference otherwise. A software Vulkan
//!   device (lavapipe, `DeviceType::Cpu`) emulates the GPU on the CPU, about 13× slower than the
//!   CPU executor here, so `auto` never picks it.
//!
//! Every executor is bit-exact with the CPU reference: the choice changes speed, never results.

use std::sync::Arc;

use solidml_cpu::CpuBackend;
use solidml_exec::Executor;
use solidml_gpu::GpuBackend;

/// The `--backend` flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// The CPU reference executor.
    Cpu,
    /// The wgpu executor (lavapipe when there is no GPU); fails when there is no Vulkan device.
    Gpu,
    /// A hardware GPU when present, else the CPU (never a software Vulkan device).
    #[default]
    Auto,
}

/// The executor a choice asks for (see the crate docs); the error says how to get a Vulkan
/// device.
pub fn make(choice: BackendChoice) -> Result<Arc<dyn Executor>, String> {
    let gpu = match choice {
        BackendChoice::Cpu => None,
        BackendChoice::Gpu => Some(GpuBackend::new().map_err(|e| {
            format!("--backend gpu: {e} (install a Vulkan driver, e.g. `bash scripts/vulkan-env.sh` for lavapipe, or use --backend cpu)")
        })?),
        BackendChoice::Auto => GpuBackend::new().ok().filter(|g| !g.context().adapter().is_software()),
    };
    Ok(match gpu {
        Some(g) => Arc::new(g),
        None => Arc::new(CpuBackend),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_the_reference() {
        assert_eq!(make(BackendChoice::Cpu).unwrap().name(), "cpu");
    }
}
