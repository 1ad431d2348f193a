//! `ConvTranspose` ([`ConvTransposeAttrs`], resolved against the input and weight shapes into
//! [`ConvTransposeParams`]: pads from `output_shape`/`auto_pad` or explicit `pads`).
//!
//! ONNX's `[C_in, C_out/group, k…]` weights are rearranged to output-channel-first
//! ([`conv_transpose_weights`]). Float semantics in `f32`, in the gather form of the integer
//! kernel. Lowering: spec `ConvTranspose`, weights quantized per output channel.

use ndarray::{ArrayD, IxDyn};
use solidml_spec::Op;

use super::{OpDef, R, input};
use crate::{
    ir::{Graph, Node, Value},
    quantize::{Lowering, epilogue, quantize_weights, u32s},
};

pub(crate) const OPS: &[OpDef] = &[OpDef::new("", "ConvTranspose", eval, lower)];

/// ConvTranspose's attributes as the node gives them.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvTransposeAttrs {
    /// `group` (default 1, at least 1).
    pub groups: usize,
    /// `strides`, one per spatial axis (default 1 each); negative entries read as 0.
    pub strides: Option<Vec<usize>>,
    /// `dilations`, one per spatial axis (default 1 each); negative entries read as 0.
    pub dilations: Option<Vec<usize>>,
    /// `output_padding`: extra elements appended at the end of each spatial axis of the full
    /// transposed convolution (default 0 each).
    pub output_padding: Option<Vec<usize>>,
    /// `auto_pad` (default `NOTSET`; read only with `output_shape`, or SAME without it).
    /// `VALID` ignores `pads`.
    pub auto_pad: String,
    /// `output_shape`: the spatial output size (its last `rank − 2` entries are used); the
    /// pads are derived from it and take precedence over `pads`.
    pub output_shape: Option<Vec<i64>>,
    /// `pads`: `[begin…, end…]`, two per spatial axis, cropped from the full transposed
    /// convolution (default 0).
    pub pads: Option<Vec<i64>>,
}

impl ConvTransposeAttrs {
    /// The attributes of ConvTranspose node `n` as given (defaults applied later, by
    /// [`conv_transpose_params`], once the spatial rank is known).
    pub fn parse(n: &Node) -> ConvTransposeAttrs {
        let get = |k: &str| n.ints(k).map(|v| v.iter().map(|&x| x.max(0) as usize).collect::<Vec<_>>());
        ConvTransposeAttrs {
            groups: n.int("group", 1).max(1) as usize,
            strides: get("strides"),
            dilations: get("dilations"),
            output_padding: get("output_padding"),
            auto_pad: n.str("auto_pad", "NOTSET"),
            output_shape: n.ints("output_shape"),
            pads: n.ints("pads"),
        }
    }
}

/// Resolved ConvTranspose attributes and output shape.
#[derive(Debug, Clone)]
pub struct ConvTransposeParams {
    /// Kernel size per spatial axis (the weights' `k…` dimensions).
    pub kernel: Vec<usize>,
    /// Stride per spatial axis, at least 1.
    pub strides: Vec<usize>,
    /// Dilation per spatial axis, at least 1.
    pub dilations: Vec<usize>,
    /// Elements cropped at the start of each spatial axis of the full transposed convolution.
    pub pads_begin: Vec<usize>,
    /// Elements cropped at the end of each spatial axis of the full transposed convolution.
    pub pads_end: Vec<usize>,
    /// `output_padding` per spatial axis (already included in [`Self::out_shape`]).
    pub output_padding: Vec<usize>,
    /// Number of channel groups (`group`, at least 1).
    pub groups: usize,
    /// The output shape `[N, C_out, spatial…]`, with spatial size
    /// `(in − 1) · stride + dilation · (k − 1) + 1 + output_padding − pads_begin − pads_end`.
    pub out_shape: Vec<usize>,
}

