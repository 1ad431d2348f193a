//! Conv (spec §Conv) as a GEMM per batch item and group: the weights — packed once, at
//! prepare — are the broadcast side (rows: output channels), the input patches the lane side
//! (columns: output positions). The patches come from an im2col matrix (`C_in/groups · taps`
//! rows of output positions, int8), which the input itself is for a 1×1 kernel with unit
//! strides and no padding, and which is otherwise copied per tap from runs computed at prepare
//! (`memcpy` for unit strides, an AVX2 gather for stride 2). Lane blocks of [`NR`] positions are
//! interleaved from it pairwise (AVX2), a chunk of them at a time, and every weight block runs
//! against the whole chunk. A tap outside the input reads the input zero point, which the
//! folded bias cancels (it contributes real 0).
//!
//! A depthwise 2-D convolution (one input and one output channel per group) is no GEMM: its
//! reduction is one kernel window, too short for a tile. It runs directly instead
//! ([`Depthwise`]): per channel, the input is copied once into a plane padded with the zero
//! point, and each output row accumulates `w[t] · row(t)` over the taps `t`, every term a
//! contiguous (or strided) run of the padded plane, in exact i32 with the folded bias.

use solidml_exec::{ExecError, Value};
use solidml_spec::Conv;

use super::{PADDING, Window, window_taps};
use crate::{
    epilogue::{Lanes16, Requant, VectorConstants},
    gemm::{Broadcast, Kernel, MR, NR, Tile, pairs},
};

/// A Conv node ready to run.
pub(crate) struct ConvPlan {
    batch: usize,
    cin: usize,
    cout: usize,
    groups: usize,
    /// Taps per kernel (product of the kernel extents).
    klen: usize,
    in_plane: usize,
    out_plane: usize,
    input_zero_point: i16,
    /// Per group, its output channels' weight rows (`C_out/groups × C_in/groups·klen`).
    weights: Vec<Broadcast>,
    /// Per kernel tap `t`, `runs[run_starts[t]..run_starts[t + 1]]`: the output positions of
    /// the tap as runs of what they read (see [`Run`]); empty for a 1×1 kernel with unit strides
    /// and no padding (position `o` reads offset `o`: the input is its own im2col matrix), and
    /// for the depthwise path.
    runs: Vec<Run>,
    run_starts: Vec<usize>,
    /// Lane blocks built at a time (at most [`CHUNK_BYTES`] of them), each weight block then
    /// running against all of them.
    chunk: usize,
    requant: Requant,
    vector: Option<VectorConstants>,
    /// The direct path of a depthwise 2-D convolution, when this is one.
    depthwise: Option<Depthwise>,
}

/// Output positions `o0..o0 + len` of one kernel tap that read input offsets
/// `src, src + step, …` within a plane, or the input zero point (`src` = [`PADDING`]).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Run {
    o0: u32,
    len: u32,
    src: u32,
    step: u32,
}

/// The runs of one tap's row of a tap table (`PADDING` or an offset per output position).
fn runs_of(row: &[u32]) -> Vec<Run> {
    let mut runs: Vec<Run> = vec![];
    for (o, &src) in row.iter().enumerate() {
        if let Some(r) = runs.last_mut() {
            let padding = r.src == PADDING;
            let next = (src == PADDING) == padding
                && (padding
                    || match r.len {
                        1 => src > r.src,
                        _ => src as u64 == r.src as u64 + r.step as u64 * r.len as u64,
                    });
            if next {
                if !padding && r.len == 1 {
                    r.step = src - r.src;
                }
                r.len += 1;
                continue;
            }
        }
        runs.push(Run { o0: o as u32, len: 1, src, step: 1 });
    }
    runs
}

/// Bytes of lane blocks built ahead of the tiles ([`ConvPlan::chunk`]): a quarter of a 512 KiB
/// L2, so they stay there while the weights stream past.
const CHUNK_BYTES: usize = 128 << 10;

/// Accumulator lanes per step of the depthwise loops: four 256-bit vectors of i32.
const LANES: usize = 32;

/// A depthwise 2-D convolution's geometry and weights (see the module docs).
struct Depthwise {
    kernel: [usize; 2],
    strides: [usize; 2],
    dilations: [usize; 2],
    pads: [usize; 2],
    input: [usize; 2],
    output: [usize; 2],
    /// The padded plane's extent: every tap of every window falls inside it.
    padded: [usize; 2],
    /// `[C, kh · kw]`, as i16.
    weights: Vec<i16>,
}

