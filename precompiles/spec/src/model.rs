//! The quantized model: tensors, constants and the operator set of the arithmetic contract.
//!
//! A [`Model`] is a straight-line program over tensors with static shapes. Each tensor is int8
//! with a per-tensor scale and zero point ([`Quant`]), or `i64` (labels, indices); the wide
//! precisions (16x8, 16x16) add int16 activations and int32 accumulator outputs, which only
//! [`Op::DenseWide`] reads or writes. Each
//! [`Node`] applies one [`Op`]; every op's exact integer definition is in `docs/spec.md`, and
//! its reference implementation in `solidml-cpu`'s `ops/<op>.rs`.

use serde::{Deserialize, Serialize};

use crate::arith::Multiplier;

/// Index into [`Model::tensors`].
pub type TensorId = u32;

/// Element type of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DType {
    /// Quantized int8 activation: real = (q − zero_point) · scale.
    I8,
    /// Plain 64-bit integers (class labels, indices); no scale.
    I64,
    /// Quantized int16 activation (16x8 and 16x16 precision): real = (q − zero_point) · scale,
    /// zero point in `[−32768, 32767]`. Only [`Op::DenseWide`] reads or writes it.
    I16,
    /// Quantized int32 accumulator (a regression output kept at the accumulator's precision):
    /// real = (q − zero_point) · scale. Only [`Op::DenseWide`] writes it.
    I32,
}

impl DType {
    /// The code range of a quantized type (`None` for plain i64): `[−128, 127]`,
    /// `[−32768, 32767]` or the i32 range. Zero points, clamps and the IO boundary use it.
    pub fn code_range(self) -> Option<(i64, i64)> {
        match self {
            DType::I8 => Some((i8::MIN as i64, i8::MAX as i64)),
            DType::I16 => Some((i16::MIN as i64, i16::MAX as i64)),
            DType::I32 => Some((i32::MIN as i64, i32::MAX as i64)),
            DType::I64 => None,
        }
    }

    /// Bytes per element in the packed encodings (precompile calldata, spec vectors): 1, 2, 4
    /// or 8, big-endian two's complement.
    pub fn packed_bytes(self) -> usize {
        match self {
            DType::I8 => 1,
            DType::I16 => 2,
            DType::I32 => 4,
            DType::I64 => 8,
        }
    }
}

/// Per-tensor affine quantization of an int8 tensor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quant {
    /// Real value of one code step: finite and `> 0` (validated). Metadata for the IO
    /// boundary only: no floating point happens at run time (spec §Conventions).
    pub scale: f32,
    /// The code that stands for real 0, in `[−128, 127]` (validated; spec §Conventions).
    pub zero_point: i32,
}

impl Quant {
    /// The real value `(q − zero_point) · scale` that code `q` stands for, in `f64` (exact for
    /// int8 codes). For display and tests; the IO conversions are in [`crate::io`].
    pub fn real(&self, q: i32) -> f64 {
        (q as i64 - self.zero_point as i64) as f64 * self.scale as f64
    }
}

/// One tensor of the program.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorInfo {
    /// Name of the ONNX value this tensor came from (diagnostics, generated code); not used by
    /// execution.
    pub name: String,
    /// Static shape, row-major: rank ≤ 8 and at most 2^28 elements (spec §Validation rules).
    pub shape: Vec<u32>,
    /// Element type: int8, int16 or int32 codes, or plain i64.
    pub dtype: DType,
    /// `Some` exactly for the quantized types (`I8`, `I16`, `I32`), `None` for `I64` (validated).
    pub quant: Option<Quant>,
}

impl TensorInfo {
    /// Number of elements, the product of [`TensorInfo::shape`] (1 for a scalar of rank 0).
    pub fn len(&self) -> usize {
        self.shape.iter().map(|&d| d as usize).product()
    }
    /// Whether some axis has length 0 (the tensor holds no element).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A tensor whose value is fixed in the artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ConstData {
    /// Int8 codes of an `I8` tensor, row-major; read with the tensor's [`Quant`].
    I8(Vec<i8>),
    /// Values of an `I64` tensor, row-major.
    I64(Vec<i64>),
}

/// One operation of the program.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Name of the ONNX node this came from (diagnostics, generated code).
    pub name: String,
    /// The operator and its constant parameters.
    pub op: Op,
    /// Tensors read, in the order the op defines (e.g. `a`, `b` for Binary; data then indices
    /// for GatherDynamic); each is defined before this node (spec §Model and execution).
    pub inputs: Vec<TensorId>,
    /// Tensors written: exactly one for every op in version 1, defined by no other node.
    pub outputs: Vec<TensorId>,
}

/// Requantization epilogue shared by accumulating ops: per output channel multiplier, then the
/// output zero point, then the clamp (a fused ReLU or Clip is a tighter clamp).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Epilogue {
    /// One per output channel, or a single one for all; each valid
    /// ([`Multiplier::is_valid`]). Compiler: `s_in · s_w[c] / s_out` (spec §Epilogue).
    pub multipliers: Vec<Multiplier>,
    /// Zero point of the output tensor, in `[−128, 127]`, added (saturating to i32) after
    /// requantization.
    pub output_zero_point: i32,
    /// Lower bound of the final clamp (`−128`, or tighter for a fused ReLU/Clip); `≤ clamp_max`.
    pub clamp_min: i8,
    /// Upper bound of the final clamp (`127`, or tighter for a fused Clip); `≥ clamp_min`.
    pub clamp_max: i8,
}

