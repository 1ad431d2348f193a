//! `--backend cpu|gpu|auto`: which executor runs models for `run` and `precompile`.
//!
//! `gpu` takes the best Vulkan adapter (a real GPU, else lavapipe) and fails with a clear error
//! when there is none; `auto` takes a hardware adapter when present and the CPU reference
//! otherwise: a software Vulkan device (lavapipe, `DeviceType::Cpu`) emulates the GPU on the
//! CPU, about 13× slower than the CPU executor here, so `auto` never picks it. Every executor is bit-exact with the CPU reference, so the choice changes speed,
//! never results. The executors themselves live in their crates (`solidml-cpu`,
//! `solidml-gpu`); this module only maps the flag onto one.

use std::sync::Arc;

use miette::Result;
use solidml_cpu::CpuBackend;
use solidml_exec::Executor;
use solidml_gpu::GpuBackend;

use crate::error::CliError;

/// The `--backend` flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum BackendChoice {
    Cpu,
    Gpu,
    Auto,
}

/// The executor a choice asks for (see the module docs).
pub(crate) fn make(choice: BackendChoice) -> Result<Arc<dyn Executor>> {
    let gpu = match choice {
        BackendChoice::Cpu => None,
        BackendChoice::Gpu => Some(GpuBackend::new().map_err(|e| {
            CliError::Usage(format!(
                "--backend gpu: {e} (install a Vulkan driver, e.g. `bash scripts/vulkan-env.sh` for lavapipe, or use --backend cpu)"
            ))
        })?),
        BackendChoice::Auto => GpuBackend::new().ok().filter(|g| !g.context().adapter().is_software()),
    };
    Ok(match gpu {
        Some(g) => Arc::new(g),
        None => Arc::new(CpuBackend),
    })
}
