//! covdoctor's own settings: `[tool.covdoctor]` in pyproject.toml, or the
//! top level of `covdoctor.toml` (which wins when both exist), with
//! command-line flags on top. Unknown keys and unknown rule names are
//! errors, with a suggestion.

use std::path::Path;

use globset::{Glob, GlobSet, GlobSetBuilder};
use toml_edit::Item;

use super::coverage::FileLoader;
use super::toml as tomlx;
use crate::discover::SKIPPED_DIRS;
use crate::problem::Problem;
use crate::source::{Location, Source, Span};

/// The keys covdoctor knows.
pub const KEYS: &[&str] = &[
    "select",
    "extend-select",
    "ignore",
    "per-file-ignores",
    "exclude",
    "extend-exclude",
    "pytest-cov-version",
    "coverage-version",
    "python-launchers",
    "strict",
];

/// A value with the place it was written.
#[derive(Clone, Debug)]
pub struct Located<T> {
    pub value: T,
    pub location: Option<Location>,
}

#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// Rules to run (`None`: all).
    pub select: Option<Vec<String>>,
    pub extend_select: Vec<String>,
    pub ignore: Vec<String>,
    /// Glob (relative to the project root) → rules not reported there.
    pub per_file_ignores: Vec<(String, Vec<String>)>,
    /// Replaces the built-in exclusions.
    pub exclude: Option<Vec<String>>,
    pub extend_exclude: Vec<String>,
    pub pytest_cov_version: Option<Located<String>>,
    pub coverage_version: Option<Located<String>>,
    /// Project helpers that start Python children, as `module.function`.
    pub python_launchers: Vec<String>,
    /// Every input problem is an error, also those that cannot change a
    /// verdict (see [`crate::verdict`]).
    pub strict: bool,
    /// The file the settings came from, for messages.
    pub file: Option<String>,
}

/// Settings given on the command line; they override the files'.
#[derive(Clone, Debug, Default)]
pub struct CliSettings {
    pub select: Option<Vec<String>>,
    pub extend_select: Vec<String>,
    pub ignore: Vec<String>,
    pub exclude: Option<Vec<String>>,
    pub extend_exclude: Vec<String>,
    /// Read no settings file.
    pub isolated: bool,
    /// `--strict`.
    pub strict: bool,
    /// `--config PATH`: this settings file (a `covdoctor.toml`, or a
    /// `pyproject.toml` with `[tool.covdoctor]`) instead of the project's.
    pub config_file: Option<std::path::PathBuf>,
    /// `--config 'KEY = VALUE'`: settings on top of the file's, each a
    /// TOML document of `[tool.covdoctor]` keys.
    pub overrides: Vec<String>,
}

impl Settings {
    /// Reads the settings of the project at `root` and applies `cli` on top.
    pub fn load(
        root: &Path,
        cli: &CliSettings,
        loader: &mut dyn FileLoader,
        problems: &mut Vec<Problem>,
    ) -> Settings {
        let mut settings = if cli.isolated {
            Settings::default()
        } else if let Some(file) = &cli.config_file {
            let path = if file.is_absolute() {
                file.clone()
            } else {
                std::env::current_dir().unwrap_or_default().join(file)
            };
            let keys: &[&str] = if path.file_name().is_some_and(|n| n == "pyproject.toml") {
                &["tool", "covdoctor"]
            } else {
                &[]
            };
            read_file(&path, keys, true, loader, problems).unwrap_or_else(|| {
                problems.push(Problem::at_path(
                    path.clone(),
                    format!(
                        "--config: {} holds no covdoctor settings{}",
                        path.display(),
                        if keys.is_empty() {
                            ""
                        } else {
                            " (no `[tool.covdoctor]` table)"
                        }
                    ),
                ));
                Settings::default()
            })
        } else {
            read(root, loader, problems)
        };
        for (i, text) in cli.overrides.iter().enumerate() {
            // Located in a source of its own: `--config:1:5`.
            let name = if cli.overrides.len() == 1 {
                "--config".to_string()
            } else {
                format!("--config#{}", i + 1)
            };
            let source =
                std::sync::Arc::new(crate::source::SourceFile::new(name.into(), text.clone()));
            match text.parse::<toml_edit::DocumentMut>() {
                Ok(doc) => {
                    let table = doc.as_table();
                    for (key, item) in table.iter() {
                        let (k, _) = table.get_key_value(key).expect("key from iter");
                        let key_location = k.span().map(|s| Location::new(&source, s.into()));
                        parse_key(&source, key, item, key_location, &mut settings, problems);
                    }
                }
                Err(e) => problems.push(Problem::invalid(
                    Location::new(&source, Span::empty(0)),
                    format!(
                        "--config: not a file, nor a `KEY = VALUE` setting: {}",
                        e.message()
                    ),
                )),
            }
        }
        if let Some(select) = &cli.select {
            settings.select = Some(select.clone());
            settings.extend_select.clear();
        }
        settings
            .extend_select
            .extend(cli.extend_select.iter().cloned());
        settings.ignore.extend(cli.ignore.iter().cloned());
        if let Some(exclude) = &cli.exclude {
            settings.exclude = Some(exclude.clone());
        }
        settings
            .extend_exclude
            .extend(cli.extend_exclude.iter().cloned());
        settings.strict |= cli.strict;
        settings
    }

