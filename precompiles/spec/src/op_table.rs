//! The operator table: every [`crate::Op`] variant, the file that implements it in every
//! backend, and the name of its entry there. It is the one list of operators outside the
//! `Op` enum itself; each backend generates its `mod` declarations and its dispatch `match`
//! from it, so adding an operator touches the spec and **one file per backend**
//! (`precompiles/{cpu,gpu,solidity}/src/ops/<file>.rs`), and nothing else in a backend.
//!
//! [`for_each_op!`](crate::for_each_op) calls the macro it is given with the table:
//!
//! ```text
//! file { entry: Variant(payload); entry: Variant { field, field } }
//! ...
//! ```
//!
//! one block per file (a file may implement several variants, e.g. `pool` MaxPool and
//! AvgPool), one `entry: pattern` per variant. A backend's callback writes `mod file;` for each
//! block and, for each entry, a `match` arm `Op::Variant(payload) => Kernels::entry(…,
//! payload)` (struct variants pass their fields in order), where `Kernels` is a type of the
//! backend that every op file extends with its entries (`impl Kernels { fn entry(…) }`).
//!
//! What the compiler checks: the generated `match` is exhaustive (a variant missing from the
//! table fails every backend's build, and this crate's test below), and a backend file without
//! the entry, or with the wrong payload type, fails that backend's build. A backend that refuses
//! an operator (the JIT specializes only some) implements the entry as its refusal, in one list.

/// Call `$callback! { table }` with the operator table (module docs).
#[macro_export]
macro_rules! for_each_op {
    ($callback:ident) => {
        $callback! {
            argmax { argmax: ArgMax { axis, select_last_index } }
            binary {
                binary: Binary(op);
                extremum: Extremum(op);
                binary_lut: BinaryLut { table };
                int_binary: IntBinary { kind }
            }
            concat { concat: Concat { axis } }
            conv { conv: Conv(op) }
            conv_transpose { conv_transpose: ConvTranspose(op) }
            cum_sum { cum_sum: CumSum(op) }
            dense { dense: Dense(op) }
            dense_wide { dense_wide: DenseWide(op) }
            gather { gather: Gather { axis, indices }; gather_dynamic: GatherDynamic { axis } }
            instance_norm { instance_norm: InstanceNorm(op) }
            int_compare { int_compare: IntCompare(op) }
            int_lut { int_lut: IntLut { table } }
            log_softmax { log_softmax: LogSoftmax(op) }
            lrn { lrn: Lrn(op) }
            lut { lut: Lut(op) }
            matmul { matmul: MatMul(op) }
            normalize { normalize: Normalize(op) }
            pad { pad: Pad(op) }
            pool { max_pool: MaxPool(op); avg_pool: AvgPool(op) }
            reduce { reduce: Reduce(op) }
            softmax { softmax: Softmax(op) }
            take { take: Take { table } }
            top_k { top_k: TopK { axis, k, largest, output } }
            view { view: View(op) }
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::Op;

    /// The table as `Op → (file, entry)`: an exhaustive `match`, so a variant missing from
    /// the table fails this build.
    macro_rules! file_of {
        ($($file:ident { $($entry:ident : $variant:ident $(($op:ident))? $({ $($field:ident),* })? );* $(;)? })*) => {
            fn file_of(op: &Op) -> (&'static str, &'static str) {
                match op {
                    $($(Op::$variant $(($op))? $({ $($field),* })? => {
                        $(let _ = $op;)? $($(let _ = $field;)*)?
                        (stringify!($file), stringify!($entry))
                    })*)*
                }
            }
            const FILES: &[&str] = &[$(stringify!($file)),*];
        };
    }
    crate::for_each_op!(file_of);

    #[test]
    fn every_variant_has_a_file_and_the_files_are_sorted_and_distinct() {
        let files = FILES.to_vec();
        let mut sorted = files.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(files, sorted, "the table's files are in order, each once");
        let op = Op::Concat { axis: 0 };
        assert_eq!(file_of(&op), ("concat", "concat"));
        let op = Op::GatherDynamic { axis: 1 };
        assert_eq!(file_of(&op), ("gather", "gather_dynamic"));
    }
}
