//! # solidml-jit
//!
//! SolidML's fast CPU executor: each model is specialized once, at prepare, into a plan whose
//! hot operators run on exact int8 microkernels, and is bit-exact with the CPU reference (the
//! readable definition).
//!
//! * **Specialized** (`src/ops/`, one file per operator): Conv and Dense as GEMMs (`gemm.rs`)
//!   — weights pre-packed for the inner kernel, the input zero point folded into the bias, the
//!   tap table of each convolution computed once (no whole im2col matrix), the requantization
//!   vectorized per tile row (`epilogue.rs`); depthwise convolutions directly; the pools,
//!   Reduce, Lut, Concat, Add/Sub/Mul and Max/Min row by row over layouts computed at prepare.
//!   The tile kernel is AVX-512 VNNI (`vpdpwssd`) or AVX2 (`vpmaddwd`), the fastest the CPU
//!   reports at run time, or portable Rust, and the crate's loops are compiled for AVX2 on
//!   CPUs that have it (`Kernel::run`); integer sums are exact whatever the instruction, so
//!   every kernel gives the same bytes.
//! * **Native code** (`codegen.rs`): loop nests whose every extent is known at prepare are
//!   compiled with cranelift for the node alone — trip counts, strides and tap offsets
//!   immediate, taps unrolled, 16 outputs per 128-bit vector: today the 2-D MaxPool planes
//!   ([`JitBackend::with_codegen`] turns it off).
//! * **Everything else** runs on a fallback executor given by the host
//!   ([`JitBackend::with_fallback`], the CPU reference in `solidml-backends`), one node at a
//!   time as a one-node model — this crate depends on the executor interface only. Without a
//!   fallback, a model with such a node is refused.
//! * **Bounded**: a node whose plan would hold more than [`JitBackend::with_max_plan_bytes`]
//!   bytes, or would take the model's plans past [`JitBackend::with_max_model_bytes`], is not
//!   specialized (it runs on the fallback), so preparing costs time and memory linear in the
//!   model and capped per node and per model (hosts keep prepared models in a
//!   `solidml_exec::PreparedCache`, bounded in models).
//!
//! Still to come: cranelift code for more loop nests (the convolution's patch gather, the
//! pools' sums), the remaining operators. Contract: the one of [`solidml_exec`] — for every
//! validated model and input, the outputs (or the [`ExecError`]) of the CPU reference; without
//! a fallback, a model with a node the JIT leaves to one is refused with
//! [`ExecError::Backend`] instead.

mod codegen;
mod epilogue;
mod gemm;
mod ops;

use std::{borrow::Cow, sync::Arc};

use solidml_exec::{ExecError, Executor, PreparedModel, Value, check_model_inputs};
use solidml_spec::{ConstData, Model, Node, TensorId, validate::validate};

pub use gemm::Kernel;

pub use ops::ON_FALLBACK;

/// Whether the JIT specializes `op` (its spec operator is not [`ON_FALLBACK`]); a node of such
/// an op is still left to the fallback when its plan would pass the size cap.
pub fn specializes(op: &solidml_spec::Op) -> bool {
    !ON_FALLBACK.contains(&op.section())
}

/// Default cap of one node's plan: 256 MiB (packed weights and tap tables).
pub const DEFAULT_MAX_PLAN_BYTES: usize = 256 << 20;

/// Default cap of one model's plans: 1 GiB.
pub const DEFAULT_MAX_MODEL_BYTES: usize = 1 << 30;

/// The JIT behind the [`Executor`] interface.
#[derive(Clone)]
pub struct JitBackend {
    fallback: Option<Arc<dyn Executor>>,
    kernel: Kernel,
    max_plan_bytes: usize,
    max_model_bytes: usize,
    codegen: bool,
}

impl Default for JitBackend {
    fn default() -> Self {
        JitBackend::new()
    }
}

impl JitBackend {
    /// A JIT with the fastest kernel of this CPU and no fallback.
    pub fn new() -> JitBackend {
        JitBackend {
            fallback: None,
            kernel: Kernel::detect(),
            max_plan_bytes: DEFAULT_MAX_PLAN_BYTES,
            max_model_bytes: DEFAULT_MAX_MODEL_BYTES,
            codegen: true,
        }
    }

