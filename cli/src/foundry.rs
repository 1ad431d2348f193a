//! `solidml init`, `solidml build` and `solidml check`: SolidML in a foundry project.
//!
//! The parts that do not compile models live in `solidml-forge` (configuration, generated
//! Solidity, file layout, comparisons and reports); this module compiles the models
//! ([`crate::build`]), evaluates them, and runs real forge to measure gas.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use miette::Result;
use solidml_forge::{
    Config, ForgeError, ModelConfig,
    check::{self, ModelFigures, Snapshot},
    config::{self, Layout as ConfigLayout, Route},
    lint,
    models_sol::{self, ModelEntry},
    project::{self, Action},
};

use crate::{Layout, build, error::CliError};

/// The example model `init` brings when given none: the bundled digits MLP (scikit-learn's
/// MLPClassifier on the digits dataset, examples/models) with its calibration data.
const EXAMPLE_ONNX: &[u8] = include_bytes!("../../examples/models/digits_mlp.onnx");
const EXAMPLE_CALIBRATION: &[u8] = include_bytes!("../../examples/models/digits_calib.npy");

/// `solidml init` arguments.
pub(crate) struct InitArgs {
    pub dir: Option<PathBuf>,
    pub models: Vec<PathBuf>,
    pub calibration: Vec<PathBuf>,
    pub force: bool,
}

fn report(root: &Path, path: &Path, action: &Action) {
    let rel = project::relative(root, path);
    match action {
        Action::Created => println!("  created     {rel}"),
        Action::Unchanged => println!("  unchanged   {rel}"),
        Action::Overwritten => println!("  overwritten {rel} (--force)"),
        Action::Appended => println!("  updated     {rel} (added {})", project::REMAPPING),
        Action::Updated => println!("  updated     {rel}"),
        Action::Skipped => println!("  skipped     {rel}: it exists with other contents (yours; --force overwrites it)"),
    }
}

fn write(root: &Path, rel: &str, contents: &[u8], force: bool) -> Result<Action> {
    let path = root.join(rel);
    let action = project::write_file(&path, contents, force).map_err(forge_err)?;
    report(root, &path, &action);
    Ok(action)
}

/// Write a file `init` manages (see [`project::write_managed`]).
fn write_managed(root: &Path, rel: &str, contents: &[u8]) -> Result<Action> {
    let path = root.join(rel);
    let action = project::write_managed(&path, contents).map_err(forge_err)?;
    report(root, &path, &action);
    Ok(action)
}

fn forge_err(e: ForgeError) -> miette::Report {
    miette::Report::new(e)
}

