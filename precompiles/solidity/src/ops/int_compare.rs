//! IntCompare (spec §IntCompare): both i64 operands broadcast to the output shape (through the
//! index tables of `binary.rs` where the shapes differ), then one loop over the output:
//! `out = a kind b ? true_code : false_code`, the i64 words compared signed (`eq`, `slt`,
//! `sgt` on their 256-bit sign extensions), the codes stored as bytes.

use solidml_spec::{CompareKind, IntCompare, Node};

use super::binary::broadcast_operand;
use crate::{NodeFailure, plan::*};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, c: &IntCompare) -> Result<(), NodeFailure> {
    let so = cx.m.tensor(n.outputs[0]).shape.clone();
    let total: usize = so.iter().map(|&d| d as usize).product();
    let (a_t, b_t) = (n.inputs[0], n.inputs[1]);
    let (a, b) = (cx.at(a_t), cx.at(b_t));
    let (Loc::I64(_), Loc::I64(_)) = (a, b) else { return Err("i64 words expected".into()) };
    let (Loc::I64(a), Loc::I64(b)) = (broadcast_operand(cx, a_t, a, &so), broadcast_operand(cx, b_t, b, &so)) else {
        unreachable!("broadcast keeps the kind")
    };
    let yt = n.outputs[0];
    let Loc::Bytes(d) = cx.place_output(yt) else { return Err("int8 bytes expected".into()) };
    let (t, f) = (c.true_code as i32, c.false_code as i32);
    cx.range[yt as usize] = (t.min(f), t.max(f));
    let holds = match c.kind {
        CompareKind::Equal => "eq",
        CompareKind::Less => "slt",
        CompareKind::Greater => "sgt",
    };
    // the stored byte: the false code's, xor (true ^ false) where the comparison holds
    let (fb, flip) = (f as u8, (t as u8) ^ (f as u8));
    cx.line(&format!(
        "for {{ let i := 0 }} lt(i, {total}) {{ i := add(i, 1) }} {{
    let h := {holds}(mload(add({a}, shl(5, i))), mload(add({b}, shl(5, i))))
    mstore8(add({d}, i), xor({fb}, mul(h, {flip})))
}}"
    ));
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::IntCompare`] (`solidml_spec::for_each_op!`).
    pub(crate) fn int_compare(cx: &mut Ctx<'_>, n: &Node, op: &solidml_spec::IntCompare) -> super::EmitResult {
        emit(cx, n, op)
    }
}
