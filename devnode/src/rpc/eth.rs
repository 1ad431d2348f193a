//! `eth_*`, `net_*` and `web3_*`: reads at a block tag, calls, estimates, transactions,
//! blocks, receipts, logs and filters, fee data, signing with the dev keys, and subscriptions
//! (`newHeads`, `logs`) over WebSocket.

use std::sync::atomic::Ordering;

use alloy_consensus::Transaction as _;
use alloy_dyn_abi::TypedData;
use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{Address, B256, Bytes, U256, eip191_hash_message};
use alloy_rpc_types_eth::{
    AccessListResult, FeeHistory, Filter, FilterBlockOption, Log as RpcLog, TransactionRequest, state::StateOverride,
};
use alloy_signer::SignerSync;
use jsonrpsee::{PendingSubscriptionSink, RpcModule, SubscriptionMessage};
use revm::inspector::NoOpInspector;
use revm_inspectors::access_list::AccessListInspector;
use serde_json::Value;

use super::{Args, blocking_method, convert, method, quantity};
use crate::{
    chain::{Chain, tx_error},
    error::RpcError,
    evm::{call_env, transact},
    node::{InstalledFilter, Node},
};

/// The client version string.
pub fn client_version() -> String {
    format!("solidml-devnode/v{}", env!("CARGO_PKG_VERSION"))
}

