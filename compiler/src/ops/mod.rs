//! The typed ONNX-op layer: one registry of the ONNX operators the compiler imports.
//!
//! Each entry ([`OpDef`]) is keyed by `(domain, op_type)` (the default domain `ai.onnx` is
//! written `""`, as the importer normalises it) and carries the op's float semantics (the
//! interpreter [`crate::float`] dispatches through it) and its lowering onto the spec's integer
//! ops (the quantizer [`crate::quantize`] dispatches through it), or says which stage folds the
//! op away before lowering. The supported-operator list (the unsupported-model report, the
//! consistency with `docs/operators.md`) is the registry's key set: there is no other table.
//!
//! Ops are grouped in families by shared attributes; each family module parses its
//! attributes once (ONNX defaults and opset differences in one place) and holds both the float
//! semantics and the lowering of its ops. [`window`] is not a family: it holds the
//! sliding-window attributes that [`conv`] and [`pool`] share.

pub mod binary;
pub mod concat;
pub mod constant;
pub mod conv;
pub mod conv_transpose;
pub mod cum_sum;
pub mod elementwise;
pub mod gather;
pub mod gemm;
pub mod ml;
pub mod normalization;
pub mod pad;
pub mod pool;
pub mod qdq;
pub mod reduce;
pub mod shape;
pub mod slice;
pub mod softmax;
pub mod window;

use std::sync::OnceLock;

use crate::{
    error::UnsupportedNode,
    ir::{Graph, Node, Value},
    quantize::Lowering,
};

pub(crate) type R<T> = std::result::Result<T, String>;

/// The float semantics of an op: its outputs given its input values (`None` for an omitted
/// optional input).
pub type EvalFn = fn(&Graph, &Node, &[Option<&Value>]) -> R<Vec<Value>>;

/// The lowering of an op onto spec ops; `ins` holds the constant inputs (`None` for run-time
/// and omitted ones).
pub type LowerFn = fn(&mut Lowering<'_>, &Node, &[Option<&Value>]) -> R<()>;

/// How an op reaches the integer model.
#[derive(Clone, Copy)]
pub enum Lower {
    /// Lowered onto spec ops by this function.
    Fn(LowerFn),
    /// Never lowered: the named stage folds the op away before quantization (a node that is
    /// left gets "not supported in this form").
    Folded(&'static str),
}

/// One registered ONNX operator.
#[derive(Clone, Copy)]
pub struct OpDef {
    /// The ONNX operator-set domain (`NodeProto.domain`): `""` for `ai.onnx` (the importer
    /// normalises `"ai.onnx"` to `""`), `"ai.onnx.ml"` for the ML ops.
    pub domain: &'static str,
    /// The ONNX operator name (`NodeProto.op_type`), case-sensitive, e.g. `"Conv"`.
    pub op_type: &'static str,
    /// Float semantics; `None` only for ops the importer resolves (`Constant`).
    pub eval: Option<EvalFn>,
    /// How the op reaches the integer model: its lowering onto spec ops, or the stage that
    /// folds it away before quantization.
    pub lower: Lower,
}

impl OpDef {
    /// An op with float semantics `eval` that the quantizer lowers with `lower`.
    pub const fn new(domain: &'static str, op_type: &'static str, eval: EvalFn, lower: LowerFn) -> Self {
        OpDef { domain, op_type, eval: Some(eval), lower: Lower::Fn(lower) }
    }

    /// An op that is never lowered: the stage `by` (named in the "not supported in this form"
    /// message) folds it away before quantization; `eval` is its float semantics, if any.
    pub const fn folded(domain: &'static str, op_type: &'static str, eval: Option<EvalFn>, by: &'static str) -> Self {
        OpDef { domain, op_type, eval, lower: Lower::Folded(by) }
    }
}

/// Every registered op, sorted by `(domain, op_type)`.
pub fn registry() -> &'static [OpDef] {
    static REGISTRY: OnceLock<Vec<OpDef>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let families: &[&[OpDef]] = &[
            elementwise::OPS,
            binary::OPS,
            gemm::OPS,
            conv::OPS,
            conv_transpose::OPS,
            pool::OPS,
            reduce::OPS,
            cum_sum::OPS,
            softmax::OPS,
            normalization::OPS,
            shape::OPS,
            constant::OPS,
            slice::OPS,
            concat::OPS,
            gather::OPS,
            pad::OPS,
            qdq::OPS,
            ml::OPS,
        ];
        let mut all: Vec<OpDef> = families.concat();
        all.sort_by_key(|d| (d.domain, d.op_type));
        all
    })
}

/// The entry of `(domain, op_type)`; `ai.onnx` and `""` are the same domain.
pub fn lookup(domain: &str, op_type: &str) -> Option<&'static OpDef> {
    let d = if domain == "ai.onnx" { "" } else { domain };
    let reg = registry();
    reg.binary_search_by(|e| (e.domain, e.op_type).cmp(&(d, op_type))).ok().map(|i| &reg[i])
}

