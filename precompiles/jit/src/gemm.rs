//! The exact int8 GEMM core: `C[i][j] = Σ_k A[i][k] · B[k][j]` over int8-range operands held
//! as i16, accumulated in wrapping i32.
//!
//! Contract: every product and partial sum is an integer, so the result is exact whatever the
//! instruction, as long as the true sum fits in i32 — which the spec's accumulator rule
//! guarantees for Conv and Dense (`Σ|w|·255 + |bias| ≤ i32::MAX` per output channel; the
//! callers fold the input zero point into the bias, so their sums are smaller still). Wrapping
//! arithmetic then gives the true value whatever the order of the additions.
//!
//! Layouts (both built once per operand, the weights at prepare time):
//! * [`Broadcast`] (the `A` side, rows `i`): blocks of [`MR`] rows; per block, for each pair of
//!   `k` (`kp`), the [`MR`] rows' pairs `(A[i][2kp], A[i][2kp+1])` as one i32 each (low half
//!   the even `k`). Missing rows and the odd tail of `k` are zeros.
//! * [`Lanes`] (the `B` side, columns `j`): blocks of [`NR`] columns; per block, for each `kp`,
//!   the [`NR`] columns' pairs `(B[2kp][j], B[2kp+1][j])` as two i16 each. Missing columns and
//!   the odd tail of `k` are zeros.
//!
//! A tile is [`MR`] × [`NR`] accumulators: per `kp`, each row's pair is broadcast and multiplied
//! pairwise with the block's lanes and added to the accumulators: with AVX-512 VNNI one
//! `vpdpwssd` per row (32 exact MACs per 512-bit instruction, multiply and add fused), with
//! AVX2 a `vpmaddwd` and a `vpaddd` per half row (16 MACs per 256-bit pair), or the same sums
//! in portable scalar code on other CPUs ([`Kernel`]). `vpdpwssd` adds without saturation, so
//! the VNNI tile wraps exactly like the others.

/// Rows per tile (broadcast side).
pub(crate) const MR: usize = 6;
/// Columns per tile (lane side): two 256-bit vectors of eight i32.
pub(crate) const NR: usize = 16;

/// The accumulators of one tile, row-major.
pub(crate) type Tile = [[i32; NR]; MR];

/// Which implementation of the tile kernel runs. Every one gives the same exact sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// AVX-512 VNNI `vpdpwssd` on 512-bit vectors (x86-64 with AVX-512 F, BW and VNNI,
    /// detected at run time); the crate's other loops as for [`Kernel::Avx2`].
    Avx512Vnni,
    /// AVX2 `vpmaddwd` (x86-64 with AVX2, detected at run time).
    Avx2,
    /// Plain Rust loops (any CPU).
    Portable,
}

impl Kernel {
    /// The fastest kernel this CPU runs.
    pub fn detect() -> Kernel {
        *Kernel::available().last().expect("the portable kernel runs everywhere")
    }

