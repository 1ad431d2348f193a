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

pub mod attention;
pub mod binary;
pub mod bitwise;
pub mod concat;
pub mod constant;
pub mod conv;
pub mod conv_transpose;
pub mod cum_sum;
pub mod einsum;
pub mod elementwise;
pub mod gather;
pub mod gather_elements;
pub mod gather_nd;
pub mod gemm;
pub mod hardmax;
pub mod int_compare;
pub mod loss;
pub mod lp_pool;
pub mod ml;
pub mod normalization;
pub mod one_hot;
pub mod one_hot_encoder;
pub mod pad;
pub mod pool;
pub mod qdq;
pub mod qlinear;
pub mod recurrent;
pub mod reduce;
pub mod resize;
pub mod reverse_sequence;
pub mod scatter;
pub mod shape;
pub mod slice;
pub mod softmax;
pub mod space;
pub mod spectral;
pub mod stats;
pub mod svm;
pub mod top_k;
pub mod tree;
pub mod trilu;
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
            attention::OPS,
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
            gather_elements::OPS,
            loss::OPS,
            hardmax::OPS,
            reverse_sequence::OPS,
            gather_nd::OPS,
            scatter::OPS,
            bitwise::OPS,
            one_hot::OPS,
            pad::OPS,
            qdq::OPS,
            qlinear::OPS,
            recurrent::OPS,
            ml::OPS,
            tree::OPS,
            svm::OPS,
            one_hot_encoder::OPS,
            top_k::OPS,
            trilu::OPS,
            space::OPS,
            spectral::OPS,
            resize::OPS,
            einsum::OPS,
            stats::OPS,
            lp_pool::OPS,
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
/// 2^28, and rank [`MAX_EVAL_RANK`]), before anything of that size is allocated: the ops that
/// can grow a tensor by an amount read from the model (Pad, Expand, Tile, ConstantOfShape,
/// Range, Reshape, Gather, Concat, the matrix products, broadcasting) and the importer call it,
/// so a hostile amount gives an error naming it instead of an abort or a hang.
///
/// An empty tensor's other axes count too (as if its zero-length axes were 1): `[0, 2^62, 4]`
/// holds nothing, but ndarray refuses (panics on) a shape whose non-zero axes multiply past
/// `isize::MAX`, and no model needs such axes.
pub(crate) fn check_elements(shape: &[usize], what: &str) -> R<()> {
    let max = solidml_spec::validate::MAX_TENSOR_ELEMENTS;
    if shape.len() > MAX_EVAL_RANK {
        return Err(format!("{what} has rank {}, more than the {MAX_EVAL_RANK} the compiler handles", shape.len()));
    }
    let product = |zero_as_one: bool| shape.iter().try_fold(1usize, |a, &d| a.checked_mul(if zero_as_one { d.max(1) } else { d }));
    match (product(false), product(true)) {
        (Some(n), Some(m)) if n <= max && m <= max => Ok(()),
        (Some(0), _) => Err(format!(
            "{what} of shape {shape:?} is empty, but its other axes multiply to more than the {max} elements a tensor may hold"
        )),
        (n, _) => Err(format!(
            "{what} of shape {shape:?} has {} elements, more than the {max} a tensor may hold",
            n.map_or("more than 2^64".to_string(), |n| n.to_string())
        )),
    }
}

/// Largest rank of a tensor the float interpreter builds (the spec's limit, `MAX_RANK`, is 8;
/// constant subgraphs that fold away may go higher). A reshape to a constant of 2^28 ones
/// would otherwise make every later shape walk quadratic in it.
pub const MAX_EVAL_RANK: usize = 64;

/// Most multiply-adds (or window taps) the float interpreter spends on one node: 2^32, about
/// twice the largest layer of VGG-16 at 224×224 (shape inference and every calibration sample
/// evaluate the whole graph, so more would hang the compiler on a hostile model instead of
/// refusing it).
pub const MAX_NODE_WORK: u64 = 1 << 32;

