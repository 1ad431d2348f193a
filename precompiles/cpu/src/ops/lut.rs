//! Lut (spec §Lut): `out[i] = tables[256 · c + (x[i] + 128)]`, `c` the index of element `i`
//! along `axis` (0 without an axis).

use solidml_spec::Lut;

pub fn lut(l: &Lut, shape: &[u32], x: &[i8]) -> Vec<i8> {
    let (dim, inner) = match l.axis {
        Some(a) => (shape[a as usize] as usize, shape[a as usize + 1..].iter().map(|&d| d as usize).product::<usize>()),
        None => (1, 1),
    };
    x.iter()
        .enumerate()
        .map(|(i, &q)| {
            let c = (i / inner.max(1)) % dim.max(1);
            l.tables[256 * c + (q as i32 + 128) as usize]
        })
        .collect()
}
