//! `compile --name`: the model's name becomes file names (`NAME.smodel`, `NAME.json`) and the
//! Solidity contract `NAME` (`NAME.sol`, `NAMEPrecompile.sol`), so it must be a plain Solidity
//! identifier: ASCII letters, digits and `_`, not starting with a digit, not a Solidity keyword,
//! and not the name of a library file the generated contracts import
//! ([`solidml_solidity::names`]). A name taken from the model's file name instead is made one
//! ([`solidml_solidity::contract_name`]).

/// Why `name` cannot name a model, or `None` when it can.
pub(crate) fn invalid_reason(name: &str) -> Option<String> {
    let first_ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Some(format!(
            "`{name}` is not a Solidity identifier (ASCII letters, digits and `_`, not starting with a digit): it names the contract and the files"
        ));
    }
    solidml_solidity::names::reserved(name).map(|why| format!("`{name}` is {why}"))
}

#[cfg(test)]
mod tests {
    use super::invalid_reason;

    #[test]
    fn names_are_plain_solidity_identifiers() {
        for ok in ["digits_mlp", "Model1", "_x", "contractor", "uintx", "SolidMLModel"] {
            assert_eq!(invalid_reason(ok), None, "{ok}");
        }
        for bad in ["", "../x", "a/b", "1model", "my-model", "contract", "uint256", "bytes32", "SolidML", "SolidMLMath", "OGInference", "é"]
        {
            assert!(invalid_reason(bad).is_some(), "{bad}");
        }
    }
}
