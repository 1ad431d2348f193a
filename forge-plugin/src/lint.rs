//! Static checks of a foundry project's Solidity against `solidml.toml`, for `solidml check`
//! and `solidml lint`.
//!
//! Every source is parsed with [`solang_parser`] (a full Solidity grammar, not regular
//! expressions) and its parse tree is walked. The contract of this module:
//!
//! * **Call sites.** Every call of the SolidML library (`SolidML.run(id, input)` and any other
//!   `SolidML.run…` member), of OpenGradient's interface (`….runModelInference(request)`) and
//!   of a generated model contract (`x.predictQ(q)` / `x.predict(v)` where `x` is declared
//!   with, cast to or created as the generated contract's type) is a [`CallSite`], with the
//!   `solidml.toml` model it calls when the source shows which one.
//! * **Which model.** A model id argument resolves when it is `SolidMLModels.CONST` (by the
//!   constant's name), a `bytes32` hex literal (`0x` + 64 digits or `hex"…"` of 32 bytes, by
//!   modelId, also inside `bytes32(…)`), or a `bytes32 constant NAME = …` declared in the same
//!   file, at file level or in the calling contract or one of its bases in that file, whose
//!   value resolves by these rules. Anything else (a variable, a parameter, a function call)
//!   is a call site whose model is `None`, and no finding. `runModelInference` resolves when
//!   its request is built in place (`ModelInferenceRequest(mode, "0x…", input)`, positional or
//!   named) with a string literal modelCID.
//! * **Findings** (mistakes visible before run time): a source that does not parse (the
//!   parser's first diagnostic); `SolidMLModels.X` with no model `x` in `solidml.toml`; a
//!   literal modelId (or modelCID) that is not a model of `solidml.toml`; a fixed-length input
//!   of the wrong size: `new bytes(N)` with a number literal `N`, a hex string `hex"…"` or a
//!   plain string literal passed to `SolidML.run` or `predictQ` whose length differs from the
//!   model's input bytes; and, for `runModelInference` requests built in place, a literal
//!   modelCID that is not `0x` + 64 hex digits or a `ZK`/`TEE` mode, which a SolidML node
//!   refuses (`Unsupported`, docs/precompile.md).
//! * **Positions.** Lines and columns are 1-based; the column counts characters (not bytes)
//!   from the start of the line. They come from the byte offsets of solang's [`Loc`].
//! * **Not seen.** There is no type checker and no data flow: an id or input held in a local
//!   variable, a state variable or returned by a function is not followed (model `None`, no
//!   length check); `predict(int256[])` lengths are not checked (they count elements, not
//!   bytes); local declarations are scoped per function, not per block; Yul (`assembly`)
//!   blocks are not searched (the library cannot be called from Yul); names imported under
//!   an alias (`import {SolidML as S} …`, `import {digits as D} …`) are followed, names reached
//!   through a namespace import (`import "…" as N; N.SolidML.run(…)`) are not.

use std::{
    collections::{HashMap, HashSet},
    fmt,
    path::{Path, PathBuf},
};

use solang_parser::pt::{
    CatchClause, CodeLocation, ContractDefinition, ContractPart, Expression, FunctionAttribute, FunctionDefinition, Identifier, Import,
    Loc, NamedArgument, SourceUnitPart, Statement, Type, VariableAttribute, VariableDefinition,
};

use crate::{ForgeError, models_sol::id_constant};

/// A model of `solidml.toml`, as the sources may name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownModel {
    /// Its name in `solidml.toml` (`[models.digits]` → `digits`).
    pub name: String,
    /// Its `SolidMLModels` constant (`DIGITS`).
    pub constant: String,
    /// Its modelId (keccak256 of the artifact).
    pub model_id: [u8; 32],
    /// Bytes of its packed input (`SolidML.run`'s and `predictQ`'s `input`).
    pub input_bytes: usize,
    /// The generated pure-Solidity contract's name, when there is one (`digits`).
    pub contract: Option<String>,
}

impl KnownModel {
    /// A model named `name` in `solidml.toml`, its constant named as `SolidMLModels.sol` names
    /// it ([`id_constant`]).
    pub fn new(name: &str, model_id: [u8; 32], input_bytes: usize, contract: Option<String>) -> KnownModel {
        KnownModel { name: name.to_string(), constant: id_constant(name), model_id, input_bytes, contract }
    }
}

/// What a call site calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// The SolidML library: `SolidML.run(…)` (or another `SolidML.run…` member).
    SolidMLRun,
    /// OpenGradient's interface: `….runModelInference(request)`.
    OgInference,
    /// A generated model contract: `x.predictQ(…)` or `x.predict(…)`.
    GeneratedPredict,
}

impl fmt::Display for CallKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CallKind::SolidMLRun => "SolidML",
            CallKind::OgInference => "OGInference",
            CallKind::GeneratedPredict => "generated contract",
        })
    }
}

/// One call of a model in the sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSite {
    /// The source file (relative to the project root for [`lint_project`]).
    pub file: PathBuf,
    /// 1-based line of the call's start.
    pub line: usize,
    /// 1-based column (in characters) of the call's start.
    pub column: usize,
    /// What is called.
    pub kind: CallKind,
    /// The `solidml.toml` name of the model called, when the source shows it.
    pub model: Option<String>,
    /// The call as written, whitespace collapsed, cut to about 80 characters.
    pub text: String,
}

/// A mistake found before run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The source file (relative to the project root for [`lint_project`]).
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Finding {
    /// `FILE:LINE:COLUMN: MESSAGE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file.display(), self.line, self.column, self.message)
    }
}

/// What [`lint_sources`] and [`lint_project`] found: call sites and findings, each in file
/// order, then source order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LintReport {
    /// Every call of a model.
    pub calls: Vec<CallSite>,
    /// Every mistake.
    pub findings: Vec<Finding>,
}

