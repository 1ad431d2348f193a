//! The memory plan: shapes are static, so every tensor gets a fixed region of memory at
//! compile time ([`Loc`]: int8 codes as bytes, biased int8 words for one-row Dense inputs, i64
//! words, int16/int32 codes as signed words), and index ops become gathers through
//! compile-time index tables ([`Ctx::gather`]).
//! [`Ctx`] carries the plan, the code emitted so far and the part contracts.

use std::fmt::Write;

use solidml_spec::{DType, Model, Op, TensorId};

use crate::{compact, layer::*, yul::*};

/// Largest table (bytes) [`Ctx::table`] writes as code; longer ones go to data contracts.
pub(crate) const TABLE_CODE_MAX: usize = 2048;

/// Where a tensor lives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Loc {
    /// int8 codes, one byte each.
    Bytes(usize),
    /// Biased int8 values `x + 128`, one 32-byte word each.
    Words(usize),
    /// i64 values as signed 32-byte words.
    I64(usize),
    /// int16 or int32 codes (the wide precisions) as signed 32-byte words. Only DenseWide and
    /// the IO code read or write them (validation: no other op takes these types).
    Wide(usize),
}

impl Loc {
    pub(crate) fn addr(self) -> usize {
        match self {
            Loc::Bytes(a) | Loc::Words(a) | Loc::I64(a) | Loc::Wide(a) => a,
        }
    }
}

pub(crate) struct Ctx<'a> {
    pub(crate) m: &'a Model,
    pub(crate) next: usize,
    pub(crate) loc: Vec<Option<Loc>>,
    /// Raw value range of int8 tensors (and of int16/int32 ones: their type's range, or what
    /// the DenseWide writing them can produce).
    pub(crate) range: Vec<(i32, i32)>,
    pub(crate) code: String,
    /// Where each node's code (and, first, the constants') ends in `code`: the places the
    /// forward pass may be cut into stage contracts.
    pub(crate) node_ends: Vec<usize>,
    /// Part contracts: (name, Yul body, output length in bytes).
    pub(crate) parts: Vec<(String, String)>,
    pub(crate) main_budget: usize,
    pub(crate) name: String,
    /// The compact layout (Dense/Conv weights as data, not code).
    pub(crate) compact: bool,
    /// The data read at run time (the compact layout's weights, large tables) and where it lives.
    pub(crate) data: compact::State,
    /// Estimated code bytes of each part contract.
    pub(crate) part_bytes: Vec<usize>,
    pub(crate) force_split: bool,
    pub(crate) force_stages: bool,
    /// Solidity added to the contract's body (the step contracts' shell).
    pub(crate) extra: String,
    /// Nodes (by index) already emitted as part of an earlier node (a MaxPool fused into the
    /// Conv before it): they emit nothing.
    pub(crate) fused: Vec<bool>,
}

