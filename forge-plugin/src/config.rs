//! `solidml.toml`: the SolidML models of a foundry project, with budgets and floors.
//!
//! ```toml
//! [project]
//! out = "src/models"                  # where the models compile to (default)
//! route = "evm"                       # SolidMLTest's default route: "evm" or "native"
//! snapshot = ".solidml-snapshot.json" # the figures `solidml check` compares with
//! tolerance = 0.0                     # percent a figure may move from the snapshot
//!
//! [models.digits]
//! onnx = "models/digits.onnx"
//! calibration = ["models/digits_calib.npy"]   # one file per model input
//! eval = ["models/digits_eval.npy"]
//! labels = "models/digits_eval_labels.npy"
//! layout = "fast"                             # or "compact"
//! calibrate = "minmax"                        # or "percentile" (with percentile = 99.99), "entropy"
//! budgets = { predict_gas = 60000, predictq_gas = 45000, deploy_gas = 8000000, precompile_gas = 3000 }
//! floors = { agreement = 99.0, accuracy = 98.0 }   # percent
//! ```
//!
//! Every key is checked: an unknown key, a wrong type, a missing file or a model name that is
//! not a Solidity identifier is a [`ForgeError::Config`] whose span points into the file.
//! Relative paths are relative to the directory holding `solidml.toml`.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde::Deserialize;
use toml::Spanned;

use crate::{ConfigError, ForgeError};

/// The configuration file's name, at the foundry project's root.
pub const FILE_NAME: &str = "solidml.toml";

/// A parsed `solidml.toml`.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// Its text (for error reports that point into it).
    pub text: String,
    /// `[project]`.
    pub project: ProjectConfig,
    /// `[models.NAME]`, in name order.
    pub models: Vec<ModelConfig>,
}

/// `[project]`.
#[derive(Debug, Clone)]
pub struct ProjectConfig {
    /// Where models compile to, relative to the project root.
    pub out: String,
    /// SolidMLTest's default route.
    pub route: Route,
    /// The snapshot file of `solidml check`.
    pub snapshot: String,
    /// Percent a figure may move from the snapshot before `check` fails.
    pub tolerance: f64,
}

impl ProjectConfig {
    /// `out` without a trailing `/`, as paths are joined to it.
    pub fn out_dir(&self) -> &str {
        self.out.trim_end_matches('/')
    }
}

/// `[project]` as written (the tolerance's span kept for its error).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProject {
    #[serde(default = "default_out")]
    out: String,
    #[serde(default)]
    route: Route,
    #[serde(default = "default_snapshot")]
    snapshot: String,
    tolerance: Option<Spanned<f64>>,
}

impl Default for RawProject {
    fn default() -> Self {
        RawProject { out: default_out(), route: Route::default(), snapshot: default_snapshot(), tolerance: None }
    }
}

fn default_out() -> String {
    "src/models".into()
}

fn default_snapshot() -> String {
    ".solidml-snapshot.json".into()
}

/// How SolidMLTest answers at the SolidML addresses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Route {
    /// The generated pure-Solidity contracts.
    #[default]
    Evm,
    /// `solidml precompile` through `vm.ffi`.
    Native,
}

/// `layout` of a model (`solidml compile --layout`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// Weights as packed constants in code: least gas per inference.
    #[default]
    Fast,
    /// Weights as raw bytes: least deployment gas.
    Compact,
}

/// `calibrate` of a model (`solidml compile --calibrate`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Calibrate {
    /// The observed range.
    #[default]
    Minmax,
    /// The central `percentile` percent of the values.
    Percentile,
    /// The KL-divergence threshold.
    Entropy,
}

/// `precision` of a model (`solidml compile --precision`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// int8 activations and weights.
    #[default]
    Int8,
    /// 16x8 around the dense layers (int16 activations, int8 weights).
    Int16,
    /// int16 activations and weights in the dense layers.
    Int16x16,
}

/// Gas budgets of one model: `check` fails when a figure exceeds one.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budgets {
    /// `predict(int256[])` of the pure-Solidity contract.
    pub predict_gas: Option<u64>,
    /// `predictQ(bytes)` of the pure-Solidity contract.
    pub predictq_gas: Option<u64>,
    /// Deploying the pure-Solidity contract (`new NAME()`).
    pub deploy_gas: Option<u64>,
    /// One call of the precompile (its charge).
    pub precompile_gas: Option<u64>,
}

