//! [`Chain`]: an in-memory chain on revm with SolidML's precompiles.
//!
//! One funded sender, gas price 0, Prague rules (the EVM version solc 0.8.30 and forge 1.7
//! target), EIP-170's code size limit and EIP-3860's init code limit enforced unless
//! [`Chain::with_code_size_limit`] lifts them (as forge's `code_size_limit` does, to measure
//! contracts a real chain would refuse). Every transaction is committed.
//!
//! **Gas figures.** [`CallResult::gas`] is the *execution* gas of a call: the transaction's
//! gas minus its intrinsic gas (21,000 plus calldata). That is the gas the called contract's
//! frame consumes, which is what forge's gas report lists per function, so figures from here
//! and from `forge test --gas-report` agree. [`Deployed::gas`] is the whole deployment
//! transaction, what the deployer pays.

use revm::primitives::hex;
use revm::{
    Context, ExecuteCommitEvm, Journal, MainBuilder,
    context::{BlockEnv, CfgEnv, Evm, TxEnv},
    context_interface::{
        cfg::gas::calculate_initial_tx_gas,
        result::{ExecutionResult, Output},
    },
    database::{CacheDB, EmptyDB},
    handler::{EthFrame, instructions::EthInstructions},
    interpreter::interpreter::EthInterpreter,
    primitives::{Address, Bytes, TxKind, U256, hardfork::SpecId},
    state::AccountInfo,
};
use solidml_precompile::SolidMlPrecompile;

use crate::SolidMlPrecompiles;

type Db = CacheDB<EmptyDB>;
type Ctx = Context<BlockEnv, TxEnv, CfgEnv, Db, Journal<Db>, ()>;
type ChainEvm = Evm<Ctx, (), EthInstructions<EthInterpreter, Ctx>, SolidMlPrecompiles, EthFrame<EthInterpreter>>;

/// The EVM rules the chain runs.
pub const SPEC: SpecId = SpecId::PRAGUE;
/// Gas limit of each transaction unless given.
pub const DEFAULT_GAS_LIMIT: u64 = 1_000_000_000;

/// A transaction revm refused to execute (not a revert: those are [`CallResult`]s).
#[derive(Debug, thiserror::Error)]
pub enum EvmError {
    /// revm refused the transaction before executing it (e.g. init code over EIP-3860's
    /// limit, too little gas for the intrinsic cost); holds revm's message.
    #[error("transaction rejected: {0}")]
    Rejected(String),
    /// The deployment transaction executed but created no contract.
    #[error("deployment failed ({status}): {detail}")]
    Deploy {
        /// How it ended: `"revert"`, `"halt"`, or `"success"` without an address.
        status: &'static str,
        /// The revert data as `0x…` hex, the halt reason, or `no address`.
        detail: String,
    },
}

/// The result of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallResult {
    /// `true` unless the call reverted or halted.
    pub success: bool,
    /// Return data, or revert data.
    pub output: Vec<u8>,
    /// Execution gas (transaction gas minus intrinsic gas).
    pub gas: u64,
    /// Halt reason, if it halted.
    pub halt: Option<String>,
}

/// A deployed contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deployed {
    /// The new contract's address (derived from the sender and its nonce).
    pub address: Address,
    /// Gas of the whole deployment transaction.
    pub gas: u64,
}

/// An in-memory chain with one funded sender and SolidML's precompiles.
pub struct Chain {
    evm: ChainEvm,
    sender: Address,
    nonce: u64,
}

impl Chain {
    /// A fresh chain whose precompiles use `solidml` (its store, backend and schedule).
    pub fn new(solidml: SolidMlPrecompile) -> Self {
        let sender = Address::with_last_byte(0xAA);
        let mut db = Db::new(EmptyDB::default());
        db.insert_account_info(sender, AccountInfo { balance: U256::MAX >> 2, ..Default::default() });
        let ctx: Ctx = Context::new(db, SPEC);
        let evm = ctx.build_mainnet().with_precompiles(SolidMlPrecompiles::new(SPEC, solidml));
        Chain { evm, sender, nonce: 0 }
    }

    /// Set the code size limit (EIP-170, 24,576 bytes on mainnet); the init code limit
    /// becomes twice that (EIP-3860's rule, 49,152 on mainnet).
    pub fn with_code_size_limit(mut self, bytes: usize) -> Self {
        self.evm.ctx.cfg.limit_contract_code_size = Some(bytes);
        self.evm.ctx.cfg.limit_contract_initcode_size = Some(bytes.saturating_mul(2));
        self
    }

    fn transact(&mut self, kind: TxKind, data: Vec<u8>, gas_limit: u64) -> Result<ExecutionResult, EvmError> {
        let tx = TxEnv::builder()
            .caller(self.sender)
            .kind(kind)
            .data(Bytes::from(data))
            .gas_limit(gas_limit)
            .gas_price(0)
            .nonce(self.nonce)
            .build_fill();
        let result = self.evm.transact_commit(tx).map_err(|e| EvmError::Rejected(e.to_string()))?;
        self.nonce += 1;
        Ok(result)
    }

