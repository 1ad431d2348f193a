//! The GPU context: wgpu instance, adapter, device and queue, plus the per-context pipeline
//! cache.
//!
//! [`GpuContext::new`] picks a Vulkan adapter: a real GPU (discrete, then integrated, then
//! virtual) when there is one, else a software Vulkan device (Mesa's lavapipe,
//! [`wgpu::DeviceType::Cpu`]). `SOLIDML_GPU_ADAPTER=<substring>` restricts the choice to
//! adapters whose name contains the substring. With no adapter at all (no Vulkan loader, no
//! driver) it fails with [`GpuError::NoAdapter`]; `scripts/vulkan-env.sh` installs lavapipe.
//!
//! Every op shader shares one bind group layout ([`crate::shaders`]), so a pipeline depends only
//! on its shader, entry point and [`DotMode`]: pipelines are compiled once per context, on first
//! use, and shared by every model an executor builds on this context.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::GpuError;
use crate::shaders::{self, Shader};

/// How the GEMM-like kernels (Dense, Conv, MatMul) compute their 4-lane int8 dot products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DotMode {
    /// [`DotMode::Packed`] when the instance supports WGSL's `packed_4x8_integer_dot_product`,
    /// else [`DotMode::Emulated`].
    Auto,
    /// `dot4I8Packed` on packed int8 lanes (hardware where the driver has it).
    Packed,
    /// Plain 32-bit multiply-adds on the unpacked lanes: exact everywhere.
    Emulated,
}

/// Adapter facts worth printing (CLI, test logs).
#[derive(Debug, Clone)]
pub struct AdapterSummary {
    /// Adapter name as the driver reports it (e.g. `llvmpipe (LLVM 17.0.6, 256 bits)`); what
    /// `SOLIDML_GPU_ADAPTER` is matched against (case-insensitive substring).
    pub name: String,
    /// Graphics API wgpu drives it through (Vulkan in this build).
    pub backend: wgpu::Backend,
    /// Discrete, integrated, virtual GPU or CPU (lavapipe/llvmpipe is `Cpu`).
    pub device_type: wgpu::DeviceType,
    /// Driver name (may be empty).
    pub driver: String,
    /// Driver version or description (may be empty).
    pub driver_info: String,
    /// Whether WGSL `packed_4x8_integer_dot_product` (`dot4I8Packed`) is available.
    pub packed_dot: bool,
}

impl AdapterSummary {
    /// Whether the adapter is a software emulation on the CPU (lavapipe/llvmpipe):
    /// [`wgpu::DeviceType::Cpu`].
    pub fn is_software(&self) -> bool {
        self.device_type == wgpu::DeviceType::Cpu
    }
}

impl std::fmt::Display for AdapterSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({:?}, {:?}", self.name, self.backend, self.device_type)?;
        if !self.driver.is_empty() {
            write!(f, ", {} {}", self.driver, self.driver_info)?;
        }
        write!(f, "; dot4I8Packed {})", if self.packed_dot { "available" } else { "unavailable" })
    }
}

/// A compiled compute pipeline of one shader entry point.
pub(crate) type Pipeline = Arc<wgpu::ComputePipeline>;

/// Owns the wgpu device and caches compiled pipelines. Create it once and share it: building
/// an executor for a model only compiles the shaders that no earlier model used.
pub struct GpuContext {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    adapter: wgpu::Adapter,
    summary: AdapterSummary,
    pub(crate) limits: wgpu::Limits,
    pub(crate) layout: wgpu::BindGroupLayout,
    pipeline_layout: wgpu::PipelineLayout,
    default_dot: DotMode,
    pipelines: Mutex<HashMap<(Shader, &'static str, bool), Pipeline>>,
    modules: Mutex<HashMap<(Shader, bool), Arc<wgpu::ShaderModule>>>,
    compiled: std::sync::atomic::AtomicUsize,
}

fn type_rank(t: wgpu::DeviceType) -> u8 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    }
}

impl GpuContext {
    /// The best Vulkan adapter (see the module docs), dot products in [`DotMode::Auto`].
    pub fn new() -> Result<GpuContext, GpuError> {
        Self::with_dot_mode(DotMode::Auto)
    }

