//! Solidity emitter of the pure-EVM backend: a quantized model becomes `NAME.sol`, one
//! contract with `predictQ(bytes)` (raw codes in: int8 one byte each, int16/int32 2/4 bytes
//! big-endian; packed outputs out) and `predict(int256[])` (18-decimal fixed point in and
//! out), bit-exact with the CPU reference.
//!
//! **Shape of the code.** Shapes are static, so the emitter plans memory at compile time:
//! every tensor gets a fixed region of memory and the whole forward pass is one inline-Yul
//! block over constant addresses (`mload(0x1a0)`), one commented section per ONNX node. No
//! Solidity arrays, no bounds checks that the plan already proves, no external calls unless the
//! code does not fit one contract.
//!
//! **Values.** int8 tensors live as bytes (their codes), or — when every consumer is a
//! one-row Dense — as 32-byte words holding the *biased* value `x + 128` (see [`layer`]); i64
//! tensors, and the int16/int32 codes of the wide precisions, as 32-byte signed words.
//!
//! **DenseWide** (`ops/dense_wide.rs`, the 16x8 and 16x16 precisions): Dense's packed lanes
//! with lanes as wide as the exact i64 accumulators need, and the exact `scale_wide` rounding
//! folded into one SAR per output; in the compact layout, 16-bit (or, for 16x8 weights, 8-bit)
//! weight fields in 64-bit lanes.
//!
//! **Dense and Conv** ([`layer`]): weights compiled into the code as PUSH32 constants spread
//! into lanes, one MUL per `⌊256/W⌋` MACs, the epilogue specialised per channel. Conv is a
//! Dense over an im2col gather (a compile-time index table), per group. Layers whose code does
//! not fit EIP-170's 24,576 bytes go, by groups of output lanes, into part contracts the
//! constructor deploys and `_forward` calls with the input words as calldata.
//!
//! **Deployment.** `new NAME()` deploys the model with its part (and, in the compact layout,
//! data) contracts in one transaction while the init code stays under EIP-3860's 49,152 bytes
//! (estimated; every example model). Beyond, the model deploys split ([`Emitted`]): the parts
//! first, one transaction each, then `NAME` with their addresses (`constructor(address[])`),
//! which checks each one (a part answers empty calldata with its tag, a data contract is known
//! by its code hash) and reverts with `WrongPart(index, address)` otherwise;
//! `NAMEDeploy.deploy()` (generated) runs the sequence, one transaction per `new` in a forge
//! script.
//!
//! **Index ops** (View, Pad, Gather, Concat, and the windows of MaxPool/AvgPool) are gathers
//! through index tables computed here with the CPU reference's own index functions.
//!
//! **Every operator of the spec** has a kernel (`ops/<op>.rs`): ConvTranspose goes through
//! Conv's layer code with its own tap table; MatMul, LogSoftmax, InstanceNorm, Lrn and the
//! other non-layer ops are Yul loops; BinaryLut's 65,536-entry table lives in data contracts
//! (as the compact layout's weights do) and is read with EXTCODECOPY; IntBinary computes in
//! 256-bit words and reverts with `IntegerOverflow(operand)` outside int64 and
//! `DivisionByZero(operand)` for a zero divisor; GatherDynamic
//! reverts with `IndexOutOfRange(index, length)` like Take. Constant tensors are written into
//! their memory at the start of each call.

pub mod compact;
mod contract;
pub mod gas;
pub mod layer;
pub mod names;
pub mod ops;
mod plan;
pub mod precompile_contract;
pub mod solc;
pub mod steps;
mod yul;

use solidml_spec::{ConstData, Model};

use crate::{
    contract::emit_contract,
    plan::{Ctx, Loc},
    yul::ident,
};

/// Where weights live in the generated code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SolidityLayout {
    /// Weights compiled into the code as lane-spread PUSH32 constants: the least gas per
    /// inference (~1.5 gas per MAC). Default: a model is deployed once and run many times.
    #[default]
    Fast,
    /// Dense/Conv weights as raw bytes (one per weight) read at run time, in the contract's
    /// code or in data contracts: 3–4× less deployment gas, ~3× the gas per MAC (see
    /// [`compact`]).
    Compact,
}

