//! Dense-like layers (Dense, and Conv through an im2col gather) as straight-line Yul with the
//! weights in the code, and the requantization epilogue specialised per output channel.
//!
//! **Values.** Inside a generated contract an int8 value `x` travels *biased*, as the unsigned
//! `xb = x + 128 ∈ [0, 255]` (`xb = byte xor 0x80` for a code stored as a byte): no sign
//! extension anywhere, and clamps compare small non-negative numbers.
//!
//! **Lanes.** For output feature `n`, `acc_n = bias_n + Σ_k w[n,k]·(x_k − zp)
//! = (bias_n − (zp + 128)·Σ_k w[n,k]) + Σ_k w[n,k]·xb_k`. Over the possible inputs
//! (`xb_k ∈ [a, b]`), `acc_n` lies in `[lo_n, lo_n + Σ_k |w[n,k]|·(b − a)]`; with
//! `u_n = acc_n − lo_n` and `W` bits holding the widest such range, the outputs of a group of
//! `L = ⌊256 / W⌋` features are packed as lanes of one word:
//! `ACC = Σ_j u_j·2^(W·j) = C_0 + Σ_k COLUMN_k·xb_k` (mod 2^256) with
//! `COLUMN_k = Σ_j w[n_j,k]·2^(W·j)` and `C_0 = Σ_j (bias' − lo)_j·2^(W·j)`, PUSH32 constants.
//! One MUL and one ADD serve `L` MACs. Partial sums may wrap mod 2^256 (exact ring
//! arithmetic); only the final value matters and it is exact because every `u_j ∈ [0, 2^W)`
//! and `L·W ≤ 256`: lanes come out as `u_j = (ACC >> W·j) & (2^W − 1)`, with no carry
//! between them.
//!
//! **Epilogue.** For `shift = −e ≤ 0`, the spec's `rdbpot(srdhm(acc, m), e)` is, with
//! `P = acc·m + 2^30` (srdhm = `⌊P / 2^31⌋` for both signs, m > 0: docs/spec.md) and the
//! identity `⌊(⌊P/2^31⌋ + c)/2^e⌋ = ⌊(P + c·2^31)/2^(31+e)⌋` for an integer `c`,
//! `⌊(P + (2^(e−1) − [P < 0])·2^31) / 2^(31+e)⌋` (rdbpot rounds halves away from zero:
//! `c = 2^(e−1) − [q < 0]`, and `q < 0 ⟺ P < 0`). Substituting `acc = u + lo_n` and adding
//! `(zp_out + 128)·2^(31+e)` inside the floor gives the biased output before the clamp as
//! `sar(31 + e, u·m + K − 2^31·[u·m < Z])` with compile-time `K`, `Z`: one MUL, a compare and
//! a SAR per output. For `shift > 0` without possible saturation of `acc << shift` the same
//! holds with `m << shift`, `e = 0`; the saturating case keeps the literal formula.
//! Clamps that cannot trigger (the epilogue is monotone in `acc`, so its range is the image of
//! `[lo_n, hi_n]`) are left out.

use std::fmt::Write;

use solidml_spec::{Epilogue, TensorId, arith};

use crate::{MAX_CODE, PART_BUDGET, compact, plan::*, yul::*};

/// A 256-bit two's-complement word as a Yul hex literal (leading zeros dropped).
pub fn word(limbs: [u64; 4]) -> String {
    let s = format!("{:016x}{:016x}{:016x}{:016x}", limbs[3], limbs[2], limbs[1], limbs[0]);
    let t = s.trim_start_matches('0');
    format!("0x{}", if t.is_empty() { "0" } else { t })
}

/// `Σ_j v_j · 2^(w·j)` mod 2^256 for signed lane values.
pub fn pack(values: &[i128], w: u32) -> [u64; 4] {
    let mut acc = [0u64; 4];
    for (j, &v) in values.iter().enumerate() {
        let shift = w as usize * j;
        let mut term = [0u64; 4];
        let ext = if v < 0 { u64::MAX } else { 0 };
        // v as 256-bit two's complement (|v| < 2^127)
        let limbs = [v as u64, (v >> 64) as u64, ext, ext];
        let (q, r) = (shift / 64, shift % 64);
        for i in 0..4 {
            if i + q < 4 {
                term[i + q] |= limbs[i] << r;
                if r > 0 && i + q + 1 < 4 {
                    term[i + q + 1] |= limbs[i] >> (64 - r);
                }
            }
        }
        // the shifted-out low part is zero; for negative v the bits below `shift` are zero too
        let mut carry = 0u128;
        for i in 0..4 {
            let s = acc[i] as u128 + term[i] as u128 + carry;
            acc[i] = s as u64;
            carry = s >> 64;
        }
    }
    acc
}

