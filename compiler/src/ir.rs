//! The graph IR the passes work on.
//!
//! ONNX's graph, normalised: tensors are numbered, attribute values typed ([`Attr`]), constants
//! (initializers, `Constant` nodes, folded subgraphs) are values in [`Graph::consts`], and every
//! tensor gets a static shape once [`crate::calibrate::infer_shapes`] has run.
//!
//! Ops stay ONNX's `(domain, op)` strings (passes create and match nodes by name) and keep
//! ONNX's semantics, so every pass is checked against the float interpreter ([`crate::float`])
//! with the very same semantics. What an op means comes from the op registry ([`crate::ops`]):
//! [`Node::def`] is a node's entry, and its family module parses the attributes into a typed
//! struct where the op is evaluated or lowered; the node itself keeps the raw attributes.

use std::collections::HashMap;

use ndarray::ArrayD;

/// Index into [`Graph::tensors`].
pub type Tid = usize;

/// A value: float or integer (ONNX bool and all integer types become `Int`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// ONNX float, double and half tensors, as `f32`.
    Float(ArrayD<f32>),
    /// ONNX integer and bool tensors, as `i64`.
    Int(ArrayD<i64>),
}

impl Value {
    /// The tensor's shape.
    pub fn shape(&self) -> Vec<usize> {
        match self {
            Value::Float(a) => a.shape().to_vec(),
            Value::Int(a) => a.shape().to_vec(),
        }
    }
    /// The elements as `f32` (integers converted).
    pub fn to_f32(&self) -> ArrayD<f32> {
        match self {
            Value::Float(a) => a.clone(),
            Value::Int(a) => a.mapv(|v| v as f32),
        }
    }
    /// The elements as `i64` (floats truncated toward zero, as ONNX Cast does).
    pub fn to_i64(&self) -> ArrayD<i64> {
        match self {
            Value::Float(a) => a.mapv(|v| v as i64),
            Value::Int(a) => a.clone(),
        }
    }
    /// Whether this is a float tensor.
    pub fn is_float(&self) -> bool {
        matches!(self, Value::Float(_))
    }
}

/// A typed attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    /// `INT`.
    Int(i64),
    /// `FLOAT`.
    Float(f32),
    /// `INTS`.
    Ints(Vec<i64>),
    /// `FLOATS`.
    Floats(Vec<f32>),
    /// `STRING` (UTF-8).
    Str(String),
    /// `STRINGS`.
    Strs(Vec<String>),
    /// `TENSOR` (a `Constant` node's value).
    Tensor(Value),
}

/// A tensor of the graph: its ONNX name and what is known of its type and shape.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorDef {
    /// The ONNX tensor name (unique in the graph).
    pub name: String,
    /// Static shape, once known.
    pub shape: Option<Vec<usize>>,
    /// Declared element type is float (ONNX float, double, half), as opposed to integer/bool.
    pub is_float: bool,
    /// ONNX element type of a constant or graph input (`TensorProto.DataType`), 0 when
    /// unknown; QDQ zero points need it (int8 and uint8 saturate differently), Attention its
    /// boolean masks.
    pub onnx_type: i32,
}

/// An ONNX node: its operator (resolved through the op registry by [`Node::def`]), typed
/// attributes and tensor ids.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The node's name (generated when the ONNX file has none), used in error messages.
    pub name: String,
    /// The ONNX `op_type`.
    pub op: String,
    /// The operator's domain, `""` for `ai.onnx`.
    pub domain: String,
    /// Attributes by name.
    pub attrs: HashMap<String, Attr>,
    /// `None` for an omitted optional input.
    pub inputs: Vec<Option<Tid>>,
    /// Output tensors.
    pub outputs: Vec<Tid>,
}

impl Node {
    /// The attribute `k`, if set.
    pub fn attr(&self, k: &str) -> Option<&Attr> {
        self.attrs.get(k)
    }
    /// The `INT` attribute `k`, or `default` when unset.
    pub fn int(&self, k: &str, default: i64) -> i64 {
        match self.attrs.get(k) {
            Some(Attr::Int(i)) => *i,
            _ => default,
        }
    }
    /// The `FLOAT` attribute `k` (an `INT` converted), or `default` when unset.
    pub fn float(&self, k: &str, default: f32) -> f32 {
        match self.attrs.get(k) {
            Some(Attr::Float(f)) => *f,
            Some(Attr::Int(i)) => *i as f32,
            _ => default,
        }
    }
    /// The `INTS` attribute `k` (a single `INT` as one element).
    pub fn ints(&self, k: &str) -> Option<Vec<i64>> {
        match self.attrs.get(k) {
            Some(Attr::Ints(v)) => Some(v.clone()),
            Some(Attr::Int(i)) => Some(vec![*i]),
            _ => None,
        }
    }
    /// The `FLOATS` attribute `k` (a single `FLOAT` as one element).
    pub fn floats(&self, k: &str) -> Option<Vec<f32>> {
        match self.attrs.get(k) {
            Some(Attr::Floats(v)) => Some(v.clone()),
            Some(Attr::Float(f)) => Some(vec![*f]),
            _ => None,
        }
    }
    /// The `STRING` attribute `k`, or `default` when unset.
    pub fn str(&self, k: &str, default: &str) -> String {
        match self.attrs.get(k) {
            Some(Attr::Str(s)) => s.clone(),
            _ => default.to_string(),
        }
    }
    /// Input `i`, `None` when omitted or absent.
    pub fn input(&self, i: usize) -> Option<Tid> {
        self.inputs.get(i).copied().flatten()
    }
    /// The op's registry entry (`None` for an unsupported op).
    pub fn def(&self) -> Option<&'static crate::ops::OpDef> {
        crate::ops::lookup(&self.domain, &self.op)
    }
}