pub(crate) fn register(m: &mut RpcModule<Node>) {
    method(m, &["web3_clientVersion"], |_, _| Ok(client_version()));
    method(m, &["web3_sha3"], |_, a| Ok(alloy_primitives::keccak256(a.next::<Bytes>()?)));
    method(m, &["eth_chainId"], |n, _| Ok(quantity(n.chain.read().chain_id())));
    method(m, &["net_version"], |n, _| Ok(n.chain.read().chain_id().to_string()));
    method(m, &["net_listening"], |_, _| Ok(true));
    method(m, &["net_peerCount"], |_, _| Ok("0x0"));
    method(m, &["eth_syncing"], |_, _| Ok(false));
    method(m, &["eth_mining"], |n, _| Ok(n.automine.load(Ordering::Relaxed) || n.config.mining != crate::config::Mining::Manual));
    method(m, &["eth_hashrate"], |_, _| Ok("0x0"));
    method(m, &["eth_coinbase"], |_, _| Ok(Address::ZERO));
    method(m, &["eth_accounts"], |n, _| Ok(n.accounts.iter().map(|a| a.address).collect::<Vec<_>>()));
    method(m, &["eth_blockNumber"], |n, _| Ok(quantity(n.chain.read().best_number())));
    method(m, &["eth_gasPrice"], |n, _| Ok(quantity(n.chain.read().gas_price())));
    method(m, &["eth_maxPriorityFeePerGas"], |n, _| Ok(quantity(n.chain.read().suggested_tip())));
    method(m, &["eth_blobBaseFee"], |_, _| Ok(quantity(1u8)));
    method(m, &["eth_feeHistory"], fee_history);

    method(m, &["eth_getBalance"], |n, a| {
        let address: Address = a.next()?;
        let at = n.resolve(a.opt()?)?;
        n.with_state(at, |s, _| s.cache.accounts.get(&address).map(|x| x.info.balance).unwrap_or_default())
    });
    method(m, &["eth_getTransactionCount"], |n, a| {
        let address: Address = a.next()?;
        let tag: Option<BlockId> = a.opt()?;
        if matches!(tag, Some(BlockId::Number(BlockNumberOrTag::Pending))) {
            return Ok(quantity(n.chain.read().pending_nonce(address)));
        }
        let at = n.resolve(tag)?;
        n.with_state(at, |s, _| quantity(s.cache.accounts.get(&address).map(|x| x.info.nonce).unwrap_or(0)))
    });
    method(m, &["eth_getCode"], |n, a| {
        let address: Address = a.next()?;
        let at = n.resolve(a.opt()?)?;
        n.with_state(at, |s, _| {
            s.cache.accounts.get(&address).and_then(|x| x.info.code.as_ref()).map(|c| c.original_bytes()).unwrap_or_default()
        })
    });
    method(m, &["eth_getStorageAt"], |n, a| {
        let address: Address = a.next()?;
        let slot: U256 = a.next()?;
        let at = n.resolve(a.opt()?)?;
        n.with_state(at, |s, _| {
            let v = s.cache.accounts.get(&address).and_then(|x| x.storage.get(&slot).copied()).unwrap_or_default();
            B256::from(v)
        })
    });

    method(m, &["eth_call"], |n, a| {
        let req: TransactionRequest = a.next()?;
        let at = n.resolve(a.opt()?)?;
        let overrides: Option<StateOverride> = a.opt()?;
        n.call(&req, at, overrides.as_ref())
    });
    blocking_method(m, &["eth_estimateGas"], |n, a| {
        let req: TransactionRequest = a.next()?;
        let at = n.resolve(a.opt()?)?;
        n.estimate_gas(&req, at).map(quantity)
    });
    blocking_method(m, &["eth_createAccessList"], create_access_list);
    method(m, &["eth_sendRawTransaction"], |n, a| {
        let raw: Bytes = a.next()?;
        n.send_raw(&raw)
    });
    blocking_method(m, &["eth_sendTransaction"], |n, a| n.send_transaction(a.next()?));

    method(m, &["eth_getTransactionByHash"], |n, a| {
        let hash: B256 = a.next()?;
        let chain = n.chain.read();
        Ok(match chain.transaction(&hash) {
            Some(t) => convert::transaction(t, chain.block(t.block_number).map(|b| b.header.timestamp)),
            None => chain.pending(&hash).map(|t| convert::pending_transaction(t, chain.next_base_fee())).unwrap_or(Value::Null),
        })
    });
    method(m, &["eth_getTransactionReceipt"], |n, a| {
        let hash: B256 = a.next()?;
        let chain = n.chain.read();
        Ok(chain.transaction(&hash).and_then(|t| chain.block(t.block_number).map(|b| convert::receipt(t, b))).unwrap_or(Value::Null))
    });
    method(m, &["eth_getBlockByNumber"], |n, a| {
        let tag: BlockNumberOrTag = a.next()?;
        let full: bool = a.opt()?.unwrap_or(false);
        let chain = n.chain.read();
        if tag == BlockNumberOrTag::Pending {
            return Ok(convert::block(&chain, &pending_block(&chain), full));
        }
        Ok(number_of(&chain, tag).and_then(|num| chain.block(num)).map(|b| convert::block(&chain, b, full)).unwrap_or(Value::Null))
    });
    method(m, &["eth_getBlockByHash"], |n, a| {
        let hash: B256 = a.next()?;
        let full: bool = a.opt()?.unwrap_or(false);
        let chain = n.chain.read();
        Ok(chain.block_by_hash(&hash).map(|b| convert::block(&chain, b, full)).unwrap_or(Value::Null))
    });
    method(m, &["eth_getBlockReceipts"], |n, a| {
        let id: BlockId = a.next()?;
        let chain = n.chain.read();
        let block = match id {
            BlockId::Hash(h) => chain.block_by_hash(&h.block_hash),
            BlockId::Number(tag) => number_of(&chain, tag).and_then(|num| chain.block(num)),
        };
        Ok(block
            .map(|b| Value::Array(b.transactions.iter().filter_map(|h| chain.transaction(h)).map(|t| convert::receipt(t, b)).collect()))
            .unwrap_or(Value::Null))
    });
    method(m, &["eth_getBlockTransactionCountByNumber"], |n, a| {
        let tag: BlockNumberOrTag = a.next()?;
        let chain = n.chain.read();
        Ok(number_of(&chain, tag).and_then(|num| chain.block(num)).map(|b| quantity(b.transactions.len() as u64)))
    });
    method(m, &["eth_getBlockTransactionCountByHash"], |n, a| {
        let hash: B256 = a.next()?;
        let chain = n.chain.read();
        Ok(chain.block_by_hash(&hash).map(|b| quantity(b.transactions.len() as u64)))
    });
    method(m, &["eth_getTransactionByBlockNumberAndIndex"], |n, a| {
        let tag: BlockNumberOrTag = a.next()?;
        let index: alloy_rpc_types_eth::Index = a.next()?;
        let chain = n.chain.read();
        let b = number_of(&chain, tag).and_then(|num| chain.block(num));
        Ok(b.and_then(|b| {
            b.transactions.get(index.0).and_then(|h| chain.transaction(h)).map(|t| convert::transaction(t, Some(b.header.timestamp)))
        })
        .unwrap_or(Value::Null))
    });
    method(m, &["eth_getTransactionByBlockHashAndIndex"], |n, a| {
        let hash: B256 = a.next()?;
        let index: alloy_rpc_types_eth::Index = a.next()?;
        let chain = n.chain.read();
        let b = chain.block_by_hash(&hash);
        Ok(b.and_then(|b| {
            b.transactions.get(index.0).and_then(|h| chain.transaction(h)).map(|t| convert::transaction(t, Some(b.header.timestamp)))
        })
        .unwrap_or(Value::Null))
    });
    method(m, &["eth_getUncleCountByBlockNumber", "eth_getUncleCountByBlockHash"], |_, _| Ok("0x0"));

    blocking_method(m, &["eth_getLogs"], |n, a| {
        let filter: Filter = a.next()?;
        logs(n, &filter)
    });
    method(m, &["eth_newFilter"], |n, a| {
        let filter: Filter = a.next()?;
        let next_block = n.chain.read().best_number() + 1;
        let id = n.new_filter_id();
        n.filters.lock().insert(id, InstalledFilter::Logs { filter: Box::new(filter), next_block });
        Ok(id)
    });
    method(m, &["eth_newBlockFilter"], |n, _| {
        let next_block = n.chain.read().best_number() + 1;
        let id = n.new_filter_id();
        n.filters.lock().insert(id, InstalledFilter::Blocks { next_block });
        Ok(id)
    });
    method(m, &["eth_newPendingTransactionFilter"], |n, _| {
        let id = n.new_filter_id();
        let seen = n.chain.read().pool().iter().map(|t| t.hash).collect();
        n.filters.lock().insert(id, InstalledFilter::PendingTransactions { seen });
        Ok(id)
    });
    method(m, &["eth_uninstallFilter"], |n, a| {
        let id: U256 = a.next()?;
        Ok(n.filters.lock().remove(&id).is_some())
    });
    method(m, &["eth_getFilterChanges"], filter_changes);
    blocking_method(m, &["eth_getFilterLogs"], |n, a| {
        let id: U256 = a.next()?;
        let filter = match n.filters.lock().get(&id) {
            Some(InstalledFilter::Logs { filter, .. }) => filter.clone(),
            _ => return Err(RpcError::invalid_input("filter not found")),
        };
        logs(n, &filter)
    });

    method(m, &["eth_sign"], |n, a| {
        let address: Address = a.next()?;
        let message: Bytes = a.next()?;
        sign_hash(n, address, eip191_hash_message(&message))
    });
    method(m, &["personal_sign"], |n, a| {
        let message: Bytes = a.next()?;
        let address: Address = a.next()?;
        sign_hash(n, address, eip191_hash_message(&message))
    });
    method(m, &["eth_signTypedData_v4", "eth_signTypedData"], |n, a| {
        let address: Address = a.next()?;
        let data: Value = a.next()?;
        // wallets send the typed data as a JSON string or as an object
        let typed: TypedData = match data {
            Value::String(s) => serde_json::from_str(&s),
            other => serde_json::from_value(other),
        }
        .map_err(|e| RpcError::invalid_params(format!("typed data: {e}")))?;
        let hash = typed.eip712_signing_hash().map_err(|e| RpcError::invalid_params(format!("typed data: {e}")))?;
        sign_hash(n, address, hash)
    });

    m.register_subscription("eth_subscribe", "eth_subscription", "eth_unsubscribe", subscribe)
        .unwrap_or_else(|e| panic!("eth_subscribe registered twice: {e}"));
}

