//! The quantized model: tensors, constants and the operator set of the arithmetic contract.
//!
//! A [`Model`] is a straight-line program over tensors with static shapes. Each tensor is int8
//! with a per-tensor scale and zero point ([`Quant`]), or `i64` (labels, indices). Each
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
}

/// Per-tensor affine quantization of an int8 tensor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quant {
    /// Positive, finite; metadata for IO only (no float at run time).
    pub scale: f32,
    pub zero_point: i32,
}

impl Quant {
    pub fn real(&self, q: i32) -> f64 {
        (q - self.zero_point) as f64 * self.scale as f64
    }
}

/// One tensor of the program.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorInfo {
    pub name: String,
    pub shape: Vec<u32>,
    pub dtype: DType,
    /// Present for `I8` tensors.
    pub quant: Option<Quant>,
}

impl TensorInfo {
    pub fn len(&self) -> usize {
        self.shape.iter().map(|&d| d as usize).product()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A tensor whose value is fixed in the artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ConstData {
    I8(Vec<i8>),
    I64(Vec<i64>),
}

/// One operation of the program.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Name of the ONNX node this came from (diagnostics, generated code).
    pub name: String,
    pub op: Op,
    pub inputs: Vec<TensorId>,
    pub outputs: Vec<TensorId>,
}

/// Requantization epilogue shared by accumulating ops: per output channel multiplier, then the
/// output zero point, then the clamp (a fused ReLU or Clip is a tighter clamp).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Epilogue {
    /// One per output channel, or a single one for all.
    pub multipliers: Vec<Multiplier>,
    pub output_zero_point: i32,
    pub clamp_min: i8,
    pub clamp_max: i8,
}

/// N-d convolution, `ONNX Conv` semantics on NC(spatial…) layouts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conv {
    pub kernel: Vec<u32>,
    pub strides: Vec<u32>,
    pub dilations: Vec<u32>,
    pub pads_begin: Vec<u32>,
    pub pads_end: Vec<u32>,
    pub groups: u32,
    pub input_zero_point: i32,
    /// `[C_out, C_in / groups, kernel…]`, symmetric per output channel.
    pub weights: Vec<i8>,
    /// `[C_out]`, at scale `s_in · s_w[c]`.
    pub bias: Vec<i32>,
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
    pub kernel: Vec<u32>,
    pub strides: Vec<u32>,
    pub dilations: Vec<u32>,
    pub pads_begin: Vec<u32>,
    pub pads_end: Vec<u32>,
    pub output_padding: Vec<u32>,
    pub groups: u32,
    pub input_zero_point: i32,
    /// `[C_out, C_in / groups, kernel…]`, symmetric per output channel.
    pub weights: Vec<i8>,
    pub bias: Vec<i32>,
    pub epilogue: Epilogue,
}

/// Dense layer on the last axis: `[…, K] × Wᵀ → […, N]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dense {
    pub in_features: u32,
    pub out_features: u32,
    pub input_zero_point: i32,
    /// `[N, K]`, symmetric per output feature.
    pub weights: Vec<i8>,
    /// `[N]`, at scale `s_in · s_w[n]`.
    pub bias: Vec<i32>,
    pub epilogue: Epilogue,
}

/// Element-wise binary operators between two int8 tensors (numpy broadcasting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BinaryKind {
    Add,
    Sub,
    Mul,
}

/// Quantized element-wise binary op. For `Add`/`Sub` (TFLite's scheme): both inputs are
/// shifted left by `left_shift` bits, rescaled by `a_multiplier`/`b_multiplier` to a common
/// scale, combined, and rescaled by `output_multiplier`. For `Mul` the product of the
/// zero-point-corrected inputs is rescaled by `output_multiplier`; `a_multiplier` and
/// `b_multiplier` are unused (zero).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Binary {
    pub kind: BinaryKind,
    pub a_zero_point: i32,
    pub b_zero_point: i32,
    pub left_shift: u32,
    pub a_multiplier: Multiplier,
    pub b_multiplier: Multiplier,
    pub output_multiplier: Multiplier,
    pub output_zero_point: i32,
    pub clamp_min: i8,
    pub clamp_max: i8,
}

