//! `solidml`: the command line. Subcommands follow the user's workflow: `compile` an ONNX
//! model, `inspect` it, `run` it on data, `bench` it against tract, serve it from a `devnode`.
//! Errors are miette reports.

mod backend;
mod bench;
mod build;
mod data;
mod error;
mod foundry;
mod freeze;
mod gas;
mod inspect;
mod name;
mod precompile;
mod verify;

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use miette::Result;
use solidml_compiler::{CompileOptions, runner};
use solidml_exec::Value;

use crate::error::CliError;

#[derive(Parser)]
#[command(name = "solidml", version, about = "Exact int8 neural networks for the EVM, the CPU and the GPU")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// `--layout` of `compile` (see [`solidml_solidity::SolidityLayout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Layout {
    /// Weights as packed PUSH32 constants: least gas per inference (default)
    Fast,
    /// Weights as raw bytes (in the contract or in data contracts): least deployment gas
    Compact,
}

/// `--precision` of `compile` (see [`solidml_compiler::Precision`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Precision {
    /// int8 activations and weights
    Int8,
    /// TFLite's 16x8 around the dense layers: int16 activations, int8 weights, i64
    /// accumulation; a regression output keeps the accumulator's precision (int32)
    Int16,
    /// As int16, with int16 weights in the dense layers
    Int16x16,
}

/// `--calibrate` of `compile` (see [`solidml_compiler::calibrate::CalibrationMethod`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Calibrate {
    /// The observed [min, max]
    Minmax,
    /// The central --percentile of the values
    Percentile,
    /// The KL-divergence threshold
    Entropy,
}