/// Lint `sources` (`(path, text)` pairs; the path is only reported) against `models`.
pub fn lint_sources(sources: &[(PathBuf, String)], models: &[KnownModel]) -> LintReport {
    let mut report = LintReport::default();
    for (file_no, (path, text)) in sources.iter().enumerate() {
        lint_one(path, text, file_no, models, &mut report);
    }
    report
}

/// Directories of a foundry project that are never linted: dependencies (`lib`,
/// `node_modules`), build output (`out`, `cache`) and broadcast logs.
pub const SKIPPED_DIRS: [&str; 5] = ["lib", "out", "cache", "node_modules", "broadcast"];

/// Lint every `*.sol` file under `root/DIR` for each of `dirs` (e.g. `["src", "test",
/// "script"]`; `"."` is the whole project), skipping [`SKIPPED_DIRS`] at the root,
/// `node_modules` and hidden directories anywhere, and `skip` (directories relative to
/// `root`: the generated models directory, `[project] out` of `solidml.toml`). A directory of
/// `dirs` that does not exist is passed over; symbolic links are not followed. Files are read
/// in path order and reported relative to `root`; a file that is not UTF-8 is a finding.
pub fn lint_project(root: &Path, dirs: &[&str], skip: &[&str], models: &[KnownModel]) -> Result<LintReport, ForgeError> {
    let skipped: Vec<PathBuf> =
        SKIPPED_DIRS.iter().chain(skip).map(|d| normalize(Path::new(d))).filter(|d| !d.as_os_str().is_empty()).collect();
    let mut files = Vec::new();
    for dir in dirs {
        let rel = normalize(Path::new(dir));
        if skipped.contains(&rel) || !root.join(&rel).is_dir() {
            continue;
        }
        collect_sol(root, &rel, &skipped, &mut files)?;
    }
    files.sort();
    files.dedup();
    let mut report = LintReport::default();
    for (file_no, rel) in files.iter().enumerate() {
        let path = root.join(rel);
        let bytes = std::fs::read(&path).map_err(|e| ForgeError::io(&path, e))?;
        match String::from_utf8(bytes) {
            Ok(text) => lint_one(rel, &text, file_no, models, &mut report),
            Err(_) => report.findings.push(Finding {
                file: rel.clone(),
                line: 1,
                column: 1,
                message: "not UTF-8: solc reads UTF-8 sources only".into(),
            }),
        }
    }
    Ok(report)
}

/// `a/./b/` → `a/b`; `.` → empty.
fn normalize(p: &Path) -> PathBuf {
    p.components().filter(|c| !matches!(c, std::path::Component::CurDir)).collect()
}

/// Push the `*.sol` files under `root/rel` (paths relative to `root`).
fn collect_sol(root: &Path, rel: &Path, skipped: &[PathBuf], files: &mut Vec<PathBuf>) -> Result<(), ForgeError> {
    let dir = root.join(rel);
    let entries = std::fs::read_dir(&dir).map_err(|e| ForgeError::io(&dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| ForgeError::io(&dir, e))?;
        let name = entry.file_name();
        let child = rel.join(&name);
        // `DirEntry::file_type` does not follow symbolic links: they are neither.
        let ty = entry.file_type().map_err(|e| ForgeError::io(&root.join(&child), e))?;
        let name = name.to_string_lossy();
        if ty.is_dir() {
            if name.starts_with('.') || name == "node_modules" || skipped.contains(&child) {
                continue;
            }
            collect_sol(root, &child, skipped, files)?;
        } else if ty.is_file() && name.ends_with(".sol") {
            files.push(child);
        }
    }
    Ok(())
}

/// Parse and walk one source, appending to `report`.
fn lint_one(path: &Path, src: &str, file_no: usize, models: &[KnownModel], report: &mut LintReport) {
    let lines = LineIndex::new(src);
    let (unit, _comments) = match solang_parser::parse(src, file_no) {
        Ok(parsed) => parsed,
        Err(diagnostics) => {
            let (line, column, message) = match diagnostics.first() {
                Some(d) => {
                    let (line, column) = lines.position(d.loc);
                    (line, column, parse_message(&d.message, lines.line_text(line)))
                }
                None => (1, 1, "parse error".to_string()),
            };
            report.findings.push(Finding { file: path.to_path_buf(), line, column, message });
            return;
        }
    };
    let mut linter = Linter::new(path, src, lines, models);
    linter.index(&unit.0);
    linter.walk_unit(&unit.0);
    // The walk visits a call before the calls in its arguments; report in source order.
    linter.report.calls.sort_by_key(|c| (c.line, c.column));
    linter.report.findings.sort_by_key(|f| (f.line, f.column));
    report.calls.append(&mut linter.report.calls);
    report.findings.append(&mut linter.report.findings);
}

/// A parse error's finding: solang's message with its list of expected tokens cut to the
/// first few, and a note when `line` (where it stopped) uses syntax newer than solang's grammar
/// (it reads `uint transient x` as a variable named `transient`, then trips over `x`).
fn parse_message(message: &str, line: &str) -> String {
    const SHOWN: usize = 6;
    let mut out = String::from("parse error: ");
    match message.split_once(", expected ") {
        Some((head, expected)) if expected.split(", ").count() > SHOWN => {
            out += &format!("{head}, expected {}, …", expected.split(", ").take(SHOWN).collect::<Vec<_>>().join(", "));
        }
        _ => out += message,
    }
    let words: Vec<&str> = line.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')).filter(|w| !w.is_empty()).collect();
    if words.contains(&"transient") || words.windows(2).any(|w| w == ["layout", "at"]) {
        out += " (solang-parser 0.3 does not know Solidity 0.8.28's `transient` storage or 0.8.29's `layout at`)";
    }
    out
}

