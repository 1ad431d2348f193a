//! The node's configuration: anvil's flags with anvil's defaults, plus SolidML's `--backend` and
//! `--models`.
//!
//! [`NodeArgs`] is the command line (shared by `solidml-devnode` and `solidml devnode`);
//! [`NodeConfig`] is what the node runs with, built from it or with `with_*` builders in tests.
//! Defaults are anvil 1.7's: port 8545 on 127.0.0.1, 10 accounts of 10,000 ETH derived from
//! `test test … junk` at `m/44'/60'/0'/0/`, chain id 31337, gas limit 30,000,000, base fee
//! 1 gwei, automine unless `--block-time` or `--no-mining`.

use std::{net::IpAddr, path::PathBuf};

use alloy_primitives::U256;
pub use solidml_backends::{BackendChoice, ScheduleChoice};

/// anvil's default mnemonic.
pub const DEFAULT_MNEMONIC: &str = "test test test test test test test test test test test junk";
/// anvil's default derivation path (the account index is appended).
pub const DEFAULT_DERIVATION_PATH: &str = "m/44'/60'/0'/0/";
/// anvil's default chain id.
pub const DEFAULT_CHAIN_ID: u64 = 31337;
/// anvil's default block gas limit.
pub const DEFAULT_GAS_LIMIT: u64 = 30_000_000;
/// anvil's default base fee of the genesis block (1 gwei).
pub const DEFAULT_BASE_FEE: u64 = 1_000_000_000;
/// One ether in wei.
pub const ETHER: u128 = 1_000_000_000_000_000_000;

/// The command line of the node: anvil's flags (same names, short forms and defaults) plus
/// `--backend` and `--models`.
#[derive(Debug, Clone, clap::Args)]
pub struct NodeArgs {
    /// Port number to listen on (0 picks a free port)
    #[arg(short = 'p', long, default_value_t = 8545)]
    pub port: u16,
    /// The address to listen on
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Number of dev accounts to generate and configure
    #[arg(short = 'a', long, default_value_t = 10)]
    pub accounts: u32,
    /// The balance of every dev account in Ether
    #[arg(long, default_value_t = 10_000)]
    pub balance: u64,
    /// BIP39 mnemonic phrase used for generating accounts
    #[arg(short = 'm', long, default_value = DEFAULT_MNEMONIC)]
    pub mnemonic: String,
    /// Sets the derivation path of the child key to be derived
    #[arg(long, default_value = DEFAULT_DERIVATION_PATH)]
    pub derivation_path: String,
    /// The chain ID
    #[arg(long, default_value_t = DEFAULT_CHAIN_ID)]
    pub chain_id: u64,
    /// Block time in seconds for interval mining (automine when absent)
    #[arg(short = 'b', long, visible_alias = "blockTime")]
    pub block_time: Option<u64>,
    /// Disable auto and interval mining, and mine on demand instead
    #[arg(long, visible_alias = "no-mine", conflicts_with = "block_time")]
    pub no_mining: bool,
    /// The block gas limit
    #[arg(long, default_value_t = DEFAULT_GAS_LIMIT)]
    pub gas_limit: u64,
    /// The base fee in a block (of the genesis block; later blocks follow EIP-1559)
    #[arg(long, visible_alias = "block-base-fee-per-gas", default_value_t = DEFAULT_BASE_FEE)]
    pub base_fee: u64,
    /// The timestamp of the genesis block (now when absent)
    #[arg(long)]
    pub timestamp: Option<u64>,
    /// The EVM hardfork: the node runs Prague only, so `prague` is accepted (scripts written for
    /// anvil pass it) and any other is refused by name
    #[arg(long, value_parser = parse_hardfork)]
    pub hardfork: Option<String>,
    /// Alias for both --load-state and --dump-state (loads when the file exists)
    #[arg(long, value_name = "PATH", conflicts_with_all = ["load_state", "dump_state"])]
    pub state: Option<PathBuf>,
    /// Dump the state and blocks of the chain on exit to the given file (a directory gets
    /// `state.json` inside)
    #[arg(long, value_name = "PATH")]
    pub dump_state: Option<PathBuf>,
    /// Initialize the chain from a previously saved state snapshot
    #[arg(long, value_name = "PATH")]
    pub load_state: Option<PathBuf>,
    /// Interval in seconds at which the state is dumped to disk (with --state or --dump-state)
    #[arg(short = 's', long, value_name = "SECONDS")]
    pub state_interval: Option<u64>,
    /// Writes the node's accounts, keys and settings as JSON to this file
    #[arg(long, value_name = "FILE")]
    pub config_out: Option<PathBuf>,
    /// Print no banner and no logs
    #[arg(short = 'q', long, visible_alias = "silent")]
    pub quiet: bool,
    /// Which executor runs models: cpu (the reference), jit, gpu (wgpu; lavapipe when there is
    /// no GPU), auto (a hardware GPU, else the JIT)
    #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
    pub backend: BackendChoice,
    /// The precompile's gas schedule: jit (version 2) or reference (version 1, for networks
    /// whose nodes do not all run the JIT); docs/precompile.md
    #[arg(long, value_enum, default_value_t = ScheduleChoice::Jit)]
    pub gas_schedule: ScheduleChoice,
    /// A directory of `<modelId>.smodel` artifacts (hash-checked) served from the start
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
}

