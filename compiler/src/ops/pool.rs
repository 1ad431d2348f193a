//! Windowed pooling: `MaxPool` and `AveragePool` ([`PoolAttrs`]: `kernel_shape`,
//! `count_include_pad` and the window attributes).
//!
//! Float semantics in `f32` over the shared window walk. Lowering: spec `MaxPool` / `AvgPool`;
//! the output keeps the input's quantization. MaxPool's `Indices` output and AveragePool
//! `ceil_mode` windows that add a partial window are not lowered.

use ndarray::{ArrayD, IxDyn};
use solidml_spec::{Op, Pool};

use super::{
    OpDef, R, input,
    window::{Window, WindowAttrs, for_windows},
};
use crate::{
    ir::{Graph, Node, Value},
    quantize::{Lowering, u32s},
};

pub(crate) const OPS: &[OpDef] = &[OpDef::new("", "AveragePool", eval, lower), OpDef::new("", "MaxPool", eval, lower)];

/// A pooling node's attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolAttrs {
    /// `true` for `MaxPool`, `false` for `AveragePool`.
    pub max: bool,
    /// `kernel_shape`, required.
    pub kernel: Vec<i64>,
    /// AveragePool's `count_include_pad` (default 0): whether padded positions count in the
    /// divisor (spec `AvgPool`).
    pub count_include_pad: bool,
    /// The sliding-window attributes (`strides`, `dilations`, `pads`, `auto_pad`,
    /// `ceil_mode`), shared with Conv.
    pub window: WindowAttrs,
}

impl PoolAttrs {
    /// The attributes of MaxPool / AveragePool node `n`; an error when `kernel_shape` is
    /// missing.
    pub fn parse(n: &Node) -> R<PoolAttrs> {
        Ok(PoolAttrs {
            max: n.op == "MaxPool",
            kernel: n.ints("kernel_shape").ok_or("kernel_shape missing")?,
            count_include_pad: n.int("count_include_pad", 0) != 0,
            window: WindowAttrs::parse(n),
        })
    }
}

fn eval(_: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    Ok(vec![Value::Float(pool(&PoolAttrs::parse(n)?, &input(ins, 0)?.to_f32())?)])
}

fn pool(a: &PoolAttrs, x: &ArrayD<f32>) -> R<ArrayD<f32>> {
    let xs = x.shape().to_vec();
    let kernel: Vec<usize> = a.kernel.iter().map(|&k| k.max(1) as usize).collect();
    if xs.len() != kernel.len() + 2 {
        return Err("pooling rank".into());
    }
    let w = a.window.resolve(&xs[2..], kernel)?;
    let out_sp = super::window::out_shape(&w, &xs[2..])?;
    let mut shape = xs[..2].to_vec();
    shape.extend(&out_sp);
    super::check_elements(&shape, "the pooled output")?;
    let total: usize = out_sp.iter().product();
    let planes = xs[0] * xs[1];
    let klen: usize = w.kernel.iter().product();
    super::check_work(&[planes, total, klen], &format!("pooling {:?} over {xs:?}", w.kernel))?;
    let x = x.as_standard_layout();
    let xd = x.as_slice().unwrap();
    let in_plane: usize = xs[2..].iter().product();
    let mut out = vec![0f32; planes * total];
    for_windows(&w, &xs[2..], |o, taps| {
        for p in 0..planes {
            let vals = taps.iter().map(|&(_, t)| xd[p * in_plane + t]);
            out[p * total + o] = if a.max {
                vals.fold(f32::NEG_INFINITY, f32::max)
            } else {
                let s: f32 = vals.sum();
                s / if a.count_include_pad { klen as f32 } else { taps.len().max(1) as f32 }
            };
        }
    })?;
    ArrayD::from_shape_vec(IxDyn(&shape), out).map_err(|e| e.to_string())
}

fn lower(l: &mut Lowering<'_>, n: &Node, _: &[Option<&Value>]) -> R<()> {
    if n.outputs.len() > 1 {
        return Err("MaxPool's Indices output is not supported".into());
    }
    let g = l.g;
    let xt = n.input(0).ok_or("input 0 missing")?;
    let x = l.id(xt)?;
    if l.model.tensors[x as usize].dtype != solidml_spec::DType::I8 {
        return Err(format!("{} of an integer tensor is not supported (pooling reads int8 codes)", n.op));
    }
    let xs = g.shape(xt).to_vec();
    let a = PoolAttrs::parse(n)?;
    let kernel: Vec<usize> = a.kernel.iter().map(|&k| k as usize).collect();
    let w = a.window.resolve(&xs[2..], kernel.clone())?;
    if !a.max && a.window.ceil_mode {
        let plain = WindowAttrs { ceil_mode: false, ..a.window.clone() }.resolve(&xs[2..], kernel)?;
        if plain.pads_end != w.pads_end {
            return Err("AveragePool with ceil_mode that adds a partial window is not supported".into());
        }
    }
    let q = l.quant(x);
    let pool = pool_params(&w, a.count_include_pad, q.zero_point);
    let y = n.outputs[0];
    let o = l.out(y, q);
    let op = if a.max { Op::MaxPool(pool) } else { Op::AvgPool(pool) };
    l.emit(&n.name, op, vec![x], vec![o]);
    Ok(())
}

fn pool_params(w: &Window, count_include_pad: bool, zero_point: i32) -> Pool {
    Pool {
        kernel: u32s(&w.kernel),
        strides: u32s(&w.strides),
        dilations: u32s(&w.dilations),
        pads_begin: u32s(&w.pads_begin),
        pads_end: u32s(&w.pads_end),
        count_include_pad,
        zero_point,
    }
}
