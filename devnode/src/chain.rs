//! The chain: accounts and contracts (revm's in-memory database), blocks, mined transactions
//! with their receipts, the transaction pool, snapshots, and the clock.
//!
//! **Mining.** A block takes the ready transactions of the pool (each sender's transactions in
//! nonce order from its account nonce; between senders, first come first served) until the block
//! gas limit; a transaction revm refuses at mining time is dropped, as anvil drops it. With
//! automine a block is mined whenever a transaction becomes ready, so a transaction with a nonce
//! gap waits in the pool until the gap is filled. Base fees follow EIP-1559 from the genesis base
//! fee; timestamps never decrease (blocks in one second may share one, as on anvil); each block writes its parent's hash to the EIP-2935 history
//! contract, as anvil does.
//!
//! **History.** The state after each of the last [`HISTORY`] blocks can be read, so calls and
//! reads at a block tag within that range see that block's state; older tags answer an error.
//! Only the current state is held whole: every change to it (a mined transaction, the EIP-2935
//! write, a cheat code) first logs what it replaces (an [`Undo`], tagged with the best block
//! number at the time), and the state after an earlier block `n` is the current one with the
//! log's entries tagged `n` or later undone, newest first. A block so costs the size of its
//! changes, not a copy of the world (which, per block, made up a quarter of the node's work under
//! a stream of transfers), and a historical read pays one copy.
//!
//! **Snapshots.** `evm_snapshot` keeps a copy of everything but the snapshots themselves;
//! `evm_revert(id)` restores it (all but the next block's base fee, which anvil does not roll
//! back either) and drops that snapshot and every later one.

use std::{
    borrow::Cow,
    collections::{BTreeMap, HashMap, HashSet, VecDeque},
};

use alloy_consensus::{
    EMPTY_OMMER_ROOT_HASH, Header, Receipt, ReceiptEnvelope, ReceiptWithBloom, Transaction as _, TxEnvelope, TxReceipt,
    constants::EMPTY_ROOT_HASH, proofs::calculate_receipt_root, proofs::calculate_transaction_root,
};
use alloy_eips::{eip1559::BaseFeeParams, eip7685::EMPTY_REQUESTS_HASH};
use alloy_primitives::{Address, B256, Bloom, Bytes, Log, U256, keccak256};
use revm::{Database, DatabaseCommit};
use revm::{
    bytecode::Bytecode,
    context_interface::result::{EVMError, ExecutionResult, InvalidTransaction, Output},
    database::{CacheDB, DbAccount, EmptyDB, in_memory_db::AccountState},
    inspector::NoOpInspector,
    state::AccountInfo,
};
use solidml_revm::SolidMlPrecompiles;

use crate::{
    evm::{ExecEnv, transact, tx_env},
    trie::TrieCache,
};

/// revm's in-memory database: the world state.
pub type Db = CacheDB<EmptyDB>;

/// How many past block states are kept for reads at a block tag.
pub const HISTORY: u64 = 256;

/// The deterministic-deployment proxy (Arachnid's CREATE2 factory, used by `forge script` for
/// CREATE2 deployments), present from genesis as on anvil.
pub const CREATE2_DEPLOYER: Address = alloy_primitives::address!("4e59b44847b379578588920ca78fbf26c0b4956c");
const CREATE2_DEPLOYER_CODE: &str = "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3";
/// EIP-2935's block hash history contract, present from genesis (Prague) as on anvil.
pub const HISTORY_STORAGE: Address = alloy_primitives::address!("0000f90827f1c53a10cb7a02335b175320002935");
const HISTORY_STORAGE_CODE: &str = "3373fffffffffffffffffffffffffffffffffffffffe14604657602036036042575f35600143038111604257611fff81430311604257611fff9006545f5260205ff35b5f5ffd5b5f35611fff60014303065500";
/// EIP-2935's ring buffer size.
const HISTORY_SERVE_WINDOW: u64 = 8191;

/// A mined block.
#[derive(Debug, Clone)]
pub struct MinedBlock {
    /// Its header.
    pub header: Header,
    /// keccak256 of the RLP header.
    pub hash: B256,
    /// Hashes of its transactions, in order.
    pub transactions: Vec<B256>,
}

/// The receipt of a mined transaction.
#[derive(Debug, Clone)]
pub struct StoredReceipt {
    /// Whether it succeeded.
    pub success: bool,
    /// Gas it used.
    pub gas_used: u64,
    /// Gas used by the block up to and including it.
    pub cumulative_gas_used: u64,
    /// Price per gas it paid.
    pub effective_gas_price: u128,
    /// The contract it created.
    pub contract_address: Option<Address>,
    /// Logs it emitted.
    pub logs: Vec<Log>,
    /// Index in the block of its first log.
    pub first_log_index: u64,
    /// Return (or revert) data; kept for the dump (`out`).
    pub output: Bytes,
}

