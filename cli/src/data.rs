//! Reading and writing data files: `.npy` (via `ndarray-npy`) and JSON arrays.

use std::path::Path;

use ndarray::{ArrayD, Axis, IxDyn};
use ndarray_npy::{ReadNpyExt, WriteNpyExt};
use solidml_compiler::runner::Output;

use crate::error::CliError;

/// What a `.npy` header declares: its shape and the size of one element.
#[derive(Debug, PartialEq)]
struct NpyHeader {
    shape: Vec<usize>,
    item_bytes: usize,
    data_offset: usize,
}

/// Parse a `.npy` header (format 1.0–3.0: magic `\x93NUMPY`, version, a little-endian header
/// length, then a Python dict literal with `descr`, `fortran_order` and `shape`).
///
/// Hand-written on purpose, and only this far: `ndarray-npy` allocates the array the header
/// declares before it reads the data, so a 256-byte file that claims 1e9×64 elements would
/// abort on a 256 GB allocation. The declared size is checked against the file first.
fn npy_header(bytes: &[u8]) -> Result<NpyHeader, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not a .npy file (missing the `\\x93NUMPY` magic)".into());
    }
    let (len, start): (usize, usize) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        v => return Err(format!(".npy format version {v} is not supported")),
    };
    let text = bytes.get(start..start.saturating_add(len)).ok_or(".npy header is truncated")?;
    let text = std::str::from_utf8(text).map_err(|_| ".npy header is not text")?;
    let field = |key: &str| -> Result<&str, String> {
        let at = text.find(&format!("'{key}'")).ok_or_else(|| format!(".npy header has no `{key}`"))?;
        Ok(text[at + key.len() + 2..].trim_start().trim_start_matches(':').trim_start())
    };
    let descr = field("descr")?;
    let descr = descr.strip_prefix('\'').and_then(|d| d.split('\'').next()).ok_or(".npy header: `descr` is not a string")?;
    let item_bytes: usize = descr
        .trim_start_matches(['<', '>', '|', '='])
        .get(1..)
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!(".npy dtype `{descr}` is not a plain number type"))?;
    let shape = field("shape")?;
    let shape = shape.strip_prefix('(').and_then(|s| s.split(')').next()).ok_or(".npy header: `shape` is not a tuple")?;
    let shape = shape
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| d.parse::<usize>().map_err(|_| format!(".npy header: shape entry `{d}` is not a size")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(NpyHeader { shape, item_bytes, data_offset: start + len })
}

/// The header's declared data size must be exactly what the file holds after it.
fn check_npy_size(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let h = npy_header(bytes).map_err(|e| CliError::data(path, e))?;
    let elements = h.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let declared = elements.and_then(|n| n.checked_mul(h.item_bytes));
    let held = bytes.len().saturating_sub(h.data_offset);
    match declared {
        Some(d) if d == held => Ok(()),
        _ => Err(CliError::data(
            path,
            format!(
                "the .npy header declares shape {:?} of {}-byte elements ({} bytes), but the file holds {held} bytes of data",
                h.shape,
                h.item_bytes,
                declared.map_or("more than 2^64".to_string(), |d| d.to_string())
            ),
        )),
    }
}

/// A float array from `.npy` (any float or integer dtype).
pub(crate) fn read_f32(path: &Path) -> Result<ArrayD<f32>, CliError> {
    let bytes = std::fs::read(path).map_err(|e| CliError::io(path, e))?;
    check_npy_size(path, &bytes)?;
    macro_rules! try_as {
        ($t:ty) => {
            if let Ok(a) = ArrayD::<$t>::read_npy(&bytes[..]) {
                return Ok(a.mapv(|v| v as f32));
            }
        };
    }
    try_as!(f32);
    try_as!(f64);
    try_as!(i64);
    try_as!(i32);
    try_as!(u8);
    try_as!(i8);
    Err(CliError::data(path, "not a .npy array of a float or integer dtype"))
}

/// An integer array from `.npy`.
pub(crate) fn read_i64(path: &Path) -> Result<ArrayD<i64>, CliError> {
    let bytes = std::fs::read(path).map_err(|e| CliError::io(path, e))?;
    check_npy_size(path, &bytes)?;
    if let Ok(a) = ArrayD::<i64>::read_npy(&bytes[..]) {
        return Ok(a);
    }
    if let Ok(a) = ArrayD::<i32>::read_npy(&bytes[..]) {
        return Ok(a.mapv(|v| v as i64));
    }
    Err(CliError::data(path, "not a .npy array of int64 or int32"))
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
pub(crate) fn write_batch(path: &Path, per: &[Output], single: bool, as_i8: bool) -> Result<(), CliError> {
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
            if as_i8 { ints.mapv(|v| v as i8).write_npy(file) } else { ints.write_npy(file) }
        }
    };
    res.map_err(|e| CliError::data(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(header: &str, data: usize) -> Vec<u8> {
        let mut h = header.to_string();
        while !(10 + h.len() + 1).is_multiple_of(64) {
            h.push(' ');
        }
        h.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(h.len() as u16).to_le_bytes());
        b.extend_from_slice(h.as_bytes());
        b.resize(b.len() + data, 0);
        b
    }

    #[test]
    fn headers_are_checked_against_the_data() {
        let p = Path::new("x.npy");
        let ok = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24);
        assert_eq!(npy_header(&ok).unwrap().shape, vec![2, 3]);
        assert!(check_npy_size(p, &ok).is_ok());
        assert!(read_f32(Path::new("/nonexistent/x.npy")).is_err());
        // a header that claims 1e9 × 64 float32 over 256 bytes: refused before any allocation
        let lie = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 64), }", 256);
        let e = check_npy_size(p, &lie).unwrap_err().to_string();
        assert!(e.contains("256000000000 bytes") && e.contains("holds 256 bytes"), "{e}");
        // sizes whose product overflows, scalars, 1-tuples, big-endian and byte dtypes
        let huge = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }", 8);
        assert!(check_npy_size(p, &huge).unwrap_err().to_string().contains("more than 2^64"));
        assert!(check_npy_size(p, &npy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 8)).is_ok());
        assert!(check_npy_size(p, &npy("{'descr': '>i8', 'fortran_order': False, 'shape': (3,), }", 24)).is_ok());
        assert!(check_npy_size(p, &npy("{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }", 5)).is_ok());
        assert!(check_npy_size(p, &b"\x93NUMPY\x01\x00\xff\xff{"[..]).unwrap_err().to_string().contains("truncated"));
        assert!(check_npy_size(p, b"PK\x03\x04 not npy").unwrap_err().to_string().contains("magic"));
    }
}
