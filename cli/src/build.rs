//! Compiling one ONNX model into its file set (artifact, summary, pure-Solidity contract,
//! precompile sibling) and evaluating it against the float model: shared by `compile`,
//! `init` and `check`.

use std::path::{Path, PathBuf};

use miette::Result;
use solidml_compiler::{CompileOptions, Compiled, eval, runner};

use crate::{Layout, data, error::CliError, name};

/// A compiled model and the files `compile` writes for it (paths relative to the output dir).
pub(crate) struct Built {
    pub compiled: Compiled,
    pub files: Vec<(String, Vec<u8>)>,
    /// The pure-Solidity contract's name, when the Solidity backend takes the model.
    pub evm_contract: Option<String>,
    /// `NAMEPrecompile.sol`.
    pub precompile_sibling: String,
    /// Things to tell the user (no pure-Solidity contract, split deployment).
    pub notes: Vec<String>,
}

/// Compile `model` and emit every file of its set, writing nothing.
pub(crate) fn build_model(
    model: &Path,
    calibration: &[PathBuf],
    name: Option<String>,
    layout: Layout,
    method: solidml_compiler::calibrate::CalibrationMethod,
    precision: solidml_compiler::Precision,
) -> Result<Built> {
    let mut opts = CompileOptions::default().with_calibration_method(method).with_precision(precision);
    if let Some(n) = name {
        if let Some(why) = name::invalid_reason(&n) {
            return Err(CliError::Usage(format!("--name: {why}")).into());
        }
        opts = opts.with_name(n);
    }
    if !calibration.is_empty() {
        opts = opts.with_calibration(calibration.iter().map(|p| data::read_f32(p)).collect::<Result<_, _>>()?);
    }
    let compiled = solidml_compiler::compile(model, &opts).map_err(CliError::from)?;
    let name = compiled.model.name.clone();
    let summary = crate::inspect::summary_json(&compiled.model, &compiled.artifact, &compiled.class_labels);
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (format!("{name}.smodel"), compiled.artifact.clone()),
        (format!("{name}.json"), (serde_json::to_string_pretty(&summary).unwrap() + "\n").into_bytes()),
    ];
    use solidml_solidity::{SolidityLayout, SolidityOptions};
    let layout = match layout {
        Layout::Fast => SolidityLayout::Fast,
        Layout::Compact => SolidityLayout::Compact,
    };
    let solidity = solidml_solidity::emit_model(&compiled.model, &compiled.model_id, &SolidityOptions::with_layout(layout));
    // the precompile sibling serves every model, whether or not the pure-EVM contract can
    let sibling = solidml_solidity::precompile_contract::emit(&compiled.model, &solidml_solidity::contract_name(&name), &compiled.model_id);
    let mut sources: Vec<(String, String)> =
        solidml_solidity::precompile_contract::IMPORTS.iter().map(|(p, c)| (p.to_string(), c.to_string())).collect();
    sources.push(sibling.clone());
    let mut notes = vec![];
    let evm_contract = match &solidity {
        Ok(e) => {
            sources.extend(e.files.iter().cloned());
            if !e.split_parts.is_empty() {
                notes.push(format!(
                    "{}.sol is too large for one creation transaction (EIP-3860): deploy {} first, then {}(addresses); {}Deploy.deploy() does it from a forge script",
                    e.contract,
                    e.split_parts.join(", "),
                    e.contract,
                    e.contract
                ));
            }
            Some(e.contract.clone())
        }
        Err(why) => {
            notes.push(format!("no pure-Solidity contract: {why}"));
            None
        }
    };
    files.extend(sources.into_iter().map(|(rel, text)| (rel, text.into_bytes())));
    Ok(Built { compiled, files, evm_contract, precompile_sibling: sibling.0, notes })
}

