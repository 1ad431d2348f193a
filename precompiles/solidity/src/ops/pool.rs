//! MaxPool and AvgPool (spec §MaxPool, §AvgPool): window loops over compile-time tap tables, the average with the spec's round-half-away division.

use solidml_spec::{Node, Op, Pool};

use crate::{NodeFailure, plan::*, yul::*};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, p: &Pool) -> Result<(), NodeFailure> {
    let m = cx.m;
    let x = n.inputs.first().copied().unwrap_or(0);
    let xin = m.tensor(x);
    let yt = n.outputs[0];
    let yinfo = m.tensor(yt);
    let is_max = matches!(n.op, Op::MaxPool(_));
    let (Loc::Bytes(s), Loc::Bytes(d)) = (cx.at(x), cx.place_output(yt)) else { return Err("int8 bytes expected".into()) };
    let sdim = p.kernel.len();
    let planes = xin.shape[0] as usize * xin.shape[1] as usize;
    let in_plane: usize = xin.shape[2..].iter().map(|&d| d as usize).product();
    let out_plane: usize = yinfo.shape[2..].iter().map(|&d| d as usize).product();
    let ist = row_major(&xin.shape[2..]);
    let klen: usize = p.kernel.iter().map(|&k| k as usize).product();
    // im2col of the windows: [planes·out_plane, klen], padding as None
    let mut idx = Vec::with_capacity(planes * out_plane * klen);
    let mut counts = Vec::with_capacity(out_plane);
    for o in 0..out_plane {
        let mut opos = vec![0i64; sdim];
        let mut rem = o;
        for dd in (0..sdim).rev() {
            opos[dd] = (rem % yinfo.shape[dd + 2] as usize) as i64;
            rem /= yinfo.shape[dd + 2] as usize;
        }
        let taps: Vec<Option<usize>> = (0..klen)
            .map(|k| {
                let mut rem = k;
                let mut off = 0i64;
                let mut inside = true;
                for dd in (0..sdim).rev() {
                    let kd = (rem % p.kernel[dd] as usize) as i64;
                    rem /= p.kernel[dd] as usize;
                    let pos = opos[dd] * p.strides[dd] as i64 - p.pads_begin[dd] as i64 + kd * p.dilations[dd] as i64;
                    if pos < 0 || pos >= xin.shape[dd + 2] as i64 {
                        inside = false;
                    } else {
                        off += pos * ist[dd];
                    }
                }
                inside.then_some(off as usize)
            })
            .collect();
        counts.push(if p.count_include_pad { klen } else { taps.iter().flatten().count() });
        idx.push(taps);
    }
    let mut full = Vec::with_capacity(planes * out_plane * klen);
    for pl in 0..planes {
        for taps in &idx {
            full.extend(taps.iter().map(|t| t.map(|t| pl * in_plane + t)));
        }
    }
    if full.is_empty() {
        return Ok(());
    }
    let tmp = cx.alloc(full.len());
    // padding: −128 never wins a max; zp adds 0 to an average's sum
    let fill = if is_max { -128 } else { p.zero_point as i64 };
    cx.gather(Loc::Bytes(s), Loc::Bytes(tmp), &full, fill);
    let total = planes * out_plane;
    if is_max {
        cx.line(&format!(
                    "for {{ let o := 0 }} lt(o, {total}) {{ o := add(o, 1) }} {{\n    let b := add({tmp}, mul(o, {klen}))\n    let mx := 0\n    for {{ let k := 0 }} lt(k, {klen}) {{ k := add(k, 1) }} {{\n        let v := xor(byte(0, mload(add(b, k))), 0x80)\n        if gt(v, mx) {{ mx := v }}\n    }}\n    mstore8(add({d}, o), xor(mx, 0x80))\n}}"
                ));
        cx.range[yt as usize] = (cx.range[x as usize].0.min(-128), cx.range[x as usize].1);
    } else {
        if !(-128..=127).contains(&p.zero_point) {
            return Err("zero point outside int8".into());
        }
        let uniform = counts.iter().all(|&c| c == counts[0]);
        let cnt = if uniform {
            counts[0].to_string()
        } else {
            let t = cx.alloc(2 * counts.len());
            let bytes: Vec<u8> = counts.iter().flat_map(|&c| (c as u16).to_be_bytes()).collect();
            cx.table(t, &bytes);
            format!("shr(240, mload(add({t}, shl(1, mod(o, {out_plane})))))")
        };
        let zpb = p.zero_point + 128;
        // sum of (xb − zpb) ≥ −255·klen: offset by 255·klen·c... computed signed instead
        cx.line(&format!(
            r#"for {{ let o := 0 }} lt(o, {total}) {{ o := add(o, 1) }} {{
    let b := add({tmp}, mul(o, {klen}))
    let sum := 0
    for {{ let k := 0 }} lt(k, {klen}) {{ k := add(k, 1) }} {{
        sum := add(sum, xor(byte(0, mload(add(b, k))), 0x80))
    }}
    sum := sub(sum, mul({zpb}, {klen}))
    let c := {cnt}
    let v := {zpb}
    if c {{
        // div_round_half_away(sum, c)
        let q := sdiv(sum, c)
        let r := smod(sum, c)
        if slt(r, 0) {{ r := sub(0, r) }}
        if iszero(lt(shl(1, r), c)) {{ switch slt(sum, 0) case 0 {{ q := add(q, 1) }} default {{ q := sub(q, 1) }} }}
        v := add(q, {zpb})
    }}
    if slt(v, 0) {{ v := 0 }}
    if sgt(v, 255) {{ v := 255 }}
    mstore8(add({d}, o), xor(v, 0x80))
}}"#
        ));
    }
    Ok(())
}
