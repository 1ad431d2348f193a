//! The dispute game with real models, in revm (the EVM forge and the devnode run): for each
//! example model every step contract (`solidml_solidity::steps`) is compiled, deployed and
//! registered (`SolidMLSteps`, `InferenceClaims` from stdlib-sol), and:
//!
//! * every step's `runStep`, given the leaves it reads, returns exactly that step's trace
//!   bytes (the CPU reference's), and its gas is measured;
//! * a claim with one flipped output byte, challenged with the honest trace, is bisected to
//!   the output step and lost by the claimer when the step is re-executed;
//! * a claim with a correct output but one wrong intermediate chunk is bisected to that chunk
//!   and lost;
//! * a dishonest challenge (one flipped byte in a middle step) of an honest claim is lost by
//!   the challenger when the claimer proves the step.
//!
//! The rounds (`depth` = ⌈log2 steps⌉), the gas of each one-step proof and of whole games are
//! printed. Time (challenge windows, timeouts, finalization) is covered by the forge tests of
//! `InferenceClaims` and by the devnode test of the verifier. For the SqueezeNet-class CNN
//! (needs the Python env, as tests/imagenet_cnn.rs), the plan is cut and, per node, the chunk
//! that reads the most is compiled and re-executed in a real one-step proof: each must be under
//! 10M gas.
//!
//! Needs solc (`FOUNDRY_BIN`); fails without it unless `SOLIDML_SKIP` lists `forge`.

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::{SolCall, SolValue, sol};
use solidml_cpu::CpuBackend;
use solidml_precompile::SolidMlPrecompile;
use solidml_revm::Chain;
use solidml_solidity::{SolidityOptions, solc::Solc, steps};
use solidml_spec::Model;
use solidml_tests::{
    random_spec::{OpKind, random_inputs, random_model},
    *,
};
use solidml_trace::{Plan, Trace, merkle::Hash};

// the game's ABI as the agent declares it
use solidml_agent::abi::{
    IInferenceClaims::{
        challengeCall, claimCall, gamesCall, postInputCall, proveStepCall, registerModelCall, revealChallengerCall, revealClaimerCall,
    },
    ISolidMLStep::runStepCall,
    ISolidMLStepsRegistry::addCall,
};

/// EIP-2028 calldata gas plus the transaction base: what a transaction adds to the execution
/// gas `Chain` reports.
fn intrinsic(data: &[u8]) -> u64 {
    21_000 + data.iter().map(|&b| if b == 0 { 4 } else { 16 }).sum::<u64>()
}

/// Compile sources in batches (solc-js runs out of memory on thousands of contracts at once).
fn compile_batches(solc: &Solc, batches: &[Vec<(String, String)>]) -> BTreeMap<String, solidml_solidity::solc::CompiledContract> {
    let mut out = BTreeMap::new();
    for b in batches {
        out.extend(solc.compile(b, &Default::default()).unwrap_or_else(|e| panic!("{e}")));
    }
    out
}

fn new_chain() -> Chain {
    Chain::new(SolidMlPrecompile::new(std::sync::Arc::new(CpuBackend))).with_code_size_limit(1_000_000)
}

/// Deploy an emitted contract (its split parts first); returns its address and the gas.
fn deploy(
    chain: &mut Chain,
    compiled: &BTreeMap<String, solidml_solidity::solc::CompiledContract>,
    e: &solidml_solidity::Emitted,
) -> (Address, u64) {
    let mut gas = 0;
    let mut initcode = compiled[&e.contract].initcode.clone();
    if !e.split_parts.is_empty() {
        let parts: Vec<Address> = e
            .split_parts
            .iter()
            .map(|p| {
                let d = chain.deploy(compiled[p].initcode.clone()).unwrap();
                gas += d.gas;
                d.address
            })
            .collect();
        initcode.extend((parts,).abi_encode_params());
    }
    let d = chain.deploy(initcode).unwrap_or_else(|err| panic!("{}: {err}", e.contract));
    (d.address, gas + d.gas)
}

