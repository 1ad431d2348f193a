//! `solidml gas ARTIFACT...`: prints what each model costs in the EVM, in both Solidity
//! layouts, and the reference-layer comparison. The measurement is
//! [`solidml_solidity::gas`]'s (revm in process, checked against the CPU reference); this
//! module only prints it and writes the forge projects that replay it.

use std::{path::Path, sync::Arc};

use miette::Result;
use solidml_cpu::CpuBackend;
use solidml_exec::Executor;
use solidml_solidity::{
    SolidityLayout,
    gas::{MAX_INITCODE, ModelGas, dense_comparison, model_gas, write_forge_project},
    solc::{Solc, SolcSettings},
};

use crate::error::CliError;

/// `solidml gas ARTIFACT...`
pub(crate) fn gas(artifacts: &[std::path::PathBuf], dense: u32, forge_project: Option<&Path>) -> Result<()> {
    let solc = Solc::locate().map_err(|e| CliError::Usage(format!("solc: {e}")))?;
    let reference: Arc<dyn Executor> = Arc::new(CpuBackend);
    let mut measured = vec![];
    // transactions, and whether each fits mainnet's init code limit
    let one_tx = |g: &ModelGas| format!("{}{}", g.deploy_txs, if g.initcode_bytes <= MAX_INITCODE { "" } else { " (over EIP-3860)" });
    // runtime B: the model contract's code (data and part contracts not included)
    println!(
        "{:<24} {:<8} {:>12} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "model", "layout", "deploy gas", "predictQ", "predict", "runtime B", "initcode B", "MACs", "deploy txs"
    );
    for path in artifacts {
        let bytes = std::fs::read(path).map_err(|e| CliError::io(path, e))?;
        let model = solidml_spec::decode(&bytes).map_err(|e| CliError::Artifact { path: path.display().to_string(), source: e })?;
        let id = solidml_spec::keccak256(&bytes);
        for (label, layout) in [("fast", SolidityLayout::Fast), ("compact", SolidityLayout::Compact)] {
            let g = model_gas(&reference, &solc, &model, &id, layout).map_err(CliError::from)?;
            println!(
                "{:<24} {:<8} {:>12} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
                name_of(path),
                label,
                g.deploy,
                g.predict_q,
                g.predict,
                g.runtime_bytes,
                g.initcode_bytes,
                model.macs(),
                one_tx(&g)
            );
            measured.push(g);
        }
    }
    if dense > 0 {
        let c = dense_comparison(&reference, &solc, dense).map_err(CliError::from)?;
        let per_mac = |g: &ModelGas| g.predict_q as f64 / c.macs as f64;
        println!();
        println!("{dense}x{dense} int8 dense layer with requantization ({} MACs), one predictQ call, same run:", c.macs);
        println!("{:<44} {:>10} {:>8} {:>12} {:>7}", "version", "gas", "gas/MAC", "deploy gas", "deploy txs");
        for (label, g) in [
            ("straightforward Solidity, optimizer off", &c.naive),
            ("straightforward Solidity, optimizer 200 runs", &c.naive_optimized),
            ("solidml fast (weights in code, packed lanes)", &c.generated),
            ("solidml compact (weights as raw bytes)", &c.compact),
        ] {
            println!("{label:<44} {:>10} {:>8.2} {:>12} {:>7}", g.predict_q, per_mac(g), g.deploy, one_tx(g));
        }
        println!(
            "ratio: {:.1}x less gas per MAC than the optimized straightforward version ({:.1}x than unoptimized)",
            per_mac(&c.naive_optimized) / per_mac(&c.generated),
            per_mac(&c.naive) / per_mac(&c.generated)
        );
        println!(
            "layouts: compact deploys for {:.1}x less gas than fast and costs {:.1}x its gas per MAC",
            c.generated.deploy as f64 / c.compact.deploy as f64,
            per_mac(&c.compact) / per_mac(&c.generated)
        );
        measured.extend([c.generated, c.compact, c.naive, c.naive_optimized]);
    }
    if let Some(dir) = forge_project {
        // one project per compile setting: forge compiles a project with one optimizer setting
        let mut groups: Vec<(SolcSettings, Vec<&ModelGas>)> = vec![];
        for g in &measured {
            match groups.iter_mut().find(|(s, _)| s.optimizer_runs == g.settings.optimizer_runs) {
                Some((_, v)) => v.push(g),
                None => groups.push((g.settings.clone(), vec![g])),
            }
        }
        for (settings, gs) in &groups {
            let sub = dir.join(match settings.optimizer_runs {
                Some(runs) => format!("optimizer-{runs}"),
                None => "no-optimizer".into(),
            });
            write_forge_project(&sub, settings, gs).map_err(CliError::from)?;
            for g in gs {
                println!("check: {} {} {}", sub.display(), g.contract, g.predict_q);
            }
        }
    }
    Ok(())
}

fn name_of(p: &Path) -> String {
    p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}
