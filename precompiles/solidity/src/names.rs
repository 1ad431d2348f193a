//! What a generated contract may not be called: Solidity 0.8's keywords, reserved words and
//! elementary type names, and the libraries the generated contracts import (a model named
//! `SolidML` would overwrite `SolidML.sol` beside it).
//!
//! The keyword list is written here rather than taken from a parser crate: the check is one
//! lookup, and the list is Solidity 0.8's keywords and reserved words (solidity docs,
//! "Reserved Keywords") plus the elementary type names.

/// Names the generated contracts import, or that `solidml` writes beside them.
pub const LIBRARIES: &[&str] = &["SolidML", "SolidMLMath", "OGInference"];

/// Solidity 0.8 keywords, reserved words and literals that cannot name a contract.
pub const KEYWORDS: &[&str] = &[
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

/// Why `name` cannot name a contract — it is a keyword or type name, or a library's name —
/// as a phrase (`"a Solidity keyword or type name"`); `None` when neither. Identifier syntax
/// is not checked here.
pub fn reserved(name: &str) -> Option<&'static str> {
    let sized_type = ["int", "uint", "bytes", "fixed", "ufixed"].iter().any(|t| {
        name.strip_prefix(t)
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()) && rest.chars().all(|c| c.is_ascii_digit() || c == 'x'))
    });
    if KEYWORDS.contains(&name) || sized_type {
        return Some("a Solidity keyword or type name");
    }
    if LIBRARIES.contains(&name) {
        return Some("the name of a library the generated contracts import");
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::contract_name;

    #[test]
    fn contract_names_are_identifiers_no_keyword_or_library_takes() {
        for (model, contract) in [
            ("digits_mlp", "digits_mlp"),
            ("my-model", "my_model"),
            ("1model", "M1model"),
            ("contract", "Mcontract"),
            ("uint256", "Muint256"),
            ("SolidML", "MSolidML"),
            ("OGInference", "MOGInference"),
            ("contractor", "contractor"),
        ] {
            assert_eq!(contract_name(model), contract, "{model}");
        }
    }
}
