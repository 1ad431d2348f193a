//! The CLI as users and tools call it: the file contract of `compile` and `run`, `inspect`'s
//! report (a snapshot: `SOLIDML_BLESS=1` rewrites it), and the errors bad input gets.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

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
fn malformed_files_get_clear_errors() {
    let dir = tmp("bad");
    let onnx = std::fs::read(repo().join("examples/models/digits_cnn.onnx")).unwrap();
    std::fs::write(dir.join("cut.onnx"), &onnx[..onnx.len() / 2]).unwrap();
    let (ok, _, err) = solidml(&["compile", "cut.onnx"], &dir);
    assert!(!ok);
    assert!(err.contains("is not a valid ONNX model"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    std::fs::write(dir.join("bad.smodel"), b"SOLIDML\0\x01\x00\xff\xff").unwrap();
    let (ok, _, err) = solidml(&["run", "bad.smodel", "--input", "x.npy"], &dir);
    assert!(!ok);
    assert!(err.contains("not a valid SolidML artifact") && err.contains("truncated or malformed"), "{err}");

    let (ok, _, err) = solidml(&["run", "missing.smodel", "--input", "x.npy"], &dir);
    assert!(!ok && err.contains("cannot read or write `missing.smodel`"), "{err}");

    // a .npy header claiming 1e9×64 float32 over 256 bytes of data: refused before allocating
    let (ok, _, err) = compile_digits_mlp(&dir, "o");
    assert!(ok, "{err}");
    std::fs::write(dir.join("lie.npy"), npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 64), }", 256)).unwrap();
    let (ok, _, err) = solidml(&["run", "o/digits_mlp.smodel", "--input", "lie.npy", "--output", "r1"], &dir);
    // miette wraps long messages: compare with the frame and line breaks taken out
    let flat = err.replace('│', " ").split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(!ok && flat.contains("declares shape [1000000000, 64]") && flat.contains("holds 256 bytes"), "{err}");
    assert!(!err.contains("panicked") && !dir.join("r1").exists(), "{err}");
    // zero samples: refused, and no empty output file left behind
    std::fs::write(dir.join("empty.npy"), npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 64), }", 0)).unwrap();
    let (ok, _, err) = solidml(&["run", "o/digits_mlp.smodel", "--input", "empty.npy", "--output", "r2"], &dir);
    assert!(!ok && err.contains("holds 0 samples"), "{err}");
    assert!(!err.contains("panicked") && !dir.join("r2").exists(), "{err}");
}

/// A version-1.0 `.npy` file: `header` (a dict literal) padded to 64 bytes, then `data` zeros.
fn npy(header: &str, data: usize) -> Vec<u8> {
    let mut h = header.to_string();
    while !(10 + h.len() + 1).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend_from_slice(&(h.len() as u16).to_le_bytes());
    b.extend_from_slice(h.as_bytes());
    b.resize(b.len() + data, 0);
    b
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
    g.node.push(node("first", "Hardmax", "x", "y"));
    g.node.push(node("second", "Celu", "y", "z"));
    onnx_bytes(g)
}

/// Sizes read from a model are checked before anything that large is allocated (issue: a Pad of
/// 1e9 hung, an Expand to 1e5×1e5 and an input of 2^40 elements aborted): each compile fails
/// at once with the element cap in its message, and writes nothing.
#[test]
fn oversized_tensors_are_refused_before_allocation() {
    let dir = tmp("oversized");
    let cases: [(&str, Vec<i64>, &str, Vec<i64>); 5] = [
        ("Pad", vec![1, 4], "pads", vec![0, 0, 0, 1_000_000_000]),
        ("Expand", vec![1, 1], "shape", vec![100_000, 100_000]),
        ("Tile", vec![1, 4], "repeats", vec![1_000_000_000, 1]),
        ("ConstantOfShape", vec![1, 4], "shape", vec![1 << 20, 1 << 20]),
        ("Relu", vec![1, 1 << 40], "", vec![]),
    ];
    for (op, x_dims, param, values) in cases {
        std::fs::write(dir.join("m.onnx"), one_node_model(op, &x_dims, param, &values)).unwrap();
        let started = std::time::Instant::now();
        let (ok, _, err) = solidml(&["compile", "m.onnx", "-o", "out"], &dir);
        let flat = err.replace('│', " ").split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(!ok && flat.contains("more than the 268435456 a tensor may hold"), "{op}: {err}");
        assert!(!err.contains("panicked") && !dir.join("out").exists(), "{op}: {err}");
        // a budget for the whole process, far above what the check takes (not a benchmark)
        assert!(started.elapsed().as_secs() < 10, "{op}: {:?}", started.elapsed());
    }
}

