//! `NAMEPrecompile.sol`: the generated contract's sibling that runs the model through the
//! SolidML precompile instead of in EVM code.
//!
//! Same interface as the pure-Solidity `NAME` contract (`predictQ`, `predict`, `MODEL_ID`,
//! `InputLength`), so a caller can switch between them: `predictQ` forwards the packed inputs
//! to `SolidML.run`; `predict` quantizes 18-decimal fixed-point inputs with the spec's formula
//! (`SolidMLMath.quantizeFixed18`; int64 inputs are taken as plain integers), calls the
//! precompile and dequantizes each output (`dequantizeFixed18`; int64 outputs as integers).
//! It needs the model in the node's store (`solidml precompile --store`, the dev node).

use std::fmt::Write;

use solidml_spec::{DType, InputQuant, Model, io::scale_parts};

/// The `stdlib-sol` files the sibling imports.
pub const IMPORTS: &[(&str, &str)] = &[
    ("SolidML.sol", include_str!("../../../stdlib-sol/src/SolidML.sol")),
    ("SolidMLMath.sol", include_str!("../../../stdlib-sol/src/SolidMLMath.sol")),
];

/// Solidity statements calling `call(c, m, e, zp)` once per parameter `c` of an input quantized
/// per index of an axis, with `i` the element (row-major) and `m · 2^e` and `zp` its
/// parameter's scale and zero point (spec §IO quantization, per-axis input quantization).
fn per_axis_loops(shape: &[u32], iq: &InputQuant, call: &dyn Fn(i128, i32, i32) -> String) -> String {
    let axis = iq.axis as usize;
    let dim = shape[axis] as usize;
    let inner: usize = shape[axis + 1..].iter().map(|&d| d as usize).product();
    let outer: usize = shape[..axis].iter().map(|&d| d as usize).product();
    let mut code = String::new();
    for (c, p) in iq.params.iter().enumerate() {
        let (m, e) = scale_parts(p.scale);
        let _ = writeln!(
            code,
            "        for (uint256 o; o < {outer}; ++o) for (uint256 t; t < {inner}; ++t) {{ uint256 i = (o * {dim} + {c}) * {inner} + t; {} }}",
            call(m, e, p.zero_point)
        );
    }
    code
}

/// The sibling's exact IO conversions for the int16 and int32 codes (`SolidMLMath` has the
/// int8 ones): io.rs `quantize_fixed18_in` and `dequantize_fixed18`, and their packing as
/// 2 or 4 bytes big-endian.
const WIDE_HELPERS: &str = r#"
    /// io.rs `quantize_fixed18_in`: `clamp(zp + round_half_even(x / (1e18 · m · 2^e)), lo, hi)`,
    /// exact, with the reference's range rules (as `SolidMLMath.quantizeFixed18`).
    function _quantize(int256 x, int256 m, int256 e, int256 zp, int256 lo, int256 hi) private pure returns (int256 c) {
        int256 bound = int256(1) << 100;
        if (x > bound) x = bound;
        else if (x < -bound) x = -bound;
        int256 num;
        int256 den;
        if (e >= 0) {
            // den = 1e18 · m · 2^e must fit i128 (and e <= 60), else (0, 1)
            int256 d = e <= 60 ? 1e18 * m << uint256(e) : int256(0);
            if (e <= 60 && d <= type(int128).max) (num, den) = (x, d);
            else (num, den) = (0, 1);
        } else {
            uint256 sh = uint256(-e);
            if (sh > 126) sh = 126;
            int256 n = x << sh; // |x| <= 2^100, sh <= 126: exact
            if (n >= type(int128).min && n <= type(int128).max) (num, den) = (n, 1e18 * m);
            else (num, den) = (x > 0 ? int256(1) << 120 : -(int256(1) << 120), 1);
        }
        c = _divRoundHalfEven(num, den) + zp;
        if (c < lo) c = lo;
        else if (c > hi) c = hi;
    }

    /// io.rs `dequantize_fixed18`: `round_half_even((q - zp) · m · 1e18 · 2^e)`, saturated to
    /// the int128 range.
    function _dequantize(int256 q, int256 m, int256 e, int256 zp) private pure returns (int256 r) {
        int256 v = (q - zp) * m * 1e18; // |v| < 2^117
        if (e < 0) {
            uint256 sh = uint256(-e);
            if (sh > 126) sh = 126;
            return _divRoundHalfEven(v, int256(1) << sh);
        }
        r = v << uint256(e); // e <= 104: exact
        if (r > type(int128).max) r = type(int128).max;
        else if (r < type(int128).min) r = type(int128).min;
    }

    /// `num / den` rounded half to even, `den > 0` (io.rs `div_round_half_even`).
    function _divRoundHalfEven(int256 num, int256 den) private pure returns (int256 q) {
        q = num / den;
        int256 r = num % den;
        if (r < 0) {
            q -= 1;
            r += den;
        }
        if (r > den - r) q += 1;
        else if (r == den - r) q += (q & 1);
    }

    /// Code `c` as `b` bytes big-endian at `q[at]`.
    function _put(bytes memory q, uint256 at, int256 c, uint256 b) private pure {
        for (uint256 j; j < b; ++j) q[at + j] = bytes1(uint8(uint256(c) >> (8 * (b - 1 - j))));
    }

    /// The signed `b`-byte big-endian code at `raw[at]`.
    function _get(bytes memory raw, uint256 at, uint256 b) private pure returns (int256 c) {
        uint256 u;
        for (uint256 j; j < b; ++j) u = (u << 8) | uint8(raw[at + j]);
        c = int256(u);
        if (u >> (8 * b - 1) != 0) c -= int256(1) << (8 * b);
    }