    /// Whether a rule runs.
    pub fn enabled(&self, rule: &str) -> bool {
        let selected = match &self.select {
            None => true,
            Some(list) => list.iter().any(|r| r == rule || r == "ALL"),
        } || self.extend_select.iter().any(|r| r == rule || r == "ALL");
        selected && !self.ignore.iter().any(|r| r == rule || r == "ALL")
    }

    /// Whether `per-file-ignores` silences `rule` in `relative` (a path
    /// relative to the project root).
    pub fn ignored_in(&self, rule: &str, relative: &Path) -> bool {
        self.per_file_ignores.iter().any(|(pattern, rules)| {
            rules.iter().any(|r| r == rule || r == "ALL")
                && matcher(pattern).is_some_and(|m| m.is_match(relative))
        })
    }

    /// The patterns of [`Settings::exclusions`]: `exclude` (or the
    /// built-in list), then `extend-exclude`.
    pub fn exclude_patterns(&self) -> Vec<String> {
        let defaults: Vec<String> = SKIPPED_DIRS
            .iter()
            .map(|d| d.to_string())
            .chain(["*.egg-info".to_string()])
            .collect();
        self.exclude
            .as_ref()
            .unwrap_or(&defaults)
            .iter()
            .chain(&self.extend_exclude)
            .cloned()
            .collect()
    }

    /// What the walk skips: a path matches when its file name or its path
    /// relative to the root matches a pattern.
    pub fn exclusions(&self) -> GlobSet {
        let mut builder = GlobSetBuilder::new();
        for pattern in &self.exclude_patterns() {
            if let Ok(glob) = Glob::new(pattern.trim_end_matches('/')) {
                builder.add(glob);
            }
        }
        builder.build().unwrap_or_else(|_| GlobSet::empty())
    }
}

fn matcher(pattern: &str) -> Option<globset::GlobMatcher> {
    Glob::new(pattern).ok().map(|g| g.compile_matcher())
}

/// Reads `covdoctor.toml`, else `[tool.covdoctor]` of pyproject.toml.
fn read(root: &Path, loader: &mut dyn FileLoader, problems: &mut Vec<Problem>) -> Settings {
    for (name, path) in [
        ("covdoctor.toml", &[][..]),
        ("pyproject.toml", &["tool", "covdoctor"][..]),
    ] {
        let own = path.is_empty();
        if let Some(settings) = read_file(&root.join(name), path, own, loader, problems) {
            return settings;
        }
    }
    Settings::default()
}

/// The settings in the file at `file`, under the table at `path` (the
/// whole document when empty). `None` when the file does not exist, holds
/// no such table, or (not being `own`, as pyproject.toml is not) cannot be
/// read; an `own` file that cannot be read gives the defaults and a
/// problem.
fn read_file(
    file: &Path,
    path: &[&str],
    own: bool,
    loader: &mut dyn FileLoader,
    problems: &mut Vec<Problem>,
) -> Option<Settings> {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    {
        let source = match loader.load(file) {
            None => return None,
            Some(Ok(source)) => source,
            // pyproject.toml's own errors are reported with the other
            // configuration files; a broken covdoctor.toml is not skipped in
            // favour of pyproject.toml, which it would have overridden.
            Some(Err(e)) if own => {
                problems.push(Problem::from(super::coverage::LoadError::Read(e)));
                return Some(Settings::default());
            }
            Some(Err(_)) => return None,
        };
        let doc = match loader.toml(&source) {
            Ok(doc) => doc,
            Err(e) if own => {
                problems.push(Problem::from(super::coverage::LoadError::Toml(source, e)));
                return Some(Settings::default());
            }
            Err(_) => return None,
        };
        // `tool.covdoctor` whatever its type: one that is no table is an
        // error, not a project without settings.
        let table = match path.split_last() {
            None => Some(doc.as_item()),
            Some((last, parents)) => tomlx::table_at(&doc, parents)
                .and_then(|t| t.as_table_like())
                .and_then(|t| t.get(last)),
        };
        let item = table?;
        let Some(table) = item.as_table_like() else {
            // `[tool] covdoctor = 1`: settings of the wrong type are an
            // error like a wrong-typed setting.
            let span = tomlx::item_span(item).unwrap_or_else(|| Span::empty(0));
            problems.push(Problem::invalid(
                Location::new(&source, span),
                "`tool.covdoctor` must be a table of settings".to_string(),
            ));
            return Some(Settings::default());
        };
        let mut settings = Settings {
            file: Some(name),
            ..Settings::default()
        };
        let mut errors = Vec::new();
        for (key, item) in table.iter() {
            let (k, _) = table.get_key_value(key).expect("key from iter");
            let key_location = k.span().map(|s| Location::new(&source, s.into()));
            parse_key(&source, key, item, key_location, &mut settings, &mut errors);
        }
        problems.extend(errors);
        Some(settings)
    }
}