/// Write `files` (paths relative to `out`) all or nothing: into a fresh directory inside `out`
/// first, then renamed into place one by one (renames within one file system), so a failure
/// leaves no partial set of outputs behind.
pub(crate) fn write_all(out: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    let created = !out.exists();
    std::fs::create_dir_all(out).map_err(|e| CliError::io(out, e))?;
    let staging = out.join(format!(".solidml-staging-{}", std::process::id()));
    let result = (|| -> Result<()> {
        for (rel, bytes) in files {
            let p = staging.join(rel);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).map_err(|e| CliError::io(parent, e))?;
            }
            std::fs::write(&p, bytes).map_err(|e| CliError::io(&p, e))?;
        }
        for (rel, _) in files {
            let to = out.join(rel);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| CliError::io(parent, e))?;
            }
            std::fs::rename(staging.join(rel), &to).map_err(|e| CliError::io(&to, e))?;
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&staging);
    if result.is_err() && created {
        let _ = std::fs::remove_dir_all(out);
    }
    result
}

/// The float-vs-int8 comparison of `--eval` and of the accuracy guard: the float reference's
/// description and one report per model output.
pub(crate) struct Evaluation {
    pub reference: String,
    pub outputs: Vec<eval::OutputReport>,
}

/// Run the quantized model (CPU reference) and the float one (tract) on the evaluation data.
pub(crate) fn evaluate(onnx: &Path, model: &solidml_spec::Model, eval_data: &[PathBuf], labels: Option<&Path>) -> Result<Evaluation> {
    let samples = read_samples(model, eval_data)?;
    let labels = read_labels(labels, samples.len())?;
    evaluate_samples(onnx, model, &samples, labels.as_ref().and_then(|l| l.as_slice()))
}

/// `arrays` (read from `files`, one per model input) split into samples, an error naming the
/// file when one does not hold samples of its input's shape (`run`, `--eval`).
pub(crate) fn split_samples(
    model: &solidml_spec::Model,
    arrays: &[ndarray::ArrayD<f32>],
    files: &[PathBuf],
) -> Result<Vec<Vec<ndarray::ArrayD<f32>>>> {
    runner::samples(&runner::input_shapes(model), arrays).map_err(|e| match (e, files.first()) {
        // runner::samples words its errors for calibration data; here the data is the user's file
        (solidml_compiler::CompileError::Calibration(reason), Some(path)) => CliError::data(path, reason).into(),
        (e, _) => CliError::from(e).into(),
    })
}

/// The samples of `data` (one file per model input); 0 samples is an error.
fn read_samples(model: &solidml_spec::Model, data: &[PathBuf]) -> Result<Vec<Vec<ndarray::ArrayD<f32>>>> {
    let arrays: Vec<_> = data.iter().map(|p| data::read_f32(p)).collect::<Result<_, _>>()?;
    let samples = split_samples(model, &arrays, data)?;
    if samples.is_empty() {
        return Err(CliError::data(&data[0], "holds 0 samples: nothing to evaluate").into());
    }
    Ok(samples)
}

/// The labels file, checked to hold one label per sample.
fn read_labels(labels: Option<&Path>, samples: usize) -> Result<Option<ndarray::ArrayD<i64>>> {
    let Some(path) = labels else { return Ok(None) };
    let l = data::read_i64(path)?;
    if l.len() != samples {
        return Err(
            CliError::data(path, format!("holds {} labels for {samples} evaluation samples (one label per sample)", l.len())).into()
        );
    }
    Ok(Some(l))
}

/// [`evaluate`] on samples already read.
fn evaluate_samples(
    onnx: &Path,
    model: &solidml_spec::Model,
    samples: &[Vec<ndarray::ArrayD<f32>>],
    labels: Option<&[i64]>,
) -> Result<Evaluation> {
    let quantized: Vec<Vec<runner::Output>> =
        runner::run_samples(model, samples).map_err(CliError::from)?.into_iter().map(|(_, o)| o).collect();
    let reference = eval::FloatReference::load(onnx, &runner::input_shapes(model)).map_err(CliError::from)?;
    let (reference, float) = reference.run_all(onnx, samples).map_err(CliError::from)?;
    let outputs = model
        .outputs
        .iter()
        .enumerate()
        .map(|(i, &o)| {
            let q: Vec<_> = quantized.iter().map(|s| s[i].clone()).collect();
            let f: Vec<_> = float.iter().map(|s| s[i].clone()).collect();
            let t = model.tensor(o);
            let mut r = eval::compare_quantized(&t.name, &q, &f, labels, guard_step(t, &f));
            r.classification = eval::class_output(model, i);
            r
        })
        .collect();
    Ok(Evaluation { reference: reference.describe(), outputs })
}

