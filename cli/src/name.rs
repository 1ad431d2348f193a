//! `compile --name`: the model's name becomes file names (`NAME.smodel`, `NAME.json`) and the
//! Solidity contract `NAME` (`NAME.sol`, `NAMEPrecompile.sol`), so it must be a plain Solidity
//! identifier: ASCII letters, digits and `_`, not starting with a digit, not a Solidity keyword,
//! and not the name of a library file the generated contracts import.
//!
//! The keyword list is written here rather than taken from a parser crate: the check is one
//! lookup, and the list is Solidity 0.8's keywords and reserved words (solidity docs,
//! "Reserved Keywords") plus the elementary type names.

/// Names the generated contracts import, or that `solidml` writes beside them.
const TAKEN: &[&str] = &["SolidML", "SolidMLMath", "OGInference"];

/// Solidity 0.8 keywords, reserved words and literals that cannot name a contract.
const KEYWORDS: &[&str] = &[
    "abstract",
    "address",
    "after",
    "alias",
    "anonymous",
    "apply",
    "as",
    "assembly",
    "auto",
    "bool",
    "break",
    "byte",
    "bytes",
    "calldata",
    "case",
    "catch",
    "constant",
    "constructor",
    "continue",
    "contract",
    "copyof",
    "days",
    "default",
    "define",
    "delete",
    "do",
    "else",
    "emit",
    "enum",
    "error",
    "ether",
    "event",
    "external",
    "fallback",
    "false",
    "final",
    "fixed",
    "for",
    "function",
    "gwei",
    "hex",
    "hours",
    "if",
    "immutable",
    "implements",
    "import",
    "in",
    "indexed",
    "inline",
    "int",
    "interface",
    "internal",
    "is",
    "let",
    "library",
    "macro",
    "mapping",
    "match",
    "memory",
    "minutes",
    "modifier",
    "mutable",
    "new",
    "null",
    "of",
    "override",
    "partial",
    "payable",
    "pragma",
    "private",
    "promise",
    "public",
    "pure",
    "receive",
    "reference",
    "relocatable",
    "return",
    "returns",
    "revert",
    "sealed",
    "seconds",
    "sizeof",
    "static",
    "storage",
    "string",
    "struct",
    "super",
    "supports",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "type",
    "typedef",
    "typeof",
    "ufixed",
    "uint",
    "unchecked",
    "unicode",
    "using",
    "var",
    "view",
    "virtual",
    "weeks",
    "wei",
    "while",
    "years",
];

/// Why `name` cannot name a model, or `None` when it can.
pub(crate) fn invalid_reason(name: &str) -> Option<String> {
    let first_ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Some(format!(
            "`{name}` is not a Solidity identifier (ASCII letters, digits and `_`, not starting with a digit): it names the contract and the files"
        ));
    }
    let sized_type = ["int", "uint", "bytes", "fixed", "ufixed"].iter().any(|t| {
        name.strip_prefix(t)
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()) && rest.chars().all(|c| c.is_ascii_digit() || c == 'x'))
    });
    if KEYWORDS.contains(&name) || sized_type {
        return Some(format!("`{name}` is a Solidity keyword or type name"));
    }
    if TAKEN.contains(&name) {
        return Some(format!("`{name}` is the name of a library the generated contracts import"));
    }
    None
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
