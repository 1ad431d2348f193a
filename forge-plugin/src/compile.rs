//! The project's own compilation: `forge build` in the project, which reads its
//! `foundry.toml` (paths, libraries, remappings, solc version, EVM version, optimizer, via-IR)
//! and compiles through foundry-compilers exactly as `forge test` will; [`parse_build`] turns
//! its output into a [`ProjectBuild`].
//!
//! Why forge and not the foundry-compilers crate linked in: foundry-compilers 0.21 turns on
//! serde_json's `arbitrary_precision` feature unconditionally, and Cargo unifies features, so
//! linking it changes how every JSON document SolidML writes prints its floats (a model's
//! scales, the spec's test vectors: `tests/execspec_diff.rs` caught it). forge is the same
//! driver with the project's own settings, and `solidml check` runs forge anyway.

/// What the compilation gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectBuild {
    /// The solc version forge used, when it compiled anything (`None`: nothing had changed).
    pub solc_version: Option<String>,
    /// Files compiled (`None`: nothing had changed since forge's last build).
    pub files: Option<usize>,
    /// solc's errors, each as solc prints it (message, location, excerpt).
    pub errors: Vec<String>,
    /// How many warnings solc gave.
    pub warnings: usize,
}

/// Read `forge build`'s output (`text`: stdout and stderr) and exit status.
pub fn parse_build(text: &str, success: bool) -> ProjectBuild {
    let solc_version = text.lines().find_map(|l| {
        let rest = l.split_once("with Solc ").map(|(_, r)| r).or_else(|| l.strip_prefix("Solc "))?;
        rest.split_whitespace().next().map(String::from)
    });
    let files = text.lines().find_map(|l| l.strip_prefix("Compiling ")?.split_whitespace().next()?.parse().ok());
    let is_diagnostic = |l: &str, kind: &str| {
        l.strip_prefix(kind)
            .and_then(|r| r.strip_prefix(" ("))
            .is_some_and(|r| r.split_once("):").is_some_and(|(code, _)| code.chars().all(|c| c.is_ascii_digit())))
            || l.starts_with(&format!("{kind}:")) && !l.contains("Compiler run")
    };
    let mut errors: Vec<String> = vec![];
    let mut current: Option<String> = None;
    for line in text.lines() {
        if is_diagnostic(line, "Error") || is_diagnostic(line, "TypeError") || is_diagnostic(line, "ParserError") {
            if let Some(block) = current.take() {
                errors.push(block);
            }
            current = Some(line.to_string());
        } else if let Some(block) = current.as_mut() {
            if line.trim().is_empty() || is_diagnostic(line, "Warning") {
                errors.push(current.take().unwrap());
            } else {
                block.push('\n');
                block.push_str(line);
            }
        }
    }
    errors.extend(current);
    if !success && errors.is_empty() {
        let tail: Vec<&str> = text.lines().rev().take(20).collect();
        errors.push(format!("forge build failed:\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n")));
    }
    let warnings = text.lines().filter(|l| is_diagnostic(l, "Warning")).count();
    ProjectBuild { solc_version, files, errors, warnings }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_build_gives_each_error_with_its_location() {
        let text = "Compiling 1 files with Solc 0.8.30\nSolc 0.8.30 finished in 456.75ms\nError: Compiler run failed:\nError (6359): Return argument type literal_string \"x\" is not implicitly convertible to expected type (type of first return variable) uint256.\n --> src/Typo.sol:6:16:\n  |\n6 |         return \"x\";\n  |                ^^^\n";
        let b = parse_build(text, false);
        assert_eq!(b.solc_version.as_deref(), Some("0.8.30"));
        assert_eq!(b.files, Some(1));
        assert_eq!(b.errors.len(), 1);
        assert!(b.errors[0].starts_with("Error (6359): Return argument type"));
        assert!(b.errors[0].contains("--> src/Typo.sol:6:16:"));
        assert!(b.errors[0].ends_with("^^^"));
    }

    #[test]
    fn warnings_are_counted_and_a_cached_build_has_no_version() {
        let text = "Compiling 2 files with Solc 0.8.30\nSolc 0.8.30 finished in 1.00s\nCompiler run successful with warnings:\nWarning (2072): Unused local-variable.\n --> src/A.sol:5:9:\n  |\n\nWarning (2018): Function state mutability can be restricted to pure\n --> src/A.sol:9:5:\n";
        let b = parse_build(text, true);
        assert!(b.errors.is_empty());
        assert_eq!(b.warnings, 2);
        let cached = parse_build("No files changed, compilation skipped\n", true);
        assert_eq!(cached, ProjectBuild { solc_version: None, files: None, errors: vec![], warnings: 0 });
    }

    #[test]
    fn a_failure_without_a_diagnostic_keeps_forge_s_words() {
        let b = parse_build("Error: failed to resolve file: \"lib/x.sol\": No such file or directory\n", false);
        assert_eq!(b.errors.len(), 1);
        assert!(b.errors[0].contains("failed to resolve file"), "{:?}", b.errors);
    }
}
