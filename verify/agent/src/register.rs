//! Putting the game on a chain: `InferenceClaims` itself, and a model's step contracts
//! (compiled from its plan with the project's solc), their `SolidMLSteps` registry and the
//! model's registration.

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::{SolCall, SolValue};
use solidml_solidity::{SolidityOptions, solc::Solc, steps};
use solidml_spec::Model;
use solidml_trace::Plan;

use crate::{
    AgentError, Log,
    abi::{IInferenceClaims, INFERENCE_CLAIMS_SOL, ISolidMLStep, ISolidMLStepsRegistry, SOLIDML_STEPS_SOL},
    client::Client,
};

type Result<T> = std::result::Result<T, AgentError>;

/// The game's parameters (`InferenceClaims`' constructor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GameParams {
    /// Seconds a claim can be challenged.
    pub challenge_window: u64,
    /// Seconds per move.
    pub round_timeout: u64,
    /// Wei a claimer bonds.
    pub claim_bond: U256,
    /// Wei a challenger bonds.
    pub challenge_bond: U256,
}

/// Contracts compiled per solc run (solc-js runs out of memory on thousands at once).
const BATCH: usize = 12;
/// Step contracts added to the registry per transaction.
const ADD_BATCH: usize = 200;
/// Most gas a step's `runStep` may take: a one-step proof adds the leaves' proofs and the
/// game's own work (≈ 0.1–1.2M gas measured) and must stay under 10M.
pub const MAX_STEP_GAS: u64 = 8_500_000;

fn compile(
    solc: &Solc,
    sources: Vec<(String, String)>,
) -> Result<std::collections::BTreeMap<String, solidml_solidity::solc::CompiledContract>> {
    Ok(solc.compile(&sources, &Default::default())?)
}

/// Deploy `InferenceClaims` with `params`.
pub async fn deploy_claims(client: &Client, solc: &Solc, params: GameParams) -> Result<Address> {
    let c = compile(
        solc,
        vec![("InferenceClaims.sol".into(), INFERENCE_CLAIMS_SOL.into()), ("SolidMLSteps.sol".into(), SOLIDML_STEPS_SOL.into())],
    )?;
    let mut initcode = c["InferenceClaims"].initcode.clone();
    initcode.extend(
        (U256::from(params.challenge_window), U256::from(params.round_timeout), params.claim_bond, params.challenge_bond)
            .abi_encode_params(),
    );
    Ok(client.deploy("InferenceClaims", initcode).await?.0)
}

/// Compile and deploy every step contract of `model`, their registry, and register the model
/// with `claims`. Returns the registry's address and the deployment gas.
pub async fn register_model(
    client: &Client,
    solc: &Solc,
    claims: Address,
    model: &Model,
    id: [u8; 32],
    plan: &Plan,
    log: &Log,
) -> Result<(Address, u64)> {
    let n = plan.steps.len();
    log(&format!("registering model 0x{}: {n} steps ({} step contracts to compile and deploy)", hex::encode(id), n - 1));
    let mut gas = 0;
    let mut addresses = Vec::with_capacity(n - 1);
    let opts = SolidityOptions::default();
    let mut k = 1;
    while k < n {
        let batch: Vec<usize> = (k..n.min(k + BATCH)).collect();
        let emitted = batch.iter().map(|&s| steps::emit_step(model, &id, plan, s, &opts)).collect::<std::result::Result<Vec<_>, _>>()?;
        let compiled = compile(solc, emitted.iter().flat_map(|e| e.files.iter().cloned()).collect())?;
        for (&s, e) in batch.iter().zip(&emitted) {
            let mut initcode = compiled
                .get(&e.contract)
                .ok_or_else(|| AgentError::Model(format!("step {s}: `{}` not compiled", e.contract)))?
                .initcode
                .clone();
            if !e.split_parts.is_empty() {
                let mut parts = vec![];
                for p in &e.split_parts {
                    let (a, g) = client.deploy(p, compiled[p].initcode.clone()).await?;
                    gas += g;
                    parts.push(a);
                }
                initcode.extend((parts,).abi_encode_params());
            }
            let (a, g) = client.deploy(&e.contract, initcode).await?;
            gas += g;
            addresses.push(a);
        }
        k += batch.len();
        log(&format!("  step contracts {}/{} deployed", k - 1, n - 1));
    }
    // every step within one call's gas, measured on a trace of zero inputs
    match solidml_trace::Trace::run_packed(model, id, plan, &vec![0u8; plan.steps[0].len()]) {
        Ok(trace) => {
            let mut worst = (0, 0);
            for (k, &a) in (1..n).zip(&addresses) {
                let leaves = trace.step_proof(plan, k).0.into_iter().map(alloy_primitives::Bytes::from).collect();
                let gas = client.estimate(&format!("step {k}"), a, ISolidMLStep::runStepCall { leaves }.abi_encode()).await?;
                worst = worst.max((gas, k));
                if gas > MAX_STEP_GAS {
                    return Err(AgentError::Model(format!(
                        "step {k} ({}) takes {gas} gas, over the {MAX_STEP_GAS} a one-step proof allows: the model cannot be disputed; not registered",
                        steps::describe(model, plan, k)
                    )));
                }
            }
            log(&format!("every step re-executes within one call: the most expensive, step {}, takes {} gas", worst.1, worst.0));
        }
        Err(e) => log(&format!("warning: the step gas is not checked (zero inputs do not run: {e})")),
    }
    let c = compile(solc, vec![("SolidMLSteps.sol".into(), SOLIDML_STEPS_SOL.into())])?;
    let mut initcode = c["SolidMLSteps"].initcode.clone();
    initcode.extend((B256::from(id), U256::from(n), U256::from(plan.steps[0].len())).abi_encode_params());
    let (registry, g) = client.deploy("SolidMLSteps", initcode).await?;
    gas += g;
    for chunk in addresses.chunks(ADD_BATCH) {
        gas += client.transact(registry, ISolidMLStepsRegistry::addCall { next: chunk.to_vec() }, U256::ZERO).await?;
    }
    gas += client.transact(claims, IInferenceClaims::registerModelCall { steps: registry }, U256::ZERO).await?;
    log(&format!("model 0x{} registered: steps registry {registry}, {gas} gas in all", hex::encode(id)));
    Ok((registry, gas))
}
