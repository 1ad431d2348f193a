//! State files in anvil's JSON shape, so a dump written here loads into anvil and one written
//! by anvil loads here: `block` (the latest block's environment), `accounts` (nonce, balance,
//! code, storage), `best_block_number`, `blocks` (header and transactions), `transactions`
//! (receipts with their `info`), `historical_states`; plus `solidml.models`, the uploaded
//! artifacts as hex, which anvil ignores.
//!
//! `anvil_dumpState` answers the document gzipped (as anvil does); `anvil_loadState` takes it
//! gzipped or plain. Files are written atomically: a temporary file in the same directory,
//! synced, then renamed over the target, so a kill at any moment leaves the old or the new
//! file, never a torn one.

use std::{
    collections::BTreeMap,
    io::{Read, Write},
    path::{Path, PathBuf},
};

use alloy_consensus::{Header, ReceiptEnvelope, Transaction as _, TxEnvelope};
use alloy_primitives::{Address, B256, Bytes, Log, U256};
use revm::{bytecode::Bytecode, state::AccountInfo};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use solidml_precompile::ModelStore;

use crate::{
    chain::{Db, MinedBlock, MinedTx, StoredReceipt, impersonated_hash},
    error::DevnodeError,
    node::Node,
};

/// An account in a dump.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccountDump {
    /// Nonce.
    pub nonce: u64,
    /// Balance.
    pub balance: U256,
    /// Runtime code.
    pub code: Bytes,
    /// Non-zero storage slots.
    pub storage: BTreeMap<B256, B256>,
}

/// A transaction inside a block of a dump.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlockTxDump {
    /// The transaction (with its hash).
    pub transaction: TxEnvelope,
    /// The sender, when it was impersonated.
    pub impersonated_sender: Option<Address>,
}

/// A block in a dump.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlockDump {
    /// Its header.
    pub header: Header,
    /// Its transactions.
    pub transactions: Vec<BlockTxDump>,
    /// Always empty.
    #[serde(default)]
    pub ommers: Vec<Value>,
    /// Unused.
    #[serde(default)]
    pub withdrawals: Option<Value>,
}

/// What anvil records of a mined transaction besides its receipt.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TxInfoDump {
    /// Its hash.
    pub transaction_hash: B256,
    /// Its index in the block.
    pub transaction_index: u64,
    /// Sender.
    pub from: Address,
    /// Recipient.
    pub to: Option<Address>,
    /// Created contract.
    pub contract_address: Option<Address>,
    /// Call traces (not kept here: written empty, ignored on load).
    #[serde(default)]
    pub traces: Vec<Value>,
    /// How it ended (`Return`, `Stop`, `Revert`, `OutOfGas`, …).
    pub exit: Value,
    /// Return or revert data.
    #[serde(default)]
    pub out: Option<Bytes>,
    /// Its nonce.
    pub nonce: u64,
    /// Gas it used.
    pub gas_used: u64,
}

/// A mined transaction in a dump.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TxDump {
    /// The record.
    pub info: TxInfoDump,
    /// The consensus receipt.
    pub receipt: ReceiptEnvelope<Log>,
    /// Its block's hash.
    pub block_hash: B256,
    /// Its block's number.
    pub block_number: u64,
}

/// SolidML's part of a dump.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SolidmlDump {
    /// The uploaded artifacts, as hex, in upload order.
    pub models: Vec<Bytes>,
}

/// A whole dump.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StateDump {
    /// The latest block's environment.
    #[serde(default)]
    pub block: Option<Value>,
    /// Accounts by address.
    pub accounts: BTreeMap<Address, AccountDump>,
    /// The latest block's number.
    #[serde(default)]
    pub best_block_number: Option<u64>,
    /// The blocks.
    #[serde(default)]
    pub blocks: Vec<BlockDump>,
    /// The mined transactions.
    #[serde(default)]
    pub transactions: Vec<TxDump>,
    /// Not kept (written `null`).
    #[serde(default)]
    pub historical_states: Option<Value>,
    /// The models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solidml: Option<SolidmlDump>,
}

/// The accounts of a state.
pub fn accounts(state: &Db) -> BTreeMap<Address, AccountDump> {
    state
        .cache
        .accounts
        .iter()
        .filter(|(_, a)| !matches!(a.account_state, revm::database::AccountState::NotExisting))
        .map(|(address, a)| {
            let code = a.info.code.as_ref().map(|c| c.original_bytes()).unwrap_or_default();
            let storage = a.storage.iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| (B256::from(*k), B256::from(*v))).collect();
            (*address, AccountDump { nonce: a.info.nonce, balance: a.info.balance, code, storage })
        })
        .collect()
}