#[derive(Subcommand)]
enum Command {
    /// Quantize an ONNX model into a content-addressed artifact (DIR/NAME.smodel + DIR/NAME.json)
    Compile {
        model: PathBuf,
        /// Calibration data (.npy, samples along the first axis); once per model input
        #[arg(long)]
        calibration: Vec<PathBuf>,
        #[arg(long)]
        name: Option<String>,
        #[arg(short = 'o', long = "out", default_value = "out")]
        out: PathBuf,
        /// Evaluation data (.npy): compare the quantized model with the float one (tract, or the
        /// compiler's interpreter); the accuracy guard runs on it instead of the calibration data
        #[arg(long)]
        eval: Vec<PathBuf>,
        /// Integer labels of the evaluation samples (.npy), for accuracies
        #[arg(long)]
        labels: Option<PathBuf>,
        /// Where the pure-Solidity contract keeps Dense/Conv weights. Default `fast`: weights
        /// compiled into the code as packed constants, the least gas per inference, since a
        /// model is deployed once and called many times. `compact`: weights as raw bytes read
        /// at run time, up to 3× less deployment gas (256×256 dense: 3.0×, digits_mlp: 1.9×)
        /// for about 2× the gas per inference (`solidml gas` prints both)
        #[arg(long, value_enum, default_value = "fast")]
        layout: Layout,
        /// How activation ranges are chosen from the calibration data: `minmax` (the observed
        /// range), `percentile` (the central --percentile of the values), `entropy` (the
        /// KL-divergence threshold, as onnxruntime's and TensorRT's entropy calibrators)
        #[arg(long, value_enum, default_value = "minmax")]
        calibrate: Calibrate,
        /// The share of values `--calibrate percentile` keeps, in percent
        #[arg(long, default_value_t = 99.99)]
        percentile: f64,
        /// Make the accuracy guard's warning an error: when the int8 model departs from the
        /// float model on the --eval or calibration data (top-1 agreement below 99%, or the
        /// 99th-percentile error of an output beyond 8 of its quantization steps), exit
        /// non-zero and write nothing; without data to run the guard on, an error too
        #[arg(long)]
        strict: bool,
        /// Also write the model's step contracts (the dispute game's one-step re-execution,
        /// docs/verification.md) into DIR/NAME_steps/, as `solidml steps` does
        #[arg(long)]
        steps: bool,
        /// Bind a graph input to a value at compile time, NAME=FILE.npy (repeatable): the input
        /// becomes a constant (weights, axes, scales or sizes an exporter left as inputs) and
        /// leaves the model's inputs; --calibration and `run --input` then list the others
        #[arg(long, value_name = "NAME=FILE")]
        freeze: Vec<String>,
        /// Activation and weight precision: `int8`, or the wide precisions around dense layers,
        /// `int16` (TFLite's 16x8: int16 activations, int8 weights, regression outputs at int32)
        /// and `int16x16` (int16 weights too); every other op stays int8
        #[arg(long, value_enum, default_value = "int8")]
        precision: Precision,
    },
    /// Run an artifact on data; writes one DIR/<output>.npy per model output
    Run {
        artifact: PathBuf,
        /// Input data (.npy or .json), samples along the first axis; once per model input
        #[arg(long, required = true)]
        input: Vec<PathBuf>,
        #[arg(short = 'o', long, default_value = "out")]
        output: PathBuf,
        /// Write the quantized integers instead of dequantized values
        #[arg(long)]
        raw: bool,
        /// Print, per sample, the exact int256 values a pure-EVM `predict` takes and returns
        /// (18-decimal fixed point; integer outputs as plain integers), one JSON line each
        #[arg(long)]
        fixed: bool,
        /// Executor: the CPU reference, the JIT, the wgpu GPU executor (a real GPU, else
        /// lavapipe), or the GPU when one is present and the JIT otherwise (results are identical)
        #[arg(long, value_enum, default_value = "jit")]
        backend: backend::BackendChoice,
    },
    /// Call the SolidML precompile on hex input (`modelId ++ packed inputs`), as a node does:
    /// prints the output hex and the gas charged; bad input exits non-zero with the
    /// precompile's error
    #[command(after_help = precompile::addresses())]
    Precompile {
        /// Call input in hex (0x optional); `-` reads the hex from standard input, `@FILE` from a
        /// file (inputs beyond the command line's ~128 KiB)
        input: String,
        /// Artifacts to load into the store (NAME.smodel); repeatable
        #[arg(long = "model")]
        models: Vec<PathBuf>,
        /// A model store directory (<modelId>.smodel files, hash-checked on load)
        #[arg(long)]
        store: Option<PathBuf>,
        #[arg(long, default_value_t = 30_000_000)]
        gas_limit: u64,
        /// Call the OpenGradient-compatible entry (0x…F4): the input is `runModelInference` calldata
        #[arg(long)]
        opengradient: bool,
        /// Executor (results are identical; see `solidml run --help`)
        #[arg(long, value_enum, default_value = "jit")]
        backend: backend::BackendChoice,
        /// Gas schedule: version 2, calibrated on the JIT, or version 1, on the CPU reference
        /// (for networks whose nodes do not all run the JIT); docs/precompile.md
        #[arg(long, value_enum, default_value = "jit")]
        gas_schedule: solidml_backends::ScheduleChoice,
        /// Print one hex string `status ‖ gas ‖ data` (status 0 return, 1 revert, 2 halt; two
        /// 32-byte words, then the return data) and exit 0 whatever the call's outcome: the
        /// format SolidMLTest's native route reads through `vm.ffi`
        #[arg(long)]
        abi: bool,
    },
    /// Gas of the generated pure-Solidity contracts (deployment, predictQ, predict), measured in
    /// revm, and a 256×256 dense layer next to straightforward Solidity, same run
    Gas {
        /// Artifacts (NAME.smodel)
        artifacts: Vec<PathBuf>,
        /// Size of the reference dense layer (0: skip it)
        #[arg(long, default_value_t = 256)]
        dense: u32,
        /// Also write a foundry project replaying every measured call (check with
        /// `forge test --gas-report`)
        #[arg(long)]
        forge_project: Option<PathBuf>,
    },
    /// Print inputs, outputs, quantization, parameters and MACs per layer
    Inspect { model: PathBuf },
    /// Latency and MAC/s per model on the CPU reference, the JIT and the GPU next to tract's f32 and onnxruntime, an int8 GEMM on each, and the precompile's price (gas per second at the JIT's speed), all in one run; `--gas`: the gas schedule's calibration instead
    Bench {
        /// ONNX models (default: examples/models/*.onnx)
        models: Vec<PathBuf>,
        #[arg(long, default_value_t = 200)]
        iters: usize,
        /// Size of the int8 GEMM benchmark (M = N = K; 0: skip it)
        #[arg(long, default_value_t = 1024)]
        gemm: u32,
        /// Leave the GPU executor out
        #[arg(long)]
        no_gpu: bool,
        /// Also write every figure to this file as JSON (`[{model, macs, backend, median_us}]`)
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Print the JIT's time per op kind for each model (to stderr)
        #[arg(long)]
        profile: bool,
        /// Calibrate the gas schedule instead: per work class, the slowest shapes on the JIT and
        /// the CPU reference and the gas per second each schedule charges for them
        #[arg(long, conflicts_with_all = ["models", "json", "profile"])]
        gas: bool,
        /// With --gas: only the shapes whose name contains this text
        #[arg(long, requires = "gas", value_name = "TEXT")]
        only: Option<String>,
    },
    /// Lay SolidML into a foundry project (or create one in DIR): the Solidity library in
    /// lib/solidml with its remapping, solidml.toml, the models compiled into src/models with
    /// SolidMLModels.sol, and an example test. Safe to run twice; never overwrites a file of
    /// yours without --force (and says which it skipped)
    Init {
        /// A new project's directory (default: the current foundry project)
        dir: Option<PathBuf>,
        /// ONNX models to add (default: the bundled digits MLP); only when solidml.toml is new
        #[arg(long = "model")]
        models: Vec<PathBuf>,
        /// Calibration data, one per --model, in order
        #[arg(long)]
        calibration: Vec<PathBuf>,
        /// Overwrite files that exist with other contents
        #[arg(long)]
        force: bool,
    },
    /// Compile solidml.toml's models into its `[project] out` (src/models), with SolidMLModels.sol
    Build {
        #[arg(long, default_value = "solidml.toml")]
        config: PathBuf,
    },
    /// The CI gate: compile solidml.toml's models, measure accuracy against the float model and
    /// gas through real forge, compare with the budgets, floors and the snapshot; non-zero on
    /// any regression, naming model, figure, limit and change
    Check {
        #[arg(long, default_value = "solidml.toml")]
        config: PathBuf,
        /// Rewrite the snapshot with the figures measured (budgets and floors still apply)
        #[arg(long)]
        update: bool,
        /// Percent a figure may move from the snapshot (default: solidml.toml's tolerance)
        #[arg(long)]
        tolerance: Option<f64>,
        /// Also write the report as JSON
        #[arg(long)]
        json: Option<PathBuf>,
        /// Also write the report as markdown (a pull-request comment)
        #[arg(long = "md")]
        markdown: Option<PathBuf>,
        /// Also write the report as JUnit XML (what CI systems display)
        #[arg(long)]
        junit: Option<PathBuf>,
    },
    /// Every call site of the SolidML library, OGInference and the generated contracts in the
    /// project's Solidity (src, test, script), the model each calls, and the mistakes visible
    /// before run time (an unknown modelId, a fixed input of the wrong length); non-zero on any
    Lint {
        #[arg(long, default_value = "solidml.toml")]
        config: PathBuf,
    },
    /// Run one sample and write its trace: every step's output bytes and their Merkle root,
    /// the commitment a claim posts (docs/verification.md)
    Trace {
        artifact: PathBuf,
        /// Input data (.npy or .json), samples along the first axis; once per model input
        #[arg(long, required = true)]
        input: Vec<PathBuf>,
        /// Which sample of the input
        #[arg(long, default_value_t = 0)]
        sample: usize,
        /// The trace file (default: the artifact's path with `.trace`)
        #[arg(short = 'o', long)]
        out: Option<PathBuf>,
    },
    /// Print a model's steps and write its step contracts: the Solidity that re-executes one
    /// step of a disputed inference in pure EVM
    Steps {
        artifact: PathBuf,
        #[arg(short = 'o', long, default_value = "steps")]
        out: PathBuf,
        /// Only these steps (default: all)
        #[arg(long)]
        step: Vec<usize>,
    },
    /// Put the dispute game on a chain: `deploy` InferenceClaims, `register` a model's step
    /// contracts
    #[command(subcommand)]
    Game(GameCommand),
    /// Post a claim (the model's output on one sample, with its trace's root and a bond) and
    /// defend it: answer every challenge until the claim is final or rejected
    Claim {
        artifact: PathBuf,
        /// Input data (.npy or .json); once per model input
        #[arg(long, required = true)]
        input: Vec<PathBuf>,
        #[arg(long, default_value_t = 0)]
        sample: usize,
        /// The InferenceClaims contract
        #[arg(long)]
        claims: alloy_primitives::Address,
        /// The model's steps registry (what `solidml game register` printed)
        #[arg(long)]
        steps: alloy_primitives::Address,
        #[command(flatten)]
        rpc: verify::Rpc,
        /// Milliseconds between polls of the chain
        #[arg(long, default_value_t = 1000)]
        poll_ms: u64,
    },
    /// Watch InferenceClaims: re-run every claim of a model in --models, challenge the wrong
    /// ones and play their games to the end
    Verifier {
        /// The InferenceClaims contract
        #[arg(long)]
        claims: alloy_primitives::Address,
        /// Directory of .smodel artifacts the verifier re-runs
        #[arg(long)]
        models: PathBuf,
        #[command(flatten)]
        rpc: verify::Rpc,
        #[arg(long, default_value_t = 1000)]
        poll_ms: u64,
        /// Exit once no game is left to play (default: watch until interrupted)
        #[arg(long)]
        once: bool,
    },
    /// Run an anvil-compatible dev node whose EVM runs models through the precompile (anvil's
    /// flags and defaults, plus --backend and --models); the same as `solidml-devnode`
    Devnode(Box<solidml_devnode::DevnodeCommand>),
}