    /// As [`GpuContext::new`], with the default [`DotMode`] of the executors built on it.
    /// [`DotMode::Packed`] fails with [`GpuError::Unsupported`] where the instance lacks the
    /// WGSL extension.
    pub fn with_dot_mode(dot: DotMode) -> Result<GpuContext, GpuError> {
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
        desc.backends = wgpu::Backends::VULKAN;
        let instance = wgpu::Instance::new(desc);
        let packed_dot = instance.wgsl_language_features().contains(wgpu::WgslLanguageFeatures::Packed4x8IntegerDotProduct);
        let filter = std::env::var("SOLIDML_GPU_ADAPTER").ok().filter(|s| !s.is_empty());
        let mut adapters: Vec<wgpu::Adapter> = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::VULKAN))
            .into_iter()
            .filter(|a| filter.as_deref().is_none_or(|f| a.get_info().name.to_lowercase().contains(&f.to_lowercase())))
            .collect();
        adapters.sort_by_key(|a| type_rank(a.get_info().device_type));
        let Some(adapter) = adapters.into_iter().next() else {
            let looked_for = match &filter {
                Some(f) => format!("a Vulkan adapter whose name contains `{f}` (SOLIDML_GPU_ADAPTER)"),
                None => "a Vulkan adapter: a GPU, or the lavapipe software device (Debian: `mesa-vulkan-drivers` and `libvulkan1`, see scripts/vulkan-env.sh)".to_string(),
            };
            return Err(GpuError::NoAdapter { looked_for });
        };
        let info = adapter.get_info();
        let summary = AdapterSummary {
            name: info.name.clone(),
            backend: info.backend,
            device_type: info.device_type,
            driver: info.driver.clone(),
            driver_info: info.driver_info.clone(),
            packed_dot,
        };
        let default_dot = match dot {
            DotMode::Auto => {
                if packed_dot {
                    DotMode::Packed
                } else {
                    DotMode::Emulated
                }
            }
            DotMode::Packed if !packed_dot => {
                return Err(GpuError::Unsupported("WGSL packed_4x8_integer_dot_product is not available on this instance".into()));
            }
            other => other,
        };
        // Everything the adapter allows: large storage bindings in particular.
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("solidml-gpu"),
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| GpuError::Device(format!("requesting a device from {}: {e}", info.name)))?;
        let layout = shaders::bind_group_layout(&device);
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("solidml"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        Ok(GpuContext {
            device,
            queue,
            adapter,
            summary,
            limits,
            layout,
            pipeline_layout,
            default_dot,
            pipelines: Mutex::new(HashMap::new()),
            modules: Mutex::new(HashMap::new()),
            compiled: 0.into(),
        })
    }

    /// Name, backend, device type and driver of the adapter in use, and whether packed int8 dot
    /// products are available.
    pub fn adapter(&self) -> &AdapterSummary {
        &self.summary
    }

    /// The full wgpu adapter info.
    pub fn adapter_info(&self) -> wgpu::AdapterInfo {
        self.adapter.get_info()
    }

    /// Whether WGSL `dot4I8Packed` can be used (hardware or driver-emulated).
    pub fn packed_dot_available(&self) -> bool {
        self.summary.packed_dot
    }

    /// The dot-product mode executors use unless told otherwise (never `Auto`).
    pub fn default_dot_mode(&self) -> DotMode {
        self.default_dot
    }

    /// Resolve a requested mode against this context.
    pub(crate) fn resolve_dot(&self, dot: DotMode) -> Result<bool, GpuError> {
        match dot {
            DotMode::Auto => Ok(self.default_dot == DotMode::Packed),
            DotMode::Packed if !self.summary.packed_dot => {
                Err(GpuError::Unsupported("WGSL packed_4x8_integer_dot_product is not available on this instance".into()))
            }
            DotMode::Packed => Ok(true),
            DotMode::Emulated => Ok(false),
        }
    }

    /// Largest storage buffer binding, in bytes.
    pub fn max_binding_bytes(&self) -> u64 {
        self.limits.max_storage_buffer_binding_size.min(self.limits.max_buffer_size)
    }

    /// Number of pipelines compiled so far (tests check the cache with it).
    pub fn compiled_pipelines(&self) -> usize {
        self.compiled.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The pipeline of `entry` in `shader` (compiled on first use, then cached).
    pub(crate) fn pipeline(&self, shader: Shader, entry: &'static str, packed: bool) -> Result<Pipeline, GpuError> {
        // only the GEMM-like shaders differ between the dot modes
        let packed = packed && shader.uses_dot();
        let key = (shader, entry, packed);
        if let Some(p) = self.pipelines.lock().unwrap().get(&key) {
            return Ok(p.clone());
        }
        let module = self.module(shader, packed)?;
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let pipeline = self.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: Some(&self.pipeline_layout),
            module: &module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        });
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(GpuError::Shader { shader: shader.name(), message: e.to_string() });
        }
        let pipeline = Arc::new(pipeline);
        self.compiled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.pipelines.lock().unwrap().insert(key, pipeline.clone());
        Ok(pipeline)
    }

    fn module(&self, shader: Shader, packed: bool) -> Result<Arc<wgpu::ShaderModule>, GpuError> {
        if let Some(m) = self.modules.lock().unwrap().get(&(shader, packed)) {
            return Ok(m.clone());
        }
        let source = shaders::source(shader, packed);
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = self.device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(shader.name()),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(GpuError::Shader { shader: shader.name(), message: e.to_string() });
        }
        let module = Arc::new(module);
        self.modules.lock().unwrap().insert((shader, packed), module.clone());
        Ok(module)
    }
}
