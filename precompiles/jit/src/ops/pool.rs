//! MaxPool and AvgPool (spec §Pooling) over the spatial axes of NC(spatial…).
//!
//! * MaxPool: the largest code among the taps inside the input, −128 for a window with none;
//! * AvgPool: `zp + round_half_away(Σ (q − zp) / count)` over the taps inside the input,
//!   clamped to int8; `count` is the window size when `count_include_pad`, else the taps
//!   inside; an empty count gives `zp`.
//!
//! Each plane is copied into a scratch plane padded on every side far enough that every window
//! lies inside it, the padding holding a sentinel: −128 for MaxPool (no code is below it), the
//! zero point for AvgPool (it adds 0 to `Σ (q − zp)`). A window is then its start offset
//! (per output position, computed at prepare) plus the same tap offsets for every window — no
//! bounds test and no per-tap table in the loop. The AvgPool divisors are computed at prepare.

use solidml_exec::index::{for_each_offset, strides};
use solidml_spec::{Pool, arith::div_round_half_away};

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
    /// Scratch offset of each output position's window start.
    starts: Vec<u32>,
    /// Scratch offset of each tap relative to its window start.
    taps: Vec<u32>,
    /// AvgPool: the divisor of each output position.
    counts: Vec<i64>,
    zero_point: i64,
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
    /// The plan; the caller checked the padded plane fits in u32 offsets.
    pub(crate) fn new(p: &Pool, max: bool, in_shape: &[u32], out_shape: &[u32]) -> PoolPlan {
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
        let starts = offsets(out_sp, &(0..s).map(|d| p.strides[d] as usize * ps[d]).collect::<Vec<_>>());
        let taps = offsets(&p.kernel, &(0..s).map(|d| p.dilations[d] as usize * ps[d]).collect::<Vec<_>>());
        let klen = numel(&p.kernel);
        let counts = if max {
            vec![]
        } else if p.count_include_pad {
            vec![klen as i64; numel(out_sp)]
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
            counts
        };
        PoolPlan {
            max,
            planes: in_shape[0] as usize * in_shape[1] as usize,
            in_plane: numel(in_sp),
            row,
            padded_plane: padded.iter().map(|&d| d as usize).product(),
            rows,
            starts,
            taps,
            counts,
            zero_point: p.zero_point as i64,
        }
    }

    pub(crate) fn packed_bytes(&self) -> usize {
        (self.rows.len() + self.starts.len() + self.taps.len()) * 4 + self.counts.len() * 8 + self.padded_plane
    }

    pub(crate) fn run(&self, x: &[i8]) -> solidml_exec::Value {
        let out_plane = self.starts.len();
        let mut out = vec![0i8; self.planes * out_plane];
        if out.is_empty() {
            return solidml_exec::Value::I8(out);
        }
        let sentinel = if self.max { i8::MIN } else { self.zero_point as i8 };
        let mut buf = vec![sentinel; self.padded_plane];
        for (plane, dst) in out.chunks_exact_mut(out_plane).enumerate() {
            let src = &x[plane * self.in_plane..(plane + 1) * self.in_plane];
            for (r, &at) in self.rows.iter().enumerate() {
                buf[at as usize..at as usize + self.row].copy_from_slice(&src[r * self.row..(r + 1) * self.row]);
            }
            if self.max {
                for (d, &start) in dst.iter_mut().zip(&self.starts) {
                    let window = &buf[start as usize..];
                    *d = self.taps.iter().fold(i8::MIN, |m, &t| m.max(window[t as usize]));
                }
            } else {
                for ((d, &start), &count) in dst.iter_mut().zip(&self.starts).zip(&self.counts) {
                    let window = &buf[start as usize..];
                    let sum: i64 = self.taps.iter().map(|&t| window[t as usize] as i64 - self.zero_point).sum();
                    let avg = if count == 0 { 0 } else { div_round_half_away(sum, count) };
                    *d = (avg + self.zero_point).clamp(-128, 127) as i8;
                }
            }
        }
        solidml_exec::Value::I8(out)
    }
}