impl StoredReceipt {
    /// The consensus receipt (status, cumulative gas, logs, bloom), typed like its transaction.
    pub fn envelope(&self, tx: &TxEnvelope) -> ReceiptEnvelope {
        let receipt = Receipt { status: self.success.into(), cumulative_gas_used: self.cumulative_gas_used, logs: self.logs.clone() };
        let r = ReceiptWithBloom::from(receipt);
        match tx {
            TxEnvelope::Legacy(_) => ReceiptEnvelope::Legacy(r),
            TxEnvelope::Eip2930(_) => ReceiptEnvelope::Eip2930(r),
            TxEnvelope::Eip4844(_) => ReceiptEnvelope::Eip4844(r),
            TxEnvelope::Eip7702(_) => ReceiptEnvelope::Eip7702(r),
            _ => ReceiptEnvelope::Eip1559(r),
        }
    }
}

/// A mined transaction.
#[derive(Debug, Clone)]
pub struct MinedTx {
    /// The transaction (for an impersonated sender, with a placeholder signature).
    pub tx: TxEnvelope,
    /// Its sender.
    pub from: Address,
    /// Its hash (for an impersonated sender: made unique by the sender, see [`impersonated_hash`]).
    pub hash: B256,
    /// Whether the sender was impersonated.
    pub impersonated: bool,
    /// Block it is in.
    pub block_number: u64,
    /// That block's hash.
    pub block_hash: B256,
    /// Its index in the block.
    pub index: u64,
    /// Its receipt.
    pub receipt: StoredReceipt,
}

/// A transaction waiting in the pool.
#[derive(Debug, Clone)]
pub struct PoolTx {
    /// The transaction.
    pub tx: TxEnvelope,
    /// Its sender.
    pub from: Address,
    /// Its hash.
    pub hash: B256,
    /// Whether the sender is impersonated (no valid signature).
    pub impersonated: bool,
    /// Arrival order.
    seq: u64,
}

/// The hash of a transaction sent from an impersonated account: its signed hash would not
/// depend on the sender (the signature is a placeholder), so the sender is hashed in, as anvil
/// does it (keccak256 of the network encoding followed by the sender), so both give one hash.
pub fn impersonated_hash(tx: &TxEnvelope, from: Address) -> B256 {
    let mut buf = vec![];
    alloy_rlp::Encodable::encode(tx, &mut buf);
    buf.extend_from_slice(from.as_slice());
    keccak256(buf)
}

/// The node's clock: an offset to wall time (`evm_increaseTime`) and an optional fixed
/// timestamp for the next block (`evm_setNextBlockTimestamp`).
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Seconds added to wall time.
    pub offset: i64,
    /// The next block's timestamp, once.
    pub next: Option<u64>,
}

impl Clock {
    fn now() -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    }

    /// The current time as the node sees it.
    pub fn current(&self) -> u64 {
        (Self::now() as i64 + self.offset).max(0) as u64
    }

    /// A clock whose current time is `timestamp` now (anvil's start: the offset is the genesis
    /// timestamp less wall time, so that blocks go on from a `--timestamp` in the past or future).
    pub fn starting_at(timestamp: u64) -> Self {
        Clock { offset: timestamp as i64 - Self::now() as i64, next: None }
    }

    /// The next block's timestamp, as anvil picks it: the fixed one if set, else the current
    /// time; never below the parent's (equal is allowed, as in anvil).
    fn peek(&self, parent: u64) -> u64 {
        let ts = self.next.unwrap_or_else(|| self.current());
        if ts < parent { parent + 1 } else { ts }
    }

    /// [`Self::peek`], consuming a fixed timestamp; the clock then goes on from it (the offset
    /// becomes that timestamp less wall time), as anvil's does.
    fn next_timestamp(&mut self, parent: u64) -> u64 {
        let ts = self.peek(parent);
        if self.next.take().is_some() {
            self.offset = ts as i64 - Self::now() as i64;
        }
        ts
    }
}

/// Why a transaction was not accepted into the pool, or not executed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// The nonce is below the sender's account nonce.
    #[error("nonce too low")]
    NonceTooLow,
    /// The sender cannot pay `gas × price + value`.
    #[error("Insufficient funds for gas * price + value")]
    InsufficientFunds,
    /// The gas limit is below the intrinsic gas.
    #[error("intrinsic gas too low")]
    IntrinsicGasTooLow,
    /// The gas limit is above the block's.
    #[error("intrinsic gas too high -- tx.gas_limit > env.block.gas_limit")]
    GasLimitTooHigh,
    /// `maxFeePerGas` is below the block's base fee.
    #[error("max fee per gas less than block base fee")]
    FeeCapTooLow,
    /// `maxPriorityFeePerGas` above `maxFeePerGas`.
    #[error("max priority fee per gas higher than max fee per gas")]
    TipAboveFeeCap,
    /// Signed for another chain.
    #[error("invalid chain id for signer")]
    WrongChainId,
    /// The same transaction is already known.
    #[error("transaction already imported")]
    AlreadyKnown,
    /// Blob and set-code transactions.
    #[error("transaction type not supported")]
    UnsupportedType,
    /// Anything else revm refuses, with its message.
    #[error("{0}")]
    Invalid(String),
}