/// N-d convolution, `ONNX Conv` semantics on NC(spatial…) layouts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conv {
    /// Kernel extent per spatial axis (`s = kernel.len()` spatial axes; spec §Op: Conv).
    pub kernel: Vec<u32>,
    /// Step between output positions per spatial axis, `≥ 1`.
    pub strides: Vec<u32>,
    /// Spacing between kernel taps per spatial axis, `≥ 1`.
    pub dilations: Vec<u32>,
    /// Implicit padding before each spatial axis; padded taps contribute 0 (real 0).
    pub pads_begin: Vec<u32>,
    /// Implicit padding after each spatial axis (enters only the output shape).
    pub pads_end: Vec<u32>,
    /// Number of channel groups, `≥ 1`, dividing `C_in` and `C_out`.
    pub groups: u32,
    /// Zero point of the input tensor, in `[−128, 127]`, subtracted from every input code.
    pub input_zero_point: i32,
    /// `[C_out, C_in / groups, kernel…]`, symmetric per output channel.
    pub weights: Vec<i8>,
    /// `[C_out]`, at scale `s_in · s_w[c]`.
    pub bias: Vec<i32>,
    /// Requantization to the output, one multiplier per output channel or one for all.
    pub epilogue: Epilogue,
}

/// N-d transposed convolution (`ONNX ConvTranspose`) on NC(spatial…) layouts. Weights are
/// stored output-channel first like [`Conv`]'s (the compiler transposes ONNX's
/// `[C_in, C_out/groups, k…]`). For output channel `c` in group `g` and output position `o`:
/// `acc = bias[c] + Σ_{i ∈ group g, k} w[c, i, k] · (x[i, p] − zp_in)` over the kernel taps
/// with `p · stride = o + pad_begin − k · dilation` for an integer `p` inside the input; then
/// the epilogue. Output length per axis:
/// `(n − 1) · stride + dilation · (k − 1) + 1 − pad_begin − pad_end + output_padding`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvTranspose {
    /// Kernel extent per spatial axis, `≥ 1` (spec §Op: ConvTranspose).
    pub kernel: Vec<u32>,
    /// Upsampling step per spatial axis, `≥ 1`.
    pub strides: Vec<u32>,
    /// Spacing between kernel taps per spatial axis, `≥ 1`.
    pub dilations: Vec<u32>,
    /// Positions cropped from the start of each output axis (ONNX `pads` begin half).
    pub pads_begin: Vec<u32>,
    /// Positions cropped from the end of each output axis (ONNX `pads` end half).
    pub pads_end: Vec<u32>,
    /// Extra positions appended at the end of each output axis (ONNX `output_padding`).
    pub output_padding: Vec<u32>,
    /// Number of channel groups, `≥ 1`, dividing `C_in` and `C_out`.
    pub groups: u32,
    /// Zero point of the input tensor, in `[−128, 127]`, subtracted from every input code.
    pub input_zero_point: i32,
    /// `[C_out, C_in / groups, kernel…]`, symmetric per output channel.
    pub weights: Vec<i8>,
    /// `[C_out]`, at scale `s_in · s_w[c]`.
    pub bias: Vec<i32>,
    /// Requantization to the output, one multiplier per output channel or one for all.
    pub epilogue: Epilogue,
}

/// Dense layer on the last axis: `[…, K] × Wᵀ → […, N]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dense {
    /// `K`, the length of the input's last axis, `≥ 1` (spec §Op: Dense).
    pub in_features: u32,
    /// `N`, the length of the output's last axis.
    pub out_features: u32,
    /// Zero point of the input tensor, in `[−128, 127]`, subtracted from every input code.
    pub input_zero_point: i32,
    /// `[N, K]`, symmetric per output feature.
    pub weights: Vec<i8>,
    /// `[N]`, at scale `s_in · s_w[n]`.
    pub bias: Vec<i32>,
    /// Requantization to the output, one multiplier per output feature or one for all.
    pub epilogue: Epilogue,
}

/// Dense layer at wide precision (16x8: int16 activations, int8-range weights; 16x16: int16
/// weights), on the last axis: `[…, K] × Wᵀ → […, N]`. Input `I8` or `I16`, output `I8`, `I16`
/// or `I32`. For row `r` and output feature `n` (spec §Op: DenseWide):
///
/// * `acc = bias[n] + Σ_k w[n, k] · (x[r, k] − input_zero_point)`, exact in i64 (validation
///   bounds `Σ_k |w[n, k]| · 65535 + |bias[n]|` by `2^62`);
/// * `v = acc` when `multipliers` is empty (the accumulator itself: an I32 regression output),
///   otherwise [`crate::arith::scale_wide`]`(acc, multipliers[n or 0])`, exact;
/// * `y = clamp(v + output_zero_point, clamp_min, clamp_max)`, exact (no intermediate
///   saturation); the clamp lies within the output type's range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DenseWide {
    /// `K`, the length of the input's last axis, `≥ 1`.
    pub in_features: u32,
    /// `N`, the length of the output's last axis.
    pub out_features: u32,
    /// Zero point of the input tensor (its type's range), subtracted from every input code.
    pub input_zero_point: i32,
    /// `[N, K]` weight codes, symmetric per output feature, in `[−32767, 32767]` (16x8 models
    /// keep them in `[−127, 127]`).
    pub weights: Vec<i16>,
    /// `[N]`, at scale `s_in · s_w[n]`.
    pub bias: Vec<i64>,
    /// One per output feature, one for all, or none (the output is the accumulator).
    pub multipliers: Vec<Multiplier>,
    /// Zero point of the output tensor, in its type's range.
    pub output_zero_point: i32,
    /// Lower bound of the final clamp, within the output type's range; `≤ clamp_max`.
    pub clamp_min: i32,
    /// Upper bound of the final clamp, within the output type's range.
    pub clamp_max: i32,
}