/// The model `solidml devnode bench` times when given none: the bundled digits MLP, compiled
/// with its calibration data (from the repository root).
fn bench_model() -> Option<Vec<u8>> {
    let dir = Path::new("examples/models");
    let calibration = data::read_f32(&dir.join("digits_calib.npy")).ok()?;
    let opts = CompileOptions::default().with_calibration(vec![calibration]);
    solidml_compiler::compile(&dir.join("digits_mlp.onnx"), &opts).ok().map(|c| c.artifact)
}

fn main() -> Result<()> {
    // SAFETY: the first thing main does, before any thread exists
    unsafe { solidml_backends::prepare_environment() };
    let cli = Cli::parse();
    match cli.command {
        Command::Compile {
            model,
            calibration,
            name,
            out,
            eval,
            labels,
            layout,
            calibrate,
            percentile,
            strict,
            steps,
            freeze,
            precision,
        } => {
            use solidml_compiler::calibrate::CalibrationMethod;
            let method = match calibrate {
                Calibrate::Minmax => CalibrationMethod::MinMax,
                Calibrate::Percentile if percentile > 0.0 && percentile <= 100.0 => CalibrationMethod::Percentile(percentile),
                Calibrate::Percentile => {
                    return Err(CliError::Usage(format!("--percentile {percentile}: a share in percent, above 0 and at most 100")).into());
                }
                Calibrate::Entropy => CalibrationMethod::Entropy,
            };
            let precision = match precision {
                Precision::Int8 => solidml_compiler::Precision::Int8,
                Precision::Int16 => solidml_compiler::Precision::Int16,
                Precision::Int16x16 => solidml_compiler::Precision::Int16x16,
            };
            compile(CompileRequest { model, calibration, name, out, eval, labels, layout, method, precision, strict, steps, freeze })
        }
        Command::Run { artifact, input, output, raw, fixed, backend } => run(&artifact, &input, &output, raw, fixed, backend),
        Command::Precompile { input, models, store, gas_limit, opengradient, backend, gas_schedule, abi } => {
            precompile::precompile(precompile::PrecompileArgs { input, models, store, gas_limit, opengradient, backend, gas_schedule, abi })
        }
        Command::Gas { artifacts, dense, forge_project } => gas::gas(&artifacts, dense, forge_project.as_deref()),
        Command::Inspect { model } => inspect::inspect(&model),
        Command::Bench { gas: true, iters, only, .. } => bench::calibrate(iters, only.as_deref()),
        Command::Bench { models, iters, gemm, no_gpu, json, profile, gas: false, .. } => {
            bench::bench(&models, iters, gemm, no_gpu, json.as_deref(), profile)
        }
        Command::Init { dir, models, calibration, force } => foundry::init(foundry::InitArgs { dir, models, calibration, force }),
        Command::Build { config } => foundry::build(&config),
        Command::Lint { config } => foundry::lint(&config),
        Command::Check { config, update, tolerance, json, markdown, junit } => {
            foundry::check(foundry::CheckArgs { config, update, tolerance, json, markdown, junit })
        }
        Command::Trace { artifact, input, sample, out } => Ok(verify::trace(&artifact, &input, sample, out.as_deref())?),
        Command::Steps { artifact, out, step } => Ok(verify::steps(&artifact, &out, &step)?),
        Command::Game(GameCommand::Deploy { rpc, challenge_window, round_timeout, claim_bond, challenge_bond }) => {
            Ok(verify::deploy(&rpc, solidml_agent::GameParams { challenge_window, round_timeout, claim_bond, challenge_bond })?)
        }
        Command::Game(GameCommand::Register { artifact, claims, rpc }) => Ok(verify::register(&rpc, claims, &artifact)?),
        Command::Claim { artifact, input, sample, claims, steps, rpc, poll_ms } => {
            Ok(verify::claim(&rpc, claims, steps, &artifact, &input, sample, std::time::Duration::from_millis(poll_ms))?)
        }
        Command::Verifier { claims, models, rpc, poll_ms, once } => {
            Ok(verify::verifier(&rpc, claims, &models, std::time::Duration::from_millis(poll_ms), once)?)
        }
        Command::Devnode(cmd) => Ok(solidml_devnode::run_command(*cmd, bench_model).map_err(CliError::Devnode)?),
    }
}

