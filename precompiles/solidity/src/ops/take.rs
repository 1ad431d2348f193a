//! Take (spec §Take): `out[i] = table[in[i]]` on i64 words, reverting like the CPU's IndexOutOfRange when out of range.

use solidml_spec::Node;

use crate::{NodeFailure, plan::*, yul::*};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, table: &[i64]) -> Result<(), NodeFailure> {
    let m = cx.m;
    let x = n.inputs.first().copied().unwrap_or(0);
    let xin = m.tensor(x);
    let yt = n.outputs[0];
    let (Loc::I64(s), Loc::I64(d)) = (cx.at(x), cx.place_output(yt)) else { return Err("i64 input expected".into()) };
    let t = cx.i64_table(table);
    let sel = selector("IndexOutOfRange(int256,uint256)");
    cx.line(&format!(
                "for {{ let i := 0 }} lt(i, {len}) {{ i := add(i, 1) }} {{\n    let j := mload(add({s}, shl(5, i)))\n    if iszero(lt(j, {tl})) {{ mstore(0, shl(224, {sel})) mstore(4, j) mstore(36, {tl}) revert(0, 68) }}\n    mstore(add({d}, shl(5, i)), mload(add({t}, shl(5, j))))\n}}",
                len = xin.len(),
                tl = table.len(),
            ));
    let _ = sel;
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Take`] (`solidml_spec::for_each_op!`).
    pub(crate) fn take(cx: &mut Ctx<'_>, n: &Node, table: &[i64]) -> super::EmitResult {
        emit(cx, n, table)
    }
}
