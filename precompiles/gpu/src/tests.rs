//! Unit tests: the WGSL primitives (`shaders/arith.wgsl`) against `solidml_spec::arith` on
//! edge and random values, through the test-only `shaders/arith_test.wgsl`; every shader
//! compiles in both dot modes; the pipeline cache. Without an adapter they fail, naming
//! `scripts/vulkan-env.sh`, unless `SOLIDML_SKIP` lists `gpu` (the rule of the workspace's
//! `tests/skip.rs`, which this crate cannot use).

use solidml_spec::arith::{self, Multiplier};
use wgpu::util::DeviceExt;

use crate::shaders::{self, Shader};
use crate::{GpuContext, GpuError};

/// `arith_test.wgsl`: the `arith.wgsl` primitives element-wise, checked against
/// `solidml_spec::arith`.
const ARITH_TEST: Shader = crate::shader!("arith_test", false);

/// A context; `None` (skipped) when `SOLIDML_SKIP` lists `gpu`; no adapter fails the test.
pub(crate) fn context() -> Option<GpuContext> {
    let keys = std::env::var("SOLIDML_SKIP").unwrap_or_default();
    if keys.split(',').any(|k| k.trim() == "gpu") {
        eprintln!("SKIPPED: SOLIDML_SKIP lists `gpu`");
        return None;
    }
    match GpuContext::new() {
        Ok(c) => Some(c),
        Err(e @ GpuError::NoAdapter { .. }) => {
            panic!("{e}: install a Vulkan device with `bash scripts/vulkan-env.sh`, or set SOLIDML_SKIP=gpu to skip the GPU tests")
        }
        Err(e) => panic!("{e}"),
    }
}

