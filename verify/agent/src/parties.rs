//! The two sides of a game, each a loop step (`tick`) over the chain's state:
//!
//! * [`Claimer`] (`solidml claim`): posts the input and a claim with its trace's root and
//!   bond, answers every challenge from its stored trace (reveals its children each round,
//!   proves the step when one is left), ends games whose opponent missed a deadline, and
//!   finalizes the claim after the window.
//! * [`Verifier`] (`solidml verifier`): reads every new claim from the logs, re-runs the model
//!   on the posted input with the CPU reference (every executor agrees byte for byte), and
//!   challenges a claim whose root differs from its own; then plays the game to the end.
//!
//! Both log their progress (claims seen, challenges, each round, the step reached and who won)
//! through the [`Log`] they are given.

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_rpc_types_eth::Filter;
use alloy_sol_types::SolEvent;
use solidml_solidity::steps::describe;
use solidml_spec::Model;
use solidml_trace::{Plan, Trace, merkle::Hash};

use crate::{
    AgentError, Log,
    abi::{IInferenceClaims as I, status, turn},
    client::Client,
};

type Result<T> = std::result::Result<T, AgentError>;

/// The models a party can re-run, by id.
#[derive(Default, Clone)]
pub struct Models(BTreeMap<[u8; 32], (Model, Plan)>);

impl Models {
    /// Add a model.
    pub fn insert(&mut self, id: [u8; 32], model: Model) -> Result<()> {
        let plan = Plan::of(&model).map_err(solidml_trace::TraceError::from)?;
        self.0.insert(id, (model, plan));
        Ok(())
    }

    /// A model and its plan.
    pub fn get(&self, id: &[u8; 32]) -> Option<&(Model, Plan)> {
        self.0.get(id)
    }
}

fn h(x: &Hash) -> B256 {
    B256::from(*x)
}

/// The step a game reached, in words.
fn step_words(models: &Models, id: &[u8; 32], k: usize) -> String {
    match models.get(id) {
        Some((m, p)) if k < p.steps.len() => format!("step {k} ({})", describe(m, p, k)),
        _ => format!("step {k} (past the plan)"),
    }
}

/// Reverts that only mean the other side (or anyone) moved first: the state is read again on
/// the next tick.
const BENIGN: &[&str] = &["GameIsOver", "NotProofPhase", "DeadlineNotReached", "DeadlinePassed", "NotYourTurn", "ClaimNotPending"];

/// `r`, with a benign revert logged and turned into `Ok(None)`.
fn tolerate<T>(r: Result<T>, log: &Log, what: &str) -> Result<Option<T>> {
    match r {
        Err(AgentError::Reverted { reason, .. }) if BENIGN.iter().any(|b| reason.starts_with(b)) => {
            log(&format!("{what}: {reason}; the state moved on, read again next tick"));
            Ok(None)
        }
        r => r.map(Some),
    }
}

/// One side of a game, as seen from the chain.
struct Side<'a> {
    client: &'a Client,
    claims: Address,
    models: &'a Models,
    log: &'a Log,
    as_claimer: bool,
}

