//! [`SolidMlPrecompiles`]: Ethereum's precompiles plus SolidML's two entries.
//!
//! A call to [`SOLIDML_PRECOMPILE`] or [`OPENGRADIENT_PRECOMPILE`] is answered by
//! [`SolidMlPrecompile::call`] / [`OpenGradientEntry::call`] with the call's gas limit; their
//! [`Outcome`] maps onto revm's precompile result: success returns the outputs, a revert
//! returns `SolidMLError(code, message)` and keeps the unspent gas, out of gas halts.
//!
//! A host that wants to see each call (a node's log) installs an [`Observer`] with
//! [`SolidMlPrecompiles::with_observer`]: it is told the entry, the caller, the input, the
//! outcome and the wall time of the executor, after the call.

use revm::{
    Database,
    context::Cfg,
    context_interface::{ContextTr, JournalTr},
    handler::{EthPrecompiles, PrecompileProvider, precompile_output_to_interpreter_result},
    interpreter::{CallInputs, InterpreterResult},
    precompile::{PrecompileHalt, PrecompileOutput, PrecompileStatus},
    primitives::{Address, AddressSet, Bytes, U256, hardfork::SpecId},
    state::EvmState,
};
use solidml_precompile::{
    OPENGRADIENT_PRECOMPILE, PrecompileError, SOLIDML_PRECOMPILE, SolidMlPrecompile, access,
    opengradient::OpenGradientEntry,
    precompile::{Outcome, Status},
};

/// One call to a SolidML entry, as an [`Observer`] sees it.
pub struct CallRecord<'a> {
    /// The entry called: [`SOLIDML_PRECOMPILE`] or [`OPENGRADIENT_PRECOMPILE`].
    pub entry: Address,
    /// The address that called it.
    pub caller: Address,
    /// The call's input.
    pub input: &'a [u8],
    /// What it answered and charged.
    pub outcome: &'a Outcome,
    /// Wall time of the call.
    pub elapsed: std::time::Duration,
}

