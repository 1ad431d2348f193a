//! IntLut (spec §IntLut): `out[i] = table[x[i] + 128]`, int8 codes to i64 values.

use solidml_exec::Value;

/// IntLut (spec §IntLut): the i64 value of each int8 code of `x`, `table[x[i] + 128]`;
/// `table` holds 256 values (validated).
pub fn int_lut(table: &[i64], x: &[i8]) -> Vec<i64> {
    x.iter().map(|&q| table[(q as i32 + 128) as usize]).collect()
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::IntLut`] (`solidml_spec::for_each_op!`).
    pub fn int_lut(n: &super::NodeArgs<'_>, table: &[i64]) -> super::NodeResult {
        Ok(Value::I64(int_lut(table, n.args[0].as_i8())))
    }
}

#[cfg(test)]
mod tests {
    use super::int_lut;

    #[test]
    fn each_code_reads_its_entry() {
        let table: Vec<i64> = (0..256).map(|i| (i as i64 - 128) * 1_000_000_007).collect();
        assert_eq!(int_lut(&table, &[-128, -1, 0, 127]), [-128 * 1_000_000_007, -1_000_000_007, 0, 127 * 1_000_000_007]);
        assert!(int_lut(&table, &[]).is_empty());
    }
}
