//! The contract shell around the forward pass: `predictQ(bytes)` and `predict(int256[])`
//! (input length checks, 18-decimal IO quantization), `MODEL_ID`, NatSpec with every shape,
//! scale and zero point; part contracts (layers over EIP-170) and, in the compact layout, data
//! contracts; and the split deployment (`constructor(address[])` checking each part's tag or
//! code hash, `NAMEDeploy.deploy()`) for models over EIP-3860's init code limit.

use std::fmt::Write;

use solidml_spec::{DType, TensorId, artifact::keccak256};

use crate::{Emitted, Files, MAIN_LAYER_BUDGET, SPLIT_INITCODE, STAGE_BUDGET, compact, layer::*, plan::*, yul::*};

/// Main contract code (estimated, [`code_bytes`]) above which the forward pass is cut into
/// stage contracts, and what the main contract then keeps (EIP-170's 24,576 bytes with the
/// estimate's margin of error).
const MAIN_CODE: usize = 24_000;
const STAGED_MAIN_CODE: usize = 22_000;

/// Where the forward pass is cut, from the estimated code bytes of its chunks (the constants,
/// then one per node): `(chunk range, estimated bytes)` per stage, the first one the main
/// contract's. The main contract keeps the chunks that fit `main_budget`; each stage contract
/// takes the next ones up to [`STAGE_BUDGET`] (at least one: a chunk larger than that is a
/// stage of its own).
fn cut_stages(sizes: &[usize], main_budget: usize) -> Vec<(std::ops::Range<usize>, usize)> {
    let mut stages = vec![];
    let (mut start, mut bytes, mut budget) = (0, 0, main_budget);
    for (i, &b) in sizes.iter().enumerate() {
        if bytes + b > budget && (i > start || stages.is_empty()) {
            stages.push((start..i, bytes));
            (start, bytes, budget) = (i, 0, STAGE_BUDGET);
        }
        bytes += b;
    }
    stages.push((start..sizes.len(), bytes));
    stages
}

/// `predict`'s quantization of an input with a per-axis input quantization (spec §IO
/// quantization): for each index `c` of the axis, a loop over the elements with that index
/// (`outer` runs of `inner` contiguous elements, `dim · inner` apart), quantized with
/// `params[c]` by the same Yul as the per-tensor case. `fin_off`: the input's first word in
/// `predict`'s argument.
fn per_axis_quantization(info: &solidml_spec::TensorInfo, iq: &solidml_spec::InputQuant, l: Loc, fin_off: usize) -> Result<String, String> {
    let range = info.dtype.code_range().ok_or("internal: per-axis quantization of an integer input")?;
    let axis = iq.axis as usize;
    let dim = info.shape[axis] as usize;
    let inner: usize = info.shape[axis + 1..].iter().map(|&d| d as usize).product();
    let outer: usize = info.shape[..axis].iter().map(|&d| d as usize).product();
    let mut code = String::new();
    if dim * inner * outer == 0 {
        return Ok(code);
    }
    for (c, q) in iq.params.iter().enumerate() {
        // `p`: the byte offset of an element's word (element index · 32)
        let store = match l {
            Loc::Words(a) => format!("mstore(add({a}, p), w)"),
            Loc::Bytes(a) => format!("mstore8(add({a}, shr(5, p)), xor(w, 0x80))"),
            // `w` is `q − lo`
            Loc::Wide(a) => format!("mstore(add({a}, p), {})", add_const("w", range.0 as i128)),
            Loc::I64(_) => return Err("internal: per-axis input in the i64 form".into()),
        };
        let x = format!("calldataload(add(input.offset, add(p, {})))", 32 * fin_off);
        let element = format!("{}\n{store}", quantize_yul_in(q.scale, q.zero_point, &x, range)?);
        let (first, run, step) = (32 * c * inner, 32 * inner, 32 * dim * inner);
        let body = if inner == 1 {
            format!("let p := add(o, {first})\n{element}")
        } else {
            format!(
                "for {{ let p := add(o, {first}) }} lt(p, add(o, {})) {{ p := add(p, 32) }} {{\n{}\n}}",
                first + run,
                indent(&element, 4)
            )
        };
        if outer == 1 {
            let _ = writeln!(code, "{{\n    let o := 0\n{}\n}}", indent(&body, 4));
        } else {
            let _ = writeln!(code, "for {{ let o := 0 }} lt(o, {}) {{ o := add(o, {step}) }} {{\n{}\n}}", step * outer, indent(&body, 4));
        }
    }
    Ok(code)
}

