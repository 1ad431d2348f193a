//! The spec test vectors: `docs/spec/vectors/<op>.json`, small single-op models with inputs
//! and the outputs the spec defines. Every executor replays them (CPU here, GPU in
//! gpu_vs_cpu.rs, the EVM in solidity_models.rs). This test regenerates them deterministically and checks the committed files match;
//! `SOLIDML_BLESS=1` rewrites the files.

use alloy_primitives::hex;
use serde_json::json;
use solidml_cpu::CpuExecutor;
use solidml_exec::Value;
use solidml_spec::{
    Binary, BinaryKind, Conv, DType, Dense, Epilogue, Extremum, LogSoftmax, Lut, Model, Node, Op, Pad, PadMode, Pool, Quant, Reduce,
    ReduceKind, Softmax, TensorInfo, View, arith::Multiplier,
};
use solidml_tests::*;

fn q(r: &mut Rng) -> Quant {
    Quant { scale: 0.001 + r.f32() * 0.1, zero_point: r.range(-128, 127) as i32 }
}

fn t8(name: &str, shape: &[u32], quant: Quant) -> TensorInfo {
    TensorInfo { name: name.into(), shape: shape.to_vec(), dtype: DType::I8, quant: Some(quant) }
}

fn mult(r: &mut Rng) -> Multiplier {
    Multiplier::from_real(0.0001 + r.f32() as f64 * 0.02)
}

/// A single-op model `inputs → op → output`.
fn single(op: Op, inputs: Vec<TensorInfo>, output: TensorInfo) -> Model {
    let n = inputs.len() as u32;
    let mut tensors = inputs;
    tensors.push(output);
    Model {
        name: "vector".into(),
        tensors,
        constants: vec![],
        inputs: (0..n).collect(),
        outputs: vec![n],
        nodes: vec![Node { name: "op".into(), op, inputs: (0..n).collect(), outputs: vec![n] }],
    }
}

fn epilogue(r: &mut Rng, channels: usize) -> Epilogue {
    let lo = r.range(-128, 0) as i8;
    Epilogue {
        multipliers: (0..channels).map(|_| mult(r)).collect(),
        output_zero_point: r.range(-20, 20) as i32,
        clamp_min: lo,
        clamp_max: r.range(lo as i64, 127) as i8,
    }
}

