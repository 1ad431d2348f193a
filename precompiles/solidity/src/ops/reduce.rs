//! Reduce (spec §Reduce): Sum, Mean, Max, Min over the input positions of `solidml_exec::index::reduce_groups`, then the requantization.
//!
//! Sum and Mean over contiguous runs of the input (reducing trailing axes, as a global
//! average pool does) are word-wide (one loop over the outputs when the runs lie evenly apart,
//! straight-line otherwise): each 32-byte word of a run, biased (`xor 0x80` per
//! byte; bytes past the run masked to 0), splits into its even and odd bytes as 16-bit lanes
//! added into a running word (at most 128 words: lanes stay under 2^16), folded to 32-bit
//! lanes and summed into the top lane by one multiplication with `Σ_i 2^(32·i)`. Other
//! reductions gather the runs through a table and loop.

/// Code bytes (estimated) up to which reductions are straight-line.
const SWAR_CODE: usize = 8000;

use std::fmt::Write;

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
    let zpb = rd.input_zero_point as i128 + 128;
    let mean = if rd.kind == ReduceKind::Mean { div_half_away_yul("acc", count) } else { String::new() };
    let requant = requant_yul(rd.multiplier, "acc", rd.output_zero_point, -128, 127);
    // Sum/Mean over contiguous runs: word-wide SWAR sums (see the module docs)
    let contiguous = lists.iter().all(|l| l.windows(2).all(|p| p[1] == p[0] + 1));
    // runs `count` apart (a global pool's): one loop over the outputs, the same body for each
    let strided = contiguous && lists.iter().enumerate().all(|(o, l)| l[0] == lists[0][0] + o * count);
    let chunks = count.div_ceil(32);
    let body_bytes = chunks * 60 + 400;
    let code = if strided { body_bytes } else { out_len * body_bytes };
    if matches!(rd.kind, ReduceKind::Sum | ReduceKind::Mean) && contiguous && chunks <= 128 && code <= SWAR_CODE.min(cx.main_budget) {
        cx.main_budget -= code;
        let x80 = format!("0x{}", "80".repeat(32));
        let m16 = format!("0x{}", "00ff".repeat(16));
        let m32 = format!("0x{}", "0000ffff".repeat(8));
        let ones32 = format!("0x{}", "00000001".repeat(8));
        // the run starting at `p` (an expression) into the biased output at `at`
        let run = |p: &str, at: &str| {
            let mut y = String::from("    let sm := 0\n");
            for ch in 0..chunks {
                let n = (count - 32 * ch).min(32);
                let a = if ch == 0 { p.to_string() } else { format!("add({p}, {})", 32 * ch) };
                let mut w = format!("xor(mload({a}), {x80})");
                if n < 32 {
                    w = format!("and({w}, 0x{}{})", "ff".repeat(n), "00".repeat(32 - n));
                }
                let _ =
                    writeln!(y, "    {{\n        let w := {w}\n        sm := add(sm, add(and(w, {m16}), and(shr(8, w), {m16})))\n    }}");
            }
            // 16-bit lanes to 32-bit lanes, then all eight summed into the top lane
            let _ = writeln!(y, "    let acc := shr(224, mul(add(and(sm, {m32}), and(shr(16, sm), {m32})), {ones32}))");
            let _ = writeln!(
                y,
                "    acc := sub(acc, {})\n{}\n{}\n    mstore8({at}, xor(r, 0x80))",
                zpb * count as i128,
                indent(&mean, 4),
                indent(&requant, 4),
            );
            y
        };
        if strided && out_len > 1 {
            let first = s + lists[0][0];
            cx.line(&format!(
                "for {{ let o := 0 }} lt(o, {out_len}) {{ o := add(o, 1) }} {{\n    let p := add({first}, mul(o, {count}))\n{}\n}}",
                run("p", &format!("add({d}, o)"))
            ));
        } else {
            for (o, l) in lists.iter().enumerate() {
                cx.line(&format!("{{\n{}\n}}", run(&(s + l[0]).to_string(), &(d + o).to_string())));
            }
        }
        return Ok(());
    }
    let all: Vec<Option<usize>> = lists.concat().into_iter().map(Some).collect();
    let tmp = cx.alloc(all.len());
    cx.gather(Loc::Bytes(s), Loc::Bytes(tmp), &all, 0);
    let (init, step, fin) = match rd.kind {
        ReduceKind::Sum | ReduceKind::Mean => ("0", "acc := add(acc, v)", format!("acc := sub(acc, {})", zpb * count as i128)),
        ReduceKind::Max => ("0", "if gt(v, acc) { acc := v }", add_const_stmt("acc", -zpb)),
        ReduceKind::Min => ("255", "if lt(v, acc) { acc := v }", add_const_stmt("acc", -zpb)),
    };
    cx.line(&format!(
                "for {{ let o := 0 }} lt(o, {out_len}) {{ o := add(o, 1) }} {{\n    let b := add({tmp}, mul(o, {count}))\n    let acc := {init}\n    for {{ let k := 0 }} lt(k, {count}) {{ k := add(k, 1) }} {{\n        let v := xor(byte(0, mload(add(b, k))), 0x80)\n        {step}\n    }}\n    {fin}\n{}\n{}\n    mstore8(add({d}, o), xor(r, 0x80))\n}}",
                indent(&mean, 4),
                indent(&requant, 4)
            ));
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Reduce`] (`solidml_spec::for_each_op!`).
    pub(crate) fn reduce(cx: &mut Ctx<'_>, n: &Node, op: &solidml_spec::Reduce) -> super::EmitResult {
        emit(cx, n, op)
    }
}
