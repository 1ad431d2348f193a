//! Verifiable inference (docs/verification.md): `solidml trace` (a run's steps and
//! commitment), `solidml steps` (a model's step contracts), `solidml game deploy|register`
//! (`InferenceClaims` and a model's registration on a chain), `solidml claim` (post and defend a
//! claim) and `solidml verifier` (re-run every claim, challenge the wrong ones).

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use alloy_primitives::{Address, U256};
use solidml_agent::{Claimer, Client, GameParams, Models, Verifier};
use solidml_compiler::runner;
use solidml_solidity::solc::Solc;
use solidml_spec::Model;
use solidml_trace::{Plan, Trace, plan::StepKind};

use crate::{build, data, error::CliError};

type Result<T> = miette::Result<T>;

/// Where to reach a chain, as whom.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Rpc {
    /// The node's JSON-RPC endpoint
    #[arg(long, default_value = "http://127.0.0.1:8545")]
    pub(crate) rpc_url: String,
    /// Private key to send with (hex); default: the node's first unlocked account (a dev node)
    #[arg(long)]
    pub(crate) private_key: Option<String>,
}

/// A loaded artifact with its id and plan.
struct Loaded {
    model: Model,
    id: [u8; 32],
    plan: Plan,
}

fn load(artifact: &Path) -> Result<Loaded> {
    let bytes = std::fs::read(artifact).map_err(|e| CliError::io(artifact, e))?;
    let model = solidml_spec::decode(&bytes).map_err(|e| CliError::Artifact { path: artifact.display().to_string(), source: e })?;
    let plan = Plan::of(&model).map_err(|e| CliError::Verify(e.to_string()))?;
    Ok(Loaded { id: solidml_spec::keccak256(&bytes), model, plan })
}

/// Sample `sample` of the input files, traced.
fn trace_of(l: &Loaded, inputs: &[PathBuf], sample: usize) -> Result<Trace> {
    let names: Vec<String> = l.model.inputs.iter().map(|&i| l.model.tensor(i).name.clone()).collect();
    let arrays: Vec<_> = inputs
        .iter()
        .enumerate()
        .map(|(i, p)| data::read_input(p, names.get(i).map(String::as_str).unwrap_or("")))
        .collect::<std::result::Result<_, _>>()?;
    let samples = build::split_samples(&l.model, &arrays, inputs)?;
    let s = samples.get(sample).ok_or_else(|| CliError::Usage(format!("sample {sample} asked, the input holds {}", samples.len())))?;
    let values: Vec<_> = s.iter().enumerate().map(|(i, x)| runner::quantize_input(&l.model, i, x)).collect();
    Ok(Trace::run(&l.model, l.id, &l.plan, &values).map_err(|e| CliError::Verify(e.to_string()))?)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| CliError::Verify(format!("async runtime: {e}")))?)
}

fn agent(e: solidml_agent::AgentError) -> CliError {
    CliError::Verify(e.to_string())
}

fn log() -> Box<solidml_agent::Log> {
    Box::new(|l: &str| eprintln!("{l}"))
}

/// `solidml trace`: run one sample, write the `.trace` file, print the commitment.
pub(crate) fn trace(artifact: &Path, inputs: &[PathBuf], sample: usize, out: Option<&Path>) -> Result<()> {
    let l = load(artifact)?;
    let t = trace_of(&l, inputs, sample)?;
    let path = out.map(Path::to_path_buf).unwrap_or_else(|| artifact.with_extension("trace"));
    std::fs::write(&path, t.encode()).map_err(|e| CliError::io(&path, e))?;
    let bytes: usize = t.file.steps.iter().map(Vec::len).sum();
    println!("trace      {}", path.display());
    println!("modelId    0x{}", hex::encode(l.id));
    println!("input      0x{} (keccak256, {} bytes)", hex::encode(solidml_spec::keccak256(&t.file.steps[0])), t.file.steps[0].len());
    println!("output     0x{}", hex::encode(t.output()));
    println!("steps      {} ({} bytes in all; {} rounds of bisection)", l.plan.steps.len(), bytes, t.tree.depth());
    println!("root       0x{}", hex::encode(t.root()));
    Ok(())
}

/// `solidml steps`: the plan, and the step contracts' Solidity under `out`.
pub(crate) fn steps(artifact: &Path, out: &Path, only: &[usize]) -> Result<()> {
    let l = load(artifact)?;
    let n = l.plan.steps.len();
    let wanted: Vec<usize> = if only.is_empty() { (1..n).collect() } else { only.to_vec() };
    if let Some(&k) = wanted.iter().find(|&&k| k == 0 || k >= n) {
        return Err(
            CliError::Usage(format!("step {k} has no contract: the model's steps are 0..{n}, and step 0 (the input) has none")).into()
        );
    }
    build::write_all(out, &emit_steps(&l.model, &l.id, &l.plan, &wanted, "")?)?;
    // the plan per node
    let mut per_node: Vec<(String, usize)> = vec![];
    for s in &l.plan.steps {
        if let StepKind::Node { node, .. } = s.kind {
            let name = &l.model.nodes[node].name;
            match per_node.last_mut() {
                Some((last, c)) if last == name => *c += 1,
                _ => per_node.push((name.clone(), 1)),
            }
        }
    }
    println!("{} steps: the input, {} node chunks, the output ({} rounds of bisection)", n, n - 2, solidml_trace::merkle::depth_for(n));
    for (name, c) in per_node {
        println!("  {name:<32} {c:>6}");
    }
    println!("{} step contract(s) written to {}", wanted.len(), out.display());
    Ok(())
}

