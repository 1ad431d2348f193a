//! DenseWide (spec §Op: DenseWide): for each row `r` of the input `[…, K]` (int8 or int16
//! codes) and output feature `n`,
//!
//! ```text
//! acc = bias[n] + Σ_k w[n, k] · (x[r, k] − zp_in)                    exact (|acc| ≤ 2^62)
//! v   = acc                                  (no multipliers)
//!       scale_wide(acc, M_n) = sign(p) · ⌊(|p| + 2^(s−1)) / 2^s⌋,  p = acc · M_n.multiplier,
//!                                                                  s = 31 − M_n.shift ∈ 1..=62
//! y   = clamp(v + zp_out, clamp_min, clamp_max)                      exact; int8, int16 or int32
//! ```
//!
//! The EVM's 256-bit signed words hold every intermediate exactly (`|p| < 2^93`), so nothing
//! here saturates or approximates.
//!
//! **Rounding in one shift.** For `p ≥ 0`, `⌊(p + h)/2^s⌋` with `h = 2^(s−1)`; for `p < 0`,
//! `−⌊(−p + h)/2^s⌋ = ⌈(p − h)/2^s⌉ = ⌊(p + h − 1)/2^s⌋`. So `v = sar(s, p + h − [p < 0])`, and
//! the output zero point goes inside the floor: `v + zp = sar(s, p + h + zp·2^s − [p < 0])`.
//! With `acc = u + lo` (below), `p = u·m + lo·m`: the output before the clamp is
//! `sar(s, t + K − [t < Z])` with `t = u·m` and compile-time `K = lo·m + h + zp·2^s`,
//! `Z = −lo·m` (one MUL, a compare, a SAR; the compare folds away when `lo ≥ 0` or
//! `hi < 0`). Without multipliers it is `u + lo + zp`; with a zero multiplier, `zp`. Clamps
//! that cannot trigger (the map is monotone in `acc`) are left out.
//!
//! **Fast layout** (weights in the code): the packed lanes of Dense ([`crate::layer`]). Over
//! the input range (the type's, or what the layer before can produce) `acc_n ∈ [lo_n, hi_n]`;
//! `u_n = acc_n − lo_n` fits `W` bits, `W` the widest range (`≤ 63`: validation bounds
//! `Σ|w|·65535 + |bias|` by 2^62), and `⌊256/W⌋` outputs share one word:
//! `ACC = C_0 + Σ_k COLUMN_k · x_k` (mod 2^256) with the signed input codes `x_k` and
//! `COLUMN_k = Σ_j w[n_j, k]·2^(W·j)`, exact because the true sum of the lanes lies in
//! `[0, 2^256)`. A 16x8 layer (|w| ≤ 127) of K = 64 takes 29-bit lanes (8 outputs per MUL),
//! a 16x16 one 37-bit lanes (6). Groups that do not fit the main contract go to part
//! contracts, as Dense's do ([`crate::layer::emit_groups`]).
//!
//! **Compact layout** (weights as data, [`crate::compact`]): four outputs per word, one lane
//! of 64 bits each, holding the weights of `F` consecutive inputs as unsigned fields: 8 fields
//! of 8 bits (`w + 128`) when every weight lies in `[−128, 127]` (16x8 layers: one byte per
//! weight), else 4 of 16 bits (`w + 32768`; validation excludes −32768). The inputs are
//! biased too, `xb = x + B` (`B` = 32768 for int16, 128 for int8), so every product is below
//! 2^32 and a lane sums up to 2^32 of them without carrying into the next. With `W_b` the
//! weights' bias, `acc_n = lane_n − W_b·Σ_k xb_k + bias_n − (zp + B)·Σ_k w[n, k]`, and the
//! epilogue is the fast layout's with its constants as arguments of one Yul function per
//! layer.
//!
//! **Storage.** int16 and int32 tensors are signed words ([`Loc::Wide`]); an int8 output is a
//! byte (or, read only by one-row Dense layers, a biased word), as every int8 tensor.

use std::{fmt::Write, ops::Range};

use solidml_spec::{DType, DenseWide, Node, arith};

use crate::{
    NodeFailure,
    compact::{self, WIDE_LANES, lit},
    layer::{LaneGroups, add_const, emit_groups, emit_rows, indent, lane_group_bytes, lane_group_yul, lane_yul},
    plan::*,
};

