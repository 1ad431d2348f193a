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

    /// A block number past the latest block, at a block tag that needs state.
    pub fn block_out_of_range(best: u64, requested: u64) -> Self {
        Self::new(-32602, format!("BlockOutOfRangeError: block height is {best} but requested was {requested}"))
    }

    /// `eth_sendTransaction` (or a signing method) from an account the node holds no key for and
    /// does not impersonate.
    pub fn no_signer() -> Self {
        Self::new(-32602, "No Signer available")
    }

    /// A revert: code 3, the message anvil writes for the revert data (see [`revert_reason`]),
    /// the data attached.
    pub fn revert(data: Bytes) -> Self {
        let message = match revert_reason(&data) {
            Some(reason) => format!("execution reverted: {reason}"),
            None => "execution reverted".to_string(),
        };
        RpcError { code: 3, message, data: Some(serde_json::Value::String(format!("0x{}", hex::encode(&data)))) }
    }

    /// A halt other than a revert (out of gas, invalid opcode, stack errors, …) in a call: `-32603`
    /// with revm's instruction result name, as anvil answers it.
    pub fn halt(reason: &revm::context_interface::result::HaltReason) -> Self {
        Self::new(-32603, format!("EVM error {}", halt_name(reason)))
    }

    /// Out of gas at the cap while estimating (anvil's `-32003`).
    pub fn out_of_gas(cap: u64) -> Self {
        Self::new(-32003, format!("Out of gas: gas required exceeds allowance: {cap}"))
    }

    /// Whether this is the refusal of a gas limit below the intrinsic gas.
    pub fn is_intrinsic(&self) -> bool {
        self.message.contains("intrinsic gas")
    }
}

/// The name anvil gives a halt (revm's `InstructionResult` it maps the halt to).
pub fn halt_name(reason: &revm::context_interface::result::HaltReason) -> String {
    use revm::context_interface::result::{HaltReason as H, OutOfGasError as O};
    match reason {
        H::OutOfGas(O::Basic) => "OutOfGas".into(),
        H::OutOfGas(O::Memory) => "MemoryOOG".into(),
        H::OutOfGas(O::MemoryLimit) => "MemoryLimitOOG".into(),
        H::OutOfGas(O::Precompile) => "PrecompileOOG".into(),
        H::OutOfGas(O::InvalidOperand) => "InvalidOperandOOG".into(),
        H::OutOfGas(O::ReentrancySentry) => "ReentrancySentryOOG".into(),
        other => {
            // the variant's name without its payload
            let d = format!("{other:?}");
            d.split(['(', ' ', '{']).next().unwrap_or(&d).to_string()
        }
    }
}

/// What a panic code means, in the words anvil (foundry's revert decoder) uses.
fn panic_meaning(code: alloy_primitives::U256) -> &'static str {
    match code.saturating_to::<u64>() {
        0x00 => "generic/unspecified error",
        0x01 => "assertion failed",
        0x11 => "arithmetic underflow or overflow",
        0x12 => "division or modulo by zero",
        0x21 => "failed to convert value into enum type",
        0x22 => "storage byte array incorrectly encoded",
        0x31 => "called `.pop()` on an empty array",
        0x32 => "array out-of-bounds access",
        0x41 => "memory allocation error",
        0x51 => "called an invalid internal function",
        _ => "unknown code",
    }
}

/// An ABI-encoded `string` (offset word, length word, bytes), as lossy UTF-8.
fn abi_string(body: &[u8]) -> Option<String> {
    let word = |at: usize| body.get(at..at + 32).map(alloy_primitives::U256::from_be_slice);
    let offset = usize::try_from(word(0)?).ok()?;
    let len = usize::try_from(word(offset)?).ok()?;
    let start = offset.checked_add(32)?;
    let bytes = body.get(start..start.checked_add(len)?)?;
    Some(String::from_utf8_lossy(bytes).into_owned())
}

/// The reason anvil reads in revert data (`None` for no data): an `Error(string)`'s string, a
/// `Panic(uint256)` as `panic: <meaning> (0x<code>)`, an ABI-encoded string, data that is UTF-8
/// text as that text, and anything else as `custom error 0x<selector>[: <rest as hex>]`.
pub fn revert_reason(data: &[u8]) -> Option<String> {
    if data.is_empty() {
        return None;
    }
    if data.len() < 4 {
        return Some(String::from_utf8_lossy(data).into_owned());
    }
    let (selector, body) = data.split_at(4);
    if selector == [0x08, 0xc3, 0x79, 0xa0]
        && let Some(s) = abi_string(body)
    {
        return Some(s);
    }
    if selector == [0x4e, 0x48, 0x7b, 0x71] && body.len() == 32 {
        let code = alloy_primitives::U256::from_be_slice(body);
        return Some(format!("panic: {} (0x{code:02x})", panic_meaning(code)));
    }
    if let Some(s) = abi_string(data) {
        return Some(s);
    }
    if let Ok(s) = std::str::from_utf8(data) {
        return Some(s.to_string());
    }
    let mut s = format!("custom error 0x{}", hex::encode(selector));
    if !body.is_empty() {
        s.push_str(": ");
        s.push_str(&hex::encode(body));
    }
    Some(s)
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
        // a truncated Error(string) is not decoded as one, and does not panic
        assert_eq!(revert_reason(&data[..40]).as_deref(), Some(&*format!("custom error 0x08c379a0: {}", hex::encode(&data[4..40]))));
        // a panic, a custom error, text
        let mut panic = hex::decode("4e487b71").unwrap();
        panic.extend([0u8; 31]);
        panic.push(0x11);
        assert_eq!(revert_reason(&panic).as_deref(), Some("panic: arithmetic underflow or overflow (0x11)"));
        assert_eq!(revert_reason(&hex::decode("deadbeefcafe").unwrap()).as_deref(), Some("custom error 0xdeadbeef: cafe"));
        assert_eq!(revert_reason(&hex::decode("8e4a23d6").unwrap()).as_deref(), Some("custom error 0x8e4a23d6"));
        assert_eq!(revert_reason(b"NH{q").as_deref(), Some("NH{q"));
    }
}