impl DenseWide {
    /// The output code of feature `j` from its exact accumulator (spec §Op: DenseWide): the
    /// accumulator itself when there are no multipliers, else `scale_wide(acc, M_j)`; then the
    /// output zero point added and the clamp applied, exactly.
    pub fn output_code(&self, j: usize, acc: i64) -> i64 {
        let v = match self.multipliers.len() {
            0 => acc as i128,
            1 => crate::arith::scale_wide(acc, self.multipliers[0]),
            _ => crate::arith::scale_wide(acc, self.multipliers[j]),
        };
        (v + self.output_zero_point as i128).clamp(self.clamp_min as i128, self.clamp_max as i128) as i64
    }
}

/// Element-wise binary operators between two int8 tensors (numpy broadcasting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BinaryKind {
    /// `a + b` (spec §Op: Binary).
    Add,
    /// `a − b`.
    Sub,
    /// `a · b`.
    Mul,
}

/// Quantized element-wise binary op. For `Add`/`Sub` (TFLite's scheme): both inputs are
/// shifted left by `left_shift` bits, rescaled by `a_multiplier`/`b_multiplier` to a common
/// scale, combined, and rescaled by `output_multiplier`. For `Mul` the product of the
/// zero-point-corrected inputs is rescaled by `output_multiplier`; `a_multiplier` and
/// `b_multiplier` are unused (zero).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Binary {
    /// Which operation combines the two inputs (spec §Op: Binary).
    pub kind: BinaryKind,
    /// Zero point of input `a`, in `[−128, 127]`.
    pub a_zero_point: i32,
    /// Zero point of input `b`, in `[−128, 127]`.
    pub b_zero_point: i32,
    /// Add/Sub: bits both zero-point-corrected inputs are shifted left before rescaling,
    /// `≤ 20` (the compiler uses 20); unused by Mul.
    pub left_shift: u32,
    /// Add/Sub: rescales `a` to the common scale (`s_a / t`); `shift ≤ 0`, i.e. `< 1`
    /// (validated). Zero for Mul.
    pub a_multiplier: Multiplier,
    /// Add/Sub: rescales `b` to the common scale (`s_b / t`); `shift ≤ 0` (validated). Zero
    /// for Mul.
    pub b_multiplier: Multiplier,
    /// Rescales the combined accumulator to the output scale: `t / (2^20 · s_out)` for
    /// Add/Sub, `s_a · s_b / s_out` for Mul.
    pub output_multiplier: Multiplier,
    /// Zero point of the output tensor, in `[−128, 127]`.
    pub output_zero_point: i32,
    /// Lower bound of the final clamp (`≤ clamp_max`).
    pub clamp_min: i8,
    /// Upper bound of the final clamp (`≥ clamp_min`).
    pub clamp_max: i8,
}

/// Max or min of two tensors already requantized (through [`Lut`]s) to the output's scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Extremum {
    /// Element-wise `max(qa, qb)` of the codes (spec §Op: Extremum).
    Max,
    /// Element-wise `min(qa, qb)` of the codes.
    Min,
}

/// 256-entry lookup tables: `out = table[c][in + 128]`, with `c` the index along `axis` when
/// there are several tables (per-channel affine maps, PReLU slopes) and 0 otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lut {
    /// Axis whose index selects the table (`< rank`), or `None` for a single table
    /// (spec §Op: Lut).
    pub axis: Option<u32>,
    /// `256 × number of tables`.
    pub tables: Vec<i8>,
}

/// A strided view: `out[i…] = in[offset + Σ i_k · strides[k]]` over the output's shape.
/// Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Slice, Expand and Tile are views.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct View {
    /// Flat input position of output index `(0, …, 0)` (spec §Op: View).
    pub offset: u64,
    /// Input step per output axis (one per output axis), in elements; 0 repeats (Expand,
    /// Tile), negative walks backwards (Slice with negative steps).
    pub strides: Vec<i64>,
}

/// How [`Pad`] fills positions outside the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PadMode {
    /// `value`.
    Constant,
    /// The mirror image without repeating the edge (`pad < dim`).
    Reflect,
    /// The nearest edge element.
    Edge,
}

/// Padding: each output index maps to an input index by the mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pad {
    /// Positions added before each axis (one per input axis; spec §Op: Pad).
    pub pads_begin: Vec<u32>,
    /// Positions added after each axis (one per input axis).
    pub pads_end: Vec<u32>,
    /// How the added positions are filled.
    pub mode: PadMode,
    /// Fill value of `PadMode::Constant`: an int8 code in `[−128, 127]` for int8 tensors (checked
    /// whatever the mode), any i64 for i64 tensors.
    pub value: i64,
}

/// Sliding-window pooling over the spatial axes of an NC(spatial…) tensor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pool {
    /// Window extent per spatial axis, `≥ 1` (spec §Op: MaxPool, §Op: AvgPool).
    pub kernel: Vec<u32>,
    /// Step between windows per spatial axis, `≥ 1`.
    pub strides: Vec<u32>,
    /// Spacing between window taps per spatial axis, `≥ 1`.
    pub dilations: Vec<u32>,
    /// Padding before each spatial axis, `< kernel[d]`; padded taps never take part.
    pub pads_begin: Vec<u32>,
    /// Padding after each spatial axis, `< kernel[d]`.
    pub pads_end: Vec<u32>,
    /// Average pooling only: whether padded positions count in the divisor.
    pub count_include_pad: bool,
    /// The input's (= output's) zero point (validated); read by AvgPool only.
    pub zero_point: i32,
}

