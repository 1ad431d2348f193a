//! The CLI as users and tools call it: the file contract of `compile` and `run`, `inspect`'s
//! report and the unsupported-operator report (snapshots: `SOLIDML_BLESS=1` rewrites them),
//! `--eval` without tract, ZipMap, the calibration methods. The errors bad input gets are one
//! table in `bad_inputs.rs`.

mod common;

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use common::{npy_f32, onnx_bytes, value_info, write_scaler_model};

#[allow(unreachable_pub)]
#[path = "../../tests/skip.rs"]
#[allow(dead_code)]
mod skip;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn solidml(args: &[&str], dir: &Path) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_solidml")).args(args).current_dir(dir).env("NO_COLOR", "1").output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("solidml-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn snapshot(name: &str, actual: &str) {
    let path = repo().join("cli/tests/snapshots").join(name);
    if std::env::var("SOLIDML_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(actual, expected, "snapshot {name} differs (SOLIDML_BLESS=1 to accept)");
}

#[test]
fn compile_writes_artifact_and_json_then_run_and_inspect() {
    let dir = tmp("flow");
    let m = repo().join("examples/models");
    let (ok, out, err) = compile_digits_mlp(&dir, "o");
    assert!(ok, "{err}");
    assert!(out.contains("modelId      0x"));
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("o/digits_mlp.json")).unwrap()).unwrap();
    assert_eq!(json["inputs"][0]["shape"], serde_json::json!([1, 64]));
    assert_eq!(json["outputs"][0]["name"], "label");
    assert_eq!(json["outputs"][1]["name"], "probabilities");
    assert_eq!(json["outputs"][1]["scale"], serde_json::json!(1.0 / 256.0));
    let bytes = std::fs::read(dir.join("o/digits_mlp.smodel")).unwrap();
    assert_eq!(json["modelId"], format!("0x{}", hex::encode(solidml_spec::keccak256(&bytes))));

    let (ok, _, err) =
        solidml(&["run", "o/digits_mlp.smodel", "--input", m.join("digits_calib.npy").to_str().unwrap(), "--output", "r"], &dir);
    assert!(ok, "{err}");
    let probs = std::fs::read(dir.join("r/probabilities.npy")).unwrap();
    assert!(String::from_utf8_lossy(&probs[..80]).contains("(200, 10)"));
    let labels = std::fs::read(dir.join("r/label.npy")).unwrap();
    assert!(String::from_utf8_lossy(&labels[..80]).contains("'<i8'") && String::from_utf8_lossy(&labels[..80]).contains("(200,)"));

    // a JSON input with one sample
    std::fs::write(dir.join("x.json"), format!("[[{}]]", vec!["0"; 64].join(","))).unwrap();
    let (ok, _, err) = solidml(&["run", "o/digits_mlp.smodel", "--input", "x.json", "--output", "j", "--raw"], &dir);
    assert!(ok, "{err}");
    assert!(dir.join("j/probabilities.npy").exists());

    // --fixed: the int256 values of predict, exact
    let (ok, out, err) = solidml(&["run", "o/digits_mlp.smodel", "--input", "x.json", "--fixed"], &dir);
    assert!(ok, "{err}");
    let line: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(line["inputs"][0].as_array().unwrap().len(), 64);
    assert_eq!(line["inputs"][0][0], "0");
    let probs: Vec<i128> = line["outputs"][1].as_array().unwrap().iter().map(|v| v.as_str().unwrap().parse().unwrap()).collect();
    assert_eq!(probs.len(), 10);
    // probabilities are multiples of 1/256 in 18-decimal fixed point
    assert!(probs.iter().all(|p| p % 3_906_250_000_000_000 == 0), "{probs:?}");

    let (ok, out, err) = solidml(&["inspect", "o/digits_mlp.smodel"], &dir);
    assert!(ok, "{err}");
    snapshot("inspect_digits_mlp.txt", &out);
}