/// One transaction: execution plus intrinsic gas; panics with the revert data if it fails.
fn send(chain: &mut Chain, to: Address, data: Vec<u8>) -> (Vec<u8>, u64) {
    let g = intrinsic(&data);
    let r = chain.call_with_gas(to, data, 1_000_000_000).unwrap();
    assert!(r.success, "call reverted: 0x{}", alloy_primitives::hex::encode(&r.output));
    (r.output, r.gas + g)
}

fn b(h: &Hash) -> B256 {
    B256::from(*h)
}

/// The stdlib-sol sources of the game.
fn game_sources() -> Vec<(String, String)> {
    ["InferenceClaims.sol", "SolidMLSteps.sol"]
        .iter()
        .map(|f| (f.to_string(), std::fs::read_to_string(repo().join("stdlib-sol/src").join(f)).unwrap()))
        .collect()
}

/// A model with its step contracts and the game deployed.
struct Deployed {
    chain: Chain,
    claims: Address,
    registry: Address,
    steps: Vec<Address>,
    /// Gas of every step's `runStep` transaction, by step.
    run_gas: Vec<u64>,
}

fn deploy_model_checked(solc: &Solc, model: &Model, id: [u8; 32], plan: &Plan, trace: &Trace) -> Deployed {
    let mut batches: Vec<Vec<(String, String)>> = vec![game_sources()];
    let mut emitted = vec![];
    for k in 1..plan.steps.len() {
        let e = steps::emit_step(model, &id, plan, k, &SolidityOptions::default()).unwrap_or_else(|e| panic!("step {k}: {e}"));
        if batches.last().unwrap().len() > 12 {
            batches.push(vec![]);
        }
        batches.last_mut().unwrap().extend(e.files.iter().cloned());
        emitted.push(e);
    }
    let compiled = compile_batches(solc, &batches);
    let mut chain = new_chain();
    let mut addrs = vec![];
    let mut run_gas = vec![0];
    for (k, e) in (1..).zip(&emitted) {
        let (a, _) = deploy(&mut chain, &compiled, e);
        // the step contract re-executes its leaf; a failed step reverts with a named error
        let (leaves, _) = trace.step_proof(plan, k);
        let data = runStepCall { leaves: leaves.into_iter().map(Bytes::from).collect() }.abi_encode();
        if trace.file.steps[k].len() == plan.steps[k].len() {
            let (out, gas) = send(&mut chain, a, data);
            let out = runStepCall::abi_decode_returns(&out).unwrap();
            assert_eq!(out.as_ref(), &trace.file.steps[k][..], "{}: step {k} ({})", model.name, steps::describe(model, plan, k));
            run_gas.push(gas);
        } else {
            let r = chain.call_with_gas(a, data, 1_000_000_000).unwrap();
            assert!(!r.success && !r.output.is_empty(), "{}: failed step {k} must revert with a named error", model.name);
            run_gas.push(0);
        }
        addrs.push(a);
    }
    let mut initcode = compiled["SolidMLSteps"].initcode.clone();
    initcode.extend((B256::from(id), U256::from(plan.steps.len()), U256::from(plan.steps[0].len())).abi_encode_params());
    let registry = chain.deploy(initcode).unwrap().address;
    send(&mut chain, registry, addCall { next: addrs.clone() }.abi_encode());
    let mut initcode = compiled["InferenceClaims"].initcode.clone();
    // window and round timeout never pass here (revm's clock stands still); no bonds
    initcode.extend((U256::from(3600), U256::from(600), U256::ZERO, U256::ZERO).abi_encode_params());
    let claims = chain.deploy(initcode).unwrap().address;
    send(&mut chain, claims, registerModelCall { steps: registry }.abi_encode());
    Deployed { chain, claims, registry, steps: addrs, run_gas }
}

