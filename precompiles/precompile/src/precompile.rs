//! [`SolidMlPrecompile`]: one call of the SolidML precompile, host-independent.
//!
//! Order of a call, each step bounded before the next starts (gas per step: [`crate::gas`]):
//! split the input ([`crate::abi::split_input`]), look the model up in the store, check the
//! input length, price the call and compare with the gas limit, then run the executor.

use std::sync::Arc;

use solidml_exec::{Executor, PreparedCache, Value};

use crate::{
    GasSchedule, LoadedModel, MemoryStore, ModelStore, PrecompileError,
    abi::{self, encode_error},
    gas::MAX_WORK,
};

/// How a call ended.
#[derive(Debug, PartialEq)]
pub enum Status {
    /// The packed outputs.
    Success(Vec<u8>),
    /// The call reverts with [`abi::encode_error`] of the error; unspent gas goes back.
    Revert(PrecompileError),
    /// The gas limit is below the price: a halt that consumes the whole limit.
    OutOfGas(PrecompileError),
}

/// A call's result and the gas it charges.
#[derive(Debug, PartialEq)]
pub struct Outcome {
    /// Gas charged: the price, a lower early-failure charge, or the whole limit on out-of-gas.
    pub gas_used: u64,
    /// Success with the output bytes, a revert, or out-of-gas.
    pub status: Status,
}

impl Outcome {
    fn fail(gas: u64, gas_limit: u64, error: PrecompileError) -> Outcome {
        if gas > gas_limit {
            Outcome { gas_used: gas_limit, status: Status::OutOfGas(error) }
        } else {
            Outcome { gas_used: gas, status: Status::Revert(error) }
        }
    }

    /// The bytes the call returns: the outputs, or the revert data (empty after out of gas).
    pub fn return_data(&self) -> Vec<u8> {
        match &self.status {
            Status::Success(b) => b.clone(),
            Status::Revert(e) => encode_error(e),
            Status::OutOfGas(_) => vec![],
        }
    }

    /// The error, if the call failed.
    pub fn error(&self) -> Option<&PrecompileError> {
        match &self.status {
            Status::Success(_) => None,
            Status::Revert(e) | Status::OutOfGas(e) => Some(e),
        }
    }
}

/// The SolidML precompile: a model store, an executor (with its models prepared once per
/// modelId) and a gas schedule.
#[derive(Clone)]
pub struct SolidMlPrecompile {
    store: Arc<dyn ModelStore>,
    prepared: Arc<PreparedCache>,
    schedule: GasSchedule,
}

impl SolidMlPrecompile {
    /// A precompile running models on `executor` (the CPU reference,
    /// `solidml_cpu::CpuBackend`, or any other [`Executor`]), with an empty in-memory store
    /// and the default schedule.
    pub fn new(executor: Arc<dyn Executor>) -> Self {
        SolidMlPrecompile {
            store: Arc::new(MemoryStore::new()),
            prepared: Arc::new(PreparedCache::new(executor)),
            schedule: GasSchedule::default(),
        }
    }

    /// Serve models from `store`.
    pub fn with_store(mut self, store: Arc<dyn ModelStore>) -> Self {
        self.store = store;
        self
    }