fn generate(op: &str, r: &mut Rng) -> Model {
    let s = |v: &[i64]| v.iter().map(|&x| x as u32).collect::<Vec<u32>>();
    match op {
        "conv" => {
            let (cin_g, cout_g, g) = (r.range(1, 3), r.range(1, 3), r.range(1, 2));
            let (h, w, k) = (r.range(3, 6), r.range(3, 6), r.range(1, 3));
            let (stride, dil, pad) = (r.range(1, 2), r.range(1, 2), r.range(0, 1));
            let span = dil * (k - 1) + 1;
            let oh = (h + 2 * pad - span) / stride + 1;
            let ow = (w + 2 * pad - span) / stride + 1;
            let (cin, cout) = (cin_g * g, cout_g * g);
            let c = Conv {
                kernel: s(&[k, k]),
                strides: s(&[stride, stride]),
                dilations: s(&[dil, dil]),
                pads_begin: s(&[pad, pad]),
                pads_end: s(&[pad, pad]),
                groups: g as u32,
                input_zero_point: r.range(-128, 127) as i32,
                weights: (0..cout * cin_g * k * k).map(|_| r.range(-127, 127) as i8).collect(),
                bias: (0..cout).map(|_| r.range(-5000, 5000) as i32).collect(),
                epilogue: epilogue(r, cout as usize),
            };
            let (qi, qo) = (q(r), Quant { scale: 0.05, zero_point: c.epilogue.output_zero_point });
            single(Op::Conv(c), vec![t8("x", &s(&[1, cin, h, w]), qi)], t8("y", &s(&[1, cout, oh, ow]), qo))
        }
        "convtranspose" => {
            let (cin_g, cout_g, g) = (r.range(1, 2), r.range(1, 2), r.range(1, 2));
            let (h, k, stride, dil, pad, op) = (r.range(2, 4), r.range(1, 3), r.range(1, 2), r.range(1, 2), r.range(0, 1), r.range(0, 1));
            let op = op.min(stride - 1);
            let full = (h - 1) * stride + dil * (k - 1) + 1 + op;
            let pad = pad.min((full - 1) / 2);
            let oh = full - 2 * pad;
            let (cin, cout) = (cin_g * g, cout_g * g);
            let c = solidml_spec::ConvTranspose {
                kernel: s(&[k, k]),
                strides: s(&[stride, stride]),
                dilations: s(&[dil, dil]),
                pads_begin: s(&[pad, pad]),
                pads_end: s(&[pad, pad]),
                output_padding: s(&[op, op]),
                groups: g as u32,
                input_zero_point: r.range(-128, 127) as i32,
                weights: (0..cout * cin_g * k * k).map(|_| r.range(-127, 127) as i8).collect(),
                bias: (0..cout).map(|_| r.range(-5000, 5000) as i32).collect(),
                epilogue: epilogue(r, cout as usize),
            };
            let qo = Quant { scale: 0.05, zero_point: c.epilogue.output_zero_point };
            single(Op::ConvTranspose(c), vec![t8("x", &s(&[1, cin, h, h]), q(r))], t8("y", &s(&[1, cout, oh, oh]), qo))
        }
        "matmul" => {
            let (qa, qb, qo) = (q(r), q(r), q(r));
            let (m, k, n, b) = (r.range(1, 3), r.range(1, 6), r.range(1, 4), r.range(1, 2));
            let mm = solidml_spec::MatMul {
                a_zero_point: qa.zero_point,
                b_zero_point: qb.zero_point,
                multiplier: Multiplier::from_real(qa.scale as f64 * qb.scale as f64 / qo.scale as f64),
                output_zero_point: qo.zero_point,
            };
            single(Op::MatMul(mm), vec![t8("a", &s(&[b, m, k]), qa), t8("b", &s(&[k, n]), qb)], t8("y", &s(&[b, m, n]), qo))
        }
        "binarylut" => {
            let (d0, d1) = (r.range(1, 3), r.range(1, 4));
            single(
                Op::BinaryLut { table: r.i8s(65536) },
                vec![t8("a", &s(&[d0, d1]), q(r)), t8("b", &s(&[d1]), q(r))],
                t8("y", &s(&[d0, d1]), q(r)),
            )
        }
        "instancenorm" => {
            let (qi, qo) = (q(r), q(r));
            let (c, h) = (r.range(1, 3) as usize, r.range(1, 4) as u32);
            let inn = solidml_spec::InstanceNorm {
                input_zero_point: qi.zero_point,
                output_zero_point: qo.zero_point,
                epsilon_term: r.range(0, 1000),
                gamma_q16: (0..c).map(|_| r.range(-(1 << 22), 1 << 22)).collect(),
                beta_q16: (0..c).map(|_| r.range(-(1 << 22), 1 << 22)).collect(),
            };
            single(Op::InstanceNorm(inn), vec![t8("x", &[1, c as u32, h, 3], qi)], t8("y", &[1, c as u32, h, 3], qo))
        }
        "intbinary" => {
            let kind = [BinaryKind::Add, BinaryKind::Sub, BinaryKind::Mul][r.range(0, 2) as usize];
            let i64t = |name: &str, shape: &[u32]| TensorInfo { name: name.into(), shape: shape.to_vec(), dtype: DType::I64, quant: None };
            let d = r.range(1, 4) as u32;
            single(Op::IntBinary { kind }, vec![i64t("a", &[2, d]), i64t("b", &[d])], i64t("y", &[2, d]))
        }
        "lrn" => {
            let (qi, qo) = (q(r), q(r));
            let size = r.range(1, 5) as u32;
            let sum_shift = r.range(4, 7) as u32;
            let n = ((size as u64 * 65025) >> sum_shift) as usize + 1;
            let l = solidml_spec::Lrn {
                size,
                input_zero_point: qi.zero_point,
                output_zero_point: qo.zero_point,
                sum_shift,
                factors: (0..n.min(4096)).map(|_| r.range(0, 1 << 18) as i32).collect(),
                multiplier: Multiplier::from_real(0.00001 + r.f32() as f64 * 0.0002),
            };
            let c = r.range(1, 6) as u32;
            single(Op::Lrn(l), vec![t8("x", &[1, c, 2, 2], qi)], t8("y", &[1, c, 2, 2], qo))
        }
        "normalize" => {
            let kind = if r.range(0, 1) == 0 { solidml_spec::NormKind::L1 } else { solidml_spec::NormKind::L2 };
            let k = r.range(7, 8) as u32;
            let qo = Quant { scale: 1.0 / (1u32 << k) as f32, zero_point: if k == 8 { -128 } else { 0 } };
            let qi = q(r);
            let nm = solidml_spec::Normalize { kind, input_zero_point: qi.zero_point, output_zero_point: qo.zero_point, scale_log2: k };
            let d = r.range(1, 6) as u32;
            single(Op::Normalize(nm), vec![t8("x", &[2, d], qi)], t8("y", &[2, d], qo))
        }
        "dense" => {
            let (rows, k, n) = (r.range(1, 3), r.range(1, 16), r.range(1, 8));
            let d = Dense {
                in_features: k as u32,
                out_features: n as u32,
                input_zero_point: r.range(-128, 127) as i32,
                weights: (0..n * k).map(|_| r.range(-127, 127) as i8).collect(),
                bias: (0..n).map(|_| r.range(-3000, 3000) as i32).collect(),
                epilogue: epilogue(r, n as usize),
            };
            let qo = Quant { scale: 0.05, zero_point: d.epilogue.output_zero_point };
            single(Op::Dense(d), vec![t8("x", &s(&[rows, k]), q(r))], t8("y", &s(&[rows, n]), qo))
        }
        "add" | "sub" | "mul" => {
            let (qa, qb, qo) = (q(r), q(r), q(r));
            let kind = match op {
                "add" => BinaryKind::Add,
                "sub" => BinaryKind::Sub,
                _ => BinaryKind::Mul,
            };
            let (sa, sb, so) = (qa.scale as f64, qb.scale as f64, qo.scale as f64);
            let zero = Multiplier { multiplier: 0, shift: 0 };
            let (ls, am, bm, om) = if kind == BinaryKind::Mul {
                (0, zero, zero, Multiplier::from_real(sa * sb / so))
            } else {
                let t = 2.0 * sa.max(sb);
                (20, Multiplier::from_real(sa / t), Multiplier::from_real(sb / t), Multiplier::from_real(t / ((1 << 20) as f64 * so)))
            };
            let b = Binary {
                kind,
                a_zero_point: qa.zero_point,
                b_zero_point: qb.zero_point,
                left_shift: ls,
                a_multiplier: am,
                b_multiplier: bm,
                output_multiplier: om,
                output_zero_point: qo.zero_point,
                clamp_min: -128,
                clamp_max: 127,
            };
            let (d0, d1) = (r.range(1, 3), r.range(1, 4));
            single(Op::Binary(b), vec![t8("a", &s(&[d0, d1]), qa), t8("b", &s(&[1, d1]), qb)], t8("y", &s(&[d0, d1]), qo))
        }
        "max" | "min" => {
            let qa = q(r);
            let e = if op == "max" { Extremum::Max } else { Extremum::Min };
            let (d0, d1) = (r.range(1, 3), r.range(1, 4));
            single(Op::Extremum(e), vec![t8("a", &s(&[d0, 1]), qa), t8("b", &s(&[d0, d1]), qa)], t8("y", &s(&[d0, d1]), qa))
        }
        "lut" => {
            let (c, l) = (r.range(1, 3), r.range(1, 4));
            let per = r.range(0, 1) == 1;
            let tables = r.i8s(256 * if per { c as usize } else { 1 });
            single(Op::Lut(Lut { axis: per.then_some(1), tables }), vec![t8("x", &s(&[1, c, l]), q(r))], t8("y", &s(&[1, c, l]), q(r)))
        }
        "view" => {
            // a transpose of a slice with a negative step: [2, 5] → rows reversed, cols 1..4 → [3, 2]
            let qa = q(r);
            single(Op::View(View { offset: 6, strides: vec![1, -5] }), vec![t8("x", &[2, 5], qa)], t8("y", &[3, 2], qa))
        }
        "pad" => {
            let qa = q(r);
            let (a, b) = (r.range(0, 2) as u32, r.range(0, 2) as u32);
            let mode = [PadMode::Constant, PadMode::Reflect, PadMode::Edge][r.range(0, 2) as usize];
            let b = if mode == PadMode::Reflect { b.min(1) } else { b };
            single(
                Op::Pad(Pad { pads_begin: vec![0, a], pads_end: vec![b, 1], mode, value: r.range(-128, 127) }),
                vec![t8("x", &[2, 3], qa)],
                t8("y", &[2 + b, 3 + a + 1], qa),
            )
        }
        "concat" => {
            let qa = q(r);
            let (x, y) = (r.range(1, 3) as u32, r.range(1, 3) as u32);
            single(Op::Concat { axis: 1 }, vec![t8("a", &[2, x, 2], qa), t8("b", &[2, y, 2], qa)], t8("y", &[2, x + y, 2], qa))
        }
        "maxpool" | "avgpool" => {
            let qa = q(r);
            let (h, k, st, pad) = (r.range(3, 7), r.range(2, 3), r.range(1, 2), r.range(0, 1));
            let o = (h + 2 * pad - k) / st + 1;
            let p = Pool {
                kernel: s(&[k, k]),
                strides: s(&[st, st]),
                dilations: vec![1, 1],
                pads_begin: s(&[pad, pad]),
                pads_end: s(&[pad, pad]),
                count_include_pad: r.range(0, 1) == 1,
                zero_point: qa.zero_point,
            };
            let op = if op == "maxpool" { Op::MaxPool(p) } else { Op::AvgPool(p) };
            single(op, vec![t8("x", &s(&[1, 2, h, h]), qa)], t8("y", &s(&[1, 2, o, o]), qa))
        }
        "reduce" => {
            let kind = [ReduceKind::Sum, ReduceKind::Mean, ReduceKind::Max, ReduceKind::Min][r.range(0, 3) as usize];
            let (qi, qo) = (q(r), q(r));
            let rd = Reduce {
                kind,
                axes: vec![1, 2],
                input_zero_point: qi.zero_point,
                multiplier: Multiplier::from_real(qi.scale as f64 / qo.scale as f64),
                output_zero_point: qo.zero_point,
            };
            single(Op::Reduce(rd), vec![t8("x", &[1, 3, 4, 2], qi)], t8("y", &[1, 1, 1, 2], qo))
        }
        "softmax" => {
            let qi = q(r);
            let exp_table = (0..256).map(|d| ((-(d as f64) * qi.scale as f64).exp() * 65536.0).round() as u32).collect();
            let n = r.range(2, 10) as u32;
            single(
                Op::Softmax(Softmax { axis: 1, exp_table }),
                vec![t8("x", &[2, n], qi)],
                t8("y", &[2, n], Quant { scale: 1.0 / 256.0, zero_point: -128 }),
            )
        }
        "logsoftmax" => {
            let (qi, qo) = (q(r), Quant { scale: 0.05, zero_point: 127 });
            let exp_table = (0..256).map(|d| ((-(d as f64) * qi.scale as f64).exp() * 65536.0).round() as u32).collect();
            let ln_table = (0..256).map(|i| ((1.0 + i as f64 / 256.0).ln() * 65536.0).round() as i32).collect();
            let ls = LogSoftmax {
                axis: 1,
                exp_table,
                ln_table,
                input_scale_q16: (qi.scale as f64 * 65536.0).round() as i32,
                multiplier: Multiplier::from_real(1.0 / (65536.0 * qo.scale as f64)),
                output_zero_point: qo.zero_point,
            };
            let n = r.range(2, 10) as u32;
            single(Op::LogSoftmax(ls), vec![t8("x", &[2, n], qi)], t8("y", &[2, n], qo))
        }
        "argmax" => {
            let n = r.range(2, 6) as u32;
            let out = TensorInfo { name: "y".into(), shape: vec![3], dtype: DType::I64, quant: None };
            single(Op::ArgMax { axis: 1, select_last_index: r.range(0, 1) == 1 }, vec![t8("x", &[3, n], q(r))], out)
        }
        "gather" => {
            let qa = q(r);
            single(Op::Gather { axis: 1, indices: vec![2, 0, 2] }, vec![t8("x", &[2, 3], qa)], t8("y", &[2, 3], qa))
        }
        "cumsum" => {
            let (qi, qo) = (q(r), q(r));
            let shape = [r.range(1, 3), r.range(1, 5), r.range(1, 3)].map(|d| d as u32);
            let c = solidml_spec::CumSum {
                axis: r.range(0, 2) as u32,
                exclusive: r.range(0, 1) == 1,
                reverse: r.range(0, 1) == 1,
                input_zero_point: qi.zero_point,
                multiplier: Multiplier::from_real(qi.scale as f64 / qo.scale as f64),
                output_zero_point: qo.zero_point,
            };
            single(Op::CumSum(c), vec![t8("x", &shape, qi)], t8("y", &shape, qo))
        }
        other => panic!("no generator for {other}"),
    }
}

