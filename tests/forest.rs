//! Tree ensembles end to end: `examples/models/forest_classifier.onnx` (scikit-learn's
//! RandomForestClassifier, 100 trees of depth ≤ 8, on the raw breast-cancer features) and
//! `forest_regressor.onnx` (GradientBoostingRegressor, 100 trees of depth 3, on the diabetes
//! data), both exported by skl2onnx as they come (`make_forest.py`).
//!
//! For each: the compiler's float semantics of the imported model equal onnxruntime's outputs
//! (saved by the script); the compiled model's labels agree with the float model's (classifier)
//! or its predictions are close to them (regressor, mean absolute error); and the CPU
//! reference, the JIT and the GPU executor give identical outputs on every evaluation sample,
//! the EVM (the generated contract in revm) on a few.
//!
//! Needs a GPU adapter (`bash scripts/vulkan-env.sh`) and solc (`bash scripts/forge-env.sh`)
//! unless `SOLIDML_SKIP` lists `gpu` or `forge`.

use ndarray::{ArrayD, Axis, IxDyn};
use solidml_compiler::{CompileOptions, Precision, ir, runner};
use solidml_exec::Value;
use solidml_tests::{tabular::*, *};

#[test]
fn forest_classifier_agrees_with_the_float_model_and_runs_bit_exactly_everywhere() {
    let eval = npy_f32("breast_cancer_eval.npy");
    let (float_labels, float_probabilities) =
        (npy_i64("forest_classifier_eval_float_labels.npy"), npy_f32("forest_classifier_eval_float_probabilities.npy"));
    assert_eq!((eval.shape(), float_probabilities.shape()), (&[569, 30][..], &[569, 2][..]));
    let xs = samples(&eval);

    // the float semantics are onnxruntime's: the same labels, the probabilities to f32 rounding
    for (i, outs) in float_outputs("forest_classifier.onnx", &xs).iter().enumerate() {
        assert_eq!(outs[0], ir::Value::Int(ArrayD::from_shape_vec(IxDyn(&[1]), vec![float_labels[i]]).unwrap()), "sample {i}");
        let p = outs[1].to_f32();
        for k in 0..2 {
            assert!(
                (p[[0, k]] - float_probabilities[[i, k]]).abs() < 1e-5,
                "sample {i}: {p} vs {}",
                float_probabilities.index_axis(Axis(0), i)
            );
        }
    }

    let opts = CompileOptions::default().with_calibration(vec![npy_f32("breast_cancer_calib.npy")]);
    let c = solidml_compiler::compile(&examples().join("forest_classifier.onnx"), &opts).unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(kinds(&c), ["Gather", "Sub", "Lut", "View", "MatMul", "Lut", "View", "Dense", "ArgMax", "Take", "View"]);
    // the raw features were rescaled per feature from the split values
    assert_eq!(c.model.input_quant.len(), 1);
    assert_eq!(c.class_labels, [("output_probability".to_string(), vec!["0".to_string(), "1".to_string()])]);

    let inputs: Vec<Vec<Value>> = xs.iter().map(|x| vec![runner::quantize_input(&c.model, 0, x)]).collect();
    let outs = run_everywhere(&c, &inputs, 190);
    let (mut agree, mut error) = (0, 0.0);
    for (i, out) in outs.iter().enumerate() {
        agree += usize::from(value_i64(&out[0]) == [float_labels[i]]);
        let p = runner::dequantize_output(&c.model, 1, &out[1]).to_f32();
        error += (p[[0, 1]] - float_probabilities[[i, 1]]).abs() as f64;
    }
    let n = outs.len();
    eprintln!(
        "forest classifier: {} spec nodes, {} parameters; labels agree with the float model on {agree} of {n} ({:.2}%); mean |p − p_float| {:.4}",
        c.model.nodes.len(),
        c.model.nodes.iter().map(|n| n.op.parameter_count()).sum::<u64>(),
        100.0 * agree as f64 / n as f64,
        error / n as f64
    );
    assert!(agree as f64 >= 0.99 * n as f64, "label agreement {agree} of {n} is under 99%");
    assert!(error / (n as f64) < 0.01, "mean |p − p_float| {} is not under 0.01", error / n as f64);
}

#[test]
fn forest_regressor_is_close_to_the_float_model_and_runs_bit_exactly_everywhere() {
    let (eval, float) = (npy_f32("forest_regressor_eval.npy"), npy_f32("forest_regressor_eval_float.npy"));
    assert_eq!((eval.shape(), float.shape()), (&[442, 10][..], &[442, 1][..]));
    let xs = samples(&eval);
    assert_float_regression("forest_regressor.onnx", &xs, &float);
    let mut maes = vec![];
    for precision in [Precision::Int8, Precision::Int16x16] {
        let opts = CompileOptions::default().with_calibration(vec![npy_f32("forest_regressor_calib.npy")]).with_precision(precision);
        let c = solidml_compiler::compile(&examples().join("forest_regressor.onnx"), &opts).unwrap();
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let last = if precision == Precision::Int8 { "Dense" } else { "DenseWide" };
        assert_eq!(kinds(&c), ["Gather", "Sub", "Lut", "View", "MatMul", "Lut", "View", last], "{precision:?}");
        let mae = regression_error(&c, &xs, &float, 150);
        eprintln!(
            "forest regressor {precision:?}: {} spec nodes; mean |y − y_float| {mae:.4} (predictions 42 to 317)",
            c.model.nodes.len()
        );
        maes.push(mae);
    }
    // measured: int8 1.07 (the output's step is 1.3), int16x16 0.75 (the leaf values and their
    // sum at int32: what is left is the features' quantization, a row within a code of a split
    // taking the other branch)
    assert!(maes[0] < 1.25, "int8 mean |error| {}", maes[0]);
    assert!(maes[1] < 0.8 * maes[0], "int16x16 mean |error| {} is not 20% under int8's {}", maes[1], maes[0]);
}