/// `y = op(x[, param])`, opset 17, with `param` an int64 initializer when named (ConstantOfShape
/// reads only its shape: `x` is an unused input).
fn one_node_model(op: &str, x_dims: &[i64], param: &str, values: &[i64]) -> Vec<u8> {
    use onnx_protobuf::{GraphProto, NodeProto, TensorProto};
    let mut n = NodeProto::new();
    n.name = "n".into();
    n.op_type = op.into();
    let mut g = GraphProto::new();
    g.name = "g".into();
    g.input.push(value_info("x", x_dims));
    if op != "ConstantOfShape" {
        n.input.push("x".into());
    }
    if !param.is_empty() {
        let mut t = TensorProto::new();
        t.name = param.into();
        t.data_type = 7; // int64
        t.dims = vec![values.len() as i64];
        t.int64_data = values.to_vec();
        g.initializer.push(t);
        n.input.push(param.into());
    }
    n.output.push("y".into());
    g.node.push(n);
    g.output.push(value_info("y", &[]));
    onnx_bytes(g)
}

/// `solidml precompile`: input from the command line, a file (`@FILE`) or standard input
/// (`-`), the same answer each way; a `--store` directory that does not exist is an error, and
/// a store file named `0x<id>.smodel` (as printed) is found.
#[test]
fn precompile_input_sources_and_store_directories() {
    let dir = tmp("precompile");
    let (ok, _, err) = compile_digits_mlp(&dir, "o");
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("o/digits_mlp.json")).unwrap()).unwrap();
    let id = json["modelId"].as_str().unwrap().to_string();
    let input = format!("{id}{}", "05".repeat(64));
    let (ok, by_arg, err) = solidml(&["precompile", &input, "--model", "o/digits_mlp.smodel"], &dir);
    assert!(ok && by_arg.starts_with("output 0x"), "{err}");
    std::fs::write(dir.join("call.hex"), format!("{input}\n")).unwrap();
    let (ok, by_file, err) = solidml(&["precompile", "@call.hex", "--model", "o/digits_mlp.smodel"], &dir);
    assert!(ok && by_file == by_arg, "{err}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_solidml"))
        .args(["precompile", "-", "--model", "o/digits_mlp.smodel"])
        .current_dir(&dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout) == by_arg);

    // malformed, empty and missing inputs: a clear error each, no panic
    std::fs::write(dir.join("bad.hex"), "0xzz").unwrap();
    std::fs::write(dir.join("empty.hex"), "").unwrap();
    for (arg, want) in
        [("@bad.hex", "`bad.hex` is not hex"), ("@no-such.hex", "cannot read or write `no-such.hex`"), ("0x1", "the input is not hex")]
    {
        let (ok, _, err) = solidml(&["precompile", arg, "--model", "o/digits_mlp.smodel"], &dir);
        assert!(!ok && err.contains(want) && !err.contains("panicked"), "{arg}: {err}");
    }
    let (ok, _, err) = solidml(&["precompile", "@empty.hex", "--model", "o/digits_mlp.smodel"], &dir);
    assert!(!ok && err.contains("code 1") && !err.contains("panicked"), "empty input: {err}");
    let (ok, _, err) = solidml(&["precompile", &input, "--store", "no-such-dir"], &dir);
    assert!(!ok && err.contains("no-such-dir") && !dir.join("no-such-dir").exists(), "{err}");
    std::fs::create_dir_all(dir.join("store")).unwrap();
    std::fs::copy(dir.join("o/digits_mlp.smodel"), dir.join(format!("store/{id}.smodel"))).unwrap();
    let (ok, by_store, err) = solidml(&["precompile", &input, "--store", "store"], &dir);
    assert!(ok && by_store == by_arg, "{err}");
}

