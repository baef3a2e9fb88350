//! The pytest configuration of a project and the pytest-cov options in its
//! `addopts`.
//!
//! pytest (9.x, `_pytest/config/findpaths.py`, `CONFIG_LOADERS_BY_NAME`)
//! looks in the root directory for, in order: `pytest.toml`, `.pytest.toml`,
//! `pytest.ini`, `.pytest.ini` (these always count, even empty),
//! `pyproject.toml` (with `[tool.pytest]` or `[tool.pytest.ini_options]`),
//! `tox.ini` (with `[pytest]`) and `setup.cfg` (with `[tool:pytest]`). Older
//! pytest has the same order without the TOML files. pytest parses INI files
//! with `iniconfig`; its differences from configparser (case-sensitive keys)
//! do not matter for `addopts`, so the configparser reader is reused.

use std::path::Path;

use super::coverage::FileLoader;
use super::ini::IniFile;
use super::toml as tomlx;
use crate::source::{Location, Source, Span};

/// One `addopts` argument and where it is written.
#[derive(Clone, Debug)]
pub struct Arg {
    pub text: String,
    pub location: Location,
}

/// What `addopts` says about pytest-cov.
#[derive(Clone, Debug, Default)]
pub struct CovOptions {
    /// The `--cov` argument (with or without a value).
    pub cov: Option<Arg>,
    /// `--cov-config` and its value.
    pub cov_config: Option<(String, Location)>,
    /// `--no-cov` or `-p no:pytest_cov`: coverage is off.
    pub disabled: Option<Arg>,
    /// The values of every `--cov=X` / `--cov X`, with the argument.
    pub sources: Vec<(String, Arg)>,
}

#[derive(Clone, Debug)]
pub struct PytestConfig {
    /// The file pytest takes its configuration from.
    pub source: Source,
    /// Where `addopts` is written, if it is.
    pub addopts: Option<Location>,
    pub args: Vec<Arg>,
    pub cov: CovOptions,
}

/// Finds the file pytest reads in `root` and parses its `addopts`. Broken
/// files are skipped here; the caller reports them when it loads them.
pub fn discover(root: &Path, loader: &mut dyn FileLoader) -> Option<PytestConfig> {
    for name in [
        "pytest.toml",
        ".pytest.toml",
        "pytest.ini",
        ".pytest.ini",
        "pyproject.toml",
        "tox.ini",
        "setup.cfg",
    ] {
        let Some(Ok(source)) = loader.load(&root.join(name)) else {
            continue;
        };
        let found = if name.ends_with(".toml") {
            let Ok(doc) = loader.toml(&source) else {
                continue;
            };
            from_toml(&source, &doc, name)
        } else {
            let Ok(ini) = loader.ini(&source) else {
                continue;
            };
            from_ini(&source, &ini, name)
        };
        if let Some(config) = found {
            return Some(config);
        }
    }
    None
}

fn from_ini(source: &Source, ini: &IniFile, name: &str) -> Option<PytestConfig> {
    let section = match name {
        "setup.cfg" => "tool:pytest",
        _ => "pytest",
    };
    let always = name.starts_with("pytest.") || name.starts_with(".pytest.");
    let Some(section) = ini.section(section) else {
        return always.then(|| PytestConfig::empty(source));
    };
    let Some(entry) = section.get("addopts") else {
        return Some(PytestConfig::empty(source));
    };
    let args = split_located(source, &entry.value, entry.value_span);
    Some(PytestConfig::new(
        source,
        Some(Location::new(source, entry.span)),
        args,
    ))
}

