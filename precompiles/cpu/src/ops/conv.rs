//! Conv (spec §Conv): for output channel `c` in group `g` and output position `o`,
//! `acc = bias[c] + Σ_{i ∈ group g, k ∈ kernel} w[c, i, k] · (x[i, o·stride − pad_begin + k·dilation] − zp_in)`,
//! where positions outside the input contribute 0 (padding holds the input zero point, real 0);
//! then the epilogue.

use solidml_spec::Conv;

use super::apply_epilogue;
use crate::index::strides;

pub fn conv(c: &Conv, in_shape: &[u32], out_shape: &[u32], x: &[i8]) -> Vec<i8> {
    let s = c.kernel.len();
    let (batch, cin, cout) = (in_shape[0] as usize, in_shape[1] as usize, out_shape[1] as usize);
    let groups = c.groups as usize;
    let (cin_g, cout_g) = (cin / groups, cout / groups);
    let in_sp: Vec<i64> = in_shape[2..].iter().map(|&d| d as i64).collect();
    let out_sp = &out_shape[2..];
    let in_spatial: usize = in_shape[2..].iter().map(|&d| d as usize).product();
    let out_spatial: usize = out_sp.iter().map(|&d| d as usize).product();
    let klen: usize = c.kernel.iter().map(|&k| k as usize).product();
    let in_strides = strides(&in_shape[2..]);
    // kernel offsets as multi-indices scaled by dilation
    let kidx: Vec<Vec<i64>> = (0..klen)
        .map(|mut k| {
            let mut v = vec![0i64; s];
            for d in (0..s).rev() {
                v[d] = (k % c.kernel[d] as usize) as i64 * c.dilations[d] as i64;
                k /= c.kernel[d] as usize;
            }
            v
        })
        .collect();
    let mut out = vec![0i8; batch * cout * out_spatial];
    let mut opos = vec![0i64; s];
    // input offsets (or None for padding) of each kernel tap at the current output position
    let mut taps: Vec<Option<usize>> = vec![None; klen];
    for o in 0..out_spatial {
        let mut rem = o;
        for d in (0..s).rev() {
            opos[d] = (rem % out_sp[d] as usize) as i64;
            rem /= out_sp[d] as usize;
        }
        for (t, k) in kidx.iter().enumerate() {
            let mut off = 0usize;
            let mut inside = true;
            for d in 0..s {
                let p = opos[d] * c.strides[d] as i64 - c.pads_begin[d] as i64 + k[d];
                if p < 0 || p >= in_sp[d] {
                    inside = false;
                    break;
                }
                off += p as usize * in_strides[d];
            }
            taps[t] = inside.then_some(off);
        }
        for n in 0..batch {
            for co in 0..cout {
                let g = co / cout_g;
                let mut acc = c.bias[co];
                for ci in 0..cin_g {
                    let xbase = (n * cin + g * cin_g + ci) * in_spatial;
                    let wbase = (co * cin_g + ci) * klen;
                    for (t, tap) in taps.iter().enumerate() {
                        if let Some(off) = tap {
                            acc += c.weights[wbase + t] as i32 * (x[xbase + off] as i32 - c.input_zero_point);
                        }
                    }
                }
                out[(n * cout + co) * out_spatial + o] = apply_epilogue(&c.epilogue, co, acc);
            }
        }
    }
    out
}