/// `add(e, k)` / `sub(e, |k|)` for a compile-time integer `k`.
pub fn add_const(e: &str, k: i128) -> String {
    match k.cmp(&0) {
        std::cmp::Ordering::Equal => e.to_string(),
        std::cmp::Ordering::Greater => format!("add({e}, {k})"),
        std::cmp::Ordering::Less => format!("sub({e}, {})", k.unsigned_abs()),
    }
}

/// A dense-like layer: `acc_n = bias_n + Σ_k w[n,k]·(x_k − zp_in)`, then the epilogue.
pub struct Layer<'a> {
    /// Input features per row (`K`: Dense's `in_features`, or a Conv's `C_in/groups · Π kernel`).
    pub k: usize,
    /// Output features per row (`N`).
    pub n: usize,
    /// `[n, k]` row-major.
    pub weights: &'a [i8],
    /// `[n]`, the initial accumulator of each output feature.
    pub bias: &'a [i32],
    /// Zero point of the input (spec §Op: Dense), in `[−128, 127]`.
    pub input_zero_point: i32,
    /// Requantization of each accumulator to the int8 output (spec §Epilogue).
    pub epilogue: &'a Epilogue,
    /// Channel index of output `j` in the epilogue (per-channel multipliers).
    pub channel_offset: usize,
    /// Raw (unbiased) range of the input values, including `zp_in` where padding reads it.
    pub x_range: (i32, i32),
}

/// An epilogue without branches ([`Layer::fast_lane`]): clamp the lane value to `[u0, u1]`,
/// then the output code is the low byte of `sar(s, (u − u0)·mul + k)`.
pub(crate) struct FastLane {
    pub(crate) u0: i128,
    pub(crate) u1: i128,
    pub(crate) mul: i128,
    pub(crate) k: i128,
    pub(crate) s: u32,
}

/// Lane layout of a layer.
pub struct Plan {
    /// `W`, the lane width in bits: enough for the widest accumulator range `hi_n − lo_n`.
    pub w: u32,
    /// `L = ⌊256 / W⌋`, output features packed into one 256-bit word.
    pub lanes: usize,
    /// `[lo_n, hi_n]` of `acc_n`.
    pub acc: Vec<(i64, i64)>,
}

