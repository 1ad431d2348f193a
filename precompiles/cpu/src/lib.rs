//! # solidml-cpu
//!
//! The CPU reference executor. Each operator lives in its own file under [`ops`], written
//! straight from its definition in `docs/spec.md` with the primitives of
//! [`solidml_spec::arith`]; nothing here is tuned at the cost of readability. It is the
//! executor every other one (EVM, WGSL) is checked against.
//!
//! ```no_run
//! # fn demo(bytes: &[u8], x: Vec<i8>) -> Result<(), Box<dyn std::error::Error>> {
//! let model = solidml_spec::decode(bytes)?;
//! let outputs = solidml_cpu::CpuExecutor::new(&model)?.run(&[solidml_cpu::Value::I8(x)])?;
//! # Ok(()) }
//! ```

pub mod index;
pub mod ops;

use solidml_spec::{ConstData, DType, Model, SpecError, validate::validate};

/// A tensor's elements at run time (its shape and quantization are in the model).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    I8(Vec<i8>),
    I64(Vec<i64>),
}

impl Value {
    pub fn len(&self) -> usize {
        match self {
            Value::I8(v) => v.len(),
            Value::I64(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn dtype(&self) -> DType {
        match self {
            Value::I8(_) => DType::I8,
            Value::I64(_) => DType::I64,
        }
    }
    pub fn as_i8(&self) -> &[i8] {
        match self {
            Value::I8(v) => v,
            Value::I64(_) => &[],
        }
    }
    pub fn as_i64(&self) -> &[i64] {
        match self {
            Value::I64(v) => v,
            Value::I8(_) => &[],
        }
    }
}

/// Errors of the CPU executor.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CpuError {
    #[error(transparent)]
    InvalidModel(#[from] SpecError),
    #[error("the model takes {expected} input(s), {got} given")]
    InputCount { expected: usize, got: usize },
    #[error("input `{name}` expects {expected} {dtype:?} elements, got {got} {got_dtype:?} elements")]
    InputMismatch { name: String, expected: usize, dtype: DType, got: usize, got_dtype: DType },
    #[error("node `{node}`: integer overflow (operand {value})")]
    Overflow { node: String, value: i64 },
    #[error("node `{node}`: index {index} out of range 0..{len}")]
    IndexOutOfRange { node: String, index: i64, len: usize },
}

/// Runs a validated model on the CPU.
pub struct CpuExecutor<'m> {
    model: &'m Model,
}

impl<'m> CpuExecutor<'m> {
    /// Validate the model once; [`CpuExecutor::run`] can then be called any number of times.
    pub fn new(model: &'m Model) -> Result<Self, CpuError> {
        validate(model)?;
        Ok(CpuExecutor { model })
    }

    /// An executor for a model that has already passed [`validate`] (for example one decoded
    /// from an artifact, which `solidml_spec::decode` validates): skips re-validating, whose
    /// cost grows with the weights. Given an unvalidated model, `run` may panic on an index.
    pub fn for_validated(model: &'m Model) -> Self {
        CpuExecutor { model }
    }

    /// Run one inference; returns the model's outputs in order.
    pub fn run(&self, inputs: &[Value]) -> Result<Vec<Value>, CpuError> {
        Ok(self.run_traced(inputs)?.1)
    }

    /// Run one inference and also return every tensor's value (indexed by tensor id;
    /// `None` for tensors never computed). Used for per-layer comparison and debugging.
    pub fn run_traced(&self, inputs: &[Value]) -> Result<(Vec<Option<Value>>, Vec<Value>), CpuError> {
        let m = self.model;
        if inputs.len() != m.inputs.len() {
            return Err(CpuError::InputCount { expected: m.inputs.len(), got: inputs.len() });
        }
        let mut values: Vec<Option<Value>> = vec![None; m.tensors.len()];
        for (&id, v) in m.inputs.iter().zip(inputs) {
            let t = m.tensor(id);
            if v.len() != t.len() || v.dtype() != t.dtype {
                return Err(CpuError::InputMismatch {
                    name: t.name.clone(),
                    expected: t.len(),
                    dtype: t.dtype,
                    got: v.len(),
                    got_dtype: v.dtype(),
                });
            }
            values[id as usize] = Some(v.clone());
        }
        for (id, c) in &m.constants {
            values[*id as usize] = Some(match c {
                ConstData::I8(v) => Value::I8(v.clone()),
                ConstData::I64(v) => Value::I64(v.clone()),
            });
        }
        for node in &m.nodes {
            // validation guarantees every input is defined before use
            let args: Vec<&Value> = node.inputs.iter().map(|&i| values[i as usize].as_ref().expect("validated")).collect();
            let outs = ops::eval(m, node, &args)?;
            for (&o, v) in node.outputs.iter().zip(outs) {
                values[o as usize] = Some(v);
            }
        }
        let outputs = m.outputs.iter().map(|&o| values[o as usize].clone().expect("validated")).collect();
        Ok((values, outputs))
    }
}
