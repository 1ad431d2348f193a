//! Print the adapter and time an int8 GEMM as one Dense node in both dot-product modes:
//! `cargo run --release -p solidml-gpu --example gpu_bench [M N K [runs]]`.

use solidml_gpu::{DotMode, GpuContext, bench};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<u32> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (m, n, k) = match args[..] {
        [m, n, k, ..] => (m, n, k),
        _ => (1024, 1024, 1024),
    };
    let runs = args.get(3).copied().unwrap_or(3);
    for dot in [DotMode::Packed, DotMode::Emulated] {
        let ctx = match GpuContext::with_dot_mode(dot) {
            Ok(c) => c,
            Err(e) => {
                println!("{dot:?}: {e}");
                continue;
            }
        };
        println!("adapter: {}", ctx.adapter());
        let r = bench::bench_gemm(&ctx, m, n, k, runs)?;
        println!(
            "{dot:?}: int8 GEMM {m}x{n}x{k}: mean {:.2} ms (min {:.2}, prepare {:.2} ms), {:.3} GMAC/s",
            r.mean.as_secs_f64() * 1e3,
            r.min.as_secs_f64() * 1e3,
            r.prepare.as_secs_f64() * 1e3,
            r.macs_per_sec / 1e9
        );
    }
    Ok(())
}
