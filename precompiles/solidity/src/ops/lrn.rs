//! Lrn (spec §Lrn): per element, `Q = Σ (q_c' − zp)²` over the channel window
//! `[c − ⌊(size − 1)/2⌋, c + ⌊size/2⌋]` clipped to the channels,
//! `F = factors[min(Q >> sum_shift, len − 1)]`, `out = clamp(zp_out + requantize((q_c − zp)·F, M))`.

use solidml_spec::{Lrn, Node};

use crate::{NodeFailure, layer::*, plan::*, yul::*};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, l: &Lrn) -> Result<(), NodeFailure> {
    let shape = cx.m.tensor(n.inputs[0]).shape.clone();
    let (Loc::Bytes(s), Loc::Bytes(d)) = (cx.at(n.inputs[0]), cx.place_output(n.outputs[0])) else {
        return Err("int8 bytes expected".into());
    };
    let ch = shape[1] as usize;
    let inner: usize = shape[2..].iter().map(|&d| d as usize).product();
    let total: usize = shape.iter().map(|&d| d as usize).product();
    if total == 0 || l.factors.is_empty() {
        return Ok(());
    }
    let t = cx.alloc(4 * l.factors.len());
    let bytes: Vec<u8> = l.factors.iter().flat_map(|f| f.to_be_bytes()).collect();
    cx.table(t, &bytes);
    let (before, after) = ((l.size as usize - 1) / 2, l.size as usize / 2);
    let zpb = l.input_zero_point as i128 + 128;
    let dv = |at: &str| add_const(&format!("xor(byte(0, mload(add({s}, {at}))), 0x80)"), -zpb);
    let epilogue = requant_yul(l.multiplier, "v", l.output_zero_point, -128, 127);
    cx.line(&format!(
        r#"for {{ let i := 0 }} lt(i, {total}) {{ i := add(i, 1) }} {{
    let c := mod(div(i, {inner}), {ch})
    let base := sub(i, mul(c, {inner}))
    let lo := 0
    if gt(c, {before}) {{ lo := sub(c, {before}) }}
    let hi := add(c, {after})
    if gt(hi, {last}) {{ hi := {last} }}
    let q := 0
    for {{ let k := lo }} iszero(gt(k, hi)) {{ k := add(k, 1) }} {{
        let e := {dk}
        q := add(q, mul(e, e))
    }}
    q := shr({shift}, q)
    if gt(q, {top}) {{ q := {top} }}
    let v := mul({di}, signextend(3, shr(224, mload(add({t}, shl(2, q))))))
{epi}
    mstore8(add({d}, i), xor(r, 0x80))
}}"#,
        last = ch - 1,
        top = l.factors.len() - 1,
        shift = l.sum_shift,
        dk = dv(&format!("add(base, mul(k, {inner}))")),
        di = dv("i"),
        epi = indent(&epilogue, 4),
    ));
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Lrn`] (`solidml_spec::for_each_op!`).
    pub(crate) fn lrn(cx: &mut Ctx<'_>, n: &Node, op: &solidml_spec::Lrn) -> super::EmitResult {
        emit(cx, n, op)
    }
}
