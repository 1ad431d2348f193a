//! ArgMax (spec §ArgMax): per lane, the first (or last) index of the maximum, as i64 words.

use solidml_spec::Node;

use crate::{NodeFailure, plan::*};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, axis: &u32, select_last_index: &bool) -> Result<(), NodeFailure> {
    let m = cx.m;
    let x = n.inputs.first().copied().unwrap_or(0);
    let xin = m.tensor(x);
    let yt = n.outputs[0];
    let (Loc::Bytes(s), Loc::I64(d)) = (cx.at(x), cx.place_output(yt)) else { return Err("int8 input expected".into()) };
    let a = *axis as usize;
    let dim = xin.shape[a] as usize;
    let inner: usize = xin.shape[a + 1..].iter().map(|&d| d as usize).product();
    let outer: usize = xin.shape[..a].iter().map(|&d| d as usize).product();
    if dim == 0 || xin.is_empty() {
        return Ok(());
    }
    let cmp = if *select_last_index { "iszero(lt(v, vb))" } else { "gt(v, vb)" };
    cx.line(&format!(
        r#"for {{ let o := 0 }} lt(o, {lanes}) {{ o := add(o, 1) }} {{
    let base := add(mul(div(o, {inner}), {di}), mod(o, {inner}))
    let best := 0
    let vb := byte(0, mload(add({s}, base)))
    vb := xor(vb, 0x80)
    for {{ let j := 1 }} lt(j, {dim}) {{ j := add(j, 1) }} {{
        let v := xor(byte(0, mload(add({s}, add(base, mul(j, {inner}))))), 0x80)
        if {cmp} {{ best := j vb := v }}
    }}
    mstore(add({d}, shl(5, o)), best)
}}"#,
        lanes = outer * inner,
        di = dim * inner,
    ));
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::ArgMax`] (`solidml_spec::for_each_op!`).
    pub(crate) fn argmax(cx: &mut Ctx<'_>, n: &Node, axis: &u32, select_last_index: &bool) -> super::EmitResult {
        emit(cx, n, axis, select_last_index)
    }
}
