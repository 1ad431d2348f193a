//! ArgMax (spec §ArgMax): index of the first (or, with `select_last_index`, last) largest
//! element along `axis`, as i64.

use solidml_exec::Value;

/// ArgMax of the int8 tensor `x` of `shape` along `axis` (spec §ArgMax): one i64 index per
/// lane, lanes in row-major order of the other axes; ties pick the first maximum, or the last
/// when `select_last` (ONNX `select_last_index`).
pub fn argmax(axis: u32, select_last: bool, shape: &[u32], x: &[i8]) -> Vec<i64> {
    let a = axis as usize;
    let dim = shape[a] as usize;
    let inner: usize = shape[a + 1..].iter().map(|&d| d as usize).product();
    let outer = x.len() / (dim * inner).max(1);
    let mut out = Vec::with_capacity(outer * inner);
    for o in 0..outer {
        for i in 0..inner {
            let mut best = 0usize;
            for j in 1..dim {
                let (v, b) = (x[o * dim * inner + j * inner + i], x[o * dim * inner + best * inner + i]);
                if v > b || (select_last && v == b) {
                    best = j;
                }
            }
            out.push(best as i64);
        }
    }
    out
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::ArgMax`] (`solidml_spec::for_each_op!`).
    pub fn argmax(n: &super::NodeArgs<'_>, axis: &u32, select_last_index: &bool) -> super::NodeResult {
        Ok(Value::I64(argmax(*axis, *select_last_index, n.input_shape(0), n.args[0].as_i8())))
    }
}

#[cfg(test)]
mod tests {
    use super::argmax;
    use crate::ops::tests::{Rng, numel, ravel, unravel};

    #[test]
    fn ties_pick_the_first_or_the_last() {
        // Lane [3, 7, 7, −1, 7]: the maximum 7 is at 1, 2 and 4 → first 1, last 4.
        let x = [3, 7, 7, -1, 7];
        assert_eq!(argmax(0, false, &[5], &x), vec![1]);
        assert_eq!(argmax(0, true, &[5], &x), vec![4]);
        // All equal: 0, or dim − 1. Lane of length 1: 0 either way.
        assert_eq!(argmax(0, false, &[3], &[-128; 3]), vec![0]);
        assert_eq!(argmax(0, true, &[3], &[-128; 3]), vec![2]);
        assert_eq!(argmax(1, true, &[2, 1], &[5, 6]), vec![0, 0]);
    }

    #[test]
    fn along_a_middle_axis() {
        // [2, 3, 2] along axis 1: lanes (o, i) read x[o][·][i].
        //   o = 0: i = 0 → [1, 9, 9] → 1 (last 2);  i = 1 → [4, 0, 4] → 0 (last 2)
        //   o = 1: i = 0 → [−5, −6, −7] → 0;        i = 1 → [0, 0, 127] → 2
        let x = [1, 4, 9, 0, 9, 4, -5, 0, -6, 0, -7, 127];
        assert_eq!(argmax(1, false, &[2, 3, 2], &x), vec![1, 0, 0, 2]);
        assert_eq!(argmax(1, true, &[2, 3, 2], &x), vec![2, 2, 0, 2]);
    }

    #[test]
    fn random_argmax_matches_the_formula() {
        let mut rng = Rng::new(11);
        for _ in 0..50 {
            let shape = rng.shape(1, 4, 5);
            let axis = rng.below(shape.len());
            let last = rng.one_in(2);
            let x: Vec<i8> = (0..numel(&shape)).map(|_| rng.range(-2, 2) as i8).collect(); // many ties
            let mut lanes = shape.clone();
            lanes[axis] = 1;
            let want: Vec<i64> = (0..numel(&lanes))
                .map(|l| {
                    let mut idx = unravel(l, &lanes);
                    let lane: Vec<i8> = (0..shape[axis] as usize)
                        .map(|j| {
                            idx[axis] = j;
                            x[ravel(&idx, &shape)]
                        })
                        .collect();
                    let m = *lane.iter().max().unwrap();
                    let mut hits = (0..lane.len()).filter(|&j| lane[j] == m);
                    (if last { hits.next_back() } else { hits.min() }).unwrap() as i64
                })
                .collect();
            assert_eq!(argmax(axis as u32, last, &shape, &x), want, "{shape:?} axis {axis} last {last}");
        }
    }
}