#[test]
fn unsupported_models_list_every_node() {
    let dir = tmp("unsupported");
    // the ONNX backend suite's ConvTranspose case, if the Python env is present; otherwise a
    // model made here with two unsupported nodes
    let model = two_unsupported_nodes();
    std::fs::write(dir.join("m.onnx"), model).unwrap();
    let (ok, _, err) = solidml(&["compile", "m.onnx"], &dir);
    assert!(!ok);
    snapshot("unsupported.txt", &err);
}

/// An ONNX model (written with onnx-protobuf) using two ops SolidML lacks.
fn two_unsupported_nodes() -> Vec<u8> {
    use onnx_protobuf::{GraphProto, NodeProto};
    let node = |name: &str, op: &str, i: &str, o: &str| {
        let mut n = NodeProto::new();
        n.name = name.into();
        n.op_type = op.into();
        n.input.push(i.into());
        n.output.push(o.into());
        n
    };
    let mut g = GraphProto::new();
    g.name = "g".into();
    g.input.push(value_info("x", &[1, 4]));
    g.output.push(value_info("z", &[1, 4]));
    g.node.push(node("first", "NonZero", "x", "y"));
    // a random op: no exact int8 form will ever exist for it
    g.node.push(node("second", "Bernoulli", "y", "z"));
    onnx_bytes(g)
}

/// `--eval` on a model tract cannot load (an `ai.onnx.ml` Scaler) compares against the
/// compiler's own float interpreter instead of failing, and says so.
#[test]
fn eval_works_where_tract_lacks_an_op() {
    let dir = tmp("scaler_eval");
    write_scaler_model(&dir);
    let (ok, out, err) = solidml(&["compile", "scaler.onnx", "--calibration", "x.npy", "--eval", "x.npy", "-o", "o"], &dir);
    assert!(ok, "{err}");
    assert!(out.contains("float reference: the compiler's float interpreter") && out.contains("top-1 agr"), "{out}");
}

/// skl2onnx's default export ends in a ZipMap: it compiles, the probabilities come back as a
/// tensor and the class labels are recorded in NAME.json.
#[test]
fn zip_map_outputs_compile_with_their_labels() {
    use onnx_protobuf::{AttributeProto, GraphProto, NodeProto, ValueInfoProto, attribute_proto};
    let dir = tmp("zipmap");
    let x = value_info("x", &[1, 3]);
    let mut y = ValueInfoProto::new();
    y.name = "output_probability".into();
    let mut softmax = NodeProto::new();
    softmax.op_type = "Softmax".into();
    softmax.input.push("x".into());
    softmax.output.push("p".into());
    let mut zip = NodeProto::new();
    zip.op_type = "ZipMap".into();
    zip.domain = "ai.onnx.ml".into();
    zip.input.push("p".into());
    zip.output.push("output_probability".into());
    let mut labels = AttributeProto::new();
    labels.name = "classlabels_int64s".into();
    labels.type_ = attribute_proto::AttributeType::INTS.into();
    labels.ints = vec![3, 7, 9];
    zip.attribute.push(labels);
    let mut g = GraphProto::new();
    g.name = "g".into();
    g.input.push(x);
    g.output.push(y);
    g.node.push(softmax);
    g.node.push(zip);
    std::fs::write(dir.join("clf.onnx"), onnx_bytes(g)).unwrap();
    let data: Vec<f32> = (0..32 * 3).map(|i| ((i * 13 % 29) as f32) / 7.0 - 2.0).collect();
    std::fs::write(dir.join("x.npy"), npy_f32(&[32, 3], &data)).unwrap();
    let (ok, _, err) = solidml(&["compile", "clf.onnx", "--calibration", "x.npy", "-o", "o"], &dir);
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("o/clf.json")).unwrap()).unwrap();
    assert_eq!(json["outputs"][0]["name"], "output_probability");
    assert_eq!(json["outputs"][0]["class_labels"], serde_json::json!(["3", "7", "9"]));
    assert_eq!(json["outputs"][0]["shape"], serde_json::json!([1, 3]));
}

