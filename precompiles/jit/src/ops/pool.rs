//! MaxPool and AvgPool (spec §Pooling) over the spatial axes of NC(spatial…), with the window's
//! tap table computed once at prepare (`super::window_taps`). Each plane is copied once into a
//! scratch row with one more element, a sentinel the padding taps read instead (−128 for
//! MaxPool, which no code is below; the zero point for AvgPool, which adds 0 to `Σ (q − zp)`),
//! so the tap loops have no branch:
//!
//! * MaxPool: the largest code among the taps inside the input, −128 for a window with none
//!   (the running maximum starts at −128, which no code is below);
//! * AvgPool: `zp + round_half_away(Σ (q − zp) / count)` over the taps inside the input,
//!   clamped to int8; `count` is the window size when `count_include_pad`, else the taps
//!   inside; an empty count gives `zp`.

use solidml_spec::{Pool, arith::div_round_half_away};

use super::{PADDING, Window, window_taps};

/// A pooling node ready to run.
pub(crate) struct PoolPlan {
    max: bool,
    planes: usize,
    in_plane: usize,
    out_plane: usize,
    klen: usize,
    /// `taps[t · out_plane + o]` (see `window_taps`).
    taps: Vec<u32>,
    /// AvgPool: the divisor of each output position.
    counts: Vec<i64>,
    zero_point: i64,
}

impl PoolPlan {
    pub(crate) fn new(p: &Pool, max: bool, in_shape: &[u32], out_shape: &[u32]) -> PoolPlan {
        let numel = |s: &[u32]| s.iter().map(|&d| d as usize).product::<usize>();
        let (in_plane, out_plane, klen) = (numel(&in_shape[2..]), numel(&out_shape[2..]), numel(&p.kernel));
        let mut taps = window_taps(
            &Window { kernel: &p.kernel, strides: &p.strides, dilations: &p.dilations, pads_begin: &p.pads_begin },
            &in_shape[2..],
            &out_shape[2..],
        );
        let counts = if max {
            vec![]
        } else {
            (0..out_plane)
                .map(|o| {
                    if p.count_include_pad { klen as i64 } else { (0..klen).filter(|t| taps[t * out_plane + o] != PADDING).count() as i64 }
                })
                .collect()
        };
        // padding taps read the sentinel after the plane
        for t in taps.iter_mut().filter(|t| **t == PADDING) {
            *t = in_plane as u32;
        }
        PoolPlan {
            max,
            planes: in_shape[0] as usize * in_shape[1] as usize,
            in_plane,
            out_plane,
            klen,
            taps,
            counts,
            zero_point: p.zero_point as i64,
        }
    }

    pub(crate) fn packed_bytes(&self) -> usize {
        self.taps.len() * 4 + self.counts.len() * 8
    }

    pub(crate) fn run(&self, x: &[i8]) -> solidml_exec::Value {
        let mut out = vec![0i8; self.planes * self.out_plane];
        let mut sums = vec![0i64; if self.max { 0 } else { self.out_plane }];
        let mut src = vec![if self.max { i8::MIN } else { self.zero_point as i8 }; self.in_plane + 1];
        for (plane, dst) in out.chunks_exact_mut(self.out_plane.max(1)).enumerate().take(self.planes) {
            src[..self.in_plane].copy_from_slice(&x[plane * self.in_plane..(plane + 1) * self.in_plane]);
            if self.max {
                dst.fill(i8::MIN);
                for t in 0..self.klen {
                    for (d, &off) in dst.iter_mut().zip(&self.taps[t * self.out_plane..(t + 1) * self.out_plane]) {
                        *d = (*d).max(src[off as usize]);
                    }
                }
            } else {
                sums.fill(0);
                for t in 0..self.klen {
                    for (s, &off) in sums.iter_mut().zip(&self.taps[t * self.out_plane..(t + 1) * self.out_plane]) {
                        *s += src[off as usize] as i64 - self.zero_point;
                    }
                }
                for ((d, &sum), &count) in dst.iter_mut().zip(&sums).zip(&self.counts) {
                    let avg = if count == 0 { 0 } else { div_round_half_away(sum, count) };
                    *d = (avg + self.zero_point).clamp(-128, 127) as i8;
                }
            }
        }
        solidml_exec::Value::I8(out)
    }
}
