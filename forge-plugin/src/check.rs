//! `solidml check`: each model's figures against its budgets and floors (`solidml.toml`) and
//! against the committed snapshot, like `forge snapshot --check`.
//!
//! Figures per model: `deploy_gas`, `predict_gas`, `predictq_gas` (the pure-Solidity contract,
//! measured by real forge), `precompile_gas` (the charge of one call at 0x…501D, measured by
//! forge through SolidMLTest), and with evaluation data `agreement` (top-1 agreement with the
//! float model, percent, the lowest over the outputs), `accuracy` (percent against the labels,
//! the lowest over the outputs that have labels), `max_error`, `mean_error`.
//!
//! Rules: a gas figure above its budget fails; an accuracy below its floor fails; a figure
//! whose relative change from the snapshot exceeds `tolerance` percent fails in either
//! direction (an improvement is committed with `--update`, as forge's snapshots are); a model
//! or figure missing from the snapshot fails until `--update` records it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{ForgeError, config::Config};

/// The measured figures of one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFigures {
    /// `[models.NAME]`.
    pub name: String,
    /// `0x…`.
    pub model_id: String,
    /// Figure name → value (see the module docs).
    pub figures: BTreeMap<String, f64>,
}

/// The snapshot file: figures per model, as `--update` writes them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Model name → figure name → value.
    pub models: BTreeMap<String, BTreeMap<String, f64>>,
}

impl Snapshot {
    /// The snapshot of `figures`.
    pub fn of(figures: &[ModelFigures]) -> Snapshot {
        Snapshot { models: figures.iter().map(|m| (m.name.clone(), m.figures.clone())).collect() }
    }

    /// Read `path`; `None` when it does not exist.
    pub fn load(path: &std::path::Path) -> Result<Option<Snapshot>, ForgeError> {
        match std::fs::read_to_string(path) {
            Ok(s) => serde_json::from_str(&s).map(Some).map_err(|e| ForgeError::Snapshot {
                path: path.display().to_string(),
                message: format!("{e} (rewrite it with `solidml check --update`)"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ForgeError::io(path, e)),
        }
    }

    /// Pretty JSON, one figure per line (reviewable diffs).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap() + "\n"
    }
}

/// Why a figure passed or failed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A gas budget of solidml.toml.
    Budget,
    /// An accuracy floor of solidml.toml.
    Floor,
    /// The snapshot, within the tolerance.
    Snapshot,
    /// A mistake in the project's Solidity found before run time ([`crate::lint`]).
    Lint,
    /// The project does not compile ([`crate::compile`]).
    Compile,
}

/// One comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The model.
    pub model: String,
    /// The figure.
    pub figure: String,
    /// Which rule.
    pub rule: Rule,
    /// The measured value.
    pub value: f64,
    /// The budget, floor or snapshot value (`None`: not in the snapshot).
    pub limit: Option<f64>,
    /// Whether it holds.
    pub ok: bool,
    /// One line: model, figure, limit and change.
    pub message: String,
}

fn fmt(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        let s = format!("{}", v as i64);
        let (sign, digits) = s.strip_prefix('-').map(|d| ("-", d)).unwrap_or(("", &s));
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        format!("{sign}{out}")
    } else {
        format!("{v:.4}")
    }
}

