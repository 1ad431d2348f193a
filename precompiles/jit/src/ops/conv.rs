//! Conv (spec §Conv) as a GEMM per batch item and group: the weights — packed once, at
//! prepare — are the broadcast side (rows: output channels), the input patches the lane side
//! (columns: output positions), built per block of [`NR`] positions straight from the input
//! through a tap table computed at prepare (no whole im2col matrix). A tap outside the input
//! reads the input zero point, which the folded bias cancels (it contributes real 0).

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
    /// padding (the offset is `o`).
    taps: Vec<u32>,
    requant: Requant,
    vector: Option<VectorConstants>,
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
            taps: if identity {
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
        }
    }

    pub(crate) fn packed_bytes(&self) -> usize {
        self.weights.iter().map(|w| w.data.len() * 4).sum::<usize>() + self.taps.len() * 4
    }

    pub(crate) fn run(&self, kernel: Kernel, x: &[i8]) -> Result<Value, ExecError> {
        let (cin_g, cout_g) = (self.cin / self.groups, self.cout / self.groups);
        let k = cin_g * self.klen;
        let kp = pairs(k);
        let mut out = vec![0i8; self.batch * self.cout * self.out_plane];
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