/// What one change to the current state replaced (see the module's **History**).
#[derive(Debug, Clone)]
enum Undo {
    /// An account's info and state (`None`: the account was not in the database).
    Account { address: Address, prior: Option<(AccountInfo, AccountState)> },
    /// One storage slot (`None`: it was not in the database).
    Slot { address: Address, slot: U256, prior: Option<U256> },
    /// The whole account, storage included (a creation or self-destruct clears its storage).
    Whole { address: Address, prior: Option<DbAccount> },
}

impl Undo {
    /// Put back what this change replaced.
    fn apply(&self, db: &mut Db) {
        let accounts = &mut db.cache.accounts;
        match self {
            Undo::Account { address, prior: None } | Undo::Whole { address, prior: None } => {
                accounts.remove(address);
            }
            Undo::Account { address, prior: Some((info, state)) } => {
                let a = accounts.entry(*address).or_default();
                a.info = info.clone();
                a.account_state = state.clone();
            }
            Undo::Slot { address, slot, prior } => {
                if let Some(a) = accounts.get_mut(address) {
                    match prior {
                        Some(v) => a.storage.insert(*slot, *v),
                        None => a.storage.remove(slot),
                    };
                }
            }
            Undo::Whole { address, prior: Some(account) } => {
                accounts.insert(*address, account.clone());
            }
        }
    }
}

/// Everything a snapshot restores.
#[derive(Clone)]
struct ChainData {
    state: Db,
    /// What each change to `state` replaced, oldest first, tagged with the best block number
    /// when it was made (see the module's **History**).
    undo: VecDeque<(u64, Undo)>,
    /// The oldest block whose state can still be read.
    oldest_kept: u64,
    blocks: Vec<MinedBlock>,
    block_numbers: HashMap<B256, u64>,
    txs: HashMap<B256, MinedTx>,
    pool: Vec<PoolTx>,
    next_base_fee: u64,
    clock: Clock,
}

/// The chain.
pub struct Chain {
    chain_id: u64,
    gas_limit: u64,
    precompiles: SolidMlPrecompiles,
    data: ChainData,
    snapshots: BTreeMap<u64, ChainData>,
    next_snapshot: u64,
    next_seq: u64,
    /// Accounts anyone may send transactions from without a signature.
    pub impersonated: HashSet<Address>,
    /// What makes each block's state root cheap (the storage roots of unchanged accounts, the
    /// buckets of changed ones).
    tries: TrieCache,
}

/// What the chain needs to start: its parameters and the genesis accounts.
#[derive(Debug, Clone)]
pub struct Genesis {
    /// Chain id.
    pub chain_id: u64,
    /// Block gas limit.
    pub gas_limit: u64,
    /// Genesis base fee.
    pub base_fee: u64,
    /// Genesis timestamp.
    pub timestamp: u64,
    /// Funded accounts.
    pub balances: Vec<(Address, U256)>,
    /// Contracts present from genesis (address, runtime code).
    pub contracts: Vec<(Address, Bytes)>,
}

fn code(hex_code: &str) -> Bytes {
    Bytes::from(hex::decode(hex_code).expect("constant bytecode"))
}

impl Chain {
    /// A chain at its genesis block.
    pub fn new(genesis: Genesis, precompiles: SolidMlPrecompiles) -> Self {
        let mut state = Db::new(EmptyDB::default());
        for (address, balance) in &genesis.balances {
            state.insert_account_info(*address, AccountInfo { balance: *balance, ..Default::default() });
        }
        let mut contracts = vec![(CREATE2_DEPLOYER, code(CREATE2_DEPLOYER_CODE)), (HISTORY_STORAGE, code(HISTORY_STORAGE_CODE))];
        contracts.extend(genesis.contracts.iter().cloned());
        for (address, runtime) in contracts {
            let bytecode = Bytecode::new_raw(runtime);
            state.insert_account_info(
                address,
                AccountInfo { code_hash: bytecode.hash_slow(), code: Some(bytecode), nonce: 0, ..Default::default() },
            );
        }
        let header = Header {
            parent_hash: B256::ZERO,
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: Address::ZERO,
            state_root: TrieCache::default().state_root(&state),
            transactions_root: EMPTY_ROOT_HASH,
            receipts_root: EMPTY_ROOT_HASH,
            logs_bloom: Bloom::ZERO,
            difficulty: U256::ZERO,
            number: 0,
            gas_limit: genesis.gas_limit,
            gas_used: 0,
            timestamp: genesis.timestamp,
            extra_data: Bytes::new(),
            mix_hash: B256::ZERO,
            nonce: Default::default(),
            base_fee_per_gas: Some(genesis.base_fee),
            withdrawals_root: Some(EMPTY_ROOT_HASH),
            blob_gas_used: Some(0),
            excess_blob_gas: Some(0),
            parent_beacon_block_root: Some(B256::ZERO),
            requests_hash: Some(EMPTY_REQUESTS_HASH),
            ..Default::default()
        };
        let hash = header.hash_slow();
        let block = MinedBlock { header, hash, transactions: vec![] };
        Chain {
            chain_id: genesis.chain_id,
            gas_limit: genesis.gas_limit,
            precompiles,
            data: ChainData {
                state,
                undo: VecDeque::new(),
                oldest_kept: 0,
                block_numbers: HashMap::from([(hash, 0)]),
                blocks: vec![block],
                txs: HashMap::new(),
                pool: vec![],
                next_base_fee: genesis.base_fee,
                clock: Clock::starting_at(genesis.timestamp),
            },
            snapshots: BTreeMap::new(),
            next_snapshot: 0,
            next_seq: 0,
            impersonated: HashSet::new(),
            tries: TrieCache::default(),
        }
    }