/// Byte offsets to 1-based lines and character columns.
struct LineIndex<'a> {
    src: &'a str,
    /// Byte offset of each line's start.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(src: &'a str) -> Self {
        let starts = std::iter::once(0).chain(src.match_indices('\n').map(|(i, _)| i + 1)).collect();
        LineIndex { src, starts }
    }

    /// The text of 1-based `line`, without its newline.
    fn line_text(&self, line: usize) -> &'a str {
        let start = self.starts.get(line.wrapping_sub(1)).copied().unwrap_or(self.src.len());
        let rest = &self.src[start..];
        rest.split('\n').next().unwrap_or_default()
    }

    /// The start of `loc` as (line, column); `(1, 1)` for a location outside the file.
    fn position(&self, loc: Loc) -> (usize, usize) {
        let Loc::File(_, start, _) = loc else { return (1, 1) };
        let start = start.min(self.src.len());
        let line = self.starts.partition_point(|&s| s <= start);
        let line_start = self.starts[line - 1];
        let column = self.src.get(line_start..start).map_or(start - line_start, |s| s.chars().count()) + 1;
        (line, column)
    }
}

/// What a model id argument resolved to.
enum Resolved {
    /// A model of `solidml.toml` (its index).
    Model(usize),
    /// Not a model: a finding says why.
    Wrong(String),
    /// The source does not show which model.
    Opaque,
}

/// The walk over one parsed source.
///
/// solang-parser 0.3 has no visitor trait (forge's `Visitor` lives in foundry's own crates),
/// so the traversal below is written out over its parse-tree types ([`solang_parser::pt`]):
/// `walk_*` reach every expression of every statement, state variable, modifier invocation
/// and base constructor argument; `resolve_*` read what an expression means.
struct Linter<'a> {
    file: &'a Path,
    src: &'a str,
    lines: LineIndex<'a>,
    models: &'a [KnownModel],
    /// Names denoting the SolidML library here (`SolidML`, or its import alias).
    solidml: HashSet<String>,
    /// Names denoting the generated `SolidMLModels` library.
    models_lib: HashSet<String>,
    /// Names denoting a generated contract → its model's index.
    generated: HashMap<String, usize>,
    /// File-level constants.
    file_constants: HashMap<String, &'a Expression>,
    /// Per contract of this file: its constants.
    contract_constants: HashMap<String, HashMap<String, &'a Expression>>,
    /// Per contract of this file: its bases.
    bases: HashMap<String, Vec<String>>,
    /// The contract being walked.
    contract: Option<String>,
    /// Its state variables → the model of a generated-contract type (`None` for other types).
    state_vars: HashMap<String, Option<usize>>,
    /// The function being walked: parameters and locals, the same way.
    locals: HashMap<String, Option<usize>>,
    report: LintReport,
}

impl<'a> Linter<'a> {
    fn new(file: &'a Path, src: &'a str, lines: LineIndex<'a>, models: &'a [KnownModel]) -> Self {
        let generated =
            models.iter().enumerate().filter_map(|(i, m)| m.contract.as_ref().map(|c| (c.clone(), i))).collect::<HashMap<_, _>>();
        Linter {
            file,
            src,
            lines,
            models,
            solidml: HashSet::from(["SolidML".to_string()]),
            models_lib: HashSet::from(["SolidMLModels".to_string()]),
            generated,
            file_constants: HashMap::new(),
            contract_constants: HashMap::new(),
            bases: HashMap::new(),
            contract: None,
            state_vars: HashMap::new(),
            locals: HashMap::new(),
            report: LintReport::default(),
        }
    }

    // --- first pass: import aliases, constants, contracts' bases

    fn index(&mut self, parts: &'a [SourceUnitPart]) {
        for part in parts {
            match part {
                SourceUnitPart::ImportDirective(Import::Rename(_, names, _)) => {
                    for (name, alias) in names {
                        let Some(alias) = alias else { continue };
                        if self.solidml.contains(&name.name) {
                            self.solidml.insert(alias.name.clone());
                        } else if self.models_lib.contains(&name.name) {
                            self.models_lib.insert(alias.name.clone());
                        } else if let Some(&m) = self.generated.get(&name.name) {
                            self.generated.insert(alias.name.clone(), m);
                        }
                    }
                }
                SourceUnitPart::VariableDefinition(v) => {
                    if let Some((name, value)) = constant(v) {
                        self.file_constants.insert(name, value);
                    }
                }
                SourceUnitPart::ContractDefinition(c) => {
                    let Some(name) = &c.name else { continue };
                    let constants = c
                        .parts
                        .iter()
                        .filter_map(|p| match p {
                            ContractPart::VariableDefinition(v) => constant(v),
                            _ => None,
                        })
                        .collect();
                    self.contract_constants.insert(name.name.clone(), constants);
                    let bases = c.base.iter().filter_map(|b| b.name.identifiers.last().map(|i| i.name.clone())).collect();
                    self.bases.insert(name.name.clone(), bases);
                }
                _ => {}
            }
        }
    }

    // --- the walk

    fn walk_unit(&mut self, parts: &'a [SourceUnitPart]) {
        for part in parts {
            match part {
                SourceUnitPart::ContractDefinition(c) => self.walk_contract(c),
                SourceUnitPart::FunctionDefinition(f) => {
                    self.state_vars.clear();
                    self.walk_function(f);
                }
                SourceUnitPart::VariableDefinition(v) => {
                    if let Some(init) = &v.initializer {
                        self.walk_expr(init);
                    }
                }
                _ => {}
            }
        }
        self.contract = None;
    }

    fn walk_contract(&mut self, c: &'a ContractDefinition) {
        self.contract = c.name.as_ref().map(|n| n.name.clone());
        self.state_vars.clear();
        self.locals.clear();
        for part in &c.parts {
            if let ContractPart::VariableDefinition(v) = part
                && let Some(name) = &v.name
            {
                self.state_vars.insert(name.name.clone(), self.declared_model(&v.ty));
            }
        }
        for base in &c.base {
            for arg in base.args.iter().flatten() {
                self.walk_expr(arg);
            }
        }
        for part in &c.parts {
            match part {
                ContractPart::VariableDefinition(v) => {
                    if let Some(init) = &v.initializer {
                        self.walk_expr(init);
                    }
                }
                ContractPart::FunctionDefinition(f) => self.walk_function(f),
                _ => {}
            }
        }
    }

