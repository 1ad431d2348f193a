//! The content-addressed model store.
//!
//! A model is known by its id, `keccak256(artifact)`. A [`ModelStore`] returns the decoded,
//! validated model for an id, or `None` when it has none. Two stores:
//!
//! * [`MemoryStore`]: artifacts added at run time ([`ModelStore::insert`]), for tests, the dev
//!   node and tools;
//! * [`DirStore`]: a directory of `<modelId hex>.smodel` files (lowercase hex, no `0x`). A file
//!   is read on first use, its hash checked against its name, decoded and cached; a file whose
//!   hash does not match is refused, never served under the wrong id.
//!
//! Both derive what the gas schedule needs ([`LoadedModel::work`] and the IO sizes) once, at
//! load time, so a call prices itself without touching the model's weights.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
};

use solidml_spec::{Model, ModelId, decode, keccak256};

use crate::{StoreError, abi, gas};

/// A model ready to serve: decoded, validated, priced.
#[derive(Debug)]
pub struct LoadedModel {
    /// keccak256 of the artifact (spec §Artifact format).
    pub id: ModelId,
    /// The decoded, validated model.
    pub model: Arc<Model>,
    /// Work units of one inference, per class ([`gas::Work::of`]).
    pub work: gas::Work,
    /// Length of the packed inputs a call carries after the modelId ([`abi::input_bytes`]).
    pub input_bytes: usize,
    /// Length of the packed outputs a call returns ([`abi::output_bytes`]).
    pub output_bytes: usize,
}

impl LoadedModel {
    /// Decode and validate an artifact, checking it hashes to `expected` when given.
    pub fn from_artifact(bytes: &[u8], expected: Option<ModelId>) -> Result<Self, StoreError> {
        let id = keccak256(bytes);
        if let Some(e) = expected
            && e != id
        {
            return Err(StoreError::HashMismatch { expected: e, found: id });
        }
        let model = decode(bytes).map_err(|error| StoreError::Invalid { model_id: id, error: Box::new(error) })?;
        Ok(LoadedModel {
            id,
            work: gas::Work::of(&model),
            input_bytes: abi::input_bytes(&model),
            output_bytes: abi::output_bytes(&model),
            model: Arc::new(model),
        })
    }
}

/// Where the precompile finds models. Implementations must be safe to share between threads
/// (a node serves calls concurrently).
pub trait ModelStore: Send + Sync {
    /// The model with this id, or `None` if the store does not have it.
    fn get(&self, id: &ModelId) -> Result<Option<Arc<LoadedModel>>, StoreError>;
    /// Add an artifact; returns its id.
    fn insert(&self, artifact: &[u8]) -> Result<ModelId, StoreError>;
}

/// Models held in memory.
#[derive(Default)]
pub struct MemoryStore {
    models: RwLock<HashMap<ModelId, Arc<LoadedModel>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builder form of [`ModelStore::insert`].
    pub fn with_artifact(self, artifact: &[u8]) -> Result<Self, StoreError> {
        self.insert(artifact)?;
        Ok(self)
    }
}

impl ModelStore for MemoryStore {
    fn get(&self, id: &ModelId) -> Result<Option<Arc<LoadedModel>>, StoreError> {
        Ok(self.models.read().expect("store lock").get(id).cloned())
    }

    fn insert(&self, artifact: &[u8]) -> Result<ModelId, StoreError> {
        let m = Arc::new(LoadedModel::from_artifact(artifact, None)?);
        let id = m.id;
        self.models.write().expect("store lock").insert(id, m);
        Ok(id)
    }
}

/// Models stored as `<dir>/<modelId hex>.smodel`, loaded lazily and cached.
pub struct DirStore {
    dir: PathBuf,
    cache: MemoryStore,
}

impl DirStore {
    /// A store over the existing directory `dir`. A missing directory is an error (a typo in
    /// a path must not silently give an empty store); [`DirStore::create`] makes one.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let dir = dir.into();
        let error = |reason: String| StoreError::Directory { path: dir.display().to_string(), reason };
        match std::fs::metadata(&dir) {
            Ok(m) if m.is_dir() => Ok(DirStore { dir, cache: MemoryStore::new() }),
            Ok(_) => Err(error("not a directory".into())),
            Err(e) => Err(error(e.to_string())),
        }
    }

    /// A store over `dir`, created (with its parents) if missing.
    pub fn create(dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::Directory { path: dir.display().to_string(), reason: e.to_string() })?;
        Self::open(dir)
    }

    /// The file a model id is stored in (and written to): `<modelId hex>.smodel`.
    pub fn path_of(&self, id: &ModelId) -> PathBuf {
        self.dir.join(format!("{}.smodel", hex::encode(id)))
    }

    /// Where a model id may be found: `<hex>.smodel`, or `0x<hex>.smodel` (the form the CLI
    /// prints), in that order.
    fn candidates(&self, id: &ModelId) -> [PathBuf; 2] {
        [self.path_of(id), self.dir.join(format!("0x{}.smodel", hex::encode(id)))]
    }
}

