//! The node's models: a [`ModelStore`] the precompiles read, filled from `--models DIR` at start
//! (every artifact hash-checked against its file name) and by `solidml_uploadModel`, which keeps
//! each artifact's bytes for state dumps and lists them in upload order.

use std::{collections::BTreeMap, path::Path, sync::Arc};

use parking_lot::RwLock;
use solidml_precompile::{DirStore, LoadedModel, ModelStore, StoreError};
use solidml_spec::ModelId;

use crate::DevnodeError;

/// A model with its artifact and its arrival order.
struct Entry {
    model: Arc<LoadedModel>,
    artifact: Arc<Vec<u8>>,
    seq: u64,
}

/// Models by id, with their artifacts.
#[derive(Default)]
pub struct NodeModels {
    models: RwLock<BTreeMap<ModelId, Entry>>,
    uploads: std::sync::atomic::AtomicU64,
}

impl NodeModels {
    /// Every `<modelId>.smodel` (or `0x<modelId>.smodel`) in `dir`, hash-checked.
    pub fn load_dir(&self, dir: &Path) -> Result<usize, DevnodeError> {
        let store = DirStore::open(dir).map_err(|e| DevnodeError::Models(e.to_string()))?;
        let entries = std::fs::read_dir(dir).map_err(|e| DevnodeError::Models(format!("{}: {e}", dir.display())))?;
        let mut n = 0;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let Some(stem) = name.strip_suffix(".smodel") else { continue };
            let Ok(id) = hex::decode(stem.trim_start_matches("0x")).map(<[u8; 32]>::try_from) else { continue };
            let Ok(id) = id else { continue };
            // the store checks the hash against the name
            store.get(&id).map_err(|e| DevnodeError::Models(e.to_string()))?;
            let bytes = std::fs::read(entry.path()).map_err(|e| DevnodeError::Models(format!("{name}: {e}")))?;
            self.insert(&bytes).map_err(|e| DevnodeError::Models(e.to_string()))?;
            n += 1;
        }
        Ok(n)
    }

    /// The ids of all models, in the order they arrived.
    pub fn ids(&self) -> Vec<ModelId> {
        let models = self.models.read();
        let mut v: Vec<_> = models.iter().map(|(id, e)| (e.seq, *id)).collect();
        v.sort();
        v.into_iter().map(|(_, id)| id).collect()
    }

    /// A model's artifact bytes.
    pub fn artifact(&self, id: &ModelId) -> Option<Arc<Vec<u8>>> {
        self.models.read().get(id).map(|e| e.artifact.clone())
    }

    /// How many models are loaded.
    pub fn len(&self) -> usize {
        self.models.read().len()
    }

    /// Whether no model is loaded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ModelStore for NodeModels {
    fn get(&self, id: &ModelId) -> Result<Option<Arc<LoadedModel>>, StoreError> {
        Ok(self.models.read().get(id).map(|e| e.model.clone()))
    }

    fn insert(&self, artifact: &[u8]) -> Result<ModelId, StoreError> {
        let loaded = LoadedModel::from_artifact(artifact, None)?;
        let id = loaded.id;
        let seq = self.uploads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.models.write().entry(id).or_insert_with(|| Entry { model: Arc::new(loaded), artifact: Arc::new(artifact.to_vec()), seq });
        Ok(id)
    }
}
