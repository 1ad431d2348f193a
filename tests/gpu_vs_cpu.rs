//! The GPU executor (`solidml-gpu`, WGSL on wgpu/Vulkan) against the spec and the CPU
//! reference, byte for byte:
//!
//! 1. every case of every `docs/spec/vectors/*.json` file replayed from its artifact (outputs,
//!    or the run-time error a case expects);
//! 2. every example model (`examples/models`, compiled as tests/examples.rs does) on a batch
//!    of evaluation inputs, GPU outputs equal to CPU outputs;
//! 3. randomized valid spec models over every op (`random_spec.rs`), equal outputs, or equal
//!    errors where the CPU fails at run time;
//! 4. DenseWide at the edges of its contract (multipliers, accumulators near ±2^62, int16
//!    extremes, long rows), equal outputs.
//!
//! GEMM-like kernels run in both dot-product modes where `dot4I8Packed` is available.
//! Without a GPU adapter the tests fail (`bash scripts/vulkan-env.sh` installs lavapipe), unless
//! `SOLIDML_SKIP` lists `gpu` (support's `require_gpu`). `SOLIDML_GPU_RANDOM_MODELS=n` changes
//! the number of random models (default 1200).

use std::collections::HashMap;

use solidml_compiler::{CompileOptions, runner};
use solidml_cpu::CpuExecutor;
use solidml_exec::Value;
use solidml_gpu::{DotMode, GpuContext, GpuExecutor};
use solidml_tests::random_spec::{OpKind, random_inputs, random_model};
use solidml_tests::*;

/// The dot-product modes to exercise on this context.
fn modes(ctx: &GpuContext) -> Vec<DotMode> {
    if ctx.packed_dot_available() { vec![DotMode::Packed, DotMode::Emulated] } else { vec![DotMode::Emulated] }
}

#[test]
fn spec_vectors_replay_on_the_gpu() {
    let Some(ctx) = require_gpu() else { return };
    let modes = modes(ctx);
    let (mut ran, mut runs, mut errors) = (vec![], 0, 0);
    for (op, path, _) in spec_vector_files() {
        let mut cases = 0;
        for VectorCase { name, model, inputs, expected } in vector_cases(&path) {
            for &mode in &modes {
                let exec = GpuExecutor::with_dot_mode(ctx, &model, mode).unwrap_or_else(|e| panic!("{name} ({mode:?}): {e}"));
                // a run-time error must be the CPU's ExecError, the same text
                let got = exec.run(&inputs).map_err(|e| {
                    let text = e.to_string();
                    e.into_exec_error().map_or_else(|| format!("a GPU failure, not a spec error: {text}"), |e| e.to_string())
                });
                if expected.check(&format!("{name} on the GPU ({mode:?})"), got) {
                    errors += 1;
                }
                runs += 1;
            }
            cases += 1;
        }
        ran.push((op, cases));
    }
    let cases: usize = ran.iter().map(|r| r.1).sum();
    eprintln!(
        "spec vectors: {cases} cases from {} files replayed on the GPU ({runs} runs in {modes:?}, {errors} of them equal run-time errors) — all equal",
        ran.len()
    );
    // every file, every case, in every mode
    assert_eq!(ran, SPEC_VECTORS, "spec vector cases replayed on the GPU, per file");
    assert_eq!(runs, cases * modes.len());
}

