//! The JIT (`solidml-jit`) against the spec and the CPU reference, byte for byte, with every
//! tile kernel this CPU runs (AVX2 and portable here):
//!
//! 1. every case of every `docs/spec/vectors/*.json` file replayed from its artifact (outputs,
//!    or the run-time error a case expects);
//! 2. every example model on a batch of evaluation inputs;
//! 3. randomized valid spec models over every op (`random_spec.rs`), and more over the ops the
//!    JIT specializes; Conv and Dense also at larger sizes, so tiles have partial edges; and
//!    pools, depthwise convolutions, reductions and element-wise ops at sizes where their
//!    row-wise vector loops and cranelift's max-pool code run (rows of 8 and 16 and more,
//!    strides 1 to 3, padding, dilation), with and without that code;
//! 4. the JIT's own failures: a model with a node it cannot specialize is refused without a
//!    fallback, input errors equal the CPU's.
//!
//! The SqueezeNet-class CNN is compared in imagenet_cnn.rs. `SOLIDML_JIT_RANDOM_MODELS=n`
//! changes the number of random models (default 1200).

use std::{collections::HashMap, sync::Arc};

use solidml_compiler::{CompileOptions, runner};
use solidml_cpu::{CpuBackend, CpuExecutor};
use solidml_exec::{ExecError, Executor, PreparedModel, Value};
use solidml_jit::{JitBackend, Kernel};
use solidml_spec::Model;
use solidml_tests::random_spec::{OpKind, random_inputs, random_model};
use solidml_tests::*;

fn jit(kernel: Kernel) -> JitBackend {
    JitBackend::new().with_kernel(kernel).with_fallback(Arc::new(CpuBackend))
}

fn prepare(kernel: Kernel, model: &Model) -> Result<Arc<dyn PreparedModel>, ExecError> {
    jit(kernel).prepare(Arc::new(model.clone()))
}

#[test]
fn every_kernel_this_cpu_runs_is_exercised() {
    let kernels = Kernel::available();
    assert!(kernels.contains(&Kernel::Portable));
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        assert_eq!(kernels.contains(&Kernel::Avx2), has!("avx2"));
        let vnni = has!("avx2") && has!("avx512f") && has!("avx512bw") && has!("avx512vnni");
        assert_eq!(kernels.contains(&Kernel::Avx512Vnni), vnni);
        assert_eq!(Kernel::detect(), *kernels.last().unwrap(), "the fastest kernel is the default");
    }
}