/// Every comparison of `figures` with the configuration's budgets and floors and with
/// `snapshot` (none: every figure is new, and fails).
pub fn compare(config: &Config, figures: &[ModelFigures], snapshot: Option<&Snapshot>, tolerance: f64) -> Vec<Finding> {
    let mut out = vec![];
    for m in figures {
        let Some(mc) = config.models.iter().find(|c| c.name == m.name) else { continue };
        let b = &mc.budgets;
        for (figure, budget) in [
            ("deploy_gas", b.deploy_gas),
            ("predict_gas", b.predict_gas),
            ("predictq_gas", b.predictq_gas),
            ("precompile_gas", b.precompile_gas),
        ] {
            if let (Some(limit), Some(&value)) = (budget, m.figures.get(figure)) {
                let ok = value <= limit as f64;
                let message = if ok {
                    format!("{}: {figure} {} within its budget {}", m.name, fmt(value), fmt(limit as f64))
                } else {
                    format!("{}: {figure} {} exceeds its budget {} by {}", m.name, fmt(value), fmt(limit as f64), fmt(value - limit as f64))
                };
                out.push(Finding {
                    model: m.name.clone(),
                    figure: figure.into(),
                    rule: Rule::Budget,
                    value,
                    limit: Some(limit as f64),
                    ok,
                    message,
                });
            }
        }
        for (figure, floor) in [("agreement", mc.floors.agreement), ("accuracy", mc.floors.accuracy)] {
            if let (Some(limit), Some(&value)) = (floor, m.figures.get(figure)) {
                let ok = value >= limit;
                let message = if ok {
                    format!("{}: {figure} {value:.2}% at or above its floor {limit:.2}%", m.name)
                } else {
                    format!("{}: {figure} {value:.2}% is below its floor {limit:.2}% by {:.2} points", m.name, limit - value)
                };
                out.push(Finding {
                    model: m.name.clone(),
                    figure: figure.into(),
                    rule: Rule::Floor,
                    value,
                    limit: Some(limit),
                    ok,
                    message,
                });
            }
        }
        let snap = snapshot.and_then(|s| s.models.get(&m.name));
        for (figure, &value) in &m.figures {
            let previous = snap.and_then(|s| s.get(figure)).copied();
            let (ok, message) = match previous {
                None => {
                    (false, format!("{}: {figure} {} is not in the snapshot (record it with `solidml check --update`)", m.name, fmt(value)))
                }
                Some(p) => {
                    let change = if p == 0.0 { if value == 0.0 { 0.0 } else { f64::INFINITY } } else { (value - p) / p.abs() * 100.0 };
                    let ok = change.abs() <= tolerance;
                    let verb = if ok { "within" } else { "beyond" };
                    (ok, format!("{}: {figure} {} → {} ({change:+.2}%), {verb} the tolerance {tolerance}%", m.name, fmt(p), fmt(value)))
                }
            };
            out.push(Finding { model: m.name.clone(), figure: figure.clone(), rule: Rule::Snapshot, value, limit: previous, ok, message });
        }
    }
    if let Some(s) = snapshot {
        for (name, figs) in &s.models {
            if !figures.iter().any(|m| &m.name == name) {
                for (figure, &v) in figs {
                    out.push(Finding {
                        model: name.clone(),
                        figure: figure.clone(),
                        rule: Rule::Snapshot,
                        value: f64::NAN,
                        limit: Some(v),
                        ok: false,
                        message: format!("{name}: in the snapshot but not in solidml.toml (remove it with `solidml check --update`)"),
                    });
                }
            }
        }
    }
    out
}

/// Lint findings as failed checks (`model` is the source file, `figure` its position).
pub fn lint_findings(report: &crate::lint::LintReport) -> Vec<Finding> {
    report
        .findings
        .iter()
        .map(|f| Finding {
            model: f.file.display().to_string(),
            figure: format!("{}:{}", f.line, f.column),
            rule: Rule::Lint,
            value: f64::NAN,
            limit: None,
            ok: false,
            message: format!("lint {f}"),
        })
        .collect()
}

/// solc's errors on the project as failed checks.
pub fn compile_findings(build: &crate::compile::ProjectBuild) -> Vec<Finding> {
    build
        .errors
        .iter()
        .enumerate()
        .map(|(i, e)| Finding {
            model: "project".into(),
            figure: format!("solc error {}", i + 1),
            rule: Rule::Compile,
            value: f64::NAN,
            limit: None,
            ok: false,
            message: format!("the project does not compile (solc {}): {e}", build.solc_version.as_deref().unwrap_or("as configured")),
        })
        .collect()
}

const GAS: &[&str] = &["deploy_gas", "predict_gas", "predictq_gas", "precompile_gas"];
const ACCURACY: &[&str] = &["agreement", "accuracy", "max_error", "mean_error"];