/// Accuracy floors of one model, in percent: `check` fails below one.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Floors {
    /// Top-1 agreement of the quantized model with the float one, on the evaluation data.
    pub agreement: Option<f64>,
    /// Accuracy of the quantized model against the labels.
    pub accuracy: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    onnx: Spanned<String>,
    #[serde(default)]
    calibration: Vec<Spanned<String>>,
    #[serde(default)]
    eval: Vec<Spanned<String>>,
    labels: Option<Spanned<String>>,
    #[serde(default)]
    layout: Layout,
    #[serde(default)]
    calibrate: Calibrate,
    percentile: Option<Spanned<f64>>,
    #[serde(default)]
    precision: Precision,
    #[serde(default)]
    budgets: Budgets,
    floors: Option<Spanned<Floors>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    project: RawProject,
    #[serde(default)]
    models: BTreeMap<Spanned<String>, RawModel>,
}

/// One `[models.NAME]`, paths resolved against the configuration's directory.
#[derive(Debug, Clone)]
pub struct ModelConfig {
    /// The table's name: the model's name and the generated contract's.
    pub name: String,
    /// The ONNX file.
    pub onnx: PathBuf,
    /// Calibration data, one `.npy` per model input.
    pub calibration: Vec<PathBuf>,
    /// Evaluation data, one `.npy` per model input.
    pub eval: Vec<PathBuf>,
    /// Integer labels of the evaluation samples.
    pub labels: Option<PathBuf>,
    /// The pure-Solidity layout.
    pub layout: Layout,
    /// The calibration method.
    pub calibrate: Calibrate,
    /// The share `Calibrate::Percentile` keeps, in percent (default 99.99).
    pub percentile: f64,
    /// Activation and weight precision.
    pub precision: Precision,
    /// Gas budgets.
    pub budgets: Budgets,
    /// Accuracy floors.
    pub floors: Floors,
    /// Where `onnx = …` is in the file (for errors about the model: it does not compile…).
    pub span: std::ops::Range<usize>,
}

impl Config {
    /// Read and check `path`.
    pub fn load(path: &Path) -> Result<Config, ForgeError> {
        let text = std::fs::read_to_string(path).map_err(|e| ForgeError::io(path, e))?;
        Config::parse(path, text)
    }

