//! Concat (spec §Concat): inputs joined along `axis`, in order; quantization is shared.

use crate::Value;

pub fn concat(axis: u32, shapes: &[&[u32]], xs: &[&Value]) -> Value {
    let a = axis as usize;
    let outer: usize = shapes[0][..a].iter().map(|&d| d as usize).product();
    let chunk = |s: &[u32]| s[a..].iter().map(|&d| d as usize).product::<usize>();
    macro_rules! join {
        ($variant:ident, $get:ident) => {{
            let mut out = Vec::new();
            for o in 0..outer {
                for (s, x) in shapes.iter().zip(xs) {
                    let c = chunk(s);
                    out.extend_from_slice(&x.$get()[o * c..(o + 1) * c]);
                }
            }
            Value::$variant(out)
        }};
    }
    match xs[0] {
        Value::I8(_) => join!(I8, as_i8),
        Value::I64(_) => join!(I64, as_i64),
    }
}
