//! MaxPool and AvgPool (spec §Pooling) over the spatial axes of NC(spatial…).
//!
//! * MaxPool: the largest `q` among window taps inside the input (padding never wins);
//!   −128 for a window with no tap inside.
//! * AvgPool: `zp + round_half_away(Σ (q − zp) / count)` over taps inside the input, clamped to
//!   int8; `count` is the number of taps inside the input, or the whole window when
//!   `count_include_pad`; an empty count gives `zp`.

use solidml_spec::{Pool, arith::div_round_half_away};

use crate::index::strides;

/// Calls `f(plane, out_offset, taps)` for every output element; `taps` are the input offsets
/// (within the plane) of the window positions inside the input.
fn windows(p: &Pool, in_shape: &[u32], out_shape: &[u32], mut f: impl FnMut(usize, usize, &[usize])) {
    let s = p.kernel.len();
    let planes = in_shape[0] as usize * in_shape[1] as usize;
    let in_plane: usize = in_shape[2..].iter().map(|&d| d as usize).product();
    let out_plane: usize = out_shape[2..].iter().map(|&d| d as usize).product();
    let ist = strides(&in_shape[2..]);
    let klen: usize = p.kernel.iter().map(|&k| k as usize).product();
    let mut taps = Vec::with_capacity(klen);
    for o in 0..out_plane {
        let mut opos = vec![0i64; s];
        let mut rem = o;
        for d in (0..s).rev() {
            opos[d] = (rem % out_shape[d + 2] as usize) as i64;
            rem /= out_shape[d + 2] as usize;
        }
        taps.clear();
        for k in 0..klen {
            let mut rem = k;
            let mut off = 0usize;
            let mut inside = true;
            for d in (0..s).rev() {
                let kd = (rem % p.kernel[d] as usize) as i64;
                rem /= p.kernel[d] as usize;
                let pos = opos[d] * p.strides[d] as i64 - p.pads_begin[d] as i64 + kd * p.dilations[d] as i64;
                if pos < 0 || pos >= in_shape[d + 2] as i64 {
                    inside = false;
                } else {
                    off += pos as usize * ist[d];
                }
            }
            if inside {
                taps.push(off);
            }
        }
        for plane in 0..planes {
            f(plane * in_plane, plane * out_plane + o, &taps);
        }
    }
}

pub fn max_pool(p: &Pool, in_shape: &[u32], out_shape: &[u32], x: &[i8]) -> Vec<i8> {
    let mut out = vec![0i8; out_shape.iter().map(|&d| d as usize).product()];
    windows(p, in_shape, out_shape, |base, o, taps| {
        out[o] = taps.iter().map(|&t| x[base + t]).max().unwrap_or(i8::MIN);
    });
    out
}

pub fn avg_pool(p: &Pool, in_shape: &[u32], out_shape: &[u32], x: &[i8]) -> Vec<i8> {
    let mut out = vec![0i8; out_shape.iter().map(|&d| d as usize).product()];
    let window: i64 = p.kernel.iter().map(|&k| k as i64).product();
    windows(p, in_shape, out_shape, |base, o, taps| {
        let sum: i64 = taps.iter().map(|&t| x[base + t] as i64 - p.zero_point as i64).sum();
        let count = if p.count_include_pad { window } else { taps.len() as i64 };
        let avg = if count == 0 { 0 } else { div_round_half_away(sum, count) };
        out[o] = (avg + p.zero_point as i64).clamp(-128, 127) as i8;
    });
    out
}