    fn walk_function(&mut self, f: &'a FunctionDefinition) {
        self.locals.clear();
        for (_, param) in f.params.iter().chain(&f.returns) {
            if let Some(p) = param {
                self.declare(p.name.as_ref(), &p.ty);
            }
        }
        for attr in &f.attributes {
            if let FunctionAttribute::BaseOrModifier(_, base) = attr {
                for arg in base.args.iter().flatten() {
                    self.walk_expr(arg);
                }
            }
        }
        if let Some(body) = &f.body {
            self.walk_stmt(body);
        }
    }

    fn walk_stmt(&mut self, s: &'a Statement) {
        match s {
            Statement::Block { statements, .. } => statements.iter().for_each(|s| self.walk_stmt(s)),
            Statement::Args(_, args) => self.walk_named(args),
            Statement::If(_, cond, then, otherwise) => {
                self.walk_expr(cond);
                self.walk_stmt(then);
                if let Some(o) = otherwise {
                    self.walk_stmt(o);
                }
            }
            Statement::While(_, cond, body) => {
                self.walk_expr(cond);
                self.walk_stmt(body);
            }
            Statement::DoWhile(_, body, cond) => {
                self.walk_stmt(body);
                self.walk_expr(cond);
            }
            Statement::Expression(_, e) | Statement::Emit(_, e) | Statement::Return(_, Some(e)) => self.walk_expr(e),
            Statement::VariableDefinition(_, decl, init) => {
                // The initializer cannot see the variable it initializes.
                if let Some(init) = init {
                    self.walk_expr(init);
                }
                self.declare(decl.name.as_ref(), &decl.ty);
            }
            Statement::For(_, init, cond, next, body) => {
                if let Some(init) = init {
                    self.walk_stmt(init);
                }
                for e in cond.iter().chain(next) {
                    self.walk_expr(e);
                }
                if let Some(body) = body {
                    self.walk_stmt(body);
                }
            }
            Statement::Revert(_, _, args) => args.iter().for_each(|a| self.walk_expr(a)),
            Statement::RevertNamedArgs(_, _, args) => self.walk_named(args),
            Statement::Try(_, call, returns, catches) => {
                self.walk_expr(call);
                if let Some((params, body)) = returns {
                    for p in params.iter().filter_map(|(_, p)| p.as_ref()) {
                        self.declare(p.name.as_ref(), &p.ty);
                    }
                    self.walk_stmt(body);
                }
                for catch in catches {
                    match catch {
                        CatchClause::Simple(_, param, body) => {
                            if let Some(p) = param {
                                self.declare(p.name.as_ref(), &p.ty);
                            }
                            self.walk_stmt(body);
                        }
                        CatchClause::Named(_, _, p, body) => {
                            self.declare(p.name.as_ref(), &p.ty);
                            self.walk_stmt(body);
                        }
                    }
                }
            }
            // Yul cannot call the library; the rest hold no expression.
            Statement::Assembly { .. }
            | Statement::Return(_, None)
            | Statement::Continue(_)
            | Statement::Break(_)
            | Statement::Error(_) => {}
        }
    }

    fn walk_named(&mut self, args: &'a [NamedArgument]) {
        for a in args {
            self.walk_expr(&a.expr);
        }
    }

    fn walk_expr(&mut self, e: &'a Expression) {
        match e {
            Expression::FunctionCall(loc, callee, args) => {
                self.check_call(*loc, callee, Args::Positional(args));
                self.walk_expr(callee);
                args.iter().for_each(|a| self.walk_expr(a));
            }
            Expression::NamedFunctionCall(loc, callee, args) => {
                self.check_call(*loc, callee, Args::Named(args));
                self.walk_expr(callee);
                self.walk_named(args);
            }
            Expression::FunctionCallBlock(_, callee, block) => {
                self.walk_expr(callee);
                self.walk_stmt(block);
            }
            Expression::MemberAccess(_, inner, _) => self.walk_expr(inner),
            Expression::ConditionalOperator(_, a, b, c) => {
                self.walk_expr(a);
                self.walk_expr(b);
                self.walk_expr(c);
            }
            Expression::ArraySubscript(_, a, b) => {
                self.walk_expr(a);
                if let Some(b) = b {
                    self.walk_expr(b);
                }
            }
            Expression::ArraySlice(_, a, b, c) => {
                self.walk_expr(a);
                for x in b.iter().chain(c) {
                    self.walk_expr(x);
                }
            }
            // A tuple `(a, f(b))`: solang holds its members as parameters' types.
            Expression::List(_, params) => {
                for p in params.iter().filter_map(|(_, p)| p.as_ref()) {
                    self.walk_expr(&p.ty);
                }
            }
            Expression::ArrayLiteral(_, items) => items.iter().for_each(|i| self.walk_expr(i)),
            // Unary and binary operators: solang's own accessor gives their operands.
            _ => {
                let (left, right) = e.components();
                for x in left.into_iter().chain(right) {
                    self.walk_expr(x);
                }
            }
        }
    }

    /// Record a parameter or local `name` of type `ty`.
    fn declare(&mut self, name: Option<&Identifier>, ty: &Expression) {
        if let Some(name) = name {
            let model = self.declared_model(ty);
            self.locals.insert(name.name.clone(), model);
        }
    }

    /// The model whose generated contract `ty` names.
    fn declared_model(&self, ty: &Expression) -> Option<usize> {
        match ty {
            Expression::Variable(id) => self.generated.get(&id.name).copied(),
            _ => None,
        }
    }

    // --- the calls