/// `--name` is a Solidity identifier that no library file uses: a path, a keyword, a leading
/// digit or `SolidML` is refused before anything is written.
#[test]
fn compile_names_are_checked() {
    let dir = tmp("names");
    let m = repo().join("examples/models/digits_mlp.onnx");
    for bad in ["../x", "contract", "1model", "SolidML"] {
        let (ok, _, err) = solidml(&["compile", m.to_str().unwrap(), "--name", bad, "-o", "o"], &dir);
        assert!(!ok && err.contains("--name") && !err.contains("panicked"), "{bad}: {err}");
        assert!(!dir.join("o").exists() && !dir.join("x.smodel").exists(), "{bad}: something was written");
    }
    let (ok, out, err) = solidml(&["compile", m.to_str().unwrap(), "--name", "Digits_2", "-o", "o"], &dir);
    assert!(ok, "{err}");
    // the printed paths are the files written
    for line in out.lines().filter(|l| l.contains("solidity") || l.contains("precompile")) {
        let path = line.split_whitespace().last().unwrap();
        assert!(dir.join(path).is_file(), "{line}");
    }
}

/// A compile whose `--eval` fails writes nothing (the evaluation runs before the files are
/// written, and the files are staged then renamed into place).
#[test]
fn a_failed_compile_leaves_no_output() {
    let dir = tmp("failed_compile");
    let m = repo().join("examples/models");
    // evaluation data of the wrong width: [200, 64] is expected, [3, 5] given
    std::fs::write(dir.join("bad_eval.json"), "[[1,2,3,4,5],[1,2,3,4,5],[1,2,3,4,5]]").unwrap();
    let (ok, _, err) = solidml(
        &[
            "compile",
            m.join("digits_mlp.onnx").to_str().unwrap(),
            "--calibration",
            m.join("digits_calib.npy").to_str().unwrap(),
            "--eval",
            "bad_eval.json",
            "-o",
            "o",
        ],
        &dir,
    );
    assert!(!ok && !err.contains("panicked"), "{err}");
    assert!(!dir.join("o").exists(), "a failed compile left {:?}", std::fs::read_dir(dir.join("o")).map(|d| d.count()));
    let (ok, out, err) = solidml(
        &[
            "compile",
            m.join("digits_mlp.onnx").to_str().unwrap(),
            "--calibration",
            m.join("digits_calib.npy").to_str().unwrap(),
            "--eval",
            m.join("digits_calib.npy").to_str().unwrap(),
            "-o",
            "o",
        ],
        &dir,
    );
    assert!(ok && out.contains("top-1 agr"), "{err}");
    // labels of the wrong length are refused (they gave a bogus accuracy), and nothing is written
    std::fs::write(dir.join("labels.npy"), npy("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", 24)).unwrap();
    let (ok, _, err) = solidml(
        &[
            "compile",
            m.join("digits_mlp.onnx").to_str().unwrap(),
            "--calibration",
            m.join("digits_calib.npy").to_str().unwrap(),
            "--eval",
            m.join("digits_calib.npy").to_str().unwrap(),
            "--labels",
            "labels.npy",
            "-o",
            "o2",
        ],
        &dir,
    );
    let flat = err.replace('│', " ").split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(!ok && flat.contains("holds 3 labels for 200 evaluation samples") && !dir.join("o2").exists(), "{err}");
    let names: Vec<String> =
        std::fs::read_dir(dir.join("o")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(!names.iter().any(|n| n.starts_with(".solidml-staging")), "{names:?}");
}

/// `--eval` on a model tract cannot load (an `ai.onnx.ml` Scaler) compares against the
/// compiler's own float interpreter instead of failing, and says so.
#[test]
fn eval_works_where_tract_lacks_an_op() {
    use onnx_protobuf::{AttributeProto, GraphProto, NodeProto, attribute_proto};
    let dir = tmp("scaler_eval");
    let floats = |name: &str, v: &[f32]| {
        let mut a = AttributeProto::new();
        a.name = name.into();
        a.type_ = attribute_proto::AttributeType::FLOATS.into();
        a.floats = v.to_vec();
        a
    };
    let mut n = NodeProto::new();
    n.name = "scale".into();
    n.op_type = "Scaler".into();
    n.domain = "ai.onnx.ml".into();
    n.input.push("x".into());
    n.output.push("y".into());
    n.attribute.push(floats("offset", &[1.0, -2.0, 0.5, 0.0]));
    n.attribute.push(floats("scale", &[0.5, 2.0, 1.0, 0.25]));
    let mut g = GraphProto::new();
    g.name = "g".into();
    g.input.push(value_info("x", &[1, 4]));
    g.output.push(value_info("y", &[1, 4]));
    g.node.push(n);
    std::fs::write(dir.join("scaler.onnx"), onnx_bytes(g)).unwrap();
    let data: Vec<f32> = (0..64 * 4).map(|i| ((i * 37 % 101) as f32) / 10.0 - 5.0).collect();
    std::fs::write(dir.join("x.npy"), npy_f32(&[64, 4], &data)).unwrap();
    let (ok, out, err) = solidml(&["compile", "scaler.onnx", "--calibration", "x.npy", "--eval", "x.npy", "-o", "o"], &dir);
    assert!(ok, "{err}");
    assert!(out.contains("float reference: the compiler's float interpreter") && out.contains("top-1 agr"), "{out}");
}

/// A version-1.0 `.npy` file of float32 values.
fn npy_f32(shape: &[usize], values: &[f32]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let mut b = npy(&format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({},), }}", dims.join(", ")), 0);
    b.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    b
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

/// NaN and infinite calibration values are reported (how many, which input), and a calibration
/// file with no finite value is refused instead of giving a junk model.
#[test]
fn non_finite_calibration_values_are_reported() {
    let dir = tmp("nan_calibration");
    let m = repo().join("examples/models/digits_mlp.onnx");
    let mut data: Vec<f32> = (0..8 * 64).map(|i| (i % 17) as f32).collect();
    data[5] = f32::NAN;
    data[70] = f32::INFINITY;
    std::fs::write(dir.join("some_nan.npy"), npy_f32(&[8, 64], &data)).unwrap();
    let (ok, _, err) = solidml(&["compile", m.to_str().unwrap(), "--calibration", "some_nan.npy", "-o", "o"], &dir);
    assert!(ok && err.contains("2 of 512 values are NaN or infinite"), "{err}");
    std::fs::write(dir.join("all_nan.npy"), npy_f32(&[2, 64], &[f32::NAN; 128])).unwrap();
    let (ok, _, err) = solidml(&["compile", m.to_str().unwrap(), "--calibration", "all_nan.npy", "-o", "o2"], &dir);
    let flat = err.replace('│', " ").split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(!ok && flat.contains("all 128 values are NaN or infinite") && !dir.join("o2").exists(), "{err}");
}

/// One 3e38 among the digits' pixel values (it took the MLP from 99.1% to 9.9% agreement,
/// silently) fails the compile, naming the value and where it is.
#[test]
fn a_calibration_outlier_fails_the_compile_naming_it() {
    let dir = tmp("outlier");
    let m = repo().join("examples/models");
    let mut data: Vec<f32> = (0..16 * 64).map(|i| (i % 17) as f32).collect();
    data[3 * 64 + 10] = 3e38;
    std::fs::write(dir.join("outlier.npy"), npy_f32(&[16, 64], &data)).unwrap();
    let (ok, _, err) = solidml(&["compile", m.join("digits_mlp.onnx").to_str().unwrap(), "--calibration", "outlier.npy", "-o", "o"], &dir);
    let flat = err.replace('│', " ").split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(!ok && flat.contains("3e38 (sample 3, element 10)") && !dir.join("o").exists(), "{err}");
    // the real calibration data has no outlier
    let (ok, _, err) = compile_digits_mlp(&dir, "o");
    assert!(ok, "{err}");
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

/// A float32 graph input or output named `name` with static dimensions `dims`.
fn value_info(name: &str, dims: &[i64]) -> onnx_protobuf::ValueInfoProto {
    use onnx_protobuf::{TypeProto, ValueInfoProto, tensor_shape_proto, type_proto};
    let mut shape = onnx_protobuf::TensorShapeProto::new();
    for &d in dims {
        let mut dim = tensor_shape_proto::Dimension::new();
        dim.value = Some(tensor_shape_proto::dimension::Value::DimValue(d));
        shape.dim.push(dim);
    }
    let mut tt = type_proto::Tensor::new();
    tt.elem_type = 1;
    tt.shape = Some(shape).into();
    let mut tp = TypeProto::new();
    tp.value = Some(type_proto::Value::TensorType(tt));
    let mut v = ValueInfoProto::new();
    v.name = name.into();
    v.type_ = Some(tp).into();
    v
}

/// A model file (IR 8, opsets 17 and `ai.onnx.ml` 3) holding `g`.
fn onnx_bytes(g: onnx_protobuf::GraphProto) -> Vec<u8> {
    use onnx_protobuf::{Message, ModelProto, OperatorSetIdProto};
    let mut m = ModelProto::new();
    m.ir_version = 8;
    for (domain, version) in [("", 17), ("ai.onnx.ml", 3)] {
        let mut op = OperatorSetIdProto::new();
        op.domain = domain.into();
        op.version = version;
        m.opset_import.push(op);
    }
    m.graph = Some(g).into();
    m.write_to_bytes().unwrap()
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
