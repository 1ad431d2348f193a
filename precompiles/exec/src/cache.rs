//! [`PreparedCache`]: prepared models kept per modelId, for hosts that run stored models by id
//! (the precompile, a node).
//!
//! Bounded: at most `capacity` models are kept; when full, the cache starts over. Simple and
//! bounded in memory (a GPU executor holds a model's weights on the device); a node with many
//! hot models can wrap an [`Executor`] with its own policy instead.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use solidml_spec::{Model, ModelId};

use crate::{ExecError, Executor, PreparedModel, Value};

/// Models prepared by one [`Executor`], per modelId.
pub struct PreparedCache {
    executor: Arc<dyn Executor>,
    capacity: usize,
    prepared: Mutex<HashMap<ModelId, Arc<dyn PreparedModel>>>,
}

impl PreparedCache {
    /// Models kept by default.
    pub const DEFAULT_CAPACITY: usize = 16;

    /// A cache over `executor` keeping [`PreparedCache::DEFAULT_CAPACITY`] models.
    pub fn new(executor: Arc<dyn Executor>) -> Self {
        Self::with_capacity(executor, Self::DEFAULT_CAPACITY)
    }

    /// A cache keeping at most `capacity` models (at least one).
    pub fn with_capacity(executor: Arc<dyn Executor>, capacity: usize) -> Self {
        PreparedCache { executor, capacity: capacity.max(1), prepared: Mutex::new(HashMap::new()) }
    }

    /// The executor behind the cache.
    pub fn executor(&self) -> &Arc<dyn Executor> {
        &self.executor
    }

    /// The prepared model `id`, preparing `model` on first use. The caller guarantees that
    /// `id` names `model` (its keccak256 artifact hash).
    pub fn get(&self, id: &ModelId, model: &Arc<Model>) -> Result<Arc<dyn PreparedModel>, ExecError> {
        let mut cache = self.prepared.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = cache.get(id) {
            return Ok(p.clone());
        }
        let p = self.executor.prepare(model.clone())?;
        if cache.len() >= self.capacity {
            cache.clear();
        }
        cache.insert(*id, p.clone());
        Ok(p)
    }

    /// One inference of model `id` (prepared on first use).
    pub fn run(&self, id: &ModelId, model: &Arc<Model>, inputs: &[Value]) -> Result<Vec<Value>, ExecError> {
        self.get(id, model)?.run(inputs)
    }

    /// Number of models prepared and kept.
    pub fn len(&self) -> usize {
        self.prepared.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether no model is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// An executor that counts preparations and echoes its inputs.
    struct Echo(AtomicUsize);
    struct Prepared;

    impl Executor for Echo {
        fn name(&self) -> String {
            "echo".into()
        }
        fn prepare(&self, _: Arc<Model>) -> Result<Arc<dyn PreparedModel>, ExecError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(Arc::new(Prepared))
        }
    }
    impl PreparedModel for Prepared {
        fn run(&self, inputs: &[Value]) -> Result<Vec<Value>, ExecError> {
            Ok(inputs.to_vec())
        }
    }

    #[test]
    fn prepares_once_per_id_and_stays_bounded() {
        let echo = Arc::new(Echo(AtomicUsize::new(0)));
        let cache = PreparedCache::with_capacity(echo.clone(), 2);
        let model = Arc::new(Model::empty("m"));
        let x = [Value::I8(vec![1, 2])];
        for _ in 0..3 {
            assert_eq!(cache.run(&[1; 32], &model, &x).unwrap(), x.to_vec());
        }
        assert_eq!((echo.0.load(Ordering::SeqCst), cache.len()), (1, 1));
        assert!(Arc::ptr_eq(&cache.get(&[1; 32], &model).unwrap(), &cache.get(&[1; 32], &model).unwrap()));
        cache.get(&[2; 32], &model).unwrap();
        cache.get(&[3; 32], &model).unwrap();
        assert_eq!((echo.0.load(Ordering::SeqCst), cache.len()), (3, 1));
    }
}