    fn check_call(&mut self, loc: Loc, callee: &'a Expression, args: Args<'a>) {
        // `f{value: v}(…)`: the options block wraps the callee.
        let callee = match callee {
            Expression::FunctionCallBlock(_, inner, _) => inner.as_ref(),
            other => other,
        };
        let Expression::MemberAccess(_, receiver, member) = callee else { return };
        let member = member.name.as_str();
        if member.starts_with("run") && self.is_name(receiver, &self.solidml) {
            self.solidml_run(loc, member, args);
        } else if member == "runModelInference" {
            self.og_inference(loc, args);
        } else if (member == "predictQ" || member == "predict")
            && let Some(model) = self.receiver_model(receiver)
        {
            self.push_call(loc, CallKind::GeneratedPredict, Some(model));
            if member == "predictQ"
                && let Some(q) = args.get(0, "q")
            {
                let call = format!("{}.predictQ(…)", self.text(receiver.loc(), 40));
                self.check_input_length(&call, model, q);
            }
        }
    }

    /// `SolidML.run…(id, input)`.
    fn solidml_run(&mut self, loc: Loc, member: &str, args: Args<'a>) {
        let id = args.get(0, "modelId");
        let model = match id.map(|id| (id, self.resolve_id(id, 0))) {
            Some((_, Resolved::Model(m))) => Some(m),
            Some((id, Resolved::Wrong(message))) => {
                self.push_finding(id.loc(), message);
                None
            }
            Some((_, Resolved::Opaque)) | None => None,
        };
        self.push_call(loc, CallKind::SolidMLRun, model);
        if member == "run"
            && let (Some(m), Some(id), Some(input)) = (model, id, args.get(1, "input"))
        {
            let call = format!("SolidML.run({}, …)", self.text(id.loc(), 40));
            self.check_input_length(&call, m, input);
        }
    }

    /// `….runModelInference(request)`.
    fn og_inference(&mut self, loc: Loc, args: Args<'a>) {
        let mut model = None;
        // The request built in place: `ModelInferenceRequest(mode, modelCID, input)`, or
        // with named fields.
        let request = match args.get(0, "request").map(Expression::strip_parentheses) {
            Some(Expression::FunctionCall(_, ty, a)) if is_ident(ty, "ModelInferenceRequest") => Some(Args::Positional(a)),
            Some(Expression::NamedFunctionCall(_, ty, a)) if is_ident(ty, "ModelInferenceRequest") => Some(Args::Named(a)),
            _ => None,
        };
        if let Some(request) = request {
            if let Some(mode @ Expression::MemberAccess(_, _, m)) = request.get(0, "mode")
                && (m.name == "ZK" || m.name == "TEE")
            {
                let message =
                    format!("inference mode {} is not available on SolidML: use VANILLA (results are exact and re-checkable)", m.name);
                self.push_finding(mode.loc(), message);
            }
            if let Some(cid @ Expression::StringLiteral(parts)) = request.get(1, "modelCID") {
                let text: String = parts.iter().map(|p| p.string.as_str()).collect();
                match parse_model_cid(&text) {
                    Some(id) => match self.models.iter().position(|m| m.model_id == id) {
                        Some(m) => model = Some(m),
                        None => self.push_finding(cid.loc(), not_a_model(&id)),
                    },
                    None => self.push_finding(
                        cid.loc(),
                        format!("modelCID `{text}` is not a SolidML modelId (expected 0x followed by 64 hex digits)"),
                    ),
                }
            }
        }
        self.push_call(loc, CallKind::OgInference, model);
    }

    /// A finding when `input` has a length the source shows and `model` takes another.
    fn check_input_length(&mut self, call: &str, model: usize, input: &Expression) {
        let Some(n) = literal_length(input) else { return };
        let m = &self.models[model];
        if n != m.input_bytes {
            let message = format!("{call} passes {n} input bytes; model `{}` takes {}", m.name, m.input_bytes);
            self.push_finding(input.loc(), message);
        }
    }

    /// The model a model id expression names (`depth`: constants followed so far).
    fn resolve_id(&self, e: &'a Expression, depth: usize) -> Resolved {
        if depth > 8 {
            return Resolved::Opaque;
        }
        match e.strip_parentheses() {
            // `bytes32(x)`
            Expression::FunctionCall(_, ty, args) if matches!(ty.as_ref(), Expression::Type(_, Type::Bytes(32))) && args.len() == 1 => {
                self.resolve_id(&args[0], depth)
            }
            Expression::MemberAccess(_, lib, name) if self.is_name(lib, &self.models_lib) => {
                match self.models.iter().position(|m| m.constant == name.name) {
                    Some(m) => Resolved::Model(m),
                    None => Resolved::Wrong(format!(
                        "unknown model constant {}.{}: solidml.toml has no model `{}`",
                        self.text(lib.loc(), 40),
                        name.name,
                        name.name.to_ascii_lowercase()
                    )),
                }
            }
            // `C.NAME`, a constant of a contract of this file.
            Expression::MemberAccess(_, c, name) => match c.as_ref() {
                Expression::Variable(c) => match self.contract_constants.get(&c.name).and_then(|k| k.get(&name.name)) {
                    Some(value) => self.resolve_id(value, depth + 1),
                    None => Resolved::Opaque,
                },
                _ => Resolved::Opaque,
            },
            Expression::Variable(name) => match self.lookup_constant(&name.name) {
                Some(value) => self.resolve_id(value, depth + 1),
                None => Resolved::Opaque,
            },
            Expression::HexNumberLiteral(_, digits, None) => {
                let digits: String = digits.trim_start_matches("0x").chars().filter(|&c| c != '_').collect();
                match hex_id(&digits) {
                    Some(id) => self.by_id(&id),
                    None => Resolved::Opaque,
                }
            }
            Expression::HexLiteral(parts) => {
                let digits: String = parts.iter().map(|p| p.hex.as_str()).collect();
                match hex_id(&digits) {
                    Some(id) => self.by_id(&id),
                    None => Resolved::Opaque,
                }
            }
            _ => Resolved::Opaque,
        }
    }

    fn by_id(&self, id: &[u8; 32]) -> Resolved {
        match self.models.iter().position(|m| &m.model_id == id) {
            Some(m) => Resolved::Model(m),
            None => Resolved::Wrong(not_a_model(id)),
        }
    }

