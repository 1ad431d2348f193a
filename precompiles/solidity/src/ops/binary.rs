//! Binary (Add, Sub, Mul with real scales), Extremum (Min, Max), BinaryLut (a 256×256 table
//! in data contracts) and IntBinary (exact i64 arithmetic on signed 256-bit words: `sdiv`
//! truncates and `smod` takes the dividend's sign, as the spec's Div and Rem) (spec §Binary, §Extremum,
//! §BinaryLut, §IntBinary): both operands broadcast to the output through index tables where
//! needed, one loop over the output.

use solidml_spec::{Binary, BinaryKind, Extremum, IntBinaryKind, Node, TensorId};

use crate::{NodeFailure, compact, layer::*, plan::*, yul::*};

/// The operators this file emits.
pub(crate) enum Form<'a> {
    /// Add, Sub, Mul with real scales.
    Binary(&'a Binary),
    /// Max or Min.
    Extremum(Extremum),
    /// `out = table[(a + 128) · 256 + (b + 128)]`.
    Lut(&'a [i8]),
    /// Exact i64 arithmetic; a result outside i64 reverts with `IntegerOverflow(a)`, a
    /// division by zero with `DivisionByZero(a)`.
    Int(IntBinaryKind),
}

/// `t` (at `at`) broadcast to the output shape `so`: `at` itself when the shapes agree, else a
/// gathered copy (bytes or i64 words, as `at`).
pub(super) fn broadcast_operand(cx: &mut Ctx<'_>, t: TensorId, at: Loc, so: &[u32]) -> Loc {
    let sh = cx.m.tensor(t).shape.clone();
    if sh == so {
        return at;
    }
    let total: usize = so.iter().map(|&d| d as usize).product();
    let st = solidml_exec::index::broadcast_strides(&sh, so);
    let mut idx = Vec::with_capacity(total);
    solidml_exec::index::for_each_offset(so, [&st], |[off]| idx.push(Some(off)));
    let tmp = match at {
        Loc::I64(_) => Loc::I64(cx.alloc(32 * total)),
        _ => Loc::Bytes(cx.alloc(total)),
    };
    cx.gather(at, tmp, &idx, 0);
    tmp
}

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, form: Form<'_>) -> Result<(), NodeFailure> {
    let so = cx.m.tensor(n.outputs[0]).shape.clone();
    let total: usize = so.iter().map(|&d| d as usize).product();
    let (a_t, b_t) = (n.inputs[0], n.inputs[1]);
    let (a, b) = (cx.at(a_t), cx.at(b_t));
    if let Form::Int(kind) = form {
        let (Loc::I64(_), Loc::I64(_)) = (a, b) else { return Err("i64 words expected".into()) };
        let (Loc::I64(a), Loc::I64(b)) = (broadcast_operand(cx, a_t, a, &so), broadcast_operand(cx, b_t, b, &so)) else {
            unreachable!("broadcast keeps the kind")
        };
        let Loc::I64(d) = cx.place_output(n.outputs[0]) else { return Err("i64 output expected".into()) };
        let r = match kind {
            IntBinaryKind::Add => "let r := add(va, vb)",
            IntBinaryKind::Sub => "let r := sub(va, vb)",
            IntBinaryKind::Mul => "let r := mul(va, vb)",
            IntBinaryKind::Div => "let r := sdiv(va, vb)",
            IntBinaryKind::Rem => "let r := smod(va, vb)",
            IntBinaryKind::Mod => "let r := smod(va, vb) if and(iszero(iszero(r)), xor(slt(r, 0), slt(vb, 0))) { r := add(r, vb) }",
            IntBinaryKind::Max => "let r := va if sgt(vb, va) { r := vb }",
            IntBinaryKind::Min => "let r := va if slt(vb, va) { r := vb }",
            // on sign-extended words, the bitwise ops give sign-extended words
            IntBinaryKind::And => "let r := and(va, vb)",
            IntBinaryKind::Or => "let r := or(va, vb)",
            IntBinaryKind::Xor => "let r := xor(va, vb)",
        };
        let by_zero = if matches!(kind, IntBinaryKind::Div | IntBinaryKind::Mod | IntBinaryKind::Rem) {
            format!("\n    if iszero(vb) {{ mstore(0, shl(224, {})) mstore(4, va) revert(0, 36) }}", selector("DivisionByZero(int256)"))
        } else {
            String::new()
        };
        // 256-bit arithmetic on i64 operands is exact; the result must lie in i64 (Max, Min,
        // Mod and Rem always do)
        let overflow = if matches!(kind, IntBinaryKind::Add | IntBinaryKind::Sub | IntBinaryKind::Mul | IntBinaryKind::Div) {
            format!(
                "\n    if gt(add(r, 0x8000000000000000), 0xffffffffffffffff) {{ mstore(0, shl(224, {})) mstore(4, va) revert(0, 36) }}",
                selector("IntegerOverflow(int256)")
            )
        } else {
            String::new()
        };
        cx.line(&format!(
            "for {{ let i := 0 }} lt(i, {total}) {{ i := add(i, 1) }} {{
    let va := mload(add({a}, shl(5, i)))
    let vb := mload(add({b}, shl(5, i))){by_zero}
    {r}{overflow}
    mstore(add({d}, shl(5, i)), r)
}}"
        ));
        return Ok(());
    }
    let (Loc::Bytes(_), Loc::Bytes(_)) = (a, b) else { return Err("int8 bytes expected".into()) };
    let (Loc::Bytes(a), Loc::Bytes(b)) = (broadcast_operand(cx, a_t, a, &so), broadcast_operand(cx, b_t, b, &so)) else {
        unreachable!("broadcast keeps the kind")
    };
    let Loc::Bytes(d) = cx.place_output(n.outputs[0]) else { return Err("int8 bytes expected".into()) };
    let mut prelude = String::new();
    let f = match form {
        Form::Extremum(Extremum::Max) => "let r := va if gt(vb, va) { r := vb }".to_string(),
        Form::Extremum(Extremum::Min) => "let r := va if lt(vb, va) { r := vb }".to_string(),
        Form::Lut(table) => {
            // the table's biased entries (`out + 128`), read from the data blob
            let lookup = compact::table_lookup(cx, table.iter().map(|&v| (v as i16 + 128) as u8).collect(), total);
            prelude = lookup.prelude.clone();
            format!("let r := {}", lookup.read("add(shl(8, va), vb)"))
        }
        Form::Binary(bn) => {
            let xa = add_const("va", -(bn.a_zero_point as i128 + 128));
            let xb = add_const("vb", -(bn.b_zero_point as i128 + 128));
            let acc = match bn.kind {
                BinaryKind::Mul => format!("let acc := mul({xa}, {xb})"),
                k => format!(
                    "let ra := 0\n{{\n{}\nra := r\n}}\nlet rb := 0\n{{\n{}\nrb := r\n}}\nlet acc := {}(ra, rb)",
                    indent(&requant_raw_yul(bn.a_multiplier, &format!("shl({}, {xa})", bn.left_shift)), 4),
                    indent(&requant_raw_yul(bn.b_multiplier, &format!("shl({}, {xb})", bn.left_shift)), 4),
                    if k == BinaryKind::Add { "add" } else { "sub" }
                ),
            };
            format!("{acc}\n{}", requant_yul(bn.output_multiplier, "acc", bn.output_zero_point, bn.clamp_min as i32, bn.clamp_max as i32))
        }
        Form::Int(_) => unreachable!("handled above"),
    };
    cx.line(&format!(
        "{{\n{prelude}\nfor {{ let i := 0 }} lt(i, {total}) {{ i := add(i, 1) }} {{\n    let va := xor(byte(0, mload(add({a}, i))), 0x80)\n    let vb := xor(byte(0, mload(add({b}, i))), 0x80)\n{}\n    mstore8(add({d}, i), xor(r, 0x80))\n}}\n}}",
        indent(&f, 4)
    ));
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Binary`] (`solidml_spec::for_each_op!`).
    pub(crate) fn binary(cx: &mut Ctx<'_>, n: &Node, op: &solidml_spec::Binary) -> super::EmitResult {
        emit(cx, n, Form::Binary(op))
    }

    /// The node entry of [`solidml_spec::Op::Extremum`] (`solidml_spec::for_each_op!`).
    pub(crate) fn extremum(cx: &mut Ctx<'_>, n: &Node, op: &solidml_spec::Extremum) -> super::EmitResult {
        emit(cx, n, Form::Extremum(*op))
    }

    /// The node entry of [`solidml_spec::Op::BinaryLut`] (`solidml_spec::for_each_op!`).
    pub(crate) fn binary_lut(cx: &mut Ctx<'_>, n: &Node, table: &[i8]) -> super::EmitResult {
        emit(cx, n, Form::Lut(table))
    }

    /// The node entry of [`solidml_spec::Op::IntBinary`] (`solidml_spec::for_each_op!`).
    pub(crate) fn int_binary(cx: &mut Ctx<'_>, n: &Node, kind: &solidml_spec::IntBinaryKind) -> super::EmitResult {
        emit(cx, n, Form::Int(*kind))
    }
}