/// Play one move of `game` for the side holding `trace`, if it is that side's move; end it by
/// timeout if the opponent missed its deadline. Returns `true` once the game is over.
async fn play(side: &Side<'_>, game_id: U256, trace: &Trace, now: u64) -> Result<bool> {
    let Side { client, claims, models, log, as_claimer } = *side;
    let g = client.view(claims, I::gamesCall { gameId: game_id }).await?;
    let side = if as_claimer { "claimer" } else { "challenger" };
    match g.turn {
        turn::OVER => {
            let c = client.view(claims, I::claimsCall { claimId: g.claimId }).await?;
            let won = if as_claimer { g.winner == c.claimer } else { g.winner == g.challenger };
            log(&format!(
                "game {game_id} over: the {side} {} ({})",
                if won { "won" } else { "lost" },
                step_words(models, &c.modelId.0, g.index as usize)
            ));
            return Ok(true);
        }
        t if (t == turn::CLAIMER) == as_claimer && t != turn::PROOF => {
            let level = u32::from(g.level);
            let (l, r) = trace.tree.children(level, g.index as usize);
            let sent = if as_claimer {
                client.transact(claims, I::revealClaimerCall { gameId: game_id, left: h(&l), right: h(&r) }, U256::ZERO).await
            } else {
                client.transact(claims, I::revealChallengerCall { gameId: game_id, left: h(&l), right: h(&r) }, U256::ZERO).await
            };
            if tolerate(sent, log, &format!("game {game_id}: reveal"))?.is_none() {
                return Ok(false);
            }
            log(&format!("game {game_id}: {side} revealed level {level} (node {} of {})", g.index, 1u64 << (trace.tree.depth() - level)));
        }
        turn::PROOF => {
            let c = client.view(claims, I::claimsCall { claimId: g.claimId }).await?;
            let (_, plan) = models.get(&c.modelId.0).ok_or_else(|| AgentError::Model("a game over an unknown model".into()))?;
            let k = g.index as usize;
            let (leaves, proofs) = trace.step_proof(plan, k);
            let call = I::proveStepCall {
                gameId: game_id,
                step: U256::from(k),
                leaves: leaves.into_iter().map(Bytes::from).collect(),
                proofs: proofs.iter().map(|p| p.iter().map(h).collect()).collect(),
            };
            let Some(gas) = tolerate(client.transact(claims, call, U256::ZERO).await, log, &format!("game {game_id}: proof"))? else {
                return Ok(false);
            };
            log(&format!("game {game_id}: {side} proved {} in the EVM ({gas} gas)", step_words(models, &c.modelId.0, k)));
        }
        _ if now > g.deadline => {
            if tolerate(
                client.transact(claims, I::timeoutCall { gameId: game_id }, U256::ZERO).await,
                log,
                &format!("game {game_id}: timeout"),
            )?
            .is_none()
            {
                return Ok(false);
            }
            log(&format!("game {game_id}: the opponent missed its deadline; the {side} ended the game"));
        }
        _ => {}
    }
    Ok(false)
}

/// The claimer's side.
pub struct Claimer {
    client: Client,
    claims: Address,
    models: Models,
    /// Pending claims with the trace each defends.
    defended: BTreeMap<U256, Trace>,
    /// Games on them still being played.
    games: BTreeMap<U256, U256>,
    /// Rejected claims already reported.
    reported: Vec<U256>,
    next_block: u64,
    log: Box<Log>,
}

impl Claimer {
    /// A claimer sending through `client` to `InferenceClaims` at `claims`.
    pub fn new(client: Client, claims: Address, models: Models, log: Box<Log>) -> Claimer {
        Claimer { client, claims, models, defended: BTreeMap::new(), games: BTreeMap::new(), reported: vec![], next_block: 0, log }
    }

