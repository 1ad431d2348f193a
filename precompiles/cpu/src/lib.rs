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
//! let outputs = solidml_cpu::CpuExecutor::new(&model)?.run(&[solidml_exec::Value::I8(x)])?;
//! # Ok(()) }
//! ```

pub mod ops;

use std::sync::Arc;

use solidml_exec::{ExecError, Executor, PreparedModel, Value, check_model_inputs};
use solidml_spec::{ConstData, Model, validate::validate};

/// Runs a validated model on the CPU.
pub struct CpuExecutor<'m> {
    model: &'m Model,
}

impl<'m> CpuExecutor<'m> {
    /// Validate the model once; [`CpuExecutor::run`] can then be called any number of times.
    pub fn new(model: &'m Model) -> Result<Self, ExecError> {
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
    pub fn run(&self, inputs: &[Value]) -> Result<Vec<Value>, ExecError> {
        Ok(self.run_traced(inputs)?.1)
    }

    /// Run one inference and also return every tensor's value (indexed by tensor id;
    /// `None` for tensors never computed). Used for per-layer comparison and debugging.
    pub fn run_traced(&self, inputs: &[Value]) -> Result<(Vec<Option<Value>>, Vec<Value>), ExecError> {
        let m = self.model;
        check_model_inputs(m, inputs)?;
        let mut values: Vec<Option<Value>> = vec![None; m.tensors.len()];
        for (&id, v) in m.inputs.iter().zip(inputs) {
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

/// The CPU reference behind the [`Executor`] interface: preparing validates the model once.
#[derive(Debug, Default, Clone, Copy)]
pub struct CpuBackend;

/// A model prepared by [`CpuBackend`].
struct CpuPrepared(Arc<Model>);

impl Executor for CpuBackend {
    fn name(&self) -> String {
        "cpu".into()
    }

    fn prepare(&self, model: Arc<Model>) -> Result<Arc<dyn PreparedModel>, ExecError> {
        validate(&model)?;
        Ok(Arc::new(CpuPrepared(model)))
    }
}

impl PreparedModel for CpuPrepared {
    fn run(&self, inputs: &[Value]) -> Result<Vec<Value>, ExecError> {
        CpuExecutor::for_validated(&self.0).run(inputs)
    }
}
