//! One file per spec operator, named as in every other backend (`precompiles/cpu/src/ops`,
//! `precompiles/gpu/src/ops`): `emit` writes the node's Yul into the forward pass.
//!
//! Each file adds its node entries (`impl Kernels { fn <entry>(…) }`, named by the spec's
//! operator table, `solidml_spec::for_each_op!`); `emit_node` dispatches with the `match` the
//! table generates, exhaustive over the spec's operators: a new operator does not compile until
//! it has a kernel here or is added to [`REFUSED`], with its entry answering
//! [`crate::SolidityError::Unsupported`] (empty today: every operator of the spec has a kernel).
//!
//! The `mod` declarations are generated with it, so `cargo fmt` does not reach the op files:
//! `scripts/test.sh` checks them with `rustfmt --check` by name.

use solidml_spec::{Node, Op};

use crate::{NodeFailure, plan::Ctx};

/// The spec operators (`Op::kind()` names) this backend has no kernel for.
pub const REFUSED: &[&str] = &[];

/// The node entries of the operators, one per `Op` variant, each added by its op's file.
pub(crate) struct Kernels;

/// What an entry returns.
pub(crate) type EmitResult = Result<(), NodeFailure>;

/// `mod` per file and the dispatch `match`, from the operator table.
macro_rules! dispatch {
    ($($file:ident { $($entry:ident : $variant:ident $(($op:ident))? $({ $($field:ident),* })? );* $(;)? })*) => {
        $(mod $file;)*

        /// Emit one node (its output placed in the memory plan, its Yul appended to the forward pass).
        pub(crate) fn emit_node(cx: &mut Ctx<'_>, n: &Node) -> EmitResult {
            match &n.op {
                $($(Op::$variant $(($op))? $({ $($field),* })? => Kernels::$entry(cx, n, $($op)? $($($field),*)?),)*)*
            }
        }
    };
}
solidml_spec::for_each_op!(dispatch);