/// Options of the Solidity emitter.
#[derive(Debug, Clone, Default)]
pub struct SolidityOptions {
    /// Where the Dense/Conv weights live: code constants (Fast, the default) or raw bytes
    /// (Compact).
    pub layout: SolidityLayout,
    /// Compact layout: keep the weights in data contracts even when they fit the model
    /// contract (tests of that path; the default places them by size).
    pub force_data_contracts: bool,
    /// Deploy in several transactions even when one would do (tests of that path; by default
    /// a model splits only when `new NAME()`'s init code would pass EIP-3860's limit).
    pub force_split_deployment: bool,
    /// Run every node's code in a stage contract of its own (tests of that path; by default
    /// the forward pass is cut into stages only when the main contract would pass EIP-170).
    pub force_stages: bool,
}

impl SolidityOptions {
    /// Options with `layout`, otherwise the defaults.
    pub fn with_layout(layout: SolidityLayout) -> Self {
        SolidityOptions { layout, ..Default::default() }
    }
}

/// Everything the Solidity backend can report.
#[derive(Debug, thiserror::Error)]
pub enum SolidityError {
    /// The backend has no kernel for this node's operator (see [`ops::REFUSED`]).
    #[error("node `{node}` ({op}): not supported by the Solidity backend yet")]
    Unsupported {
        /// The node's name.
        node: String,
        /// The spec operator.
        op: &'static str,
    },
    /// The operator is supported, but not this instance of it (a size, a range).
    #[error("node `{node}` ({op}): {reason}")]
    Node {
        /// The node's name.
        node: String,
        /// The spec operator.
        op: &'static str,
        /// What is out of reach.
        reason: String,
    },
    /// The model as a whole cannot be emitted (constants, too many parts, an IO scale).
    #[error("{0}")]
    Model(String),
    /// No solc executable.
    #[error("no solc found: set SOLC or FOUNDRY_BIN, or run scripts/foundry-env.sh")]
    SolcNotFound,
    /// solc could not be run.
    #[error("running {path}: {reason}")]
    SolcRun {
        /// The solc executable.
        path: String,
        /// What failed.
        reason: String,
    },
    /// solc reported compile errors.
    #[error("solc reported errors:\n{0}")]
    SolcCompile(String),
    /// A contract missing from solc's output.
    #[error("contract `{0}` is not in solc's output")]
    MissingContract(String),
    /// A gas measurement failed (a deployment or a call reverted, outputs differ).
    #[error("{0}")]
    Measure(String),
    /// A file could not be written.
    #[error("cannot write `{path}`: {reason}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        reason: String,
    },
}

/// Why one node could not be emitted (turned into a [`SolidityError`] naming the node).
#[derive(Debug)]
pub(crate) enum NodeFailure {
    /// No kernel for the operator (those of [`ops::REFUSED`]: none today; an operator added to
    /// the spec before its Solidity kernel is refused through this).
    #[allow(dead_code)]
    Unsupported,
    /// A reason particular to this node.
    Reason(String),
}

impl From<String> for NodeFailure {
    fn from(reason: String) -> Self {
        NodeFailure::Reason(reason)
    }
}

impl From<&str> for NodeFailure {
    fn from(reason: &str) -> Self {
        NodeFailure::Reason(reason.into())
    }
}

/// Files of an emitted model: `(relative path, contents)`.
pub type Files = Vec<(String, String)>;

