//! Start-up and the server: derive the accounts, pick the executor, load the models and any
//! state file, build genesis, serve JSON-RPC over HTTP and WebSocket on one port (jsonrpsee),
//! print anvil's banner and `Listening on ADDR:PORT`, mine on an interval when asked, dump the
//! state every `--state-interval` seconds and on exit (SIGINT or SIGTERM).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use alloy_primitives::Address;
use jsonrpsee::server::{Server, ServerConfig, ServerHandle};
use solidml_precompile::{SOLIDML_PRECOMPILE, SolidMlPrecompile, access::MODEL_REGISTRY, precompile::Status};
use solidml_revm::{CallRecord, SolidMlPrecompiles};

use crate::{
    DevnodeError,
    accounts::derive,
    banner,
    chain::{Clock, Genesis},
    config::{Mining, NodeConfig},
    dump,
    evm::SPEC,
    models::NodeModels,
    node::Node,
    rpc,
};

/// `ModelRegistry`'s runtime code (stdlib-sol/src/ModelRegistry.sol, compiled by solc 0.8.30;
/// `stdlib-sol/test.sh` checks this copy against the source).
const MODEL_REGISTRY_RUNTIME: &str = include_str!("../genesis/ModelRegistry.runtime.hex");

fn model_registry_code() -> alloy_primitives::Bytes {
    alloy_primitives::Bytes::from(hex::decode(MODEL_REGISTRY_RUNTIME.trim()).expect("committed hex"))
}

/// Largest request body accepted (an artifact upload or a large deployment fits).
pub const MAX_REQUEST_BYTES: u32 = 100 * 1024 * 1024;

/// Subscription ids as geth and anvil write them: `0x` and 32 hex digits (jsonrpsee's default is
/// a JSON number, which some clients refuse). Unpredictable: a counter through std's randomly
/// keyed SipHash.
#[derive(Debug, Default)]
struct HexSubscriptionIds {
    next: std::sync::atomic::AtomicU64,
    keys: std::collections::hash_map::RandomState,
}

impl jsonrpsee::core::traits::IdProvider for HexSubscriptionIds {
    fn next_id(&self) -> jsonrpsee::types::SubscriptionId<'static> {
        use std::hash::BuildHasher;
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (a, b) = (self.keys.hash_one((n, 0u8)), self.keys.hash_one((n, 1u8)));
        jsonrpsee::types::SubscriptionId::Str(format!("0x{a:016x}{b:016x}").into())
    }
}

/// A node serving on an address.
pub struct RunningNode {
    /// The node.
    pub node: Arc<Node>,
    /// Where it listens.
    pub addr: SocketAddr,
    handle: ServerHandle,
}

impl RunningNode {
    /// `http://ADDR:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop serving and write the state file if one is configured.
    pub async fn stop(self) -> Result<(), DevnodeError> {
        let _ = self.handle.stop();
        self.handle.stopped().await;
        if let Some(path) = &self.node.config.dump_state {
            dump::write_file(&self.node, path)?;
        }
        Ok(())
    }
}

fn log_call(record: &CallRecord<'_>, backend: &str, models: &NodeModels) {
    use solidml_precompile::ModelStore;
    let entry = if record.entry == Address::from(SOLIDML_PRECOMPILE) { "solidml" } else { "opengradient" };
    let model = (record.entry == Address::from(SOLIDML_PRECOMPILE) && record.input.len() >= 32)
        .then(|| <[u8; 32]>::try_from(&record.input[..32]).ok())
        .flatten();
    let (id, macs) = match model {
        Some(id) => {
            (format!("0x{}", hex::encode(id)), models.get(&id).ok().flatten().map(|m| m.model.macs().to_string()).unwrap_or("-".into()))
        }
        None => ("-".into(), "-".into()),
    };
    let status = match &record.outcome.status {
        Status::Success(_) => "ok".to_string(),
        Status::Revert(e) => format!("reverted: {e}"),
        Status::OutOfGas(e) => format!("out of gas: {e}"),
    };
    println!(
        "    {entry} inference: model {id} backend {backend} macs {macs} gas {} time {}µs caller {} {status}",
        record.outcome.gas_used,
        record.elapsed.as_micros(),
        record.caller
    );
}