/// Post `claimed`'s claim, challenge it with `challenger`'s root, play the bisection and prove
/// the step reached with the honest trace. Returns (step, winner is the claimer, rounds, gas of
/// the proof, gas of the whole game).
fn play(d: &mut Deployed, plan: &Plan, claimed: &Trace, challenger: &Trace, honest: &Trace) -> (usize, bool, u32, u64, u64) {
    let depth = claimed.tree.depth();
    let n = plan.steps.len();
    let call = claimCall {
        steps: d.registry,
        inputHash: B256::from(solidml_spec::keccak256(&claimed.file.steps[0])),
        output: Bytes::from(claimed.output().to_vec()),
        root: b(&claimed.root()),
        inputProof: claimed.tree.proof(0, depth).iter().map(b).collect(),
        outputProof: claimed.tree.proof(n - 1, depth).iter().map(b).collect(),
    };
    send(&mut d.chain, d.claims, postInputCall { input: Bytes::from(claimed.file.steps[0].clone()) }.abi_encode());
    let (out, mut total) = send(&mut d.chain, d.claims, call.abi_encode());
    let claim_id = claimCall::abi_decode_returns(&out).unwrap();
    let (out, gas) = send(&mut d.chain, d.claims, challengeCall { claimId: claim_id, root: b(&challenger.root()) }.abi_encode());
    total += gas;
    let game = challengeCall::abi_decode_returns(&out).unwrap();
    let mut index = 0usize;
    for level in (1..=depth).rev() {
        let (l, r) = claimed.tree.children(level, index);
        total += send(&mut d.chain, d.claims, revealClaimerCall { gameId: game, left: b(&l), right: b(&r) }.abi_encode()).1;
        let (l2, r2) = challenger.tree.children(level, index);
        total += send(&mut d.chain, d.claims, revealChallengerCall { gameId: game, left: b(&l2), right: b(&r2) }.abi_encode()).1;
        index = 2 * index + usize::from(l == l2);
    }
    let g = gamesCall::abi_decode_returns(&d.chain.call(d.claims, gamesCall { gameId: game }.abi_encode()).unwrap().output).unwrap();
    assert_eq!(g.index as usize, index);
    let (leaves, proofs) = honest.step_proof(plan, index);
    let call = proveStepCall {
        gameId: game,
        step: U256::from(index),
        leaves: leaves.into_iter().map(Bytes::from).collect(),
        proofs: proofs.iter().map(|p| p.iter().map(b).collect()).collect(),
    };
    let (_, proof_gas) = send(&mut d.chain, d.claims, call.abi_encode());
    total += proof_gas;
    let g = gamesCall::abi_decode_returns(&d.chain.call(d.claims, gamesCall { gameId: game }.abi_encode()).unwrap().output).unwrap();
    assert_eq!(g.turn, 3, "the game is over");
    // one account plays both sides here: the winner is told apart by the nodes at the leaf
    let claimer_won = g.claimerNode == b(&honest.tree.at(0, index));
    (index, claimer_won, depth, proof_gas, total)
}

/// `t` with byte 0 of step `k` flipped.
fn tampered(t: &Trace, k: usize) -> Trace {
    let mut f = t.file.clone();
    f.steps[k][0] ^= 1;
    Trace::new(f)
}

