//! The requantization epilogue of Conv and Dense with the input zero point folded into the
//! bias (spec §Epilogue):
//!
//! `acc = bias[c] + Σ_k w[c, k] · (x_k − zp_in) = (bias[c] − zp_in · Σ_k w[c, k]) + Σ_k w[c, k] · x_k`,
//! `out = clamp(requantize(acc, M[c]) + zp_out, clamp_min, clamp_max)`.
//!
//! The folded bias is computed in wrapping i32: the spec bounds the true accumulator to i32,
//! so the wrapped sum of the folded bias and the GEMM's wrapped sum is the true accumulator.

use solidml_spec::{
    Epilogue,
    arith::{Multiplier, clamp_i8, requantize},
};

/// One accumulating op's epilogue, expanded per output channel.
#[derive(Debug, Clone)]
pub(crate) struct Requant {
    /// `bias[c] − zp_in · Σ_k w[c, k]`, wrapped to i32.
    pub(crate) folded_bias: Vec<i32>,
    /// The multiplier of each channel.
    pub(crate) multipliers: Vec<Multiplier>,
    /// The output zero point.
    pub(crate) output_zero_point: i32,
    /// The final clamp.
    pub(crate) clamp: (i8, i8),
}

impl Requant {
    /// The epilogue of `channels` output channels whose weight rows are `weights`
    /// (`channels × k`, row-major), with `bias` and `input_zero_point`.
    pub(crate) fn new(e: &Epilogue, weights: &[i8], bias: &[i32], input_zero_point: i32) -> Requant {
        let channels = bias.len();
        let k = weights.len().checked_div(channels).unwrap_or(0);
        let folded_bias = (0..channels)
            .map(|c| {
                let sum: i32 = weights[c * k..(c + 1) * k].iter().map(|&w| w as i32).sum();
                bias[c].wrapping_sub(input_zero_point.wrapping_mul(sum))
            })
            .collect();
        let multipliers = (0..channels).map(|c| if e.multipliers.len() == 1 { e.multipliers[0] } else { e.multipliers[c] }).collect();
        Requant { folded_bias, multipliers, output_zero_point: e.output_zero_point, clamp: (e.clamp_min, e.clamp_max) }
    }

    /// The output code of channel `c` for the GEMM sum `sum` (without the folded bias).
    #[inline]
    pub(crate) fn apply(&self, c: usize, sum: i32) -> i8 {
        let acc = sum.wrapping_add(self.folded_bias[c]);
        clamp_i8(requantize(acc, self.multipliers[c]).saturating_add(self.output_zero_point), self.clamp.0, self.clamp.1)
    }
}

/// Sixteen sums of one tile row through the epilogue at once: `channel(l)` is the channel of
/// lane `l` (one channel for a Conv row, sixteen consecutive ones for a Dense row).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Lanes16 {
    /// Every lane is channel `c`.
    Channel(usize),
    /// Lane `l` is channel `c0 + l`.
    From(usize),
}

/// Per-lane constants of the vector epilogue, padded so a 16-lane load from any channel stays
/// in bounds.
#[derive(Debug, Clone)]
pub(crate) struct VectorConstants {
    folded_bias: Vec<i32>,
    mantissas: Vec<i32>,
    /// `−shift` (every shift is ≤ 0 on the vector path).
    rights: Vec<i32>,
}

impl Requant {
    /// The constants of the vector epilogue, when every multiplier is below 1 (no left shift):
    /// the layers compilers make. Other layers take the scalar epilogue.
    pub(crate) fn vector_constants(&self) -> Option<VectorConstants> {
        if self.multipliers.iter().any(|m| m.shift > 0) {
            return None;
        }
        let pad = |mut v: Vec<i32>| {
            v.extend([0; 16]);
            v
        };
        Some(VectorConstants {
            folded_bias: pad(self.folded_bias.clone()),
            mantissas: pad(self.multipliers.iter().map(|m| m.multiplier).collect()),
            rights: pad(self.multipliers.iter().map(|m| -m.shift).collect()),
        })
    }

