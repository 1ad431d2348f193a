//! `debug_traceTransaction` and `debug_traceCall` with geth's tracers (the call tracer, the
//! prestate tracer, the default struct logger), by revm-inspectors' `DebugInspector`. A mined
//! transaction is traced by replaying its block up to it on the parent block's state. Calls to
//! the SolidML precompiles appear in call traces like any other call.

use alloy_primitives::B256;
use alloy_rpc_types_eth::TransactionRequest;
use alloy_rpc_types_trace::geth::{GethDebugTracingCallOptions, GethDebugTracingOptions, GethTrace};
use jsonrpsee::RpcModule;
use revm::{database::CacheDB, inspector::NoOpInspector};
use revm_inspectors::tracing::{DebugInspector, TransactionContext};

use super::{Args, blocking_method};
use crate::{
    chain::tx_error,
    error::RpcError,
    evm::{initial_gas, transact, tx_env},
    node::Node,
};

pub(crate) fn register(m: &mut RpcModule<Node>) {
    blocking_method(m, &["debug_traceTransaction"], trace_transaction);
    blocking_method(m, &["debug_traceCall"], trace_call);
}

fn inspector(opts: GethDebugTracingOptions) -> Result<DebugInspector, RpcError> {
    DebugInspector::new(opts).map_err(|e| RpcError::invalid_params(e.to_string()))
}

fn trace_transaction(n: &Node, a: &mut Args<'_>) -> Result<GethTrace, RpcError> {
    let hash: B256 = a.next()?;
    let opts: GethDebugTracingOptions = a.opt()?.unwrap_or_default();
    let chain = n.chain.read();
    let tx = chain.transaction(&hash).ok_or_else(|| RpcError::invalid_input(format!("transaction {hash} not found")))?;
    let block = chain.block(tx.block_number).ok_or_else(RpcError::block_not_found)?;
    let parent = chain
        .state_at(tx.block_number - 1)
        .ok_or_else(|| RpcError::internal(format!("historical state for block {} is no longer kept", tx.block_number - 1)))?;
    let env = chain.env_at(Some(tx.block_number));
    let mut db = CacheDB::new(&*parent);
    for earlier in block.transactions.iter().take(tx.index as usize) {
        let t = chain.transaction(earlier).ok_or_else(|| RpcError::internal("block transaction missing"))?;
        let r = transact(&mut db, &env, tx_env(&t.tx, t.from), NoOpInspector).map_err(|e| RpcError::from_tx(tx_error(&e)))?;
        revm::DatabaseCommit::commit(&mut db, r.state);
    }
    let tx_env = tx_env(&tx.tx, tx.from);
    let mut insp = inspector(opts)?;
    let res = transact(&mut db, &env, tx_env.clone(), &mut insp).map_err(|e| RpcError::from_tx(tx_error(&e)))?;
    let context = TransactionContext { block_hash: Some(block.hash), tx_hash: Some(hash), tx_index: Some(tx.index as usize) };
    let trace = insp.get_result(Some(context), &tx_env, &env.block, &res, &mut db).map_err(|e| RpcError::internal(e.to_string()))?;
    Ok(with_frame_gas(trace, &tx_env))
}

fn trace_call(n: &Node, a: &mut Args<'_>) -> Result<GethTrace, RpcError> {
    let req: TransactionRequest = a.next()?;
    let at = n.resolve(a.opt()?)?;
    let opts: GethDebugTracingCallOptions = a.opt()?.unwrap_or_default();
    let chain = n.chain.read();
    let crate::node::CallSetup { state, env, tx } = n.call_setup(&chain, &req, at, None)?;
    let mut db = CacheDB::new(&*state);
    if let Some(o) = &opts.state_overrides {
        crate::node::apply_overrides(&mut db, o)?;
    }
    let mut insp = inspector(opts.tracing_options)?;
    let res = transact(&mut db, &env, tx.clone(), &mut insp).map_err(|e| RpcError::from_tx(tx_error(&e)))?;
    let trace = insp.get_result(None, &tx, &env.block, &res, &mut db).map_err(|e| RpcError::internal(e.to_string()))?;
    Ok(with_frame_gas(trace, &tx))
}

/// The call tracer's top frame with the gas its call was given (the gas limit less the
/// intrinsic gas), as anvil reports it, rather than the transaction's gas limit.
fn with_frame_gas(trace: GethTrace, tx: &revm::context::TxEnv) -> GethTrace {
    match trace {
        GethTrace::CallTracer(mut frame) => {
            frame.gas = alloy_primitives::U256::from(tx.gas_limit.saturating_sub(initial_gas(tx)));
            GethTrace::CallTracer(frame)
        }
        other => other,
    }
}
