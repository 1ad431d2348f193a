//! The steps of the dispute game (`solidml-trace`): for random spec models (every op family,
//! cut with the default limits and with tiny ones, so that every chunk form appears) and for
//! the example models, every step's sub-model is a valid model, and the CPU reference running
//! it on the arguments assembled from the earlier leaves gives exactly that step's bytes (or, on
//! inputs the model fails on, a run-time error exactly where the trace's step is failed); every
//! step reads only earlier leaves; the commitment's proofs verify.

use std::collections::BTreeMap;

use solidml_cpu::CpuExecutor;
use solidml_exec::Value;
use solidml_precompile::abi::{pack_values, unpack_inputs};
use solidml_spec::{Model, validate::validate};
use solidml_tests::{random_spec::*, *};
use solidml_trace::{
    Limits, Plan, Trace,
    merkle::{root_from_proof, split_level},
    plan::{Chunk, StepKind},
    sub_model,
};

/// Limits small enough that the random models' small tensors are cut into many chunks.
const TINY: Limits = Limits { max_work: 24, max_input: 12, max_output: 5, max_weights: 20 };

fn chunk_form(model: &Model, node: usize, c: &Chunk) -> &'static str {
    match c {
        Chunk::Whole => "whole",
        Chunk::Block { rows, .. } if rows.len() != model.tensor(model.nodes[node].outputs[0]).shape.get(2).map_or(1, |&h| h as usize) => {
            "band"
        }
        Chunk::Block { .. } => "block",
        Chunk::Features(_) => "features",
        Chunk::Rows(_) => "rows",
        Chunk::Flat(_) => "flat",
        Chunk::Copy { .. } => "copy",
    }
}

/// Check every step of one traced run; returns the chunk forms seen.
fn check_steps(model: &Model, plan: &Plan, trace: &Trace, forms: &mut BTreeMap<&'static str, usize>) {
    for k in 1..plan.steps.len() {
        let step = &plan.steps[k];
        if let StepKind::Node { chunk, node } = &step.kind {
            *forms.entry(chunk_form(model, *node, chunk)).or_default() += 1;
        }
        let reads = plan.reads(k);
        assert!(reads.iter().all(|&j| j < k), "{}: step {k} reads a later leaf: {reads:?}", model.name);
        // each read leaf proves against the subtree where its path leaves step k's
        for &j in &reads {
            let up = split_level(j, k);
            let leaf = trace.tree.at(0, j);
            assert_eq!(root_from_proof(&leaf, j, &trace.tree.proof(j, up)), trace.tree.at(up, j >> up));
        }
        let sub = sub_model(model, plan, k).expect("a sub-model for every step after the input");
        if let Err(e) = validate(&sub) {
            panic!("{}: step {k} ({:?}): invalid sub-model: {e}\n{sub:#?}", model.name, step.kind);
        }
        // a step reading a failed one (no bytes) has failed too
        if reads.iter().any(|&j| trace.file.steps[j].len() != plan.steps[j].len()) {
            assert!(trace.file.steps[k].is_empty(), "{}: step {k} reads a failed step but has bytes", model.name);
            continue;
        }
        let args = trace.args(plan, k);
        // the step contract's copies assemble the same arguments from the leaves it reads
        let mut packed = vec![0u8; plan.args_len(k)];
        for c in plan.copies(k) {
            let leaf = &trace.file.steps[reads[c.leaf]];
            for i in 0..c.count {
                let (s, d) = (c.src + i * c.src_stride, c.dst + i * c.dst_stride);
                packed[d..d + c.len].copy_from_slice(&leaf[s..s + c.len]);
            }
        }
        assert_eq!(packed, args.concat(), "{}: step {k}: copies", model.name);
        let inputs = unpack_inputs(&sub, [0; 32], &args.concat()).expect("the arguments have the sub-model's input length");
        match CpuExecutor::new(&sub).unwrap().run(&inputs) {
            Ok(out) => {
                assert_eq!(pack_values(&out), trace.file.steps[k], "{}: step {k} ({:?}) differs from its leaf", model.name, step.kind)
            }
            // the model's run-time error: a failed step, no bytes
            Err(_) => assert!(trace.file.steps[k].is_empty(), "{}: step {k} fails but has bytes", model.name),
        }
    }
}

#[test]
fn random_models_steps_reexecute_their_leaves() {
    let mut rng = Rng(0x7ace_0001);
    let mut forms = BTreeMap::new();
    let (mut models, mut steps, mut failing) = (0, 0, 0);
    for i in 0..800 {
        let m = random_model(&mut rng, OpKind::ALL);
        let inputs = random_inputs(&mut rng, &m);
        // a run-time error (an index out of range, an int64 overflow): a failing trace
        let fails = CpuExecutor::new(&m).unwrap().run(&inputs).is_err();
        let id = solidml_spec::model_id(&m).unwrap();
        for limits in [Limits::default(), TINY] {
            let plan = Plan::with_limits(&m, limits).unwrap();
            let trace = Trace::run(&m, id, &plan, &inputs).unwrap();
            assert_eq!(trace.failed(&plan), fails, "{}: the trace fails exactly when the model does", m.name);
            failing += usize::from(fails);
            check_steps(&m, &plan, &trace, &mut forms);
            // the file round-trips and is checked against the plan
            let back = Trace::decode(&trace.encode(), id, &plan).unwrap();
            assert_eq!(back.root(), trace.root());
            steps += plan.steps.len();
        }
        models += 1;
        let _ = i;
    }
    eprintln!("{models} models ({failing} failing traces), {steps} steps; chunk forms: {forms:?}");
    assert!(models >= 600, "{models}");
    assert!(failing >= 10, "only {failing} failing traces checked");
    for form in ["whole", "block", "band", "features", "rows", "flat", "copy"] {
        assert!(forms.get(form).copied().unwrap_or(0) >= 5, "chunk form `{form}` drawn too rarely: {forms:?}");
    }
}

#[test]
fn example_models_steps_reexecute_their_leaves() {
    for &(model, calib) in EXAMPLE_MODELS {
        let c = compile_example(model, calib);
        let plan = Plan::of(&c.model).unwrap();
        let mut rng = Rng(7);
        let inputs: Vec<Value> = random_inputs(&mut rng, &c.model);
        let trace = Trace::run(&c.model, c.model_id, &plan, &inputs).unwrap();
        let mut forms = BTreeMap::new();
        check_steps(&c.model, &plan, &trace, &mut forms);
        eprintln!("{model}: {} steps, depth {}, chunks {forms:?}", plan.steps.len(), trace.tree.depth());
    }
}

#[test]
fn trace_files_are_checked_against_the_model() {
    let mut rng = Rng(3);
    let m = random_model(&mut rng, &[OpKind::Dense]);
    let id = solidml_spec::model_id(&m).unwrap();
    let plan = Plan::of(&m).unwrap();
    let trace = Trace::run(&m, id, &plan, &random_inputs(&mut rng, &m)).unwrap();
    let bytes = trace.encode();
    let err = |b: &[u8], id| Trace::decode(b, id, &plan).unwrap_err().to_string();
    assert!(err(&bytes[..5], id).contains("missing the `SOLIDMLT` magic"));
    assert!(err(&bytes[..bytes.len() - 1], id).contains("truncated or malformed"));
    assert!(err(&bytes, [1; 32]).contains("not 0x"));
    let mut v2 = bytes.clone();
    v2[9] = 2;
    assert!(err(&v2, id).contains("version 2 is not supported"));
}