fn exit_of(r: &StoredReceipt) -> Value {
    Value::String(
        match (r.success, r.output.is_empty()) {
            (true, true) => "Stop",
            (true, false) => "Return",
            (false, _) if !r.output.is_empty() => "Revert",
            (false, _) => "OutOfGas",
        }
        .into(),
    )
}

/// The node's state as a dump.
pub fn dump(n: &Node) -> StateDump {
    let chain = n.chain.read();
    let env = chain.env_at(Some(chain.best_number()));
    let mut blocks = vec![];
    let mut transactions = vec![];
    for b in chain.blocks() {
        let mut txs = vec![];
        for h in &b.transactions {
            let Some(t) = chain.transaction(h) else { continue };
            txs.push(BlockTxDump { transaction: t.tx.clone(), impersonated_sender: t.impersonated.then_some(t.from) });
            transactions.push(TxDump {
                info: TxInfoDump {
                    transaction_hash: t.hash,
                    transaction_index: t.index,
                    from: t.from,
                    to: t.tx.to(),
                    contract_address: t.receipt.contract_address,
                    traces: vec![],
                    exit: exit_of(&t.receipt),
                    out: Some(t.receipt.output.clone()),
                    nonce: t.tx.nonce(),
                    gas_used: t.receipt.gas_used,
                },
                receipt: t.receipt.envelope(&t.tx),
                block_hash: t.block_hash,
                block_number: t.block_number,
            });
        }
        blocks.push(BlockDump { header: b.header.clone(), transactions: txs, ommers: vec![], withdrawals: None });
    }
    let models = n.models.ids().into_iter().filter_map(|id| n.models.artifact(&id)).map(|a| Bytes::from(a.to_vec())).collect();
    StateDump {
        block: serde_json::to_value(&env.block).ok(),
        accounts: accounts(chain.state()),
        best_block_number: Some(chain.best_number()),
        blocks,
        transactions,
        historical_states: None,
        solidml: Some(SolidmlDump { models }),
    }
}

/// Replace the node's state with a dump's. A dump without blocks (an older anvil's) keeps this
/// node's blocks and only sets the accounts.
pub fn load(n: &Node, d: StateDump) -> Result<(), DevnodeError> {
    let bad = |reason: String| DevnodeError::State { path: "(loaded state)".into(), reason };
    if let Some(s) = &d.solidml {
        for artifact in &s.models {
            n.models.insert(artifact).map_err(|e| bad(format!("model: {e}")))?;
        }
    }
    let mut state = Db::new(Default::default());
    for (address, a) in &d.accounts {
        let mut info = AccountInfo { balance: a.balance, nonce: a.nonce, ..Default::default() };
        if !a.code.is_empty() {
            let code = Bytecode::new_raw(a.code.clone());
            info.code_hash = code.hash_slow();
            info.code = Some(code);
        }
        state.insert_account_info(*address, info);
        for (k, v) in &a.storage {
            state.insert_account_storage(*address, U256::from_be_bytes(k.0), U256::from_be_bytes(v.0)).map_err(|e| bad(e.to_string()))?;
        }
    }
    let mut chain = n.chain.write();
    if d.blocks.is_empty() {
        chain.replace_state(state);
        return Ok(());
    }
    let infos: BTreeMap<B256, &TxDump> = d.transactions.iter().map(|t| (t.info.transaction_hash, t)).collect();
    // anvil writes its blocks in no particular order (newest first, in 1.7)
    let mut ordered: Vec<&BlockDump> = d.blocks.iter().collect();
    ordered.sort_by_key(|b| b.header.number);
    let mut blocks = vec![];
    let mut txs = vec![];
    for (i, b) in ordered.into_iter().enumerate() {
        if b.header.number != i as u64 {
            return Err(bad(format!("block {i} has number {}", b.header.number)));
        }
        let hash = b.header.hash_slow();
        let base_fee = b.header.base_fee_per_gas;
        let mut hashes = vec![];
        let mut log_index = 0;
        for (index, bt) in b.transactions.iter().enumerate() {
            let (from, tx_hash) = match bt.impersonated_sender {
                Some(from) => (from, impersonated_hash(&bt.transaction, from)),
                None => {
                    use alloy_consensus::transaction::SignerRecoverable;
                    let from = bt.transaction.recover_signer().map_err(|e| bad(format!("block {i} transaction {index}: {e}")))?;
                    (from, *bt.transaction.tx_hash())
                }
            };
            // anvil records the impersonated hash under its own scheme: take the record's hash
            let info = infos
                .get(&tx_hash)
                .copied()
                .or_else(|| d.transactions.iter().find(|t| t.block_number == i as u64 && t.info.transaction_index == index as u64));
            let Some(info) = info else { return Err(bad(format!("block {i} transaction {index} has no receipt"))) };
            let logs = info.receipt.logs().to_vec();
            let n_logs = logs.len() as u64;
            let receipt = StoredReceipt {
                success: info.receipt.status(),
                gas_used: info.info.gas_used,
                cumulative_gas_used: info.receipt.cumulative_gas_used(),
                effective_gas_price: bt.transaction.effective_gas_price(base_fee),
                contract_address: info.info.contract_address,
                logs,
                first_log_index: log_index,
                output: info.info.out.clone().unwrap_or_default(),
            };
            log_index += n_logs;
            let hash_used = info.info.transaction_hash;
            hashes.push(hash_used);
            txs.push(MinedTx {
                tx: bt.transaction.clone(),
                from,
                hash: hash_used,
                impersonated: bt.impersonated_sender.is_some(),
                block_number: i as u64,
                block_hash: hash,
                index: index as u64,
                receipt,
            });
        }
        blocks.push(MinedBlock { header: b.header.clone(), hash, transactions: hashes });
    }
    chain.restore(state, blocks, txs);
    Ok(())
}