    /// Every kernel this CPU can run, slowest first (the tests compare them).
    pub fn available() -> Vec<Kernel> {
        let mut v = vec![Kernel::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx2") {
                v.push(Kernel::Avx2);
                if has!("avx512f") && has!("avx512bw") && has!("avx512vnni") {
                    v.push(Kernel::Avx512Vnni);
                }
            }
        }
        v
    }

    /// Whether this kernel's CPU runs AVX2 (the crate's 256-bit helpers: interleave, the
    /// stride-2 gather, the vector epilogue).
    #[inline]
    pub(crate) fn has_avx2(self) -> bool {
        matches!(self, Kernel::Avx2 | Kernel::Avx512Vnni)
    }

    /// Run `f` compiled for this kernel's instruction set: with AVX2 enabled for
    /// [`Kernel::Avx2`] and [`Kernel::Avx512Vnni`] (so the loops `f` inlines — it should call `#[inline(always)]` bodies —
    /// vectorize to 256-bit `vpmaxsb`, `vpmulld`, `vpmaddwd`…), for the baseline otherwise. The
    /// results are the same integers either way.
    #[inline]
    pub(crate) fn run<R>(self, f: impl FnOnce() -> R) -> R {
        #[cfg(target_arch = "x86_64")]
        if self.has_avx2() {
            #[target_feature(enable = "avx2")]
            unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
                f()
            }
            // SAFETY: `Avx2` and `Avx512Vnni` are only chosen when the CPU reports AVX2
            // (`available`).
            return unsafe { avx2(f) };
        }
        f()
    }

    /// One pair of rows of a lane block: `out[2c] = r0[c]`, `out[2c + 1] = r1[c]`.
    #[inline]
    pub(crate) fn interleave(self, r0: &[i8; NR], r1: &[i8; NR], out: &mut [i16; 2 * NR]) {
        match self {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: both are only chosen when the CPU reports AVX2 (`available`).
            Kernel::Avx2 | Kernel::Avx512Vnni => unsafe { avx2::interleave(r0, r1, out) },
            _ => interleave_portable(r0, r1, out),
        }
    }

    /// `dst[i] = src[2i]` for every `i < dst.len()` (`src` holds at least `2·dst.len() − 1`
    /// codes): the im2col rows of stride-2 windows.
    #[inline]
    pub(crate) fn gather_stride2(self, src: &[i8], dst: &mut [i8]) {
        assert!(dst.is_empty() || src.len() > 2 * (dst.len() - 1), "stride-2 source too short");
        let mut done = 0;
        #[cfg(target_arch = "x86_64")]
        if self.has_avx2() {
            // SAFETY: only chosen when the CPU reports AVX2 (`available`); every 32-byte load stays
            // inside `src` (checked in the loop condition).
            done = unsafe { avx2::gather_stride2(src, dst) };
        }
        for (i, d) in dst.iter_mut().enumerate().skip(done) {
            *d = src[2 * i];
        }
    }

    /// `acc = Σ_kp` of one tile: `a` is one [`Broadcast`] block (`kp · MR` pairs), `b` one
    /// [`Lanes`] block (`kp · NR · 2` values); `acc` is overwritten.
    #[inline]
    pub(crate) fn tile(self, a: &[i32], b: &[i16], acc: &mut Tile) {
        let kp = a.len() / MR;
        assert!(a.len() == kp * MR && b.len() == kp * NR * 2, "tile operands of {kp} pairs");
        match self {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Avx2` is only chosen when the CPU reports AVX2 (`detect`), and the
            // lengths were checked above.
            Kernel::Avx2 => unsafe { avx2::tile(a, b, kp, acc) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Avx512Vnni` is only chosen when the CPU reports AVX-512 F, BW and VNNI
            // (`available`), and the lengths were checked above.
            Kernel::Avx512Vnni => unsafe { avx512_vnni::tile(a, b, kp, acc) },
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx2 | Kernel::Avx512Vnni => unreachable!("AVX2 and AVX-512 are x86-64 only"),
            Kernel::Portable => portable_tile(a, b, kp, acc),
        }
    }
}

/// [`Kernel::interleave`] in plain Rust, for rows of any length up to [`NR`] (the rest of
/// `out` is left as it is).
pub(crate) fn interleave_portable(r0: &[i8], r1: &[i8], out: &mut [i16; 2 * NR]) {
    for (c, (&a, &b)) in r0.iter().zip(r1).enumerate() {
        out[2 * c] = a as i16;
        out[2 * c + 1] = b as i16;
    }
}

