//! View (spec §View): `out[i…] = in[offset + Σ_k i_k · strides[k]]`; strides may be 0
//! (Expand) or negative (Slice with negative steps).

use solidml_spec::View;

use crate::Value;

pub fn view_indices(v: &View, out_shape: &[u32]) -> Vec<usize> {
    let total: usize = out_shape.iter().map(|&d| d as usize).product();
    let mut idx = Vec::with_capacity(total);
    let rank = out_shape.len();
    let mut pos = vec![0u32; rank];
    let mut off = v.offset as i64;
    for _ in 0..total {
        idx.push(off as usize);
        let mut k = rank;
        while k > 0 {
            k -= 1;
            pos[k] += 1;
            off += v.strides[k];
            if pos[k] < out_shape[k] {
                break;
            }
            off -= v.strides[k] * out_shape[k] as i64;
            pos[k] = 0;
        }
    }
    idx
}

pub fn view(v: &View, out_shape: &[u32], x: &Value) -> Value {
    let idx = view_indices(v, out_shape);
    match x {
        Value::I8(x) => Value::I8(idx.iter().map(|&i| x[i]).collect()),
        Value::I64(x) => Value::I64(idx.iter().map(|&i| x[i]).collect()),
    }
}
