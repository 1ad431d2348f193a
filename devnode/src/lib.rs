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
pub mod chain;
pub mod config;
pub mod dump;
pub mod error;
pub mod evm;
pub mod models;
pub mod node;
pub mod rpc;
pub mod server;

pub use config::{NodeArgs, NodeConfig};
pub use error::{DevnodeError, RpcError};
pub use node::Node;
pub use server::{RunningNode, run, spawn};