    /// `out[l] = apply(channel(l), sums[l])` for `l < out.len()` (at most 16), with the vector
    /// epilogue when `vector` is given and AVX2 runs, the scalar one otherwise.
    #[inline]
    pub(crate) fn apply16(
        &self,
        vector: Option<&VectorConstants>,
        kernel: crate::gemm::Kernel,
        lanes: Lanes16,
        sums: &[i32; 16],
        out: &mut [i8],
    ) {
        #[cfg(target_arch = "x86_64")]
        if let (Some(v), true) = (vector, kernel.has_avx2()) {
            // SAFETY: these kernels are only chosen on CPUs with AVX2; the constants are
            // padded by 16 lanes past the last channel.
            unsafe { avx2::apply16(self, v, lanes, sums, out) };
            return;
        }
        let _ = (vector, kernel);
        for (l, (o, &s)) in out.iter_mut().zip(sums).enumerate() {
            let c = match lanes {
                Lanes16::Channel(c) => c,
                Lanes16::From(c0) => c0 + l,
            };
            *o = self.apply(c, s);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    //! The epilogue on eight i32 lanes, for multipliers without left shift:
    //! `SRDHM(a, b) = ⌊(a·b + 2^30) / 2^31⌋` (gemmlowp's nudge and truncation toward zero
    //! amount to this floor for every product, the `i32::MIN²` case aside, which a mantissa
    //! `≥ 0` excludes), then `RoundingDivideByPOT` with the per-lane exponent, then
    //! `clamp(x + zp)` (pre-clamping `x` to `±2^24` stands in for the saturating add: both
    //! land outside the int8 clamp range together).
    use std::arch::x86_64::*;

    use super::{Lanes16, Requant, VectorConstants};

    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn requant8(x: __m256i, mant: __m256i, right: __m256i, zp: __m256i, lo: __m256i, hi: __m256i) -> __m256i {
        let nudge = _mm256_set1_epi64x(1 << 30);
        let even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(x, mant), nudge), 31);
        let odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(mant, 32)), nudge);
        // bits 31..62 of the odd products into the high halves
        let h = _mm256_blend_epi32(even, _mm256_slli_epi64(_mm256_srli_epi64(odd, 31), 32), 0b1010_1010);
        let one = _mm256_set1_epi32(1);
        let mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
        let threshold = _mm256_add_epi32(_mm256_srli_epi32(mask, 1), _mm256_srli_epi32(h, 31));
        let up = _mm256_cmpgt_epi32(_mm256_and_si256(h, mask), threshold);
        let q = _mm256_sub_epi32(_mm256_srav_epi32(h, right), up);
        let bound = _mm256_set1_epi32(1 << 24);
        let q = _mm256_max_epi32(_mm256_min_epi32(q, bound), _mm256_sub_epi32(_mm256_setzero_si256(), bound));
        _mm256_max_epi32(_mm256_min_epi32(_mm256_add_epi32(q, zp), hi), lo)
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) unsafe fn apply16(r: &Requant, v: &VectorConstants, lanes: Lanes16, sums: &[i32; 16], out: &mut [i8]) {
        let zp = _mm256_set1_epi32(r.output_zero_point);
        let (lo, hi) = (_mm256_set1_epi32(r.clamp.0 as i32), _mm256_set1_epi32(r.clamp.1 as i32));
        let mut q = [_mm256_setzero_si256(); 2];
        // one channel: its constants broadcast once for both halves
        let channel = match lanes {
            Lanes16::Channel(c) => {
                Some((_mm256_set1_epi32(v.folded_bias[c]), _mm256_set1_epi32(v.mantissas[c]), _mm256_set1_epi32(v.rights[c])))
            }
            Lanes16::From(_) => None,
        };
        for (half, qh) in q.iter_mut().enumerate() {
            // SAFETY: `sums` holds 16 i32; the constants are padded by 16 past every channel.
            unsafe {
                let s = _mm256_loadu_si256(sums.as_ptr().add(8 * half) as *const __m256i);
                let (bias, mant, right) = match (channel, lanes) {
                    (Some(k), _) => k,
                    (None, Lanes16::From(c0)) => {
                        let at = |a: &[i32]| _mm256_loadu_si256(a.as_ptr().add(c0 + 8 * half) as *const __m256i);
                        (at(&v.folded_bias), at(&v.mantissas), at(&v.rights))
                    }
                    (None, Lanes16::Channel(_)) => unreachable!("a channel has its constants"),
                };
                *qh = requant8(_mm256_add_epi32(s, bias), mant, right, zp, lo, hi);
            }
        }
        let words = _mm256_permute4x64_epi64(_mm256_packs_epi32(q[0], q[1]), 0b11_01_10_00);
        let bytes = _mm_packs_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
        if out.len() >= 16 {
            // SAFETY: 16 bytes into `out`, which holds at least 16.
            unsafe { _mm_storeu_si128(out.as_mut_ptr() as *mut __m128i, bytes) };
            return;
        }
        let mut all = [0i8; 16];
        // SAFETY: 16 bytes into a 16-byte array.
        unsafe { _mm_storeu_si128(all.as_mut_ptr() as *mut __m128i, bytes) };
        let n = out.len();
        out.copy_from_slice(&all[..n]);
    }
}