/// A tag's block number (`pending` and `latest` are the latest mined block here).
fn number_of(chain: &Chain, tag: BlockNumberOrTag) -> Option<u64> {
    match tag {
        BlockNumberOrTag::Number(n) => Some(n),
        BlockNumberOrTag::Earliest => Some(0),
        _ => Some(chain.best_number()),
    }
}

/// The pending block as anvil shows it: the next block, empty (with automine nothing ready
/// waits), at the next base fee and the clock's time.
fn pending_block(chain: &Chain) -> crate::chain::MinedBlock {
    let best = chain.best_block();
    let env = chain.env_at(None);
    let header = alloy_consensus::Header {
        parent_hash: best.hash,
        number: best.header.number + 1,
        timestamp: env.block.timestamp.saturating_to(),
        base_fee_per_gas: Some(chain.next_base_fee()),
        gas_used: 0,
        logs_bloom: Default::default(),
        transactions_root: alloy_consensus::constants::EMPTY_ROOT_HASH,
        receipts_root: alloy_consensus::constants::EMPTY_ROOT_HASH,
        ..best.header.clone()
    };
    crate::chain::MinedBlock { hash: header.hash_slow(), header, transactions: vec![] }
}

fn sign_hash(n: &Node, address: Address, hash: B256) -> Result<Bytes, RpcError> {
    let account = n.accounts.iter().find(|a| a.address == address).ok_or_else(RpcError::no_signer)?;
    let sig = account.signer.sign_hash_sync(&hash).map_err(|e| RpcError::internal(e.to_string()))?;
    Ok(Bytes::from(sig.as_bytes().to_vec()))
}

