//! A JSON-RPC client for the game: alloy's HTTP provider, with a local key (any node) or the
//! node's first unlocked account (a dev node: anvil, `solidml devnode`). Every transaction is
//! first run as `eth_call`, so a revert comes back as the contract's named error, not as a
//! failed receipt.

use alloy_network::{EthereumWallet, TransactionBuilder};
use alloy_primitives::{Address, Bytes, U256};
use alloy_provider::{DynProvider, Provider, ProviderBuilder};
use alloy_rpc_types_eth::{Filter, Log, TransactionReceipt, TransactionRequest};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolInterface};

use crate::{
    AgentError,
    abi::{IInferenceClaims::IInferenceClaimsErrors, ISolidMLStepsRegistry::ISolidMLStepsRegistryErrors},
};

type Result<T> = std::result::Result<T, AgentError>;

/// A connection to a node, sending as one account.
#[derive(Clone)]
pub struct Client {
    provider: DynProvider,
    /// The account transactions come from.
    pub from: Address,
}

/// The contracts' named errors in revert data, else the data in hex.
pub fn decode_revert(data: &[u8]) -> String {
    if let Ok(e) = IInferenceClaimsErrors::abi_decode(data) {
        return format!("{e:?}");
    }
    if let Ok(e) = ISolidMLStepsRegistryErrors::abi_decode(data) {
        return format!("{e:?}");
    }
    format!("0x{}", hex::encode(data))
}

/// Revert data inside a JSON-RPC error, if it carries some.
fn revert_data(e: &alloy_provider::transport::TransportError) -> Option<Vec<u8>> {
    let payload = e.as_error_resp()?;
    let data = payload.data.as_ref()?;
    let s: String = serde_json::from_str(data.get()).ok()?;
    hex::decode(s.trim_start_matches("0x")).ok()
}

impl Client {
    /// Connect to `url`; send with `key` (hex private key), or the node's first account.
    pub async fn connect(url: &str, key: Option<&str>) -> Result<Client> {
        let parsed = url.parse().map_err(|e| AgentError::Rpc(format!("bad RPC URL `{url}`: {e}")))?;
        match key {
            Some(k) => {
                let signer: PrivateKeySigner = k.parse().map_err(|e| AgentError::Rpc(format!("bad private key: {e}")))?;
                let from = signer.address();
                let provider = ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(parsed);
                Ok(Client { provider: DynProvider::new(provider), from })
            }
            None => {
                let provider = DynProvider::new(ProviderBuilder::new().connect_http(parsed));
                let accounts = provider.get_accounts().await.map_err(|e| AgentError::Rpc(format!("eth_accounts at {url}: {e}")))?;
                let from =
                    *accounts.first().ok_or_else(|| AgentError::Rpc(format!("{url} has no unlocked account: pass a private key")))?;
                Ok(Client { provider, from })
            }
        }
    }

    /// The provider (for calls the agent does not wrap).
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    fn request(&self, to: Option<Address>, data: Vec<u8>, value: U256) -> TransactionRequest {
        let tx = TransactionRequest::default().from(self.from).value(value).input(Bytes::from(data).into());
        match to {
            Some(a) => tx.to(a),
            None => tx.into_create(),
        }
    }

    /// `eth_call` of `call` on `to`, decoded.
    pub async fn view<C: SolCall>(&self, to: Address, call: C) -> Result<C::Return> {
        self.simulate(to, call, U256::ZERO).await
    }

    /// `eth_call` of `call` on `to` sending `value`, decoded: what the transaction would return.
    pub async fn simulate<C: SolCall>(&self, to: Address, call: C, value: U256) -> Result<C::Return> {
        let out = self.provider.call(self.request(Some(to), call.abi_encode(), value)).await.map_err(|e| match revert_data(&e) {
            Some(d) => AgentError::Reverted { what: C::SIGNATURE.into(), reason: decode_revert(&d) },
            None => AgentError::Rpc(format!("{}: {e}", C::SIGNATURE)),
        })?;
        C::abi_decode_returns(&out).map_err(|e| AgentError::Rpc(format!("{}: undecodable answer: {e}", C::SIGNATURE)))
    }

