//! Conv (spec §Conv) in the fast layout without an im2col gather, where it fits: the input is
//! first widened once into a zero-padded buffer of words holding `x − zp_in` (two's
//! complement; a padded position holds `zp_in − zp_in = 0`, the fresh memory's value, so
//! padding costs nothing), one word per element of the padded planes. The output positions
//! are then nested loops (one per spatial axis) moving a base address `b` by `stride` padded
//! elements; kernel tap `(c, k)` of the position reads `mload(b + offset(c, k))`, the offset a
//! compile-time immediate (no tap table, no per-tap branch).
//!
//! Per group of output lanes (as in [`crate::layer`]): `ACC = C_0 + Σ_k COLUMN_k·(x_k − zp)`
//! with `C_0 = Σ_j (bias_j − lo_j)·2^(W·j)`: the same exact lane arithmetic, the input offset
//! folded into the values rather than into `C_0`.
//!
//! **Epilogue.** Where [`Layer::fast_lane`] holds (every ReLU-clamped layer whose
//! requantization steps by at most one code at the clamps), the lanes are clamped to
//! `[u0_j, u1_j]` all at once (SWAR, with a guard bit above each `W`-bit lane: `x = (ACC | G)
//! − U0` keeps lane `j`'s guard bit iff `u_j ≥ u0_j`, the mask `g − (g >> W)` of the guard
//! bits `g` selects those lanes), and each output is `mstore8(o + n·plane, sar(s, y_j·mul +
//! k))`: no branch per output. Other lanes take the general epilogue.
//!
//! Used when the padded buffer stays small (memory is paid quadratically) and the code fits
//! the main contract's layer budget; otherwise Conv takes the gather form ([`super::conv`]).

use std::fmt::Write;

use solidml_spec::{Conv, DType, Node};

use crate::{NodeFailure, layer::*, plan::*};

/// Largest padded input (32-byte words) taken by the direct form.
const MAX_WORDS: i64 = 4096;
/// Largest input (elements) widened by straight-line code.
const MAX_INPUT: usize = 2048;

