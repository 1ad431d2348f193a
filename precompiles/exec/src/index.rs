//! The index semantics of the spec, defined once for every backend and the compiler:
//! row-major strides, numpy broadcasting (`docs/spec.md` §Broadcasting), the odometer walks,
//! View's `offset + Σ i_k · strides[k]` (§View), Pad's per-axis source index (§Pad) and the
//! input positions each Reduce output visits (§Reduce).

use solidml_spec::{PadMode, View};

/// Row-major strides of a shape.
pub fn strides(shape: &[u32]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1] as usize;
    }
    s
}

/// Strides that read `shape` broadcast to `out` (numpy rules; 0 on broadcast axes).
pub fn broadcast_strides(shape: &[u32], out: &[u32]) -> Vec<usize> {
    let own = strides(shape);
    let lead = out.len() - shape.len();
    (0..out.len()).map(|i| if i < lead || shape[i - lead] == 1 { 0 } else { own[i - lead] }).collect()
}

/// Calls `f(offsets)` for every index of `shape` in row-major order, where `offsets[j]` is
/// `Σ index_k · strides[j][k]`: the position in each strided operand.
pub fn for_each_offset<const N: usize>(shape: &[u32], strides: [&[usize]; N], mut f: impl FnMut([usize; N])) {
    let total: usize = shape.iter().map(|&d| d as usize).product();
    if total == 0 {
        return;
    }
    let rank = shape.len();
    let mut idx = vec![0u32; rank];
    let mut off = [0usize; N];
    for _ in 0..total {
        f(off);
        // odometer increment
        let mut k = rank;
        while k > 0 {
            k -= 1;
            idx[k] += 1;
            for j in 0..N {
                off[j] += strides[j][k];
            }
            if idx[k] < shape[k] {
                break;
            }
            for j in 0..N {
                off[j] -= strides[j][k] * shape[k] as usize;
            }
            idx[k] = 0;
        }
    }
}

/// Calls `f(positions)` for every lane along `axis` of `shape`: `positions[j]` is the flat
/// index of the lane's `j`-th element (softmax-like ops work lane by lane).
pub fn for_each_lane(shape: &[u32], axis: usize, mut f: impl FnMut(&[usize])) {
    let dim = shape[axis] as usize;
    let inner: usize = shape[axis + 1..].iter().map(|&d| d as usize).product();
    let outer: usize = shape[..axis].iter().map(|&d| d as usize).product();
    let mut lane = vec![0usize; dim];
    for o in 0..outer {
        for i in 0..inner {
            for (j, p) in lane.iter_mut().enumerate() {
                *p = o * dim * inner + j * inner + i;
            }
            f(&lane);
        }
    }
}

/// The input position of every output element of a View, in row-major output order.
pub fn view_indices(v: &View, out_shape: &[u32]) -> Vec<usize> {
    let total: usize = out_shape.iter().map(|&d| d as usize).product();
    let mut idx = Vec::with_capacity(total);
    let rank = out_shape.len();
    let mut pos = vec![0u32; rank];
    let mut off = v.offset as i64;
    for _ in 0..total {
        idx.push(off as usize);
        let mut k = rank;
        // Step to the next multi-index without ever forming an offset outside the view: a
        // stride on an axis of length 1 is never multiplied by a non-zero index (it may be any
        // i64, spec §View), and on a longer axis `(d − 1) · stride` is bounded by validation.
        while k > 0 {
            k -= 1;
            pos[k] += 1;
            if pos[k] < out_shape[k] {
                off += v.strides[k];
                break;
            }
            off -= v.strides[k] * (out_shape[k] as i64 - 1);
            pos[k] = 0;
        }
    }
    idx
}
/// Source index along one axis, or `None` for the constant value.
pub fn pad_source_index(mode: PadMode, i: i64, n: i64) -> Option<i64> {
    if (0..n).contains(&i) {
        return Some(i);
    }
    match mode {
        PadMode::Constant => None,
        PadMode::Edge => Some(i.clamp(0, n - 1)),
        PadMode::Reflect => Some(if i < 0 { -i } else { 2 * (n - 1) - i }),
    }
}

/// The input positions each output reduces, in input order (outputs row-major over the kept
/// axes). Every backend gathers by these lists.
pub fn reduce_groups(axes: &[u32], shape: &[u32]) -> Vec<Vec<usize>> {
    let rank = shape.len();
    let reduced: Vec<bool> = (0..rank).map(|i| axes.contains(&(i as u32))).collect();
    let out_len: usize = (0..rank).filter(|&i| !reduced[i]).map(|i| shape[i] as usize).product();
    let len: usize = shape.iter().map(|&d| d as usize).product();
    let mut lists: Vec<Vec<usize>> = vec![Vec::with_capacity(len / out_len.max(1)); out_len];
    let mut pos = vec![0usize; rank];
    for i in 0..len {
        let mut o = 0usize;
        for a in 0..rank {
            if !reduced[a] {
                o = o * shape[a] as usize + pos[a];
            }
        }
        lists[o].push(i);
        for k in (0..rank).rev() {
            pos[k] += 1;
            if pos[k] < shape[k] as usize {
                break;
            }
            pos[k] = 0;
        }
    }
    lists
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_offsets() {
        let mut seen = vec![];
        let a = broadcast_strides(&[2, 1], &[2, 3]);
        let b = broadcast_strides(&[3], &[2, 3]);
        for_each_offset(&[2, 3], [&a, &b], |[i, j]| seen.push((i, j)));
        assert_eq!(seen, vec![(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]);
        assert_eq!(strides(&[2, 3, 4]), vec![12, 4, 1]);
    }

    #[test]
    fn view_strides_on_unit_axes_are_never_applied() {
        // Validation accepts any stride on an axis of length 1 (it is multiplied by index 0 only):
        // the walk must not form `offset + stride` on such an axis (it overflowed i64 here once).
        for s in [i64::MAX, i64::MIN, -1] {
            let v = View { offset: 3, strides: vec![s, 1, s] };
            assert_eq!(view_indices(&v, &[1, 2, 1]), vec![3, 4]);
        }
        // Longer axes step by their stride and return by `(d − 1) · stride`.
        let v = View { offset: 5, strides: vec![-3, 1] };
        assert_eq!(view_indices(&v, &[2, 2]), vec![5, 6, 2, 3]);
    }
}
