//! One execution on revm with SolidML's precompiles: the environment of a block (its number,
//! time, base fee, gas limit, the chain's rules) and a transaction in revm's form.
//!
//! Every execution the node does goes through [`transact`]: mined transactions, `eth_call`,
//! `eth_estimateGas`, `eth_createAccessList` and traces, so the precompiles answer in all of
//! them. Rules are Prague's (what solc 0.8.30 and forge 1.7 target, as in `solidml-revm`).

use alloy_consensus::{Transaction as _, TxEnvelope};
use alloy_eips::Typed2718;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_rpc_types_eth::TransactionRequest;
use revm::{
    Context, InspectEvm, Inspector, Journal, MainBuilder,
    context::{BlockEnv, CfgEnv, TxEnv},
    context_interface::{
        block::BlobExcessGasAndPrice,
        result::{EVMError, ResultAndState},
    },
    database::Database,
    primitives::hardfork::SpecId,
};
use solidml_revm::SolidMlPrecompiles;

/// The EVM rules the node runs.
pub const SPEC: SpecId = SpecId::PRAGUE;

/// revm's context over a database `DB`.
pub type EvmContext<DB> = Context<BlockEnv, TxEnv, CfgEnv, DB, Journal<DB>, ()>;

/// What an execution runs in: the chain's rules and the block it is (or would be) part of.
#[derive(Clone)]
pub struct ExecEnv {
    /// Chain id, spec and limits.
    pub cfg: CfgEnv,
    /// Number, timestamp, base fee, gas limit of the block.
    pub block: BlockEnv,
    /// Ethereum's precompiles plus SolidML's.
    pub precompiles: SolidMlPrecompiles,
}

impl ExecEnv {
    /// The environment of a block with these fields.
    pub fn new(chain_id: u64, precompiles: SolidMlPrecompiles, number: u64, timestamp: u64, gas_limit: u64, base_fee: u64) -> Self {
        let mut cfg = CfgEnv::new_with_spec(SPEC);
        cfg.chain_id = chain_id;
        let block = BlockEnv {
            number: U256::from(number),
            timestamp: U256::from(timestamp),
            gas_limit,
            basefee: base_fee,
            beneficiary: Address::ZERO,
            difficulty: U256::ZERO,
            prevrandao: Some(B256::ZERO),
            blob_excess_gas_and_price: Some(BlobExcessGasAndPrice::new(0, revm::primitives::eip4844::BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE)),
            ..Default::default()
        };
        ExecEnv { cfg, block, precompiles }
    }

    /// This environment for a call rather than a transaction (`eth_call`, `eth_estimateGas`):
    /// no nonce check, and with no gas price given no base fee check, as anvil does.
    pub fn for_call(mut self, gas_price_given: bool) -> Self {
        self.cfg.disable_nonce_check = true;
        if !gas_price_given {
            self.cfg.disable_base_fee = true;
        }
        self
    }
}

/// Execute `tx` on `db` (not committed), with `inspector` watching.
pub fn transact<DB, I>(db: DB, env: &ExecEnv, tx: TxEnv, inspector: I) -> Result<ResultAndState, EVMError<DB::Error>>
where
    DB: Database,
    I: Inspector<EvmContext<DB>>,
{
    let ctx = EvmContext::<DB>::new(db, SPEC).with_block(env.block.clone()).with_cfg(env.cfg.clone());
    let mut evm = ctx.build_mainnet_with_inspector(inspector).with_precompiles(env.precompiles.clone());
    evm.inspect_tx(tx)
}

/// A signed (or impersonated) transaction in revm's form, sent by `from`.
pub fn tx_env(tx: &TxEnvelope, from: Address) -> TxEnv {
    let mut env = TxEnv::builder()
        .tx_type(Some(tx.ty()))
        .caller(from)
        .gas_limit(tx.gas_limit())
        .gas_price(tx.max_fee_per_gas())
        .kind(tx.kind())
        .value(tx.value())
        .data(tx.input().clone())
        .nonce(tx.nonce())
        .chain_id(tx.chain_id())
        .gas_priority_fee(tx.max_priority_fee_per_gas())
        .build_fill();
    if let Some(list) = tx.access_list() {
        env.access_list = list.clone();
    }
    env
}

/// An `eth_call`/`eth_estimateGas` request in revm's form, with `gas` as its gas limit
/// (the request's own, or the block gas limit) and the sender's nonce.
pub fn call_env(req: &TransactionRequest, gas: u64, nonce: u64, chain_id: u64) -> TxEnv {
    let (gas_price, priority) = match (req.gas_price, req.max_fee_per_gas) {
        (Some(p), _) => (p, None),
        (None, Some(max)) => (max, req.max_priority_fee_per_gas),
        (None, None) => (0, req.max_priority_fee_per_gas.filter(|&p| p > 0)),
    };
    let kind = req.to.unwrap_or(TxKind::Create);
    let data: Bytes = req.input.input().cloned().unwrap_or_default();
    let ty = if req.max_fee_per_gas.is_some() || req.max_priority_fee_per_gas.is_some() {
        2
    } else if req.access_list.is_some() {
        1
    } else {
        0
    };
    let mut env = TxEnv::builder()
        .tx_type(Some(ty))
        .caller(req.from.unwrap_or_default())
        .gas_limit(gas)
        .gas_price(gas_price)
        .kind(kind)
        .value(req.value.unwrap_or_default())
        .data(data)
        .nonce(req.nonce.unwrap_or(nonce))
        .chain_id(Some(chain_id))
        .gas_priority_fee(priority)
        .build_fill();
    if let Some(list) = &req.access_list {
        env.access_list = list.clone();
    }
    env
}

/// The gas a transaction pays before its first instruction (base, calldata, creation, access
/// list), under [`SPEC`]; the EIP-7623 floor is not part of it.
pub fn initial_gas(tx: &TxEnv) -> u64 {
    let accounts = tx.access_list.len() as u64;
    let slots = tx.access_list.iter().map(|i| i.storage_keys.len() as u64).sum();
    revm::context_interface::cfg::gas::calculate_initial_tx_gas(SPEC, &tx.data, tx.kind.is_create(), accounts, slots, 0, None)
        .initial_regular_gas
}
