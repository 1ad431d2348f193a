//! # solidml-devnode
//!
//! An anvil-compatible JSON-RPC dev node whose EVM runs SolidML models: revm (Prague rules)
//! with Ethereum's precompiles plus the SolidML precompile at `0x…501D` and the
//! OpenGradient-compatible entry at `0x…F4` in every execution (transactions, calls, gas
//! estimates, traces), on the CPU reference or the wgpu executor (`--backend`).
//!
//! It behaves like anvil 1.7 for the clients that talk to anvil: the same flags and defaults
//! ([`config`]), the same banner ([`banner`]), the same accounts from the same mnemonic
//! ([`accounts`]), the same JSON-RPC methods, answers and error codes ([`rpc`]), and state files
//! in anvil's shape ([`dump`]). What differs from anvil is listed in `devnode/README.md`.
//!
//! * [`chain`]: state, blocks, pool, mining, snapshots; [`evm`]: one execution on revm.
//! * [`node`]: the chain behind a lock and the operations RPC methods are made of.
//! * [`models`]: the models the precompiles serve (`--models DIR`, `solidml_uploadModel`).
//! * [`server`]: start-up, the HTTP/WebSocket server, interval mining, dumps on exit.

pub mod accounts;
pub mod banner;
pub mod bench;
pub mod chain;
pub mod config;
pub mod dump;
pub mod error;
pub mod evm;
pub mod models;
pub mod node;
pub mod rpc;
pub mod server;
pub mod trie;

pub use config::{DevnodeCommand, NodeArgs, NodeConfig};
pub use error::{DevnodeError, RpcError};
pub use node::Node;
pub use server::{RunningNode, run, spawn};

/// `devnode [FLAGS]` or `devnode bench`: run the node, or benchmark it against anvil
/// (`default_model` gives the artifact to time when `--model` is absent).
pub fn run_command(cmd: DevnodeCommand, default_model: impl FnOnce() -> Option<Vec<u8>>) -> Result<(), DevnodeError> {
    match cmd.command {
        None => run(NodeConfig::from(cmd.node)),
        Some(config::DevnodeSubcommand::Bench(b)) => {
            let artifact = match &b.model {
                Some(p) => Some(std::fs::read(p).map_err(|e| DevnodeError::Models(format!("{}: {e}", p.display())))?),
                None => default_model(),
            };
            let options = bench::BenchOptions {
                anvil: b.anvil_path(),
                clients: b.clients.max(1),
                calls: b.calls.max(1),
                transactions: b.transactions.max(1),
                rounds: b.rounds.max(1),
                model: artifact.map(|a| (a, b.backends.clone())),
            };
            bench::bench(&options)
        }
    }
}
