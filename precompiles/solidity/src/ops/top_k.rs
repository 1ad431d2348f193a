//! TopK (spec §TopK): per lane, `k` selection passes over the lane; pass `r` takes the best
//! element that comes after the one pass `r − 1` took, in the spec's order (greater first, or
//! smaller first when not `largest`; equal values by increasing index), so no element is marked
//! and nothing is sorted in memory. `k · dim` iterations per lane. int8 codes are compared
//! biased (`q + 128`, unsigned), i64 words signed; the output is the element (a byte or an
//! i64 word) or its index (an i64 word).

use solidml_spec::{Node, TopKOutput};

use crate::{NodeFailure, plan::*};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, axis: u32, k: u32, largest: bool, output: TopKOutput) -> Result<(), NodeFailure> {
    let (x, yt) = (n.inputs[0], n.outputs[0]);
    let shape = cx.m.tensor(x).shape.clone();
    let a = axis as usize;
    let dim = shape[a] as usize;
    let inner: usize = shape[a + 1..].iter().map(|&d| d as usize).product();
    let lanes: usize = shape[..a].iter().map(|&d| d as usize).product::<usize>() * inner;
    let (load, ty) = match cx.at(x) {
        Loc::Bytes(s) => (format!("xor(byte(0, mload(add({s}, at))), 0x80)"), Loc::Bytes(0)),
        Loc::I64(s) => (format!("mload(add({s}, shl(5, at)))"), Loc::I64(0)),
        _ => return Err("int8 bytes or i64 words expected".into()),
    };
    let store = match (cx.place_output(yt), output) {
        (Loc::I64(d), TopKOutput::Indices) => format!("mstore(add({d}, shl(5, p)), best)"),
        (Loc::I64(d), TopKOutput::Values) if matches!(ty, Loc::I64(_)) => format!("mstore(add({d}, shl(5, p)), bv)"),
        (Loc::Bytes(d), TopKOutput::Values) if matches!(ty, Loc::Bytes(_)) => format!("mstore8(add({d}, p), xor(bv, 0x80))"),
        _ => return Err("output of an unexpected type".into()),
    };
    if output == TopKOutput::Values {
        cx.range[yt as usize] = cx.range[x as usize];
    }
    if k == 0 || lanes == 0 {
        return Ok(());
    }
    // `better(u, w)`: u comes before w on value alone
    let (lt, gt) = if matches!(ty, Loc::I64(_)) { ("slt", "sgt") } else { ("lt", "gt") };
    let better = |u: &str, w: &str| if largest { format!("{gt}({u}, {w})") } else { format!("{lt}({u}, {w})") };
    let (after_prev, beats_best) = (
        // j comes after the element of the previous pass: worse, or equal with a larger index
        format!("or(iszero(r), or({}, and(eq(v, pv), gt(j, pj))))", better("pv", "v")),
        format!("or(eq(best, {dim}), {})", better("v", "bv")),
    );
    cx.line(&format!(
        r#"for {{ let l := 0 }} lt(l, {lanes}) {{ l := add(l, 1) }} {{
    let base := add(mul(div(l, {inner}), {di}), mod(l, {inner}))
    let pv := 0
    let pj := 0
    for {{ let r := 0 }} lt(r, {k}) {{ r := add(r, 1) }} {{
        let best := {dim}
        let bv := 0
        for {{ let j := 0 }} lt(j, {dim}) {{ j := add(j, 1) }} {{
            let at := add(base, mul(j, {inner}))
            let v := {load}
            if and({after_prev}, {beats_best}) {{ best := j bv := v }}
        }}
        let p := add(mul(add(mul(div(l, {inner}), {k}), r), {inner}), mod(l, {inner}))
        {store}
        pv := bv
        pj := best
    }}
}}"#,
        di = dim * inner,
    ));
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::TopK`] (`solidml_spec::for_each_op!`).
    pub(crate) fn top_k(
        cx: &mut Ctx<'_>,
        n: &Node,
        axis: &u32,
        k: &u32,
        largest: &bool,
        output: &solidml_spec::TopKOutput,
    ) -> super::EmitResult {
        emit(cx, n, *axis, *k, *largest, *output)
    }
}