    /// Whether to compile loop nests to native code with cranelift (on by default; off, the
    /// same nodes run the crate's Rust loops — the tests compare both).
    pub fn with_codegen(mut self, codegen: bool) -> JitBackend {
        self.codegen = codegen;
        self
    }

    /// Run the nodes the JIT does not specialize on `fallback`, one node at a time.
    pub fn with_fallback(mut self, fallback: Arc<dyn Executor>) -> JitBackend {
        self.fallback = Some(fallback);
        self
    }

    /// Use this tile kernel (the tests compare every kernel the CPU runs).
    ///
    /// # Panics
    ///
    /// When this CPU cannot run `kernel` (not in [`Kernel::available`]).
    pub fn with_kernel(mut self, kernel: Kernel) -> JitBackend {
        assert!(Kernel::available().contains(&kernel), "this CPU cannot run the {kernel:?} tile kernel");
        self.kernel = kernel;
        self
    }

    /// Specialize no node whose plan takes more than `bytes`.
    pub fn with_max_plan_bytes(mut self, bytes: usize) -> JitBackend {
        self.max_plan_bytes = bytes;
        self
    }

    /// Specialize no more nodes once the model's plans hold `bytes`.
    pub fn with_max_model_bytes(mut self, bytes: usize) -> JitBackend {
        self.max_model_bytes = bytes;
        self
    }

    /// Validate and specialize `model`; [`JitModel::summary`] says which nodes were
    /// specialized.
    pub fn compile(&self, model: Arc<Model>) -> Result<JitModel, ExecError> {
        validate(&model)?;
        let mut steps = Vec::with_capacity(model.nodes.len());
        let mut held = 0usize;
        for node in &model.nodes {
            let budget = self.max_plan_bytes.min(self.max_model_bytes.saturating_sub(held));
            let step = match ops::compile(&model, node, budget, self.codegen) {
                Ok(plan) => {
                    held += plan.bytes();
                    Step::Plan(Box::new(plan))
                }
                Err(why) => {
                    let Some(fallback) = &self.fallback else {
                        return Err(ExecError::Backend(match why {
                            ops::NotCompiled::Op(op) => format!("the JIT has no kernel for {op} (node `{}`) and no fallback", node.name),
                            ops::NotCompiled::TooLarge { bytes } => {
                                format!("node `{}` would take {bytes} bytes in the JIT, over its cap, and there is no fallback", node.name)
                            }
                        }));
                    };
                    let (sub, inputs) = single_node_model(&model, node);
                    Step::Fallback { prepared: fallback.prepare(Arc::new(sub))?, inputs }
                }
            };
            steps.push(step);
        }
        let constants = model
            .constants
            .iter()
            .map(|(id, c)| {
                (
                    *id,
                    match c {
                        ConstData::I8(v) => Value::I8(v.clone()),
                        ConstData::I64(v) => Value::I64(v.clone()),
                    },
                )
            })
            .collect();
        Ok(JitModel { model, steps, constants, kernel: self.kernel })
    }
}

impl Executor for JitBackend {
    fn name(&self) -> String {
        format!("jit ({:?})", self.kernel).to_lowercase()
    }

    fn prepare(&self, model: Arc<Model>) -> Result<Arc<dyn PreparedModel>, ExecError> {
        Ok(Arc::new(self.compile(model)?))
    }
}

/// How one node runs.
enum Step {
    /// Specialized by the JIT.
    Plan(Box<ops::Plan>),
    /// On the fallback executor, as a one-node model whose inputs are `inputs`.
    Fallback { prepared: Arc<dyn PreparedModel>, inputs: Vec<TensorId> },
}

/// A model specialized by [`JitBackend`].
pub struct JitModel {
    model: Arc<Model>,
    steps: Vec<Step>,
    constants: Vec<(TensorId, Value)>,
    kernel: Kernel,
}

impl JitModel {
    /// `(specialized nodes, nodes on the fallback, bytes the plans hold)`.
    pub fn summary(&self) -> (usize, usize, usize) {
        let plans: Vec<&ops::Plan> = self.steps.iter().filter_map(|s| if let Step::Plan(p) = s { Some(&**p) } else { None }).collect();
        (plans.len(), self.steps.len() - plans.len(), plans.iter().map(|p| p.bytes()).sum())
    }
}