fn parse_key(
    source: &Source,
    key: &str,
    item: &Item,
    key_location: Option<Location>,
    s: &mut Settings,
    errors: &mut Vec<Problem>,
) {
    let at = |span: Option<Span>| {
        span.map(|sp| Location::new(source, sp))
            .or_else(|| key_location.clone())
    };
    let mut fail = |message: String, span: Option<Span>| {
        errors.push(match at(span) {
            Some(loc) => Problem::invalid(loc, message),
            None => Problem::at_path(source.path.clone(), message),
        });
    };
    let value_span = tomlx::item_span(item);
    match key {
        "select" | "extend-select" | "ignore" => match rule_list(item) {
            Ok(rules) => match key {
                "select" => s.select = Some(rules),
                "extend-select" => s.extend_select = rules,
                _ => s.ignore = rules,
            },
            Err((message, span)) => fail(format!("`{key}`: {message}"), span.or(value_span)),
        },
        "per-file-ignores" => match item.as_table_like() {
            Some(table) => {
                for (pattern, rules) in table.iter() {
                    if Glob::new(pattern).is_err() {
                        fail(
                            format!("`per-file-ignores`: `{pattern}` is not a valid glob"),
                            tomlx::item_span(rules),
                        );
                        continue;
                    }
                    match rule_list(rules) {
                        Ok(list) => s.per_file_ignores.push((pattern.to_string(), list)),
                        Err((message, span)) => fail(
                            format!("`per-file-ignores` for `{pattern}`: {message}"),
                            span.or(tomlx::item_span(rules)),
                        ),
                    }
                }
            }
            None => fail(
                "`per-file-ignores` must be a table of glob = [rules]".to_string(),
                value_span,
            ),
        },
        "exclude" | "extend-exclude" => match tomlx::strings(item).filter(|_| item.is_array()) {
            Some(patterns) => {
                if let Some(bad) = patterns.iter().find(|p| Glob::new(p).is_err()) {
                    fail(format!("`{key}`: `{bad}` is not a valid glob"), value_span);
                } else if key == "exclude" {
                    s.exclude = Some(patterns);
                } else {
                    s.extend_exclude = patterns;
                }
            }
            None => fail(format!("`{key}` must be an array of globs"), value_span),
        },
        "pytest-cov-version" | "coverage-version" => match item.as_str() {
            Some(v) if super::versions::parse_version(v).is_some() => {
                let located = Located {
                    value: v.to_string(),
                    location: at(value_span),
                };
                if key == "pytest-cov-version" {
                    s.pytest_cov_version = Some(located);
                } else {
                    s.coverage_version = Some(located);
                }
            }
            _ => fail(
                format!("`{key}` must be a version string such as \"7.1.0\""),
                value_span,
            ),
        },
        "python-launchers" => match tomlx::strings(item).filter(|_| item.is_array()) {
            Some(names) => s.python_launchers = names,
            None => fail(
                "`python-launchers` must be an array of `module.function` or `module.Class.method` names".to_string(),
                value_span,
            ),
        },
        "strict" => match item.as_bool() {
            Some(strict) => s.strict = strict,
            None => fail("`strict` must be true or false".to_string(), value_span),
        },
        unknown => {
            let suggestion = strsim_best(unknown, KEYS)
                .map(|k| format!("; did you mean `{k}`?"))
                .unwrap_or_default();
            fail(
                format!("unknown covdoctor setting `{unknown}`{suggestion}"),
                key_location.as_ref().map(|l| l.span),
            );
        }
    }
}

/// An array of rule names, each known (or `ALL`).
fn rule_list(item: &Item) -> Result<Vec<String>, (String, Option<Span>)> {
    let array = item
        .as_array()
        .ok_or(("must be an array of rule names".to_string(), None))?;
    let names: Vec<&str> = crate::rules::ALL.iter().map(|r| r.name).collect();
    let mut out = Vec::new();
    for value in array.iter() {
        let span = value.span().map(Span::from);
        let Some(name) = value.as_str() else {
            return Err(("must be an array of rule names".to_string(), span));
        };
        if name != "ALL" && !names.contains(&name) {
            let suggestion = strsim_best(name, &names)
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            return Err((format!("unknown rule `{name}`{suggestion}"), span));
        }
        out.push(name.to_string());
    }
    Ok(out)
}

/// The closest candidate, when it is close enough to suggest.
pub fn strsim_best<'a>(typed: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::levenshtein(typed, c), *c))
        .filter(|(d, c)| *d <= 3 || c.contains(typed))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}
