//! The accuracy guard of `solidml compile` (the int8 model against the float one on the
//! `--eval` or calibration data, a warning naming the tensors that lose most, `--strict` an
//! error that writes nothing) and the input saturation `solidml run` reports.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

mod common;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn models() -> PathBuf {
    repo().join("examples/models")
}

fn model(file: &str) -> String {
    models().join(file).to_str().unwrap().to_string()
}

fn solidml(args: &[&str], dir: &Path) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_solidml")).args(args).current_dir(dir).env("NO_COLOR", "1").output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("solidml-guard-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// miette wraps long messages: the text with the frame and line breaks taken out.
fn flat(s: &str) -> String {
    s.replace('│', " ").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The figure in column `col` (0: the name) of the guard table's row for `output`.
fn figure(stdout: &str, output: &str, col: usize) -> f64 {
    let row = stdout.lines().find(|l| l.split_whitespace().next() == Some(output)).unwrap_or_else(|| panic!("no row {output}:\n{stdout}"));
    row.split_whitespace().nth(col).unwrap().trim_matches(['(', ')', '%']).parse().unwrap()
}

/// The digits MLP on its calibration data passes: the table per output, `passed`, no warning.
/// Without data the guard says it did not run; a calibration file of more than 256 samples is
/// cut to its first 256, and the report says so.
#[test]
fn a_model_that_keeps_its_accuracy_passes_the_guard() {
    let dir = tmp("pass");
    let (ok, out, err) =
        solidml(&["compile", &model("digits_mlp.onnx"), "--calibration", &model("digits_calib.npy"), "-o", "o", "--strict"], &dir);
    assert!(ok, "{err}");
    assert!(out.contains("accuracy guard: 200 calibration sample(s)"), "{out}");
    assert!(out.contains("float reference: tract") && out.contains("p99 steps"), "{out}");
    assert_eq!(figure(&out, "label", 2), 100.0, "{out}");
    assert_eq!(figure(&out, "probabilities", 2), 100.0, "{out}");
    // probabilities at 1/256: within 2 steps at most, 1 at the 99th percentile
    assert!(figure(&out, "probabilities", 5) <= 2.0 && figure(&out, "probabilities", 6) <= 1.0, "{out}");
    assert!(out.contains("passed: top-1 agreement ≥ 99% on class outputs and 99th-percentile error ≤ 8 output steps"), "{out}");
    assert!(!err.contains("accuracy guard") && !out.contains("FAILED"), "{err}");
    assert!(dir.join("o/digits_mlp.smodel").is_file());

    let (ok, out, err) = solidml(&["compile", &model("digits_mlp.onnx"), "-o", "o2"], &dir);
    assert!(ok, "{err}");
    assert!(out.contains("accuracy guard: not run (no data") && !out.contains("top-1 agr"), "{out}");
    // --strict asks for the guard: without data it is an error, and nothing is written
    let (ok, _, err) = solidml(&["compile", &model("digits_mlp.onnx"), "-o", "o4", "--strict"], &dir);
    assert!(!ok && flat(&err).contains("--strict: the accuracy guard cannot run: no data") && !dir.join("o4").exists(), "{err}");

    let (ok, out, err) = solidml(&["compile", &model("digits_mlp.onnx"), "--calibration", &model("digits_eval.npy"), "-o", "o3"], &dir);
    assert!(ok, "{err}");
    assert!(out.contains("accuracy guard: the first 256 of 1797 calibration samples"), "{out}");
    assert_eq!(figure(&out, "probabilities", 1), 256.0, "{out}");
}

/// Ranges cut to the central 50% of the calibration values (`--calibrate percentile
/// --percentile 50`) collapse the digits MLP: the compile warns, names the input as where the
/// loss starts and the tensors that lose most with the per-tensor table; `--strict` fails and
/// writes nothing.
#[test]
fn a_collapsing_model_warns_naming_tensors_and_strict_fails_writing_nothing() {
    let dir = tmp("collapse");
    let args = |out: &'static str| -> Vec<String> {
        [
            "compile",
            &model("digits_mlp.onnx"),
            "--calibration",
            &model("digits_calib.npy"),
            "--calibrate",
            "percentile",
            "--percentile",
            "50",
            "-o",
            out,
        ]
        .map(String::from)
        .to_vec()
    };
    let a = args("o");
    let (ok, out, err) = solidml(&a.iter().map(String::as_str).collect::<Vec<_>>(), &dir);
    // a warning: the files are written
    assert!(ok, "{err}");
    assert!(dir.join("o/digits_mlp.smodel").is_file());
    assert!(figure(&out, "label", 2) < 90.0 && out.contains("FAILED: output `label`: top-1 agreement"), "{out}");
    let e = flat(&err);
    assert!(e.contains("⚠ accuracy guard: the int8 model departs from the float model on 200 calibration sample(s)"), "{err}");
    assert!(e.contains("the loss starts at `input` (model input"), "{err}");
    assert!(e.contains("the tensors that lose most: `add_result2` (Dense"), "{err}");
    assert!(e.contains("--strict makes this an error"), "{err}");
    // the per-tensor table: every quantized tensor of the MLP, in execution order
    let table: Vec<&str> = err.lines().skip_while(|l| !l.contains("SQNR dB")).skip(1).take_while(|l| l.starts_with("  ")).collect();
    let names: Vec<&str> = table.iter().map(|l| l.split_whitespace().next().unwrap()).collect();
    assert_eq!(names, ["input", "next_activations", "next_activations1", "add_result2", "probabilities"], "{err}");
    assert!(table[0].ends_with("the loss starts here") && table[3].ends_with("worst #1"), "{err}");

    let mut strict = args("o2");
    strict.push("--strict".into());
    let (ok, out, err) = solidml(&strict.iter().map(String::as_str).collect::<Vec<_>>(), &dir);
    assert!(!ok && !err.contains("panicked"), "{err}");
    let e = flat(&err);
    assert!(e.contains("× accuracy guard: the int8 model departs") && e.contains("without --strict this is a warning"), "{err}");
    assert!(err.contains("the loss starts here") && out.contains("FAILED"), "{out}\n{err}");
    assert!(!dir.join("o2").exists(), "a --strict failure wrote files");
}