/// Max or min of two tensors already requantized (through [`Lut`]s) to the output's scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Extremum {
    Max,
    Min,
}

/// 256-entry lookup tables: `out = table[c][in + 128]`, with `c` the index along `axis` when
/// there are several tables (per-channel affine maps, PReLU slopes) and 0 otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lut {
    pub axis: Option<u32>,
    /// `256 × number of tables`.
    pub tables: Vec<i8>,
}

/// A strided view: `out[i…] = in[offset + Σ i_k · strides[k]]` over the output's shape.
/// Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Slice, Expand and Tile are views.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct View {
    pub offset: u64,
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
    pub pads_begin: Vec<u32>,
    pub pads_end: Vec<u32>,
    pub mode: PadMode,
    /// Used by `PadMode::Constant`.
    pub value: i64,
}

/// Sliding-window pooling over the spatial axes of an NC(spatial…) tensor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pool {
    pub kernel: Vec<u32>,
    pub strides: Vec<u32>,
    pub dilations: Vec<u32>,
    pub pads_begin: Vec<u32>,
    pub pads_end: Vec<u32>,
    /// Average pooling only: whether padded positions count in the divisor.
    pub count_include_pad: bool,
    pub zero_point: i32,
}

/// Reductions over `axes` (the output keeps them as size-1 axes or drops them, as its shape says).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReduceKind {
    /// Σ(q − zp_in), requantized by `multiplier` to the output scale.
    Sum,
    /// Σ(q − zp_in) / count rounded half away, requantized by `multiplier`.
    Mean,
    Max,
    Min,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reduce {
    pub kind: ReduceKind,
    pub axes: Vec<u32>,
    pub input_zero_point: i32,
    pub multiplier: Multiplier,
    pub output_zero_point: i32,
}

/// Softmax along `axis`: `e[j] = exp_table[max − q_j]` (Q16 integers computed at compile
/// time), `out_j = clamp(round_half_away(e_j · 256 / Σe) − 128)`; output scale 1/256, zero
/// point −128.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Softmax {
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
    pub axis: u32,
    /// As [`Softmax::exp_table`].
    pub exp_table: Vec<u32>,
    /// 256 entries, `ln_table[i] = round(2^16 · ln(1 + i/256))`.
    pub ln_table: Vec<i32>,
    /// `round(s_in · 2^16)`, in `0..=2^22`.
    pub input_scale_q16: i32,
    /// `1 / (2^16 · s_out)`.
    pub multiplier: Multiplier,
    pub output_zero_point: i32,
}

/// Matrix product of two run-time int8 tensors `[…, M, K] × […, K, N]` (batch axes
/// broadcast): `acc = Σ_k (a[m, k] − za) · (b[k, n] − zb)`,
/// `out = clamp(requantize(acc, multiplier) + output_zero_point)`; `K ≤ 33025` so the sum fits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatMul {
    pub a_zero_point: i32,
    pub b_zero_point: i32,
    pub multiplier: Multiplier,
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
    pub input_zero_point: i32,
    pub output_zero_point: i32,
    pub epsilon_term: i64,
    /// One per channel, `|·| ≤ 2^36`; planes hold at most 2^16 elements.
    pub gamma_q16: Vec<i64>,
    pub beta_q16: Vec<i64>,
}

/// Local response normalization across channels of NC(spatial…). For each element,
/// `Q = Σ (q_c' − zp_in)²` over channels `c' ∈ [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉]` inside the
/// tensor, `F = factors[min(Q >> sum_shift, factors.len() − 1)]`,
/// `out = clamp(zp_out + requantize((q_c − zp_in) · F, multiplier))`. (`factors` tabulates
/// `2^16 · (bias + α/size · s_in² · Q)^(−β)` at bucket centres; `multiplier = s_in / (2^16 s_out)`.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lrn {
    pub size: u32,
    pub input_zero_point: i32,
    pub output_zero_point: i32,
    pub sum_shift: u32,
    /// 1 to 4096 entries in `0..=2^23`.
    pub factors: Vec<i32>,
    pub multiplier: Multiplier,
}