/// Emit `n` in the direct form, or return `false` (nothing emitted) where it does not apply.
pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, c: &Conv) -> Result<bool, NodeFailure> {
    let m = cx.m;
    let x = n.inputs[0];
    let xin = m.tensor(x);
    let yt = n.outputs[0];
    let yinfo = m.tensor(yt);
    let sd = c.kernel.len();
    if cx.compact || xin.dtype != DType::I8 || sd == 0 || xin.shape.len() != sd + 2 || yinfo.shape.len() != sd + 2 || cx.wants_words(yt) {
        return Ok(false);
    }
    let Loc::Bytes(src) = cx.at(x) else { return Ok(false) };
    let (batch, cin, cout) = (xin.shape[0] as usize, xin.shape[1] as usize, yinfo.shape[1] as usize);
    let g = c.groups as usize;
    if g == 0 || cin % g != 0 || cout % g != 0 || xin.is_empty() || yinfo.is_empty() {
        return Ok(false);
    }
    let (cin_g, cout_g) = (cin / g, cout / g);
    let klen: usize = c.kernel.iter().map(|&k| k as usize).product();
    let wlen = cin_g * klen;
    if c.weights.len() != cout * wlen || c.bias.len() != cout {
        return Ok(false);
    }
    let in_sp: Vec<i64> = xin.shape[2..].iter().map(|&d| d as i64).collect();
    let out_sp: Vec<i64> = yinfo.shape[2..].iter().map(|&d| d as i64).collect();
    let (st, dil, pb): (Vec<i64>, Vec<i64>, Vec<i64>) = (
        c.strides.iter().map(|&v| v as i64).collect(),
        c.dilations.iter().map(|&v| v as i64).collect(),
        c.pads_begin.iter().map(|&v| v as i64).collect(),
    );
    // padded extents: every coordinate o·stride − pad + k·dilation read, shifted by pad
    let pdim: Vec<i64> =
        (0..sd).map(|d| in_sp[d].max((out_sp[d] - 1) * st[d] + (c.kernel[d] as i64 - 1) * dil[d] - pb[d] + 1) + pb[d]).collect();
    let pplane: i64 = pdim.iter().product();
    let in_plane: usize = in_sp.iter().map(|&d| d as usize).product();
    let out_plane: usize = out_sp.iter().map(|&d| d as usize).product();
    if (batch * cin) as i64 * pplane > MAX_WORDS || xin.len() > MAX_INPUT {
        return Ok(false);
    }
    let mut pst = vec![1i64; sd];
    for d in (0..sd.saturating_sub(1)).rev() {
        pst[d] = pst[d + 1] * pdim[d + 1];
    }
    let zp = c.input_zero_point;
    let (lo, hi) = cx.range[x as usize];
    let xr = (lo.min(zp), hi.max(zp));
    let mut layers = Vec::with_capacity(g);
    for gi in 0..g {
        let layer = Layer {
            k: wlen,
            n: cout_g,
            weights: &c.weights[gi * cout_g * wlen..(gi + 1) * cout_g * wlen],
            bias: &c.bias[gi * cout_g..(gi + 1) * cout_g],
            input_zero_point: zp,
            epilogue: &c.epilogue,
            channel_offset: gi * cout_g,
            x_range: xr,
        };
        let Ok(plan) = layer.plan() else { return Ok(false) };
        // a guard bit above each lane when that costs no extra group
        let (w, lanes) = (plan.w, plan.lanes);
        let wide = 256 / (w as usize + 1);
        let (wl, lanes) = if w < 64 && cout_g.div_ceil(wide) == cout_g.div_ceil(lanes) { (w + 1, wide) } else { (w, lanes) };
        layers.push((layer, Plan { w: wl, lanes, acc: plan.acc }, w));
    }
    // tap offsets (bytes from the position's base) of the row's K inputs
    let offs: Vec<i64> = (0..wlen)
        .map(|kk| {
            let (ci, t) = (kk / klen, kk % klen);
            let kpos = super::conv::unravel(t, &c.kernel);
            32 * (ci as i64 * pplane + (0..sd).map(|d| kpos[d] * dil[d] * pst[d]).sum::<i64>())
        })
        .collect();
    // code estimate: widening, then per group its terms and outputs, per loop nest its loops
    let mut bytes = xin.len() * 10 + xin.len().div_ceil(32) * 40;
    for (layer, plan, _) in &layers {
        for r in groups_of(layer.n, plan.lanes) {
            bytes += 120 + r.len() * 40;
            for kk in 0..wlen {
                let col: Vec<i128> = r.clone().map(|nn| layer.weights[nn * wlen + kk] as i128).collect();
                if col.iter().any(|&v| v != 0) {
                    bytes += (word(pack(&col, plan.w)).len() - 2).div_ceil(2) + 10;
                }
            }
        }
    }
    bytes *= batch;
    bytes += batch * g * sd * 60;
    if bytes > cx.main_budget {
        return Ok(false);
    }
    cx.main_budget -= bytes;

    let y = cx.place_output(yt);
    let Loc::Bytes(yaddr) = y else { return Err("internal: conv output placed as words".into()) };
    let buf = cx.alloc(32 * (batch * cin) * pplane as usize);
    // widen: x − zp into the padded buffer, 32 input bytes per load
    let zpb = zp + 128;
    let ones = format!("0x{}", "80".repeat(32));
    let mut code = String::new();
    for cs in (0..xin.len()).step_by(32) {
        let _ = writeln!(code, "{{\n    let w := xor(mload({}), {ones})", src + cs);
        for i in cs..(cs + 32).min(xin.len()) {
            let (bc, p) = (i / in_plane, i % in_plane);
            let ppos = super::conv::unravel(p, &xin.shape[2..]);
            let pidx: i64 = (0..sd).map(|d| (ppos[d] + pb[d]) * pst[d]).sum();
            let dst = buf as i64 + 32 * (bc as i64 * pplane + pidx);
            let v = format!("byte({}, w)", i - cs);
            let _ = writeln!(code, "    mstore({dst}, {})", add_const(&v, -(zpb as i128)));
        }
        let _ = writeln!(code, "}}");
    }
    cx.line(&code);
    let (mut out_lo, mut out_hi) = (127, -128);
    for b in 0..batch {
        for (gi, (layer, plan, w)) in layers.iter().enumerate() {
            let base = buf as i64 + 32 * ((b * cin + gi * cin_g) as i64 * pplane);
            let first_out = yaddr + (b * cout + gi * cout_g) * out_plane;
            let mut body = String::new();
            for r in groups_of(layer.n, plan.lanes) {
                body.push_str(&group_yul(layer, plan, *w, r, &offs, out_plane));
            }
            let _ = writeln!(body, "oo := add(oo, 1)");
            // the loops, innermost first: axis d moves b_d by stride·pst[d] elements
            for d in (0..sd).rev() {
                let step = 32 * st[d] * pst[d];
                let span = step * out_sp[d];
                let var = if d + 1 == sd { "bb".to_string() } else { format!("bb{d}") };
                let (init, end) = if d == 0 {
                    (base.to_string(), (base + span).to_string())
                } else {
                    (format!("bb{}", d - 1), format!("add(bb{}, {span})", d - 1))
                };
                body = format!(
                    "for {{ let {var} := {init} }} lt({var}, {end}) {{ {var} := add({var}, {step}) }} {{\n{}\n}}",
                    indent(&body, 4)
                );
            }
            cx.line(&format!("{{\n    let oo := {first_out}\n{}\n}}", indent(&body, 4)));
            let (l2, h2) = set_out_range(cx, layer, plan, yt);
            (out_lo, out_hi) = (out_lo.min(l2), out_hi.max(h2));
        }
    }
    cx.range[yt as usize] = (out_lo, out_hi);
    Ok(true)
}