    /// Price calls by `schedule`.
    pub fn with_schedule(mut self, schedule: GasSchedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// The model store.
    pub fn store(&self) -> &dyn ModelStore {
        &*self.store
    }

    /// The executor models run on.
    pub fn executor(&self) -> &dyn Executor {
        &**self.prepared.executor()
    }

    /// The gas schedule.
    pub fn schedule(&self) -> GasSchedule {
        self.schedule
    }

    /// Find a model, with the charge of a failed lookup on error.
    pub(crate) fn lookup(&self, id: &[u8; 32], input_len: usize) -> Result<Arc<LoadedModel>, (u64, PrecompileError)> {
        let early = self.schedule.early_failure(input_len);
        let model = match self.store.get(id) {
            Ok(Some(m)) => m,
            Ok(None) => return Err((early, PrecompileError::UnknownModel(*id))),
            Err(e) => return Err((early, e.into())),
        };
        if model.work.total() > MAX_WORK {
            return Err((early, PrecompileError::ModelTooLarge { model_id: *id, work: model.work.total(), max: MAX_WORK }));
        }
        Ok(model)
    }

    /// Run a priced inference: out of gas if the limit is below `price`, else the executor.
    pub(crate) fn execute(&self, model: &LoadedModel, inputs: &[Value], price: u64, gas_limit: u64) -> Result<Vec<Value>, Outcome> {
        if price > gas_limit {
            let e = PrecompileError::OutOfGas { model_id: model.id, needed: price, limit: gas_limit };
            return Err(Outcome { gas_used: gas_limit, status: Status::OutOfGas(e) });
        }
        self.prepared
            .run(&model.id, &model.model, inputs)
            .map_err(|e| Outcome { gas_used: price, status: Status::Revert(PrecompileError::Execution(e.to_string())) })
    }

    /// A call refused by the host before the store lookup (a private model and a caller not
    /// allowed, `crate::access`), charged the early-failure price of its input length.
    pub fn refuse(&self, input_len: usize, gas_limit: u64, error: PrecompileError) -> Outcome {
        Outcome::fail(self.schedule.early_failure(input_len), gas_limit, error)
    }

    /// The gas a call with this input would be charged, or the error it would fail with.
    pub fn quote(&self, input: &[u8]) -> Result<u64, (u64, PrecompileError)> {
        let (id, data) = abi::split_input(input).map_err(|e| (self.schedule.base, e))?;
        let model = self.lookup(&id, input.len())?;
        if data.len() != model.input_bytes {
            let e = PrecompileError::InputLength {
                model_id: id,
                expected: model.input_bytes,
                got: data.len(),
                layout: abi::input_layout(&model.model),
            };
            return Err((self.schedule.early_failure(input.len()), e));
        }
        Ok(self.schedule.price(&model.work, model.input_bytes, model.output_bytes))
    }

    /// One call: `modelId ++ packed inputs` in, packed outputs out.
    pub fn call(&self, input: &[u8], gas_limit: u64) -> Outcome {
        let (id, data) = match abi::split_input(input) {
            Ok(x) => x,
            Err(e) => return Outcome::fail(self.schedule.base, gas_limit, e),
        };
        let model = match self.lookup(&id, input.len()) {
            Ok(m) => m,
            Err((gas, e)) => return Outcome::fail(gas, gas_limit, e),
        };
        let inputs = match abi::unpack_inputs(&model.model, id, data) {
            Ok(v) => v,
            Err(e) => return Outcome::fail(self.schedule.early_failure(input.len()), gas_limit, e),
        };
        let price = self.schedule.price(&model.work, model.input_bytes, model.output_bytes);
        match self.execute(&model, &inputs, price, gas_limit) {
            Ok(outputs) => Outcome { gas_used: price, status: Status::Success(abi::pack_values(&outputs)) },
            Err(outcome) => outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::{tiny_artifact, tiny_model};
    use solidml_cpu::CpuExecutor;
    use solidml_spec::keccak256;

    fn setup() -> (SolidMlPrecompile, [u8; 32]) {
        let bytes = tiny_artifact();
        let store = Arc::new(MemoryStore::new().with_artifact(&bytes).unwrap());
        (SolidMlPrecompile::new(Arc::new(solidml_cpu::CpuBackend)).with_store(store), keccak256(&bytes))
    }

    fn input(id: [u8; 32], x: &[i8]) -> Vec<u8> {
        let mut v = id.to_vec();
        v.extend(x.iter().map(|&b| b as u8));
        v
    }

    #[test]
    fn a_call_returns_the_cpu_reference_and_charges_the_price() {
        let (p, id) = setup();
        let x = [3i8, -7, 100, -128];
        let out = p.call(&input(id, &x), 1_000_000);
        let model = tiny_model();
        let want = CpuExecutor::new(&model).unwrap().run(&[Value::I8(x.to_vec())]).unwrap();
        assert_eq!(out.status, Status::Success(abi::pack_values(&want)));
        assert_eq!(out.gas_used, GasSchedule::default().price(&crate::gas::Work::of(&model), 4, 2));
        assert_eq!(p.quote(&input(id, &x)), Ok(out.gas_used));
    }

    #[test]
    fn bad_inputs_revert_with_their_documented_charge() {
        let (p, id) = setup();
        let s = GasSchedule::default();
        let short = p.call(&[1, 2, 3], 100_000);
        assert_eq!((short.gas_used, short.error().unwrap().code()), (s.base, abi::ErrorCode::MissingModelId));
        let unknown = p.call(&input([9; 32], &[0; 4]), 100_000);
        assert_eq!((unknown.gas_used, unknown.error().unwrap().code()), (s.early_failure(36), abi::ErrorCode::UnknownModel));
        let wrong = p.call(&input(id, &[0; 5]), 100_000);
        assert_eq!(wrong.gas_used, s.early_failure(37));
        assert_eq!(wrong.error().unwrap().to_string(), format!("model 0x{} expects 4 input bytes (x: int8[1×4]), got 5", hex::encode(id)));
        assert_eq!(abi::decode_error(&wrong.return_data()).unwrap().0, abi::ErrorCode::InputLength as u8);
    }

    /// A store whose model claims more work than any call may carry (no valid artifact of that
    /// size fits in a test: the store seam lets a node's own store hand one over).
    struct OversizeStore(Arc<crate::LoadedModel>);

    impl crate::ModelStore for OversizeStore {
        fn get(&self, id: &[u8; 32]) -> Result<Option<Arc<crate::LoadedModel>>, crate::StoreError> {
            Ok((*id == self.0.id).then(|| self.0.clone()))
        }
        fn insert(&self, _: &[u8]) -> Result<[u8; 32], crate::StoreError> {
            unreachable!("not used")
        }
    }

    #[test]
    fn an_oversize_model_is_refused_before_any_work() {
        let bytes = tiny_artifact();
        let mut model = crate::LoadedModel::from_artifact(&bytes, None).unwrap();
        model.work.add(crate::gas::WorkClass::Reference, MAX_WORK);
        let id = model.id;
        let p = SolidMlPrecompile::new(Arc::new(solidml_cpu::CpuBackend)).with_store(Arc::new(OversizeStore(Arc::new(model))));
        let out = p.call(&input(id, &[0; 4]), 10_000_000);
        assert_eq!(out.gas_used, GasSchedule::default().early_failure(36));
        assert_eq!(out.error().unwrap().code(), abi::ErrorCode::ModelTooLarge);
    }

    #[test]
    fn too_little_gas_is_out_of_gas_consuming_the_limit() {
        let (p, id) = setup();
        let out = p.call(&input(id, &[0; 4]), 2_000);
        let price = GasSchedule::default().price(&crate::gas::Work::of(&tiny_model()), 4, 2);
        assert!(matches!(out.status, Status::OutOfGas(PrecompileError::OutOfGas { needed, limit: 2000, .. }) if needed == price));
        assert_eq!(out.gas_used, 2_000);
        assert!(out.return_data().is_empty());
        // an early failure that costs more than the limit is also out of gas
        let out = p.call(&[0; 3], 10);
        assert!(matches!(out.status, Status::OutOfGas(PrecompileError::MissingModelId { .. })));
    }
}
