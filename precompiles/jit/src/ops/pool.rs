//! MaxPool and AvgPool (spec §Pooling) over the spatial axes of NC(spatial…).
//!
//! * MaxPool: the largest code among the taps inside the input, −128 for a window with none;
//! * AvgPool: `zp + round_half_away(Σ (q − zp) / count)` over the taps inside the input,
//!   clamped to int8; `count` is the window size when `count_include_pad`, else the taps
//!   inside; an empty count gives `zp`.
//!
//! Each plane is copied into a scratch plane padded on every side far enough that every window
//! lies inside it (a plane that needs no padding is read in place), the padding holding a sentinel: −128 for MaxPool (no code is below it), the
//! zero point for AvgPool (it adds 0 to `Σ (q − zp)`). A window is then its start offset plus
//! the same tap offsets for every window — no bounds test in the loop. The loops run a whole
//! output row at a time (the last spatial axis): for each tap, one pass over the row, element
//! `ox` reading the scratch at `row start + tap + ox · stride` (contiguous for stride 1), so
//! they vectorize across output positions. The AvgPool divisors are computed at prepare.
//!
//! AvgPool divides in f64: `round_half_away(S / count)` with `|S| ≤ 255 · count` and
//! `count < 2^32` (the scratch plane fits u32 offsets) is exact that way — `S` and `count` are
//! exact f64 integers, the correctly rounded quotient errs by at most `255 · 2^−53`, while a
//! quotient that is not a tie lies at least `1 / (2 · count) > 2^−33` from one, so rounding
//! the f64 quotient half away from zero (`f64::round`) gives the integer rule's result.

use solidml_exec::index::{for_each_offset, strides};
use solidml_spec::Pool;

use crate::{
    codegen::{MaxPoolGeometry, MaxPoolPlane},
    gemm::Kernel,
};

/// A pooling node ready to run.
pub(crate) struct PoolPlan {
    max: bool,
    planes: usize,
    in_plane: usize,
    /// Length of the input's last axis (rows are copied whole).
    row: usize,
    /// Elements of the padded scratch plane.
    padded_plane: usize,
    /// Scratch offset of each input row, in input order.
    rows: Vec<u32>,
    /// Scratch offset of the window start of each output row's first position.
    row_starts: Vec<u32>,
    /// Output positions per row (the last spatial axis).
    out_row: usize,
    /// Scratch step between consecutive windows of a row (the last axis's stride).
    step: usize,
    /// Scratch offset of each tap relative to its window start, row-major over the kernel
    /// (the last axis fastest).
    taps: Vec<u32>,
    /// Taps per kernel row (the kernel's last extent).
    kernel_row: usize,
    /// AvgPool: the divisor of each output position.
    counts: Vec<f64>,
    zero_point: i64,
    /// A 2-D MaxPool's plane loops compiled to native code (`crate::codegen`), when its
    /// geometry compiles and the backend generates code.
    compiled: Option<Box<MaxPoolPlane>>,
}

/// The padded scratch plane's extent per spatial axis: the input after `pads_begin`, and the
/// last window's end.
pub(crate) fn padded_extents(p: &Pool, in_sp: &[u32], out_sp: &[u32]) -> Vec<u64> {
    (0..in_sp.len())
        .map(|d| {
            let input_end = in_sp[d] as u64 + p.pads_begin[d] as u64;
            let window_end =
                (out_sp[d] as u64).saturating_sub(1) * p.strides[d] as u64 + (p.kernel[d] as u64 - 1) * p.dilations[d] as u64 + 1;
            input_end.max(window_end)
        })
        .collect()
}