pub(crate) fn emit(cx: &mut Ctx<'_>, n: &Node, d: &DenseWide) -> Result<(), NodeFailure> {
    let m = cx.m;
    let x = n.inputs.first().copied().ok_or("DenseWide takes one input")?;
    let yt = n.outputs[0];
    let (xin, yinfo) = (m.tensor(x), m.tensor(yt));
    let (k, nn) = (d.in_features as usize, d.out_features as usize);
    let rows = xin.len() / k.max(1);
    let src = cx.at(x);
    let y = cx.place_output(yt);
    if rows == 0 || nn == 0 {
        return Ok(());
    }
    let (xlo, xhi) = cx.range[x as usize];
    let layer = WideLayer::new(d, yinfo.dtype, (xlo as i64, xhi as i64));
    let row_dst: Vec<usize> = (0..rows).map(|r| r * nn).collect();
    if cx.compact {
        emit_compact(cx, &layer, src, y, &row_dst)?;
    } else {
        emit_fast(cx, &layer, src, y, &row_dst)?;
    }
    cx.range[yt as usize] = layer.out_range();
    Ok(())
}

/// The epilogue of one output as `v = sar(s, t + kk − [t < z])`, `t = u·mul` (`u` the output's
/// lane value), before the clamp; `v` is biased by `out_bias`.
struct Epi {
    mul: i128,
    kk: i128,
    z: i128,
    s: u32,
}

/// A DenseWide layer with its accumulator ranges and lane layout.
struct WideLayer<'a> {
    d: &'a DenseWide,
    k: usize,
    n: usize,
    /// 128 for an int8 output (stored biased, as every int8 value in the layer code), else 0.
    out_bias: i128,
    /// `[lo_n, hi_n]` of `acc_n` over the input range.
    acc: Vec<(i128, i128)>,
    /// Lane width in bits (fast layout).
    w: u32,
}

