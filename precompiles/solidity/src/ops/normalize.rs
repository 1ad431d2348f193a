//! Normalize (spec §Normalize): L1, or L2 with the spec's exact integer square root, per lane.

use solidml_spec::{Node, NormKind, Normalize};

use crate::{NodeFailure, plan::*, yul::ISQRT_YUL};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, nm: &Normalize) -> Result<(), NodeFailure> {
    let m = cx.m;
    let x = n.inputs.first().copied().unwrap_or(0);
    let xin = m.tensor(x);
    let yt = n.outputs[0];
    // rows of the last axis (spec §Normalize): d = q − zp_in; L1: den = Σ|d|, shift k;
    // L2: den = isqrt(Σd² · 2^16) (Newton from a power of two above the root: exact
    // floor), shift k + 8; out = clamp(zp_out + round_half_away(d · 2^shift / den)),
    // zp_out for a zero row
    let Loc::Bytes(s) = cx.at(x) else { return Err("int8 bytes expected".into()) };
    let y = cx.place_output(yt);
    let row = *xin.shape.last().unwrap_or(&1) as usize;
    if xin.is_empty() || row == 0 {
        return Ok(());
    }
    let rows = xin.len() / row;
    let zpb = nm.input_zero_point + 128;
    let zpo = nm.output_zero_point + 128;
    let (shift, sum_term, den) = match nm.kind {
        NormKind::L1 => (nm.scale_log2, "if slt(d, 0) { d := sub(0, d) }\n        sum := add(sum, d)", "sum".to_string()),
        NormKind::L2 => (nm.scale_log2 + 8, "sum := add(sum, mul(d, d))", "isqrt(shl(16, sum))".to_string()),
    };
    let store = match y {
        Loc::Bytes(d) => format!("mstore8(add({d}, i), xor(r, 0x80))"),
        Loc::Words(d) => format!("mstore(add({d}, shl(5, i)), r)"),
        Loc::I64(_) | Loc::Wide(_) => return Err("int8 output expected".into()),
    };
    cx.line(&format!(
        r#"{{
{isqrt}
for {{ let rw := 0 }} lt(rw, {rows}) {{ rw := add(rw, 1) }} {{
    let b := mul(rw, {row})
    let sum := 0
    for {{ let j := 0 }} lt(j, {row}) {{ j := add(j, 1) }} {{
        let d := sub(xor(byte(0, mload(add({s}, add(b, j)))), 0x80), {zpb})
        {sum_term}
    }}
    let den := {den}
    for {{ let j := 0 }} lt(j, {row}) {{ j := add(j, 1) }} {{
        let i := add(b, j)
        let r := {zpo}
        if den {{
            let n := shl({shift}, sub(xor(byte(0, mload(add({s}, i))), 0x80), {zpb}))
            let a := n
            if slt(n, 0) {{ a := sub(0, n) }}
            let q := div(a, den)
            if iszero(lt(shl(1, mod(a, den)), den)) {{ q := add(q, 1) }}
            if slt(n, 0) {{ q := sub(0, q) }}
            r := add(q, {zpo})
            if slt(r, 0) {{ r := 0 }}
            if sgt(r, 255) {{ r := 255 }}
        }}
        {store}
    }}
}}
}}"#,
        isqrt = ISQRT_YUL
    ));
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Normalize`] (`solidml_spec::for_each_op!`).
    pub(crate) fn normalize(cx: &mut Ctx<'_>, n: &Node, op: &solidml_spec::Normalize) -> super::EmitResult {
        emit(cx, n, op)
    }
}