/// Reductions over `axes` (the output keeps them as size-1 axes or drops them, as its shape says).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReduceKind {
    /// Σ(q − zp_in), requantized by `multiplier` to the output scale.
    Sum,
    /// Σ(q − zp_in) / count rounded half away, requantized by `multiplier`.
    Mean,
    /// max(q − zp_in), requantized by `multiplier`.
    Max,
    /// min(q − zp_in), requantized by `multiplier`.
    Min,
}

/// Reduction of an int8 tensor over some axes, then requantization (spec §Op: Reduce).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reduce {
    /// How each group of elements is combined.
    pub kind: ReduceKind,
    /// Reduced axes, each `< rank`, distinct; at most 8 421 504 elements per group.
    pub axes: Vec<u32>,
    /// Zero point of the input tensor, in `[−128, 127]`.
    pub input_zero_point: i32,
    /// Scale from input to output units: `s_in / s_out`, or `s_in / (s_out · count)` for a
    /// mean lowered to `Sum`.
    pub multiplier: Multiplier,
    /// Zero point of the output tensor, in `[−128, 127]`.
    pub output_zero_point: i32,
}

/// Running sums of an int8 tensor along one axis, then requantization (spec §Op: CumSum):
/// `out[j] = clamp(requantize(Σ_{i ∈ prefix(j)} (q_i − zp_in), M) + zp_out)` per lane, where
/// `prefix(j)` is `i ≤ j` (`i < j` when `exclusive`), mirrored (`i ≥ j`, `i > j`) when
/// `reverse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CumSum {
    /// The summed axis, `< rank`; at most 8 421 504 elements along it (the sum fits in i32).
    pub axis: u32,
    /// Whether an element's own value is left out of its sum (ONNX `exclusive`).
    pub exclusive: bool,
    /// Whether sums run from the end of the axis (ONNX `reverse`).
    pub reverse: bool,
    /// Zero point of the input tensor, in `[−128, 127]`.
    pub input_zero_point: i32,
    /// Scale from input to output units: `s_in / s_out`.
    pub multiplier: Multiplier,
    /// Zero point of the output tensor, in `[−128, 127]`.
    pub output_zero_point: i32,
}

/// Softmax along `axis`: `e[j] = exp_table[max − q_j]` (Q16 integers computed at compile
/// time), `out_j = clamp(round_half_away(e_j · 256 / Σe) − 128)`; output scale 1/256, zero
/// point −128.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Softmax {
    /// Axis of the lanes (`< rank`, length `≤ 2^15`; spec §Op: Softmax).
    pub axis: u32,
    /// 256 entries, `exp_table[d] = round(2^16 · exp(−d · s_in))`, non-increasing, `[0] = 65536`.
    pub exp_table: Vec<u32>,
}

/// `ln 2 · 2^16`, rounded: the constant of [`LogSoftmax`].
pub const LN2_Q16: i32 = 45426;

/// LogSoftmax along `axis`, with `m = max q`, `S = Σ exp_table[m − q_j]` (≥ 2^16),
/// `k = ⌊log2 S⌋`, `i = (S >> (k − 8)) − 256`, `L = (k − 16) · LN2_Q16 + ln_table[i]`
/// (`ln(S / 2^16)` in Q16), `v_j = (q_j − m) · input_scale_q16 − L`,
/// `out_j = clamp(requantize(v_j, multiplier) + output_zero_point)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogSoftmax {
    /// Axis of the lanes (`< rank`, length `≤ 2^14`; spec §Op: LogSoftmax).
    pub axis: u32,
    /// As [`Softmax::exp_table`].
    pub exp_table: Vec<u32>,
    /// 256 entries, `ln_table[i] = round(2^16 · ln(1 + i/256))`.
    pub ln_table: Vec<i32>,
    /// `round(s_in · 2^16)`, in `0..=2^22`.
    pub input_scale_q16: i32,
    /// `1 / (2^16 · s_out)`.
    pub multiplier: Multiplier,
    /// Zero point of the output tensor, in `[−128, 127]`.
    pub output_zero_point: i32,
}

/// Matrix product of two run-time int8 tensors `[…, M, K] × […, K, N]` (batch axes
/// broadcast): `acc = Σ_k (a[m, k] − za) · (b[k, n] − zb)`,
/// `out = clamp(requantize(acc, multiplier) + output_zero_point)`; `K ≤ 33025` so the sum fits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatMul {
    /// Zero point of the left operand `a`, in `[−128, 127]` (spec §Op: MatMul).
    pub a_zero_point: i32,
    /// Zero point of the right operand `b`, in `[−128, 127]`.
    pub b_zero_point: i32,
    /// `s_a · s_b / s_out`.
    pub multiplier: Multiplier,
    /// Zero point of the output tensor, in `[−128, 127]`.
    pub output_zero_point: i32,
}

/// Instance normalization over each `(n, c)` plane of NC(spatial…), in exact integers. With
/// `C` elements per plane, `S1 = Σ (q − zp_in)`, `S2 = Σ (q − zp_in)²`,
/// `r = isqrt(C·S2 − S1² + epsilon_term)` (floor), `d_j = C·(q_j − zp_in) − S1`:
/// `out_j = clamp(zp_out + round_half_away((gamma_q16[c]·d_j + beta_q16[c]·r) / (r · 2^16)))`,
/// and when `r = 0`, `out_j = clamp(zp_out + round_half_away(beta_q16[c] / 2^16))`. (`d_j / r`
/// is the normalized value; `gamma_q16 = round(2^16·γ/s_out)`, `beta_q16 = round(2^16·β/s_out)`,
/// `epsilon_term = round(ε·C²/s_in²)`.) Arithmetic in i64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceNorm {
    /// Zero point of the input tensor, in `[−128, 127]` (spec §Op: InstanceNorm).
    pub input_zero_point: i32,
    /// Zero point of the output tensor, in `[−128, 127]`.
    pub output_zero_point: i32,
    /// `round(ε · C² / s_in²)`, added under the square root; in `[0, 2^53]`.
    pub epsilon_term: i64,
    /// One per channel, `|·| ≤ 2^36`; planes hold at most 2^16 elements.
    pub gamma_q16: Vec<i64>,
    /// One per channel, `round(2^16 · β / s_out)`, `|·| ≤ 2^36`.
    pub beta_q16: Vec<i64>,
}