impl Depthwise {
    fn new(c: &Conv, in_shape: &[u32], out_shape: &[u32]) -> Option<Depthwise> {
        let groups = c.groups as usize;
        if c.kernel.len() != 2 || in_shape[1] as usize != groups || out_shape[1] as usize != groups {
            return None;
        }
        let two = |v: &[u32]| [v[0] as usize, v[1] as usize];
        let (kernel, strides, dilations, pads) = (two(&c.kernel), two(&c.strides), two(&c.dilations), two(&c.pads_begin));
        let (input, output) = (two(&in_shape[2..]), two(&out_shape[2..]));
        if input.contains(&0) || output.contains(&0) {
            return None; // nothing to convolve: the general path handles empty planes
        }
        let padded = std::array::from_fn(|d| {
            let reach = (output[d] - 1) * strides[d] + (kernel[d] - 1) * dilations[d] + 1;
            reach.max(pads[d] + input[d])
        });
        Some(Depthwise { kernel, strides, dilations, pads, input, output, padded, weights: c.weights.iter().map(|&w| w as i16).collect() })
    }

    #[inline(always)]
    fn run_channels(&self, plan: &ConvPlan, kernel: Kernel, x: &[i8], out: &mut [i8]) {
        let ([kh, kw], [sh, sw], [dh, dw]) = (self.kernel, self.strides, self.dilations);
        let ([h, w], [oh, ow], [hp, wp]) = (self.input, self.output, self.padded);
        let klen = kh * kw;
        // rows run whole vectors of LANES outputs (no remainder loop): the accumulator row is
        // rounded up, and the plane carries a tail so the last row's extra lanes read inside
        let lanes = ow.next_multiple_of(LANES);
        let mut plane = vec![0i16; hp * wp + (lanes - ow) * sw];
        let mut acc = vec![0i32; lanes];
        for (ch, (src, dst)) in x.chunks_exact(h * w).zip(out.chunks_exact_mut(oh * ow)).enumerate() {
            let c = ch % plan.cout;
            plane[..hp * wp].fill(plan.input_zero_point);
            for (y, row) in src.chunks_exact(w).enumerate() {
                let at = (y + self.pads[0]) * wp + self.pads[1];
                for (p, &v) in plane[at..at + w].iter_mut().zip(row) {
                    *p = v as i16;
                }
            }
            let taps = &self.weights[c * klen..(c + 1) * klen];
            for (oy, dst_row) in dst.chunks_exact_mut(ow).enumerate() {
                acc.fill(0);
                for (ky, taps_row) in taps.chunks_exact(kw).enumerate() {
                    for (kx, &wt) in taps_row.iter().enumerate() {
                        let wt = wt as i32;
                        let base = (oy * sh + ky * dh) * wp + kx * dw;
                        let row = &plane[base..base + (lanes - 1) * sw + 1];
                        match sw {
                            1 => acc.iter_mut().zip(row).for_each(|(a, &v)| *a = a.wrapping_add(wt.wrapping_mul(v as i32))),
                            2 => {
                                for (i, a) in acc.iter_mut().enumerate() {
                                    *a = a.wrapping_add(wt.wrapping_mul(row[2 * i] as i32));
                                }
                            }
                            _ => acc
                                .iter_mut()
                                .zip(row.iter().step_by(sw))
                                .for_each(|(a, &v)| *a = a.wrapping_add(wt.wrapping_mul(v as i32))),
                        }
                    }
                }
                for (sums, o) in acc.chunks_exact(16).zip(dst_row.chunks_mut(16)) {
                    let sums: &[i32; 16] = sums.try_into().expect("chunks of 16");
                    plan.requant.apply16(plan.vector.as_ref(), kernel, Lanes16::Channel(c), sums, o);
                }
            }
        }
    }
}