impl Ctx<'_> {
    pub(crate) fn alloc(&mut self, bytes: usize) -> usize {
        let a = self.next;
        self.next += bytes.div_ceil(32) * 32 + 32;
        a
    }

    pub(crate) fn consumers(&self, t: TensorId) -> Vec<&solidml_spec::Node> {
        self.m.nodes.iter().filter(|n| n.inputs.contains(&t)).collect()
    }

    /// Words form for int8 tensors read only by one-row Dense layers (and not model outputs).
    pub(crate) fn wants_words(&self, t: TensorId) -> bool {
        let c = self.consumers(t);
        let producer_ok = self.m.inputs.contains(&t)
            || self.m.nodes.iter().any(|n| {
                n.outputs.contains(&t)
                    && matches!(n.op, Op::Dense(_) | Op::DenseWide(_) | Op::Conv(_) | Op::View(_) | Op::Pad(_) | Op::Gather { .. })
            });
        producer_ok
            && !c.is_empty()
            && !self.m.outputs.contains(&t)
            && c.iter().all(|n| matches!(&n.op, Op::Dense(d) if self.m.tensor(t).len() == d.in_features as usize))
    }

    pub(crate) fn place_output(&mut self, t: TensorId) -> Loc {
        let info = self.m.tensor(t);
        let l = match info.dtype {
            DType::I64 => Loc::I64(self.alloc(32 * info.len())),
            DType::I8 if self.wants_words(t) => Loc::Words(self.alloc(32 * info.len())),
            DType::I8 => Loc::Bytes(self.alloc(info.len())),
            DType::I16 | DType::I32 => {
                let (lo, hi) = info.dtype.code_range().expect("a quantized type");
                self.range[t as usize] = (lo as i32, hi as i32);
                Loc::Wide(self.alloc(32 * info.len()))
            }
        };
        self.loc[t as usize] = Some(l);
        l
    }

    pub(crate) fn at(&self, t: TensorId) -> Loc {
        self.loc[t as usize].expect("tensors are placed before use")
    }

    pub(crate) fn line(&mut self, s: &str) {
        for l in s.lines() {
            let _ = writeln!(self.code, "            {l}");
        }
    }

    /// `values` as signed 32-byte words in freshly allocated memory, stored with MSTOREs (zero
    /// words skipped: fresh memory); the table's address.
    pub(crate) fn i64_table(&mut self, values: &[i64]) -> usize {
        let t = self.alloc(32 * values.len());
        for (i, &v) in values.iter().enumerate() {
            if v != 0 {
                self.line(&format!("mstore({}, {})", t + 32 * i, add_const("0", v as i128)));
            }
        }
        t
    }

    /// Copy `bytes` into memory at `addr` with PUSH32 stores (zero words skipped: fresh memory),
    /// or, past [`TABLE_CODE_MAX`] bytes, with EXTCODECOPY from the tables' data contracts (code
    /// is ~1.2 bytes per table byte, and EIP-170 allows 24,576).
    pub(crate) fn table(&mut self, addr: usize, bytes: &[u8]) {
        if bytes.len() > TABLE_CODE_MAX {
            let copy = compact::table_copy_yul(self, bytes, addr);
            self.line(&copy);
            return;
        }
        for (i, c) in bytes.chunks(32).enumerate() {
            if c.iter().all(|&b| b == 0) {
                continue;
            }
            let mut w = c.to_vec();
            w.resize(32, 0);
            let h = hex(&w);
            let t = h.trim_start_matches('0');
            self.line(&format!("mstore({}, 0x{})", addr + 32 * i, if t.is_empty() { "0" } else { t }));
        }
    }

    /// A gather `dst[i] = src[idx[i]]` (or `fill` where `idx[i]` is `None`) between tensors of
    /// the same kind (bytes or i64 words), through a compile-time index table.
    pub(crate) fn gather(&mut self, src: Loc, dst: Loc, idx: &[Option<usize>], fill: i64) {
        let n = idx.len();
        if n == 0 {
            return;
        }
        let words = matches!(src, Loc::I64(_));
        let (s, d) = (src.addr(), dst.addr());
        if n <= 48 {
            // stores through an opaque base `z` (= 0): with constant addresses solc forwards the
            // stored values to later constant loads and keeps them all live (stack too deep)
            self.line("{\n    let z := shr(255, gas())");
            for (i, j) in idx.iter().enumerate() {
                let line = match (words, j) {
                    (false, Some(j)) => format!("mstore8(add(z, {}), byte(0, mload({})))", d + i, s + j),
                    (false, None) => format!("mstore8(add(z, {}), {})", d + i, fill as u8),
                    (true, Some(j)) => format!("mstore(add(z, {}), mload({}))", d + 32 * i, s + 32 * j),
                    (true, None) => format!("mstore(add(z, {}), {})", d + 32 * i, add_const("0", fill as i128)),
                };
                self.line(&format!("    {line}"));
            }
            self.line("}");
            return;
        }
        let wide = idx.iter().flatten().any(|&j| j >= 0xffff);
        let (eb, none) = if wide { (4usize, 0xffff_ffffu64) } else { (2, 0xffff) };
        let bytes: Vec<u8> = idx.iter().flat_map(|j| (j.map_or(none, |j| j as u64)).to_be_bytes()[8 - eb..].to_vec()).collect();
        let t = self.alloc(bytes.len());
        self.table(t, &bytes);
        let (ld, st) = if words {
            (format!("mload(add({s}, shl(5, j)))"), format!("mstore(add({d}, shl(5, i)), v)"))
        } else {
            (format!("byte(0, mload(add({s}, j)))"), format!("mstore8(add({d}, i), v)"))
        };
        let fillv = if words { add_const("0", fill as i128) } else { (fill as u8).to_string() };
        self.line(&format!(
            "for {{ let i := 0 }} lt(i, {n}) {{ i := add(i, 1) }} {{\n    let j := shr({}, mload(add({t}, mul(i, {eb}))))\n    let v := {fillv}\n    if lt(j, {none}) {{ v := {ld} }}\n    {st}\n}}",
            256 - 8 * eb
        ));
    }
}

/// A gather from `x` to `y` for index ops (int8 bytes or i64 words).
pub(crate) fn copy_gather(cx: &mut Ctx<'_>, x: TensorId, y: TensorId, idx: &[Option<usize>], fill: i64) -> Result<(), String> {
    let src = cx.at(x);
    let dst = cx.place_output(y);
    if matches!(dst, Loc::Words(_)) {
        // stores through the opaque base `z` (see `Ctx::gather`)
        cx.line("{\nlet z := shr(255, gas())");
    }
    let r = copy_gather_inner(cx, src, dst, idx, fill);
    if matches!(dst, Loc::Words(_)) {
        cx.line("}");
    }
    r
}

pub(crate) fn copy_gather_inner(cx: &mut Ctx<'_>, src: Loc, dst: Loc, idx: &[Option<usize>], fill: i64) -> Result<(), String> {
    match (src, dst) {
        (Loc::Bytes(_), Loc::Bytes(_)) | (Loc::I64(_), Loc::I64(_)) => {
            cx.gather(src, dst, idx, if matches!(src, Loc::Bytes(_)) { fill as i8 as i64 } else { fill });
            Ok(())
        }
        (Loc::Bytes(s), Loc::Words(d)) => {
            for (i, j) in idx.iter().enumerate() {
                let v = match j {
                    Some(j) => format!("xor(byte(0, mload({})), 0x80)", s + j),
                    None => ((fill as i8 as i32) + 128).to_string(),
                };
                cx.line(&format!("mstore(add(z, {}), {v})", d + 32 * i));
            }
            Ok(())
        }
        (Loc::Words(s), Loc::Words(d)) => {
            for (i, j) in idx.iter().enumerate() {
                let v = match j {
                    Some(j) => format!("mload({})", s + 32 * j),
                    None => ((fill as i8 as i32) + 128).to_string(),
                };
                cx.line(&format!("mstore(add(z, {}), {v})", d + 32 * i));
            }
            Ok(())
        }
        (Loc::Words(s), Loc::Bytes(d)) => {
            for (i, j) in idx.iter().enumerate() {
                let v = match j {
                    Some(j) => format!("xor(mload({}), 0x80)", s + 32 * j),
                    None => (fill as u8).to_string(),
                };
                cx.line(&format!("mstore8({}, {v})", d + i));
            }
            Ok(())
        }
        _ => Err("internal: mismatched tensor kinds".into()),
    }
}