    /// Send a transaction (a creation when `to` is `None`) and wait for its receipt; returns
    /// the created address (creations) and the gas used. A revert is reported with the
    /// contract's named error.
    pub async fn send(&self, what: &str, to: Option<Address>, data: Vec<u8>, value: U256) -> Result<(Option<Address>, u64)> {
        let r = self.send_receipt(what, to, data, value).await?;
        Ok((r.contract_address, r.gas_used))
    }

    /// [`Client::send`], returning the whole receipt (its logs: the ids a call created).
    pub async fn send_receipt(&self, what: &str, to: Option<Address>, data: Vec<u8>, value: U256) -> Result<TransactionReceipt> {
        let tx = self.request(to, data, value);
        // a dry run first: a revert gives its reason here
        if let Err(e) = self.provider.call(tx.clone()).await {
            return Err(match revert_data(&e) {
                Some(d) => AgentError::Reverted { what: what.into(), reason: decode_revert(&d) },
                None => AgentError::Rpc(format!("{what}: {e}")),
            });
        }
        let pending = self.provider.send_transaction(tx).await.map_err(|e| AgentError::Rpc(format!("{what}: {e}")))?;
        let receipt = pending.get_receipt().await.map_err(|e| AgentError::Rpc(format!("{what}: {e}")))?;
        if !receipt.status() {
            return Err(AgentError::Reverted { what: what.into(), reason: format!("transaction {} failed", receipt.transaction_hash) });
        }
        Ok(receipt)
    }

    /// Estimated gas of `data` sent to `to` (a revert comes back as its named error).
    pub async fn estimate(&self, what: &str, to: Address, data: Vec<u8>) -> Result<u64> {
        self.provider.estimate_gas(self.request(Some(to), data, U256::ZERO)).await.map_err(|e| match revert_data(&e) {
            Some(d) => AgentError::Reverted { what: what.into(), reason: decode_revert(&d) },
            None => AgentError::Rpc(format!("{what}: {e}")),
        })
    }

    /// The runtime code at `a`.
    pub async fn code(&self, a: Address) -> Result<Bytes> {
        self.provider.get_code_at(a).await.map_err(|e| AgentError::Rpc(format!("eth_getCode: {e}")))
    }

    /// Send `call` to `to`.
    pub async fn transact<C: SolCall>(&self, to: Address, call: C, value: U256) -> Result<u64> {
        Ok(self.send(C::SIGNATURE, Some(to), call.abi_encode(), value).await?.1)
    }

    /// Deploy `initcode`; returns the new address and the gas used.
    pub async fn deploy(&self, what: &str, initcode: Vec<u8>) -> Result<(Address, u64)> {
        let (a, gas) = self.send(what, None, initcode, U256::ZERO).await?;
        Ok((a.ok_or_else(|| AgentError::Rpc(format!("{what}: the receipt has no contract address")))?, gas))
    }

    /// Logs matching `filter`.
    pub async fn logs(&self, filter: &Filter) -> Result<Vec<Log>> {
        self.provider.get_logs(filter).await.map_err(|e| AgentError::Rpc(format!("eth_getLogs: {e}")))
    }

    /// The latest block's number and timestamp.
    pub async fn head(&self) -> Result<(u64, u64)> {
        let b = self
            .provider
            .get_block_by_number(alloy_rpc_types_eth::BlockNumberOrTag::Latest)
            .await
            .map_err(|e| AgentError::Rpc(format!("eth_getBlockByNumber: {e}")))?
            .ok_or_else(|| AgentError::Rpc("no latest block".into()))?;
        Ok((b.header.number, b.header.timestamp))
    }
}
