//! IntLut (spec §IntLut): `out[i] = table[x[i] + 128]`, the 256 i64 values as words in memory,
//! one MLOAD per element.

use solidml_spec::Node;

use crate::{NodeFailure, plan::*};

fn emit(cx: &mut Ctx<'_>, n: &Node, table: &[i64]) -> Result<(), NodeFailure> {
    let x = n.inputs.first().copied().unwrap_or(0);
    let len = cx.m.tensor(x).len();
    let yt = n.outputs[0];
    // the index `x + 128` of element i: a byte's sign bit flipped, or a biased word as it is
    let index = match cx.at(x) {
        Loc::Bytes(s) => format!("xor(byte(0, mload(add({s}, i))), 0x80)"),
        Loc::Words(s) => format!("mload(add({s}, shl(5, i)))"),
        Loc::I64(_) | Loc::Wide(_) => return Err("int8 input expected".into()),
    };
    let Loc::I64(d) = cx.place_output(yt) else { return Err("i64 output expected".into()) };
    let t = cx.i64_table(table);
    cx.line(&format!(
        "for {{ let i := 0 }} lt(i, {len}) {{ i := add(i, 1) }} {{\n    mstore(add({d}, shl(5, i)), mload(add({t}, shl(5, {index}))))\n}}"
    ));
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::IntLut`] (`solidml_spec::for_each_op!`).
    pub(crate) fn int_lut(cx: &mut Ctx<'_>, n: &Node, table: &[i64]) -> super::EmitResult {
        emit(cx, n, table)
    }
}