fn from_toml(source: &Source, doc: &tomlx::TomlDoc, name: &str) -> Option<PytestConfig> {
    let table = if name == "pyproject.toml" {
        tomlx::table_at(doc, &["tool", "pytest", "ini_options"])
            .or_else(|| tomlx::table_at(doc, &["tool", "pytest"]))?
    } else {
        match tomlx::table_at(doc, &["pytest"]) {
            Some(t) => t,
            None => return Some(PytestConfig::empty(source)),
        }
    };
    let table = table.as_table_like()?;
    let Some((key, item)) = table.get_key_value("addopts") else {
        return Some(PytestConfig::empty(source));
    };
    let key_span = key.span().map(Span::from).unwrap_or_default();
    let value_span = tomlx::item_span(item).unwrap_or(key_span);
    let mut args = Vec::new();
    if let Some(s) = item.as_str() {
        // A TOML string is split like a shell line; its span is the quoted
        // string, so tokens are located inside it.
        args = split_located(source, s, value_span);
    } else if let Some(array) = item.as_array() {
        for value in array.iter() {
            if let Some(s) = value.as_str() {
                let span = value.span().map(Span::from).unwrap_or(value_span);
                args.push(Arg {
                    text: s.to_string(),
                    location: Location::new(source, span),
                });
            }
        }
    }
    Some(PytestConfig::new(
        source,
        Some(Location::new(
            source,
            Span::new(key_span.start, value_span.end),
        )),
        args,
    ))
}

/// Splits `value` like `shlex.split` and finds each token's text inside
/// `span` (falling back to the whole span for quoted tokens).
fn split_located(source: &Source, value: &str, span: Span) -> Vec<Arg> {
    let raw = source.slice(span);
    let mut cursor = 0;
    shlex::split(value)
        .unwrap_or_else(|| value.split_whitespace().map(str::to_string).collect())
        .into_iter()
        .map(|text| {
            let token_span = match raw[cursor..].find(&text) {
                Some(at) => {
                    let start = span.start + cursor + at;
                    cursor += at + text.len();
                    Span::new(start, start + text.len())
                }
                None => span,
            };
            Arg {
                text,
                location: Location::new(source, token_span),
            }
        })
        .collect()
}

impl PytestConfig {
    fn empty(source: &Source) -> Self {
        PytestConfig {
            source: source.clone(),
            addopts: None,
            args: Vec::new(),
            cov: CovOptions::default(),
        }
    }

    fn new(source: &Source, addopts: Option<Location>, args: Vec<Arg>) -> Self {
        let cov = cov_options(&args);
        PytestConfig {
            source: source.clone(),
            addopts,
            args,
            cov,
        }
    }
}

