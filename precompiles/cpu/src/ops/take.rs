//! Take (spec §Take): `out[i] = table[in[i]]` (class labels); an index outside the table is a
//! run-time error.

use crate::CpuError;

pub fn take(node: &str, table: &[i64], x: &[i64]) -> Result<Vec<i64>, CpuError> {
    x.iter()
        .map(|&i| {
            usize::try_from(i)
                .ok()
                .and_then(|u| table.get(u).copied())
                .ok_or(CpuError::IndexOutOfRange { node: node.to_string(), index: i, len: table.len() })
        })
        .collect()
}
