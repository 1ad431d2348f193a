//! Solidity emitter (first slice of the pure-EVM backend): a quantized model becomes
//! `NAME.sol`, a contract with `predictQ(bytes)` (raw int8 in, packed outputs out) and
//! `predict(int256[])` (18-decimal fixed point in and out), plus the `stdlib-sol` files it
//! imports, written beside it so the directory compiles with plain forge.
//!
//! Dense layers are generated per layer as straight-line Yul with the weights compiled into
//! the code: for a group of `L` output features packed as lanes of one 256-bit word,
//! `acc += COLUMN_k · (x_k − zp)` costs one PUSH32, one MLOAD and one MUL for `L` MACs
//! ([`dense`]). Each dense layer is a contract of its own (EIP-170 caps a contract at 24,576
//! bytes of code), deployed by the model's constructor. Lut, Softmax and ArgMax call the
//! generic `stdlib-sol` kernels; Take and contiguous views are inline.
//!
//! Supported ops for now: Dense, Lut, Softmax (last axis), ArgMax, Take, View (contiguous
//! reshapes). Others fail with a clear error naming them.

pub mod dense;

use std::fmt::Write;

use solidml_spec::{DType, Model, Op, TensorId, io::scale_parts};

/// The `stdlib-sol` sources a generated contract imports, written next to it.
pub const STDLIB: &[(&str, &str)] = &[
    ("SolidMLMath.sol", include_str!("../../../stdlib-sol/src/SolidMLMath.sol")),
    ("kernels/Epilogue.sol", include_str!("../../../stdlib-sol/src/kernels/Epilogue.sol")),
    ("kernels/Lut.sol", include_str!("../../../stdlib-sol/src/kernels/Lut.sol")),
    ("kernels/Softmax.sol", include_str!("../../../stdlib-sol/src/kernels/Softmax.sol")),
    ("kernels/ArgMax.sol", include_str!("../../../stdlib-sol/src/kernels/ArgMax.sol")),
];

/// Files of an emitted model: `(relative path, contents)`.
pub type Files = Vec<(String, String)>;