    /// Check `text` (read from `path`; relative paths resolve against its directory).
    pub fn parse(path: &Path, text: String) -> Result<Config, ForgeError> {
        let raw: RawConfig = toml::from_str(&text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let message = e.message().to_string();
            config_error(path, &text, span, message.clone(), short_label(&message))
        })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut models = vec![];
        for (name, m) in raw.models {
            if !is_identifier(name.get_ref()) {
                return Err(config_error(
                    path,
                    &text,
                    name.span(),
                    format!(
                        "model name `{}` is not a Solidity identifier (letters, digits, `_`, not starting with a digit): it names the generated contract",
                        name.get_ref()
                    ),
                    "not an identifier",
                ));
            }
            let file = |s: &Spanned<String>, what: &str| -> Result<PathBuf, ForgeError> {
                let p = dir.join(s.get_ref());
                if p.is_file() {
                    Ok(p)
                } else {
                    Err(config_error(
                        path,
                        &text,
                        s.span(),
                        format!("{what} `{}` of model `{}` does not exist ({})", s.get_ref(), name.get_ref(), p.display()),
                        "no such file",
                    ))
                }
            };
            let onnx = file(&m.onnx, "ONNX file")?;
            let calibration: Vec<PathBuf> = m.calibration.iter().map(|c| file(c, "calibration file")).collect::<Result<_, _>>()?;
            let eval: Vec<PathBuf> = m.eval.iter().map(|c| file(c, "evaluation file")).collect::<Result<_, _>>()?;
            let labels = m.labels.as_ref().map(|c| file(c, "labels file")).transpose()?;
            if labels.is_some() && eval.is_empty() {
                let s = m.labels.as_ref().unwrap().span();
                return Err(config_error(
                    path,
                    &text,
                    s,
                    format!("model `{}` has labels but no `eval` data to score them on", name.get_ref()),
                    "labels without eval",
                ));
            }
            let floors_span = m.floors.as_ref().map(|f| f.span()).unwrap_or_else(|| m.onnx.span());
            let floors = m.floors.map(|f| f.into_inner()).unwrap_or_default();
            for (v, what) in [(floors.agreement, "agreement"), (floors.accuracy, "accuracy")] {
                if let Some(v) = v
                    && !(0.0..=100.0).contains(&v)
                {
                    return Err(config_error(
                        path,
                        &text,
                        floors_span.clone(),
                        format!("floor `{what}` of model `{}` is {v}: a percentage, 0 to 100", name.get_ref()),
                        "out of range",
                    ));
                }
            }
            if (floors.agreement.is_some() || floors.accuracy.is_some()) && eval.is_empty() {
                return Err(config_error(
                    path,
                    &text,
                    floors_span.clone(),
                    format!("model `{}` has accuracy floors but no `eval` data to measure them on", name.get_ref()),
                    "floors without eval",
                ));
            }
            if floors.accuracy.is_some() && labels.is_none() {
                return Err(config_error(
                    path,
                    &text,
                    floors_span.clone(),
                    format!("model `{}` has an `accuracy` floor but no `labels`", name.get_ref()),
                    "accuracy without labels",
                ));
            }
            let percentile = match &m.percentile {
                Some(p) if !(*p.get_ref() > 0.0 && *p.get_ref() <= 100.0) => {
                    return Err(config_error(
                        path,
                        &text,
                        p.span(),
                        format!("percentile {} of model `{}`: a share in percent, above 0 and at most 100", p.get_ref(), name.get_ref()),
                        "out of range",
                    ));
                }
                Some(p) if m.calibrate != Calibrate::Percentile => {
                    return Err(config_error(
                        path,
                        &text,
                        p.span(),
                        format!(
                            "model `{}` sets `percentile` but calibrates by {:?}: add calibrate = \"percentile\"",
                            name.get_ref(),
                            m.calibrate
                        ),
                        "unused",
                    ));
                }
                Some(p) => *p.get_ref(),
                None => 99.99,
            };
            models.push(ModelConfig {
                name: name.get_ref().clone(),
                onnx,
                calibration,
                eval,
                labels,
                layout: m.layout,
                calibrate: m.calibrate,
                percentile,
                precision: m.precision,
                budgets: m.budgets,
                floors,
                span: m.onnx.span(),
            });
        }
        let tolerance = match &raw.project.tolerance {
            Some(t) if !(*t.get_ref() >= 0.0 && t.get_ref().is_finite()) => {
                return Err(config_error(path, &text, t.span(), format!("tolerance {} is not a percentage ≥ 0", t.get_ref()), "negative"));
            }
            Some(t) => *t.get_ref(),
            None => 0.0,
        };
        let RawProject { out, route, snapshot, .. } = raw.project;
        Ok(Config { path: path.to_path_buf(), text, project: ProjectConfig { out, route, snapshot, tolerance }, models })
    }

    /// The project root (the directory holding `solidml.toml`).
    pub fn root(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// An error about `model`, pointing at its `onnx = …` line.
    pub fn model_error(&self, model: &ModelConfig, message: String) -> ForgeError {
        config_error(&self.path, &self.text, model.span.clone(), message, "this model")
    }
}

fn short_label(message: &str) -> String {
    message.lines().next().unwrap_or("here").chars().take(60).collect()
}

fn config_error(path: &Path, text: &str, span: std::ops::Range<usize>, message: String, label: impl Into<String>) -> ForgeError {
    let len = span.end.saturating_sub(span.start);
    ForgeError::Config(Box::new(ConfigError {
        path: path.display().to_string(),
        message,
        source_code: miette::NamedSource::new(path.display().to_string(), text.to_string()),
        span: (span.start, len).into(),
        label: label.into(),
    }))
}

