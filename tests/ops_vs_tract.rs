//! Every supported ONNX operator end to end against tract: a small model per operator form
//! (built here with onnx-protobuf), compiled with calibration data, run by the CPU reference
//! executor, compared with tract's float execution of the same bytes within a few output
//! quantization steps. Also: weights in an ONNX external data file.

use ndarray::{ArrayD, IxDyn};
use solidml_compiler::{CompileOptions, eval::TractModel, runner};
use solidml_tests::{
    Rng,
    onnx_builder::{A, Builder},
};

/// What a case checks.
enum Check {
    /// max |int8 − float| ≤ k output steps
    Steps(f32),
    /// integer outputs equal on at least this fraction of elements (argmax ties)
    Agree(f64),
}

struct Case {
    name: &'static str,
    input: Vec<i64>,
    /// input values are drawn uniformly from this range
    range: (f32, f32),
    build: fn(&mut Builder, &mut Rng) -> String,
    check: Check,
}

fn run(case: &Case) -> Result<(), String> {
    let mut r = Rng(0xC0FFEE ^ (case.name.len() as u32 * 7919));
    let mut b = Builder::new("x", &case.input);
    let y = (case.build)(&mut b, &mut r);
    let bytes = b.finish(&y, &[], 17);
    let dir = std::env::temp_dir().join(format!("solidml-ops-{}-{}", case.name, std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.onnx");
    std::fs::write(&path, &bytes).unwrap();
    let shape: Vec<usize> = case.input.iter().map(|&d| d as usize).collect();
    let n = 24;
    let len = n * shape.iter().product::<usize>();
    let (lo, hi) = case.range;
    let mut s = vec![n];
    s.extend_from_slice(&shape);
    let data = ArrayD::from_shape_vec(IxDyn(&s), (0..len).map(|_| lo + (hi - lo) * r.f32()).collect()).unwrap();
    let compiled = solidml_compiler::compile(&path, &CompileOptions::default().with_calibration(vec![data.clone()]))
        .map_err(|e| format!("compile: {e}"))?;
    let m = &compiled.model;
    let shapes = runner::input_shapes(m);
    // Both sides see the same input: its int8 representation (input rounding is the model's
    // quantization, not an error of the integer arithmetic under test).
    let qin = m.tensor(m.inputs[0]).quant.unwrap();
    let data = data.mapv(|v| {
        solidml_spec::io::dequantize_f32(solidml_spec::io::quantize_f32(v, qin.scale, qin.zero_point) as i32, qin.scale, qin.zero_point)
    });
    let samples = runner::samples(&shapes, &[data]).unwrap();
    let ours = runner::run_samples(m, &samples).map_err(|e| e.to_string())?;
    let tract = TractModel::load(&path, &shapes).map_err(|e| format!("tract: {e}"))?;
    let out = m.tensor(m.outputs[0]);
    let (mut worst, mut agree, mut total) = (0f32, 0usize, 0usize);
    for (s, (_, q)) in samples.iter().zip(&ours) {
        let f = tract.run(s).map_err(|e| e.to_string())?;
        let (a, b) = (q[0].to_f32(), f[0].to_f32());
        if a.len() != b.len() {
            return Err(format!("shape {:?} vs tract {:?}", a.shape(), b.shape()));
        }
        for (x, y) in a.iter().zip(b.iter()) {
            worst = worst.max((x - y).abs());
            agree += (x == y) as usize;
            total += 1;
        }
    }
    match case.check {
        Check::Steps(k) => {
            let step = out.quant.map_or(1.0, |q| q.scale);
            if worst > k * step + 1e-6 {
                return Err(format!("max error {worst} = {:.2} steps > {k}", worst / step));
            }
        }
        Check::Agree(f) => {
            if (agree as f64) < f * total as f64 {
                return Err(format!("only {agree} of {total} integer outputs agree"));
            }
        }
    }
    Ok(())
}

fn w(b: &mut Builder, r: &mut Rng, dims: &[i64], scale: f32) -> String {
    let n: i64 = dims.iter().product();
    b.constant(dims, (0..n).map(|_| (r.f32() * 2.0 - 1.0) * scale).collect())
}

macro_rules! unary {
    ($name:literal, $op:literal) => {
        Case {
            name: $name,
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| b.node($op, &["x"], vec![]),
            check: Check::Steps(1.5),
        }
    };
    ($name:literal, $op:literal, $range:expr) => {
        Case { name: $name, input: vec![1, 3, 4, 5], range: $range, build: |b, _| b.node($op, &["x"], vec![]), check: Check::Steps(1.5) }
    };
}

fn cases() -> Vec<Case> {
    vec![
        unary!("relu", "Relu"),
        unary!("sigmoid", "Sigmoid"),
        unary!("tanh", "Tanh"),
        unary!("softplus", "Softplus"),
        unary!("elu", "Elu"),
        unary!("selu", "Selu"),
        unary!("erf", "Erf"),
        // exp: the largest inputs round up past the calibrated range and clamp (≤ 2 steps)
        Case {
            name: "exp",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| b.node("Exp", &["x"], vec![]),
            check: Check::Steps(2.0),
        },
        unary!("abs", "Abs"),
        unary!("neg", "Neg"),
        unary!("softsign", "Softsign"),
        unary!("hardsigmoid", "HardSigmoid"),
        unary!("sqrt", "Sqrt", (0.0, 4.0)),
        unary!("log", "Log", (0.5, 4.0)),
        unary!("reciprocal", "Reciprocal", (0.5, 4.0)),
        Case {
            name: "leakyrelu",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| b.node("LeakyRelu", &["x"], vec![("alpha", A::F(0.2))]),
            check: Check::Steps(1.5),
        },
        Case {
            name: "clip",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| {
                let (lo, hi) = (b.constant(&[], vec![-0.5]), b.constant(&[], vec![1.25]));
                b.node("Clip", &["x", &lo, &hi], vec![])
            },
            check: Check::Steps(1.5),
        },
        Case {
            name: "pow_const",
            input: vec![1, 3, 4, 5],
            range: (0.0, 2.0),
            build: |b, _| {
                let e = b.constant(&[], vec![1.5]);
                b.node("Pow", &["x", &e], vec![])
            },
            check: Check::Steps(1.5),
        },
        Case {
            name: "add_scalar",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| {
                let c = b.constant(&[], vec![0.7]);
                b.node("Add", &["x", &c], vec![])
            },
            check: Check::Steps(1.5),
        },
        Case {
            name: "sub_from_const",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| {
                let c = b.constant(&[], vec![0.7]);
                b.node("Sub", &[&c, "x"], vec![])
            },
            check: Check::Steps(1.5),
        },
        Case {
            name: "mul_channel",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, r| {
                let c = w(b, r, &[1, 3, 1, 1], 2.0);
                b.node("Mul", &["x", &c], vec![])
            },
            check: Check::Steps(1.5),
        },
        Case {
            name: "div_channel",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| {
                let c = b.constant(&[3, 1, 1], vec![2.0, -4.0, 0.5]);
                b.node("Div", &["x", &c], vec![])
            },
            check: Check::Steps(1.5),
        },
        Case {
            name: "add_tensor",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, r| {
                let c = w(b, r, &[4, 5], 1.0);
                b.node("Add", &["x", &c], vec![])
            },
            check: Check::Steps(3.0),
        },
        Case {
            name: "mul_tensor",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, r| {
                let c = w(b, r, &[3, 4, 1], 1.0);
                b.node("Mul", &["x", &c], vec![])
            },
            check: Check::Steps(3.0),
        },
        Case {
            name: "prelu",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| {
                let c = b.constant(&[3, 1, 1], vec![0.1, 0.5, -0.3]);
                b.node("PRelu", &["x", &c], vec![])
            },
            check: Check::Steps(1.5),
        },
        Case {
            name: "add_dynamic",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| {
                let t = b.node("Tanh", &["x"], vec![]);
                b.node("Add", &["x", &t], vec![])
            },
            check: Check::Steps(3.0),
        },
        Case {
            name: "sub_dynamic",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| {
                let t = b.node("Tanh", &["x"], vec![]);
                b.node("Sub", &["x", &t], vec![])
            },
            check: Check::Steps(3.0),
        },
        Case {
            name: "mul_dynamic",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| {
                let t = b.node("Sigmoid", &["x"], vec![]);
                b.node("Mul", &["x", &t], vec![])
            },
            check: Check::Steps(3.0),
        },
        Case {
            name: "div_dynamic",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| {
                let t = b.node("Sigmoid", &["x"], vec![]);
                b.node("Div", &["x", &t], vec![])
            },
            check: Check::Steps(3.0),
        },
        Case {
            name: "max_dynamic",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| {
                let t = b.node("Tanh", &["x"], vec![]);
                b.node("Max", &["x", &t], vec![])
            },
            check: Check::Steps(3.0),
        },
        Case {
            name: "min_dynamic",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| {
                let t = b.node("Tanh", &["x"], vec![]);
                b.node("Min", &["x", &t], vec![])
            },
            check: Check::Steps(3.0),
        },
        Case {
            name: "sum3",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| {
                let t = b.node("Tanh", &["x"], vec![]);
                let s = b.node("Sigmoid", &["x"], vec![]);
                b.node("Sum", &["x", &t, &s], vec![])
            },
            check: Check::Steps(4.0),
        },
        Case {
            name: "matmul_dynamic",
            input: vec![1, 4, 6],
            range: (-2.0, 2.0),
            build: |b, _| {
                let t = b.node("Transpose", &["x"], vec![("perm", A::Is(vec![0, 2, 1]))]);
                b.node("MatMul", &["x", &t], vec![])
            },
            check: Check::Steps(3.0),
        },
        Case {
            name: "gemm",
            input: vec![2, 8],
            range: (-2.0, 2.0),
            build: |b, r| {
                let (wt, bias) = (w(b, r, &[5, 8], 0.5), w(b, r, &[5], 0.5));
                b.node("Gemm", &["x", &wt, &bias], vec![("transB", A::I(1)), ("alpha", A::F(0.7)), ("beta", A::F(1.5))])
            },
            check: Check::Steps(2.0),
        },
        Case {
            name: "matmul_const",
            input: vec![1, 3, 8],
            range: (-2.0, 2.0),
            build: |b, r| {
                let wt = w(b, r, &[8, 4], 0.5);
                b.node("MatMul", &["x", &wt], vec![])
            },
            check: Check::Steps(2.0),
        },
        Case {
            name: "conv1d_stride_pad",
            input: vec![1, 2, 11],
            range: (-2.0, 2.0),
            build: |b, r| {
                let wt = w(b, r, &[4, 2, 3], 0.5);
                b.node("Conv", &["x", &wt], vec![("strides", A::Is(vec![2])), ("pads", A::Is(vec![1, 2]))])
            },
            check: Check::Steps(2.0),
        },
        Case {
            name: "conv2d_depthwise_dilated",
            input: vec![1, 4, 7, 7],
            range: (-2.0, 2.0),
            build: |b, r| {
                let (wt, bias) = (w(b, r, &[4, 1, 3, 3], 0.5), w(b, r, &[4], 0.2));
                b.node(
                    "Conv",
                    &["x", &wt, &bias],
                    vec![("group", A::I(4)), ("dilations", A::Is(vec![2, 2])), ("pads", A::Is(vec![2, 2, 2, 2]))],
                )
            },
            check: Check::Steps(2.0),
        },
        Case {
            name: "conv2d_same_upper",
            input: vec![1, 2, 6, 6],
            range: (-2.0, 2.0),
            build: |b, r| {
                let wt = w(b, r, &[3, 2, 2, 2], 0.5);
                b.node("Conv", &["x", &wt], vec![("auto_pad", A::S("SAME_UPPER")), ("strides", A::Is(vec![2, 2]))])
            },
            check: Check::Steps(2.0),
        },
        Case {
            name: "conv3d",
            input: vec![1, 2, 4, 5, 5],
            range: (-2.0, 2.0),
            build: |b, r| {
                let wt = w(b, r, &[3, 2, 2, 3, 3], 0.5);
                b.node("Conv", &["x", &wt], vec![("pads", A::Is(vec![0, 1, 1, 1, 1, 1]))])
            },
            check: Check::Steps(2.0),
        },
        Case {
            name: "convtranspose",
            input: vec![1, 2, 4, 4],
            range: (-2.0, 2.0),
            build: |b, r| {
                let wt = w(b, r, &[2, 3, 3, 3], 0.5);
                b.node(
                    "ConvTranspose",
                    &["x", &wt],
                    vec![("strides", A::Is(vec![2, 2])), ("pads", A::Is(vec![1, 1, 1, 1])), ("output_padding", A::Is(vec![1, 1]))],
                )
            },
            check: Check::Steps(2.0),
        },
        Case {
            name: "batchnorm",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, r| {
                let (s, bb, m) = (w(b, r, &[3], 2.0), w(b, r, &[3], 1.0), w(b, r, &[3], 1.0));
                let v = b.constant(&[3], vec![0.5, 1.0, 2.0]);
                b.node("BatchNormalization", &["x", &s, &bb, &m, &v], vec![])
            },
            check: Check::Steps(1.5),
        },
        Case {
            name: "instancenorm",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, r| {
                let (s, bb) = (w(b, r, &[3], 2.0), w(b, r, &[3], 1.0));
                b.node("InstanceNormalization", &["x", &s, &bb], vec![])
            },
            check: Check::Steps(3.0),
        },
        Case {
            name: "lrn",
            input: vec![1, 6, 3, 3],
            range: (-2.0, 2.0),
            build: |b, _| b.node("LRN", &["x"], vec![("size", A::I(3)), ("alpha", A::F(0.5)), ("beta", A::F(0.75)), ("bias", A::F(1.0))]),
            check: Check::Steps(2.0),
        },
        Case {
            name: "maxpool",
            input: vec![1, 2, 7, 7],
            range: (-2.0, 2.0),
            build: |b, _| {
                b.node(
                    "MaxPool",
                    &["x"],
                    vec![("kernel_shape", A::Is(vec![3, 3])), ("strides", A::Is(vec![2, 2])), ("pads", A::Is(vec![1, 1, 1, 1]))],
                )
            },
            check: Check::Steps(0.5),
        },
        Case {
            name: "maxpool_ceil",
            input: vec![1, 2, 6, 6],
            range: (-2.0, 2.0),
            build: |b, _| {
                b.node("MaxPool", &["x"], vec![("kernel_shape", A::Is(vec![3, 3])), ("strides", A::Is(vec![2, 2])), ("ceil_mode", A::I(1))])
            },
            check: Check::Steps(0.5),
        },
        Case {
            name: "avgpool_pads",
            input: vec![1, 2, 7, 7],
            range: (-2.0, 2.0),
            build: |b, _| {
                b.node(
                    "AveragePool",
                    &["x"],
                    vec![("kernel_shape", A::Is(vec![3, 3])), ("strides", A::Is(vec![2, 2])), ("pads", A::Is(vec![1, 1, 1, 1]))],
                )
            },
            check: Check::Steps(1.0),
        },
        Case {
            name: "avgpool_include_pad",
            input: vec![1, 2, 7, 7],
            range: (-2.0, 2.0),
            build: |b, _| {
                b.node(
                    "AveragePool",
                    &["x"],
                    vec![("kernel_shape", A::Is(vec![3, 3])), ("pads", A::Is(vec![1, 1, 1, 1])), ("count_include_pad", A::I(1))],
                )
            },
            check: Check::Steps(1.0),
        },
        Case {
            name: "globalavgpool",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| b.node("GlobalAveragePool", &["x"], vec![]),
            check: Check::Steps(1.5),
        },
        Case {
            name: "globalmaxpool",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| b.node("GlobalMaxPool", &["x"], vec![]),
            check: Check::Steps(1.5),
        },
        Case {
            name: "reducemean",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| b.node("ReduceMean", &["x"], vec![("axes", A::Is(vec![1, 3]))]),
            check: Check::Steps(1.5),
        },
        Case {
            name: "reducesum",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| {
                let a = b.constant_i64(&[1], vec![-1]);
                b.node("ReduceSum", &["x", &a], vec![("keepdims", A::I(0))])
            },
            check: Check::Steps(2.0),
        },
        Case {
            name: "cumsum",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| {
                let a = b.constant_i64(&[], vec![-1]);
                b.node("CumSum", &["x", &a], vec![])
            },
            check: Check::Steps(2.0),
        },
        Case {
            name: "cumsum_exclusive_reverse",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| {
                let a = b.constant_i64(&[], vec![1]);
                b.node("CumSum", &["x", &a], vec![("exclusive", A::I(1)), ("reverse", A::I(1))])
            },
            check: Check::Steps(2.0),
        },
        Case {
            name: "reducemax",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| b.node("ReduceMax", &["x"], vec![("axes", A::Is(vec![2]))]),
            check: Check::Steps(1.5),
        },
        Case {
            name: "reducemin",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| b.node("ReduceMin", &["x"], vec![("axes", A::Is(vec![1]))]),
            check: Check::Steps(1.5),
        },
        Case {
            name: "softmax",
            input: vec![2, 3, 7],
            range: (-3.0, 3.0),
            build: |b, _| b.node("Softmax", &["x"], vec![("axis", A::I(1))]),
            check: Check::Steps(1.5),
        },
        Case {
            name: "logsoftmax",
            input: vec![2, 9],
            range: (-3.0, 3.0),
            build: |b, _| b.node("LogSoftmax", &["x"], vec![]),
            check: Check::Steps(2.0),
        },
        Case {
            name: "argmax",
            input: vec![3, 10],
            range: (-3.0, 3.0),
            build: |b, _| b.node("ArgMax", &["x"], vec![("axis", A::I(1))]),
            check: Check::Agree(0.9),
        },
        Case {
            name: "reshape",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| {
                let s = b.constant_i64(&[3], vec![0, -1, 10]);
                b.node("Reshape", &["x", &s], vec![])
            },
            check: Check::Steps(0.5),
        },
        Case {
            name: "flatten",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| b.node("Flatten", &["x"], vec![("axis", A::I(2))]),
            check: Check::Steps(0.5),
        },
        Case {
            name: "transpose",
            input: vec![1, 3, 4, 5],
            range: (-2.0, 2.0),
            build: |b, _| b.node("Transpose", &["x"], vec![("perm", A::Is(vec![0, 3, 1, 2]))]),
            check: Check::Steps(0.5),
        },
        Case {
            name: "squeeze_unsqueeze",
            input: vec![1, 3, 1, 5],
            range: (-2.0, 2.0),
            build: |b, _| {
                let a = b.constant_i64(&[1], vec![2]);
                let s = b.node("Squeeze", &["x", &a], vec![]);
                let u = b.constant_i64(&[1], vec![-1]);
                b.node("Unsqueeze", &[&s, &u], vec![])
            },
            check: Check::Steps(0.5),
        },
        Case {
            name: "slice_steps",
            input: vec![1, 3, 8, 6],
            range: (-2.0, 2.0),
            build: |b, _| {
                let (st, en, ax, sp) = (
                    b.constant_i64(&[2], vec![7, 1]),
                    b.constant_i64(&[2], vec![0, 6]),
                    b.constant_i64(&[2], vec![2, 3]),
                    b.constant_i64(&[2], vec![-2, 2]),
                );
                b.node("Slice", &["x", &st, &en, &ax, &sp], vec![])
            },
            check: Check::Steps(0.5),
        },
        Case {
            name: "tile",
            input: vec![1, 2, 3],
            range: (-2.0, 2.0),
            build: |b, _| {
                let rp = b.constant_i64(&[3], vec![2, 1, 3]);
                b.node("Tile", &["x", &rp], vec![])
            },
            check: Check::Steps(0.5),
        },
        Case {
            name: "expand",
            input: vec![1, 3, 1],
            range: (-2.0, 2.0),
            build: |b, _| {
                let s = b.constant_i64(&[3], vec![2, 3, 4]);
                b.node("Expand", &["x", &s], vec![])
            },
            check: Check::Steps(0.5),
        },
        Case {
            name: "concat",
            input: vec![1, 3, 4],
            range: (-2.0, 2.0),
            build: |b, _| {
                let t = b.node("Sigmoid", &["x"], vec![]);
                b.node("Concat", &["x", &t], vec![("axis", A::I(2))])
            },
            check: Check::Steps(1.5),
        },
        Case {
            name: "split",
            input: vec![1, 6, 4],
            range: (-2.0, 2.0),
            build: |b, _| {
                let sp = b.constant_i64(&[2], vec![2, 4]);
                let parts = b.node_n("Split", &["x", &sp], vec![("axis", A::I(1))], 2);
                // the second part, through a view that keeps its quantization
                b.node("Transpose", &[&parts[1]], vec![("perm", A::Is(vec![0, 2, 1]))])
            },
            check: Check::Steps(0.5),
        },
        Case {
            name: "pad_constant",
            input: vec![1, 2, 4, 4],
            range: (-2.0, 2.0),
            build: |b, _| {
                let p = b.constant_i64(&[8], vec![0, 0, 1, 2, 0, 0, 2, 1]);
                let v = b.constant(&[], vec![0.5]);
                b.node("Pad", &["x", &p, &v], vec![])
            },
            check: Check::Steps(1.0),
        },
        Case {
            name: "pad_reflect",
            input: vec![1, 2, 4, 4],
            range: (-2.0, 2.0),
            build: |b, _| {
                let p = b.constant_i64(&[8], vec![0, 0, 1, 2, 0, 0, 2, 1]);
                b.node("Pad", &["x", &p], vec![("mode", A::S("reflect"))])
            },
            check: Check::Steps(0.5),
        },
        Case {
            name: "pad_edge",
            input: vec![1, 2, 4, 4],
            range: (-2.0, 2.0),
            build: |b, _| {
                let p = b.constant_i64(&[8], vec![0, 0, 1, 2, 0, 0, 2, 1]);
                b.node("Pad", &["x", &p], vec![("mode", A::S("edge"))])
            },
            check: Check::Steps(0.5),
        },
        Case {
            name: "gather_const",
            input: vec![1, 5, 3],
            range: (-2.0, 2.0),
            build: |b, _| {
                let i = b.constant_i64(&[3], vec![4, 0, -1]);
                b.node("Gather", &["x", &i], vec![("axis", A::I(1))])
            },
            check: Check::Steps(0.5),
        },
        Case {
            name: "cast_float",
            input: vec![1, 3, 4],
            range: (-2.0, 2.0),
            build: |b, _| b.node("Cast", &["x"], vec![("to", A::I(1))]),
            check: Check::Steps(0.5),
        },
    ]
}

#[test]
fn every_operator_form_tracks_tract() {
    let mut failures = vec![];
    let all = cases();
    for case in &all {
        if let Err(e) = run(case) {
            failures.push(format!("{}: {e}", case.name));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), all.len(), failures.join("\n"));
}

#[test]
fn weights_in_an_external_data_file() {
    let dir = std::env::temp_dir().join(format!("solidml-ext-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut r = Rng(77);
    let weights: Vec<f32> = (0..32).map(|_| r.f32() - 0.5).collect();
    let mut blob = vec![0u8; 16]; // data at an offset, as large models do
    blob.extend(weights.iter().flat_map(|v| v.to_le_bytes()));
    std::fs::write(dir.join("weights.bin"), &blob).unwrap();
    let mut b = Builder::new("x", &[1, 8]);
    let wt = b.external_constant(&[8, 4], "weights.bin", 16, 128);
    let y = b.node("MatMul", &["x", &wt], vec![]);
    std::fs::write(dir.join("m.onnx"), b.finish(&y, &[], 17)).unwrap();
    let data = ArrayD::from_shape_vec(IxDyn(&[4, 1, 8]), (0..32).map(|i| i as f32 / 16.0 - 1.0).collect()).unwrap();
    let c = solidml_compiler::compile(&dir.join("m.onnx"), &CompileOptions::default().with_calibration(vec![data])).unwrap();
    assert_eq!(c.model.parameter_count(), 32 + 4);
    // a missing data file is a clear error
    std::fs::remove_file(dir.join("weights.bin")).unwrap();
    let err = solidml_compiler::compile(&dir.join("m.onnx"), &CompileOptions::default()).err().unwrap().to_string();
    assert!(err.contains("external data file `weights.bin`"), "{err}");
}
