//! The start-up banner: anvil 1.7's sections, in anvil's order and format, because clients
//! parse it (alloy's node bindings read the `Private Keys` lines `(i) 0x…` and the port from
//! `Listening on ADDR:PORT`). Only the heading above the sections is our own.
//!
//! Also the `--config-out` JSON (anvil's keys: `available_accounts`, `private_keys`, `wallet`,
//! `base_fee`, `gas_limit`, `genesis_timestamp`, …).

use std::fmt::Write;

use alloy_primitives::{U256, utils::format_ether};

use crate::{accounts::DevAccount, config::NodeConfig};

/// Balance as anvil prints it: ether with 18 decimals (`10000.000000000000000000`).
fn ether_18(wei: U256) -> String {
    let s = format_ether(wei);
    match s.split_once('.') {
        Some((int, frac)) => format!("{int}.{frac:0<18}"),
        None => format!("{s}.000000000000000000"),
    }
}

/// Everything above `Listening on …`.
pub fn banner(config: &NodeConfig, backend: &str, accounts: &[DevAccount], genesis_timestamp: u64, genesis_number: u64) -> String {
    let mut s = String::new();
    let rule = "==================";
    let _ = writeln!(s, "\n    SolidML devnode {} (anvil-compatible; models through the SolidML precompile)", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(s, "    backend: {}\n", backend);
    let _ = writeln!(s, "Available Accounts\n{rule}\n");
    for (i, a) in accounts.iter().enumerate() {
        let _ = writeln!(s, "({i}) {} ({} ETH)", a.address.to_checksum(None), ether_18(config.balance));
    }
    let _ = writeln!(s, "\nPrivate Keys\n{rule}\n");
    for (i, a) in accounts.iter().enumerate() {
        let _ = writeln!(s, "({i}) {}", a.private_key_hex());
    }
    let _ = writeln!(s, "\nWallet\n{rule}");
    let _ = writeln!(s, "Mnemonic:          {}", config.mnemonic);
    let _ = writeln!(s, "Derivation path:   {}\n\n", config.derivation_path);
    let _ = writeln!(s, "Chain ID\n{rule}\n\n{}\n", config.chain_id);
    let _ = writeln!(s, "Base Fee\n{rule}\n\n{}\n", config.base_fee);
    let _ = writeln!(s, "Gas Limit\n{rule}\n\n{}\n", config.gas_limit);
    let _ = writeln!(s, "Genesis Timestamp\n{rule}\n\n{genesis_timestamp}\n");
    let _ = writeln!(s, "Genesis Number\n{rule}\n\n{genesis_number}\n");
    s
}

/// The `--config-out` document.
pub fn config_json(config: &NodeConfig, accounts: &[DevAccount], genesis_timestamp: u64, genesis_number: u64) -> serde_json::Value {
    serde_json::json!({
        "available_accounts": accounts.iter().map(|a| a.address.to_checksum(None)).collect::<Vec<_>>(),
        "private_keys": accounts.iter().map(DevAccount::private_key_hex).collect::<Vec<_>>(),
        "wallet": { "derivation_path": config.derivation_path, "mnemonic": config.mnemonic },
        "base_fee": format!("0x{:x}", config.base_fee),
        "gas_limit": format!("0x{:x}", config.gas_limit),
        "chain_id": config.chain_id,
        "genesis_timestamp": genesis_timestamp.to_string(),
        "genesis_number": genesis_number.to_string(),
        "backend": config.backend,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::derive;

    #[test]
    fn sections_and_lines_are_anvils() {
        let config = NodeConfig::default();
        let accounts = derive(&config.mnemonic, &config.derivation_path, 2).unwrap();
        let b = banner(&config, "cpu", &accounts, 1_700_000_000, 0);
        let expected = "Available Accounts\n==================\n\n\
            (0) 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 (10000.000000000000000000 ETH)\n\
            (1) 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 (10000.000000000000000000 ETH)\n\n\
            Private Keys\n==================\n\n\
            (0) 0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\n\
            (1) 0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d\n\n\
            Wallet\n==================\n\
            Mnemonic:          test test test test test test test test test test test junk\n\
            Derivation path:   m/44'/60'/0'/0/\n\n\n\
            Chain ID\n==================\n\n31337\n\n\
            Base Fee\n==================\n\n1000000000\n\n\
            Gas Limit\n==================\n\n30000000\n\n\
            Genesis Timestamp\n==================\n\n1700000000\n\n\
            Genesis Number\n==================\n\n0\n\n";
        assert!(b.ends_with(expected), "{b}");
    }

    #[test]
    fn balances_keep_eighteen_decimals() {
        assert_eq!(ether_18(U256::from(10_000u128 * crate::config::ETHER)), "10000.000000000000000000");
        assert_eq!(ether_18(U256::from(1_500_000_000_000_000_000u128)), "1.500000000000000000");
    }
}