fn io_error(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Io { path: path.display().to_string(), reason: e.to_string() }
}

impl ModelStore for DirStore {
    fn get(&self, id: &ModelId) -> Result<Option<Arc<LoadedModel>>, StoreError> {
        if let Some(m) = self.cache.get(id)? {
            return Ok(Some(m));
        }
        let mut found = None;
        for path in self.candidates(id) {
            match std::fs::read(&path) {
                Ok(b) => {
                    found = Some(b);
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_error(&path, e)),
            }
        }
        let Some(bytes) = found else { return Ok(None) };
        let m = Arc::new(LoadedModel::from_artifact(&bytes, Some(*id))?);
        self.cache.models.write().expect("store lock").insert(*id, m.clone());
        Ok(Some(m))
    }

    fn insert(&self, artifact: &[u8]) -> Result<ModelId, StoreError> {
        let m = LoadedModel::from_artifact(artifact, None)?;
        let path = self.path_of(&m.id);
        // write to a temporary name, then rename: a reader never sees a partial file
        let tmp = path.with_extension("smodel.tmp");
        std::fs::write(&tmp, artifact).map_err(|e| io_error(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| io_error(&path, e))?;
        let id = m.id;
        self.cache.models.write().expect("store lock").insert(id, Arc::new(m));
        Ok(id)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use solidml_spec::{Dense, Epilogue, Quant, arith::Multiplier, encode};

    /// A 4→2 dense model.
    pub(crate) fn tiny_model() -> Model {
        let q = Quant { scale: 0.05, zero_point: 1 };
        let dense = Dense {
            in_features: 4,
            out_features: 2,
            input_zero_point: 1,
            weights: vec![1, -2, 3, -4, 5, 6, -7, 8],
            bias: vec![10, -10],
            epilogue: Epilogue { multipliers: vec![Multiplier::from_real(0.25)], output_zero_point: 1, clamp_min: -128, clamp_max: 127 },
        };
        Model::single_dense("tiny", 1, dense, q, q)
    }

    pub(crate) fn tiny_artifact() -> Vec<u8> {
        encode(&tiny_model()).unwrap()
    }

    #[test]
    fn memory_store_serves_by_hash() {
        let bytes = tiny_artifact();
        let store = MemoryStore::new().with_artifact(&bytes).unwrap();
        let id = keccak256(&bytes);
        let m = store.get(&id).unwrap().unwrap();
        assert_eq!((m.input_bytes, m.output_bytes), (4, 2));
        assert!(store.get(&[0; 32]).unwrap().is_none());
    }

    #[test]
    fn dir_store_checks_the_hash_against_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirStore::open(dir.path()).unwrap();
        let bytes = tiny_artifact();
        let id = store.insert(&bytes).unwrap();
        assert!(store.path_of(&id).exists());
        // a fresh store reads it back from disk
        let fresh = DirStore::open(dir.path()).unwrap();
        assert_eq!(fresh.get(&id).unwrap().unwrap().id, id);
        // a file stored under the wrong name is refused
        let wrong = [0xab; 32];
        std::fs::write(fresh.path_of(&wrong), &bytes).unwrap();
        assert_eq!(fresh.get(&wrong).unwrap_err(), StoreError::HashMismatch { expected: wrong, found: id });
        // a corrupt file under its own hash name is refused as invalid
        let junk = b"not a model".to_vec();
        let jid = keccak256(&junk);
        std::fs::write(fresh.path_of(&jid), &junk).unwrap();
        assert!(matches!(fresh.get(&jid), Err(StoreError::Invalid { .. })));
    }

    #[test]
    fn dir_store_needs_its_directory_and_reads_0x_names() {
        let dir = tempfile::tempdir().unwrap();
        // a missing directory is an error, not an empty store; create() makes it
        let missing = dir.path().join("typo");
        assert!(matches!(DirStore::open(&missing), Err(StoreError::Directory { .. })));
        assert!(!missing.exists());
        let store = DirStore::create(&missing).unwrap();
        assert!(missing.is_dir());
        // a file named `0x<id>.smodel`, the form the CLI prints, is found
        let bytes = tiny_artifact();
        let id = keccak256(&bytes);
        std::fs::write(missing.join(format!("0x{}.smodel", hex::encode(id))), &bytes).unwrap();
        assert_eq!(store.get(&id).unwrap().unwrap().id, id);
        let file = missing.join("0x00.smodel");
        assert!(matches!(DirStore::open(&file), Err(StoreError::Directory { .. })));
    }
}