/// Start a node (in the current tokio runtime) and print its banner unless quiet.
pub async fn spawn(config: NodeConfig) -> Result<RunningNode, DevnodeError> {
    let accounts = derive(&config.mnemonic, &config.derivation_path, config.accounts)?;
    let executor = solidml_backends::make(config.backend).map_err(DevnodeError::Backend)?;
    let backend = executor.name();
    let backend_name = backend.clone();
    let models = Arc::new(NodeModels::default());
    if let Some(dir) = &config.models {
        let n = models.load_dir(dir)?;
        if !config.quiet {
            println!("Loaded {n} model(s) from {}", dir.display());
        }
    }
    let precompile = SolidMlPrecompile::new(executor).with_store(models.clone()).with_schedule(config.gas_schedule.schedule());
    let registry = Address::from(MODEL_REGISTRY);
    let mut precompiles = SolidMlPrecompiles::new(SPEC, precompile).with_registry(registry);
    if !config.quiet {
        let models = models.clone();
        precompiles = precompiles.with_observer(Arc::new(move |r: &CallRecord<'_>| log_call(r, &backend, &models)));
    }
    let timestamp = config.genesis_timestamp.unwrap_or_else(|| Clock::default().current());
    let genesis = Genesis {
        chain_id: config.chain_id,
        gas_limit: config.gas_limit,
        base_fee: config.base_fee,
        timestamp,
        balances: accounts.iter().map(|a| (a.address, config.balance)).collect(),
        contracts: vec![(registry, model_registry_code())],
    };
    let node = Node::new(genesis, precompiles, models, accounts, config.clone());
    if let Some(path) = &config.load_state {
        dump::read_file(&node, path)?;
    }

    let limits = ServerConfig::builder()
        .max_request_body_size(MAX_REQUEST_BYTES)
        .max_response_body_size(u32::MAX)
        .max_connections(10_000)
        .set_id_provider(HexSubscriptionIds::default())
        .build();
    // CORS as anvil: any origin, any method and header (a dev node serves local dapps)
    let cors = tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods(tower_http::cors::Any)
        .allow_headers(tower_http::cors::Any);
    let server = Server::builder()
        .set_config(limits)
        .set_http_middleware(tower::ServiceBuilder::new().layer(cors))
        .build(SocketAddr::new(config.host, config.port))
        .await
        .map_err(|e| DevnodeError::Server(format!("cannot listen on {}:{}: {e}", config.host, config.port)))?;
    let addr = server.local_addr().map_err(|e| DevnodeError::Server(e.to_string()))?;
    let handle = server.start(rpc::module(node.clone()));

    let genesis_ts = node.chain.read().block(0).map(|b| b.header.timestamp).unwrap_or(timestamp);
    let genesis_number = 0;
    if let Some(path) = &config.config_out {
        let json = banner::config_json(&config, &node.accounts, genesis_ts, genesis_number);
        std::fs::write(path, serde_json::to_vec_pretty(&json).unwrap_or_default())
            .map_err(|e| DevnodeError::Config(format!("--config-out {}: {e}", path.display())))?;
    }
    if !config.quiet {
        print!("{}", banner::banner(&config, &backend_name, &node.accounts, genesis_ts, genesis_number));
        println!("Listening on {addr}");
    }
    {
        // the automine task: mines whatever became ready (Node::submit wakes it)
        let node = node.clone();
        tokio::spawn(async move {
            loop {
                node.ready.notified().await;
                let n = node.clone();
                let _ = tokio::task::spawn_blocking(move || n.mine_ready()).await;
            }
        });
    }
    if let Mining::Interval(secs) = config.mining {
        let node = node.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(secs));
            tick.tick().await;
            loop {
                tick.tick().await;
                let n = node.clone();
                let _ = tokio::task::spawn_blocking(move || n.mine(1, None, None)).await;
            }
        });
    }
    if let (Some(secs), Some(path)) = (config.state_interval, config.dump_state.clone()) {
        let node = node.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(secs.max(1)));
            tick.tick().await;
            loop {
                tick.tick().await;
                let (n, p) = (node.clone(), path.clone());
                if let Ok(Err(e)) = tokio::task::spawn_blocking(move || dump::write_file(&n, &p)).await {
                    eprintln!("state dump failed: {e}");
                }
            }
        });
    }
    Ok(RunningNode { node, addr, handle })
}

/// Run a node until SIGINT or SIGTERM, then write the state file if configured.
pub fn run(config: NodeConfig) -> Result<(), DevnodeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| DevnodeError::Server(e.to_string()))?;
    runtime.block_on(async move {
        let running = spawn(config).await?;
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(|e| DevnodeError::Server(e.to_string()))?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        let quiet = running.node.config.quiet;
        let dumped = running.node.config.dump_state.clone();
        running.stop().await?;
        if let (false, Some(p)) = (quiet, dumped) {
            println!("State dumped to {}", dump::dump_path(&p).display());
        }
        Ok(())
    })
}