/// The Solidity of steps `wanted`, under `prefix`.
fn emit_steps(model: &Model, id: &[u8; 32], plan: &Plan, wanted: &[usize], prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let mut files = vec![];
    for &k in wanted {
        let e = solidml_solidity::steps::emit_step(model, id, plan, k, &Default::default()).map_err(CliError::from)?;
        files.extend(e.files.into_iter().map(|(p, c)| (format!("{prefix}{p}"), c.into_bytes())));
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files.dedup_by(|a, b| a.0 == b.0);
    Ok(files)
}

/// Every step contract of a model, under `prefix` (`solidml compile --steps`).
pub(crate) fn step_files(model: &Model, id: &[u8; 32], prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let plan = Plan::of(model).map_err(|e| CliError::Verify(e.to_string()))?;
    let all: Vec<usize> = (1..plan.steps.len()).collect();
    emit_steps(model, id, &plan, &all, prefix)
}

/// `solidml game deploy`.
pub(crate) fn deploy(rpc: &Rpc, params: GameParams) -> Result<()> {
    let solc = Solc::locate().map_err(CliError::from)?;
    runtime()?.block_on(async {
        let c = Client::connect(&rpc.rpc_url, rpc.private_key.as_deref()).await.map_err(agent)?;
        let a = solidml_agent::deploy_claims(&c, &solc, params).await.map_err(agent)?;
        println!("{a}");
        Ok(())
    })
}

/// `solidml game register`.
pub(crate) fn register(rpc: &Rpc, claims: Address, artifact: &Path) -> Result<()> {
    let l = load(artifact)?;
    let solc = Solc::locate().map_err(CliError::from)?;
    runtime()?.block_on(async {
        let c = Client::connect(&rpc.rpc_url, rpc.private_key.as_deref()).await.map_err(agent)?;
        let (registry, _) = solidml_agent::register_model(&c, &solc, claims, &l.model, l.id, &l.plan, &log()).await.map_err(agent)?;
        println!("{registry}");
        Ok(())
    })
}

/// `solidml claim`: post one claim and defend it until it is final or rejected.
pub(crate) fn claim(
    rpc: &Rpc,
    claims: Address,
    steps: Address,
    artifact: &Path,
    inputs: &[PathBuf],
    sample: usize,
    poll: Duration,
) -> Result<()> {
    let l = load(artifact)?;
    let t = trace_of(&l, inputs, sample)?;
    runtime()?.block_on(async {
        let c = Client::connect(&rpc.rpc_url, rpc.private_key.as_deref()).await.map_err(agent)?;
        let mut models = Models::default();
        models.insert(l.id, l.model.clone()).map_err(agent)?;
        let mut claimer = Claimer::new(c, claims, models, log());
        let id = claimer.claim(t, steps).await.map_err(agent)?;
        println!("{id}");
        while claimer.tick().await.map_err(agent)? {
            tokio::time::sleep(poll).await;
        }
        Ok(())
    })
}

/// `solidml verifier`: watch `InferenceClaims`, re-run every claim of a model in `models`,
/// challenge the wrong ones and play their games; until interrupted (or idle, with `--once`).
pub(crate) fn verifier(rpc: &Rpc, claims: Address, models_dir: &Path, poll: Duration, once: bool) -> Result<()> {
    let mut models = Models::default();
    let entries = std::fs::read_dir(models_dir).map_err(|e| CliError::io(models_dir, e))?;
    let mut count = 0;
    for e in entries {
        let p = e.map_err(|e| CliError::io(models_dir, e))?.path();
        if p.extension().is_some_and(|x| x == "smodel") {
            let l = load(&p)?;
            models.insert(l.id, l.model).map_err(agent)?;
            count += 1;
        }
    }
    if count == 0 {
        return Err(
            CliError::Usage(format!("no .smodel artifacts in {}: the verifier re-runs the models it has", models_dir.display())).into()
        );
    }
    eprintln!("verifier: {count} model(s) from {}, watching InferenceClaims at {claims} on {}", models_dir.display(), rpc.rpc_url);
    runtime()?.block_on(async {
        let c = Client::connect(&rpc.rpc_url, rpc.private_key.as_deref()).await.map_err(agent)?;
        let mut v = Verifier::new(c, claims, models, log());
        loop {
            let busy = v.tick().await.map_err(agent)?;
            if once && !busy {
                let (seen, agreed, challenged) = v.counts;
                eprintln!("verifier: {seen} claim(s) seen, {agreed} agreed, {challenged} challenged");
                return Ok(());
            }
            tokio::time::sleep(poll).await;
        }
    })
}

/// Parse wei: an integer, or a decimal with an `ether` suffix.
pub(crate) fn parse_wei(s: &str) -> std::result::Result<U256, String> {
    match s.strip_suffix("ether") {
        Some(e) => alloy_primitives::utils::parse_ether(e.trim()).map_err(|e| e.to_string()),
        None => s.parse::<U256>().map_err(|e| e.to_string()),
    }
}