impl<'a> WideLayer<'a> {
    fn new(d: &'a DenseWide, out: DType, (xlo, xhi): (i64, i64)) -> WideLayer<'a> {
        let (k, n) = (d.in_features as usize, d.out_features as usize);
        let (a, b) = ((xlo - d.input_zero_point as i64) as i128, (xhi - d.input_zero_point as i64) as i128);
        let acc: Vec<(i128, i128)> = (0..n)
            .map(|j| {
                let (mut lo, mut hi) = (d.bias[j] as i128, d.bias[j] as i128);
                for &w in &d.weights[j * k..(j + 1) * k] {
                    let (p, q) = (w as i128 * a, w as i128 * b);
                    lo += p.min(q);
                    hi += p.max(q);
                }
                (lo, hi)
            })
            .collect();
        let w = acc.iter().map(|&(lo, hi)| 128 - ((hi - lo) as u128).leading_zeros()).max().unwrap_or(1).max(1);
        WideLayer { d, k, n, out_bias: if out == DType::I8 { 128 } else { 0 }, acc, w }
    }

    /// `v + zp_out` before the clamp for the accumulator `acc` of output `n` (spec; exact).
    fn unclamped(&self, n: usize, acc: i128) -> i128 {
        let d = self.d;
        let v = match d.multipliers.len() {
            0 => acc,
            1 => arith::scale_wide(acc as i64, d.multipliers[0]),
            _ => arith::scale_wide(acc as i64, d.multipliers[n]),
        };
        v + d.output_zero_point as i128
    }

    /// The output code (raw) for the accumulator `acc` of output `n`.
    fn reference(&self, n: usize, acc: i128) -> i128 {
        self.unclamped(n, acc).clamp(self.d.clamp_min as i128, self.d.clamp_max as i128)
    }

    /// The raw range of the outputs (the epilogue is monotone in `acc`).
    fn out_range(&self) -> (i32, i32) {
        let lo = (0..self.n).map(|n| self.reference(n, self.acc[n].0)).min().unwrap_or(0);
        let hi = (0..self.n).map(|n| self.reference(n, self.acc[n].1)).max().unwrap_or(0);
        (lo as i32, hi as i32)
    }

    /// The biased clamp bounds.
    fn clamp(&self) -> (i128, i128) {
        (self.d.clamp_min as i128 + self.out_bias, self.d.clamp_max as i128 + self.out_bias)
    }

    /// Output `n`'s epilogue constants (module docs).
    fn epi(&self, n: usize) -> Epi {
        let d = self.d;
        let zp = d.output_zero_point as i128 + self.out_bias;
        let lo = self.acc[n].0;
        let m = match d.multipliers.len() {
            0 => return Epi { mul: 1, kk: lo + zp, z: 0, s: 0 },
            1 => d.multipliers[0],
            _ => d.multipliers[n],
        };
        if m.multiplier == 0 {
            return Epi { mul: 0, kk: zp, z: 0, s: 0 };
        }
        let (mul, s) = (m.multiplier as i128, (31 - m.shift) as u32);
        Epi { mul, kk: lo * mul + (1i128 << (s - 1)) + (zp << s), z: (-lo * mul).max(0), s }
    }

    /// Yul setting `v` to output `n`'s biased code from its lane value `u` (fast layout:
    /// specialised, clamps only where they can trigger).
    fn epilogue_yul(&self, n: usize, u: &str) -> String {
        let e = self.epi(n);
        let (lo, hi) = self.acc[n];
        let (cmin, cmax) = self.clamp();
        if e.mul == 0 {
            return format!("let v := {}", lit(e.kk.clamp(cmin, cmax)));
        }
        let mut y = if e.s == 0 {
            format!("let v := {}", add_const(u, e.kk))
        } else if e.z == 0 {
            // p ≥ 0 for every input
            format!("let v := sar({}, {})", e.s, add_const(&format!("mul({u}, {})", e.mul), e.kk))
        } else if e.z > (hi - lo) * e.mul {
            // p < 0 for every input
            format!("let v := sar({}, {})", e.s, add_const(&format!("mul({u}, {})", e.mul), e.kk - 1))
        } else {
            format!("let t := mul({u}, {})\nlet v := sar({}, sub({}, lt(t, {})))", e.mul, e.s, add_const("t", e.kk), e.z)
        };
        let bias = self.out_bias;
        match (self.unclamped(n, lo) + bias < cmin, self.unclamped(n, hi) + bias > cmax) {
            (true, true) => {
                let _ = write!(
                    y,
                    "\nif gt({}, {}) {{ v := {} }}",
                    add_const("v", -cmin),
                    cmax - cmin,
                    add_const(&format!("mul(sgt(v, {}), {})", lit(cmin), cmax - cmin), cmin)
                );
            }
            (true, false) => {
                let _ = write!(y, "\nif slt(v, {0}) {{ v := {0} }}", lit(cmin));
            }
            (false, true) => {
                let _ = write!(y, "\nif sgt(v, {0}) {{ v := {0} }}", lit(cmax));
            }
            (false, false) => {}
        }
        y
    }

    /// The lane value `u_n − Σ_k w[n, k]·x_k` (signed input codes `x_k`) of the outputs `outs`.
    fn init(&self, outs: Range<usize>) -> Vec<i128> {
        let zp = self.d.input_zero_point as i128;
        outs.map(|n| self.d.bias[n] as i128 - zp * self.row_sum(n) - self.acc[n].0).collect()
    }

    /// `Σ_k w[n, k]`.
    fn row_sum(&self, n: usize) -> i128 {
        self.d.weights[n * self.k..(n + 1) * self.k].iter().map(|&w| w as i128).sum()
    }

    fn column(&self, outs: Range<usize>, k: usize) -> Vec<i128> {
        outs.map(|n| self.d.weights[n * self.k + k] as i128).collect()
    }
}

impl LaneGroups for WideLayer<'_> {
    fn k(&self) -> usize {
        self.k
    }
    fn n(&self) -> usize {
        self.n
    }
    fn lanes(&self) -> usize {
        (256 / self.w) as usize
    }
    fn group_bytes(&self, outs: Range<usize>) -> usize {
        // the epilogue's constants are wider than Dense's (~30 bytes more per output)
        let count = outs.len();
        lane_group_bytes(self.w, self.k, &|k| self.column(outs.clone(), k), count) + 30 * count
    }
    fn group_yul(&self, outs: Range<usize>, xload: &dyn Fn(usize) -> String, store: &dyn Fn(usize, String) -> String) -> String {
        let output =
            |j: usize, n: usize, count: usize| format!("{}\n{}", self.epilogue_yul(n, &lane_yul(self.w, j, count)), store(n, "v".into()));
        lane_group_yul(self.w, &self.init(outs.clone()), self.k, &|k| self.column(outs.clone(), k), xload, &output, outs.clone())
    }
}