/// The time one node took: `(node name, op, wall time)`.
pub type NodeTime = (String, &'static str, std::time::Duration);

impl JitModel {
    /// One inference that also times each node: `(node name, op, wall time)` in node order
    /// (`solidml bench --profile`).
    pub fn run_profiled(&self, inputs: &[Value]) -> Result<(Vec<Value>, Vec<NodeTime>), ExecError> {
        let mut times = Vec::with_capacity(self.steps.len());
        let outs = self.run_inner(inputs, Some(&mut times))?;
        Ok((outs, times))
    }

    fn run_inner(&self, inputs: &[Value], mut times: Option<&mut Vec<NodeTime>>) -> Result<Vec<Value>, ExecError> {
        let m = &self.model;
        check_model_inputs(m, inputs)?;
        let mut values: Vec<Option<Cow<'_, Value>>> = vec![None; m.tensors.len()];
        for (&id, v) in m.inputs.iter().zip(inputs) {
            values[id as usize] = Some(Cow::Borrowed(v));
        }
        for (id, v) in &self.constants {
            values[*id as usize] = Some(Cow::Borrowed(v));
        }
        for (node, step) in m.nodes.iter().zip(&self.steps) {
            let start = times.as_ref().map(|_| std::time::Instant::now());
            let outs = match step {
                Step::Plan(plan) => {
                    let args: Vec<&Value> = node.inputs.iter().map(|&i| values[i as usize].as_deref().expect("validated")).collect();
                    vec![plan.run(self.kernel, &args)?]
                }
                Step::Fallback { prepared, inputs } => {
                    let args: Vec<Value> = inputs.iter().map(|&i| values[i as usize].as_deref().expect("validated").clone()).collect();
                    prepared.run(&args)?
                }
            };
            if let (Some(t), Some(start)) = (times.as_deref_mut(), start) {
                t.push((node.name.clone(), node.op.kind(), start.elapsed()));
            }
            for (&o, v) in node.outputs.iter().zip(outs) {
                values[o as usize] = Some(Cow::Owned(v));
            }
        }
        // outputs move out of the table (a tensor listed twice, or an input, is copied)
        let mut outputs: Vec<Value> = Vec::with_capacity(m.outputs.len());
        for (i, &o) in m.outputs.iter().enumerate() {
            let v = match m.outputs[..i].iter().position(|&p| p == o) {
                Some(first) => outputs[first].clone(),
                None => values[o as usize].take().expect("validated").into_owned(),
            };
            outputs.push(v);
        }
        Ok(outputs)
    }
}

impl PreparedModel for JitModel {
    fn run(&self, inputs: &[Value]) -> Result<Vec<Value>, ExecError> {
        self.run_inner(inputs, None)
    }
}

/// `node` as a model of its own: its non-constant inputs (first occurrence order) are the
/// model's inputs, the constants it reads stay constants, its outputs are the outputs. Returns
/// the model and the original ids of its inputs.
fn single_node_model(model: &Model, node: &Node) -> (Model, Vec<TensorId>) {
    let mut ids: Vec<TensorId> = vec![];
    let local = |id: TensorId, ids: &mut Vec<TensorId>| match ids.iter().position(|&x| x == id) {
        Some(i) => i as TensorId,
        None => {
            ids.push(id);
            (ids.len() - 1) as TensorId
        }
    };
    let inputs: Vec<TensorId> = node.inputs.iter().map(|&i| local(i, &mut ids)).collect();
    let outputs: Vec<TensorId> = node.outputs.iter().map(|&o| local(o, &mut ids)).collect();
    let constant = |id: TensorId| model.constants.iter().find(|(c, _)| *c == id).map(|(_, d)| d.clone());
    let mut sub = Model::empty(&model.name);
    sub.tensors = ids.iter().map(|&i| model.tensor(i).clone()).collect();
    let mut bound = vec![];
    for (&local_id, &orig) in inputs.iter().zip(&node.inputs) {
        if sub.inputs.contains(&local_id) || sub.constants.iter().any(|(c, _)| *c == local_id) {
            continue;
        }
        match constant(orig) {
            Some(data) => sub.constants.push((local_id, data)),
            None => {
                sub.inputs.push(local_id);
                bound.push(orig);
            }
        }
    }
    sub.nodes = vec![Node { name: node.name.clone(), op: node.op.clone(), inputs, outputs: outputs.clone() }];
    sub.outputs = outputs;
    (sub, bound)
}