/// The ops whose vectors this test writes: every file of [`SPEC_VECTORS`], whose case counts
/// (fewer for ops whose model is large: a 64 KiB table) every replay checks.
fn ops() -> impl Iterator<Item = &'static str> {
    SPEC_VECTORS.iter().map(|(op, _)| *op)
}

/// Cases per op.
fn cases(op: &str) -> usize {
    SPEC_VECTORS.iter().find(|(o, _)| *o == op).unwrap().1
}

/// Compact JSON, one case per line (readable diffs, small files).
fn render(v: &serde_json::Value) -> String {
    let cases: Vec<String> = v["cases"].as_array().unwrap().iter().map(|c| serde_json::to_string(c).unwrap()).collect();
    format!("{{\"op\": {}, \"spec\": {}, \"cases\": [\n{}\n]}}\n", v["op"], v["spec"], cases.join(",\n"))
}

fn vectors(op: &str) -> serde_json::Value {
    let mut r = Rng(0x5eed_0000 ^ op.bytes().fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32)));
    let cases: Vec<serde_json::Value> = (0..cases(op))
        .map(|i| {
            let model = generate(op, &mut r);
            let exec = CpuExecutor::new(&model).unwrap_or_else(|e| panic!("{op} case {i}: {e}"));
            let inputs: Vec<Value> = model
                .inputs
                .iter()
                .map(|&t| match model.tensor(t).dtype {
                    DType::I8 => Value::I8(r.i8s(model.tensor(t).len())),
                    DType::I64 => Value::I64((0..model.tensor(t).len()).map(|_| r.range(-1 << 30, 1 << 30)).collect()),
                })
                .collect();
            let outs = exec.run(&inputs).unwrap();
            let inputs: Vec<serde_json::Value> = inputs
                .iter()
                .map(|v| match v {
                    Value::I8(v) => json!(v),
                    Value::I64(v) => json!(v),
                })
                .collect();
            let outs: Vec<serde_json::Value> = outs
                .iter()
                .map(|v| match v {
                    Value::I8(v) => json!(v),
                    Value::I64(v) => json!(v),
                })
                .collect();
            let artifact = solidml_spec::encode(&model).unwrap();
            json!({ "name": format!("{op}_{i}"), "model": model, "artifact": format!("0x{}", hex::encode(&artifact)), "inputs": inputs, "outputs": outs })
        })
        .collect();
    json!({ "op": op, "spec": format!("docs/spec.md#op-{op}"), "cases": cases })
}

