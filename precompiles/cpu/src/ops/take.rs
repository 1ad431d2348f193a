//! Take (spec §Take): `out[i] = table[in[i]]` (class labels); an index outside the table is a
//! run-time error.

use solidml_exec::ExecError;
use solidml_exec::Value;

/// Take (spec §Take): `table[x[i]]` for each i64 index of `x`; an index outside the table is
/// [`ExecError::IndexOutOfRange`] of node `node`.
pub fn take(node: &str, table: &[i64], x: &[i64]) -> Result<Vec<i64>, ExecError> {
    x.iter()
        .map(|&i| {
            usize::try_from(i).ok().and_then(|u| table.get(u).copied()).ok_or(ExecError::IndexOutOfRange {
                node: node.to_string(),
                index: i,
                len: table.len(),
            })
        })
        .collect()
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::Take`] (`solidml_spec::for_each_op!`).
    pub fn take(n: &super::NodeArgs<'_>, table: &[i64]) -> super::NodeResult {
        Ok(Value::I64(take(&n.node.name, table, n.args[0].as_i64())?))
    }
}

#[cfg(test)]
mod tests {
    use super::take;
    use crate::{ExecError, ops::tests::Rng};

    #[test]
    fn looks_up_labels() {
        let table = [10, -20, i64::MAX];
        assert_eq!(take("t", &table, &[2, 0, 0, 1]), Ok(vec![i64::MAX, 10, 10, -20]));
        assert_eq!(take("t", &table, &[]), Ok(vec![]));
    }

    #[test]
    fn out_of_range_is_an_error() {
        // len 3: index 3 and every negative index are out of range; the first bad index is reported.
        let table = [10, 20, 30];
        let err = |index| Err(ExecError::IndexOutOfRange { node: "labels".into(), index, len: 3 });
        assert_eq!(take("labels", &table, &[0, 3, -1]), err(3));
        assert_eq!(take("labels", &table, &[-1]), err(-1));
        assert_eq!(take("labels", &table, &[i64::MIN]), err(i64::MIN));
        assert_eq!(take("labels", &table, &[i64::MAX]), err(i64::MAX));
    }

    #[test]
    fn random_takes_match_the_formula() {
        let mut rng = Rng::new(12);
        for _ in 0..50 {
            let table: Vec<i64> = (0..rng.range(1, 6)).map(|_| rng.next() as i64).collect();
            let x: Vec<i64> = (0..rng.range(0, 6)).map(|_| rng.range(-2, table.len() as i64 + 1)).collect();
            let bad = x.iter().find(|&&i| i < 0 || i >= table.len() as i64);
            let want = match bad {
                Some(&index) => Err(ExecError::IndexOutOfRange { node: "n".into(), index, len: table.len() }),
                None => Ok(x.iter().map(|&i| table[i as usize]).collect()),
            };
            assert_eq!(take("n", &table, &x), want, "{table:?} {x:?}");
        }
    }
}