/// A dump as JSON bytes.
pub fn to_json(d: &StateDump) -> Result<Vec<u8>, DevnodeError> {
    serde_json::to_vec(d).map_err(|e| DevnodeError::State { path: "(dump)".into(), reason: e.to_string() })
}

/// `anvil_dumpState`: the dump, gzipped.
pub fn dump_gzip(n: &Node) -> Result<Vec<u8>, crate::error::RpcError> {
    let json = to_json(&dump(n)).map_err(|e| crate::error::RpcError::internal(e.to_string()))?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&json).and_then(|_| gz.finish()).map_err(|e| crate::error::RpcError::internal(e.to_string()))
}

/// `anvil_loadState`: a dump, gzipped or plain JSON.
pub fn load_bytes(n: &Node, bytes: &[u8]) -> Result<(), DevnodeError> {
    let bad = |reason: String| DevnodeError::State { path: "(anvil_loadState)".into(), reason };
    let json = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = vec![];
        flate2::read::GzDecoder::new(bytes).take(1 << 30).read_to_end(&mut out).map_err(|e| bad(format!("gzip: {e}")))?;
        out
    } else {
        bytes.to_vec()
    };
    let d: StateDump = serde_json::from_slice(&json).map_err(|e| bad(format!("not an anvil state: {e}")))?;
    load(n, d)
}

/// `--dump-state PATH`: a directory gets `state.json` inside, as anvil does.
pub fn dump_path(path: &Path) -> PathBuf {
    if path.is_dir() { path.join("state.json") } else { path.to_path_buf() }
}

/// Write the dump to `path` atomically (temporary file, fsync, rename, fsync of the directory).
pub fn write_file(n: &Node, path: &Path) -> Result<PathBuf, DevnodeError> {
    let path = dump_path(path);
    let bad = |reason: String| DevnodeError::State { path: path.display().to_string(), reason };
    let json = to_json(&dump(n))?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.tmp-{}", path.file_name().and_then(|f| f.to_str()).unwrap_or("state.json"), std::process::id()));
    let mut f = std::fs::File::create(&tmp).map_err(|e| bad(e.to_string()))?;
    f.write_all(&json).and_then(|_| f.sync_all()).map_err(|e| bad(e.to_string()))?;
    drop(f);
    std::fs::rename(&tmp, &path).map_err(|e| bad(e.to_string()))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(path)
}

/// Read a state file into the node.
pub fn read_file(n: &Node, path: &Path) -> Result<(), DevnodeError> {
    let path = dump_path(path);
    let bytes = std::fs::read(&path).map_err(|e| DevnodeError::State { path: path.display().to_string(), reason: e.to_string() })?;
    load_bytes(n, &bytes).map_err(|e| match e {
        DevnodeError::State { reason, .. } => DevnodeError::State { path: path.display().to_string(), reason },
        other => other,
    })
}
