//! Lut (spec §Lut): `out[i] = tables[256 · c + (x[i] + 128)]`, `c` the index of element `i`
//! along `axis` (0 without an axis).

use solidml_exec::Value;
use solidml_spec::Lut;

/// Lut (spec §Lut) of the int8 input `x` of `shape`: each code through the table of its index
/// along `l.axis` (the only table without an axis).
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

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Lut`] (`solidml_spec::for_each_op!`).
    pub fn lut(n: &super::NodeArgs<'_>, op: &solidml_spec::Lut) -> super::NodeResult {
        Ok(Value::I8(lut(op, n.input_shape(0), n.args[0].as_i8())))
    }
}

#[cfg(test)]
mod tests {
    use solidml_spec::Lut;

    use super::lut;
    use crate::ops::tests::{Rng, numel, unravel};

    #[test]
    fn per_channel_tables_along_a_middle_axis() {
        // shape [2, 3, 2], axis 1: table c maps q → clamp(q + 10·c); element i has c = (i / 2) % 3.
        let tables: Vec<i8> = (0..3).flat_map(|c| (-128..=127).map(move |q: i32| (q + 10 * c).min(127) as i8)).collect();
        let l = Lut { axis: Some(1), tables };
        let x = [0, 120, 0, 120, 0, 120, -128, 1, -128, 1, -128, 1];
        // c:    0  0    1  1    2  2     0    0    1    1    2    2
        let want = [0, 120, 10, 127, 20, 127, -128, 1, -118, 11, -108, 21];
        assert_eq!(lut(&l, &[2, 3, 2], &x), want);
    }

    #[test]
    fn single_table_indexes_by_value_plus_128() {
        // table[j] = 127 − j reverses the int8 range: −128 ↦ 127, 0 ↦ −1, 127 ↦ −128.
        let l = Lut { axis: None, tables: (0..256).map(|j| (127 - j) as i8).collect() };
        assert_eq!(lut(&l, &[2, 2], &[-128, 0, 127, 5]), vec![127, -1, -128, -6]);
    }

    #[test]
    fn random_tables_match_the_formula() {
        let mut rng = Rng::new(4);
        for _ in 0..50 {
            let shape = rng.shape(1, 4, 4);
            let axis = if rng.one_in(3) { None } else { Some(rng.below(shape.len()) as u32) };
            let ntables = axis.map_or(1, |a| shape[a as usize] as usize);
            let l = Lut { axis, tables: rng.i8s(256 * ntables) };
            let x = rng.i8s(numel(&shape));
            let want: Vec<i8> = (0..x.len())
                .map(|i| {
                    let c = axis.map_or(0, |a| unravel(i, &shape)[a as usize]);
                    l.tables[256 * c + (x[i] as i32 + 128) as usize]
                })
                .collect();
            assert_eq!(lut(&l, &shape, &x), want, "{shape:?} {axis:?}");
        }
    }
}
