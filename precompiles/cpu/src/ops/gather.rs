//! Gather (spec §Gather) with constant indices along `axis`:
//! `out[o, j, i] = in[o, indices[j], i]` (outer, gathered, inner axes).

use solidml_exec::{ExecError, Value};

/// GatherDynamic (spec §GatherDynamic): `gather` with run-time indices; negative indices
/// count from the end, others outside the axis are a run-time error.
pub fn gather_dynamic(node: &str, axis: u32, shape: &[u32], x: &Value, indices: &[i64]) -> Result<Value, ExecError> {
    let dim = shape[axis as usize] as i64;
    let resolved: Vec<u32> = indices
        .iter()
        .map(|&i| {
            let j = if i < 0 { i + dim } else { i };
            if (0..dim).contains(&j) {
                Ok(j as u32)
            } else {
                Err(ExecError::IndexOutOfRange { node: node.to_string(), index: i, len: dim as usize })
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(gather(axis, &resolved, shape, x))
}

/// Gather (spec §Gather) of `x` (int8 or i64, of `shape`) at the resolved positions `indices`
/// along `axis`, each `< shape[axis]`; the result keeps `x`'s dtype.
pub fn gather(axis: u32, indices: &[u32], shape: &[u32], x: &Value) -> Value {
    let a = axis as usize;
    let dim = shape[a] as usize;
    let inner: usize = shape[a + 1..].iter().map(|&d| d as usize).product();
    let outer: usize = shape[..a].iter().map(|&d| d as usize).product();
    let src: Vec<usize> =
        (0..outer).flat_map(|o| indices.iter().flat_map(move |&j| (0..inner).map(move |i| (o * dim + j as usize) * inner + i))).collect();
    match x {
        Value::I8(x) => Value::I8(src.iter().map(|&i| x[i]).collect()),
        Value::I64(x) => Value::I64(src.iter().map(|&i| x[i]).collect()),
        // validation keeps the wide types out of Gather; moving them is the same walk
        Value::I16(x) => Value::I16(src.iter().map(|&i| x[i]).collect()),
        Value::I32(x) => Value::I32(src.iter().map(|&i| x[i]).collect()),
    }
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Gather`] (`solidml_spec::for_each_op!`).
    pub fn gather(n: &super::NodeArgs<'_>, axis: &u32, indices: &[u32]) -> super::NodeResult {
        Ok(gather(*axis, indices, n.input_shape(0), n.args[0]))
    }

    /// The node entry of [`solidml_spec::Op::GatherDynamic`] (`solidml_spec::for_each_op!`).
    pub fn gather_dynamic(n: &super::NodeArgs<'_>, axis: &u32) -> super::NodeResult {
        gather_dynamic(&n.node.name, *axis, n.input_shape(0), n.args[0], n.args[1].as_i64())
    }
}

#[cfg(test)]
mod tests {
    use super::{gather, gather_dynamic};
    use crate::{
        ExecError, Value,
        ops::tests::{Rng, numel, ravel, unravel},
    };

    #[test]
    fn gathers_along_a_middle_axis() {
        // x [2, 3, 2] = 0..12, axis 1, indices [2, 0, 2]: rows x[o][2], x[o][0], x[o][2]:
        //   o = 0: [4, 5], [0, 1], [4, 5];  o = 1: [10, 11], [6, 7], [10, 11]
        let x = Value::I8((0..12).collect());
        assert_eq!(gather(1, &[2, 0, 2], &[2, 3, 2], &x), Value::I8(vec![4, 5, 0, 1, 4, 5, 10, 11, 6, 7, 10, 11]));
        // First and last axes, i64, and no indices at all.
        let x = Value::I64((0..6).collect());
        assert_eq!(gather(0, &[1], &[2, 3], &x), Value::I64(vec![3, 4, 5]));
        assert_eq!(gather(1, &[2, 1], &[2, 3], &x), Value::I64(vec![2, 1, 5, 4]));
        assert_eq!(gather(1, &[], &[2, 3], &x), Value::I64(vec![]));
    }

    #[test]
    fn random_gathers_match_the_formula() {
        let mut rng = Rng::new(13);
        for _ in 0..50 {
            let shape = rng.shape(1, 4, 4);
            let axis = rng.below(shape.len());
            let indices: Vec<u32> = (0..rng.range(0, 5)).map(|_| rng.below(shape[axis] as usize) as u32).collect();
            let x = rng.i8s(numel(&shape));
            let mut out = shape.clone();
            out[axis] = indices.len() as u32;
            let want: Vec<i8> = (0..numel(&out))
                .map(|i| {
                    let mut idx = unravel(i, &out);
                    idx[axis] = indices[idx[axis]] as usize;
                    x[ravel(&idx, &shape)]
                })
                .collect();
            assert_eq!(gather(axis as u32, &indices, &shape, &Value::I8(x)), Value::I8(want), "{shape:?} axis {axis} {indices:?}");
        }
    }

    #[test]
    fn gather_dynamic_resolves_negative_indices() {
        // x [2, 3] = [[0, 1, 2], [3, 4, 5]], axis 1, indices [−1, 0, −3, 1] resolve to
        // [2, 0, 0, 1] (i < 0 → i + 3): rows [2, 0, 0, 1] and [5, 3, 3, 4].
        let x = Value::I8((0..6).collect());
        assert_eq!(gather_dynamic("g", 1, &[2, 3], &x, &[-1, 0, -3, 1]), Ok(Value::I8(vec![2, 0, 0, 1, 5, 3, 3, 4])));
        // axis 0 of i64 data: −2 → 0, −1 → 1.
        let x = Value::I64((10..16).collect());
        assert_eq!(gather_dynamic("g", 0, &[2, 3], &x, &[-1, -2, 1]), Ok(Value::I64(vec![13, 14, 15, 10, 11, 12, 13, 14, 15])));
        assert_eq!(gather_dynamic("g", 0, &[2, 3], &x, &[]), Ok(Value::I64(vec![])));
    }

    #[test]
    fn gather_dynamic_rejects_indices_outside_the_axis() {
        // The axis has length 3: valid indices are −3..=2. The first bad one is reported with
        // its original (unresolved) value.
        let x = Value::I8((0..6).collect());
        let err = |index: i64| Err(ExecError::IndexOutOfRange { node: "gd".into(), index, len: 3 });
        assert_eq!(gather_dynamic("gd", 1, &[2, 3], &x, &[0, 3]), err(3));
        assert_eq!(gather_dynamic("gd", 1, &[2, 3], &x, &[-4, 1]), err(-4));
        assert_eq!(gather_dynamic("gd", 1, &[2, 3], &x, &[2, -3, 7, -9]), err(7));
        assert_eq!(gather_dynamic("gd", 1, &[2, 3], &x, &[i64::MIN]), err(i64::MIN));
        assert_eq!(gather_dynamic("gd", 1, &[2, 3], &x, &[i64::MAX]), err(i64::MAX));
        let msg = gather_dynamic("gd", 1, &[2, 3], &x, &[3]).unwrap_err().to_string();
        assert_eq!(msg, "node `gd`: index 3 out of range 0..3");
    }

    #[test]
    fn random_gather_dynamic_matches_the_formula() {
        let mut rng = Rng::new(18);
        for _ in 0..50 {
            let shape = rng.shape(1, 4, 4);
            let axis = rng.below(shape.len());
            let dim = shape[axis] as i64;
            let mut indices: Vec<i64> = (0..rng.range(0, 5)).map(|_| rng.range(-dim, dim - 1)).collect();
            let bad = !indices.is_empty() && rng.one_in(4);
            if bad {
                let at = rng.below(indices.len());
                indices[at] = if rng.one_in(2) { rng.range(dim, dim + 5) } else { rng.range(-dim - 5, -dim - 1) };
            }
            let x = rng.i8s(numel(&shape));
            let got = gather_dynamic("n", axis as u32, &shape, &Value::I8(x.clone()), &indices);
            if let Some(&first_bad) = indices.iter().find(|&&i| !(-dim..dim).contains(&i)) {
                assert!(bad);
                assert_eq!(got, Err(ExecError::IndexOutOfRange { node: "n".into(), index: first_bad, len: dim as usize }));
                continue;
            }
            let mut out = shape.clone();
            out[axis] = indices.len() as u32;
            let want: Vec<i8> = (0..numel(&out))
                .map(|i| {
                    let mut idx = unravel(i, &out);
                    idx[axis] = indices[idx[axis]].rem_euclid(dim) as usize;
                    x[ravel(&idx, &shape)]
                })
                .collect();
            assert_eq!(got, Ok(Value::I8(want)), "{shape:?} axis {axis} {indices:?}");
        }
    }
}
