//! Reading `.npy` arrays (numpy's format 1.0–3.0) from bytes: calibration, evaluation and
//! input data.
//!
//! Hand-written on purpose, header and data: `ndarray-npy` allocates the array the header
//! declares before it reads the data, so a 256-byte file that claims 1e9×64 elements would
//! abort on a 256 GB allocation. Here the header is parsed once (a strict parse of the dict
//! literal numpy writes: the keys `descr`, `fortran_order` and `shape`, each once), the size it
//! declares is checked against the bytes that follow it, and only then is anything allocated,
//! from the same parse: no second parser can read another shape out of the same header. Every
//! malformed input is an error ([`CompileError::Npy`]), never a panic.

use ndarray::{ArrayD, IxDyn, ShapeBuilder};

use crate::error::{CompileError, Result};

/// What a `.npy` header declares.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyHeader {
    /// The dtype string, e.g. `<f4`.
    pub descr: String,
    /// Column-major data.
    pub fortran_order: bool,
    /// The array's shape (`[]` for a scalar).
    pub shape: Vec<usize>,
    /// The size of one element in bytes (the number in `descr`).
    pub item_bytes: usize,
    /// Where the data starts.
    pub data_offset: usize,
}

fn err(reason: impl Into<String>) -> CompileError {
    CompileError::Npy(reason.into())
}

/// Parse a `.npy` header: magic `\x93NUMPY`, version, a little-endian header length, then a
/// Python dict literal with `descr`, `fortran_order` and `shape`. The data is not looked at
/// (see [`check_size`]).
pub fn header(bytes: &[u8]) -> Result<NpyHeader> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(err("not a .npy file (missing the `\\x93NUMPY` magic)"));
    }
    let (len, start): (usize, usize) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        2 | 3 => return Err(err(".npy header is truncated")),
        v => return Err(err(format!(".npy format version {v} is not supported"))),
    };
    let end = start.checked_add(len).ok_or_else(|| err(".npy header is truncated"))?;
    let text = bytes.get(start..end).ok_or_else(|| err(".npy header is truncated"))?;
    let text = std::str::from_utf8(text).map_err(|_| err(".npy header is not text"))?;
    let dict = parse_dict(text)?;
    let get = |key: &str| dict.iter().find(|(k, _)| k == key).map(|(_, v)| v).ok_or_else(|| err(format!(".npy header has no `{key}`")));
    let descr = match get("descr")? {
        Literal::Str(s) => s.clone(),
        _ => return Err(err(".npy header: `descr` is not a string")),
    };
    let item_bytes: usize = descr
        .trim_start_matches(['<', '>', '|', '='])
        .get(1..)
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| err(format!(".npy dtype `{descr}` is not a plain number type")))?;
    let fortran_order = match get("fortran_order")? {
        Literal::Bool(b) => *b,
        _ => return Err(err(".npy header: `fortran_order` is not True or False")),
    };
    let shape = match get("shape")? {
        Literal::Tuple(s) => s.clone(),
        _ => return Err(err(".npy header: `shape` is not a tuple")),
    };
    Ok(NpyHeader { descr, fortran_order, shape, item_bytes, data_offset: end })
}

/// The header, once the data size it declares is checked to be exactly what `bytes` holds
/// after it.
pub fn check_size(bytes: &[u8]) -> Result<NpyHeader> {
    let h = header(bytes)?;
    let elements = h.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let declared = elements.and_then(|n| n.checked_mul(h.item_bytes));
    let held = bytes.len().saturating_sub(h.data_offset);
    match declared {
        Some(d) if d == held => Ok(h),
        _ => Err(err(format!(
            "the .npy header declares shape {:?} of {}-byte elements ({} bytes), but the file holds {held} bytes of data",
            h.shape,
            h.item_bytes,
            declared.map_or("more than 2^64".to_string(), |d| d.to_string())
        ))),
    }
}

/// The data's elements converted by `f` from each `N`-byte element (`big`: big-endian).
fn elements<const N: usize, T>(data: &[u8], big: bool, f: impl Fn([u8; N]) -> T) -> Vec<T> {
    data.chunks_exact(N)
        .map(|c| {
            let mut b: [u8; N] = c.try_into().expect("chunks of N bytes");
            if big {
                b.reverse();
            }
            f(b)
        })
        .collect()
}

/// The array of `h`'s shape and order holding `v` (as many elements as the shape declares).
fn array<T>(h: &NpyHeader, v: Vec<T>) -> Result<ArrayD<T>> {
    ArrayD::from_shape_vec(IxDyn(&h.shape).set_f(h.fortran_order), v)
        .map_err(|e| err(format!(".npy header: shape {:?} cannot be an array ({e})", h.shape)))
}