impl Layer<'_> {
    /// The lane layout: each accumulator's range over the inputs `x_range` allows, and the
    /// width and lane count packing them (see the module docs). Fails when a range needs more
    /// than 64 bits.
    pub fn plan(&self) -> Result<Plan, String> {
        let (a, b) = (self.x_range.0 as i64 - self.input_zero_point as i64, self.x_range.1 as i64 - self.input_zero_point as i64);
        let mut acc = Vec::with_capacity(self.n);
        let mut width = 1u32;
        for n in 0..self.n {
            let row = &self.weights[n * self.k..(n + 1) * self.k];
            let (mut lo, mut hi) = (self.bias[n] as i64, self.bias[n] as i64);
            for &w in row {
                let (p, q) = (w as i64 * a, w as i64 * b);
                lo += p.min(q);
                hi += p.max(q);
            }
            let range = (hi - lo) as u64;
            width = width.max(64 - range.leading_zeros());
            acc.push((lo, hi));
        }
        if width > 64 {
            return Err("accumulator range exceeds 64 bits".into());
        }
        Ok(Plan { w: width, lanes: (256 / width) as usize, acc })
    }

    fn multiplier(&self, n: usize) -> arith::Multiplier {
        let e = self.epilogue;
        if e.multipliers.len() == 1 { e.multipliers[0] } else { e.multipliers[self.channel_offset + n] }
    }

    /// Reference epilogue (clamp included) for output `n` on `acc`.
    pub(crate) fn reference(&self, n: usize, acc: i64) -> i32 {
        let e = self.epilogue;
        // acc of a valid model fits i32 (validator); clamp defensively for the bound only
        let acc = acc.clamp(i32::MIN as i64, i32::MAX as i64) as i32;
        arith::clamp_i8(arith::requantize(acc, self.multiplier(n)).saturating_add(e.output_zero_point), e.clamp_min, e.clamp_max) as i32
    }

    /// Raw range of output `n`.
    pub fn out_range(&self, plan: &Plan, n: usize) -> (i32, i32) {
        (self.reference(n, plan.acc[n].0), self.reference(n, plan.acc[n].1))
    }

    /// Yul statements setting `v` to the biased output (`y + 128`, in `[0, 255]`) of feature
    /// `n` from its lane value `u` (an expression).
    pub fn epilogue_yul(&self, plan: &Plan, n: usize, u: &str) -> String {
        let e = self.epilogue;
        let m = self.multiplier(n);
        let (lo, hi) = plan.acc[n];
        let zpb = e.output_zero_point as i128 + 128;
        let (cmin, cmax) = (e.clamp_min as i128 + 128, e.clamp_max as i128 + 128);
        if m.multiplier == 0 {
            // requantize(acc, 0) = 0 for every acc
            return format!("let v := {}", zpb.clamp(cmin, cmax));
        }
        let mm = m.multiplier as i128;
        let lo128 = lo as i128;
        let mut y = if m.shift > 0 && (lo.abs().max(hi.abs()) as i128) << m.shift >= 1i128 << 31 {
            // literal formula: saturating left shift, then the high multiply (right = 0)
            format!(
                "let v := shl({s}, {acc})\nif slt(v, sub(0, 0x80000000)) {{ v := sub(0, 0x80000000) }}\nif sgt(v, 0x7fffffff) {{ v := 0x7fffffff }}\nv := sar(31, add(mul(v, {mm}), {c}))",
                s = m.shift,
                acc = add_const(u, lo128),
                c = (1i128 << 30) + (zpb << 31)
            )
        } else {
            let (mul, e_right) = if m.shift > 0 { (mm << m.shift, 0) } else { (mm, (-m.shift) as u32) };
            let s = 31 + e_right;
            // T = u·mul; P = acc·m + 2^30 = T + lo·mul + 2^30
            if e_right == 0 {
                format!("let v := sar(31, {})", add_const(&format!("mul({u}, {mul})"), lo128 * mul + (1 << 30) + (zpb << 31)))
            } else {
                let k = lo128 * mul + (1i128 << 30) + (1i128 << (30 + e_right)) + (zpb << s);
                // P < 0 ⟺ T < −lo·mul − 2^30 =: Z (T ≥ 0, so Z ≤ 0 never holds)
                let z = -lo128 * mul - (1 << 30);
                if z <= 0 {
                    format!("let v := sar({s}, {})", add_const(&format!("mul({u}, {mul})"), k))
                } else {
                    format!("let t := mul({u}, {mul})\nlet v := sar({s}, sub({}, shl(31, lt(t, {z}))))", add_const("t", k))
                }
            }
        };
        // the unclamped value at the range ends tells which clamps can trigger (monotone)
        let unclamped = |acc: i64| -> i128 {
            let a = acc.clamp(i32::MIN as i64, i32::MAX as i64) as i32;
            arith::requantize(a, m) as i128 + e.output_zero_point as i128 + 128
        };
        match (unclamped(lo) < cmin, unclamped(hi) > cmax) {
            // both: one unsigned compare catches either side (v < cmin wraps to a huge value)
            (true, true) => {
                let v = add_const("v", -cmin);
                let _ = write!(
                    y,
                    "\nif gt({v}, {}) {{ v := {} }}",
                    cmax - cmin,
                    add_const(&format!("mul(sgt(v, {cmin}), {})", cmax - cmin), cmin)
                );
            }
            (true, false) => {
                let _ = write!(y, "\nif slt(v, {cmin}) {{ v := {cmin} }}");
            }
            (false, true) => {
                let _ = write!(y, "\nif sgt(v, {cmax}) {{ v := {cmax} }}");
            }
            (false, false) => {}
        }
        y
    }

    /// The epilogue of output `n` as `v = sar(s, t − nk − 2^31·[t < z])` with `t = u·mul`
    /// (what [`Self::epilogue_yul`] emits, clamps aside), as `(mul, nk, z, s)`; `None` for the
    /// zero multiplier and the saturating left shift (their own shapes).
    pub fn epilogue_params(&self, plan: &Plan, n: usize) -> Option<(i128, i128, i128, u32)> {
        let e = self.epilogue;
        let m = self.multiplier(n);
        let (lo, hi) = plan.acc[n];
        if m.multiplier == 0 || (m.shift > 0 && (lo.abs().max(hi.abs()) as i128) << m.shift >= 1i128 << 31) {
            return None;
        }
        let zpb = e.output_zero_point as i128 + 128;
        let mm = m.multiplier as i128;
        let lo128 = lo as i128;
        let (mul, e_right) = if m.shift > 0 { (mm << m.shift, 0) } else { (mm, (-m.shift) as u32) };
        let s = 31 + e_right;
        if e_right == 0 {
            return Some((mul, -(lo128 * mul + (1 << 30) + (zpb << 31)), 0, s));
        }
        let k = lo128 * mul + (1i128 << 30) + (1i128 << (30 + e_right)) + (zpb << s);
        let z = -lo128 * mul - (1 << 30);
        Some((mul, -k, z.max(0), s))
    }

    /// The clamp-free form of output `n`'s epilogue, where it exists: with `y = min(max(u, u0),
    /// u1) − u0` for the lane value `u ∈ [0, hi_n − lo_n]`, the output code byte (`y_raw` as
    /// a byte, `= biased xor 0x80`) is the low byte of `sar(s, y·mul + k)`. It holds when the
    /// epilogue's rounding correction is constant above `u0` and both clamps saturate exactly
    /// at `u0` and `u1` (checked against the reference at the ends; the epilogue is monotone).
    pub(crate) fn fast_lane(&self, plan: &Plan, n: usize) -> Option<FastLane> {
        let (mul, nk, z, s) = self.epilogue_params(plan, n)?;
        let (lo, hi) = plan.acc[n];
        let r = (hi - lo) as i128;
        let e = self.epilogue;
        let (cmin, cmax) = (e.clamp_min as i128 + 128, e.clamp_max as i128 + 128);
        // the biased value without the correction term and clamps; the reference, biased
        let f = |u: i128| (u * mul - nk).div_euclid(1i128 << s);
        let g = |u: i128| self.reference(n, lo + u as i64) as i128 + 128;
        // the first u in [a, r] where `pred` (monotone) holds, or r + 1
        let first = |a: i128, pred: &dyn Fn(i128) -> bool| {
            let (mut a, mut b) = (a, r + 1);
            while a < b {
                let mid = a + (b - a) / 2;
                if pred(mid) { b = mid } else { a = mid + 1 }
            }
            a
        };
        // t = u·mul ≥ z: the correction term is 0
        let ut = if z > 0 { (z + mul - 1) / mul } else { 0 };
        let u0 = first(ut, &|u| f(u) >= cmin);
        if u0 > r || f(u0) != g(u0) || g(0) != g(u0) {
            return None;
        }
        let u1 = first(u0, &|u| f(u) >= cmax);
        let u1 = if u1 > r {
            r
        } else if f(u1) == cmax && g(u1) == cmax {
            u1
        } else {
            return None;
        };
        Some(FastLane { u0, u1, mul, k: u0 * mul - nk + (128i128 << s), s })
    }

    /// The constant lane values `C_0` of the group `outs`: `u_n − Σ_k w[n,k]·xb_k`.
    fn init(&self, plan: &Plan, outs: std::ops::Range<usize>) -> Vec<i128> {
        let zpb = self.input_zero_point as i128 + 128;
        outs.map(|n| {
            let sw: i128 = self.weights[n * self.k..(n + 1) * self.k].iter().map(|&w| w as i128).sum();
            self.bias[n] as i128 - zpb * sw - plan.acc[n].0 as i128
        })
        .collect()
    }

    /// The weights of input `k` for the outputs `outs` (one lane each).
    fn column(&self, outs: std::ops::Range<usize>, k: usize) -> Vec<i128> {
        outs.map(|n| self.weights[n * self.k + k] as i128).collect()
    }

    /// Yul computing the outputs `outs` (a range of features packed into one word of lanes),
    /// `xload(k)` giving the biased input `k`, `store(n, value)` storing output `n`.
    pub fn group_yul(
        &self,
        plan: &Plan,
        outs: std::ops::Range<usize>,
        xload: &dyn Fn(usize) -> String,
        store: &dyn Fn(usize, String) -> String,
    ) -> String {
        let init = self.init(plan, outs.clone());
        let output = |j: usize, n: usize, count: usize| {
            format!("{}\n{}", self.epilogue_yul(plan, n, &lane_yul(plan.w, j, count)), store(n, "v".into()))
        };
        lane_group_yul(plan.w, &init, self.k, &|k| self.column(outs.clone(), k), xload, &output, outs.clone())
    }

    /// Estimated code bytes of the group `outs` (for splitting across contracts).
    pub fn group_bytes(&self, plan: &Plan, outs: std::ops::Range<usize>) -> usize {
        lane_group_bytes(plan.w, self.k, &|k| self.column(outs.clone(), k), outs.len())
    }
}

