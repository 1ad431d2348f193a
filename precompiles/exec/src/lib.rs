//! # solidml-exec
//!
//! The executor interface: what every SolidML executor (the CPU reference, the wgpu executor,
//! the JIT to come) shares and what a node, the precompile or a test needs to drive any of
//! them without knowing which.
//!
//! * [`Value`]: a tensor's elements at run time (shapes and quantization live in the model).
//! * [`ExecError`]: the one run-time error every executor returns. Its `Display` text is
//!   consensus-relevant (the precompile returns it as revert data), so every executor must
//!   report a failure with the same variant and fields as the CPU reference.
//! * [`InputLayout`] / [`check_inputs`] / [`check_model_inputs`]: the input checks every
//!   executor performs first, in the same order (count, then per input its element count and
//!   dtype).
//! * [`index`]: the index semantics of the spec (row-major strides, numpy broadcasting, the
//!   View, Pad and Reduce walks), one definition used by every backend and by the compiler.
//! * [`Executor`] / [`PreparedModel`]: prepare a model once, run it many times. Both are
//!   `Send + Sync`, so a node shares one executor between threads. [`PreparedCache`] keeps
//!   prepared models per modelId with a bound, for hosts that run stored models by id.
//! * [`bench`]: timing any executor the same way (`solidml bench`).
//!
//! Contract: for every validated model and every input, every implementation of [`Executor`]
//! returns exactly the outputs (or exactly the [`ExecError`]) of the CPU reference executor.
//! The spec vectors (`docs/spec/vectors`) and the randomized cross-executor tests check it.

pub mod bench;
pub mod cache;
pub mod index;

use std::sync::Arc;

use solidml_spec::{DType, Model, SpecError};

pub use cache::PreparedCache;

/// A tensor's elements at run time (its shape and quantization are in the model).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// int8 codes (quantized activations).
    I8(Vec<i8>),
    /// 64-bit integers (indices, labels).
    I64(Vec<i64>),
    /// int16 codes (wide-precision activations).
    I16(Vec<i16>),
    /// int32 codes (accumulator-precision outputs).
    I32(Vec<i32>),
}

impl Value {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Value::I8(v) => v.len(),
            Value::I64(v) => v.len(),
            Value::I16(v) => v.len(),
            Value::I32(v) => v.len(),
        }
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            Value::I8(_) => DType::I8,
            Value::I64(_) => DType::I64,
            Value::I16(_) => DType::I16,
            Value::I32(_) => DType::I32,
        }
    }

    /// The int8 elements; empty for another type (validation guarantees kernels see the dtype
    /// they expect).
    pub fn as_i8(&self) -> &[i8] {
        match self {
            Value::I8(v) => v,
            _ => &[],
        }
    }

    /// The i64 elements; empty for another type.
    pub fn as_i64(&self) -> &[i64] {
        match self {
            Value::I64(v) => v,
            _ => &[],
        }
    }

    /// The int16 elements; empty for another type.
    pub fn as_i16(&self) -> &[i16] {
        match self {
            Value::I16(v) => v,
            _ => &[],
        }
    }

    /// The int32 elements; empty for another type.
    pub fn as_i32(&self) -> &[i32] {
        match self {
            Value::I32(v) => v,
            _ => &[],
        }
    }

    /// Element `i` of a quantized tensor (I8, I16 or I32) widened to i32 (the IO boundary and
    /// the wide kernels read every quantized type this way); `None` for i64 or out of range.
    pub fn code(&self, i: usize) -> Option<i32> {
        match self {
            Value::I8(v) => v.get(i).map(|&x| x as i32),
            Value::I16(v) => v.get(i).map(|&x| x as i32),
            Value::I32(v) => v.get(i).copied(),
            Value::I64(_) => None,
        }
    }

    /// A quantized tensor of type `dtype` from codes already within its range (I8, I16, I32;
    /// for I64 the codes are widened). The caller guarantees the range; values are truncated
    /// otherwise.
    pub fn from_codes(dtype: DType, codes: impl IntoIterator<Item = i64>) -> Value {
        let codes = codes.into_iter();
        match dtype {
            DType::I8 => Value::I8(codes.map(|c| c as i8).collect()),
            DType::I16 => Value::I16(codes.map(|c| c as i16).collect()),
            DType::I32 => Value::I32(codes.map(|c| c as i32).collect()),
            DType::I64 => Value::I64(codes.collect()),
        }
    }
}

