//! The WGSL sources: one `shaders/<op>.wgsl` per op, each compiled with `arith.wgsl` (the exact
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

macro_rules! shaders {
    ($($variant:ident => $file:literal, $dot:literal;)*) => {
        /// One WGSL op shader.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Shader { $($variant,)* #[cfg(test)] ArithTest }

        impl Shader {
            /// Every op shader.
            pub const ALL: &'static [Shader] = &[$(Shader::$variant,)*];

            /// The file name (without `.wgsl`).
            pub fn name(self) -> &'static str {
                match self { $(Shader::$variant => $file,)* #[cfg(test)] Shader::ArithTest => "arith_test" }
            }

            fn body(self) -> &'static str {
                match self {
                    $(Shader::$variant => include_str!(concat!("shaders/", $file, ".wgsl")),)*
                    #[cfg(test)]
                    Shader::ArithTest => include_str!("shaders/arith_test.wgsl"),
                }
            }

            /// Whether the shader calls the `dot4_*` functions (and so has a packed variant).
            pub fn uses_dot(self) -> bool {
                match self { $(Shader::$variant => $dot,)* #[cfg(test)] Shader::ArithTest => false }
            }
        }
    };
}

shaders! {
    Dense => "dense", true;
    Conv => "conv", true;
    ConvTranspose => "conv_transpose", false;
    MatMul => "matmul", true;
    Binary => "binary", false;
    Extremum => "extremum", false;
    BinaryLut => "binary_lut", false;
    IntBinary => "int_binary", false;
    Lut => "lut", false;
    View => "view", false;
    Pad => "pad", false;
    Concat => "concat", false;
    Gather => "gather", false;
    GatherDynamic => "gather_dynamic", false;
    Take => "take", false;
    ArgMax => "argmax", false;
    Pool => "pool", false;
    Reduce => "reduce", false;
    Softmax => "softmax", false;
    LogSoftmax => "log_softmax", false;
    InstanceNorm => "instance_norm", false;
    Lrn => "lrn", false;
    Normalize => "normalize", false;
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