/// Yul of one group of lanes (one word): `acc = C_0 + Σ_k COLUMN_k·x_k` over the `k` inputs
/// (`xload(k)`; the columns of `column(k)`, lanes of `w` bits, all-zero columns skipped), then,
/// for the `j`-th of the outputs `outs` (output `n`), `output(j, n, count)`: Yul reading its
/// lane from `acc` (see [`lane_yul`]) and storing it. Shared by Dense/Conv and DenseWide.
pub(crate) fn lane_group_yul(
    w: u32,
    init: &[i128],
    k: usize,
    column: &dyn Fn(usize) -> Vec<i128>,
    xload: &dyn Fn(usize) -> String,
    output: &dyn Fn(usize, usize, usize) -> String,
    outs: std::ops::Range<usize>,
) -> String {
    let mut y = String::new();
    let _ = writeln!(y, "{{");
    // One nested expression `add(mul(C_K, x_K), add(… add(mul(C_1, x_1), C_0)))`: Yul
    // evaluates arguments right to left, so the innermost sum comes first and the running
    // sum stays on top of the stack: PUSH, MLOAD, PUSH32, MUL, ADD per term (17 gas).
    // `acc := add(acc, …)` statements cost 25 (DUP, SWAP and POP for the assignment).
    // solc's parser bounds the nesting depth: at most NEST terms per statement, the next
    // statement continuing from `acc` (one assignment per NEST terms).
    const NEST: usize = 256;
    let mut expr = word(pack(init, w));
    let (mut terms, mut declared) = (0, false);
    for kk in 0..k {
        let col = column(kk);
        if col.iter().all(|&c| c == 0) {
            continue;
        }
        if terms == NEST {
            let _ = writeln!(y, "    {} acc := {expr}", if declared { "" } else { "let" });
            (expr, terms, declared) = ("acc".to_string(), 0, true);
        }
        expr = format!("add(mul({}, {}),\n        {expr})", word(pack(&col, w)), xload(kk));
        terms += 1;
    }
    let _ = writeln!(y, "    {} acc := {expr}", if declared { "" } else { "let" });
    let count = outs.len();
    for (j, n) in outs.enumerate() {
        let _ = writeln!(y, "    {{\n{}\n    }}", indent(&output(j, n, count), 8));
    }
    let _ = writeln!(y, "}}");
    y
}

