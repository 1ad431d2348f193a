//! Solidity emitter of the pure-EVM backend: a quantized model becomes `NAME.sol`, one
//! contract with `predictQ(bytes)` (raw int8 in, packed outputs out) and `predict(int256[])`
//! (18-decimal fixed point in and out), bit-exact with the CPU reference.
//!
//! **Shape of the code.** Shapes are static, so the emitter plans memory at compile time:
//! every tensor gets a fixed region of memory and the whole forward pass is one inline-Yul
//! block over constant addresses (`mload(0x1a0)`), one commented section per ONNX node. No
//! Solidity arrays, no bounds checks that the plan already proves, no external calls unless the
//! code does not fit one contract.
//!
//! **Values.** int8 tensors live as bytes (their codes), or — when every consumer is a
//! one-row Dense — as 32-byte words holding the *biased* value `x + 128` (see [`dense`]); i64
//! tensors as 32-byte signed words.
//!
//! **Dense and Conv** ([`dense`]): weights compiled into the code as PUSH32 constants spread
//! into lanes, one MUL per `⌊256/W⌋` MACs, the epilogue specialised per channel. Conv is a
//! Dense over an im2col gather (a compile-time index table), per group. Layers whose code does
//! not fit EIP-170's 24,576 bytes go, by groups of output lanes, into part contracts the
//! constructor deploys and `_forward` calls with the input words as calldata.
//!
//! **Deployment.** `new NAME()` deploys the model with its part (and, in the compact layout,
//! data) contracts in one transaction while the init code stays under EIP-3860's 49,152 bytes
//! (estimated; every example model). Beyond, the model deploys split ([`Emitted`]): the parts
//! first, one transaction each, then `NAME` with their addresses (`constructor(address[])`),
//! which checks each one (a part answers empty calldata with its tag, a data contract is known
//! by its code hash) and reverts with `WrongPart(index, address)` otherwise;
//! `NAMEDeploy.deploy()` (generated) runs the sequence, one transaction per `new` in a forge
//! script.
//!
//! **Index ops** (View, Pad, Gather, Concat, and the windows of MaxPool/AvgPool) are gathers
//! through index tables computed here with the CPU reference's own index functions.
//!
//! Supported ops: Dense, Conv (groups, depthwise), Lut, Softmax, ArgMax, Take, View (any
//! strides), Pad, Gather, Concat, MaxPool, AvgPool, Reduce, Binary (Add/Sub/Mul, broadcast),
//! Extremum, Normalize (L1, L2). Others fail with an error naming the node.

pub mod compact;
pub mod dense;
pub mod gas;
pub mod precompile_contract;
pub mod solc;

use std::fmt::Write;

use solidml_spec::{BinaryKind, DType, Extremum, Model, NormKind, Op, ReduceKind, TensorId, arith::Multiplier, artifact::keccak256, io};

use dense::{Layer, add_const, indent};

/// Where weights live in the generated code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SolidityLayout {
    /// Weights compiled into the code as lane-spread PUSH32 constants: the least gas per
    /// inference (~1.5 gas per MAC). Default: a model is deployed once and run many times.
    #[default]
    Fast,
    /// Dense/Conv weights as raw bytes (one per weight) read at run time, in the contract's
    /// code or in data contracts: 3–4× less deployment gas, ~3× the gas per MAC (see
    /// [`compact`]).
    Compact,
}

/// Options of the Solidity emitter.
#[derive(Debug, Clone, Default)]
pub struct SolidityOptions {
    pub layout: SolidityLayout,
    /// Compact layout: keep the weights in data contracts even when they fit the model
    /// contract (tests of that path; the default places them by size).
    pub force_data_contracts: bool,
    /// Deploy in several transactions even when one would do (tests of that path; by default
    /// a model splits only when `new NAME()`'s init code would pass EIP-3860's limit).
    pub force_split_deployment: bool,
}

impl SolidityOptions {
    /// Options with `layout`, otherwise the defaults.
    pub fn with_layout(layout: SolidityLayout) -> Self {
        SolidityOptions { layout, ..Default::default() }
    }
}

/// Everything the Solidity backend can report.
#[derive(Debug, thiserror::Error)]
pub enum SolidityError {
    /// The backend has no kernel for this node's operator (see [`ops::REFUSED`]).
    #[error("node `{node}` ({op}): not supported by the Solidity backend yet")]
    Unsupported {
        /// The node's name.
        node: String,
        /// The spec operator.
        op: &'static str,
    },
    /// The operator is supported, but not this instance of it (a size, a range).
    #[error("node `{node}` ({op}): {reason}")]
    Node {
        /// The node's name.
        node: String,
        /// The spec operator.
        op: &'static str,
        /// What is out of reach.
        reason: String,
    },
    /// The model as a whole cannot be emitted (constants, too many parts, an IO scale).
    #[error("{0}")]
    Model(String),
    /// No solc executable.
    #[error("no solc found: set SOLC or FOUNDRY_BIN, or run scripts/foundry-env.sh")]
    SolcNotFound,
    /// solc could not be run.
    #[error("running {path}: {reason}")]
    SolcRun {
        /// The solc executable.
        path: String,
        /// What failed.
        reason: String,
    },
    /// solc reported compile errors.
    #[error("solc reported errors:\n{0}")]
    SolcCompile(String),
    /// A contract missing from solc's output.
    #[error("contract `{0}` is not in solc's output")]
    MissingContract(String),
    /// A gas measurement failed (a deployment or a call reverted, outputs differ).
    #[error("{0}")]
    Measure(String),
    /// A file could not be written.
    #[error("cannot write `{path}`: {reason}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        reason: String,
    },
}

/// Why one node could not be emitted (turned into a [`SolidityError`] naming the node).
#[derive(Debug)]
enum NodeFailure {
    /// No kernel for the operator.
    Unsupported,
    /// A reason particular to this node.
    Reason(String),
}

impl From<String> for NodeFailure {
    fn from(reason: String) -> Self {
        NodeFailure::Reason(reason)
    }
}

impl From<&str> for NodeFailure {
    fn from(reason: &str) -> Self {
        NodeFailure::Reason(reason.into())
    }
}

/// Files of an emitted model: `(relative path, contents)`.
pub type Files = Vec<(String, String)>;

/// An emitted model: its files and how it deploys.
#[derive(Debug, Clone)]
pub struct Emitted {
    pub files: Files,
    /// The model contract's name.
    pub contract: String,
    /// Empty: `new NAME()` deploys the model and its part and data contracts in one
    /// transaction. Otherwise the contracts to deploy first, in order, each in a transaction of
    /// its own (EIP-3860 caps init code at 49,152 bytes, and the constructor's `new` would put
    /// all their code into one); `NAME`'s constructor then takes their addresses
    /// (`constructor(address[] parts)`) and checks each one, and `NAMEDeploy.deploy()` does
    /// the whole sequence (from a forge script: one transaction per `new`).
    pub split_parts: Vec<String>,
}

/// Init code bytes above which a model deploys in several transactions (EIP-3860: 49,152;
/// the emitter's code size estimates leave the margin).
const SPLIT_INITCODE: usize = 40_000;

/// Max code bytes of one contract (EIP-170).
const MAX_CODE: usize = 24_576;
/// Budget for straight-line layer code in the main contract (the rest: IO, other ops).
const MAIN_LAYER_BUDGET: usize = 17_000;
/// Budget for one part contract.
const PART_BUDGET: usize = 22_500;

/// The Solidity contract name `solidml compile` gives a model (its name, made an identifier).
pub fn contract_name(model_name: &str) -> String {
    ident(model_name)
}

fn ident(name: &str) -> String {
    let mut s: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    if s.chars().next().is_none_or(|c| c.is_ascii_digit()) {
        s.insert(0, 'M');
    }
    s
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Row-major strides of a shape, as a View's strides.
pub fn row_major(shape: &[u32]) -> Vec<i64> {
    let mut s = vec![1i64; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1] as i64;
    }
    s
}

fn selector(sig: &str) -> String {
    format!("0x{}", hex(&keccak256(sig.as_bytes())[..4]))
}

/// Where a tensor lives.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Loc {
    /// int8 codes, one byte each.
    Bytes(usize),
    /// Biased int8 values `x + 128`, one 32-byte word each.
    Words(usize),
    /// i64 values as signed 32-byte words.
    I64(usize),
}

impl Loc {
    fn addr(self) -> usize {
        match self {
            Loc::Bytes(a) | Loc::Words(a) | Loc::I64(a) => a,
        }
    }
}

