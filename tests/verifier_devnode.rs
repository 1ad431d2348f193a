//! The dispute game end to end on the devnode, played by the agents behind `solidml claim` and
//! `solidml verifier` (`solidml-agent`) over JSON-RPC, each with its own dev account and key:
//!
//! * `InferenceClaims` is deployed (1-hour window, 10-minute rounds, 1 ETH and 0.5 ETH bonds)
//!   and each example model registered with its compiled step contracts;
//! * an honest claim for each example model is re-run by the verifier, which does not
//!   challenge it, and finalizes after the window (time moved with `evm_increaseTime`); its
//!   result is readable on chain;
//! * a claim with one flipped output byte, and a claim with a correct output over one wrong
//!   intermediate chunk, are challenged by the verifier and lost by the claimer at the step the
//!   EVM re-executes; the rounds are logged (⌈log2 steps⌉ each);
//! * a dishonest challenge of an honest claim is lost by the challenger, and a claimer that
//!   stops answering loses by timeout.
//!
//! Needs solc (`FOUNDRY_BIN`); fails without it unless `SOLIDML_SKIP` lists `forge`.

use std::sync::{Arc, Mutex};

use alloy_primitives::{U256, utils::parse_ether};
use alloy_provider::Provider;
use solidml_agent::{
    Claimer, Client, GameParams, Models, Verifier,
    abi::{IInferenceClaims as I, status},
    deploy_claims, register_model,
};
use solidml_devnode::NodeConfig;
use solidml_tests::{random_spec::random_inputs, *};
use solidml_trace::{Plan, Trace};

/// anvil's first dev keys (`test test … junk`): the claimer, the verifier, a dishonest
/// challenger, a claimer that goes silent.
const KEYS: [&str; 4] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
];

fn tampered(t: &Trace, k: usize) -> Trace {
    let mut f = t.file.clone();
    f.steps[k][0] ^= 1;
    Trace::new(f)
}

type Lines = Arc<Mutex<Vec<String>>>;

fn logger(lines: &Lines, who: &'static str) -> Box<solidml_agent::Log> {
    let lines = lines.clone();
    Box::new(move |l: &str| {
        eprintln!("[{who}] {l}");
        lines.lock().unwrap().push(format!("[{who}] {l}"));
    })
}

async fn advance(c: &Client, seconds: u64) {
    let _: serde_json::Value = c.provider().raw_request("evm_increaseTime".into(), (seconds,)).await.unwrap();
    let _: serde_json::Value = c.provider().raw_request("evm_mine".into(), ()).await.unwrap();
}

/// Tick both sides until neither has anything left to do (bounded).
async fn settle(claimer: &mut Claimer, verifier: &mut Verifier) {
    for _ in 0..64 {
        let a = claimer.tick().await.unwrap();
        let b = verifier.tick().await.unwrap();
        if !b && !a {
            return;
        }
        if !b {
            // only the claim's window is left
            return;
        }
    }
    panic!("the game did not end in 64 ticks");
}