/// Yul of lane `j` of `count` in `acc` (lanes of `w` bits): no mask on the last lane (the
/// sum of the group is below `2^(w·count)`), no shift on the first.
pub(crate) fn lane_yul(w: u32, j: usize, count: usize) -> String {
    match (j, j + 1 == count) {
        (0, true) => "acc".to_string(),
        (0, false) => format!("and(acc, {})", (1u128 << w) - 1),
        (_, true) => format!("shr({}, acc)", w as usize * j),
        _ => format!("and(shr({}, acc), {})", w as usize * j, (1u128 << w) - 1),
    }
}

/// Estimated code bytes of a group of `outs` lanes of `w` bits over `k` inputs (see
/// [`lane_group_yul`]).
pub(crate) fn lane_group_bytes(w: u32, k: usize, column: &dyn Fn(usize) -> Vec<i128>, outs: usize) -> usize {
    let mut b = 40 + outs * 45;
    for kk in 0..k {
        let col = column(kk);
        if col.iter().any(|&c| c != 0) {
            let wd = word(pack(&col, w));
            b += (wd.len() - 2).div_ceil(2) + 1 + 6;
        }
    }
    b
}

/// A dense-like layer's lane code as [`emit_groups`] places it: `K` inputs per row, `N`
/// outputs, `lanes()` outputs per word, and the Yul and estimated code bytes of a group of
/// outputs. Dense/Conv ([`PlannedLayer`]) and DenseWide implement it.
pub(crate) trait LaneGroups {
    /// Inputs per row.
    fn k(&self) -> usize;
    /// Outputs per row.
    fn n(&self) -> usize;
    /// Outputs packed into one word.
    fn lanes(&self) -> usize;
    /// Estimated code bytes of the group `outs`.
    fn group_bytes(&self, outs: std::ops::Range<usize>) -> usize;
    /// Yul of the group `outs`: `xload(k)` is input `k`'s word, `store(n, v)` stores output
    /// `n` from its value `v` (biased int8, or a signed wide code).
    fn group_yul(&self, outs: std::ops::Range<usize>, xload: &dyn Fn(usize) -> String, store: &dyn Fn(usize, String) -> String) -> String;
}

/// A [`Layer`] with its lane layout.
pub(crate) struct PlannedLayer<'a, 'b> {
    pub(crate) layer: &'a Layer<'b>,
    pub(crate) plan: &'a Plan,
}

impl LaneGroups for PlannedLayer<'_, '_> {
    fn k(&self) -> usize {
        self.layer.k
    }
    fn n(&self) -> usize {
        self.layer.n
    }
    fn lanes(&self) -> usize {
        self.plan.lanes
    }
    fn group_bytes(&self, outs: std::ops::Range<usize>) -> usize {
        self.layer.group_bytes(self.plan, outs)
    }
    fn group_yul(&self, outs: std::ops::Range<usize>, xload: &dyn Fn(usize) -> String, store: &dyn Fn(usize, String) -> String) -> String {
        self.layer.group_yul(self.plan, outs, xload, store)
    }
}

/// `text` with every line indented by `n` spaces.
pub fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines().map(|l| format!("{pad}{l}")).collect::<Vec<_>>().join("\n")
}