fn cell(m: &ModelFigures, figure: &str) -> String {
    match m.figures.get(figure) {
        None => "-".into(),
        Some(v) if ACCURACY[..2].contains(&figure) => format!("{v:.2}%"),
        Some(v) => fmt(*v),
    }
}

/// The terminal table: one row per model, then the failures.
pub fn table(figures: &[ModelFigures], findings: &[Finding]) -> String {
    let cols: Vec<&str> = GAS.iter().chain(ACCURACY).copied().collect();
    let mut rows: Vec<Vec<String>> =
        vec![std::iter::once("model".to_string()).chain(cols.iter().map(|c| c.to_string())).chain(["status".into()]).collect()];
    for m in figures {
        let failed = findings.iter().filter(|f| f.model == m.name && !f.ok).count();
        let status = if failed == 0 { "ok".to_string() } else { format!("{failed} FAILED") };
        rows.push(std::iter::once(m.name.clone()).chain(cols.iter().map(|c| cell(m, c))).chain([status]).collect());
    }
    let widths: Vec<usize> = (0..rows[0].len()).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap()).collect();
    let mut s = String::new();
    for r in &rows {
        let line: Vec<String> =
            r.iter().zip(&widths).enumerate().map(|(i, (c, w))| if i == 0 { format!("{c:<w$}") } else { format!("{c:>w$}") }).collect();
        s += line.join("  ").trim_end();
        s += "\n";
    }
    for f in findings.iter().filter(|f| !f.ok) {
        s += &format!("FAIL {}\n", f.message);
    }
    s
}

/// The markdown report (a pull-request comment).
pub fn markdown(figures: &[ModelFigures], findings: &[Finding]) -> String {
    let failed: Vec<&Finding> = findings.iter().filter(|f| !f.ok).collect();
    let mut s = String::from("## SolidML check\n\n");
    s += &if failed.is_empty() {
        format!("All {} checks pass.\n\n", findings.len())
    } else {
        format!("**{} of {} checks fail.**\n\n", failed.len(), findings.len())
    };
    s += "| model | deploy gas | predict gas | predictQ gas | precompile gas | agreement | accuracy | max error | mean error |\n";
    s += "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for m in figures {
        let cells: Vec<String> = GAS.iter().chain(ACCURACY).map(|c| cell(m, c)).collect();
        s += &format!("| {} | {} |\n", m.name, cells.join(" | "));
    }
    if !failed.is_empty() {
        s += "\n| failing check | rule |\n|---|---|\n";
        for f in failed {
            s += &format!("| {} | {:?} |\n", f.message.replace('|', "\\|"), f.rule);
        }
    }
    s
}

/// The JSON report: figures and every comparison.
pub fn json(figures: &[ModelFigures], findings: &[Finding]) -> String {
    let failed = findings.iter().filter(|f| !f.ok).count();
    serde_json::to_string_pretty(&serde_json::json!({ "ok": failed == 0, "failed": failed, "models": figures, "checks": findings }))
        .unwrap()
        + "\n"
}

