//! [`Node`]: the chain behind a lock, the dev accounts, the filters and the subscribers, and
//! the operations the JSON-RPC methods are made of (send, call, estimate, mine, read at a
//! block tag). Errors are [`RpcError`]s carrying anvil's codes and messages.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEnvelope, TxLegacy, transaction::SignerRecoverable};
use alloy_eips::{BlockId, BlockNumberOrTag, eip2718::Decodable2718};
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256};
use alloy_rpc_types_eth::{Filter, TransactionRequest, state::StateOverride};
use alloy_signer::SignerSync;
use parking_lot::{Mutex, RwLock};
use revm::{
    context_interface::result::{ExecutionResult, ResultAndState},
    database::CacheDB,
    inspector::NoOpInspector,
};
use solidml_revm::SolidMlPrecompiles;
use tokio::sync::broadcast;

use crate::{
    accounts::DevAccount,
    chain::{Chain, Genesis, TxError, impersonated_hash, tx_error},
    config::{Mining, NodeConfig},
    error::RpcError,
    evm::{ExecEnv, call_env, transact},
    models::NodeModels,
};

/// The suggested priority fee (anvil's minimum suggestion, 1 gwei).
pub const SUGGESTED_PRIORITY_FEE: u128 = 1_000_000_000;

/// An installed filter (`eth_newFilter`, `eth_newBlockFilter`, `eth_newPendingTransactionFilter`).
#[derive(Debug, Clone)]
pub enum InstalledFilter {
    /// Logs matching a filter, from the block after the last poll.
    Logs {
        /// The filter.
        filter: Box<Filter>,
        /// The first block not yet reported.
        next_block: u64,
    },
    /// New block hashes since the last poll.
    Blocks {
        /// The first block not yet reported.
        next_block: u64,
    },
    /// New pending transaction hashes.
    PendingTransactions {
        /// Hashes already reported.
        seen: Vec<B256>,
    },
}

/// The node.
pub struct Node {
    /// The chain.
    pub chain: RwLock<Chain>,
    /// The dev accounts (unlocked).
    pub accounts: Vec<DevAccount>,
    /// The configuration.
    pub config: NodeConfig,
    /// Whether a block is mined as soon as a transaction is ready.
    pub automine: AtomicBool,
    /// Filters by id.
    pub filters: Mutex<HashMap<U256, InstalledFilter>>,
    next_filter: AtomicU64,
    /// Block numbers as they are mined (for `eth_subscribe`).
    pub new_blocks: broadcast::Sender<u64>,
    /// The models the precompiles serve.
    pub models: Arc<NodeModels>,
    /// Signalled when a transaction becomes ready with automine on (see [`Node::submit`]).
    pub ready: tokio::sync::Notify,
    genesis: Genesis,
}

impl Node {
    /// A node at `genesis`, its precompiles serving `models`.
    pub fn new(
        genesis: Genesis,
        precompiles: SolidMlPrecompiles,
        models: Arc<NodeModels>,
        accounts: Vec<DevAccount>,
        config: NodeConfig,
    ) -> Arc<Self> {
        let automine = config.mining == Mining::Auto;
        let (new_blocks, _) = broadcast::channel(1024);
        Arc::new(Node {
            chain: RwLock::new(Chain::new(genesis.clone(), precompiles)),
            genesis,
            models,
            ready: tokio::sync::Notify::new(),
            accounts,
            config,
            automine: AtomicBool::new(automine),
            filters: Mutex::new(HashMap::new()),
            next_filter: AtomicU64::new(1),
            new_blocks,
        })
    }

    /// Print a line to the node's log unless `--quiet`.
    pub fn log(&self, line: &str) {
        if !self.config.quiet {
            println!("{line}");
        }
    }

    /// The precompile's gas schedule.
    pub fn precompile_schedule(&self) -> solidml_precompile::GasSchedule {
        self.chain.read().precompiles().solidml().schedule()
    }