/// Run one test entry point over `n` elements; returns `out_words` words of the output.
fn run_raw(ctx: &GpuContext, entry: &'static str, n: usize, in0: &[u32], in1: &[u32], out_words: usize) -> Vec<u32> {
    let dev = &ctx.device;
    let init = |label, words: &[u32], usage| {
        dev.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::cast_slice(if words.is_empty() { &[0u32; 4][..] } else { words }),
            usage,
        })
    };
    let params = init("params", &[n as u32], wgpu::BufferUsages::STORAGE);
    let a = init("in0", in0, wgpu::BufferUsages::STORAGE);
    let b = init("in1", in1, wgpu::BufferUsages::STORAGE);
    let dummy = init("dummy", &[0; 4], wgpu::BufferUsages::STORAGE);
    let status = init("status", &[0; 4], wgpu::BufferUsages::STORAGE);
    let scratch = init("scratch", &[0; 4], wgpu::BufferUsages::STORAGE);
    let bytes = (out_words * 4) as u64;
    let out = dev.create_buffer(&wgpu::BufferDescriptor {
        label: Some("out"),
        size: bytes,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let rb = dev.create_buffer(&wgpu::BufferDescriptor {
        label: Some("rb"),
        size: bytes,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let pipeline = ctx.pipeline(ARITH_TEST, entry, false).unwrap();
    let bufs = [
        (shaders::PARAMS, &params),
        (shaders::OUT, &out),
        (shaders::IN0, &a),
        (shaders::IN1, &b),
        (shaders::DATA, &dummy),
        (shaders::STATUS, &status),
        (shaders::SCRATCH, &scratch),
    ];
    let entries: Vec<wgpu::BindGroupEntry<'_>> =
        bufs.iter().map(|(i, b)| wgpu::BindGroupEntry { binding: *i, resource: b.as_entire_binding() }).collect();
    let bg = dev.create_bind_group(&wgpu::BindGroupDescriptor { label: None, layout: &ctx.layout, entries: &entries });
    let mut enc = dev.create_command_encoder(&Default::default());
    {
        let mut pass = enc.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bg, &[]);
        let groups = (n as u32).div_ceil(64);
        pass.dispatch_workgroups(groups.min(65535), groups.div_ceil(65535), 1);
    }
    enc.copy_buffer_to_buffer(&out, 0, &rb, 0, bytes);
    ctx.queue.submit([enc.finish()]);
    rb.slice(..).map_async(wgpu::MapMode::Read, |r| r.unwrap());
    dev.poll(wgpu::PollType::wait_indefinitely()).unwrap();

    bytemuck::cast_slice(&rb.slice(..).get_mapped_range().unwrap()).to_vec()
}

/// xorshift64 for test values.
pub(crate) struct Rng(pub u64);
impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// A "interesting" i32: edges, small values, powers of two ± 1, or uniform.
    fn i32(&mut self) -> i32 {
        const EDGE: [i32; 12] =
            [i32::MIN, i32::MIN + 1, -(1 << 30), -(1 << 30) - 1, -1, 0, 1, 2, (1 << 30) - 1, 1 << 30, i32::MAX - 1, i32::MAX];
        match self.next() % 5 {
            0 => EDGE[(self.next() % EDGE.len() as u64) as usize],
            1 => (self.next() % 2001) as i32 - 1000,
            2 => {
                let p = 1i64 << (self.next() % 31);
                (p + (self.next() % 3) as i64 - 1) as i32 * if self.next().is_multiple_of(2) { 1 } else { -1 }
            }
            _ => self.next() as i32,
        }
    }
}

const N: usize = 1 << 16;

#[test]
fn srdhm_matches_the_spec() {
    let Some(ctx) = context() else { return };
    let mut r = Rng(0x1234_5678_9abc_def1);
    let mut a: Vec<i32> = (0..N).map(|_| r.i32()).collect();
    let mut b: Vec<i32> = (0..N).map(|_| r.i32()).collect();
    // the saturating case and its neighbours
    a[..4].copy_from_slice(&[i32::MIN, i32::MIN, i32::MIN + 1, i32::MAX]);
    b[..4].copy_from_slice(&[i32::MIN, i32::MIN + 1, i32::MIN, i32::MIN]);
    // rounding ties: a·b + 2^30 ≡ −1, 0, +1 (mod 2^31), via the inverse of an odd a mod 2^32
    for i in 4..N / 4 {
        let ai = (r.next() as u32) | 1;
        let mut inv = ai;
        for _ in 0..5 {
            inv = inv.wrapping_mul(2u32.wrapping_sub(ai.wrapping_mul(inv)));
        }
        let t = ((1u32 << 30) - 1 + (i % 3) as u32) & 0x7fff_ffff;
        let bi = t.wrapping_mul(inv) & 0x7fff_ffff;
        a[i] = ai as i32;
        b[i] = if r.next().is_multiple_of(2) { bi as i32 } else { (bi as i64 - (1i64 << 31)) as i32 };
        assert_eq!(((a[i] as i64 * b[i] as i64).rem_euclid(1 << 31)) as u32, t);
    }
    let out = run_raw(&ctx, "srdhm_test", N, bytemuck::cast_slice(&a), bytemuck::cast_slice(&b), N);
    for i in 0..N {
        assert_eq!(out[i] as i32, arith::saturating_rounding_doubling_high_mul(a[i], b[i]), "srdhm({}, {})", a[i], b[i]);
    }
}

#[test]
fn rdbpot_matches_the_spec() {
    let Some(ctx) = context() else { return };
    let mut r = Rng(0x0bad_cafe_f00d_0001);
    let e: Vec<u32> = (0..N).map(|i| if i < 64 { (i % 32) as u32 } else { (r.next() % 32) as u32 }).collect();
    // a quarter are exact halves ± 1 (the rounding ties)
    let x: Vec<i32> = (0..N)
        .map(|i| {
            if i % 4 == 0 && e[i] > 0 {
                let half = 1i64 << (e[i] - 1);
                ((((r.next() as i32 as i64) >> e[i]) << e[i]) + half + (i % 3) as i64 - 1) as i32
            } else {
                r.i32()
            }
        })
        .collect();
    let out = run_raw(&ctx, "rdbpot_test", N, bytemuck::cast_slice(&x), &e, N);
    for i in 0..N {
        assert_eq!(out[i] as i32, arith::rounding_divide_by_pot(x[i], e[i]), "rdbpot({}, {})", x[i], e[i]);
    }
}

#[test]
fn requantize_matches_the_spec() {
    let Some(ctx) = context() else { return };
    let mut r = Rng(0x5151_7272_9393_abab);
    let x: Vec<i32> = (0..N).map(|_| r.i32()).collect();
    let m: Vec<Multiplier> = (0..N)
        .map(|_| {
            let mult = match r.next() % 4 {
                0 => 0,
                1 => [1 << 30, i32::MAX, (1 << 30) + 1][(r.next() % 3) as usize],
                _ => (1 << 30) + (r.next() % (1 << 30)) as i32,
            };
            let shift = (r.next() % 62) as i32 - 31;
            Multiplier { multiplier: mult, shift }
        })
        .collect();
    let mw: Vec<u32> = m.iter().flat_map(|m| [m.multiplier as u32, m.shift as u32]).collect();
    let out = run_raw(&ctx, "requantize_test", N, bytemuck::cast_slice(&x), &mw, N);
    for i in 0..N {
        assert!(m[i].is_valid());
        assert_eq!(out[i] as i32, arith::requantize(x[i], m[i]), "requantize({}, {:?})", x[i], m[i]);
    }
}

#[test]
fn i32_helpers_match_the_spec() {
    let Some(ctx) = context() else { return };
    let mut r = Rng(0x7777_1111_2222_3333);
    let a: Vec<i32> = (0..N).map(|_| r.i32()).collect();
    let b: Vec<i32> = (0..N).map(|i| if i % 2 == 0 { (r.next() % 1000) as i32 + 1 } else { r.i32() }).collect();
    let out = run_raw(&ctx, "i32_test", N, bytemuck::cast_slice(&a), bytemuck::cast_slice(&b), 2 * N);
    for i in 0..N {
        let d = b[i].max(1);
        assert_eq!(out[2 * i] as i32 as i64, arith::div_round_half_away(a[i] as i64, d as i64), "div({}, {d})", a[i]);
        assert_eq!(out[2 * i + 1] as i32, a[i].saturating_add(b[i]), "sat_add({}, {})", a[i], b[i]);
    }
}

#[test]
fn i64_division_and_isqrt_match_the_spec() {
    let Some(ctx) = context() else { return };
    let mut r = Rng(0x4242_4242_0000_0001);
    let n = 1 << 14;
    let a: Vec<i64> = (0..n)
        .map(|i| match i % 4 {
            0 => r.next() as i64 >> (r.next() % 63),
            1 => -((r.next() >> 1) as i64 >> (r.next() % 62)),
            2 => (r.next() % 2001) as i64 - 1000,
            _ => [i64::MIN + 1, i64::MAX, -(1 << 62), 1 << 62][(r.next() % 4) as usize],
        })
        .collect();
    let b: Vec<i64> = (0..n).map(|_| ((r.next() >> 1) as i64 >> (r.next() % 62)).clamp(1, (1 << 62) - 1)).collect();
    let w = |v: &[i64]| -> Vec<u32> { v.iter().flat_map(|&x| [x as u32, (x as u64 >> 32) as u32]).collect() };
    let out = run_raw(&ctx, "div_test", n, &w(&a), &w(&b), 2 * n);
    for i in 0..n {
        let got = (out[2 * i] as u64 | (out[2 * i + 1] as u64) << 32) as i64;
        assert_eq!(got, arith::div_round_half_away(a[i], b[i]), "div({}, {})", a[i], b[i]);
    }
    let s: Vec<u64> = (0..n).map(|i| if i < 4 { [0, 1, u64::MAX >> 11, (1 << 54) - 1][i] } else { r.next() >> (r.next() % 64) }).collect();
    let out = run_raw(&ctx, "isqrt_test", n, &w(&s.iter().map(|&x| x as i64).collect::<Vec<_>>()), &[], n);
    for i in 0..n {
        assert_eq!(out[i] as u64, s[i].isqrt(), "isqrt({})", s[i]);
    }
}

#[test]
fn every_shader_compiles_in_both_dot_modes_and_pipelines_are_cached() {
    let Some(ctx) = context() else { return };
    for shader in shaders::all() {
        let src = shaders::source(shader, false);
        let entries: Vec<&'static str> = ["main", "pack", "report", "check", "stats", "max_pool", "avg_pool", "init", "exchange"]
            .into_iter()
            .filter(|e| src.contains(&format!("fn {e}(")))
            .collect();
        assert!(!entries.is_empty(), "{}", shader.name());
        for e in entries {
            ctx.pipeline(shader, e, false).unwrap_or_else(|err| panic!("{}: {err}", shader.name()));
            if shader.uses_dot() && ctx.packed_dot_available() {
                ctx.pipeline(shader, e, true).unwrap_or_else(|err| panic!("{} (packed): {err}", shader.name()));
            }
        }
    }
    let n = ctx.compiled_pipelines();
    ctx.pipeline(crate::ops::dense::DENSE, "main", false).unwrap();
    assert_eq!(ctx.compiled_pipelines(), n, "a cached pipeline was compiled again");
}
