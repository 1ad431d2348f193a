//! `Pad` ([`PadAttrs`]: `pads`/`value` attributes before opset 11, then constant inputs with
//! an optional `axes` input; `mode` constant, reflect or edge).
//!
//! Float semantics by the index rule of the integer kernel
//! (`solidml_exec::index::pad_source_index`). Lowering: spec `Pad`, the constant value
//! quantized with the input's quantization.

use ndarray::{ArrayD, IxDyn};
use solidml_spec::{Op, Pad, PadMode, io::quantize_f32};

use super::{OpDef, R, input};
use crate::{
    float::norm_axis,
    ir::{Graph, Node, Value},
    quantize::Lowering,
};

pub(crate) const OPS: &[OpDef] = &[OpDef::new("", "Pad", eval, lower)];

/// A Pad node resolved against its input rank.
#[derive(Debug, Clone, PartialEq)]
pub struct PadAttrs {
    /// (begin, end) per axis.
    pub pads: Vec<(usize, usize)>,
    /// The fill value of `constant` mode (attribute `value` before opset 11, then input 2;
    /// default 0.0), in real units.
    pub value: f32,
    /// Attribute `mode`: `constant` (default), `reflect` or `edge`; `wrap` is rejected.
    pub mode: PadMode,
}

impl PadAttrs {
    /// Pad node `n` resolved against input rank `rank` under `opset`: `pads` (`paddings` in
    /// opset 1) and `value` from the attributes before opset 11, from constant inputs 1 and 2
    /// since, with the optional `axes` input 3 (opset 18) selecting the padded axes (all by
    /// default). Negative pads are an error.
    pub fn parse(n: &Node, ins: &[Option<&Value>], rank: usize, opset: i64) -> R<PadAttrs> {
        let (pads, value) = pad_spec(n, ins, rank, opset)?;
        Ok(PadAttrs { pads, value, mode: pad_mode(n)? })
    }
}

/// Pads as (begin, end) per axis and the constant value.
fn pad_spec(n: &Node, ins: &[Option<&Value>], rank: usize, opset: i64) -> R<(Vec<(usize, usize)>, f32)> {
    let (pads, value) = if opset < 11 {
        (n.ints("pads").or_else(|| n.ints("paddings")).unwrap_or_default(), n.float("value", 0.0))
    } else {
        let p: Vec<i64> = ins.get(1).copied().flatten().map(|v| v.to_i64().iter().copied().collect()).unwrap_or_default();
        let v = ins.get(2).copied().flatten().and_then(|v| v.to_f32().iter().next().copied()).unwrap_or(0.0);
        (p, v)
    };
    let axes: Vec<usize> = match ins.get(3).copied().flatten() {
        Some(a) => a.to_i64().iter().map(|&x| norm_axis(x, rank)).collect::<R<_>>()?,
        None => (0..rank).collect(),
    };
    if pads.len() != 2 * axes.len() || pads.iter().any(|&p| p < 0) {
        return Err(format!("pads {pads:?} (negative pads are not supported)"));
    }
    let mut out = vec![(0, 0); rank];
    for (i, &a) in axes.iter().enumerate() {
        out[a] = (pads[i] as usize, pads[i + axes.len()] as usize);
    }
    Ok((out, value))
}

/// The Pad mode attribute.
fn pad_mode(n: &Node) -> R<PadMode> {
    match n.str("mode", "constant").as_str() {
        "constant" => Ok(PadMode::Constant),
        "reflect" => Ok(PadMode::Reflect),
        "edge" => Ok(PadMode::Edge),
        other => Err(format!("Pad mode `{other}` is not supported")),
    }
}

fn eval(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    let x = input(ins, 0)?;
    let a = PadAttrs::parse(n, ins, x.shape().len(), g.opset)?;
    let shape: Vec<usize> = x.shape().iter().zip(&a.pads).map(|(&d, &(p, q))| d.saturating_add(p).saturating_add(q)).collect();
    super::check_elements(&shape, "the padded output")?;
    Ok(vec![Value::Float(pad(&x.to_f32(), &a.pads, a.value, a.mode))])
}

/// Padding by the index rule the integer kernel uses (`solidml_exec::index::pad_source_index`).
fn pad(x: &ArrayD<f32>, pads: &[(usize, usize)], value: f32, mode: PadMode) -> ArrayD<f32> {
    let shape: Vec<usize> = x.shape().iter().zip(pads).map(|(&d, &(a, b))| d + a + b).collect();
    ArrayD::from_shape_fn(IxDyn(&shape), |idx| {
        let mut src = vec![0usize; shape.len()];
        for d in 0..shape.len() {
            match solidml_exec::index::pad_source_index(mode, idx[d] as i64 - pads[d].0 as i64, x.shape()[d] as i64) {
                Some(i) if i >= 0 && (i as usize) < x.shape()[d] => src[d] = i as usize,
                _ => return value,
            }
        }
        x[IxDyn(&src)]
    })
}

fn lower(l: &mut Lowering<'_>, n: &Node, ins: &[Option<&Value>]) -> R<()> {
    let g = l.g;
    let xt = n.input(0).ok_or("input 0 missing")?;
    let x = l.id(xt)?;
    let y = n.outputs[0];
    let a = PadAttrs::parse(n, ins, g.shape(xt).len(), g.opset)?;
    let info = l.model.tensors[x as usize].clone();
    let v = match info.quant {
        Some(q) => quantize_f32(a.value, q.scale, q.zero_point) as i64,
        None => a.value as i64,
    };
    let o = l.tensor(g.name(y), g.shape(y), info.dtype, info.quant);
    l.map.insert(y, o);
    l.emit(
        &n.name,
        Op::Pad(Pad {
            pads_begin: a.pads.iter().map(|p| p.0 as u32).collect(),
            pads_end: a.pads.iter().map(|p| p.1 as u32).collect(),
            mode: a.mode,
            value: v,
        }),
        vec![x],
        vec![o],
    );
    Ok(())
}