/// Local response normalization across channels of NC(spatial…). For each element,
/// `Q = Σ (q_c' − zp_in)²` over channels `c' ∈ [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉]` inside the
/// tensor, `F = factors[min(Q >> sum_shift, factors.len() − 1)]`,
/// `out = clamp(zp_out + requantize((q_c − zp_in) · F, multiplier))`. (`factors` tabulates
/// `2^16 · (bias + α/size · s_in² · Q)^(−β)` at bucket centres; `multiplier = s_in / (2^16 s_out)`.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lrn {
    /// Channels in the window (ONNX `size`), in `[1, 4096]` (spec §Op: Lrn).
    pub size: u32,
    /// Zero point of the input tensor, in `[−128, 127]`.
    pub input_zero_point: i32,
    /// Zero point of the output tensor, in `[−128, 127]`.
    pub output_zero_point: i32,
    /// Bucket width of the sum of squares in bits: `Q >> sum_shift` indexes `factors`;
    /// in `[0, 40]`.
    pub sum_shift: u32,
    /// 1 to 4096 entries in `0..=2^23`.
    pub factors: Vec<i32>,
    /// `s_in / (2^16 · s_out)`.
    pub multiplier: Multiplier,
}

/// How [`Normalize`] measures a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NormKind {
    /// Divide by the sum of absolute values (spec §Op: Normalize).
    L1,
    /// Divide by the Euclidean norm.
    L2,
}

/// Rows of the last axis scaled to unit norm (`ai.onnx.ml` Normalizer): with
/// `d_j = q_j − zp_in`, L1: `D = Σ|d|`, `out_j = clamp(zp_out + round_half_away(d_j · 2^k / D))`;
/// L2: `r = isqrt(Σ d² · 2^16)`, `out_j = clamp(zp_out + round_half_away(d_j · 2^(k+8) / r))`;
/// a zero row gives `zp_out`. The output scale is exactly `2^−k`. Arithmetic in i64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalize {
    /// Which norm each row is divided by (spec §Op: Normalize).
    pub kind: NormKind,
    /// Zero point of the input tensor, in `[−128, 127]`.
    pub input_zero_point: i32,
    /// Zero point of the output tensor, in `[−128, 127]` (`0`, or `−128` for a non-negative
    /// input, as the compiler chooses).
    pub output_zero_point: i32,
    /// `k` in `0..=8`.
    pub scale_log2: u32,
}