    /// Post `trace`'s input (unless posted) and claim its output with its root and the bond.
    /// Honest claimers pass the trace of their own run ([`Trace::run_packed`]).
    pub async fn claim(&mut self, trace: Trace, steps: Address) -> Result<U256> {
        let id = trace.file.model_id;
        let (_, plan) = self.models.get(&id).ok_or_else(|| AgentError::Model(format!("model 0x{} is not loaded", hex::encode(id))))?;
        let n = plan.steps.len();
        let input = trace.file.steps[0].clone();
        let input_hash = B256::from(solidml_spec::keccak256(&input));
        if !self.client.view(self.claims, I::inputPostedCall { inputHash: input_hash }).await? {
            self.client.transact(self.claims, I::postInputCall { input: input.into() }, U256::ZERO).await?;
        }
        let bond = self.client.view(self.claims, I::claimBondCall {}).await?;
        let depth = trace.tree.depth();
        let call = I::claimCall {
            steps,
            inputHash: input_hash,
            output: Bytes::from(trace.output().to_vec()),
            root: h(&trace.root()),
            inputProof: trace.tree.proof(0, depth).iter().map(h).collect(),
            outputProof: trace.tree.proof(n - 1, depth).iter().map(h).collect(),
        };
        let receipt = self.client.send_receipt("claim", Some(self.claims), alloy_sol_types::SolCall::abi_encode(&call), bond).await?;
        // the id from the receipt's event (another claim may land in between)
        let claim_id = receipt
            .inner
            .logs()
            .iter()
            .filter_map(|l| I::Claimed::decode_log_data(l.data()).ok())
            .find(|e| e.claimer == self.client.from)
            .map(|e| e.claimId)
            .ok_or_else(|| AgentError::Rpc("claim: no Claimed event in the receipt".into()))?;
        (self.log)(&format!(
            "claim {claim_id}: model 0x{}, input 0x{}…, output {} bytes, root 0x{} ({n} steps, {depth} rounds at most)",
            hex::encode(id),
            hex::encode(&input_hash[..6]),
            trace.output().len(),
            hex::encode(trace.root())
        ));
        self.defended.insert(claim_id, trace);
        Ok(claim_id)
    }

    /// Answer what is due; `true` while a claim is still pending.
    pub async fn tick(&mut self) -> Result<bool> {
        let (head, now) = self.client.head().await?;
        // new challenges of our claims
        if head >= self.next_block {
            let filter = Filter::new()
                .address(self.claims)
                .event_signature(I::Challenged::SIGNATURE_HASH)
                .from_block(self.next_block)
                .to_block(head);
            for l in self.client.logs(&filter).await? {
                let e = I::Challenged::decode_log_data(l.data()).map_err(|e| AgentError::Rpc(format!("Challenged log: {e}")))?;
                if self.defended.contains_key(&e.claimId) {
                    (self.log)(&format!("claim {}: challenged by {} (game {})", e.claimId, e.challenger, e.gameId));
                    self.games.insert(e.gameId, e.claimId);
                }
            }
            self.next_block = head + 1;
        }
        let mut over = vec![];
        for (&game, claim) in &self.games {
            let side = Side { client: &self.client, claims: self.claims, models: &self.models, log: &*self.log, as_claimer: true };
            if play(&side, game, &self.defended[claim], now).await? {
                over.push(game);
            }
        }
        over.iter().for_each(|g| {
            self.games.remove(g);
        });
        let mut done = vec![];
        for &claim_id in self.defended.keys() {
            let c = self.client.view(self.claims, I::claimsCall { claimId: claim_id }).await?;
            match c.status {
                status::REJECTED => {
                    if !self.reported.contains(&claim_id) {
                        (self.log)(&format!("claim {claim_id}: rejected"));
                        self.reported.push(claim_id);
                    }
                    done.push(claim_id);
                }
                status::FINAL => done.push(claim_id),
                _ if now > c.deadline && c.openGames == 0 => {
                    let sent = self.client.transact(self.claims, I::finalizeCall { claimId: claim_id }, U256::ZERO).await;
                    if tolerate(sent, &*self.log, &format!("claim {claim_id}: finalize"))?.is_some() {
                        (self.log)(&format!("claim {claim_id}: final"));
                    }
                    done.push(claim_id);
                }
                _ => {}
            }
        }
        // a settled claim's trace goes once no game on it is left to report
        for c in done {
            if !self.games.values().any(|g| *g == c) {
                self.defended.remove(&c);
            }
        }
        Ok(self.defended.keys().any(|c| !self.games.values().any(|g| g == c)) || !self.games.is_empty())
    }
}