    /// `anvil_reset`: back to genesis (models stay: they are not chain state).
    pub fn reset(&self) {
        let mut chain = self.chain.write();
        let precompiles = chain.precompiles().clone();
        *chain = Chain::new(self.genesis.clone(), precompiles);
        self.filters.lock().clear();
    }

    /// Resolve a block tag to a block number (`None`: the pending block).
    pub fn resolve(&self, id: Option<BlockId>) -> Result<Option<u64>, RpcError> {
        let chain = self.chain.read();
        let best = chain.best_number();
        Ok(match id.unwrap_or(BlockId::Number(BlockNumberOrTag::Latest)) {
            BlockId::Hash(h) => Some(chain.block_by_hash(&h.block_hash).ok_or_else(RpcError::block_not_found)?.header.number),
            BlockId::Number(n) => match n {
                BlockNumberOrTag::Pending => None,
                BlockNumberOrTag::Earliest => Some(0),
                BlockNumberOrTag::Number(n) if n > best => return Err(RpcError::block_out_of_range(best, n)),
                BlockNumberOrTag::Number(n) => Some(n),
                _ => Some(best),
            },
        })
    }

    /// Run `f` on the state after block `number` (the current state for the pending block).
    pub fn with_state<T>(&self, number: Option<u64>, f: impl FnOnce(&crate::chain::Db, &Chain) -> T) -> Result<T, RpcError> {
        let chain = self.chain.read();
        let state = kept_state(&chain, number)?;
        Ok(f(&state, &chain))
    }

    /// A new filter id.
    pub fn new_filter_id(&self) -> U256 {
        U256::from(self.next_filter.fetch_add(1, Ordering::Relaxed))
    }

    /// Accept a signed transaction (RLP, EIP-2718).
    pub fn send_raw(&self, raw: &[u8]) -> Result<B256, RpcError> {
        let tx = TxEnvelope::decode_2718(&mut &raw[..]).map_err(|_| RpcError::invalid_params("Failed to decode transaction"))?;
        let from = tx.recover_signer().map_err(|_| RpcError::invalid_params("Failed to recover the signer"))?;
        let hash = *tx.tx_hash();
        self.submit(tx, from, hash, false)
    }

    /// Add a transaction to the pool and, with automine, wake the miner.
    ///
    /// As anvil: the answer comes once the transaction is in the pool; the miner task
    /// ([`Node::mine_ready`], started by the server) then mines every ready transaction into one
    /// block, so transactions that arrive while a block is being mined share the next one.
    pub fn submit(&self, tx: TxEnvelope, from: Address, hash: B256, impersonated: bool) -> Result<B256, RpcError> {
        let ready = self.chain.write().add_to_pool(tx, from, hash, impersonated).map_err(RpcError::from_tx)?;
        if ready && self.automine.load(Ordering::Relaxed) {
            self.ready.notify_one();
        }
        Ok(hash)
    }

    /// Mine blocks until no pooled transaction is ready (the automine step).
    pub fn mine_ready(&self) {
        let mut chain = self.chain.write();
        while chain.has_ready() {
            let n = chain.mine(None, false);
            let _ = self.new_blocks.send(n);
        }
    }

    /// Mine `blocks` blocks (with the pool's ready transactions), `interval` seconds apart when
    /// given, the first at `timestamp` when given.
    pub fn mine(&self, blocks: u64, interval: Option<u64>, timestamp: Option<u64>) -> u64 {
        let mut chain = self.chain.write();
        let mut ts = timestamp;
        for _ in 0..blocks {
            let n = chain.mine(ts.take(), false);
            let _ = self.new_blocks.send(n);
            // as anvil: the clock moves on by the interval after each block
            if let Some(i) = interval {
                let clock = chain.clock();
                clock.offset = clock.offset.saturating_add(i64::try_from(i).unwrap_or(i64::MAX));
            }
        }
        chain.best_number()
    }

