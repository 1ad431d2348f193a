//! One traced inference: every step's output bytes, their leaves and the commitment
//! (docs/verification.md §Trace), computed with the CPU reference (the executors agree byte
//! for byte, so the trace is the same whichever one a party trusts), and the `.trace` file
//! `solidml trace` writes.
//!
//! File format: the magic `SOLIDMLT`, a `u16` big-endian version (1), then the postcard
//! encoding of [`TraceFile`]. A file is checked against its model on reading: the modelId, the
//! step count and every step's length must match the plan.

use serde::{Deserialize, Serialize};
use solidml_exec::Value;
use solidml_precompile::abi::pack_values;
use solidml_spec::Model;

use crate::{
    TraceError,
    merkle::{Hash, Tree, leaf, split_level},
    plan::{Plan, StepKind},
};

/// The magic at the start of a `.trace` file.
pub const MAGIC: &[u8; 8] = b"SOLIDMLT";
/// The file format version this build writes and reads.
pub const VERSION: u16 = 1;

/// What a `.trace` file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceFile {
    /// The model's id (keccak256 of its artifact).
    pub model_id: Hash,
    /// Each step's output bytes, in step order.
    pub steps: Vec<Vec<u8>>,
}

/// A traced inference with its tree.
#[derive(Debug, Clone)]
pub struct Trace {
    /// The file's contents.
    pub file: TraceFile,
    /// The tree over the steps' leaves.
    pub tree: Tree,
}

fn packed(v: &Value) -> Vec<u8> {
    pack_values(std::slice::from_ref(v))
}

impl Trace {
    /// Run `model` on `inputs` with the CPU reference and record every step.
    pub fn run(model: &Model, model_id: Hash, plan: &Plan, inputs: &[Value]) -> Result<Trace, TraceError> {
        solidml_exec::check_model_inputs(model, inputs)?;
        let (values, outputs) = match solidml_cpu::CpuExecutor::for_validated(model).run_traced(inputs) {
            Ok(run) => run,
            // a run-time error of the model (an index out of range, an int64 overflow)
            Err(_) => return Ok(Trace::failing(model, model_id, plan, inputs)),
        };
        let mut steps = Vec::with_capacity(plan.steps.len());
        let mut packed_tensors: Vec<Option<Vec<u8>>> = vec![None; values.len()];
        for step in &plan.steps {
            steps.push(match &step.kind {
                StepKind::Input => pack_values(inputs),
                StepKind::Output => pack_values(&outputs),
                StepKind::Node { node, .. } => {
                    let t = model.nodes[*node].outputs[0];
                    let v = values[t as usize].as_ref().expect("every node output is computed");
                    let bytes = packed_tensors[t as usize].get_or_insert_with(|| packed(v));
                    step.segments.iter().flat_map(|r| bytes[r.clone()].iter().copied()).collect()
                }
            });
        }
        Ok(Trace::new(TraceFile { model_id, steps }))
    }

    /// The trace of a run that fails, step by step as the step contracts see it: a step
    /// *fails* when a leaf it reads does not have the plan's length, or when its sub-model
    /// reports a run-time error (its contract reverts with a named error); a failed step's
    /// bytes are empty. So the steps before the failure keep their bytes, steps that do not
    /// depend on it too, and the output step (which reads every output) fails: a claim that the
    /// model fails on an input claims the empty output (docs/verification.md §The game).
    fn failing(model: &Model, model_id: Hash, plan: &Plan, inputs: &[Value]) -> Trace {
        let mut steps: Vec<Vec<u8>> = vec![pack_values(inputs)];
        for k in 1..plan.steps.len() {
            let intact = plan.reads(k).iter().all(|&j| steps[j].len() == plan.steps[j].len());
            let bytes = intact
                .then(|| {
                    let sub = crate::sub_model(model, plan, k).expect("every step after the input has a sub-model");
                    let packed = assemble(plan, k, &steps).concat();
                    let args = solidml_precompile::abi::unpack_inputs(&sub, model_id, &packed).ok()?;
                    solidml_cpu::CpuExecutor::for_validated(&sub).run(&args).ok().map(|out| pack_values(&out))
                })
                .flatten()
                .unwrap_or_default();
            steps.push(bytes);
        }
        Trace::new(TraceFile { model_id, steps })
    }