#[test]
fn example_models_match_the_cpu() {
    let Some(ctx) = require_gpu() else { return };
    // (model, calibration data or none for a prescribed QDQ model, evaluation inputs)
    let models: &[(&str, Option<&str>, &str)] = &[
        ("digits_mlp.onnx", Some("digits_calib.npy"), "digits_eval.npy"),
        ("digits_logreg.onnx", Some("digits_calib.npy"), "digits_eval.npy"),
        ("digits_logreg_ovr.onnx", Some("digits_calib.npy"), "digits_eval.npy"),
        ("digits_cnn.onnx", Some("digits_cnn_calib.npy"), "digits_cnn_eval.npy"),
        ("digits_cnn_qdq.onnx", None, "digits_cnn_eval.npy"),
    ];
    const BATCH: usize = 48;
    let mut compared = 0;
    for &(file, calib, eval_data) in models {
        let mut opts = CompileOptions::default();
        if let Some(c) = calib {
            opts = opts.with_calibration(vec![npy_f32(c)]);
        }
        let compiled = solidml_compiler::compile(&examples().join(file), &opts).unwrap();
        let model = &compiled.model;
        let shapes = runner::input_shapes(model);
        let samples = runner::samples(&shapes, &[npy_f32(eval_data)]).unwrap();
        let cpu = CpuExecutor::new(model).unwrap();
        for mode in modes(ctx) {
            let exec = GpuExecutor::with_dot_mode(ctx, model, mode).unwrap();
            for (i, s) in samples.iter().take(BATCH).enumerate() {
                let inputs: Vec<Value> = s.iter().enumerate().map(|(j, x)| runner::quantize_input(model, j, x)).collect();
                let want = cpu.run(&inputs).unwrap();
                let got = exec.run(&inputs).unwrap_or_else(|e| panic!("{file} sample {i} ({mode:?}): {e}"));
                assert_eq!(got, want, "{file} sample {i} ({mode:?})");
                compared += 1;
            }
        }
        let ops: Vec<&str> = model.nodes.iter().map(|n| n.op.kind()).collect();
        eprintln!("{file}: {} nodes {ops:?}: GPU = CPU on {} samples", model.nodes.len(), BATCH.min(samples.len()));
    }
    eprintln!("example models: {} models, {compared} runs compared byte for byte", models.len());
    assert_eq!(compared, models.len() * BATCH * modes(ctx).len(), "every model on {BATCH} samples in every mode");
}

#[test]
fn random_spec_models_match_the_cpu() {
    let Some(ctx) = require_gpu() else { return };
    let n: usize = std::env::var("SOLIDML_GPU_RANDOM_MODELS").ok().and_then(|v| v.parse().ok()).unwrap_or(1200);
    let modes = modes(ctx);
    let mut coverage: HashMap<OpKind, usize> = HashMap::new();
    let (mut ok, mut errors) = (0, 0);
    let mut failing: HashMap<&'static str, usize> = HashMap::new();
    for i in 0..n {
        let mut rng = Rng(0x9e37_79b9 ^ (i as u32).wrapping_mul(0x85eb_ca6b) | 1);
        let model = random_model(&mut rng, OpKind::ALL);
        let inputs = random_inputs(&mut rng, &model);
        for node in &model.nodes {
            *coverage.entry(OpKind::of(&node.op)).or_default() += 1;
        }
        let mode = modes[i % modes.len()];
        let cpu = CpuExecutor::new(&model).unwrap().run(&inputs);
        let gpu = GpuExecutor::with_dot_mode(ctx, &model, mode).and_then(|e| e.run(&inputs));
        let same = match (&cpu, gpu) {
            (Ok(a), Ok(b)) => {
                ok += 1;
                *a == b
            }
            (Err(a), Err(b)) => {
                errors += 1;
                let kind = model.nodes.iter().find(|n| a.to_string().contains(&format!("`{}`", n.name))).map_or("?", |n| n.op.kind());
                *failing.entry(kind).or_default() += 1;
                b.into_exec_error().as_ref() == Some(a)
            }
            (Ok(_), Err(b)) => {
                panic!("model {i} ({mode:?}): the GPU failed where the CPU did not: {b}\n{}", serde_json::to_string(&model).unwrap())
            }
            (Err(a), Ok(_)) => {
                panic!("model {i} ({mode:?}): the CPU failed ({a}) where the GPU did not\n{}", serde_json::to_string(&model).unwrap())
            }
        };
        if !same {
            let gpu_again = GpuExecutor::with_dot_mode(ctx, &model, mode).and_then(|e| e.run(&inputs));
            panic!(
                "random model {i} ({mode:?}) differs:\nmodel: {}\ninputs: {inputs:?}\ncpu: {cpu:?}\ngpu: {gpu_again:?}",
                serde_json::to_string(&model).unwrap()
            );
        }
    }
    let mut cov: Vec<_> = coverage.iter().map(|(k, v)| (format!("{k:?}"), *v)).collect();
    cov.sort();
    eprintln!(
        "random spec models: {n} models compared ({ok} equal outputs, {errors} equal run-time errors {failing:?}); nodes per op: {cov:?}"
    );
    for k in OpKind::ALL {
        assert!(coverage.get(k).copied().unwrap_or(0) >= 10, "op {k:?} drawn only {:?} times", coverage.get(k));
    }
    if n >= 1000 {
        for op in ["Take", "GatherDynamic", "IntBinary"] {
            assert!(failing.get(op).copied().unwrap_or(0) > 0, "no run-time error of {op} was exercised");
        }
    }
}

