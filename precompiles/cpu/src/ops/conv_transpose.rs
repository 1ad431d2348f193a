//! ConvTranspose (spec §ConvTranspose), in gather form: for output channel `c` in group `g`
//! and output position `o`, `acc = bias[c] + Σ_{i ∈ group g, k} w[c, i, k] · (x[i, p] − zp_in)`
//! over the taps where `p = (o + pad_begin − k · dilation) / stride` is an integer inside the
//! input; then the epilogue.

use solidml_spec::ConvTranspose;

use super::{ConvParams, accumulate_at};
use solidml_exec::Value;
use solidml_exec::index::strides;

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

/// ConvTranspose (spec §ConvTranspose) of the int8 input `x` of `in_shape`
/// (`[N, C_in, spatial…]`) into the int8 output of `out_shape` (`[N, C_out, O…]`), row-major.
pub fn conv_transpose(c: &ConvTranspose, in_shape: &[u32], out_shape: &[u32], x: &[i8]) -> Vec<i8> {
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
    let params = ConvParams {
        weights: &c.weights,
        bias: &c.bias,
        epilogue: &c.epilogue,
        input_zero_point: c.input_zero_point,
        groups: c.groups as usize,
    };
    let mut out = vec![0i8; out_shape.iter().map(|&d| d as usize).product()];
    for o in 0..out_plane {
        let opos = unravel(o, out_sp);
        let taps: Vec<(usize, usize)> =
            kidx.iter().enumerate().filter_map(|(t, k)| tap(c, &in_shape[2..], &in_strides, &opos, k).map(|off| (t, off))).collect();
        accumulate_at(&params, in_shape, out_shape, o, &taps, x, &mut out);
    }
    out
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::ConvTranspose`] (`solidml_spec::for_each_op!`).
    pub fn conv_transpose(n: &super::NodeArgs<'_>, op: &solidml_spec::ConvTranspose) -> super::NodeResult {
        Ok(Value::I8(conv_transpose(op, n.input_shape(0), n.output_shape(), n.args[0].as_i8())))
    }
}

#[cfg(test)]
mod tests {
    use solidml_spec::{
        ConvTranspose, Epilogue,
        arith::{Multiplier, requantize},
    };

    use super::conv_transpose;
    use crate::ops::tests::{Rng, numel, ravel, unravel};

    fn epilogue(multipliers: Vec<Multiplier>, output_zero_point: i32, clamp_min: i8, clamp_max: i8) -> Epilogue {
        Epilogue { multipliers, output_zero_point, clamp_min, clamp_max }
    }

    #[test]
    fn stride_2_in_1d_places_each_tap() {
        // x − zp_in = [1, 2, 3] (x = [2, 3, 4], zp_in = 1), w = [1, 4, 16], stride 2, dilation 1.
        // Scatter form: input i, tap k lands on full position o = 2i + k:
        //   o: 0      1      2            3      4            5      6
        //      i0k0   i0k1   i0k2 + i1k0  i1k1   i1k2 + i2k0  i2k1   i2k2
        //      1      4      16 + 2       8      32 + 3       12     48
        // Full length (3 − 1)·2 + 1·(3 − 1) + 1 = 7; pad_begin 1 drops o = 0, output_padding 1
        // appends o = 7 (no tap reaches it: bias only): 7 − 1 − 0 + 1 = 7 outputs for o = 1..=7:
        //   acc = bias 1 + [4, 18, 8, 35, 12, 48, 0] = [5, 19, 9, 36, 13, 49, 1].
        // M = 1, zp_out = −3, clamp [−128, 40]: [2, 16, 6, 33, 10, 40 (46 clamped), −2].
        let c = ConvTranspose {
            kernel: vec![3],
            strides: vec![2],
            dilations: vec![1],
            pads_begin: vec![1],
            pads_end: vec![0],
            output_padding: vec![1],
            groups: 1,
            input_zero_point: 1,
            weights: vec![1, 4, 16],
            bias: vec![1],
            epilogue: epilogue(vec![Multiplier::from_real(1.0)], -3, -128, 40),
        };
        assert_eq!(conv_transpose(&c, &[1, 1, 3], &[1, 1, 7], &[2, 3, 4]), vec![2, 16, 6, 33, 10, 40, -2]);
        // Gather view of output 3 (full o = 4): taps with (4 − k) even and (4 − k)/2 < 3 are
        // k = 0 (p = 2) and k = 2 (p = 1): w0·x2 + w2·x1 = 3 + 32 — the same 35.
    }

    #[test]
    fn groups_and_dilation_in_1d() {
        // 2 groups, one input and one output channel each; dilation 2, stride 1, no padding.
        // Channel 0: x = [1, 2], w = [1, 10]: o = i + 2k → o0 = 1, o1 = 2, o2 = 10, o3 = 20.
        // Channel 1: x = [3, −1], w = [−1, 2]: o0 = −3, o1 = 1, o2 = 6, o3 = −2.
        // Length (2 − 1)·1 + 2·(2 − 1) + 1 = 4. Bias [0, 100], per-channel M [1, 0.5]:
        // channel 1: [97, 101, 106, 98]/2 = [48.5 → 49, 50.5 → 51, 53, 49] (SRDHM ties go up).
        let c = ConvTranspose {
            kernel: vec![2],
            strides: vec![1],
            dilations: vec![2],
            pads_begin: vec![0],
            pads_end: vec![0],
            output_padding: vec![0],
            groups: 2,
            input_zero_point: 0,
            weights: vec![1, 10, -1, 2],
            bias: vec![0, 100],
            epilogue: epilogue(vec![Multiplier::from_real(1.0), Multiplier::from_real(0.5)], 0, -128, 127),
        };
        assert_eq!(conv_transpose(&c, &[1, 2, 2], &[1, 2, 4], &[1, 2, 3, -1]), vec![1, 2, 10, 20, 49, 51, 53, 49]);
    }

    /// The spec in scatter form: every input element meets every kernel tap and adds into output
    /// position `o = i·stride − pad_begin + k·dilation` when that lies inside the output.
    fn naive_scatter(c: &ConvTranspose, in_shape: &[u32], out_shape: &[u32], x: &[i8]) -> Vec<i8> {
        let (n, cin, cout) = (in_shape[0] as usize, in_shape[1] as usize, out_shape[1] as usize);
        let g = c.groups as usize;
        let (cin_g, cout_g) = (cin / g, cout / g);
        let (in_sp, out_sp) = (&in_shape[2..], &out_shape[2..]);
        let mut acc = vec![0i64; numel(out_shape)];
        for b in 0..n {
            for co in 0..cout {
                for o in 0..numel(out_sp) {
                    acc[(b * cout + co) * numel(out_sp) + o] = c.bias[co] as i64;
                }
            }
        }
        for b in 0..n {
            for ci in 0..cin {
                let grp = ci / cin_g;
                for ip in 0..numel(in_sp) {
                    let ipos = unravel(ip, in_sp);
                    let xv = x[(b * cin + ci) * numel(in_sp) + ip] as i64 - c.input_zero_point as i64;
                    for t in 0..numel(&c.kernel) {
                        let k = unravel(t, &c.kernel);
                        let opos: Option<Vec<usize>> = (0..ipos.len())
                            .map(|d| {
                                let o = ipos[d] as i64 * c.strides[d] as i64 - c.pads_begin[d] as i64 + k[d] as i64 * c.dilations[d] as i64;
                                (0..out_sp[d] as i64).contains(&o).then_some(o as usize)
                            })
                            .collect();
                        let Some(opos) = opos else { continue };
                        for co in grp * cout_g..(grp + 1) * cout_g {
                            let wv = c.weights[(co * cin_g + ci % cin_g) * numel(&c.kernel) + t] as i64;
                            acc[(b * cout + co) * numel(out_sp) + ravel(&opos, out_sp)] += wv * xv;
                        }
                    }
                }
            }
        }
        let e = &c.epilogue;
        acc.iter()
            .enumerate()
            .map(|(i, &a)| {
                let co = i / numel(out_sp) % cout;
                let m = e.multipliers[if e.multipliers.len() == 1 { 0 } else { co }];
                let q = requantize(i32::try_from(a).unwrap(), m) as i64 + e.output_zero_point as i64;
                q.clamp(e.clamp_min as i64, e.clamp_max as i64) as i8
            })
            .collect()
    }

    #[test]
    fn random_conv_transposes_match_the_scatter_form() {
        let mut rng = Rng::new(15);
        let mut done = 0;
        while done < 60 {
            let s = rng.range(1, 3) as usize;
            let (groups, cin_g, cout_g) = (rng.range(1, 3) as u32, rng.range(1, 3) as u32, rng.range(1, 3) as u32);
            let batch = rng.range(1, 2) as u32;
            let max_in = [6, 4, 3][s - 1];
            let in_sp: Vec<u32> = (0..s).map(|_| rng.range(1, max_in) as u32).collect();
            let kernel: Vec<u32> = (0..s).map(|_| rng.range(1, 3) as u32).collect();
            let strides: Vec<u32> = (0..s).map(|_| rng.range(1, 3) as u32).collect();
            let dilations: Vec<u32> = (0..s).map(|_| rng.range(1, 2) as u32).collect();
            let pads_begin: Vec<u32> = (0..s).map(|_| rng.range(0, 2) as u32).collect();
            let pads_end: Vec<u32> = (0..s).map(|_| rng.range(0, 2) as u32).collect();
            // ONNX wants output_padding < max(stride, dilation); the kernel is defined for any
            let output_padding: Vec<u32> = (0..s).map(|d| rng.range(0, (strides[d].max(dilations[d]) - 1) as i64) as u32).collect();
            let out_sp: Option<Vec<u32>> = (0..s)
                .map(|d| {
                    let full = (in_sp[d] - 1) * strides[d] + dilations[d] * (kernel[d] - 1) + 1 + output_padding[d];
                    full.checked_sub(pads_begin[d] + pads_end[d]).filter(|&l| l >= 1)
                })
                .collect();
            let Some(out_sp) = out_sp else { continue };
            let (cin, cout) = (groups * cin_g, groups * cout_g);
            let in_shape: Vec<u32> = [batch, cin].into_iter().chain(in_sp).collect();
            let out_shape: Vec<u32> = [batch, cout].into_iter().chain(out_sp).collect();
            let nmul = if rng.one_in(2) { 1 } else { cout as usize };
            let (lo, hi) = rng.clamp();
            let c = ConvTranspose {
                weights: rng.i8s((cout * cin_g) as usize * numel(&kernel)),
                kernel,
                strides,
                dilations,
                pads_begin,
                pads_end,
                output_padding,
                groups,
                input_zero_point: rng.zero_point(),
                bias: (0..cout).map(|_| rng.range(-20000, 20000) as i32).collect(),
                epilogue: epilogue((0..nmul).map(|_| rng.multiplier()).collect(), rng.zero_point(), lo, hi),
            };
            let x = rng.i8s(numel(&in_shape));
            let got = conv_transpose(&c, &in_shape, &out_shape, &x);
            assert_eq!(got, naive_scatter(&c, &in_shape, &out_shape, &x), "{c:?} {in_shape:?} → {out_shape:?} x={x:?}");
            done += 1;
        }
    }
}