/// The JUnit XML report: one test suite per model, one test case per comparison.
pub fn junit(figures: &[ModelFigures], findings: &[Finding]) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("solidml check");
    for m in figures {
        let mut suite = TestSuite::new(m.name.clone());
        for f in findings.iter().filter(|f| f.model == m.name) {
            let status = if f.ok {
                TestCaseStatus::success()
            } else {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(f.message.clone());
                s
            };
            let mut case = TestCase::new(format!("{} ({:?})", f.figure, f.rule).to_lowercase(), status);
            case.set_classname(format!("solidml.{}", m.name));
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    let lint: Vec<&Finding> = findings.iter().filter(|f| matches!(f.rule, Rule::Lint | Rule::Compile)).collect();
    if !lint.is_empty() {
        let mut suite = TestSuite::new("lint");
        for f in lint {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(f.message.clone());
            let mut case = TestCase::new(format!("{}:{}", f.model, f.figure), s);
            case.set_classname("solidml.lint");
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn config(extra: &str) -> (std::path::PathBuf, Config) {
        let dir = std::env::temp_dir().join(format!("solidml-forge-check-{}-{}", std::process::id(), extra.len()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("m.onnx"), b"x").unwrap();
        std::fs::write(dir.join("e.npy"), b"x").unwrap();
        let text = format!("[models.digits]\nonnx = \"m.onnx\"\neval = [\"e.npy\"]\nlabels = \"e.npy\"\n{extra}");
        let c = Config::parse(&dir.join("solidml.toml"), text).unwrap();
        (dir, c)
    }

    fn figures(predict: f64, accuracy: f64) -> Vec<ModelFigures> {
        let figures =
            [("predict_gas", predict), ("accuracy", accuracy), ("agreement", 100.0)].into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        vec![ModelFigures { name: "digits".into(), model_id: "0x00".into(), figures }]
    }

    #[test]
    fn budget_floor_and_snapshot_each_fail_with_a_message_naming_model_figure_and_limit() {
        let (dir, c) = config("budgets = { predict_gas = 50000 }\nfloors = { accuracy = 98.0 }\n");
        let base = figures(48_225.0, 99.11);
        let snap = Snapshot::of(&base);
        assert!(compare(&c, &base, Some(&snap), 0.0).iter().all(|f| f.ok));

        let over = compare(&c, &figures(50_001.0, 99.11), Some(&Snapshot::of(&figures(50_001.0, 99.11))), 0.0);
        let f: Vec<_> = over.iter().filter(|f| !f.ok).collect();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].message, "digits: predict_gas 50,001 exceeds its budget 50,000 by 1");

        let low = compare(&c, &figures(48_225.0, 97.5), Some(&Snapshot::of(&figures(48_225.0, 97.5))), 0.0);
        let f: Vec<_> = low.iter().filter(|f| !f.ok).collect();
        assert_eq!(f[0].message, "digits: accuracy 97.50% is below its floor 98.00% by 0.50 points");

        let moved = compare(&c, &figures(48_300.0, 99.11), Some(&snap), 0.1);
        let f: Vec<_> = moved.iter().filter(|f| !f.ok).collect();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].message, "digits: predict_gas 48,225 → 48,300 (+0.16%), beyond the tolerance 0.1%");
        assert!(compare(&c, &figures(48_300.0, 99.11), Some(&snap), 0.2).iter().all(|f| f.ok));

        let fresh = compare(&c, &base, None, 0.0);
        assert!(fresh.iter().filter(|f| f.rule == Rule::Snapshot).all(|f| !f.ok && f.message.contains("--update")));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_broken_snapshot_file_is_a_clear_error() {
        let dir = std::env::temp_dir().join(format!("solidml-forge-snap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("s.json");
        assert_eq!(Snapshot::load(&p).unwrap(), None, "absent: no snapshot yet");
        for bad in [&b""[..], b"{", b"\xff\xfe", b"[1, 2]", b"{\"models\": {\"m\": {\"predict_gas\": \"many\"}}}"] {
            std::fs::write(&p, bad).unwrap();
            match Snapshot::load(&p) {
                Err(ForgeError::Snapshot { message, .. }) => assert!(message.contains("solidml check --update"), "{message}"),
                Err(ForgeError::Io { .. }) if bad == b"\xff\xfe" => {}
                other => panic!("{:?}: expected a snapshot error, got {other:?}", String::from_utf8_lossy(bad)),
            }
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn reports_carry_every_failure() {
        let (dir, c) = config("budgets = { predict_gas = 1 }\n");
        let fig = figures(48_225.0, 99.11);
        let findings = compare(&c, &fig, Some(&Snapshot::of(&fig)), 0.0);
        let md = markdown(&fig, &findings);
        assert!(md.contains("**1 of") && md.contains("exceeds its budget 1"), "{md}");
        let xml = junit(&fig, &findings);
        assert!(xml.contains("<failure") && xml.contains("exceeds its budget"), "{xml}");
        let j: serde_json::Value = serde_json::from_str(&json(&fig, &findings)).unwrap();
        assert_eq!(j["failed"], 1);
        assert!(table(&fig, &findings).contains("FAIL digits: predict_gas 48,225 exceeds"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
