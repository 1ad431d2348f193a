//! The supported operator list: one place, used by the unsupported-model report and the docs.

/// `(domain, op)` pairs the compiler imports (the empty domain is `ai.onnx`). Some are
/// supported in restricted forms (constant weights, constant repeats, …): the quantizer says
/// which form failed.
pub const SUPPORTED_OPS: &[(&str, &str)] = &[
    ("", "Abs"),
    ("", "Add"),
    ("", "ArgMax"),
    ("", "AveragePool"),
    ("", "BatchNormalization"),
    ("", "Cast"),
    ("", "Ceil"),
    ("", "Clip"),
    ("", "Concat"),
    ("", "Constant"),
    ("", "ConstantOfShape"),
    ("", "Conv"),
    ("", "ConvTranspose"),
    ("", "Cos"),
    ("", "DequantizeLinear"),
    ("", "Div"),
    ("", "Dropout"),
    ("", "Elu"),
    ("", "Erf"),
    ("", "Exp"),
    ("", "Expand"),
    ("", "Flatten"),
    ("", "Floor"),
    ("", "Gather"),
    ("", "Gelu"),
    ("", "Gemm"),
    ("", "GlobalAveragePool"),
    ("", "GlobalMaxPool"),
    ("", "HardSigmoid"),
    ("", "HardSwish"),
    ("", "Identity"),
    ("", "InstanceNormalization"),
    ("", "LeakyRelu"),
    ("", "LRN"),
    ("", "Log"),
    ("", "LogSoftmax"),
    ("", "MatMul"),
    ("", "Max"),
    ("", "MaxPool"),
    ("", "Min"),
    ("", "Mul"),
    ("", "Neg"),
    ("", "Pad"),
    ("", "Pow"),
    ("", "QuantizeLinear"),
    ("", "PRelu"),
    ("", "Range"),
    ("", "Reciprocal"),
    ("", "ReduceMax"),
    ("", "ReduceMean"),
    ("", "ReduceMin"),
    ("", "ReduceSum"),
    ("", "Relu"),
    ("", "Reshape"),
    ("", "Round"),
    ("", "Selu"),
    ("", "Shape"),
    ("", "Sigmoid"),
    ("", "Sign"),
    ("", "Sin"),
    ("", "Size"),
    ("", "Slice"),
    ("", "Softmax"),
    ("", "Softplus"),
    ("", "Softsign"),
    ("", "Split"),
    ("", "Sqrt"),
    ("", "Squeeze"),
    ("", "Sub"),
    ("", "Sum"),
    ("", "Tanh"),
    ("", "Tile"),
    ("", "Transpose"),
    ("", "Unsqueeze"),
    ("ai.onnx.ml", "ArrayFeatureExtractor"),
    ("ai.onnx.ml", "Cast"),
    ("ai.onnx.ml", "LinearClassifier"),
    ("ai.onnx.ml", "LinearRegressor"),
    ("ai.onnx.ml", "Normalizer"),
    ("ai.onnx.ml", "Scaler"),
];

pub fn is_supported(domain: &str, op: &str) -> bool {
    let d = if domain == "ai.onnx" { "" } else { domain };
    SUPPORTED_OPS.iter().any(|&(sd, so)| sd == d && so == op)
}

/// Where the list is documented for users.
pub const SUPPORTED_DOC: &str = "docs/operators.md";

/// Every node of the graph whose op is not in [`SUPPORTED_OPS`].
pub fn unsupported_nodes(g: &crate::ir::Graph) -> Vec<crate::UnsupportedNode> {
    g.nodes
        .iter()
        .filter(|n| !is_supported(&n.domain, &n.op))
        .map(|n| crate::UnsupportedNode { name: n.name.clone(), op: n.op.clone(), domain: n.domain.clone(), opset: g.opset, reason: None })
        .collect()
}