/// The logs of mined blocks that match `filter` (a block range or one block hash).
fn logs(n: &Node, filter: &Filter) -> Result<Vec<RpcLog>, RpcError> {
    let chain = n.chain.read();
    let best = chain.best_number();
    let (from, to) = match &filter.block_option {
        FilterBlockOption::AtBlockHash(h) => {
            let b = chain.block_by_hash(h).ok_or_else(RpcError::block_not_found)?;
            (b.header.number, b.header.number)
        }
        FilterBlockOption::Range { from_block, to_block } => {
            let resolve = |t: &Option<BlockNumberOrTag>| t.map(|t| number_of(&chain, t).unwrap_or(best)).unwrap_or(best);
            (resolve(from_block), resolve(to_block).min(best))
        }
    };
    if from > to && !matches!(filter.block_option, FilterBlockOption::AtBlockHash(_)) {
        return Ok(vec![]);
    }
    Ok(logs_in(&chain, filter, from, to))
}

fn logs_in(chain: &Chain, filter: &Filter, from: u64, to: u64) -> Vec<RpcLog> {
    let mut out = vec![];
    for number in from..=to {
        let Some(block) = chain.block(number) else { break };
        if !filter.matches_bloom(block.header.logs_bloom) {
            continue;
        }
        for h in &block.transactions {
            if let Some(t) = chain.transaction(h) {
                out.extend(convert::logs(t, block).into_iter().filter(|l| filter.matches(&l.inner)));
            }
        }
    }
    out
}

fn filter_changes(n: &Node, a: &mut Args<'_>) -> Result<Value, RpcError> {
    let id: U256 = a.next()?;
    let chain = n.chain.read();
    let best = chain.best_number();
    let mut filters = n.filters.lock();
    let Some(f) = filters.get_mut(&id) else { return Err(RpcError::invalid_input("filter not found")) };
    Ok(match f {
        InstalledFilter::Logs { filter, next_block } => {
            let logs = logs_in(&chain, filter, *next_block, best);
            *next_block = best + 1;
            serde_json::to_value(logs).unwrap_or_default()
        }
        InstalledFilter::Blocks { next_block } => {
            let hashes: Vec<B256> = (*next_block..=best).filter_map(|num| chain.block(num)).map(|b| b.hash).collect();
            *next_block = best + 1;
            serde_json::to_value(hashes).unwrap_or_default()
        }
        InstalledFilter::PendingTransactions { seen } => {
            let new: Vec<B256> = chain.pool().iter().map(|t| t.hash).filter(|h| !seen.contains(h)).collect();
            seen.extend(new.iter().copied());
            serde_json::to_value(new).unwrap_or_default()
        }
    })
}

/// `eth_feeHistory(blockCount, newestBlock, rewardPercentiles)`: base fees of the range and the
/// next block, gas used ratios, and the priority fees paid at each percentile (weighted by gas).
fn fee_history(n: &Node, a: &mut Args<'_>) -> Result<FeeHistory, RpcError> {
    let count: U256 = a.next()?;
    let newest: BlockNumberOrTag = a.next()?;
    let percentiles: Option<Vec<f64>> = a.opt()?;
    if let Some(p) = &percentiles
        && p.iter().any(|x| !(0.0..=100.0).contains(x))
    {
        return Err(RpcError::invalid_params("invalid reward percentiles"));
    }
    let chain = n.chain.read();
    let newest = number_of(&chain, newest).unwrap_or(chain.best_number()).min(chain.best_number());
    let count = count.saturating_to::<u64>().min(1024).min(newest + 1);
    let oldest = newest + 1 - count;
    let mut history = FeeHistory { oldest_block: oldest, ..Default::default() };
    let mut rewards = vec![];
    for number in oldest..=newest {
        let Some(b) = chain.block(number) else { break };
        let base_fee = b.header.base_fee_per_gas.unwrap_or_default() as u128;
        history.base_fee_per_gas.push(base_fee);
        history.gas_used_ratio.push(b.header.gas_used as f64 / b.header.gas_limit as f64);
        history.base_fee_per_blob_gas.push(1);
        history.blob_gas_used_ratio.push(0.0);
        if let Some(p) = &percentiles {
            let mut tips: Vec<(u128, u64)> = b
                .transactions
                .iter()
                .filter_map(|h| chain.transaction(h))
                .map(|t| (t.tx.effective_tip_per_gas(base_fee as u64).unwrap_or(0), t.receipt.gas_used))
                .collect();
            tips.sort();
            let total: u64 = tips.iter().map(|t| t.1).sum();
            rewards.push(
                p.iter()
                    .map(|pct| {
                        let threshold = (total as f64 * pct / 100.0) as u64;
                        let mut acc = 0;
                        for (tip, gas) in &tips {
                            acc += gas;
                            if acc >= threshold {
                                return *tip;
                            }
                        }
                        tips.last().map(|t| t.0).unwrap_or(0)
                    })
                    .collect(),
            );
        }
    }
    if newest == chain.best_number() {
        history.base_fee_per_gas.push(chain.next_base_fee() as u128);
    } else if let Some(b) = chain.block(newest + 1) {
        history.base_fee_per_gas.push(b.header.base_fee_per_gas.unwrap_or_default() as u128);
    }
    history.base_fee_per_blob_gas.push(1);
    // anvil answers `reward: []` when no percentiles are asked for
    history.reward = Some(rewards);
    Ok(history)
}

