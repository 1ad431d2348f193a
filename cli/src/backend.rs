//! `--backend cpu|gpu|auto` for `run`, `precompile` and `bench`: the choice and the executor it
//! gives live in `solidml-backends` (shared with the devnode); this module turns its error into
//! a usage error.

use std::sync::Arc;

use miette::Result;
use solidml_exec::Executor;

pub(crate) use solidml_backends::BackendChoice;

use crate::error::CliError;

/// The executor a choice asks for.
pub(crate) fn make(choice: BackendChoice) -> Result<Arc<dyn Executor>> {
    Ok(solidml_backends::make(choice).map_err(CliError::Usage)?)
}
