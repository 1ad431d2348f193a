//! Errors: [`DevnodeError`] for starting and running the node, [`RpcError`] for a JSON-RPC
//! answer, with anvil's codes and messages (so cast, forge and viem print them as they do for
//! anvil): `3` for a revert (`execution reverted: <reason>`, the revert data in `data`),
//! `-32003` for a transaction the pool refuses (nonce too low, insufficient funds), `-32000` for
//! intrinsic gas and other server errors, `-32601`/`-32602`/`-32700` from the JSON-RPC layer.

use alloy_primitives::Bytes;
use jsonrpsee::types::ErrorObjectOwned;

/// Why the node could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum DevnodeError {
    /// A flag or setting is wrong.
    #[error("{0}")]
    Config(String),
    /// The model directory or an artifact is bad.
    #[error("models: {0}")]
    Models(String),
    /// A state file could not be read, parsed or written.
    #[error("state file {path}: {reason}")]
    State {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The server could not bind or run.
    #[error("server: {0}")]
    Server(String),
    /// The requested executor is unavailable.
    #[error("backend: {0}")]
    Backend(String),
}

/// A JSON-RPC error answer.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    /// The code.
    pub code: i32,
    /// The message.
    pub message: String,
    /// Extra data (revert data as `0x…`).
    pub data: Option<serde_json::Value>,
}

impl RpcError {
    /// An error with this code and message.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        RpcError { code, message: message.into(), data: None }
    }

    /// `-32602`, invalid params.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(-32602, message)
    }

    /// `-32000`, a request the node cannot serve as given.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(-32000, message)
    }

    /// `-32603`, the node failed.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(-32603, message)
    }

    /// The block asked for does not exist.
    pub fn block_not_found() -> Self {
        Self::new(-32001, "Block not found")
    }

    /// `eth_sendTransaction` from an account the node holds no key for and does not impersonate.
    pub fn no_signer() -> Self {
        Self::new(-32000, "no signer available")
    }

    /// A revert: code 3, the reason decoded where it is an `Error(string)`, the data attached.
    pub fn revert(data: Bytes) -> Self {
        let message = match decode_error_string(&data) {
            Some(reason) => format!("execution reverted: {reason}"),
            None if data.is_empty() => "execution reverted".to_string(),
            None => format!("execution reverted: custom error 0x{}", hex::encode(&data)),
        };
        RpcError { code: 3, message, data: Some(serde_json::Value::String(format!("0x{}", hex::encode(&data)))) }
    }

    /// A halt other than a revert (invalid opcode, stack errors, …).
    pub fn halt(reason: &impl std::fmt::Debug) -> Self {
        Self::new(-32000, format!("EVM error {reason:?}"))
    }

    /// Out of gas at the cap while estimating.
    pub fn out_of_gas(cap: u64) -> Self {
        Self::new(-32000, format!("Out of gas: gas required exceeds allowance: {cap}"))
    }

    /// Whether this is the refusal of a gas limit below the intrinsic gas.
    pub fn is_intrinsic(&self) -> bool {
        self.message.contains("intrinsic gas")
    }
}

/// The reason of an `Error(string)` revert.
fn decode_error_string(data: &[u8]) -> Option<String> {
    if data.len() < 68 || data[..4] != [0x08, 0xc3, 0x79, 0xa0] {
        return None;
    }
    let body = &data[4..];
    let offset = usize::try_from(alloy_primitives::U256::from_be_slice(&body[..32])).ok()?;
    let len_word = body.get(offset..offset + 32)?;
    let len = usize::try_from(alloy_primitives::U256::from_be_slice(len_word)).ok()?;
    let bytes = body.get(offset + 32..offset + 32 + len)?;
    String::from_utf8(bytes.to_vec()).ok()
}

impl From<RpcError> for ErrorObjectOwned {
    fn from(e: RpcError) -> Self {
        ErrorObjectOwned::owned(e.code, e.message, e.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revert_reason_is_decoded() {
        // Error("nope")
        let data = hex::decode(
            "08c379a0\
             0000000000000000000000000000000000000000000000000000000000000020\
             0000000000000000000000000000000000000000000000000000000000000004\
             6e6f706500000000000000000000000000000000000000000000000000000000",
        )
        .unwrap();
        let e = RpcError::revert(Bytes::from(data.clone()));
        assert_eq!((e.code, e.message.as_str()), (3, "execution reverted: nope"));
        assert_eq!(e.data, Some(serde_json::Value::String(format!("0x{}", hex::encode(&data)))));
        assert_eq!(RpcError::revert(Bytes::new()).message, "execution reverted");
        // a truncated Error(string) is not decoded, and does not panic
        assert!(decode_error_string(&data[..40]).is_none());
    }
}