impl PoolPlan {
    /// The plan; the caller checked the padded plane fits in u32 offsets. `codegen`: compile
    /// the plane loops of a 2-D MaxPool with cranelift where the geometry allows.
    pub(crate) fn new(p: &Pool, max: bool, in_shape: &[u32], out_shape: &[u32], codegen: bool) -> PoolPlan {
        let numel = |s: &[u32]| s.iter().map(|&d| d as usize).product::<usize>();
        let (in_sp, out_sp) = (&in_shape[2..], &out_shape[2..]);
        let padded: Vec<u32> = padded_extents(p, in_sp, out_sp).iter().map(|&d| d as u32).collect();
        let ps = strides(&padded);
        let s = in_sp.len();
        // the scratch offset of every position of `shape` whose axis `d` steps by `step[d]`
        let offsets = |shape: &[u32], step: &[usize]| {
            let mut out = Vec::with_capacity(numel(shape));
            for_each_offset(shape, [step], |[o]| out.push(o as u32));
            out
        };
        let row = in_sp.last().map_or(1, |&d| d as usize);
        let outer = s.saturating_sub(1);
        // the input's first element sits after the padding before every axis
        let first = (0..s).map(|d| p.pads_begin[d] as usize * ps[d]).sum::<usize>() as u32;
        let rows = offsets(&in_sp[..outer], &ps[..outer]).iter().map(|&o| o + first).collect();
        let out_row = out_sp.last().map_or(1, |&d| d as usize);
        let step = p.strides.last().map_or(1, |&st| st as usize);
        let row_starts = offsets(&out_sp[..outer], &(0..outer).map(|d| p.strides[d] as usize * ps[d]).collect::<Vec<_>>());
        let taps = offsets(&p.kernel, &(0..s).map(|d| p.dilations[d] as usize * ps[d]).collect::<Vec<_>>());
        let klen = numel(&p.kernel);
        let counts = if max {
            vec![]
        } else if p.count_include_pad {
            vec![klen as f64; numel(out_sp)]
        } else {
            // taps inside the input: per axis, the kernel positions whose input coordinate
            // `o·stride + k·dilation − pad_begin` lies in `0..n`
            let inside = |d: usize, o: usize| {
                (0..p.kernel[d] as i64)
                    .filter(|&k| {
                        (0..in_sp[d] as i64)
                            .contains(&(o as i64 * p.strides[d] as i64 + k * p.dilations[d] as i64 - p.pads_begin[d] as i64))
                    })
                    .count() as i64
            };
            // the count of a window is the product of its axes' counts (row-major over the output)
            let inside = &inside;
            let mut counts = vec![1i64];
            for (d, &n) in out_sp.iter().enumerate() {
                counts = counts.iter().flat_map(|&c| (0..n as usize).map(move |o| c * inside(d, o))).collect();
            }
            // a window with no tap inside sums to 0 (padding only): divide it by 1
            counts.into_iter().map(|c| c.max(1) as f64).collect()
        };
        let compiled = (codegen && max && s == 2)
            .then(|| {
                let row_step = row_starts.get(1).map_or(0, |&r| r as usize);
                MaxPoolPlane::compile(&MaxPoolGeometry { rows: row_starts.len(), width: out_row, row_step, step, taps: &taps })
                    .map(Box::new)
            })
            .flatten();
        PoolPlan {
            compiled,
            max,
            planes: in_shape[0] as usize * in_shape[1] as usize,
            in_plane: numel(in_sp),
            row,
            padded_plane: padded.iter().map(|&d| d as usize).product(),
            rows,
            row_starts,
            out_row,
            step,
            kernel_row: p.kernel.last().map_or(1, |&k| k as usize).max(1),
            taps,
            counts,
            zero_point: p.zero_point as i64,
        }
    }

    pub(crate) fn packed_bytes(&self) -> usize {
        (self.rows.len() + self.row_starts.len() + self.taps.len()) * 4
            + self.counts.len() * 8
            + self.padded_plane
            + self.compiled.as_ref().map_or(0, |c| c.code_bytes() + c.plane_bytes())
    }

    /// Pool every plane of `x`.
    pub(crate) fn run(&self, kernel: Kernel, x: &[i8]) -> solidml_exec::Value {
        let out_plane = self.row_starts.len() * self.out_row;
        let mut out = vec![0i8; self.planes * out_plane];
        if out.is_empty() {
            return solidml_exec::Value::I8(out);
        }
        if let Some(code) = &self.compiled {
            // the padded plane with the compiled code's slack, sentinel everywhere else
            let mut scratch = vec![i8::MIN; code.plane_bytes().max(self.padded_plane)];
            for (plane, dst) in out.chunks_exact_mut(out_plane).enumerate() {
                self.fill_scratch(&x[plane * self.in_plane..(plane + 1) * self.in_plane], &mut scratch);
                code.run(&scratch, dst);
            }
            return solidml_exec::Value::I8(out);
        }
        kernel.run(
            #[inline(always)]
            || self.run_planes(x, &mut out, out_plane),
        );
        solidml_exec::Value::I8(out)
    }

