//! DenseWide (`shaders/dense_wide.wgsl`, spec §Op: DenseWide): for each row `r` of `[…, K]`
//! (int8 or int16 codes) and output feature `j`,
//! `acc = bias[j] + Σ_k w[j, k] · (x[r, k] − zp_in)` exact in i64, then `v = acc` (no
//! multipliers) or `scale_wide(acc, M_j)` exact, and `y = clamp(v + zp_out, clamp_min,
//! clamp_max)` decided on the exact value, written as a code of the output type (int8, int16 or
//! int32, one `i32` word per element). Bit-exact with `solidml_cpu::ops::dense_wide`.
//!
//! WGSL has no 64-bit integers: the accumulator is an i64 on two `u32` words (`arith.wgsl`),
//! each product `w · (x − zp)` exact in i32 (`|w| ≤ 32767`, `|x − zp| ≤ 65535`) added
//! sign-extended; `scale_wide` multiplies `|acc|` by the mantissa into three 32-bit limbs,
//! adds `2^(s−1)` and shifts right by `s = 31 − shift`; the clamp is decided by the sign alone
//! beyond `2^33`, in i64 below.
//!
//! One thread per output element. Its dot product over `K` inputs runs in chunks of `L`
//! inputs (`CHUNK` = 4,096, doubled while fewer than the chunks): one thread per output when
//! `K ≤ L`, else partial i64 sums per (output, chunk) in scratch and one thread per output
//! summing them, over batches of ≤ 2^21 partials. No invocation loops more than
//! max(4,096, 2·√K) times (16,384 at the 2^28-element cap).

use solidml_spec::DenseWide;

use super::{Builder, CHUNK, NodeRef, dispatch_batched, mult_words, numel};
use crate::GpuError;
use crate::executor::i64_words;
use crate::shaders::Shader;

/// `dense_wide.wgsl`: DenseWide, int8 or int16 in, an exact i64 accumulator and
/// `scale_wide` on emulated 64/96-bit integers, int8, int16 or int32 out
/// (spec §Op: DenseWide).
pub(crate) const DENSE_WIDE: Shader = crate::shader!("dense_wide", false);

/// The shaders of this file (`crate::ops::all_shaders`).
pub(crate) const SHADERS: &[Shader] = &[DENSE_WIDE];

/// Weights two to a word (index `i` in word `i / 2`, the low half for an even `i`).
pub(crate) fn pack_i16(weights: &[i16]) -> impl Iterator<Item = u32> + '_ {
    weights.chunks(2).map(|p| p[0] as u16 as u32 | (p.get(1).map_or(0, |&w| w as u16 as u32) << 16))
}

/// The chunk length `L` and chunk count of a dot product over `k` inputs: `L` from `CHUNK`,
/// doubled while `L² < k`, so both the chunk and the count of chunks stay ≤ max(CHUNK, 2·√k).
pub(crate) fn chunking(k: u64) -> (u64, u64) {
    let mut len = CHUNK;
    while len * len < k {
        len *= 2;
    }
    (len, k.div_ceil(len).max(1))
}