    /// A chain rebuilt from loaded parts (see `dump`): current state, blocks, transactions.
    pub(crate) fn restore(&mut self, state: Db, blocks: Vec<MinedBlock>, txs: Vec<MinedTx>) {
        let best = blocks.len().saturating_sub(1) as u64;
        self.tries.clear();
        let d = &mut self.data;
        d.block_numbers = blocks.iter().map(|b| (b.hash, b.header.number)).collect();
        d.txs = txs.into_iter().map(|t| (t.hash, t)).collect();
        if let Some(last) = blocks.last() {
            d.next_base_fee = next_base_fee(&last.header);
        }
        d.blocks = blocks;
        d.undo.clear();
        d.oldest_kept = best;
        d.state = state;
        d.pool.clear();
    }

    /// Chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// Block gas limit.
    pub fn gas_limit(&self) -> u64 {
        self.gas_limit
    }

    /// The precompiles every execution uses.
    pub fn precompiles(&self) -> &SolidMlPrecompiles {
        &self.precompiles
    }

    /// The current state.
    pub fn state(&self) -> &Db {
        &self.data.state
    }

    /// Replace the current state (a loaded dump without blocks); earlier states are no longer
    /// kept.
    pub fn replace_state(&mut self, state: Db) {
        self.tries.clear();
        self.data.undo.clear();
        self.data.oldest_kept = self.best_number();
        self.data.state = state;
    }

