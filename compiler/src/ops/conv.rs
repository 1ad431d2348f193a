//! `Conv`: N-d grouped convolution ([`ConvAttrs`]: `group` and the window attributes).
//!
//! Float semantics in `f32` over the window walk the integer kernel uses. Lowering: spec
//! `Conv` with constant weights quantized symmetric per output channel, an int32 bias and the
//! epilogue (requantization, fused activation clamp).

use ndarray::{ArrayD, IxDyn};
use solidml_spec::{Conv, Op};

use super::{
    OpDef, R, input,
    qdq::grid_weights,
    window::{WindowAttrs, for_windows},
};
use crate::{
    ir::{Graph, Node, Value},
    quantize::{Lowering, epilogue, quantize_weights, u32s},
};

pub(crate) const OPS: &[OpDef] = &[OpDef::new("", "Conv", eval, lower)];

/// Conv's attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvAttrs {
    /// `group` as given (default 1).
    pub group: i64,
    /// The sliding-window attributes (`kernel_shape`, `strides`, `dilations`, `pads`,
    /// `auto_pad`), shared with the pooling ops.
    pub window: WindowAttrs,
}

impl ConvAttrs {
    /// The attributes of Conv node `n`, with ONNX defaults where absent (not yet checked
    /// against the input and weight shapes).
    pub fn parse(n: &Node) -> ConvAttrs {
        ConvAttrs { group: n.int("group", 1), window: WindowAttrs::parse(n) }
    }
}

fn eval(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let b = ins.get(2).copied().flatten().map(|b| b.to_f32());
    Ok(vec![Value::Float(conv(&ConvAttrs::parse(n), &input(ins, 0)?.to_f32(), &input(ins, 1)?.to_f32(), b)?)])
}

pub(crate) fn conv(a: &ConvAttrs, x: &ArrayD<f32>, wt: &ArrayD<f32>, b: Option<ArrayD<f32>>) -> R<ArrayD<f32>> {
    let (xs, ws) = (x.shape().to_vec(), wt.shape().to_vec());
    if xs.len() < 3 || ws.len() != xs.len() {
        return Err(format!("Conv input {xs:?} and weights {ws:?} ranks"));
    }
    let g = usize::try_from(a.group.max(1)).unwrap_or(usize::MAX);
    let (nb, cin, cout) = (xs[0], xs[1], ws[0]);
    if cin % g != 0 || cout % g != 0 || ws[1].checked_mul(g) != Some(cin) {
        return Err(format!("Conv channels: input {cin}, weights {ws:?}, group {g}"));
    }
    let bias = b.map(|b| b.iter().copied().collect::<Vec<_>>());
    if let Some(b) = bias.as_ref().filter(|b| b.len() != cout) {
        return Err(format!("Conv bias of {} values for {cout} output channels", b.len()));
    }
    let w = a.window.resolve(&xs[2..], ws[2..].to_vec())?;
    let out_sp = super::window::out_shape(&w, &xs[2..])?;
    let mut shape = vec![nb, cout];
    shape.extend(&out_sp);
    super::check_elements(&shape, "the Conv output")?;
    let total: usize = out_sp.iter().product();
    let klen: usize = ws[2..].iter().product();
    let (cin_g, cout_g) = (cin / g, cout / g);
    super::check_work(&[nb, cout, total, cin_g, klen], &format!("Conv of {ws:?} over {xs:?}"))?;
    let x = x.as_standard_layout();
    let wt = wt.as_standard_layout();
    let (xd, wd) = (x.as_slice().unwrap(), wt.as_slice().unwrap());
    let in_plane: usize = xs[2..].iter().product();
    let mut out = vec![0f32; nb * cout * total];
    // per output position, its (kernel tap, input offset) pairs, for every sample and channel
    for_windows(&w, &xs[2..], |o, taps| {
        for bn in 0..nb {
            for co in 0..cout {
                let gi = co / cout_g;
                let mut acc = bias.as_ref().map_or(0.0, |b| b[co]);
                for ci in 0..cin_g {
                    let xb = (bn * cin + gi * cin_g + ci) * in_plane;
                    let wb = (co * cin_g + ci) * klen;
                    for &(k, off) in taps {
                        acc += wd[wb + k] * xd[xb + off];
                    }
                }
                out[(bn * cout + co) * total + o] = acc;
            }
        }
    })?;
    ArrayD::from_shape_vec(IxDyn(&shape), out).map_err(|e| e.to_string())
}

fn lower(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let xt = n.input(0).ok_or("input missing")?;
    let x = l.id(xt)?;
    let w = l.const_value(n.input(1)).ok_or("Conv weights must be constants")?.to_f32();
    if n.input(2).is_some() && l.const_value(n.input(2)).is_none() {
        return Err("Conv bias must be a constant".into());
    }
    let bias = l.const_value(n.input(2)).map(|b| b.to_f32().iter().copied().collect::<Vec<_>>());
    let xs = g.shape(xt).to_vec();
    let ws = w.shape().to_vec();
    let a = ConvAttrs::parse(n);
    let win = a.window.resolve(&xs[2..], ws[2..].to_vec())?;
    let y = n.outputs[0];
    let (qi, qo) = (l.quant(x), l.output_quant(n, y)?);
    // the model's own integer weights (QDQ, QLinearConv) when they fit, else per-channel ones
    let (weights, bias_q, multipliers) = match grid_weights(g, n.input(1).ok_or("input missing")?, &w, bias.as_deref(), qi, qo)? {
        Some(exact) => exact,
        None => quantize_weights(&w, 0, bias.as_deref(), qi, qo)?,
    };
    let epilogue = epilogue(n, multipliers, qo);
    let conv = Conv {
        kernel: u32s(&win.kernel),
        strides: u32s(&win.strides),
        dilations: u32s(&win.dilations),
        pads_begin: u32s(&win.pads_begin),
        pads_end: u32s(&win.pads_end),
        groups: a.group as u32,
        input_zero_point: qi.zero_point,
        weights,
        bias: bias_q,
        epilogue,
    };
    let o = l.out(y, qo);
    l.emit(&n.name, Op::Conv(conv), vec![x], vec![o]);
    Ok(())
}