/// How [`Normalize`] measures a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NormKind {
    L1,
    L2,
}

/// Rows of the last axis scaled to unit norm (`ai.onnx.ml` Normalizer): with
/// `d_j = q_j − zp_in`, L1: `D = Σ|d|`, `out_j = clamp(zp_out + round_half_away(d_j · 2^k / D))`;
/// L2: `r = isqrt(Σ d² · 2^16)`, `out_j = clamp(zp_out + round_half_away(d_j · 2^(k+8) / r))`;
/// a zero row gives `zp_out`. The output scale is exactly `2^−k`. Arithmetic in i64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalize {
    pub kind: NormKind,
    pub input_zero_point: i32,
    pub output_zero_point: i32,
    /// `k` in `0..=8`.
    pub scale_log2: u32,
}

/// The operator set. New variants go at the end: the variant index is part of the encoding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Op {
    Conv(Conv),
    Dense(Dense),
    Binary(Binary),
    Extremum(Extremum),
    Lut(Lut),
    View(View),
    Pad(Pad),
    /// Concatenation along an axis; inputs share the output's quantization.
    Concat {
        axis: u32,
    },
    MaxPool(Pool),
    AvgPool(Pool),
    Reduce(Reduce),
    Softmax(Softmax),
    /// Index of the first (or last) maximum along `axis`, as i64.
    ArgMax {
        axis: u32,
        select_last_index: bool,
    },
    /// `out[i] = table[in[i]]` for i64 inputs (class labels from an argmax).
    Take {
        table: Vec<i64>,
    },
    /// Gather along `axis` with constant indices (negative indices already resolved).
    Gather {
        axis: u32,
        indices: Vec<u32>,
    },
    LogSoftmax(LogSoftmax),
    ConvTranspose(ConvTranspose),
    MatMul(MatMul),
    /// Any element-wise function of two int8 tensors (numpy broadcasting), tabulated:
    /// `out = table[(a + 128) · 256 + (b + 128)]` (65536 entries).
    BinaryLut {
        table: Vec<i8>,
    },
    /// Gather along `axis` with run-time i64 indices (input 1); negative indices count from
    /// the end; an index outside the axis is a run-time error.
    GatherDynamic {
        axis: u32,
    },
    InstanceNorm(InstanceNorm),
    /// Exact integer arithmetic on two i64 tensors (numpy broadcasting): Add, Sub or Mul;
    /// a result outside i64 is a run-time error.
    IntBinary {
        kind: BinaryKind,
    },
    Lrn(Lrn),
    Normalize(Normalize),
}

impl Op {
    /// Stable, human-readable name of the operator (spec section, CLI output).
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
        }
    }
}

/// A compiled model: the content of an artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub name: String,
    pub tensors: Vec<TensorInfo>,
    /// Tensors with fixed values.
    pub constants: Vec<(TensorId, ConstData)>,
    pub inputs: Vec<TensorId>,
    pub outputs: Vec<TensorId>,
    /// In execution order.
    pub nodes: Vec<Node>,
}

impl Model {
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

    pub fn macs(&self) -> u64 {
        self.macs_per_node().iter().sum()
    }

    /// Number of weight and bias parameters.
    pub fn parameter_count(&self) -> u64 {
        let per_node: u64 = self
            .nodes
            .iter()
            .map(|n| match &n.op {
                Op::Conv(c) => (c.weights.len() + c.bias.len()) as u64,
                Op::Dense(d) => (d.weights.len() + d.bias.len()) as u64,
                Op::ConvTranspose(c) => (c.weights.len() + c.bias.len()) as u64,
                _ => 0,
            })
            .sum();
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
