//! Concat (spec §Concat): inputs joined along `axis`, in order; quantization is shared.

use solidml_exec::Value;

/// Concat (spec §Concat) of `xs` (shapes `shapes`, one dtype) along `axis`: for each outer
/// index, the inputs' chunks in order. The result has the inputs' dtype.
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
        // validation keeps the wide types out of Concat; moving them is the same walk
        Value::I16(_) => join!(I16, as_i16),
        Value::I32(_) => join!(I32, as_i32),
    }
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Concat`] (`solidml_spec::for_each_op!`).
    pub fn concat(n: &super::NodeArgs<'_>, axis: &u32) -> super::NodeResult {
        let shapes: Vec<&[u32]> = (0..n.node.inputs.len()).map(|i| n.input_shape(i)).collect();
        Ok(concat(*axis, &shapes, n.args))
    }
}

#[cfg(test)]
mod tests {
    use super::concat;
    use crate::{
        Value,
        ops::tests::{Rng, numel, ravel, unravel},
    };

    #[test]
    fn along_a_middle_axis() {
        // a [2, 1, 2] = [[[1, 2]], [[3, 4]]], b [2, 2, 2] = [[[5, 6], [7, 8]], [[9, 10], [11, 12]]]
        // along axis 1 → [2, 3, 2]: [[[1, 2], [5, 6], [7, 8]], [[3, 4], [9, 10], [11, 12]]].
        let (a, b) = (Value::I8(vec![1, 2, 3, 4]), Value::I8((5..=12).collect()));
        let want = vec![1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12];
        assert_eq!(concat(1, &[&[2, 1, 2], &[2, 2, 2]], &[&a, &b]), Value::I8(want));
        // along axis 0 it is plain appending; an empty input contributes nothing.
        let (a, e) = (Value::I64(vec![1, 2]), Value::I64(vec![]));
        assert_eq!(concat(0, &[&[1, 2], &[0, 2], &[1, 2]], &[&a, &e, &a]), Value::I64(vec![1, 2, 1, 2]));
    }

    #[test]
    fn random_concats_match_the_formula() {
        let mut rng = Rng::new(7);
        for _ in 0..50 {
            let base = rng.shape(1, 4, 4);
            let axis = rng.below(base.len());
            let shapes: Vec<Vec<u32>> = (0..rng.range(1, 4))
                .map(|_| {
                    let mut s = base.clone();
                    s[axis] = rng.range(0, 3) as u32;
                    s
                })
                .collect();
            let xs: Vec<Vec<i8>> = shapes.iter().map(|s| rng.i8s(numel(s))).collect();
            let mut out = base.clone();
            out[axis] = shapes.iter().map(|s| s[axis]).sum();
            let want: Vec<i8> = (0..numel(&out))
                .map(|i| {
                    // walk the inputs along the axis until the index falls inside one
                    let mut idx = unravel(i, &out);
                    let mut which = 0;
                    while idx[axis] >= shapes[which][axis] as usize {
                        idx[axis] -= shapes[which][axis] as usize;
                        which += 1;
                    }
                    xs[which][ravel(&idx, &shapes[which])]
                })
                .collect();
            let values: Vec<Value> = xs.into_iter().map(Value::I8).collect();
            let shape_refs: Vec<&[u32]> = shapes.iter().map(|s| &s[..]).collect();
            let got = concat(axis as u32, &shape_refs, &values.iter().collect::<Vec<_>>());
            assert_eq!(got, Value::I8(want), "{shapes:?} axis {axis}");
        }
    }
}