    /// `eth_sendTransaction`: fill the request's blanks like anvil, sign with a dev key or use a
    /// placeholder signature for an impersonated sender.
    pub fn send_transaction(&self, req: TransactionRequest) -> Result<B256, RpcError> {
        let from =
            req.from.or_else(|| self.accounts.first().map(|a| a.address)).ok_or_else(|| RpcError::invalid_input("no from address"))?;
        let signer = self.accounts.iter().find(|a| a.address == from).map(|a| a.signer.clone());
        let impersonated = self.chain.read().impersonated.contains(&from);
        if signer.is_none() && !impersonated {
            return Err(RpcError::no_signer());
        }
        let (nonce, gas_price_suggestion, chain_id) = {
            let chain = self.chain.read();
            (req.nonce.unwrap_or_else(|| chain.pending_nonce(from)), chain.gas_price(), chain.chain_id())
        };
        // as anvil: the estimate, or the block gas limit when the estimate fails (a transaction
        // that reverts is still sent, and mined as a failure)
        let gas = match req.gas {
            Some(g) => g,
            None => {
                self.estimate_gas(&TransactionRequest { from: Some(from), ..req.clone() }, None).unwrap_or(self.chain.read().gas_limit())
            }
        };
        let to = req.to.unwrap_or(TxKind::Create);
        let input = req.input.input().cloned().unwrap_or_default();
        let value = req.value.unwrap_or_default();
        let unsigned: UnsignedTx = if let Some(gas_price) = req.gas_price {
            if let Some(access_list) = req.access_list.clone() {
                UnsignedTx::Eip2930(TxEip2930 { chain_id, nonce, gas_price, gas_limit: gas, to, value, access_list, input })
            } else {
                UnsignedTx::Legacy(TxLegacy { chain_id: Some(chain_id), nonce, gas_price, gas_limit: gas, to, value, input })
            }
        } else {
            let max_priority_fee_per_gas = req.max_priority_fee_per_gas.unwrap_or(SUGGESTED_PRIORITY_FEE);
            let max_fee_per_gas = req.max_fee_per_gas.unwrap_or(gas_price_suggestion.max(max_priority_fee_per_gas));
            UnsignedTx::Eip1559(TxEip1559 {
                chain_id,
                nonce,
                gas_limit: gas,
                max_fee_per_gas,
                max_priority_fee_per_gas,
                to,
                value,
                access_list: req.access_list.clone().unwrap_or_default(),
                input,
            })
        };
        let (tx, hash) = match signer {
            Some(s) if !impersonated => {
                let tx = unsigned.sign(|h| s.sign_hash_sync(&h).map_err(|e| RpcError::internal(e.to_string())))?;
                let hash = *tx.tx_hash();
                (tx, hash)
            }
            _ => {
                // anvil's placeholder signature for impersonated senders: r = s = 0
                let tx = unsigned.sign(|_| Ok(Signature::new(U256::ZERO, U256::ZERO, false)))?;
                let hash = impersonated_hash(&tx, from);
                (tx, hash)
            }
        };
        self.submit(tx, from, hash, impersonated)
    }

    /// Execute a call request on the state after block `number` (pending: the current state).
    pub fn execute_call(
        &self,
        req: &TransactionRequest,
        number: Option<u64>,
        gas: Option<u64>,
        overrides: Option<&StateOverride>,
        observed: bool,
    ) -> Result<ResultAndState, RpcError> {
        let chain = self.chain.read();
        let CallSetup { state, mut env, tx } = self.call_setup(&chain, req, number, gas)?;
        if !observed {
            env.precompiles = env.precompiles.without_observer();
        }
        let mut db = CacheDB::new(&*state);
        if let Some(o) = overrides {
            apply_overrides(&mut db, o)?;
        }
        transact(db, &env, tx, NoOpInspector).map_err(|e| RpcError::from_tx(tx_error(&e)))
    }

