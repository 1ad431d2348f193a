//! The dev accounts: keys derived from a BIP39 phrase along `<derivation path><index>`
//! (alloy-signer-local's mnemonic builder), the same keys anvil derives from the same flags.

use alloy_primitives::Address;
use alloy_signer_local::{MnemonicBuilder, PrivateKeySigner, coins_bip39::English};

use crate::DevnodeError;

/// A dev account the node can sign for.
#[derive(Debug, Clone)]
pub struct DevAccount {
    /// The account's address.
    pub address: Address,
    /// Its key.
    pub signer: PrivateKeySigner,
}

impl DevAccount {
    /// The private key as `0x…` hex (what anvil prints).
    pub fn private_key_hex(&self) -> String {
        format!("0x{}", hex::encode(self.signer.credential().to_bytes()))
    }
}

/// `count` accounts derived from `phrase` at `path` + index (0, 1, …).
pub fn derive(phrase: &str, path: &str, count: u32) -> Result<Vec<DevAccount>, DevnodeError> {
    let bad = |e: alloy_signer_local::LocalSignerError| DevnodeError::Config(format!("mnemonic or derivation path: {e}"));
    (0..count)
        .map(|i| {
            let signer = MnemonicBuilder::<English>::default()
                .phrase(phrase)
                .derivation_path(format!("{path}{i}"))
                .map_err(bad)?
                .build()
                .map_err(bad)?;
            Ok(DevAccount { address: signer.address(), signer })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DEFAULT_DERIVATION_PATH, DEFAULT_MNEMONIC};

    #[test]
    fn the_default_phrase_gives_anvils_accounts() {
        let a = derive(DEFAULT_MNEMONIC, DEFAULT_DERIVATION_PATH, 2).unwrap();
        assert_eq!(a[0].address.to_checksum(None), "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
        assert_eq!(a[0].private_key_hex(), "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
        assert_eq!(a[1].address.to_checksum(None), "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
        assert_eq!(a[1].private_key_hex(), "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
    }

    #[test]
    fn a_bad_phrase_is_a_clear_error() {
        let e = derive("not a mnemonic", DEFAULT_DERIVATION_PATH, 1).unwrap_err();
        assert!(e.to_string().contains("mnemonic"), "{e}");
    }
}
