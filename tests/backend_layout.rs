//! The layout contract of the backends: every operator of the spec (each `## Op:` section of
//! `docs/spec.md`) is one file per backend, under the same name everywhere —
//! `precompiles/cpu/src/ops/<op>.rs`, `precompiles/gpu/src/ops/<op>.rs` with its shader
//! `precompiles/gpu/src/shaders/<op>.wgsl`, and `precompiles/solidity/src/ops/<op>.rs` — unless
//! the backend lists the operator as refused (`solidml_solidity::ops::REFUSED`; the CPU
//! reference and the GPU refuse nothing), and `precompiles/jit/src/ops/<op>.rs` unless the JIT
//! runs the operator on its fallback executor (`solidml_jit::ON_FALLBACK`). The file of each
//! operator, and its entry name, come from the spec's operator table
//! (`solidml_spec::for_each_op!`), from which every backend also generates its dispatch:
//! operators of one family share a file (Extremum, BinaryLut and IntBinary live in `binary.rs`;
//! MaxPool and AvgPool in `pool.rs`; GatherDynamic in `gather.rs`), and each GPU shader is named
//! by its entry (`pool.wgsl` serves both pools).
//!
//! Fails when the table and the spec's sections differ, when the spec gains an operator that a
//! backend neither implements nor refuses, when a
//! backend keeps a file no operator names, and when the Solidity backend's behaviour (which
//! spec vectors it emits) disagrees with its refused list.

use std::collections::BTreeSet;
use std::path::Path;

use solidml_solidity::{SolidityError, ops::REFUSED};
use solidml_tests::*;

/// The spec's operator table (`solidml_spec::for_each_op!`) as `(variant, file, entry)`.
macro_rules! table {
    ($($file:ident { $($entry:ident : $variant:ident $(($op:ident))? $({ $($field:ident),* })? );* $(;)? })*) => {
        &[$($((stringify!($variant), stringify!($file), stringify!($entry))),*),*]
    };
}
const TABLE: &[(&str, &str, &str)] = solidml_spec::for_each_op!(table);

/// The table's row of an operator.
fn row(op: &str) -> (&'static str, &'static str) {
    let &(_, file, entry) = TABLE.iter().find(|(v, _, _)| *v == op).unwrap_or_else(|| panic!("`{op}` is not in the operator table"));
    (file, entry)
}

/// The operators of the spec, in the order of its sections.
fn spec_ops() -> Vec<String> {
    let spec = std::fs::read_to_string(repo().join("docs/spec.md")).unwrap();
    spec.lines().filter_map(|l| l.strip_prefix("## Op: ")).map(|s| s.trim().to_string()).collect()
}

/// The kernel files (stems) in a backend's `ops/` directory, `mod.rs` aside.
fn files_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs") && !p.ends_with("mod.rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn every_spec_operator_has_one_file_per_backend_or_is_refused() {
    let ops = spec_ops();
    assert!(ops.len() >= 24, "docs/spec.md lists only {} operators: {ops:?}", ops.len());
    let root = repo().join("precompiles");
    let mut missing = vec![];
    // the table names every operator of the spec, and nothing else
    let mut variants: Vec<&str> = TABLE.iter().map(|(v, _, _)| *v).collect();
    let mut sections: Vec<&str> = ops.iter().map(String::as_str).collect();
    variants.sort();
    sections.sort();
    assert_eq!(variants, sections, "the operator table (solidml_spec::for_each_op!) and docs/spec.md's `## Op:` sections differ");
    for op in &ops {
        let (file, entry) = row(op);
        let shader = if file == "pool" { file } else { entry };
        let need = [
            (format!("cpu/src/ops/{file}.rs"), false),
            (format!("gpu/src/ops/{file}.rs"), false),
            (format!("gpu/src/shaders/{shader}.wgsl"), false),
            (format!("solidity/src/ops/{file}.rs"), REFUSED.contains(&op.as_str())),
            (format!("jit/src/ops/{file}.rs"), solidml_jit::ON_FALLBACK.contains(&op.as_str())),
        ];
        for (path, refused) in need {
            if !refused && !root.join(&path).is_file() {
                missing.push(format!("{op}: precompiles/{path}"));
            }
        }
    }
    assert!(missing.is_empty(), "operators without a kernel file (add it, or list the op as refused):\n{}", missing.join("\n"));

    // every refused operator is an operator of the spec
    for r in REFUSED {
        assert!(ops.iter().any(|o| o == r), "solidml_solidity::ops::REFUSED names `{r}`, which docs/spec.md does not define");
    }
    // no backend keeps a file that no operator names
    let named: BTreeSet<String> = TABLE.iter().map(|(_, f, _)| f.to_string()).collect();
    for r in solidml_jit::ON_FALLBACK {
        assert!(ops.iter().any(|o| o == r), "solidml_jit::ON_FALLBACK names `{r}`, which docs/spec.md does not define");
    }
    for backend in ["cpu", "gpu", "solidity", "jit"] {
        let stray: Vec<_> = files_in(&root.join(backend).join("src/ops")).difference(&named).cloned().collect();
        assert!(stray.is_empty(), "precompiles/{backend}/src/ops has files no spec operator names: {stray:?}");
    }
}