#[test]
fn input_errors_match_the_cpu() {
    let Some(ctx) = require_gpu() else { return };
    let mut rng = Rng(42);
    let model = random_model(&mut rng, &[OpKind::Dense]);
    let exec = GpuExecutor::new(ctx, &model).unwrap();
    let cpu = CpuExecutor::new(&model).unwrap();
    let good = random_inputs(&mut rng, &model);
    let wrong_len: Vec<Value> = good.iter().map(|v| Value::I8(vec![0; v.len() + 1])).collect();
    let wrong_type: Vec<Value> = good.iter().map(|v| Value::I64(vec![0; v.len()])).collect();
    for inputs in [&good[..0], &wrong_len[..], &wrong_type[..]] {
        let c = cpu.run(inputs).unwrap_err();
        let g = exec.run(inputs).unwrap_err();
        assert_eq!(g.into_exec_error(), Some(c));
    }
    // an invalid model is rejected as the CPU rejects it
    let mut bad = model.clone();
    bad.outputs.push(999);
    let c = CpuExecutor::new(&bad).err().unwrap();
    let g = GpuExecutor::new(ctx, &bad).err().unwrap();
    assert_eq!(g.into_exec_error(), Some(c));
}

/// The GPU behind the executor interface, as the precompile and `solidml run --backend gpu`
/// use it: one prepared model per modelId, reused, and equal to the CPU reference.
#[test]
fn the_gpu_backend_behind_the_executor_interface_caches_per_model_and_equals_the_cpu() {
    use std::sync::Arc;

    use solidml_cpu::CpuBackend;
    use solidml_exec::{Executor, PreparedCache};
    use solidml_gpu::GpuBackend;

    if require_gpu().is_none() {
        return;
    }
    let gpu = Arc::new(GpuBackend::new().unwrap());
    assert!(gpu.name().starts_with("gpu ("), "{}", gpu.name());
    let cache = PreparedCache::new(gpu);
    let compiled = solidml_compiler::compile(&repo().join("examples/models/digits_logreg.onnx"), &CompileOptions::default()).unwrap();
    let model = Arc::new(compiled.model.clone());
    let cpu = CpuBackend.prepare(model.clone()).unwrap();
    for s in 0..4 {
        let x = [Value::I8((0..64).map(|i| ((i * 7 + s * 13) % 256) as u8 as i8).collect())];
        assert_eq!(cache.run(&compiled.model_id, &model, &x).unwrap(), cpu.run(&x).unwrap());
    }
    assert!(Arc::ptr_eq(&cache.get(&compiled.model_id, &model).unwrap(), &cache.get(&compiled.model_id, &model).unwrap()));
    assert_eq!(cache.len(), 1);
    // an input error is the CPU's error, through the interface too
    let short = [Value::I8(vec![0; 3])];
    assert_eq!(cache.run(&compiled.model_id, &model, &short).unwrap_err(), cpu.run(&short).unwrap_err());
}