#[test]
fn spec_vectors_match_the_committed_files() {
    let dir = repo().join("docs/spec/vectors");
    let bless = std::env::var("SOLIDML_BLESS").is_ok_and(|v| v == "1");
    let mut stale = vec![];
    for op in ops() {
        let text = render(&vectors(op));
        let path = dir.join(format!("{op}.json"));
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(&text) {
            stale.push(op.to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "spec vectors differ for {stale:?}: the CPU executor changed behaviour, or run with SOLIDML_BLESS=1 after a deliberate spec change"
    );
}

#[test]
fn committed_vectors_replay_on_the_cpu_executor() {
    // Replays the files as another executor would: decode the artifact, run, compare.
    if std::env::var("SOLIDML_BLESS").is_ok_and(|v| v == "1") {
        return; // the files are being rewritten by the other test
    }
    // every file of the directory, each with exactly its listed number of cases
    let mut ran = vec![];
    for (op, path, _) in spec_vector_files() {
        let mut count = 0;
        for case in vector_cases(&path) {
            assert!(case.name.starts_with(&format!("{op}_")), "{}: case {} of another op", path.display(), case.name);
            let outs = CpuExecutor::new(&case.model).unwrap().run(&case.inputs).unwrap();
            assert_eq!(outs.iter().map(value_i64).collect::<Vec<_>>(), case.outputs, "{}", case.name);
            count += 1;
        }
        ran.push((op, count));
    }
    assert_eq!(ran, SPEC_VECTORS, "spec vector cases replayed on the CPU, per file");
    eprintln!("{} cases from {} files replayed on the CPU", ran.iter().map(|r| r.1).sum::<usize>(), ran.len());
}
