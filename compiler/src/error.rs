//! The compiler's error type.

/// One node the compiler cannot handle.
#[derive(Debug, Clone, PartialEq)]
pub struct UnsupportedNode {
    pub name: String,
    pub op: String,
    pub domain: String,
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

#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("cannot read `{path}`: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("`{path}` is not a valid ONNX model: {reason}")]
    Malformed { path: String, reason: String },
    #[error("the model has {} unsupported node(s):\n{}", .0.len(), .0.iter().map(|n| format!("  - {n}")).collect::<Vec<_>>().join("\n"))]
    Unsupported(Vec<UnsupportedNode>),
    #[error("node `{node}` ({op}): {reason}")]
    Node { node: String, op: String, reason: String },
    #[error("calibration data: {0}")]
    Calibration(String),
    #[error("float reference (tract): {0}")]
    Tract(String),
    #[error(transparent)]
    Spec(#[from] solidml_spec::SpecError),
    #[error(transparent)]
    Cpu(#[from] solidml_exec::ExecError),
    #[error("executor: {0}")]
    Executor(String),
}

impl CompileError {
    pub fn node(node: &crate::ir::Node, reason: impl Into<String>) -> Self {
        CompileError::Node { node: node.name.clone(), op: node.op.clone(), reason: reason.into() }
    }
}

pub type Result<T, E = CompileError> = std::result::Result<T, E>;
