//! The chain's records in alloy's JSON-RPC types (the shapes every Ethereum client reads):
//! blocks, transactions, receipts and logs.

use alloy_consensus::{BlockBody, Receipt, ReceiptEnvelope, ReceiptWithBloom, Transaction as _, TxEnvelope, transaction::Recovered};
use alloy_primitives::B256;
use alloy_rlp::Encodable;
use alloy_rpc_types_eth::{
    Block, BlockTransactions, Header as RpcHeader, Log as RpcLog, Transaction as RpcTransaction, TransactionReceipt,
};
use serde_json::Value;

use crate::chain::{Chain, MinedBlock, MinedTx, PoolTx};

/// A mined transaction as JSON (`hash` is the node's hash, which for an impersonated sender
/// differs from the envelope's).
pub fn transaction(t: &MinedTx, block_timestamp: Option<u64>) -> Value {
    let rpc = RpcTransaction {
        inner: Recovered::new_unchecked(t.tx.clone(), t.from),
        block_hash: Some(t.block_hash),
        block_number: Some(t.block_number),
        transaction_index: Some(t.index),
        effective_gas_price: Some(t.receipt.effective_gas_price),
        block_timestamp,
    };
    with_hash(serde_json::to_value(rpc).unwrap_or(Value::Null), t.hash)
}

/// A pending transaction as JSON (its `gasPrice`: what it would pay at `base_fee`, as anvil shows).
pub fn pending_transaction(t: &PoolTx, base_fee: u64) -> Value {
    let rpc = RpcTransaction {
        inner: Recovered::new_unchecked(t.tx.clone(), t.from),
        block_hash: None,
        block_number: None,
        transaction_index: None,
        effective_gas_price: Some(t.tx.effective_gas_price(Some(base_fee))),
        block_timestamp: None,
    };
    with_hash(serde_json::to_value(rpc).unwrap_or(Value::Null), t.hash)
}

fn with_hash(mut v: Value, hash: B256) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.insert("hash".into(), serde_json::to_value(hash).unwrap_or(Value::Null));
    }
    v
}

/// The logs of a mined transaction, with their positions.
pub fn logs(t: &MinedTx, block: &MinedBlock) -> Vec<RpcLog> {
    t.receipt
        .logs
        .iter()
        .enumerate()
        .map(|(i, l)| RpcLog {
            inner: l.clone(),
            block_hash: Some(t.block_hash),
            block_number: Some(t.block_number),
            block_timestamp: Some(block.header.timestamp),
            transaction_hash: Some(t.hash),
            transaction_index: Some(t.index),
            log_index: Some(t.receipt.first_log_index + i as u64),
            removed: false,
        })
        .collect()
}

/// The receipt of a mined transaction.
pub fn receipt(t: &MinedTx, block: &MinedBlock) -> Value {
    let r = &t.receipt;
    let with_bloom = |logs| {
        let consensus = r.envelope(&t.tx);
        ReceiptWithBloom {
            receipt: Receipt { status: r.success.into(), cumulative_gas_used: r.cumulative_gas_used, logs },
            logs_bloom: *consensus.logs_bloom(),
        }
    };
    let logs = logs(t, block);
    let inner = match &t.tx {
        TxEnvelope::Legacy(_) => ReceiptEnvelope::Legacy(with_bloom(logs)),
        TxEnvelope::Eip2930(_) => ReceiptEnvelope::Eip2930(with_bloom(logs)),
        _ => ReceiptEnvelope::Eip1559(with_bloom(logs)),
    };
    let rpc = TransactionReceipt {
        inner,
        transaction_hash: t.hash,
        transaction_index: Some(t.index),
        block_hash: Some(t.block_hash),
        block_number: Some(t.block_number),
        gas_used: r.gas_used,
        effective_gas_price: r.effective_gas_price,
        blob_gas_used: None,
        // anvil reports the blob base fee (1 wei) on every receipt
        blob_gas_price: Some(1),
        from: t.from,
        to: t.tx.to(),
        contract_address: r.contract_address,
    };
    let mut v = serde_json::to_value(rpc).unwrap_or(Value::Null);
    // anvil adds the block's timestamp, as a JSON number
    if let Some(o) = v.as_object_mut() {
        o.insert("blockTimestamp".into(), Value::from(block.header.timestamp));
    }
    v
}

/// A block with its transactions' hashes, or in full.
pub fn block(chain: &Chain, b: &MinedBlock, full: bool) -> Value {
    let mined: Vec<&MinedTx> = b.transactions.iter().filter_map(|h| chain.transaction(h)).collect();
    // the size as anvil counts it: header and transactions, no withdrawals list
    let body = BlockBody::<TxEnvelope> { transactions: mined.iter().map(|t| t.tx.clone()).collect(), ommers: vec![], withdrawals: None };
    let size = alloy_consensus::Block { header: b.header.clone(), body }.length() as u64;
    let header = RpcHeader {
        hash: b.hash,
        inner: b.header.clone(),
        total_difficulty: Some(Default::default()),
        size: Some(alloy_primitives::U256::from(size)),
    };
    let block = Block::<Value, RpcHeader> {
        header,
        uncles: vec![],
        transactions: if full {
            BlockTransactions::Full(mined.iter().map(|t| transaction(t, Some(b.header.timestamp))).collect())
        } else {
            BlockTransactions::Hashes(b.transactions.clone())
        },
        withdrawals: Some(Default::default()),
    };
    serde_json::to_value(block).unwrap_or(Value::Null)
}