/// The quantization whose step the guard counts errors in: an int8 output's own; for the wide
/// outputs (int16, int32), the step of an int8 quantization of the same reals (the int16
/// range in 255 steps; for an int32 output, the float model's range over the data), so the
/// guard's ceiling means the same at every precision.
fn guard_step(t: &solidml_spec::TensorInfo, float: &[runner::Output]) -> Option<solidml_spec::Quant> {
    use solidml_spec::{DType, Quant};
    let q = t.quant?;
    match t.dtype {
        DType::I16 => Some(Quant { scale: q.scale * (65535.0 / 255.0), ..q }),
        DType::I32 => {
            let (lo, hi) = float.iter().flat_map(|o| o.to_f32().into_iter()).fold((0f32, 0f32), |(a, b), x| (a.min(x), b.max(x)));
            (hi > lo && (hi - lo).is_finite()).then(|| Quant { scale: (hi - lo) / 255.0, zero_point: 0 })
        }
        _ => Some(q),
    }
}

/// The accuracy guard of `compile`: the int8 model against the float one on the `--eval` data
/// (all of it) or else the calibration data (its first [`eval::GUARD_SAMPLES`] finite
/// samples), per output, with the thresholds checked ([`eval::guard_failure`]) and, when one
/// is crossed, the error of every quantized tensor.
pub(crate) struct Guard {
    /// Which samples, in words (`200 calibration samples (digits_calib.npy)`).
    pub data: String,
    pub evaluation: Evaluation,
    /// Why the guard fails (empty: it passes).
    pub failures: Vec<String>,
    /// Per quantized tensor, worst first: when the guard fails.
    pub layers: Vec<eval::LayerError>,
}

/// What became of the accuracy guard.
pub(crate) enum GuardOutcome {
    Ran(Guard),
    /// Why it did not run (no data; no finite calibration sample; the float reference failed on
    /// the calibration data).
    NotRun(String),
}

/// Run the accuracy guard on `eval_data` (with `labels`) if given, else on `calibration`.
/// Bad `--eval` data is an error, as `--eval` always was; on calibration data, which the
/// compile accepted, a guard that cannot run says why instead of failing the compile.
pub(crate) fn guard(
    onnx: &Path,
    model: &solidml_spec::Model,
    calibration: &[PathBuf],
    eval_data: &[PathBuf],
    labels: Option<&Path>,
) -> Result<GuardOutcome> {
    let files = |paths: &[PathBuf]| paths.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", ");
    if !eval_data.is_empty() {
        let samples = read_samples(model, eval_data)?;
        let labels = read_labels(labels, samples.len())?;
        let data = format!("{} evaluation sample(s) ({})", samples.len(), files(eval_data));
        return Ok(GuardOutcome::Ran(run_guard(onnx, model, &samples, labels.as_ref().and_then(|l| l.as_slice()), data)?));
    }
    if calibration.is_empty() {
        return Ok(GuardOutcome::NotRun(
            "no data: give --calibration or --eval samples to compare the int8 model with the float one".into(),
        ));
    }
    let all = read_samples(model, calibration)?;
    let total = all.len();
    // samples with NaN or infinite values (reported by the compiler) are no test of accuracy
    let finite: Vec<_> = all.into_iter().filter(|s| s.iter().all(|a| a.iter().all(|v| v.is_finite()))).collect();
    let skipped = total - finite.len();
    if finite.is_empty() {
        return Ok(GuardOutcome::NotRun(format!("no calibration sample is free of NaN and infinite values ({})", files(calibration))));
    }
    let used = finite.len().min(eval::GUARD_SAMPLES);
    let samples: Vec<_> = finite.into_iter().take(eval::GUARD_SAMPLES).collect();
    let mut data = if used < total - skipped {
        format!("the first {used} of {} calibration samples ({})", total - skipped, files(calibration))
    } else {
        format!("{used} calibration sample(s) ({})", files(calibration))
    };
    if skipped > 0 {
        data += &format!("; {skipped} sample(s) with NaN or infinite values left out");
    }
    Ok(match run_guard(onnx, model, &samples, None, data) {
        Ok(g) => GuardOutcome::Ran(g),
        Err(e) => GuardOutcome::NotRun(format!("the float reference failed on the calibration data: {e}")),
    })
}

