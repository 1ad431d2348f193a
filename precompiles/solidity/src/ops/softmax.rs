//! Softmax (spec §Softmax): per lane, the max, the exp table lookups, the sum and the exact division of the spec.

use solidml_spec::{Node, Softmax};

use crate::{NodeFailure, plan::*};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, sm: &Softmax) -> Result<(), NodeFailure> {
    let m = cx.m;
    let x = n.inputs.first().copied().unwrap_or(0);
    let xin = m.tensor(x);
    let yt = n.outputs[0];
    let (Loc::Bytes(s), y) = (cx.at(x), cx.place_output(yt)) else { return Err("int8 bytes expected".into()) };
    let Loc::Bytes(d) = y else { return Err("int8 bytes expected".into()) };
    let t = cx.alloc(1024);
    let bytes: Vec<u8> = sm.exp_table.iter().flat_map(|e| e.to_be_bytes()).collect();
    cx.table(t, &bytes);
    let a = sm.axis as usize;
    let dim = xin.shape[a] as usize;
    let inner: usize = xin.shape[a + 1..].iter().map(|&d| d as usize).product();
    let outer: usize = xin.shape[..a].iter().map(|&d| d as usize).product();
    if dim == 0 || xin.is_empty() {
        return Ok(());
    }
    cx.line(&format!(
        r#"for {{ let o := 0 }} lt(o, {lanes}) {{ o := add(o, 1) }} {{
{head}
    if iszero(sum) {{ sum := 1 }}
    let sum2 := shl(1, sum)
    for {{ let j := 0 }} lt(j, {dim}) {{ j := add(j, 1) }} {{
        let p := add(base, mul(j, {inner}))
        let v := xor(byte(0, mload(add({s}, p))), 0x80)
        let e := shr(224, mload(add({t}, shl(2, sub(mx, v)))))
        // round_half_away(256·e / S) for e ≥ 0 = ⌊(512·e + S) / 2S⌋; biased output, clamp 255
        let q := div(add(shl(9, e), sum), sum2)
        if gt(q, 255) {{ q := 255 }}
        mstore8(add({d}, p), xor(q, 0x80))
    }}
}}"#,
        lanes = outer * inner,
        head = lane_max_and_sum(s, t, dim, inner),
    ));
    Ok(())
}

/// Yul opening the loop body of lane `o` (Softmax, LogSoftmax): `base`, its first element's
/// offset; `mx`, the lane's largest biased code; `sum = Σ_j exp_table[mx − x_j]` from the
/// 4-byte big-endian table at `t`. Biased values: the max and the differences are those of
/// the codes.
pub(crate) fn lane_max_and_sum(s: usize, t: usize, dim: usize, inner: usize) -> String {
    format!(
        r#"    let base := add(mul(div(o, {inner}), {di}), mod(o, {inner}))
    let mx := 0
    for {{ let j := 0 }} lt(j, {dim}) {{ j := add(j, 1) }} {{
        let v := xor(byte(0, mload(add({s}, add(base, mul(j, {inner}))))), 0x80)
        if gt(v, mx) {{ mx := v }}
    }}
    let sum := 0
    for {{ let j := 0 }} lt(j, {dim}) {{ j := add(j, 1) }} {{
        let v := xor(byte(0, mload(add({s}, add(base, mul(j, {inner}))))), 0x80)
        sum := add(sum, shr(224, mload(add({t}, shl(2, sub(mx, v))))))
    }}"#,
        di = dim * inner
    )
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Softmax`] (`solidml_spec::for_each_op!`).
    pub(crate) fn softmax(cx: &mut Ctx<'_>, n: &Node, op: &solidml_spec::Softmax) -> super::EmitResult {
        emit(cx, n, op)
    }
}