impl ConvPlan {
    pub(crate) fn new(c: &Conv, in_shape: &[u32], out_shape: &[u32]) -> ConvPlan {
        let (batch, cin, cout) = (in_shape[0] as usize, in_shape[1] as usize, out_shape[1] as usize);
        let groups = c.groups as usize;
        let (cin_g, cout_g) = (cin / groups, cout / groups);
        let klen: usize = c.kernel.iter().map(|&k| k as usize).product();
        let in_plane: usize = in_shape[2..].iter().map(|&d| d as usize).product();
        let out_plane: usize = out_shape[2..].iter().map(|&d| d as usize).product();
        let k = cin_g * klen;
        let weights = (0..groups).map(|g| Broadcast::pack(cout_g, k, |r, kk| c.weights[(g * cout_g + r) * k + kk] as i16)).collect();
        let identity =
            klen == 1 && c.strides.iter().all(|&s| s == 1) && c.pads_begin.iter().all(|&p| p == 0) && in_shape[2..] == out_shape[2..];
        let requant = Requant::new(&c.epilogue, &c.weights, &c.bias, c.input_zero_point);
        let depthwise = Depthwise::new(c, in_shape, out_shape);
        let (mut runs, mut run_starts) = (vec![], vec![0]);
        if !identity && depthwise.is_none() && out_plane > 0 {
            let window = Window { kernel: &c.kernel, strides: &c.strides, dilations: &c.dilations, pads_begin: &c.pads_begin };
            for row in window_taps(&window, &in_shape[2..], &out_shape[2..]).chunks_exact(out_plane) {
                runs.extend(runs_of(row));
                run_starts.push(runs.len());
            }
        }
        ConvPlan {
            batch,
            cin,
            cout,
            groups,
            klen,
            in_plane,
            out_plane,
            input_zero_point: c.input_zero_point as i16,
            weights,
            runs,
            run_starts,
            chunk: (CHUNK_BYTES / (pairs(k) * NR * 4).max(1)).clamp(1, out_plane.div_ceil(NR).max(1)),
            vector: requant.vector_constants(),
            requant,
            depthwise,
        }
    }

    pub(crate) fn packed_bytes(&self) -> usize {
        self.weights.iter().map(|w| w.data.len() * 4).sum::<usize>()
            + self.runs.len() * std::mem::size_of::<Run>()
            + self.depthwise.as_ref().map_or(0, |d| d.weights.len() * 2)
    }

    pub(crate) fn run(&self, kernel: Kernel, x: &[i8]) -> Result<Value, ExecError> {
        kernel.run(
            #[inline(always)]
            || self.run_on(kernel, x),
        )
    }

    /// [`ConvPlan::run`]'s body, compiled for `kernel` by [`Kernel::run`].
    #[inline(always)]
    fn run_on(&self, kernel: Kernel, x: &[i8]) -> Result<Value, ExecError> {
        let (cin_g, cout_g) = (self.cin / self.groups, self.cout / self.groups);
        let k = cin_g * self.klen;
        let kp = pairs(k);
        let mut out = vec![0i8; self.batch * self.cout * self.out_plane];
        if let Some(d) = &self.depthwise {
            d.run_channels(self, kernel, x, &mut out);
            return Ok(Value::I8(out));
        }
        let mut panels = vec![0i16; kp * NR * 2 * self.chunk];
        let mut t: Tile = [[0; NR]; MR];
        // the im2col matrix of one group (`k` rows of `width` codes), unless the input is its own
        // the im2col matrix of one chunk of lane blocks of one group (`k` rows of `width`
        // codes), unless the input is its own: bounded by the chunk, not by the plane
        let width = self.chunk * NR;
        let mut im2col = if self.runs.is_empty() { vec![] } else { vec![0i8; k * width] };
        for n in 0..self.batch {
            for g in 0..self.groups {
                let w = &self.weights[g];
                let xg = &x[(n * self.cin + g * cin_g) * self.in_plane..(n * self.cin + (g + 1) * cin_g) * self.in_plane];
                let blocks = self.out_plane.div_ceil(NR);
                let mut tile = |ib: usize, ob: usize, panel: &[i16], t: &mut Tile| {
                    let (o0, cols) = (ob * NR, (self.out_plane - ob * NR).min(NR));
                    kernel.tile(w.block(ib), panel, t);
                    for (r, row) in t.iter().enumerate().take((cout_g - ib * MR).min(MR)) {
                        let co = g * cout_g + ib * MR + r;
                        let dst = &mut out[(n * self.cout + co) * self.out_plane + o0..][..cols];
                        self.requant.apply16(self.vector.as_ref(), kernel, Lanes16::Channel(co), row, dst);
                    }
                };
                // a chunk of lane blocks at a time, then each weight block against all of them:
                // the output is written one channel run after another, and the weights stream
                // once per chunk
                let block_len = kp * NR * 2;
                for first in (0..blocks).step_by(self.chunk) {
                    let chunk = first..(first + self.chunk).min(blocks);
                    let (c0, c1) = (first * NR, (chunk.end * NR).min(self.out_plane));
                    // the chunk's rows: the input itself, or its im2col columns c0..c1
                    let (rows, stride, base) = if self.runs.is_empty() {
                        (xg, self.in_plane, 0)
                    } else {
                        self.fill_im2col(kernel, xg, cin_g, c0..c1, width, &mut im2col);
                        (&im2col[..], width, c0)
                    };
                    for ob in chunk.clone() {
                        let (o0, cols) = (ob * NR, (self.out_plane - ob * NR).min(NR));
                        fill_panel(kernel, rows, stride, k, o0 - base, cols, &mut panels[(ob - first) * block_len..][..block_len]);
                    }
                    for ib in 0..w.blocks() {
                        for ob in chunk.clone() {
                            tile(ib, ob, &panels[(ob - first) * block_len..][..block_len], &mut t);
                        }
                    }
                }
            }
        }
        Ok(Value::I8(out))
    }