/// An emitted model: its files and how it deploys.
#[derive(Debug, Clone)]
pub struct Emitted {
    /// The Solidity files, `(relative path, contents)`: `NAME.sol`, its part and data
    /// contracts, and `NAMEDeploy.sol` when the deployment is split.
    pub files: Files,
    /// The model contract's name.
    pub contract: String,
    /// Empty: `new NAME()` deploys the model and its part and data contracts in one
    /// transaction. Otherwise the contracts to deploy first, in order, each in a transaction of
    /// its own (EIP-3860 caps init code at 49,152 bytes, and the constructor's `new` would put
    /// all their code into one); `NAME`'s constructor then takes their addresses
    /// (`constructor(address[] parts)`) and checks each one, and `NAMEDeploy.deploy()` does
    /// the whole sequence (from a forge script: one transaction per `new`).
    pub split_parts: Vec<String>,
}

/// Init code bytes above which a model deploys in several transactions (EIP-3860: 49,152;
/// the emitter's code size estimates leave the margin).
pub(crate) const SPLIT_INITCODE: usize = 40_000;

/// Max code bytes of one contract (EIP-170).
pub(crate) const MAX_CODE: usize = 24_576;
/// Budget for straight-line layer code in the main contract (the rest: IO, other ops).
pub(crate) const MAIN_LAYER_BUDGET: usize = 17_000;
/// Budget for one part contract.
pub(crate) const PART_BUDGET: usize = 22_500;
/// Estimated code budget of one stage contract's forward code.
pub(crate) const STAGE_BUDGET: usize = 21_000;

/// The Solidity contract name `solidml compile` gives a model: its name made an identifier
/// (other characters become `_`; a name that starts with a digit, or is a keyword or an
/// imported library's name ([`names::reserved`]), gets an `M` in front: `1model` →
/// `M1model`, `contract` → `Mcontract`, `SolidML` → `MSolidML`).
pub fn contract_name(model_name: &str) -> String {
    ident(model_name)
}

/// `x` as a 32-byte two's-complement word.
fn word_of(x: i64) -> [u8; 32] {
    let mut w = [if x < 0 { 0xff } else { 0 }; 32];
    w[24..].copy_from_slice(&x.to_be_bytes());
    w
}

/// Emit `NAME.sol` (and part contracts where needed) for a model, or say which node cannot be.
pub fn emit(model: &Model, model_id: &[u8; 32]) -> Result<Files, SolidityError> {
    emit_with(model, model_id, &SolidityOptions::default())
}

/// [`emit`] with options.
pub fn emit_with(model: &Model, model_id: &[u8; 32], opts: &SolidityOptions) -> Result<Files, SolidityError> {
    emit_model(model, model_id, opts).map(|e| e.files)
}

/// [`emit_with`], also saying how the model deploys ([`Emitted`]).
pub fn emit_model(model: &Model, model_id: &[u8; 32], opts: &SolidityOptions) -> Result<Emitted, SolidityError> {
    emit_model_with_functions(model, model_id, opts, String::new())
}