/// `(domain, op_type)` pairs the compiler imports. Some are supported in restricted forms
/// (constant weights, constant repeats, …): the quantizer says which form failed.
pub fn supported_ops() -> impl Iterator<Item = (&'static str, &'static str)> {
    registry().iter().map(|d| (d.domain, d.op_type))
}

/// Whether `(domain, op_type)` is registered (`"ai.onnx"` and `""` are the same domain). A
/// registered op may still be rejected by the quantizer in an unsupported form.
pub fn is_supported(domain: &str, op_type: &str) -> bool {
    lookup(domain, op_type).is_some()
}

/// Where the list is documented for users.
pub const SUPPORTED_DOC: &str = "docs/operators.md";

/// Every node of the graph whose op is not registered.
pub fn unsupported_nodes(g: &Graph) -> Vec<UnsupportedNode> {
    g.nodes
        .iter()
        .filter(|n| n.def().is_none())
        .map(|n| UnsupportedNode { name: n.name.clone(), op: n.op.clone(), domain: n.domain.clone(), opset: g.opset, reason: None })
        .collect()
}

/// Float semantics of node `n` by its registry entry.
pub(crate) fn eval(g: &Graph, n: &Node, ins: &[Option<&Value>]) -> R<Vec<Value>> {
    match n.def().and_then(|d| d.eval) {
        Some(f) => f(g, n, ins),
        None => Err(format!("no float implementation of {}:{}", n.domain, n.op)),
    }
}

/// Lowering of node `n` by its registry entry.
pub(crate) fn lower(l: &mut Lowering<'_>, n: &Node, ins: &[Option<&Value>]) -> R<()> {
    match n.def().map(|d| d.lower) {
        Some(Lower::Fn(f)) => f(l, n, ins),
        _ if n.domain.is_empty() => Err(format!("{} in this form is not supported", n.op)),
        _ => Err(format!("{}:{} in this form is not supported", n.domain, n.op)),
    }
}

/// Refuse a tensor of `shape` that is larger than the spec allows (`MAX_TENSOR_ELEMENTS`,
/// 2^28), before anything of that size is allocated: the ops that can grow a tensor by an
/// amount read from the model (Pad, Expand, Tile, ConstantOfShape, Range) and the importer
/// call it, so a hostile amount gives an error naming it instead of an abort or a hang.
pub(crate) fn check_elements(shape: &[usize], what: &str) -> R<()> {
    let max = solidml_spec::validate::MAX_TENSOR_ELEMENTS;
    match shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) {
        Some(n) if n <= max => Ok(()),
        n => Err(format!(
            "{what} of shape {shape:?} has {} elements, more than the {max} a tensor may hold",
            n.map_or("more than 2^64".to_string(), |n| n.to_string())
        )),
    }
}

/// The input `i`, which must be present.
pub(crate) fn input<'v>(ins: &[Option<&'v Value>], i: usize) -> R<&'v Value> {
    ins.get(i).copied().flatten().ok_or_else(|| format!("missing input {i}"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_op_is_registered_once_and_found() {
        let reg = registry();
        let keys: BTreeSet<_> = supported_ops().collect();
        assert_eq!(keys.len(), reg.len(), "an op is registered twice");
        for d in reg {
            assert!(std::ptr::eq(lookup(d.domain, d.op_type).unwrap(), d));
        }
        assert!(lookup("ai.onnx", "Conv").is_some());
        assert!(!is_supported("", "Mean") && !is_supported("", "LpPool") && is_supported("ai.onnx.ml", "ZipMap"));
    }

    #[test]
    fn every_op_has_float_semantics_and_a_lowering_or_is_folded() {
        for d in registry() {
            match d.lower {
                Lower::Fn(_) => assert!(d.eval.is_some(), "{}:{} is lowered but has no float semantics", d.domain, d.op_type),
                Lower::Folded(by) => {
                    assert!(!by.is_empty());
                    // only ops the importer resolves lack float semantics
                    assert!(d.eval.is_some() || by == "import", "{}:{} has no float semantics", d.domain, d.op_type);
                }
            }
        }
    }

    /// The `(domain, op)` pairs of the table in docs/operators.md.
    fn documented() -> BTreeSet<(String, String)> {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../", "docs/operators.md")).unwrap();
        let mut out = BTreeSet::new();
        for line in doc.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| ONNX op")) {
            let cell = line.split('|').nth(1).unwrap().trim();
            let (names, domain) = cell.rsplit_once(" (").expect("a domain in parentheses");
            let domain = domain.trim_end_matches(')').trim_matches('"');
            for name in names.split(',') {
                out.insert((domain.to_string(), name.trim().to_string()));
            }
        }
        out
    }

    #[test]
    fn the_docs_list_the_registry() {
        let registered: BTreeSet<(String, String)> = supported_ops().map(|(d, o)| (d.to_string(), o.to_string())).collect();
        let documented = documented();
        assert_eq!(
            registered.difference(&documented).collect::<Vec<_>>(),
            Vec::<&(String, String)>::new(),
            "registered but not in {SUPPORTED_DOC}"
        );
        assert_eq!(
            documented.difference(&registered).collect::<Vec<_>>(),
            Vec::<&(String, String)>::new(),
            "in {SUPPORTED_DOC} but not registered"
        );
    }
}