    /// Copy one input plane's rows to their places in the padded scratch plane (the padding
    /// keeps its sentinel).
    #[inline(always)]
    fn fill_scratch(&self, src: &[i8], scratch: &mut [i8]) {
        for (r, &at) in self.rows.iter().enumerate() {
            scratch[at as usize..at as usize + self.row].copy_from_slice(&src[r * self.row..(r + 1) * self.row]);
        }
    }

    #[inline(always)]
    fn run_planes(&self, x: &[i8], out: &mut [i8], out_plane: usize) {
        let sentinel = if self.max { i8::MIN } else { self.zero_point as i8 };
        // an unpadded plane is its own scratch plane: windows read the input in place
        let direct = self.padded_plane == self.in_plane;
        let mut scratch = if direct { vec![] } else { vec![sentinel; self.padded_plane] };
        let (n, step) = (self.out_row, self.step);
        let mut max_row = vec![i8::MIN; n];
        // the input positions a row of strided windows spans, from its first tap
        let span = n.saturating_sub(1) * step + 1;
        let mut span_max = vec![i8::MIN; span];
        let mut sum_row = vec![0i32; n];
        // Σ (q − zp) over a window = Σ q − klen · zp (padding holds zp)
        let zp_sum = self.taps.len() as i64 * self.zero_point;
        let wide = self.taps.len() > 1 << 23;
        for (plane, dst) in out.chunks_exact_mut(out_plane).enumerate() {
            let src = &x[plane * self.in_plane..(plane + 1) * self.in_plane];
            let buf: &[i8] = if direct {
                src
            } else {
                self.fill_scratch(src, &mut scratch);
                &scratch
            };
            for (row, (&start, dst)) in self.row_starts.iter().zip(dst.chunks_exact_mut(n)).enumerate() {
                let start = start as usize;
                if n < SHORT_ROW {
                    // rows too short to vectorize across (global pools): window by window
                    let counts = if self.max { &[][..] } else { &self.counts[row * n..(row + 1) * n] };
                    for (ox, d) in dst.iter_mut().enumerate() {
                        let window = &buf[start + ox * step..];
                        *d = if self.max {
                            self.taps.iter().fold(i8::MIN, |m, &t| m.max(window[t as usize]))
                        } else {
                            let sum: i64 = self.taps.iter().map(|&t| window[t as usize] as i64).sum::<i64>() - zp_sum;
                            (round_half_away(sum as f64 / counts[ox]) + self.zero_point as f64).clamp(-128.0, 127.0) as i8
                        };
                    }
                } else if self.max && step > 1 {
                    // strided windows: per kernel row, the max over its taps at every input
                    // position first (contiguous, vectorized), then one strided pass
                    max_row.fill(i8::MIN);
                    for row_taps in self.taps.chunks(self.kernel_row) {
                        let first = &buf[start + row_taps[0] as usize..][..span];
                        span_max.copy_from_slice(first);
                        for &t in &row_taps[1..] {
                            for (m, &v) in span_max.iter_mut().zip(&buf[start + t as usize..][..span]) {
                                *m = (*m).max(v);
                            }
                        }
                        strided(&mut max_row, &span_max, step, |m, v| *m = (*m).max(v));
                    }
                    dst.copy_from_slice(&max_row);
                } else if self.max {
                    max_row.fill(i8::MIN);
                    for &t in &self.taps {
                        let from = &buf[start + t as usize..];
                        strided(&mut max_row, from, step, |m, v| *m = (*m).max(v));
                    }
                    dst.copy_from_slice(&max_row);
                } else if wide {
                    // windows over 2^23 taps: sums beyond i32, one window at a time in i64
                    let counts = &self.counts[row * n..(row + 1) * n];
                    for (ox, (d, &count)) in dst.iter_mut().zip(counts).enumerate() {
                        let window = &buf[start + ox * step..];
                        let sum: i64 = self.taps.iter().map(|&t| window[t as usize] as i64).sum::<i64>() - zp_sum;
                        *d = (round_half_away(sum as f64 / count) + self.zero_point as f64).clamp(-128.0, 127.0) as i8;
                    }
                } else {
                    sum_row.fill(0);
                    for &t in &self.taps {
                        let from = &buf[start + t as usize..];
                        strided(&mut sum_row, from, step, |a, v| *a = a.wrapping_add(v as i32));
                    }
                    let counts = &self.counts[row * n..(row + 1) * n];
                    for ((d, &s), &count) in dst.iter_mut().zip(&sum_row).zip(counts) {
                        // exact in i32: |Σ (q − zp)| ≤ 255 · 2^23 (i32 → f64 vectorizes, i64 does not)
                        let q = s.wrapping_sub(zp_sum as i32) as f64 / count;
                        *d = (round_half_away(q) + self.zero_point as f64).clamp(-128.0, 127.0) as i8;
                    }
                }
            }
        }
    }
}