    /// Whether the run failed (the output step has no bytes while the model's output has).
    pub fn failed(&self, plan: &Plan) -> bool {
        let last = plan.output_step();
        self.file.steps[last].len() != plan.steps[last].len()
    }

    /// [`Trace::run`] on packed inputs (int8 one byte each, int64 8 bytes big-endian, as the
    /// precompile and `InferenceClaims.postInput` take them).
    pub fn run_packed(model: &Model, model_id: Hash, plan: &Plan, packed: &[u8]) -> Result<Trace, TraceError> {
        let inputs = solidml_precompile::abi::unpack_inputs(model, model_id, packed).map_err(|e| TraceError::BadInput(e.to_string()))?;
        Trace::run(model, model_id, plan, &inputs)
    }

    /// The tree over a file's steps.
    pub fn new(file: TraceFile) -> Trace {
        Trace { tree: Tree::new(file.steps.iter().map(|b| leaf(b)).collect()), file }
    }

    /// The commitment.
    pub fn root(&self) -> Hash {
        self.tree.root()
    }

    /// The packed model output.
    pub fn output(&self) -> &[u8] {
        self.file.steps.last().expect("an Output step")
    }

    /// The arguments of step `k`'s sub-model, assembled from the leaves it reads.
    pub fn args(&self, plan: &Plan, k: usize) -> Vec<Vec<u8>> {
        assemble(plan, k, &self.file.steps)
    }

    /// What `InferenceClaims.proveStep` takes for step `k`: the bytes of each leaf the step
    /// reads ([`Plan::reads`]), and each one's siblings up to the subtree where its path leaves
    /// step `k`'s (the subtree both parties agreed on).
    pub fn step_proof(&self, plan: &Plan, k: usize) -> (Vec<Vec<u8>>, Vec<Vec<Hash>>) {
        if k == 0 || k >= plan.steps.len() {
            return (vec![], vec![]);
        }
        plan.reads(k).into_iter().map(|j| (self.file.steps[j].clone(), self.tree.proof(j, split_level(j, k)))).unzip()
    }

    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&VERSION.to_be_bytes());
        out.extend(postcard::to_stdvec(&self.file).expect("a trace always encodes"));
        out
    }

    /// Read a file written by [`Trace::encode`] and check it against the model's id and plan.
    pub fn decode(bytes: &[u8], model_id: Hash, plan: &Plan) -> Result<Trace, TraceError> {
        let bad = |why: String| TraceError::BadFile(why);
        if bytes.len() < 10 || &bytes[..8] != MAGIC {
            return Err(bad("not a SolidML trace (missing the `SOLIDMLT` magic)".into()));
        }
        let version = u16::from_be_bytes([bytes[8], bytes[9]]);
        if version != VERSION {
            return Err(bad(format!("trace format version {version} is not supported (this build reads version {VERSION})")));
        }
        let file: TraceFile = postcard::from_bytes(&bytes[10..]).map_err(|e| bad(format!("truncated or malformed: {e}")))?;
        if file.model_id != model_id {
            return Err(bad(format!("the trace is of model 0x{}, not 0x{}", hex::encode(file.model_id), hex::encode(model_id))));
        }
        if file.steps.len() != plan.steps.len() {
            return Err(bad(format!("the trace has {} steps, the model's plan {}", file.steps.len(), plan.steps.len())));
        }
        for (k, (b, s)) in file.steps.iter().zip(&plan.steps).enumerate() {
            // a failed step has no bytes
            if b.len() != s.len() && !b.is_empty() {
                return Err(bad(format!("step {k} holds {} bytes, the plan says {}", b.len(), s.len())));
            }
        }
        Ok(Trace::new(file))
    }
}

/// The arguments of step `k`'s sub-model from the steps' bytes `steps` (those before `k`).
fn assemble(plan: &Plan, k: usize, steps: &[Vec<u8>]) -> Vec<Vec<u8>> {
    plan.steps[k]
        .args
        .iter()
        .map(|a| a.pieces.iter().flat_map(|p| plan.resolve(a.tensor, p)).flat_map(|(s, r)| steps[s][r].iter().copied()).collect())
        .collect()
}
