//! Reduce (spec §Reduce): Sum, Mean, Max, Min over the input positions of `solidml_exec::index::reduce_groups`, then the requantization.

use solidml_spec::{Node, Reduce, ReduceKind};

use crate::{NodeFailure, layer::*, plan::*, yul::*};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, rd: &Reduce) -> Result<(), NodeFailure> {
    let m = cx.m;
    let x = n.inputs.first().copied().unwrap_or(0);
    let xin = m.tensor(x);
    let yt = n.outputs[0];
    let (Loc::Bytes(s), Loc::Bytes(d)) = (cx.at(x), cx.place_output(yt)) else { return Err("int8 bytes expected".into()) };
    // the reference's walk: input positions of each output, in input order
    let lists = solidml_exec::index::reduce_groups(&rd.axes, &xin.shape);
    let out_len = lists.len();
    let count = xin.len() / out_len.max(1);
    if xin.is_empty() || count == 0 {
        return Err("empty reduction".into());
    }
    let all: Vec<Option<usize>> = lists.concat().into_iter().map(Some).collect();
    let tmp = cx.alloc(all.len());
    cx.gather(Loc::Bytes(s), Loc::Bytes(tmp), &all, 0);
    let zpb = rd.input_zero_point as i128 + 128;
    let (init, step, fin) = match rd.kind {
        ReduceKind::Sum | ReduceKind::Mean => ("0", "acc := add(acc, v)", format!("acc := sub(acc, {})", zpb * count as i128)),
        ReduceKind::Max => ("0", "if gt(v, acc) { acc := v }", add_const_stmt("acc", -zpb)),
        ReduceKind::Min => ("255", "if lt(v, acc) { acc := v }", add_const_stmt("acc", -zpb)),
    };
    let mean = if rd.kind == ReduceKind::Mean { div_half_away_yul("acc", count) } else { String::new() };
    cx.line(&format!(
                "for {{ let o := 0 }} lt(o, {out_len}) {{ o := add(o, 1) }} {{\n    let b := add({tmp}, mul(o, {count}))\n    let acc := {init}\n    for {{ let k := 0 }} lt(k, {count}) {{ k := add(k, 1) }} {{\n        let v := xor(byte(0, mload(add(b, k))), 0x80)\n        {step}\n    }}\n    {fin}\n{}\n{}\n    mstore8(add({d}, o), xor(r, 0x80))\n}}",
                indent(&mean, 4),
                indent(&requant_yul(rd.multiplier, "acc", rd.output_zero_point, -128, 127), 4)
            ));
    Ok(())
}