#[test]
fn spec_vectors_replay_on_the_jit() {
    let kernels = Kernel::available();
    let (mut ran, mut runs, mut errors) = (vec![], 0, 0);
    for (op, path, _) in spec_vector_files() {
        let mut cases = 0;
        for VectorCase { name, model, inputs, expected } in vector_cases(&path) {
            // the JIT specializes exactly the nodes whose op is not on its fallback list
            let on_fallback = model.nodes.iter().filter(|n| !solidml_jit::specializes(&n.op)).count();
            let (specialized, fallback, _) = jit(Kernel::detect()).compile(Arc::new(model.clone())).unwrap().summary();
            assert_eq!((specialized, fallback), (model.nodes.len() - on_fallback, on_fallback), "{name}");
            for &kernel in &kernels {
                let exec = prepare(kernel, &model).unwrap_or_else(|e| panic!("{name} ({kernel:?}): {e}"));
                if expected.check(&format!("{name} on the JIT ({kernel:?})"), exec.run(&inputs).map_err(|e| e.to_string())) {
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
        "spec vectors: {cases} cases from {} files replayed on the JIT ({runs} runs in {kernels:?}, {errors} equal run-time errors)",
        ran.len()
    );
    assert_eq!(ran, SPEC_VECTORS, "spec vector cases replayed on the JIT, per file");
    assert_eq!(runs, cases * kernels.len());
}

#[test]
fn example_models_match_the_cpu() {
    let models: &[(&str, Option<&str>, &str)] = &[
        ("digits_mlp.onnx", Some("digits_calib.npy"), "digits_eval.npy"),
        ("digits_logreg.onnx", Some("digits_calib.npy"), "digits_eval.npy"),
        ("digits_logreg_ovr.onnx", Some("digits_calib.npy"), "digits_eval.npy"),
        ("digits_cnn.onnx", Some("digits_cnn_calib.npy"), "digits_cnn_eval.npy"),
        ("digits_cnn_qdq.onnx", None, "digits_cnn_eval.npy"),
        ("breast_cancer.onnx", Some("breast_cancer_calib.npy"), "breast_cancer_eval.npy"),
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
        let samples = runner::samples(&runner::input_shapes(model), &[npy_f32(eval_data)]).unwrap();
        let cpu = CpuExecutor::new(model).unwrap();
        for kernel in Kernel::available() {
            let jit = jit(kernel).compile(Arc::new(model.clone())).unwrap();
            let (specialized, fallback, _) = jit.summary();
            for (i, s) in samples.iter().take(BATCH).enumerate() {
                let inputs: Vec<Value> = s.iter().enumerate().map(|(j, x)| runner::quantize_input(model, j, x)).collect();
                assert_eq!(jit.run(&inputs).unwrap(), cpu.run(&inputs).unwrap(), "{file} sample {i} ({kernel:?})");
                compared += 1;
            }
            eprintln!("{file} ({kernel:?}): {specialized} nodes specialized, {fallback} on the fallback: JIT = CPU");
        }
    }
    assert_eq!(compared, models.len() * BATCH * Kernel::available().len(), "every model on {BATCH} samples with every kernel");
}

/// Compare `n` random models drawn from `ops` (seeded by `salt`); returns (equal outputs,
/// equal run-time errors, nodes per op).
fn random_models(n: usize, salt: u32, ops: &[OpKind]) -> (usize, usize, HashMap<OpKind, usize>) {
    let kernels = Kernel::available();
    let mut coverage: HashMap<OpKind, usize> = HashMap::new();
    let (mut ok, mut errors) = (0, 0);
    for i in 0..n {
        let mut rng = Rng(salt ^ (i as u32).wrapping_mul(0x85eb_ca6b) | 1);
        let model = random_model(&mut rng, ops);
        let inputs = random_inputs(&mut rng, &model);
        for node in &model.nodes {
            *coverage.entry(OpKind::of(&node.op)).or_default() += 1;
        }
        let kernel = kernels[i % kernels.len()];
        let cpu = CpuExecutor::new(&model).unwrap().run(&inputs);
        let got = prepare(kernel, &model).and_then(|e| e.run(&inputs));
        match (&cpu, &got) {
            (Ok(_), Ok(_)) => ok += 1,
            (Err(_), Err(_)) => errors += 1,
            _ => {}
        }
        assert_eq!(
            got,
            cpu,
            "random model {i} ({kernel:?}) differs:\nmodel: {}\ninputs: {inputs:?}",
            serde_json::to_string(&model).unwrap()
        );
    }
    (ok, errors, coverage)
}

#[test]
fn random_spec_models_match_the_cpu() {
    let n: usize = std::env::var("SOLIDML_JIT_RANDOM_MODELS").ok().and_then(|v| v.parse().ok()).unwrap_or(1200);
    let (ok, errors, coverage) = random_models(n, 0x51d3_11a7, OpKind::ALL);
    eprintln!("random spec models: {n} compared ({ok} equal outputs, {errors} equal run-time errors); nodes per op: {coverage:?}");
    for k in OpKind::ALL {
        assert!(coverage.get(k).copied().unwrap_or(0) >= 10, "op {k:?} drawn only {:?} times", coverage.get(k));
    }
    assert!(errors > 0, "no run-time error was exercised");
}

/// The ops the JIT specializes (not on its fallback list).
const SPECIALIZED: &[OpKind] =
    &[OpKind::Conv, OpKind::Dense, OpKind::MaxPool, OpKind::AvgPool, OpKind::Lut, OpKind::Reduce, OpKind::Concat];

#[test]
fn random_models_of_the_specialized_ops_match_the_cpu() {
    let (ok, _, coverage) = random_models(900, 0x0c0f_fee5, SPECIALIZED);
    eprintln!("random models of the specialized ops: {ok} equal; nodes per op: {coverage:?}");
    for k in SPECIALIZED {
        assert!(coverage.get(k).copied().unwrap_or(0) >= 200, "{k:?}: {coverage:?}");
    }
}

/// Larger layers than the random spec models draw: many output channels and positions, so
/// tiles have partial rows and columns, odd reductions, groups, strides, dilation, padding.
#[test]
fn large_conv_and_dense_layers_match_the_cpu() {
    use solidml_spec::{Conv, DType, Dense, Epilogue, Node, Op, Quant, TensorInfo, arith::Multiplier};
    let mut rng = Rng(0xfeed_beef);
    let t = |name: &str, shape: Vec<u32>| TensorInfo {
        name: name.into(),
        shape,
        dtype: DType::I8,
        quant: Some(Quant { scale: 0.1, zero_point: 0 }),
    };
    let mut checked = 0;
    for case in 0..24 {
        let zp = rng.range(-128, 127) as i32;
        let epilogue = |rng: &mut Rng, ch: usize| Epilogue {
            multipliers: (0..ch).map(|_| Multiplier::from_real(0.0005 + rng.f32() as f64 * 0.01)).collect(),
            output_zero_point: rng.range(-20, 20) as i32,
            clamp_min: -128,
            clamp_max: 127,
        };
        let (op, sin, sout) = if case % 3 == 0 {
            let (rows, k, n) = (rng.range(1, 40) as u32, rng.range(1, 300) as u32, rng.range(1, 70) as u32);
            let d = Dense {
                in_features: k,
                out_features: n,
                input_zero_point: zp,
                weights: rng.i8s((k * n) as usize),
                bias: (0..n).map(|_| rng.range(-50_000, 50_000) as i32).collect(),
                epilogue: epilogue(&mut rng, n as usize),
            };
            (Op::Dense(d), vec![rows, k], vec![rows, n])
        } else {
            let groups = [1, 1, 2, 4][rng.range(0, 3) as usize] as u32;
            let (cin, cout) = (groups * rng.range(1, 9) as u32, groups * rng.range(1, 12) as u32);
            let (kh, kw) = (rng.range(1, 4) as u32, rng.range(1, 4) as u32);
            let (s, dil, pad) = (rng.range(1, 2) as u32, rng.range(1, 2) as u32, rng.range(0, 2) as u32);
            let (h, w) = (rng.range(6, 30) as u32, rng.range(6, 30) as u32);
            let o = |n: u32, k: u32| (n + 2 * pad - dil * (k - 1) - 1) / s + 1;
            let klen = (kh * kw) as usize;
            let c = Conv {
                kernel: vec![kh, kw],
                strides: vec![s, s],
                dilations: vec![dil, dil],
                pads_begin: vec![pad, pad],
                pads_end: vec![pad, pad],
                groups,
                input_zero_point: zp,
                weights: rng.i8s((cout * cin / groups) as usize * klen),
                bias: (0..cout).map(|_| rng.range(-50_000, 50_000) as i32).collect(),
                epilogue: epilogue(&mut rng, if case % 2 == 0 { 1 } else { cout as usize }),
            };
            let batch = rng.range(1, 2) as u32;
            (Op::Conv(c), vec![batch, cin, h, w], vec![batch, cout, o(h, kh), o(w, kw)])
        };
        let n: usize = sin.iter().map(|&d| d as usize).product();
        let model = Model {
            name: format!("large{case}"),
            tensors: vec![t("x", sin), t("y", sout)],
            constants: vec![],
            inputs: vec![0],
            outputs: vec![1],
            nodes: vec![Node { name: "n".into(), op, inputs: vec![0], outputs: vec![1] }],
            input_quant: vec![],
        };
        let x = [Value::I8(rng.i8s(n))];
        let want = CpuExecutor::new(&model).unwrap().run(&x).unwrap();
        for kernel in Kernel::available() {
            let jit = JitBackend::new().with_kernel(kernel).compile(Arc::new(model.clone())).unwrap();
            assert_eq!(jit.summary().0, 1, "case {case}: specialized without a fallback");
            assert_eq!(jit.run(&x).unwrap(), want, "case {case} ({kernel:?}): {}", serde_json::to_string(&model).unwrap());
            checked += 1;
        }
    }
    assert_eq!(checked, 24 * Kernel::available().len());
}

#[test]
fn a_node_it_cannot_specialize_needs_a_fallback_and_input_errors_equal_the_cpu() {
    let mut rng = Rng(42);
    let model = random_model(&mut rng, &[OpKind::Softmax]);
    let err = JitBackend::new().prepare(Arc::new(model.clone())).err().expect("refused");
    assert!(matches!(&err, ExecError::Backend(m) if m.contains("no kernel for Softmax") && m.contains("no fallback")), "{err}");

    let model = random_model(&mut rng, &[OpKind::Dense]);
    let cpu = CpuExecutor::new(&model).unwrap();
    let jit = prepare(Kernel::detect(), &model).unwrap();
    let good = random_inputs(&mut rng, &model);
    let wrong_len: Vec<Value> = good.iter().map(|v| Value::I8(vec![0; v.len() + 1])).collect();
    let wrong_type: Vec<Value> = good.iter().map(|v| Value::I64(vec![0; v.len()])).collect();
    for inputs in [&good[..0], &wrong_len[..], &wrong_type[..]] {
        assert_eq!(jit.run(inputs).unwrap_err(), cpu.run(inputs).unwrap_err());
    }
    // an invalid model is rejected as the CPU rejects it
    let mut bad = model.clone();
    bad.outputs.push(999);
    assert_eq!(prepare(Kernel::detect(), &bad).err().unwrap(), CpuExecutor::new(&bad).err().unwrap());
    // a cap of zero bytes specializes nothing: everything runs on the fallback, still equal
    let capped = JitBackend::new().with_fallback(Arc::new(CpuBackend)).with_max_plan_bytes(0).compile(Arc::new(model.clone())).unwrap();
    assert_eq!(capped.summary().0, 0);
    assert_eq!(capped.run(&good), cpu.run(&good));
}

/// The model cap: past `with_max_model_bytes` of plans, the remaining nodes run on the
/// fallback, with the same outputs.
#[test]
fn the_model_cap_leaves_the_rest_to_the_fallback() {
    let compiled = solidml_compiler::compile(
        &examples().join("digits_mlp.onnx"),
        &CompileOptions::default().with_calibration(vec![npy_f32("digits_calib.npy")]),
    )
    .unwrap();
    let model = Arc::new(compiled.model.clone());
    let full = jit(Kernel::detect()).compile(model.clone()).unwrap();
    let (specialized, _, bytes) = full.summary();
    assert!(specialized >= 3 && bytes > 0, "{:?}", full.summary());
    let capped = jit(Kernel::detect()).with_max_model_bytes(bytes - 1).compile(model.clone()).unwrap();
    let (fewer, more, held) = capped.summary();
    assert!(fewer < specialized && held < bytes && more > full.summary().1, "{:?} vs {:?}", capped.summary(), full.summary());
    let samples = runner::samples(&runner::input_shapes(&model), &[npy_f32("digits_eval.npy")]).unwrap();
    for s in samples.iter().take(16) {
        let x: Vec<Value> = s.iter().enumerate().map(|(j, v)| runner::quantize_input(&model, j, v)).collect();
        assert_eq!(capped.run(&x).unwrap(), full.run(&x).unwrap());
    }
}

/// Pools, depthwise convolutions, reductions and broadcasting element-wise ops large enough for
/// the JIT's row-wise vector loops (output rows of 8 positions and more), with every stride,
/// padding, dilation and broadcast kind.
#[test]
fn large_pools_depthwise_convolutions_reductions_and_binaries_match_the_cpu() {
    use solidml_spec::{Conv, DType, Epilogue, Node, Op, Pool, Quant, Reduce, ReduceKind, TensorInfo, arith::Multiplier};
    let mut rng = Rng(0x5eed_f00d);
    let t = |name: &str, shape: Vec<u32>, zp: i32| TensorInfo {
        name: name.into(),
        shape,
        dtype: DType::I8,
        quant: Some(Quant { scale: 0.1, zero_point: zp }),
    };
    let mut checked = 0;
    for case in 0..120 {
        let zp = rng.range(-128, 127) as i32;
        let (c, h, w) = (rng.range(1, 6) as u32, rng.range(8, 40) as u32, rng.range(8, 40) as u32);
        let (k, s, d) = (rng.range(1, 4) as u32, rng.range(1, 3) as u32, rng.range(1, 2) as u32);
        let pad = rng.range(0, k as i64 - 1) as u32;
        let o = |n: u32| (n + 2 * pad - d * (k - 1) - 1) / s + 1;
        let batch = rng.range(1, 2) as u32;
        let sin = vec![batch, c, h, w];
        let mut extra: Option<Vec<u32>> = None;
        let (op, sout, out_zp) = match case % 4 {
            0 => {
                let p = Pool {
                    kernel: vec![k, k],
                    strides: vec![s, s],
                    dilations: vec![d, d],
                    pads_begin: vec![pad, pad],
                    pads_end: vec![pad, pad],
                    count_include_pad: rng.range(0, 1) == 1,
                    zero_point: zp,
                };
                let op = if rng.range(0, 1) == 1 { Op::MaxPool(p) } else { Op::AvgPool(p) };
                (op, vec![batch, c, o(h), o(w)], zp)
            }
            1 => {
                let klen = (k * k) as usize;
                let conv = Conv {
                    kernel: vec![k, k],
                    strides: vec![s, s],
                    dilations: vec![d, d],
                    pads_begin: vec![pad, pad],
                    pads_end: vec![pad, pad],
                    groups: c,
                    input_zero_point: zp,
                    weights: rng.i8s(c as usize * klen),
                    bias: (0..c).map(|_| rng.range(-50_000, 50_000) as i32).collect(),
                    epilogue: Epilogue {
                        multipliers: (0..c).map(|_| Multiplier::from_real(0.0005 + rng.f32() as f64 * 0.05)).collect(),
                        output_zero_point: rng.range(-20, 20) as i32,
                        clamp_min: -128,
                        clamp_max: 127,
                    },
                };
                (Op::Conv(conv), vec![batch, c, o(h), o(w)], 0)
            }
            3 => {
                // Add/Sub/Mul or Max/Min, the second operand broadcast along some axes
                let b_shape: Vec<u32> = sin.iter().map(|&d| if rng.range(0, 2) == 0 { 1 } else { d }).collect();
                let kind = rng.range(0, 4);
                let op = if kind >= 3 {
                    Op::Extremum(if kind == 3 { solidml_spec::Extremum::Max } else { solidml_spec::Extremum::Min })
                } else {
                    let kind = [solidml_spec::BinaryKind::Add, solidml_spec::BinaryKind::Sub, solidml_spec::BinaryKind::Mul][kind as usize];
                    let mul = kind == solidml_spec::BinaryKind::Mul;
                    let m = |lo: f64, hi: f64, rng: &mut Rng| Multiplier::from_real(lo + rng.f32() as f64 * (hi - lo));
                    Op::Binary(solidml_spec::Binary {
                        kind,
                        a_zero_point: zp,
                        b_zero_point: rng.range(-128, 127) as i32,
                        left_shift: if mul { 0 } else { 20 },
                        a_multiplier: if mul { Multiplier::from_real(0.0) } else { m(0.1, 0.99, &mut rng) },
                        b_multiplier: if mul { Multiplier::from_real(0.0) } else { m(0.1, 0.99, &mut rng) },
                        output_multiplier: if mul { m(0.0001, 2.0, &mut rng) } else { m(1e-7, 4e-6, &mut rng) },
                        output_zero_point: rng.range(-20, 20) as i32,
                        clamp_min: -128,
                        clamp_max: 127,
                    })
                };
                extra = Some(b_shape);
                (op, sin.clone(), if kind >= 3 { zp } else { 0 })
            }
            _ => {
                // a contiguous block of axes, or two apart (the offset table)
                let axes: Vec<u32> = match rng.range(0, 3) {
                    0 => vec![1],
                    1 => vec![1, 2],
                    2 => vec![2, 3],
                    _ => vec![1, 3],
                };
                let kind = [ReduceKind::Sum, ReduceKind::Mean, ReduceKind::Max, ReduceKind::Min][rng.range(0, 3) as usize];
                let r = Reduce {
                    kind,
                    axes: axes.clone(),
                    input_zero_point: zp,
                    multiplier: Multiplier::from_real(0.001 + rng.f32() as f64 * 0.5),
                    output_zero_point: rng.range(-20, 20) as i32,
                };
                let mut sout = sin.clone();
                for &a in &axes {
                    sout[a as usize] = 1;
                }
                (Op::Reduce(r), sout, 0)
            }
        };
        let n: usize = sin.iter().map(|&d| d as usize).product();
        let mut model = Model {
            name: format!("rows{case}"),
            tensors: vec![t("x", sin, zp), t("y", sout, out_zp)],
            constants: vec![],
            inputs: vec![0],
            outputs: vec![1],
            nodes: vec![Node { name: "n".into(), op, inputs: vec![0], outputs: vec![1] }],
            input_quant: vec![],
        };
        let mut x = vec![Value::I8(rng.i8s(n))];
        if let Some(b_shape) = extra.take() {
            // the second operand: same quantization as the output for Max/Min
            let bzp = if matches!(model.nodes[0].op, Op::Extremum(_)) { zp } else { 0 };
            x.push(Value::I8(rng.i8s(b_shape.iter().map(|&d| d as usize).product())));
            model.tensors.push(t("b", b_shape, bzp));
            model.inputs.push(2);
            model.nodes[0].inputs.push(2);
        }
        if let Err(e) = solidml_spec::validate::validate(&model) {
            panic!("case {case} is not a valid model: {e}");
        }
        let want = CpuExecutor::new(&model).unwrap().run(&x).unwrap();
        for kernel in Kernel::available() {
            // cranelift's code for the max pools, and the Rust loops
            for codegen in [true, false] {
                let jit = JitBackend::new().with_kernel(kernel).with_codegen(codegen).compile(Arc::new(model.clone())).unwrap();
                assert_eq!(jit.summary().0, 1, "case {case}: specialized without a fallback");
                let got = jit.run(&x).unwrap();
                assert_eq!(got, want, "case {case} ({kernel:?}, codegen {codegen}): {}", serde_json::to_string(&model).unwrap());
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 120 * 2 * Kernel::available().len());
}