#[test]
fn claims_and_challenges_on_the_devnode() {
    let Some(solc) = require_solc() else { return };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let node = rt.block_on(solidml_devnode::spawn(NodeConfig::default().with_port(0).with_quiet(true))).unwrap();
    let url = node.endpoint();
    rt.block_on(async {
        let clients: Vec<Client> = futures_join(&url).await;
        let params = GameParams {
            challenge_window: 3600,
            round_timeout: 600,
            claim_bond: parse_ether("1").unwrap(),
            challenge_bond: parse_ether("0.5").unwrap(),
        };
        let claims = deploy_claims(&clients[0], &solc, params).await.unwrap();
        let lines: Lines = Arc::default();
        let mut loaded = vec![];
        let (mut m_claimer, mut m_verifier, mut m_troll, mut m_silent) =
            (Models::default(), Models::default(), Models::default(), Models::default());
        for &(model, calib) in EXAMPLE_MODELS {
            let c = compile_example(model, calib);
            let plan = Plan::of(&c.model).unwrap();
            let log = logger(&lines, "register");
            let (registry, _) = register_model(&clients[0], &solc, claims, &c.model, c.model_id, &plan, &log).await.unwrap();
            for m in [&mut m_claimer, &mut m_verifier, &mut m_troll, &mut m_silent] {
                m.insert(c.model_id, c.model.clone()).unwrap();
            }
            loaded.push((model, c, plan, registry));
        }
        let mut claimer = Claimer::new(clients[0].clone(), claims, m_claimer, logger(&lines, "claimer"));
        let mut verifier = Verifier::new(clients[1].clone(), claims, m_verifier.clone(), logger(&lines, "verifier"));
        let view = |id: U256| {
            let c = clients[3].clone();
            async move { c.view(claims, I::claimsCall { claimId: id }).await.unwrap() }
        };

        // honest claims: not challenged, final after the window
        let mut honest = vec![];
        for (i, (_, c, plan, registry)) in loaded.iter().enumerate() {
            let inputs = random_inputs(&mut Rng(100 + i as u32), &c.model);
            let t = Trace::run(&c.model, c.model_id, plan, &inputs).unwrap();
            honest.push((claimer.claim(t.clone(), *registry).await.unwrap(), t));
        }
        verifier.tick().await.unwrap();
        let n = EXAMPLE_MODELS.len();
        assert_eq!(verifier.counts, (n, n, 0), "the verifier agrees with every honest claim");
        advance(&clients[0], 3601).await;
        claimer.tick().await.unwrap();
        for (id, t) in &honest {
            assert_eq!(view(*id).await.status, status::FINAL);
            let out = clients[3].view(claims, I::resultCall { claimId: *id }).await.unwrap();
            assert_eq!(out.as_ref(), t.output());
        }

        // wrong claims, on the MLP and the CNN: the verifier challenges and wins
        for (model, c, plan, registry) in loaded.iter().take(2) {
            let inputs = random_inputs(&mut Rng(7), &c.model);
            let t = Trace::run(&c.model, c.model_id, plan, &inputs).unwrap();
            let n = plan.steps.len();
            for (what, bad, step) in
                [("a flipped output byte", tampered(&t, n - 1), n - 1), ("a wrong intermediate chunk", tampered(&t, n / 2), n / 2)]
            {
                let before = lines.lock().unwrap().len();
                let id = claimer.claim(bad, *registry).await.unwrap();
                verifier.tick().await.unwrap();
                assert_eq!(view(id).await.openGames, 1, "{model}: {what} is challenged");
                settle(&mut claimer, &mut verifier).await;
                assert_eq!(view(id).await.status, status::REJECTED, "{model}: {what}");
                let log = lines.lock().unwrap()[before..].join("\n");
                assert!(log.contains(&format!("proved step {step} ")), "{model}: {what}: the step re-executed\n{log}");
                assert!(log.contains("[verifier] game") && log.contains("over: the challenger won"), "{log}");
                let reveals = log.matches("challenger revealed level").count();
                assert_eq!(reveals as u32, t.tree.depth(), "{model}: one reveal per round\n{log}");
                eprintln!("{model}: {what}: rejected after {reveals} rounds");
            }
        }

        // a verifier restarted in the middle of a game resumes it (no second challenge, no
        // second bond) and wins it
        {
            let (_, c, plan, registry) = &loaded[1];
            let t = Trace::run(&c.model, c.model_id, plan, &random_inputs(&mut Rng(12), &c.model)).unwrap();
            let id = claimer.claim(tampered(&t, 2), *registry).await.unwrap();
            verifier.tick().await.unwrap();
            claimer.tick().await.unwrap();
            verifier.tick().await.unwrap();
            let games_before = clients[3].view(claims, I::gameCountCall {}).await.unwrap();
            verifier = Verifier::new(clients[1].clone(), claims, m_verifier.clone(), logger(&lines, "verifier"));
            settle(&mut claimer, &mut verifier).await;
            assert_eq!(clients[3].view(claims, I::gameCountCall {}).await.unwrap(), games_before, "no second game");
            assert_eq!(view(id).await.status, status::REJECTED);
            assert!(
                lines
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|l| l.contains(&format!("claim {id}: the output agrees, the trace does not; resuming our game")))
            );
        }

        // a wrong claim on a registry that is not the model's (no step contracts behind it):
        // the verifier does not bond against a game it could not win, and says so
        {
            let (_, c, plan, _) = &loaded[0];
            let fake = sparse_registry(&clients[0], &solc, claims, c.model_id, plan).await;
            let t = Trace::run(&c.model, c.model_id, plan, &random_inputs(&mut Rng(8), &c.model)).unwrap();
            let before = verifier.counts;
            let id = claimer.claim(tampered(&t, plan.steps.len() - 1), fake).await.unwrap();
            verifier.tick().await.unwrap();
            assert_eq!(verifier.counts.2, before.2, "no challenge on a registry that is not the model's");
            assert_eq!(view(id).await.openGames, 0);
            let log = lines.lock().unwrap().join("\n");
            assert!(log.contains(&format!("its steps registry {fake} is not this model's (step 1")), "{log}");
        }

        // a dishonest challenge of an honest claim loses
        let (_, c, plan, registry) = &loaded[1];
        let t = Trace::run(&c.model, c.model_id, plan, &random_inputs(&mut Rng(9), &c.model)).unwrap();
        let id = claimer.claim(t.clone(), *registry).await.unwrap();
        verifier.tick().await.unwrap();
        let mut troll = Verifier::new(clients[2].clone(), claims, m_troll, logger(&lines, "troll"));
        troll.challenge_with(id, tampered(&t, plan.steps.len() / 2)).await.unwrap();
        settle(&mut claimer, &mut troll).await;
        let g = clients[3]
            .view(claims, I::gamesCall { gameId: U256::from(clients[3].view(claims, I::gameCountCall {}).await.unwrap() - U256::from(1)) })
            .await
            .unwrap();
        assert_eq!(g.winner, clients[0].from, "the honest claimer wins");
        advance(&clients[0], 3601).await;
        claimer.tick().await.unwrap();
        assert_eq!(view(id).await.status, status::FINAL);

        // a claimer that stops answering loses by timeout
        let mut silent = Claimer::new(clients[3].clone(), claims, m_silent, logger(&lines, "silent"));
        let t = Trace::run(&c.model, c.model_id, plan, &random_inputs(&mut Rng(10), &c.model)).unwrap();
        let id = silent.claim(tampered(&t, plan.steps.len() - 1), *registry).await.unwrap();
        verifier.tick().await.unwrap();
        advance(&clients[1], 601).await;
        verifier.tick().await.unwrap();
        assert_eq!(view(id).await.status, status::REJECTED, "the silent claimer loses");
        let balance = clients[1].view(claims, I::balanceOfCall { who: clients[1].from }).await.unwrap();
        assert!(balance >= parse_ether("1.5").unwrap(), "the verifier's winnings: {balance}");
    });
    drop(node);
}