    /// What a call request runs with at block `number` (pending: the current state): the kept
    /// state, the block's environment for a call, the request in revm's form with `gas` (else
    /// its own, else the block gas limit) and the sender's nonce.
    pub(crate) fn call_setup<'a>(
        &self,
        chain: &'a Chain,
        req: &TransactionRequest,
        number: Option<u64>,
        gas: Option<u64>,
    ) -> Result<CallSetup<'a>, RpcError> {
        let state = kept_state(chain, number)?;
        let env = self.call_env_for(chain, req, number);
        let from = req.from.unwrap_or_default();
        let nonce = state.cache.accounts.get(&from).map(|a| a.info.nonce).unwrap_or(0);
        let tx = call_env(req, gas.or(req.gas).unwrap_or(chain.gas_limit()), nonce, chain.chain_id());
        Ok(CallSetup { state, env, tx })
    }

    pub(crate) fn call_env_for(&self, chain: &Chain, req: &TransactionRequest, number: Option<u64>) -> ExecEnv {
        let priced = req.gas_price.is_some() || req.max_fee_per_gas.is_some();
        chain.env_at(number).for_call(priced)
    }

    /// `eth_call`: the return data, or a revert error with its data.
    pub fn call(&self, req: &TransactionRequest, number: Option<u64>, overrides: Option<&StateOverride>) -> Result<Bytes, RpcError> {
        let r = self.execute_call(req, number, None, overrides, true)?;
        match r.result {
            ExecutionResult::Success { output, .. } => Ok(output.into_data()),
            ExecutionResult::Revert { output, .. } => Err(RpcError::revert(output)),
            ExecutionResult::Halt { reason, .. } => Err(RpcError::halt(&reason)),
        }
    }

    /// `eth_estimateGas`: the least gas limit with which the request succeeds (binary search
    /// between the gas it used minus one and the cap), or the error it fails with at the cap.
    pub fn estimate_gas(&self, req: &TransactionRequest, number: Option<u64>) -> Result<u64, RpcError> {
        let block_limit = self.chain.read().gas_limit();
        // as anvil: a plain transfer (no data, no access list) to an account without code costs
        // the base 21,000 without running it
        if req.input.input().is_none_or(|d| d.is_empty())
            && req.access_list.is_none()
            && let Some(TxKind::Call(to)) = req.to
        {
            let no_code =
                self.with_state(number, |s, _| s.cache.accounts.get(&to).and_then(|a| a.info.code.as_ref()).is_none_or(|c| c.is_empty()))?;
            if no_code {
                return Ok(21_000);
            }
        }
        let mut highest = req.gas.unwrap_or(block_limit).min(block_limit);
        // with a price, the sender's balance caps the gas it can buy
        let price = req.gas_price.or(req.max_fee_per_gas).unwrap_or(0);
        if price > 0 {
            let from = req.from.unwrap_or_default();
            let balance = self.with_state(number, |s, _| s.cache.accounts.get(&from).map(|a| a.info.balance).unwrap_or_default())?;
            let available = balance.saturating_sub(req.value.unwrap_or_default()) / U256::from(price);
            highest = highest.min(available.saturating_to());
        }
        // as anvil: a cap below the intrinsic gas (or the calldata floor) is out of gas
        let first = match self.execute_call(req, number, Some(highest), None, false) {
            Err(e) if e.is_intrinsic() => return Err(RpcError::out_of_gas(highest)),
            other => other?,
        };
        let used = match first.result {
            ExecutionResult::Success { gas, .. } => gas.tx_gas_used(),
            ExecutionResult::Revert { output, .. } => return Err(RpcError::revert(output)),
            ExecutionResult::Halt { reason, .. } => {
                return Err(if matches!(reason, revm::context_interface::result::HaltReason::OutOfGas(_)) {
                    RpcError::out_of_gas(highest)
                } else {
                    RpcError::halt(&reason)
                });
            }
        };
        let mut lowest = used.saturating_sub(1);
        // the first guess: what it used plus the 63/64 reserve of nested calls
        let guess = (used + 2_300) * 64 / 63;
        if guess < highest && self.succeeds(req, number, guess)? {
            highest = guess;
        }
        while highest - lowest > 1 {
            let mid = lowest + (highest - lowest) / 2;
            if self.succeeds(req, number, mid)? {
                highest = mid;
            } else {
                lowest = mid;
            }
        }
        Ok(highest)
    }

    fn succeeds(&self, req: &TransactionRequest, number: Option<u64>, gas: u64) -> Result<bool, RpcError> {
        match self.execute_call(req, number, Some(gas), None, false) {
            Ok(r) => Ok(r.result.is_success()),
            Err(e) if e.is_intrinsic() => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// What a call request runs with ([`Node::call_setup`]).
pub(crate) struct CallSetup<'a> {
    /// The state it reads.
    pub(crate) state: std::borrow::Cow<'a, crate::chain::Db>,
    /// The block environment.
    pub(crate) env: ExecEnv,
    /// The request in revm's form.
    pub(crate) tx: revm::context::TxEnv,
}

/// The state after block `number` (the current one for the pending block), if still kept.
pub(crate) fn kept_state(chain: &Chain, number: Option<u64>) -> Result<std::borrow::Cow<'_, crate::chain::Db>, RpcError> {
    match number {
        None => Ok(std::borrow::Cow::Borrowed(chain.state())),
        Some(n) => chain.state_at(n).ok_or_else(|| RpcError::internal(format!("historical state for block {n} is no longer kept"))),
    }
}