/// `solidml game`.
#[derive(Subcommand)]
enum GameCommand {
    /// Deploy InferenceClaims; prints its address
    Deploy {
        #[command(flatten)]
        rpc: verify::Rpc,
        /// Seconds a claim can be challenged
        #[arg(long, default_value_t = 3600)]
        challenge_window: u64,
        /// Seconds each move of a game may take
        #[arg(long, default_value_t = 600)]
        round_timeout: u64,
        /// A claimer's bond (wei, or `1ether`)
        #[arg(long, default_value = "1ether", value_parser = verify::parse_wei)]
        claim_bond: alloy_primitives::U256,
        /// A challenger's bond (wei, or `0.5ether`)
        #[arg(long, default_value = "0.5ether", value_parser = verify::parse_wei)]
        challenge_bond: alloy_primitives::U256,
    },
    /// Compile and deploy a model's step contracts and register the model; prints the steps
    /// registry's address
    Register {
        artifact: PathBuf,
        /// The InferenceClaims contract
        #[arg(long)]
        claims: alloy_primitives::Address,
        #[command(flatten)]
        rpc: verify::Rpc,
    },
}

/// What `solidml compile` was asked.
struct CompileRequest {
    model: PathBuf,
    calibration: Vec<PathBuf>,
    name: Option<String>,
    out: PathBuf,
    eval: Vec<PathBuf>,
    labels: Option<PathBuf>,
    layout: Layout,
    method: solidml_compiler::calibrate::CalibrationMethod,
    precision: solidml_compiler::Precision,
    strict: bool,
    steps: bool,
    freeze: Vec<String>,
}