fn run_guard(
    onnx: &Path,
    model: &solidml_spec::Model,
    samples: &[Vec<ndarray::ArrayD<f32>>],
    labels: Option<&[i64]>,
    data: String,
) -> Result<Guard> {
    let evaluation = evaluate_samples(onnx, model, samples, labels)?;
    let failures: Vec<String> = evaluation.outputs.iter().filter_map(eval::guard_failure).collect();
    let layers = if failures.is_empty() { vec![] } else { eval::layer_errors(onnx, model, samples).map_err(CliError::from)? };
    Ok(Guard { data, evaluation, failures, layers })
}

/// The guard's report on stdout: which data, the per-output table, the verdict.
pub(crate) fn guard_table(g: &Guard) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s);
    let _ = writeln!(s, "accuracy guard: {}", g.data);
    s += &evaluation_table(&g.evaluation);
    if g.evaluation.outputs.iter().any(|r| !r.classification && r.values > 1) {
        let _ = writeln!(s, "(a top-1 agreement in parentheses: an output that is not class scores, not held to the 99% floor)");
    }
    if g.failures.is_empty() {
        let _ = writeln!(
            s,
            "passed: top-1 agreement ≥ {}% on class outputs and 99th-percentile error ≤ {} output steps",
            eval::GUARD_MIN_AGREEMENT * 100.0,
            eval::GUARD_MAX_STEPS
        );
    } else {
        let _ = writeln!(s, "FAILED: {}", g.failures.join("; "));
    }
    s
}

/// Rows of the per-tensor table printed when the guard fails (a larger model shows its worst
/// tensors, the first lossy one and the outputs).
const LAYER_ROWS: usize = 24;

/// The worst (lowest SQNR) tensors, at most `n`, as indices into `layers`.
fn worst(layers: &[eval::LayerError], n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..layers.len()).collect();
    order.sort_by(|&a, &b| layers[a].sqnr_db.total_cmp(&layers[b].sqnr_db));
    order.truncate(n);
    order
}

/// The float-vs-int8 error of the quantized tensors in execution order (the guard's failure
/// report), the first lossy tensor and the three worst marked.
pub(crate) fn layer_table(layers: &[eval::LayerError]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ =
        writeln!(s, "\nfloat vs int8 per quantized tensor, in execution order (SQNR: signal-to-quantization-noise ratio in dB, higher is");
    let _ = writeln!(s, "better; steps: max |err| in the tensor's quantization steps; clipped: float values outside its int8 range):");
    let _ = writeln!(
        s,
        "  {:<24} {:<9} {:>8} {:>11} {:>8} {:>22} {:>22} {:>8}  note",
        "tensor", "op", "SQNR dB", "max |err|", "steps", "float range", "int8 range", "clipped"
    );
    let worst3 = worst(layers, 3);
    let first = eval::first_lossy(layers).map(|l| l as *const _);
    // a long model: its worst tensors, the first lossy one and the rest up to LAYER_ROWS
    let keep: std::collections::HashSet<usize> = if layers.len() <= LAYER_ROWS {
        (0..layers.len()).collect()
    } else {
        let mut k: std::collections::HashSet<usize> = worst(layers, LAYER_ROWS - 1).into_iter().collect();
        k.extend(layers.iter().position(|l| Some(l as *const _) == first));
        k
    };
    let range = |(a, b): (f32, f32)| format!("[{a:.4}, {b:.4}]");
    for (i, l) in layers.iter().enumerate().filter(|(i, _)| keep.contains(i)) {
        let sqnr = if l.sqnr_db.is_finite() { format!("{:.1}", l.sqnr_db) } else { "exact".into() };
        let mut note = vec![];
        if Some(l as *const _) == first {
            note.push("the loss starts here".to_string());
        }
        if let Some(k) = worst3.iter().position(|&w| w == i) {
            note.push(format!("worst #{}", k + 1));
        }
        let row = format!(
            "  {:<24} {:<9} {:>8} {:>11.5} {:>8.1} {:>22} {:>22} {:>7.2}%  {}",
            l.name,
            l.op,
            sqnr,
            l.max_abs_error,
            l.max_error_steps,
            range(l.float_range),
            range(l.quant_range),
            l.clipped * 100.0,
            note.join(", ")
        );
        let _ = writeln!(s, "{}", row.trim_end());
    }
    if layers.len() > keep.len() {
        let _ = writeln!(s, "  … {} more tensor(s), each with a higher SQNR than those shown", layers.len() - keep.len());
    }
    s
}

