//! Reading and writing data files: `.npy` (read by [`solidml_compiler::npy`], written by
//! `ndarray-npy`) and JSON arrays.

use std::path::Path;

use ndarray::{ArrayD, Axis, IxDyn};
use ndarray_npy::WriteNpyExt;
use solidml_compiler::{CompileError, npy, runner::Output};

use crate::error::CliError;

/// `.npy` bytes read by `read` ([`solidml_compiler::npy`], which checks the declared size
/// before allocating), errors naming the file.
fn read_npy<T>(path: &Path, read: fn(&[u8]) -> Result<T, CompileError>) -> Result<T, CliError> {
    let bytes = std::fs::read(path).map_err(|e| CliError::io(path, e))?;
    read(&bytes).map_err(|e| CliError::data(path, e))
}

/// A float array from `.npy` (any float or integer dtype).
pub(crate) fn read_f32(path: &Path) -> Result<ArrayD<f32>, CliError> {
    read_npy(path, npy::read_f32)
}

/// An integer array from `.npy`.
pub(crate) fn read_i64(path: &Path) -> Result<ArrayD<i64>, CliError> {
    read_npy(path, npy::read_i64)
}

/// An input from `.npy` or `.json` (a nested array, or an object keyed by input name).
pub(crate) fn read_input(path: &Path, input_name: &str) -> Result<ArrayD<f32>, CliError> {
    if path.extension().is_some_and(|e| e == "json") {
        let text = std::fs::read_to_string(path).map_err(|e| CliError::io(path, e))?;
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| CliError::data(path, e))?;
        let v = match v {
            serde_json::Value::Object(m) => {
                m.get(input_name).cloned().ok_or_else(|| CliError::data(path, format!("no key `{input_name}`")))?
            }
            other => other,
        };
        let mut shape = vec![];
        let mut flat = vec![];
        json_array(&v, 0, &mut shape, &mut flat).map_err(|e| CliError::data(path, e))?;
        return ArrayD::from_shape_vec(IxDyn(&shape), flat).map_err(|e| CliError::data(path, e));
    }
    read_f32(path)
}

fn json_array(v: &serde_json::Value, depth: usize, shape: &mut Vec<usize>, flat: &mut Vec<f32>) -> Result<(), String> {
    match v {
        serde_json::Value::Array(items) => {
            if shape.len() == depth {
                shape.push(items.len());
            } else if shape[depth] != items.len() {
                return Err(format!("ragged array at depth {depth}"));
            }
            items.iter().try_for_each(|i| json_array(i, depth + 1, shape, flat))
        }
        serde_json::Value::Number(n) if shape.len() == depth => {
            flat.push(n.as_f64().ok_or("bad number")? as f32);
            Ok(())
        }
        _ => Err(format!("expected a number or an array at depth {depth}")),
    }
}

/// A file-system-safe name for an output.
pub(crate) fn file_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect()
}

/// Write per-sample outputs: as they are for a single sample, otherwise stacked along the
/// first axis (an output with a leading axis of 1 is concatenated there).
/// `raw`: the codes' type when writing raw codes (int8, int16 and int32 codes keep their width
/// in the `.npy`; i64 and dequantized values are written as they are).
pub(crate) fn write_batch(path: &Path, per: &[Output], single: bool, raw: Option<solidml_spec::DType>) -> Result<(), CliError> {
    let stack = |arrs: Vec<ArrayD<f32>>| -> ArrayD<f32> {
        if single {
            return arrs.into_iter().next().unwrap();
        }
        let views: Vec<_> =
            arrs.iter().map(|a| if a.ndim() > 0 && a.shape()[0] == 1 { a.view() } else { a.view().insert_axis(Axis(0)) }).collect();
        ndarray::concatenate(Axis(0), &views).unwrap()
    };
    let stack_i = |arrs: Vec<ArrayD<i64>>| -> ArrayD<i64> {
        if single {
            return arrs.into_iter().next().unwrap();
        }
        let views: Vec<_> =
            arrs.iter().map(|a| if a.ndim() > 0 && a.shape()[0] == 1 { a.view() } else { a.view().insert_axis(Axis(0)) }).collect();
        ndarray::concatenate(Axis(0), &views).unwrap()
    };
    let file = std::fs::File::create(path).map_err(|e| CliError::io(path, e))?;
    let res = match per.first() {
        Some(Output::Float(_)) => stack(per.iter().map(|o| o.to_f32()).collect()).write_npy(file),
        _ => {
            let ints =
                stack_i(per.iter().map(|o| if let Output::Int(a) = o { a.clone() } else { o.to_f32().mapv(|v| v as i64) }).collect());
            match raw {
                Some(solidml_spec::DType::I8) => ints.mapv(|v| v as i8).write_npy(file),
                Some(solidml_spec::DType::I16) => ints.mapv(|v| v as i16).write_npy(file),
                Some(solidml_spec::DType::I32) => ints.mapv(|v| v as i32).write_npy(file),
                _ => ints.write_npy(file),
            }
        }
    };
    res.map_err(|e| CliError::data(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_errors_name_the_file() {
        let e = read_f32(Path::new("/nonexistent/x.npy")).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/x.npy"), "{e}");
        let dir = std::env::temp_dir().join(format!("solidml-data-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("bad.npy");
        std::fs::write(&p, b"PK\x03\x04 not npy").unwrap();
        let e = read_i64(&p).unwrap_err().to_string();
        assert!(e.contains("bad.npy") && e.contains("magic"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