fn compile(req: CompileRequest) -> Result<()> {
    let CompileRequest { model, calibration, name, out, eval: eval_data, labels, layout, method, precision, strict, steps, freeze } = req;
    // a frozen model keeps the original's name
    let frozen = freeze::frozen_model(&model, &freeze)?;
    let name = match (&frozen, name) {
        (Some(_), None) => model.file_stem().map(|s| s.to_string_lossy().into_owned()),
        (_, name) => name,
    };
    let (source, model) = (model.as_path(), frozen.as_ref().map_or(model.as_path(), |f| f.path()));
    let (out, labels, eval_data) = (out.as_path(), labels.as_deref(), eval_data.as_slice());
    let built = build::build_model(model, &calibration, name, layout, method, precision)?;
    for w in &built.compiled.warnings {
        eprintln!("warning: {w}");
    }
    for n in &built.notes {
        eprintln!("note: {n}");
    }
    // the guard (and --eval) runs before anything is written: a failing --eval, or a failed
    // guard under --strict, leaves no output
    let guard = build::guard(model, &built.compiled.model, &calibration, eval_data, labels)?;
    if strict {
        match &guard {
            build::GuardOutcome::Ran(g) if !g.failures.is_empty() => {
                print!("{}", build::guard_table(g));
                eprint!("{}", build::layer_table(&g.layers));
                return Err(build::guard_report(g, true));
            }
            build::GuardOutcome::NotRun(why) => {
                return Err(CliError::Usage(format!("--strict: the accuracy guard cannot run: {why}")).into());
            }
            build::GuardOutcome::Ran(_) => {}
        }
    }
    let mut files = built.files.clone();
    if steps {
        files.extend(verify::step_files(
            &built.compiled.model,
            &built.compiled.model_id,
            &format!("{}_steps/", built.compiled.model.name),
        )?);
    }
    build::write_all(out, &files)?;
    let compiled = &built.compiled;
    println!("compiled {} → {}", source.display(), out.join(format!("{}.smodel", compiled.model.name)).display());
    if let Some(c) = &built.evm_contract {
        println!("  solidity     {}", out.join(format!("{c}.sol")).display());
    }
    println!("  precompile   {}", out.join(&built.precompile_sibling).display());
    if steps {
        println!("  steps        {}", out.join(format!("{}_steps", compiled.model.name)).display());
    }
    println!("  modelId      0x{}", hex::encode(compiled.model_id));
    println!(
        "  artifact     {} bytes, {} nodes, {} parameters, {} MACs",
        compiled.artifact.len(),
        compiled.model.nodes.len(),
        compiled.model.parameter_count(),
        compiled.model.macs()
    );
    println!("  calibration  {} sample(s)", compiled.calibration_samples);
    match &guard {
        build::GuardOutcome::NotRun(why) => println!("\naccuracy guard: not run ({why})"),
        build::GuardOutcome::Ran(g) => {
            print!("{}", build::guard_table(g));
            if !g.failures.is_empty() {
                eprintln!("\n{:?}", build::guard_report(g, false));
                eprint!("{}", build::layer_table(&g.layers));
            }
        }
    }
    Ok(())
}

