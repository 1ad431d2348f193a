//! Gather (spec §Gather) with constant indices along `axis`:
//! `out[o, j, i] = in[o, indices[j], i]` (outer, gathered, inner axes).

use crate::Value;

pub fn gather(axis: u32, indices: &[u32], shape: &[u32], x: &Value) -> Value {
    let a = axis as usize;
    let dim = shape[a] as usize;
    let inner: usize = shape[a + 1..].iter().map(|&d| d as usize).product();
    let outer: usize = shape[..a].iter().map(|&d| d as usize).product();
    let src: Vec<usize> = (0..outer)
        .flat_map(|o| indices.iter().flat_map(move |&j| (0..inner).map(move |i| (o * dim + j as usize) * inner + i)))
        .collect();
    match x {
        Value::I8(x) => Value::I8(src.iter().map(|&i| x[i]).collect()),
        Value::I64(x) => Value::I64(src.iter().map(|&i| x[i]).collect()),
    }
}
