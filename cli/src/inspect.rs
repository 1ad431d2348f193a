//! `solidml inspect` and the `NAME.json` summary written by `compile`.

use std::path::Path;

use miette::Result;
use serde_json::json;
use solidml_spec::Model;

use crate::error::CliError;

/// Inputs or outputs (`inputs`: whether `ids` are the model inputs, which may carry a per-axis
/// input quantization, spec §IO quantization).
fn io_json(model: &Model, ids: &[u32], inputs: bool) -> serde_json::Value {
    ids.iter()
        .enumerate()
        .map(|(position, &i)| {
            let t = model.tensor(i);
            let mut entry = json!({
                "name": t.name,
                "shape": t.shape,
                "dtype": match t.dtype {
                    solidml_spec::DType::I8 => "int8",
                    solidml_spec::DType::I16 => "int16",
                    solidml_spec::DType::I32 => "int32",
                    solidml_spec::DType::I64 => "int64",
                },
                "scale": t.quant.map(|q| q.scale),
                "zero_point": t.quant.map(|q| q.zero_point),
            });
            if let Some(iq) = model.input_quant_of(position).filter(|_| inputs) {
                entry["input_quantization"] = json!({
                    "axis": iq.axis,
                    "scales": iq.params.iter().map(|p| p.scale).collect::<Vec<_>>(),
                    "zero_points": iq.params.iter().map(|p| p.zero_point).collect::<Vec<_>>(),
                });
            }
            entry
        })
        .collect()
}

/// The machine-readable summary (`DIR/NAME.json`).
pub(crate) fn summary_json(model: &Model, artifact: &[u8], class_labels: &[(String, Vec<String>)]) -> serde_json::Value {
    let mut outputs = io_json(model, &model.outputs, false);
    // the class labels of a ZipMap output: its probabilities' columns, in order
    if let Some(list) = outputs.as_array_mut() {
        for o in list {
            if let Some((_, labels)) = class_labels.iter().find(|(name, _)| o["name"] == name.as_str()) {
                o["class_labels"] = json!(labels);
            }
        }
    }
    let work = solidml_precompile::gas::Work::of(model);
    json!({
        "name": model.name,
        "modelId": format!("0x{}", hex::encode(solidml_spec::keccak256(artifact))),
        "format_version": u16::from_le_bytes([artifact[8], artifact[9]]),
        "artifact_bytes": artifact.len(),
        "inputs": io_json(model, &model.inputs, true),
        "outputs": outputs,
        "macs": model.macs(),
        "parameters": model.parameter_count(),
        "work_units": work.total(),
        "work_classes": solidml_precompile::gas::WorkClass::ALL
            .iter()
            .map(|&c| (c.name().to_string(), json!(work.units(c))))
            .collect::<serde_json::Map<_, _>>(),
        "work_elements": work.elements,
        "work_weights": work.weights,
        "work_nodes": work.nodes,
        "precompile_gas": precompile_price(model, &work, solidml_precompile::GasSchedule::default()),
        "precompile_gas_reference": precompile_price(model, &work, solidml_precompile::GasSchedule::reference()),
    })
}

pub(crate) fn inspect(path: &Path) -> Result<()> {
    let (model, artifact) = if path.extension().is_some_and(|e| e == "onnx") {
        let c = solidml_compiler::compile(path, &Default::default()).map_err(CliError::from)?;
        eprintln!("note: compiled from ONNX without calibration data; scales below come from synthetic ranges");
        (c.model, c.artifact)
    } else {
        let bytes = std::fs::read(path).map_err(|e| CliError::io(path, e))?;
        let m = solidml_spec::decode(&bytes).map_err(|e| CliError::Artifact { path: path.display().to_string(), source: e })?;
        (m, bytes)
    };
    print!("{}", render(&model, &artifact));
    Ok(())
}

/// The SolidML precompile's price of one call of `model` (whose work is `work`) under
/// `schedule` (docs/precompile.md).
fn precompile_price(model: &Model, work: &solidml_precompile::gas::Work, schedule: solidml_precompile::GasSchedule) -> u64 {
    schedule.price(work, solidml_precompile::abi::input_bytes(model), solidml_precompile::abi::output_bytes(model))
}

/// The work units per class, `gemm 8, window 0, …`.
fn work_classes(work: &solidml_precompile::gas::Work) -> String {
    use solidml_precompile::gas::WorkClass;
    let classes: Vec<String> = WorkClass::ALL.iter().map(|&c| format!("{} {}", c.name(), work.units(c))).collect();
    format!("{}; {} elements, {} weights, {} nodes", classes.join(", "), work.elements, work.weights, work.nodes)
}

/// The human-readable report (stable: snapshot-tested).
pub(crate) fn render(model: &Model, artifact: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "model      {}", model.name);
    let _ = writeln!(s, "modelId    0x{}", hex::encode(solidml_spec::keccak256(artifact)));
    let _ = writeln!(s, "artifact   {} bytes (format v{})", artifact.len(), solidml_spec::artifact::FORMAT_VERSION);
    let _ = writeln!(s, "parameters {}", model.parameter_count());
    let _ = writeln!(s, "MACs       {}", model.macs());
    let work = solidml_precompile::gas::Work::of(model);
    let _ = writeln!(
        s,
        "work       {} units ({}); precompile price {} gas (default schedule; {} at the reference schedule)",
        work.total(),
        work_classes(&work),
        precompile_price(model, &work, solidml_precompile::GasSchedule::default()),
        precompile_price(model, &work, solidml_precompile::GasSchedule::reference())
    );
    for (label, ids) in [("input ", &model.inputs), ("output", &model.outputs)] {
        for (position, &i) in ids.iter().enumerate() {
            let t = model.tensor(i);
            let q = t.quant.map(|q| format!("scale {:e} zero_point {}", q.scale, q.zero_point)).unwrap_or_else(|| "int64".into());
            let _ = writeln!(s, "{label}     {} {:?} {q}", t.name, t.shape);
            if let Some(iq) = model.input_quant_of(position).filter(|_| label == "input ") {
                let (lo, hi) = iq.params.iter().fold((f32::MAX, 0f32), |(lo, hi), p| (lo.min(p.scale), hi.max(p.scale)));
                let _ = writeln!(
                    s,
                    "           reals quantized per index of axis {} ({} scales, {lo:e} to {hi:e}; spec §IO quantization)",
                    iq.axis,
                    iq.params.len()
                );
            }
        }
    }
    let _ = writeln!(
        s,
        "\n{:<4} {:<28} {:<8} {:<18} {:>12} {:>5} {:>9} {:>10}",
        "#", "node", "op", "output shape", "scale", "zp", "params", "MACs"
    );
    let macs = model.macs_per_node();
    for (k, n) in model.nodes.iter().enumerate() {
        let t = model.tensor(n.outputs[0]);
        let params = n.op.parameter_count();
        let (scale, zp) = t.quant.map(|q| (format!("{:.5e}", q.scale), q.zero_point.to_string())).unwrap_or(("-".into(), "-".into()));
        let name: String = n.name.chars().take(28).collect();
        let _ = writeln!(
            s,
            "{:<4} {:<28} {:<8} {:<18} {:>12} {:>5} {:>9} {:>10}",
            k,
            name,
            n.op.kind(),
            format!("{:?}", t.shape),
            scale,
            zp,
            params,
            macs[k]
        );
    }
    s
}