/// How blocks are produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Mining {
    /// One block per transaction, as soon as it is ready.
    Auto,
    /// One block every this many seconds.
    Interval(u64),
    /// Only on `evm_mine`/`anvil_mine`.
    Manual,
}

/// Everything the node runs with.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Interface and port to listen on (port 0: a free port).
    pub host: IpAddr,
    /// Port to listen on.
    pub port: u16,
    /// Number of dev accounts.
    pub accounts: u32,
    /// Balance of each dev account, in wei.
    pub balance: U256,
    /// BIP39 phrase the dev accounts derive from.
    pub mnemonic: String,
    /// Derivation path prefix (account index appended).
    pub derivation_path: String,
    /// Chain id.
    pub chain_id: u64,
    /// How blocks are produced.
    pub mining: Mining,
    /// Block gas limit.
    pub gas_limit: u64,
    /// Base fee of the genesis block.
    pub base_fee: u64,
    /// Genesis timestamp (now when `None`).
    pub genesis_timestamp: Option<u64>,
    /// State file to load at start.
    pub load_state: Option<PathBuf>,
    /// State file to write on exit (and every `state_interval` seconds).
    pub dump_state: Option<PathBuf>,
    /// Seconds between periodic dumps.
    pub state_interval: Option<u64>,
    /// Where to write the `--config-out` JSON.
    pub config_out: Option<PathBuf>,
    /// No banner, no logs.
    pub quiet: bool,
    /// Which executor runs models.
    pub backend: BackendChoice,
    /// The precompile's gas schedule.
    pub gas_schedule: ScheduleChoice,
    /// Model directory served from the start.
    pub models: Option<PathBuf>,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 8545,
            accounts: 10,
            balance: U256::from(10_000u128 * ETHER),
            mnemonic: DEFAULT_MNEMONIC.into(),
            derivation_path: DEFAULT_DERIVATION_PATH.into(),
            chain_id: DEFAULT_CHAIN_ID,
            mining: Mining::Auto,
            gas_limit: DEFAULT_GAS_LIMIT,
            base_fee: DEFAULT_BASE_FEE,
            genesis_timestamp: None,
            load_state: None,
            dump_state: None,
            state_interval: None,
            config_out: None,
            quiet: false,
            backend: BackendChoice::Cpu,
            gas_schedule: ScheduleChoice::Jit,
            models: None,
        }
    }
}

impl NodeConfig {
    /// Listen on this port (0: a free one).
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    /// Derive this many dev accounts.
    pub fn with_accounts(mut self, n: u32) -> Self {
        self.accounts = n;
        self
    }
    /// Produce blocks this way.
    pub fn with_mining(mut self, mining: Mining) -> Self {
        self.mining = mining;
        self
    }
    /// Use this chain id.
    pub fn with_chain_id(mut self, id: u64) -> Self {
        self.chain_id = id;
        self
    }
    /// Print nothing.
    pub fn with_quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }
    /// Run models on this executor.
    pub fn with_backend(mut self, backend: BackendChoice) -> Self {
        self.backend = backend;
        self
    }
    /// Price precompile calls by this schedule.
    pub fn with_gas_schedule(mut self, schedule: ScheduleChoice) -> Self {
        self.gas_schedule = schedule;
        self
    }
    /// Serve the models of this directory.
    pub fn with_models(mut self, dir: impl Into<PathBuf>) -> Self {
        self.models = Some(dir.into());
        self
    }
    /// Genesis at this timestamp.
    pub fn with_genesis_timestamp(mut self, ts: u64) -> Self {
        self.genesis_timestamp = Some(ts);
        self
    }
}

