//! View (spec §View): `out[i…] = in[offset + Σ_k i_k · strides[k]]`; strides may be 0
//! (Expand) or negative (Slice with negative steps).

use solidml_spec::View;

use solidml_exec::index::view_indices;

use solidml_exec::Value;

/// View (spec §View) of `x` (int8 or i64) to `out_shape`: every output element read at
/// `offset + Σ i_k · strides[k]`; the result keeps `x`'s dtype.
pub fn view(v: &View, out_shape: &[u32], x: &Value) -> Value {
    let idx = view_indices(v, out_shape);
    match x {
        Value::I8(x) => Value::I8(idx.iter().map(|&i| x[i]).collect()),
        Value::I64(x) => Value::I64(idx.iter().map(|&i| x[i]).collect()),
        // validation keeps the wide types out of View; moving them is the same walk
        Value::I16(x) => Value::I16(idx.iter().map(|&i| x[i]).collect()),
        Value::I32(x) => Value::I32(idx.iter().map(|&i| x[i]).collect()),
    }
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::View`] (`solidml_spec::for_each_op!`).
    pub fn view(n: &super::NodeArgs<'_>, op: &solidml_spec::View) -> super::NodeResult {
        Ok(view(op, n.output_shape(), n.args[0]))
    }
}

#[cfg(test)]
mod tests {
    use solidml_spec::View;

    use super::view;
    use crate::{
        Value,
        ops::tests::{Rng, numel, unravel},
    };

    #[test]
    fn negative_and_zero_strides() {
        // in = [10, 11, 12, 13, 14, 15] (a [2, 3] matrix); out [2, 2, 3] with strides [0, 3, −1] and
        // offset 2: out[i][j][k] = in[2 + 3j − k], i.e. each row reversed, the whole repeated (Expand).
        let v = View { offset: 2, strides: vec![0, 3, -1] };
        let x = Value::I8((10..16).collect());
        let row = [12, 11, 10, 15, 14, 13];
        assert_eq!(view(&v, &[2, 2, 3], &x), Value::I8([row, row].concat()));
        // The same view of an i64 tensor.
        let x = Value::I64((10..16).collect());
        assert_eq!(view(&v, &[2, 2, 3], &x), Value::I64([row, row].concat().into_iter().map(i64::from).collect()));
    }

    #[test]
    fn transpose_slice_and_scalar() {
        // Transpose of [2, 3]: strides [1, 3] → [[0, 3], [1, 4], [2, 5]].
        let x = Value::I8((0..6).collect());
        assert_eq!(view(&View { offset: 0, strides: vec![1, 3] }, &[3, 2], &x), Value::I8(vec![0, 3, 1, 4, 2, 5]));
        // Slice [1:, ::2] of the [2, 3]: offset 3, strides [3, 2] → [3, 5].
        assert_eq!(view(&View { offset: 3, strides: vec![3, 2] }, &[1, 2], &x), Value::I8(vec![3, 5]));
        // A rank-0 output reads the single element at the offset; an empty output reads nothing.
        assert_eq!(view(&View { offset: 4, strides: vec![] }, &[], &x), Value::I8(vec![4]));
        assert_eq!(view(&View { offset: 0, strides: vec![7, 1] }, &[0, 2], &x), Value::I8(vec![]));
    }

    #[test]
    fn random_views_match_the_formula() {
        let mut rng = Rng::new(5);
        for _ in 0..50 {
            let out = rng.shape(0, 4, 4);
            let strides: Vec<i64> = out.iter().map(|_| rng.range(-4, 4)).collect();
            // the lowest reachable offset must be ≥ 0: start at −Σ negative spans plus some slack
            let neg: i64 = out.iter().zip(&strides).map(|(&d, &s)| (d as i64 - 1) * s.min(0)).sum();
            let pos: i64 = out.iter().zip(&strides).map(|(&d, &s)| (d as i64 - 1) * s.max(0)).sum();
            let offset = -neg + rng.range(0, 3);
            let len = (offset + pos + 1 + rng.range(0, 3)) as usize;
            let x: Vec<i8> = rng.i8s(len);
            let v = View { offset: offset as u64, strides: strides.clone() };
            let want: Vec<i8> = (0..numel(&out))
                .map(|i| {
                    let idx = unravel(i, &out);
                    x[(offset + idx.iter().zip(&strides).map(|(&k, &s)| k as i64 * s).sum::<i64>()) as usize]
                })
                .collect();
            assert_eq!(view(&v, &out, &Value::I8(x)), Value::I8(want), "{v:?} {out:?}");
        }
    }
}