/// The operator set. New variants go at the end: the variant index is part of the encoding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// N-d convolution with a constant kernel (spec §Op: Conv).
    Conv(Conv),
    /// Matrix product of the last axis with a constant matrix (spec §Op: Dense).
    Dense(Dense),
    /// Quantized Add, Sub or Mul of two int8 tensors (spec §Op: Binary).
    Binary(Binary),
    /// Max or Min of two int8 tensors of one quantization (spec §Op: Extremum).
    Extremum(Extremum),
    /// Element-wise 256-entry lookup tables (spec §Op: Lut).
    Lut(Lut),
    /// Strided re-indexing: reshapes, transposes, slices… (spec §Op: View).
    View(View),
    /// Constant, reflect or edge padding (spec §Op: Pad).
    Pad(Pad),
    /// Concatenation along an axis; inputs share the output's quantization.
    Concat {
        /// Axis along which the inputs are joined, `< rank` (spec §Op: Concat).
        axis: u32,
    },
    /// Maximum over each window (spec §Op: MaxPool).
    MaxPool(Pool),
    /// Rounded mean over each window (spec §Op: AvgPool).
    AvgPool(Pool),
    /// Sum, mean, max or min over some axes (spec §Op: Reduce).
    Reduce(Reduce),
    /// Table-driven softmax to probabilities at scale 1/256 (spec §Op: Softmax).
    Softmax(Softmax),
    /// Index of the first (or last) maximum along `axis`, as i64.
    ArgMax {
        /// Axis of the lanes, `< rank`, of length `> 0` (spec §Op: ArgMax).
        axis: u32,
        /// Ties pick the last maximum instead of the first (ONNX `select_last_index`).
        select_last_index: bool,
    },
    /// `out[i] = table[in[i]]` for i64 inputs (class labels from an argmax).
    Take {
        /// The looked-up values, non-empty; an index outside it is a run-time error
        /// (spec §Op: Take).
        table: Vec<i64>,
    },
    /// Gather along `axis` with constant indices (negative indices already resolved).
    Gather {
        /// Axis indexed, `< rank` (spec §Op: Gather).
        axis: u32,
        /// Positions picked along `axis`, in output order, each `< shape[axis]`.
        indices: Vec<u32>,
    },
    /// Table-driven log-softmax, requantized to the output (spec §Op: LogSoftmax).
    LogSoftmax(LogSoftmax),
    /// N-d transposed convolution (spec §Op: ConvTranspose).
    ConvTranspose(ConvTranspose),
    /// Matrix product of two run-time int8 tensors (spec §Op: MatMul).
    MatMul(MatMul),
    /// Any element-wise function of two int8 tensors (numpy broadcasting), tabulated:
    /// `out = table[(a + 128) · 256 + (b + 128)]` (65536 entries).
    BinaryLut {
        /// 65536 output codes indexed by `(a + 128) · 256 + (b + 128)` (spec §Op: BinaryLut).
        table: Vec<i8>,
    },
    /// Gather along `axis` with run-time i64 indices (input 1); negative indices count from
    /// the end; an index outside the axis is a run-time error.
    GatherDynamic {
        /// Axis of the data indexed, `< rank`, of length `> 0` (spec §Op: GatherDynamic).
        axis: u32,
    },
    /// Integer instance normalization per `(n, c)` plane (spec §Op: InstanceNorm).
    InstanceNorm(InstanceNorm),
    /// Exact integer arithmetic on two i64 tensors (numpy broadcasting); a result outside i64,
    /// and a division by zero, are run-time errors.
    IntBinary {
        /// The operation (spec §Op: IntBinary).
        kind: IntBinaryKind,
    },
    /// Local response normalization across channels (spec §Op: Lrn).
    Lrn(Lrn),
    /// Rows scaled to unit L1 or L2 norm (spec §Op: Normalize).
    Normalize(Normalize),
    /// Running sums along one axis, then requantization (spec §Op: CumSum).
    CumSum(CumSum),
    /// Dense layer at wide precision: int8 or int16 in, exact i64 accumulation, int8, int16 or
    /// int32 out (spec §Op: DenseWide).
    DenseWide(DenseWide),
    /// The `k` largest (or smallest) elements of each lane along `axis`, in order, ties to the
    /// lower index: their values or their indices, as `output` says (spec §Op: TopK).
    TopK {
        /// Axis of the lanes, `< rank` (spec §Op: TopK).
        axis: u32,
        /// Elements kept per lane, `≤ shape[axis]`.
        k: u32,
        /// The largest first (ONNX `largest = 1`), else the smallest first.
        largest: bool,
        /// Which of ONNX TopK's two outputs the node computes.
        output: TopKOutput,
    },
    /// Comparison of two i64 tensors (numpy broadcasting) into int8 codes: `true_code` where
    /// the comparison holds, else `false_code` (spec §Op: IntCompare).
    IntCompare(IntCompare),
    /// `out[i] = table[x[i] + 128]`: int8 codes to i64 values by a 256-entry table (spec §Op:
    /// IntLut).
    IntLut {
        /// The i64 value of each int8 code, indexed by `code + 128`; exactly 256 entries
        /// (spec §Op: IntLut).
        table: Vec<i64>,
    },
}

/// The operation of an [`Op::IntBinary`] node on two i64 values (spec §Op: IntBinary). The
/// first three keep [`BinaryKind`]'s encoding (Add 0, Sub 1, Mul 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntBinaryKind {
    /// `a + b`.
    Add,
    /// `a − b`.
    Sub,
    /// `a · b`.
    Mul,
    /// `a / b` rounded toward zero (C's and onnxruntime's integer division).
    Div,
    /// The remainder with the sign of `b`, `a − b·⌊a/b⌋` (ONNX Mod with `fmod = 0`, Python's `%`).
    Mod,
    /// The remainder with the sign of `a`, `a − b·Div(a, b)` (ONNX Mod with `fmod = 1`, C's `%`).
    Rem,
    /// The larger of `a` and `b`.
    Max,
    /// The smaller of `a` and `b`.
    Min,
    /// Bitwise AND of the two's-complement bits.
    And,
    /// Bitwise OR.
    Or,
    /// Bitwise exclusive OR.
    Xor,
}

/// Why an [`IntBinaryKind`] has no i64 result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntFault {
    /// The exact result is outside i64.
    Overflow,
    /// Div, Mod or Rem with `b = 0`.
    DivisionByZero,
}

impl IntBinaryKind {
    /// Every kind, in encoding order.
    pub const ALL: [IntBinaryKind; 11] = [
        IntBinaryKind::Add,
        IntBinaryKind::Sub,
        IntBinaryKind::Mul,
        IntBinaryKind::Div,
        IntBinaryKind::Mod,
        IntBinaryKind::Rem,
        IntBinaryKind::Max,
        IntBinaryKind::Min,
        IntBinaryKind::And,
        IntBinaryKind::Or,
        IntBinaryKind::Xor,
    ];

    /// `a kind b`, exactly (spec §Op: IntBinary).
    pub fn apply(self, a: i64, b: i64) -> Result<i64, IntFault> {
        if b == 0 && matches!(self, IntBinaryKind::Div | IntBinaryKind::Mod | IntBinaryKind::Rem) {
            return Err(IntFault::DivisionByZero);
        }
        // the remainder with a's sign; i64::MIN rem −1 is 0 (Rust's checked_rem calls it an overflow)
        let rem = || if b == -1 { 0 } else { a % b };
        match self {
            IntBinaryKind::Add => a.checked_add(b).ok_or(IntFault::Overflow),
            IntBinaryKind::Sub => a.checked_sub(b).ok_or(IntFault::Overflow),
            IntBinaryKind::Mul => a.checked_mul(b).ok_or(IntFault::Overflow),
            IntBinaryKind::Div => a.checked_div(b).ok_or(IntFault::Overflow),
            IntBinaryKind::Rem => Ok(rem()),
            // |r| < |b| and opposite signs: r + b cannot overflow
            IntBinaryKind::Mod => Ok(match rem() {
                r if r != 0 && (r < 0) != (b < 0) => r + b,
                r => r,
            }),
            IntBinaryKind::Max => Ok(a.max(b)),
            IntBinaryKind::Min => Ok(a.min(b)),
            IntBinaryKind::And => Ok(a & b),
            IntBinaryKind::Or => Ok(a | b),
            IntBinaryKind::Xor => Ok(a ^ b),
        }
    }
}