async fn futures_join(url: &str) -> Vec<Client> {
    let mut v = vec![];
    for k in KEYS {
        v.push(Client::connect(url, Some(k)).await.unwrap());
    }
    v
}

/// The SqueezeNet-class CNN: an honest claim (its 150 KB input posted, its 3,902-step trace
/// committed) is re-run by the verifier, not challenged, and final after the window. Its
/// registry lists no step contracts (`tests/solidity/SparseSteps.sol`: compiling all 3,901
/// takes about 30 minutes; `tests/dispute_game.rs` plays real games over its steps); an honest
/// claim never reaches one. Needs the Python env (`SOLIDML_SKIP=python` skips).
#[test]
fn squeezenet_class_cnn_honest_claim_finalizes_on_the_devnode() {
    let Some(py) = require_python() else { return };
    let Some(solc) = require_solc() else { return };
    let c = squeezenet(&py, &std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("verifier_squeezenet"));
    let plan = Plan::of(&c.model).unwrap();
    let t = Trace::run(&c.model, c.model_id, &plan, &random_inputs(&mut Rng(3), &c.model)).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let node = rt.block_on(solidml_devnode::spawn(NodeConfig::default().with_port(0).with_quiet(true))).unwrap();
    let url = node.endpoint();
    rt.block_on(async {
        let clients = futures_join(&url).await;
        let params = GameParams {
            challenge_window: 3600,
            round_timeout: 600,
            claim_bond: parse_ether("1").unwrap(),
            challenge_bond: parse_ether("0.5").unwrap(),
        };
        let claims = deploy_claims(&clients[0], &solc, params).await.unwrap();
        let registry = sparse_registry(&clients[0], &solc, claims, c.model_id, &plan).await;
        let lines: Lines = Arc::default();
        let mut models = Models::default();
        models.insert(c.model_id, c.model.clone()).unwrap();
        let mut claimer = Claimer::new(clients[0].clone(), claims, models, logger(&lines, "claimer"));
        let mut models = Models::default();
        models.insert(c.model_id, c.model.clone()).unwrap();
        let mut verifier = Verifier::new(clients[1].clone(), claims, models, logger(&lines, "verifier"));
        let id = claimer.claim(t.clone(), registry).await.unwrap();
        verifier.tick().await.unwrap();
        assert_eq!(verifier.counts, (1, 1, 0), "the verifier agrees with the honest claim");
        advance(&clients[0], 3601).await;
        claimer.tick().await.unwrap();
        let claim = clients[2].view(claims, I::claimsCall { claimId: id }).await.unwrap();
        assert_eq!(claim.status, status::FINAL);
        let out = clients[2].view(claims, I::resultCall { claimId: id }).await.unwrap();
        assert_eq!(out.as_ref(), t.output());
        eprintln!(
            "SqueezeNet-class CNN: {} steps, root 0x{}: final, not challenged",
            plan.steps.len(),
            alloy_primitives::hex::encode(t.root())
        );
    });
    drop(node);
}

/// A registry of `id` that lists no step contracts (`tests/solidity/SparseSteps.sol`),
/// registered with `claims`.
async fn sparse_registry(
    c: &Client,
    solc: &solidml_solidity::solc::Solc,
    claims: alloy_primitives::Address,
    id: [u8; 32],
    plan: &Plan,
) -> alloy_primitives::Address {
    use alloy_primitives::B256;
    use alloy_sol_types::SolValue;
    let sources = vec![
        ("SolidMLSteps.sol".to_string(), solidml_agent::abi::SOLIDML_STEPS_SOL.to_string()),
        ("SparseSteps.sol".to_string(), include_str!("solidity/SparseSteps.sol").to_string()),
    ];
    let compiled = solc.compile(&sources, &Default::default()).unwrap();
    let mut initcode = compiled["SparseSteps"].initcode.clone();
    initcode.extend((B256::from(id), U256::from(plan.steps.len()), U256::from(plan.steps[0].len())).abi_encode_params());
    let (registry, _) = c.deploy("SparseSteps", initcode).await.unwrap();
    c.transact(claims, I::registerModelCall { steps: registry }, U256::ZERO).await.unwrap();
    registry
}
