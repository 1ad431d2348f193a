//! The WGSL sources: one `shaders/<op>.wgsl` per op (declared by its op file, `crate::ops`), each compiled with `arith.wgsl` (the exact
//! integer primitives), `bindings.wgsl` (the shared binding layout and index helpers) and,
//! for the GEMM-like kernels, one of `dot_packed.wgsl` / `dot_emulated.wgsl` prepended.
//!
//! All shaders use one bind group layout of seven storage buffers (see `bindings.wgsl`), so
//! one layout serves every pipeline and a pipeline depends only on its shader source.

/// Shared integer arithmetic (SRDHM, RDBPOT, requantize, 64-bit emulation).
pub const ARITH: &str = include_str!("shaders/arith.wgsl");
/// The shared bindings and index helpers.
pub const BINDINGS: &str = include_str!("shaders/bindings.wgsl");
const DOT_PACKED: &str = include_str!("shaders/dot_packed.wgsl");
const DOT_EMULATED: &str = include_str!("shaders/dot_emulated.wgsl");

/// One WGSL op shader: its file name, its source and whether it calls the `dot4_*` functions
/// (and so has a packed variant). Each op file declares its own with [`shader!`](crate::shader)
/// and lists them in its `SHADERS`; equal and hashed by name (the pipeline cache's key).
#[derive(Debug, Clone, Copy)]
pub struct Shader {
    name: &'static str,
    body: &'static str,
    uses_dot: bool,
}

impl PartialEq for Shader {
    fn eq(&self, other: &Shader) -> bool {
        self.name == other.name
    }
}

impl Eq for Shader {}

impl std::hash::Hash for Shader {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl Shader {
    /// A shader named `name` (its file `shaders/<name>.wgsl`) with source `body`.
    pub const fn new(name: &'static str, body: &'static str, uses_dot: bool) -> Shader {
        Shader { name, body, uses_dot }
    }
    /// The file name (without `.wgsl`).
    pub fn name(self) -> &'static str {
        self.name
    }
    fn body(self) -> &'static str {
        self.body
    }
    /// Whether the shader calls the `dot4_*` functions (and so has a packed variant).
    pub fn uses_dot(self) -> bool {
        self.uses_dot
    }
}

/// The [`Shader`] of `src/shaders/<name>.wgsl`: `shader!("cum_sum", false)`; `true` when it
/// calls the `dot4_*` functions.
#[macro_export]
#[doc(hidden)]
macro_rules! shader {
    ($name:literal, $dot:literal) => {
        $crate::shaders::Shader::new($name, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/shaders/", $name, ".wgsl")), $dot)
    };
}

/// Every op shader: each op file's `SHADERS`, file by file in the operator table's order.
pub fn all() -> Vec<Shader> {
    crate::ops::all_shaders()
}

/// The full WGSL source of `shader`: arith + bindings (+ dot functions) + the op.
pub fn source(shader: Shader, packed: bool) -> String {
    let mut s = String::with_capacity(ARITH.len() + BINDINGS.len() + shader.body().len() + 1024);
    s.push_str(ARITH);
    s.push('\n');
    s.push_str(BINDINGS);
    s.push('\n');
    if shader.uses_dot() {
        s.push_str(if packed { DOT_PACKED } else { DOT_EMULATED });
        s.push('\n');
    }
    s.push_str(shader.body());
    s
}

/// Binding slots of `bindings.wgsl`.
pub(crate) const PARAMS: u32 = 0;
pub(crate) const OUT: u32 = 1;
pub(crate) const IN0: u32 = 2;
pub(crate) const IN1: u32 = 3;
pub(crate) const DATA: u32 = 4;
pub(crate) const STATUS: u32 = 5;
pub(crate) const SCRATCH: u32 = 6;
pub(crate) const BINDINGS_COUNT: u32 = 7;

/// The layout every op shader uses.
pub(crate) fn bind_group_layout(device: &wgpu::Device) -> wgpu::BindGroupLayout {
    let entry = |binding: u32, read_only: bool| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    };
    let entries: Vec<wgpu::BindGroupLayoutEntry> = (0..BINDINGS_COUNT).map(|b| entry(b, !matches!(b, OUT | STATUS | SCRATCH))).collect();
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some("solidml-ops"), entries: &entries })
}