    /// A constant `name` seen from the contract being walked: its own, its bases' (in this
    /// file), then the file's.
    fn lookup_constant(&self, name: &str) -> Option<&'a Expression> {
        if self.locals.contains_key(name) {
            return None; // a parameter or local shadows it
        }
        let mut seen = HashSet::new();
        let mut stack: Vec<&str> = self.contract.as_deref().into_iter().collect();
        while let Some(c) = stack.pop() {
            if !seen.insert(c) {
                continue;
            }
            if let Some(&value) = self.contract_constants.get(c).and_then(|k| k.get(name)) {
                return Some(value);
            }
            // Solidity's linearization searches the most derived base first: the last listed.
            stack.extend(self.bases.get(c).into_iter().flatten().map(String::as_str));
        }
        self.file_constants.get(name).copied()
    }

    /// The model of the generated contract `receiver` is: a variable declared with its type,
    /// a cast `digits(addr)` or a deployment `new digits()`.
    fn receiver_model(&self, receiver: &Expression) -> Option<usize> {
        match receiver.strip_parentheses() {
            Expression::Variable(v) => match self.locals.get(&v.name) {
                Some(local) => *local,
                None => self.state_vars.get(&v.name).copied().flatten(),
            },
            // A cast `digits(addr)`; solang parses `new digits()` as `New(FunctionCall(digits))`.
            Expression::FunctionCall(_, callee, _) => match callee.as_ref() {
                Expression::Variable(ty) if !self.locals.contains_key(&ty.name) => self.generated.get(&ty.name).copied(),
                _ => None,
            },
            Expression::New(_, call) => match call.as_ref() {
                Expression::FunctionCall(_, ty, _) => self.declared_model(ty),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether `e` is a bare identifier among `names`, not shadowed by a local.
    fn is_name(&self, e: &Expression, names: &HashSet<String>) -> bool {
        matches!(e, Expression::Variable(id) if names.contains(&id.name) && !self.locals.contains_key(&id.name))
    }

    // --- output

    fn push_call(&mut self, loc: Loc, kind: CallKind, model: Option<usize>) {
        let (line, column) = self.lines.position(loc);
        let model = model.map(|m| self.models[m].name.clone());
        let text = self.text(loc, 80);
        self.report.calls.push(CallSite { file: self.file.to_path_buf(), line, column, kind, model, text });
    }

    fn push_finding(&mut self, loc: Loc, message: String) {
        let (line, column) = self.lines.position(loc);
        self.report.findings.push(Finding { file: self.file.to_path_buf(), line, column, message });
    }

    /// The source text at `loc`, whitespace runs collapsed to one space, cut to `max`
    /// characters (then ending in `…`).
    fn text(&self, loc: Loc, max: usize) -> String {
        let Loc::File(_, start, end) = loc else { return String::new() };
        let raw = self.src.get(start..end).unwrap_or_default();
        let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if collapsed.chars().count() <= max { collapsed } else { collapsed.chars().take(max - 1).chain(['…']).collect() }
    }
}

/// A call's arguments, positional or named.
#[derive(Clone, Copy)]
enum Args<'a> {
    Positional(&'a [Expression]),
    Named(&'a [NamedArgument]),
}

impl<'a> Args<'a> {
    /// Argument `index`, or the one named `name`.
    fn get(self, index: usize, name: &str) -> Option<&'a Expression> {
        match self {
            Args::Positional(args) => args.get(index),
            Args::Named(args) => args.iter().find(|a| a.name.name == name).map(|a| &a.expr),
        }
    }
}

/// Whether `e` is the identifier `name`.
fn is_ident(e: &Expression, name: &str) -> bool {
    matches!(e, Expression::Variable(id) if id.name == name)
}

/// `(name, value)` of a `constant` variable definition.
fn constant(v: &VariableDefinition) -> Option<(String, &Expression)> {
    let is_constant = v.attrs.iter().any(|a| matches!(a, VariableAttribute::Constant(_)));
    match (is_constant, &v.name, &v.initializer) {
        (true, Some(name), Some(value)) => Some((name.name.clone(), value)),
        _ => None,
    }
}

/// 64 hex digits as a modelId.
fn hex_id(digits: &str) -> Option<[u8; 32]> {
    if digits.len() != 64 {
        return None;
    }
    hex::decode(digits).ok()?.try_into().ok()
}

/// A modelCID as the SolidML node reads it: an optional `0x`, then 64 hex digits
/// (`solidml_precompile::opengradient::parse_model_cid`).
fn parse_model_cid(cid: &str) -> Option<[u8; 32]> {
    hex_id(cid.strip_prefix("0x").unwrap_or(cid))
}

fn not_a_model(id: &[u8; 32]) -> String {
    format!("modelId 0x{} is not a model of solidml.toml", hex::encode(id))
}

/// The byte length of an input the source writes out: `new bytes(N)` with a number literal,
/// `hex"…"`, or a string literal without escapes.
fn literal_length(e: &Expression) -> Option<usize> {
    match e.strip_parentheses() {
        // solang parses `new T(args)` as `New(FunctionCall(T, args))`.
        Expression::New(_, call) => match call.as_ref() {
            Expression::FunctionCall(_, ty, args) if matches!(ty.as_ref(), Expression::Type(_, Type::DynamicBytes)) => {
                match args.as_slice() {
                    [Expression::NumberLiteral(_, digits, exp, None)] => {
                        let n: usize = digits.replace('_', "").parse().ok()?;
                        let exp: u32 = if exp.is_empty() { 0 } else { exp.parse().ok()? };
                        n.checked_mul(10usize.checked_pow(exp)?)
                    }
                    _ => None,
                }
            }
            _ => None,
        },
        Expression::HexLiteral(parts) => Some(parts.iter().map(|p| p.hex.len() / 2).sum()),
        Expression::StringLiteral(parts) if parts.iter().all(|p| !p.string.contains('\\')) => {
            Some(parts.iter().map(|p| p.string.len()).sum())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGITS_ID: [u8; 32] = [0xd1; 32];
    const CREDIT_ID: [u8; 32] = [0xc2; 32];

    fn models() -> Vec<KnownModel> {
        vec![KnownModel::new("digits", DIGITS_ID, 64, Some("digits".into())), KnownModel::new("credit_risk", CREDIT_ID, 12, None)]
    }

    fn lint(src: &str) -> LintReport {
        lint_sources(&[(PathBuf::from("src/C.sol"), src.to_string())], &models())
    }

    /// `src` inside a contract function taking `bytes memory input`.
    fn in_function(body: &str) -> String {
        format!(
            "pragma solidity ^0.8.20;\nimport {{SolidML}} from \"solidml/SolidML.sol\";\nimport {{SolidMLModels}} from \"./models/SolidMLModels.sol\";\n\ncontract C {{\n    function f(bytes memory input) external view returns (bytes memory) {{\n        {body}\n    }}\n}}\n"
        )
    }

    fn messages(r: &LintReport) -> Vec<&str> {
        r.findings.iter().map(|f| f.message.as_str()).collect()
    }

    #[test]
    fn resolves_a_models_constant() {
        let r = lint(&in_function("return SolidML.run(SolidMLModels.DIGITS, input);"));
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!(r.calls.len(), 1);
        let c = &r.calls[0];
        assert_eq!((c.kind, c.model.as_deref()), (CallKind::SolidMLRun, Some("digits")));
        assert_eq!((c.file.as_path(), c.line, c.column), (Path::new("src/C.sol"), 7, 16));
        assert_eq!(c.text, "SolidML.run(SolidMLModels.DIGITS, input)");
    }

    #[test]
    fn resolves_a_literal_id() {
        let id = hex::encode(CREDIT_ID);
        let r = lint(&in_function(&format!("return SolidML.run(0x{id}, input);")));
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!(r.calls[0].model.as_deref(), Some("credit_risk"));
        let r = lint(&in_function(&format!("return SolidML.run(bytes32(hex\"{id}\"), input);")));
        assert_eq!(r.calls[0].model.as_deref(), Some("credit_risk"));
    }

    #[test]
    fn resolves_local_constants() {
        let id = hex::encode(DIGITS_ID);
        // file level, through another constant
        let src = format!(
            "bytes32 constant ID = 0x{id};\nbytes32 constant ALSO = ID;\ncontract C {{\n    function f(bytes memory x) external view returns (bytes memory) {{ return SolidML.run(ALSO, x); }}\n}}\n"
        );
        assert_eq!(lint(&src).calls[0].model.as_deref(), Some("digits"));
        // contract level, from a derived contract in the same file, and qualified
        let src = format!(
            "contract Base {{ bytes32 internal constant MODEL = 0x{id}; }}\ncontract C is Base {{\n    function f(bytes memory x) external view {{ SolidML.run(MODEL, x); SolidML.run(Base.MODEL, x); }}\n}}\n"
        );
        let r = lint(&src);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!(r.calls.iter().map(|c| c.model.as_deref()).collect::<Vec<_>>(), [Some("digits"), Some("digits")]);
        // a parameter or a non-constant is not followed
        let src = "contract C {\n    bytes32 id = 0x00;\n    function f(bytes32 m, bytes memory x) external view { SolidML.run(m, x); SolidML.run(id, x); }\n}\n";
        let r = lint(src);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!(r.calls.iter().map(|c| c.model.as_deref()).collect::<Vec<_>>(), [None, None]);
    }

    #[test]
    fn unknown_constant() {
        let r = lint(&in_function("return SolidML.run(SolidMLModels.IRIS, input);"));
        assert_eq!(messages(&r), ["unknown model constant SolidMLModels.IRIS: solidml.toml has no model `iris`"]);
        assert_eq!((r.findings[0].line, r.findings[0].column), (7, 28));
        assert_eq!(r.calls.len(), 1);
        assert_eq!(r.calls[0].model, None);
    }

    #[test]
    fn unknown_id() {
        let id = "ab".repeat(32);
        let r = lint(&in_function(&format!("return SolidML.run(0x{id}, input);")));
        assert_eq!(messages(&r), [format!("modelId 0x{id} is not a model of solidml.toml")]);
        assert_eq!(r.calls[0].model, None);
    }

    #[test]
    fn wrong_new_bytes_length() {
        let r = lint(&in_function("return SolidML.run(SolidMLModels.DIGITS, new bytes(63));"));
        assert_eq!(messages(&r), ["SolidML.run(SolidMLModels.DIGITS, …) passes 63 input bytes; model `digits` takes 64"]);
        assert_eq!((r.findings[0].line, r.findings[0].column), (7, 50));
    }

    #[test]
    fn wrong_hex_literal_length() {
        let r = lint(&in_function("return SolidML.run(SolidMLModels.CREDIT_RISK, hex\"00010203_0405\" hex\"06\");"));
        assert_eq!(messages(&r), ["SolidML.run(SolidMLModels.CREDIT_RISK, …) passes 7 input bytes; model `credit_risk` takes 12"]);
    }

    #[test]
    fn right_length_is_no_finding() {
        let r = lint(&in_function(
            "SolidML.run(SolidMLModels.DIGITS, new bytes(64)); SolidML.run({modelId: SolidMLModels.CREDIT_RISK, input: hex\"000102030405060708090a0b\"}); return SolidML.run(SolidMLModels.DIGITS, input);",
        ));
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!(r.calls.len(), 3);
        assert!(r.calls.iter().all(|c| c.model.is_some()));
    }

    #[test]
    fn generated_contract_predict() {
        let src = "import {digits} from \"./models/digits.sol\";\nimport {digits as D} from \"./models/digits.sol\";\ncontract C {\n    digits model = new digits();\n    function f(bytes calldata q, address a) external view {\n        model.predictQ(q);\n        D(a).predictQ(new bytes(3));\n        other.predictQ(q);\n    }\n    function g(int256[] memory v) external {\n        digits local = new digits();\n        local.predict(v);\n        (new digits()).predictQ(q);\n    }\n}\n";
        let r = lint(src);
        let calls: Vec<_> = r.calls.iter().map(|c| (c.kind, c.model.as_deref(), c.line, c.text.as_str())).collect();
        assert_eq!(
            calls,
            [
                (CallKind::GeneratedPredict, Some("digits"), 6, "model.predictQ(q)"),
                (CallKind::GeneratedPredict, Some("digits"), 7, "D(a).predictQ(new bytes(3))"),
                (CallKind::GeneratedPredict, Some("digits"), 12, "local.predict(v)"),
                (CallKind::GeneratedPredict, Some("digits"), 13, "(new digits()).predictQ(q)"),
            ]
        );
        assert_eq!(messages(&r), ["D(a).predictQ(…) passes 3 input bytes; model `digits` takes 64"]);
    }

    #[test]
    fn og_inference() {
        let id = hex::encode(DIGITS_ID);
        let src = format!(
            "contract C {{\n    function f(ModelInput memory i, string memory cid) external {{\n        OG_INFERENCE_CONTRACT.runModelInference(ModelInferenceRequest(ModelInferenceMode.VANILLA, \"0x{id}\", i));\n        OG_INFERENCE_CONTRACT.runModelInference{{gas: 1e6}}(ModelInferenceRequest({{mode: ModelInferenceMode.ZK, modelCID: cid, input: i}}));\n        OG_INFERENCE_CONTRACT.runModelInference(ModelInferenceRequest(ModelInferenceMode.VANILLA, \"QmXyz\", i));\n    }}\n}}\n"
        );
        let r = lint(&src);
        let calls: Vec<_> = r.calls.iter().map(|c| (c.kind, c.model.as_deref())).collect();
        assert_eq!(calls, [(CallKind::OgInference, Some("digits")), (CallKind::OgInference, None), (CallKind::OgInference, None)]);
        assert_eq!(
            messages(&r),
            [
                "inference mode ZK is not available on SolidML: use VANILLA (results are exact and re-checkable)",
                "modelCID `QmXyz` is not a SolidML modelId (expected 0x followed by 64 hex digits)"
            ]
        );
    }

    #[test]
    fn aliases_and_shadowing() {
        let src = "import {SolidML as S} from \"solidml/SolidML.sol\";\nimport {SolidMLModels as M} from \"./SolidMLModels.sol\";\ncontract C {\n    function f(bytes memory x) external view { S.run(M.DIGITS, x); }\n    function g(Other SolidML, bytes memory x) external view { SolidML.run(M.DIGITS, x); }\n}\n";
        let r = lint(src);
        assert_eq!(r.calls.len(), 1, "{:?}", r.calls);
        assert_eq!(r.calls[0].model.as_deref(), Some("digits"));
    }

    #[test]
    fn parse_error_is_a_finding() {
        let r = lint("contract C {\n    function f() external {\n        uint x = ;\n    }\n}\n");
        assert_eq!(r.findings.len(), 1);
        let f = &r.findings[0];
        assert_eq!((f.line, f.column), (3, 18));
        assert!(f.message.starts_with("parse error: "), "{}", f.message);
        assert!(r.calls.is_empty());
        assert!(f.message.ends_with(", …"), "{}", f.message);
        // syntax newer than solang's grammar is named
        let r = lint("contract C {\n    uint256 transient lock;\n}\n");
        assert!(r.findings[0].message.contains("0.8.28's `transient`"), "{:?}", r.findings);
        // unterminated input, and a lexical error, do not panic either
        assert_eq!(lint("contract C {").findings.len(), 1);
        assert_eq!(lint("contract C { string s = \"é").findings.len(), 1);
    }

    #[test]
    fn nested_calls_in_source_order() {
        let r = lint(&in_function("return SolidML.run(SolidMLModels.DIGITS, SolidML.run(SolidMLModels.CREDIT_RISK, new bytes(12)));"));
        let calls: Vec<_> = r.calls.iter().map(|c| (c.column, c.model.as_deref())).collect();
        assert_eq!(calls, [(16, Some("digits")), (50, Some("credit_risk"))]);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
    }

    #[test]
    fn lint_project_skips_lib_and_generated() {
        let root = std::env::temp_dir().join(format!("solidml-lint-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let call = "contract C { function f(bytes memory x) external view { SolidML.run(SolidMLModels.DIGITS, x); } }\n";
        for (file, text) in [
            ("src/A.sol", call),
            ("src/sub/B.sol", "contract B { function f() external { SolidML.run(SolidMLModels.NOPE, \"\"); } }\n"),
            ("src/models/SolidMLModels.sol", "library SolidMLModels { syntax error"),
            ("lib/forge-std/src/Test.sol", call),
            ("out/A.sol", call),
            ("cache/x.sol", call),
            ("test/A.t.sol", call),
            ("test/notes.txt", "not solidity"),
        ] {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        for dirs in [&["src", "test", "script"][..], &["."][..], &["./src/", "test", "lib"][..]] {
            let r = lint_project(&root, dirs, &["src/models"], &models()).unwrap();
            let files: Vec<_> = r.calls.iter().map(|c| c.file.to_str().unwrap()).collect();
            assert_eq!(files, ["src/A.sol", "src/sub/B.sol", "test/A.t.sol"], "{dirs:?}");
            assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
            assert_eq!(
                r.findings[0].to_string(),
                "src/sub/B.sol:1:50: unknown model constant SolidMLModels.NOPE: solidml.toml has no model `nope`"
            );
        }
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// The repository's own Solidity (the library, its tests, the OpenGradient consumer)
    /// parses, and its calls are found.
    #[test]
    fn repository_sources_parse() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let r = lint_project(repo, &["stdlib-sol/src", "stdlib-sol/test", "tests/solidity"], &[], &[]).unwrap();
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert!(r.calls.iter().any(|c| c.kind == CallKind::SolidMLRun), "{:?}", r.calls);
        assert!(r.calls.iter().any(|c| c.kind == CallKind::OgInference), "{:?}", r.calls);
    }
}