    /// Columns `cols` of the im2col matrix of one group's input planes `xg`: row
    /// `ci · klen + t`, column `o − cols.start` is the code tap `t` of channel `ci` reads at
    /// output position `o` (the zero point in the padding); `width ≥ cols.len()` columns per
    /// row, the ones past `cols.len()` left as they are.
    #[inline(always)]
    fn fill_im2col(&self, kernel: Kernel, xg: &[i8], cin_g: usize, cols: std::ops::Range<usize>, width: usize, im2col: &mut [i8]) {
        let zp = self.input_zero_point as i8;
        for ci in 0..cin_g {
            let plane = &xg[ci * self.in_plane..(ci + 1) * self.in_plane];
            for t in 0..self.klen {
                let row = &mut im2col[(ci * self.klen + t) * width..][..width];
                for r in &self.runs[self.run_starts[t]..self.run_starts[t + 1]] {
                    // the run's part inside the columns
                    let (lo, hi) = ((r.o0 as usize).max(cols.start), (r.o0 as usize + r.len as usize).min(cols.end));
                    if lo >= hi {
                        continue;
                    }
                    let dst = &mut row[lo - cols.start..hi - cols.start];
                    let src = r.src as usize + (lo - r.o0 as usize) * r.step as usize;
                    if r.src == PADDING {
                        dst.fill(zp);
                    } else if r.step == 1 {
                        dst.copy_from_slice(&plane[src..src + dst.len()]);
                    } else if r.step == 2 {
                        kernel.gather_stride2(&plane[src..], dst);
                    } else {
                        for (d, &v) in dst.iter_mut().zip(plane[src..].iter().step_by(r.step as usize)) {
                            *d = v;
                        }
                    }
                }
            }
        }
    }
}