/// Reads pytest-cov's options the way pytest's argparse does: `--cov`
/// takes an optional value, so `--cov src` consumes `src`; pytest turns off
/// option abbreviations, so only full names count.
pub fn cov_options(args: &[Arg]) -> CovOptions {
    let mut out = CovOptions::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        let text = arg.text.as_str();
        if text == "--cov" || text.starts_with("--cov=") {
            out.cov = Some(arg.clone());
            if let Some(value) = text.strip_prefix("--cov=") {
                out.sources.push((value.to_string(), arg.clone()));
            }
            if text == "--cov" && args.get(i + 1).is_some_and(|a| !a.text.starts_with('-')) {
                out.sources
                    .push((args[i + 1].text.clone(), args[i + 1].clone()));
                i += 1;
            }
        } else if let Some(value) = text.strip_prefix("--cov-config=") {
            out.cov_config = Some((value.to_string(), arg.location.clone()));
        } else if text == "--cov-config" {
            if let Some(next) = args.get(i + 1) {
                let span = Span::new(
                    arg.location.span.start,
                    next.location.span.end.max(arg.location.span.end),
                );
                out.cov_config = Some((next.text.clone(), Location::new(&arg.location.file, span)));
                i += 1;
            }
        } else if text == "--no-cov" {
            out.disabled = Some(arg.clone());
        } else if text == "-p" || text.starts_with("-p") {
            let plugin = if text == "-p" {
                i += 1;
                args.get(i).map(|a| a.text.as_str())
            } else {
                Some(&text[2..])
            };
            // `-p no:cov` written as one TOML array element keeps its space.
            if matches!(
                plugin.map(str::trim),
                Some("no:pytest_cov") | Some("no:cov")
            ) {
                out.disabled = Some(arg.clone());
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigFiles;

    fn config(files: &[(&str, &str)]) -> Option<PytestConfig> {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        discover(
            dir.path(),
            &mut ConfigFiles::new(std::sync::Arc::new(crate::source::Disk)),
        )
    }

    fn name(c: &PytestConfig) -> String {
        c.source
            .path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }

    fn args(c: &PytestConfig) -> Vec<&str> {
        c.args.iter().map(|a| a.text.as_str()).collect()
    }

    #[test]
    fn pytest_ini_wins_even_without_addopts() {
        let c = config(&[
            ("pytest.ini", "[pytest]\nmarkers = slow\n"),
            (
                "pyproject.toml",
                "[tool.pytest.ini_options]\naddopts = \"--cov\"\n",
            ),
        ])
        .unwrap();
        assert_eq!(name(&c), "pytest.ini");
        assert!(c.cov.cov.is_none());
    }

    #[test]
    fn pyproject_without_pytest_tables_is_skipped() {
        let c = config(&[
            ("pyproject.toml", "[project]\nname = \"x\"\n"),
            (
                "tox.ini",
                "[tox]\nenv_list = py\n\n[pytest]\naddopts = --cov=app -ra\n",
            ),
        ])
        .unwrap();
        assert_eq!(name(&c), "tox.ini");
        assert_eq!(args(&c), vec!["--cov=app", "-ra"]);
        assert!(c.cov.cov.is_some());
    }

    #[test]
    fn setup_cfg_multiline_addopts_with_spans() {
        let text = "[tool:pytest]\naddopts =\n    --cov=app\n    --cov-config=setup.cfg\n";
        let c = config(&[("setup.cfg", text)]).unwrap();
        let (value, loc) = c.cov.cov_config.unwrap();
        assert_eq!(value, "setup.cfg");
        assert_eq!(&text[loc.span.range()], "--cov-config=setup.cfg");
        assert_eq!(&text[c.cov.cov.unwrap().location.span.range()], "--cov=app");
    }

    #[test]
    fn toml_array_addopts_and_native_tables() {
        let text = "[tool.pytest.ini_options]\naddopts = [\"--cov\", \"--cov-config\", \"pyproject.toml\"]\n";
        let c = config(&[("pyproject.toml", text)]).unwrap();
        let (value, loc) = c.cov.cov_config.clone().unwrap();
        assert_eq!(value, "pyproject.toml");
        assert_eq!(
            &text[loc.span.range()],
            "\"--cov-config\", \"pyproject.toml\""
        );
        assert_eq!(&text[c.cov.cov.unwrap().location.span.range()], "\"--cov\"");
        // pytest 9: [tool.pytest] and pytest.toml's [pytest].
        let c = config(&[(
            "pyproject.toml",
            "[tool.pytest]\naddopts = [\"--cov=src\"]\n",
        )])
        .unwrap();
        assert!(c.cov.cov.is_some());
        let c = config(&[
            ("pytest.toml", "[pytest]\naddopts = [\"--no-cov\"]\n"),
            ("pytest.ini", "[pytest]\n"),
        ])
        .unwrap();
        assert_eq!(name(&c), "pytest.toml");
        assert!(c.cov.disabled.is_some());
    }

    #[test]
    fn cov_takes_an_optional_value_like_argparse() {
        let c = config(&[(
            "pytest.ini",
            "[pytest]\naddopts = --cov src --cov-report term -p no:pytest_cov\n",
        )])
        .unwrap();
        assert_eq!(c.cov.cov.as_ref().unwrap().text, "--cov");
        assert!(c.cov.cov_config.is_none());
        assert!(c.cov.disabled.is_some());
        let c = config(&[("pytest.ini", "[pytest]\naddopts = -pno:cov\n")]).unwrap();
        assert!(c.cov.disabled.is_some());
    }

    #[test]
    fn no_config_file_means_no_pytest_config() {
        assert!(config(&[("setup.cfg", "[metadata]\nname = x\n")]).is_none());
    }
}
