//! # solidml-backends
//!
//! `--backend cpu|jit|gpu|auto`: which executor runs models, for every host that lets its user
//! choose (the CLI's `run`, `precompile` and `bench`, the devnode). Executors never depend on
//! each other; this crate is the one place that knows them all.
//!
//! * `cpu`: the CPU reference (`solidml_cpu::CpuBackend`).
//! * `jit`: the fast CPU executor (`solidml_jit::JitBackend`), with the CPU reference as its
//!   fallback for the nodes it does not specialize.
//! * `gpu`: the wgpu executor on the best Vulkan adapter (a real GPU, else lavapipe); an error
//!   when there is none.
//! * `auto`: a hardware adapter when present, the JIT otherwise (the default CPU path; the
//!   reference stays the readable definition, `--backend cpu`). A software Vulkan device
//!   (lavapipe, `DeviceType::Cpu`) emulates the GPU on the CPU, about 13× slower than the CPU
//!   reference here, so `auto` never picks it.
//!
//! `--gas-schedule jit|reference` ([`ScheduleChoice`]): the precompile's prices, version 2
//! (calibrated on the JIT, the default) or version 1 (on the CPU reference, for networks whose
//! nodes do not all run the JIT). Every node of a network must use the same one.
//!
//! Every executor is bit-exact with the CPU reference: the choice changes speed, never results.

use std::sync::Arc;

use solidml_cpu::CpuBackend;
use solidml_exec::Executor;
use solidml_gpu::GpuBackend;
use solidml_jit::JitBackend;

/// Prepare the process environment for the Vulkan loader, once, at the very start of `main`.
///
/// Mesa's Vulkan drivers (lavapipe included) load their window-system support, whose Wayland
/// client library prints `error: XDG_RUNTIME_DIR is invalid or not set in the environment.`
/// twice when that variable is missing (containers, CI, cron): noise on every GPU run, nothing
/// is wrong. When it is unset or not a directory, this points it at a private directory under
/// the temporary directory (created mode 0700, as the XDG spec asks), where no display socket
/// exists, so the library stays quiet. A set, valid value is left alone.
///
/// # Safety
///
/// It sets an environment variable: call it before the process starts any thread (first thing
/// in `main`), as `std::env::set_var` requires.
pub unsafe fn prepare_environment() {
    let valid = std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| std::path::Path::new(&d).is_dir());
    if valid {
        return;
    }
    #[cfg(unix)]
    let uid = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(0)
    };
    #[cfg(not(unix))]
    let uid = 0;
    let dir = std::env::temp_dir().join(format!("solidml-runtime-{uid}"));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    if builder.create(&dir).is_ok() || dir.is_dir() {
        // SAFETY: the caller guarantees no other thread runs yet
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", &dir) };
    }
}

/// The `--backend` flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// The CPU reference executor.
    Cpu,
    /// The fast CPU executor (the reference runs the nodes it does not specialize).
    Jit,
    /// The wgpu executor (lavapipe when there is no GPU); fails when there is no Vulkan device.
    Gpu,
    /// A hardware GPU when present, else the JIT (never a software Vulkan device).
    #[default]
    Auto,
}

/// The `--gas-schedule` flag: which of the precompile's schedules prices calls
/// (`solidml_precompile::gas`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleChoice {
    /// Version 2, calibrated on the JIT (`GasSchedule::default`).
    #[default]
    Jit,
    /// Version 1, calibrated on the CPU reference (`GasSchedule::reference`).
    Reference,
}

impl ScheduleChoice {
    /// The schedule this choice names.
    pub fn schedule(self) -> solidml_precompile::GasSchedule {
        match self {
            ScheduleChoice::Jit => solidml_precompile::GasSchedule::default(),
            ScheduleChoice::Reference => solidml_precompile::GasSchedule::reference(),
        }
    }
}

/// The executor a choice asks for (see the crate docs); the error says how to get a Vulkan
/// device.
pub fn make(choice: BackendChoice) -> Result<Arc<dyn Executor>, String> {
    let gpu = match choice {
        BackendChoice::Cpu => None,
        BackendChoice::Jit => return Ok(Arc::new(jit())),
        BackendChoice::Gpu => Some(GpuBackend::new().map_err(|e| {
            format!("--backend gpu: {e} (install a Vulkan driver, e.g. `bash scripts/vulkan-env.sh` for lavapipe, or use --backend cpu)")
        })?),
        BackendChoice::Auto => GpuBackend::new().ok().filter(|g| !g.context().adapter().is_software()),
    };
    Ok(match (gpu, choice) {
        (Some(g), _) => Arc::new(g),
        (None, BackendChoice::Cpu) => Arc::new(CpuBackend),
        (None, _) => Arc::new(jit()),
    })
}

/// The JIT with the CPU reference as its fallback.
pub fn jit() -> JitBackend {
    JitBackend::new().with_fallback(Arc::new(CpuBackend))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_the_reference() {
        assert_eq!(make(BackendChoice::Cpu).unwrap().name(), "cpu");
        assert!(make(BackendChoice::Jit).unwrap().name().starts_with("jit"));
        // no hardware GPU here: auto is the JIT
        let auto = make(BackendChoice::Auto).unwrap().name();
        assert!(auto.starts_with("jit") || auto.starts_with("gpu"), "{auto}");
        assert_eq!(ScheduleChoice::Reference.schedule(), solidml_precompile::GasSchedule::reference());
    }
}