fn portable_tile(a: &[i32], b: &[i16], kp: usize, acc: &mut Tile) {
    *acc = [[0; NR]; MR];
    for p in 0..kp {
        let lanes = &b[p * NR * 2..(p + 1) * NR * 2];
        for (r, row) in acc.iter_mut().enumerate() {
            let pair = a[p * MR + r];
            let (lo, hi) = (pair as i16 as i32, (pair >> 16) as i16 as i32);
            for (j, c) in row.iter_mut().enumerate() {
                *c = c.wrapping_add(lanes[2 * j] as i32 * lo + lanes[2 * j + 1] as i32 * hi);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{MR, NR, Tile};

    /// Two rows of 16 codes, sign-extended and interleaved pairwise.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) unsafe fn interleave(r0: &[i8; NR], r1: &[i8; NR], out: &mut [i16; 2 * NR]) {
        // SAFETY: 16 bytes read from each row, 64 bytes written to `out`.
        unsafe {
            let a = _mm256_cvtepi8_epi16(_mm_loadu_si128(r0.as_ptr() as *const __m128i));
            let b = _mm256_cvtepi8_epi16(_mm_loadu_si128(r1.as_ptr() as *const __m128i));
            // per 128-bit lane: columns 0–3 | 8–11 (lo) and 4–7 | 12–15 (hi)
            let (lo, hi) = (_mm256_unpacklo_epi16(a, b), _mm256_unpackhi_epi16(a, b));
            _mm256_storeu_si256(out.as_mut_ptr() as *mut __m256i, _mm256_permute2x128_si256(lo, hi, 0x20));
            _mm256_storeu_si256(out.as_mut_ptr().add(NR) as *mut __m256i, _mm256_permute2x128_si256(lo, hi, 0x31));
        }
    }

    /// The even codes of `src` into `dst`, 16 at a time while a 32-byte load fits in `src`;
    /// returns how many were written.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) unsafe fn gather_stride2(src: &[i8], dst: &mut [i8]) -> usize {
        // per 128-bit lane, its 8 even bytes into the low half
        let even = _mm256_setr_epi8(
            0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1, 0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1,
        );
        let mut i = 0;
        while i + 16 <= dst.len() && 2 * i + 32 <= src.len() {
            // SAFETY: bytes 2i..2i+32 of `src` and i..i+16 of `dst` are in bounds (the loop test).
            unsafe {
                let v = _mm256_shuffle_epi8(_mm256_loadu_si256(src.as_ptr().add(2 * i) as *const __m256i), even);
                let packed = _mm256_permute4x64_epi64(v, 0b00_00_10_00);
                _mm_storeu_si128(dst.as_mut_ptr().add(i) as *mut __m128i, _mm256_castsi256_si128(packed));
            }
            i += 16;
        }
        i
    }

    /// The AVX2 tile: 12 accumulators (6 rows × 2 vectors of 8 columns).
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) unsafe fn tile(a: &[i32], b: &[i16], kp: usize, acc: &mut Tile) {
        let mut c = [[_mm256_setzero_si256(); 2]; MR];
        let (mut pa, mut pb) = (a.as_ptr(), b.as_ptr());
        for _ in 0..kp {
            // SAFETY (whole loop): the caller checked a.len() = kp·MR and b.len() = kp·NR·2.
            unsafe {
                let b0 = _mm256_loadu_si256(pb as *const __m256i);
                let b1 = _mm256_loadu_si256(pb.add(NR) as *const __m256i);
                for (r, cr) in c.iter_mut().enumerate() {
                    let w = _mm256_set1_epi32(*pa.add(r));
                    cr[0] = _mm256_add_epi32(cr[0], _mm256_madd_epi16(b0, w));
                    cr[1] = _mm256_add_epi32(cr[1], _mm256_madd_epi16(b1, w));
                }
                pa = pa.add(MR);
                pb = pb.add(NR * 2);
            }
        }
        for (r, cr) in c.iter().enumerate() {
            // SAFETY: each row of `acc` holds NR = 16 i32, two vectors.
            unsafe {
                _mm256_storeu_si256(acc[r].as_mut_ptr() as *mut __m256i, cr[0]);
                _mm256_storeu_si256(acc[r].as_mut_ptr().add(8) as *mut __m256i, cr[1]);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512_vnni {
    use std::arch::x86_64::*;

    use super::{MR, NR, Tile};

    /// The VNNI tile: 6 accumulators (a row of [`NR`] = 16 columns is one 512-bit vector), each
    /// step one `vpdpwssd` per row: `acc[r][j] += a_lo·b[2j] + a_hi·b[2j + 1]`, wrapping.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    #[inline]
    pub(super) unsafe fn tile(a: &[i32], b: &[i16], kp: usize, acc: &mut Tile) {
        let mut c = [_mm512_setzero_si512(); MR];
        let (mut pa, mut pb) = (a.as_ptr(), b.as_ptr());
        for _ in 0..kp {
            // SAFETY (whole loop): the caller checked a.len() = kp·MR and b.len() = kp·NR·2.
            unsafe {
                let lanes = _mm512_loadu_si512(pb as *const __m512i);
                for (r, cr) in c.iter_mut().enumerate() {
                    *cr = _mm512_dpwssd_epi32(*cr, _mm512_set1_epi32(*pa.add(r)), lanes);
                }
                pa = pa.add(MR);
                pb = pb.add(NR * 2);
            }
        }
        for (r, cr) in c.iter().enumerate() {
            // SAFETY: each row of `acc` holds NR = 16 i32, one vector.
            unsafe { _mm512_storeu_si512(acc[r].as_mut_ptr() as *mut __m512i, *cr) };
        }
    }
}

/// Pairs of `k` for a reduction of length `k`.
pub(crate) fn pairs(k: usize) -> usize {
    k.div_ceil(2)
}

/// The broadcast side of a GEMM: `rows × k` values packed in blocks of [`MR`] rows (see the
/// module docs).
#[derive(Debug, Clone, Default)]
pub(crate) struct Broadcast {
    /// Blocks of `pairs(k) · MR` i32 pairs.
    pub(crate) data: Vec<i32>,
    /// Pairs of `k`.
    pub(crate) kp: usize,
    /// Rows.
    pub(crate) rows: usize,
}

impl Broadcast {
    /// Pack `rows × k` values given by `at(i, k)`.
    pub(crate) fn pack(rows: usize, k: usize, at: impl Fn(usize, usize) -> i16) -> Broadcast {
        let kp = pairs(k);
        let blocks = rows.div_ceil(MR);
        let mut data = vec![0i32; blocks * kp * MR];
        for i in 0..rows {
            let (blk, r) = (i / MR, i % MR);
            let base = blk * kp * MR;
            for p in 0..kp {
                let lo = at(i, 2 * p) as u16 as u32;
                let hi = if 2 * p + 1 < k { at(i, 2 * p + 1) as u16 as u32 } else { 0 };
                data[base + p * MR + r] = (lo | hi << 16) as i32;
            }
        }
        Broadcast { data, kp, rows }
    }

    /// Pack the rows of a row-major int8 matrix `rows × k`.
    pub(crate) fn pack_rows_i8(x: &[i8], rows: usize, k: usize) -> Broadcast {
        Broadcast::pack(rows, k, |i, j| x[i * k + j] as i16)
    }

    /// Block `b` (rows `b·MR..`).
    pub(crate) fn block(&self, b: usize) -> &[i32] {
        &self.data[b * self.kp * MR..(b + 1) * self.kp * MR]
    }

    /// Number of row blocks.
    pub(crate) fn blocks(&self) -> usize {
        self.rows.div_ceil(MR)
    }
}

/// The lane side of a GEMM: `k × cols` values packed in blocks of [`NR`] columns (see the
/// module docs).
#[derive(Debug, Clone, Default)]
pub(crate) struct Lanes {
    /// Blocks of `pairs(k) · NR · 2` values.
    pub(crate) data: Vec<i16>,
    /// Pairs of `k`.
    pub(crate) kp: usize,
    /// Columns.
    pub(crate) cols: usize,
}

impl Lanes {
    /// Pack `k × cols` values given by `at(k, j)`.
    pub(crate) fn pack(k: usize, cols: usize, at: impl Fn(usize, usize) -> i16) -> Lanes {
        let kp = pairs(k);
        let blocks = cols.div_ceil(NR);
        let mut data = vec![0i16; blocks * kp * NR * 2];
        for j in 0..cols {
            let (blk, c) = (j / NR, j % NR);
            let base = blk * kp * NR * 2;
            for kk in 0..k {
                data[base + (kk / 2) * NR * 2 + c * 2 + kk % 2] = at(kk, j);
            }
        }
        Lanes { data, kp, cols }
    }

    /// Block `b` (columns `b·NR..`).
    pub(crate) fn block(&self, b: usize) -> &[i16] {
        &self.data[b * self.kp * NR * 2..(b + 1) * self.kp * NR * 2]
    }

    /// Number of column blocks.
    pub(crate) fn blocks(&self) -> usize {
        self.cols.div_ceil(NR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xorshift(s: &mut u64) -> u64 {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        *s
    }

    #[test]
    fn every_kernel_gathers_stride_two() {
        for (n, extra) in [(0usize, 1usize), (1, 0), (15, 0), (16, 0), (17, 1), (40, 0), (100, 7)] {
            let src: Vec<i8> = (0..(2 * n).saturating_sub(1) + extra).map(|i| (i * 37 % 256) as u8 as i8).collect();
            let want: Vec<i8> = (0..n).map(|i| src[2 * i]).collect();
            for kernel in Kernel::available() {
                let mut got = vec![0i8; n];
                kernel.gather_stride2(&src, &mut got);
                assert_eq!(got, want, "{kernel:?} n {n}");
            }
        }
    }

    #[test]
    fn every_kernel_computes_the_exact_product() {
        let mut s = 0x1234_5678_9abc_def1u64;
        for (m, n, k) in [(1, 1, 1), (6, 16, 2), (7, 17, 3), (13, 40, 129), (2, 3, 1000)] {
            let a: Vec<i16> = (0..m * k).map(|_| (xorshift(&mut s) % 257) as i16 - 128).collect();
            let b: Vec<i16> = (0..k * n).map(|_| (xorshift(&mut s) % 257) as i16 - 128).collect();
            let pa = Broadcast::pack(m, k, |i, kk| a[i * k + kk]);
            let pb = Lanes::pack(k, n, |kk, j| b[kk * n + j]);
            for kernel in Kernel::available() {
                let mut got = vec![0i32; m * n];
                for jb in 0..pb.blocks() {
                    for ib in 0..pa.blocks() {
                        let mut t = [[0; NR]; MR];
                        kernel.tile(pa.block(ib), pb.block(jb), &mut t);
                        for (r, row) in t.iter().enumerate() {
                            for (c, v) in row.iter().enumerate() {
                                let (i, j) = (ib * MR + r, jb * NR + c);
                                if i < m && j < n {
                                    got[i * n + j] = *v;
                                }
                            }
                        }
                    }
                }
                let want: Vec<i32> =
                    (0..m * n).map(|ij| (0..k).map(|kk| a[ij / n * k + kk] as i32 * b[kk * n + ij % n] as i32).sum()).collect();
                assert_eq!(got, want, "{kernel:?} {m}x{n}x{k}");
            }
        }
    }
}

#[cfg(test)]
mod speed {
    use super::*;

    /// Timing probe, not a check: the tile kernel alone on cache-resident operands, its peak
    /// MAC rate on this CPU (`cargo test -p solidml-jit --lib tile_peak -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn tile_peak() {
        for kp in [512usize, 256, 128, 64, 32, 512, 128] {
            let a = vec![0x0003_0002i32; kp * MR];
            let b = vec![3i16; kp * NR * 2];
            let mut t = [[0; NR]; MR];
            let kernel = Kernel::detect();
            let reps = (1usize << 28) / (kp * MR * NR * 2);
            let start = std::time::Instant::now();
            for _ in 0..reps {
                kernel.tile(std::hint::black_box(&a), std::hint::black_box(&b), &mut t);
                std::hint::black_box(&t);
            }
            let s = start.elapsed().as_secs_f64();
            let macs = (reps * kp * 2 * MR * NR) as f64;
            eprintln!("kp {kp}: {:.1} GMAC/s", macs / s / 1e9);
        }
    }
}
