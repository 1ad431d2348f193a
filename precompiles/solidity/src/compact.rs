//! The COMPACT Solidity layout: Dense and Conv weights stored as raw bytes (one byte per
//! weight), read at run time, instead of the Fast layout's lane-packed PUSH32 constants
//! (~39 code bytes per 11 weights). It trades gas per inference for deployment gas.
//!
//! **Choosing.** `solidml compile --layout fast` (the default) gives the least gas per
//! inference: a model is deployed once and called many times. `--layout compact` deploys for
//! less where weights dominate the code, for about 2× the gas per inference. Measured
//! (`solidml gas`, revm, optimizer off; predictQ includes a cold call):
//!
//! | model | fast deploy | compact deploy | fast predictQ | compact predictQ |
//! |---|---|---|---|---|
//! | 256×256 dense (65,536 MACs) | 56.5M (13 txs) | 19.5M (4 txs, 2.9× less) | 178,922 (2.73 gas/MAC) | 357,852 (5.46 gas/MAC) |
//! | digits_mlp (6,464 MACs) | 7.44M | 4.15M (1.8× less) | 37,108 | 64,658 |
//! | digits_cnn (23,200 MACs) | 3.85M | 3.24M | 641,429 | 815,057 |
//! | digits_logreg (640 MACs) | 1.62M | 1.60M | 11,227 | 17,644 |
//!
//! (forge, accounts warm: 256×256 dense 52.4M → 17.9M deploy, 2.25 → 5.32 gas/MAC.) The dot product itself costs ~4.2 gas per MAC (about 135 gas per 32-MAC
//! word); the rest is the per-output epilogue (~140 gas per output: a call of the layer's
//! shared epilogue function), reading the data contracts (2,600 per cold contract, ~300 per
//! group of 8 outputs) and IO. Tiny models (digits_logreg: 640 weights) gain little: their
//! deployment is mostly IO code, not weights.
//!
//! **Where the weights live.** All the weights of a model form one blob. When the blob and the
//! layer code fit one contract (EIP-170: 24,576 bytes of runtime code; budget
//! `MAIN_LAYER_BUDGET` for both), the blob is a `bytes constant` of the model contract,
//! which `_forward` copies to memory once per call (solc's CODECOPY). Otherwise the blob is
//! split into data contracts of at most 24,575 bytes each (SSTORE2-style: runtime code = `0x00`
//! then the bytes, so calling one stops at once), created by the model's constructor and read
//! with EXTCODECOPY, per group of 8 outputs (one layer at a time for Conv and multi-row Dense).
//! `parts()` lists the data contracts.
//!
//! **Deployment (EIP-3860).** The init code of `new NAME()` holds the runtime code of the model
//! contract and every data contract's bytes, and must stay under 49,152 bytes: a blob of up to
//! about 30 KB (the weights, padded to 8 outputs × 4 inputs per word) plus the model's code
//! deploys in one transaction: all the example models (the largest, digits_mlp, has 18 KB of
//! init code). Larger models deploy split (see `Emitted::split_parts`): each data contract is a
//! contract of its own (`NAME_D<i>`, deployed first, one transaction each), and the model's
//! constructor takes their addresses and checks each one's code hash; `NAMEDeploy.deploy()`
//! runs the sequence (a 256×256 layer: 4 transactions).
//!
//! DenseWide layers (the wide precisions) put their weights in the same blob, 16 or 8 bits
//! each in 64-bit lanes (`crate::ops::dense_wide`).
//!
//! **Kernel (SWAR).** A weight is stored unsigned, as `w + 128 ∈ [0, 255]`, so lanes never
//! carry a sign. For a group of 8 output features `n0..n0+8` and 4 consecutive inputs
//! `k..k+4`, one 32-byte word holds 8 lanes of 32 bits, byte `j` of lane `l` (bits
//! `32·l + 8·j`) being `w[n0 + l, k + j] + 128`. Per word and `j`:
//! `acc += and(shr(8·j, word), 0x000000ff…000000ff) · xb[k + j]`: one MUL serves 8 MACs. Every
//! product is at most 255·255, so a lane holds the sum of up to 66,051 of them: the emitter
//! refuses layers with more inputs (K > 66,051) in this layout. With `xb = x + 128` (the biased
//! inputs the Fast layout uses too) and `S = Σ_k xb_k` (once per row),
//! `acc_n = bias_n + Σ_k w[n,k]·(x_k − zp) = lane_n − 128·S + (bias_n − (zp + 128)·Σ_k w[n,k])`,
//! and the epilogue (requantization, output zero point, clamps) is the Fast layout's
//! on `u_n = acc_n − lo_n` (below): bit-exact with the CPU reference. The dot product is a Yul function per layer: straight-line for K ≤ 384 (inputs
//! at constant addresses), else a loop over the words of a group, 8 words per iteration. Padding taps of a Conv read the input
//! zero point, as in the Fast layout.
//!
//! **Conv** goes through the same path (im2col rows, per group of channels). Depthwise
//! convolutions (one output channel per group) fill one lane of 8: correct, but ~8× the gas per
//! MAC of a dense layer.
//!
//! **Epilogue.** Each output's requantization is one call of a per-layer Yul function
//! `epi(acc, lane shift, c, s7, mul, nk, z, s)` computing `sar(s, u·mul − nk − 2^31·[u·mul < z])`
//! and both clamps (always applied: exact, as clamps that cannot trigger change nothing); the
//! constants are [`crate::layer::Layer::epilogue_params`], those of the Fast layout's
//! specialised epilogue. Outputs with a zero multiplier or a saturating left shift keep the
//! Fast layout's inline code. ~50 code bytes per output feature.
//!
//! **Limits.** No part contracts in this layout: the code other than the weights (IO, other
//! ops, ~50 bytes per Dense/Conv output, ~3.6 KB per straight-line dot product) must fit the
//! model contract; the 256×256 layer's is 19.6 KB. Much wider models (thousands of output
//! features) would exceed EIP-170 in the model contract (the emitter does not check this
//! estimate; forge and `solidml gas` report the code size). Layers with K > 66,051 inputs are
//! refused.