/// ConvTranspose node `n`'s attributes resolved against input shape `xs` (`[N, C_in,
/// spatial…]`) and weight shape `ws` (`[C_in, C_out/group, k…]`): defaults filled in, pads
/// derived from `output_shape` or SAME `auto_pad` (the odd element at the end for
/// `SAME_UPPER`, at the start otherwise) or taken from `pads`, and the output shape. An error
/// for mismatched ranks or channels, or pads that remove the whole output.
pub fn conv_transpose_params(n: &Node, xs: &[usize], ws: &[usize]) -> R<ConvTransposeParams> {
    if xs.len() < 3 || ws.len() != xs.len() {
        return Err(format!("ConvTranspose input {xs:?} and weights {ws:?} ranks"));
    }
    let a = ConvTransposeAttrs::parse(n);
    let s = xs.len() - 2;
    let groups = a.groups;
    if xs[1] != ws[0] || !xs[1].is_multiple_of(groups) {
        return Err(format!("ConvTranspose channels: input {:?}, weights {ws:?}, group {groups}", xs[1]));
    }
    let kernel = ws[2..].to_vec();
    let or = |v: &Option<Vec<usize>>, d: usize| v.clone().unwrap_or_else(|| vec![d; s]);
    let (strides, dilations, output_padding) = (or(&a.strides, 1), or(&a.dilations, 1), or(&a.output_padding, 0));
    if strides.len() != s || dilations.len() != s || output_padding.len() != s || strides.contains(&0) || dilations.contains(&0) {
        return Err("strides/dilations/output_padding do not match the kernel rank".into());
    }
    // the spec stores these as u32s; within that, the sizes below cannot overflow
    let fits = |v: &[usize]| v.iter().all(|&x| (1..=u32::MAX as usize).contains(&x));
    if !fits(&kernel) || !fits(&strides) || !fits(&dilations) || !fits(&xs[2..]) || output_padding.iter().any(|&p| p > u32::MAX as usize) {
        return Err(format!(
            "ConvTranspose of kernel {kernel:?}, strides {strides:?}, dilations {dilations:?} and output_padding {output_padding:?} over {xs:?}: each must be 1 to 2^32 − 1"
        ));
    }
    let full: Vec<usize> = (0..s)
        .map(|d| {
            let span = dilations[d].checked_mul(kernel[d] - 1)?;
            (xs[d + 2] - 1).checked_mul(strides[d])?.checked_add(span)?.checked_add(1 + output_padding[d])
        })
        .collect::<Option<_>>()
        .ok_or("the full transposed convolution is longer than 2^64")?;
    let (mut pb, mut pe) = (vec![0; s], vec![0; s]);
    let auto = a.auto_pad.as_str();
    let target = a.output_shape.as_ref().map(|t| t.iter().rev().take(s).rev().map(|&x| x as usize).collect::<Vec<_>>()).or_else(|| {
        // SAME padding without output_shape: the output is input · stride
        auto.starts_with("SAME").then(|| (0..s).map(|d| xs[d + 2] * strides[d]).collect())
    });
    if let Some(target) = target {
        if target.len() != s {
            return Err("output_shape does not match the kernel rank".into());
        }
        for d in 0..s {
            let total = full[d].checked_sub(target[d]).ok_or("output_shape larger than the full transposed convolution")?;
            if auto == "SAME_UPPER" {
                pb[d] = total / 2;
                pe[d] = total - total / 2;
            } else {
                pb[d] = total - total / 2;
                pe[d] = total / 2;
            }
        }
    } else if let Some(p) = a.pads.as_ref().filter(|_| auto != "VALID") {
        if p.len() != 2 * s || p.iter().any(|&x| !(0..=u32::MAX as i64).contains(&x)) {
            return Err(format!("pads {p:?}"));
        }
        pb = p[..s].iter().map(|&x| x as usize).collect();
        pe = p[s..].iter().map(|&x| x as usize).collect();
    }
    let cout = ws[1].checked_mul(groups).ok_or_else(|| format!("ConvTranspose weights {ws:?} in {groups} groups"))?;
    let mut out_shape = vec![xs[0], cout];
    for d in 0..s {
        out_shape.push(full[d].checked_sub(pb[d] + pe[d]).filter(|&v| v > 0).ok_or("pads remove the whole output")?);
    }
    super::check_elements(&out_shape, "the ConvTranspose output")?;
    if pb.iter().chain(&pe).any(|&p| p > u32::MAX as usize) {
        return Err(format!("ConvTranspose pads {pb:?}, {pe:?}: each must be below 2^32"));
    }
    Ok(ConvTransposeParams { kernel, strides, dilations, pads_begin: pb, pads_end: pe, output_padding, groups, out_shape })
}

/// ONNX's `[C_in, C_out/g, k…]` weights as `[C_out, C_in/g, k…]` (the spec's layout).
pub fn conv_transpose_weights(w: &ArrayD<f32>, groups: usize) -> R<ArrayD<f32>> {
    let ws = w.shape();
    let (cin, cout_g) = (ws[0], ws[1]);
    let cin_g = cin / groups;
    let mut shape = vec![cout_g * groups, cin_g];
    shape.extend_from_slice(&ws[2..]);
    let k: usize = ws[2..].iter().product();
    let src = w.as_standard_layout();
    let src = src.as_slice().unwrap();
    let mut out = vec![0f32; src.len()];
    for g in 0..groups {
        for ci in 0..cin_g {
            for co in 0..cout_g {
                for t in 0..k {
                    out[((g * cout_g + co) * cin_g + ci) * k + t] = src[(((g * cin_g + ci) * cout_g) + co) * k + t];
                }
            }
        }
    }
    ArrayD::from_shape_vec(IxDyn(&shape), out).map_err(|e| e.to_string())
}