/// The digits CNN evaluated on unscaled pixels (0–16; it was calibrated on pixels / 16): the
/// guard runs on the `--eval` data, finds half the input clipped and says the loss starts
/// there; `run` on the same data counts the saturated input values, and on scaled data none.
#[test]
fn unscaled_inputs_are_caught_by_the_guard_and_counted_by_run() {
    let dir = tmp("unscaled");
    let (ok, out, err) = solidml(
        &[
            "compile",
            &model("digits_cnn.onnx"),
            "--calibration",
            &model("digits_cnn_calib.npy"),
            "--eval",
            &model("digits_eval.npy"),
            "--labels",
            &model("digits_eval_labels.npy"),
            "-o",
            "o",
        ],
        &dir,
    );
    assert!(ok, "{err}");
    assert!(out.contains("accuracy guard: 1797 evaluation sample(s)"), "{out}");
    // logits (a Gemm's) are not class scores by construction: the error ceiling catches them
    assert!(figure(&out, "logits", 2) < 99.0 && out.contains("FAILED: output `logits`: 99th-percentile error"), "{out}");
    let e = flat(&err);
    assert!(e.contains("the loss starts at `input` (model input") && e.contains("47.5% of its values clipped"), "{err}");

    let (ok, _, err) = solidml(&["run", "o/digits_cnn.smodel", "--input", &model("digits_eval.npy"), "-o", "r"], &dir);
    assert!(ok, "{err}");
    assert!(err.contains("54641 of 115008 input values saturated (input `input`)"), "{err}");
    let (ok, _, err) = solidml(&["run", "o/digits_cnn.smodel", "--input", &model("digits_cnn_eval.npy"), "-o", "r2"], &dir);
    assert!(ok, "{err}");
    assert!(!err.contains("saturated"), "{err}");
}

/// A regression output of several values (an `ai.onnx.ml` Scaler of 4 features) is held to the
/// error ceiling, not to top-1 agreement: its argmax flips between near-equal features at int8
/// precision (98.44% here, at 0.9 steps of error), which is no loss of accuracy.
#[test]
fn a_regression_output_is_held_to_the_error_ceiling_not_to_agreement() {
    let dir = tmp("regression");
    common::write_scaler_model(&dir);
    let (ok, out, err) = solidml(&["compile", "scaler.onnx", "--calibration", "x.npy", "-o", "o", "--strict"], &dir);
    assert!(ok, "{err}");
    let row = out.lines().find(|l| l.starts_with('y')).unwrap();
    assert!(row.contains("(98.44%)") && out.contains("passed") && out.contains("not held to the 99% floor"), "{out}");
    assert!(figure(&out, "y", 6) <= 1.0, "{out}");
}
