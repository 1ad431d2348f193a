//! Conv (spec §Conv): for output channel `c` in group `g` and output position `o`,
//! `acc = bias[c] + Σ_{i ∈ group g, k ∈ kernel} w[c, i, k] · (x[i, o·stride − pad_begin + k·dilation] − zp_in)`,
//! where positions outside the input contribute 0 (padding holds the input zero point, real 0);
//! then the epilogue.

use solidml_spec::Conv;

use super::{ConvParams, accumulate_at};
use solidml_exec::Value;
use solidml_exec::index::strides;

/// Conv (spec §Conv) of the int8 input `x` of `in_shape` (`[N, C_in, spatial…]`) into the
/// int8 output of `out_shape` (`[N, C_out, O…]`), row-major.
pub fn conv(c: &Conv, in_shape: &[u32], out_shape: &[u32], x: &[i8]) -> Vec<i8> {
    let s = c.kernel.len();
    let in_sp: Vec<i64> = in_shape[2..].iter().map(|&d| d as i64).collect();
    let out_sp = &out_shape[2..];
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
    let params = ConvParams {
        weights: &c.weights,
        bias: &c.bias,
        epilogue: &c.epilogue,
        input_zero_point: c.input_zero_point,
        groups: c.groups as usize,
    };
    let mut out = vec![0i8; out_shape.iter().map(|&d| d as usize).product()];
    let mut opos = vec![0i64; s];
    // (tap, input offset) of each kernel tap inside the input at the current output position
    let mut taps: Vec<(usize, usize)> = Vec::with_capacity(klen);
    for o in 0..out_spatial {
        let mut rem = o;
        for d in (0..s).rev() {
            opos[d] = (rem % out_sp[d] as usize) as i64;
            rem /= out_sp[d] as usize;
        }
        taps.clear();
        'taps: for (t, k) in kidx.iter().enumerate() {
            let mut off = 0usize;
            for d in 0..s {
                let p = opos[d] * c.strides[d] as i64 - c.pads_begin[d] as i64 + k[d];
                if p < 0 || p >= in_sp[d] {
                    continue 'taps;
                }
                off += p as usize * in_strides[d];
            }
            taps.push((t, off));
        }
        accumulate_at(&params, in_shape, out_shape, o, &taps, x, &mut out);
    }
    out
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Conv`] (`solidml_spec::for_each_op!`).
    pub fn conv(n: &super::NodeArgs<'_>, op: &solidml_spec::Conv) -> super::NodeResult {
        Ok(Value::I8(conv(op, n.input_shape(0), n.output_shape(), n.args[0].as_i8())))
    }
}

#[cfg(test)]
mod tests {
    use solidml_spec::{
        Conv, Epilogue,
        arith::{Multiplier, requantize},
    };

    use super::conv;
    use crate::ops::tests::Rng;

    fn epilogue(multipliers: Vec<Multiplier>, output_zero_point: i32, clamp_min: i8, clamp_max: i8) -> Epilogue {
        Epilogue { multipliers, output_zero_point, clamp_min, clamp_max }
    }

    #[test]
    fn sobel_3x3_with_padding_1() {
        // x − zp_in (zp_in = 1, x = 1..=9):  w (Sobel-x):
        //   0 1 2                            1 0 -1
        //   3 4 5                            2 0 -2
        //   6 7 8                            1 0 -1
        // out[y][x] = Σ_ky c[ky]·(X[y+ky−1][x−1] − X[y+ky−1][x+1]), c = (1, 2, 1); every tap with
        // row −1/3 or column −1/3 hits padding (contributes 0). E.g. out[0][0]: row ky = 0 and
        // column kx = 0 are padding, so 2·(0 − X[0][1]) + 1·(0 − X[1][1]) = −2 − 4 = −6.
        // acc = [[−6, −6, 6], [−16, −8, 16], [−18, −6, 18]], + bias 1 = [[−5, −5, 7], [−15, −7, 17], [−17, −5, 19]].
        // M = 0.5 is Q31 2^30 with shift 0: SRDHM gives floor((acc + 1) / 2), ties toward +∞:
        // [[−2, −2, 4], [−7, −3, 9], [−8, −2, 10]]; + zp_out 3, clamp to [−128, 10].
        let c = Conv {
            kernel: vec![3, 3],
            strides: vec![1, 1],
            dilations: vec![1, 1],
            pads_begin: vec![1, 1],
            pads_end: vec![1, 1],
            groups: 1,
            input_zero_point: 1,
            weights: vec![1, 0, -1, 2, 0, -2, 1, 0, -1],
            bias: vec![1],
            epilogue: epilogue(vec![Multiplier::from_real(0.5)], 3, -128, 10),
        };
        let x: Vec<i8> = (1..=9).collect();
        assert_eq!(conv(&c, &[1, 1, 3, 3], &[1, 1, 3, 3], &x), vec![1, 1, 7, -4, 0, 10, -5, 1, 10]);
    }

    /// The spec formula, 2-d NCHW, as plain nested loops.
    fn naive(c: &Conv, [n, cin, h, w]: [usize; 4], [cout, oh, ow]: [usize; 3], x: &[i8]) -> Vec<i8> {
        let (kh, kw) = (c.kernel[0] as usize, c.kernel[1] as usize);
        let g = c.groups as usize;
        let (cin_g, cout_g) = (cin / g, cout / g);
        let mut out = vec![];
        for b in 0..n {
            for co in 0..cout {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = c.bias[co] as i64;
                        for ci in 0..cin_g {
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let iy = (oy * c.strides[0] as usize + ky * c.dilations[0] as usize) as i64 - c.pads_begin[0] as i64;
                                    let ix = (ox * c.strides[1] as usize + kx * c.dilations[1] as usize) as i64 - c.pads_begin[1] as i64;
                                    if iy < 0 || ix < 0 || iy >= h as i64 || ix >= w as i64 {
                                        continue;
                                    }
                                    let xv = x[((b * cin + (co / cout_g) * cin_g + ci) * h + iy as usize) * w + ix as usize] as i64;
                                    let wv = c.weights[((co * cin_g + ci) * kh + ky) * kw + kx] as i64;
                                    acc += wv * (xv - c.input_zero_point as i64);
                                }
                            }
                        }
                        let e = &c.epilogue;
                        let m = e.multipliers[if e.multipliers.len() == 1 { 0 } else { co }];
                        let q = requantize(i32::try_from(acc).unwrap(), m) as i64 + e.output_zero_point as i64;
                        out.push(q.clamp(e.clamp_min as i64, e.clamp_max as i64) as i8);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn random_2d_convs_match_the_formula() {
        let mut rng = Rng::new(1);
        let mut done = 0;
        while done < 60 {
            let (groups, cin_g, cout_g) = (rng.range(1, 3) as u32, rng.range(1, 3) as u32, rng.range(1, 3) as u32);
            let (n, h, w) = (rng.range(1, 2) as u32, rng.range(1, 7) as u32, rng.range(1, 7) as u32);
            let mut p = |_| {
                (rng.range(1, 3) as u32, rng.range(1, 4) as u32, rng.range(1, 2) as u32, rng.range(0, 2) as u32, rng.range(0, 2) as u32)
            };
            let (ph, pw) = (p(0), p(1)); // (kernel, stride, dilation, pad_begin, pad_end); stride may exceed the kernel
            let out_len =
                |n: u32, (k, s, d, pb, pe): (u32, u32, u32, u32, u32)| (n + pb + pe).checked_sub(d * (k - 1) + 1).map(|r| r / s + 1);
            let (Some(oh), Some(ow)) = (out_len(h, ph), out_len(w, pw)) else { continue };
            let (cin, cout) = (groups * cin_g, groups * cout_g);
            let klen = (ph.0 * pw.0) as usize;
            let nmul = if rng.one_in(2) { 1 } else { cout as usize };
            let (lo, hi) = rng.clamp();
            let c = Conv {
                kernel: vec![ph.0, pw.0],
                strides: vec![ph.1, pw.1],
                dilations: vec![ph.2, pw.2],
                pads_begin: vec![ph.3, pw.3],
                pads_end: vec![ph.4, pw.4],
                groups,
                input_zero_point: rng.zero_point(),
                weights: rng.i8s((cout * cin_g) as usize * klen),
                bias: (0..cout).map(|_| rng.range(-20000, 20000) as i32).collect(),
                epilogue: epilogue((0..nmul).map(|_| rng.multiplier()).collect(), rng.zero_point(), lo, hi),
            };
            let x = rng.i8s((n * cin * h * w) as usize);
            let got = conv(&c, &[n, cin, h, w], &[n, cout, oh, ow], &x);
            let want = naive(&c, [n, cin, h, w].map(|d| d as usize), [cout, oh, ow].map(|d| d as usize), &x);
            assert_eq!(got, want, "{c:?} x={x:?}");
            // A 2-d conv whose H axis is trivial is the same 1-d conv over W.
            if h == 1 && ph.0 == 1 && ph.3 == 0 && ph.4 == 0 {
                let c1 = Conv {
                    kernel: vec![pw.0],
                    strides: vec![pw.1],
                    dilations: vec![pw.2],
                    pads_begin: vec![pw.3],
                    pads_end: vec![pw.4],
                    ..c.clone()
                };
                assert_eq!(conv(&c1, &[n, cin, w], &[n, cout, ow], &x), want, "1-d {c1:?}");
            }
            done += 1;
        }
    }
}