/// Output features `0..n` in groups of `lanes`.
fn groups_of(n: usize, lanes: usize) -> Vec<std::ops::Range<usize>> {
    (0..n.div_ceil(lanes)).map(|g| g * lanes..((g + 1) * lanes).min(n)).collect()
}

/// One group of output lanes at the position `bb` (input base) / `oo` (output position):
/// the packed accumulator, then each output (see the module docs).
fn group_yul(layer: &Layer<'_>, plan: &Plan, w: u32, outs: std::ops::Range<usize>, offs: &[i64], out_plane: usize) -> String {
    let wl = plan.w;
    let mut y = String::new();
    let init: Vec<i128> = outs.clone().map(|nn| layer.bias[nn] as i128 - plan.acc[nn].0 as i128).collect();
    let _ = writeln!(y, "{{");
    // nested sums as in `Layer::group_yul` (NEST terms per statement)
    const NEST: usize = 256;
    let mut expr = word(pack(&init, wl));
    let (mut terms, mut declared) = (0, false);
    for (kk, &off) in offs.iter().enumerate() {
        let col: Vec<i128> = outs.clone().map(|nn| layer.weights[nn * layer.k + kk] as i128).collect();
        if col.iter().all(|&v| v == 0) {
            continue;
        }
        if terms == NEST {
            let _ = writeln!(y, "    {} acc := {expr}", if declared { "" } else { "let" });
            (expr, terms, declared) = ("acc".to_string(), 0, true);
        }
        let xl = if off == 0 { "mload(bb)".to_string() } else { format!("mload(add(bb, {off}))") };
        expr = format!("add(mul({}, {xl}),\n        {expr})", word(pack(&col, wl)));
        terms += 1;
    }
    let _ = writeln!(y, "    {} acc := {expr}", if declared { "" } else { "let" });
    let fast: Vec<Option<FastLane>> = outs.clone().map(|nn| layer.fast_lane(plan, nn)).collect();
    let count = outs.len();
    let lane = |v: &str, j: usize, mask_bits: u32| -> String {
        let sh = if j == 0 { v.to_string() } else { format!("shr({}, {v})", wl as usize * j) };
        if j + 1 == count { sh } else { format!("and({sh}, {})", (1u128 << mask_bits) - 1) }
    };
    // the SWAR clamps (guard bits available: wl = w + 1)
    let guard = wl == w + 1;
    let lower = guard && fast.iter().flatten().any(|f| f.u0 > 0);
    let upper =
        guard && outs.clone().zip(&fast).any(|(nn, f)| f.as_ref().is_some_and(|f| f.u1 < (plan.acc[nn].1 - plan.acc[nn].0) as i128));
    let mut src = "acc";
    if lower || upper {
        let gs = word(pack(&vec![1i128 << w; count], wl));
        let _ = writeln!(y, "    let yy := acc");
        if lower {
            let u0: Vec<i128> = fast.iter().map(|f| f.as_ref().map_or(0, |f| f.u0)).collect();
            let _ = writeln!(
                y,
                "    {{\n        let xx := sub(or(yy, {gs}), {})\n        let gg := and(xx, {gs})\n        yy := and(xx, sub(gg, shr({w}, gg)))\n    }}",
                word(pack(&u0, wl))
            );
        }
        if upper {
            let d: Vec<i128> = outs
                .clone()
                .zip(&fast)
                .map(|(nn, f)| match f {
                    Some(f) if f.u1 < (plan.acc[nn].1 - plan.acc[nn].0) as i128 => f.u1 - f.u0,
                    _ => (1i128 << w) - 1,
                })
                .collect();
            let d1: Vec<i128> = d.iter().map(|v| v + 1).collect();
            let _ = writeln!(
                y,
                "    {{\n        let gg := and(sub(or(yy, {gs}), {}), {gs})\n        yy := xor(yy, and(xor(yy, {}), sub(gg, shr({w}, gg))))\n    }}",
                word(pack(&d1, wl)),
                word(pack(&d, wl))
            );
        }
        src = "yy";
    }
    for (j, nn) in outs.clone().enumerate() {
        let at = if nn == 0 { "oo".to_string() } else { format!("add(oo, {})", nn * out_plane) };
        match &fast[j] {
            Some(f) => {
                let r = (plan.acc[nn].1 - plan.acc[nn].0) as i128;
                let clamped = (f.u0 > 0 && !lower) || (f.u1 < r && !upper);
                let (u, k) = if clamped {
                    // per-lane clamps (no guard bits): on u itself, the offset u0 left in k
                    let u = lane("acc", j, wl);
                    let mut s = format!("let uu := {u}");
                    if f.u0 > 0 {
                        let _ = write!(s, "\nif lt(uu, {}) {{ uu := {} }}", f.u0, f.u0);
                    }
                    if f.u1 < r {
                        let _ = write!(s, "\nif gt(uu, {}) {{ uu := {} }}", f.u1, f.u1);
                    }
                    let _ = writeln!(y, "    {{\n{}", indent(&s, 8));
                    ("uu".to_string(), f.k - f.u0 * f.mul)
                } else {
                    let _ = writeln!(y, "    {{");
                    (lane(src, j, if src == "yy" { w } else { wl }), f.k)
                };
                let _ = writeln!(y, "        mstore8({at}, sar({}, {}))\n    }}", f.s, add_const(&format!("mul({u}, {})", f.mul), k));
            }
            None => {
                let ep = layer.epilogue_yul(plan, nn, &lane("acc", j, wl));
                let _ = writeln!(y, "    {{\n{}\n        mstore8({at}, xor(v, 0x80))\n    }}", indent(&ep, 8));
            }
        }
    }
    let _ = writeln!(y, "}}");
    y
}