/// Comparison of two i64 tensors into int8 codes (spec §Op: IntCompare): element `i` of the
/// output is `true_code` where `a_i kind b_i` holds (after broadcasting), else `false_code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntCompare {
    /// The comparison `a kind b`.
    pub kind: CompareKind,
    /// The output code where the comparison holds.
    pub true_code: i8,
    /// The output code where it does not.
    pub false_code: i8,
}

/// The comparison of an [`IntCompare`] node; `≤` and `≥` are [`CompareKind::Greater`] and
/// [`CompareKind::Less`] with the two codes swapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareKind {
    /// `a = b`.
    Equal,
    /// `a < b`.
    Less,
    /// `a > b`.
    Greater,
}

impl CompareKind {
    /// Whether `a kind b` holds.
    pub fn holds(self, a: i64, b: i64) -> bool {
        match self {
            CompareKind::Equal => a == b,
            CompareKind::Less => a < b,
            CompareKind::Greater => a > b,
        }
    }
}

/// Which output of a TopK node is computed: the selected elements themselves, or their
/// positions along the axis. ONNX TopK has both outputs; the compiler emits one node per output
/// the model uses (spec §Op: TopK).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TopKOutput {
    /// The selected elements, with the input's type and quantization.
    Values,
    /// Their indices along the axis, as i64.
    Indices,
}

impl Op {
    /// Weight and bias parameters the operator carries (Conv, ConvTranspose, Dense; 0 for the
    /// others, whose tables are not counted as parameters).
    pub fn parameter_count(&self) -> u64 {
        match self {
            Op::Conv(c) => (c.weights.len() + c.bias.len()) as u64,
            Op::Dense(d) => (d.weights.len() + d.bias.len()) as u64,
            Op::ConvTranspose(c) => (c.weights.len() + c.bias.len()) as u64,
            Op::DenseWide(d) => (d.weights.len() + d.bias.len()) as u64,
            _ => 0,
        }
    }

    /// The spec section that defines the operator (`## Op: <section>` of `docs/spec.md`): the
    /// variant's name, so `Add`, `Sub` and `Mul` are `Binary` and `Max`, `Min` are `Extremum`.
    pub fn section(&self) -> &'static str {
        match self {
            Op::Binary(_) => "Binary",
            Op::Extremum(_) => "Extremum",
            other => other.kind(),
        }
    }

    /// Stable, human-readable name of the operator (CLI output, error messages): the spec
    /// section, except that Binary and Extremum name their kind (`Add`, `Max`…).
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Conv(_) => "Conv",
            Op::Dense(_) => "Dense",
            Op::Binary(b) => match b.kind {
                BinaryKind::Add => "Add",
                BinaryKind::Sub => "Sub",
                BinaryKind::Mul => "Mul",
            },
            Op::Extremum(Extremum::Max) => "Max",
            Op::Extremum(Extremum::Min) => "Min",
            Op::Lut(_) => "Lut",
            Op::View(_) => "View",
            Op::Pad(_) => "Pad",
            Op::Concat { .. } => "Concat",
            Op::MaxPool(_) => "MaxPool",
            Op::AvgPool(_) => "AvgPool",
            Op::Reduce(_) => "Reduce",
            Op::Softmax(_) => "Softmax",
            Op::ArgMax { .. } => "ArgMax",
            Op::Take { .. } => "Take",
            Op::Gather { .. } => "Gather",
            Op::LogSoftmax(_) => "LogSoftmax",
            Op::ConvTranspose(_) => "ConvTranspose",
            Op::MatMul(_) => "MatMul",
            Op::BinaryLut { .. } => "BinaryLut",
            Op::GatherDynamic { .. } => "GatherDynamic",
            Op::InstanceNorm(_) => "InstanceNorm",
            Op::IntBinary { .. } => "IntBinary",
            Op::Lrn(_) => "Lrn",
            Op::Normalize(_) => "Normalize",
            Op::CumSum(_) => "CumSum",
            Op::DenseWide(_) => "DenseWide",
            Op::TopK { .. } => "TopK",
            Op::IntCompare(_) => "IntCompare",
            Op::IntLut { .. } => "IntLut",
        }
    }
}

/// A compiled model: the content of an artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Name of the model (from the ONNX graph; diagnostics and generated contract names).
    pub name: String,
    /// Every tensor of the program; a [`TensorId`] indexes this list.
    pub tensors: Vec<TensorInfo>,
    /// Tensors with fixed values.
    pub constants: Vec<(TensorId, ConstData)>,
    /// Tensors bound by the caller at run time, in argument order (spec §Model and execution).
    pub inputs: Vec<TensorId>,
    /// Tensors returned, in order; each is defined by a node, a constant or an input.
    pub outputs: Vec<TensorId>,
    /// In execution order.
    pub nodes: Vec<Node>,
    /// Per-axis quantization of model inputs' real values (spec §IO quantization, "Per-axis
    /// input quantization"), sorted by input position; empty for most models. Not part of the
    /// postcard `Model` body: an artifact carries it after the body, in format version 2
    /// ([`crate::artifact`]), so every model without it keeps its version-1 bytes and modelId.
    #[serde(skip)]
    pub input_quant: Vec<InputQuant>,
}