fn is_identifier(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_') && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

/// 1-based line of byte `offset` in `text` (for messages and tests).
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(toml: &str) -> (tempdir::Dir, Result<Config, ForgeError>) {
        let dir = tempdir::Dir::new();
        std::fs::write(dir.0.join("m.onnx"), b"x").unwrap();
        std::fs::write(dir.0.join("x.npy"), b"x").unwrap();
        let path = dir.0.join(FILE_NAME);
        std::fs::write(&path, toml).unwrap();
        let r = Config::load(&path);
        (dir, r)
    }

    /// The line a config error points at.
    fn error_line(r: Result<Config, ForgeError>) -> (usize, String) {
        match r {
            Err(ForgeError::Config(e)) => (line_of(e.source_code.inner(), e.span.offset()), e.message),
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn a_full_file_parses_with_defaults() {
        let (_d, r) = project(
            "[models.digits]\nonnx = \"m.onnx\"\neval = [\"x.npy\"]\nlabels = \"x.npy\"\nbudgets = { predict_gas = 5 }\nfloors = { accuracy = 90 }\n",
        );
        let c = r.unwrap();
        assert_eq!(c.project.out, "src/models");
        assert_eq!(c.project.route, Route::Evm);
        assert_eq!(c.models.len(), 1);
        assert_eq!(c.models[0].budgets.predict_gas, Some(5));
        assert_eq!(c.models[0].floors.accuracy, Some(90.0));
        assert_eq!(c.models[0].layout, Layout::Fast);
        assert_eq!(c.models[0].precision, Precision::Int8);
    }

    #[test]
    fn a_precision_is_one_of_the_three() {
        let (_d, r) = project("[models.diabetes]\nonnx = \"m.onnx\"\nprecision = \"int16x16\"\n");
        assert_eq!(r.unwrap().models[0].precision, Precision::Int16x16);
        let (_d, r) = project("[models.diabetes]\nonnx = \"m.onnx\"\nprecision = \"int4\"\n");
        let (line, msg) = error_line(r);
        assert_eq!(line, 3, "{msg}");
        assert!(msg.contains("unknown variant `int4`"), "{msg}");
    }

    #[test]
    fn an_unknown_key_points_at_its_line() {
        let (_d, r) = project("[project]\nroute = \"evm\"\n\n[models.digits]\nonnx = \"m.onnx\"\nlayuot = \"fast\"\n");
        let (line, msg) = error_line(r);
        assert_eq!(line, 6, "{msg}");
        assert!(msg.contains("unknown field `layuot`"), "{msg}");
    }

    #[test]
    fn a_wrong_type_points_at_its_line() {
        let (_d, r) = project("[models.digits]\nonnx = \"m.onnx\"\nbudgets = { predict_gas = \"many\" }\n");
        let (line, msg) = error_line(r);
        assert_eq!(line, 3, "{msg}");
        assert!(msg.contains("invalid type"), "{msg}");
    }

    #[test]
    fn a_missing_model_file_points_at_its_line() {
        let (_d, r) = project("[models.digits]\n\nonnx = \"nope.onnx\"\n");
        let (line, msg) = error_line(r);
        assert_eq!(line, 3);
        assert!(msg.contains("ONNX file `nope.onnx` of model `digits` does not exist"), "{msg}");
    }

    #[test]
    fn floors_need_data_and_names_must_be_identifiers() {
        let (_d, r) = project("[models.digits]\nonnx = \"m.onnx\"\nfloors = { agreement = 99 }\n");
        assert!(error_line(r).1.contains("no `eval` data"));
        let (_d, r) = project("[models.1digits]\nonnx = \"m.onnx\"\n");
        let (line, msg) = error_line(r);
        assert_eq!(line, 1);
        assert!(msg.contains("not a Solidity identifier"), "{msg}");
        let (_d, r) = project("[project]\nroute = \"gpu\"\n");
        assert!(error_line(r).1.contains("unknown variant `gpu`"));
        // a comment naming the key does not mislead the span
        let (_d, r) = project("# tolerance: see below\n[project]\ntolerance = -1.0\n");
        let (line, msg) = error_line(r);
        assert_eq!(line, 3, "{msg}");
        assert!(msg.contains("tolerance -1 is not a percentage"), "{msg}");
    }

    /// A temporary directory removed on drop (no dependency for one test helper).
    mod tempdir {
        pub(super) struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub(super) fn new() -> Dir {
                static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
                let p = std::env::temp_dir().join(format!(
                    "solidml-forge-{}-{}",
                    std::process::id(),
                    N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                ));
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }
}