/// `solidml init [DIR]`: lay SolidML into a foundry project (a new one in DIR).
pub(crate) fn init(args: InitArgs) -> Result<()> {
    let root = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::current_dir().map_err(|e| CliError::io(Path::new("."), e))?,
    };
    let new_project = !root.join("foundry.toml").is_file();
    if new_project && args.dir.is_none() {
        return Err(CliError::Usage(format!(
            "{} has no foundry.toml: run `solidml init` in a foundry project, or `solidml init NEW_DIR` to create one",
            root.display()
        ))
        .into());
    }
    if !args.calibration.is_empty() && args.calibration.len() != args.models.len() {
        return Err(CliError::Usage(format!(
            "--calibration is given {} time(s) for {} --model(s): one calibration file per model, in the same order",
            args.calibration.len(),
            args.models.len()
        ))
        .into());
    }
    println!("solidml init {}", root.display());
    if new_project {
        std::fs::create_dir_all(&root).map_err(|e| CliError::io(&root, e))?;
        write(&root, "foundry.toml", project::FOUNDRY_TOML.as_bytes(), false)?;
    }
    for (rel, text) in project::LIBRARY {
        write_managed(&root, &format!("lib/solidml/src/{rel}"), text.as_bytes())?;
    }
    let remap = project::ensure_remapping(&root).map_err(forge_err)?;
    report(&root, &root.join("remappings.txt"), &remap);

    let config_path = root.join(config::FILE_NAME);
    if !config_path.is_file() {
        let mut entries = vec![];
        if args.models.is_empty() {
            write(&root, "models/digits.onnx", EXAMPLE_ONNX, args.force)?;
            write(&root, "models/digits_calib.npy", EXAMPLE_CALIBRATION, args.force)?;
            entries.push(("digits".to_string(), "models/digits.onnx".to_string(), vec!["models/digits_calib.npy".to_string()]));
        }
        for (i, m) in args.models.iter().enumerate() {
            let name = model_name(m);
            let onnx = in_project(&root, m, &format!("models/{name}.onnx"), args.force)?;
            let cal = match args.calibration.get(i) {
                Some(c) => vec![in_project(&root, c, &format!("models/{name}_calib.npy"), args.force)?],
                None => vec![],
            };
            entries.push((name, onnx, cal));
        }
        write(&root, config::FILE_NAME, project::config_toml(&entries).as_bytes(), args.force)?;
    } else {
        if !args.models.is_empty() {
            println!("  note        solidml.toml exists: the models come from it (--model is for a project without one)");
        }
        report(&root, &config_path, &Action::Unchanged);
    }
    let config = Config::load(&config_path).map_err(forge_err)?;
    let built = build_models(&config, false)?;
    write_models(&config, &built)?;
    if let Some(first) = built.first() {
        let test = project::example_test(
            &models_sol::id_constant(&first.name),
            first.built.evm_contract.as_deref(),
            solidml_precompile::abi::input_bytes(&first.built.compiled.model),
            solidml_precompile::abi::output_bytes(&first.built.compiled.model),
        );
        write(&root, "test/SolidMLExample.t.sol", test.as_bytes(), args.force)?;
    }
    println!("next: forge test   (then `solidml check` to gate gas and accuracy in CI)");
    Ok(())
}

/// A model name from a file name: its stem, made an identifier.
fn model_name(path: &Path) -> String {
    let stem = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    let mut name: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'm');
    }
    name
}

/// `path` relative to the project when it is inside it; otherwise copied to `dest`.
fn in_project(root: &Path, path: &Path, dest: &str, force: bool) -> Result<String> {
    let abs = std::fs::canonicalize(path).map_err(|e| CliError::io(path, e))?;
    let root_abs = std::fs::canonicalize(root).map_err(|e| CliError::io(root, e))?;
    if abs.starts_with(&root_abs) {
        return Ok(project::relative(&root_abs, &abs));
    }
    let bytes = std::fs::read(&abs).map_err(|e| CliError::io(&abs, e))?;
    write(root, dest, &bytes, force)?;
    Ok(dest.to_string())
}

fn calibration_method(m: &ModelConfig) -> solidml_compiler::calibrate::CalibrationMethod {
    use solidml_compiler::calibrate::CalibrationMethod;
    match m.calibrate {
        config::Calibrate::Minmax => CalibrationMethod::MinMax,
        config::Calibrate::Percentile => CalibrationMethod::Percentile(m.percentile),
        config::Calibrate::Entropy => CalibrationMethod::Entropy,
    }
}

/// One model of solidml.toml, compiled.
struct BuiltModel {
    name: String,
    config: ModelConfig,
    built: build::Built,
}

fn layout(l: ConfigLayout) -> Layout {
    match l {
        ConfigLayout::Fast => Layout::Fast,
        ConfigLayout::Compact => Layout::Compact,
    }
}

fn spinner(message: String) -> indicatif::ProgressBar {
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}").unwrap());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar.set_message(message);
    bar
}

