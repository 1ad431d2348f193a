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
//! **A MaxPool fused.** Where the output is read by one MaxPool alone whose windows hold no
//! padding, the loops run over the pool's output positions instead: each window position's
//! packed accumulator is computed, the lane-wise maximum taken (SWAR, the same guard bits:
//! `(m | G) − a` keeps lane `j`'s guard bit iff `m_j ≥ a_j`), and only the maximum is
//! requantized; the MaxPool node then emits nothing. Exact: the reference requantizes every
//! Conv output, then takes the maximum, and `max_p E(acc_p) = E(max_p acc_p)` for a monotone
//! non-decreasing `E`. The epilogue is one: `srdhm(x, m) = ⌊(x·m + 2^30) / 2^31⌋` for both
//! signs of `x·m` (m ≥ 0, see [`crate::layer`]), non-decreasing in `x`; the saturating left
//! shift, `rdbpot` (round half away from zero of `x / 2^e`), the zero point and the clamps are
//! each non-decreasing, and so is their composition; lane values `u = acc − lo` order as the
//! accumulators do. (Tested: `max_commutes_with_the_epilogue`.)
//!
//! Used when the padded buffer stays small (memory is paid quadratically) and the code fits
//! the main contract's layer budget; otherwise Conv takes the gather form ([`super`]).

use std::fmt::Write;

