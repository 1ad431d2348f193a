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
) -> Result<Built> {
    let mut opts = CompileOptions::default().with_calibration_method(method);
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

/// The float-vs-int8 comparison of `--eval`: the float reference's description and one report
/// per model output.
pub(crate) struct Evaluation {
    pub reference: String,
    pub outputs: Vec<eval::OutputReport>,
}

/// Run the quantized model (CPU reference) and the float one (tract) on the evaluation data.
pub(crate) fn evaluate(onnx: &Path, model: &solidml_spec::Model, eval_data: &[PathBuf], labels: Option<&Path>) -> Result<Evaluation> {
    let arrays: Vec<_> = eval_data.iter().map(|p| data::read_f32(p)).collect::<Result<_, _>>()?;
    let shapes = runner::input_shapes(model);
    let samples = runner::samples(&shapes, &arrays).map_err(CliError::from)?;
    if samples.is_empty() {
        return Err(CliError::data(&eval_data[0], "holds 0 samples: nothing to evaluate").into());
    }
    let labels = match labels {
        Some(path) => {
            let l = data::read_i64(path)?;
            if l.len() != samples.len() {
                return Err(CliError::data(
                    path,
                    format!("holds {} labels for {} evaluation samples (one label per sample)", l.len(), samples.len()),
                )
                .into());
            }
            Some(l)
        }
        None => None,
    };
    let quantized: Vec<Vec<runner::Output>> =
        runner::run_samples(model, &samples).map_err(CliError::from)?.into_iter().map(|(_, o)| o).collect();
    let reference = eval::FloatReference::load(onnx, &shapes).map_err(CliError::from)?;
    let float: Vec<Vec<runner::Output>> = samples.iter().map(|s| reference.run(s)).collect::<Result<_, _>>().map_err(CliError::from)?;
    let outputs = model
        .outputs
        .iter()
        .enumerate()
        .map(|(i, &o)| {
            let q: Vec<_> = quantized.iter().map(|s| s[i].clone()).collect();
            let f: Vec<_> = float.iter().map(|s| s[i].clone()).collect();
            eval::compare(&model.tensor(o).name, &q, &f, labels.as_ref().and_then(|l| l.as_slice()))
        })
        .collect();
    Ok(Evaluation { reference: reference.describe(), outputs })
}

/// The table `compile --eval` prints.
pub(crate) fn evaluation_table(e: &Evaluation) -> String {
    use std::fmt::Write;
    let mut table = String::new();
    let _ = writeln!(table);
    let _ = writeln!(table, "float reference: {}", e.reference);
    let _ = writeln!(
        table,
        "{:<16} {:>8} {:>10} {:>12} {:>12} {:>10} {:>10}",
        "output", "samples", "top-1 agr", "max |err|", "mean |err|", "acc int8", "acc f32"
    );
    for r in &e.outputs {
        let (aq, af) =
            r.accuracy.map(|(a, b)| (format!("{:.2}%", a * 100.0), format!("{:.2}%", b * 100.0))).unwrap_or(("-".into(), "-".into()));
        let _ = writeln!(
            table,
            "{:<16} {:>8} {:>9.2}% {:>12.6} {:>12.6} {:>10} {:>10}",
            r.name,
            r.samples,
            r.top1_agreement * 100.0,
            r.max_abs_error,
            r.mean_abs_error,
            aq,
            af
        );
    }
    table
}