/// Compile every model of `config`; a model that does not compile is an error pointing at it.
fn build_models(config: &Config, progress: bool) -> Result<Vec<BuiltModel>> {
    let mut out = vec![];
    for m in &config.models {
        let bar = if progress { spinner(format!("compiling {}", m.name)) } else { indicatif::ProgressBar::hidden() };
        let precision = match m.precision {
            config::Precision::Int8 => solidml_compiler::Precision::Int8,
            config::Precision::Int16 => solidml_compiler::Precision::Int16,
            config::Precision::Int16x16 => solidml_compiler::Precision::Int16x16,
        };
        let built = build::build_model(&m.onnx, &m.calibration, Some(m.name.clone()), layout(m.layout), calibration_method(m), precision)
            .map_err(|e| forge_err(config.model_error(m, format!("model `{}` does not compile: {e}", m.name))))?;
        bar.finish_and_clear();
        out.push(BuiltModel { name: m.name.clone(), config: m.clone(), built });
    }
    Ok(out)
}

/// The compiled files of every model plus `SolidMLModels.sol`, relative to `[project] out`.
fn model_files(route: Route, built: &[BuiltModel], artifact_dir: &str) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = vec![];
    for b in built {
        for f in &b.built.files {
            if !files.iter().any(|(p, _)| p == &f.0) {
                files.push(f.clone());
            }
        }
    }
    let entries: Vec<ModelEntry<'_>> = built
        .iter()
        .map(|b| ModelEntry {
            name: &b.name,
            model: &b.built.compiled.model,
            model_id: b.built.compiled.model_id,
            artifact: format!("{artifact_dir}/{}.smodel", b.built.compiled.model.name),
            evm_contract: b.built.evm_contract.clone(),
        })
        .collect();
    files.push(("SolidMLModels.sol".into(), models_sol::emit(&entries, route).into_bytes()));
    files
}

/// Write the compiled models into `[project] out` (managed files: replaced when they change).
fn write_models(config: &Config, built: &[BuiltModel]) -> Result<()> {
    let root = config.root();
    let out = config.project.out_dir();
    for (rel, bytes) in model_files(config.project.route, built, out) {
        write_managed(&root, &format!("{out}/{rel}"), &bytes)?;
    }
    Ok(())
}

/// `solidml build`: compile solidml.toml's models into `[project] out`.
pub(crate) fn build(config_path: &Path) -> Result<()> {
    let config = Config::load(config_path).map_err(forge_err)?;
    let built = build_models(&config, true)?;
    write_models(&config, &built)
}

/// `solidml check` arguments.
pub(crate) struct CheckArgs {
    pub config: PathBuf,
    pub update: bool,
    pub tolerance: Option<f64>,
    pub json: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    pub junit: Option<PathBuf>,
}