/// Output rows shorter than this run window by window.
const SHORT_ROW: usize = 8;

/// `f(acc[i], from[i · step])` for every `i < acc.len()`; strides 1 and 2 (the common ones)
/// as loops of constant stride, which vectorize.
#[inline(always)]
fn strided<A>(acc: &mut [A], from: &[i8], step: usize, f: impl Fn(&mut A, i8)) {
    let n = acc.len();
    if n == 0 {
        return;
    }
    let from = &from[..(n - 1) * step + 1];
    match step {
        1 => acc.iter_mut().zip(from).for_each(|(a, &v)| f(a, v)),
        2 => {
            for i in 0..n {
                f(&mut acc[i], from[2 * i]);
            }
        }
        _ => acc.iter_mut().zip(from.iter().step_by(step)).for_each(|(a, &v)| f(a, v)),
    }
}

/// `q` rounded half away from zero, for a quotient `q` no closer than `2^−33` to a tie unless
/// it is one (see the module docs): `q ± 0.5` then errs by far less than that gap, and an
/// exact tie lands on the integer away from zero. Vectorizes (`f64::round` is a libm call).
#[inline(always)]
fn round_half_away(q: f64) -> f64 {
    (q + 0.5f64.copysign(q)).trunc()
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::MaxPool`] (`solidml_spec::for_each_op!`).
    pub(crate) fn max_pool(cx: &super::NodeCx<'_>, p: &solidml_spec::Pool) -> super::CompileResult {
        pool_plan(cx, p, true)
    }

    /// The node entry of [`solidml_spec::Op::AvgPool`] (`solidml_spec::for_each_op!`).
    pub(crate) fn avg_pool(cx: &super::NodeCx<'_>, p: &solidml_spec::Pool) -> super::CompileResult {
        pool_plan(cx, p, false)
    }
}

/// The plan of a MaxPool (`max`) or AvgPool node, within the cap.
fn pool_plan(cx: &super::NodeCx<'_>, p: &solidml_spec::Pool, max: bool) -> super::CompileResult {
    let (sin, sout) = (cx.input_shape(0), cx.output_shape());
    let padded: u64 = padded_extents(p, &sin[2..], &sout[2..]).iter().try_fold(1u64, |a, &d| a.checked_mul(d)).unwrap_or(u64::MAX);
    if padded >= u32::MAX as u64 {
        return Err(super::NotCompiled::TooLarge { bytes: padded as usize });
    }
    let numel = |s: &[u32]| s.iter().map(|&d| d as usize).product::<usize>();
    cx.within(
        (padded as usize)
            .saturating_add(numel(&sout[2..]).saturating_mul(12))
            .saturating_add(numel(&p.kernel).saturating_mul(4))
            .saturating_add(numel(&sin[2..]).saturating_mul(4)),
    )?;
    Ok(super::Plan::Pool(PoolPlan::new(p, max, sin, sout, cx.codegen)))
}