struct Ctx<'a> {
    m: &'a Model,
    next: usize,
    loc: Vec<Option<Loc>>,
    /// Raw value range of int8 tensors.
    range: Vec<(i32, i32)>,
    code: String,
    /// Part contracts: (name, Yul body, output length in bytes).
    parts: Vec<(String, String)>,
    main_budget: usize,
    name: String,
    /// The compact layout's state (None: the fast layout).
    compact: Option<compact::State>,
    /// Estimated code bytes of each part contract.
    part_bytes: Vec<usize>,
    force_split: bool,
}

impl Ctx<'_> {
    fn alloc(&mut self, bytes: usize) -> usize {
        let a = self.next;
        self.next += bytes.div_ceil(32) * 32 + 32;
        a
    }

    fn consumers(&self, t: TensorId) -> Vec<&solidml_spec::Node> {
        self.m.nodes.iter().filter(|n| n.inputs.contains(&t)).collect()
    }

    /// Words form for int8 tensors read only by one-row Dense layers (and not model outputs).
    fn wants_words(&self, t: TensorId) -> bool {
        let c = self.consumers(t);
        let producer_ok = self.m.inputs.contains(&t)
            || self.m.nodes.iter().any(|n| {
                n.outputs.contains(&t) && matches!(n.op, Op::Dense(_) | Op::Conv(_) | Op::View(_) | Op::Pad(_) | Op::Gather { .. })
            });
        producer_ok
            && !c.is_empty()
            && !self.m.outputs.contains(&t)
            && c.iter().all(|n| match &n.op {
                Op::Dense(d) => self.m.tensor(t).len() == d.in_features as usize,
                _ => false,
            })
    }

    fn place_output(&mut self, t: TensorId) -> Loc {
        let info = self.m.tensor(t);
        let l = match info.dtype {
            DType::I64 => Loc::I64(self.alloc(32 * info.len())),
            DType::I8 if self.wants_words(t) => Loc::Words(self.alloc(32 * info.len())),
            DType::I8 => Loc::Bytes(self.alloc(info.len())),
        };
        self.loc[t as usize] = Some(l);
        l
    }

    fn at(&self, t: TensorId) -> Loc {
        self.loc[t as usize].expect("tensors are placed before use")
    }

    fn line(&mut self, s: &str) {
        for l in s.lines() {
            let _ = writeln!(self.code, "            {l}");
        }
    }

    /// Copy `bytes` into memory at `addr` with PUSH32 stores (zero words skipped: fresh memory).
    fn table(&mut self, addr: usize, bytes: &[u8]) {
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
    fn gather(&mut self, src: Loc, dst: Loc, idx: &[Option<usize>], fill: i64) {
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

/// Emit `NAME.sol` (and part contracts where needed) for a model, or say which node cannot be.
pub fn emit(model: &Model, model_id: &[u8; 32]) -> Result<Files, SolidityError> {
    emit_with(model, model_id, &SolidityOptions::default())
}

/// [`emit`] with options.
pub fn emit_with(model: &Model, model_id: &[u8; 32], opts: &SolidityOptions) -> Result<Files, SolidityError> {
    emit_model(model, model_id, opts).map(|e| e.files)
}

/// [`emit_with`], also saying how the model deploys ([`Emitted`]).
pub fn emit_model(model: &Model, model_id: &[u8; 32], opts: &SolidityOptions) -> Result<Emitted, SolidityError> {
    let name = ident(&model.name);
    let mut cx = Ctx {
        m: model,
        next: 0x80,
        loc: vec![None; model.tensors.len()],
        range: vec![(-128, 127); model.tensors.len()],
        code: String::new(),
        parts: vec![],
        main_budget: MAIN_LAYER_BUDGET,
        name: name.clone(),
        compact: (opts.layout == SolidityLayout::Compact).then(|| compact::State::new(model, opts.force_data_contracts)),
        part_bytes: vec![],
        force_split: opts.force_split_deployment,
    };
    if !model.constants.is_empty() {
        return Err(SolidityError::Model("the Solidity backend does not support models with constant tensors yet".into()));
    }
    // inputs
    let mut in_len = 0usize;
    let mut inputs = vec![];
    for &t in &model.inputs {
        let info = model.tensor(t);
        let l = cx.place_output(t);
        let w = if info.dtype == DType::I64 { 8 } else { 1 };
        inputs.push((t, l, in_len, info.len()));
        in_len += w * info.len();
    }
    for n in &model.nodes {
        cx.line(&format!("// {} ({})", n.name, n.op.kind()));
        emit_node(&mut cx, n).map_err(|e| match e {
            NodeFailure::Unsupported => SolidityError::Unsupported { node: n.name.clone(), op: n.op.kind() },
            NodeFailure::Reason(reason) => SolidityError::Node { node: n.name.clone(), op: n.op.kind(), reason },
        })?;
    }
    emit_contract(&mut cx, model_id, &inputs, in_len).map_err(SolidityError::Model)
}

fn emit_node(cx: &mut Ctx, n: &solidml_spec::Node) -> Result<(), NodeFailure> {
    let m = cx.m;
    let x = n.inputs.first().copied().unwrap_or(0);
    let xin = m.tensor(x);
    let yt = n.outputs[0];
    let yinfo = m.tensor(yt);
    match &n.op {
        Op::Dense(d) => {
            let layer = Layer {
                k: d.in_features as usize,
                n: d.out_features as usize,
                weights: &d.weights,
                bias: &d.bias,
                input_zero_point: d.input_zero_point,
                epilogue: &d.epilogue,
                channel_offset: 0,
                x_range: cx.range[x as usize],
            };
            let rows = xin.len() / layer.k.max(1);
            let y = cx.place_output(yt);
            let src = cx.at(x);
            let row_src: Vec<Vec<Option<usize>>> = (0..rows).map(|r| (0..layer.k).map(|k| Some(r * layer.k + k)).collect()).collect();
            let row_dst: Vec<usize> = (0..rows).map(|r| r * layer.n).collect();
            emit_layer(cx, &layer, src, y, &row_src, &row_dst, 1, yt)?;
        }
        Op::Conv(c) => {
            if xin.dtype != DType::I8 {
                return Err("int8 input expected".into());
            }
            let (batch, cin, cout) = (xin.shape[0] as usize, xin.shape[1] as usize, yinfo.shape[1] as usize);
            let g = c.groups as usize;
            let (cin_g, cout_g) = (cin / g, cout / g);
            let klen: usize = c.kernel.iter().map(|&k| k as usize).product();
            let in_plane: usize = xin.shape[2..].iter().map(|&d| d as usize).product();
            let out_plane: usize = yinfo.shape[2..].iter().map(|&d| d as usize).product();
            let s = c.kernel.len();
            let ist = row_major(&xin.shape[2..]);
            // taps per output position, as the CPU reference walks them (padding = None)
            let taps: Vec<Vec<Option<usize>>> = (0..out_plane)
                .map(|o| {
                    let mut opos = vec![0i64; s];
                    let mut rem = o;
                    for d in (0..s).rev() {
                        opos[d] = (rem % yinfo.shape[d + 2] as usize) as i64;
                        rem /= yinfo.shape[d + 2] as usize;
                    }
                    (0..klen)
                        .map(|mut k| {
                            let mut kpos = vec![0i64; s];
                            for d in (0..s).rev() {
                                kpos[d] = (k % c.kernel[d] as usize) as i64 * c.dilations[d] as i64;
                                k /= c.kernel[d] as usize;
                            }
                            let mut off = 0i64;
                            for d in 0..s {
                                let p = opos[d] * c.strides[d] as i64 - c.pads_begin[d] as i64 + kpos[d];
                                if p < 0 || p >= xin.shape[d + 2] as i64 {
                                    return None;
                                }
                                off += p * ist[d];
                            }
                            Some(off as usize)
                        })
                        .collect()
                })
                .collect();
            let y = cx.place_output(yt);
            let src = cx.at(x);
            let (lo, hi) = cx.range[x as usize];
            let xr = (lo.min(c.input_zero_point), hi.max(c.input_zero_point));
            let mut out_lo = 127;
            let mut out_hi = -128;
            for gi in 0..g {
                let wlen = cin_g * klen;
                let layer = Layer {
                    k: wlen,
                    n: cout_g,
                    weights: &c.weights[gi * cout_g * wlen..(gi + 1) * cout_g * wlen],
                    bias: &c.bias[gi * cout_g..(gi + 1) * cout_g],
                    input_zero_point: c.input_zero_point,
                    epilogue: &c.epilogue,
                    channel_offset: gi * cout_g,
                    x_range: xr,
                };
                let mut row_src = vec![];
                let mut row_dst = vec![];
                for b in 0..batch {
                    for (o, tap) in taps.iter().enumerate() {
                        let mut r = Vec::with_capacity(wlen);
                        for ci in 0..cin_g {
                            let base = (b * cin + gi * cin_g + ci) * in_plane;
                            r.extend(tap.iter().map(|t| t.map(|t| base + t)));
                        }
                        row_src.push(r);
                        row_dst.push((b * cout + gi * cout_g) * out_plane + o);
                    }
                }
                let (l2, h2) = emit_layer(cx, &layer, src, y, &row_src, &row_dst, out_plane, yt)?;
                out_lo = out_lo.min(l2);
                out_hi = out_hi.max(h2);
            }
            cx.range[yt as usize] = (out_lo, out_hi);
        }
        Op::Lut(l) => {
            let src = cx.at(x);
            let y = cx.place_output(yt);
            let (Loc::Bytes(s), Loc::Bytes(d)) = (src, y) else { return Err("int8 bytes expected".into()) };
            let t = cx.alloc(l.tables.len());
            let bytes: Vec<u8> = l.tables.iter().map(|&v| v as u8).collect();
            cx.table(t, &bytes);
            let len = xin.len();
            let chan = match l.axis {
                Some(a) => {
                    let a = a as usize;
                    let inner: usize = xin.shape[a + 1..].iter().map(|&d| d as usize).product();
                    format!("shl(8, mod(div(i, {inner}), {}))", xin.shape[a])
                }
                None => "0".into(),
            };
            cx.line(&format!(
                "for {{ let i := 0 }} lt(i, {len}) {{ i := add(i, 1) }} {{\n    mstore8(add({d}, i), byte(0, mload(add({t}, add({chan}, xor(byte(0, mload(add({s}, i))), 0x80))))))\n}}"
            ));
        }
        Op::Softmax(sm) => {
            let (Loc::Bytes(s), y) = (cx.at(x), cx.place_output(yt)) else { return Err("int8 bytes expected".into()) };
            let Loc::Bytes(d) = y else { return Err("int8 bytes expected".into()) };
            let t = cx.alloc(1024);
            let bytes: Vec<u8> = sm.exp_table.iter().flat_map(|e| e.to_be_bytes()).collect();
            cx.table(t, &bytes);
            let a = sm.axis as usize;
            let dim = xin.shape[a] as usize;
            let inner: usize = xin.shape[a + 1..].iter().map(|&d| d as usize).product();
            let outer: usize = xin.shape[..a].iter().map(|&d| d as usize).product();
            if dim == 0 || xin.is_empty() {
                return Ok(());
            }
            // biased values: max and differences are those of the codes
            cx.line(&format!(
                r#"for {{ let o := 0 }} lt(o, {lanes}) {{ o := add(o, 1) }} {{
    let base := add(mul(div(o, {inner}), {di}), mod(o, {inner}))
    let mx := 0
    for {{ let j := 0 }} lt(j, {dim}) {{ j := add(j, 1) }} {{
        let v := xor(byte(0, mload(add({s}, add(base, mul(j, {inner}))))), 0x80)
        if gt(v, mx) {{ mx := v }}
    }}
    let sum := 0
    for {{ let j := 0 }} lt(j, {dim}) {{ j := add(j, 1) }} {{
        let v := xor(byte(0, mload(add({s}, add(base, mul(j, {inner}))))), 0x80)
        sum := add(sum, shr(224, mload(add({t}, shl(2, sub(mx, v))))))
    }}
    if iszero(sum) {{ sum := 1 }}
    let sum2 := shl(1, sum)
    for {{ let j := 0 }} lt(j, {dim}) {{ j := add(j, 1) }} {{
        let p := add(base, mul(j, {inner}))
        let v := xor(byte(0, mload(add({s}, p))), 0x80)
        let e := shr(224, mload(add({t}, shl(2, sub(mx, v)))))
        // round_half_away(256·e / S) for e ≥ 0 = ⌊(512·e + S) / 2S⌋; biased output, clamp 255
        let q := div(add(shl(9, e), sum), sum2)
        if gt(q, 255) {{ q := 255 }}
        mstore8(add({d}, p), xor(q, 0x80))
    }}
}}"#,
                lanes = outer * inner,
                di = dim * inner,
            ));
        }
        Op::Normalize(nm) => {
            // rows of the last axis (spec §Normalize): d = q − zp_in; L1: den = Σ|d|, shift k;
            // L2: den = isqrt(Σd² · 2^16) (Newton from a power of two above the root: exact
            // floor), shift k + 8; out = clamp(zp_out + round_half_away(d · 2^shift / den)),
            // zp_out for a zero row
            let Loc::Bytes(s) = cx.at(x) else { return Err("int8 bytes expected".into()) };
            let y = cx.place_output(yt);
            let row = *xin.shape.last().unwrap_or(&1) as usize;
            if xin.is_empty() || row == 0 {
                return Ok(());
            }
            let rows = xin.len() / row;
            let zpb = nm.input_zero_point + 128;
            let zpo = nm.output_zero_point + 128;
            let (shift, sum_term, den) = match nm.kind {
                NormKind::L1 => (nm.scale_log2, "if slt(d, 0) { d := sub(0, d) }\n        sum := add(sum, d)", "sum".to_string()),
                NormKind::L2 => (nm.scale_log2 + 8, "sum := add(sum, mul(d, d))", "isqrt(shl(16, sum))".to_string()),
            };
            let store = match y {
                Loc::Bytes(d) => format!("mstore8(add({d}, i), xor(r, 0x80))"),
                Loc::Words(d) => format!("mstore(add({d}, shl(5, i)), r)"),
                Loc::I64(_) => return Err("int8 output expected".into()),
            };
            cx.line(&format!(
                r#"{{
function isqrt(a) -> z {{
    z := a
    if gt(a, 1) {{
        let b := 0
        for {{ let t := a }} t {{ t := shr(1, t) }} {{ b := add(b, 1) }}
        z := shl(shr(1, add(b, 1)), 1)
        let w := shr(1, add(z, div(a, z)))
        for {{}} lt(w, z) {{}} {{
            z := w
            w := shr(1, add(z, div(a, z)))
        }}
    }}
}}
for {{ let rw := 0 }} lt(rw, {rows}) {{ rw := add(rw, 1) }} {{
    let b := mul(rw, {row})
    let sum := 0
    for {{ let j := 0 }} lt(j, {row}) {{ j := add(j, 1) }} {{
        let d := sub(xor(byte(0, mload(add({s}, add(b, j)))), 0x80), {zpb})
        {sum_term}
    }}
    let den := {den}
    for {{ let j := 0 }} lt(j, {row}) {{ j := add(j, 1) }} {{
        let i := add(b, j)
        let r := {zpo}
        if den {{
            let n := shl({shift}, sub(xor(byte(0, mload(add({s}, i))), 0x80), {zpb}))
            let a := n
            if slt(n, 0) {{ a := sub(0, n) }}
            let q := div(a, den)
            if iszero(lt(shl(1, mod(a, den)), den)) {{ q := add(q, 1) }}
            if slt(n, 0) {{ q := sub(0, q) }}
            r := add(q, {zpo})
            if slt(r, 0) {{ r := 0 }}
            if sgt(r, 255) {{ r := 255 }}
        }}
        {store}
    }}
}}
}}"#
            ));
        }
        Op::ArgMax { axis, select_last_index } => {
            let (Loc::Bytes(s), Loc::I64(d)) = (cx.at(x), cx.place_output(yt)) else { return Err("int8 input expected".into()) };
            let a = *axis as usize;
            let dim = xin.shape[a] as usize;
            let inner: usize = xin.shape[a + 1..].iter().map(|&d| d as usize).product();
            let outer: usize = xin.shape[..a].iter().map(|&d| d as usize).product();
            if dim == 0 || xin.is_empty() {
                return Ok(());
            }
            let cmp = if *select_last_index { "iszero(lt(v, vb))" } else { "gt(v, vb)" };
            cx.line(&format!(
                r#"for {{ let o := 0 }} lt(o, {lanes}) {{ o := add(o, 1) }} {{
    let base := add(mul(div(o, {inner}), {di}), mod(o, {inner}))
    let best := 0
    let vb := byte(0, mload(add({s}, base)))
    vb := xor(vb, 0x80)
    for {{ let j := 1 }} lt(j, {dim}) {{ j := add(j, 1) }} {{
        let v := xor(byte(0, mload(add({s}, add(base, mul(j, {inner}))))), 0x80)
        if {cmp} {{ best := j vb := v }}
    }}
    mstore(add({d}, shl(5, o)), best)
}}"#,
                lanes = outer * inner,
                di = dim * inner,
            ));
        }
        Op::Take { table } => {
            let (Loc::I64(s), Loc::I64(d)) = (cx.at(x), cx.place_output(yt)) else { return Err("i64 input expected".into()) };
            let t = cx.alloc(32 * table.len());
            for (i, &v) in table.iter().enumerate() {
                if v != 0 {
                    let e = add_const("0", v as i128);
                    cx.line(&format!("mstore({}, {e})", t + 32 * i));
                }
            }
            let sel = selector("IndexOutOfRange(int256,uint256)");
            cx.line(&format!(
                "for {{ let i := 0 }} lt(i, {len}) {{ i := add(i, 1) }} {{\n    let j := mload(add({s}, shl(5, i)))\n    if iszero(lt(j, {tl})) {{ mstore(0, shl(224, {sel})) mstore(4, j) mstore(36, {tl}) revert(0, 68) }}\n    mstore(add({d}, shl(5, i)), mload(add({t}, shl(5, j))))\n}}",
                len = xin.len(),
                tl = table.len(),
            ));
            let _ = sel;
        }
        Op::View(v) => {
            let contiguous = v.offset == 0 && (v.strides == row_major(&yinfo.shape) || yinfo.len() <= 1) && yinfo.len() == xin.len();
            let src = cx.at(x);
            if contiguous && matches!(src, Loc::Words(_)) == cx.wants_words(yt) {
                cx.loc[yt as usize] = Some(src);
                cx.range[yt as usize] = cx.range[x as usize];
                return Ok(());
            }
            let idx: Vec<Option<usize>> = solidml_exec::index::view_indices(v, &yinfo.shape).into_iter().map(Some).collect();
            copy_gather(cx, x, yt, &idx, 0)?;
            cx.range[yt as usize] = cx.range[x as usize];
        }
        Op::Pad(p) => {
            let ist = row_major(&xin.shape);
            let total = yinfo.len();
            let idx: Vec<Option<usize>> = (0..total)
                .map(|mut o| {
                    let mut off = 0usize;
                    let mut inside = true;
                    for d in (0..yinfo.shape.len()).rev() {
                        let i = (o % yinfo.shape[d] as usize) as i64 - p.pads_begin[d] as i64;
                        o /= yinfo.shape[d] as usize;
                        match solidml_exec::index::pad_source_index(p.mode, i, xin.shape[d] as i64) {
                            Some(s) => off += s as usize * ist[d] as usize,
                            None => inside = false,
                        }
                    }
                    inside.then_some(off)
                })
                .collect();
            copy_gather(cx, x, yt, &idx, p.value)?;
            if xin.dtype == DType::I8 {
                let (lo, hi) = cx.range[x as usize];
                let pv = p.value as i8 as i32;
                cx.range[yt as usize] = if idx.iter().any(|i| i.is_none()) { (lo.min(pv), hi.max(pv)) } else { (lo, hi) };
            }
        }
        Op::Gather { axis, indices } => {
            let a = *axis as usize;
            let dim = xin.shape[a] as usize;
            let inner: usize = xin.shape[a + 1..].iter().map(|&d| d as usize).product();
            let outer: usize = xin.shape[..a].iter().map(|&d| d as usize).product();
            let idx: Vec<Option<usize>> = (0..outer)
                .flat_map(|o| indices.iter().flat_map(move |&j| (0..inner).map(move |i| Some((o * dim + j as usize) * inner + i))))
                .collect();
            copy_gather(cx, x, yt, &idx, 0)?;
            cx.range[yt as usize] = cx.range[x as usize];
        }
        Op::Concat { axis } => {
            let a = *axis as usize;
            let y = cx.place_output(yt);
            let ydim = yinfo.shape[a] as usize;
            let inner: usize = yinfo.shape[a + 1..].iter().map(|&d| d as usize).product();
            let outer: usize = yinfo.shape[..a].iter().map(|&d| d as usize).product();
            let es = if matches!(y, Loc::I64(_)) { 32 } else { 1 };
            let mut off = 0usize;
            let (mut lo, mut hi) = (127, -128);
            for &i in &n.inputs {
                let info = m.tensor(i);
                let d = info.shape[a] as usize;
                let src = match cx.at(i) {
                    Loc::Words(_) => return Err("internal: words-form concat input".into()),
                    l => l,
                };
                let chunk = d * inner * es;
                if chunk > 0 && outer > 0 {
                    cx.line(&format!(
                        "for {{ let o := 0 }} lt(o, {outer}) {{ o := add(o, 1) }} {{ mcopy(add({}, mul(o, {})), add({}, mul(o, {chunk})), {chunk}) }}",
                        y.addr() + off * inner * es,
                        ydim * inner * es,
                        src.addr()
                    ));
                }
                off += d;
                lo = lo.min(cx.range[i as usize].0);
                hi = hi.max(cx.range[i as usize].1);
            }
            if matches!(y, Loc::Words(_)) {
                return Err("internal: words-form concat output".into());
            }
            cx.range[yt as usize] = (lo, hi);
        }
        Op::MaxPool(p) | Op::AvgPool(p) => {
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
        }
        Op::Reduce(rd) => {
            let (Loc::Bytes(s), Loc::Bytes(d)) = (cx.at(x), cx.place_output(yt)) else { return Err("int8 bytes expected".into()) };
            // the reference's walk: input positions of each output, in input order
            let lists = solidml_exec::index::reduce_groups(&rd.axes, &xin.shape);
            let out_len = lists.len();
            let count = xin.len() / out_len.max(1);
            if xin.is_empty() || count == 0 {
                return Err("empty reduction".into());
            }
            let all: Vec<Option<usize>> = lists.concat().into_iter().map(Some).collect();
            let tmp = cx.alloc(all.len());
            cx.gather(Loc::Bytes(s), Loc::Bytes(tmp), &all, 0);
            let zpb = rd.input_zero_point as i128 + 128;
            let (init, step, fin) = match rd.kind {
                ReduceKind::Sum | ReduceKind::Mean => ("0", "acc := add(acc, v)", format!("acc := sub(acc, {})", zpb * count as i128)),
                ReduceKind::Max => ("0", "if gt(v, acc) { acc := v }", add_const_stmt("acc", -zpb)),
                ReduceKind::Min => ("255", "if lt(v, acc) { acc := v }", add_const_stmt("acc", -zpb)),
            };
            let mean = if rd.kind == ReduceKind::Mean { div_half_away_yul("acc", count) } else { String::new() };
            cx.line(&format!(
                "for {{ let o := 0 }} lt(o, {out_len}) {{ o := add(o, 1) }} {{\n    let b := add({tmp}, mul(o, {count}))\n    let acc := {init}\n    for {{ let k := 0 }} lt(k, {count}) {{ k := add(k, 1) }} {{\n        let v := xor(byte(0, mload(add(b, k))), 0x80)\n        {step}\n    }}\n    {fin}\n{}\n{}\n    mstore8(add({d}, o), xor(r, 0x80))\n}}",
                indent(&mean, 4),
                indent(&requant_yul(rd.multiplier, "acc", rd.output_zero_point, -128, 127), 4)
            ));
        }
        Op::Binary(_) | Op::Extremum(_) => {
            let y = cx.place_output(yt);
            let (a_t, b_t) = (n.inputs[0], n.inputs[1]);
            let (Loc::Bytes(a), Loc::Bytes(b), Loc::Bytes(d)) = (cx.at(a_t), cx.at(b_t), y) else {
                return Err("int8 bytes expected".into());
            };
            let so = &yinfo.shape;
            let total = yinfo.len();
            // broadcast both operands to the output shape (index tables) unless already there
            let operand = |cx: &mut Ctx, t: TensorId, addr: usize| -> usize {
                let sh = &m.tensor(t).shape;
                if sh == so {
                    return addr;
                }
                let st = solidml_exec::index::broadcast_strides(sh, so);
                let idx: Vec<Option<usize>> = (0..total)
                    .map(|mut o| {
                        let mut off = 0;
                        for d in (0..so.len()).rev() {
                            off += (o % so[d] as usize) * st[d];
                            o /= so[d] as usize;
                        }
                        Some(off)
                    })
                    .collect();
                let tmp = cx.alloc(total);
                cx.gather(Loc::Bytes(addr), Loc::Bytes(tmp), &idx, 0);
                tmp
            };
            let a = operand(cx, a_t, a);
            let b = operand(cx, b_t, b);
            let f = match &n.op {
                Op::Extremum(Extremum::Max) => "let r := va if gt(vb, va) { r := vb }".to_string(),
                Op::Extremum(Extremum::Min) => "let r := va if lt(vb, va) { r := vb }".to_string(),
                Op::Binary(bn) => {
                    let xa = add_const("va", -(bn.a_zero_point as i128 + 128));
                    let xb = add_const("vb", -(bn.b_zero_point as i128 + 128));
                    let acc = match bn.kind {
                        BinaryKind::Mul => format!("let acc := mul({xa}, {xb})"),
                        k => format!(
                            "let ra := 0\n{{\n{}\nra := r\n}}\nlet rb := 0\n{{\n{}\nrb := r\n}}\nlet acc := {}(ra, rb)",
                            indent(&requant_raw_yul(bn.a_multiplier, &format!("shl({}, {xa})", bn.left_shift)), 4),
                            indent(&requant_raw_yul(bn.b_multiplier, &format!("shl({}, {xb})", bn.left_shift)), 4),
                            if k == BinaryKind::Add { "add" } else { "sub" }
                        ),
                    };
                    format!(
                        "{acc}\n{}",
                        requant_yul(bn.output_multiplier, "acc", bn.output_zero_point, bn.clamp_min as i32, bn.clamp_max as i32)
                    )
                }
                _ => unreachable!(),
            };
            cx.line(&format!(
                "for {{ let i := 0 }} lt(i, {total}) {{ i := add(i, 1) }} {{\n    let va := xor(byte(0, mload(add({a}, i))), 0x80)\n    let vb := xor(byte(0, mload(add({b}, i))), 0x80)\n{}\n    mstore8(add({d}, i), xor(r, 0x80))\n}}",
                indent(&f, 4)
            ));
        }
        _ => return Err(NodeFailure::Unsupported),
    }
    Ok(())
}