fn ident(name: &str) -> String {
    let mut s: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    if s.chars().next().is_none_or(|c| c.is_ascii_digit()) {
        s.insert(0, 'M');
    }
    s
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn shape_literal(shape: &[u32]) -> String {
    format!("_shape([{}])", shape.iter().map(|d| format!("uint256({d})")).collect::<Vec<_>>().join(", "))
}

/// Emit `NAME.sol` and its imports for a model, or say which ops are not supported yet.
pub fn emit(model: &Model, model_id: &[u8; 32]) -> Result<Files, String> {
    let unsupported: Vec<String> = model
        .nodes
        .iter()
        .filter(|n| !matches!(n.op, Op::Dense(_) | Op::Lut(_) | Op::Softmax(_) | Op::ArgMax { .. } | Op::Take { .. } | Op::View(_)))
        .map(|n| format!("`{}` ({})", n.name, n.op.kind()))
        .collect();
    if !unsupported.is_empty() {
        return Err(format!("the Solidity backend does not support these nodes yet: {}", unsupported.join(", ")));
    }
    let name = ident(&model.name);
    let mut files: Files = STDLIB.iter().map(|(p, c)| (p.to_string(), c.to_string())).collect();
    let mut body = String::new();
    let mut consts = String::new();
    let mut layers = vec![];
    let var = |t: TensorId| format!("t{t}");
    for (k, n) in model.nodes.iter().enumerate() {
        let x = n.inputs.first().copied().unwrap_or(0);
        let (xin, xout) = (model.tensor(x), model.tensor(n.outputs[0]));
        let y = var(n.outputs[0]);
        let _ = writeln!(body, "        // {} ({})", n.name, n.op.kind());
        match &n.op {
            Op::Dense(d) => {
                let contract = format!("{name}_L{k}");
                let rows = (xin.len() / d.in_features as usize) as u32;
                files.push((format!("{contract}.sol"), dense::contract(&contract, d, rows)?));
                let _ = writeln!(body, "        bytes memory {y} = {contract}(layer{k}).run({});", var(x));
                layers.push((k, contract));
            }
            Op::Lut(l) => {
                let _ = writeln!(consts, "    bytes constant LUT_{k} = hex\"{}\";", hex(&l.tables.iter().map(|&v| v as u8).collect::<Vec<_>>()));
                let (has, axis) = (l.axis.is_some(), l.axis.unwrap_or(0));
                let _ = writeln!(body, "        bytes memory {y} = LutKernel.lut({}, {}, {has}, {axis}, LUT_{k});", var(x), shape_literal(&xin.shape));
            }
            Op::Softmax(s) => {
                let table: Vec<u8> = s.exp_table.iter().flat_map(|e| e.to_be_bytes()).collect();
                let _ = writeln!(consts, "    bytes constant EXP_{k} = hex\"{}\";", hex(&table));
                let _ = writeln!(body, "        bytes memory {y} = SoftmaxKernel.softmax({}, {}, {}, EXP_{k});", var(x), shape_literal(&xin.shape), s.axis);
            }
            Op::ArgMax { axis, select_last_index } => {
                let _ = writeln!(body, "        int64[] memory {y} = ArgMaxKernel.argmax({}, {}, {axis}, {select_last_index});", var(x), shape_literal(&xin.shape));
            }
            Op::Take { table } => {
                let _ = writeln!(consts, "    bytes constant TAKE_{k} = hex\"{}\";", hex(&table.iter().flat_map(|v| v.to_be_bytes()).collect::<Vec<_>>()));
                let _ = writeln!(body, "        int64[] memory {y} = _take({}, TAKE_{k});", var(x));
            }
            Op::View(v) => {
                let contiguous = v.offset == 0 && v.strides == crate::solidity::row_major(&xout.shape);
                if !contiguous {
                    return Err(format!("node `{}`: only contiguous views (reshapes) are supported by the Solidity backend yet", n.name));
                }
                let ty = if xout.dtype == DType::I8 { "bytes" } else { "int64[]" };
                let _ = writeln!(body, "        {ty} memory {y} = {};", var(x));
            }
            _ => unreachable!("checked above"),
        }
    }
    // outputs: int8 tensors as their bytes, int64 tensors as 8-byte big-endian words
    let mut pack = String::new();
    let mut io_doc = String::new();
    for (i, &o) in model.outputs.iter().enumerate() {
        let t = model.tensor(o);
        let _ = writeln!(pack, "        outs[{i}] = {};", if t.dtype == DType::I8 { var(o) } else { format!("_packI64({})", var(o)) });
        let q = t.quant.map(|q| format!("scale {:e}, zero point {}", q.scale, q.zero_point)).unwrap_or_else(|| "int64 (plain integers)".into());
        let _ = writeln!(io_doc, "/// Output {i} `{}` {:?}: {q}.", t.name, t.shape);
    }
    let input = model.tensor(model.inputs[0]);
    let iq = input.quant.ok_or("the Solidity backend needs an int8 model input")?;
    if model.inputs.len() != 1 {
        return Err("the Solidity backend supports single-input models for now".into());
    }
    let (im, ie) = scale_parts(iq.scale);
    let mut dequant = String::new();
    for (i, &o) in model.outputs.iter().enumerate() {
        let t = model.tensor(o);
        match t.quant {
            Some(q) => {
                let (m, e) = scale_parts(q.scale);
                let _ = writeln!(dequant, "        out[{i}] = new int256[](raw[{i}].length);\n        for (uint256 j; j < raw[{i}].length; ++j) out[{i}][j] = SolidMLMath.dequantizeFixed18(int8(uint8(raw[{i}][j])), {m}, {e}, {});", q.zero_point);
            }
            None => {
                let _ = writeln!(dequant, "        out[{i}] = new int256[](raw[{i}].length / 8);\n        for (uint256 j; j < out[{i}].length; ++j) out[{i}][j] = int256(int64(uint64(bytes8(_slice8(raw[{i}], j)))));");
            }
        }
    }
    let layer_fields: String = layers.iter().map(|(k, _)| format!("    address public immutable layer{k};\n")).collect();
    let layer_deploys: String = layers.iter().map(|(k, c)| format!("        layer{k} = address(new {c}());\n")).collect();
    let imports: String = layers.iter().map(|(_, c)| format!("import {{{c}}} from \"./{c}.sol\";\n")).collect();
    let n_out = model.outputs.len();
    let in_len = input.len();
    let sol = format!(
        r#"// SPDX-License-Identifier: MIT
// Generated by `solidml compile` from model `{model_name}`. Do not edit.
// Compile with the optimizer on and high `optimizer_runs` (≥ 10000): low runs make solc
// replace the PUSH32 weight constants with CODECOPY sequences.
pragma solidity ^0.8.27;

import {{SolidMLMath}} from "./SolidMLMath.sol";
import {{LutKernel}} from "./kernels/Lut.sol";
import {{SoftmaxKernel}} from "./kernels/Softmax.sol";
import {{ArgMaxKernel}} from "./kernels/ArgMax.sol";
{imports}
/// @title {name}: the SolidML model `{model_name}` in pure Solidity, bit-exact with the CPU reference.
/// @notice Input `{in_name}` {in_shape:?}: scale {in_scale:e}, zero point {in_zp}.
{io_doc}contract {name} {{
    /// keccak256 of the model artifact.
    bytes32 public constant MODEL_ID = 0x{model_id};

    /// `predictQ`/`predict` got an input of the wrong length.
    error InputLength(uint256 expected, uint256 got);
    /// An index produced by the model falls outside a label table.
    error IndexOutOfRange(uint256 index, uint256 length);

{layer_fields}{consts}
    constructor() {{
{layer_deploys}    }}

    /// Raw quantized inputs (int8 codes, {in_len} bytes) to the outputs, concatenated: int8
    /// outputs one byte per element, int64 outputs 8 bytes big-endian per element.
    function predictQ(bytes calldata q) external view returns (bytes memory out) {{
        if (q.length != {in_len}) revert InputLength({in_len}, q.length);
        bytes[] memory outs = _forward(q);
        for (uint256 i; i < outs.length; ++i) out = bytes.concat(out, outs[i]);
    }}

    /// 18-decimal fixed-point inputs to one array per output (18-decimal fixed point;
    /// integer outputs as plain integers), by the spec's exact IO formulas.
    function predict(int256[] calldata input) external view returns (int256[][] memory out) {{
        if (input.length != {in_len}) revert InputLength({in_len}, input.length);
        bytes memory q = new bytes({in_len});
        for (uint256 i; i < {in_len}; ++i) q[i] = bytes1(uint8(int8(SolidMLMath.quantizeFixed18(input[i], {im}, {ie}, {in_zp}))));
        bytes[] memory raw = _forward(q);
        out = new int256[][]({n_out});
{dequant}    }}

    function _forward(bytes memory {input_var}) private view returns (bytes[] memory outs) {{
{body}        outs = new bytes[]({n_out});
{pack}    }}

    function _shape(uint256[{dummy}] memory) private pure returns (uint256[] memory) {{ revert(); }}
}}
"#,
        model_name = model.name,
        model_id = hex(model_id),
        in_name = input.name,
        in_shape = input.shape,
        in_scale = iq.scale,
        in_zp = iq.zero_point,
        input_var = var(model.inputs[0]),
        dummy = 1,
    );
    let sol = finish_helpers(sol, model);
    files.push((format!("{name}.sol"), sol));
    Ok(files)
}

/// Row-major strides of a shape, as a View's strides.
pub fn row_major(shape: &[u32]) -> Vec<i64> {
    let mut s = vec![1i64; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1] as i64;
    }
    s
}