/// `solidml check`: measure, compare, report; non-zero on any regression.
pub(crate) fn check(args: CheckArgs) -> Result<()> {
    let config = Config::load(&args.config).map_err(forge_err)?;
    let root = config.root();
    let snapshot_path = root.join(&config.project.snapshot);
    // read (and validate) the snapshot before any work: a broken one fails fast
    let snapshot = Snapshot::load(&snapshot_path).map_err(forge_err)?;
    let built = build_models(&config, true)?;
    let mut figures: Vec<ModelFigures> = built
        .iter()
        .map(|b| ModelFigures {
            name: b.name.clone(),
            model_id: format!("0x{}", hex::encode(b.built.compiled.model_id)),
            figures: Default::default(),
        })
        .collect();
    for (b, f) in built.iter().zip(&mut figures) {
        if b.config.eval.is_empty() {
            continue;
        }
        let bar = spinner(format!("evaluating {} against the float model", b.name));
        let e = build::evaluate(&b.config.onnx, &b.built.compiled.model, &b.config.eval, b.config.labels.as_deref())
            .map_err(|e| forge_err(config.model_error(&b.config, format!("model `{}` cannot be evaluated: {e}", b.name))))?;
        bar.finish_and_clear();
        let min = |it: &mut dyn Iterator<Item = f64>| it.fold(f64::INFINITY, f64::min);
        f.figures.insert("agreement".into(), round4(100.0 * min(&mut e.outputs.iter().map(|o| o.top1_agreement))));
        let acc = min(&mut e.outputs.iter().filter_map(|o| o.accuracy.map(|a| a.0)));
        if acc.is_finite() {
            f.figures.insert("accuracy".into(), round4(100.0 * acc));
        }
        f.figures.insert("max_error".into(), round4(e.outputs.iter().map(|o| o.max_abs_error).fold(0.0, f64::max)));
        let mean = e.outputs.iter().map(|o| o.mean_abs_error).sum::<f64>() / e.outputs.len().max(1) as f64;
        f.figures.insert("mean_error".into(), round4(mean));
    }
    let compiled = compile_project(&config)?;
    let lint = lint_project(&config, &built)?;
    print_call_sites(&lint);
    let bar = spinner("measuring gas with forge".into());
    let gas = forge_gas(&config, &built)?;
    bar.finish_and_clear();
    for f in &mut figures {
        for (key, value) in &gas {
            if let Some(figure) = key.strip_prefix(&format!("{}.", f.name)) {
                f.figures.insert(figure.to_string(), *value as f64);
            }
        }
    }
    let tolerance = args.tolerance.unwrap_or(config.project.tolerance);
    let mut findings = check::compare(&config, &figures, snapshot.as_ref(), tolerance);
    findings.extend(check::compile_findings(&compiled));
    findings.extend(check::lint_findings(&lint));
    if args.update {
        // snapshot rules are what --update resets; budgets and floors still apply
        findings.retain(|f| f.rule != check::Rule::Snapshot);
        project::write_atomic(&snapshot_path, Snapshot::of(&figures).to_json().as_bytes()).map_err(forge_err)?;
        println!("wrote {}", snapshot_path.display());
    }
    print!("{}", check::table(&figures, &findings));
    for (path, text) in [
        (&args.json, check::json(&figures, &findings)),
        (&args.markdown, check::markdown(&figures, &findings)),
        (&args.junit, check::junit(&figures, &findings)),
    ] {
        if let Some(p) = path {
            project::write_atomic(p, text.as_bytes()).map_err(forge_err)?;
        }
    }
    let failed: Vec<&check::Finding> = findings.iter().filter(|f| !f.ok).collect();
    if findings.is_empty() {
        println!("solidml check: snapshot written; no budgets or floors to check");
        Ok(())
    } else if failed.is_empty() {
        println!("solidml check: {} checks pass", findings.len());
        Ok(())
    } else {
        Err(CliError::Usage(format!("solidml check: {} of {} checks fail (FAIL lines above)", failed.len(), findings.len())).into())
    }
}

/// Compile the project itself: `forge build` in it, with its own foundry.toml and remappings
/// (and the toolchain's solc when there is one), and say what it gave.
fn compile_project(config: &Config) -> Result<solidml_forge::compile::ProjectBuild> {
    let bar = spinner("compiling the project (forge build)".into());
    let out = run_forge(&config.root(), &["build"])?;
    bar.finish_and_clear();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let build = solidml_forge::compile::parse_build(&text, out.status.success());
    println!(
        "project: {} file(s) compiled, {} warning(s), {} error(s) (forge build, solc {})",
        build.files.map(|n| n.to_string()).unwrap_or_else(|| "no".into()),
        build.warnings,
        build.errors.len(),
        build.solc_version.as_deref().unwrap_or("unchanged since the last build")
    );
    for e in &build.errors {
        println!("{e}");
    }
    Ok(build)
}

/// Lint the project's Solidity (src, test, script; not lib/ nor the generated models) against
/// the compiled models.
fn lint_project(config: &Config, built: &[BuiltModel]) -> Result<lint::LintReport> {
    let models: Vec<lint::KnownModel> = built
        .iter()
        .map(|b| {
            lint::KnownModel::new(
                &b.name,
                b.built.compiled.model_id,
                solidml_precompile::abi::input_bytes(&b.built.compiled.model),
                b.built.evm_contract.clone(),
            )
        })
        .collect();
    lint::lint_project(&config.root(), &["src", "test", "script"], &[config.project.out_dir()], &models).map_err(forge_err)
}

