//! `solidml-devnode`: the devnode as its own binary (`solidml devnode` runs the same).

use clap::Parser;
use solidml_devnode::DevnodeCommand;

#[derive(Parser)]
#[command(name = "solidml-devnode", version, about = "An anvil-compatible dev node whose EVM runs SolidML models")]
struct Cli {
    #[command(flatten)]
    command: DevnodeCommand,
}

fn main() -> std::process::ExitCode {
    // SAFETY: the first thing main does, before any thread exists
    unsafe { solidml_backends::prepare_environment() };
    let cli = Cli::parse();
    match solidml_devnode::run_command(cli.command, || None) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
