//! Randomized models end to end: ONNX graphs generated here (dense and convolutional chains
//! with activations, pooling, residual additions, concatenation, softmax), compiled with
//! calibration data, run by the CPU reference executor and compared with tract's float
//! execution of the same ONNX bytes. Also checks the artifact is canonical.

use ndarray::{ArrayD, IxDyn};
use solidml_compiler::{CompileOptions, eval::TractModel, runner};
use solidml_tests::{
    Rng,
    onnx_builder::{A, Builder},
};

fn weights(r: &mut Rng, n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|_| (r.f32() * 2.0 - 1.0) * scale).collect()
}

fn activation(b: &mut Builder, r: &mut Rng, x: &str) -> String {
    match r.range(0, 5) {
        0 => b.node("Relu", &[x], vec![]),
        1 => b.node("Sigmoid", &[x], vec![]),
        2 => b.node("Tanh", &[x], vec![]),
        3 => b.node("LeakyRelu", &[x], vec![("alpha", A::F(0.1))]),
        4 => b.node("Clip", &[x], vec![("min", A::F(-1.0)), ("max", A::F(1.0))]),
        _ => x.to_string(),
    }
}

/// A dense chain `[1, F] → (Gemm → activation)×k [→ Softmax]`.
fn dense_model(r: &mut Rng) -> (Vec<u8>, Vec<usize>) {
    let f = r.range(2, 24);
    let mut b = Builder::new("x", &[1, f]);
    let mut x = "x".to_string();
    let mut width = f;
    for _ in 0..r.range(1, 3) {
        let n = r.range(2, 20);
        let w = b.constant(&[n, width], weights(r, (n * width) as usize, 1.0 / (width as f32).sqrt()));
        let bias = b.constant(&[n], weights(r, n as usize, 0.2));
        x = b.node("Gemm", &[&x, &w, &bias], vec![("transB", A::I(1))]);
        x = activation(&mut b, r, &x);
        width = n;
    }
    if r.range(0, 2) == 0 {
        x = b.node("Softmax", &[&x], vec![("axis", A::I(1))]);
    }
    (b.finish(&x, &[1, width], 13), vec![1, f as usize])
}

/// A convolutional chain with pooling, an optional residual Add or Concat, then a head.
fn conv_model(r: &mut Rng) -> (Vec<u8>, Vec<usize>) {
    let (c, h) = (r.range(1, 3), r.range(5, 9));
    let mut b = Builder::new("x", &[1, c, h, h]);
    let mut x = "x".to_string();
    let mut ch = c;
    let mut size = h;
    for _ in 0..r.range(1, 2) {
        let g = if ch % 2 == 0 && r.range(0, 1) == 1 { 2 } else { 1 };
        let co = g * r.range(1, 3);
        let k = r.range(1, 3);
        let pad = k / 2;
        let w = b.constant(&[co, ch / g, k, k], weights(r, (co * (ch / g) * k * k) as usize, 1.0 / ((ch / g * k * k) as f32).sqrt()));
        let bias = b.constant(&[co], weights(r, co as usize, 0.1));
        let conv =
            b.node("Conv", &[&x, &w, &bias], vec![("kernel_shape", A::Is(vec![k, k])), ("pads", A::Is(vec![pad; 4])), ("group", A::I(g))]);
        let act = activation(&mut b, r, &conv);
        let same_shape = co == ch && 2 * pad == k - 1;
        size = size + 2 * pad - k + 1;
        x = match r.range(0, 2) {
            0 if same_shape => b.node("Add", &[&act, &x], vec![]),
            1 => {
                let other = b.node("Sigmoid", &[&act], vec![]);
                ch = 2 * co;
                b.node("Concat", &[&act, &other], vec![("axis", A::I(1))])
            }
            _ => {
                ch = co;
                act
            }
        };
        if size >= 4 && r.range(0, 1) == 1 {
            let pool = if r.range(0, 1) == 1 { "MaxPool" } else { "AveragePool" };
            x = b.node(pool, &[&x], vec![("kernel_shape", A::Is(vec![2, 2])), ("strides", A::Is(vec![2, 2]))]);
            size /= 2;
        }
    }
    let gap = b.node("GlobalAveragePool", &[&x], vec![]);
    let flat = b.node("Flatten", &[&gap], vec![]);
    let n = r.range(2, 6);
    let w = b.constant(&[ch, n], weights(r, (ch * n) as usize, 1.0));
    let y = b.node("MatMul", &[&flat, &w], vec![]);
    (b.finish(&y, &[1, n], 13), vec![1, c as usize, h as usize, h as usize])
}

fn samples(r: &mut Rng, shape: &[usize], n: usize) -> ArrayD<f32> {
    let mut s = vec![n];
    s.extend_from_slice(shape);
    let len = s.iter().product();
    ArrayD::from_shape_vec(IxDyn(&s), (0..len).map(|_| r.f32() * 2.0 - 1.0).collect()).unwrap()
}

fn check(seed: u32, make: fn(&mut Rng) -> (Vec<u8>, Vec<usize>)) {
    let mut r = Rng(seed);
    let (bytes, shape) = make(&mut r);
    let dir = std::env::temp_dir().join(format!("solidml-random-{seed}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.onnx");
    std::fs::write(&path, &bytes).unwrap();
    let calib = samples(&mut r, &shape, 64);
    let compiled = solidml_compiler::compile(&path, &CompileOptions::default().with_calibration(vec![calib.clone()]))
        .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    // canonical artifact
    let decoded = solidml_spec::decode(&compiled.artifact).unwrap();
    assert_eq!(solidml_spec::encode(&decoded).unwrap(), compiled.artifact);
    // evaluate on the calibration distribution (first 32 samples)
    let shapes = runner::input_shapes(&compiled.model);
    let all = runner::samples(&shapes, &[calib]).unwrap();
    let q = runner::run_samples(&compiled.model, &all[..32]).unwrap();
    let tract = TractModel::load(&path, &shapes).unwrap();
    let (mut max_err, mut sum_err, mut n, mut lo, mut hi) = (0f32, 0f32, 0usize, f32::INFINITY, f32::NEG_INFINITY);
    for (s, (_, out)) in all[..32].iter().zip(&q) {
        let f = tract.run(s).unwrap()[0].to_f32();
        for (a, b) in out[0].to_f32().iter().zip(f.iter()) {
            max_err = max_err.max((a - b).abs());
            sum_err += (a - b).abs();
            n += 1;
            lo = lo.min(*b);
            hi = hi.max(*b);
        }
    }
    let range = (hi - lo).max(1e-3);
    // int8 over a few layers: each layer adds about half an output step of rounding
    assert!(max_err <= 0.15 * range, "seed {seed}: max error {max_err} over output range {range}");
    assert!(sum_err / n as f32 <= 0.04 * range, "seed {seed}: mean error {} over output range {range}", sum_err / n as f32);
}

#[test]
fn random_dense_models_track_tract() {
    for seed in 1..=30 {
        check(seed * 7919, dense_model);
    }
}

#[test]
fn random_conv_models_track_tract() {
    for seed in 1..=30 {
        check(seed * 104_729, conv_model);
    }
}
