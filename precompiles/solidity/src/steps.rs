//! Step contracts of the dispute game (docs/verification.md §Step contracts): one contract per
//! step of a model's [`Plan`], which re-executes that step in pure EVM with the kernels of
//! `NAME.sol`.
//!
//! A step contract is the step's sub-model ([`solidml_steps::sub_model`]) emitted like any
//! model (so `predictQ` runs exactly the full model's kernels on the chunk), with `MODEL_ID` the
//! full model's id and a shell:
//!
//! * `STEP`: its index in the plan;
//! * `reads()`: the trace leaves it reads (each `< STEP`), in the order `runStep` takes them;
//! * `runStep(bytes[] leaves)`: checks the count and each leaf's length (`LeafCount`,
//!   `LeafLength`), assembles the sub-model's packed arguments from the leaves with the plan's
//!   strided copies ([`Plan::copies`]), and returns `predictQ` of them: the step's output bytes,
//!   whose leaf `InferenceClaims` compares with the claimer's.
//!
//! The steps registry (`stdlib-sol/src/SolidMLSteps.sol`) lists a model's step contracts for
//! `InferenceClaims`; the Input step has none (its leaf is fixed by the claim's input hash).

use std::fmt::Write;

use solidml_spec::Model;
use solidml_steps::{Plan, plan::StepKind, sub_model};

use crate::{Emitted, SolidityError, SolidityOptions, emit_model_with_functions, yul::ident};

/// The contract name of step `k` of `model`.
pub fn step_contract_name(model: &Model, k: usize) -> String {
    ident(&format!("{}_step{k}", model.name))
}

/// What step `k` is, in words (NatSpec, logs).
pub fn describe(model: &Model, plan: &Plan, k: usize) -> String {
    match &plan.steps[k].kind {
        StepKind::Input => "the model inputs".into(),
        StepKind::Output => "the model outputs".into(),
        StepKind::Node { node, chunk } => format!("node `{}` ({}), {chunk:?}", model.nodes[*node].name, model.nodes[*node].op.kind()),
    }
}

/// The shell of step `k`'s contract: `STEP`, `reads()`, `runStep(bytes[])`.
fn shell(model: &Model, plan: &Plan, k: usize) -> String {
    let reads = plan.reads(k);
    let n = reads.len();
    let mut s = String::new();
    let _ = writeln!(s, "\n    // ---- step shell (docs/verification.md §Step contracts) ----\n");
    let _ =
        writeln!(s, "    /// This contract re-executes step {k} of the model `MODEL_ID`: {}.", describe(model, plan, k).replace('\n', " "));
    let _ = writeln!(s, "    uint256 public constant STEP = {k};\n");
    let _ =
        writeln!(s, "    /// `runStep` got `got` leaves; the step reads `expected`.\n    error LeafCount(uint256 expected, uint256 got);");
    let _ = writeln!(
        s,
        "    /// Leaf `index` of `runStep` holds `got` bytes; the trace's holds `expected`.\n    error LeafLength(uint256 index, uint256 expected, uint256 got);\n"
    );
    let _ = writeln!(s, "    /// The trace leaves this step reads (each before it), in the order `runStep` takes them.");
    let _ = writeln!(s, "    function reads() external pure returns (uint256[] memory r) {{\n        r = new uint256[]({n});");
    for (i, j) in reads.iter().enumerate() {
        let _ = writeln!(s, "        r[{i}] = {j};");
    }
    let _ = writeln!(s, "    }}\n");
    let _ = writeln!(s, "    /// The bytes of the leaves `reads()` names to this step's output bytes.");
    let _ = writeln!(s, "    function runStep(bytes[] calldata leaves) external view returns (bytes memory) {{");
    let _ = writeln!(s, "        if (leaves.length != {n}) revert LeafCount({n}, leaves.length);");
    for (i, &j) in reads.iter().enumerate() {
        let len = plan.steps[j].len();
        let _ = writeln!(s, "        if (leaves[{i}].length != {len}) revert LeafLength({i}, {len}, leaves[{i}].length);");
    }
    let _ = writeln!(s, "        bytes memory q = new bytes({});", plan.args_len(k));
    for c in plan.copies(k) {
        let _ = writeln!(
            s,
            "        _copy(q, leaves[{}], {}, {}, {}, {}, {}, {});",
            c.leaf, c.count, c.len, c.src, c.src_stride, c.dst, c.dst_stride
        );
    }
    let _ = writeln!(s, "        return this.predictQ(q);\n    }}\n");
    let _ = writeln!(s, "    /// `count` copies of `len` bytes, the `i`-th from `leaf[src + i·srcStride]` to `q[dst + i·dstStride]`.");
    let _ = writeln!(
        s,
        "    function _copy(bytes memory q, bytes calldata leaf, uint256 count, uint256 len, uint256 src, uint256 srcStride, uint256 dst, uint256 dstStride) private pure {{"
    );
    let _ = writeln!(s, "        assembly {{\n            let to := add(add(q, 32), dst)\n            let from := add(leaf.offset, src)");
    let _ = writeln!(s, "            for {{ let i := 0 }} lt(i, count) {{ i := add(i, 1) }} {{");
    let _ = writeln!(
        s,
        "                calldatacopy(add(to, mul(i, dstStride)), add(from, mul(i, srcStride)), len)\n            }}\n        }}\n    }}"
    );
    s
}

/// Step `k`'s contract (`k ≥ 1`), with its part and data contracts when it needs them.
pub fn emit_step(model: &Model, model_id: &[u8; 32], plan: &Plan, k: usize, opts: &SolidityOptions) -> Result<Emitted, SolidityError> {
    let sub = sub_model(model, plan, k).ok_or_else(|| SolidityError::Model("the input step has no contract".into()))?;
    emit_model_with_functions(&sub, model_id, opts, shell(model, plan, k))
}