/// Told of every call to a SolidML entry (see [`SolidMlPrecompiles::with_observer`]).
pub type Observer = std::sync::Arc<dyn Fn(&CallRecord<'_>) + Send + Sync>;

/// Ethereum's precompiles for the spec in force, plus the SolidML precompile and the
/// OpenGradient-compatible entry.
#[derive(Clone)]
pub struct SolidMlPrecompiles {
    eth: EthPrecompiles,
    solidml: SolidMlPrecompile,
    opengradient: OpenGradientEntry,
    warm: AddressSet,
    observer: Option<Observer>,
    registry: Option<Address>,
}

impl SolidMlPrecompiles {
    /// Ethereum's precompiles of `spec`, plus `solidml` at [`SOLIDML_PRECOMPILE`] and an
    /// [`OpenGradientEntry`] sharing it at [`OPENGRADIENT_PRECOMPILE`].
    pub fn new(spec: SpecId, solidml: SolidMlPrecompile) -> Self {
        let eth = EthPrecompiles::new(spec);
        let mut p = SolidMlPrecompiles {
            opengradient: OpenGradientEntry::new(solidml.clone()),
            solidml,
            eth,
            warm: AddressSet::default(),
            observer: None,
            registry: None,
        };
        p.refresh_warm();
        p
    }

    fn refresh_warm(&mut self) {
        self.warm.clone_from(self.eth.warm_addresses());
        self.warm.insert(Address::from(SOLIDML_PRECOMPILE));
        self.warm.insert(Address::from(OPENGRADIENT_PRECOMPILE));
    }

    /// These precompiles, telling `observer` of every SolidML call.
    pub fn with_observer(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// These precompiles enforcing private models: before a call reaches the store, the caller
    /// must be allowed by the `ModelRegistry` at `registry` (its storage read from the state the
    /// call runs in; `solidml_precompile::access`), else the call reverts with code 11 at the
    /// early-failure price.
    pub fn with_registry(mut self, registry: Address) -> Self {
        self.registry = Some(registry);
        self
    }

    /// These precompiles without an observer (for executions nobody should hear of, such as
    /// the trial runs of a gas estimate).
    pub fn without_observer(mut self) -> Self {
        self.observer = None;
        self
    }

    /// The SolidML precompile served (its store, backend and schedule).
    pub fn solidml(&self) -> &SolidMlPrecompile {
        &self.solidml
    }
}

/// A storage word of `address` as the running transaction sees it: the journal's value when the
/// transaction touched the slot, else the database's. Read without warming anything, so the
/// check changes no gas accounting.
fn read_storage<CTX: ContextTr<Journal: JournalTr<State = EvmState>>>(context: &mut CTX, address: Address, slot: &[u8; 32]) -> [u8; 32] {
    let key = U256::from_be_bytes(*slot);
    let journaled = context.journal_ref().evm_state().get(&address).and_then(|a| a.storage.get(&key)).map(|s| s.present_value);
    let value = match journaled {
        Some(v) => v,
        None => context.db_mut().storage(address, key).unwrap_or_default(),
    };
    value.to_be_bytes()
}

/// revm's form of an [`Outcome`].
fn to_output(outcome: Outcome, reservoir: u64) -> PrecompileOutput {
    let bytes = Bytes::from(outcome.return_data());
    let status = match outcome.status {
        Status::Success(_) => PrecompileStatus::Success,
        Status::Revert(_) => PrecompileStatus::Revert,
        Status::OutOfGas(_) => PrecompileStatus::Halt(PrecompileHalt::OutOfGas),
    };
    PrecompileOutput { status, gas_used: outcome.gas_used, gas_refunded: 0, state_gas_used: 0, state_gas_spilled: 0, reservoir, bytes }
}

impl<CTX> PrecompileProvider<CTX> for SolidMlPrecompiles
where
    CTX: ContextTr<Cfg: Cfg<Spec = SpecId>, Journal: JournalTr<State = EvmState>>,
{
    type Output = InterpreterResult;

    fn set_spec(&mut self, spec: SpecId) -> bool {
        let changed = <EthPrecompiles as PrecompileProvider<CTX>>::set_spec(&mut self.eth, spec);
        self.refresh_warm();
        changed
    }

    fn run(&mut self, context: &mut CTX, inputs: &CallInputs) -> Result<Option<InterpreterResult>, String> {
        let address = inputs.bytecode_address;
        let is_solidml = address == Address::from(SOLIDML_PRECOMPILE);
        if !is_solidml && address != Address::from(OPENGRADIENT_PRECOMPILE) {
            return <EthPrecompiles as PrecompileProvider<CTX>>::run(&mut self.eth, context, inputs);
        }
        let input = inputs.input.as_bytes(context).to_vec();
        let start = std::time::Instant::now();
        // the access check comes after the input length checks (docs/spec.md §Gas, step 2b / 3b)
        let requested = if is_solidml {
            input.get(..32).filter(|_| input.len() <= solidml_precompile::abi::MAX_INPUT_BYTES).and_then(|id| <[u8; 32]>::try_from(id).ok())
        } else {
            OpenGradientEntry::requested_model(&input)
        };
        let refused = match (self.registry, requested) {
            (Some(registry), Some(id)) => {
                let caller = inputs.caller.into_array();
                let allowed = access::is_allowed(&id, &caller, |slot| read_storage(context, registry, slot));
                (!allowed).then_some(PrecompileError::NotAllowed { model_id: id, caller })
            }
            _ => None,
        };
        let outcome = match refused {
            Some(e) => self.solidml.refuse(input.len(), inputs.gas_limit, e),
            None if is_solidml => self.solidml.call(&input, inputs.gas_limit),
            None => self.opengradient.call(&input, inputs.gas_limit),
        };
        if let Some(observer) = &self.observer {
            observer(&CallRecord { entry: address, caller: inputs.caller, input: &input, outcome: &outcome, elapsed: start.elapsed() });
        }
        Ok(Some(precompile_output_to_interpreter_result(to_output(outcome, inputs.reservoir), inputs.gas_limit)))
    }

    fn warm_addresses(&self) -> &AddressSet {
        &self.warm
    }
}