fn print_call_sites(report: &lint::LintReport) {
    println!("SolidML call sites: {}", report.calls.len());
    for c in &report.calls {
        println!(
            "  {}:{}:{}  {}  {}  {}",
            c.file.display(),
            c.line,
            c.column,
            c.kind,
            c.model.as_deref().unwrap_or("(model not known before run time)"),
            c.text
        );
    }
}

/// `solidml lint`: every SolidML call site of the project and the mistakes visible before run
/// time; non-zero when there is one.
pub(crate) fn lint(config_path: &Path) -> Result<()> {
    let config = Config::load(config_path).map_err(forge_err)?;
    let built = build_models(&config, true)?;
    let report = lint_project(&config, &built)?;
    print_call_sites(&report);
    for f in &report.findings {
        println!("error: {f}");
    }
    if report.findings.is_empty() {
        println!("solidml lint: no findings");
        Ok(())
    } else {
        Err(CliError::Usage(format!("solidml lint: {} finding(s) (listed above)", report.findings.len())).into())
    }
}

fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

/// Run forge in `dir` with `args`: `$FOUNDRY_BIN/forge` (else `forge` on the PATH), with the
/// solc `solidml gas` uses when there is one (then offline), and this binary as `SOLIDML_BIN`
/// for SolidMLTest's native route.
fn run_forge(dir: &Path, args: &[&str]) -> Result<std::process::Output> {
    let forge =
        std::env::var_os("FOUNDRY_BIN").map(|d| PathBuf::from(d).join("forge")).filter(|p| p.is_file()).unwrap_or_else(|| "forge".into());
    let mut cmd = Command::new(&forge);
    cmd.current_dir(dir).args(args);
    if let Ok(me) = std::env::current_exe() {
        cmd.env("SOLIDML_BIN", me);
    }
    if let Ok(solc) = solidml_solidity::solc::Solc::locate() {
        cmd.arg("--use").arg(solc.path()).arg("--offline");
    }
    Ok(cmd.output().map_err(|e| {
        CliError::Usage(format!(
            "cannot run forge ({}): {e}. Install Foundry (https://getfoundry.sh, or `bash scripts/foundry-env.sh` in the SolidML repository) or set FOUNDRY_BIN",
            forge.display()
        ))
    })?)
}

