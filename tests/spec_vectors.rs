//! The spec test vectors: `docs/spec/vectors/<op>.json`, small models with inputs and the
//! outputs (or the run-time error) the spec defines. Every executor replays them (CPU here, GPU
//! in gpu_vs_cpu.rs, the EVM in solidity_models.rs). This test regenerates them
//! deterministically and checks the committed files match; `SOLIDML_BLESS=1` rewrites the files.
//!
//! Each op file holds random single-op cases (`generate`: every parameter form of the op drawn
//! at random — ranks, axes, batch, dilation, 1-D to 3-D windows, kinds, modes, dtypes,
//! broadcasts) followed by fixed edge cases (`edges`: the paths of the op's spec section that
//! random draws rarely reach, each named `<op>_<index>_<edge>`). `chain.json` holds models of
//! several nodes.

use alloy_primitives::hex;
use serde_json::json;
use solidml_cpu::CpuExecutor;
use solidml_exec::{ExecError, Value};
use solidml_spec::{
    Binary, BinaryKind, CompareKind, DType, Epilogue, Extremum, IntBinaryKind, IntCompare, Model, Node, NormKind, Op, PadMode, Quant,
    ReduceKind, TensorId, TensorInfo, TopKOutput, View,
    arith::Multiplier,
    validate::{broadcast_shapes, window_output_len},
};
use solidml_tests::*;

fn chance(r: &mut Rng, n: i64) -> bool {
    r.range(0, n - 1) == 0
}

fn pick<T: Copy>(r: &mut Rng, v: &[T]) -> T {
    v[r.range(0, v.len() as i64 - 1) as usize]
}

fn numel(s: &[u32]) -> usize {
    s.iter().map(|&d| d as usize).product()
}

fn row_major(s: &[u32]) -> Vec<i64> {
    solidml_exec::index::strides(s).iter().map(|&x| x as i64).collect()
}

fn q(r: &mut Rng) -> Quant {
    Quant { scale: 0.001 + r.f32() * 0.1, zero_point: r.range(-128, 127) as i32 }
}

/// A multiplier as the compiler makes them (a real in [0.0001, 0.02]), sometimes one of the
/// extremes of the valid range (zero, one, the largest mantissa with any shift).
fn mult(r: &mut Rng) -> Multiplier {
    match r.range(0, 11) {
        0 => Multiplier { multiplier: 0, shift: 0 },
        1 => Multiplier::from_real(1.0),
        2 => Multiplier { multiplier: pick(r, &[1 << 30, i32::MAX]), shift: pick(r, &[-31, -1, 0, 1, 30]) },
        _ => Multiplier::from_real(0.0001 + r.f32() as f64 * 0.02),
    }
}

/// A multiplier for a ratio of scales (sometimes an extreme one, as [`mult`]).
fn ratio(r: &mut Rng, real: f64) -> Multiplier {
    if chance(r, 6) { mult(r) } else { Multiplier::from_real(real) }
}

/// The largest multiplier: mantissa 2^31 − 1, left shift 30 (≈ 2^30). Any accumulator beyond ±1
/// saturates in its left shift (`requantize`).
const HUGE: Multiplier = Multiplier { multiplier: i32::MAX, shift: 30 };

fn clamp_pair(r: &mut Rng) -> (i8, i8) {
    if !chance(r, 4) {
        return (-128, 127);
    }
    let (a, b) = (r.range(-128, 127) as i8, r.range(-128, 127) as i8);
    (a.min(b), a.max(b))
}

/// One multiplier for every channel, or one per channel.
fn epilogue(r: &mut Rng, channels: usize) -> Epilogue {
    let (lo, hi) = clamp_pair(r);
    let n = if chance(r, 3) { 1 } else { channels };
    Epilogue { multipliers: (0..n).map(|_| mult(r)).collect(), output_zero_point: r.range(-128, 127) as i32, clamp_min: lo, clamp_max: hi }
}

/// Weights in −127..=127 and biases (small, or large within the accumulator bound).
fn weights_bias(r: &mut Rng, channels: usize, per: usize) -> (Vec<i8>, Vec<i32>) {
    let w: Vec<i8> = (0..channels * per).map(|_| r.range(-127, 127) as i8).collect();
    let b = (0..channels)
        .map(|c| {
            let used: i64 = w[c * per..(c + 1) * per].iter().map(|&x| (x as i64).abs() * 255).sum();
            let room = (i32::MAX as i64 - used).clamp(0, 1 << 30);
            if chance(r, 5) { r.range(-room, room) as i32 } else { r.range(-5000, 5000) as i32 }
        })
        .collect();
    (w, b)
}

/// A DenseWide layer of `n` features over `k` inputs of zero point `zp`: 16x8 weights (within
/// ±127) or 16x16 ones (any of ±32767), biases small or large within the accumulator bound, no
/// multiplier, one, or one per feature (mostly scaled so that typical accumulators land inside
/// the output type, sometimes any valid one); output fields set by [`wide_output`].
fn dense_wide(r: &mut Rng, k: usize, n: usize, zp: i32, (input, out): (DType, DType)) -> solidml_spec::DenseWide {
    let wmax = if chance(r, 2) { 127 } else { 32767 };
    let (ilo, ihi) = input.code_range().unwrap();
    let (olo, ohi) = out.code_range().unwrap();
    let typical = wmax as f64 * (ihi - ilo) as f64 / 2.0 * (k as f64).sqrt();
    let fitted = |r: &mut Rng| {
        if chance(r, 4) { mult(r) } else { Multiplier::from_real((ohi - olo) as f64 / 4.0 / typical * (0.5 + r.f32() as f64)) }
    };
    let weights: Vec<i16> = (0..n * k).map(|_| if chance(r, 8) { pick(r, &[-wmax, wmax]) } else { r.range(-wmax, wmax) } as i16).collect();
    let bias = (0..n)
        .map(|c| {
            let used: i64 = weights[c * k..(c + 1) * k].iter().map(|&w| (w as i64).abs() * 65535).sum();
            let room = (1i64 << 62) - used;
            if chance(r, 5) { r.wide_range(-room, room) } else { r.range(-5_000_000, 5_000_000) }
        })
        .collect();
    let multipliers = match r.range(0, 3) {
        0 => vec![],
        1 => vec![fitted(r)],
        _ => (0..n).map(|_| fitted(r)).collect(),
    };
    solidml_spec::DenseWide {
        in_features: k as u32,
        out_features: n as u32,
        input_zero_point: zp,
        weights,
        bias,
        multipliers,
        output_zero_point: 0,
        clamp_min: 0,
        clamp_max: 0,
    }
}

/// `d` writing type `out`: a zero point and a clamp (the whole range, or a random sub-range)
/// within the type's codes.
fn wide_output(r: &mut Rng, mut d: solidml_spec::DenseWide, out: DType) -> solidml_spec::DenseWide {
    let (lo, hi) = out.code_range().unwrap();
    d.output_zero_point = if chance(r, 3) { 0 } else { r.range(lo, hi) as i32 };
    (d.clamp_min, d.clamp_max) = if chance(r, 4) {
        let (a, b) = (r.range(lo, hi) as i32, r.range(lo, hi) as i32);
        (a.min(b), a.max(b))
    } else {
        (lo as i32, hi as i32)
    };
    d
}

/// `round(2^16 · exp(−d · s))` (the compiler's), or any table validation accepts.
fn exp_table(r: &mut Rng, s: f32) -> Vec<u32> {
    if chance(r, 5) {
        let mut t: Vec<u32> = (0..256).map(|_| r.range(0, 1 << 16) as u32).collect();
        t[0] = 1 << 16;
        return t;
    }
    (0..256).map(|d| ((-(d as f64) * s as f64).exp() * 65536.0).round() as u32).collect()
}

fn ln_table() -> Vec<i32> {
    (0..256).map(|i| ((1.0 + i as f64 / 256.0).ln() * 65536.0).round() as i32).collect()
}

/// A shape of rank `lo..=hi`, dims in `1..=max`.
fn shape(r: &mut Rng, lo: usize, hi: usize, max: u32) -> Vec<u32> {
    let rank = r.range(lo as i64, hi as i64) as usize;
    (0..rank).map(|_| r.range(1, max as i64) as u32).collect()
}

/// A shape that broadcasts with `s` both ways: each aligned axis equal, 1, or (where `s` has 1)
/// larger; sometimes fewer or more leading axes.
fn partner(r: &mut Rng, s: &[u32]) -> Vec<u32> {
    let mut out: Vec<u32> = s
        .iter()
        .map(|&d| {
            if d == 1 {
                r.range(1, 3) as u32
            } else if chance(r, 3) {
                1
            } else {
                d
            }
        })
        .collect();
    if !out.is_empty() && chance(r, 3) {
        let drop = r.range(1, out.len() as i64) as usize;
        out.drain(..drop);
    } else if s.len() < 4 && chance(r, 4) {
        out.insert(0, r.range(1, 2) as u32);
    }
    out
}

/// A model under construction.
struct B<'r> {
    r: &'r mut Rng,
    m: Model,
    /// Known bound of the values of an i64 tensor (an ArgMax output is `< dim`).
    bound: Vec<(TensorId, i64)>,
}

impl<'r> B<'r> {
    fn new(r: &'r mut Rng) -> Self {
        let m = Model::empty("vector");
        B { r, m, bound: vec![] }
    }
    fn tensor(&mut self, shape: Vec<u32>, dtype: DType, quant: Option<Quant>) -> TensorId {
        let id = self.m.tensors.len() as TensorId;
        let name = if id == 0 { "x".into() } else { format!("t{id}") };
        self.m.tensors.push(TensorInfo { name, shape, dtype, quant });
        id
    }
    fn i8(&mut self, shape: Vec<u32>, quant: Quant) -> TensorId {
        self.tensor(shape, DType::I8, Some(quant))
    }
    fn input(&mut self, shape: Vec<u32>, dtype: DType, quant: Option<Quant>) -> TensorId {
        let id = self.tensor(shape, dtype, quant);
        self.m.inputs.push(id);
        id
    }
    fn i8_input(&mut self, shape: Vec<u32>) -> TensorId {
        let qa = q(self.r);
        self.input(shape, DType::I8, Some(qa))
    }
    fn info(&self, x: TensorId) -> TensorInfo {
        self.m.tensor(x).clone()
    }
    /// A second operand of the given type: a model input (the Solidity backend has no constant
    /// tensors yet, and every executor replays every case).
    fn operand(&mut self, shape: Vec<u32>, dtype: DType, quant: Option<Quant>) -> TensorId {
        self.input(shape, dtype, quant)
    }
    fn node(&mut self, op: Op, inputs: Vec<TensorId>, output: TensorId) -> TensorId {
        let name = format!("n{}_{}", self.m.nodes.len(), op.kind().to_lowercase());
        self.m.nodes.push(Node { name, op, inputs, outputs: vec![output] });
        output
    }
    /// `y` holds values of `x` (a view or gather): it keeps `x`'s bound.
    fn keep_bound(&mut self, x: TensorId, y: TensorId) {
        if let Some(&(_, n)) = self.bound.iter().find(|(id, _)| *id == x) {
            self.bound.push((y, n));
        }
    }
    fn finish(mut self, outputs: Vec<TensorId>) -> Model {
        self.m.outputs = outputs;
        solidml_spec::validate::validate(&self.m).unwrap_or_else(|e| panic!("generated an invalid model: {e}\n{:?}", self.m));
        self.m
    }
}

