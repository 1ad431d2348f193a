//! `solidml compile --freeze NAME=FILE.npy`: graph inputs bound to values at compile time.
//!
//! Exporters sometimes leave what a deployed model holds fixed as graph inputs: weights, axes,
//! scales, sizes, a `k`. The compiler needs them constant (a model's shapes and tables are fixed
//! at compile time), so `--freeze` turns each named input into an initializer holding the
//! `.npy`'s value (`solidml_compiler::onnx::freeze_inputs`) and compiles that model; the
//! accuracy guard's float reference reads the same rewritten file. The rewritten ONNX lives
//! beside the original (its external data files resolve from there) under a hidden name, and
//! is removed when the compile ends, failed or not.

use std::path::{Path, PathBuf};

use solidml_compiler::{ir::Value, npy};

use crate::error::CliError;

/// The rewritten model, deleted on drop.
pub(crate) struct FrozenModel {
    path: PathBuf,
}

impl FrozenModel {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FrozenModel {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Parse `NAME=FILE` and read the file: integer `.npy` data (int64, int32) as integers, other
/// numeric data as reals.
fn binding(spec: &str) -> Result<(String, Value), CliError> {
    let (name, file) = spec
        .split_once('=')
        .filter(|(n, f)| !n.is_empty() && !f.is_empty())
        .ok_or_else(|| CliError::Usage(format!("--freeze `{spec}`: expected NAME=FILE.npy (a graph input and its value)")))?;
    let path = Path::new(file);
    let bytes = std::fs::read(path).map_err(|e| CliError::io(path, e))?;
    let value = match npy::read_i64(&bytes) {
        Ok(a) => Value::Int(a),
        Err(_) => Value::Float(npy::read_f32(&bytes).map_err(|e| CliError::data(path, e))?),
    };
    Ok((name.to_string(), value))
}

/// The model with `specs` frozen, or `None` when there are none.
pub(crate) fn frozen_model(model: &Path, specs: &[String]) -> Result<Option<FrozenModel>, CliError> {
    if specs.is_empty() {
        return Ok(None);
    }
    let frozen: Vec<(String, Value)> = specs.iter().map(|s| binding(s)).collect::<Result<_, _>>()?;
    let bytes = std::fs::read(model).map_err(|e| CliError::io(model, e))?;
    let rewritten = solidml_compiler::onnx::freeze_inputs(&bytes, &frozen, &model.display().to_string()).map_err(CliError::from)?;
    let stem = model.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "model".into());
    let path = model.with_file_name(format!(".{stem}.frozen-{}.onnx", std::process::id()));
    std::fs::write(&path, rewritten).map_err(|e| CliError::io(&path, e))?;
    Ok(Some(FrozenModel { path }))
}
