//! anvil's methods, under their `anvil_*`/`evm_*` names and the `hardhat_*` aliases: mining,
//! snapshots, the clock, account cheats, impersonation, state dumps and reset.

use std::sync::atomic::Ordering;

use alloy_primitives::{Address, B256, Bytes, U256};
use jsonrpsee::RpcModule;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{blocking_method, method, quantity};
use crate::{dump, error::RpcError, evm::SPEC, node::Node};

/// `evm_mine`'s parameter: a timestamp, or `{timestamp, blocks}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum MineOptions {
    Timestamp(U256),
    Options {
        #[serde(default)]
        timestamp: Option<U256>,
        #[serde(default)]
        blocks: Option<U256>,
    },
}

/// The fork's name as anvil writes it (`Prague`).
fn hardfork_name() -> String {
    let lower = format!("{SPEC:?}").to_lowercase();
    let mut chars = lower.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

pub(crate) fn register(m: &mut RpcModule<Node>) {
    blocking_method(m, &["evm_mine"], |n, a| {
        let (timestamp, blocks) = match a.opt::<MineOptions>()? {
            None => (None, 1),
            Some(MineOptions::Timestamp(t)) => (Some(t.saturating_to()), 1),
            Some(MineOptions::Options { timestamp, blocks }) => {
                (timestamp.map(|t| t.saturating_to()), blocks.map(|b| b.saturating_to()).unwrap_or(1))
            }
        };
        n.mine(blocks, None, timestamp);
        Ok("0x0")
    });
    blocking_method(m, &["anvil_mine", "hardhat_mine"], |n, a| {
        let blocks: Option<U256> = a.opt()?;
        let interval: Option<U256> = a.opt()?;
        let blocks = blocks.map(|b| b.saturating_to::<u64>()).unwrap_or(1);
        if blocks > 1_000_000 {
            return Err(RpcError::invalid_params("at most 1,000,000 blocks at once"));
        }
        n.mine(blocks, interval.map(|i| i.saturating_to()), None);
        Ok(Value::Null)
    });
    blocking_method(m, &["evm_snapshot", "anvil_snapshot"], |n, _| Ok(U256::from(n.chain.write().snapshot())));
    blocking_method(m, &["evm_revert", "anvil_revert"], |n, a| {
        let id: U256 = a.next()?;
        Ok(id <= U256::from(u64::MAX) && n.chain.write().revert(id.saturating_to()))
    });
    method(m, &["evm_increaseTime", "anvil_increaseTime"], |n, a| {
        let secs: U256 = a.next()?;
        let secs: i64 = secs.try_into().map_err(|_| RpcError::invalid_params("seconds out of range"))?;
        let mut chain = n.chain.write();
        let clock = chain.clock();
        clock.offset = clock.offset.saturating_add(secs);
        Ok(clock.offset)
    });
    method(m, &["evm_setNextBlockTimestamp", "anvil_setNextBlockTimestamp"], |n, a| {
        let ts: U256 = a.next()?;
        let ts: u64 = ts.try_into().map_err(|_| RpcError::invalid_params("timestamp out of range"))?;
        let mut chain = n.chain.write();
        let last = chain.best_block().header.timestamp;
        if ts < last {
            return Err(RpcError::invalid_params(format!("Timestamp error: {ts} is lower than previous block's timestamp")));
        }
        chain.clock().next = Some(ts);
        Ok(Value::Null)
    });
    method(m, &["evm_setTime", "anvil_setTime"], |n, a| {
        let ts: U256 = a.next()?;
        let ts: u64 = ts.saturating_to();
        let mut chain = n.chain.write();
        let clock = chain.clock();
        let now = clock.current() as i64 - clock.offset;
        clock.offset = ts as i64 - now;
        Ok(clock.offset)
    });
    method(m, &["evm_setAutomine", "anvil_setAutomine"], |n, a| {
        let on: bool = a.next()?;
        n.automine.store(on, Ordering::Relaxed);
        if on {
            let mut chain = n.chain.write();
            while chain.has_ready() {
                let b = chain.mine(None, false);
                let _ = n.new_blocks.send(b);
            }
        }
        Ok(Value::Null)
    });
    method(m, &["anvil_setNextBlockBaseFeePerGas", "hardhat_setNextBlockBaseFeePerGas"], |n, a| {
        let fee: U256 = a.next()?;
        let fee: u64 = fee.try_into().map_err(|_| RpcError::invalid_params("base fee out of range"))?;
        n.chain.write().set_next_base_fee(fee);
        Ok(Value::Null)
    });
    method(m, &["anvil_getAutomine", "hardhat_getAutomine"], |n, _| Ok(n.automine.load(Ordering::Relaxed)));
    method(m, &["anvil_setBalance", "hardhat_setBalance"], |n, a| {
        let address: Address = a.next()?;
        let balance: U256 = a.next()?;
        n.chain.write().set_balance(address, balance);
        Ok(Value::Null)
    });
    method(m, &["anvil_setCode", "hardhat_setCode"], |n, a| {
        let address: Address = a.next()?;
        let code: Bytes = a.next()?;
        n.chain.write().set_code(address, code);
        Ok(Value::Null)
    });
    method(m, &["anvil_setNonce", "hardhat_setNonce", "evm_setAccountNonce"], |n, a| {
        let address: Address = a.next()?;
        let nonce: U256 = a.next()?;
        n.chain.write().set_nonce(address, nonce.try_into().map_err(|_| RpcError::invalid_params("nonce out of range"))?);
        Ok(Value::Null)
    });
    method(m, &["anvil_setStorageAt", "hardhat_setStorageAt"], |n, a| {
        let address: Address = a.next()?;
        let slot: U256 = a.next()?;
        let value: B256 = a.next()?;
        n.chain.write().set_storage(address, slot, U256::from_be_bytes(value.0));
        Ok(true)
    });
    method(m, &["anvil_impersonateAccount", "hardhat_impersonateAccount"], |n, a| {
        let address: Address = a.next()?;
        n.chain.write().impersonated.insert(address);
        Ok(Value::Null)
    });
    method(m, &["anvil_stopImpersonatingAccount", "hardhat_stopImpersonatingAccount"], |n, a| {
        let address: Address = a.next()?;
        n.chain.write().impersonated.remove(&address);
        Ok(Value::Null)
    });
    method(m, &["anvil_dropTransaction", "hardhat_dropTransaction"], |n, a| {
        let hash: B256 = a.next()?;
        Ok(n.chain.write().drop_pending(&hash).then_some(hash))
    });
    blocking_method(m, &["anvil_dumpState", "hardhat_dumpState"], |n, _| dump::dump_gzip(n).map(Bytes::from));
    blocking_method(m, &["anvil_loadState", "hardhat_loadState"], |n, a| {
        let bytes: Bytes = a.next()?;
        dump::load_bytes(n, &bytes).map_err(|e| RpcError::invalid_params(e.to_string()))?;
        Ok(true)
    });
    blocking_method(m, &["anvil_reset", "hardhat_reset"], |n, a| {
        let options: Option<Value> = a.opt()?;
        if options.as_ref().and_then(|o| o.get("forking")).is_some_and(|f| !f.is_null()) {
            return Err(RpcError::invalid_input("forking is not supported by the SolidML devnode"));
        }
        n.reset();
        Ok(Value::Null)
    });
    method(m, &["anvil_nodeInfo"], |n, _| {
        let chain = n.chain.read();
        let best = chain.best_block();
        Ok(json!({
            "currentBlockNumber": quantity(best.header.number),
            "currentBlockTimestamp": best.header.timestamp,
            "currentBlockHash": best.hash,
            "hardFork": hardfork_name(),
            "transactionOrder": "fees",
            "environment": {
                "baseFee": quantity(chain.next_base_fee()),
                "chainId": chain.chain_id(),
                "gasLimit": quantity(chain.gas_limit()),
                "gasPrice": quantity(chain.gas_price()),
            },
            "forkConfig": { "forkUrl": null, "forkBlockNumber": null, "forkRetryBackoff": null },
        }))
    });
    method(m, &["anvil_metadata", "hardhat_metadata"], |n, _| {
        let chain = n.chain.read();
        let best = chain.best_block();
        Ok(json!({
            "clientVersion": super::eth::client_version(),
            "chainId": chain.chain_id(),
            "instanceId": quantity(0u8),
            "latestBlockNumber": best.header.number,
            "latestBlockHash": best.hash,
            "forked": null,
            "snapshots": {},
        }))
    });
}
