//! The compiler's error type.

/// One node the compiler cannot handle.
#[derive(Debug, Clone, PartialEq)]
pub struct UnsupportedNode {
    /// The node's name.
    pub name: String,
    /// Its ONNX `op_type`.
    pub op: String,
    /// Its domain, `""` for `ai.onnx`.
    pub domain: String,
    /// The default-domain opset the model imports.
    pub opset: i64,
    /// Why, when the op is supported in general but not in this form.
    pub reason: Option<String>,
}

impl std::fmt::Display for UnsupportedNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let domain = if self.domain.is_empty() { "ai.onnx" } else { &self.domain };
        write!(f, "node `{}`: {} (domain {domain}, opset {})", self.name, self.op, self.opset)?;
        if let Some(r) = &self.reason {
            write!(f, ": {r}")?;
        }
        Ok(())
    }
}

/// Everything the compiler can report.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// A file could not be read.
    // the OS error is part of the message, not a `source`: a report printing the source chain
    // (miette) would give the reason twice
    #[error("cannot read `{path}`: {error}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        error: std::io::Error,
    },
    /// The file is not a valid ONNX model (protobuf, graph structure, external data).
    #[error("`{path}` is not a valid ONNX model: {reason}")]
    Malformed {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Every node whose operator the compiler does not support (one report for all).
    #[error("the model has {} unsupported node(s):\n{}", .0.len(), .0.iter().map(|n| format!("  - {n}")).collect::<Vec<_>>().join("\n"))]
    Unsupported(Vec<UnsupportedNode>),
    /// A supported operator in a form or size the compiler cannot handle.
    #[error("node `{node}` ({op}): {reason}")]
    Node {
        /// The node's name.
        node: String,
        /// Its ONNX `op_type`.
        op: String,
        /// What is out of reach.
        reason: String,
    },
    /// A `.npy` file that is malformed, holds another size than its header declares, or has
    /// a dtype the reader does not take (the reason names which; [`crate::npy`]).
    #[error("{0}")]
    Npy(String),
    /// Calibration or evaluation data that does not fit the model.
    #[error("calibration data: {0}")]
    Calibration(String),
    /// tract failed to load or run the float model.
    #[error("float reference (tract): {0}")]
    Tract(String),
    /// The quantized model breaks a rule of the spec (a compiler bug if it happens).
    #[error(transparent)]
    Spec(#[from] solidml_spec::SpecError),
    /// The CPU reference failed running the quantized model.
    #[error(transparent)]
    Cpu(#[from] solidml_exec::ExecError),
    /// Another executor failed (`solidml run --backend`).
    #[error("executor: {0}")]
    Executor(String),
}

impl CompileError {
    /// A [`CompileError::Node`] for `node`.
    pub fn node(node: &crate::ir::Node, reason: impl Into<String>) -> Self {
        CompileError::Node { node: node.name.clone(), op: node.op.clone(), reason: reason.into() }
    }
}

/// The compiler's result type.
pub type Result<T, E = CompileError> = std::result::Result<T, E>;
