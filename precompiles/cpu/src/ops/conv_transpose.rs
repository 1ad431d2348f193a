//! ConvTranspose (spec §ConvTranspose), in gather form: for output channel `c` in group `g`
//! and output position `o`, `acc = bias[c] + Σ_{i ∈ group g, k} w[c, i, k] · (x[i, p] − zp_in)`
//! over the taps where `p = (o + pad_begin − k · dilation) / stride` is an integer inside the
//! input; then the epilogue.

use solidml_spec::ConvTranspose;

use super::apply_epilogue;
use crate::index::strides;

/// Input offset (within a plane) read by kernel tap `k` at output position `o`, if any.
fn tap(c: &ConvTranspose, in_sp: &[u32], in_strides: &[usize], o: &[i64], k: &[i64]) -> Option<usize> {
    let mut off = 0usize;
    for d in 0..o.len() {
        let num = o[d] + c.pads_begin[d] as i64 - k[d] * c.dilations[d] as i64;
        let s = c.strides[d] as i64;
        if num < 0 || num % s != 0 || num / s >= in_sp[d] as i64 {
            return None;
        }
        off += (num / s) as usize * in_strides[d];
    }
    Some(off)
}

pub fn conv_transpose(c: &ConvTranspose, in_shape: &[u32], out_shape: &[u32], x: &[i8]) -> Vec<i8> {
    let s = c.kernel.len();
    let (batch, cin, cout) = (in_shape[0] as usize, in_shape[1] as usize, out_shape[1] as usize);
    let g = c.groups as usize;
    let (cin_g, cout_g) = (cin / g, cout / g);
    let in_plane: usize = in_shape[2..].iter().map(|&d| d as usize).product();
    let out_sp = &out_shape[2..];
    let out_plane: usize = out_sp.iter().map(|&d| d as usize).product();
    let klen: usize = c.kernel.iter().map(|&k| k as usize).product();
    let in_strides = strides(&in_shape[2..]);
    let unravel = |mut i: usize, dims: &[u32]| {
        let mut v = vec![0i64; dims.len()];
        for d in (0..dims.len()).rev() {
            v[d] = (i % dims[d] as usize) as i64;
            i /= dims[d] as usize;
        }
        v
    };
    let kidx: Vec<Vec<i64>> = (0..klen).map(|k| unravel(k, &c.kernel)).collect();
    let mut out = vec![0i8; batch * cout * out_plane];
    for o in 0..out_plane {
        let opos = unravel(o, out_sp);
        let taps: Vec<(usize, usize)> = kidx.iter().enumerate().filter_map(|(t, k)| tap(c, &in_shape[2..], &in_strides, &opos, k).map(|off| (t, off))).collect();
        debug_assert!(s == opos.len());
        for n in 0..batch {
            for co in 0..cout {
                let gi = co / cout_g;
                let mut acc = c.bias[co];
                for ci in 0..cin_g {
                    let xbase = (n * cin + gi * cin_g + ci) * in_plane;
                    let wbase = (co * cin_g + ci) * klen;
                    for &(t, off) in &taps {
                        acc += c.weights[wbase + t] as i32 * (x[xbase + off] as i32 - c.input_zero_point);
                    }
                }
                out[(n * cout + co) * out_plane + o] = apply_epilogue(&c.epilogue, co, acc);
            }
        }
    }
    out
}