/// Window parameters along one axis of length `h` (a pool's pads stay below its kernel):
/// `(kernel, stride, dilation, pad_begin, pad_end, output length)`.
fn window(r: &mut Rng, h: u32, pool: bool) -> (u32, u32, u32, u32, u32, u32) {
    for _ in 0..8 {
        let (k, st, dl) = (r.range(1, 3) as u32, r.range(1, 3) as u32, r.range(1, 3) as u32);
        let maxpad = if pool { k - 1 } else { 2 };
        let (a, b) = (r.range(0, maxpad as i64) as u32, r.range(0, maxpad as i64) as u32);
        if let Some(o) = window_output_len(h, k, st, dl, a, b) {
            return (k, st, dl, a, b, o);
        }
    }
    (1, 1, 1, 0, 0, h)
}

/// A random view of a tensor of shape `s`: a reshape, or any of a permutation, slices with
/// steps of either sign, broadcast (stride 0) axes inserted or expanded from size 1.
fn random_view(r: &mut Rng, s: &[u32]) -> (Vec<u32>, u64, Vec<i64>) {
    let st = row_major(s);
    if chance(r, 4) {
        // reshape into random factors
        let mut rest = numel(s) as u32;
        let mut dims = vec![];
        while rest > 1 && dims.len() < 3 {
            let divs: Vec<u32> = (2..=rest).filter(|d| rest.is_multiple_of(*d)).collect();
            let d = pick(r, &divs);
            dims.push(d);
            rest /= d;
        }
        if rest > 1 || dims.is_empty() || chance(r, 3) {
            dims.insert(r.range(0, dims.len() as i64) as usize, rest);
        }
        let strides = row_major(&dims);
        return (dims, 0, strides);
    }
    let mut perm: Vec<usize> = (0..s.len()).collect();
    if chance(r, 2) {
        for i in (1..perm.len()).rev() {
            let j = r.range(0, i as i64) as usize;
            perm.swap(i, j);
        }
    }
    let (mut dims, mut strides, mut offset) = (vec![], vec![], 0i64);
    for &k in &perm {
        let d = s[k] as i64;
        if d == 1 && chance(r, 2) {
            // a size-1 axis expanded (Expand): stride 0
            dims.push(r.range(2, 3) as u32);
            strides.push(0);
            continue;
        }
        let step = if chance(r, 2) { 1 } else { pick(r, &[2i64, 3, -1, -1, -2, -3]) };
        let len = r.range(1, (d - 1) / step.abs() + 1);
        let span = (len - 1) * step.abs();
        let start = if step > 0 { r.range(0, d - 1 - span) } else { r.range(span, d - 1) };
        offset += start * st[k];
        dims.push(len as u32);
        strides.push(step * st[k]);
    }
    if dims.len() < 6 && chance(r, 3) {
        // a new broadcast axis (stride 0), or a size-1 axis whose stride is never stepped
        let at = r.range(0, dims.len() as i64) as usize;
        let one = chance(r, 3);
        dims.insert(at, if one { 1 } else { r.range(2, 3) as u32 });
        strides.insert(at, if one { pick(r, &[1i64 << 40, -7]) } else { 0 });
    }
    (dims, offset as u64, strides)
}