/// Why a model could not be prepared or run. The same failure gives the same value in every
/// executor; [`ExecError::Backend`] is the only executor-specific variant (a device that
/// failed, a size over an adapter's limit), never produced by the CPU reference.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ExecError {
    /// The model breaks a rule of the spec (`solidml_spec::validate`).
    #[error(transparent)]
    InvalidModel(#[from] SpecError),
    /// Wrong number of inputs.
    #[error("the model takes {expected} input(s), {got} given")]
    InputCount {
        /// Inputs the model declares.
        expected: usize,
        /// Inputs given.
        got: usize,
    },
    /// An input of the wrong length or element type.
    #[error("input `{name}` expects {expected} {dtype:?} elements, got {got} {got_dtype:?} elements")]
    InputMismatch {
        /// The input tensor's name.
        name: String,
        /// Elements it holds.
        expected: usize,
        /// Its element type.
        dtype: DType,
        /// Elements given.
        got: usize,
        /// Element type given.
        got_dtype: DType,
    },
    /// An integer operation overflowed its checked range (IntBinary).
    #[error("node `{node}`: integer overflow (operand {value})")]
    Overflow {
        /// The failing node.
        node: String,
        /// The first operand out of range, in element order.
        value: i64,
    },
    /// An integer division or remainder by zero (IntBinary Div, Mod, Rem).
    #[error("node `{node}`: division by zero (operand {value})")]
    DivisionByZero {
        /// The failing node.
        node: String,
        /// The first operand of the first failing element, in element order.
        value: i64,
    },
    /// A run-time index out of its range (Take, GatherDynamic).
    #[error("node `{node}`: index {index} out of range 0..{len}")]
    IndexOutOfRange {
        /// The failing node.
        node: String,
        /// The first bad index, in element order.
        index: i64,
        /// The indexed dimension.
        len: usize,
    },
    /// An executor-specific failure (device lost, over a device limit); the message says which.
    #[error("{0}")]
    Backend(String),
}

/// What [`check_inputs`] needs of one model input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSpec {
    /// The tensor's name (for the error).
    pub name: String,
    /// Its element count.
    pub len: usize,
    /// Its element type.
    pub dtype: DType,
}

/// The input layout of a model, in input order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputLayout(pub Vec<InputSpec>);

impl InputLayout {
    /// The layout `model` declares.
    pub fn of(model: &Model) -> Self {
        InputLayout(
            model
                .inputs
                .iter()
                .map(|&id| {
                    let t = model.tensor(id);
                    InputSpec { name: t.name.clone(), len: t.len(), dtype: t.dtype }
                })
                .collect(),
        )
    }
}

/// The checks every executor makes before running: the input count, then each input's length
/// and dtype in order; the first failure is the error.
pub fn check_inputs(layout: &InputLayout, inputs: &[Value]) -> Result<(), ExecError> {
    check(layout.0.iter().map(|s| (s.name.as_str(), s.len, s.dtype)), inputs)
}

/// [`check_inputs`] against the inputs `model` declares, without building an [`InputLayout`]
/// (no allocation unless an input is wrong): for executors that run a model they borrow.
pub fn check_model_inputs(model: &Model, inputs: &[Value]) -> Result<(), ExecError> {
    check(
        model.inputs.iter().map(|&id| {
            let t = model.tensor(id);
            (t.name.as_str(), t.len(), t.dtype)
        }),
        inputs,
    )
}