use std::fmt::Write;

use solidml_spec::{DenseWide, Model, Op};

use solidml_spec::TensorId;

use crate::{MAIN_LAYER_BUDGET, layer::*, plan::*, yul::*};

/// Output lanes per word.
const LANES: usize = 8;
/// Inputs per word (bytes per lane).
pub(crate) const PER_WORD: usize = 4;
/// Largest K whose lane sums (≤ 255·255 per term) fit 32 bits.
pub const MAX_K: usize = (u32::MAX / (255 * 255)) as usize;
/// Words per loop iteration of the dot product.
const UNROLL: usize = 8;
/// Bytes of data per data contract (EIP-170, less the leading STOP).
pub const DATA_MAX: usize = 24_575;
/// Estimated code bytes per output feature (a call of the layer's epilogue function, store).
pub(crate) const CODE_PER_OUTPUT: usize = 50;
/// Estimated code bytes per layer besides its dot function (row loop, S).
pub(crate) const CODE_PER_LAYER: usize = 400;

/// State of the compact layout while a model is emitted.
pub(super) struct State {
    /// The weights of every layer so far.
    pub blob: Vec<u8>,
    /// The blob is a `bytes constant` of the model contract (else: data contracts).
    pub inline: bool,
    /// Tables too large for code (BinaryLut's 65,536 entries, long index and factor tables):
    /// always in data contracts, after the weights' (see [`table_lookup`], [`table_copy_yul`]).
    pub tables: Vec<u8>,
    /// Memory buffer for EXTCODECOPY (data contracts), allocated at the first layer.
    pub buf: Option<usize>,
    pub buf_size: usize,
    /// Yul functions emitted (for unique names).
    pub fns: usize,
}

/// Blob bytes of a `k`-input, `n`-output layer.
fn layer_bytes(k: usize, n: usize) -> usize {
    n.div_ceil(LANES) * k.div_ceil(PER_WORD) * 32
}

/// Output lanes per word of a DenseWide layer (64 bits each).
pub(crate) const WIDE_LANES: usize = 4;

/// The fields of a DenseWide layer's 64-bit lanes, `(inputs per word, bits per weight)`: 8
/// weights of 8 bits (`w + 128`) when every weight lies in `[−128, 127]` (16x8 layers), else
/// 4 of 16 bits (`w + 32768`).
pub(crate) fn wide_fields(d: &DenseWide) -> (usize, usize) {
    if d.weights.iter().all(|&w| (-128..=127).contains(&w)) { (8, 8) } else { (4, 16) }
}

/// Blob bytes of a `k`-input, `n`-output DenseWide layer: per group of [`WIDE_LANES`] outputs
/// and `per_word` inputs, one word.
pub(crate) fn wide_layer_bytes(k: usize, n: usize, per_word: usize) -> usize {
    n.div_ceil(WIDE_LANES) * k.div_ceil(per_word) * 32
}

