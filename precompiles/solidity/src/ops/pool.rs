//! MaxPool and AvgPool (spec §MaxPool, §AvgPool): window loops over compile-time tap tables, the average with the spec's round-half-away division.
//!
//! A 2-d MaxPool with strides 1 or 2 and no dilation is straight-line SWAR where the code is
//! small: per plane, output row and run of up to 16 outputs, each kernel tap is one word load
//! of the input row, biased (`xor 0x80` per byte), whose bytes at the stride land as 16-bit
//! lanes (`(w >> 8) & 0x00ff…` for the even bytes, `w & 0x00ff…` for the odd ones; lanes of
//! taps outside the input masked to 0, the biased −128 that never wins), and the lane-wise
//! maximum `b ^ ((a ^ b) & mask)` with `mask` from the guard bit of `(a | 0x0100…) − b`.

use std::fmt::Write;

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
    if is_max && swar_max(cx, p, &xin.shape, &yinfo.shape, s, d) {
        cx.range[yt as usize] = (cx.range[x as usize].0.min(-128), cx.range[x as usize].1);
        return Ok(());
    }
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

/// Code bytes (estimated) up to which a MaxPool is straight-line SWAR.
const SWAR_CODE: usize = 8000;

/// The straight-line SWAR MaxPool (module docs), or `false` (nothing emitted) where it does
/// not apply.
fn swar_max(cx: &mut Ctx<'_>, p: &Pool, xs: &[u32], ys: &[u32], s: usize, d: usize) -> bool {
    // the compact layout spends its code on nothing but the essentials (its weights)
    if cx.compact
        || p.kernel.len() != 2
        || xs.len() != 4
        || ys.len() != 4
        || p.dilations.iter().any(|&v| v != 1)
        || p.strides.iter().any(|&v| v != 1 && v != 2)
    {
        return false;
    }
    let planes = (xs[0] * xs[1]) as usize;
    let (ih, iw, oh, ow) = (xs[2] as i64, xs[3] as i64, ys[2] as i64, ys[3] as i64);
    let (kh, kw, sy, sx, py, px) =
        (p.kernel[0] as i64, p.kernel[1] as i64, p.strides[0] as i64, p.strides[1] as i64, p.pads_begin[0] as i64, p.pads_begin[1] as i64);
    // runs of outputs: 16 lanes a word for stride 2, 32 (even and odd lanes) for stride 1
    let run = if sx == 2 { 16 } else { 32 };
    let runs = (ow as usize).div_ceil(run);
    let sets = if sx == 2 { 1 } else { 2 };
    let bytes = planes * oh as usize * runs * sets * (kh * kw) as usize * 50 + planes * (oh * ow) as usize * 8;
    if bytes > SWAR_CODE.min(cx.main_budget) || s < (px + 1) as usize {
        return false;
    }
    cx.main_budget -= bytes;
    let x80 = format!("0x{}", "80".repeat(32));
    let h = format!("0x{}", "0100".repeat(16));
    let c80 = format!("0x{}", "0080".repeat(16));
    let full = format!("0x{}", "00ff".repeat(16));
    // the constants once, on the stack (DUP: one byte of code, the gas of a PUSH32)
    let mut y = format!("{{\nlet x80 := {x80}\nlet hh := {h}\nlet m16 := {full}\n");
    for pl in 0..planes {
        for oy in 0..oh {
            for r in 0..runs as i64 {
                for set in 0..sets as i64 {
                    // lane i (from the top) holds output ox = ox0 + i (stride 2) or ox0 + 2i + set
                    let ox0 = r * run as i64;
                    let lane_ox = |i: i64| if sx == 2 { ox0 + i } else { ox0 + 2 * i + set };
                    let mut first = true;
                    let _ = writeln!(y, "{{");
                    for ky in 0..kh {
                        let iy = oy * sy - py + ky;
                        if !(0..ih).contains(&iy) {
                            continue;
                        }
                        for kx in 0..kw {
                            // byte 2i (+ set) of the word at `a` is the input of lane i
                            let c0 = ox0 * sx - px + kx;
                            let a = (s + pl * (ih * iw) as usize) as i64 + iy * iw + c0;
                            let mask: String = (0..16)
                                .map(|i| {
                                    let ox = lane_ox(i);
                                    let c = ox * sx - px + kx;
                                    if ox < ow && (0..iw).contains(&c) { "00ff" } else { "0000" }
                                })
                                .collect();
                            let mask = if mask == "00ff".repeat(16) { "m16".to_string() } else { format!("0x{mask}") };
                            let w = format!("xor(mload({a}), x80)");
                            let v = if set == 0 { format!("and(shr(8, {w}), {mask})") } else { format!("and({w}, {mask})") };
                            if first {
                                let _ = writeln!(y, "    let mx := {v}");
                                first = false;
                            } else {
                                let _ = writeln!(
                                    y,
                                    "    {{\n        let t := {v}\n        let g := and(sub(or(mx, hh), t), hh)\n        mx := xor(t, and(xor(mx, t), sub(g, shr(8, g))))\n    }}"
                                );
                            }
                        }
                    }
                    if first {
                        let _ = writeln!(y, "    let mx := 0");
                    }
                    let _ = writeln!(y, "    mx := xor(mx, {c80})");
                    for i in 0..16 {
                        let ox = lane_ox(i);
                        if ox >= ow {
                            continue;
                        }
                        let at = d + pl * (oh * ow) as usize + (oy * ow + ox) as usize;
                        let v = if i == 15 { "mx".to_string() } else { format!("shr({}, mx)", 240 - 16 * i) };
                        let _ = writeln!(y, "    mstore8({at}, {v})");
                    }
                    let _ = writeln!(y, "}}");
                }
            }
        }
    }
    y.push('}');
    cx.line(&y);
    true
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::MaxPool`] (`solidml_spec::for_each_op!`).
    pub(crate) fn max_pool(cx: &mut Ctx<'_>, n: &Node, op: &solidml_spec::Pool) -> super::EmitResult {
        emit(cx, n, op)
    }

    /// The node entry of [`solidml_spec::Op::AvgPool`] (`solidml_spec::for_each_op!`).
    pub(crate) fn avg_pool(cx: &mut Ctx<'_>, n: &Node, op: &solidml_spec::Pool) -> super::EmitResult {
        emit(cx, n, op)
    }
}