/// The Solidity-facing name of an element type (NatSpec).
pub(crate) fn dtype_name(d: DType) -> &'static str {
    match d {
        DType::I8 => "int8",
        DType::I16 => "int16",
        DType::I32 => "int32",
        DType::I64 => "int64",
    }
}

/// Assemble the contract(s).
pub(crate) fn emit_contract(
    cx: &mut Ctx<'_>,
    model_id: &[u8; 32],
    inputs: &[(TensorId, Loc, usize, usize)],
    in_len: usize,
) -> Result<Emitted, String> {
    let m = cx.m;
    let name = cx.name.clone();
    let n_parts = cx.parts.len();
    // --- outputs of predictQ: concatenated, int8 as bytes, int16, int32 and i64 as 2, 4 and
    // 8 bytes big-endian
    let mut out_len = 0usize;
    let mut outs = vec![];
    for &o in &m.outputs {
        let t = m.tensor(o);
        let l = cx.at(o);
        outs.push((o, l, out_len, t.len()));
        out_len += t.dtype.packed_bytes() * t.len();
    }
    let qbuf = cx.alloc(64 + out_len + 32);
    let mut pack = String::new();
    let _ = writeln!(pack, "mstore({qbuf}, 0x20)\nmstore({}, {out_len})", qbuf + 32);
    // i64 (and int16, int32) outputs are written as 32-byte stores ending at each element: last
    // element first, last output first (a store clobbers only the bytes before its element)
    for &(o, l, off, len) in outs.iter().rev() {
        let d = qbuf + 64 + off;
        match l {
            Loc::Wide(s) => {
                // `b` bytes big-endian per element: the word's low bytes end at element i's end
                let b = m.tensor(o).dtype.packed_bytes();
                if len > 0 {
                    let _ = writeln!(
                        pack,
                        "for {{ let i := {len} }} gt(i, 0) {{}} {{\n    i := sub(i, 1)\n    mstore(add({}, mul(i, {b})), and(mload(add({s}, shl(5, i))), {}))\n}}",
                        d as i64 + b as i64 - 32,
                        (1u64 << (8 * b)) - 1
                    );
                }
            }
            Loc::I64(s) => {
                for i in (0..len).rev() {
                    let _ = writeln!(pack, "mstore({}, and(mload({}), 0xffffffffffffffff))", (d + 8 * i) as i64 - 24, s + 32 * i);
                }
            }
            Loc::Bytes(s) => {
                let _ = writeln!(pack, "mcopy({d}, {s}, {len})");
            }
            Loc::Words(_) => return Err("internal: words-form model output".into()),
        }
    }
    // the i64 stores may clobber the length word when the first output is i64: rewrite it
    let _ = writeln!(pack, "mstore({qbuf}, 0x20)\nmstore({}, {out_len})\nreturn({qbuf}, {})", qbuf + 32, 64 + out_len.div_ceil(32) * 32);
    // --- predictQ input unpacking
    let mut unpack = String::new();
    for &(t, l, off, len) in inputs {
        match l {
            Loc::Bytes(a) => {
                let _ = writeln!(unpack, "calldatacopy({a}, add(q.offset, {off}), {len})");
            }
            Loc::Words(a) if len <= 256 => {
                // unrolled, one calldataload per 32 codes: ~28 gas per input against ~55 for the
                // loop; stores through an opaque base `z` (= 0), as in `Ctx::gather`
                let _ = writeln!(unpack, "{{\nlet z := shr(255, gas())");
                for c in 0..len.div_ceil(32) {
                    let _ = writeln!(unpack, "{{\n    let w := calldataload(add(q.offset, {}))", off + 32 * c);
                    for j in 0..32.min(len - 32 * c) {
                        let _ = writeln!(unpack, "    mstore(add(z, {}), xor(byte({j}, w), 0x80))", a + 32 * (32 * c + j));
                    }
                    let _ = writeln!(unpack, "}}");
                }
                let _ = writeln!(unpack, "}}");
            }
            Loc::Words(a) => {
                let _ = writeln!(
                    unpack,
                    "for {{ let i := 0 }} lt(i, {len}) {{ i := add(i, 1) }} {{ mstore(add({a}, shl(5, i)), xor(byte(0, calldataload(add(q.offset, add({off}, i)))), 0x80)) }}"
                );
            }
            Loc::I64(a) => {
                let _ = writeln!(
                    unpack,
                    "for {{ let i := 0 }} lt(i, {len}) {{ i := add(i, 1) }} {{ mstore(add({a}, shl(5, i)), signextend(7, shr(192, calldataload(add(q.offset, add({off}, shl(3, i))))))) }}"
                );
            }
            Loc::Wide(a) => {
                // int16 or int32 codes, 2 or 4 bytes big-endian, to signed words
                let b = m.tensor(t).dtype.packed_bytes();
                let _ = writeln!(
                    unpack,
                    "for {{ let i := 0 }} lt(i, {len}) {{ i := add(i, 1) }} {{ mstore(add({a}, shl(5, i)), signextend({}, shr({}, calldataload(add(q.offset, add({off}, mul(i, {b}))))))) }}",
                    b - 1,
                    256 - 8 * b
                );
            }
        }
    }
    // --- predict: 18-decimal inputs
    let mut quant = String::new();
    let mut fin_off = 0usize;
    let mut io_doc = String::new();
    for (position, &(t, l, _, len)) in inputs.iter().enumerate() {
        let info = m.tensor(t);
        let per_axis = m.input_quant_of(position);
        let dtype = dtype_name(info.dtype);
        match (info.quant, l) {
            (Some(_), _) if per_axis.is_some() => {
                let iq = per_axis.unwrap();
                let _ = writeln!(
                    io_doc,
                    "/// @notice Input `{}` {:?}: {dtype}, quantized per index of axis {} (scales {:e} … {:e}).",
                    info.name,
                    info.shape,
                    iq.axis,
                    iq.params.first().map_or(0.0, |p| p.scale),
                    iq.params.last().map_or(0.0, |p| p.scale)
                );
                quant.push_str(&per_axis_quantization(info, iq, l, fin_off)?);
            }
            (Some(q), _) => {
                let _ = writeln!(
                    io_doc,
                    "/// @notice Input `{}` {:?}: {dtype}, scale {:e}, zero point {}.",
                    info.name, info.shape, q.scale, q.zero_point
                );
                let range = info.dtype.code_range().ok_or("internal: a quantized integer input")?;
                // element `p / 32 + k` (`p`: the byte offset of a word), in its own block; `w`
                // is the code minus the type's lowest (int8: the biased code)
                let element = |k: usize| -> Result<String, String> {
                    let store = match l {
                        Loc::Words(a) => format!("mstore(add({}, p), w)", a + 32 * k),
                        Loc::Bytes(a) => format!("mstore8(add({}, shr(5, p)), xor(w, 0x80))", a + k),
                        Loc::Wide(a) => format!("mstore(add({}, p), {})", a + 32 * k, add_const("w", range.0 as i128)),
                        Loc::I64(_) => unreachable!(),
                    };
                    let x = format!("calldataload(add(input.offset, add(p, {})))", 32 * (fin_off + k));
                    let w = quantize_yul_in(q.scale, q.zero_point, &x, range)?;
                    Ok(format!("{{\n    {}\n    {store}\n}}", w.replace('\n', "\n    ")))
                };
                // four elements per iteration (a loop iteration's own overhead is ~50 gas), the
                // remainder after the loop
                let (body, whole) = (element(0)? + "\n" + &element(1)? + "\n" + &element(2)? + "\n" + &element(3)?, len / 4 * 4);
                if whole > 0 {
                    let _ =
                        writeln!(quant, "for {{ let p := 0 }} lt(p, {}) {{ p := add(p, 128) }} {{\n{}\n}}", 32 * whole, indent(&body, 4));
                }
                if len > whole {
                    let rest: Vec<String> = (0..len - whole).map(element).collect::<Result<_, _>>()?;
                    let _ = writeln!(quant, "{{\n    let p := {}\n{}\n}}", 32 * whole, indent(&rest.join("\n"), 4));
                }
            }
            (None, Loc::I64(a)) => {
                let _ = writeln!(
                    io_doc,
                    "/// @notice Input `{}` {:?}: int64 (18-decimal values truncated to integers).",
                    info.name, info.shape
                );
                let _ = writeln!(
                    quant,
                    "for {{ let i := 0 }} lt(i, {len}) {{ i := add(i, 1) }} {{ mstore(add({a}, shl(5, i)), signextend(7, sdiv(calldataload(add(input.offset, shl(5, add(i, {fin_off})))), 1000000000000000000))) }}"
                );
            }
            _ => return Err("internal: input without quantization".into()),
        }
        fin_off += len;
    }
    // --- predict: outputs as int256[][] (ABI), 18-decimal for int8, plain integers for i64
    let n_out = outs.len();
    let total_elems: usize = outs.iter().map(|o| o.3).sum();
    let pbuf = cx.alloc(64 + 32 * n_out + 32 * (n_out + total_elems));
    let mut deq = String::new();
    let _ = writeln!(deq, "mstore({pbuf}, 0x20)\nmstore({}, {n_out})", pbuf + 32);
    let mut rel = 32 * n_out;
    for (i, &(o, l, _, len)) in outs.iter().enumerate() {
        let info = m.tensor(o);
        let head = pbuf + 64;
        let _ = writeln!(deq, "mstore({}, {rel})", head + 32 * i);
        let arr = head + rel;
        let _ = writeln!(deq, "mstore({arr}, {len})");
        match (info.quant, l) {
            (Some(q), Loc::Bytes(s)) => {
                let _ = writeln!(
                    io_doc,
                    "/// @notice Output {i} `{}` {:?}: 18-decimal fixed point (int8: scale {:e}, zero point {}).",
                    info.name, info.shape, q.scale, q.zero_point
                );
                let _ = writeln!(
                    deq,
                    "for {{ let i := 0 }} lt(i, {len}) {{ i := add(i, 1) }} {{\n    let xb := xor(byte(0, mload(add({s}, i))), 0x80)\n    {}\n    mstore(add({}, shl(5, i)), r)\n}}",
                    dequantize_yul(q.scale, q.zero_point)?.replace('\n', "\n    "),
                    arr + 32
                );
            }
            (Some(q), Loc::Wide(s)) => {
                let _ = writeln!(
                    io_doc,
                    "/// @notice Output {i} `{}` {:?}: 18-decimal fixed point ({}: scale {:e}, zero point {}).",
                    info.name,
                    info.shape,
                    dtype_name(info.dtype),
                    q.scale,
                    q.zero_point
                );
                let range = info.dtype.code_range().ok_or("internal: a quantized integer output")?;
                let _ = writeln!(
                    deq,
                    "for {{ let i := 0 }} lt(i, {len}) {{ i := add(i, 1) }} {{\n    let c := mload(add({s}, shl(5, i)))\n    {}\n    mstore(add({}, shl(5, i)), r)\n}}",
                    dequantize_code_yul(q.scale, q.zero_point, "c", range).replace('\n', "\n    "),
                    arr + 32
                );
            }
            (None, Loc::I64(s)) => {
                let _ = writeln!(io_doc, "/// @notice Output {i} `{}` {:?}: int64 (plain integers).", info.name, info.shape);
                let _ = writeln!(deq, "mcopy({}, {s}, {})", arr + 32, 32 * len);
            }
            _ => return Err("internal: output kind".into()),
        }
        rel += 32 * (len + 1);
    }
    let _ = writeln!(deq, "return({pbuf}, {})", 64 + rel);
    // --- one transaction or several: the init code of `new NAME()` holds every part's and
    // data contract's code (estimated: layer code as planned, ~8 KB of IO and other code)
    // the forward pass, node by node (the constants first), and where it is cut into stages:
    // the main contract's code is estimated as its forward code, its IO code, and a shell
    // (ABI, immutables) that grows with the contracts it lists (~200 bytes each, measured)
    let mut chunks = vec![];
    let mut from = 0;
    for &end in &cx.node_ends {
        chunks.push(cx.code[from..end].to_string());
        from = end;
    }
    chunks.push(cx.code[from..].to_string());
    let sizes: Vec<usize> = chunks.iter().map(|c| code_bytes(c)).collect();
    let forward_bytes: usize = sizes.iter().sum();
    // the data contracts, as `compact::contract_bits` cuts them
    let n_data =
        if cx.data.inline { 0 } else { cx.data.blob.len().div_ceil(compact::DATA_MAX) } + cx.data.tables.len().div_ceil(compact::DATA_MAX);
    let shell = |stages: usize| {
        [&unpack, &pack, &quant, &deq].iter().map(|c| code_bytes(c)).sum::<usize>() + 500 + 200 * (n_parts + stages + n_data)
    };
    let stages = if cx.force_stages {
        // the constants in the main contract, every node in a stage of its own
        sizes.iter().enumerate().map(|(i, &b)| (i..i + 1, b)).collect()
    } else if forward_bytes + shell(0) <= MAIN_CODE {
        vec![(0..chunks.len(), forward_bytes)]
    } else {
        cut_stages(&sizes, STAGED_MAIN_CODE.saturating_sub(shell(forward_bytes.div_ceil(STAGE_BUDGET) + 1)))
    };
    let n_stages = stages.len() - 1;
    if n_parts + n_stages > 64 {
        return Err("model too large: more than 64 part and stage contracts".into());
    }
    let data_bytes = if cx.data.inline { 0 } else { cx.data.blob.len() } + cx.data.tables.len();
    let stage_bytes: usize = stages[1..].iter().map(|s| s.1).sum();
    let estimate = (MAIN_LAYER_BUDGET - cx.main_budget.min(MAIN_LAYER_BUDGET))
        + 8_000
        + cx.part_bytes.iter().sum::<usize>()
        + data_bytes
        + stage_bytes;
    let split = (cx.force_split || estimate > SPLIT_INITCODE) && (n_parts + n_stages > 0 || data_bytes > 0);
    // --- part contracts (their addresses are stored in memory by `_forward`)
    let parts_base = cx.alloc(32 * (n_parts + n_stages));
    let mut files: Files = vec![];
    let mut part_fields = String::new();
    let mut part_deploys = String::new();
    let mut part_stores = String::new();
    let mut imports = String::new();
    for (i, (pname, body)) in cx.parts.iter().enumerate() {
        let (cases, ret) = body.rsplit_once("//RETURN ").expect("every part returns");
        let cases: Vec<&str> = cases.split("//END\n").filter(|s| !s.trim().is_empty()).collect();
        let switch: String = cases
            .iter()
            .enumerate()
            .map(|(c, s)| format!("                case {c} {{\n{}\n                }}\n", indent(s, 20)))
            .collect();
        let (n_cases, ret) = (cases.len(), ret.trim());
        let src = format!(
            r#"// SPDX-License-Identifier: MIT
// Generated by `solidml compile`. Do not edit.
pragma solidity ^0.8.27;

/// Part {i} of model `{model}`: dense output lanes too large for the main contract (EIP-170).
/// Calldata: the layer's input words (32 bytes each: biased int8 `x + 128`, or DenseWide's
/// signed codes); returns the outputs of its groups of lanes, one contiguous range (bytes, or
/// words: biased int8, or signed int16/int32 codes).
contract {pname} {{
    fallback() external {{
        assembly {{
{tag}            let o := shr(255, gas())
            for {{ let c := 0 }} lt(c, {n_cases}) {{ c := add(c, 1) }} {{
                switch c
{switch}            }}
            return(0, {ret})
        }}
    }}
}}
"#,
            model = m.name,
            tag = if split {
                format!(
                    "            // empty calldata: the part's tag, which the model's constructor checks\n            if iszero(calldatasize()) {{ mstore(0, {}) return(0, 32) }}\n",
                    part_tag(model_id, i)
                )
            } else {
                String::new()
            },
        );
        files.push((format!("{pname}.sol"), src));
        let _ = writeln!(part_fields, "    address private immutable part{i};");
        if split {
            let _ = writeln!(part_deploys, "        part{i} = _part(parts_, {i}, {});", part_tag(model_id, i));
        } else {
            let _ = writeln!(part_deploys, "        part{i} = address(new {pname}());");
            let _ = writeln!(imports, "import {{{pname}}} from \"./{pname}.sol\";");
        }
        let _ = writeln!(part_stores, "        {{ address p = part{i}; assembly {{ mstore({}, p) }} }}", parts_base + 32 * i);
    }
    // the compact layout's weights (a constant, or data contracts listed by `parts()`)
    let bits = compact::contract_bits(cx);
    let resolve = |code: &str| -> String {
        let mut code = code.to_string();
        for p in 0..n_parts {
            code = code.replace(&format!("__PART_{p}__"), &(parts_base + 32 * p).to_string());
        }
        for (placeholder, slot) in &bits.slots {
            code = code.replace(placeholder, &slot.to_string());
        }
        code
    };
    // every allocation is made: the memory image a stage contract takes and gives back
    let mem_end = cx.next;
    let mut forward = if bits.forward_yul.is_empty() { String::new() } else { indent_block(&bits.forward_yul, 12) };
    for (k, (range, _)) in stages.iter().enumerate() {
        let code = resolve(&chunks[range.clone()].concat());
        if k == 0 {
            forward.push_str(&code);
            continue;
        }
        let i = n_parts + k - 1;
        let sname = format!("{name}_S{k}");
        // chunk 0 is the constants: chunk c > 0 is node c − 1
        let (first, last) = (range.start.max(1) - 1, range.end.max(1) - 1);
        let nodes = if last > first + 1 { format!("nodes {first} to {}", last - 1) } else { format!("node {first}") };
        let image = mem_end - 0x80;
        let _ = writeln!(
            forward,
            "            // stage {k} ({nodes}) in {sname}: the memory image goes and comes back; a revert is passed on\n            if iszero(staticcall(gas(), mload({}), 0x80, {image}, 0x80, {image})) {{ returndatacopy(0, 0, returndatasize()) revert(0, returndatasize()) }}",
            parts_base + 32 * i
        );
        let tag = if split {
            format!(
                "            // empty calldata: the stage's tag, which the model's constructor checks\n            if iszero(calldatasize()) {{ mstore(0, {}) return(0, 32) }}\n",
                part_tag(model_id, i)
            )
        } else {
            String::new()
        };
        files.push((
            format!("{sname}.sol"),
            format!(
                r#"// SPDX-License-Identifier: MIT
// Generated by `solidml compile`. Do not edit.
pragma solidity ^0.8.27;

/// Stage {k} of model `{model}` ({nodes}): forward code too large for the main contract
/// (EIP-170). Calldata: the model's memory image [0x80, {mem_end:#x}), laid out as the main
/// contract plans it; runs its nodes on it and returns the image.
contract {sname} {{
    fallback() external {{
        assembly {{
{tag}            calldatacopy(0x80, 0, calldatasize())
{code}            return(0x80, {image})
        }}
    }}
}}
"#,
                model = m.name,
            ),
        ));
        let _ = writeln!(part_fields, "    address private immutable part{i};");
        if split {
            let _ = writeln!(part_deploys, "        part{i} = _part(parts_, {i}, {});", part_tag(model_id, i));
        } else {
            let _ = writeln!(part_deploys, "        part{i} = address(new {sname}());");
            let _ = writeln!(imports, "import {{{sname}}} from \"./{sname}.sol\";");
        }
        let _ = writeln!(part_stores, "        {{ address p = part{i}; assembly {{ mstore({}, p) }} }}", parts_base + 32 * i);
    }
    part_fields.push_str(&bits.fields);
    let mut split_parts: Vec<String> =
        cx.parts.iter().map(|(p, _)| p.clone()).chain((1..=n_stages).map(|k| format!("{name}_S{k}"))).collect();
    let helpers = if split {
        // data contracts as contracts of their own (runtime `0x00 ++ data`), checked by code hash
        for (j, chunk) in bits.chunks.iter().enumerate() {
            let dname = format!("{name}_D{j}");
            let mut runtime = vec![0u8];
            runtime.extend_from_slice(chunk);
            files.push((
                format!("{dname}.sol"),
                format!(
                    "// SPDX-License-Identifier: MIT\n// Generated by `solidml compile`. Do not edit.\npragma solidity ^0.8.27;\n\n/// Data contract {j} of model `{}` (compact layout): its code is `0x00` then {} bytes of\n/// weights, read by the model with EXTCODECOPY (calling it stops at once).\ncontract {dname} {{\n    constructor() {{\n        bytes memory code = hex\"{}\";\n        assembly {{\n            return(add(code, 32), mload(code))\n        }}\n    }}\n}}\n",
                    m.name,
                    chunk.len(),
                    hex(&runtime)
                ),
            ));
            let _ =
                writeln!(part_deploys, "        data{j} = _dataAt(parts_, {}, 0x{});", n_parts + n_stages + j, hex(&keccak256(&runtime)));
            split_parts.push(dname);
        }
        let n = split_parts.len();
        part_deploys.insert_str(0, &format!("        if (parts_.length != {n}) revert PartCount({n}, parts_.length);\n"));
        r#"
    /// The constructor got a number of part and data contracts other than this model's.
    error PartCount(uint256 expected, uint256 got);
    /// Part or data contract `index` is not the one this model was generated with.
    error WrongPart(uint256 index, address given);

    /// A part contract answers empty calldata with its tag.
    function _part(address[] memory p, uint256 i, bytes32 tag) private view returns (address a) {
        a = p[i];
        (bool ok, bytes memory r) = a.staticcall("");
        if (!ok || r.length != 32 || bytes32(r) != tag) revert WrongPart(i, a);
    }

    /// A data contract is known by its code hash.
    function _dataAt(address[] memory p, uint256 i, bytes32 codehash) private view returns (address a) {
        a = p[i];
        if (a.codehash != codehash) revert WrongPart(i, a);
    }
"#
        .to_string()
    } else {
        part_deploys.push_str(&bits.deploys);
        split_parts.clear();
        if bits.helpers.is_empty() {
            String::new()
        } else {
            format!("\n    /// A data contract (compact layout) could not be created.\n    error DataDeployFailed();\n\n{}", bits.helpers)
        }
    };
    let part_stores = format!("{}{part_stores}", bits.forward_pre);
    let (constructor_args, deploy_doc) = if split {
        (
            "address[] memory parts_",
            format!(
                "\n    /// @param parts_ The part and data contracts, deployed first, in this order: {} (`{name}Deploy.deploy()` does it all). Their code does\n    ///        not fit one transaction with this one's (EIP-3860).",
                split_parts.join(", ")
            ),
        )
    } else {
        ("", String::new())
    };
    let model_name = &m.name;
    let wide_io = m.inputs.iter().chain(&m.outputs).any(|&t| matches!(m.tensor(t).dtype, DType::I16 | DType::I32));
    let predict_q_doc = if wide_io {
        format!(
            "    /// Raw quantized inputs (int8 codes one byte each, int16 and int32 codes 2 and 4 bytes\n    /// big-endian, int64 inputs 8 bytes big-endian; {in_len} bytes) to the outputs, concatenated:\n    /// int8 outputs one byte per element, int16, int32 and int64 outputs 2, 4 and 8 bytes\n    /// big-endian per element ({out_len} bytes).\n"
        )
    } else {
        format!(
            "    /// Raw quantized inputs (int8 codes one byte each, int64 inputs 8 bytes big-endian;\n    /// {in_len} bytes) to the outputs, concatenated: int8 outputs one byte per element, int64\n    /// outputs 8 bytes big-endian per element ({out_len} bytes).\n"
        )
    };
    let n_listed = n_parts + n_stages + bits.addresses.len();
    let part_list: String = (0..n_parts + n_stages)
        .map(|i| format!("part{i}"))
        .chain(bits.addresses.iter().cloned())
        .enumerate()
        .map(|(i, a)| format!("        p[{i}] = {a};\n"))
        .collect();
    let sol = format!(
        r#"// SPDX-License-Identifier: MIT
// Generated by `solidml compile` from model `{model_name}`. Do not edit.
// Compile with the optimizer OFF (it gains under 1% of gas on this straight-line Yul and
// makes solc very slow), or on with high `optimizer_runs` (≥ 10000): low runs make solc
// replace the PUSH32 weight constants with CODECOPY sequences.
pragma solidity ^0.8.27;

{imports}
/// @title {name}: the SolidML model `{model_name}` in pure Solidity, bit-exact with the CPU reference.
/// @dev Memory is planned at compile time: tensors live at fixed addresses in
///      [0x80, {mem_end:#x}); the forward pass is straight-line Yul over them.
{io_doc}contract {name} {{
    /// keccak256 of the model artifact.
    bytes32 public constant MODEL_ID = 0x{model_id};

    /// `predictQ`/`predict` got an input of the wrong length.
    error InputLength(uint256 expected, uint256 got);
    /// An index produced by the model falls outside a label table or an axis (Take,
    /// GatherDynamic: the first bad index in element order).
    error IndexOutOfRange(int256 index, uint256 length);
    /// An exact int64 operation (IntBinary) left int64; `operand` is the first operand of the
    /// first such element.
    error IntegerOverflow(int256 operand);
    /// An exact int64 division or remainder (IntBinary) by zero; `operand` is the first operand
    /// of the first such element.
    error DivisionByZero(int256 operand);
    /// A part contract (weights too large for this one) failed.
    error PartFailed(uint256 part);

{part_fields}
    /// Deploys the model.{deploy_doc}
    constructor({constructor_args}) {{
{part_deploys}    }}
{helpers}
    /// The part contracts this one calls (layers too large for EIP-170's 24,576 bytes), then
    /// the data contracts it reads (compact layout).
    function parts() external view returns (address[] memory p) {{
        p = new address[]({n_listed});
{part_list}    }}

{predict_q_doc}    function predictQ(bytes calldata q) external view returns (bytes memory) {{
        if (q.length != {in_len}) revert InputLength({in_len}, q.length);
        assembly {{
            mstore(0x40, {mem_end})
{unpack_i}        }}
        _forward();
        assembly {{
{pack_i}        }}
    }}

    /// 18-decimal fixed-point inputs (all inputs concatenated) to one array per output
    /// (18-decimal fixed point; integer outputs as plain integers), by the spec's exact IO
    /// formulas.
    function predict(int256[] calldata input) external view returns (int256[][] memory) {{
        if (input.length != {fin_off}) revert InputLength({fin_off}, input.length);
        assembly {{
            mstore(0x40, {mem_end})
{quant_i}        }}
        _forward();
        assembly {{
{deq_i}        }}
    }}

    /// The forward pass over the planned memory (inputs already in place).
    function _forward() private view {{
{part_stores}        assembly {{
{forward}        }}
    }}
{extra}}}
"#,
        extra = cx.extra,
        model_id = hex(model_id),
        unpack_i = indent_block(&unpack, 12),
        pack_i = indent_block(&pack, 12),
        quant_i = indent_block(&quant, 12),
        deq_i = indent_block(&deq, 12),
    );
    files.push((format!("{name}.sol"), sol));
    if split {
        let imports: String = split_parts.iter().map(|p| format!("import {{{p}}} from \"./{p}.sol\";\n")).collect();
        let news: String = split_parts.iter().enumerate().map(|(i, p)| format!("        p[{i}] = address(new {p}());\n")).collect();
        files.push((
            format!("{name}Deploy.sol"),
            format!(
                "// SPDX-License-Identifier: MIT\n// Generated by `solidml compile`. Do not edit.\npragma solidity ^0.8.27;\n\nimport {{{name}}} from \"./{name}.sol\";\n{imports}\n/// Deploys model `{}`: its part and data contracts, then the model with their addresses. From\n/// a forge script, each `new` is a transaction of its own (the model does not fit one: EIP-3860).\nlibrary {name}Deploy {{\n    function deploy() internal returns ({name} model) {{\n        address[] memory p = new address[]({});\n{news}        model = new {name}(p);\n    }}\n}}\n",
                m.name,
                split_parts.len()
            ),
        ));
    }
    Ok(Emitted { files, contract: name, split_parts })
}