/// The lane block of output positions `o0..o0 + cols` from an im2col matrix (`k` rows of
/// `stride` codes): `panel[(kk/2)·2NR + c·2 + kk%2] = rows[kk·stride + o0 + c]`; columns past
/// `cols` and the odd tail of `k` are zeros.
#[inline(always)]
fn fill_panel(kernel: Kernel, rows: &[i8], stride: usize, k: usize, o0: usize, cols: usize, panel: &mut [i16]) {
    if cols < NR || k % 2 == 1 {
        panel.fill(0);
    }
    let zeros = [0i8; NR];
    for p in 0..k / 2 {
        let (r0, r1) = (&rows[2 * p * stride + o0..][..cols], &rows[(2 * p + 1) * stride + o0..][..cols]);
        let dst: &mut [i16; 2 * NR] = (&mut panel[p * 2 * NR..(p + 1) * 2 * NR]).try_into().expect("one pair of rows");
        if cols == NR {
            kernel.interleave(r0.try_into().expect("NR codes"), r1.try_into().expect("NR codes"), dst);
        } else {
            crate::gemm::interleave_portable(r0, r1, dst);
        }
    }
    if k % 2 == 1 {
        let p = k / 2;
        let r0 = &rows[2 * p * stride + o0..][..cols];
        let dst: &mut [i16; 2 * NR] = (&mut panel[p * 2 * NR..(p + 1) * 2 * NR]).try_into().expect("one pair of rows");
        crate::gemm::interleave_portable(r0, &zeros[..cols], dst);
    }
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Conv`] (`solidml_spec::for_each_op!`).
    pub(crate) fn conv(cx: &super::NodeCx<'_>, c: &solidml_spec::Conv) -> super::CompileResult {
        let (sin, sout) = (cx.input_shape(0), cx.output_shape());
        let numel = |s: &[u32]| s.iter().map(|&d| d as usize).product::<usize>();
        let (in_plane, out_plane, klen) = (numel(&sin[2..]), numel(&sout[2..]), numel(&c.kernel));
        let cout = sout[1] as usize;
        let k = (sin[1] / c.groups) as usize * klen;
        if in_plane >= u32::MAX as usize {
            return Err(super::NotCompiled::TooLarge { bytes: in_plane });
        }
        // per group, its output channels padded to whole tiles of MR rows, i32 per k-pair
        let groups = c.groups as usize;
        let weights = groups.saturating_mul((cout / groups.max(1)).div_ceil(MR) * MR).saturating_mul(k.div_ceil(2)).saturating_mul(4);
        cx.within(weights.saturating_add(klen.saturating_mul(out_plane).saturating_mul(4)).saturating_add(super::requant_bytes(cout)))?;
        Ok(super::Plan::Conv(ConvPlan::new(c, sin, sout)))
    }
}

#[cfg(test)]
mod speed {
    use solidml_spec::{Epilogue, arith::Multiplier};

    use super::*;

    /// Timing probe, not a check (`cargo test -p solidml-jit --lib conv_parts -- --ignored
    /// --nocapture`; `CONV_ONLY=cin-cout-k` picks one shape): a whole Conv and its lane-block
    /// fills alone, on SqueezeNet's kinds of layers.
    #[test]
    #[ignore]
    fn conv_parts() {
        for (cin, cout, k, s, pad, hw) in [
            (16usize, 64usize, 3u32, 1u32, 1u32, 55u32),
            (3, 64, 3, 2, 0, 224),
            (128, 16, 1, 1, 0, 55),
            (16, 64, 1, 1, 0, 55),
            (512, 1000, 1, 1, 0, 13),
        ] {
            if std::env::var("CONV_ONLY").is_ok_and(|v| v != format!("{cin}-{cout}-{k}")) {
                continue;
            }
            let klen = (k * k) as usize;
            let c = Conv {
                kernel: vec![k, k],
                strides: vec![s, s],
                dilations: vec![1, 1],
                pads_begin: vec![pad, pad],
                pads_end: vec![pad, pad],
                groups: 1,
                input_zero_point: 3,
                weights: (0..cout * cin * klen).map(|i| (i * 7 % 255) as i8).collect(),
                bias: vec![5; cout],
                epilogue: Epilogue {
                    multipliers: vec![Multiplier::from_real(0.0003)],
                    output_zero_point: 0,
                    clamp_min: -128,
                    clamp_max: 127,
                },
            };
            let o = (hw + 2 * pad - k) / s + 1;
            let plan = ConvPlan::new(&c, &[1, cin as u32, hw, hw], &[1, cout as u32, o, o]);
            let x: Vec<i8> = (0..cin * (hw * hw) as usize).map(|i| (i * 13 % 251) as i8).collect();
            let kernel = Kernel::detect();
            let reps = 200;
            let t = std::time::Instant::now();
            for _ in 0..reps {
                std::hint::black_box(plan.run(kernel, &x).unwrap());
            }
            let all = t.elapsed().as_secs_f64() / reps as f64;
            // the fills alone
            let kk = cin * klen;
            let mut panel = vec![0i16; pairs(kk) * NR * 2];
            let width = plan.out_plane.next_multiple_of(NR);
            let mut im2col = vec![0i8; kk * width];
            let t = std::time::Instant::now();
            for _ in 0..reps {
                kernel.run(|| {
                    let (rows, stride) = if plan.runs.is_empty() {
                        (&x[..], plan.in_plane)
                    } else {
                        plan.fill_im2col(kernel, &x, cin, 0..plan.out_plane, width, &mut im2col);
                        (&im2col[..], width)
                    };
                    for ob in 0..plan.out_plane.div_ceil(NR) {
                        let cols = (plan.out_plane - ob * NR).min(NR);
                        fill_panel(kernel, rows, stride, kk, ob * NR, cols, &mut panel);
                        std::hint::black_box(&panel);
                    }
                });
            }
            let fill = t.elapsed().as_secs_f64() / reps as f64;
            let macs = (cout * kk * plan.out_plane) as f64;
            eprintln!("{cin}->{cout} k{k} s{s} {hw}: all {:.0} µs ({:.1} GMAC/s), fill {:.0} µs", all * 1e6, macs / all / 1e9, fill * 1e6);
        }
    }
}