/// Refuse a node whose float evaluation takes the product of `factors` multiply-adds (or
/// taps), before any of it is done, when that is more than [`MAX_NODE_WORK`].
pub(crate) fn check_work(factors: &[usize], what: &str) -> R<()> {
    match factors.iter().try_fold(1u128, |a, &f| a.checked_mul(f as u128)) {
        Some(w) if w <= MAX_NODE_WORK as u128 => Ok(()),
        w => Err(format!(
            "{what} takes {} multiply-adds, more than the {MAX_NODE_WORK} the compiler evaluates per node",
            w.map_or("more than 2^128".to_string(), |w| w.to_string())
        )),
    }
}

/// The input `i`, which must be present.
pub(crate) fn input<'v>(ins: &[Option<&'v Value>], i: usize) -> R<&'v Value> {
    ins.get(i).copied().flatten().ok_or_else(|| format!("missing input {i}"))
}

/// An error when input `i` of `n`, a parameter the op needs constant (`what`), is a graph
/// input: its values are only known at run time (shape inference sees zeros there, which
/// would otherwise surface as a misleading error about the values).
pub(crate) fn constant_parameter(g: &Graph, n: &Node, i: usize, what: &str) -> R<()> {
    match n.input(i) {
        Some(t) if g.inputs.contains(&t) => {
            Err(format!("{what} (input {i}) must be a constant: it is the graph input `{}`, computed at run time", g.name(t)))
        }
        _ => Ok(()),
    }
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
        assert!(!is_supported("", "ImageDecoder") && !is_supported("", "StringNormalizer") && is_supported("ai.onnx.ml", "ZipMap"));
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
        println!(
            "{} ONNX operators registered: {} in ai.onnx, {} in ai.onnx.ml",
            registered.len(),
            registered.iter().filter(|(d, _)| d.is_empty()).count(),
            registered.iter().filter(|(d, _)| !d.is_empty()).count()
        );
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

    /// An int64 vector constant.
    fn ints(g: &mut Graph, name: &str, v: &[i64]) -> usize {
        let t = g.add_tensor(name, false);
        g.tensors[t].shape = Some(vec![v.len()]);
        g.consts.insert(t, Value::Int(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[v.len()]), v.to_vec()).unwrap()));
        t
    }

    /// Shape inference of a graph whose output is `out` (the float interpreter on zeros).
    fn infer(mut g: Graph, out: usize) -> Result<Vec<usize>, String> {
        crate::passes::testutil::output(&mut g, out);
        crate::calibrate::infer_shapes(&mut g).map_err(|e| e.to_string())?;
        Ok(g.shape(out).to_vec())
    }

    /// Sizes, counts and attributes read from a model that used to panic (index out of
    /// bounds, arithmetic overflow, ndarray's broadcast and shape asserts), allocate far past
    /// the element cap or hang: each is an error naming what is wrong, checked before the work.
    #[test]
    fn hostile_sizes_and_attributes_are_errors() {
        use crate::{
            ir::Attr,
            passes::testutil::{constant, graph, node},
        };
        let scalar: &[usize] = &[];
        let fails = |g: Graph, out: usize, want: &str| {
            let e = infer(g, out).unwrap_err();
            assert!(e.contains(want), "expected `{want}` in: {e}");
        };
        // Gather on a scalar (axis 0 of rank 0)
        let mut g = graph(&[("x", scalar)]);
        let i = ints(&mut g, "i", &[0]);
        let y = node(&mut g, "Gather", &[0, i], vec![]);
        fails(g, y, "out of range for rank 0");
        // one tensor concatenated 512 times: 2^29 elements
        let mut g = graph(&[("x", &[1, 1 << 20])]);
        let y = node(&mut g, "Concat", &[0; 512], vec![("axis", Attr::Int(1))]);
        fails(g, y, "the Concat output");
        // a Gemm bias that does not broadcast, a MatMul of a scalar, a Gemm B of rank 3
        let mut g = graph(&[("x", &[1, 4])]);
        let (b, c) = (constant(&mut g, "b", &[4, 3], vec![0.0; 12]), constant(&mut g, "c", &[5], vec![0.0; 5]));
        let y = node(&mut g, "Gemm", &[0, b, c], vec![]);
        fails(g, y, "do not broadcast");
        let mut g = graph(&[("x", scalar)]);
        let b = constant(&mut g, "b", &[1, 1], vec![0.0]);
        let y = node(&mut g, "MatMul", &[0, b], vec![]);
        fails(g, y, "MatMul of a scalar");
        let mut g = graph(&[("x", &[1, 4])]);
        let b = constant(&mut g, "b", &[2, 2, 3], vec![0.0; 12]);
        let y = node(&mut g, "Gemm", &[0, b], vec![]);
        fails(g, y, "not a matrix");
        // per-channel parameters that do not match the input
        let mut g = graph(&[("x", &[4])]);
        let p: Vec<usize> = (0..4).map(|k| constant(&mut g, &format!("p{k}"), &[4], vec![1.0; 4])).collect();
        let y = node(&mut g, "BatchNormalization", &[0, p[0], p[1], p[2], p[3]], vec![]);
        fails(g, y, "rank ≥ 2");
        let mut g = graph(&[("x", &[2, 3])]);
        let s = constant(&mut g, "s", &[4], vec![1.0; 4]);
        let y = node(&mut g, "DequantizeLinear", &[0, s], vec![]);
        fails(g, y, "parameters of 4 values");
        // Slice: lists of different lengths; a step of i64::MAX takes one element
        let mut g = graph(&[("x", &[4])]);
        let (st, en) = (ints(&mut g, "st", &[0, 0]), ints(&mut g, "en", &[1]));
        let y = node(&mut g, "Slice", &[0, st, en], vec![]);
        fails(g, y, "2 starts, 1 ends");
        let mut g = graph(&[("x", &[4])]);
        let (st, en, ax, sp) =
            (ints(&mut g, "st", &[0]), ints(&mut g, "en", &[4]), ints(&mut g, "ax", &[0]), ints(&mut g, "sp", &[i64::MAX]));
        let y = node(&mut g, "Slice", &[0, st, en, ax, sp], vec![]);
        assert_eq!(infer(g, y).unwrap(), vec![1]);
        // Split sizes whose sum overflows; a Reshape whose target overflows
        let mut g = graph(&[("x", &[4])]);
        let s = ints(&mut g, "s", &[i64::MAX, i64::MAX]);
        let y = node(&mut g, "Split", &[0, s], vec![]);
        let second = g.add_tensor("second", true);
        g.nodes[0].outputs.push(second);
        fails(g, y, "do not add up to 4");
        let mut g = graph(&[("x", &[4])]);
        let s = ints(&mut g, "s", &[i64::MAX, i64::MAX]);
        let y = node(&mut g, "Reshape", &[0, s], vec![]);
        fails(g, y, "cannot reshape");
        // parameters given as graph inputs: named as such, not read as the zeros shape
        // inference feeds them
        let mut g = graph(&[("x", &[4]), ("shape", &[2])]);
        g.tensors[1].is_float = false;
        let y = node(&mut g, "Reshape", &[0, 1], vec![]);
        fails(g, y, "the target shape (input 1) must be a constant: it is the graph input `shape`");
        let mut g = graph(&[("x", &[6]), ("split", &[2])]);
        g.tensors[1].is_float = false;
        let y = node(&mut g, "Split", &[0, 1], vec![]);
        let second = g.add_tensor("second", true);
        g.nodes[0].outputs.push(second);
        fails(g, y, "the split sizes (input 1) must be a constant");
        // Unsqueeze to rank 101
        let mut g = graph(&[("x", &[1])]);
        let a = ints(&mut g, "a", &(0..100).collect::<Vec<_>>());
        let y = node(&mut g, "Unsqueeze", &[0, a], vec![]);
        fails(g, y, "rank 101");
        // an empty tensor tiled 2^40 times is empty at once; Expand past 2^32 on one axis
        let mut g = graph(&[("x", &[0, 4])]);
        let r = ints(&mut g, "r", &[1 << 40, 1]);
        let y = node(&mut g, "Tile", &[0, r], vec![]);
        assert_eq!(infer(g, y).unwrap(), vec![0, 4]);
        let mut g = graph(&[("x", &[1])]);
        let s = ints(&mut g, "s", &[1 << 33]);
        let y = node(&mut g, "Expand", &[0, s], vec![]);
        fails(g, y, "2^32 or more");
        // Conv: a group count that overflows, a bias of the wrong length
        let mut g = graph(&[("x", &[1, 2, 4, 4])]);
        let w = constant(&mut g, "w", &[1, 1, 1, 1], vec![1.0]);
        let y = node(&mut g, "Conv", &[0, w], vec![("group", Attr::Int(i64::MAX))]);
        fails(g, y, "Conv channels");
        let mut g = graph(&[("x", &[1, 1, 4, 4])]);
        let (w, b) = (constant(&mut g, "w", &[1, 1, 1, 1], vec![1.0]), constant(&mut g, "b", &[3], vec![0.0; 3]));
        let y = node(&mut g, "Conv", &[0, w, b], vec![]);
        fails(g, y, "Conv bias of 3 values");
        // pooling windows of 2^62 taps (padded to fit), and past the spec's u32 parameters
        let mut g = graph(&[("x", &[1, 1, 1, 1])]);
        let y = node(
            &mut g,
            "MaxPool",
            &[0],
            vec![
                ("kernel_shape", Attr::Ints(vec![1 << 31, 1 << 31])),
                ("strides", Attr::Ints(vec![1 << 31, 1 << 31])),
                ("pads", Attr::Ints(vec![(1 << 31) - 1; 4])),
            ],
        );
        fails(g, y, "multiply-adds");
        let mut g = graph(&[("x", &[1, 1, 1])]);
        let y = node(&mut g, "MaxPool", &[0], vec![("kernel_shape", Attr::Ints(vec![1 << 33]))]);
        fails(g, y, "each must be 1 to 2^32");
        // ConvTranspose: strides and dilations at the u32 bound give 2^66 outputs
        let mut g = graph(&[("x", &[1, 1, 2, 2])]);
        let w = constant(&mut g, "w", &[1, 1, 2, 2], vec![1.0; 4]);
        let big = Attr::Ints(vec![u32::MAX as i64; 2]);
        let y = node(&mut g, "ConvTranspose", &[0, w], vec![("strides", big.clone()), ("dilations", big)]);
        fails(g, y, "the ConvTranspose output");
        // LRN over 4096 channels with size 4096: 2^36 multiply-adds
        let mut g = graph(&[("x", &[1, 4096, 64, 64])]);
        let y = node(&mut g, "LRN", &[0], vec![("size", Attr::Int(4096))]);
        fails(g, y, "multiply-adds");
        // int64 arithmetic on constants wraps (ONNX runtimes do), never an overflow panic
        let mut g = graph(&[("x", &[1])]);
        let (a, b) = (ints(&mut g, "a", &[i64::MAX]), ints(&mut g, "b", &[1]));
        let y = node(&mut g, "Add", &[a, b], vec![]);
        assert_eq!(infer(g, y).unwrap(), vec![1]);
        // empty tensors whose other axes overflow ndarray's size
        assert!(check_elements(&[0, 1 << 62, 4], "x").unwrap_err().contains("is empty"));
        assert!(check_elements(&[1; 65], "x").unwrap_err().contains("rank 65"));
    }
}