/// The verifier's side.
pub struct Verifier {
    client: Client,
    claims: Address,
    models: Models,
    /// Our games, with the trace each plays.
    games: BTreeMap<U256, Trace>,
    next_block: u64,
    log: Box<Log>,
    /// Steps registries found faithful to their model's plan.
    faithful: Vec<Address>,
    /// Claims examined, agreed with, challenged (for reports).
    pub counts: (usize, usize, usize),
}

impl Verifier {
    /// A verifier sending through `client`, watching `InferenceClaims` at `claims`.
    pub fn new(client: Client, claims: Address, models: Models, log: Box<Log>) -> Verifier {
        Verifier { client, claims, models, games: BTreeMap::new(), next_block: 0, log, faithful: vec![], counts: (0, 0, 0) }
    }

    /// Challenge claim `claim_id` with `trace` and play it from then on (the honest path
    /// passes its own re-run; a test passes another).
    pub async fn challenge_with(&mut self, claim_id: U256, trace: Trace) -> Result<U256> {
        let bond = self.client.view(self.claims, I::challengeBondCall {}).await?;
        let call = I::challengeCall { claimId: claim_id, root: h(&trace.root()) };
        let receipt = self.client.send_receipt("challenge", Some(self.claims), alloy_sol_types::SolCall::abi_encode(&call), bond).await?;
        // the id from the receipt's event (other challenges may land in between)
        let game = receipt
            .inner
            .logs()
            .iter()
            .filter_map(|l| I::Challenged::decode_log_data(l.data()).ok())
            .find(|e| e.challenger == self.client.from)
            .map(|e| e.gameId)
            .ok_or_else(|| AgentError::Rpc("challenge: no Challenged event in the receipt".into()))?;
        self.games.insert(game, trace);
        Ok(game)
    }

    /// Examine new claims, play our games; `true` while a game is being played.
    pub async fn tick(&mut self) -> Result<bool> {
        let (head, now) = self.client.head().await?;
        if head >= self.next_block {
            let filter =
                Filter::new().address(self.claims).event_signature(I::Claimed::SIGNATURE_HASH).from_block(self.next_block).to_block(head);
            for l in self.client.logs(&filter).await? {
                let e = I::Claimed::decode_log_data(l.data()).map_err(|e| AgentError::Rpc(format!("Claimed log: {e}")))?;
                self.examine(e).await?;
            }
            self.next_block = head + 1;
        }
        let mut over = vec![];
        for (&game, trace) in &self.games {
            let side = Side { client: &self.client, claims: self.claims, models: &self.models, log: &*self.log, as_claimer: false };
            if play(&side, game, trace, now).await? {
                over.push(game);
            }
        }
        over.iter().for_each(|g| {
            self.games.remove(g);
        });
        Ok(!self.games.is_empty())
    }

    /// Whether the steps registry `steps` is the plan's: the model, the step count, the input
    /// length, and each step contract reading the plan's leaves (checked once per registry).
    /// (The step contracts' code itself is what `solidml steps` generates; comparing it is the
    /// registrant's and the consumers' check: docs/verification.md.)
    async fn faithful(
        c: &Client,
        known: &mut Vec<Address>,
        steps: Address,
        id: [u8; 32],
        plan: &Plan,
    ) -> Result<std::result::Result<(), String>> {
        if known.contains(&steps) {
            return Ok(Ok(()));
        }
        use crate::abi::{ISolidMLStep as S, ISolidMLStepsRegistry as R};
        let bad = |why: String| Ok(Err(why));
        let Ok(model_id) = c.view(steps, R::MODEL_IDCall {}).await else { return bad("not a steps registry".into()) };
        if model_id.0 != id {
            return bad(format!("model 0x{}", hex::encode(model_id)));
        }
        let n = c.view(steps, R::STEP_COUNTCall {}).await?;
        if n != U256::from(plan.steps.len()) {
            return bad(format!("{n} steps, the plan has {}", plan.steps.len()));
        }
        let input = c.view(steps, R::INPUT_BYTESCall {}).await?;
        if input != U256::from(plan.steps[0].len()) {
            return bad(format!("inputs of {input} bytes, the model's are {}", plan.steps[0].len()));
        }
        for k in 1..plan.steps.len() {
            let Ok(a) = c.view(steps, R::stepCall { k: U256::from(k) }).await else { return bad(format!("no contract for step {k}")) };
            let want: Vec<U256> = plan.reads(k).into_iter().map(U256::from).collect();
            match c.view(a, S::readsCall {}).await {
                Ok(r) if r == want => {}
                _ => return bad(format!("step {k}'s contract does not read the plan's leaves")),
            }
        }
        known.push(steps);
        Ok(Ok(()))
    }

