//! MaxPool and AvgPool (spec §Pooling) over the spatial axes of NC(spatial…).
//!
//! * MaxPool: the largest `q` among window taps inside the input (padding never wins);
//!   −128 for a window with no tap inside.
//! * AvgPool: `zp + round_half_away(Σ (q − zp) / count)` over taps inside the input, clamped to
//!   int8; `count` is the number of taps inside the input, or the whole window when
//!   `count_include_pad`; an empty count gives `zp`.

use solidml_spec::{Pool, arith::div_round_half_away};

use solidml_exec::Value;
use solidml_exec::index::strides;

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

/// MaxPool (spec §MaxPool) of the int8 input `x` of `in_shape` (`[N, C, spatial…]`) into
/// `out_shape`: the largest code among the taps inside the input, −128 for none.
pub fn max_pool(p: &Pool, in_shape: &[u32], out_shape: &[u32], x: &[i8]) -> Vec<i8> {
    let mut out = vec![0i8; out_shape.iter().map(|&d| d as usize).product()];
    windows(p, in_shape, out_shape, |base, o, taps| {
        out[o] = taps.iter().map(|&t| x[base + t]).max().unwrap_or(i8::MIN);
    });
    out
}

/// AvgPool (spec §AvgPool) of the int8 input `x` of `in_shape` (`[N, C, spatial…]`) into
/// `out_shape`: the rounded mean of the taps, in the input's quantization.
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

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::MaxPool`] (`solidml_spec::for_each_op!`).
    pub fn max_pool(n: &super::NodeArgs<'_>, op: &solidml_spec::Pool) -> super::NodeResult {
        Ok(Value::I8(max_pool(op, n.input_shape(0), n.output_shape(), n.args[0].as_i8())))
    }

    /// The node entry of [`solidml_spec::Op::AvgPool`] (`solidml_spec::for_each_op!`).
    pub fn avg_pool(n: &super::NodeArgs<'_>, op: &solidml_spec::Pool) -> super::NodeResult {
        Ok(Value::I8(avg_pool(op, n.input_shape(0), n.output_shape(), n.args[0].as_i8())))
    }
}

#[cfg(test)]
mod tests {
    use solidml_spec::Pool;

    use super::{avg_pool, max_pool};
    use crate::ops::tests::{Rng, numel};

    fn pool(
        kernel: Vec<u32>,
        strides: Vec<u32>,
        dilations: Vec<u32>,
        pads: (Vec<u32>, Vec<u32>),
        count_include_pad: bool,
        zero_point: i32,
    ) -> Pool {
        Pool { kernel, strides, dilations, pads_begin: pads.0, pads_end: pads.1, count_include_pad, zero_point }
    }

    #[test]
    fn ties_round_half_away_and_padding_never_wins() {
        // x [1, 1, 1, 5] = [12, 13, 8, 7, 7], zp = 10, so x − zp = [2, 3, −2, −3, −3].
        // Kernel [1, 2], strides [1, 2], one pad at the end of W → windows {0, 1}, {2, 3}, {4, pad}.
        //   avg:  5/2 = 2.5 → 3 → 13;  −5/2 = −2.5 → −3 → 7;  last: −3/1 → 7, or −3/2 = −1.5 → −2 → 8
        //         with count_include_pad.
        //   max:  13, 8, and 7 for the last window (the padding, at zp = 10, does not take part).
        let x = [12, 13, 8, 7, 7];
        let p = pool(vec![1, 2], vec![1, 2], vec![1, 1], (vec![0, 0], vec![0, 1]), false, 10);
        let (si, so) = ([1, 1, 1, 5], [1, 1, 1, 3]);
        assert_eq!(avg_pool(&p, &si, &so, &x), vec![13, 7, 7]);
        assert_eq!(avg_pool(&Pool { count_include_pad: true, ..p.clone() }, &si, &so, &x), vec![13, 7, 8]);
        assert_eq!(max_pool(&p, &si, &so, &x), vec![13, 8, 7]);
    }

    #[test]
    fn window_with_no_tap_inside() {
        // 1-d, x [1, 1, 1], kernel 2, dilation 2, one pad on each side: the taps are at −1 and 1,
        // both outside. MaxPool gives −128, AvgPool the zero point (count 0, or sum 0 over 2).
        let p = pool(vec![2], vec![1], vec![2], (vec![1], vec![1]), false, -5);
        assert_eq!(max_pool(&p, &[1, 1, 1], &[1, 1, 1], &[100]), vec![-128]);
        assert_eq!(avg_pool(&p, &[1, 1, 1], &[1, 1, 1], &[100]), vec![-5]);
        assert_eq!(avg_pool(&Pool { count_include_pad: true, ..p }, &[1, 1, 1], &[1, 1, 1], &[100]), vec![-5]);
    }

    /// Round half away from zero, written differently from `div_round_half_away`.
    fn round_div(sum: i64, count: i64) -> i64 {
        (2 * sum.abs() + count) / (2 * count) * sum.signum()
    }

    #[test]
    fn random_2d_pools_match_the_formula() {
        let mut rng = Rng::new(8);
        let mut done = 0;
        while done < 60 {
            let (n, c, h, w) = (rng.range(1, 2) as usize, rng.range(1, 3) as usize, rng.range(1, 6) as usize, rng.range(1, 6) as usize);
            let k = [rng.range(1, 3) as u32, rng.range(1, 3) as u32];
            let p = pool(
                k.to_vec(),
                vec![rng.range(1, 4) as u32, rng.range(1, 4) as u32], // may exceed the kernel
                vec![rng.range(1, 3) as u32, rng.range(1, 3) as u32],
                (
                    k.iter().map(|&k| rng.range(0, k as i64 - 1) as u32).collect(),
                    k.iter().map(|&k| rng.range(0, k as i64 - 1) as u32).collect(),
                ),
                rng.one_in(2),
                rng.zero_point(),
            );
            let out_len = |n: usize, d: usize| {
                (n + (p.pads_begin[d] + p.pads_end[d]) as usize)
                    .checked_sub((p.dilations[d] * (k[d] - 1) + 1) as usize)
                    .map(|r| r / p.strides[d] as usize + 1)
            };
            let (Some(oh), Some(ow)) = (out_len(h, 0), out_len(w, 1)) else { continue };
            let x = rng.i8s(n * c * h * w);
            let (mut want_max, mut want_avg) = (vec![], vec![]);
            for plane in 0..n * c {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut inside = vec![];
                        for ky in 0..k[0] as usize {
                            for kx in 0..k[1] as usize {
                                let iy = (oy * p.strides[0] as usize + ky * p.dilations[0] as usize) as i64 - p.pads_begin[0] as i64;
                                let ix = (ox * p.strides[1] as usize + kx * p.dilations[1] as usize) as i64 - p.pads_begin[1] as i64;
                                if (0..h as i64).contains(&iy) && (0..w as i64).contains(&ix) {
                                    inside.push(x[(plane * h + iy as usize) * w + ix as usize] as i64);
                                }
                            }
                        }
                        want_max.push(inside.iter().copied().max().unwrap_or(-128) as i8);
                        let count = if p.count_include_pad { (k[0] * k[1]) as i64 } else { inside.len() as i64 };
                        let sum: i64 = inside.iter().map(|&q| q - p.zero_point as i64).sum();
                        let avg = if count == 0 { 0 } else { round_div(sum, count) };
                        want_avg.push((avg + p.zero_point as i64).clamp(-128, 127) as i8);
                    }
                }
            }
            let (si, so) = ([n, c, h, w].map(|d| d as u32), [n, c, oh, ow].map(|d| d as u32));
            assert_eq!(numel(&so), want_max.len());
            assert_eq!(max_pool(&p, &si, &so, &x), want_max, "{p:?} {si:?}");
            assert_eq!(avg_pool(&p, &si, &so, &x), want_avg, "{p:?} {si:?}");
            done += 1;
        }
    }
}
