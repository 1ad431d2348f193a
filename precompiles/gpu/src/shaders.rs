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
    ($($(#[$doc:meta])* $variant:ident => $file:literal, $dot:literal;)*) => {
        /// One WGSL op shader.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Shader {
            $($(#[$doc])* $variant,)*
            /// `arith_test.wgsl` (tests only): the `arith.wgsl` primitives element-wise, checked
            /// against `solidml_spec::arith`.
            #[cfg(test)]
            ArithTest,
        }

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
    /// `dense.wgsl`: Dense (spec §Op: Dense), uses the `dot4_*` functions.
    Dense => "dense", true;
    /// `conv.wgsl`: N-d Conv (spec §Op: Conv), one thread per output element; uses `dot4_*`.
    Conv => "conv", true;
    /// `conv_transpose.wgsl`: N-d ConvTranspose in gather form (spec §Op: ConvTranspose).
    ConvTranspose => "conv_transpose", false;
    /// `matmul.wgsl`: MatMul of two run-time int8 tensors (spec §Op: MatMul); uses `dot4_*`.
    MatMul => "matmul", true;
    /// `binary.wgsl`: quantized Add / Sub / Mul with broadcasting (spec §Op: Binary).
    Binary => "binary", false;
    /// `extremum.wgsl`: element-wise Max / Min with broadcasting (spec §Op: Extremum).
    Extremum => "extremum", false;
    /// `binary_lut.wgsl`: BinaryLut, a 65536-entry table of two codes (spec §Op: BinaryLut).
    BinaryLut => "binary_lut", false;
    /// `int_binary.wgsl`: exact i64 Add / Sub / Mul / Div / Mod / Rem / Max / Min / And / Or /
    /// Xor, an
    /// overflow or a division by zero a run-time error (spec §Op: IntBinary).
    IntBinary => "int_binary", false;
    /// `lut.wgsl`: 256-entry lookup tables, per channel or one (spec §Op: Lut).
    Lut => "lut", false;
    /// `view.wgsl`: strided View of int8 or i64 tensors (spec §Op: View).
    View => "view", false;
    /// `pad.wgsl`: Constant / Reflect / Edge padding, int8 or i64 (spec §Op: Pad).
    Pad => "pad", false;
    /// `concat.wgsl`: Concat, one dispatch per input (spec §Op: Concat).
    Concat => "concat", false;
    /// `gather.wgsl`: Gather with constant indices (spec §Op: Gather).
    Gather => "gather", false;
    /// `gather_dynamic.wgsl`: Gather with run-time i64 indices, out-of-range a run-time error
    /// (spec §Op: GatherDynamic).
    GatherDynamic => "gather_dynamic", false;
    /// `take.wgsl`: Take, `table[in[i]]` for i64 indices (spec §Op: Take).
    Take => "take", false;
    /// `argmax.wgsl`: ArgMax along an axis, i64 output (spec §Op: ArgMax).
    ArgMax => "argmax", false;
    /// `pool.wgsl`: MaxPool and AvgPool (spec §Op: MaxPool, §Op: AvgPool).
    Pool => "pool", false;
    /// `reduce.wgsl`: Reduce Sum / Mean / Max / Min over a set of axes (spec §Op: Reduce).
    Reduce => "reduce", false;
    /// `softmax.wgsl`: Softmax along an axis: max and sum passes per lane, then one thread per
    /// element (spec §Op: Softmax).
    Softmax => "softmax", false;
    /// `log_softmax.wgsl`: LogSoftmax along an axis, one thread per lane (spec §Op: LogSoftmax).
    LogSoftmax => "log_softmax", false;
    /// `instance_norm.wgsl`: InstanceNorm in exact integers, i64 emulated on u32 pairs
    /// (spec §Op: InstanceNorm).
    InstanceNorm => "instance_norm", false;
    /// `lrn.wgsl`: local response normalization across channels (spec §Op: Lrn).
    Lrn => "lrn", false;
    /// `normalize.wgsl`: rows scaled to unit L1 or L2 norm, one thread per row
    /// (spec §Op: Normalize).
    Normalize => "normalize", false;
    /// Running sums along an axis (`cum_sum.wgsl`, spec §CumSum).
    CumSum => "cum_sum", false;
    /// `dense_wide.wgsl`: DenseWide, int8 or int16 in, an exact i64 accumulator and
    /// `scale_wide` on emulated 64/96-bit integers, int8, int16 or int32 out
    /// (spec §Op: DenseWide).
    DenseWide => "dense_wide", false;
    /// `top_k.wgsl`: TopK along an axis by a bitonic sort of each lane's indices, values or
    /// indices out (spec §Op: TopK).
    TopK => "top_k", false;
    /// `int_compare.wgsl`: i64 Equal / Less / Greater with broadcasting into two int8 codes
    /// (spec §Op: IntCompare).
    IntCompare => "int_compare", false;
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