/// Straight-line Yul of a dense-like layer over `rows`: row `r` reads the input elements
/// `row_src[r]` (None: the input zero point, i.e. padding) and writes output `n` of the row at
/// element `row_dst[r] + n·out_stride` of `y`. Returns the raw range of the outputs.
#[allow(clippy::too_many_arguments)]
pub(crate) fn emit_layer(
    cx: &mut Ctx<'_>,
    layer: &Layer<'_>,
    src: Loc,
    y: Loc,
    row_src: &[Vec<Option<usize>>],
    row_dst: &[usize],
    out_stride: usize,
    yt: TensorId,
) -> Result<(i32, i32), String> {
    if cx.compact {
        return compact::emit_layer(cx, layer, src, y, row_src, row_dst, out_stride, yt);
    }
    let plan = layer.plan()?;
    let rows = row_src.len();
    // the row's biased inputs as words: in place when the input already is one row of words
    let direct = rows == 1 && matches!(src, Loc::Words(_)) && row_src[0].iter().enumerate().all(|(k, s)| *s == Some(k));
    let xs = if direct { src.addr() } else { cx.alloc(32 * layer.k) };
    let fill = fill_rows_yul(cx, layer, src, xs, row_src, direct)?;
    emit_groups(cx, &PlannedLayer { layer, plan: &plan }, xs, &fill, y, row_dst, out_stride)?;
    Ok(set_out_range(cx, layer, &plan, yt))
}

/// The forward code of a dense-like layer's lane groups (fast layout): each row's input words
/// at `xs` (filled by `fill`, Yul run at the start of each row), its outputs (all the lanes of
/// a word per group, fewer when such a group's code would not fit one part contract) computed
/// inline while the main contract's layer budget lasts, in part contracts beyond, and stored
/// at `row_dst[r] + n·out_stride` of `y` (bytes from biased int8 values, words as they are).
pub(crate) fn emit_groups(
    cx: &mut Ctx<'_>,
    code: &dyn LaneGroups,
    xs: usize,
    fill: &str,
    y: Loc,
    row_dst: &[usize],
    out_stride: usize,
) -> Result<(), String> {
    let (k, n) = (code.k(), code.n());
    // outputs per group: all the lanes of a word, fewer when such a group's code would not fit
    // one part contract (long rows: its K constants grow with the lanes they hold)
    let mut per_group = code.lanes();
    while per_group > 1 && code.group_bytes(0..per_group.min(n)) > PART_BUDGET {
        per_group -= 1;
    }
    let groups: Vec<std::ops::Range<usize>> = (0..n.div_ceil(per_group)).map(|g| g * per_group..((g + 1) * per_group).min(n)).collect();
    let rows = row_dst.len();
    // where each group goes
    let mut inline = vec![];
    let mut parts: Vec<(std::ops::Range<usize>, usize)> = vec![]; // (group range, part index)
    let mut part_size = PART_BUDGET;
    for g in &groups {
        let b = code.group_bytes(g.clone());
        if b <= cx.main_budget {
            cx.main_budget -= b;
            inline.push(g.clone());
        } else {
            if out_stride != 1 {
                return Err("layer too large for one contract (splitting is implemented for Dense only)".into());
            }
            if b > PART_BUDGET {
                return Err(format!(
                    "one group of {} output lanes needs ~{b} bytes of code, over EIP-170's {MAX_CODE} with the lanes' constants in the code: use the compact layout (`--layout compact`) for rows this long",
                    g.len()
                ));
            }
            if part_size + b > PART_BUDGET || cx.parts.is_empty() || parts.is_empty() {
                cx.parts.push((format!("{}_P{}", cx.name, cx.parts.len()), String::new()));
                cx.part_bytes.push(0);
                part_size = 0;
            }
            part_size += b;
            *cx.part_bytes.last_mut().expect("a part was pushed") += b;
            parts.push((g.clone(), cx.parts.len() - 1));
        }
    }
    let words_out = matches!(y, Loc::Words(_) | Loc::Wide(_));
    let yaddr = y.addr();
    let per_row = rows > 1;
    // part bodies: input words in calldata; one call computes every group of the part (its
    // outputs are one contiguous range) and returns them. Each group is one `case` of a switch
    // in a loop, so an optimizing solc cannot share calldataload values across groups (which
    // keeps them all live: stack too deep); stores go through an opaque base `o` (= 0).
    let es = if words_out { 32 } else { 1 };
    let mut calls: Vec<(usize, usize, usize)> = vec![]; // (part, first output, count)
    for (g, p) in &parts {
        let first = match calls.last_mut() {
            Some((q, first, count)) if q == p => {
                *count += g.len();
                *first
            }
            _ => {
                calls.push((*p, g.start, g.len()));
                g.start
            }
        };
        let body = code.group_yul(g.clone(), &|k| format!("calldataload({})", 32 * k), &|nn, v| {
            if words_out {
                format!("mstore(add(o, {}), {v})", 32 * (nn - first))
            } else {
                format!("mstore8(add(o, {}), xor({v}, 0x80))", nn - first)
            }
        });
        let part = &mut cx.parts[*p].1;
        let _ = writeln!(part, "// outputs {}..{} at offset {}", g.start, g.end, es * (g.start - first));
        let _ = writeln!(part, "{body}");
        let _ = writeln!(part, "//END");
    }
    for &(p, _, count) in &calls {
        let _ = writeln!(cx.parts[p].1, "//RETURN {}", es * count);
    }
    let dst = |nn: usize, v: String| -> String {
        // always through the run-time base `dst` (see the part bodies: constant store
        // addresses let the optimizer keep every input word live across groups)
        let off = es * nn * out_stride;
        let addr = format!("add(dst, {off})");
        if words_out { format!("mstore({addr}, {v})") } else { format!("mstore8({addr}, xor({v}, 0x80))") }
    };
    let mut body = String::new();
    let _ = writeln!(body, "{fill}");
    for g in &inline {
        let code = code.group_yul(g.clone(), &|k| format!("mload({})", xs + 32 * k), &|nn, v| dst(nn, v));
        let _ = writeln!(body, "{code}");
    }
    let sel = selector("PartFailed(uint256)");
    for &(p, first, count) in &calls {
        let off = es * first * out_stride;
        let to = if per_row { format!("add(dst, {off})") } else { (yaddr + off).to_string() };
        // calldata: the input words
        let _ = writeln!(
            body,
            "if iszero(staticcall(gas(), mload(__PART_{p}__), {xs}, {}, {to}, {})) {{ mstore(0, shl(224, {sel})) mstore(4, {p}) revert(0, 36) }}",
            32 * k,
            es * count
        );
    }
    emit_rows(cx, n, y, row_dst, &body);
    Ok(())
}