/// `--calibrate`: a moderate outlier (400 among pixels of 0–16, under the refusal bound)
/// stretches min/max's input range and percentile clips it; entropy keeps it (one value in
/// 12,800 weighs less in KL than coarser steps for the rest: the method fits distributions,
/// it does not remove outliers); every method keeps the digits MLP above 99% agreement.
#[test]
fn calibration_methods_narrow_an_outlier_s_range() {
    let dir = tmp("calibrate");
    let m = repo().join("examples/models");
    let mut data: Vec<f32> = (0..200 * 64).map(|i| ((i * 7) % 17) as f32).collect();
    data[3 * 64 + 10] = 400.0;
    std::fs::write(dir.join("cal.npy"), npy_f32(&[200, 64], &data)).unwrap();
    let input_scale = |out: &str| -> f64 {
        let j: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join(out).join("digits_mlp.json")).unwrap()).unwrap();
        j["inputs"][0]["scale"].as_f64().unwrap()
    };
    let model = m.join("digits_mlp.onnx");
    let eval = m.join("digits_eval.npy");
    let mut scales = vec![];
    for (method, out) in [
        (&["--calibrate", "minmax"][..], "mm"),
        (&["--calibrate", "percentile", "--percentile", "99.9"], "pc"),
        (&["--calibrate", "entropy"], "en"),
    ] {
        let args =
            [&["compile", model.to_str().unwrap(), "--calibration", "cal.npy", "-o", out, "--eval", eval.to_str().unwrap()][..], method]
                .concat();
        let (ok, stdout, err) = solidml(&args, &dir);
        assert!(ok, "{method:?}: {err}");
        let agreement: f64 = stdout
            .lines()
            .find(|l| l.starts_with("label"))
            .unwrap()
            .split_whitespace()
            .nth(2)
            .unwrap()
            .trim_end_matches('%')
            .parse()
            .unwrap();
        assert!(agreement > 99.0, "{method:?}: {stdout}");
        scales.push(input_scale(out));
    }
    // min/max spans 0..400; percentile clips the outlier (about 0..16); entropy never widens
    assert!(scales[0] > 1.5, "{scales:?}");
    assert!(scales[1] < 0.1, "{scales:?}");
    assert!(scales[2] <= scales[0], "{scales:?}");
    let (ok, _, err) =
        solidml(&["compile", model.to_str().unwrap(), "--calibration", "cal.npy", "--calibrate", "percentile", "--percentile", "0"], &dir);
    assert!(!ok && err.contains("--percentile 0: a share in percent"), "{err}");
}

/// `solidml compile` of the example digits MLP with its calibration data into `dir/out`.
fn compile_digits_mlp(dir: &Path, out: &str) -> (bool, String, String) {
    let m = repo().join("examples/models");
    solidml(
        &["compile", m.join("digits_mlp.onnx").to_str().unwrap(), "--calibration", m.join("digits_calib.npy").to_str().unwrap(), "-o", out],
        dir,
    )
}

/// A GPU run where `XDG_RUNTIME_DIR` is not set (containers, CI) prints no Wayland noise: the
/// binary points the variable at a private directory before the Vulkan loader starts.
#[test]
fn gpu_runs_print_no_window_system_noise() {
    if skip::skipping("gpu") {
        return;
    }
    let dir = tmp("xdg");
    let (ok, _, err) = compile_digits_mlp(&dir, "o");
    assert!(ok, "{err}");
    let eval = repo().join("examples/models/digits_eval.npy");
    let out = Command::new(env!("CARGO_BIN_EXE_solidml"))
        .args(["run", "o/digits_mlp.smodel", "--input", eval.to_str().unwrap(), "-o", "r", "--backend", "gpu"])
        .current_dir(&dir)
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && err.contains("Vulkan") {
        skip::missing("gpu", &format!("no Vulkan device: {err}"), skip::INSTALL_GPU);
    }
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("XDG_RUNTIME_DIR"), "window-system noise on stderr:\n{err}");
}