#[test]
fn wrong_claims_lose_and_dishonest_challenges_lose_on_real_models() {
    let Some(solc) = require_solc() else { return };
    let mut table = vec![];
    for &(model, calib) in EXAMPLE_MODELS {
        let c = compile_example(model, calib);
        let plan = Plan::of(&c.model).unwrap();
        let inputs = random_inputs(&mut Rng(11), &c.model);
        let honest = Trace::run(&c.model, c.model_id, &plan, &inputs).unwrap();
        let mut d = deploy_model_checked(&solc, &c.model, c.model_id, &plan, &honest);
        assert_eq!(d.steps.len(), plan.steps.len() - 1);
        let n = plan.steps.len();
        let mid = n / 2;
        // a flipped output byte: the output step decides
        let (k, claimer_won, rounds, proof_a, game_a) = play(&mut d, &plan, &tampered(&honest, n - 1), &honest, &honest);
        assert!(!claimer_won && k == n - 1, "{model}: flipped output: step {k}, claimer won {claimer_won}");
        // a right output over a wrong intermediate chunk: that chunk decides
        let (k, claimer_won, _, proof_b, game_b) = play(&mut d, &plan, &tampered(&honest, mid), &honest, &honest);
        assert!(!claimer_won && k == mid, "{model}: wrong chunk {mid}: step {k}, claimer won {claimer_won}");
        // a dishonest challenge of an honest claim
        let (k, claimer_won, _, proof_c, game_c) = play(&mut d, &plan, &honest, &tampered(&honest, mid), &honest);
        assert!(claimer_won && k == mid, "{model}: dishonest challenge: step {k}, claimer won {claimer_won}");
        let max_run = *d.run_gas.iter().max().unwrap();
        assert!(max_run < 10_000_000, "{model}: a step costs {max_run} gas");
        table.push(format!(
            "{model:<20} steps {n:>3}  rounds {rounds:>2}  max runStep {max_run:>9}  proofs {proof_a:>9} {proof_b:>9} {proof_c:>9}  games {game_a:>9} {game_b:>9} {game_c:>9}"
        ));
    }
    eprintln!("{}", table.join("\n"));
}

/// A steps registry over some steps only (tests/solidity/SparseSteps.sol).
pub const SPARSE_STEPS: &str = include_str!("solidity/SparseSteps.sol");

sol! {
    function set(uint256 k, address a);
}

