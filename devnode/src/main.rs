//! `solidml-devnode`: the devnode as its own binary (`solidml devnode` runs the same).

use clap::Parser;
use solidml_devnode::{NodeArgs, NodeConfig};

#[derive(Parser)]
#[command(name = "solidml-devnode", version, about = "An anvil-compatible dev node whose EVM runs SolidML models")]
struct Cli {
    #[command(flatten)]
    args: NodeArgs,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match solidml_devnode::run(NodeConfig::from(cli.args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