/// Emit `body` (the Yul of one row of a dense-like layer of `n` outputs per row, storing
/// through `dst`) once, or in a loop over the rows (`r`), with `dst` the address of the row's
/// first output.
pub(crate) fn emit_rows(cx: &mut Ctx<'_>, n: usize, y: Loc, row_dst: &[usize], body: &str) {
    let rows = row_dst.len();
    let es = if matches!(y, Loc::Words(_) | Loc::Wide(_)) { 32 } else { 1 };
    let yaddr = y.addr();
    if rows > 1 {
        let rd: Vec<u8> = row_dst.iter().flat_map(|&d| (d as u32).to_be_bytes()).collect();
        let uniform = row_dst.iter().enumerate().all(|(r, &d)| d == r * n);
        let dst_expr = if uniform {
            format!("add({yaddr}, mul(r, {}))", es * n)
        } else {
            let t = cx.alloc(rd.len());
            cx.table(t, &rd);
            format!("add({yaddr}, mul(shr(224, mload(add({t}, shl(2, r)))), {es}))")
        };
        cx.line(&format!("for {{ let r := 0 }} lt(r, {rows}) {{ r := add(r, 1) }} {{\n    let dst := {dst_expr}\n{}\n}}", indent(body, 4)));
    } else {
        // dst = the row's first output (not always the tensor's first element: a Conv group
        // after the first), opaque to the optimizer (gas() < 2^255, and gas() is never merged)
        let first = yaddr + row_dst.first().copied().unwrap_or(0) * es;
        cx.line(&format!("{{\n    let r := shr(255, gas())\n    let dst := add({first}, r)\n{}\n}}", indent(body, 4)));
    }
}

/// Record (and return) the raw range of a dense-like layer's outputs.
pub(crate) fn set_out_range(cx: &mut Ctx<'_>, layer: &Layer<'_>, plan: &Plan, yt: TensorId) -> (i32, i32) {
    let (mut lo, mut hi) = (127, -128);
    for nn in 0..layer.n {
        let (a, b) = layer.out_range(plan, nn);
        lo = lo.min(a);
        hi = hi.max(b);
    }
    cx.range[yt as usize] = (lo, hi);
    (lo, hi)
}

