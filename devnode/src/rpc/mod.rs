//! The JSON-RPC surface, served by jsonrpsee over HTTP and WebSocket on one port (batches
//! included): `eth_*`, `net_*`, `web3_*` ([`eth`]), anvil's `anvil_*`/`evm_*` with their
//! `hardhat_*` aliases ([`anvil`]), `debug_trace*` ([`debug`]) and `solidml_*` ([`solidml`]).
//!
//! Every method takes its positional parameters through [`Args`] and answers an [`RpcError`]
//! with anvil's code and message when it fails. Where it runs:
//!
//! * [`method`]: inline, on the connection's runtime task. For methods that answer from memory
//!   with at most one EVM execution, bounded by the call's gas (an `eth_call` that runs a model
//!   included): a hop to the blocking pool per request cost more than the request itself
//!   (`solidml devnode bench`: eth_call 0.83× anvil's rate through the pool, 1.37× inline).
//! * [`blocking_method`]: on tokio's blocking pool. For methods that may run many EVM
//!   executions (mining, gas estimation's search, traces), scan the chain (logs), clone or
//!   rebuild it (snapshots, reset, state loading) or touch the file system.

pub mod anvil;
pub mod convert;
pub mod debug;
pub mod eth;
pub mod solidml;

use std::sync::Arc;

use jsonrpsee::{RpcModule, types::Params};
use serde::{Serialize, de::DeserializeOwned};

use crate::{error::RpcError, node::Node};

/// The positional parameters of a call.
pub struct Args<'a> {
    seq: jsonrpsee::types::params::ParamsSequence<'a>,
}

impl<'a> Args<'a> {
    fn new(params: &'a Params<'a>) -> Self {
        Args { seq: params.sequence() }
    }

    /// The next parameter, which must be there.
    // not an Iterator: each call asks for its own type
    #[allow(clippy::should_implement_trait)]
    pub fn next<T: DeserializeOwned>(&mut self) -> Result<T, RpcError> {
        self.seq.next::<T>().map_err(|e| RpcError::invalid_params(params_message(e)))
    }

    /// The next parameter, absent or `null` allowed.
    pub fn opt<T: DeserializeOwned>(&mut self) -> Result<Option<T>, RpcError> {
        self.seq.optional_next::<T>().map_err(|e| RpcError::invalid_params(params_message(e)))
    }
}

fn params_message(e: jsonrpsee::types::ErrorObjectOwned) -> String {
    match e.data() {
        Some(d) => format!("{}: {}", e.message(), d.get().trim_matches('"')),
        None => e.message().to_string(),
    }
}

/// The module of every method.
pub fn module(node: Arc<Node>) -> RpcModule<Node> {
    let mut m = RpcModule::from_arc(node);
    eth::register(&mut m);
    anvil::register(&mut m);
    debug::register(&mut m);
    solidml::register(&mut m);
    m
}

/// Register `f` under each of `names`, run inline (see the module doc).
pub(crate) fn method<R, F>(m: &mut RpcModule<Node>, names: &[&'static str], f: F)
where
    R: Serialize + Clone + Send + 'static,
    F: Fn(&Node, &mut Args<'_>) -> Result<R, RpcError> + Clone + Send + Sync + 'static,
{
    for &name in names {
        let f = f.clone();
        m.register_method(name, move |params, node, _| answer(&f, node, &params))
            .unwrap_or_else(|e| panic!("method {name} registered twice: {e}"));
    }
}

/// Register `f` under each of `names`, run on the blocking pool (see the module doc).
pub(crate) fn blocking_method<R, F>(m: &mut RpcModule<Node>, names: &[&'static str], f: F)
where
    R: Serialize + Clone + Send + 'static,
    F: Fn(&Node, &mut Args<'_>) -> Result<R, RpcError> + Clone + Send + Sync + 'static,
{
    for &name in names {
        let f = f.clone();
        m.register_blocking_method(name, move |params, node, _| answer(&f, &node, &params))
            .unwrap_or_else(|e| panic!("method {name} registered twice: {e}"));
    }
}

fn answer<R, F>(f: &F, node: &Node, params: &Params<'_>) -> Result<R, jsonrpsee::types::ErrorObjectOwned>
where
    F: Fn(&Node, &mut Args<'_>) -> Result<R, RpcError>,
{
    f(node, &mut Args::new(params)).map_err(jsonrpsee::types::ErrorObjectOwned::from)
}

/// A number as a `0x…` quantity.
pub fn quantity(n: impl Into<u128>) -> String {
    format!("0x{:x}", n.into())
}
