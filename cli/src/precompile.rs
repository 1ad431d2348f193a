//! `solidml precompile`: call the SolidML precompile (or its OpenGradient entry) from the
//! command line, exactly as a node does, and print the output and the gas charged.

use std::{
    io::Read,
    path::{Path, PathBuf},
    sync::Arc,
};

use miette::Result;
use solidml_precompile::{
    DirStore, MemoryStore, ModelStore, SolidMlPrecompile, abi,
    abi::MAX_INPUT_BYTES,
    opengradient::OpenGradientEntry,
    precompile::{Outcome, Status},
};

use crate::{backend::BackendChoice, error::CliError};

/// Arguments of `solidml precompile`.
pub(crate) struct PrecompileArgs {
    pub input: String,
    pub models: Vec<PathBuf>,
    pub store: Option<PathBuf>,
    pub gas_limit: u64,
    pub opengradient: bool,
    pub backend: BackendChoice,
    pub gas_schedule: solidml_backends::ScheduleChoice,
    pub abi: bool,
}

pub(crate) fn precompile(args: PrecompileArgs) -> Result<()> {
    let store: Arc<dyn ModelStore> = match &args.store {
        Some(dir) => Arc::new(DirStore::open(dir).map_err(CliError::from)?),
        None => Arc::new(MemoryStore::new()),
    };
    for m in &args.models {
        let bytes = std::fs::read(m).map_err(|e| CliError::io(m, e))?;
        store.insert(&bytes).map_err(CliError::from)?;
    }
    let input = call_input(&args.input)?;
    let p = SolidMlPrecompile::new(crate::backend::make(args.backend)?).with_store(store).with_schedule(args.gas_schedule.schedule());
    let outcome: Outcome =
        if args.opengradient { OpenGradientEntry::new(p).call(&input, args.gas_limit) } else { p.call(&input, args.gas_limit) };
    if args.abi {
        // what SolidMLTest's native route reads through vm.ffi (stdlib-sol/src/test/SolidMLTest.sol):
        // status (0 return, 1 revert, 2 halt) ‖ gas charged ‖ return data, as one hex string
        let status: u8 = match &outcome.status {
            Status::Success(_) => 0,
            Status::Revert(_) => 1,
            Status::OutOfGas(_) => 2,
        };
        let mut word = [0u8; 64];
        word[31] = status;
        word[56..64].copy_from_slice(&outcome.gas_used.to_be_bytes());
        println!("0x{}{}", hex::encode(word), hex::encode(outcome.return_data()));
        return Ok(());
    }
    match outcome.error() {
        None => {
            println!("output 0x{}", hex::encode(outcome.return_data()));
            println!("gas    {}", outcome.gas_used);
            Ok(())
        }
        Some(e) => {
            let revert = outcome.return_data();
            if !revert.is_empty() {
                eprintln!("revert 0x{}", hex::encode(&revert));
            }
            Err(CliError::Precompile { code: e.code() as u8, gas: outcome.gas_used, message: e.to_string() }.into())
        }
    }
}

/// The call input: hex on the command line, or `-` (standard input) or `@FILE` holding hex —
/// a command line holds about 128 KiB, far below the precompile's 16 MiB input limit.
fn call_input(arg: &str) -> Result<Vec<u8>, CliError> {
    let (text, from) = if arg == "-" {
        (read_hex_text(std::io::stdin().lock(), "standard input", Path::new("<stdin>"))?, "standard input".to_string())
    } else if let Some(path) = arg.strip_prefix('@') {
        let p = Path::new(path);
        let from = format!("`{path}`");
        (read_hex_text(std::fs::File::open(p).map_err(|e| CliError::io(p, e))?, &from, p)?, from)
    } else {
        (arg.to_string(), "the input".to_string())
    };
    let hex_in = text.trim();
    hex::decode(hex_in.strip_prefix("0x").unwrap_or(hex_in)).map_err(|e| CliError::Usage(format!("{from} is not hex: {e}")))
}

/// The most text `-` and `@FILE` read: the hex of an input one byte over the precompile's limit
/// (which the precompile answers with its own error, code 4), a `0x` and some whitespace.
/// Anything longer is refused unread (`@/dev/zero` would otherwise fill the memory).
const MAX_HEX_TEXT: u64 = 2 * (MAX_INPUT_BYTES as u64 + 1) + 2 + 4096;

fn read_hex_text(source: impl Read, from: &str, path: &Path) -> Result<String, CliError> {
    let mut bytes = vec![];
    source.take(MAX_HEX_TEXT + 1).read_to_end(&mut bytes).map_err(|e| CliError::io(path, e))?;
    if bytes.len() as u64 > MAX_HEX_TEXT {
        return Err(CliError::Usage(format!(
            "{from} holds more than {MAX_HEX_TEXT} bytes: a call input is at most {MAX_INPUT_BYTES} bytes, {} hex digits",
            2 * MAX_INPUT_BYTES
        )));
    }
    String::from_utf8(bytes).map_err(|_| CliError::Usage(format!("{from} is not hex: it is not UTF-8 text")))
}

/// The address line printed by `solidml precompile --help`.
pub(crate) fn addresses() -> String {
    format!(
        "SolidML precompile at 0x{}, OpenGradient entry at 0x{}",
        hex::encode(abi::SOLIDML_PRECOMPILE),
        hex::encode(abi::OPENGRADIENT_PRECOMPILE)
    )
}