/// The table `compile --eval` prints.
pub(crate) fn evaluation_table(e: &Evaluation) -> String {
    use std::fmt::Write;
    let mut table = String::new();
    let _ = writeln!(table, "float reference: {}", e.reference);
    let _ = writeln!(
        table,
        "{:<16} {:>8} {:>10} {:>12} {:>12} {:>10} {:>10} {:>10} {:>10}",
        "output", "samples", "top-1 agr", "max |err|", "mean |err|", "max steps", "p99 steps", "acc int8", "acc f32"
    );
    for r in &e.outputs {
        let (aq, af) =
            r.accuracy.map(|(a, b)| (format!("{:.2}%", a * 100.0), format!("{:.2}%", b * 100.0))).unwrap_or(("-".into(), "-".into()));
        let steps = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |s| format!("{s:.1}"));
        // top-1 of a regression output means little: its figure in parentheses, not held to
        // the guard's floor (a single value always "agrees": no figure)
        let agreement = if r.classification {
            format!("{:.2}%", r.top1_agreement * 100.0)
        } else if r.samples > 0 && r.top1_agreement.is_finite() && r.values > 1 {
            format!("({:.2}%)", r.top1_agreement * 100.0)
        } else {
            "-".into()
        };
        let _ = writeln!(
            table,
            "{:<16} {:>8} {:>10} {:>12.6} {:>12.6} {:>10} {:>10} {:>10} {:>10}",
            r.name,
            r.samples,
            agreement,
            r.max_abs_error,
            r.mean_abs_error,
            steps(r.max_error_steps),
            steps(r.p99_error_steps),
            aq,
            af
        );
    }
    table
}

/// The guard's failure as a miette report: a warning, or under `--strict` the error `compile`
/// exits with. Names the tensor where the loss starts and those that lose most (marked in
/// [`layer_table`]).
pub(crate) fn guard_report(g: &Guard, strict: bool) -> miette::Report {
    let describe = |l: &eval::LayerError| {
        let clipped = if l.clipped > 0.0 { format!(", {:.1}% of its values clipped", l.clipped * 100.0) } else { String::new() };
        let op = if l.op == "input" { "model input" } else { &l.op };
        format!("`{}` ({op}, SQNR {:.1} dB{clipped})", l.name, l.sqnr_db)
    };
    let mut names = vec![];
    if let Some(l) = eval::first_lossy(&g.layers) {
        names.push(format!("the loss starts at {}", describe(l)));
    }
    let worst: Vec<String> = worst(&g.layers, 3).into_iter().map(|i| describe(&g.layers[i])).collect();
    if !worst.is_empty() {
        names.push(format!("the tensors that lose most: {}", worst.join(", ")));
    }
    let message = format!("accuracy guard: the int8 model departs from the float model on {}: {}", g.data, g.failures.join("; "));
    let help = format!(
        "{} (per-tensor table on stderr). Calibrate on data like the model's real inputs, scaled as it expects, or try another --calibrate method; {}",
        if names.is_empty() { "no tensor of the artifact matched the ONNX graph by name".to_string() } else { names.join("; ") },
        if strict { "without --strict this is a warning" } else { "--strict makes this an error" }
    );
    if strict {
        miette::miette!(code = "solidml::accuracy", help = help, "{message}")
    } else {
        miette::miette!(severity = miette::Severity::Warning, code = "solidml::accuracy", help = help, "{message}")
    }
}