/// The Yul filling the row buffer `xs` (biased input words) for row `r` of a dense-like layer
/// (empty when the layer reads its input words in place).
pub(crate) fn fill_rows_yul(
    cx: &mut Ctx<'_>,
    layer: &Layer<'_>,
    src: Loc,
    xs: usize,
    row_src: &[Vec<Option<usize>>],
    direct: bool,
) -> Result<String, String> {
    if direct {
        return Ok(String::new());
    }
    let contiguous = row_src.iter().enumerate().all(|(r, s)| s.iter().enumerate().all(|(k, j)| *j == Some(r * layer.k + k)));
    let zpb = layer.input_zero_point + 128;
    match src {
        Loc::Bytes(s) if contiguous => Ok(format!(
            "for {{ let k := 0 }} lt(k, {kk}) {{ k := add(k, 1) }} {{ mstore(add({xs}, shl(5, k)), xor(byte(0, mload(add({s}, add(mul(r, {kk}), k)))), 0x80)) }}",
            kk = layer.k
        )),
        Loc::Words(s) if contiguous => Ok(format!("mcopy({xs}, add({s}, mul(r, {})), {})", 32 * layer.k, 32 * layer.k)),
        Loc::Bytes(s) => {
            let all: Vec<u8> = row_src.iter().flatten().flat_map(|j| j.map_or(0xffffu16, |j| j as u16).to_be_bytes()).collect();
            if row_src.iter().flatten().flatten().any(|&j| j >= 0xffff) {
                return Err("input too large for 16-bit gather tables".into());
            }
            let t = cx.alloc(all.len());
            cx.table(t, &all);
            Ok(format!(
                "for {{ let k := 0 }} lt(k, {kk}) {{ k := add(k, 1) }} {{\n    let j := shr(240, mload(add({t}, shl(1, add(mul(r, {kk}), k)))))\n    let v := {zpb}\n    if lt(j, 0xffff) {{ v := xor(byte(0, mload(add({s}, j))), 0x80) }}\n    mstore(add({xs}, shl(5, k)), v)\n}}",
                kk = layer.k
            ))
        }
        _ => Err("internal: unsupported layer input form".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_lanes_match_the_reference_epilogue() {
        use solidml_spec::arith::Multiplier;
        // every lane value of random small layers: the branch-free form where it claims to hold
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        };
        let (mut checked, mut fast) = (0, 0);
        for _ in 0..300 {
            let k = 1 + rnd(6) as usize;
            let weights: Vec<i8> = (0..k).map(|_| rnd(256) as u8 as i8).collect();
            let bias = [rnd(4001) as i32 - 2000];
            let real = [0.0005, 0.003, 0.02, 0.3, 0.9, 1.0, 1.7, 6.0][rnd(8) as usize] * (1.0 + rnd(1000) as f64 / 1000.0);
            let zp_out = rnd(256) as i32 - 128;
            let clamp_min = if rnd(2) == 0 { zp_out.max(-128) as i8 } else { -128 };
            let clamp_max = if rnd(3) == 0 { (zp_out + rnd(100) as i32).min(127) as i8 } else { 127 };
            let epilogue = Epilogue {
                multipliers: vec![Multiplier::from_real(real)],
                output_zero_point: zp_out,
                clamp_min,
                clamp_max: clamp_max.max(clamp_min),
            };
            let layer = Layer {
                k,
                n: 1,
                weights: &weights,
                bias: &bias,
                input_zero_point: rnd(256) as i32 - 128,
                epilogue: &epilogue,
                channel_offset: 0,
                x_range: (-128, 127),
            };
            let plan = layer.plan().unwrap();
            let Some(f) = layer.fast_lane(&plan, 0) else { continue };
            fast += 1;
            let (lo, hi) = plan.acc[0];
            for u in 0..=(hi - lo) as i128 {
                let y = u.clamp(f.u0, f.u1) - f.u0;
                let code = ((y * f.mul + f.k) >> f.s) as u8;
                assert_eq!(code, layer.reference(0, lo + u as i64) as u8, "u = {u}, real {real}, {epilogue:?}");
                checked += 1;
            }
        }
        assert!(fast >= 50 && checked > 0, "{fast} fast lanes");
    }

    #[test]
    fn lanes_pack_signed_values() {
        // [1, −1] in 32-bit lanes: 1 + (−1)·2^32 = −(2^32 − 1) mod 2^256
        let p = pack(&[1, -1], 32);
        assert_eq!(p, [0xffff_ffff_0000_0001, u64::MAX, u64::MAX, u64::MAX]);
        assert_eq!(pack(&[-2], 24), [u64::MAX - 1, u64::MAX, u64::MAX, u64::MAX]);
        assert_eq!(pack(&[5, 7, 0, 1], 16), [0x0001_0000_0007_0005, 0, 0, 0]);
        // a lane crossing a 64-bit limb boundary
        assert_eq!(pack(&[0, 0, 1], 24), [1 << 48, 0, 0, 0]);
        assert_eq!(pack(&[0, 0, 0, 1], 24), [0, 1 << 8, 0, 0]);
        // values wider than 64 bits
        assert_eq!(pack(&[1 << 70], 8), [0, 1 << 6, 0, 0]);
        assert_eq!(pack(&[-(1 << 70)], 0), [0, u64::MAX << 6, u64::MAX, u64::MAX]);
    }
}