pub(crate) fn build(b: &mut Builder<'_>, n: &NodeRef<'_>, d: &DenseWide) -> Result<(), GpuError> {
    let k = d.in_features as u64;
    let mut data = i64_words(&d.bias);
    let mult_off = data.len();
    data.extend(d.multipliers.iter().flat_map(|&m| mult_words(m)));
    let w_off = data.len();
    data.extend(pack_i16(&d.weights));
    let total = numel(&n.output().shape);
    let (len, chunks) = chunking(k);
    let mut params = vec![
        total as u32,
        d.in_features,
        d.out_features,
        d.multipliers.len() as u32,
        mult_off as u32,
        w_off as u32,
        d.input_zero_point as u32,
        d.output_zero_point as u32,
        d.clamp_min as u32,
        d.clamp_max as u32,
        chunks as u32,
        len as u32,
        0,
        0,
    ];
    let buf = b.data(&format!("{} weights", n.label()), &data)?;
    let mut binds = n.binds(b, 1);
    binds.data = buf.as_ref();
    if chunks <= 1 {
        b.dispatch(DENSE_WIDE, "main", total, &params, binds)?;
    } else {
        dispatch_batched(b, DENSE_WIDE, ("partial", "combine"), total, chunks, 2, &mut params, 12, binds)?;
    }
    if let Some(buf) = buf {
        b.keep(buf);
    }
    Ok(())
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::DenseWide`] (`solidml_spec::for_each_op!`).
    pub(crate) fn dense_wide(b: &mut super::Builder<'_>, n: &super::NodeRef<'_>, op: &solidml_spec::DenseWide) -> super::BuildResult {
        build(b, n, op)
    }
}

#[cfg(test)]
mod tests {
    use solidml_exec::Value;
    use solidml_spec::arith::Multiplier;
    use solidml_spec::{DType, DenseWide, Model, Node, Op, Quant, TensorInfo};

    use super::{chunking, pack_i16};
    use crate::GpuExecutor;
    use crate::tests::{Rng, context};

    #[test]
    fn weights_pack_two_to_a_word_low_half_first() {
        let w = [1i16, -1, 32767, -32767, 5];
        let words: Vec<u32> = pack_i16(&w).collect();
        assert_eq!(words, vec![0xffff_0001, 0x8001_7fff, 5]);
        // unpacked as the shader does (extractBits sign-extends)
        for (i, &x) in w.iter().enumerate() {
            assert_eq!((words[i / 2] >> (16 * (i % 2))) as u16 as i16, x);
        }
    }

    #[test]
    fn chunks_bound_every_loop() {
        for k in [1u64, 4096, 4097, 70_000, 1 << 20, (1 << 24) + 1, 1 << 28] {
            let (len, chunks) = chunking(k);
            assert!(len * chunks >= k && (chunks - 1) * len < k, "{k}");
            assert!(len <= 4096u64.max(2 * k.isqrt() + 2) && chunks <= len, "{k}: {len} × {chunks}");
        }
        assert_eq!(chunking(4096), (4096, 1));
        assert_eq!(chunking(4097), (4096, 2));
        assert_eq!(chunking(1 << 28), (1 << 14, 1 << 14));
    }

    /// The spec's definition (docs/spec.md §Op: DenseWide) in i128, independent of the
    /// shader: the accumulator summed without wrapping (and checked against the validated
    /// bound), then `DenseWide::output_code`.
    fn reference(d: &DenseWide, x: &Value) -> Vec<i64> {
        let (k, n) = (d.in_features as usize, d.out_features as usize);
        let mut y = vec![];
        for r in 0..x.len() / k {
            for j in 0..n {
                let dot: i128 =
                    (0..k).map(|t| d.weights[j * k + t] as i128 * (x.code(r * k + t).unwrap() as i128 - d.input_zero_point as i128)).sum();
                let acc = d.bias[j] as i128 + dot;
                assert!(acc.abs() <= 1 << 62, "test layer beyond the validated accumulator bound");
                y.push(d.output_code(j, acc as i64));
            }
        }
        y
    }

    fn model(d: DenseWide, rows: u32, input: DType, output: DType) -> Model {
        let t = |name: &str, shape: Vec<u32>, dtype, zero_point| TensorInfo {
            name: name.into(),
            shape,
            dtype,
            quant: Some(Quant { scale: 0.5, zero_point }),
        };
        Model {
            name: "dense_wide".into(),
            tensors: vec![
                t("x", vec![rows, d.in_features], input, d.input_zero_point),
                t("y", vec![rows, d.out_features], output, d.output_zero_point),
            ],
            constants: vec![],
            inputs: vec![0],
            outputs: vec![1],
            nodes: vec![Node { name: "wide".into(), op: Op::DenseWide(d), inputs: vec![0], outputs: vec![1] }],
            input_quant: vec![],
        }
    }

    /// Runs the layer on the GPU and compares every output code with [`reference`]; returns
    /// (outputs, outputs strictly inside the clamp).
    fn check(ctx: &crate::GpuContext, d: &DenseWide, output: DType, x: Value, what: &str) -> (usize, usize) {
        let rows = (x.len() / d.in_features as usize) as u32;
        let m = model(d.clone(), rows, x.dtype(), output);
        solidml_spec::validate::validate(&m).unwrap_or_else(|e| panic!("{what}: {e}"));
        let want = reference(d, &x);
        let got = GpuExecutor::new(ctx, &m).and_then(|e| e.run(&[x])).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(got[0].dtype(), output, "{what}");
        let got: Vec<i64> = (0..got[0].len()).map(|i| got[0].code(i).unwrap() as i64).collect();
        if let Some(i) = (0..want.len()).find(|&i| got.get(i) != Some(&want[i])) {
            panic!("{what}: output {i} is {:?}, the spec gives {} ({d:?})", got.get(i), want[i]);
        }
        assert_eq!(got.len(), want.len(), "{what}");
        (want.len(), want.iter().filter(|&&v| v > d.clamp_min as i64 && v < d.clamp_max as i64).count())
    }

    fn range(r: &mut Rng, lo: i64, hi: i64) -> i64 {
        (lo as i128 + (r.next() as u128 % (hi as i128 - lo as i128 + 1) as u128) as i128) as i64
    }

    fn code_range(t: DType) -> (i64, i64) {
        t.code_range().unwrap()
    }

    /// Multipliers at the edges of the contract, and ones that make ties likely.
    const SPECIAL: [Multiplier; 8] = [
        Multiplier { multiplier: i32::MAX, shift: 30 },
        Multiplier { multiplier: 1 << 30, shift: -31 },
        Multiplier { multiplier: i32::MAX, shift: -31 },
        Multiplier { multiplier: 0, shift: 7 },
        Multiplier { multiplier: 1 << 30, shift: 0 },
        Multiplier { multiplier: 1 << 30, shift: -1 },
        Multiplier { multiplier: 1 << 30, shift: -2 },
        Multiplier { multiplier: (1 << 30) + 1, shift: -11 },
    ];

    /// A multiplier: special (a third), else a random mantissa with a shift that keeps
    /// `bound · M` near the output's range (half) or any shift.
    fn multiplier(r: &mut Rng, bound: i128, out_bits: u32) -> Multiplier {
        let mantissa = range(r, 1 << 30, i32::MAX as i64) as i32;
        match r.next() % 6 {
            0 | 1 => SPECIAL[(r.next() % SPECIAL.len() as u64) as usize],
            2 | 3 => {
                let log = 128 - bound.max(1).leading_zeros() as i64;
                let shift = (out_bits as i64 - log + range(r, -2, 2)).clamp(-31, 30) as i32;
                Multiplier { multiplier: mantissa, shift }
            }
            _ => Multiplier { multiplier: mantissa, shift: range(r, -31, 30) as i32 },
        }
    }

    /// Random layers, 16x8 and 16x16 weights, int8 and int16 inputs with extreme codes and zero
    /// points, int8 / int16 / int32 outputs, no / one / per-feature multipliers (edges
    /// included), biases up to the validated bound (accumulators near ±2^62), random clamps.
    #[test]
    fn random_layers_match_the_spec() {
        let Some(ctx) = context() else { return };
        let mut r = Rng(0x5eed_0016_0008_0016);
        let (mut outputs, mut inside, mut near_bound) = (0, 0, 0);
        let mut seen = std::collections::HashSet::new();
        for case in 0..240 {
            let wmax: i64 = if case % 2 == 0 { 127 } else { 32767 };
            let input = if case % 4 < 2 { DType::I16 } else { DType::I8 };
            let output = [DType::I8, DType::I16, DType::I32][(case / 4) % 3];
            let nmult = (case / 12) % 3;
            let (k, n, rows) = (range(&mut r, 1, 40) as usize, range(&mut r, 1, 12) as usize, range(&mut r, 1, 4) as usize);
            let (ilo, ihi) = code_range(input);
            let (olo, ohi) = code_range(output);
            let weights: Vec<i16> = (0..k * n)
                .map(|_| match r.next() % 8 {
                    0 | 1 => [wmax, -wmax][(r.next() % 2) as usize],
                    2 => 0,
                    _ => range(&mut r, -wmax, wmax),
                } as i16)
                .collect();
            let zp_in = match r.next() % 5 {
                0 => ilo,
                1 => ihi,
                2 => 0,
                _ => range(&mut r, ilo, ihi),
            } as i32;
            let zp_out = match r.next() % 4 {
                0 => 0,
                1 => [olo, ohi][(r.next() % 2) as usize],
                _ => range(&mut r, olo, ohi),
            } as i32;
            let mut bounds = vec![];
            let bias: Vec<i64> = (0..n)
                .map(|j| {
                    let sw: i64 = weights[j * k..(j + 1) * k].iter().map(|&w| (w as i64).abs() * 65535).sum();
                    let room = (1i64 << 62) - sw;
                    let b = match r.next() % 6 {
                        0 => 0,
                        1 => range(&mut r, -(1 << 16), 1 << 16),
                        2 => [room, -room][(r.next() % 2) as usize],
                        3 => range(&mut r, -room, room),
                        _ => range(&mut r, -(1 << 35), 1 << 35),
                    };
                    bounds.push(sw as i128 + (b as i128).abs());
                    b
                })
                .collect();
            let out_bits = output.packed_bytes() as u32 * 8 - 1;
            let multipliers: Vec<Multiplier> = match nmult {
                0 => vec![],
                1 => vec![multiplier(&mut r, *bounds.iter().max().unwrap(), out_bits)],
                _ => bounds.iter().map(|&b| multiplier(&mut r, b, out_bits)).collect(),
            };
            let (clamp_min, clamp_max) = if r.next().is_multiple_of(3) {
                let (a, b) = (range(&mut r, olo, ohi), range(&mut r, olo, ohi));
                (a.min(b) as i32, a.max(b) as i32)
            } else {
                (olo as i32, ohi as i32)
            };
            let d = DenseWide {
                in_features: k as u32,
                out_features: n as u32,
                input_zero_point: zp_in,
                weights,
                bias,
                multipliers,
                output_zero_point: zp_out,
                clamp_min,
                clamp_max,
            };
            let codes: Vec<i64> = (0..rows * k)
                .map(|_| match r.next() % 8 {
                    0 | 1 => [ilo, ihi][(r.next() % 2) as usize],
                    2 => zp_in as i64,
                    _ => range(&mut r, ilo, ihi),
                })
                .collect();
            near_bound += d.bias.iter().filter(|b| b.unsigned_abs() > 1 << 61).count();
            seen.insert((wmax, input.packed_bytes(), output.packed_bytes(), nmult));
            let (o, i) = check(&ctx, &d, output, Value::from_codes(input, codes), &format!("layer {case}"));
            outputs += o;
            inside += i;
        }
        eprintln!("DenseWide: {outputs} outputs of 240 random layers equal ({inside} inside the clamp, {near_bound} biases near ±2^62)");
        assert_eq!(seen.len(), 2 * 2 * 3 * 3, "every weight width, input, output type and multiplier count");
        assert!(inside * 5 > outputs, "too few outputs inside the clamp: {inside} of {outputs}");
        assert!(near_bound > 50, "{near_bound}");
    }

    /// The scale_wide and clamp edges on chosen accumulators (K = 1, zero weights, the bias is
    /// the accumulator): ±2^62, the rounding ties of the 62-bit shift, products near 2^93, a zero
    /// mantissa, every multiplier of [`SPECIAL`], int32 outputs over the full range with
    /// extreme zero points.
    #[test]
    fn scale_wide_edges_match_the_spec() {
        let Some(ctx) = context() else { return };
        let p62 = 1i64 << 62;
        let mut accs = vec![0, 1, 2, 3, 5, 1 << 30, (1 << 31) - 1, 1 << 31, 3 << 31, (1 << 32) + 1, 1 << 33, p62 - (1 << 31), p62 - 1, p62];
        accs.extend(accs.clone().iter().map(|a| -a));
        let mut total = 0;
        for m in SPECIAL.iter().copied().chain([Multiplier { multiplier: 0, shift: -31 }, Multiplier { multiplier: 1 << 30, shift: 30 }]) {
            for (zp, lo, hi) in
                [(0, i32::MIN, i32::MAX), (i32::MIN, i32::MIN, i32::MAX), (i32::MAX, i32::MIN, i32::MAX), (-7, -1000, 1 << 30)]
            {
                let n = accs.len();
                let d = DenseWide {
                    in_features: 1,
                    out_features: n as u32,
                    input_zero_point: 0,
                    weights: vec![0; n],
                    bias: accs.clone(),
                    multipliers: vec![m],
                    output_zero_point: zp,
                    clamp_min: lo,
                    clamp_max: hi,
                };
                total += check(&ctx, &d, DType::I32, Value::I8(vec![0]), &format!("{m:?}, zp {zp}")).0;
            }
        }
        // no multipliers: the accumulator itself, clamped to int32 and int16
        let d = |zp: i32, lo: i32, hi: i32| DenseWide {
            in_features: 1,
            out_features: accs.len() as u32,
            input_zero_point: 0,
            weights: vec![0; accs.len()],
            bias: accs.clone(),
            multipliers: vec![],
            output_zero_point: zp,
            clamp_min: lo,
            clamp_max: hi,
        };
        total += check(&ctx, &d(-5, i32::MIN, i32::MAX), DType::I32, Value::I8(vec![0]), "no multipliers, int32").0;
        total += check(&ctx, &d(100, -32768, 32767), DType::I16, Value::I8(vec![0]), "no multipliers, int16").0;
        eprintln!("DenseWide scale_wide edges: {total} outputs equal");
    }

    /// Long rows: K = 4,097 (a chunk of one input) and 70,000 (18 chunks; one invocation
    /// walking the row would pass lavapipe's loop limit), int16 extremes against ±32767
    /// weights, products of 2^31 − 2^16 − … summed exactly.
    #[test]
    fn long_rows_run_in_chunks_and_match_the_spec() {
        let Some(ctx) = context() else { return };
        let mut r = Rng(0x1007_0000);
        for k in [4097usize, 70_000] {
            let (n, rows) = (3, 2);
            let weights: Vec<i16> = (0..n * k).map(|i| if i % 3 == 0 { -32767 } else { 32767 }).collect();
            let x: Vec<i16> = (0..rows * k)
                .map(|i| {
                    if i % 5 == 0 {
                        -32768
                    } else if i % 7 == 0 {
                        0
                    } else {
                        32767
                    }
                })
                .collect();
            let scaled = DenseWide {
                in_features: k as u32,
                out_features: n as u32,
                input_zero_point: -32768,
                weights: weights.clone(),
                bias: vec![-(1 << 40), 12345, 1 << 41],
                multipliers: vec![
                    Multiplier { multiplier: 1 << 30, shift: -19 },
                    Multiplier { multiplier: i32::MAX, shift: -25 },
                    Multiplier { multiplier: 0, shift: 0 },
                ],
                output_zero_point: 3,
                clamp_min: i32::MIN,
                clamp_max: i32::MAX,
            };
            let (_, inside) = check(&ctx, &scaled, DType::I32, Value::I16(x.clone()), &format!("K = {k}, scaled"));
            assert!(inside >= 4, "K = {k}: {inside}");
            // no multipliers: inputs near the zero point, so the accumulator stays in int32
            let near: Vec<i16> = (0..rows * k).map(|_| range(&mut r, -3, 3) as i16 + 1000).collect();
            let raw = DenseWide { input_zero_point: 1000, multipliers: vec![], output_zero_point: 0, bias: vec![-7, 0, 1 << 20], ..scaled };
            let (outs, inside) = check(&ctx, &raw, DType::I32, Value::I16(near), &format!("K = {k}, raw"));
            assert_eq!(inside, outs, "K = {k}");
        }
    }
}