#[test]
fn squeezenet_class_cnn_steps_fit_one_call() {
    let Some(py) = require_python() else { return };
    let Some(solc) = require_solc() else { return };
    let c = squeezenet(&py, &std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dispute_squeezenet"));
    let (model, id) = (&c.model, c.model_id);
    let plan = Plan::of(model).unwrap();
    let n = plan.steps.len();
    let inputs = random_inputs(&mut Rng(5), model);
    let honest = Trace::run(model, id, &plan, &inputs).unwrap();
    // per node, the chunk that reads the most (a middle band of rows reads more input rows
    // than the bands at the edges, whose padding is free), and the output step
    let mut largest: BTreeMap<usize, (usize, usize, usize)> = BTreeMap::new();
    for (k, s) in plan.steps.iter().enumerate() {
        if let solidml_trace::plan::StepKind::Node { node, .. } = s.kind {
            let size = (plan.args_len(k), s.len(), usize::MAX - k);
            let e = largest.entry(node).or_insert(size);
            *e = (*e).max(size);
        }
    }
    let mut picked: Vec<usize> = largest.values().map(|&(_, _, k)| usize::MAX - k).collect();
    picked.push(n - 1);
    let mut batches: Vec<Vec<(String, String)>> = vec![game_sources()];
    batches[0].push(("SparseSteps.sol".into(), SPARSE_STEPS.into()));
    let mut emitted = vec![];
    for &k in &picked {
        let e = steps::emit_step(model, &id, &plan, k, &SolidityOptions::default()).unwrap_or_else(|e| panic!("step {k}: {e}"));
        if batches.last().unwrap().len() > 12 {
            batches.push(vec![]);
        }
        batches.last_mut().unwrap().extend(e.files.iter().cloned());
        emitted.push(e);
    }
    let compiled = compile_batches(&solc, &batches);
    let mut chain = new_chain();
    let mut initcode = compiled["SparseSteps"].initcode.clone();
    initcode.extend((B256::from(id), U256::from(n), U256::from(plan.steps[0].len())).abi_encode_params());
    let registry = chain.deploy(initcode).unwrap().address;
    let mut run_gas = vec![0; n];
    let mut addrs = vec![];
    for (&k, e) in picked.iter().zip(&emitted) {
        let (a, _) = deploy(&mut chain, &compiled, e);
        send(&mut chain, registry, setCall { k: U256::from(k), a }.abi_encode());
        let (leaves, _) = honest.step_proof(&plan, k);
        let (out, gas) = send(&mut chain, a, runStepCall { leaves: leaves.into_iter().map(Bytes::from).collect() }.abi_encode());
        assert_eq!(runStepCall::abi_decode_returns(&out).unwrap().as_ref(), &honest.file.steps[k][..], "step {k}");
        run_gas[k] = gas;
        addrs.push(a);
    }
    let mut initcode = compiled["InferenceClaims"].initcode.clone();
    initcode.extend((U256::from(3600), U256::from(600), U256::ZERO, U256::ZERO).abi_encode_params());
    let claims = chain.deploy(initcode).unwrap().address;
    send(&mut chain, claims, registerModelCall { steps: registry }.abi_encode());
    let mut d = Deployed { chain, claims, registry, steps: addrs, run_gas: vec![] };
    // one dishonest challenge per picked step: the claimer proves it, in a real proveStep
    let mut rows = vec![];
    let (mut max_proof, mut max_game) = ((0, 0), 0);
    for &k in &picked {
        let (reached, claimer_won, rounds, proof, game) = play(&mut d, &plan, &honest, &tampered(&honest, k), &honest);
        assert!(claimer_won && reached == k, "step {k}: reached {reached}, claimer won {claimer_won}");
        assert!(proof < 10_000_000, "step {k} ({}): the one-step proof costs {proof} gas", steps::describe(model, &plan, k));
        max_proof = max_proof.max((proof, k));
        max_game = max_game.max(game);
        rows.push(format!(
            "{k:>5} {:<60} runStep {:>9} proveStep {proof:>9} game {game:>10} rounds {rounds}",
            steps::describe(model, &plan, k),
            run_gas[k]
        ));
    }
    eprintln!("{}", rows.join("\n"));
    eprintln!(
        "SqueezeNet-class CNN: {n} steps, {} rounds; most expensive one-step proof {} gas (step {}); most expensive game {max_game} gas",
        honest.tree.depth(),
        max_proof.0,
        max_proof.1
    );
}

/// Inputs a model fails on (an index out of range, an int64 overflow): in the EVM the failing
/// step's contract reverts with the model's named error and every step reading a failed one
/// with `LeafLength`, exactly where the trace has failed steps; a claim that pretends the model
/// ran loses to the failing trace.
#[test]
fn claims_on_inputs_the_model_fails_on_lose() {
    let Some(solc) = require_solc() else { return };
    let mut rng = Rng(0xfa11);
    let mut played = 0;
    for draw in 0..400 {
        if played == 3 {
            break;
        }
        let mut m = random_model(&mut rng, &[OpKind::Take, OpKind::GatherDynamic, OpKind::IntBinary, OpKind::Dense]);
        m.name = format!("Fail{draw}");
        let inputs = random_inputs(&mut rng, &m);
        if solidml_cpu::CpuExecutor::new(&m).unwrap().run(&inputs).is_ok() {
            continue;
        }
        let id = solidml_spec::model_id(&m).unwrap();
        let plan = Plan::of(&m).unwrap();
        let honest = Trace::run(&m, id, &plan, &inputs).unwrap();
        assert!(honest.failed(&plan) && honest.output().is_empty());
        let mut d = deploy_model_checked(&solc, &m, id, &plan, &honest);
        // a claimer that pretends the model ran: the failed steps filled with zeros
        let mut f = honest.file.clone();
        for (b, s) in f.steps.iter_mut().zip(&plan.steps) {
            if b.len() != s.len() {
                *b = vec![0; s.len()];
            }
        }
        let pretend = Trace::new(f);
        let (k, claimer_won, rounds, proof, _) = play(&mut d, &plan, &pretend, &honest, &honest);
        assert!(!claimer_won, "{}: the pretended run wins at step {k}", m.name);
        assert!(honest.file.steps[k].len() != plan.steps[k].len(), "{}: the game ends at a failed step", m.name);
        eprintln!("{}: {} steps, the claim lost at failed step {k} after {rounds} rounds ({proof} gas)", m.name, plan.steps.len());
        played += 1;
    }
    assert_eq!(played, 3, "three failing models played");
}