    /// Deploy init code (creation bytecode with any constructor arguments appended).
    pub fn deploy(&mut self, initcode: Vec<u8>) -> Result<Deployed, EvmError> {
        match self.transact(TxKind::Create, initcode, DEFAULT_GAS_LIMIT)? {
            ExecutionResult::Success { output: Output::Create(_, Some(address)), gas, .. } => {
                Ok(Deployed { address, gas: gas.tx_gas_used() })
            }
            ExecutionResult::Success { .. } => Err(EvmError::Deploy { status: "success", detail: "no address".into() }),
            ExecutionResult::Revert { output, .. } => {
                Err(EvmError::Deploy { status: "revert", detail: format!("0x{}", hex::encode(&output)) })
            }
            ExecutionResult::Halt { reason, .. } => Err(EvmError::Deploy { status: "halt", detail: format!("{reason:?}") }),
        }
    }

    /// Call a contract (or precompile) with the default gas limit.
    pub fn call(&mut self, to: Address, data: Vec<u8>) -> Result<CallResult, EvmError> {
        self.call_with_gas(to, data, DEFAULT_GAS_LIMIT)
    }

    /// Call with a given transaction gas limit.
    pub fn call_with_gas(&mut self, to: Address, data: Vec<u8>, gas_limit: u64) -> Result<CallResult, EvmError> {
        let intrinsic = calculate_initial_tx_gas(SPEC, &data, false, 0, 0, 0, None).initial_regular_gas;
        let result = self.transact(TxKind::Call(to), data, gas_limit)?;
        let exec = |spent: u64| spent.saturating_sub(intrinsic);
        Ok(match result {
            ExecutionResult::Success { output, gas, .. } => {
                CallResult { success: true, output: output.into_data().to_vec(), gas: exec(gas.total_gas_spent()), halt: None }
            }
            ExecutionResult::Revert { output, gas, .. } => {
                CallResult { success: false, output: output.to_vec(), gas: exec(gas.total_gas_spent()), halt: None }
            }
            ExecutionResult::Halt { reason, gas, .. } => {
                CallResult { success: false, output: vec![], gas: exec(gas.total_gas_spent()), halt: Some(format!("{reason:?}")) }
            }
        })
    }

    /// The precompiles this chain serves.
    pub fn precompiles(&self) -> &SolidMlPrecompiles {
        &self.evm.precompiles
    }

    /// Runtime code at an address.
    pub fn code_len(&mut self, address: Address) -> usize {
        use revm::Database;
        self.evm
            .ctx
            .journaled_state
            .database
            .basic(address)
            .ok()
            .flatten()
            .and_then(|a| a.code)
            .map(|c| c.original_bytes().len())
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use solidml_cpu::CpuBackend;
    use solidml_precompile::{MemoryStore, SOLIDML_PRECOMPILE, abi};
    use std::sync::Arc;

    /// Init code that deploys `runtime` (PUSH2 len, DUP1, PUSH1 off, PUSH1 0, CODECOPY, PUSH1 0, RETURN).
    fn initcode(runtime: &[u8]) -> Vec<u8> {
        let n = runtime.len() as u16;
        let mut c = vec![0x61, (n >> 8) as u8, n as u8, 0x80, 0x60, 0x0e, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3];
        c.resize(14, 0x00);
        c.extend_from_slice(runtime);
        c
    }

    #[test]
    fn deploys_and_calls_with_execution_gas() {
        let mut chain = Chain::new(SolidMlPrecompile::new(Arc::new(CpuBackend)));
        // runtime: PUSH1 42, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN (3+3+3+3+3 + memory 3 = 18 gas)
        let runtime = [0x60, 42, 0x60, 0, 0x52, 0x60, 32, 0x60, 0, 0xf3];
        let d = chain.deploy(initcode(&runtime)).unwrap();
        assert_eq!(chain.code_len(d.address), runtime.len());
        let r = chain.call(d.address, vec![]).unwrap();
        assert!(r.success);
        assert_eq!(r.output[31], 42);
        assert_eq!(r.gas, 18);
    }

    #[test]
    fn code_size_limits_are_mainnet_unless_lifted() {
        let big = vec![0x00u8; 24_577];
        assert!(Chain::new(SolidMlPrecompile::new(Arc::new(CpuBackend))).deploy(initcode(&big)).is_err(), "EIP-170");
        let d = Chain::new(SolidMlPrecompile::new(Arc::new(CpuBackend))).with_code_size_limit(100_000).deploy(initcode(&big)).unwrap();
        assert!(d.gas > 200 * 24_577);
        // init code over 49,152 bytes is refused before execution (EIP-3860)
        let mut huge = initcode(&[0x00]);
        huge.resize(49_153, 0);
        assert!(matches!(Chain::new(SolidMlPrecompile::new(Arc::new(CpuBackend))).deploy(huge), Err(EvmError::Rejected(_))));
    }

    #[test]
    fn the_precompile_answers_at_its_address_with_its_errors() {
        let store = Arc::new(MemoryStore::new());
        let mut chain = Chain::new(SolidMlPrecompile::new(Arc::new(CpuBackend)).with_store(store));
        let r = chain.call(Address::from(SOLIDML_PRECOMPILE), vec![1, 2, 3]).unwrap();
        assert!(!r.success);
        assert_eq!(abi::decode_error(&r.output).unwrap().0, abi::ErrorCode::MissingModelId as u8);
        assert_eq!(r.gas, solidml_precompile::GasSchedule::default().base);
        // too little gas for the base charge: a halt
        let r = chain.call_with_gas(Address::from(SOLIDML_PRECOMPILE), vec![1, 2, 3], 21_500).unwrap();
        assert!(r.halt.is_some());
    }
}