/// Replace the placeholder with the shape builders the body uses, and add the helpers.
fn finish_helpers(sol: String, model: &Model) -> String {
    let mut ranks: Vec<usize> = model.nodes.iter().map(|n| model.tensor(n.inputs[0]).shape.len()).collect();
    ranks.sort_unstable();
    ranks.dedup();
    let mut helpers = String::new();
    for r in ranks {
        let _ = writeln!(
            helpers,
            "    function _shape(uint256[{r}] memory s) private pure returns (uint256[] memory v) {{\n        v = new uint256[]({r});\n        for (uint256 i; i < {r}; ++i) v[i] = s[i];\n    }}\n"
        );
    }
    helpers.push_str(
        r#"    function _slice8(bytes memory b, uint256 i) private pure returns (bytes8 r) {
        assembly { r := mload(add(add(b, 32), mul(i, 8))) }
    }

    function _take(int64[] memory idx, bytes memory table) private pure returns (int64[] memory y) {
        uint256 n = table.length / 8;
        y = new int64[](idx.length);
        for (uint256 i; i < idx.length; ++i) {
            if (idx[i] < 0 || uint256(int256(idx[i])) >= n) revert IndexOutOfRange(uint256(int256(idx[i])), n);
            y[i] = int64(uint64(_slice8(table, uint256(int256(idx[i])))));
        }
    }

    function _packI64(int64[] memory v) private pure returns (bytes memory b) {
        b = new bytes(v.length * 8);
        for (uint256 i; i < v.length; ++i) {
            bytes8 w = bytes8(uint64(v[i]));
            for (uint256 j; j < 8; ++j) b[i * 8 + j] = w[j];
        }
    }
"#,
    );
    sol.replace("    function _shape(uint256[1] memory) private pure returns (uint256[] memory) { revert(); }\n", &helpers)
}