/// A gather from `x` to `y` for index ops (int8 bytes or i64 words).
fn copy_gather(cx: &mut Ctx, x: TensorId, y: TensorId, idx: &[Option<usize>], fill: i64) -> Result<(), String> {
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

fn copy_gather_inner(cx: &mut Ctx, src: Loc, dst: Loc, idx: &[Option<usize>], fill: i64) -> Result<(), String> {
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

/// Straight-line Yul of a dense-like layer over `rows`: row `r` reads the input elements
/// `row_src[r]` (None: the input zero point, i.e. padding) and writes output `n` of the row at
/// element `row_dst[r] + n·out_stride` of `y`. Returns the raw range of the outputs.
#[allow(clippy::too_many_arguments)]
fn emit_layer(
    cx: &mut Ctx,
    layer: &Layer,
    src: Loc,
    y: Loc,
    row_src: &[Vec<Option<usize>>],
    row_dst: &[usize],
    out_stride: usize,
    yt: TensorId,
) -> Result<(i32, i32), String> {
    if cx.compact.is_some() {
        return compact::emit_layer(cx, layer, src, y, row_src, row_dst, out_stride, yt);
    }
    let plan = layer.plan()?;
    // outputs per group: all the lanes of a word, fewer when such a group's code would not fit
    // one part contract (long rows: its K constants grow with the lanes they hold)
    let mut per_group = plan.lanes;
    while per_group > 1 && layer.group_bytes(&plan, 0..per_group.min(layer.n)) > PART_BUDGET {
        per_group -= 1;
    }
    let groups: Vec<std::ops::Range<usize>> =
        (0..layer.n.div_ceil(per_group)).map(|g| g * per_group..((g + 1) * per_group).min(layer.n)).collect();
    let rows = row_src.len();
    // the row's biased inputs as words: in place when the input already is one row of words
    let direct = rows == 1 && matches!(src, Loc::Words(_)) && row_src[0].iter().enumerate().all(|(k, s)| *s == Some(k));
    let xs = if direct { src.addr() } else { cx.alloc(32 * layer.k) };
    // where each group goes
    let mut inline = vec![];
    let mut parts: Vec<(std::ops::Range<usize>, usize)> = vec![]; // (group range, part index)
    let mut part_size = PART_BUDGET;
    for g in &groups {
        let b = layer.group_bytes(&plan, g.clone());
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
    let words_out = matches!(y, Loc::Words(_));
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
        let body = layer.group_yul(&plan, g.clone(), &|k| format!("calldataload({})", 32 * k), &|nn, v| {
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
    let dst = |nn: usize, v: String, _per_row: bool| -> String {
        // always through the run-time base `dst` (see the part bodies: constant store
        // addresses let the optimizer keep every input word live across groups)
        let off = es * nn * out_stride;
        let addr = format!("add(dst, {off})");
        if words_out { format!("mstore({addr}, {v})") } else { format!("mstore8({addr}, xor({v}, 0x80))") }
    };
    let fill = fill_rows_yul(cx, layer, src, xs, row_src, direct)?;
    let mut body = String::new();
    let _ = writeln!(body, "{fill}");
    for g in &inline {
        let code = layer.group_yul(&plan, g.clone(), &|k| format!("mload({})", xs + 32 * k), &|nn, v| dst(nn, v, per_row));
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
            32 * layer.k,
            es * count
        );
    }
    emit_rows(cx, layer, y, row_dst, &body);
    Ok(set_out_range(cx, layer, &plan, yt))
}

/// Emit `body` (the Yul of one row of a dense-like layer, storing through `dst`) once, or in a
/// loop over the rows (`r`), with `dst` the address of the row's first output.
fn emit_rows(cx: &mut Ctx, layer: &Layer, y: Loc, row_dst: &[usize], body: &str) {
    let rows = row_dst.len();
    let es = if matches!(y, Loc::Words(_)) { 32 } else { 1 };
    let yaddr = y.addr();
    if rows > 1 {
        let rd: Vec<u8> = row_dst.iter().flat_map(|&d| (d as u32).to_be_bytes()).collect();
        let uniform = row_dst.iter().enumerate().all(|(r, &d)| d == r * layer.n);
        let dst_expr = if uniform {
            format!("add({yaddr}, mul(r, {}))", es * layer.n)
        } else {
            let t = cx.alloc(rd.len());
            cx.table(t, &rd);
            format!("add({yaddr}, mul(shr(224, mload(add({t}, shl(2, r)))), {es}))")
        };
        cx.line(&format!("for {{ let r := 0 }} lt(r, {rows}) {{ r := add(r, 1) }} {{\n    let dst := {dst_expr}\n{}\n}}", indent(body, 4)));
    } else {
        // dst = yaddr, opaque to the optimizer (gas() < 2^255, and gas() is never merged)
        cx.line(&format!("{{\n    let r := shr(255, gas())\n    let dst := add({yaddr}, r)\n{}\n}}", indent(body, 4)));
    }
}

/// Record (and return) the raw range of a dense-like layer's outputs.
fn set_out_range(cx: &mut Ctx, layer: &Layer, plan: &dense::Plan, yt: TensorId) -> (i32, i32) {
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
fn fill_rows_yul(cx: &mut Ctx, layer: &Layer, src: Loc, xs: usize, row_src: &[Vec<Option<usize>>], direct: bool) -> Result<String, String> {
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

/// Assemble the contract(s).
fn emit_contract(cx: &mut Ctx, model_id: &[u8; 32], inputs: &[(TensorId, Loc, usize, usize)], in_len: usize) -> Result<Emitted, String> {
    let m = cx.m;
    let name = cx.name.clone();
    let n_parts = cx.parts.len();
    if n_parts > 64 {
        return Err("model too large: more than 64 part contracts".into());
    }
    // --- outputs of predictQ: concatenated, int8 as bytes, i64 as 8-byte big-endian
    let mut out_len = 0usize;
    let mut outs = vec![];
    for &o in &m.outputs {
        let t = m.tensor(o);
        let l = cx.at(o);
        let w = if t.dtype == DType::I64 { 8 } else { 1 };
        outs.push((o, l, out_len, t.len()));
        out_len += w * t.len();
    }
    let qbuf = cx.alloc(64 + out_len + 32);
    let mut pack = String::new();
    let _ = writeln!(pack, "mstore({qbuf}, 0x20)\nmstore({}, {out_len})", qbuf + 32);
    // i64 outputs are written as 32-byte stores ending at each element: last element first
    for &(_, l, off, len) in outs.iter().rev() {
        let d = qbuf + 64 + off;
        match l {
            Loc::I64(s) => {
                for i in (0..len).rev() {
                    let _ = writeln!(pack, "mstore({}, and(mload({}), 0xffffffffffffffff))", (d + 8 * i) as i64 - 24, s + 32 * i);
                }
            }
            Loc::Bytes(s) => {
                let _ = writeln!(pack, "mcopy({d}, {s}, {len})");
            }
            Loc::Words(_) => return Err("internal: words-form model output".into()),
        }
    }
    // the i64 stores may clobber the length word when the first output is i64: rewrite it
    let _ = writeln!(pack, "mstore({qbuf}, 0x20)\nmstore({}, {out_len})\nreturn({qbuf}, {})", qbuf + 32, 64 + out_len.div_ceil(32) * 32);
    // --- predictQ input unpacking
    let mut unpack = String::new();
    for &(t, l, off, len) in inputs {
        let _ = t;
        match l {
            Loc::Bytes(a) => {
                let _ = writeln!(unpack, "calldatacopy({a}, add(q.offset, {off}), {len})");
            }
            Loc::Words(a) if len <= 256 => {
                // unrolled, one calldataload per 32 codes: ~28 gas per input against ~55 for the
                // loop; stores through an opaque base `z` (= 0), as in `Ctx::gather`
                let _ = writeln!(unpack, "{{\nlet z := shr(255, gas())");
                for c in 0..len.div_ceil(32) {
                    let _ = writeln!(unpack, "{{\n    let w := calldataload(add(q.offset, {}))", off + 32 * c);
                    for j in 0..32.min(len - 32 * c) {
                        let _ = writeln!(unpack, "    mstore(add(z, {}), xor(byte({j}, w), 0x80))", a + 32 * (32 * c + j));
                    }
                    let _ = writeln!(unpack, "}}");
                }
                let _ = writeln!(unpack, "}}");
            }
            Loc::Words(a) => {
                let _ = writeln!(
                    unpack,
                    "for {{ let i := 0 }} lt(i, {len}) {{ i := add(i, 1) }} {{ mstore(add({a}, shl(5, i)), xor(byte(0, calldataload(add(q.offset, add({off}, i)))), 0x80)) }}"
                );
            }
            Loc::I64(a) => {
                let _ = writeln!(
                    unpack,
                    "for {{ let i := 0 }} lt(i, {len}) {{ i := add(i, 1) }} {{ mstore(add({a}, shl(5, i)), signextend(7, shr(192, calldataload(add(q.offset, add({off}, shl(3, i))))))) }}"
                );
            }
        }
    }
    // --- predict: 18-decimal inputs
    let mut quant = String::new();
    let mut fin_off = 0usize;
    let mut io_doc = String::new();
    for &(t, l, _, len) in inputs {
        let info = m.tensor(t);
        match (info.quant, l) {
            (Some(q), _) => {
                let _ = writeln!(
                    io_doc,
                    "/// @notice Input `{}` {:?}: int8, scale {:e}, zero point {}.",
                    info.name, info.shape, q.scale, q.zero_point
                );
                // element `p / 32 + k` (`p`: the byte offset of a word), in its own block
                let element = |k: usize| -> Result<String, String> {
                    let store = match l {
                        Loc::Words(a) => format!("mstore(add({}, p), w)", a + 32 * k),
                        Loc::Bytes(a) => format!("mstore8(add({}, shr(5, p)), xor(w, 0x80))", a + k),
                        _ => unreachable!(),
                    };
                    let x = format!("calldataload(add(input.offset, add(p, {})))", 32 * (fin_off + k));
                    Ok(format!("{{\n    {}\n    {store}\n}}", quantize_yul(q.scale, q.zero_point, &x)?.replace('\n', "\n    ")))
                };
                // four elements per iteration (a loop iteration's own overhead is ~50 gas), the
                // remainder after the loop
                let (body, whole) = (element(0)? + "\n" + &element(1)? + "\n" + &element(2)? + "\n" + &element(3)?, len / 4 * 4);
                if whole > 0 {
                    let _ =
                        writeln!(quant, "for {{ let p := 0 }} lt(p, {}) {{ p := add(p, 128) }} {{\n{}\n}}", 32 * whole, indent(&body, 4));
                }
                if len > whole {
                    let rest: Vec<String> = (0..len - whole).map(element).collect::<Result<_, _>>()?;
                    let _ = writeln!(quant, "{{\n    let p := {}\n{}\n}}", 32 * whole, indent(&rest.join("\n"), 4));
                }
            }
            (None, Loc::I64(a)) => {
                let _ = writeln!(
                    io_doc,
                    "/// @notice Input `{}` {:?}: int64 (18-decimal values truncated to integers).",
                    info.name, info.shape
                );
                let _ = writeln!(
                    quant,
                    "for {{ let i := 0 }} lt(i, {len}) {{ i := add(i, 1) }} {{ mstore(add({a}, shl(5, i)), signextend(7, sdiv(calldataload(add(input.offset, shl(5, add(i, {fin_off})))), 1000000000000000000))) }}"
                );
            }
            _ => return Err("internal: input without quantization".into()),
        }
        fin_off += len;
    }
    // --- predict: outputs as int256[][] (ABI), 18-decimal for int8, plain integers for i64
    let n_out = outs.len();
    let total_elems: usize = outs.iter().map(|o| o.3).sum();
    let pbuf = cx.alloc(64 + 32 * n_out + 32 * (n_out + total_elems));
    let mut deq = String::new();
    let _ = writeln!(deq, "mstore({pbuf}, 0x20)\nmstore({}, {n_out})", pbuf + 32);
    let mut rel = 32 * n_out;
    for (i, &(o, l, _, len)) in outs.iter().enumerate() {
        let info = m.tensor(o);
        let head = pbuf + 64;
        let _ = writeln!(deq, "mstore({}, {rel})", head + 32 * i);
        let arr = head + rel;
        let _ = writeln!(deq, "mstore({arr}, {len})");
        match (info.quant, l) {
            (Some(q), Loc::Bytes(s)) => {
                let _ = writeln!(
                    io_doc,
                    "/// @notice Output {i} `{}` {:?}: 18-decimal fixed point (int8: scale {:e}, zero point {}).",
                    info.name, info.shape, q.scale, q.zero_point
                );
                let _ = writeln!(
                    deq,
                    "for {{ let i := 0 }} lt(i, {len}) {{ i := add(i, 1) }} {{\n    let xb := xor(byte(0, mload(add({s}, i))), 0x80)\n    {}\n    mstore(add({}, shl(5, i)), r)\n}}",
                    dequantize_yul(q.scale, q.zero_point)?.replace('\n', "\n    "),
                    arr + 32
                );
            }
            (None, Loc::I64(s)) => {
                let _ = writeln!(io_doc, "/// @notice Output {i} `{}` {:?}: int64 (plain integers).", info.name, info.shape);
                let _ = writeln!(deq, "mcopy({}, {s}, {})", arr + 32, 32 * len);
            }
            _ => return Err("internal: output kind".into()),
        }
        rel += 32 * (len + 1);
    }
    let _ = writeln!(deq, "return({pbuf}, {})", 64 + rel);
    // --- one transaction or several: the init code of `new NAME()` holds every part's and
    // data contract's code (estimated: layer code as planned, ~8 KB of IO and other code)
    let data_bytes = cx.compact.as_ref().filter(|st| !st.inline).map_or(0, |st| st.blob.len());
    let estimate = (MAIN_LAYER_BUDGET - cx.main_budget.min(MAIN_LAYER_BUDGET)) + 8_000 + cx.part_bytes.iter().sum::<usize>() + data_bytes;
    let split = (cx.force_split || estimate > SPLIT_INITCODE) && (n_parts > 0 || data_bytes > 0);
    // --- part contracts (their addresses are stored in memory by `_forward`)
    let parts_base = cx.alloc(32 * n_parts);
    let mut files: Files = vec![];
    let mut part_fields = String::new();
    let mut part_deploys = String::new();
    let mut part_stores = String::new();
    let mut imports = String::new();
    for (i, (pname, body)) in cx.parts.iter().enumerate() {
        let (cases, ret) = body.rsplit_once("//RETURN ").expect("every part returns");
        let cases: Vec<&str> = cases.split("//END\n").filter(|s| !s.trim().is_empty()).collect();
        let switch: String = cases
            .iter()
            .enumerate()
            .map(|(c, s)| format!("                case {c} {{\n{}\n                }}\n", indent(s, 20)))
            .collect();
        let (n_cases, ret) = (cases.len(), ret.trim());
        let src = format!(
            r#"// SPDX-License-Identifier: MIT
// Generated by `solidml compile`. Do not edit.
pragma solidity ^0.8.27;

/// Part {i} of model `{model}`: dense output lanes too large for the main contract (EIP-170).
/// Calldata: the layer's biased input words (`x + 128`, 32 bytes each); returns the outputs of
/// its groups of lanes, one contiguous range (bytes, or biased words).
contract {pname} {{
    fallback() external {{
        assembly {{
{tag}            let o := shr(255, gas())
            for {{ let c := 0 }} lt(c, {n_cases}) {{ c := add(c, 1) }} {{
                switch c
{switch}            }}
            return(0, {ret})
        }}
    }}
}}
"#,
            model = m.name,
            tag = if split {
                format!(
                    "            // empty calldata: the part's tag, which the model's constructor checks\n            if iszero(calldatasize()) {{ mstore(0, {}) return(0, 32) }}\n",
                    part_tag(model_id, i)
                )
            } else {
                String::new()
            },
        );
        files.push((format!("{pname}.sol"), src));
        let _ = writeln!(part_fields, "    address private immutable part{i};");
        if split {
            let _ = writeln!(part_deploys, "        part{i} = _part(parts_, {i}, {});", part_tag(model_id, i));
        } else {
            let _ = writeln!(part_deploys, "        part{i} = address(new {pname}());");
            let _ = writeln!(imports, "import {{{pname}}} from \"./{pname}.sol\";");
        }
        let _ = writeln!(part_stores, "        {{ address p = part{i}; assembly {{ mstore({}, p) }} }}", parts_base + 32 * i);
    }
    // the compact layout's weights (a constant, or data contracts listed by `parts()`)
    let bits = compact::contract_bits(cx);
    let mut forward = if bits.forward_yul.is_empty() { String::new() } else { indent_block(&bits.forward_yul, 12) };
    forward.push_str(&cx.code);
    for p in 0..n_parts {
        forward = forward.replace(&format!("__PART_{p}__"), &(parts_base + 32 * p).to_string());
    }
    for (i, slot) in bits.slots.iter().enumerate() {
        forward = forward.replace(&format!("__DATA_{i}__"), &slot.to_string());
    }
    part_fields.push_str(&bits.fields);
    let mut split_parts: Vec<String> = cx.parts.iter().map(|(p, _)| p.clone()).collect();
    let helpers = if split {
        // data contracts as contracts of their own (runtime `0x00 ++ data`), checked by code hash
        for (j, chunk) in bits.chunks.iter().enumerate() {
            let dname = format!("{name}_D{j}");
            let mut runtime = vec![0u8];
            runtime.extend_from_slice(chunk);
            files.push((
                format!("{dname}.sol"),
                format!(
                    "// SPDX-License-Identifier: MIT\n// Generated by `solidml compile`. Do not edit.\npragma solidity ^0.8.27;\n\n/// Data contract {j} of model `{}` (compact layout): its code is `0x00` then {} bytes of\n/// weights, read by the model with EXTCODECOPY (calling it stops at once).\ncontract {dname} {{\n    constructor() {{\n        bytes memory code = hex\"{}\";\n        assembly {{\n            return(add(code, 32), mload(code))\n        }}\n    }}\n}}\n",
                    m.name,
                    chunk.len(),
                    hex(&runtime)
                ),
            ));
            let _ = writeln!(part_deploys, "        data{j} = _dataAt(parts_, {}, 0x{});", n_parts + j, hex(&keccak256(&runtime)));
            split_parts.push(dname);
        }
        let n = split_parts.len();
        part_deploys.insert_str(0, &format!("        if (parts_.length != {n}) revert PartCount({n}, parts_.length);\n"));
        format!(
            r#"
    /// The constructor got a number of part and data contracts other than this model's.
    error PartCount(uint256 expected, uint256 got);
    /// Part or data contract `index` is not the one this model was generated with.
    error WrongPart(uint256 index, address given);

    /// A part contract answers empty calldata with its tag.
    function _part(address[] memory p, uint256 i, bytes32 tag) private view returns (address a) {{
        a = p[i];
        (bool ok, bytes memory r) = a.staticcall("");
        if (!ok || r.length != 32 || bytes32(r) != tag) revert WrongPart(i, a);
    }}

    /// A data contract is known by its code hash.
    function _dataAt(address[] memory p, uint256 i, bytes32 codehash) private view returns (address a) {{
        a = p[i];
        if (a.codehash != codehash) revert WrongPart(i, a);
    }}
"#
        )
    } else {
        part_deploys.push_str(&bits.deploys);
        split_parts.clear();
        if bits.helpers.is_empty() {
            String::new()
        } else {
            format!("\n    /// A data contract (compact layout) could not be created.\n    error DataDeployFailed();\n\n{}", bits.helpers)
        }
    };
    let part_stores = format!("{}{part_stores}", bits.forward_pre);
    let (constructor_args, deploy_doc) = if split {
        (
            "address[] memory parts_",
            format!(
                "\n    /// @param parts_ The part and data contracts, deployed first, in this order: {} (`{name}Deploy.deploy()` does it all). Their code does\n    ///        not fit one transaction with this one's (EIP-3860).",
                split_parts.join(", ")
            ),
        )
    } else {
        ("", String::new())
    };
    let mem_end = cx.next;
    let model_name = &m.name;
    let n_listed = n_parts + bits.addresses.len();
    let part_list: String = (0..n_parts)
        .map(|i| format!("part{i}"))
        .chain(bits.addresses.iter().cloned())
        .enumerate()
        .map(|(i, a)| format!("        p[{i}] = {a};\n"))
        .collect();
    let sol = format!(
        r#"// SPDX-License-Identifier: MIT
// Generated by `solidml compile` from model `{model_name}`. Do not edit.
// Compile with the optimizer OFF (it gains under 1% of gas on this straight-line Yul and
// makes solc very slow), or on with high `optimizer_runs` (≥ 10000): low runs make solc
// replace the PUSH32 weight constants with CODECOPY sequences.
pragma solidity ^0.8.27;

{imports}
/// @title {name}: the SolidML model `{model_name}` in pure Solidity, bit-exact with the CPU reference.
/// @dev Memory is planned at compile time: tensors live at fixed addresses in
///      [0x80, {mem_end:#x}); the forward pass is straight-line Yul over them.
{io_doc}contract {name} {{
    /// keccak256 of the model artifact.
    bytes32 public constant MODEL_ID = 0x{model_id};

    /// `predictQ`/`predict` got an input of the wrong length.
    error InputLength(uint256 expected, uint256 got);
    /// An index produced by the model falls outside a label table.
    error IndexOutOfRange(int256 index, uint256 length);
    /// A part contract (weights too large for this one) failed.
    error PartFailed(uint256 part);

{part_fields}
    /// Deploys the model.{deploy_doc}
    constructor({constructor_args}) {{
{part_deploys}    }}
{helpers}
    /// The part contracts this one calls (layers too large for EIP-170's 24,576 bytes), then
    /// the data contracts it reads (compact layout).
    function parts() external view returns (address[] memory p) {{
        p = new address[]({n_listed});
{part_list}    }}

    /// Raw quantized inputs (int8 codes one byte each, int64 inputs 8 bytes big-endian;
    /// {in_len} bytes) to the outputs, concatenated: int8 outputs one byte per element, int64
    /// outputs 8 bytes big-endian per element ({out_len} bytes).
    function predictQ(bytes calldata q) external view returns (bytes memory) {{
        if (q.length != {in_len}) revert InputLength({in_len}, q.length);
        assembly {{
            mstore(0x40, {mem_end})
{unpack_i}        }}
        _forward();
        assembly {{
{pack_i}        }}
    }}

    /// 18-decimal fixed-point inputs (all inputs concatenated) to one array per output
    /// (18-decimal fixed point; integer outputs as plain integers), by the spec's exact IO
    /// formulas.
    function predict(int256[] calldata input) external view returns (int256[][] memory) {{
        if (input.length != {fin_off}) revert InputLength({fin_off}, input.length);
        assembly {{
            mstore(0x40, {mem_end})
{quant_i}        }}
        _forward();
        assembly {{
{deq_i}        }}
    }}

    /// The forward pass over the planned memory (inputs already in place).
    function _forward() private view {{
{part_stores}        assembly {{
{forward}        }}
    }}
}}
"#,
        model_id = hex(model_id),
        unpack_i = indent_block(&unpack, 12),
        pack_i = indent_block(&pack, 12),
        quant_i = indent_block(&quant, 12),
        deq_i = indent_block(&deq, 12),
    );
    files.push((format!("{name}.sol"), sol));
    if split {
        let imports: String = split_parts.iter().map(|p| format!("import {{{p}}} from \"./{p}.sol\";\n")).collect();
        let news: String = split_parts.iter().enumerate().map(|(i, p)| format!("        p[{i}] = address(new {p}());\n")).collect();
        files.push((
            format!("{name}Deploy.sol"),
            format!(
                "// SPDX-License-Identifier: MIT\n// Generated by `solidml compile`. Do not edit.\npragma solidity ^0.8.27;\n\nimport {{{name}}} from \"./{name}.sol\";\n{imports}\n/// Deploys model `{}`: its part and data contracts, then the model with their addresses. From\n/// a forge script, each `new` is a transaction of its own (the model does not fit one: EIP-3860).\nlibrary {name}Deploy {{\n    function deploy() internal returns ({name} model) {{\n        address[] memory p = new address[]({});\n{news}        model = new {name}(p);\n    }}\n}}\n",
                m.name,
                split_parts.len()
            ),
        ));
    }
    Ok(Emitted { files, contract: name, split_parts })
}

/// The tag a part contract answers empty calldata with: keccak256(modelId ‖ "solidml part" ‖ i).
fn part_tag(model_id: &[u8; 32], i: usize) -> String {
    let mut b = model_id.to_vec();
    b.extend_from_slice(b"solidml part");
    b.extend_from_slice(&(i as u32).to_be_bytes());
    format!("0x{}", hex(&keccak256(&b)))
}

fn indent_block(s: &str, n: usize) -> String {
    let mut o = indent(s.trim_end(), n);
    o.push('\n');
    o
}

/// Yul statements setting `w` to the biased quantized value (`q + 128`) of the 18-decimal
/// `x` (io.rs `quantize_fixed18`, exactly): `x` is clamped to ±2^100, then
/// `q = clamp(zp + round_half_even(x·2^sh / D), −128, 127)`.
fn quantize_yul(scale: f32, zp: i32, x: &str) -> Result<String, String> {
    let (mant, e) = io::scale_parts(scale);
    let zpb = zp as i128 + 128;
    // reference: e ≥ 0 with den = 1e18·m·2^e beyond i128 (or e > 60) quantizes everything to zp
    let (sh, den): (u32, i128) = if e >= 0 {
        match (io::FIXED18_ONE * mant).checked_mul(1i128 << e.min(60)) {
            Some(d) if e <= 60 => (0, d),
            _ => return Ok(format!("let w := {}", zpb.clamp(0, 255))),
        }
    } else {
        ((-e).min(126) as u32, io::FIXED18_ONE * mant)
    };
    // num = x·2^sh with |x| ≤ 2^100 (larger |x| are clamped to ±2^100 by the reference: the
    // result is then a constant per sign, computed here with the reference itself),
    // |num| ≤ 2^226. The reference saturates when num leaves i128; the exact quotient then
    // has |q| > 2^43 and saturates the same way, so exact math suffices.
    // n' = num + 2^j·den + den/2 with 2^j·den ≥ 2^227 is ≥ 0 and < 2^229: div(n', den) − 2^j
    // is num/den rounded half up; on an exact tie (mod(n', den) = 0: den is even, a multiple of
    // 1e18) half-even takes the even neighbour, q − (q & 1), with the parity of div(n', den)
    // (2^j is even). Then + zp + 128 (biased) and one unsigned compare for both clamps.
    let j = 227 - (127 - den.leading_zeros());
    let off = dense::word(dense::pack(&[den / 2, den], j)); // 2^j·den + den/2
    let unbias = dense::word(dense::pack(&[-zpb, 1], j)); // 2^j − (zp + 128)
    // |x| > 2^100 is clamped to ±2^100 first, as the reference does; the normal path then gives
    // the reference's constant for that sign
    let bound = 1i128 << 100;
    Ok(format!(
        "let w := {x}\n\
         if gt(add(w, {bound}), {b2}) {{ w := sub(mul(sgt(w, 0), {b2}), {bound}) }}\n\
         w := add(shl({sh}, w), {off})\n\
         let q := div(w, {den})\n\
         if iszero(mod(w, {den})) {{ q := sub(q, and(q, 1)) }}\n\
         w := sub(q, {unbias})\n\
         if gt(w, 255) {{ w := mul(255, sgt(w, 0)) }}",
        b2 = 2 * bound
    ))
}

/// Yul statements setting `r` to the 18-decimal value of the int8 whose biased value is `xb`
/// (io.rs `dequantize_fixed18`, exactly): `round_half_even((q − zp)·m·10^18·2^e)`.
fn dequantize_yul(scale: f32, zp: i32) -> Result<String, String> {
    let (mant, e) = io::scale_parts(scale);
    let c = mant * io::FIXED18_ONE;
    // compile-time check that every code gives a value in i128 (the reference's arithmetic)
    for q in -128i128..=127 {
        let v = (q - zp as i128) * c;
        if e >= 0 && v.checked_mul(1i128 << e.min(60)).is_none() {
            return Err("output scale too large for 18-decimal fixed point".into());
        }
    }
    let zpb = zp as i128 + 128;
    let d = format!("mul({}, {c})", add_const("xb", -zpb));
    if e >= 0 {
        return Ok(format!("let r := shl({}, {d})", e.min(60)));
    }
    let sh = (-e).min(126) as u32;
    let half = 1i128 << (sh - 1);
    // floor and remainder of v / 2^sh; ties to even
    Ok(format!(
        "let v := {d}\nlet r := sar({sh}, v)\nlet rem := and(v, {})\nr := add(r, add(gt(rem, {half}), and(eq(rem, {half}), and(r, 1))))",
        (1i128 << sh) - 1
    ))
}

/// `v := v + k` as a Yul statement.
fn add_const_stmt(v: &str, k: i128) -> String {
    format!("{v} := {}", add_const(v, k))
}

/// Yul statements: `acc := div_round_half_away(acc, count)` (count > 0, compile time).
fn div_half_away_yul(acc: &str, count: usize) -> String {
    format!(
        "{{\n    let q := sdiv({acc}, {count})\n    let rm := smod({acc}, {count})\n    if slt(rm, 0) {{ rm := sub(0, rm) }}\n    if iszero(lt(shl(1, rm), {count})) {{ switch slt({acc}, 0) case 0 {{ q := add(q, 1) }} default {{ q := sub(q, 1) }} }}\n    {acc} := q\n}}"
    )
}

/// Yul statements setting `r` to `requantize(x, m)` (arith.rs, exactly) for an i32 value `x`
/// known only at run time: saturating left shift, `srdhm = ⌊(y·m + 2^30) / 2^31⌋` (both signs,
/// m ≥ 0), then `rdbpot` folded into one floor as in [`dense`].
fn requant_raw_yul(m: Multiplier, x: &str) -> String {
    if m.multiplier == 0 {
        return "let r := 0".into();
    }
    let mm = m.multiplier;
    if m.shift > 0 {
        format!(
            "let r := shl({}, {x})\nif slt(r, sub(0, 0x80000000)) {{ r := sub(0, 0x80000000) }}\nif sgt(r, 0x7fffffff) {{ r := 0x7fffffff }}\nr := sar(31, add(mul(r, {mm}), 0x40000000))",
            m.shift
        )
    } else if m.shift == 0 {
        format!("let r := sar(31, add(mul({x}, {mm}), 0x40000000))")
    } else {
        let e = (-m.shift) as u32;
        format!("let r := add(mul({x}, {mm}), 0x40000000)\nr := sar({}, sub(add(r, {}), shl(31, slt(r, 0))))", 31 + e, 1i128 << (30 + e))
    }
}

/// Yul statements setting `r` to the biased output `clamp(requantize(x, m) + zp, lo, hi) + 128`.
fn requant_yul(m: Multiplier, x: &str, zp: i32, lo: i32, hi: i32) -> String {
    format!(
        "{}\nr := add(r, {})\nif slt(r, {}) {{ r := {} }}\nif sgt(r, {}) {{ r := {} }}",
        requant_raw_yul(m, x),
        zp as i128 + 128,
        lo + 128,
        lo + 128,
        hi + 128,
        hi + 128
    )
}

#[cfg(test)]
mod tests {
    use solidml_spec::{DType, Model, Node, Op, Quant, TensorInfo};

    use super::*;

    fn model(op: Op) -> Model {
        let t = |n: &str, dtype| TensorInfo {
            name: n.into(),
            shape: vec![1, 4],
            dtype,
            quant: (dtype == DType::I8).then_some(Quant { scale: 0.5, zero_point: 0 }),
        };
        Model {
            name: "m".into(),
            tensors: vec![t("x", DType::I64), t("y", DType::I64)],
            constants: vec![],
            inputs: vec![0],
            outputs: vec![1],
            nodes: vec![Node { name: "the_node".into(), op, inputs: vec![0, 0], outputs: vec![1] }],
        }
    }

    #[test]
    fn unsupported_ops_name_the_node() {
        let err = emit(&model(Op::IntBinary { kind: BinaryKind::Add }), &[0; 32]).unwrap_err();
        assert!(matches!(&err, SolidityError::Unsupported { node, op: "IntBinary" } if node == "the_node"), "{err:?}");
        assert_eq!(err.to_string(), "node `the_node` (IntBinary): not supported by the Solidity backend yet");
    }

    #[test]
    fn quantize_and_dequantize_yul_use_the_scale_parts() {
        // scale 0.5 = 2^23 · 2^-24: D = 1e18 · 2^23, sh = 24
        let q = quantize_yul(0.5, 3, "x").unwrap();
        assert!(q.contains("shl(24, w)") && q.contains(&format!("mod(w, {})", 1_000_000_000_000_000_000i128 * (1 << 23))), "{q}");
        let d = dequantize_yul(0.5, 3).unwrap();
        assert!(d.contains("sar(24, v)") && d.contains("sub(xb, 131)"), "{d}");
        assert!(dequantize_yul(f32::MAX, 0).is_err());
    }
}