/// Apply `eth_call`'s state overrides (balance, nonce, code, whole storage or single slots) to
/// the call's scratch database.
pub fn apply_overrides<DB: revm::DatabaseRef>(db: &mut CacheDB<DB>, overrides: &StateOverride) -> Result<(), RpcError> {
    use revm::Database;
    for (address, o) in overrides {
        let mut info = db.basic(*address).ok().flatten().unwrap_or_default();
        if let Some(b) = o.balance {
            info.balance = b;
        }
        if let Some(n) = o.nonce {
            info.nonce = n;
        }
        if let Some(code) = &o.code {
            let bytecode = revm::bytecode::Bytecode::new_raw(code.clone());
            info.code_hash = bytecode.hash_slow();
            info.code = Some(bytecode);
        }
        db.insert_account_info(*address, info);
        if o.state.is_some() && o.state_diff.is_some() {
            return Err(RpcError::invalid_params(format!("account {address} has both 'state' and 'stateDiff'")));
        }
        if let Some(state) = &o.state {
            let slots = state.iter().map(|(k, v)| (U256::from_be_bytes(k.0), U256::from_be_bytes(v.0))).collect();
            db.replace_account_storage(*address, slots).map_err(|e| RpcError::internal(e.to_string()))?;
        }
        if let Some(diff) = &o.state_diff {
            for (k, v) in diff {
                db.insert_account_storage(*address, U256::from_be_bytes(k.0), U256::from_be_bytes(v.0))
                    .map_err(|e| RpcError::internal(e.to_string()))?;
            }
        }
    }
    Ok(())
}

/// A transaction before its signature.
enum UnsignedTx {
    Legacy(TxLegacy),
    Eip2930(TxEip2930),
    Eip1559(TxEip1559),
}

impl UnsignedTx {
    fn sign(self, sign: impl Fn(B256) -> Result<Signature, RpcError>) -> Result<TxEnvelope, RpcError> {
        Ok(match self {
            UnsignedTx::Legacy(t) => {
                let s = sign(t.signature_hash())?;
                TxEnvelope::Legacy(t.into_signed(s))
            }
            UnsignedTx::Eip2930(t) => {
                let s = sign(t.signature_hash())?;
                TxEnvelope::Eip2930(t.into_signed(s))
            }
            UnsignedTx::Eip1559(t) => {
                let s = sign(t.signature_hash())?;
                TxEnvelope::Eip1559(t.into_signed(s))
            }
        })
    }
}

impl RpcError {
    /// A pool or execution refusal of a transaction, with anvil's code for it.
    pub fn from_tx(e: TxError) -> Self {
        match e {
            TxError::IntrinsicGasTooLow | TxError::GasLimitTooHigh => RpcError::new(-32000, e.to_string()),
            _ => RpcError::new(-32003, e.to_string()),
        }
    }
}
