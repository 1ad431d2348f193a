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

use solidml_spec::{Epilogue, arith};

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
    pub k: usize,
    pub n: usize,
    /// `[n, k]` row-major.
    pub weights: &'a [i8],
    pub bias: &'a [i32],
    pub input_zero_point: i32,
    pub epilogue: &'a Epilogue,
    /// Channel index of output `j` in the epilogue (per-channel multipliers).
    pub channel_offset: usize,
    /// Raw (unbiased) range of the input values, including `zp_in` where padding reads it.
    pub x_range: (i32, i32),
}

/// Lane layout of a layer.
pub struct Plan {
    pub w: u32,
    pub lanes: usize,
    /// `[lo_n, hi_n]` of `acc_n`.
    pub acc: Vec<(i64, i64)>,
}

impl Layer<'_> {
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
    fn reference(&self, n: usize, acc: i64) -> i32 {
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

    /// Yul computing the outputs `outs` (a range of features packed into one word of lanes),
    /// `xload(k)` giving the biased input `k`, `store(n, value)` storing output `n`.
    pub fn group_yul(
        &self,
        plan: &Plan,
        outs: std::ops::Range<usize>,
        xload: &dyn Fn(usize) -> String,
        store: &dyn Fn(usize, String) -> String,
    ) -> String {
        let mut y = String::new();
        let zpb = self.input_zero_point as i128 + 128;
        let init: Vec<i128> = outs
            .clone()
            .map(|n| {
                let sw: i128 = self.weights[n * self.k..(n + 1) * self.k].iter().map(|&w| w as i128).sum();
                self.bias[n] as i128 - zpb * sw - plan.acc[n].0 as i128
            })
            .collect();
        let _ = writeln!(y, "{{");
        // One nested expression `add(mul(C_K, x_K), add(… add(mul(C_1, x_1), C_0)))`: Yul
        // evaluates arguments right to left, so the innermost sum comes first and the running
        // sum stays on top of the stack: PUSH, MLOAD, PUSH32, MUL, ADD per term (17 gas).
        // `acc := add(acc, …)` statements cost 25 (DUP, SWAP and POP for the assignment).
        // solc's parser bounds the nesting depth: at most NEST terms per statement, the next
        // statement continuing from `acc` (one assignment per NEST terms).
        const NEST: usize = 256;
        let mut expr = word(pack(&init, plan.w));
        let (mut terms, mut declared) = (0, false);
        for k in 0..self.k {
            let col: Vec<i128> = outs.clone().map(|n| self.weights[n * self.k + k] as i128).collect();
            if col.iter().all(|&c| c == 0) {
                continue;
            }
            if terms == NEST {
                let _ = writeln!(y, "    {} acc := {expr}", if declared { "" } else { "let" });
                (expr, terms, declared) = ("acc".to_string(), 0, true);
            }
            expr = format!("add(mul({}, {}),\n        {expr})", word(pack(&col, plan.w)), xload(k));
            terms += 1;
        }
        let _ = writeln!(y, "    {} acc := {expr}", if declared { "" } else { "let" });
        let count = outs.len();
        for (j, n) in outs.enumerate() {
            let u = match (j, j + 1 == count) {
                (0, true) => "acc".to_string(),
                (0, false) => format!("and(acc, {})", (1u128 << plan.w) - 1),
                (_, true) => format!("shr({}, acc)", plan.w as usize * j),
                _ => format!("and(shr({}, acc), {})", plan.w as usize * j, (1u128 << plan.w) - 1),
            };
            let _ = writeln!(y, "    {{\n{}\n{}\n    }}", indent(&self.epilogue_yul(plan, n, &u), 8), indent(&store(n, "v".into()), 8));
        }
        let _ = writeln!(y, "}}");
        y
    }

    /// Estimated code bytes of the group `outs` (for splitting across contracts).
    pub fn group_bytes(&self, plan: &Plan, outs: std::ops::Range<usize>) -> usize {
        let mut b = 40 + outs.len() * 45;
        for k in 0..self.k {
            let col: Vec<i128> = outs.clone().map(|n| self.weights[n * self.k + k] as i128).collect();
            if col.iter().any(|&c| c != 0) {
                let w = word(pack(&col, plan.w));
                b += (w.len() - 2).div_ceil(2) + 1 + 6;
            }
        }
        b
    }
}

/// `text` with every line indented by `n` spaces.
pub fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines().map(|l| format!("{pad}{l}")).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

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