fn run(artifact: &Path, inputs: &[PathBuf], out: &Path, raw: bool, fixed: bool, backend: backend::BackendChoice) -> Result<()> {
    let bytes = std::fs::read(artifact).map_err(|e| CliError::io(artifact, e))?;
    // shared with the executor, which keeps what it needs of the model for every run
    let model = std::sync::Arc::new(
        solidml_spec::decode(&bytes).map_err(|e| CliError::Artifact { path: artifact.display().to_string(), source: e })?,
    );
    let shapes = runner::input_shapes(&model);
    let names: Vec<String> = model.inputs.iter().map(|&i| model.tensor(i).name.clone()).collect();
    let arrays: Vec<_> = inputs
        .iter()
        .enumerate()
        .map(|(i, p)| data::read_input(p, names.get(i).map(String::as_str).unwrap_or("")))
        .collect::<Result<_, _>>()?;
    let single = arrays.iter().zip(&shapes).all(|(a, s)| a.shape() == &s[..]);
    let samples = build::split_samples(&model, &arrays, inputs)?;
    if samples.is_empty() {
        // checked before anything is written: no empty output files are left behind
        let path = inputs.first().map(|p| p.as_path()).unwrap_or(artifact);
        return Err(CliError::data(path, "holds 0 samples: nothing to run").into());
    }
    // values outside an input's quantization range are clamped: the model sees other values
    for (i, name) in names.iter().enumerate() {
        let saturated: usize = samples.iter().map(|s| runner::count_saturated(&model, i, &s[i])).sum();
        if saturated > 0 {
            let total: usize = samples.iter().map(|s| s[i].len()).sum();
            let range = runner::input_range(&model, i).map_or_else(
                || "its per-feature quantization represents a range per feature".to_string(),
                |(lo, hi)| format!("its quantization represents [{lo}, {hi}]"),
            );
            eprintln!(
                "warning: {saturated} of {total} input values saturated (input `{name}`): {range} and clamps values beyond (inputs scaled as in calibration?)"
            );
        }
    }
    if fixed {
        // int256 values as decimal strings: exact, and what `cast` and Solidity tests take
        let strs = |v: &[Vec<i128>]| -> Vec<Vec<String>> { v.iter().map(|t| t.iter().map(|x| x.to_string()).collect()).collect() };
        for s in &samples {
            let r = runner::run_fixed(&model, s).map_err(CliError::from)?;
            println!("{}", serde_json::json!({ "inputs": strs(&r.inputs), "outputs": strs(&r.outputs) }));
        }
        return Ok(());
    }
    let executor = backend::make(backend)?;
    let prepared = executor.prepare(model.clone()).map_err(|e| CliError::Usage(format!("{} executor: {e}", executor.name())))?;
    let results = runner::run_samples_with(&model, &samples, |ins| prepared.run(ins).map_err(|e| e.to_string())).map_err(CliError::from)?;
    std::fs::create_dir_all(out).map_err(|e| CliError::io(out, e))?;
    let mut used = std::collections::HashSet::new();
    for (i, &o) in model.outputs.iter().enumerate() {
        let t = model.tensor(o);
        // outputs whose names map to the same file name (`a/b`, `a_b`) get `_2`, `_3`…
        let base = data::file_name(&t.name);
        let stem = (1..).map(|k| if k == 1 { base.clone() } else { format!("{base}_{k}") }).find(|s| used.insert(s.clone())).unwrap();
        let path = out.join(format!("{stem}.npy"));
        let per: Vec<runner::Output> = results
            .iter()
            .map(|(rawv, deq)| {
                if raw {
                    let shape: Vec<usize> = t.shape.iter().map(|&d| d as usize).collect();
                    let v = &rawv[i];
                    let ints: Vec<i64> = match v {
                        Value::I64(v) => v.clone(),
                        codes => (0..codes.len()).filter_map(|j| codes.code(j)).map(|x| x as i64).collect(),
                    };
                    runner::Output::Int(ndarray::ArrayD::from_shape_vec(shape, ints).unwrap())
                } else {
                    deq[i].clone()
                }
            })
            .collect();
        data::write_batch(&path, &per, single, raw.then_some(t.dtype))?;
        println!("{}", path.display());
    }
    Ok(())
}
