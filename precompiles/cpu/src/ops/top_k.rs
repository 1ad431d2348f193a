//! TopK (spec §TopK): per lane along `axis`, the elements in the order "greater first" (or
//! "smaller first" when not `largest`), equal values by increasing index; the first `k` of
//! that order give the output, as values (int8 codes or i64, the input's type) or as their
//! indices along the axis (i64):
//!
//! ```text
//! j precedes i  ⇔  v_j > v_i  or  (v_j = v_i and j < i)        (largest; v_j < v_i otherwise)
//! rank(j) = #{ i : i precedes j }                               (a permutation of 0 … dim − 1)
//! y_r = v_j  or  j,   for the j of rank r,  r = 0 … k − 1
//! ```
//!
//! The comparison is on codes: the quantization is monotonic, so the k largest codes are the k
//! largest reals (with more ties than in float).
//!
//! Each lane is gathered, then ranked: `k = 1` by one scan for the first best element; int8
//! lanes of at least 256 elements by counting, which computes the rank itself — with
//! `above(v)` the number of elements of a better value than `v`, `rank(j) = above(v_j) +
//! #{ i < j : v_i = v_j }`, one pass for the 256 counts and one for the ranks; other lanes by
//! sorting `(value, index)` keys, a linear-time selection of the first `k` then a sort of
//! those. Work per lane `O(dim)`, or `O(dim + k log k)`, within what the gas schedule charges
//! (`len(x) · bits(dim) + len(y)`, spec §Gas).

use solidml_exec::Value;
use solidml_spec::TopKOutput;

/// TopK of `x` (shape `shape`) along `axis`: the output of `output`, with `k` in place of
/// `shape[axis]`.
pub fn top_k(axis: u32, k: u32, largest: bool, output: TopKOutput, shape: &[u32], x: &Value) -> Value {
    let a = axis as usize;
    let lanes = Lanes {
        dim: shape[a] as usize,
        inner: shape[a + 1..].iter().map(|&d| d as usize).product(),
        outer: shape[..a].iter().map(|&d| d as usize).product(),
        k: k as usize,
        largest,
    };
    match x {
        Value::I64(v) => lanes.run(v, |&v| v, false, output, Value::I64),
        other => lanes.run(other.as_i8(), |&v| v as i64, true, output, Value::I8),
    }
}

/// The lane layout (`outer · inner` lanes of `dim` elements, `k` kept from each) and order.
struct Lanes {
    dim: usize,
    inner: usize,
    outer: usize,
    k: usize,
    largest: bool,
}

impl Lanes {
    /// Rank every lane of `x` (its elements read as i64 by `value`; `int8`: 256 values at
    /// most) and write the output: the kept elements (wrapped by `wrap`) or their indices.
    fn run<T: Copy + Default>(&self, x: &[T], value: fn(&T) -> i64, int8: bool, output: TopKOutput, wrap: fn(Vec<T>) -> Value) -> Value {
        let (dim, inner, k) = (self.dim, self.inner, self.k);
        let len = self.outer * k * inner;
        let values = output == TopKOutput::Values;
        let (mut ys, mut indices) = (vec![T::default(); if values { len } else { 0 }], vec![0i64; if values { 0 } else { len }]);
        let (mut lane, mut keys, mut ranked) = (Vec::with_capacity(dim), Vec::new(), vec![0usize; k]);
        if k == 0 {
            return if values { wrap(ys) } else { Value::I64(indices) };
        }
        for o in 0..self.outer {
            for i in 0..inner {
                let base = o * dim * inner + i;
                lane.clear();
                lane.extend((0..dim).map(|j| value(&x[base + j * inner])));
                if k == 1 {
                    ranked[0] = self.first_best(&lane);
                } else if int8 && dim >= 256 {
                    self.by_counting(&lane, &mut ranked);
                } else {
                    self.by_sorting(&lane, &mut keys, &mut ranked);
                }
                let at = o * k * inner + i;
                for (r, &j) in ranked.iter().enumerate() {
                    if values {
                        ys[at + r * inner] = x[base + j * inner];
                    } else {
                        indices[at + r * inner] = j as i64;
                    }
                }
            }
        }
        if values { wrap(ys) } else { Value::I64(indices) }
    }

    /// Whether value `a` is better than value `b` (greater when largest, smaller otherwise).
    fn better(&self, a: i64, b: i64) -> bool {
        if self.largest { a > b } else { a < b }
    }