/// The tag a part contract answers empty calldata with: keccak256(modelId ‖ "solidml part" ‖ i).
pub(crate) fn part_tag(model_id: &[u8; 32], i: usize) -> String {
    let mut b = model_id.to_vec();
    b.extend_from_slice(b"solidml part");
    b.extend_from_slice(&(i as u32).to_be_bytes());
    format!("0x{}", hex(&keccak256(&b)))
}

pub(crate) fn indent_block(s: &str, n: usize) -> String {
    let mut o = indent(s.trim_end(), n);
    o.push('\n');
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_cover_every_chunk_in_order_within_their_budgets() {
        // a large first chunk goes to a stage of its own; the main contract may keep none
        let sizes = [9_000, 30_000, 4_000, 8_000, 12_000, 1_000, 20_000];
        let stages = cut_stages(&sizes, 8_000);
        let ranges: Vec<_> = stages.iter().map(|s| s.0.clone()).collect();
        assert_eq!(ranges, vec![0..0, 0..1, 1..2, 2..4, 4..6, 6..7]);
        for (k, (r, bytes)) in stages.iter().enumerate() {
            assert_eq!(*bytes, sizes[r.clone()].iter().sum::<usize>());
            let budget = if k == 0 { 8_000 } else { STAGE_BUDGET };
            assert!(*bytes <= budget || r.len() == 1, "stage {k}: {bytes} bytes in {r:?}");
        }
        assert_eq!(cut_stages(&[100, 200], 1_000), vec![(0..2, 300)]);
    }

    #[test]
    fn code_estimate_counts_pushes_and_operations() {
        // two 1-byte literals (PUSH1 each), five other words (`let`, `x` twice, MLOAD, MSTORE);
        // comments count nothing
        assert_eq!(code_bytes("let x := mload(0x40) // a comment: mstore(1, 2)\nmstore(32, x)"), 2 * 2 + 5 * 3 / 2);
        // a PUSH32 weight word
        assert_eq!(code_bytes(&format!("0x{}", "ff".repeat(32))), 33);
        assert_eq!(code_bytes("0x0"), 2);
    }
}