/// [`emit_model`] with `extra` Solidity (functions, errors) inside the contract's body (the
/// step contracts' shell, [`steps`]).
pub(crate) fn emit_model_with_functions(
    model: &Model,
    model_id: &[u8; 32],
    opts: &SolidityOptions,
    extra: String,
) -> Result<Emitted, SolidityError> {
    let name = ident(&model.name);
    let mut cx = Ctx {
        m: model,
        next: 0x80,
        loc: vec![None; model.tensors.len()],
        range: vec![(-128, 127); model.tensors.len()],
        code: String::new(),
        node_ends: vec![],
        parts: vec![],
        main_budget: MAIN_LAYER_BUDGET,
        name: name.clone(),
        compact: opts.layout == SolidityLayout::Compact,
        data: compact::State::new(model, opts.force_data_contracts, opts.layout == SolidityLayout::Compact),
        part_bytes: vec![],
        force_split: opts.force_split_deployment,
        force_stages: opts.force_stages,
        extra,
        fused: vec![false; model.nodes.len()],
    };
    // inputs
    let mut in_len = 0usize;
    let mut inputs = vec![];
    for &t in &model.inputs {
        let info = model.tensor(t);
        let l = cx.place_output(t);
        inputs.push((t, l, in_len, info.len()));
        in_len += info.dtype.packed_bytes() * info.len();
    }
    // constants, bound after the inputs (spec §Model and execution): written into their
    // memory at the start of every call (PUSH32 stores, or a copy from data contracts)
    for (t, data) in &model.constants {
        cx.line(&format!("// constant {}", model.tensor(*t).name));
        let bytes: Vec<u8> = match (cx.place_output(*t), data) {
            (Loc::Bytes(_), ConstData::I8(v)) => {
                cx.range[*t as usize] = (v.iter().copied().min().unwrap_or(0) as i32, v.iter().copied().max().unwrap_or(0) as i32);
                v.iter().map(|&q| q as u8).collect()
            }
            // biased words `q + 128`
            (Loc::Words(_), ConstData::I8(v)) => v.iter().flat_map(|&q| word_of((q as i64) + 128)).collect(),
            (Loc::I64(_), ConstData::I64(v)) => v.iter().flat_map(|&x| word_of(x)).collect(),
            _ => return Err(SolidityError::Model(format!("constant `{}`: its data does not match its dtype", model.tensor(*t).name))),
        };
        let at = cx.at(*t).addr();
        cx.table(at, &bytes);
    }
    cx.node_ends.push(cx.code.len());
    for (ni, n) in model.nodes.iter().enumerate() {
        if cx.fused[ni] {
            cx.line(&format!("// {} ({}): computed with the node before it", n.name, n.op.kind()));
            cx.node_ends.push(cx.code.len());
            continue;
        }
        cx.line(&format!("// {} ({})", n.name, n.op.kind()));
        ops::emit_node(&mut cx, n).map_err(|e| match e {
            NodeFailure::Unsupported => SolidityError::Unsupported { node: n.name.clone(), op: n.op.kind() },
            NodeFailure::Reason(reason) => SolidityError::Node { node: n.name.clone(), op: n.op.kind(), reason },
        })?;
        cx.node_ends.push(cx.code.len());
    }
    emit_contract(&mut cx, model_id, &inputs, in_len).map_err(SolidityError::Model)
}

#[cfg(test)]
mod tests {
    use solidml_spec::{DType, IntBinaryKind, Model, Node, Op, Quant, TensorInfo};

    use super::*;
    use crate::yul::*;

    fn model(op: Op) -> Model {
        let t = |n: &str, dtype| TensorInfo {
            name: n.into(),
            shape: vec![1, 4],
            dtype,
            quant: (dtype == DType::I8).then_some(Quant { scale: 0.5, zero_point: 0 }),
        };
        Model {
            name: "m".into(),
            tensors: vec![t("x", DType::I64), t("y", DType::I64)],
            constants: vec![],
            inputs: vec![0],
            outputs: vec![1],
            nodes: vec![Node { name: "the_node".into(), op, inputs: vec![0, 0], outputs: vec![1] }],
            input_quant: vec![],
        }
    }

    #[test]
    fn exact_int64_ops_revert_on_overflow() {
        let files = emit(&model(Op::IntBinary { kind: IntBinaryKind::Add }), &[0; 32]).unwrap();
        let sol = &files.iter().find(|(p, _)| p == "m.sol").unwrap().1;
        assert!(sol.contains("error IntegerOverflow(int256 operand);") && sol.contains("// the_node (IntBinary)"), "{sol}");
        assert!(sol.contains(&format!("shl(224, {})", selector("IntegerOverflow(int256)"))), "{sol}");
    }

    #[test]
    fn quantize_and_dequantize_yul_use_the_scale_parts() {
        // scale 0.5 = 2^23 · 2^-24: D = 1e18 · 2^23, sh = 24
        let q = quantize_yul_in(0.5, 3, "x", (-128, 127)).unwrap();
        assert!(q.contains("shl(24, w)") && q.contains(&format!("mod(w, {})", 1_000_000_000_000_000_000i128 * (1 << 23))), "{q}");
        let d = dequantize_yul(0.5, 3).unwrap();
        assert!(d.contains("sar(24, v)") && d.contains("sub(xb, 131)"), "{d}");
        assert!(dequantize_yul(f32::MAX, 0).is_err());
    }
}