/// Kernels that loop over a long axis inside one invocation, at the lengths validation allows:
/// the GPU must still equal the CPU (lavapipe stops a shader's loops after about 65,535
/// iterations in all, which once left the tail of a 2^15-element Softmax lane unwritten).
#[test]
fn long_axes_match_the_cpu() {
    use solidml_spec::{
        Conv, ConvTranspose, CumSum, DType, Dense, Epilogue, InstanceNorm, LogSoftmax, Lrn, MatMul, Model, Node, NormKind, Normalize, Op,
        Pool, Quant, Reduce, ReduceKind, TensorInfo, TopKOutput, arith::Multiplier,
    };
    let Some(ctx) = require_gpu() else { return };
    let q = Quant { scale: 0.05, zero_point: 3 };
    let t = |name: &str, shape: &[u32], q: Quant| TensorInfo { name: name.into(), shape: shape.to_vec(), dtype: DType::I8, quant: Some(q) };
    let single = |op: Op, x: &[u32], y: &[u32], qy: Quant| Model {
        name: "long".into(),
        tensors: vec![t("x", x, q), t("y", y, qy)],
        constants: vec![],
        inputs: vec![0],
        outputs: vec![1],
        nodes: vec![Node { name: "op".into(), op, inputs: vec![0], outputs: vec![1] }],
        input_quant: vec![],
    };
    let m = Multiplier::from_real(0.01);
    let pool = |k: u32| Pool {
        kernel: vec![k, k],
        strides: vec![1, 1],
        dilations: vec![1, 1],
        pads_begin: vec![0, 0],
        pads_end: vec![0, 0],
        count_include_pad: false,
        zero_point: 3,
    };
    let epilogue = |c: usize, m: f64| Epilogue {
        multipliers: vec![Multiplier::from_real(m); c],
        output_zero_point: 2,
        clamp_min: -128,
        clamp_max: 127,
    };
    // weights of ±1 (the accumulator bound holds for any K ≤ 8,421,504)
    let signs = |n: usize| (0..n).map(|i| if (i * 7 + i / 3) % 5 < 2 { -1 } else { 1 }).collect::<Vec<i8>>();
    let dense = |k: u32, nn: u32| Dense {
        in_features: k,
        out_features: nn,
        input_zero_point: 3,
        weights: signs((k * nn) as usize),
        bias: vec![-1000; nn as usize],
        epilogue: epilogue(1, 0.0005),
    };
    let conv = |k: u32, cin: u32, cout: u32| Conv {
        kernel: vec![k, k],
        strides: vec![1, 1],
        dilations: vec![1, 1],
        pads_begin: vec![0, 0],
        pads_end: vec![0, 1],
        groups: 1,
        input_zero_point: 3,
        weights: signs((k * k * cin * cout) as usize),
        bias: vec![77; cout as usize],
        epilogue: epilogue(cout as usize, 0.0005),
    };
    // a 300×300 kernel over a 2×2 input, cropped to the 2×2 centre: 90,000 taps per output
    let conv_transpose = |k: u32, cin: u32, cout: u32| ConvTranspose {
        kernel: vec![k, k],
        strides: vec![1, 1],
        dilations: vec![1, 1],
        pads_begin: vec![k / 2, k / 2],
        pads_end: vec![k / 2 - 1, k / 2 - 1],
        output_padding: vec![0, 0],
        groups: 1,
        input_zero_point: 3,
        weights: signs((k * k * cin * cout) as usize),
        bias: vec![-5; cout as usize],
        // 12 taps land on each output: a larger multiplier
        epilogue: epilogue(cout as usize, 0.1),
    };
    let log_softmax = |axis: u32| LogSoftmax {
        axis,
        exp_table: (0..256).map(|d| (65536.0 * (-(d as f64) * 0.05).exp()).round() as u32).collect(),
        ln_table: (0..256).map(|i| (65536.0 * (1.0 + i as f64 / 256.0).ln()).round() as i32).collect(),
        input_scale_q16: (0.05f64 * 65536.0).round() as i32,
        multiplier: Multiplier::from_real(1.0 / (65536.0 * 0.0625)),
        output_zero_point: 127,
    };
    let lrn = |size: u32| Lrn {
        size,
        input_zero_point: 3,
        output_zero_point: -2,
        sum_shift: 12,
        factors: (0..4096).map(|i| (1 << 23) / (i + 1)).collect(),
        multiplier: Multiplier::from_real(0.05 / (65536.0 * 0.05)),
    };
    let matmul = |k: u32| Model {
        name: "long".into(),
        tensors: vec![t("a", &[2, k], q), t("b", &[k, 3], q), t("y", &[2, 3], q)],
        constants: vec![],
        inputs: vec![0, 1],
        outputs: vec![2],
        nodes: vec![Node {
            name: "op".into(),
            op: Op::MatMul(MatMul { a_zero_point: 3, b_zero_point: 3, multiplier: Multiplier::from_real(0.00001), output_zero_point: 0 }),
            inputs: vec![0, 1],
            outputs: vec![2],
        }],
        input_quant: vec![],
    };
    let arg_max = |select_last_index: bool| Model {
        tensors: vec![t("x", &[2, 200_000], q), TensorInfo { name: "y".into(), shape: vec![2, 1], dtype: DType::I64, quant: None }],
        ..single(Op::ArgMax { axis: 1, select_last_index }, &[2, 200_000], &[2, 1], q)
    };
    // a bitonic sort of lanes padded to a power of two (2^17, 2^13): no loop, many passes
    let top_k = |axis: u32, k: u32, largest: bool, output: TopKOutput, x: &[u32], y: &[u32]| {
        let yt = match output {
            TopKOutput::Values => t("y", y, q),
            TopKOutput::Indices => TensorInfo { name: "y".into(), shape: y.to_vec(), dtype: DType::I64, quant: None },
        };
        Model { tensors: vec![t("x", x, q), yt], ..single(Op::TopK { axis, k, largest, output }, x, y, q) }
    };
    let padded = |count_include_pad: bool| Pool {
        kernel: vec![100, 100],
        strides: vec![1, 1],
        dilations: vec![1, 1],
        pads_begin: vec![3, 3],
        pads_end: vec![2, 2],
        count_include_pad,
        zero_point: 3,
    };
    let cases: Vec<(&str, Model)> = vec![
        (
            "instance_norm_plane_2_pow_16",
            single(
                Op::InstanceNorm(InstanceNorm {
                    input_zero_point: 3,
                    output_zero_point: -5,
                    epsilon_term: 7,
                    gamma_q16: vec![1 << 20],
                    beta_q16: vec![1 << 18],
                }),
                &[1, 1, 256, 256],
                &[1, 1, 256, 256],
                Quant { scale: 0.02, zero_point: -5 },
            ),
        ),
        (
            "normalize_row_2_pow_16",
            single(
                Op::Normalize(Normalize { kind: NormKind::L2, input_zero_point: 3, output_zero_point: 0, scale_log2: 7 }),
                &[1, 1 << 16],
                &[1, 1 << 16],
                Quant { scale: 1.0 / 128.0, zero_point: 0 },
            ),
        ),
        (
            "cum_sum_lane_200k",
            single(
                Op::CumSum(CumSum {
                    axis: 1,
                    exclusive: false,
                    reverse: true,
                    input_zero_point: 3,
                    multiplier: Multiplier::from_real(0.001),
                    output_zero_point: 1,
                }),
                &[1, 200_000],
                &[1, 200_000],
                Quant { scale: 0.05, zero_point: 1 },
            ),
        ),
        (
            "reduce_sum_200k",
            single(
                Op::Reduce(Reduce {
                    kind: ReduceKind::Sum,
                    axes: vec![1],
                    input_zero_point: 3,
                    multiplier: Multiplier::from_real(0.0001),
                    output_zero_point: 0,
                }),
                &[2, 200_000],
                &[2, 1],
                q,
            ),
        ),
        (
            "reduce_max_200k",
            single(
                Op::Reduce(Reduce { kind: ReduceKind::Max, axes: vec![1], input_zero_point: 3, multiplier: m, output_zero_point: 0 }),
                &[2, 200_000],
                &[2, 1],
                q,
            ),
        ),
        // chunked paths off the simplest layout: reduced axes around a kept one, an inner axis,
        // chunk boundaries inside lanes, padding and several outputs per window
        (
            "reduce_mean_axes_0_2",
            single(
                Op::Reduce(Reduce {
                    kind: ReduceKind::Mean,
                    axes: vec![0, 2],
                    input_zero_point: 3,
                    multiplier: Multiplier::from_real(0.9),
                    output_zero_point: 1,
                }),
                &[3, 5, 70_001],
                &[1, 5, 1],
                q,
            ),
        ),
        (
            "reduce_min_axes_0_2",
            single(
                Op::Reduce(Reduce { kind: ReduceKind::Min, axes: vec![0, 2], input_zero_point: 3, multiplier: m, output_zero_point: 0 }),
                &[3, 5, 70_001],
                &[1, 5, 1],
                q,
            ),
        ),
        (
            "cum_sum_exclusive_inner_3",
            single(
                Op::CumSum(CumSum {
                    axis: 1,
                    exclusive: true,
                    reverse: false,
                    input_zero_point: 3,
                    multiplier: Multiplier::from_real(0.01),
                    output_zero_point: -1,
                }),
                &[2, 10_001, 3],
                &[2, 10_001, 3],
                Quant { scale: 0.05, zero_point: -1 },
            ),
        ),
        (
            "normalize_l1_rows_50001",
            single(
                Op::Normalize(Normalize { kind: NormKind::L1, input_zero_point: 3, output_zero_point: 0, scale_log2: 8 }),
                &[3, 50_001],
                &[3, 50_001],
                Quant { scale: 1.0 / 256.0, zero_point: 0 },
            ),
        ),
        (
            "instance_norm_planes_250x250",
            single(
                Op::InstanceNorm(InstanceNorm {
                    input_zero_point: 3,
                    output_zero_point: -5,
                    epsilon_term: 7,
                    gamma_q16: vec![1 << 20, -(1 << 19)],
                    beta_q16: vec![1 << 18, 3 << 16],
                }),
                &[2, 2, 250, 250],
                &[2, 2, 250, 250],
                Quant { scale: 0.02, zero_point: -5 },
            ),
        ),
        ("avg_pool_padded_window_100x100", single(Op::AvgPool(padded(true)), &[1, 2, 120, 110], &[1, 2, 26, 16], q)),
        ("avg_pool_padded_window_100x100_excluding_pad", single(Op::AvgPool(padded(false)), &[1, 2, 120, 110], &[1, 2, 26, 16], q)),
        ("max_pool_padded_window_100x100", single(Op::MaxPool(padded(false)), &[1, 2, 120, 110], &[1, 2, 26, 16], q)),
        ("max_pool_window_300x300", single(Op::MaxPool(pool(300)), &[1, 1, 300, 300], &[1, 1, 1, 1], q)),
        ("avg_pool_window_300x300", single(Op::AvgPool(pool(300)), &[1, 1, 300, 300], &[1, 1, 1, 1], q)),
        ("dense_in_features_300k", single(Op::Dense(dense(300_000, 3)), &[2, 300_000], &[2, 3], q)),
        ("conv_window_40x40_by_64_channels", single(Op::Conv(conv(40, 64, 2)), &[1, 64, 41, 40], &[1, 2, 2, 2], q)),
        // 3 input channels: chunks of the reduction start inside a tap
        ("conv_window_200x200_by_3_channels", single(Op::Conv(conv(200, 3, 2)), &[1, 3, 201, 200], &[1, 2, 2, 2], q)),
        ("conv_transpose_kernel_300x300", single(Op::ConvTranspose(conv_transpose(300, 3, 2)), &[1, 3, 2, 2], &[1, 2, 2, 2], q)),
        (
            "log_softmax_lane_2_pow_14",
            single(Op::LogSoftmax(log_softmax(1)), &[2, 1 << 14], &[2, 1 << 14], Quant { scale: 0.0625, zero_point: 127 }),
        ),
        (
            "log_softmax_axis_0_inner_3",
            single(Op::LogSoftmax(log_softmax(0)), &[5_000, 3], &[5_000, 3], Quant { scale: 0.0625, zero_point: 127 }),
        ),
        ("lrn_size_4096", single(Op::Lrn(lrn(4096)), &[1, 8192, 3], &[1, 8192, 3], q)),
        ("matmul_k_33025", matmul(33_025)),
        ("arg_max_first_lane_200k", arg_max(false)),
        ("arg_max_last_lane_200k", arg_max(true)),
        ("top_k_values_lane_70001", top_k(1, 9, true, TopKOutput::Values, &[2, 70_001], &[2, 9])),
        ("top_k_indices_whole_sort_axis_0_inner_3", top_k(0, 5_000, false, TopKOutput::Indices, &[5_000, 3], &[5_000, 3])),
    ];
    let mut rng = Rng(0x10_9e37);
    let mut wrong = vec![];
    for (name, model) in cases {
        solidml_spec::validate::validate(&model).unwrap_or_else(|e| panic!("{name}: {e}"));
        // the last element is the extreme one, so a loop that stops early shows
        let inputs: Vec<Value> = model
            .inputs
            .iter()
            .map(|&id| {
                let n = model.tensor(id).len();
                let mut x = rng.i8s(n);
                x[n - 1] = 127;
                Value::I8(x)
            })
            .collect();
        let cpu = CpuExecutor::new(&model).unwrap().run(&inputs).unwrap();
        let gpu = GpuExecutor::new(ctx, &model).and_then(|e| e.run(&inputs)).unwrap_or_else(|e| panic!("{name}: {e}"));
        if cpu != gpu {
            let (a, b) = (value_i64(&cpu[0]), value_i64(&gpu[0]));
            let first = a.iter().zip(&b).position(|(x, y)| x != y);
            wrong.push(format!("{name}: first difference at {first:?} of {}", a.len()));
        }
    }
    assert!(wrong.is_empty(), "the GPU differs from the CPU on long axes:\n{}", wrong.join("\n"));
}