/// `solidml run --backend jit` writes exactly the files the CPU reference writes (digits CNN:
/// Conv, MaxPool, Dense on the JIT, the rest on its fallback).
#[test]
fn the_jit_backend_runs_like_the_reference() {
    let dir = tmp("jit");
    let m = repo().join("examples/models");
    let (ok, _, err) = solidml(
        &[
            "compile",
            m.join("digits_cnn.onnx").to_str().unwrap(),
            "--calibration",
            m.join("digits_cnn_calib.npy").to_str().unwrap(),
            "-o",
            "o",
        ],
        &dir,
    );
    assert!(ok, "{err}");
    let eval = m.join("digits_cnn_eval.npy");
    for backend in ["cpu", "jit"] {
        let (ok, _, err) =
            solidml(&["run", "o/digits_cnn.smodel", "--input", eval.to_str().unwrap(), "-o", backend, "--backend", backend], &dir);
        assert!(ok, "--backend {backend}: {err}");
    }
    let mut files: Vec<_> = std::fs::read_dir(dir.join("cpu")).unwrap().map(|e| e.unwrap().file_name()).collect();
    files.sort();
    assert!(!files.is_empty());
    for f in &files {
        let (a, b) = (std::fs::read(dir.join("cpu").join(f)).unwrap(), std::fs::read(dir.join("jit").join(f)).unwrap());
        assert!(a == b && !a.is_empty(), "{f:?} differs between --backend cpu and --backend jit");
    }
}

#[test]
fn bench_writes_each_backend_s_figure_as_json() {
    // timings vary, so the contract is checked, not the figures: one row per model and backend
    // that ran, the GEMM on the JIT's every tile kernel this CPU runs, each with a positive time
    let dir = tmp("bench");
    let model = repo().join("examples/models/digits_cnn.onnx");
    let (ok, out, err) =
        solidml(&["bench", model.to_str().unwrap(), "--iters", "2", "--no-gpu", "--gemm", "40", "--json", "bench.json"], &dir);
    assert!(ok, "{err}");
    assert!(out.contains("int8 GEMM 40x40x40 (64000 MACs):"), "{out}");
    let figures: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(dir.join("bench.json")).unwrap()).unwrap();
    let backends =
        |model: &str| -> Vec<&str> { figures.iter().filter(|f| f["model"] == model).map(|f| f["backend"].as_str().unwrap()).collect() };
    for f in &figures {
        assert!(f["median_us"].as_f64().unwrap() > 0.0 && f["macs"].as_u64().is_some(), "{f}");
    }
    // tract and onnxruntime (`.venv`, absent here) add rows where they ran
    assert_eq!(backends("digits_cnn")[..2], ["cpu", "jit"]);
    assert!(figures.iter().filter(|f| f["model"] == "digits_cnn").all(|f| f["macs"] == 23_200));
    let mut kernels: Vec<String> = vec!["cpu".into(), "jit".into()];
    for kernel in solidml_jit::Kernel::available().into_iter().rev().skip(1) {
        kernels.push(format!("jit-{kernel:?}").to_lowercase());
    }
    assert_eq!(backends("gemm40"), kernels.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(figures.iter().filter(|f| f["model"] == "gemm40").all(|f| f["macs"] == 64_000));
}