/// The byte order of a multi-byte `descr` (`Some(true)`: big-endian), `None` when it names
/// none (`|`, `=` or nothing, which numpy writes only for one-byte types).
fn big_endian(descr: &str) -> Option<bool> {
    match descr.as_bytes().first() {
        Some(b'<') => Some(false),
        Some(b'>') => Some(true),
        _ => None,
    }
}

/// The dtype letter and size of `h` (`('f', 4)` for `<f4`).
fn kind(h: &NpyHeader) -> Option<(u8, usize)> {
    h.descr.trim_start_matches(['<', '>', '|', '=']).bytes().next().map(|k| (k, h.item_bytes))
}

/// A float array from `.npy` bytes (dtype float16, float32, float64, the signed and unsigned
/// integers of 8 to 64 bits, or bool, read as 0 and 1).
pub fn read_f32(bytes: &[u8]) -> Result<ArrayD<f32>> {
    let h = check_size(bytes)?;
    let data = &bytes[h.data_offset..];
    let unsupported = || err("not a .npy array of a float or integer dtype");
    let v: Vec<f32> = match kind(&h).ok_or_else(unsupported)? {
        (b'b', 1) => data.iter().map(|&b| (b != 0) as u8 as f32).collect(),
        (b'u', 1) => data.iter().map(|&b| b as f32).collect(),
        (b'i', 1) => data.iter().map(|&b| b as i8 as f32).collect(),
        (k, n) => {
            let big = big_endian(&h.descr).ok_or_else(unsupported)?;
            match (k, n) {
                (b'f', 2) => elements(data, big, |b| half::f16::from_le_bytes(b).to_f32()),
                (b'f', 4) => elements(data, big, f32::from_le_bytes),
                (b'f', 8) => elements(data, big, |b| f64::from_le_bytes(b) as f32),
                (b'i', 8) => elements(data, big, |b| i64::from_le_bytes(b) as f32),
                (b'i', 4) => elements(data, big, |b| i32::from_le_bytes(b) as f32),
                (b'i', 2) => elements(data, big, |b| i16::from_le_bytes(b) as f32),
                (b'u', 2) => elements(data, big, |b| u16::from_le_bytes(b) as f32),
                (b'u', 4) => elements(data, big, |b| u32::from_le_bytes(b) as f32),
                (b'u', 8) => elements(data, big, |b| u64::from_le_bytes(b) as f32),
                _ => return Err(unsupported()),
            }
        }
    };
    array(&h, v)
}

/// An integer array from `.npy` bytes (dtype int64, int32, int16, or uint8 to uint64; a
/// uint64 value above `i64::MAX` is an error).
pub fn read_i64(bytes: &[u8]) -> Result<ArrayD<i64>> {
    let h = check_size(bytes)?;
    let data = &bytes[h.data_offset..];
    let unsupported = || err("not a .npy array of an integer dtype (int16 to int64, uint16 to uint64)");
    let big = big_endian(&h.descr).ok_or_else(unsupported)?;
    let v: Vec<i64> = match kind(&h).ok_or_else(unsupported)? {
        (b'i', 8) => elements(data, big, i64::from_le_bytes),
        (b'i', 4) => elements(data, big, |b| i32::from_le_bytes(b) as i64),
        (b'i', 2) => elements(data, big, |b| i16::from_le_bytes(b) as i64),
        (b'u', 2) => elements(data, big, |b| u16::from_le_bytes(b) as i64),
        (b'u', 4) => elements(data, big, |b| u32::from_le_bytes(b) as i64),
        (b'u', 8) => {
            let v: Vec<u64> = elements(data, big, u64::from_le_bytes);
            v.into_iter().map(|x| i64::try_from(x).map_err(|_| err(format!("uint64 value {x} is beyond int64")))).collect::<Result<_>>()?
        }
        _ => return Err(unsupported()),
    };
    array(&h, v)
}

/// A value of the header dict.
#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
}