impl State {
    /// Plan the weights of `m`: blob size, where it goes, the copy buffer (the weights of the
    /// compact layout, `compact`; none in the fast one).
    pub(crate) fn new(m: &Model, force_data_contracts: bool, compact: bool) -> State {
        let (mut blob, mut code, mut buf) = (0usize, 0usize, 0usize);
        for n in m.nodes.iter().filter(|_| compact) {
            // only Dense, DenseWide and Conv(Transpose) carry a weight blob
            if let Op::Dense(d) = &n.op {
                let (k, nn) = (d.in_features as usize, d.out_features as usize);
                let rows = m.tensor(n.inputs[0]).len() / k.max(1);
                let b = layer_bytes(k, nn);
                blob += b;
                code += CODE_PER_LAYER + dot_bytes(k) + CODE_PER_OUTPUT * nn;
                buf = buf.max(if rows > 1 { b } else { layer_bytes(k, LANES) });
            } else if let Op::DenseWide(d) = &n.op {
                // 4 outputs per word (`crate::ops::dense_wide`)
                let (k, nn) = (d.in_features as usize, d.out_features as usize);
                let rows = m.tensor(n.inputs[0]).len() / k.max(1);
                let per_word = wide_fields(d).0;
                let b = wide_layer_bytes(k, nn, per_word);
                blob += b;
                code += CODE_PER_LAYER + dot_bytes(k) + CODE_PER_OUTPUT * nn;
                buf = buf.max(if rows > 1 { b } else { wide_layer_bytes(k, WIDE_LANES, per_word) });
            } else if let Some((groups, kernel)) = match &n.op {
                Op::Conv(c) => Some((c.groups, &c.kernel)),
                Op::ConvTranspose(c) => Some((c.groups, &c.kernel)),
                _ => None,
            } {
                let xin = m.tensor(n.inputs[0]);
                let yinfo = m.tensor(n.outputs[0]);
                if xin.shape.len() < 2 || yinfo.shape.len() < 2 {
                    continue;
                }
                let g = groups.max(1) as usize;
                let klen: usize = kernel.iter().map(|&k| k as usize).product();
                let (cin_g, cout_g) = (xin.shape[1] as usize / g, yinfo.shape[1] as usize / g);
                let b = layer_bytes(cin_g * klen, cout_g);
                blob += g * b;
                code += g * (CODE_PER_LAYER + dot_bytes(cin_g * klen) + CODE_PER_OUTPUT * cout_g);
                buf = buf.max(b);
            }
        }
        State {
            blob: Vec::with_capacity(blob),
            inline: !force_data_contracts && blob + code <= MAIN_LAYER_BUDGET,
            tables: vec![],
            buf: None,
            buf_size: buf,
            fns: 0,
        }
    }
}

/// The blob of a layer: per group of 8 outputs, per 4 inputs, one word (see the module docs).
pub fn layer_blob(layer: &Layer<'_>) -> Vec<u8> {
    let words = layer.k.div_ceil(PER_WORD);
    let mut out = vec![0u8; layer_bytes(layer.k, layer.n)];
    for g in 0..layer.n.div_ceil(LANES) {
        for i in 0..words {
            let w = &mut out[(g * words + i) * 32..(g * words + i + 1) * 32];
            for l in 0..LANES {
                for j in 0..PER_WORD {
                    let (n, k) = (g * LANES + l, i * PER_WORD + j);
                    if n < layer.n && k < layer.k {
                        // bit 32·l + 8·j of the big-endian word
                        w[31 - (4 * l + j)] = (layer.weights[n * layer.k + k] as i16 + 128) as u8;
                    }
                }
            }
        }
    }
    out
}

/// Largest K whose dot product is straight-line code (inputs at constant addresses, ~14 code
/// bytes per input); larger layers loop over 8 words at a time (~0.7 gas per MAC more).
pub const UNROLL_MAX_K: usize = 384;

/// Estimated code bytes of a `k`-input layer's dot function.
pub(crate) fn dot_bytes(k: usize) -> usize {
    if k <= UNROLL_MAX_K { 14 * k + 60 } else { 14 * PER_WORD * UNROLL + 14 * PER_WORD * UNROLL + 120 }
}

/// A Yul function `name(p) -> acc`: the 8 lane sums `Σ_k (w+128)·xb_k` of the group whose
/// words start at memory `p`, for a `k`-input layer whose biased input words are at `xs`.
pub fn dot_fn(name: &str, k: usize, xs: usize) -> String {
    dot_fn_fields(name, k, xs, PER_WORD, 8)
}