    /// The state after block `number`, if still kept: the current one itself for the best
    /// block, else a copy with the later changes undone.
    pub fn state_at(&self, number: u64) -> Option<Cow<'_, Db>> {
        let best = self.best_number();
        if number == best {
            return Some(Cow::Borrowed(&self.data.state));
        }
        if number > best || number < self.data.oldest_kept {
            return None;
        }
        let mut db = self.data.state.clone();
        for (_, undo) in self.data.undo.iter().rev().take_while(|(tag, _)| *tag >= number) {
            undo.apply(&mut db);
        }
        Some(Cow::Owned(db))
    }

    /// Log what a change to `address`'s info (and `slots`, if given) is about to replace.
    fn log_account(&mut self, address: Address, slots: impl IntoIterator<Item = U256>) {
        let tag = self.best_number();
        let current = self.data.state.cache.accounts.get(&address);
        let prior = current.map(|a| (a.info.clone(), a.account_state.clone()));
        let slots: Vec<Undo> = slots
            .into_iter()
            .map(|slot| Undo::Slot { address, slot, prior: current.and_then(|a| a.storage.get(&slot).copied()) })
            .collect();
        self.data.undo.push_back((tag, Undo::Account { address, prior }));
        self.data.undo.extend(slots.into_iter().map(|u| (tag, u)));
    }

    /// Log what committing `changes` (one transaction's) is about to replace.
    fn log_commit(&mut self, changes: &revm::state::EvmState) {
        for (address, account) in changes {
            if !account.is_touched() {
                continue;
            }
            if account.is_selfdestructed() || account.is_created() {
                let tag = self.best_number();
                let prior = self.data.state.cache.accounts.get(address).cloned();
                self.data.undo.push_back((tag, Undo::Whole { address: *address, prior }));
            } else {
                self.log_account(*address, account.storage.keys().copied());
            }
        }
    }

    /// Number of the latest block.
    pub fn best_number(&self) -> u64 {
        self.data.blocks.len() as u64 - 1
    }

    /// The latest block.
    pub fn best_block(&self) -> &MinedBlock {
        self.data.blocks.last().expect("genesis exists")
    }

    /// Block by number.
    pub fn block(&self, number: u64) -> Option<&MinedBlock> {
        self.data.blocks.get(number as usize)
    }

    /// Block by hash.
    pub fn block_by_hash(&self, hash: &B256) -> Option<&MinedBlock> {
        self.data.block_numbers.get(hash).and_then(|n| self.block(*n))
    }

    /// All blocks, oldest first.
    pub fn blocks(&self) -> &[MinedBlock] {
        &self.data.blocks
    }

    /// A mined transaction.
    pub fn transaction(&self, hash: &B256) -> Option<&MinedTx> {
        self.data.txs.get(hash)
    }

    /// A pending transaction.
    pub fn pending(&self, hash: &B256) -> Option<&PoolTx> {
        self.data.pool.iter().find(|t| t.hash == *hash)
    }

    /// The pool.
    pub fn pool(&self) -> &[PoolTx] {
        &self.data.pool
    }

    /// The base fee of the next block.
    pub fn next_base_fee(&self) -> u64 {
        self.data.next_base_fee
    }

    /// Set the next block's base fee (`anvil_setNextBlockBaseFeePerGas`); EIP-1559 goes on from it.
    pub fn set_next_base_fee(&mut self, base_fee: u64) {
        self.data.next_base_fee = base_fee;
    }

    /// The priority fee to suggest, as anvil does: the lowest tip paid in the latest block, at
    /// least 1 gwei.
    pub fn suggested_tip(&self) -> u128 {
        let best = self.best_block();
        let base_fee = best.header.base_fee_per_gas.unwrap_or_default();
        let lowest =
            best.transactions.iter().filter_map(|h| self.transaction(h)).map(|t| t.tx.effective_tip_per_gas(base_fee).unwrap_or(0)).min();
        lowest.unwrap_or(0).max(crate::node::SUGGESTED_PRIORITY_FEE)
    }

    /// The gas price to suggest (`eth_gasPrice`, and the fee cap `eth_sendTransaction` fills in):
    /// the next block's base fee plus [`Self::suggested_tip`].
    pub fn gas_price(&self) -> u128 {
        self.next_base_fee() as u128 + self.suggested_tip()
    }

    /// The clock.
    pub fn clock(&mut self) -> &mut Clock {
        &mut self.data.clock
    }

    /// Account nonce in the current state.
    pub fn nonce(&self, address: Address) -> u64 {
        self.data.state.cache.accounts.get(&address).map(|a| a.info.nonce).unwrap_or(0)
    }

    /// Account balance in the current state.
    pub fn balance(&self, address: Address) -> U256 {
        self.data.state.cache.accounts.get(&address).map(|a| a.info.balance).unwrap_or_default()
    }

    /// The nonce the sender's next transaction takes: the account nonce plus its consecutive
    /// pending transactions.
    pub fn pending_nonce(&self, address: Address) -> u64 {
        let mut n = self.nonce(address);
        while self.data.pool.iter().any(|t| t.from == address && t.tx.nonce() == n) {
            n += 1;
        }
        n
    }

    /// The environment of the next block (for pending-state calls) or of block `number`.
    pub fn env_at(&self, number: Option<u64>) -> ExecEnv {
        let (n, ts, base_fee) = match number.and_then(|n| self.block(n)) {
            Some(b) => (b.header.number, b.header.timestamp, b.header.base_fee_per_gas.unwrap_or_default()),
            None => {
                let best = &self.best_block().header;
                (best.number + 1, self.data.clock.peek(best.timestamp), self.data.next_base_fee)
            }
        };
        ExecEnv::new(self.chain_id, self.precompiles.clone(), n, ts, self.gas_limit, base_fee)
    }

    /// Check a transaction against the current state and add it to the pool. Returns whether it
    /// is ready (its nonce is the sender's next).
    pub fn add_to_pool(&mut self, tx: TxEnvelope, from: Address, hash: B256, impersonated: bool) -> Result<bool, TxError> {
        if matches!(tx, TxEnvelope::Eip4844(_) | TxEnvelope::Eip7702(_)) {
            return Err(TxError::UnsupportedType);
        }
        if tx.chain_id().is_some_and(|id| id != self.chain_id) {
            return Err(TxError::WrongChainId);
        }
        // a mined transaction sent again is refused for its nonce, as anvil does
        let nonce = self.nonce(from);
        if tx.nonce() < nonce {
            return Err(TxError::NonceTooLow);
        }
        if self.data.txs.contains_key(&hash) || self.pending(&hash).is_some() {
            return Err(TxError::AlreadyKnown);
        }
        if tx.gas_limit() > self.gas_limit {
            return Err(TxError::GasLimitTooHigh);
        }
        let intrinsic = revm::context_interface::cfg::gas::calculate_initial_tx_gas(
            crate::evm::SPEC,
            tx.input(),
            tx.kind().is_create(),
            tx.access_list().map(|l| l.len() as u64).unwrap_or(0),
            tx.access_list().map(|l| l.iter().map(|i| i.storage_keys.len() as u64).sum()).unwrap_or(0),
            0,
            None,
        );
        if tx.gas_limit() < intrinsic.initial_regular_gas.max(intrinsic.floor_gas) {
            return Err(TxError::IntrinsicGasTooLow);
        }
        if let Some(tip) = tx.max_priority_fee_per_gas()
            && tip > tx.max_fee_per_gas()
        {
            return Err(TxError::TipAboveFeeCap);
        }
        if tx.max_fee_per_gas() < self.data.next_base_fee as u128 {
            return Err(TxError::FeeCapTooLow);
        }
        let cost = U256::from(tx.gas_limit()) * U256::from(tx.max_fee_per_gas()) + tx.value();
        if cost > self.balance(from) {
            return Err(TxError::InsufficientFunds);
        }
        // a transaction replacing a pending one with the same nonce takes its place
        self.data.pool.retain(|t| !(t.from == from && t.tx.nonce() == tx.nonce()));
        let ready = tx.nonce() == self.pending_nonce(from);
        self.data.pool.push(PoolTx { tx, from, hash, impersonated, seq: self.next_seq });
        self.next_seq += 1;
        Ok(ready)
    }

    /// Whether any pooled transaction is ready to be mined.
    pub fn has_ready(&self) -> bool {
        self.data.pool.iter().any(|t| t.tx.nonce() == self.nonce(t.from))
    }

    /// Drop a pending transaction; returns whether it was there.
    pub fn drop_pending(&mut self, hash: &B256) -> bool {
        let before = self.data.pool.len();
        self.data.pool.retain(|t| t.hash != *hash);
        before != self.data.pool.len()
    }

    /// The next ready transaction: the earliest to arrive among each sender's next nonce.
    fn take_ready(&mut self, nonces: &HashMap<Address, u64>, gas_left: u64) -> Option<PoolTx> {
        let nonce_of = |a: &Address| nonces.get(a).copied().unwrap_or_else(|| self.nonce(*a));
        let i = self
            .data
            .pool
            .iter()
            .enumerate()
            .filter(|(_, t)| t.tx.nonce() == nonce_of(&t.from) && t.tx.gas_limit() <= gas_left)
            .min_by_key(|(_, t)| t.seq)
            .map(|(i, _)| i)?;
        Some(self.data.pool.remove(i))
    }

    /// Mine one block with the ready transactions (none with `empty`), at `timestamp` if given.
    /// Returns the new block's number.
    pub fn mine(&mut self, timestamp: Option<u64>, empty: bool) -> u64 {
        let parent = self.best_block().clone();
        if let Some(t) = timestamp {
            self.data.clock.next = Some(t);
        }
        let number = parent.header.number + 1;
        let ts = self.data.clock.next_timestamp(parent.header.timestamp);
        let base_fee = self.data.next_base_fee;
        let env = ExecEnv::new(self.chain_id, self.precompiles.clone(), number, ts, self.gas_limit, base_fee);
        // EIP-2935: the parent's hash into the history contract's ring buffer
        let slot = U256::from((number - 1) % HISTORY_SERVE_WINDOW);
        self.log_account(HISTORY_STORAGE, [slot]);
        let _ = self.data.state.insert_account_storage(HISTORY_STORAGE, slot, U256::from_be_bytes(parent.hash.0));

        let mut mined: Vec<(PoolTx, StoredReceipt)> = vec![];
        let mut cumulative = 0u64;
        let mut log_index = 0u64;
        let mut nonces = HashMap::new();
        loop {
            let Some(ptx) = (!empty).then(|| self.take_ready(&nonces, self.gas_limit - cumulative)).flatten() else { break };
            let result = transact(&mut self.data.state, &env, tx_env(&ptx.tx, ptx.from), NoOpInspector);
            let Ok(result) = result else { continue };
            for (address, account) in &result.state {
                if !account.storage.is_empty() || account.is_selfdestructed() {
                    self.tries.forget(address);
                }
            }
            self.log_commit(&result.state);
            self.data.state.commit(result.state);
            nonces.insert(ptx.from, ptx.tx.nonce() + 1);
            let gas_used = result.result.tx_gas_used();
            cumulative += gas_used;
            let effective_gas_price = ptx.tx.effective_gas_price(Some(base_fee));
            let (success, logs, contract_address, output) = match result.result {
                ExecutionResult::Success { logs, output, .. } => {
                    let created = match &output {
                        Output::Create(_, address) => *address,
                        Output::Call(_) => None,
                    };
                    (true, logs, created, output.into_data())
                }
                ExecutionResult::Revert { output, .. } => (false, vec![], None, output),
                ExecutionResult::Halt { .. } => (false, vec![], None, Bytes::new()),
            };
            let n_logs = logs.len() as u64;
            let receipt = StoredReceipt {
                success,
                gas_used,
                cumulative_gas_used: cumulative,
                effective_gas_price,
                contract_address,
                logs,
                first_log_index: log_index,
                output,
            };
            log_index += n_logs;
            mined.push((ptx, receipt));
        }
        let envelopes: Vec<ReceiptEnvelope> = mined.iter().map(|(t, r)| r.envelope(&t.tx)).collect();
        let mut bloom = Bloom::ZERO;
        for e in &envelopes {
            bloom.accrue_bloom(&e.bloom());
        }
        let txs: Vec<&TxEnvelope> = mined.iter().map(|(t, _)| &t.tx).collect();
        let header = Header {
            parent_hash: parent.hash,
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: Address::ZERO,
            state_root: {
                self.tries.forget(&HISTORY_STORAGE);
                self.tries.state_root(&self.data.state)
            },
            transactions_root: if txs.is_empty() { EMPTY_ROOT_HASH } else { calculate_transaction_root(&txs) },
            receipts_root: if envelopes.is_empty() { EMPTY_ROOT_HASH } else { calculate_receipt_root(&envelopes) },
            logs_bloom: bloom,
            difficulty: U256::ZERO,
            number,
            gas_limit: self.gas_limit,
            gas_used: cumulative,
            timestamp: ts,
            extra_data: Bytes::new(),
            mix_hash: keccak256([number.to_be_bytes(), ts.to_be_bytes()].concat()),
            nonce: Default::default(),
            base_fee_per_gas: Some(base_fee),
            withdrawals_root: Some(EMPTY_ROOT_HASH),
            blob_gas_used: Some(0),
            excess_blob_gas: Some(0),
            parent_beacon_block_root: Some(B256::ZERO),
            requests_hash: Some(EMPTY_REQUESTS_HASH),
            block_access_list_hash: None,
            slot_number: None,
        };
        let hash = header.hash_slow();
        self.data.next_base_fee = next_base_fee(&header);
        let mut hashes = vec![];
        for (index, (ptx, receipt)) in mined.into_iter().enumerate() {
            hashes.push(ptx.hash);
            let mined = MinedTx {
                tx: ptx.tx,
                from: ptx.from,
                hash: ptx.hash,
                impersonated: ptx.impersonated,
                block_number: number,
                block_hash: hash,
                index: index as u64,
                receipt,
            };
            self.data.txs.insert(ptx.hash, mined);
        }
        self.data.blocks.push(MinedBlock { header, hash, transactions: hashes });
        self.data.block_numbers.insert(hash, number);
        // the states of the last HISTORY blocks stay readable
        let d = &mut self.data;
        d.oldest_kept = d.oldest_kept.max((number + 1).saturating_sub(HISTORY));
        while d.undo.front().is_some_and(|(tag, _)| *tag < d.oldest_kept) {
            d.undo.pop_front();
        }
        number
    }

    /// Keep a snapshot; returns its id.
    pub fn snapshot(&mut self) -> u64 {
        let id = self.next_snapshot;
        self.next_snapshot += 1;
        self.snapshots.insert(id, self.data.clone());
        id
    }

    /// Go back to snapshot `id`, dropping it and every later one; `false` if there is none.
    pub fn revert(&mut self, id: u64) -> bool {
        let Some(data) = self.snapshots.remove(&id) else { return false };
        self.snapshots.retain(|&k, _| k < id);
        // as anvil: the next base fee is not rolled back with the chain
        let next_base_fee = self.data.next_base_fee;
        self.data = data;
        self.data.next_base_fee = next_base_fee;
        self.tries.clear();
        true
    }

    /// Set an account's code (cheat code).
    pub fn set_code(&mut self, address: Address, runtime: Bytes) {
        let mut info = self.account_info(address);
        let bytecode = Bytecode::new_raw(runtime);
        info.code_hash = bytecode.hash_slow();
        info.code = Some(bytecode);
        self.log_account(address, []);
        self.data.state.insert_account_info(address, info);
    }

    /// Set an account's balance (cheat code).
    pub fn set_balance(&mut self, address: Address, balance: U256) {
        let mut info = self.account_info(address);
        info.balance = balance;
        self.log_account(address, []);
        self.data.state.insert_account_info(address, info);
    }

    /// Set an account's nonce (cheat code).
    pub fn set_nonce(&mut self, address: Address, nonce: u64) {
        let mut info = self.account_info(address);
        info.nonce = nonce;
        self.log_account(address, []);
        self.data.state.insert_account_info(address, info);
    }

    /// Set a storage slot (cheat code).
    pub fn set_storage(&mut self, address: Address, slot: U256, value: U256) {
        self.tries.forget(&address);
        let info = self.account_info(address);
        self.log_account(address, [slot]);
        self.data.state.insert_account_info(address, info);
        let _ = self.data.state.insert_account_storage(address, slot, value);
    }

    fn account_info(&mut self, address: Address) -> AccountInfo {
        self.data.state.basic(address).ok().flatten().unwrap_or_default()
    }
}

