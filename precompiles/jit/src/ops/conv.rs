//! Conv (spec §Conv) as a GEMM per batch item and group: the weights — packed once, at
//! prepare — are the broadcast side (rows: output channels), the input patches the lane side
//! (columns: output positions), built per block of [`NR`] positions straight from the input
//! through a tap table computed at prepare (no whole im2col matrix). A tap outside the input
//! reads the input zero point, which the folded bias cancels (it contributes real 0).
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
    /// `taps[t · out_plane + o]`: the offset within an input plane that tap `t` reads at
    /// output position `o`, or [`PADDING`]; empty for a 1×1 kernel with unit strides and no
    /// padding (the offset is `o`), and for the depthwise path.
    taps: Vec<u32>,
    requant: Requant,
    vector: Option<VectorConstants>,
    /// The direct path of a depthwise 2-D convolution, when this is one.
    depthwise: Option<Depthwise>,
}

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
            taps: if identity || depthwise.is_some() {
                vec![]
            } else {
                window_taps(
                    &Window { kernel: &c.kernel, strides: &c.strides, dilations: &c.dilations, pads_begin: &c.pads_begin },
                    &in_shape[2..],
                    &out_shape[2..],
                )
            },
            vector: requant.vector_constants(),
            requant,
            depthwise,
        }
    }

    pub(crate) fn packed_bytes(&self) -> usize {
        self.weights.iter().map(|w| w.data.len() * 4).sum::<usize>()
            + self.taps.len() * 4
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
        let mut panel = vec![0i16; kp * NR * 2];
        let mut t: Tile = [[0; NR]; MR];
        for n in 0..self.batch {
            for g in 0..self.groups {
                let w = &self.weights[g];
                let xg = &x[(n * self.cin + g * cin_g) * self.in_plane..(n * self.cin + (g + 1) * cin_g) * self.in_plane];
                for ob in 0..self.out_plane.div_ceil(NR) {
                    let o0 = ob * NR;
                    let cols = (self.out_plane - o0).min(NR);
                    self.fill_panel(xg, o0, cols, k, &mut panel);
                    for ib in 0..w.blocks() {
                        kernel.tile(w.block(ib), &panel, &mut t);
                        for (r, row) in t.iter().enumerate().take((cout_g - ib * MR).min(MR)) {
                            let co = g * cout_g + ib * MR + r;
                            let dst = &mut out[(n * self.cout + co) * self.out_plane + o0..][..cols];
                            self.requant.apply16(self.vector.as_ref(), kernel, Lanes16::Channel(co), row, dst);
                        }
                    }
                }
            }
        }
        Ok(Value::I8(out))
    }

    /// The lane block of output positions `o0..o0 + cols`: `panel[(kk/2)·2NR + c·2 + kk%2]` is
    /// the input code tap `kk = ci·klen + t` reads at position `o0 + c` (the zero point in the
    /// padding); columns past `cols` and the odd tail of `k` are zeros.
    #[inline(always)]
    fn fill_panel(&self, xg: &[i8], o0: usize, cols: usize, k: usize, panel: &mut [i16]) {
        if cols < NR || k % 2 == 1 {
            panel.fill(0);
        }
        for kk in 0..k {
            let (ci, tap) = (kk / self.klen, kk % self.klen);
            let plane = &xg[ci * self.in_plane..(ci + 1) * self.in_plane];
            let dst = &mut panel[(kk / 2) * NR * 2 + kk % 2..];
            if self.taps.is_empty() {
                for (c, &v) in plane[o0..o0 + cols].iter().enumerate() {
                    dst[c * 2] = v as i16;
                }
            } else {
                let taps = &self.taps[tap * self.out_plane + o0..][..cols];
                for (c, &src) in taps.iter().enumerate() {
                    dst[c * 2] = if src == PADDING { self.input_zero_point } else { plane[src as usize] as i16 };
                }
            }
        }
    }
}