"#;

/// `(file name, source)` of `NAMEPrecompile.sol` for a model whose contract is named `name`.
pub fn emit(model: &Model, name: &str, model_id: &[u8; 32]) -> (String, String) {
    let in_elems: usize = model.inputs.iter().map(|&i| model.tensor(i).len()).sum();
    let in_bytes = packed_len(model, &model.inputs);
    let wide = model.inputs.iter().chain(&model.outputs).any(|&t| matches!(model.tensor(t).dtype, DType::I16 | DType::I32));
    let mut quant = String::new();
    let (mut offset, mut byte) = (0usize, 0usize);
    for (position, &i) in model.inputs.iter().enumerate() {
        let t = model.tensor(i);
        let n = t.len();
        let b = t.dtype.packed_bytes();
        match (t.dtype, t.quant, model.input_quant_of(position)) {
            (DType::I8, Some(_), Some(iq)) => {
                let _ = writeln!(quant, "        // `{}` {:?}: int8, quantized per index of axis {}", t.name, t.shape, iq.axis);
                quant.push_str(&per_axis_loops(&t.shape, iq, &|m, e, zp| {
                    format!("q[{byte} + i] = bytes1(uint8(SolidMLMath.quantizeFixed18(input[{offset} + i], {m}, {e}, {zp})));")
                }));
            }
            (DType::I8, Some(q), None) => {
                let (m, e) = scale_parts(q.scale);
                let _ = writeln!(quant, "        // `{}` {:?}: scale {:e}, zero point {}", t.name, t.shape, q.scale, q.zero_point);
                let _ = writeln!(
                    quant,
                    "        for (uint256 i; i < {n}; ++i) q[{byte} + i] = bytes1(uint8(SolidMLMath.quantizeFixed18(input[{offset} + i], {m}, {e}, {})));",
                    q.zero_point
                );
            }
            (DType::I16 | DType::I32, Some(q), per_axis) => {
                let (lo, hi) = t.dtype.code_range().expect("a quantized type");
                let dtype = if t.dtype == DType::I16 { "int16" } else { "int32" };
                let put = |m: i128, e: i32, zp: i32| {
                    format!("_put(q, {byte} + {b} * i, _quantize(input[{offset} + i], {m}, {e}, {zp}, {lo}, {hi}), {b});")
                };
                if let Some(iq) = per_axis {
                    let _ = writeln!(
                        quant,
                        "        // `{}` {:?}: {dtype}, quantized per index of axis {}, {b} bytes big-endian each",
                        t.name, t.shape, iq.axis
                    );
                    quant.push_str(&per_axis_loops(&t.shape, iq, &put));
                } else {
                    let (m, e) = scale_parts(q.scale);
                    let _ = writeln!(
                        quant,
                        "        // `{}` {:?}: {dtype}, scale {:e}, zero point {}, {b} bytes big-endian each",
                        t.name, t.shape, q.scale, q.zero_point
                    );
                    let _ = writeln!(quant, "        for (uint256 i; i < {n}; ++i) {}", put(m, e, q.zero_point));
                }
            }
            _ => {
                let _ = writeln!(quant, "        // `{}` {:?}: int64, 8 bytes big-endian each", t.name, t.shape);
                let _ = writeln!(
                    quant,
                    "        for (uint256 i; i < {n}; ++i) {{ uint64 v = uint64(int64(input[{offset} + i])); for (uint256 b; b < 8; ++b) q[{byte} + 8 * i + b] = bytes1(uint8(v >> (56 - 8 * b))); }}"
                );
            }
        }
        byte += b * n;
        offset += n;
    }
    let mut dequant = String::new();
    let mut doc = String::new();
    let mut at = 0usize;
    for (k, &o) in model.outputs.iter().enumerate() {
        let t = model.tensor(o);
        let n = t.len();
        match (t.dtype, t.quant) {
            (DType::I8, Some(q)) => {
                let (m, e) = scale_parts(q.scale);
                let _ = writeln!(dequant, "        out[{k}] = SolidML.dequantize(raw, {at}, {n}, {m}, {e}, {});", q.zero_point);
                let _ = writeln!(doc, "/// Output {k} `{}` {:?}: int8, scale {:e}, zero point {}.", t.name, t.shape, q.scale, q.zero_point);
            }
            (DType::I16 | DType::I32, Some(q)) => {
                let (m, e) = scale_parts(q.scale);
                let b = t.dtype.packed_bytes();
                let dtype = if t.dtype == DType::I16 { "int16" } else { "int32" };
                let _ = writeln!(
                    dequant,
                    "        out[{k}] = new int256[]({n});\n        for (uint256 i; i < {n}; ++i) out[{k}][i] = _dequantize(_get(raw, {at} + {b} * i, {b}), {m}, {e}, {});",
                    q.zero_point
                );
                let _ = writeln!(
                    doc,
                    "/// Output {k} `{}` {:?}: {dtype} ({b} bytes big-endian), scale {:e}, zero point {}.",
                    t.name, t.shape, q.scale, q.zero_point
                );
            }
            _ => {
                let _ = writeln!(dequant, "        out[{k}] = SolidML.unpackInt64(raw, {at}, {n});");
                let _ = writeln!(doc, "/// Output {k} `{}` {:?}: int64 (plain integers).", t.name, t.shape);
            }
        }
        at += t.dtype.packed_bytes() * n;
    }
    let n_out = model.outputs.len();
    let contract = format!("{name}Precompile");
    let source = format!(
        r#"// SPDX-License-Identifier: MIT
// Generated by `solidml compile` from model `{model_name}`. Do not edit.
pragma solidity ^0.8.20;

import {{SolidML}} from "./SolidML.sol";
import {{SolidMLMath}} from "./SolidMLMath.sol";

/// @title {contract}: the SolidML model `{model_name}` through the SolidML precompile.
/// @notice Same interface as `{name}` (the pure-Solidity contract); the node must hold the
///         model (`MODEL_ID`) in its store. Inputs: {in_elems} values, {in_bytes} packed bytes.
{doc}contract {contract} {{
    /// keccak256 of the model artifact.
    bytes32 public constant MODEL_ID = 0x{model_id};

    /// `predictQ`/`predict` got an input of the wrong length.
    error InputLength(uint256 expected, uint256 got);

    /// Packed inputs ({packing}) to packed outputs.
    function predictQ(bytes calldata q) external view returns (bytes memory) {{
        if (q.length != {in_bytes}) revert InputLength({in_bytes}, q.length);
        return SolidML.run(MODEL_ID, q);
    }}

    /// 18-decimal fixed-point inputs (int64 inputs as integers) to one array per output.
    function predict(int256[] calldata input) external view returns (int256[][] memory out) {{
        if (input.length != {in_elems}) revert InputLength({in_elems}, input.length);
        bytes memory q = new bytes({in_bytes});
{quant}        bytes memory raw = SolidML.run(MODEL_ID, q);
        out = new int256[][]({n_out});
{dequant}    }}
{helpers}}}
"#,
        packing = if wide {
            "int8 one byte per element, int16 and int32 2 and 4 bytes big-endian, int64 8 bytes big-endian"
        } else {
            "int8 one byte per element, int64 8 bytes big-endian"
        },
        helpers = if wide { WIDE_HELPERS } else { "" },
        model_name = model.name,
        model_id = model_id.iter().map(|b| format!("{b:02x}")).collect::<String>(),
    );
    (format!("{contract}.sol"), source)
}

/// Packed bytes of a list of tensors (int8: 1 per element, int16: 2, int32: 4, int64: 8).
pub fn packed_len(model: &Model, tensors: &[u32]) -> usize {
    tensors.iter().map(|&t| model.tensor(t).len() * model.tensor(t).dtype.packed_bytes()).sum()
}