/// The graph.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// The graph's (model's) name.
    pub name: String,
    /// Every tensor, indexed by [`Tid`].
    pub tensors: Vec<TensorDef>,
    /// Constant values: initializers, `Constant` nodes and folded subgraphs.
    pub consts: HashMap<Tid, Value>,
    /// Nodes in topological order.
    pub nodes: Vec<Node>,
    /// Run-time inputs (initializers excluded), in ONNX order.
    pub inputs: Vec<Tid>,
    /// Graph outputs, in ONNX order.
    pub outputs: Vec<Tid>,
    /// The ONNX names of the graph outputs (kept when a pass rewires an output).
    pub output_names: Vec<String>,
    /// Default-domain opset the model imports.
    pub opset: i64,
    /// Quantization the model itself prescribes for a tensor (QDQ models: the scale and zero
    /// point of a QuantizeLinear/DequantizeLinear pair), used instead of calibrated ranges.
    pub prescribed: HashMap<Tid, solidml_spec::Quant>,
    /// Constants that a DequantizeLinear of 8-bit integer codes produced (the weights of QDQ
    /// and QOperator models), recorded by `passes::qdq::weight_grids` before constant folding
    /// turns them into reals: the lowering can then use the model's own integers, once it has
    /// checked that the values still lie on the grid.
    pub grids: HashMap<Tid, Grid>,
}

/// The integer grid of a constant: its values are `(c − zero_point) · scale` for int8 codes `c`
/// (uint8 codes shifted by −128, with their zero point), one quantization for the whole tensor
/// or one per index along `axis`.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// The axis of per-axis parameters; `None` for one quantization.
    pub axis: Option<usize>,
    /// One per index along `axis`, or one.
    pub params: Vec<solidml_spec::Quant>,
}

impl Graph {
    /// A new tensor named `name`; its shape is unknown until shape inference.
    pub fn add_tensor(&mut self, name: &str, is_float: bool) -> Tid {
        self.tensors.push(TensorDef { name: name.to_string(), shape: None, is_float, onnx_type: 0 });
        self.tensors.len() - 1
    }
    /// Tensor `t`'s ONNX name.
    pub fn name(&self, t: Tid) -> &str {
        &self.tensors[t].name
    }
    /// Tensor `t`'s static shape (empty before shape inference).
    pub fn shape(&self, t: Tid) -> &[usize] {
        self.tensors[t].shape.as_deref().unwrap_or(&[])
    }
    /// Whether tensor `t` has a constant value.
    pub fn is_const(&self, t: Tid) -> bool {
        self.consts.contains_key(&t)
    }
    /// Number of nodes reading each tensor (graph outputs count as readers).
    pub fn consumers(&self) -> HashMap<Tid, usize> {
        let mut c = HashMap::new();
        for n in &self.nodes {
            for t in n.inputs.iter().flatten() {
                *c.entry(*t).or_insert(0) += 1;
            }
        }
        for &o in &self.outputs {
            *c.entry(o).or_insert(0) += 1;
        }
        c
    }
    /// Remove node `i`, whose first output equals its first input, forwarding that input to
    /// every reader (graph outputs keep their ONNX names through `output_names`).
    pub fn bypass(&mut self, i: usize) {
        let n = self.nodes.remove(i);
        let (from, to) = (n.outputs[0], n.input(0).expect("bypassed nodes have an input"));
        for o in self.outputs.iter_mut() {
            if *o == from {
                *o = to;
            }
        }
        self.replace_uses(from, to);
    }

    /// Replace every use of `from` by `to` (node inputs and graph outputs keep their order).
    pub fn replace_uses(&mut self, from: Tid, to: Tid) {
        for n in &mut self.nodes {
            for t in n.inputs.iter_mut().flatten() {
                if *t == from {
                    *t = to;
                }
            }
        }
    }
}
