//! Pad (spec §Pad): constant padding; `out[i] = in[i − pads_begin]` where that lies inside the
//! input, `value` elsewhere.

use solidml_spec::Pad;

use crate::{Value, index::strides};

pub fn pad(p: &Pad, in_shape: &[u32], out_shape: &[u32], x: &Value) -> Value {
    let total: usize = out_shape.iter().map(|&d| d as usize).product();
    let ist = strides(in_shape);
    let src: Vec<Option<usize>> = (0..total)
        .map(|mut o| {
            let mut off = 0usize;
            let mut inside = true;
            for d in (0..out_shape.len()).rev() {
                let i = (o % out_shape[d] as usize) as i64 - p.pads_begin[d] as i64;
                o /= out_shape[d] as usize;
                if i < 0 || i >= in_shape[d] as i64 {
                    inside = false;
                }
                off += i.max(0) as usize * ist[d];
            }
            inside.then_some(off)
        })
        .collect();
    match x {
        Value::I8(x) => Value::I8(src.iter().map(|s| s.map_or(p.value as i8, |i| x[i])).collect()),
        Value::I64(x) => Value::I64(src.iter().map(|s| s.map_or(p.value, |i| x[i])).collect()),
    }
}