/// [`dot_fn`] for words of lanes of `per_word` fields of `field_bits` bits (inputs `k..k +
/// per_word` of one output per lane): 4 of 8 bits for Dense/Conv (8 lanes of 32 bits); for
/// DenseWide (4 lanes of 64 bits), 8 of 8 bits (16x8 weights) or 4 of 16 bits.
pub(crate) fn dot_fn_fields(name: &str, k: usize, xs: usize, per_word: usize, field_bits: usize) -> String {
    let lane_hex = per_word * field_bits / 4;
    let mask = format!("{}{}", "0".repeat(lane_hex - field_bits / 4), "f".repeat(field_bits / 4)).repeat(64 / lane_hex);
    let full = k / per_word;
    let rest = k % per_word;
    // one word: `w` at p + 32·t, inputs at `x(t, j)`
    let word = |t: usize, terms: usize, x: &dyn Fn(usize) -> String| -> String {
        let wl = if t == 0 { "mload(p)".to_string() } else { format!("mload(add(p, {}))", 32 * t) };
        let mut e = "acc".to_string();
        for j in (0..terms).rev() {
            let lane = if j == 0 { "and(w, m)".to_string() } else { format!("and(shr({}, w), m)", field_bits * j) };
            e = format!("add(mul({lane}, {}), {e})", x(j));
        }
        format!("{{ let w := {wl} acc := {e} }}")
    };
    let mut y = String::new();
    let _ = writeln!(y, "function {name}(p) -> acc {{");
    let _ = writeln!(y, "    let m := 0x{mask}");
    if k <= UNROLL_MAX_K {
        for t in 0..k.div_ceil(per_word) {
            let terms = if t < full { per_word } else { rest };
            let _ = writeln!(y, "    {}", word(t, terms, &|j| format!("mload({})", xs + 32 * (per_word * t + j))));
        }
    } else {
        let (iters, tail) = (full / UNROLL, full % UNROLL);
        let rel = |t: usize| {
            move |j: usize| {
                let off = 32 * (per_word * t + j);
                if off == 0 { "mload(xp)".to_string() } else { format!("mload(add(xp, {off}))") }
            }
        };
        let _ = writeln!(y, "    let xp := {xs}");
        let _ = writeln!(
            y,
            "    for {{ let e := add(p, {}) }} lt(p, e) {{ p := add(p, {}) xp := add(xp, {}) }} {{",
            32 * UNROLL * iters,
            32 * UNROLL,
            32 * per_word * UNROLL
        );
        for t in 0..UNROLL {
            let _ = writeln!(y, "        {}", word(t, per_word, &rel(t)));
        }
        let _ = writeln!(y, "    }}");
        for t in 0..tail {
            let _ = writeln!(y, "    {}", word(t, per_word, &rel(t)));
        }
        if rest > 0 {
            let _ = writeln!(y, "    {}", word(tail, rest, &rel(tail)));
        }
    }
    let _ = writeln!(y, "}}");
    y
}

/// A signed compile-time integer as a Yul expression.
pub(crate) fn lit(v: i128) -> String {
    if v < 0 { format!("sub(0, {})", v.unsigned_abs()) } else { v.to_string() }
}

/// Yul `let s7 := 128·Σ_k mload(xs + 32k)`.
fn sum_yul(xs: usize, k: usize) -> String {
    sum_yul_shifted("s7", xs, k, 7)
}

/// Yul `let var := 2^shift·Σ_k mload(xs + 32k)`.
pub(crate) fn sum_yul_shifted(var: &str, xs: usize, k: usize, shift: u32) -> String {
    let s7 = var;
    let mut y = format!("let {s7} := 0\n");
    let quads = k / 4;
    if quads > 0 {
        let _ = writeln!(
            y,
            "for {{ let q := {xs} }} lt(q, {}) {{ q := add(q, 128) }} {{ {s7} := add(add(add(add({s7}, mload(q)), mload(add(q, 32))), mload(add(q, 64))), mload(add(q, 96))) }}",
            xs + 128 * quads
        );
    }
    for i in 4 * quads..k {
        let _ = writeln!(y, "{s7} := add({s7}, mload({}))", xs + 32 * i);
    }
    let _ = write!(y, "{s7} := shl({shift}, {s7})");
    y
}

/// Yul copying blob bytes `[off, off + len)` from the data contracts to memory `to`.
pub(crate) fn copy_yul(off: usize, len: usize, to: &str) -> String {
    copy_from(DATA, off, len, to)
}

/// Placeholders of the memory slots holding the data contracts' addresses: `__DATA_i__` for the
/// weights' chunk `i`, `__TDATA_i__` for the tables' chunk `i` ([`contract_bits`] resolves them).
const DATA: &str = "__DATA_";
const TDATA: &str = "__TDATA_";

