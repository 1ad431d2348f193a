//! IntCompare (spec §Op: IntCompare): two i64 tensors broadcast (numpy rules) to the output
//! shape; output element `i` is `true_code` where `a_i kind b_i` holds (`=`, `<` or `>`),
//! else `false_code`. Exact, never fails.

use solidml_exec::Value;
use solidml_exec::index::{broadcast_strides, for_each_offset};
use solidml_spec::IntCompare;

/// IntCompare of `a` (shape `sa`) and `b` (shape `sb`), broadcast to `so`, row-major.
pub fn int_compare(c: &IntCompare, sa: &[u32], sb: &[u32], so: &[u32], a: &[i64], b: &[i64]) -> Vec<i8> {
    let (ta, tb) = (broadcast_strides(sa, so), broadcast_strides(sb, so));
    let mut out = Vec::with_capacity(so.iter().map(|&d| d as usize).product());
    for_each_offset(so, [&ta, &tb], |[i, j]| out.push(if c.kind.holds(a[i], b[j]) { c.true_code } else { c.false_code }));
    out
}

impl super::Kernels {
    /// The node entry of [`solidml_spec::Op::IntCompare`] (`solidml_spec::for_each_op!`).
    pub fn int_compare(n: &super::NodeArgs<'_>, op: &solidml_spec::IntCompare) -> super::NodeResult {
        Ok(Value::I8(int_compare(op, n.input_shape(0), n.input_shape(1), n.output_shape(), n.args[0].as_i64(), n.args[1].as_i64())))
    }
}

#[cfg(test)]
mod tests {
    use solidml_spec::{CompareKind, IntCompare};

    use super::int_compare;

    fn op(kind: CompareKind) -> IntCompare {
        IntCompare { kind, true_code: 127, false_code: -128 }
    }

    #[test]
    fn each_kind_with_broadcasting_and_extremes() {
        // a [2, 1] = [i64::MIN, 5], b [3] = [5, i64::MIN, i64::MAX]
        let (a, b) = ([i64::MIN, 5], [5, i64::MIN, i64::MAX]);
        let run = |k| int_compare(&op(k), &[2, 1], &[3], &[2, 3], &a, &b);
        assert_eq!(run(CompareKind::Equal), vec![-128, 127, -128, 127, -128, -128]);
        assert_eq!(run(CompareKind::Less), vec![127, -128, 127, -128, -128, 127]);
        assert_eq!(run(CompareKind::Greater), vec![-128, -128, -128, -128, 127, -128]);
    }

    #[test]
    fn codes_are_taken_as_given_and_empty_outputs_are_empty() {
        let swapped = IntCompare { kind: CompareKind::Greater, true_code: -3, false_code: 9 };
        // a ≤ b as Greater with the codes swapped: 9 where a ≤ b
        assert_eq!(int_compare(&swapped, &[3], &[], &[3], &[1, 2, 3], &[2]), vec![9, 9, -3]);
        assert_eq!(int_compare(&op(CompareKind::Equal), &[0, 2], &[2], &[0, 2], &[], &[1, 2]), Vec::<i8>::new());
    }
}