/// IntCompare over more output elements than one row of workgroups holds (`[700, 1]` against
/// `[7000]`: 4.9 million, over 65,535 · 64, so the dispatch is two-dimensional), each kind, with
/// operands drawn from a few values (the i64 extremes among them) so that every kind holds and
/// fails. GPU outputs equal the CPU's.
#[test]
fn int_compare_beyond_one_dispatch_row_matches_the_cpu() {
    use solidml_spec::{CompareKind, DType, IntCompare, Model, Node, Op, Quant, TensorInfo};

    let Some(ctx) = require_gpu() else { return };
    let t64 = |name: &str, shape: &[u32]| TensorInfo { name: name.into(), shape: shape.to_vec(), dtype: DType::I64, quant: None };
    let mut rng = Rng(0x1c_0a7e);
    for kind in [CompareKind::Equal, CompareKind::Less, CompareKind::Greater] {
        let model = Model {
            name: "int_compare".into(),
            tensors: vec![
                t64("a", &[700, 1]),
                t64("b", &[7000]),
                TensorInfo {
                    name: "y".into(),
                    shape: vec![700, 7000],
                    dtype: DType::I8,
                    quant: Some(Quant { scale: 1.0 / 255.0, zero_point: -128 }),
                },
            ],
            constants: vec![],
            inputs: vec![0, 1],
            outputs: vec![2],
            nodes: vec![Node {
                name: "op".into(),
                op: Op::IntCompare(IntCompare { kind, true_code: 127, false_code: -128 }),
                inputs: vec![0, 1],
                outputs: vec![2],
            }],
            input_quant: vec![],
        };
        solidml_spec::validate::validate(&model).unwrap();
        let few = [i64::MIN, -(1 << 32), -1, 0, 1, 1 << 32, i64::MAX];
        let inputs: Vec<Value> = [700, 7000]
            .into_iter()
            .map(|n| Value::I64((0..n).map(|_| few[rng.range(0, few.len() as i64 - 1) as usize]).collect()))
            .collect();
        let cpu = CpuExecutor::new(&model).unwrap().run(&inputs).unwrap();
        let gpu = GpuExecutor::new(ctx, &model).and_then(|e| e.run(&inputs)).unwrap();
        assert!(cpu == gpu, "{kind:?}: the GPU differs from the CPU");
    }
}