/// Fast layout: each row's signed input codes as words (in place for one row of int16
/// words), then the lane groups.
fn emit_fast(cx: &mut Ctx<'_>, layer: &WideLayer<'_>, src: Loc, y: Loc, row_dst: &[usize]) -> Result<(), String> {
    let (k, rows) = (layer.k, row_dst.len());
    let direct = rows == 1 && matches!(src, Loc::Wide(_));
    let xs = if direct { src.addr() } else { cx.alloc(32 * k) };
    let fill = match src {
        _ if direct => String::new(),
        Loc::Wide(s) => format!("mcopy({xs}, add({s}, mul(r, {})), {})", 32 * k, 32 * k),
        Loc::Bytes(s) => format!(
            "for {{ let k := 0 }} lt(k, {k}) {{ k := add(k, 1) }} {{ mstore(add({xs}, shl(5, k)), signextend(0, byte(0, mload(add({s}, add(mul(r, {k}), k)))))) }}"
        ),
        _ => return Err("internal: DenseWide input in an unexpected form".into()),
    };
    emit_groups(cx, layer, xs, &fill, y, row_dst, 1)
}

/// Compact layout: the weights in the model's blob (module docs), one dot function and one
/// epilogue function per layer.
fn emit_compact(cx: &mut Ctx<'_>, layer: &WideLayer<'_>, src: Loc, y: Loc, row_dst: &[usize]) -> Result<(), String> {
    let (k, rows) = (layer.k, row_dst.len());
    // the biased inputs xb = x + B of the row
    let xs = cx.alloc(32 * k);
    let (fill, xbias): (String, i128) = match src {
        Loc::Wide(s) => (
            format!(
                "for {{ let k := 0 }} lt(k, {k}) {{ k := add(k, 1) }} {{ mstore(add({xs}, shl(5, k)), add(mload(add({s}, shl(5, add(mul(r, {k}), k)))), 32768)) }}"
            ),
            32768,
        ),
        Loc::Bytes(s) => (
            format!(
                "for {{ let k := 0 }} lt(k, {k}) {{ k := add(k, 1) }} {{ mstore(add({xs}, shl(5, k)), xor(byte(0, mload(add({s}, add(mul(r, {k}), k)))), 0x80)) }}"
            ),
            128,
        ),
        _ => return Err("internal: DenseWide input in an unexpected form".into()),
    };
    let (per_word, field_bits) = compact::wide_fields(layer.d);
    let words = k.div_ceil(per_word);
    let group_bytes = words * 32;
    let groups = layer.n.div_ceil(WIDE_LANES);
    let st = &mut cx.data;
    let base = st.blob.len();
    st.blob.extend(wide_blob(layer.d));
    let (fname, ename) = (format!("dot{}", st.fns), format!("epi{}", st.fns));
    st.fns += 1;
    let inline = st.inline;
    // external data: one copy of the whole layer before the rows when there are several rows,
    // else one copy per group (a small buffer)
    let whole = !inline && rows > 1;
    let buf = if inline {
        0
    } else {
        match st.buf {
            Some(b) => b,
            None => {
                let size = st.buf_size;
                let b = cx.alloc(size);
                cx.data.buf = Some(b);
                b
            }
        }
    };
    let es = if matches!(y, Loc::Bytes(_)) { 1 } else { 32 };
    let mut body = String::new();
    let _ = writeln!(body, "{fill}");
    // the weights' bias (128 or 32768) times Σ xb
    let _ = writeln!(body, "{}", compact::sum_yul_shifted("sb", xs, k, field_bits as u32 - 1));
    for g in 0..groups {
        let off = base + g * group_bytes;
        let p = if inline {
            format!("add(wb, {off})")
        } else if whole {
            (buf + g * group_bytes).to_string()
        } else {
            let _ = write!(body, "{}", compact::copy_yul(off, group_bytes, &buf.to_string()));
            buf.to_string()
        };
        let _ = writeln!(body, "{{\n    let acc := {fname}({p})");
        for (l, n) in (g * WIDE_LANES..((g + 1) * WIDE_LANES).min(layer.n)).enumerate() {
            let c = layer.d.bias[n] as i128 - (layer.d.input_zero_point as i128 + xbias) * layer.row_sum(n) - layer.acc[n].0;
            let e = layer.epi(n);
            let v = format!("{ename}(acc, {}, {}, sb, {}, {}, {}, {})", 64 * l, lit(c), e.mul, lit(e.kk), e.z, e.s);
            let addr = format!("add(dst, {})", es * n);
            let _ =
                writeln!(body, "    {}", if es == 1 { format!("mstore8({addr}, xor({v}, 0x80))") } else { format!("mstore({addr}, {v})") });
        }
        let _ = writeln!(body, "}}");
    }
    let (cmin, cmax) = layer.clamp();
    let epi = format!(
        "function {ename}(acc, sh, c, sb, mul_, kk, z, s) -> v {{\n    let t := mul(sub(add(and(shr(sh, acc), 0xffffffffffffffff), c), sb), mul_)\n    v := sar(s, sub(add(t, kk), lt(t, z)))\n    if gt({}, {}) {{ v := {} }}\n}}",
        add_const("v", -cmin),
        cmax - cmin,
        add_const(&format!("mul(sgt(v, {}), {})", lit(cmin), cmax - cmin), cmin)
    );
    let mut pre = format!("{{\n{}\n{}", indent(&compact::dot_fn_fields(&fname, k, xs, per_word, field_bits), 4), indent(&epi, 4));
    if whole {
        pre.push('\n');
        pre.push_str(&indent(&compact::copy_yul(base, groups * group_bytes, &buf.to_string()), 4));
    }
    cx.line(&pre);
    emit_rows(cx, layer.n, y, row_dst, &body);
    cx.line("}");
    Ok(())
}