    async fn examine(&mut self, e: I::Claimed) -> Result<()> {
        self.counts.0 += 1;
        let id = e.modelId.0;
        let Some((model, plan)) = self.models.get(&id) else {
            (self.log)(&format!("claim {}: model 0x{} is not loaded here; skipped", e.claimId, hex::encode(id)));
            return Ok(());
        };
        let filter =
            Filter::new().address(self.claims).event_signature(I::InputPosted::SIGNATURE_HASH).topic1(e.inputHash).from_block(0u64);
        let Some(posted) = self.client.logs(&filter).await?.into_iter().next() else {
            (self.log)(&format!("claim {}: its input 0x{} was never posted; skipped", e.claimId, hex::encode(e.inputHash)));
            return Ok(());
        };
        let input = I::InputPosted::decode_log_data(posted.data()).map_err(|e| AgentError::Rpc(format!("InputPosted log: {e}")))?.input;
        let trace = match Trace::run_packed(model, id, plan, &input) {
            Ok(t) => t,
            Err(err) => {
                (self.log)(&format!("claim {}: the input does not run ({err}); skipped", e.claimId));
                return Ok(());
            }
        };
        if h(&trace.root()) == e.root {
            self.counts.1 += 1;
            (self.log)(&format!(
                "claim {}: agrees with the re-run (root 0x{}); not challenged",
                e.claimId,
                hex::encode(&trace.root()[..8])
            ));
            return Ok(());
        }
        let why = if trace.output() == &e.output[..] { "the output agrees, the trace does not" } else { "the output differs" };
        // a game this account already opened on the claim (a restarted verifier) is resumed,
        // not opened again with a second bond
        let mine = Filter::new()
            .address(self.claims)
            .event_signature(I::Challenged::SIGNATURE_HASH)
            .topic1(B256::from(e.claimId))
            .from_block(0u64);
        for l in self.client.logs(&mine).await? {
            let c = I::Challenged::decode_log_data(l.data()).map_err(|e| AgentError::Rpc(format!("Challenged log: {e}")))?;
            if c.challenger == self.client.from && c.root == h(&trace.root()) {
                (self.log)(&format!("claim {}: {why}; resuming our game {}", e.claimId, c.gameId));
                self.games.insert(c.gameId, trace);
                self.counts.2 += 1;
                return Ok(());
            }
        }
        let c = self.client.view(self.claims, I::claimsCall { claimId: e.claimId }).await?;
        let (_, now) = self.client.head().await?;
        if c.status != status::PENDING || now > c.deadline {
            (self.log)(&format!("claim {}: {why}, but it is settled or past its window; skipped", e.claimId));
            return Ok(());
        }
        if let Err(reason) = Self::faithful(&self.client, &mut self.faithful, e.steps, id, plan).await? {
            (self.log)(&format!(
                "claim {}: {why}, but its steps registry {} is not this model's ({reason}): not challenged; trust no claim on that registry",
                e.claimId, e.steps
            ));
            return Ok(());
        }
        let game = self.challenge_with(e.claimId, trace).await?;
        self.counts.2 += 1;
        (self.log)(&format!("claim {}: {why}; challenged (game {game})", e.claimId));
        Ok(())
    }
}