/// Yul copying bytes `[off, off + len)` of the chunks behind `slots` (a placeholder family) to
/// memory `to`.
fn copy_from(slots: &str, off: usize, len: usize, to: &str) -> String {
    let mut y = String::new();
    let (mut off, mut len, mut done) = (off, len, 0usize);
    while len > 0 {
        let (c, o) = (off / DATA_MAX, off % DATA_MAX);
        let l = len.min(DATA_MAX - o);
        let _ = writeln!(y, "extcodecopy(mload({slots}{c}__), add({to}, {done}), {}, {l})", o + 1);
        off += l;
        len -= l;
        done += l;
    }
    y
}

/// A table in the data blob, read by index at run time ([`table_lookup`]).
pub(crate) struct TableLookup {
    /// Yul to place once before the reads, in the same block (a copy, or a function).
    pub(crate) prelude: String,
    /// `{}` in this Yul expression is the entry's index.
    read: String,
}

impl TableLookup {
    /// The Yul expression of entry `index` (a byte).
    pub(crate) fn read(&self, index: &str) -> String {
        self.read.replace("{}", index)
    }
}

/// Reads past which a table is copied to memory whole rather than read entry by entry.
const TABLE_COPY_READS: usize = 192;

/// Put the byte table `table` in the tables' data contracts and say how to read it: for more
/// than [`TABLE_COPY_READS`] `reads`, from one memory copy of the whole table (EXTCODECOPY: ~3
/// gas per 32 bytes plus memory); else one EXTCODECOPY of one byte per read (~110 gas, no
/// large memory).
pub(crate) fn table_lookup(cx: &mut Ctx<'_>, table: Vec<u8>, reads: usize) -> TableLookup {
    let (base, len) = (cx.data.tables.len(), table.len());
    cx.data.tables.extend(table);
    if reads > TABLE_COPY_READS {
        let buf = cx.alloc(len);
        return TableLookup { prelude: copy_from(TDATA, base, len, &buf.to_string()), read: format!("byte(0, mload(add({buf}, {{}})))") };
    }
    let scratch = cx.alloc(32);
    let f = format!("table{}", cx.data.fns);
    cx.data.fns += 1;
    // the data contracts' addresses sit in consecutive memory slots from `__TDATA_0__`
    TableLookup {
        prelude: format!(
            "function {f}(i) -> v {{\n    let o := add(i, {base})\n    extcodecopy(mload(add({TDATA}0__, shl(5, div(o, {DATA_MAX})))), {scratch}, add(mod(o, {DATA_MAX}), 1), 1)\n    v := byte(0, mload({scratch}))\n}}"
        ),
        read: format!("{f}({{}})"),
    }
}

/// Put `bytes` in the tables' data contracts; Yul copying them to memory `to` at run time.
pub(crate) fn table_copy_yul(cx: &mut Ctx<'_>, bytes: &[u8], to: usize) -> String {
    let base = cx.data.tables.len();
    cx.data.tables.extend_from_slice(bytes);
    copy_from(TDATA, base, bytes.len(), &to.to_string())
}