/// `eth_createAccessList`: the accounts and slots the request touches (its sender, recipient and
/// precompiles excluded), and the gas it uses with that list.
fn create_access_list(n: &Node, a: &mut Args<'_>) -> Result<AccessListResult, RpcError> {
    let req: TransactionRequest = a.next()?;
    let at = n.resolve(a.opt()?)?;
    let chain = n.chain.read();
    let crate::node::CallSetup { state, env, tx } = n.call_setup(&chain, &req, at, None)?;
    let from = req.from.unwrap_or_default();
    let precompiles: Vec<Address> =
        revm::handler::PrecompileProvider::<crate::evm::EvmContext<revm::database::CacheDB<&crate::chain::Db>>>::warm_addresses(
            &env.precompiles,
        )
        .iter()
        .copied()
        .collect();
    let mut inspector = AccessListInspector::new(req.access_list.clone().unwrap_or_default());
    let (gas, nonce) = (tx.gas_limit, tx.nonce);
    transact(revm::database::CacheDB::new(&*state), &env, tx, &mut inspector).map_err(|e| RpcError::from_tx(tx_error(&e)))?;
    let mut list = inspector.into_access_list();
    // as anvil: the recipient stays in the list (with the slots it touched)
    list.0.retain(|item| item.address != from && !precompiles.contains(&item.address));
    let with_list = TransactionRequest { access_list: Some(list.clone()), ..req.clone() };
    let tx = call_env(&with_list, gas, nonce, chain.chain_id());
    let result = transact(revm::database::CacheDB::new(&*state), &env, tx, NoOpInspector).map_err(|e| RpcError::from_tx(tx_error(&e)))?;
    // as anvil: a revert or a halt is an error answer, not a result with `error`
    match &result.result {
        revm::context_interface::result::ExecutionResult::Revert { output, .. } => return Err(RpcError::revert(output.clone())),
        revm::context_interface::result::ExecutionResult::Halt { reason, .. } => return Err(RpcError::halt(reason)),
        _ => {}
    }
    Ok(AccessListResult { access_list: list, gas_used: U256::from(result.result.tx_gas_used()), error: None })
}

/// `eth_subscribe("newHeads")` and `eth_subscribe("logs", filter)`.
async fn subscribe(
    params: jsonrpsee::types::Params<'static>,
    pending: PendingSubscriptionSink,
    node: std::sync::Arc<Node>,
    _: jsonrpsee::Extensions,
) -> jsonrpsee::core::SubscriptionResult {
    let mut seq = params.sequence();
    let kind: String = seq.next()?;
    let filter: Option<Filter> = seq.optional_next()?;
    if kind != "newHeads" && kind != "logs" {
        pending.reject(RpcError::invalid_params(format!("unsupported subscription: {kind}"))).await;
        return Ok(());
    }
    let mut blocks = node.new_blocks.subscribe();
    let sink = pending.accept().await?;
    loop {
        tokio::select! {
            _ = sink.closed() => return Ok(()),
            b = blocks.recv() => {
                let number = match b {
                    Ok(n) => n,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return Ok(()),
                };
                let items: Vec<Value> = {
                    let chain = node.chain.read();
                    let Some(block) = chain.block(number) else { continue };
                    if kind == "newHeads" {
                        let header = alloy_rpc_types_eth::Header { hash: block.hash, inner: block.header.clone(), total_difficulty: Some(U256::ZERO), size: None };
                        vec![serde_json::to_value(header).unwrap_or_default()]
                    } else {
                        let f = filter.clone().unwrap_or_default();
                        logs_in(&chain, &f, number, number).into_iter().map(|l| serde_json::to_value(l).unwrap_or_default()).collect()
                    }
                };
                for item in items {
                    let msg = SubscriptionMessage::new(sink.method_name(), sink.subscription_id(), &item)?;
                    if sink.send(msg).await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }
}