/// How the real values of one model input become int8 codes when the quantization depends on
/// the index along one axis (ONNX `QuantizeLinear` with a 1-D scale and `axis`): element `i`
/// of input position [`InputQuant::input`] is quantized with `params[c]`, `c` its index along
/// [`InputQuant::axis`], instead of the tensor's own [`Quant`]. The codes mean to the program
/// what the tensor's `Quant` says: the compiler uses this to fold a per-feature affine map
/// (scikit-learn's `StandardScaler`, ONNX-ML `Scaler`) ahead of quantization, so features of
/// very different ranges keep their resolution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputQuant {
    /// Position in [`Model::inputs`].
    pub input: u32,
    /// The axis whose index selects the parameters (`< rank`).
    pub axis: u32,
    /// One per index along `axis`: scale finite and `> 0`, zero point in `[−2^24, 2^24]`
    /// (validated; wider than a tensor's, because it absorbs the folded offset).
    pub params: Vec<Quant>,
}

/// Largest `|zero_point|` of an [`InputQuant`] parameter.
pub const MAX_INPUT_ZERO_POINT: i32 = 1 << 24;

impl Model {
    /// The per-axis input quantization of input position `position`, if it has one.
    pub fn input_quant_of(&self, position: usize) -> Option<&InputQuant> {
        self.input_quant.iter().find(|q| q.input as usize == position)
    }

    /// The quantization that converts element `flat` (row-major) of input position `position`
    /// from a real value: its [`InputQuant`] parameter when the input has one, otherwise the
    /// tensor's own [`Quant`] (`None` for i64 inputs). `position` must be in range.
    pub fn input_element_quant(&self, position: usize) -> impl Fn(usize) -> Option<Quant> + '_ {
        let t = self.tensor(self.inputs[position]);
        let per_axis = self.input_quant_of(position).map(|q| {
            let axis = q.axis as usize;
            let inner: usize = t.shape[axis + 1..].iter().map(|&d| d as usize).product();
            (q, inner, t.shape[axis] as usize)
        });
        move |flat| match per_axis {
            Some((q, inner, dim)) => Some(q.params[(flat / inner.max(1)) % dim.max(1)]),
            None => t.quant,
        }
    }

    /// A model named `name` with nothing in it: no tensor, input, output, node or input
    /// quantization (valid; a builder's starting point).
    pub fn empty(name: impl Into<String>) -> Model {
        Model { name: name.into(), tensors: vec![], constants: vec![], inputs: vec![], outputs: vec![], nodes: vec![], input_quant: vec![] }
    }

    /// The tensor `id` (panics when `id` is out of range, which validation excludes).
    pub fn tensor(&self, id: TensorId) -> &TensorInfo {
        &self.tensors[id as usize]
    }

    /// A model of one Dense layer (node `fc`) over `rows` rows: int8 input `x`
    /// `[rows, in_features]` quantized by `x`, int8 output `y` `[rows, out_features]` by `y`.
    /// For tests, benchmarks and fuzzing seeds.
    pub fn single_dense(name: &str, rows: u32, dense: Dense, x: Quant, y: Quant) -> Model {
        let (k, n) = (dense.in_features, dense.out_features);
        Model {
            name: name.into(),
            tensors: vec![
                TensorInfo { name: "x".into(), shape: vec![rows, k], dtype: DType::I8, quant: Some(x) },
                TensorInfo { name: "y".into(), shape: vec![rows, n], dtype: DType::I8, quant: Some(y) },
            ],
            constants: vec![],
            inputs: vec![0],
            outputs: vec![1],
            nodes: vec![Node { name: "fc".into(), op: Op::Dense(dense), inputs: vec![0], outputs: vec![1] }],
            input_quant: vec![],
        }
    }

    /// Multiply-accumulate count of one inference (Conv and Dense, plus one per element of Mul).
    pub fn macs_per_node(&self) -> Vec<u64> {
        self.nodes
            .iter()
            .map(|n| {
                let out = n.outputs.first().map(|&t| self.tensor(t).len() as u64).unwrap_or(0);
                match &n.op {
                    Op::Conv(c) => {
                        let cin = self.tensor(n.inputs[0]).shape.get(1).copied().unwrap_or(1) as u64;
                        let k: u64 = c.kernel.iter().map(|&k| k as u64).product();
                        out * k * (cin / c.groups.max(1) as u64)
                    }
                    Op::Dense(d) => out * d.in_features as u64,
                    Op::DenseWide(d) => out * d.in_features as u64,
                    Op::ConvTranspose(c) => {
                        // every input element meets every kernel tap once per output channel of its group
                        let x = self.tensor(n.inputs[0]).len() as u64;
                        let k: u64 = c.kernel.iter().map(|&k| k as u64).product();
                        let cout = self.tensor(n.outputs[0]).shape.get(1).copied().unwrap_or(1) as u64;
                        x * k * cout / c.groups.max(1) as u64
                    }
                    Op::Binary(b) if b.kind == BinaryKind::Mul => out,
                    Op::MatMul(_) => out * self.tensor(n.inputs[0]).shape.last().copied().unwrap_or(0) as u64,
                    _ => 0,
                }
            })
            .collect()
    }

    /// Multiply-accumulate count of one inference: the sum of [`Model::macs_per_node`].
    pub fn macs(&self) -> u64 {
        self.macs_per_node().iter().sum()
    }

    /// Number of weight and bias parameters.
    pub fn parameter_count(&self) -> u64 {
        let per_node: u64 = self.nodes.iter().map(|n| n.op.parameter_count()).sum();
        let consts: u64 = self
            .constants
            .iter()
            .map(|(_, c)| match c {
                ConstData::I8(v) => v.len() as u64,
                ConstData::I64(v) => v.len() as u64,
            })
            .sum();
        per_node + consts
    }
}