/// Gas figures measured by real forge in a scratch foundry project (`cache/solidml-check/` of
/// the project): `NAME.deploy_gas`, `.predictq_gas`, `.predict_gas` for models with a
/// pure-Solidity contract, `.precompile_gas` for all, through `vm.snapshotValue` and
/// `vm.snapshotGasLastCall` (so forge's own snapshot file holds them).
fn forge_gas(config: &Config, built: &[BuiltModel]) -> Result<Vec<(String, u64)>> {
    let dir = config.root().join("cache/solidml-check");
    let _ = std::fs::remove_dir_all(dir.join("snapshots"));
    // the EVM route when every model has a pure-Solidity contract (no ffi needed); the charge
    // is the same either way
    let route = if built.iter().all(|b| b.built.evm_contract.is_some()) { Route::Evm } else { Route::Native };
    let mut files: Vec<(String, Vec<u8>)> =
        model_files(route, built, "src").into_iter().map(|(rel, b)| (format!("src/{rel}"), b)).collect();
    for (rel, text) in project::LIBRARY {
        files.push((format!("lib/solidml/src/{rel}"), text.as_bytes().to_vec()));
    }
    files.push(("remappings.txt".into(), format!("{}\n", project::REMAPPING).into_bytes()));
    files.push((
        "foundry.toml".into(),
        b"[profile.default]\nsrc = \"src\"\ntest = \"test\"\nout = \"out\"\nlibs = [\"lib\"]\nevm_version = \"prague\"\ngas_limit = 4000000000\nffi = true\n".to_vec(),
    ));
    files.push(("test/SolidMLCheck.t.sol".into(), check_test(built).into_bytes()));
    for (rel, bytes) in &files {
        project::write_file(&dir.join(rel), bytes, true).map_err(forge_err)?;
    }
    let out = run_forge(&dir, &["test", "--match-contract", "SolidMLCheck"])?;
    if !out.status.success() {
        return Err(CliError::Usage(format!(
            "forge test failed in {} while measuring gas:\n{}{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
        .into());
    }
    let snap_path = dir.join("snapshots/solidml.json");
    let text = std::fs::read_to_string(&snap_path).map_err(|e| CliError::io(&snap_path, e))?;
    let map: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&text).map_err(|e| CliError::data(&snap_path, format!("not forge's snapshot format: {e}")))?;
    map.into_iter()
        .map(|(k, v)| v.parse::<u64>().map(|n| (k.clone(), n)).map_err(|e| CliError::data(&snap_path, format!("{k}: {e}")).into()))
        .collect()
}

/// The forge test `check` runs: one test per model.
fn check_test(built: &[BuiltModel]) -> String {
    let mut s = String::from(
        r#"// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

// Written by `solidml check` (scratch project): gas figures through forge's own snapshots.
import {SolidMLTest, SolidMLRoute} from "solidml/test/SolidMLTest.sol";
import {SolidMLModels} from "../src/SolidMLModels.sol";

interface CheckVm {
    function getCode(string calldata artifactPath) external view returns (bytes memory);
    function snapshotValue(string calldata group, string calldata name, uint256 value) external;
    function snapshotGasLastCall(string calldata group, string calldata name) external returns (uint256);
}

contract SolidMLCheck is SolidMLTest {
    CheckVm constant VM = CheckVm(address(uint160(uint256(keccak256("hevm cheat code")))));

    function setUp() public {
        solidmlSetUp(SolidMLModels.all(), SolidMLModels.ROUTE);
    }

    function deploy(string memory artifact, string memory name) internal returns (address c) {
        bytes memory code = VM.getCode(artifact);
        uint256 g0 = gasleft();
        assembly {
            c := create(0, add(code, 32), mload(code))
        }
        uint256 used = g0 - gasleft();
        require(c != address(0), string.concat(name, ": deployment failed"));
        VM.snapshotValue("solidml", string.concat(name, ".deploy_gas"), used);
    }

    /// The precompile's charge: the frame's gas, on a warm call (as a node charges).
    function precompileGas(bytes32 id, uint256 inputBytes, string memory name) internal {
        solidmlWarm();
        bytes memory input = abi.encodePacked(id, new bytes(inputBytes));
        (bool ok,) = SOLIDML_ADDRESS.staticcall(input);
        require(ok, string.concat(name, ": precompile call failed"));
        (ok,) = SOLIDML_ADDRESS.staticcall(input);
        VM.snapshotGasLastCall("solidml", string.concat(name, ".precompile_gas"));
    }
"#,
    );
    for b in built {
        let m = &b.built.compiled.model;
        let id = models_sol::id_constant(&b.name);
        let in_bytes = solidml_precompile::abi::input_bytes(m);
        let in_elems: usize = m.inputs.iter().map(|&i| m.tensor(i).len()).sum();
        s += &format!("\n    function test_{}() public {{\n", b.name);
        if let Some(c) = &b.built.evm_contract {
            s += &format!(
                r#"        address c = deploy("{c}.sol:{c}", "{n}");
        (bool ok,) = c.staticcall(abi.encodeWithSignature("predictQ(bytes)", new bytes({in_bytes})));
        require(ok, "{n}: predictQ failed");
        VM.snapshotGasLastCall("solidml", "{n}.predictq_gas");
        (ok,) = c.staticcall(abi.encodeWithSignature("predict(int256[])", new int256[]({in_elems})));
        require(ok, "{n}: predict failed");
        VM.snapshotGasLastCall("solidml", "{n}.predict_gas");
"#,
                n = b.name
            );
        }
        s += &format!("        precompileGas(SolidMLModels.{id}, {in_bytes}, \"{}\");\n    }}\n", b.name);
    }
    s += "}\n";
    s
}