#[cfg(test)]
mod tests {
    use solidml_spec::{Epilogue, arith::Multiplier};

    use super::*;

    #[test]
    fn the_im2col_runs_read_what_the_tap_table_says() {
        let mut s = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s % n
        };
        let mut checked = 0;
        for case in 0..300 {
            let rank = 1 + next(3) as usize;
            let kernel: Vec<u32> = (0..rank).map(|_| 1 + next(4) as u32).collect();
            let strides: Vec<u32> = (0..rank).map(|_| 1 + next(3) as u32).collect();
            let dilations: Vec<u32> = (0..rank).map(|_| 1 + next(2) as u32).collect();
            let pads: Vec<u32> = (0..rank).map(|_| next(3) as u32).collect();
            let input: Vec<u32> = (0..rank).map(|_| 1 + next(if rank == 3 { 6 } else { 40 }) as u32).collect();
            let output: Vec<u32> = (0..rank)
                .map(|d| {
                    let reach = (kernel[d] - 1) * dilations[d] + 1;
                    (input[d] + 2 * pads[d]).saturating_sub(reach) / strides[d] + 1
                })
                .collect();
            let cin = 1 + next(3) as usize;
            let klen: usize = kernel.iter().map(|&k| k as usize).product();
            let c = Conv {
                kernel: kernel.clone(),
                strides: strides.clone(),
                dilations: dilations.clone(),
                pads_begin: pads.clone(),
                pads_end: pads.clone(),
                groups: 1,
                input_zero_point: next(256) as i32 - 128,
                weights: vec![1; 2 * cin * klen],
                bias: vec![0; 2],
                epilogue: Epilogue {
                    multipliers: vec![Multiplier::from_real(0.01)],
                    output_zero_point: 0,
                    clamp_min: -128,
                    clamp_max: 127,
                },
            };
            let in_shape: Vec<u32> = [1, cin as u32].into_iter().chain(input.iter().copied()).collect();
            let out_shape: Vec<u32> = [1, 2].into_iter().chain(output.iter().copied()).collect();
            let plan = ConvPlan::new(&c, &in_shape, &out_shape);
            if plan.runs.is_empty() {
                continue; // the input is its own im2col matrix
            }
            let in_plane: usize = input.iter().map(|&d| d as usize).product();
            let x: Vec<i8> = (0..cin * in_plane).map(|_| next(256) as i8).collect();
            let width = plan.out_plane.next_multiple_of(NR);
            let window = Window { kernel: &kernel, strides: &strides, dilations: &dilations, pads_begin: &pads };
            let taps = window_taps(&window, &input, &output);
            // the whole plane, and a window of columns (as the chunks take them)
            let window = plan.out_plane / 3..plan.out_plane - plan.out_plane / 4;
            for kernel in Kernel::available() {
                for cols in [0..plan.out_plane, window.clone()] {
                    let mut got = vec![0i8; cin * klen * width];
                    plan.fill_im2col(kernel, &x, cin, cols.clone(), width, &mut got);
                    for ci in 0..cin {
                        for t in 0..klen {
                            for o in cols.clone() {
                                let src = taps[t * plan.out_plane + o];
                                let want = if src == PADDING { c.input_zero_point as i8 } else { x[ci * in_plane + src as usize] };
                                let at = (ci * klen + t) * width + o - cols.start;
                                assert_eq!(got[at], want, "case {case} {kernel:?} {cols:?} ci {ci} tap {t} o {o}: {c:?} {input:?}");
                            }
                        }
                    }
                }
            }
            checked += 1;
        }
        assert!(checked >= 150, "only {checked} geometries checked");
    }
}