use solidml_spec::{Conv, DType, Node, Op, Pool, TensorId};

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
            let kpos = super::unravel(t, &c.kernel);
            32 * (ci as i64 * pplane + (0..sd).map(|d| kpos[d] * dil[d] * pst[d]).sum::<i64>())
        })
        .collect();
    // a MaxPool reading this output alone: fused (see the module docs), its windows' conv
    // positions as byte offsets from the window's first, the loops over its output grid
    let pool = fusable_pool(cx, n, &out_sp, &layers);
    let (grid, steps, window): (Vec<i64>, Vec<i64>, Vec<i64>) = match &pool {
        Some((_, pt, p)) => {
            let ps: Vec<i64> = m.tensor(*pt).shape[2..].iter().map(|&d| d as i64).collect();
            let steps = (0..sd).map(|d| 32 * p.strides[d] as i64 * st[d] * pst[d]).collect();
            let klen: usize = p.kernel.iter().map(|&k| k as usize).product();
            let window = (0..klen)
                .map(|t| {
                    let kpos = super::unravel(t, &p.kernel);
                    32 * (0..sd).map(|d| kpos[d] * p.dilations[d] as i64 * st[d] * pst[d]).sum::<i64>()
                })
                .collect();
            (ps, steps, window)
        }
        None => (out_sp.clone(), (0..sd).map(|d| 32 * st[d] * pst[d]).collect(), vec![0]),
    };
    // code estimate: widening, then per group its terms (once per window position) and
    // outputs, per loop nest its loops
    let mut bytes = xin.len() * 10 + xin.len().div_ceil(32) * 40;
    for (layer, plan, _) in &layers {
        for r in groups_of(layer.n, plan.lanes) {
            bytes += 120 + r.len() * 40 + (window.len() - 1) * 60;
            for kk in 0..wlen {
                let col: Vec<i128> = r.clone().map(|nn| layer.weights[nn * wlen + kk] as i128).collect();
                if col.iter().any(|&v| v != 0) {
                    bytes += ((word(pack(&col, plan.w)).len() - 2).div_ceil(2) + 10) * window.len();
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

    let out_t = match &pool {
        Some((idx, pt, _)) => {
            cx.fused[*idx] = true;
            *pt
        }
        None => yt,
    };
    let out_plane: usize = grid.iter().map(|&d| d as usize).product();
    let y = cx.place_output(out_t);
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
            let ppos = super::unravel(p, &xin.shape[2..]);
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
                body.push_str(&group_yul(layer, plan, *w, r, &offs, &window, out_plane));
            }
            let _ = writeln!(body, "oo := add(oo, 1)");
            // the loops, innermost first: axis d moves b_d by `steps[d]` bytes
            for d in (0..sd).rev() {
                let step = steps[d];
                let span = step * grid[d];
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
    // a max of outputs lies in their range
    cx.range[yt as usize] = (out_lo, out_hi);
    cx.range[out_t as usize] = (out_lo, out_hi);
    Ok(true)
}

/// The MaxPool fused into the Conv `n` (output spatial shape `out_sp`), as `(node index, its
/// output, its parameters)`: the Conv's output is read by that MaxPool alone (and is no model
/// output), every window lies inside the Conv's output (no padding taps), every epilogue is
/// monotone (multipliers ≥ 0) and every lane has a guard bit (the SWAR maximum).
fn fusable_pool(cx: &Ctx<'_>, n: &Node, out_sp: &[i64], layers: &[(Layer<'_>, Plan, u32)]) -> Option<(usize, TensorId, Pool)> {
    let m = cx.m;
    let yt = n.outputs[0];
    if m.outputs.contains(&yt) || layers.iter().any(|(l, p, w)| p.w != w + 1 || l.epilogue.multipliers.iter().any(|m| m.multiplier < 0)) {
        return None;
    }
    let users: Vec<usize> = (0..m.nodes.len()).filter(|&i| m.nodes[i].inputs.contains(&yt)).collect();
    let [idx] = users[..] else { return None };
    let pn = &m.nodes[idx];
    let Op::MaxPool(p) = &pn.op else { return None };
    let sd = out_sp.len();
    let pt = *pn.outputs.first()?;
    let (yinfo, pinfo) = (m.tensor(yt), m.tensor(pt));
    if pn.inputs != [yt]
        || pn.outputs.len() != 1
        || pinfo.dtype != DType::I8
        || cx.wants_words(pt)
        || pinfo.is_empty()
        || pinfo.shape.len() != sd + 2
        || pinfo.shape[..2] != yinfo.shape[..2]
        || [&p.kernel, &p.strides, &p.dilations, &p.pads_begin].iter().any(|v| v.len() != sd)
    {
        return None;
    }
    // every window inside: the last window's last tap within the Conv's output
    let inside = (0..sd).all(|d| {
        p.pads_begin[d] == 0
            && p.kernel[d] >= 1
            && (pinfo.shape[d + 2] as i64 - 1) * p.strides[d] as i64 + (p.kernel[d] as i64 - 1) * (p.dilations[d] as i64) < out_sp[d]
    });
    inside.then(|| (idx, pt, p.clone()))
}

/// Output features `0..n` in groups of `lanes`.
fn groups_of(n: usize, lanes: usize) -> Vec<std::ops::Range<usize>> {
    (0..n.div_ceil(lanes)).map(|g| g * lanes..((g + 1) * lanes).min(n)).collect()
}

/// One group of output lanes at the position `bb` (input base) / `oo` (output position):
/// the packed accumulator, then each output (see the module docs).
#[allow(clippy::too_many_arguments)]
fn group_yul(
    layer: &Layer<'_>,
    plan: &Plan,
    w: u32,
    outs: std::ops::Range<usize>,
    offs: &[i64],
    window: &[i64],
    out_plane: usize,
) -> String {
    let wl = plan.w;
    let mut y = String::new();
    let init: Vec<i128> = outs.clone().map(|nn| layer.bias[nn] as i128 - plan.acc[nn].0 as i128).collect();
    let _ = writeln!(y, "{{");
    // the packed accumulator of the conv position `delta` bytes past `bb`, into `var`: nested
    // sums as in `Layer::group_yul` (NEST terms per statement)
    let accumulate = |y: &mut String, var: &str, delta: i64| {
        const NEST: usize = 256;
        let mut expr = word(pack(&init, wl));
        let (mut terms, mut declared) = (0, false);
        for (kk, &off) in offs.iter().enumerate() {
            let col: Vec<i128> = outs.clone().map(|nn| layer.weights[nn * layer.k + kk] as i128).collect();
            if col.iter().all(|&v| v == 0) {
                continue;
            }
            if terms == NEST {
                let _ = writeln!(y, "    {} {var} := {expr}", if declared { "" } else { "let" });
                (expr, terms, declared) = (var.to_string(), 0, true);
            }
            let xl = if off + delta == 0 { "mload(bb)".to_string() } else { format!("mload(add(bb, {}))", off + delta) };
            expr = format!("add(mul({}, {xl}),\n        {expr})", word(pack(&col, wl)));
            terms += 1;
        }
        let _ = writeln!(y, "    {} {var} := {expr}", if declared { "" } else { "let" });
    };
    accumulate(&mut y, "acc", window[0]);
    // a fused MaxPool: the lane-wise maximum over the window (guard bit `gs` of each lane:
    // set in `(acc | gs) − a` iff acc_j ≥ a_j)
    if window.len() > 1 {
        let gs = word(pack(&vec![1i128 << w; outs.len()], wl));
        for &delta in &window[1..] {
            let _ = writeln!(y, "    {{");
            let mut inner = String::new();
            accumulate(&mut inner, "a", delta);
            let _ = writeln!(y, "{}", indent(&inner, 4));
            let _ = writeln!(
                y,
                "        let gg := and(sub(or(acc, {gs}), a), {gs})\n        acc := xor(a, and(xor(acc, a), sub(gg, shr({w}, gg))))\n    }}"
            );
        }
    }
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

#[cfg(test)]
mod tests {
    use solidml_spec::{Epilogue, arith::Multiplier};

    use super::*;

    #[test]
    fn max_commutes_with_the_epilogue() {
        // E(max(a, b)) = max(E(a), E(b)) for random epilogues (left and right shifts, clamps,
        // zero points) and accumulators across the i32 range: what the fused MaxPool relies on
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        };
        for _ in 0..2000 {
            let real = [1e-9, 1e-5, 3e-4, 0.02, 0.5, 1.0, 3.0, 700.0, 1e9][rnd(9) as usize] * (1.0 + rnd(1000) as f64 / 1000.0);
            let zp = rnd(256) as i32 - 128;
            let (c0, c1) = (rnd(256) as i32 - 128, rnd(256) as i32 - 128);
            let epilogue = Epilogue {
                multipliers: vec![Multiplier::from_real(real)],
                output_zero_point: zp,
                clamp_min: c0.min(c1) as i8,
                clamp_max: c0.max(c1) as i8,
            };
            let layer = Layer {
                k: 1,
                n: 1,
                weights: &[1],
                bias: &[0],
                input_zero_point: 0,
                epilogue: &epilogue,
                channel_offset: 0,
                x_range: (-128, 127),
            };
            let scale = [1u64 << 8, 1 << 16, 1 << 24, 1 << 32][rnd(4) as usize];
            for _ in 0..50 {
                let (a, b) = ((rnd(scale) as i64 - (scale / 2) as i64), (rnd(scale) as i64 - (scale / 2) as i64));
                let (ea, eb) = (layer.reference(0, a), layer.reference(0, b));
                assert_eq!(layer.reference(0, a.max(b)), ea.max(eb), "{a} {b} {epilogue:?}");
            }
        }
    }

    /// Conv (1→4 channels, 3x3, pad 1, 6x6, ReLU) then MaxPool (`pad` before each axis).
    fn conv_pool(pad: u32) -> solidml_spec::Model {
        use solidml_spec::{Model, Quant, TensorInfo};
        let t = |n: &str, shape: Vec<u32>| TensorInfo {
            name: n.into(),
            shape,
            dtype: DType::I8,
            quant: Some(Quant { scale: 0.05, zero_point: -128 }),
        };
        let ps = if pad == 0 { 3 } else { 4 };
        Model {
            name: "cp".into(),
            tensors: vec![t("x", vec![1, 1, 6, 6]), t("c", vec![1, 4, 6, 6]), t("p", vec![1, 4, ps, ps])],
            constants: vec![],
            inputs: vec![0],
            outputs: vec![2],
            nodes: vec![
                Node {
                    name: "conv".into(),
                    op: Op::Conv(Conv {
                        kernel: vec![3, 3],
                        strides: vec![1, 1],
                        dilations: vec![1, 1],
                        pads_begin: vec![1, 1],
                        pads_end: vec![1, 1],
                        groups: 1,
                        input_zero_point: 0,
                        weights: (0..36).map(|i| (i * 37 % 255) as u8 as i8).collect(),
                        bias: vec![100, -200, 300, -400],
                        epilogue: Epilogue {
                            multipliers: vec![Multiplier::from_real(0.003)],
                            output_zero_point: -128,
                            clamp_min: -128,
                            clamp_max: 127,
                        },
                    }),
                    inputs: vec![0],
                    outputs: vec![1],
                },
                Node {
                    name: "pool".into(),
                    op: Op::MaxPool(Pool {
                        kernel: vec![2, 2],
                        strides: vec![2, 2],
                        dilations: vec![1, 1],
                        pads_begin: vec![pad, pad],
                        pads_end: vec![pad, pad],
                        count_include_pad: false,
                        zero_point: -128,
                    }),
                    inputs: vec![1],
                    outputs: vec![2],
                },
            ],
            input_quant: vec![],
        }
    }

    #[test]
    fn a_max_pool_without_padding_is_fused_into_the_conv() {
        // (bit-exactness in the EVM: the digits CNN in tests/solidity_models.rs)
        let fused =
            |pad| crate::emit(&conv_pool(pad), &[0; 32]).unwrap().iter().any(|(_, t)| t.contains("computed with the node before it"));
        assert!(fused(0));
        // a window with padding taps: the MaxPool stays a node of its own
        assert!(!fused(1));
    }
}
