//! InstanceNorm (spec §InstanceNorm), per `(n, c)` plane of `P` elements: `S1 = Σ d`,
//! `S2 = Σ d²` (`d = q − zp`), `r = isqrt(P·S2 − S1² + ε_term)`, then per element
//! `clamp(zp_out + round_half_away((γ[c]·(P·d − S1) + β[c]·r) / (r·2^16)))`
//! (`r = 0`: `round_half_away(β[c] / 2^16)`). Exact in 256-bit words; γ and β as 8-byte tables.

use solidml_spec::{InstanceNorm, Node};

use crate::{NodeFailure, layer::*, plan::*, yul::*};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, p: &InstanceNorm) -> Result<(), NodeFailure> {
    let shape = cx.m.tensor(n.inputs[0]).shape.clone();
    let (Loc::Bytes(s), Loc::Bytes(d)) = (cx.at(n.inputs[0]), cx.place_output(n.outputs[0])) else {
        return Err("int8 bytes expected".into());
    };
    let ch = shape[1] as usize;
    let plane: usize = shape[2..].iter().map(|&d| d as usize).product();
    let planes = shape[0] as usize * ch;
    if plane == 0 || planes == 0 {
        return Ok(());
    }
    // γ[c], β[c] as 8-byte big-endian two's complement, side by side
    let t = cx.alloc(16 * ch);
    let bytes: Vec<u8> = p.gamma_q16.iter().zip(&p.beta_q16).flat_map(|(g, b)| [g.to_be_bytes(), b.to_be_bytes()].concat()).collect();
    cx.table(t, &bytes);
    let zpb = p.input_zero_point as i128 + 128;
    let zpo = p.output_zero_point as i128 + 128;
    cx.line(&format!(
        r#"{{
{isqrt}
{div}
for {{ let k := 0 }} lt(k, {planes}) {{ k := add(k, 1) }} {{
    let c := mod(k, {ch})
    let gamma := signextend(7, shr(192, mload(add({t}, shl(4, c)))))
    let beta := signextend(7, shr(192, mload(add({t}, add(shl(4, c), 8)))))
    let b := mul(k, {plane})
    let s1 := 0
    let s2 := 0
    for {{ let j := 0 }} lt(j, {plane}) {{ j := add(j, 1) }} {{
        let v := {dv}
        s1 := add(s1, v)
        s2 := add(s2, mul(v, v))
    }}
    let r := isqrt(add(sub(mul({plane}, s2), mul(s1, s1)), {eps}))
    for {{ let j := 0 }} lt(j, {plane}) {{ j := add(j, 1) }} {{
        let y := 0
        switch r
        case 0 {{ y := div_half_away(beta, 65536) }}
        default {{
            let v := {dv}
            y := div_half_away(add(mul(gamma, sub(mul({plane}, v), s1)), mul(beta, r)), shl(16, r))
        }}
        y := add(y, {zpo})
        if slt(y, 0) {{ y := 0 }}
        if sgt(y, 255) {{ y := 255 }}
        mstore8(add({d}, add(b, j)), xor(y, 0x80))
    }}
}}
}}"#,
        isqrt = ISQRT_YUL,
        div = DIV_HALF_AWAY_YUL,
        dv = add_const(&format!("xor(byte(0, mload(add({s}, add(b, j)))), 0x80)"), -zpb),
        eps = add_const("0", p.epsilon_term as i128),
    ));
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::InstanceNorm`] (`solidml_spec::for_each_op!`).
    pub(crate) fn instance_norm(cx: &mut Ctx<'_>, n: &Node, op: &solidml_spec::InstanceNorm) -> super::EmitResult {
        emit(cx, n, op)
    }
}