/// The base fee of the block after `header` (EIP-1559 with Ethereum's parameters).
pub fn next_base_fee(header: &Header) -> u64 {
    BaseFeeParams::ethereum().next_block_base_fee(header.gas_used, header.gas_limit, header.base_fee_per_gas.unwrap_or_default())
}

/// revm's refusal of a transaction, as a [`TxError`].
pub fn tx_error<E: std::fmt::Display>(e: &EVMError<E>) -> TxError {
    match e {
        EVMError::Transaction(t) => match t {
            InvalidTransaction::NonceTooLow { .. } => TxError::NonceTooLow,
            InvalidTransaction::LackOfFundForMaxFee { .. } => TxError::InsufficientFunds,
            InvalidTransaction::CallGasCostMoreThanGasLimit { .. } | InvalidTransaction::GasFloorMoreThanGasLimit { .. } => {
                TxError::IntrinsicGasTooLow
            }
            InvalidTransaction::GasPriceLessThanBasefee => TxError::FeeCapTooLow,
            InvalidTransaction::CallerGasLimitMoreThanBlock => TxError::GasLimitTooHigh,
            other => TxError::Invalid(other.to_string()),
        },
        other => TxError::Invalid(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use alloy_consensus::{Signed, TxLegacy};
    use alloy_primitives::{Signature, TxKind};
    use solidml_precompile::SolidMlPrecompile;

    use super::*;

    /// An account as reads see it: its info (code by hash) and non-zero slots, sorted.
    type Readable = (Address, Option<AccountInfo>, Vec<(U256, U256)>);

    /// Every account of a state that reads can tell from an absent one, sorted.
    fn readable(db: &Db) -> Vec<Readable> {
        let mut accounts: Vec<_> = db
            .cache
            .accounts
            .iter()
            .map(|(a, acc)| {
                let mut slots: Vec<_> = acc.storage.iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| (*k, *v)).collect();
                slots.sort();
                let mut info = acc.info();
                if let Some(i) = &mut info {
                    i.code = None; // compared by its hash
                }
                (*a, info.filter(|i| !i.is_empty() || !slots.is_empty()), slots)
            })
            .filter(|(_, info, slots)| info.is_some() || !slots.is_empty())
            .collect();
        accounts.sort_by_key(|(a, _, _)| *a);
        accounts
    }

    #[test]
    fn earlier_states_rebuilt_from_the_undo_log_equal_copies_taken_at_each_block() {
        let sender = Address::with_last_byte(0xA1);
        let store = Address::with_last_byte(0x5E);
        let executor = solidml_backends::make(solidml_backends::BackendChoice::Cpu).unwrap();
        let precompiles = SolidMlPrecompiles::new(crate::evm::SPEC, SolidMlPrecompile::new(executor));
        let genesis = Genesis {
            chain_id: 31337,
            gas_limit: 30_000_000,
            base_fee: 1_000_000_000,
            timestamp: 1_700_000_000,
            balances: vec![(sender, U256::from(10u128.pow(21)))],
            contracts: vec![],
        };
        let mut chain = Chain::new(genesis, precompiles);
        // as before this log: a block's state is the one it was mined with, without the cheat
        // codes used while it was the latest
        let mut copies = vec![(chain.best_number(), chain.state().clone())];
        // calldata (value, slot): SSTORE(slot, value)
        chain.set_code(store, Bytes::from_static(&[0x60, 0x00, 0x35, 0x60, 0x20, 0x35, 0x55]));
        let mut nonce = 0;
        let mut send = |chain: &mut Chain, to: TxKind, input: Vec<u8>| {
            let tx = TxLegacy {
                chain_id: Some(31337),
                nonce,
                gas_price: 2_000_000_000,
                gas_limit: 200_000,
                to,
                value: U256::from(nonce + 1),
                input: input.into(),
            };
            let hash = B256::with_last_byte(nonce as u8 + 1);
            nonce += 1;
            chain
                .add_to_pool(TxEnvelope::Legacy(Signed::new_unchecked(tx, Signature::test_signature(), hash)), sender, hash, true)
                .unwrap();
        };
        let word = |v: u64| U256::from(v).to_be_bytes::<32>().to_vec();
        for round in 0..6u64 {
            // storage writes (new slots, overwrites, a slot set back to zero), a transfer to a
            // fresh account, a creation that writes its own storage, cheat codes between blocks
            send(&mut chain, TxKind::Call(store), [word(round + 10), word(round % 3)].concat());
            send(&mut chain, TxKind::Call(store), [word(0), word((round + 1) % 3)].concat());
            send(&mut chain, TxKind::Call(Address::with_last_byte(0xF0 + round as u8)), vec![]);
            send(&mut chain, TxKind::Create, vec![0x60, 0x07, 0x60, 0x01, 0x55, 0x00]);
            chain.mine(None, false);
            copies.push((chain.best_number(), chain.state().clone()));
            chain.set_balance(Address::with_last_byte(0xB0), U256::from(round));
            chain.set_storage(store, U256::from(100 + round), U256::from(round + 1));
            chain.set_nonce(sender, chain.nonce(sender));
            if round == 3 {
                chain.mine(None, true);
                copies.push((chain.best_number(), chain.state().clone()));
            }
        }
        let best = chain.best_number();
        assert_eq!(best, 7);
        for (number, copy) in &copies {
            let rebuilt = chain.state_at(*number).unwrap();
            if *number == best {
                assert!(matches!(rebuilt, Cow::Borrowed(_)));
                continue;
            }
            assert_eq!(readable(&rebuilt), readable(copy), "block {number}");
        }
        assert!(chain.state_at(best + 1).is_none());
        // the undo log is bounded by the kept history
        for _ in 0..HISTORY + 5 {
            chain.mine(None, true);
        }
        let best = chain.best_number();
        assert!(chain.state_at(best - HISTORY).is_none());
        assert!(chain.state_at(best + 1 - HISTORY).is_some());
        assert!(chain.data.undo.iter().all(|(tag, _)| *tag >= best + 1 - HISTORY));
    }
}