    /// The index of rank 0: the first of the best elements.
    fn first_best(&self, lane: &[i64]) -> usize {
        let mut best = 0;
        for (j, &v) in lane.iter().enumerate().skip(1) {
            if self.better(v, lane[best]) {
                best = j;
            }
        }
        best
    }

    /// The indices of ranks `0 … k − 1` of an int8 lane, by counting.
    fn by_counting(&self, lane: &[i64], out: &mut [usize]) {
        // bucket 0 holds the best value: 127 when largest, −128 otherwise
        let bucket = |v: i64| if self.largest { (127 - v) as usize } else { (v + 128) as usize };
        let mut next = [0usize; 256];
        for &v in lane {
            next[bucket(v)] += 1;
        }
        // next[b] = above(b), then the rank of the next element of bucket b
        let mut above = 0;
        for n in next.iter_mut() {
            (above, *n) = (above + *n, above);
        }
        for (j, &v) in lane.iter().enumerate() {
            let rank = &mut next[bucket(v)];
            if *rank < out.len() {
                out[*rank] = j;
            }
            *rank += 1;
        }
    }

    /// The indices of ranks `0 … k − 1` of a lane, by sorting keys that order as "precedes"
    /// does: the value (reversed when largest), then the index. `keys` is a buffer reused from
    /// lane to lane.
    fn by_sorting(&self, lane: &[i64], keys: &mut Vec<u128>, out: &mut [usize]) {
        // the bits with the sign flipped order as unsigned; complemented when largest
        let key = |(j, &v): (usize, &i64)| {
            let u = (v as u64) ^ (1 << 63);
            ((if self.largest { !u } else { u }) as u128) << 64 | j as u128
        };
        keys.clear();
        keys.extend(lane.iter().enumerate().map(key));
        let k = out.len();
        if k < keys.len() {
            keys.select_nth_unstable(k - 1);
        }
        keys[..k].sort_unstable();
        for (o, key) in out.iter_mut().zip(keys.iter()) {
            *o = *key as u64 as usize;
        }
    }
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::TopK`] (`solidml_spec::for_each_op!`).
    pub fn top_k(n: &super::NodeArgs<'_>, axis: &u32, k: &u32, largest: &bool, output: &solidml_spec::TopKOutput) -> super::NodeResult {
        Ok(top_k(*axis, *k, *largest, *output, n.input_shape(0), n.args[0]))
    }
}

#[cfg(test)]
mod tests {
    use solidml_exec::Value;
    use solidml_spec::TopKOutput::{self, Indices, Values};

    use super::top_k;
    use crate::ops::tests::{Rng, numel, ravel, unravel};

    fn i8s(v: &[i8]) -> Value {
        Value::I8(v.to_vec())
    }

    fn run(axis: u32, k: u32, largest: bool, output: TopKOutput, shape: &[u32], x: &Value) -> Vec<i64> {
        match top_k(axis, k, largest, output, shape, x) {
            Value::I8(v) => v.iter().map(|&c| c as i64).collect(),
            Value::I64(v) => v,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn ties_go_to_the_lower_index_both_ways() {
        // lane [3, 7, 7, −1, 7, 3]: largest 7 (1), 7 (2), 7 (4), 3 (0); smallest −1 (3), 3 (0), 3 (5)
        let x = i8s(&[3, 7, 7, -1, 7, 3]);
        assert_eq!(run(0, 4, true, Indices, &[6], &x), vec![1, 2, 4, 0]);
        assert_eq!(run(0, 4, true, Values, &[6], &x), vec![7, 7, 7, 3]);
        assert_eq!(run(0, 3, false, Indices, &[6], &x), vec![3, 0, 5]);
        assert_eq!(run(0, 3, false, Values, &[6], &x), vec![-1, 3, 3]);
        // all equal: the first k indices either way; k = dim sorts the whole lane
        assert_eq!(run(0, 2, false, Indices, &[4], &i8s(&[-128; 4])), vec![0, 1]);
        assert_eq!(run(0, 6, true, Indices, &[6], &x), vec![1, 2, 4, 0, 5, 3]);
    }

    #[test]
    fn along_a_middle_axis_and_on_i64() {
        // [2, 3, 2] along axis 1, k = 2: lanes (o, i) read x[o][·][i]
        //   o = 0: i = 0 → [1, 9, 9] → 1, 2;  i = 1 → [4, 0, 4] → 0, 2
        //   o = 1: i = 0 → [−5, −6, −7] → 0, 1;  i = 1 → [0, 0, 127] → 2, 0
        let x = i8s(&[1, 4, 9, 0, 9, 4, -5, 0, -6, 0, -7, 127]);
        assert_eq!(run(1, 2, true, Indices, &[2, 3, 2], &x), vec![1, 0, 2, 2, 0, 2, 1, 0]);
        assert_eq!(run(1, 2, true, Values, &[2, 3, 2], &x), vec![9, 4, 9, 4, -5, 127, -6, 0]);
        // i64 beyond 32 bits; k = 0 gives nothing
        let big = Value::I64(vec![i64::MIN, 1 << 40, -(1 << 40), i64::MAX]);
        assert_eq!(run(0, 3, true, Values, &[4], &big), vec![i64::MAX, 1 << 40, -(1 << 40)]);
        assert_eq!(run(0, 2, false, Indices, &[4], &big), vec![0, 2]);
        assert_eq!(run(0, 0, false, Indices, &[4], &big), Vec::<i64>::new());
    }

    #[test]
    fn long_int8_lanes_by_counting_equal_a_stable_sort() {
        // lanes of 256 and more (the counting path) against a stable sort of the indices
        let mut rng = Rng::new(31);
        for _ in 0..40 {
            let (dim, inner) = (rng.range(256, 700) as usize, rng.range(1, 3) as usize);
            let k = rng.range(0, dim as i64) as usize;
            let largest = rng.one_in(2);
            let spread = if rng.one_in(2) { 3 } else { 127 }; // few values: many ties
            let x: Vec<i8> = (0..dim * inner).map(|_| rng.range(-spread, spread) as i8).collect();
            let shape = [dim as u32, inner as u32];
            let got = run(0, k as u32, largest, Indices, &shape, &Value::I8(x.clone()));
            for i in 0..inner {
                let mut order: Vec<usize> = (0..dim).collect();
                order.sort_by_key(|&j| if largest { -(x[j * inner + i] as i32) } else { x[j * inner + i] as i32 });
                let lane: Vec<i64> = (0..k).map(|r| got[r * inner + i]).collect();
                assert_eq!(lane, order[..k].iter().map(|&j| j as i64).collect::<Vec<_>>(), "dim {dim} k {k} largest {largest}");
            }
        }
    }

    #[test]
    fn random_top_k_matches_the_rank_definition() {
        let mut rng = Rng::new(29);
        for _ in 0..200 {
            let shape = rng.shape(1, 4, 6);
            let axis = rng.below(shape.len());
            let dim = shape[axis] as usize;
            let k = rng.range(0, dim as i64) as usize;
            let largest = rng.one_in(2);
            let x: Vec<i8> = (0..numel(&shape)).map(|_| rng.range(-2, 2) as i8).collect(); // many ties
            let mut ys = shape.clone();
            ys[axis] = k as u32;
            let (mut want_idx, mut want_val) = (vec![0i64; numel(&ys)], vec![0i64; numel(&ys)]);
            let mut lanes = shape.clone();
            lanes[axis] = 1;
            for l in 0..numel(&lanes) {
                let mut idx = unravel(l, &lanes);
                let v = |j: usize, idx: &mut Vec<usize>| {
                    idx[axis] = j;
                    x[ravel(idx, &shape)] as i64
                };
                for j in 0..dim {
                    // the rank of the definition: how many elements precede j
                    let vj = v(j, &mut idx);
                    let rank = (0..dim)
                        .filter(|&i| {
                            let vi = v(i, &mut idx);
                            (if largest { vi > vj } else { vi < vj }) || (vi == vj && i < j)
                        })
                        .count();
                    if rank < k {
                        idx[axis] = rank;
                        let p = ravel(&idx, &ys);
                        (want_idx[p], want_val[p]) = (j as i64, vj);
                    }
                }
            }
            let xs = Value::I8(x.clone());
            let a = axis as u32;
            assert_eq!(run(a, k as u32, largest, Indices, &shape, &xs), want_idx, "{shape:?} axis {axis} k {k} largest {largest}");
            assert_eq!(run(a, k as u32, largest, Values, &shape, &xs), want_val, "{shape:?} axis {axis} k {k} largest {largest}");
        }
    }
}