/// Applies `op` to `x` with random parameters (any the op accepts for `x`'s type and rank);
/// second operands are new model inputs. Returns the output tensor.
fn step(b: &mut B<'_>, op: &str, x: TensorId) -> TensorId {
    let t = b.info(x);
    let xs = t.shape.clone();
    let rank = xs.len();
    let r = &mut *b.r;
    match op {
        "conv" | "maxpool" | "avgpool" => {
            let pool = op != "conv";
            let (mut kernel, mut strides, mut dil, mut pb, mut pe, mut out) = (vec![], vec![], vec![], vec![], vec![], vec![]);
            for &h in &xs[2..] {
                let (k, st, dl, a, e, o) = window(r, h, pool);
                kernel.push(k);
                strides.push(st);
                dil.push(dl);
                pb.push(a);
                pe.push(e);
                out.push(o);
            }
            if pool {
                let qa = t.quant.unwrap();
                let p = solidml_spec::Pool {
                    kernel,
                    strides,
                    dilations: dil,
                    pads_begin: pb,
                    pads_end: pe,
                    count_include_pad: chance(r, 2),
                    zero_point: qa.zero_point,
                };
                let mut ys = xs[..2].to_vec();
                ys.extend(&out);
                let y = b.i8(ys, qa);
                let op = if op == "maxpool" { Op::MaxPool(p) } else { Op::AvgPool(p) };
                return b.node(op, vec![x], y);
            }
            let cin = xs[1];
            let divisors: Vec<u32> = (1..=cin).filter(|g| cin.is_multiple_of(*g)).collect();
            let g = pick(r, &divisors);
            let cout = g * r.range(1, 2) as u32;
            let klen = numel(&kernel);
            let (weights, bias) = weights_bias(r, cout as usize, (cin / g) as usize * klen);
            let e = epilogue(r, cout as usize);
            let c = solidml_spec::Conv {
                kernel,
                strides,
                dilations: dil,
                pads_begin: pb,
                pads_end: pe,
                groups: g,
                input_zero_point: t.quant.unwrap().zero_point,
                weights,
                bias,
                epilogue: e,
            };
            let mut ys = vec![xs[0], cout];
            ys.extend(&out);
            let y = b.i8(ys, Quant { scale: 0.05, zero_point: c.epilogue.output_zero_point });
            b.node(Op::Conv(c), vec![x], y)
        }
        "convtranspose" => {
            let (mut kernel, mut strides, mut dil, mut pb, mut pe, mut opad, mut out) =
                (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
            for &h in &xs[2..] {
                let h = h as i64;
                let (k, st, dl) = (r.range(1, 3), r.range(1, 3), r.range(1, 2));
                let op = r.range(0, st - 1);
                let full = (h - 1) * st + dl * (k - 1) + 1 + op;
                let a = r.range(0, ((full - 1) / 2).min(2));
                let e = r.range(0, ((full - 1) / 2).min(2));
                kernel.push(k as u32);
                strides.push(st as u32);
                dil.push(dl as u32);
                opad.push(op as u32);
                pb.push(a as u32);
                pe.push(e as u32);
                out.push((full - a - e) as u32);
            }
            let cin = xs[1];
            let divisors: Vec<u32> = (1..=cin).filter(|g| cin.is_multiple_of(*g)).collect();
            let g = pick(r, &divisors);
            let cout = g * r.range(1, 2) as u32;
            let (weights, bias) = weights_bias(r, cout as usize, (cin / g) as usize * numel(&kernel));
            let e = epilogue(r, cout as usize);
            let c = solidml_spec::ConvTranspose {
                kernel,
                strides,
                dilations: dil,
                pads_begin: pb,
                pads_end: pe,
                output_padding: opad,
                groups: g,
                input_zero_point: t.quant.unwrap().zero_point,
                weights,
                bias,
                epilogue: e,
            };
            let mut ys = vec![xs[0], cout];
            ys.extend(&out);
            let y = b.i8(ys, Quant { scale: 0.05, zero_point: c.epilogue.output_zero_point });
            b.node(Op::ConvTranspose(c), vec![x], y)
        }
        "densewide" => {
            let k = xs[rank - 1] as usize;
            let n = r.range(1, 8) as usize;
            let out = pick(r, &[DType::I8, DType::I16, DType::I16, DType::I32]);
            let d = dense_wide(r, k, n, t.quant.unwrap().zero_point, (t.dtype, out));
            let d = wide_output(r, d, out);
            let mut ys = xs.clone();
            ys[rank - 1] = n as u32;
            let y = b.tensor(ys, out, Some(Quant { scale: 0.05, zero_point: d.output_zero_point }));
            b.node(Op::DenseWide(d), vec![x], y)
        }
        "dense" => {
            let k = xs[rank - 1] as usize;
            let n = r.range(1, 8) as usize;
            let (weights, bias) = weights_bias(r, n, k);
            let e = epilogue(r, n);
            let d = solidml_spec::Dense {
                in_features: k as u32,
                out_features: n as u32,
                input_zero_point: t.quant.unwrap().zero_point,
                weights,
                bias,
                epilogue: e,
            };
            let mut ys = xs.clone();
            ys[rank - 1] = n as u32;
            let y = b.i8(ys, Quant { scale: 0.05, zero_point: d.epilogue.output_zero_point });
            b.node(Op::Dense(d), vec![x], y)
        }
        "matmul" => {
            let (m, k) = (xs[rank - 2], xs[rank - 1]);
            let n = r.range(1, 4) as u32;
            let batch_a = &xs[..rank - 2];
            let mut sb = partner(r, batch_a);
            sb.extend([k, n]);
            let mut ys = broadcast_shapes(batch_a, &sb[..sb.len() - 2]).unwrap();
            ys.extend([m, n]);
            let (qa, qb, qo) = (t.quant.unwrap(), q(r), q(r));
            let mm = solidml_spec::MatMul {
                a_zero_point: qa.zero_point,
                b_zero_point: qb.zero_point,
                multiplier: ratio(r, qa.scale as f64 * qb.scale as f64 / qo.scale as f64),
                output_zero_point: qo.zero_point,
            };
            let bt = b.operand(sb, DType::I8, Some(qb));
            let y = b.i8(ys, qo);
            b.node(Op::MatMul(mm), vec![x, bt], y)
        }
        "add" | "sub" | "mul" | "max" | "min" | "binarylut" | "intbinary" => {
            let so = partner(r, &xs);
            let ys = broadcast_shapes(&xs, &so).unwrap();
            let swap = chance(r, 2);
            let node_op = match op {
                "max" => Op::Extremum(Extremum::Max),
                "min" => Op::Extremum(Extremum::Min),
                "binarylut" => Op::BinaryLut { table: r.i8s(65536) },
                // the kinds of spec version 4 (the later ones have edge cases of their own:
                // drawing from all eight would change the committed random cases)
                "intbinary" => Op::IntBinary { kind: pick(r, &[IntBinaryKind::Add, IntBinaryKind::Sub, IntBinaryKind::Mul]) },
                _ => {
                    let kind = match op {
                        "add" => BinaryKind::Add,
                        "sub" => BinaryKind::Sub,
                        _ => BinaryKind::Mul,
                    };
                    let (qa, qb, qo) = (t.quant.unwrap(), q(r), q(r));
                    let (qa, qb) = if swap { (qb, qa) } else { (qa, qb) };
                    Op::Binary(binary(r, kind, qa, qb, qo))
                }
            };
            let (oq, yq) = match (&node_op, t.dtype) {
                (_, DType::I64) => (None, None),
                (Op::Extremum(_), _) => (t.quant, t.quant),
                (Op::Binary(bn), _) => {
                    let (zo, zy) = if swap { (bn.a_zero_point, bn.output_zero_point) } else { (bn.b_zero_point, bn.output_zero_point) };
                    (Some(Quant { scale: 0.03, zero_point: zo }), Some(Quant { scale: 0.07, zero_point: zy }))
                }
                _ => (Some(q(r)), Some(q(r))),
            };
            let other = b.operand(so, t.dtype, oq);
            let y = b.tensor(ys, t.dtype, yq);
            let ins = if swap { vec![other, x] } else { vec![x, other] };
            b.node(node_op, ins, y)
        }
        "intcompare" => {
            let so = partner(r, &xs);
            let ys = broadcast_shapes(&xs, &so).unwrap();
            let kind = pick(r, &[CompareKind::Equal, CompareKind::Less, CompareKind::Greater]);
            let (true_code, false_code) = (r.range(-128, 127) as i8, r.range(-128, 127) as i8);
            let (qy, swap) = (q(r), chance(r, 2));
            let other = b.operand(so, DType::I64, None);
            let y = b.i8(ys, qy);
            let ins = if swap { vec![other, x] } else { vec![x, other] };
            b.node(Op::IntCompare(IntCompare { kind, true_code, false_code }), ins, y)
        }
        "intlut" => {
            let table = (0..256)
                .map(|_| if chance(r, 8) { pick(r, &[i64::MIN, i64::MAX, -1, 0, 1]) } else { r.range(-1 << 40, 1 << 40) })
                .collect();
            let y = b.tensor(xs, DType::I64, None);
            b.node(Op::IntLut { table }, vec![x], y)
        }
        "lut" => {
            let axis = if chance(r, 2) { None } else { Some(r.range(0, rank as i64 - 1) as u32) };
            let tables = r.i8s(256 * axis.map_or(1, |a| xs[a as usize] as usize));
            let qo = q(r);
            let y = b.i8(xs, qo);
            b.node(Op::Lut(solidml_spec::Lut { axis, tables }), vec![x], y)
        }
        "view" => {
            let (ys, offset, strides) = random_view(r, &xs);
            let y = b.tensor(ys, t.dtype, t.quant);
            b.keep_bound(x, y);
            b.node(Op::View(View { offset, strides }), vec![x], y)
        }
        "pad" => {
            let mode = pick(r, &[PadMode::Constant, PadMode::Reflect, PadMode::Edge]);
            let (mut pb, mut pe) = (vec![], vec![]);
            for &d in &xs {
                let lim = if mode == PadMode::Reflect { (d as i64 - 1).min(2) } else { 2 };
                pb.push(if chance(r, 3) { 0 } else { r.range(0, lim) as u32 });
                pe.push(if chance(r, 3) { 0 } else { r.range(0, lim) as u32 });
            }
            let value = match t.dtype {
                // Pad never sees the wide types (validation)
                DType::I8 | DType::I16 | DType::I32 => r.range(-128, 127),
                DType::I64 => {
                    let v = r.range(-1 << 40, 1 << 40);
                    pick(r, &[i64::MIN, i64::MAX, v])
                }
            };
            let ys = xs.iter().zip(pb.iter().zip(&pe)).map(|(&d, (&a, &e))| d + a + e).collect();
            let y = b.tensor(ys, t.dtype, t.quant);
            b.node(Op::Pad(solidml_spec::Pad { pads_begin: pb, pads_end: pe, mode, value }), vec![x], y)
        }
        "concat" => {
            let axis = r.range(0, rank as i64 - 1) as usize;
            let n = r.range(1, 3);
            let at = b.r.range(0, n - 1);
            let mut ins = vec![];
            let mut total = 0;
            for i in 0..n {
                if i == at {
                    ins.push(x);
                    total += xs[axis];
                } else {
                    let mut s = xs.clone();
                    s[axis] = b.r.range(1, 3) as u32;
                    total += s[axis];
                    let o = b.operand(s, t.dtype, t.quant);
                    ins.push(o);
                }
            }
            let mut ys = xs.clone();
            ys[axis] = total;
            let y = b.tensor(ys, t.dtype, t.quant);
            b.node(Op::Concat { axis: axis as u32 }, ins, y)
        }
        "reduce" => {
            let mut axes: Vec<u32> = (0..rank as u32).filter(|_| chance(r, 2)).collect();
            if axes.is_empty() || chance(r, 6) {
                axes = (0..rank as u32).collect();
            }
            let keep = chance(r, 2);
            let ys: Vec<u32> =
                xs.iter().enumerate().filter_map(|(i, &d)| if axes.contains(&(i as u32)) { keep.then_some(1) } else { Some(d) }).collect();
            if chance(r, 2) {
                axes.reverse();
            }
            let kind = pick(r, &[ReduceKind::Sum, ReduceKind::Mean, ReduceKind::Max, ReduceKind::Min]);
            let (qi, qo) = (t.quant.unwrap(), q(r));
            let count = numel(&xs) / numel(&ys);
            let real = if kind == ReduceKind::Sum {
                qi.scale as f64 / (qo.scale as f64 * count as f64)
            } else {
                qi.scale as f64 / qo.scale as f64
            };
            let rd = solidml_spec::Reduce {
                kind,
                axes,
                input_zero_point: qi.zero_point,
                multiplier: ratio(r, real),
                output_zero_point: qo.zero_point,
            };
            let y = b.i8(ys, qo);
            b.node(Op::Reduce(rd), vec![x], y)
        }
        "softmax" => {
            let axis = r.range(0, rank as i64 - 1) as u32;
            let exp = exp_table(r, t.quant.unwrap().scale);
            let y = b.i8(xs, Quant { scale: 1.0 / 256.0, zero_point: -128 });
            b.node(Op::Softmax(solidml_spec::Softmax { axis, exp_table: exp }), vec![x], y)
        }
        "logsoftmax" => {
            let axis = r.range(0, rank as i64 - 1) as u32;
            let qi = t.quant.unwrap();
            let qo = Quant { scale: 0.02 + r.f32() * 0.1, zero_point: r.range(0, 127) as i32 };
            let ls = solidml_spec::LogSoftmax {
                axis,
                exp_table: exp_table(r, qi.scale),
                ln_table: ln_table(),
                input_scale_q16: (qi.scale as f64 * 65536.0).round() as i32,
                multiplier: ratio(r, 1.0 / (65536.0 * qo.scale as f64)),
                output_zero_point: qo.zero_point,
            };
            let y = b.i8(xs, qo);
            b.node(Op::LogSoftmax(ls), vec![x], y)
        }
        "argmax" => {
            let axis = r.range(0, rank as i64 - 1) as usize;
            let mut ys = xs.clone();
            if chance(r, 2) {
                ys[axis] = 1;
            } else {
                ys.remove(axis);
            }
            let last = chance(r, 2);
            let y = b.tensor(ys, DType::I64, None);
            b.bound.push((y, xs[axis] as i64));
            b.node(Op::ArgMax { axis: axis as u32, select_last_index: last }, vec![x], y)
        }
        "take" => {
            let known = b.bound.iter().find(|(id, _)| *id == x).map(|p| p.1);
            let r = &mut *b.r;
            let n = known.unwrap_or_else(|| r.range(1, 8)) as usize;
            let table = (0..n).map(|_| if chance(r, 4) { pick(r, &[i64::MIN, i64::MAX, -1, 0]) } else { r.range(-1000, 1000) }).collect();
            let y = b.tensor(xs, DType::I64, None);
            b.node(Op::Take { table }, vec![x], y)
        }
        "gather" => {
            let axis = r.range(0, rank as i64 - 1) as usize;
            let indices: Vec<u32> = (0..r.range(1, 4)).map(|_| r.range(0, xs[axis] as i64 - 1) as u32).collect();
            let mut ys = xs.clone();
            ys[axis] = indices.len() as u32;
            if chance(r, 3) && indices.len() == 1 && rank > 1 {
                ys.remove(axis); // a scalar index (the axis dropped)
            }
            let y = b.tensor(ys, t.dtype, t.quant);
            b.keep_bound(x, y);
            b.node(Op::Gather { axis: axis as u32, indices }, vec![x], y)
        }
        "gatherdynamic" => {
            let axis = r.range(0, rank as i64 - 1) as usize;
            let is = shape(r, 0, 2, 3);
            let mut ys = xs[..axis].to_vec();
            ys.extend(&is);
            ys.extend(&xs[axis + 1..]);
            let idx = b.input(is, DType::I64, None);
            let y = b.tensor(ys, t.dtype, t.quant);
            b.node(Op::GatherDynamic { axis: axis as u32 }, vec![x, idx], y)
        }
        "instancenorm" => {
            let c = xs[1] as usize;
            let big = chance(r, 4);
            let lim = if big { 1i64 << 36 } else { 1 << 22 };
            let vals = |r: &mut Rng| -> Vec<i64> {
                (0..c).map(|_| if big && chance(r, 2) { pick(r, &[-lim, lim]) } else { r.range(-lim, lim) }).collect()
            };
            let (gamma_q16, beta_q16) = (vals(r), vals(r));
            let epsilon_term = match r.range(0, 4) {
                0 => 0,
                1 => 1 << 53,
                _ => r.range(0, 100000),
            };
            let qo = q(r);
            let inn = solidml_spec::InstanceNorm {
                input_zero_point: t.quant.unwrap().zero_point,
                output_zero_point: qo.zero_point,
                epsilon_term,
                gamma_q16,
                beta_q16,
            };
            let y = b.i8(xs, qo);
            b.node(Op::InstanceNorm(inn), vec![x], y)
        }
        "lrn" => {
            let size = r.range(1, 7) as u32;
            let sum_shift = if chance(r, 4) { r.range(0, 40) as u32 } else { r.range(4, 8) as u32 };
            let full = ((size as u64 * 65025) >> sum_shift) as usize + 1;
            // the compiler's full table, or a short one (Q beyond it uses the last entry)
            let n = if chance(r, 4) { r.range(1, 16) as usize } else { full.min(4096) };
            let factors = (0..n).map(|_| if chance(r, 8) { 1 << 23 } else { r.range(0, 1 << 18) as i32 }).collect();
            let qo = q(r);
            let l = solidml_spec::Lrn {
                size,
                input_zero_point: t.quant.unwrap().zero_point,
                output_zero_point: qo.zero_point,
                sum_shift,
                factors,
                multiplier: {
                    let real = 0.00001 + r.f32() as f64 * 0.0002;
                    ratio(r, real)
                },
            };
            let y = b.i8(xs, qo);
            b.node(Op::Lrn(l), vec![x], y)
        }
        "normalize" => {
            let k = r.range(0, 8) as u32;
            let any = r.range(-128, 127) as i32;
            let qo = Quant { scale: 1.0 / (1u32 << k) as f32, zero_point: pick(r, &[0, -128, any]) };
            let nm = solidml_spec::Normalize {
                kind: pick(r, &[NormKind::L1, NormKind::L2]),
                input_zero_point: t.quant.unwrap().zero_point,
                output_zero_point: qo.zero_point,
                scale_log2: k,
            };
            let y = b.i8(xs, qo);
            b.node(Op::Normalize(nm), vec![x], y)
        }
        "cumsum" => {
            let (qi, qo) = (t.quant.unwrap(), q(r));
            let c = solidml_spec::CumSum {
                axis: r.range(0, rank as i64 - 1) as u32,
                exclusive: chance(r, 2),
                reverse: chance(r, 2),
                input_zero_point: qi.zero_point,
                multiplier: ratio(r, qi.scale as f64 / qo.scale as f64),
                output_zero_point: qo.zero_point,
            };
            let y = b.i8(xs, qo);
            b.node(Op::CumSum(c), vec![x], y)
        }
        "topk" => {
            let axis = r.range(0, rank as i64 - 1) as usize;
            let dim = xs[axis] as i64;
            // k = dim (a whole sort) and k = 0 (an empty output) now and then
            let k = match r.range(0, 7) {
                0 => 0,
                1 | 2 => dim,
                _ => r.range(1, dim),
            } as u32;
            let output = if chance(r, 2) { TopKOutput::Values } else { TopKOutput::Indices };
            let largest = chance(r, 2);
            let mut ys = xs.clone();
            ys[axis] = k;
            let y = match output {
                TopKOutput::Values => b.tensor(ys, t.dtype, t.quant),
                TopKOutput::Indices => {
                    let y = b.tensor(ys, DType::I64, None);
                    b.bound.push((y, dim));
                    y
                }
            };
            if output == TopKOutput::Values {
                b.keep_bound(x, y);
            }
            b.node(Op::TopK { axis: axis as u32, k, largest, output }, vec![x], y)
        }
        other => panic!("no generator for {other}"),
    }
}

/// Binary parameters as the compiler chooses them (`binary_params`), sometimes another left
/// shift, extreme multipliers or a narrower clamp.
fn binary(r: &mut Rng, kind: BinaryKind, qa: Quant, qb: Quant, qo: Quant) -> Binary {
    let (sa, sb, so) = (qa.scale as f64, qb.scale as f64, qo.scale as f64);
    let zero = Multiplier { multiplier: 0, shift: 0 };
    let (ls, am, bm, om) = if kind == BinaryKind::Mul {
        (0, zero, zero, ratio(r, sa * sb / so))
    } else {
        let ls = if chance(r, 3) { r.range(0, 20) as u32 } else { 20 };
        let t = 2.0 * sa.max(sb);
        let small = |r: &mut Rng, real: f64| {
            let mut m = ratio(r, real);
            m.shift = -m.shift.abs();
            m
        };
        (ls, small(r, sa / t), small(r, sb / t), ratio(r, t / ((1u64 << ls) as f64 * so)))
    };
    let (lo, hi) = clamp_pair(r);
    Binary {
        kind,
        a_zero_point: qa.zero_point,
        b_zero_point: qb.zero_point,
        left_shift: ls,
        a_multiplier: am,
        b_multiplier: bm,
        output_multiplier: om,
        output_zero_point: qo.zero_point,
        clamp_min: lo,
        clamp_max: hi,
    }
}

/// The input of a single-op case: a shape (and dtype) the op accepts, every rank it allows.
fn first_input(b: &mut B<'_>, op: &str) -> TensorId {
    let r = &mut *b.r;
    let s = match op {
        "conv" | "maxpool" | "avgpool" | "instancenorm" | "convtranspose" => {
            let sp = r.range(1, 3) as usize;
            let max = if op == "convtranspose" { 3 } else { [6, 5, 4][sp - 1] };
            let mut s = vec![r.range(1, 2) as u32, r.range(1, 3) as u32];
            s.extend((0..sp).map(|_| r.range(1, max) as u32));
            s
        }
        "lrn" => {
            let mut s = shape(r, 2, 4, 4);
            s[1] = r.range(1, 6) as u32;
            s
        }
        "dense" => {
            let mut s = shape(r, 1, 3, 3);
            *s.last_mut().unwrap() = if chance(r, 4) { r.range(17, 70) } else { r.range(1, 16) } as u32;
            s
        }
        "densewide" => {
            let mut s = shape(r, 1, 3, 3);
            *s.last_mut().unwrap() = if chance(r, 4) { r.range(17, 70) } else { r.range(1, 16) } as u32;
            if chance(r, 4) {
                return b.i8_input(s);
            }
            let zp = if chance(r, 2) { 0 } else { r.range(-32768, 32767) as i32 };
            let scale = 0.0001 + r.f32() * 0.001;
            return b.input(s, DType::I16, Some(Quant { scale, zero_point: zp }));
        }
        "matmul" => {
            let mut s = shape(r, 2, 4, 3);
            let n = s.len();
            s[n - 1] = if chance(r, 4) { r.range(8, 40) } else { r.range(1, 6) } as u32;
            s
        }
        "softmax" | "logsoftmax" | "normalize" | "argmax" | "cumsum" | "lut" => shape(r, 1, 4, 6),
        "topk" => {
            // sometimes a longer lane (not a power of two: the GPU pads it)
            let mut s = shape(r, 1, 3, 5);
            if chance(r, 3) {
                let a = r.range(0, s.len() as i64 - 1) as usize;
                s[a] = r.range(7, 40) as u32;
            }
            s
        }
        "intbinary" | "take" | "intcompare" => {
            let s = shape(r, 0, 3, 4);
            return b.input(s, DType::I64, None);
        }
        _ => shape(r, 1, 4, 4),
    };
    let i64_ok = ["view", "pad", "concat", "gather", "gatherdynamic", "topk"].contains(&op);
    if i64_ok && chance(b.r, 4) { b.input(s, DType::I64, None) } else { b.i8_input(s) }
}

/// A random single-op model of `op`.
fn generate(op: &str, r: &mut Rng) -> Model {
    if op == "chain" {
        return chain(r);
    }
    let mut b = B::new(r);
    let x = first_input(&mut b, op);
    let y = step(&mut b, op, x);
    b.finish(vec![y])
}

/// The ops a chain draws from: those the Solidity backend supports (every executor replays
/// `chain.json`).
const CHAIN_OPS: &[&str] = &[
    "conv",
    "dense",
    "add",
    "sub",
    "mul",
    "max",
    "min",
    "lut",
    "view",
    "pad",
    "concat",
    "maxpool",
    "avgpool",
    "reduce",
    "softmax",
    "argmax",
    "take",
    "gather",
    "normalize",
    "cumsum",
];

/// Whether `op` applies to a tensor `t` in a chain (small tensors only).
fn fits(op: &str, t: &TensorInfo) -> bool {
    let (rank, i8, small) = (t.shape.len(), t.dtype == DType::I8, t.len() <= 200);
    match op {
        "conv" | "maxpool" | "avgpool" => i8 && (3..=5).contains(&rank) && small,
        "take" => !i8,
        "view" => true,
        "gather" => rank >= 1,
        "pad" | "concat" => rank >= 1 && small,
        _ => i8 && rank >= 1,
    }
}

/// A chain of 2 to 5 random nodes (each applied to the previous output), sometimes with an
/// intermediate tensor as a second output.
fn chain(r: &mut Rng) -> Model {
    let mut b = B::new(r);
    let s = shape(b.r, 3, 4, 4);
    let mut cur = b.i8_input(s);
    let steps = b.r.range(2, 5);
    for _ in 0..steps {
        let t = b.info(cur);
        let ok: Vec<&str> = CHAIN_OPS.iter().copied().filter(|op| fits(op, &t)).collect();
        let op = pick(b.r, &ok);
        cur = step(&mut b, op, cur);
    }
    let mut outs = vec![cur];
    if chance(b.r, 3) {
        let i = b.r.range(0, b.m.nodes.len() as i64 - 2) as usize;
        outs.insert(0, b.m.nodes[i].outputs[0]);
    }
    b.finish(outs)
}

/// A classifier: Conv → Lut → MaxPool → View (flatten) → Dense → Softmax → ArgMax → Take.
fn classifier(r: &mut Rng) -> Model {
    let mut b = B::new(r);
    let x = b.i8_input(vec![1, 1, 6, 6]);
    let c = step(&mut b, "conv", x);
    let l = step(&mut b, "lut", c);
    let p = step(&mut b, "maxpool", l);
    let t = b.info(p);
    let flat = vec![1, numel(&t.shape) as u32];
    let f = b.tensor(flat.clone(), DType::I8, t.quant);
    let f = b.node(Op::View(View { offset: 0, strides: row_major(&flat) }), vec![p], f);
    let d = step(&mut b, "dense", f);
    let s = b.i8(b.info(d).shape, Quant { scale: 1.0 / 256.0, zero_point: -128 });
    let e = exp_table(b.r, 0.05);
    let s = b.node(Op::Softmax(solidml_spec::Softmax { axis: 1, exp_table: e }), vec![d], s);
    let a = b.tensor(vec![1], DType::I64, None);
    let a = b.node(Op::ArgMax { axis: 1, select_last_index: false }, vec![s], a);
    b.bound.push((a, b.info(d).shape[1] as i64));
    let labels = step(&mut b, "take", a);
    b.finish(vec![s, labels])
}

/// Inputs for `model`: int8 codes (sometimes constant, or only the extremes), and i64 values in
/// the range their consumer accepts (Take: `0..len(table)`; GatherDynamic: `−dim..dim`).
fn draw_inputs(r: &mut Rng, model: &Model) -> Vec<Value> {
    model
        .inputs
        .iter()
        .map(|&id| {
            let t = model.tensor(id);
            let n = t.len();
            match t.dtype {
                DType::I8 => Value::I8(match r.range(0, 9) {
                    0 => vec![r.range(-128, 127) as i8; n],
                    1 => (0..n).map(|_| pick(r, &[-128i8, 127])).collect(),
                    _ => r.i8s(n),
                }),
                DType::I16 | DType::I32 => {
                    let (lo, hi) = t.dtype.code_range().unwrap();
                    Value::from_codes(
                        t.dtype,
                        match r.range(0, 9) {
                            0 => vec![r.range(lo, hi); n],
                            1 => (0..n).map(|_| pick(r, &[lo, hi])).collect(),
                            _ => (0..n).map(|_| r.range(lo, hi)).collect(),
                        },
                    )
                }
                DType::I64 => {
                    let consumer =
                        model.nodes.iter().find(|nd| nd.inputs.contains(&id)).map(|nd| (&nd.op, nd.inputs.iter().position(|&i| i == id)));
                    Value::I64(match consumer {
                        Some((Op::Take { table }, _)) => (0..n).map(|_| r.range(0, table.len() as i64 - 1)).collect(),
                        Some((Op::GatherDynamic { axis }, Some(1))) => {
                            let nd = model.nodes.iter().find(|nd| nd.inputs.get(1) == Some(&id)).unwrap();
                            let dim = model.tensor(nd.inputs[0]).shape[*axis as usize] as i64;
                            (0..n).map(|_| r.range(-dim, dim - 1)).collect()
                        }
                        // few values, the extremes among them: ties
                        Some((Op::TopK { .. }, _)) if chance(r, 2) => {
                            (0..n).map(|_| pick(r, &[i64::MIN, -(1 << 33), -1, 0, 2, 1 << 40, i64::MAX])).collect()
                        }
                        // few values, the extremes among them: equal operands
                        Some((Op::IntCompare(_), _)) if chance(r, 2) => (0..n).map(|_| pick(r, &[i64::MIN, -1, 0, 1, i64::MAX])).collect(),
                        _ => (0..n).map(|_| r.range(-1 << 30, 1 << 30)).collect(),
                    })
                }
            }
        })
        .collect()
}

/// A single-op model `inputs → op → output` (node `op`).
fn single(op: Op, inputs: Vec<TensorInfo>, output: TensorInfo) -> Model {
    let m = single_op_model("vector", op, inputs, output);
    solidml_spec::validate::validate(&m).unwrap_or_else(|e| panic!("invalid edge case: {e}\n{m:?}"));
    m
}

/// A fixed edge case: its name suffix, model and inputs.
type Edge = (&'static str, Model, Vec<Value>);

fn qz(zero_point: i32) -> Quant {
    Quant { scale: 0.05, zero_point }
}

fn i8s(v: &[i64]) -> Value {
    Value::I8(v.iter().map(|&x| x as i8).collect())
}

/// Dense with one multiplier for all channels: the largest one (every accumulator beyond ±1
/// saturates in the left shift), output zero point `zp` (the addition saturates too).
fn dense_saturating(r: &mut Rng, zp: i32) -> Edge {
    let d = solidml_spec::Dense {
        in_features: 4,
        out_features: 3,
        input_zero_point: 0,
        weights: vec![127, 127, 127, 127, -127, -127, -127, -127, 1, -1, 0, 0],
        bias: vec![0, 0, 0],
        epilogue: Epilogue { multipliers: vec![HUGE], output_zero_point: zp, clamp_min: -128, clamp_max: 127 },
    };
    let m = single(Op::Dense(d), vec![t8("x", &[3, 4], qz(0))], t8("y", &[3, 3], qz(zp)));
    let mut x = vec![127, 100, -128, 5, -128, -128, -3, 0];
    x.extend(r.i8s(4).iter().map(|&v| v as i64));
    (if zp > 0 { "left_shift_and_zero_point_saturate_high" } else { "left_shift_and_zero_point_saturate_low" }, m, vec![i8s(&x)])
}

/// Binary `kind` with the largest output multiplier: the output's left shift saturates, and so
/// does the addition of the zero point `zp`.
fn binary_saturating(r: &mut Rng, kind: BinaryKind, zp: i32) -> Edge {
    let one = Multiplier { multiplier: i32::MAX, shift: 0 };
    let zero = Multiplier { multiplier: 0, shift: 0 };
    let (ls, am, bm) = if kind == BinaryKind::Mul { (0, zero, zero) } else { (20, one, one) };
    let b = Binary {
        kind,
        a_zero_point: 3,
        b_zero_point: -2,
        left_shift: ls,
        a_multiplier: am,
        b_multiplier: bm,
        output_multiplier: HUGE,
        output_zero_point: zp,
        clamp_min: -128,
        clamp_max: 127,
    };
    let m = single(Op::Binary(b), vec![t8("a", &[2, 4], qz(3)), t8("b", &[4], qz(-2))], t8("y", &[2, 4], qz(zp)));
    let a = i8s(&[127, -128, 3, 3, 4, 2, r.range(-128, 127), -128]);
    let bb = i8s(&[-128, 127, -2, -1]);
    (if zp > 0 { "left_shift_and_zero_point_saturate_high" } else { "left_shift_and_zero_point_saturate_low" }, m, vec![a, bb])
}

/// A pool whose windows along axis 2 all lie in the padding (kernel 2, dilation 2, one pad on
/// each side of a length-1 axis): MaxPool gives −128, AvgPool the zero point.
fn pool_empty(r: &mut Rng, max: bool, include_pad: bool) -> Edge {
    let qa = qz(-7);
    let p = solidml_spec::Pool {
        kernel: vec![2, 2],
        strides: vec![1, 1],
        dilations: vec![2, 1],
        pads_begin: vec![1, 0],
        pads_end: vec![1, 1],
        count_include_pad: include_pad,
        zero_point: qa.zero_point,
    };
    let op = if max { Op::MaxPool(p) } else { Op::AvgPool(p) };
    let m = single(op, vec![t8("x", &[2, 2, 1, 3], qa)], t8("y", &[2, 2, 1, 3], qa));
    (if include_pad { "empty_windows_count_include_pad" } else { "empty_windows" }, m, vec![Value::I8(r.i8s(12))])
}

/// Fixed cases for the edge paths of each op's spec section.
fn edges(op: &str, r: &mut Rng) -> Vec<Edge> {
    let mut e: Vec<Edge> = vec![];
    match op {
        "conv" => {
            // taps entirely in the padding: those outputs are the epilogue of the bias alone
            let c = solidml_spec::Conv {
                kernel: vec![1],
                strides: vec![1],
                dilations: vec![1],
                pads_begin: vec![2],
                pads_end: vec![2],
                groups: 1,
                input_zero_point: 5,
                weights: vec![90, -90],
                bias: vec![700, -1300],
                epilogue: Epilogue {
                    multipliers: vec![Multiplier::from_real(0.01)],
                    output_zero_point: 3,
                    clamp_min: -128,
                    clamp_max: 127,
                },
            };
            let m = single(Op::Conv(c), vec![t8("x", &[2, 1, 3], qz(5))], t8("y", &[2, 2, 7], qz(3)));
            e.push(("windows_in_padding_give_the_bias", m, vec![Value::I8(r.i8s(6))]));
            let c = solidml_spec::Conv {
                kernel: vec![1, 1],
                strides: vec![1, 1],
                dilations: vec![1, 1],
                pads_begin: vec![0, 0],
                pads_end: vec![0, 0],
                groups: 1,
                input_zero_point: 0,
                weights: vec![127, -127],
                bias: vec![0, 0],
                epilogue: Epilogue { multipliers: vec![HUGE, HUGE], output_zero_point: 127, clamp_min: -128, clamp_max: 127 },
            };
            let m = single(Op::Conv(c), vec![t8("x", &[1, 1, 2, 2], qz(0))], t8("y", &[1, 2, 2, 2], qz(127)));
            e.push(("left_shift_and_zero_point_saturate", m, vec![i8s(&[127, -128, 0, 1])]));
            // three groups, one output position: each group writes its own channel
            let (weights, bias) = weights_bias(r, 3, 4);
            let c = solidml_spec::Conv {
                kernel: vec![2, 2],
                strides: vec![1, 1],
                dilations: vec![1, 1],
                pads_begin: vec![0, 0],
                pads_end: vec![0, 0],
                groups: 3,
                input_zero_point: -6,
                weights,
                bias,
                epilogue: Epilogue {
                    multipliers: vec![Multiplier::from_real(0.003)],
                    output_zero_point: 0,
                    clamp_min: -128,
                    clamp_max: 127,
                },
            };
            let m = single(Op::Conv(c), vec![t8("x", &[1, 3, 2, 2], qz(-6))], t8("y", &[1, 3, 1, 1], qz(0)));
            e.push(("groups_one_output_position", m, vec![Value::I8(r.i8s(12))]));
        }
        "convtranspose" => {
            // stride 3 with kernel 1: two of every three positions (and the output padding) get only the bias
            let c = solidml_spec::ConvTranspose {
                kernel: vec![1, 1],
                strides: vec![3, 3],
                dilations: vec![1, 1],
                pads_begin: vec![0, 0],
                pads_end: vec![0, 0],
                output_padding: vec![2, 2],
                groups: 1,
                input_zero_point: -4,
                weights: vec![77],
                bias: vec![-2500],
                epilogue: Epilogue {
                    multipliers: vec![Multiplier::from_real(0.004)],
                    output_zero_point: 11,
                    clamp_min: -128,
                    clamp_max: 127,
                },
            };
            let m = single(Op::ConvTranspose(c), vec![t8("x", &[1, 1, 2, 2], qz(-4))], t8("y", &[1, 1, 6, 6], qz(11)));
            e.push(("positions_without_taps_give_the_bias", m, vec![Value::I8(r.i8s(4))]));
        }
        "dense" => {
            e.push(dense_saturating(r, 127));
            e.push(dense_saturating(r, -128));
        }
        "densewide" => {
            let wide = |dtype: DType, zp: i32, shape: &[u32], name: &str| TensorInfo {
                name: name.into(),
                shape: shape.to_vec(),
                dtype,
                quant: Some(Quant { scale: 0.001, zero_point: zp }),
            };
            let layer = |weights: Vec<i16>, bias: Vec<i64>, multipliers: Vec<Multiplier>, (zi, zo): (i32, i32), (lo, hi): (i32, i32)| {
                solidml_spec::DenseWide {
                    in_features: (weights.len() / bias.len()) as u32,
                    out_features: bias.len() as u32,
                    input_zero_point: zi,
                    weights,
                    bias,
                    multipliers,
                    output_zero_point: zo,
                    clamp_min: lo,
                    clamp_max: hi,
                }
            };
            // the accumulator at its bound 2^62 both ways, the largest multiplier: no
            // intermediate saturation, the final clamp decides (and M = 0 gives the zero point)
            let k = 4;
            let used = 4 * 32767 * 65535i64;
            let d = layer(
                [vec![-32767; k], vec![32767; k]].concat(),
                vec![(1 << 62) - used, -(1i64 << 62) + used],
                vec![HUGE, Multiplier { multiplier: 0, shift: 0 }],
                (32767, -7),
                (i16::MIN as i32, i16::MAX as i32),
            );
            let m = single(Op::DenseWide(d), vec![wide(DType::I16, 32767, &[2, k as u32], "x")], wide(DType::I16, -7, &[2, 2], "y"));
            e.push((
                "extreme_accumulators_largest_multiplier",
                m,
                vec![Value::I16(vec![-32768; 4].into_iter().chain([32767; 4]).collect())],
            ));
            // M = 1/2 on odd accumulators: halves away from zero on both signs
            let half = Multiplier { multiplier: 1 << 30, shift: 0 };
            let d = layer(vec![1, 1], vec![0, 0], vec![half], (0, 0), (i8::MIN as i32, i8::MAX as i32));
            let m = single(Op::DenseWide(d), vec![wide(DType::I16, 0, &[4, 1], "x")], wide(DType::I8, 0, &[4, 2], "y"));
            e.push(("halves_away_from_zero", m, vec![Value::I16(vec![1, -1, 3, -255])]));
            // the accumulator itself, beyond the i32 range: the clamp is the type's
            let d = layer(vec![32767, 32767, -32767], vec![1 << 40, -(1 << 40), 12345], vec![], (-32768, 0), (i32::MIN, i32::MAX));
            let m = single(Op::DenseWide(d), vec![wide(DType::I16, -32768, &[2, 1], "x")], wide(DType::I32, 0, &[2, 3], "y"));
            e.push(("accumulator_output_clamped_to_i32", m, vec![Value::I16(vec![32767, -32768])]));
            // a 16x8 layer from int8 codes to int16 with a fused ReLU (clamp at the zero point)
            let d = layer(vec![127, -127, 5, -3, 0, 127], vec![-100, 100], vec![Multiplier::from_real(3.7)], (-128, -5), (-5, 32767));
            let m = single(Op::DenseWide(d), vec![wide(DType::I8, -128, &[2, 3], "x")], wide(DType::I16, -5, &[2, 2], "y"));
            e.push(("int8_in_relu_int16_out", m, vec![Value::I8(vec![127, -128, 0, -1, 1, 127])]));
        }
        "matmul" => {
            // K at its bound with every product at its extreme: |acc| = 255² · 33025, just under 2^31
            const K: usize = 33025;
            let mm = solidml_spec::MatMul {
                a_zero_point: -128,
                b_zero_point: 127,
                multiplier: Multiplier::from_real(1.0 / 33554432.0),
                output_zero_point: 10,
            };
            let m =
                single(Op::MatMul(mm), vec![t8("a", &[1, K as u32], qz(-128)), t8("b", &[K as u32, 1], qz(127))], t8("y", &[1, 1], qz(10)));
            e.push(("largest_k_extreme_accumulator", m, vec![Value::I8(vec![127; K]), Value::I8(vec![-128; K])]));
            let mm = solidml_spec::MatMul { a_zero_point: 0, b_zero_point: 0, multiplier: HUGE, output_zero_point: 127 };
            let m = single(Op::MatMul(mm), vec![t8("a", &[2, 2], qz(0)), t8("b", &[2, 2], qz(0))], t8("y", &[2, 2], qz(127)));
            e.push(("left_shift_and_zero_point_saturate", m, vec![i8s(&[1, 0, -1, 0]), i8s(&[100, -100, 0, 1])]));
        }
        "add" | "sub" | "mul" => {
            let kind = match op {
                "add" => BinaryKind::Add,
                "sub" => BinaryKind::Sub,
                _ => BinaryKind::Mul,
            };
            e.push(binary_saturating(r, kind, 127));
            e.push(binary_saturating(r, kind, -128));
        }
        "instancenorm" => {
            // channel 0 a constant plane (r = 0 with epsilon_term 0: the output is the beta term), channel 1 not
            let inn = solidml_spec::InstanceNorm {
                input_zero_point: 3,
                output_zero_point: -5,
                epsilon_term: 0,
                gamma_q16: vec![1 << 22, -(1 << 21)],
                beta_q16: vec![-(1 << 20) - (1 << 15), 1 << 21],
            };
            let m = single(Op::InstanceNorm(inn), vec![t8("x", &[2, 2, 2, 2], qz(3))], t8("y", &[2, 2, 2, 2], qz(-5)));
            let mut x = vec![];
            for n in 0..2 {
                x.extend([if n == 0 { 3 } else { -100 }; 4]);
                x.extend(r.i8s(4).iter().map(|&v| v as i64));
            }
            e.push(("constant_plane_r_zero", m, vec![i8s(&x)]));
            // one-element planes: every r is 0 with epsilon_term 0
            let inn = solidml_spec::InstanceNorm {
                input_zero_point: 0,
                output_zero_point: 0,
                epsilon_term: 0,
                gamma_q16: vec![1 << 30; 3],
                beta_q16: vec![1 << 36, -(1 << 36), 98304],
            };
            let m = single(Op::InstanceNorm(inn), vec![t8("x", &[2, 3, 1], qz(0))], t8("y", &[2, 3, 1], qz(0)));
            e.push(("planes_of_one_element", m, vec![Value::I8(r.i8s(6))]));
            // the largest epsilon_term and parameters, extreme inputs
            let inn = solidml_spec::InstanceNorm {
                input_zero_point: -128,
                output_zero_point: 0,
                epsilon_term: 1 << 53,
                gamma_q16: vec![1 << 36, -(1 << 36)],
                beta_q16: vec![-(1 << 36), 1 << 36],
            };
            let m = single(Op::InstanceNorm(inn), vec![t8("x", &[1, 2, 4], qz(-128))], t8("y", &[1, 2, 4], qz(0)));
            e.push(("largest_epsilon_and_parameters", m, vec![i8s(&[127, -128, 127, -128, 127, 127, 127, -128])]));
        }
        "intcompare" => {
            let (max, min) = (i64::MAX, i64::MIN);
            // each kind on one pair of operands at the i64 bounds: three nodes, three outputs
            let node = |kind: CompareKind, y: u32| Node {
                name: format!("op_{kind:?}").to_lowercase(),
                op: Op::IntCompare(IntCompare { kind, true_code: 127, false_code: -128 }),
                inputs: vec![0, 1],
                outputs: vec![y],
            };
            let qb = Quant { scale: 1.0 / 255.0, zero_point: -128 };
            let m = Model {
                tensors: vec![t64("a", &[5]), t64("b", &[5]), t8("equal", &[5], qb), t8("less", &[5], qb), t8("greater", &[5], qb)],
                inputs: vec![0, 1],
                outputs: vec![2, 3, 4],
                nodes: vec![node(CompareKind::Equal, 2), node(CompareKind::Less, 3), node(CompareKind::Greater, 4)],
                ..Model::empty("vector")
            };
            solidml_spec::validate::validate(&m).unwrap_or_else(|e| panic!("invalid edge case: {e}\n{m:?}"));
            let (a, b) = (vec![min, max, min, -1, 0], vec![max, max, min + 1, 0, -1]);
            e.push(("each_kind_at_the_i64_bounds", m, vec![Value::I64(a), Value::I64(b)]));
            // a ≤ b as the compiler writes it: Greater with the codes swapped, broadcast both ways
            let ic = |kind, true_code, false_code, sa: &[u32], sb: &[u32], so: &[u32]| {
                let op = Op::IntCompare(IntCompare { kind, true_code, false_code });
                single(op, vec![t64("a", sa), t64("b", sb)], t8("y", so, qb))
            };
            e.push((
                "less_or_equal_swapped_codes_broadcast",
                ic(CompareKind::Greater, -128, 127, &[2, 1], &[3], &[2, 3]),
                vec![Value::I64(vec![min, 5]), Value::I64(vec![min, 5, 6])],
            ));
            // both codes equal: the output is constant
            e.push((
                "equal_codes_constant_output",
                ic(CompareKind::Less, -7, -7, &[3], &[1], &[3]),
                vec![Value::I64(vec![-1, 0, 1]), Value::I64(vec![0])],
            ));
            // an empty broadcast output: nothing to write
            e.push((
                "empty_broadcast",
                ic(CompareKind::Equal, 1, 0, &[0, 3], &[3], &[0, 3]),
                vec![Value::I64(vec![]), Value::I64(vec![1, 2, 3])],
            ));
        }
        "intbinary" => {
            let ib =
                |kind, sa: &[u32], sb: &[u32], so: &[u32]| single(Op::IntBinary { kind }, vec![t64("a", sa), t64("b", sb)], t64("y", so));
            let (max, min) = (i64::MAX, i64::MIN);
            e.push((
                "add_at_the_i64_bounds",
                ib(IntBinaryKind::Add, &[4], &[4], &[4]),
                vec![Value::I64(vec![max, min, -(1 << 62), max - 5]), Value::I64(vec![0, 0, -(1 << 62), 5])],
            ));
            e.push((
                "mul_at_the_i64_bounds",
                ib(IntBinaryKind::Mul, &[4], &[4], &[4]),
                vec![Value::I64(vec![-(1 << 32), -1, min, 3037000499]), Value::I64(vec![1 << 31, max, 1, 3037000499])],
            ));
            e.push((
                "add_overflow_error",
                ib(IntBinaryKind::Add, &[2, 2], &[2], &[2, 2]),
                vec![Value::I64(vec![1, 2, max, min]), Value::I64(vec![1, 1])],
            ));
            e.push((
                "sub_overflow_error",
                ib(IntBinaryKind::Sub, &[3], &[1], &[3]),
                vec![Value::I64(vec![0, min, min]), Value::I64(vec![1])],
            ));
            e.push((
                "mul_overflow_error",
                ib(IntBinaryKind::Mul, &[1], &[3], &[3]),
                vec![Value::I64(vec![1 << 32]), Value::I64(vec![-(1 << 31), 1 << 31, -(1 << 40)])],
            ));
            // Div, Rem, Mod (spec version 6): every sign pair, the bounds, MIN by −1
            let signs = || vec![Value::I64(vec![7, -7, 7, -7, 6, min, max, min, min]), Value::I64(vec![2, 2, -2, -2, -3, 1, -1, max, -1])];
            e.push(("rem_every_sign_and_the_bounds", ib(IntBinaryKind::Rem, &[9], &[9], &[9]), signs()));
            e.push(("mod_every_sign_and_the_bounds", ib(IntBinaryKind::Mod, &[9], &[9], &[9]), signs()));
            e.push((
                "div_every_sign_and_the_bounds",
                ib(IntBinaryKind::Div, &[8], &[8], &[8]),
                vec![Value::I64(vec![7, -7, 7, -7, 6, min, max, min]), Value::I64(vec![2, 2, -2, -2, -3, 1, -1, max])],
            ));
            e.push((
                "div_overflow_error",
                ib(IntBinaryKind::Div, &[3], &[3], &[3]),
                vec![Value::I64(vec![5, min, 1]), Value::I64(vec![2, -1, 0])],
            ));
            e.push((
                "mod_by_zero_broadcast_error",
                ib(IntBinaryKind::Mod, &[2, 2], &[2], &[2, 2]),
                vec![Value::I64(vec![4, 5, -6, 7]), Value::I64(vec![3, 0])],
            ));
            e.push(("rem_by_zero_error", ib(IntBinaryKind::Rem, &[1], &[2], &[2]), vec![Value::I64(vec![min]), Value::I64(vec![0, 1])]));
            e.push((
                "max_min_at_the_i64_bounds",
                ib(IntBinaryKind::Max, &[2, 3], &[3], &[2, 3]),
                vec![Value::I64(vec![min, 0, max, -1, 1, 5]), Value::I64(vec![max, -1, min])],
            ));
            e.push((
                "min_broadcast_scalar",
                ib(IntBinaryKind::Min, &[], &[4], &[4]),
                vec![Value::I64(vec![0]), Value::I64(vec![min, -1, 1, max])],
            ));
            // And, Or, Xor: the two's-complement bits, signs and bounds included
            let bits = || {
                vec![
                    Value::I64(vec![min, max, -1, -8, 12, 0x5555_5555_5555_5555]),
                    Value::I64(vec![-1, min, 5, 7, -3, -0x5555_5555_5555_5556]),
                ]
            };
            e.push(("and_signs_and_bounds", ib(IntBinaryKind::And, &[6], &[6], &[6]), bits()));
            e.push(("or_signs_and_bounds", ib(IntBinaryKind::Or, &[6], &[6], &[6]), bits()));
            e.push((
                "xor_broadcast",
                ib(IntBinaryKind::Xor, &[2, 3], &[3], &[2, 3]),
                vec![Value::I64(vec![min, -1, 0, 1, max, 6]), Value::I64(vec![-1, max, 3])],
            ));
        }
        "view" => {
            let qa = q(r);
            let m = single(Op::View(View { offset: 4, strides: vec![] }), vec![t8("x", &[2, 3], qa)], t8("y", &[], qa));
            e.push(("scalar_output", m, vec![Value::I8(r.i8s(6))]));
            let m = single(Op::View(View { offset: 1, strides: vec![0, 0, 0] }), vec![t64("x", &[2])], t64("y", &[2, 3, 2]));
            e.push(("broadcast_one_element_i64", m, vec![Value::I64(vec![-7, i64::MAX])]));
            let m =
                single(Op::View(View { offset: 11, strides: vec![-1, 1 << 40, -4] }), vec![t8("x", &[3, 4], qa)], t8("y", &[4, 1, 3], qa));
            e.push(("transpose_reversed_size_one_axis", m, vec![Value::I8(r.i8s(12))]));
        }
        "pad" => {
            let qa = q(r);
            let p = |mode, pb: Vec<u32>, pe: Vec<u32>, value| Op::Pad(solidml_spec::Pad { pads_begin: pb, pads_end: pe, mode, value });
            let m = single(p(PadMode::Reflect, vec![2, 1, 0], vec![2, 1, 1], 0), vec![t8("x", &[3, 2, 2], qa)], t8("y", &[7, 4, 3], qa));
            e.push(("reflect_widest", m, vec![Value::I8(r.i8s(12))]));
            let m = single(p(PadMode::Edge, vec![2, 0], vec![1, 3], 0), vec![t8("x", &[1, 1], qa)], t8("y", &[4, 4], qa));
            e.push(("edge_of_one_element", m, vec![Value::I8(r.i8s(1))]));
            let m = single(p(PadMode::Constant, vec![1], vec![1], i64::MIN), vec![t64("x", &[2])], t64("y", &[4]));
            e.push(("constant_i64_min", m, vec![Value::I64(vec![1, -1])]));
        }
        "concat" => {
            let qa = q(r);
            let m = single(Op::Concat { axis: 0 }, vec![t8("a", &[2, 3], qa)], t8("y", &[2, 3], qa));
            e.push(("one_input", m, vec![Value::I8(r.i8s(6))]));
        }
        "maxpool" | "avgpool" => {
            let max = op == "maxpool";
            e.push(pool_empty(r, max, false));
            if !max {
                e.push(pool_empty(r, max, true));
            } else {
                // every input at −128: padding never wins
                let qa = qz(40);
                let p = solidml_spec::Pool {
                    kernel: vec![3],
                    strides: vec![1],
                    dilations: vec![1],
                    pads_begin: vec![2],
                    pads_end: vec![2],
                    count_include_pad: false,
                    zero_point: 40,
                };
                let m = single(Op::MaxPool(p), vec![t8("x", &[1, 2, 3], qa)], t8("y", &[1, 2, 5], qa));
                e.push(("padding_never_wins", m, vec![Value::I8(vec![-128; 6])]));
            }
        }
        "reduce" => {
            let rd = |kind, axes: Vec<u32>, multiplier, zo| {
                Op::Reduce(solidml_spec::Reduce { kind, axes, input_zero_point: 0, multiplier, output_zero_point: zo })
            };
            // means of exact halves round away from zero: (1 + 0)/2 → 1, (−1 + 0)/2 → −1, (3 + 4)/2 → 4
            let m =
                single(rd(ReduceKind::Mean, vec![1], Multiplier::from_real(1.0), 0), vec![t8("x", &[4, 2], qz(0))], t8("y", &[4], qz(0)));
            e.push(("mean_halves_away_from_zero", m, vec![i8s(&[1, 0, -1, 0, 3, 4, -3, -4])]));
            let m = single(rd(ReduceKind::Sum, vec![0, 1], HUGE, 127), vec![t8("x", &[2, 3], qz(0))], t8("y", &[], qz(127)));
            e.push(("sum_saturates_to_a_scalar", m, vec![Value::I8(vec![127, 127, 127, 127, 127, 100])]));
        }
        "softmax" => {
            let sm = |axis| Op::Softmax(solidml_spec::Softmax { axis, exp_table: exp_table(&mut Rng(1), 0.05) });
            let qo = Quant { scale: 1.0 / 256.0, zero_point: -128 };
            let m = single(sm(1), vec![t8("x", &[4, 4], qz(0))], t8("y", &[4, 4], qo));
            let x = i8s(&[127, -128, -128, -128, 5, 5, 5, 5, -128, -128, -128, 127, 127, 127, -128, -128]);
            e.push(("extreme_lanes", m, vec![x]));
            let m = single(sm(0), vec![t8("x", &[1, 3], qz(0))], t8("y", &[1, 3], qo));
            e.push(("lanes_of_one_probability_one", m, vec![Value::I8(r.i8s(3))]));
            let m = single(sm(0), vec![t8("x", &[32768], qz(0))], t8("y", &[32768], qo));
            e.push(("longest_lane_sum_2_pow_31", m, vec![Value::I8(vec![-9; 32768])]));
        }
        "logsoftmax" => {
            let ls = |axis, scale_q16: i32, qo: Quant| {
                let s = scale_q16 as f32 / 65536.0;
                Op::LogSoftmax(solidml_spec::LogSoftmax {
                    axis,
                    exp_table: exp_table(&mut Rng(1), s),
                    ln_table: ln_table(),
                    input_scale_q16: scale_q16,
                    multiplier: Multiplier::from_real(1.0 / (65536.0 * qo.scale as f64)),
                    output_zero_point: qo.zero_point,
                })
            };
            let qo = Quant { scale: 4.0, zero_point: 127 };
            let m = single(ls(1, 1 << 22, qo), vec![t8("x", &[3, 4], qz(0))], t8("y", &[3, 4], qo));
            e.push(("largest_input_scale_extreme_lanes", m, vec![i8s(&[127, -128, -128, -128, 5, 5, 5, 5, -128, 127, 127, -128])]));
            let qo = Quant { scale: 0.05, zero_point: 127 };
            let m = single(ls(0, 3277, qo), vec![t8("x", &[16384], qz(0))], t8("y", &[16384], qo));
            e.push(("longest_lane_sum_2_pow_30", m, vec![Value::I8(vec![33; 16384])]));
        }
        "argmax" => {
            for (name, last) in [("ties_first_index", false), ("ties_last_index", true)] {
                let m = single(Op::ArgMax { axis: 1, select_last_index: last }, vec![t8("x", &[3, 5], q(r))], t64("y", &[3]));
                e.push((name, m, vec![i8s(&[3, 7, 7, 1, 7, -128, -128, -128, -128, -128, 127, 0, 0, 0, 127])]));
            }
        }
        "intlut" => {
            // every code once, the i64 extremes, 0 and ±1 among the entries
            let table: Vec<i64> = (0..256)
                .map(|i| match i {
                    0 => i64::MIN,
                    255 => i64::MAX,
                    127 => -1,
                    128 => 0,
                    129 => 1,
                    i => (i as i64 - 128) * 36_028_797_018_963_968 + i as i64,
                })
                .collect();
            let qx = q(r);
            let m = single(Op::IntLut { table: table.clone() }, vec![t8("x", &[256], qx)], t64("y", &[256]));
            e.push(("every_code_i64_extremes", m, vec![i8s(&(-128..=127).collect::<Vec<i64>>())]));
            let m = single(Op::IntLut { table }, vec![t8("x", &[2, 0], qx)], t64("y", &[2, 0]));
            e.push(("empty_input", m, vec![i8s(&[])]));
        }
        "take" => {
            let tk = |table: Vec<i64>, n: u32| single(Op::Take { table }, vec![t64("x", &[n])], t64("y", &[n]));
            e.push(("i64_extremes", tk(vec![i64::MIN, i64::MAX, 0], 4), vec![Value::I64(vec![1, 0, 2, 1])]));
            e.push(("index_equal_to_length_error", tk(vec![5, 6, 7], 3), vec![Value::I64(vec![0, 3, 1])]));
            e.push(("negative_index_error", tk(vec![5, 6, 7], 2), vec![Value::I64(vec![2, -1])]));
            e.push(("first_bad_index_reported_error", tk(vec![5, 6, 7], 3), vec![Value::I64(vec![i64::MAX, -1, 1])]));
        }
        "gatherdynamic" => {
            let qa = q(r);
            let gd = |axis, xs: &[u32], is: &[u32], ys: &[u32], i64_data: bool| {
                let x = if i64_data { t64("x", xs) } else { t8("x", xs, qa) };
                let y = if i64_data { t64("y", ys) } else { t8("y", ys, qa) };
                single(Op::GatherDynamic { axis }, vec![x, t64("idx", is)], y)
            };
            e.push(("negative_indices", gd(1, &[2, 3], &[4], &[2, 4], false), vec![Value::I8(r.i8s(6)), Value::I64(vec![-1, -3, -2, 0])]));
            e.push((
                "scalar_index_i64_data",
                gd(0, &[3, 2], &[], &[2], true),
                vec![Value::I64(vec![1, 2, 3, 4, i64::MIN, i64::MAX]), Value::I64(vec![-1])],
            ));
            e.push(("index_equal_to_length_error", gd(0, &[3], &[2], &[2], false), vec![Value::I8(r.i8s(3)), Value::I64(vec![2, 3])]));
            e.push((
                "index_below_minus_length_error",
                gd(1, &[2, 3], &[2, 1], &[2, 2, 1], false),
                vec![Value::I8(r.i8s(6)), Value::I64(vec![-3, -4])],
            ));
        }
        "topk" => {
            // both outputs of one ONNX TopK, as the compiler emits them: two nodes on one input
            let both = |axis: u32, k: u32, largest: bool, x: TensorInfo, ys: &[u32]| {
                let values = TensorInfo { name: "values".into(), shape: ys.to_vec(), ..x.clone() };
                let node = |output, y: u32| Node {
                    name: format!("op_{}", if output == TopKOutput::Values { "values" } else { "indices" }),
                    op: Op::TopK { axis, k, largest, output },
                    inputs: vec![0],
                    outputs: vec![y],
                };
                let m = Model {
                    tensors: vec![x, values, t64("indices", ys)],
                    inputs: vec![0],
                    outputs: vec![1, 2],
                    nodes: vec![node(TopKOutput::Values, 1), node(TopKOutput::Indices, 2)],
                    ..Model::empty("vector")
                };
                solidml_spec::validate::validate(&m).unwrap_or_else(|e| panic!("invalid edge case: {e}\n{m:?}"));
                m
            };
            // ties among the largest and among the smallest: the lower index first either way
            let x = i8s(&[3, 7, 7, -128, 7, 3, -128, -128, -128, -128, 127, 0, 0, 0, 127]);
            e.push(("ties_largest_lower_index_first", both(1, 4, true, t8("x", &[3, 5], q(r)), &[3, 4]), vec![x.clone()]));
            e.push(("ties_smallest_lower_index_first", both(1, 3, false, t8("x", &[3, 5], q(r)), &[3, 3]), vec![x]));
            // i64 extremes and ties along axis 0 (inner lanes), a whole sort (k = dim)
            let x = Value::I64(vec![i64::MAX, 0, 5, i64::MIN, -1, 5, i64::MAX, i64::MIN, 5, 0, -1, -1]);
            e.push(("i64_extremes_whole_sort", both(0, 4, false, t64("x", &[4, 3]), &[4, 3]), vec![x]));
            // k = 0: nothing to write
            e.push(("k_zero_empty_output", both(1, 0, true, t8("x", &[2, 3], q(r)), &[2, 0]), vec![Value::I8(r.i8s(6))]));
        }
        "gather" => {
            let m = single(Op::Gather { axis: 0, indices: vec![3, 3, 0] }, vec![t64("x", &[4])], t64("y", &[3]));
            e.push(("repeated_indices_i64", m, vec![Value::I64(vec![i64::MIN, 1, 2, i64::MAX])]));
        }
        "cumsum" => {
            for (name, excl, rev) in [("exclusive_empty_prefix", true, false), ("exclusive_reverse_empty_prefix", true, true)] {
                let c = solidml_spec::CumSum {
                    axis: 1,
                    exclusive: excl,
                    reverse: rev,
                    input_zero_point: 0,
                    multiplier: HUGE,
                    output_zero_point: 127,
                };
                let m = single(Op::CumSum(c), vec![t8("x", &[2, 3], qz(0))], t8("y", &[2, 3], qz(127)));
                e.push((name, m, vec![i8s(&[1, -1, 0, -128, 127, 127])]));
            }
        }
        "lrn" => {
            // a two-entry table with sum_shift 0: every Q ≥ 1 uses the last entry
            let l = solidml_spec::Lrn {
                size: 3,
                input_zero_point: 0,
                output_zero_point: 0,
                sum_shift: 0,
                factors: vec![1 << 16, 1 << 15],
                multiplier: Multiplier::from_real(1.0 / 65536.0),
            };
            let m = single(Op::Lrn(l), vec![t8("x", &[1, 3, 2], qz(0))], t8("y", &[1, 3, 2], qz(0)));
            e.push(("q_beyond_the_table", m, vec![i8s(&[0, 1, 0, 90, 0, -127])]));
            // the largest factor times the largest |d|: 255 · 2^23 < 2^31
            let l = solidml_spec::Lrn {
                size: 6,
                input_zero_point: -128,
                output_zero_point: 0,
                sum_shift: 40,
                factors: vec![1 << 23],
                multiplier: Multiplier::from_real(1.0 / 16777216.0),
            };
            let m = single(Op::Lrn(l), vec![t8("x", &[2, 2], qz(-128))], t8("y", &[2, 2], qz(0)));
            e.push(("largest_factor_window_wider_than_c", m, vec![i8s(&[127, -128, -128, 127])]));
        }
        "normalize" => {
            for (name, kind) in [("l1_zero_row_and_one_hot", NormKind::L1), ("l2_zero_row_and_one_hot", NormKind::L2)] {
                let nm = solidml_spec::Normalize { kind, input_zero_point: 5, output_zero_point: 0, scale_log2: 7 };
                let qo = Quant { scale: 1.0 / 128.0, zero_point: 0 };
                let m = single(Op::Normalize(nm), vec![t8("x", &[3, 4], qz(5))], t8("y", &[3, 4], qo));
                let mut x = vec![5, 5, 5, 5, 5, 5, -9, 5];
                x.extend(r.i8s(4).iter().map(|&v| v as i64));
                e.push((name, m, vec![i8s(&x)]));
            }
        }
        "chain" => {
            for name in ["classifier", "classifier_2"] {
                let m = classifier(r);
                let ins = draw_inputs(r, &m);
                e.push((name, m, ins));
            }
            // a label index from a model input, out of range: the Take fails mid-chain
            let mut b = B::new(r);
            let x = b.input(vec![2, 2], DType::I64, None);
            let v = b.tensor(vec![4], DType::I64, None);
            let v = b.node(Op::View(View { offset: 0, strides: vec![1] }), vec![x], v);
            let y = b.tensor(vec![4], DType::I64, None);
            let y = b.node(Op::Take { table: vec![10, 20, 30] }, vec![v], y);
            e.push(("view_take_index_error", b.finish(vec![y]), vec![Value::I64(vec![0, 2, 7, -1])]));
        }
        _ => {}
    }
    e
}

/// Cases per file.
fn cases(op: &str) -> usize {
    SPEC_VECTORS.iter().find(|(o, _)| *o == op).unwrap().1
}

/// Compact JSON, one case per line (readable diffs, small files).
fn render(v: &serde_json::Value) -> String {
    let cases: Vec<String> = v["cases"].as_array().unwrap().iter().map(|c| serde_json::to_string(c).unwrap()).collect();
    format!("{{\"op\": {}, \"spec\": {}, \"cases\": [\n{}\n]}}\n", v["op"], v["spec"], cases.join(",\n"))
}

fn ints(v: &Value) -> serde_json::Value {
    json!(value_i64(v))
}

/// The ops whose cases may end in a run-time error (spec "Model and execution").
const CAN_FAIL: &[&str] = &["take", "gatherdynamic", "intbinary", "chain"];

/// The section of docs/spec.md a file's op is defined in.
fn anchor(op: &str) -> String {
    if op == "chain" { "docs/spec.md#model-and-execution".into() } else { format!("docs/spec.md#op-{op}") }
}

fn vectors(op: &str) -> serde_json::Value {
    let seed = 0x5eed_0000 ^ op.bytes().fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
    let edges = edges(op, &mut Rng(seed ^ 0xed9e_0001));
    let mut r = Rng(seed);
    let random = cases(op).checked_sub(edges.len()).unwrap_or_else(|| panic!("{op}: fewer cases listed than edge cases"));
    let mut all: Vec<(String, Model, Vec<Value>)> = vec![];
    for i in 0..random {
        let model = generate(op, &mut r);
        let inputs = draw_inputs(&mut r, &model);
        all.push((format!("{op}_{i}"), model, inputs));
    }
    for (i, (edge, model, inputs)) in edges.into_iter().enumerate() {
        all.push((format!("{op}_{}_{edge}", random + i), model, inputs));
    }
    let cases: Vec<serde_json::Value> = all
        .into_iter()
        .map(|(name, model, inputs)| {
            let exec = CpuExecutor::new(&model).unwrap_or_else(|e| panic!("{name}: {e}"));
            let artifact = solidml_spec::encode(&model).unwrap();
            let mut case = json!({ "name": name, "model": model, "artifact": format!("0x{}", hex::encode(&artifact)), "inputs": inputs.iter().map(ints).collect::<Vec<_>>() });
            match exec.run(&inputs) {
                Ok(outs) => {
                    assert!(!name.ends_with("_error"), "{name}: expected a run-time error");
                    case["outputs"] = json!(outs.iter().map(ints).collect::<Vec<_>>());
                }
                Err(e) => {
                    // only the run-time errors of the spec, and only where a case expects one
                    assert!(CAN_FAIL.contains(&op) && matches!(e, ExecError::IndexOutOfRange { .. } | ExecError::Overflow { .. } | ExecError::DivisionByZero { .. }), "{name}: {e}");
                    assert!(name.ends_with("_error") || op == "chain", "{name}: unexpected run-time error {e}");
                    case["error"] = json!(e.to_string());
                }
            }
            case
        })
        .collect();
    json!({ "op": op, "spec": anchor(op), "cases": cases })
}

#[test]
fn spec_vectors_match_the_committed_files() {
    let dir = repo().join("docs/spec/vectors");
    let bless = std::env::var("SOLIDML_BLESS").is_ok_and(|v| v == "1");
    let mut stale = vec![];
    for (op, _) in SPEC_VECTORS {
        let text = render(&vectors(op));
        let path = dir.join(format!("{op}.json"));
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(&text) {
            stale.push(op.to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "spec vectors differ for {stale:?}: the CPU executor changed behaviour, or run with SOLIDML_BLESS=1 after a deliberate spec change"
    );
}

#[test]
fn committed_vectors_replay_on_the_cpu_executor() {
    // Replays the files as another executor would: decode the artifact, run, compare.
    if std::env::var("SOLIDML_BLESS").is_ok_and(|v| v == "1") {
        return; // the files are being rewritten by the other test
    }
    // every file of the directory, each with exactly its listed number of cases
    let (mut ran, mut errors) = (vec![], 0);
    for (op, path, _) in spec_vector_files() {
        let mut count = 0;
        for case in vector_cases(&path) {
            assert!(case.name.starts_with(&format!("{op}_")), "{}: case {} of another op", path.display(), case.name);
            let got = CpuExecutor::new(&case.model).unwrap().run(&case.inputs);
            match &case.expected {
                Expected::Outputs(want) => assert_eq!(&got.unwrap().iter().map(value_i64).collect::<Vec<_>>(), want, "{}", case.name),
                Expected::Error(want) => {
                    assert_eq!(got.err().map(|e| e.to_string()).as_ref(), Some(want), "{}", case.name);
                    errors += 1;
                }
            }
            count += 1;
        }
        ran.push((op, count));
    }
    assert_eq!(ran, SPEC_VECTORS, "spec vector cases replayed on the CPU, per file");
    assert!(errors >= 9, "only {errors} run-time error cases");
    eprintln!("{} cases ({errors} run-time errors) from {} files replayed on the CPU", ran.iter().map(|r| r.1).sum::<usize>(), ran.len());
}