#[cfg(test)]
mod tests {
    use solidml_spec::arith::Multiplier;

    use super::*;
    use crate::gemm::Kernel;

    #[test]
    fn the_vector_epilogue_equals_the_scalar_one() {
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        for case in 0..400 {
            let channels = 1 + (next() % 40) as usize;
            let multipliers: Vec<Multiplier> = (0..channels)
                .map(|_| match next() % 5 {
                    0 => Multiplier { multiplier: 0, shift: 0 },
                    1 => Multiplier { multiplier: [1 << 30, i32::MAX][(next() % 2) as usize], shift: -((next() % 32) as i32) },
                    _ => Multiplier::from_real((next() % 1_000_000) as f64 / 1_000_000.0),
                })
                .collect();
            let (a, b) = ((next() % 256) as i32 - 128, (next() % 256) as i32 - 128);
            let e = Epilogue {
                multipliers,
                output_zero_point: (next() % 256) as i32 - 128,
                clamp_min: a.min(b) as i8,
                clamp_max: a.max(b) as i8,
            };
            let k = 3;
            let weights: Vec<i8> = (0..channels * k).map(|_| next() as i8).collect();
            let bias: Vec<i32> = (0..channels).map(|_| next() as i32 >> (next() % 31)).collect();
            let r = Requant::new(&e, &weights, &bias, (next() % 256) as i32 - 128);
            let v = r.vector_constants().expect("no left shift");
            let sums: [i32; 16] = std::array::from_fn(|_| match next() % 4 {
                0 => [i32::MIN, i32::MAX, 0, -1, 1][(next() % 5) as usize],
                _ => next() as i32 >> (next() % 32),
            });
            for lanes in [Lanes16::Channel(case % channels), Lanes16::From(0), Lanes16::From(channels.saturating_sub(16))] {
                let n = match lanes {
                    Lanes16::From(c0) => (channels - c0).min(16),
                    Lanes16::Channel(_) => 16,
                };
                let mut want = vec![0i8; n];
                r.apply16(None, Kernel::Portable, lanes, &sums, &mut want);
                for kernel in Kernel::available() {
                    let mut got = vec![0i8; n];
                    r.apply16(Some(&v), kernel, lanes, &sums, &mut got);
                    assert_eq!(got, want, "case {case} {lanes:?} {kernel:?} {e:?} sums {sums:?}");
                }
            }
        }
    }
}

#[cfg(test)]
mod speed {
    use solidml_spec::arith::Multiplier;

    use super::*;
    use crate::gemm::Kernel;

    /// Timing probe, not a check: the vector epilogue's cost per output.
    #[test]
    #[ignore]
    fn apply16_rate() {
        let e = Epilogue { multipliers: vec![Multiplier::from_real(0.0003)], output_zero_point: 3, clamp_min: -128, clamp_max: 127 };
        let r = Requant::new(&e, &vec![1i8; 64 * 9], &vec![7; 64], 2);
        let v = r.vector_constants().unwrap();
        let sums: [i32; 16] = std::array::from_fn(|i| (i as i32 - 8) * 12345);
        let mut out = vec![0i8; 64 * 16];
        let kernel = Kernel::detect();
        let reps = 1_000_000;
        let t = std::time::Instant::now();
        kernel.run(|| {
            for i in 0..reps {
                let c = i % 64;
                r.apply16(Some(&v), kernel, Lanes16::Channel(c), std::hint::black_box(&sums), &mut out[c * 16..c * 16 + 16]);
            }
        });
        let s = t.elapsed().as_secs_f64();
        std::hint::black_box(&out);
        eprintln!("apply16: {:.1} ns per call, {:.2} ns per output", s / reps as f64 * 1e9, s / reps as f64 / 16.0 * 1e9);
    }
}
