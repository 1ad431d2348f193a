//! Helpers shared by the cross-crate tests: repository paths, `.npy` loading, a
//! deterministic PRNG.

use std::path::PathBuf;

use ndarray::ArrayD;
use ndarray_npy::ReadNpyExt;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

pub fn examples() -> PathBuf {
    repo().join("examples/models")
}

pub fn npy_f32(name: &str) -> ArrayD<f32> {
    let bytes = std::fs::read(examples().join(name)).unwrap();
    ArrayD::<f32>::read_npy(&bytes[..]).unwrap()
}

pub fn npy_i64(name: &str) -> ArrayD<i64> {
    let bytes = std::fs::read(examples().join(name)).unwrap();
    ArrayD::<i64>::read_npy(&bytes[..]).unwrap()
}

/// xorshift32: deterministic, dependency-free randomness for generated cases.
pub struct Rng(pub u32);

impl Rng {
    pub fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() as i64).rem_euclid(hi - lo + 1)
    }
    pub fn i8s(&mut self, n: usize) -> Vec<i8> {
        (0..n).map(|_| self.range(-128, 127) as i8).collect()
    }
    pub fn f32(&mut self) -> f32 {
        self.next() as f32 / u32::MAX as f32
    }
}