/// The Solidity backend emits every spec vector model whose operator it does not refuse, and
/// answers the refused ones with `Unsupported` naming the operator.
#[test]
fn the_solidity_backend_refuses_exactly_its_refused_list() {
    let dir = repo().join("docs/spec/vectors");
    let mut files: Vec<_> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "json")).collect();
    files.sort();
    assert!(files.len() >= 25, "only {} vector files", files.len());
    let (mut emitted, mut refused) = (BTreeSet::new(), BTreeSet::new());
    for path in &files {
        let case = vector_cases(path).into_iter().next().unwrap_or_else(|| panic!("{}: no cases", path.display()));
        if case.model.nodes.len() != 1 {
            continue; // models of several nodes (chain.json)
        }
        let op = case.model.nodes[0].op.kind();
        match solidml_solidity::emit(&case.model, &[0; 32]) {
            Ok(_) => {
                assert!(!REFUSED.contains(&op), "{}: `{op}` is listed as refused but emits", path.display());
                emitted.insert(op);
            }
            Err(SolidityError::Unsupported { op: o, .. }) => {
                assert_eq!(o, op);
                assert!(REFUSED.contains(&op), "{}: `{op}` is refused but not listed in ops::REFUSED", path.display());
                refused.insert(op);
            }
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
    // every refused operator with vectors was seen refused
    let with_vectors: BTreeSet<&str> =
        REFUSED.iter().copied().filter(|r| files.iter().any(|f| f.file_stem().unwrap() == r.to_lowercase().as_str())).collect();
    assert_eq!(refused, with_vectors);
    assert!(emitted.len() >= 17, "emitted only {emitted:?}");
}

/// Operators the JIT specializes that the schedule still prices at the reference's rate (safe:
/// overpriced): DenseWide's kernel (measured 10–15 GMAC/s at 16x8 and 3.2 GMAC/s at 16x16,
/// against 42 for the int8 GEMM, 1024², one core) has no class of its own yet.
const SPECIALIZED_AT_REFERENCE_PRICE: &[&str] = &["DenseWide"];

/// The gas schedule prices an op at the JIT's speed (a class other than `reference`) exactly
/// when the JIT specializes it, [`SPECIALIZED_AT_REFERENCE_PRICE`] aside: an op the JIT leaves
/// to the reference kernels must be priced at the reference's speed (docs/spec.md §Gas,
/// classes).
#[test]
fn the_gas_classes_follow_what_the_jit_specializes() {
    use solidml_precompile::gas::WorkClass;
    let dir = repo().join("docs/spec/vectors");
    let mut seen = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        for case in vector_cases(&path) {
            for node in &case.model.nodes {
                let priced_fast = WorkClass::of(&node.op) != WorkClass::Reference;
                let specialized = solidml_jit::specializes(&node.op) && !SPECIALIZED_AT_REFERENCE_PRICE.contains(&node.op.kind());
                assert_eq!(
                    priced_fast,
                    specialized,
                    "{}: `{}` is in gas class {:?}",
                    path.display(),
                    node.op.kind(),
                    WorkClass::of(&node.op)
                );
                seen.insert(node.op.kind());
            }
        }
    }
    assert!(seen.len() >= 25, "only {} op kinds in the vectors: {seen:?}", seen.len());
    for op in SPECIALIZED_AT_REFERENCE_PRICE {
        assert!(seen.contains(op), "{op}: no vector");
    }
}