/// `--hardfork`: the one the node runs, by anvil's names (case-insensitive).
fn parse_hardfork(name: &str) -> Result<String, String> {
    match name.to_ascii_lowercase().as_str() {
        "prague" => Ok("prague".into()),
        other => Err(format!("the devnode runs the Prague hardfork only, not `{other}`")),
    }
}

impl From<NodeArgs> for NodeConfig {
    fn from(a: NodeArgs) -> Self {
        let mining = match (a.no_mining, a.block_time) {
            (true, _) => Mining::Manual,
            (false, Some(secs)) => Mining::Interval(secs.max(1)),
            (false, None) => Mining::Auto,
        };
        // `--state PATH` loads PATH when it exists and dumps to it on exit, as anvil does
        let (load_state, dump_state) = match a.state {
            Some(p) => (p.exists().then(|| p.clone()), Some(p)),
            None => (a.load_state, a.dump_state),
        };
        NodeConfig {
            host: a.host,
            port: a.port,
            accounts: a.accounts,
            balance: U256::from(a.balance) * U256::from(ETHER),
            mnemonic: a.mnemonic,
            derivation_path: a.derivation_path,
            chain_id: a.chain_id,
            mining,
            gas_limit: a.gas_limit,
            base_fee: a.base_fee,
            genesis_timestamp: a.timestamp,
            load_state,
            dump_state,
            state_interval: a.state_interval,
            config_out: a.config_out,
            quiet: a.quiet,
            backend: a.backend,
            gas_schedule: a.gas_schedule,
            models: a.models,
        }
    }
}

/// `solidml devnode [FLAGS]` runs a node; `solidml devnode bench` measures one against anvil.
#[derive(Debug, Clone, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DevnodeCommand {
    /// `bench`, or nothing to run the node
    #[command(subcommand)]
    pub command: Option<DevnodeSubcommand>,
    /// The node's flags.
    #[command(flatten)]
    pub node: NodeArgs,
}

/// What `devnode` does besides running a node.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum DevnodeSubcommand {
    /// The same workload against real anvil and against the devnode, in one run, with ratios:
    /// eth_call/s, eth_sendRawTransaction/s (automine), and a model inference through eth_call
    Bench(BenchArgs),
}

/// `devnode bench`'s flags.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// anvil's binary (default: $FOUNDRY_BIN/anvil, else stdlib-sol/toolchain/bin/anvil, else
    /// `anvil` on the PATH)
    #[arg(long)]
    pub anvil: Option<PathBuf>,
    /// Concurrent clients
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// eth_calls per client per round
    #[arg(long, default_value_t = 2000)]
    pub calls: usize,
    /// Signed transactions per client per round
    #[arg(long, default_value_t = 200)]
    pub transactions: usize,
    /// Rounds; the median is reported
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// A model artifact (.smodel) for the inference latency (`solidml devnode bench` compiles
    /// the bundled digits MLP when none is given)
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Backends to time the inference on
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [BackendChoice::Cpu, BackendChoice::Jit, BackendChoice::Gpu])]
    pub backends: Vec<BackendChoice>,
}

impl BenchArgs {
    /// anvil's path: the flag, `$FOUNDRY_BIN/anvil`, the project-local install, the PATH.
    pub fn anvil_path(&self) -> PathBuf {
        if let Some(p) = &self.anvil {
            return p.clone();
        }
        let local = [
            std::env::var_os("FOUNDRY_BIN").map(|d| PathBuf::from(d).join("anvil")),
            Some(PathBuf::from("stdlib-sol/toolchain/bin/anvil")),
        ];
        local.into_iter().flatten().find(|p| p.is_file()).unwrap_or_else(|| PathBuf::from("anvil"))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        node: NodeArgs,
    }

    #[test]
    fn the_hardfork_flag_takes_prague_and_names_what_it_refuses() {
        for ok in ["prague", "Prague"] {
            assert_eq!(Cli::try_parse_from(["devnode", "--hardfork", ok]).unwrap().node.hardfork.as_deref(), Some("prague"));
        }
        for refused in ["cancun", "latest", "osaka"] {
            let err = Cli::try_parse_from(["devnode", "--hardfork", refused]).err().unwrap().to_string();
            assert!(err.contains(&format!("the devnode runs the Prague hardfork only, not `{refused}`")), "{err}");
        }
    }
}