/// The compact counterpart of `emit_layer` (same arguments, same result).
#[allow(clippy::too_many_arguments)]
pub(super) fn emit_layer(
    cx: &mut Ctx<'_>,
    layer: &Layer<'_>,
    src: Loc,
    y: Loc,
    row_src: &[Vec<Option<usize>>],
    row_dst: &[usize],
    out_stride: usize,
    yt: TensorId,
) -> Result<(i32, i32), String> {
    let plan = layer.plan()?;
    if layer.k > MAX_K {
        return Err(format!(
            "{} inputs per output exceed the compact layout's 32-bit lanes (at most {MAX_K}): use the fast layout",
            layer.k
        ));
    }
    let rows = row_src.len();
    let direct = rows == 1 && matches!(src, Loc::Words(_)) && row_src[0].iter().enumerate().all(|(k, s)| *s == Some(k));
    let xs = if direct { src.addr() } else { cx.alloc(32 * layer.k) };
    let fill = fill_rows_yul(cx, layer, src, xs, row_src, direct)?;
    let st = &mut cx.data;
    let base = st.blob.len();
    st.blob.extend(layer_blob(layer));
    let fname = format!("dot{}", st.fns);
    let ename = format!("epi{}", st.fns);
    st.fns += 1;
    let inline = st.inline;
    let words = layer.k.div_ceil(PER_WORD);
    let group_bytes = words * 32;
    let groups = layer.n.div_ceil(LANES);
    // external data: one copy of the whole layer before the rows when there are several rows,
    // else one copy per group (a small buffer)
    let whole = !inline && rows > 1;
    let buf = if inline {
        0
    } else {
        let size = st.buf_size;
        match st.buf {
            Some(b) => b,
            None => {
                let b = cx.alloc(size);
                cx.data.buf = Some(b);
                b
            }
        }
    };
    let words_out = matches!(y, Loc::Words(_));
    let es = if words_out { 32 } else { 1 };
    let zpb = layer.input_zero_point as i128 + 128;
    let mut body = String::new();
    let _ = writeln!(body, "{fill}");
    let _ = writeln!(body, "{}", sum_yul(xs, layer.k));
    for g in 0..groups {
        let off = base + g * group_bytes;
        let p = if inline {
            format!("add(wb, {off})")
        } else if whole {
            (buf + g * group_bytes).to_string()
        } else {
            let _ = write!(body, "{}", copy_yul(off, group_bytes, &buf.to_string()));
            buf.to_string()
        };
        let _ = writeln!(body, "{{\n    let acc := {}", if words == 0 { "0".to_string() } else { format!("{fname}({p})") });
        let outs = g * LANES..((g + 1) * LANES).min(layer.n);
        for (l, n) in outs.enumerate() {
            let sw: i128 = layer.weights[n * layer.k..(n + 1) * layer.k].iter().map(|&w| w as i128).sum();
            let c = layer.bias[n] as i128 - zpb * sw - plan.acc[n].0 as i128;
            let addr = format!("add(dst, {})", es * n * out_stride);
            let store = |v: &str| if words_out { format!("mstore({addr}, {v})") } else { format!("mstore8({addr}, xor({v}, 0x80))") };
            match layer.epilogue_params(&plan, n) {
                // the shared epilogue function: ~45 code bytes per output instead of ~80
                Some((mul, nk, z, s)) => {
                    let _ =
                        writeln!(body, "    {}", store(&format!("{ename}(acc, {}, {}, s7, {mul}, {}, {z}, {s})", 32 * l, lit(c), lit(nk))));
                }
                None => {
                    let lane = match l {
                        0 => "and(acc, 0xffffffff)".to_string(),
                        7 => "shr(224, acc)".to_string(),
                        _ => format!("and(shr({}, acc), 0xffffffff)", 32 * l),
                    };
                    let u = format!("sub({}, s7)", add_const(&lane, c));
                    let _ = writeln!(body, "    {{\n{}\n        {}\n    }}", indent(&layer.epilogue_yul(&plan, n, &u), 8), store("v"));
                }
            }
        }
        let _ = writeln!(body, "}}");
    }
    let (cmin, cmax) = (layer.epilogue.clamp_min as i128 + 128, layer.epilogue.clamp_max as i128 + 128);
    let epi = format!(
        "function {ename}(acc, sh, c, s7, mul_, nk, z, s) -> v {{\n    let t := mul(sub(add(and(shr(sh, acc), 0xffffffff), c), s7), mul_)\n    v := sar(s, sub(sub(t, nk), shl(31, lt(t, z))))\n    if gt({}, {}) {{ v := {} }}\n}}",
        add_const("v", -cmin),
        cmax - cmin,
        add_const(&format!("mul(sgt(v, {cmin}), {})", cmax - cmin), cmin)
    );
    let mut pre = format!("{{\n{}\n{}", indent(&dot_fn(&fname, layer.k, xs), 4), indent(&epi, 4));
    if whole {
        pre.push('\n');
        pre.push_str(&indent(&copy_yul(base, groups * group_bytes, &buf.to_string()), 4));
    }
    cx.line(&pre);
    emit_rows(cx, layer.n, y, row_dst, &body);
    cx.line("}");
    Ok(set_out_range(cx, layer, &plan, yt))
}

/// Solidity pieces of the model contract for the compact blob.
pub(super) struct ContractBits {
    /// Contract-level declarations (constant, immutables).
    pub fields: String,
    /// Constructor statements.
    pub deploys: String,
    /// Helper functions of the contract.
    pub helpers: String,
    /// `_forward` statements before its assembly block.
    pub forward_pre: String,
    /// Yul at the top of `_forward`'s assembly block.
    pub forward_yul: String,
    /// Expressions of the data contract addresses (for `parts()`).
    pub addresses: Vec<String>,
    /// Memory slots of the data contract addresses: placeholder (`__DATA_i__`, `__TDATA_i__`)
    /// and slot.
    pub slots: Vec<(String, usize)>,
    /// The data contracts' bytes (empty when the weights are a constant of the model).
    pub chunks: Vec<Vec<u8>>,
}

