//! LogSoftmax (spec §LogSoftmax), per lane along `axis`: `m = max q`,
//! `S = Σ exp_table[m − q_j]`, `k = ⌊log2 S⌋`, `i = (S >> (k − 8)) − 256`,
//! `L = (k − 16)·LN2_Q16 + ln_table[i]`,
//! `out_j = clamp(requantize((q_j − m)·input_scale_q16 − L, M) + zp_out)`.

use solidml_spec::{LN2_Q16, LogSoftmax, Node};

use crate::{NodeFailure, layer::*, plan::*, yul::*};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, sm: &LogSoftmax) -> Result<(), NodeFailure> {
    let shape = cx.m.tensor(n.inputs[0]).shape.clone();
    let (Loc::Bytes(s), Loc::Bytes(d)) = (cx.at(n.inputs[0]), cx.place_output(n.outputs[0])) else {
        return Err("int8 bytes expected".into());
    };
    let a = sm.axis as usize;
    let dim = shape[a] as usize;
    let inner: usize = shape[a + 1..].iter().map(|&d| d as usize).product();
    let outer: usize = shape[..a].iter().map(|&d| d as usize).product();
    if dim == 0 || outer * inner == 0 {
        return Ok(());
    }
    // exp_table (u32) then ln_table (i32), 4 bytes each, big-endian
    let t = cx.alloc(4 * (sm.exp_table.len() + sm.ln_table.len()));
    let bytes: Vec<u8> =
        sm.exp_table.iter().flat_map(|e| e.to_be_bytes()).chain(sm.ln_table.iter().flat_map(|l| l.to_be_bytes())).collect();
    cx.table(t, &bytes);
    let ln = t + 4 * sm.exp_table.len();
    let epilogue = requant_yul(sm.multiplier, "v", sm.output_zero_point, -128, 127);
    cx.line(&format!(
        r#"for {{ let o := 0 }} lt(o, {lanes}) {{ o := add(o, 1) }} {{
{head}
    // k = ⌊log2 S⌋ (S < 2^32)
    let k := 0
    {{
        let w := sum
        if gt(w, 0xffff) {{ w := shr(16, w) k := 16 }}
        if gt(w, 0xff) {{ w := shr(8, w) k := add(k, 8) }}
        if gt(w, 0xf) {{ w := shr(4, w) k := add(k, 4) }}
        if gt(w, 0x3) {{ w := shr(2, w) k := add(k, 2) }}
        if gt(w, 0x1) {{ k := add(k, 1) }}
    }}
    let l := add(mul(sub(k, 16), {ln2}), signextend(3, shr(224, mload(add({ln}, shl(2, sub(shr(sub(k, 8), sum), 256)))))))
    for {{ let j := 0 }} lt(j, {dim}) {{ j := add(j, 1) }} {{
        let p := add(base, mul(j, {inner}))
        let v := sub(mul(sub(xor(byte(0, mload(add({s}, p))), 0x80), mx), {scale}), l)
{epi}
        mstore8(add({d}, p), xor(r, 0x80))
    }}
}}"#,
        lanes = outer * inner,
        head = super::softmax::lane_max_and_sum(s, t, dim, inner),
        ln2 = LN2_Q16,
        scale = add_const("0", sm.input_scale_q16 as i128),
        epi = indent(&epilogue, 8),
    ));
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::LogSoftmax`] (`solidml_spec::for_each_op!`).
    pub(crate) fn log_softmax(cx: &mut Ctx<'_>, n: &Node, op: &solidml_spec::LogSoftmax) -> super::EmitResult {
        emit(cx, n, op)
    }
}