fn eval(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let (x, w) = (input(ins, 0)?.to_f32(), input(ins, 1)?.to_f32());
    let p = conv_transpose_params(n, x.shape(), w.shape())?;
    let wt = conv_transpose_weights(&w, p.groups)?;
    let bias = ins.get(2).copied().flatten().map(|b| b.to_f32().iter().copied().collect::<Vec<_>>());
    let cout = p.out_shape[1];
    if let Some(b) = bias.as_ref().filter(|b| b.len() != cout) {
        return Err(format!("ConvTranspose bias of {} values for {cout} output channels", b.len()));
    }
    let (out_plane, klen) = (p.out_shape[2..].iter().product(), p.kernel.iter().product());
    let (nb, cin_g) = (x.shape()[0], x.shape()[1] / p.groups);
    // the tap search per output position, then every tap for every sample and channel
    super::check_work(&[out_plane, klen], "the ConvTranspose window")?;
    super::check_work(&[nb, cout, out_plane, cin_g, klen], &format!("ConvTranspose of {:?} over {:?}", w.shape(), x.shape()))?;
    Ok(vec![Value::Float(conv_transpose(&p, &x, &wt, bias.as_deref()))])
}

/// The float transposed convolution, in the gather form of the integer kernel.
fn conv_transpose(p: &ConvTransposeParams, x: &ArrayD<f32>, wt: &ArrayD<f32>, bias: Option<&[f32]>) -> ArrayD<f32> {
    let xs = x.shape();
    let s = p.kernel.len();
    let (nb, cin, cout) = (xs[0], xs[1], p.out_shape[1]);
    let (cin_g, cout_g) = (cin / p.groups, cout / p.groups);
    let x = x.as_standard_layout();
    let xd = x.as_slice().unwrap();
    let wt = wt.as_standard_layout();
    let wd = wt.as_slice().unwrap();
    let in_plane: usize = xs[2..].iter().product();
    let out_sp = &p.out_shape[2..];
    let out_plane: usize = out_sp.iter().product();
    let klen: usize = p.kernel.iter().product();
    let mut out = vec![0f32; nb * cout * out_plane];
    for o in 0..out_plane {
        let mut taps = vec![];
        for k in 0..klen {
            let (mut ro, mut rk, mut off, mut stride, mut ok) = (o, k, 0usize, 1usize, true);
            for d in (0..s).rev() {
                let (od, kd) = ((ro % out_sp[d]) as i64, (rk % p.kernel[d]) as i64);
                ro /= out_sp[d];
                rk /= p.kernel[d];
                let num = od + p.pads_begin[d] as i64 - kd * p.dilations[d] as i64;
                let st = p.strides[d] as i64;
                if num < 0 || num % st != 0 || num / st >= xs[d + 2] as i64 {
                    ok = false;
                    break;
                }
                off += (num / st) as usize * stride;
                stride *= xs[d + 2];
            }
            if ok {
                taps.push((k, off));
            }
        }
        for b in 0..nb {
            for co in 0..cout {
                let g = co / cout_g;
                let mut acc = bias.map_or(0.0, |b| b[co]);
                for ci in 0..cin_g {
                    let xb = (b * cin + g * cin_g + ci) * in_plane;
                    let wb = (co * cin_g + ci) * klen;
                    for &(k, off) in &taps {
                        acc += wd[wb + k] * xd[xb + off];
                    }
                }
                out[(b * cout + co) * out_plane + o] = acc;
            }
        }
    }
    ArrayD::from_shape_vec(IxDyn(&p.out_shape), out).unwrap()
}

fn lower(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let xt = n.input(0).ok_or("input missing")?;
    let x = l.id(xt)?;
    let w = l.const_value(n.input(1)).ok_or("ConvTranspose weights must be constants")?.to_f32();
    if n.input(2).is_some() && l.const_value(n.input(2)).is_none() {
        return Err("ConvTranspose bias must be a constant".into());
    }
    let bias = l.const_value(n.input(2)).map(|b| b.to_f32().iter().copied().collect::<Vec<_>>());
    let p = conv_transpose_params(n, g.shape(xt), w.shape())?;
    let wt = conv_transpose_weights(&w, p.groups)?;
    let y = n.outputs[0];
    let (qi, qo) = (l.quant(x), l.range_quant(y)?);
    let (weights, bias_q, multipliers) = quantize_weights(&wt, 0, bias.as_deref(), qi, qo)?;
    let ct = solidml_spec::ConvTranspose {
        kernel: u32s(&p.kernel),
        strides: u32s(&p.strides),
        dilations: u32s(&p.dilations),
        pads_begin: u32s(&p.pads_begin),
        pads_end: u32s(&p.pads_end),
        output_padding: u32s(&p.output_padding),
        groups: p.groups as u32,
        input_zero_point: qi.zero_point,
        weights,
        bias: bias_q,
        epilogue: epilogue(n, multipliers, qo),
    };
    let o = l.out(y, qo);
    l.emit(&n.name, Op::ConvTranspose(ct), vec![x], vec![o]);
    Ok(())
}