/// The one definition of the input checks: `expected` gives (name, elements, dtype) per input.
fn check<'a>(expected: impl ExactSizeIterator<Item = (&'a str, usize, DType)>, inputs: &[Value]) -> Result<(), ExecError> {
    if inputs.len() != expected.len() {
        return Err(ExecError::InputCount { expected: expected.len(), got: inputs.len() });
    }
    for ((name, len, dtype), v) in expected.zip(inputs) {
        if v.len() != len || v.dtype() != dtype {
            return Err(ExecError::InputMismatch { name: name.to_string(), expected: len, dtype, got: v.len(), got_dtype: v.dtype() });
        }
    }
    Ok(())
}

/// An engine that runs SolidML models: the CPU reference, the wgpu executor, … A node picks
/// one at start-up and shares it between threads.
pub trait Executor: Send + Sync {
    /// Short name for logs and CLI output (`cpu`, `gpu (NVIDIA H200)`).
    fn name(&self) -> String;

    /// Prepare `model` once (validate it, upload or compile what the executor needs); the
    /// result runs it any number of times. Its cost grows with the model, so hosts cache it
    /// ([`PreparedCache`]).
    fn prepare(&self, model: Arc<Model>) -> Result<Arc<dyn PreparedModel>, ExecError>;
}

/// One model prepared by an [`Executor`].
pub trait PreparedModel: Send + Sync {
    /// One inference: the model's outputs in order. Checks the inputs first
    /// ([`check_inputs`]).
    fn run(&self, inputs: &[Value]) -> Result<Vec<Value>, ExecError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_checks_report_the_first_failure_in_order() {
        let layout = InputLayout(vec![
            InputSpec { name: "x".into(), len: 2, dtype: DType::I8 },
            InputSpec { name: "ids".into(), len: 1, dtype: DType::I64 },
        ]);
        assert_eq!(check_inputs(&layout, &[Value::I8(vec![1, 2])]), Err(ExecError::InputCount { expected: 2, got: 1 }));
        assert_eq!(
            check_inputs(&layout, &[Value::I8(vec![1, 2]), Value::I8(vec![3])]),
            Err(ExecError::InputMismatch { name: "ids".into(), expected: 1, dtype: DType::I64, got: 1, got_dtype: DType::I8 })
        );
        assert_eq!(
            check_inputs(&layout, &[Value::I8(vec![1]), Value::I8(vec![3])]).unwrap_err().to_string(),
            "input `x` expects 2 I8 elements, got 1 I8 elements"
        );
        assert_eq!(check_inputs(&layout, &[Value::I8(vec![1, 2]), Value::I64(vec![3])]), Ok(()));
    }

    #[test]
    fn checks_against_a_model_equal_checks_against_its_layout() {
        let t = |name: &str, shape: Vec<u32>, dtype| solidml_spec::TensorInfo { name: name.into(), shape, dtype, quant: None };
        let model = Model {
            name: "m".into(),
            tensors: vec![t("x", vec![2], DType::I8), t("ids", vec![1], DType::I64)],
            constants: vec![],
            inputs: vec![0, 1],
            outputs: vec![],
            nodes: vec![],
            input_quant: vec![],
        };
        let layout = InputLayout::of(&model);
        for inputs in [
            vec![Value::I8(vec![1, 2])],
            vec![Value::I8(vec![1, 2]), Value::I8(vec![3])],
            vec![Value::I8(vec![1]), Value::I64(vec![3])],
            vec![Value::I8(vec![1, 2]), Value::I64(vec![3])],
        ] {
            assert_eq!(check_model_inputs(&model, &inputs), check_inputs(&layout, &inputs), "{inputs:?}");
        }
    }

    #[test]
    fn value_accessors() {
        let v = Value::I64(vec![1, 2]);
        assert_eq!((v.len(), v.dtype(), v.as_i8(), v.as_i64()), (2, DType::I64, &[][..], &[1, 2][..]));
        assert!(Value::I8(vec![]).is_empty());
    }
}