/// The compact blob of a layer ([`compact::wide_fields`]): per group of [`WIDE_LANES`]
/// outputs and `per_word` inputs, one word whose lane `l`, field `j` (bits
/// `64·l + field_bits·j`) is `w[n0 + l, k + j] + 2^(field_bits − 1)`.
fn wide_blob(d: &DenseWide) -> Vec<u8> {
    let (k, n) = (d.in_features as usize, d.out_features as usize);
    let (per_word, field_bits) = compact::wide_fields(d);
    let fb = field_bits / 8;
    let words = k.div_ceil(per_word);
    let mut out = vec![0u8; compact::wide_layer_bytes(k, n, per_word)];
    for g in 0..n.div_ceil(WIDE_LANES) {
        for i in 0..words {
            let w = &mut out[(g * words + i) * 32..(g * words + i + 1) * 32];
            for l in 0..WIDE_LANES {
                for j in 0..per_word {
                    let (nn, kk) = (g * WIDE_LANES + l, i * per_word + j);
                    if nn < n && kk < k {
                        let v = (d.weights[nn * k + kk] as i32 + (1 << (field_bits - 1))) as u32;
                        // bits 64·l + field_bits·j of the big-endian word: its lowest byte is
                        // byte 31 − 8l − fb·j, the others before it
                        let at = 31 - (8 * l + fb * j);
                        for b in 0..fb {
                            w[at - b] = (v >> (8 * b)) as u8;
                        }
                    }
                }
            }
        }
    }
    out
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::DenseWide`] (`solidml_spec::for_each_op!`).
    pub(crate) fn dense_wide(cx: &mut Ctx<'_>, n: &Node, op: &solidml_spec::DenseWide) -> super::EmitResult {
        emit(cx, n, op)
    }
}

#[cfg(test)]
mod tests {
    use solidml_spec::{Model, Node, Op, Quant, TensorInfo, arith::Multiplier};

    use super::*;
    use crate::{layer::pack, yul::hex};

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        /// Uniform in `lo..=hi`.
        fn range(&mut self, lo: i64, hi: i64) -> i64 {
            (lo as i128 + (self.next() as u128 % (hi as i128 - lo as i128 + 1) as u128) as i128) as i64
        }
    }

    /// A random valid layer of `k` inputs and `n` outputs writing `out`: 16x8 or 16x16
    /// weights, biases up to the accumulator bound, none / one / per-feature multipliers
    /// (mantissa 2^30 with any shift in half the draws: frequent rounding ties), zero
    /// multipliers, any zero point and clamp of the type.
    fn layer(r: &mut Rng, k: usize, n: usize, out: DType, input_zero_point: i32) -> DenseWide {
        let wmax = if r.range(0, 1) == 0 { 127 } else { 32767 };
        let weights: Vec<i16> = (0..n * k).map(|_| r.range(-wmax, wmax) as i16).collect();
        let bias = (0..n)
            .map(|c| {
                let used: i64 = weights[c * k..(c + 1) * k].iter().map(|&w| (w as i64).abs() * 65535).sum();
                let room = (1i64 << 62) - used;
                if r.range(0, 3) == 0 { r.range(-room, room) } else { r.range(-5_000_000, 5_000_000) }
            })
            .collect();
        let mult = |r: &mut Rng| match r.range(0, 5) {
            0 => Multiplier { multiplier: 0, shift: r.range(-31, 30) as i32 },
            1 | 2 => Multiplier { multiplier: 1 << 30, shift: r.range(-31, 30) as i32 },
            _ => Multiplier { multiplier: r.range(1 << 30, (1 << 31) - 1) as i32, shift: r.range(-31, 30) as i32 },
        };
        let multipliers = match r.range(0, 2) {
            0 => vec![],
            1 => vec![mult(r)],
            _ => (0..n).map(|_| mult(r)).collect(),
        };
        let (lo, hi) = out.code_range().unwrap();
        let (a, b) = (r.range(lo, hi), r.range(lo, hi));
        let (clamp_min, clamp_max) = if r.range(0, 1) == 0 { (a.min(b) as i32, a.max(b) as i32) } else { (lo as i32, hi as i32) };
        DenseWide {
            in_features: k as u32,
            out_features: n as u32,
            input_zero_point,
            weights,
            bias,
            multipliers,
            output_zero_point: r.range(lo, hi) as i32,
            clamp_min,
            clamp_max,
        }
    }

    /// `(x · v) mod 2^256` for a 256-bit word `x` (little-endian limbs) and a signed `v`.
    fn mul_word(x: [u64; 4], v: i64) -> [u64; 4] {
        let mut out = [0u64; 4];
        let mut carry = 0u128;
        for i in 0..4 {
            let p = x[i] as u128 * v.unsigned_abs() as u128 + carry;
            out[i] = p as u64;
            carry = p >> 64;
        }
        if v < 0 { neg_word(out) } else { out }
    }

    fn neg_word(x: [u64; 4]) -> [u64; 4] {
        let mut out = [0u64; 4];
        let mut carry = 1u128;
        for i in 0..4 {
            let s = !x[i] as u128 + carry;
            out[i] = s as u64;
            carry = s >> 64;
        }
        out
    }

    fn add_word(a: [u64; 4], b: [u64; 4]) -> [u64; 4] {
        let mut out = [0u64; 4];
        let mut carry = 0u128;
        for i in 0..4 {
            let s = a[i] as u128 + b[i] as u128 + carry;
            out[i] = s as u64;
            carry = s >> 64;
        }
        out
    }

    /// Bits `[at, at + w)` of a word.
    fn bits(x: [u64; 4], at: usize, w: u32) -> u128 {
        let limb = |i: usize| x.get(i).copied().unwrap_or(0) as u128;
        // two limbs hold the 65 bits from `at` on (w ≤ 63)
        let (q, r) = (at / 64, at % 64);
        ((limb(q) | (limb(q + 1) << 64)) >> r) & ((1u128 << w) - 1)
    }

    #[test]
    fn packed_lanes_hold_each_accumulator_exactly() {
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        for trial in 0..300 {
            let (k, n) = (r.range(1, 12) as usize, r.range(1, 9) as usize);
            let int8 = trial % 4 == 0;
            let (xlo, xhi) = if int8 { (-128, 127) } else { (-32768, 32767) };
            let zp = r.range(xlo, xhi) as i32;
            let d = layer(&mut r, k, n, DType::I16, zp);
            let l = WideLayer::new(&d, DType::I16, (xlo, xhi));
            assert!(l.w <= 63, "{} bits", l.w);
            for _ in 0..20 {
                let x: Vec<i64> = (0..k)
                    .map(|_| match r.range(0, 3) {
                        0 => xlo,
                        1 => xhi,
                        _ => r.range(xlo, xhi),
                    })
                    .collect();
                // each group of lanes: ACC = C_0 + Σ_k COLUMN_k·x_k mod 2^256, as the Yul computes it
                for g in (0..n).step_by(l.lanes()) {
                    let outs = g..(g + l.lanes()).min(n);
                    let mut acc = pack(&l.init(outs.clone()), l.w);
                    for (kk, &xk) in x.iter().enumerate() {
                        acc = add_word(acc, mul_word(pack(&l.column(outs.clone(), kk), l.w), xk));
                    }
                    for (j, nn) in outs.enumerate() {
                        let want = d.bias[nn] as i128
                            + (0..k).map(|kk| d.weights[nn * k + kk] as i128 * (x[kk] - d.input_zero_point as i64) as i128).sum::<i128>();
                        let u = bits(acc, l.w as usize * j, l.w) as i128;
                        assert_eq!(u + l.acc[nn].0, want, "trial {trial}, output {nn}, x {x:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn epilogue_constants_give_the_reference_on_every_kind_of_output() {
        let mut r = Rng(0x2545_f491_4f6c_dd1d);
        let (mut checked, mut ties) = (0, 0);
        for trial in 0..600 {
            let out = [DType::I8, DType::I16, DType::I32][trial % 3];
            let (k, n) = (r.range(1, 6) as usize, r.range(1, 4) as usize);
            let zp = r.range(-32768, 32767) as i32;
            let d = layer(&mut r, k, n, out, zp);
            let l = WideLayer::new(&d, out, (-32768, 32767));
            let (cmin, cmax) = l.clamp();
            for nn in 0..n {
                let (lo, hi) = l.acc[nn];
                let e = l.epi(nn);
                let mut us: Vec<i128> = vec![0, 1, 2, hi - lo - 1, hi - lo];
                us.extend((0..40).map(|_| r.range(0, (hi - lo).min(i64::MAX as i128) as i64) as i128));
                // around acc = 0 (sign changes) and small accumulators (ties for mantissa 2^30)
                us.extend((-40..40).map(|a| a - lo));
                for u in us.into_iter().filter(|&u| (0..=hi - lo).contains(&u)) {
                    let t = u * e.mul;
                    // sar(s, t + kk − [t < z]): a floor division by 2^s
                    let v = (t + e.kk - (t < e.z) as i128) >> e.s;
                    let want = l.reference(nn, lo + u) + l.out_bias;
                    assert_eq!(v.clamp(cmin, cmax), want, "trial {trial}, output {nn}, acc {}: {d:?}", lo + u);
                    // the specialised forms of the fast layout: which side of z every t lies on
                    if e.z == 0 {
                        assert!(t >= e.z);
                    } else if e.z > (hi - lo) * e.mul {
                        assert!(t < e.z);
                    }
                    if e.s > 0 && ((lo + u) * e.mul).rem_euclid(1 << e.s) == 1 << (e.s - 1) {
                        ties += 1;
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 10_000 && ties > 100, "{checked} accumulators, {ties} ties");
    }

    #[test]
    fn compact_blob_holds_biased_weights_in_16_or_8_bit_fields() {
        let mut r = Rng(7);
        for (wide, per_word, fb) in [(true, 4, 2), (false, 8, 1)] {
            let mut d = layer(&mut r, 10, 5, DType::I16, 0);
            if wide {
                d.weights[3] = -32767;
            } else {
                d.weights.iter_mut().for_each(|w| *w = (*w).clamp(-128, 127));
                d.weights[3] = -128;
            }
            assert_eq!(compact::wide_fields(&d), (per_word, 8 * fb));
            let b = wide_blob(&d);
            let words = 10usize.div_ceil(per_word);
            // 2 groups (of 4 outputs) × `words` words
            assert_eq!(b.len(), 2 * words * 32);
            let field = |word: usize, l: usize, j: usize| {
                let at = word * 32 + 31 - (8 * l + fb * j);
                (0..fb).fold(0u32, |v, i| v | (b[at - i] as u32) << (8 * i))
            };
            for nn in 0..5 {
                for kk in 0..10 {
                    let (g, l, i, j) = (nn / 4, nn % 4, kk / per_word, kk % per_word);
                    let got = field(g * words + i, l, j) as i32 - (1 << (8 * fb - 1));
                    assert_eq!(got, d.weights[nn * 10 + kk] as i32, "w[{nn}, {kk}], {}-bit fields", 8 * fb);
                }
            }
            // padding (the last word's inputs past 10, outputs 5..8) is zero
            assert_eq!(field(words - 1, 0, 10 % per_word), 0);
            assert!((1..4).all(|l| (0..per_word).all(|j| (words..2 * words).all(|w| field(w, l, j) == 0))));
        }
    }

    fn model(d: DenseWide, x: DType, y: DType, rows: u32) -> Model {
        let t = |name: &str, dtype, len, zero_point| TensorInfo {
            name: name.into(),
            shape: vec![rows, len],
            dtype,
            quant: Some(Quant { scale: 0.001, zero_point }),
        };
        Model {
            name: "w".into(),
            tensors: vec![t("x", x, d.in_features, d.input_zero_point), t("y", y, d.out_features, d.output_zero_point)],
            constants: vec![],
            inputs: vec![0],
            outputs: vec![1],
            nodes: vec![Node { name: "dw".into(), op: Op::DenseWide(d), inputs: vec![0], outputs: vec![1] }],
            input_quant: vec![],
        }
    }

    #[test]
    fn wide_io_is_packed_by_type_and_weights_go_where_the_layout_puts_them() {
        use crate::{SolidityLayout, SolidityOptions, emit_model};
        let mut r = Rng(11);
        let d = layer(&mut r, 5, 3, DType::I32, -7);
        let m = model(d.clone(), DType::I16, DType::I32, 2);
        solidml_spec::validate::validate(&m).unwrap();
        let main = |e: &crate::Emitted| e.files.iter().find(|(p, _)| p == "w.sol").unwrap().1.clone();
        let fast = main(&emit_model(&m, &[0; 32], &SolidityOptions::default()).unwrap());
        // predictQ: 2·5 int16 codes in (20 bytes), 2·3 int32 codes out (24 bytes)
        assert!(fast.contains("if (q.length != 20) revert InputLength(20, q.length);"), "{fast}");
        assert!(fast.contains("signextend(1, shr(240, calldataload(add(q.offset, add(0, mul(i, 2))))))"), "{fast}");
        assert!(fast.contains("mul(i, 4)), and(mload(") && fast.contains(", 4294967295))") && fast.contains("(24 bytes)"), "{fast}");
        assert!(fast.contains("Input `x` [2, 5]: int16, scale") && fast.contains("(int32: scale"), "{fast}");
        assert!(fast.contains("int16 and int32 codes 2 and 4 bytes"), "{fast}");
        // two rows: the rows loop, the weights as lane constants
        assert!(fast.contains("for { let r := 0 } lt(r, 2)") && fast.contains("// dw (DenseWide)"), "{fast}");
        let compact = main(&emit_model(&m, &[0; 32], &SolidityOptions::with_layout(SolidityLayout::Compact)).unwrap());
        assert!(compact.contains(&format!("WEIGHTS = hex\"{}\"", hex(&wide_blob(&d)))), "{compact}");
        assert!(compact.contains("DenseWide weights (4 outputs per word") && compact.contains("let m := 0x000000000000ffff"), "{compact}");
        // an int8 output of a single row: bytes; an int8 input: sign-extended bytes
        let d8 = layer(&mut r, 4, 2, DType::I8, 3);
        let m8 = model(d8, DType::I8, DType::I8, 1);
        solidml_spec::validate::validate(&m8).unwrap();
        let s = main(&emit_model(&m8, &[0; 32], &SolidityOptions::default()).unwrap());
        assert!(s.contains("signextend(0, byte(0, mload(") && s.contains("mstore8(add(dst, "), "{s}");
    }
}
