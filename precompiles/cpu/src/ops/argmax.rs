//! ArgMax (spec §ArgMax): index of the first (or, with `select_last_index`, last) largest
//! element along `axis`, as i64.

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