/// DenseWide where random models rarely go: the extreme multipliers (`{2^31 − 1, 30}`: products
/// near 2^93; `{2^30, −31}`: a 62-bit shift; a zero mantissa), biases at the validated bound
/// (accumulators at ±2^62), int16 inputs at their extremes against zero points at the other end
/// (`x − zp = ±65535` against ±32767 weights), every output type, and rows of 70,000 inputs
/// (the chunked path). GPU outputs equal the CPU's.
#[test]
fn dense_wide_edges_match_the_cpu() {
    use solidml_spec::{DType, DenseWide, Model, Node, Op, Quant, TensorInfo, arith::Multiplier};

    let Some(ctx) = require_gpu() else { return };
    let specials = [
        Multiplier { multiplier: i32::MAX, shift: 30 },
        Multiplier { multiplier: 1 << 30, shift: -31 },
        Multiplier { multiplier: 0, shift: 0 },
        Multiplier { multiplier: 1 << 30, shift: 0 },
        Multiplier { multiplier: i32::MAX, shift: -31 },
    ];
    let model = |d: DenseWide, rows: u32, input: DType, output: DType| {
        let t = |name: &str, shape: Vec<u32>, dtype, zero_point| TensorInfo {
            name: name.into(),
            shape,
            dtype,
            quant: Some(Quant { scale: 0.25, zero_point }),
        };
        Model {
            name: "wide".into(),
            tensors: vec![
                t("x", vec![rows, d.in_features], input, d.input_zero_point),
                t("y", vec![rows, d.out_features], output, d.output_zero_point),
            ],
            constants: vec![],
            inputs: vec![0],
            outputs: vec![1],
            nodes: vec![Node { name: "wide".into(), op: Op::DenseWide(d), inputs: vec![0], outputs: vec![1] }],
            input_quant: vec![],
        }
    };
    let mut rng = Rng(0xd3e5_e1de);
    let (mut compared, mut inside) = (0, 0);
    let mut run = |m: Model, x: Value| {
        let (lo, hi) = match &m.nodes[0].op {
            Op::DenseWide(d) => (d.clamp_min as i64, d.clamp_max as i64),
            _ => unreachable!(),
        };
        let cpu = CpuExecutor::new(&m).unwrap().run(std::slice::from_ref(&x)).unwrap();
        let gpu = GpuExecutor::new(ctx, &m).and_then(|e| e.run(&[x])).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cpu, gpu, "DenseWide differs: {}", serde_json::to_string(&m).unwrap());
        let codes = value_i64(&cpu[0]);
        compared += codes.len();
        inside += codes.iter().filter(|&&c| c > lo && c < hi).count();
    };
    for case in 0..60 {
        let input = if case % 3 == 0 { DType::I8 } else { DType::I16 };
        let output = [DType::I8, DType::I16, DType::I32][case % 3];
        let (ilo, ihi) = input.code_range().unwrap();
        let (olo, ohi) = output.code_range().unwrap();
        let wmax = if case % 2 == 0 { 127 } else { 32767 };
        let (k, n, rows) = (rng.range(1, 24) as usize, rng.range(1, 8) as usize, rng.range(1, 3) as u32);
        let weights: Vec<i16> = (0..k * n)
            .map(|_| if rng.range(0, 1) == 0 { [-wmax, wmax][rng.range(0, 1) as usize] } else { rng.range(-wmax, wmax) } as i16)
            .collect();
        let zp_in = [ilo, ihi, 0][case % 3] as i32;
        let bias: Vec<i64> = (0..n)
            .map(|j| {
                let room = (1i64 << 62) - weights[j * k..(j + 1) * k].iter().map(|&w| (w as i64).abs() * 65535).sum::<i64>();
                match rng.range(0, 3) {
                    0 => room,
                    1 => -room,
                    2 => rng.wide_range(-room, room),
                    _ => rng.range(-100_000, 100_000),
                }
            })
            .collect();
        let multipliers = match (case / 3) % 3 {
            0 => vec![],
            1 => vec![specials[(case / 9) % specials.len()]],
            _ => (0..n).map(|j| specials[(case + j) % specials.len()]).collect(),
        };
        let output_zero_point = [0, olo, ohi][(case / 2) % 3] as i32;
        let d = DenseWide {
            in_features: k as u32,
            out_features: n as u32,
            input_zero_point: zp_in,
            weights,
            bias,
            multipliers,
            output_zero_point,
            clamp_min: olo as i32,
            clamp_max: ohi as i32,
        };
        // codes at both ends of the type, so x − zp reaches ±(2·32768 − 1)
        let codes =
            (0..rows as usize * k).map(|_| if rng.range(0, 2) < 2 { [ilo, ihi][rng.range(0, 1) as usize] } else { rng.range(ilo, ihi) });
        run(model(d, rows, input, output), Value::from_codes(input, codes));
    }
    // long rows: chunks of partial i64 sums
    let k = 70_000usize;
    let d = DenseWide {
        in_features: k as u32,
        out_features: 3,
        input_zero_point: -32768,
        weights: (0..3 * k).map(|i| if i % 3 == 0 { -32767 } else { 32767 }).collect(),
        bias: vec![-(1 << 45), 7, 1 << 44],
        multipliers: vec![Multiplier { multiplier: 1 << 30, shift: -20 }, specials[1], Multiplier { multiplier: i32::MAX, shift: -28 }],
        output_zero_point: -1,
        clamp_min: i32::MIN,
        clamp_max: i32::MAX,
    };
    let x = Value::I16((0..2 * k).map(|i| if i % 5 == 0 { -32768 } else { rng.range(-32768, 32767) as i16 }).collect());
    run(model(d, 2, DType::I16, DType::I32), x);
    eprintln!("DenseWide edges: {compared} outputs equal on the GPU and the CPU ({inside} inside the clamp)");
    assert!(inside * 10 > compared, "too few outputs inside the clamp: {inside} of {compared}");
}