/// The header's dict literal: `{'key': value, ...}` with string keys and string, `True` /
/// `False` or tuple-of-sizes values, then only whitespace (numpy pads with spaces and ends
/// with a newline). Each of the three keys at most once, no other key (numpy refuses others).
fn parse_dict(text: &str) -> Result<Vec<(String, Literal)>> {
    let mut p = Parser { s: text.as_bytes(), i: 0 };
    p.expect(b'{')?;
    let mut out: Vec<(String, Literal)> = vec![];
    loop {
        p.ws();
        if p.eat(b'}') {
            break;
        }
        let key = p.string().map_err(|_| err(".npy header is not a dict literal with string keys"))?;
        if !["descr", "fortran_order", "shape"].contains(&key.as_str()) {
            return Err(err(format!(".npy header has an unknown key `{key}`")));
        }
        if out.iter().any(|(k, _)| *k == key) {
            return Err(err(format!(".npy header has the key `{key}` twice")));
        }
        p.ws();
        p.expect(b':')?;
        p.ws();
        let value = p.value(&key)?;
        out.push((key, value));
        p.ws();
        if !p.eat(b',') {
            p.ws();
            p.expect(b'}')?;
            break;
        }
    }
    if !p.s[p.i..].iter().all(u8::is_ascii_whitespace) {
        return Err(err(".npy header has text after its dict"));
    }
    Ok(out)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        let hit = self.s.get(self.i) == Some(&c);
        if hit {
            self.i += 1;
        }
        hit
    }
    fn expect(&mut self, c: u8) -> Result<()> {
        if self.eat(c) {
            return Ok(());
        }
        Err(err(format!(".npy header is not a dict literal (expected `{}` at byte {})", c as char, self.i)))
    }
    /// A quoted string without escapes.
    fn string(&mut self) -> Result<String> {
        let q = match self.s.get(self.i) {
            Some(&q @ (b'\'' | b'"')) => q,
            _ => return Err(err(".npy header: expected a string")),
        };
        let rest = &self.s[self.i + 1..];
        let len = rest.iter().position(|&c| c == q || c == b'\\').filter(|&n| rest[n] == q);
        let len = len.ok_or_else(|| err(".npy header: a string is not closed (or has an escape)"))?;
        self.i += len + 2;
        // the bytes between two ASCII quotes of valid UTF-8 are valid UTF-8
        Ok(String::from_utf8_lossy(&rest[..len]).into_owned())
    }
    fn value(&mut self, key: &str) -> Result<Literal> {
        match self.s.get(self.i) {
            Some(b'\'' | b'"') => self.string().map(Literal::Str).map_err(|_| err(format!(".npy header: `{key}` is not a string"))),
            Some(b'T' | b'F') => {
                let rest = &self.s[self.i..];
                for (word, b) in [(&b"True"[..], true), (b"False", false)] {
                    if rest.starts_with(word) {
                        self.i += word.len();
                        return Ok(Literal::Bool(b));
                    }
                }
                Err(err(format!(".npy header: `{key}` is not True or False")))
            }
            Some(b'(') => {
                self.i += 1;
                let mut dims = vec![];
                let mut trailing_comma = false;
                loop {
                    self.ws();
                    if self.eat(b')') {
                        break;
                    }
                    let from = self.i;
                    while self.s.get(self.i).is_some_and(|&c| !matches!(c, b',' | b')') && !c.is_ascii_whitespace()) {
                        self.i += 1;
                    }
                    let d = std::str::from_utf8(&self.s[from..self.i]).unwrap_or("?");
                    let n = Some(d)
                        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                        .and_then(|d| d.parse::<usize>().ok())
                        .ok_or_else(|| err(format!(".npy header: shape entry `{d}` is not a size")))?;
                    dims.push(n);
                    self.ws();
                    trailing_comma = self.eat(b',');
                    if !trailing_comma {
                        self.ws();
                        if !self.eat(b')') {
                            return Err(err(format!(".npy header: `{key}` is not a tuple")));
                        }
                        break;
                    }
                }
                // `(3)` is the number 3 in Python, not a tuple
                if dims.len() == 1 && !trailing_comma {
                    return Err(err(format!(".npy header: `{key}` is not a tuple")));
                }
                Ok(Literal::Tuple(dims))
            }
            _ => Err(err(format!(".npy header: `{key}` is not a string, True, False or a tuple"))),
        }
    }
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
        let ok = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24);
        assert_eq!(header(&ok).unwrap().shape, vec![2, 3]);
        assert!(check_size(&ok).is_ok());
        // a header that claims 1e9 × 64 float32 over 256 bytes: refused before any allocation
        let lie = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 64), }", 256);
        let e = check_size(&lie).unwrap_err().to_string();
        assert!(e.contains("256000000000 bytes") && e.contains("holds 256 bytes"), "{e}");
        assert!(read_f32(&lie).is_err() && read_i64(&lie).is_err());
        // sizes whose product overflows, scalars, 1-tuples, big-endian and byte dtypes
        let huge = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }", 8);
        assert!(check_size(&huge).unwrap_err().to_string().contains("more than 2^64"));
        assert!(check_size(&npy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 8)).is_ok());
        assert!(check_size(&npy("{'descr': '>i8', 'fortran_order': False, 'shape': (3,), }", 24)).is_ok());
        assert!(check_size(&npy("{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }", 5)).is_ok());
        assert!(check_size(&b"\x93NUMPY\x01\x00\xff\xff{"[..]).unwrap_err().to_string().contains("truncated"));
        assert!(check_size(b"PK\x03\x04 not npy").unwrap_err().to_string().contains("magic"));
        // a second `shape` (a different parser could read the other one) and unknown keys
        let twice = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'shape': (1000000000, 64), }", 4);
        assert!(check_size(&twice).unwrap_err().to_string().contains("twice"));
        let other = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", 4);
        assert!(check_size(&other).unwrap_err().to_string().contains("unknown key `x`"));
        assert!(check_size(&npy("{'descr': '<f4', 'shape': (1,), }", 4)).unwrap_err().to_string().contains("no `fortran_order`"));
        assert!(check_size(&npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1), }", 4)).is_err());
        // zero elements of a shape whose other axes overflow: an error, not a panic
        let zero = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 18446744073709551615, 2), }", 0);
        assert!(read_f32(&zero).is_err());
        // every prefix of a good file is an error, never a panic
        for n in 0..ok.len() {
            assert!(read_f32(&ok[..n]).is_err());
        }
    }

    #[test]
    fn typed_reads_convert_every_supported_dtype() {
        let with = |descr: &str, shape: &str, data: &[u8]| {
            let mut b = npy(&format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}"), 0);
            b.extend_from_slice(data);
            b
        };
        let f = read_f32(&with("<f4", "(2,)", &[0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0])).unwrap();
        assert_eq!(f.as_slice().unwrap(), &[1.0, -2.0]);
        let f = read_f32(&with(">f8", "()", &1.5f64.to_be_bytes())).unwrap();
        assert_eq!((f.shape(), f[IxDyn(&[])]), (&[][..], 1.5));
        assert_eq!(read_f32(&with("|i1", "(2,)", &[0xff, 3])).unwrap().as_slice().unwrap(), &[-1.0, 3.0]);
        assert_eq!(read_f32(&with("|u1", "(1,)", &[0xff])).unwrap().as_slice().unwrap(), &[255.0]);
        assert_eq!(read_f32(&with("<i4", "(1,)", &(-7i32).to_le_bytes())).unwrap().as_slice().unwrap(), &[-7.0]);
        assert_eq!(read_i64(&with(">i8", "(1,)", &(-9i64).to_be_bytes())).unwrap().as_slice().unwrap(), &[-9]);
        assert_eq!(read_i64(&with("<i4", "(1, 1)", &5i32.to_le_bytes())).unwrap().shape(), &[1, 1]);
        assert!(read_i64(&with("<f4", "(1,)", &[0; 4])).unwrap_err().to_string().contains("integer dtype"));
        // float16 (1.5 = 0x3e00, −2 = 0xc000), 16-bit and unsigned integers
        assert_eq!(read_f32(&with("<f2", "(2,)", &[0x00, 0x3e, 0x00, 0xc0])).unwrap().as_slice().unwrap(), &[1.5, -2.0]);
        assert_eq!(read_f32(&with("<u2", "(1,)", &[0xff, 0xff])).unwrap().as_slice().unwrap(), &[65535.0]);
        assert_eq!(read_i64(&with("<i2", "(1,)", &(-300i16).to_le_bytes())).unwrap().as_slice().unwrap(), &[-300]);
        assert_eq!(read_i64(&with(">u4", "(1,)", &4_000_000_000u32.to_be_bytes())).unwrap().as_slice().unwrap(), &[4_000_000_000]);
        assert!(read_i64(&with("<u8", "(1,)", &u64::MAX.to_le_bytes())).unwrap_err().to_string().contains("beyond int64"));
        assert!(read_f32(&with("<c8", "(1,)", &[0; 8])).unwrap_err().to_string().contains("float or integer dtype"));
        // Fortran order: the data is column-major
        let mut b = npy("{'descr': '<i8', 'fortran_order': True, 'shape': (2, 2), }", 0);
        for v in [1i64, 2, 3, 4] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        let a = read_i64(&b).unwrap();
        assert_eq!((a[[0, 1]], a[[1, 0]]), (3, 2));
    }
}