/// The init code of a data contract holding `data` (runtime: `0x00 ++ data`): `PUSH2 n DUP1
/// PUSH1 10 PUSH0 CODECOPY PUSH0 RETURN`, then the runtime.
pub fn data_initcode(data: &[u8]) -> Vec<u8> {
    let n = data.len() + 1;
    assert!(n <= 0xffff);
    let mut c = vec![0x61, (n >> 8) as u8, n as u8, 0x80, 0x60, 0x0a, 0x5f, 0x39, 0x5f, 0xf3, 0x00];
    c.extend_from_slice(data);
    c
}

pub(super) fn contract_bits(cx: &mut Ctx<'_>) -> ContractBits {
    let mut b = ContractBits {
        fields: String::new(),
        deploys: String::new(),
        helpers: String::new(),
        forward_pre: String::new(),
        forward_yul: String::new(),
        addresses: vec![],
        slots: vec![],
        chunks: vec![],
    };
    let st = &cx.data;
    if st.inline && !st.blob.is_empty() {
        let wide = if cx.m.nodes.iter().any(|n| matches!(n.op, Op::DenseWide(_))) {
            " and DenseWide weights (4 outputs per word: × 8 inputs as `w + 128`, or × 4 as `w + 32768`)"
        } else {
            ""
        };
        let _ = writeln!(
            b.fields,
            "    /// Dense/Conv weights (compact layout: `w + 128`, 8 outputs × 4 inputs per word){wide}.\n    bytes private constant WEIGHTS = hex\"{}\";",
            hex(&st.blob)
        );
        b.forward_pre = "        bytes memory wts = WEIGHTS;\n".into();
        b.forward_yul = "let wb := add(wts, 32)\n".into();
    }
    // data contracts: the weights' chunks (unless inline), then the tables'
    let weights: &[u8] = if st.inline { &[] } else { &st.blob };
    let chunks: Vec<Vec<u8>> = weights.chunks(DATA_MAX).chain(st.tables.chunks(DATA_MAX)).map(|c| c.to_vec()).collect();
    if chunks.is_empty() {
        return b;
    }
    let weight_chunks = weights.len().div_ceil(DATA_MAX);
    let base = cx.alloc(32 * chunks.len());
    for (i, c) in chunks.iter().enumerate() {
        let _ = writeln!(b.fields, "    address private immutable data{i};");
        let _ = writeln!(b.deploys, "        data{i} = _data(hex\"{}\");", hex(&data_initcode(c)));
        let _ = writeln!(b.forward_pre, "        {{ address d = data{i}; assembly {{ mstore({}, d) }} }}", base + 32 * i);
        b.addresses.push(format!("data{i}"));
        let placeholder = if i < weight_chunks { format!("{DATA}{i}__") } else { format!("{TDATA}{}__", i - weight_chunks) };
        b.slots.push((placeholder, base + 32 * i));
    }
    b.chunks = chunks;
    b.helpers = "    /// Create a data contract (weights, tables) from its init code.\n    function _data(bytes memory initcode) private returns (address a) {\n        assembly {\n            a := create(0, add(initcode, 32), mload(initcode))\n        }\n        if (a == address(0)) revert DataDeployFailed();\n    }\n".into();
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use solidml_spec::{Epilogue, arith::Multiplier};

    #[test]
    fn blob_lanes_hold_biased_weights() {
        // 9 outputs × 5 inputs: 2 groups × 2 words
        let w: Vec<i8> = (0..45).map(|i| (i * 7 - 100) as i8).collect();
        let bias = vec![0; 9];
        let e = Epilogue { multipliers: vec![Multiplier::from_real(0.01)], output_zero_point: 0, clamp_min: -128, clamp_max: 127 };
        let l = Layer { k: 5, n: 9, weights: &w, bias: &bias, input_zero_point: 0, epilogue: &e, channel_offset: 0, x_range: (-128, 127) };
        let b = layer_blob(&l);
        assert_eq!(b.len(), 2 * 2 * 32);
        // group 0, word 1, lane 3, byte 0: w[3, 4]
        assert_eq!(b[32 + 31 - 12], (w[3 * 5 + 4] as i16 + 128) as u8);
        // padding (k = 5..8, n = 9..16) is zero
        assert_eq!(b[32 + 31 - 13], 0);
        assert!(b[64..].chunks(32).all(|wd| wd[..28].iter().all(|&x| x == 0)));
        assert_eq!(b[64 + 31], (w[8 * 5] as i16 + 128) as u8);
        assert_eq!(MAX_K, 66_051);
        assert!(MAX_K as u64 * 255 * 255 <= u32::MAX as u64 && (MAX_K as u64 + 1) * 255 * 255 > u32::MAX as u64);
    }

    fn dense_model(k: u32, n: u32) -> Model {
        use solidml_spec::{Dense, Quant};
        let q = Quant { scale: 0.1, zero_point: 0 };
        let dense = Dense {
            in_features: k,
            out_features: n,
            input_zero_point: 0,
            weights: (0..k * n).map(|i| (i % 255) as i8).collect(),
            bias: vec![0; n as usize],
            epilogue: Epilogue { multipliers: vec![Multiplier::from_real(0.001)], output_zero_point: 0, clamp_min: -128, clamp_max: 127 },
        };
        Model::single_dense("d", 1, dense, q, q)
    }

    #[test]
    fn weights_go_in_the_contract_or_in_data_contracts() {
        use crate::{SolidityLayout, SolidityOptions, emit_with};
        let m = dense_model(10, 9);
        let main = |files: &[(String, String)]| files.iter().find(|(p, _)| p == "d.sol").unwrap().1.clone();
        // small: a constant of the contract, 2 groups × 3 words
        let f = emit_with(&m, &[0; 32], &SolidityOptions::with_layout(SolidityLayout::Compact)).unwrap();
        let sol = main(&f);
        assert_eq!(f.len(), 1);
        assert!(sol.contains(&format!("WEIGHTS = hex\"{}\"", hex(&layer_blob_of(&m)))), "{sol}");
        assert!(sol.contains("function dot0(p) -> acc") && !sol.contains("extcodecopy"), "{sol}");
        // forced out: one data contract, read with EXTCODECOPY
        let f =
            emit_with(&m, &[0; 32], &SolidityOptions { layout: SolidityLayout::Compact, force_data_contracts: true, ..Default::default() })
                .unwrap();
        let sol = main(&f);
        assert!(sol.contains("data0 = _data(hex\"61") && sol.contains("extcodecopy(mload(") && !sol.contains("data1"), "{sol}");
        // the fast layout is unchanged by the option
        assert_eq!(emit_with(&m, &[0; 32], &SolidityOptions::default()).unwrap(), crate::emit(&m, &[0; 32]).unwrap());
        // large: the blob is split into data contracts of at most DATA_MAX bytes, too much init
        // code for one transaction: deployed first (`d_D0.sol`…), their addresses to the
        // constructor, checked by code hash
        let big = dense_model(256, 256);
        let e = crate::emit_model(&big, &[0; 32], &SolidityOptions::with_layout(SolidityLayout::Compact)).unwrap();
        assert_eq!(e.split_parts, ["d_D0", "d_D1", "d_D2"], "65,536 bytes in 3 data contracts");
        let sol = main(&e.files);
        assert!(
            sol.contains("data2 = _dataAt(parts_, 2, 0x")
                && !sol.contains("data3 =")
                && sol.contains("constructor(address[] memory parts_)"),
            "{sol}"
        );
        assert!(e.files.iter().any(|(p, t)| p == "dDeploy.sol" && t.contains("p[2] = address(new d_D2());")));
        // K beyond the 32-bit lanes' bound is refused
        let err =
            emit_with(&dense_model(MAX_K as u32 + 1, 1), &[0; 32], &SolidityOptions::with_layout(SolidityLayout::Compact)).unwrap_err();
        assert!(err.to_string().contains("32-bit lanes"), "{err}");
    }

    fn layer_blob_of(m: &Model) -> Vec<u8> {
        let Op::Dense(d) = &m.nodes[0].op else { unreachable!() };
        let l = Layer {
            k: d.in_features as usize,
            n: d.out_features as usize,
            weights: &d.weights,
            bias: &d.bias,
            input_zero_point: 0,
            epilogue: &d.epilogue,
            channel_offset: 0,
            x_range: (-128, 127),
        };
        layer_blob(&l)
    }

    #[test]
    fn dot_fn_unrolls_small_layers_and_loops_over_large_ones() {
        let small = dot_fn("d", 6, 0x100);
        // 2 words, the second with 2 terms, inputs at constant addresses
        assert!(
            small.contains("mload(add(p, 32))")
                && small.contains(&format!("mload({})", 0x100 + 32 * 5))
                && !small.contains(&format!("mload({})", 0x100 + 32 * 6))
                && !small.contains("for"),
            "{small}"
        );
        let large = dot_fn("d", UNROLL_MAX_K + 5, 0x100);
        assert!(large.contains("for {") && large.contains("mload(add(xp, 32))"), "{large}");
    }

    #[test]
    fn data_initcode_returns_the_runtime() {
        let c = data_initcode(&[1, 2, 3]);
        assert_eq!(&c[..3], &[0x61, 0, 4]);
        assert_eq!(c.len(), 10 + 4);
        assert_eq!(&c[10..], &[0, 1, 2, 3]);
    }
}