#[test]
fn trace_and_steps_of_the_digits_mlp() {
    let dir = tmp("trace");
    let (ok, _, err) = compile_digits_mlp(&dir, "o");
    assert!(ok, "{err}");
    std::fs::write(dir.join("x.json"), format!("[[{}]]", vec!["3"; 64].join(","))).unwrap();
    // the plan and the step contracts
    let (ok, out, err) = solidml(&["steps", "o/digits_mlp.smodel", "-o", "s"], &dir);
    assert!(ok, "{err}");
    snapshot("steps_digits_mlp.txt", &out);
    let sols =
        std::fs::read_dir(dir.join("s")).unwrap().filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".sol")).count();
    assert_eq!(sols, 8, "one contract per step after the input");
    let step1 = std::fs::read_to_string(dir.join("s/digits_mlp_step1.sol")).unwrap();
    assert!(step1.contains("uint256 public constant STEP = 1;") && step1.contains("function runStep(bytes[] calldata leaves)"), "{step1}");
    // a trace: its file, its root
    let (ok, out, err) = solidml(&["trace", "o/digits_mlp.smodel", "--input", "x.json", "-o", "t.trace"], &dir);
    assert!(ok, "{err}");
    assert!(out.contains("steps      9 (") && out.contains("4 rounds of bisection") && out.contains("root       0x"), "{out}");
    assert_eq!(&std::fs::read(dir.join("t.trace")).unwrap()[..8], b"SOLIDMLT");
    // the same trace twice: the same root
    let (_, again, _) = solidml(&["trace", "o/digits_mlp.smodel", "--input", "x.json", "-o", "t2.trace"], &dir);
    let root = |s: &str| s.lines().find(|l| l.starts_with("root")).unwrap().to_string();
    assert_eq!(root(&out), root(&again));
    // bad requests
    let (ok, _, err) = solidml(&["steps", "o/digits_mlp.smodel", "--step", "0"], &dir);
    assert!(!ok && err.contains("step 0 has no contract"), "{err}");
    let (ok, _, err) = solidml(&["trace", "o/digits_mlp.smodel", "--input", "x.json", "--sample", "3"], &dir);
    assert!(!ok && err.contains("sample 3 asked, the input holds 1"), "{err}");
    // compile --steps writes them beside the model
    let (ok, out, err) = solidml(
        &[
            "compile",
            repo().join("examples/models/digits_mlp.onnx").to_str().unwrap(),
            "--calibration",
            repo().join("examples/models/digits_calib.npy").to_str().unwrap(),
            "-o",
            "with_steps",
            "--steps",
        ],
        &dir,
    );
    assert!(ok, "{err}");
    assert!(out.contains("steps        with_steps/digits_mlp_steps"), "{out}");
    assert!(dir.join("with_steps/digits_mlp_steps/digits_mlp_step8.sol").exists());
}

/// `--precision int16` (16x8) on the diabetes regressor: the summary names the wide types,
/// `inspect` the DenseWide layers, and `run` writes predictions near the float model's (the
/// accumulator output dequantized), while `--raw` keeps the int32 codes as int32.
#[test]
fn compile_at_int16_precision_then_run_and_inspect() {
    let dir = tmp("int16");
    let m = repo().join("examples/models");
    let model = m.join("diabetes.onnx");
    let (calib, eval) = (m.join("diabetes_calib.npy"), m.join("diabetes_eval.npy"));
    let args = ["compile", model.to_str().unwrap(), "--calibration", calib.to_str().unwrap(), "--precision", "int16", "-o", "o"];
    let (ok, _, err) = solidml(&args, &dir);
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("o/diabetes.json")).unwrap()).unwrap();
    assert_eq!(json["inputs"][0]["dtype"], "int16");
    assert_eq!(json["outputs"][0]["dtype"], "int32");
    let (ok, out, err) = solidml(&["inspect", "o/diabetes.smodel"], &dir);
    assert!(ok, "{err}");
    assert_eq!(out.matches("DenseWide").count(), 3, "{out}");
    let (ok, _, err) = solidml(&["run", "o/diabetes.smodel", "--input", eval.to_str().unwrap(), "-o", "r"], &dir);
    assert!(ok, "{err}");
    let read = |p: &Path| solidml_compiler::npy::read_f32(&std::fs::read(p).unwrap()).unwrap();
    let (got, want) = (read(&dir.join("r/variable.npy")), read(&m.join("diabetes_eval_float.npy")));
    assert_eq!(got.shape(), want.shape());
    let mae = got.iter().zip(&want).map(|(a, b)| (a - b).abs() as f64).sum::<f64>() / got.len() as f64;
    assert!(mae < 0.2, "mean |error| {mae} against the float model");
    let (ok, _, err) = solidml(&["run", "o/diabetes.smodel", "--input", eval.to_str().unwrap(), "-o", "q", "--raw"], &dir);
    assert!(ok, "{err}");
    let header = std::fs::read(dir.join("q/variable.npy")).unwrap();
    assert!(String::from_utf8_lossy(&header[..80]).contains("'descr': '<i4'"), "raw int32 codes stay int32");
    // a precision that does not exist is a usage error naming the choices
    let (ok, _, err) = solidml(&["compile", model.to_str().unwrap(), "--precision", "int4"], &dir);
    assert!(!ok && err.contains("int16x16"), "{err}");
}
