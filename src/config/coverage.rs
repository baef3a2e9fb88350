//! The coverage.py configuration of a project, found exactly as coverage.py
//! finds it, with every setting remembering its file and span.
//!
//! Discovery (coverage/config.py, `config_files_to_try` and
//! `read_coverage_config`): a specified file (`--cov-config`,
//! `COVERAGE_RCFILE`) or `.coveragerc`, then `.coveragerc.toml` (7.13+), then
//! `setup.cfg`, `tox.ini`, `pyproject.toml`. coverage.py stops at the first
//! file that counts: "our" files (`.coveragerc`, `.coveragerc.toml`, a
//! specified file) count as soon as they exist, even empty; borrowed files
//! count only when they set a recognised option or have a `paths` section.
//! Borrowed INI files are read only in `[coverage:*]` sections; our INI files
//! also in bare `[run]`-style sections; TOML files in `[tool.coverage.*]`
//! (our TOML files also in bare sections, coverage 7.13+).

use std::path::{Path, PathBuf};

use super::ini::{self, IniFile};
use super::toml::{self as tomlx, TomlDoc};
use crate::problem::Problem;
use crate::source::{Location, Source, Span};

/// The type coverage.py reads an option with (`CONFIG_FILE_OPTIONS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionKind {
    Boolean,
    List,
    RegexList,
    Int,
    Float,
    Text,
}

/// Every option coverage.py 7.17 recognises in a config file, by section.
pub const OPTIONS: &[(&str, &str, OptionKind)] = {
    use OptionKind::*;
    &[
        ("run", "branch", Boolean),
        ("run", "command_line", Text),
        ("run", "concurrency", List),
        ("run", "context", Text),
        ("run", "core", Text),
        ("run", "cover_pylib", Boolean),
        ("run", "data_file", Text),
        ("run", "debug", List),
        ("run", "debug_file", Text),
        ("run", "disable_warnings", List),
        ("run", "dynamic_context", Text),
        ("run", "parallel", Boolean),
        ("run", "patch", List),
        ("run", "plugins", List),
        ("run", "relative_files", Boolean),
        ("run", "include", List),
        ("run", "omit", List),
        ("run", "sigterm", Boolean),
        ("run", "source", List),
        ("run", "source_pkgs", List),
        ("run", "source_dirs", List),
        ("run", "timid", Boolean),
        ("run", "_crash", Text),
        ("report", "exclude_lines", RegexList),
        ("report", "exclude_also", RegexList),
        ("report", "fail_under", Float),
        ("report", "format", Text),
        ("report", "ignore_errors", Boolean),
        ("report", "include_namespace_packages", Boolean),
        ("report", "partial_branches_always", RegexList),
        ("report", "partial_branches", RegexList),
        ("report", "partial_also", RegexList),
        ("report", "precision", Int),
        ("report", "contexts", List),
        ("report", "include", List),
        ("report", "omit", List),
        ("report", "show_missing", Boolean),
        ("report", "skip_covered", Boolean),
        ("report", "skip_empty", Boolean),
        ("report", "sort", Text),
        ("html", "extra_css", Text),
        ("html", "directory", Text),
        ("html", "skip_covered", Boolean),
        ("html", "skip_empty", Boolean),
        ("html", "title", Text),
        ("html", "show_contexts", Boolean),
        ("xml", "output", Text),
        ("xml", "package_depth", Int),
        ("json", "output", Text),
        ("json", "pretty_print", Boolean),
        ("json", "show_contexts", Boolean),
        ("lcov", "output", Text),
        ("lcov", "line_checksums", Boolean),
    ]
};

/// The options of [`OPTIONS`] that coverage.py did not always know, with
/// the release that added them (read from `CONFIG_FILE_OPTIONS` in the
/// `coverage/config.py` of every minor release from 6.0 to 7.17). An older
/// coverage.py warns "Unrecognized option" and ignores them.
pub const ADDED: &[(&str, &str, [u64; 2])] = &[
    ("lcov", "output", [6, 3]),
    ("run", "sigterm", [6, 4]),
    ("report", "format", [7, 0]),
    ("report", "include_namespace_packages", [7, 0]),
    ("run", "debug_file", [7, 1]),
    ("report", "exclude_also", [7, 2]),
    ("lcov", "line_checksums", [7, 7]),
    ("run", "source_dirs", [7, 8]),
    ("run", "core", [7, 9]),
    ("report", "partial_also", [7, 10]),
    ("run", "patch", [7, 10]),
];

/// The sections coverage.py reads options from (plus `paths`).
pub const SECTIONS: &[&str] = &["run", "report", "html", "xml", "json", "lcov", "paths"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Ini,
    Toml,
}

/// Why a file is a candidate, in coverage.py's discovery order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// `--cov-config=<file>` in the pytest configuration (any value but
    /// `.coveragerc`).
    CovConfigOption(Location),
    /// `COVERAGE_RCFILE` in covdoctor's environment.
    RcfileEnv,
    Coveragerc,
    CoveragercToml,
    SetupCfg,
    ToxIni,
    Pyproject,
}

/// A value as written, before coverage.py converts it.
#[derive(Clone, Debug, PartialEq)]
pub enum RawValue {
    /// An INI value (always text).
    Ini(String),
    Bool(bool),
    Str(String),
    Int(i64),
    Float(f64),
    Array(Vec<Option<String>>),
    /// Another TOML type (a table, a date...).
    Other(String),
}

/// One recognised option found in a file.
#[derive(Clone, Debug)]
pub struct Setting {
    /// The logical section (`run`).
    pub section: String,
    pub option: String,
    /// The section as written (`coverage:run`, `tool.coverage.run`, `run`).
    pub real_section: String,
    pub value: RawValue,
    pub key_span: Span,
    pub value_span: Span,
}

impl Setting {
    /// The boolean coverage.py reads, or why it cannot read one.
    ///
    /// INI: configparser's `getboolean` (`1/yes/true/on`, `0/no/false/off`,
    /// any case). TOML (coverage 7.0+): a boolean, or exactly `"true"` or
    /// `"false"`.
    pub fn as_bool(&self) -> Result<bool, String> {
        match &self.value {
            RawValue::Ini(s) => match substitute_variables(s).to_lowercase().as_str() {
                "1" | "yes" | "true" | "on" => Ok(true),
                "0" | "no" | "false" | "off" => Ok(false),
                _ => Err(format!("Not a boolean: {s}")),
            },
            RawValue::Bool(b) => Ok(*b),
            RawValue::Str(s) if substitute_variables(s) == "true" => Ok(true),
            RawValue::Str(s) if substitute_variables(s) == "false" => Ok(false),
            other => Err(format!("not a boolean: {other:?}")),
        }
    }

    /// Why coverage.py stops reading its configuration at this value (it
    /// raises `ConfigError`), in coverage's words; `None` when it reads it.
    /// Text options are not checked.
    pub fn unreadable(&self) -> Option<String> {
        // Every key of `[paths]` is read with `getlist`.
        let kind = if self.section == "paths" {
            OptionKind::List
        } else {
            OPTIONS
                .iter()
                .find(|(s, o, _)| *s == self.section && *o == self.option)
                .map(|(_, _, k)| *k)?
        };
        let at = format!("[{}]{}", self.real_section, self.option);
        let describe = |v: &RawValue| match v {
            RawValue::Str(s) | RawValue::Ini(s) => format!("'{s}'"),
            RawValue::Bool(b) => if *b { "True" } else { "False" }.to_string(),
            RawValue::Int(i) => i.to_string(),
            RawValue::Float(f) => f.to_string(),
            RawValue::Array(_) => "a list".to_string(),
            RawValue::Other(o) => o.clone(),
        };
        match (kind, &self.value) {
            (OptionKind::Boolean, RawValue::Ini(_)) => self.as_bool().err(),
            (OptionKind::Boolean, RawValue::Str(_)) => self.as_bool().err().map(|_| {
                format!(
                    "Option {at} couldn't convert to a boolean: {}",
                    describe(&self.value)
                )
            }),
            (OptionKind::Boolean, RawValue::Bool(_)) => None,
            (OptionKind::Boolean, v) => {
                Some(format!("Option {at} is not a boolean: {}", describe(v)))
            }
            (OptionKind::List | OptionKind::RegexList, RawValue::Ini(_)) => None,
            (OptionKind::List | OptionKind::RegexList, RawValue::Array(items)) => items
                .iter()
                .any(Option::is_none)
                .then(|| format!("Option {at} is not a list of strings")),
            (OptionKind::List | OptionKind::RegexList, v) => {
                Some(format!("Option {at} is not a list: {}", describe(v)))
            }
            (OptionKind::Int, RawValue::Int(_)) => None,
            (OptionKind::Int, RawValue::Ini(t) | RawValue::Str(t)) => substitute_variables(t)
                .trim()
                .parse::<i64>()
                .is_err()
                .then(|| format!("Option {at} couldn't convert to an integer: '{t}'")),
            (OptionKind::Int, v) => Some(format!("Option {at} is not an integer: {}", describe(v))),
            (OptionKind::Float, RawValue::Float(_) | RawValue::Int(_)) => None,
            (OptionKind::Float, RawValue::Ini(t) | RawValue::Str(t)) => substitute_variables(t)
                .trim()
                .parse::<f64>()
                .is_err()
                .then(|| format!("Option {at} couldn't convert to a float: '{t}'")),
            (OptionKind::Float, v) => Some(format!("Option {at} is not a float: {}", describe(v))),
            (OptionKind::Text, _) => None,
        }
    }

    /// The list coverage.py reads: INI values split on commas and line
    /// breaks; TOML arrays of strings (a TOML string is an error in
    /// coverage.py, reported as `None` here).
    pub fn as_list(&self) -> Option<Vec<String>> {
        match &self.value {
            RawValue::Ini(s) => Some(
                substitute_variables(s)
                    .split('\n')
                    .flat_map(|l| l.split(','))
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
            RawValue::Array(items) => items
                .iter()
                .map(|i| i.as_deref().map(substitute_variables))
                .collect(),
            _ => None,
        }
    }
}

impl CoverageConfig {
    /// The configuration as a run with these environment variables reads
    /// it: `$NAME`, `${NAME}` and `${NAME-default}` of a variable the run
    /// sets take its value (the others are left to [`substitute_variables`]);
    /// `None` when no value refers to such a variable.
    pub fn with_env(&self, env: &[(String, String)]) -> Option<CoverageConfig> {
        if env.is_empty() {
            return None;
        }
        let set = |text: &str| -> Option<String> {
            let mut out = text.to_string();
            let mut changed = false;
            for (name, value) in env {
                let braced = format!("${{{name}}}");
                if out.contains(&braced) {
                    out = out.replace(&braced, value);
                    changed = true;
                }
                // `$NAME`, not the start of `$NAMES`.
                let bare = format!("${name}");
                let mut from = 0;
                while let Some(at) = out[from..].find(&bare).map(|a| from + a) {
                    let end = at + bare.len();
                    let more = out[end..]
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_');
                    if more {
                        from = end;
                        continue;
                    }
                    out.replace_range(at..end, value);
                    from = at + value.len();
                    changed = true;
                }
                let prefix = format!("${{{name}-");
                while let Some(at) = out.find(&prefix) {
                    let Some(close) = out[at..].find('}').map(|c| at + c) else {
                        break;
                    };
                    out.replace_range(at..=close, value);
                    changed = true;
                }
            }
            changed.then_some(out)
        };
        let mut out = self.clone();
        let mut any = false;
        for file in &mut out.candidates {
            for setting in &mut file.settings {
                match &mut setting.value {
                    RawValue::Ini(s) | RawValue::Str(s) => {
                        if let Some(new) = set(s) {
                            *s = new;
                            any = true;
                        }
                    }
                    RawValue::Array(items) => {
                        for item in items.iter_mut().flatten() {
                            if let Some(new) = set(item) {
                                *item = new;
                                any = true;
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        any.then_some(out)
    }
}

/// coverage.py's `substitute_variables` (`misc.py`), applied to INI values
/// and TOML strings: `$$` is `$`, `$VAR` and `${VAR}` the variable,
/// `${VAR-default}` the variable or the default, `${VAR?}` the variable
/// (an error in coverage when unset). covdoctor does not know the tests'
/// environment, so variables are unset: defaults apply and the rest is
/// empty. The pattern is coverage's own, and regular.
pub fn substitute_variables(text: &str) -> String {
    static PATTERN: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    if !text.contains('$') {
        return text.to_string();
    }
    let pattern = PATTERN.get_or_init(|| {
        regex::Regex::new(
            r"\$(?:(?P<dollar>\$)|(?P<word1>\w+)|\{(?P<word2>\w+)(?:(?P<strict>\?)|-(?P<defval>[^}]*))?\})",
        )
        .expect("a valid pattern")
    });
    pattern
        .replace_all(text, |c: &regex::Captures<'_>| {
            if c.name("dollar").is_some() {
                "$".to_string()
            } else {
                c.name("defval")
                    .map(|d| d.as_str().to_string())
                    .unwrap_or_default()
            }
        })
        .into_owned()
}

/// A coverage section present in a file.
#[derive(Clone, Debug)]
pub struct SectionRef {
    /// The logical section (`run`).
    pub section: String,
    /// As written (`coverage:run`, `tool.coverage.run`, `run`).
    pub real_section: String,
    pub span: Span,
}

/// One candidate config file that exists and parses.
#[derive(Clone, Debug)]
pub struct CoverageFile {
    pub source: Source,
    pub role: Role,
    pub format: Format,
    /// "Our" file: counts as soon as it exists.
    pub our_file: bool,
    /// Recognised options, from the sections coverage.py reads.
    pub settings: Vec<Setting>,
    /// Coverage sections coverage.py reads in this file.
    pub sections: Vec<SectionRef>,
    /// Sections that look like coverage sections but that coverage.py never
    /// reads in this file: a bare `[run]` in setup.cfg or tox.ini, or in a
    /// TOML file of coverage's own read by coverage < 7.13.
    pub unread_sections: Vec<SectionRef>,
    /// Whether coverage.py stops at this file.
    pub counts: bool,
    /// `[tool.coverage] run = 1`: a section that is not a table, which
    /// coverage.py cannot read (it fails with a TypeError).
    pub bad_tables: Vec<(Span, String)>,
    /// Options coverage.py does not recognise in the sections it reads
    /// (it warns "Unrecognized option" and ignores them).
    pub unknown: Vec<UnknownOption>,
}

/// An option coverage.py does not recognise, where it reads it.
#[derive(Clone, Debug)]
pub struct UnknownOption {
    /// The logical section (`run`).
    pub section: String,
    /// The section as written (`coverage:run`, `tool.coverage.run`).
    pub real_section: String,
    pub option: String,
    pub key_span: Span,
}

impl CoverageFile {
    pub fn get(&self, section: &str, option: &str) -> Option<&Setting> {
        self.settings
            .iter()
            .find(|s| s.section == section && s.option == option)
    }

    pub fn has_settings(&self) -> bool {
        !self.settings.is_empty()
    }
}

/// Which file coverage.py ends up reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// The candidate at this index.
    File(usize),
    /// No file counts: coverage.py runs on its defaults.
    Defaults,
    /// A file coverage.py would have to read is unreadable or invalid (the
    /// error is reported on its own); the effective settings are unknown.
    Unknown,
}

/// The coverage configuration of one project root.
#[derive(Clone, Debug)]
pub struct CoverageConfig {
    /// Every candidate that exists and parses, in discovery order.
    pub candidates: Vec<CoverageFile>,
    pub selection: Selection,
    /// A `.coveragerc.toml` that the run's coverage (older than 7.13) never
    /// looks for: it is no candidate, and its settings are ignored.
    pub too_new: Option<CoverageFile>,
}

/// How the configuration is being looked for.
pub struct Lookup<'a> {
    pub root: &'a Path,
    /// `--cov-config=<value>` from the pytest configuration, with where it
    /// was written.
    pub cov_config: Option<(String, Location)>,
    /// `COVERAGE_RCFILE` from the environment.
    pub rcfile_env: Option<PathBuf>,
    /// The coverage that reads the configuration looks for
    /// `.coveragerc.toml` (7.13+, or a version covdoctor does not know).
    pub reads_coveragerc_toml: bool,
}

/// A candidate that exists but cannot be read; the caller reports it.
pub enum LoadError {
    Read(crate::source::ReadError),
    Ini(Source, ini::IniError),
    Toml(Source, tomlx::TomlError),
    /// A specified file (`--cov-config`, `COVERAGE_RCFILE`) that does not
    /// exist: coverage.py stops with "Couldn't read '<file>' as a config file".
    MissingSpecified(PathBuf, Role),
    /// A value in the file coverage.py reads that it cannot convert: it
    /// stops with `ConfigError`.
    Value(Source, Span, String),
}

impl LoadError {
    pub fn path(&self) -> PathBuf {
        match self {
            LoadError::Read(e) => e.path().to_path_buf(),
            LoadError::Ini(s, _) | LoadError::Toml(s, _) => s.path.clone(),
            LoadError::MissingSpecified(p, _) => p.clone(),
            LoadError::Value(s, _, _) => s.path.clone(),
        }
    }
}

/// Loads files through a cache so a file read for pytest is not read twice.
pub trait FileLoader {
    fn load(&mut self, path: &Path) -> Option<Result<Source, crate::source::ReadError>>;
    fn ini(&mut self, source: &Source) -> Result<IniFile, ini::IniError>;
    fn toml(&mut self, source: &Source) -> Result<std::sync::Arc<TomlDoc>, tomlx::TomlError>;
    /// An input problem a reader found itself (a workflow that is not YAML,
    /// a Makefile variable that refers to itself).
    fn report(&mut self, problem: crate::problem::Problem);
}

impl CoverageConfig {
    /// Runs coverage.py's discovery for `lookup`, collecting every candidate
    /// (also those after the one coverage.py reads, so rules can say what is
    /// shadowed). Unreadable candidates go to `errors`.
    pub fn discover(
        lookup: &Lookup<'_>,
        loader: &mut dyn FileLoader,
        errors: &mut Vec<LoadError>,
    ) -> CoverageConfig {
        let mut order: Vec<(PathBuf, Role, bool, bool)> = Vec::new();
        // (path, role, our_file, specified)
        match (&lookup.cov_config, &lookup.rcfile_env) {
            (Some((value, loc)), _) if value != ".coveragerc" => {
                order.push((
                    lookup.root.join(value),
                    Role::CovConfigOption(loc.clone()),
                    true,
                    true,
                ));
            }
            (_, Some(rc)) => order.push((lookup.root.join(rc), Role::RcfileEnv, true, true)),
            _ => order.push((
                lookup.root.join(".coveragerc"),
                Role::Coveragerc,
                true,
                false,
            )),
        }
        if lookup.reads_coveragerc_toml {
            order.push((
                lookup.root.join(".coveragerc.toml"),
                Role::CoveragercToml,
                true,
                false,
            ));
        }
        order.push((lookup.root.join("setup.cfg"), Role::SetupCfg, false, false));
        order.push((lookup.root.join("tox.ini"), Role::ToxIni, false, false));
        order.push((
            lookup.root.join("pyproject.toml"),
            Role::Pyproject,
            false,
            false,
        ));

        let mut candidates = Vec::new();
        let mut selection = None;
        for (path, role, our_file, specified) in order {
            let source = match loader.load(&path) {
                None => {
                    if specified && selection.is_none() {
                        errors.push(LoadError::MissingSpecified(path, role));
                        selection = Some(Selection::Unknown);
                    }
                    continue;
                }
                Some(Err(e)) => {
                    errors.push(LoadError::Read(e));
                    selection.get_or_insert(Selection::Unknown);
                    continue;
                }
                Some(Ok(source)) => source,
            };
            let toml_format = path.extension().is_some_and(|e| e == "toml");
            let file = if toml_format {
                match loader.toml(&source) {
                    Ok(doc) => {
                        read_toml(&source, &doc, role, our_file, lookup.reads_coveragerc_toml)
                    }
                    Err(e) => {
                        errors.push(LoadError::Toml(source, e));
                        selection.get_or_insert(Selection::Unknown);
                        continue;
                    }
                }
            } else {
                match loader.ini(&source) {
                    Ok(ini) => read_ini(&source, &ini, role, our_file),
                    Err(e) => {
                        errors.push(LoadError::Ini(source, e));
                        selection.get_or_insert(Selection::Unknown);
                        continue;
                    }
                }
            };
            // coverage.py reads the file it reaches before it knows whether
            // it counts: a section that is not a table stops it.
            if selection.is_none() && !file.bad_tables.is_empty() {
                for (span, why) in &file.bad_tables {
                    errors.push(LoadError::Value(file.source.clone(), *span, why.clone()));
                }
                selection = Some(Selection::Unknown);
            }
            if file.counts && selection.is_none() {
                selection = Some(Selection::File(candidates.len()));
            }
            candidates.push(file);
        }
        // Older coverage never opens the file, so a broken one is no error
        // of this run (the syntax check of every config file reports it).
        // A `.coveragerc.toml` named by `--cov-config` or `COVERAGE_RCFILE`
        // is read by any version (as a specified file).
        let coveragerc_toml = lookup.root.join(".coveragerc.toml");
        let specified = candidates.iter().any(|c| {
            matches!(c.role, Role::CovConfigOption(_) | Role::RcfileEnv)
                && same_file(&c.source.path, &coveragerc_toml)
        });
        let too_new = (!lookup.reads_coveragerc_toml && !specified)
            .then(|| {
                let source = loader.load(&coveragerc_toml)?.ok()?;
                let doc = loader.toml(&source).ok()?;
                // What 7.13+ would read there.
                Some(read_toml(&source, &doc, Role::CoveragercToml, true, true))
            })
            .flatten();
        let mut selection = selection.unwrap_or(Selection::Defaults);
        // coverage.py converts every option of the file it reads and stops
        // at the first it cannot; then nothing is measured at all.
        if let Selection::File(i) = selection {
            let file = &candidates[i];
            let mut bad = false;
            for setting in &file.settings {
                if let Some(why) = setting.unreadable() {
                    errors.push(LoadError::Value(
                        file.source.clone(),
                        Span::new(setting.key_span.start, setting.value_span.end),
                        why,
                    ));
                    bad = true;
                }
            }
            if bad {
                selection = Selection::Unknown;
            }
        }
        CoverageConfig {
            candidates,
            selection,
            too_new,
        }
    }

    /// The file coverage.py reads, if one counts.
    pub fn effective(&self) -> Option<&CoverageFile> {
        match self.selection {
            Selection::File(i) => Some(&self.candidates[i]),
            _ => None,
        }
    }

    /// A setting of the effective configuration.
    pub fn get(&self, section: &str, option: &str) -> Option<&Setting> {
        self.effective()?.get(section, option)
    }

    /// Candidates whose coverage settings coverage.py never reads because
    /// another file counts first.
    pub fn shadowed(&self) -> impl Iterator<Item = &CoverageFile> {
        let selected = match self.selection {
            Selection::File(i) => Some(i),
            _ => None,
        };
        self.candidates
            .iter()
            .enumerate()
            .filter(move |(i, f)| selected.is_some_and(|s| s != *i) && f.has_settings())
            .map(|(_, f)| f)
    }
}

impl CoverageConfig {
    /// The options coverage.py would warn about and ignore, as input
    /// problems: in every file it reads (each candidate up to the one that
    /// counts), options it never recognises (with the option meant, when
    /// one is close or lives in another section), and options newer than
    /// `coverage`, the version the run uses (`[run] patch` aside: the
    /// `patch-unsupported` rule reports it). A problem in `[run]`, where
    /// the rules read, is an error; elsewhere a warning.
    pub fn option_problems(&self, coverage: &super::versions::Detected) -> Vec<Problem> {
        let read = match self.selection {
            Selection::File(i) => &self.candidates[..=i],
            _ => &self.candidates[..],
        };
        let mut out = Vec::new();
        for file in read {
            for u in &file.unknown {
                let (message, meant) = unknown_option_message(u);
                out.push(option_problem(file, u.key_span, message, meant == "run"));
            }
            for s in &file.settings {
                let Some((_, _, since)) = ADDED
                    .iter()
                    .find(|(sec, opt, _)| *sec == s.section && *opt == s.option)
                else {
                    continue;
                };
                if (s.section.as_str(), s.option.as_str()) == ("run", "patch")
                    || !coverage.below(since)
                {
                    continue;
                }
                let message = format!(
                    "`[{}] {}` needs coverage.py {}.{} or newer; {} warns \"Unrecognized option '[{}] {}='\" and ignores it",
                    s.section,
                    s.option,
                    since[0],
                    since[1],
                    coverage.describe("coverage"),
                    s.real_section,
                    s.option,
                );
                out.push(option_problem(
                    file,
                    s.key_span,
                    message,
                    s.section == "run",
                ));
            }
        }
        out
    }
}

/// What coverage.py says of an option it does not know, with the option
/// covdoctor takes to be meant: the message, and the section of the option
/// meant (the option's own when none is).
fn unknown_option_message(u: &UnknownOption) -> (String, &'static str) {
    let warns = format!(
        "coverage.py warns \"Unrecognized option '[{}] {}='\" and ignores it",
        u.real_section, u.option
    );
    let elsewhere = OPTIONS
        .iter()
        .find(|(sec, opt, _)| *opt == u.option && *sec != u.section);
    if let Some((sec, _, _)) = elsewhere {
        return (
            format!(
                "`{}` is an option of `[{sec}]`, not of `[{}]`: {warns}",
                u.option, u.section
            ),
            sec,
        );
    }
    let own: Vec<&str> = OPTIONS
        .iter()
        .filter(|(sec, _, _)| *sec == u.section)
        .map(|(_, opt, _)| *opt)
        .filter(|opt| !opt.starts_with('_'))
        .collect();
    if let Some(meant) = close_option(&u.option, &own) {
        let section = SECTIONS
            .iter()
            .copied()
            .find(|s| *s == u.section)
            .unwrap_or("run");
        return (
            format!(
                "unknown coverage.py option `[{}] {}`; did you mean `{meant}`? {warns}",
                u.section, u.option
            ),
            section,
        );
    }
    let all: Vec<&str> = OPTIONS
        .iter()
        .map(|(_, opt, _)| *opt)
        .filter(|opt| !opt.starts_with('_'))
        .collect();
    if let Some(meant) = close_option(&u.option, &all)
        && let Some((sec, _, _)) = OPTIONS.iter().find(|(_, opt, _)| *opt == meant)
    {
        return (
            format!(
                "unknown coverage.py option `[{}] {}`; did you mean `[{sec}] {meant}`? {warns}",
                u.section, u.option
            ),
            sec,
        );
    }
    let section = SECTIONS
        .iter()
        .copied()
        .find(|s| *s == u.section)
        .unwrap_or("run");
    (
        format!(
            "unknown coverage.py option `[{}] {}`: {warns}",
            u.section, u.option
        ),
        section,
    )
}

/// The option of `candidates` closest to `typed`, if one is close: at most
/// a third of its letters edited (`sigterms`, `paralel`, `concurency`).
fn close_option<'a>(typed: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let normal = typed.to_lowercase().replace('-', "_");
    candidates
        .iter()
        .filter(|c| **c != typed)
        .map(|c| (strsim::damerau_levenshtein(&normal, c), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn option_problem(file: &CoverageFile, span: Span, message: String, in_run: bool) -> Problem {
    let mut p = Problem::invalid(Location::new(&file.source, span), message);
    if !in_run {
        p.demote(
            "covdoctor's rules read only `[run]` and `[paths]` of coverage.py's configuration, so this changes no verdict".to_string(),
        );
    }
    p
}

/// Two paths name the same file (`./x` and `x`, or through a link).
fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || std::fs::canonicalize(a)
            .ok()
            .zip(std::fs::canonicalize(b).ok())
            .is_some_and(|(a, b)| a == b)
}

/// Whether coverage.py recognises `option` in `section` (every key of
/// `[paths]` is an alias name, so all count).
pub fn is_known(section: &str, option: &str) -> bool {
    section == "paths"
        || OPTIONS
            .iter()
            .any(|(s, o, _)| *s == section && *o == option)
}

fn read_ini(source: &Source, ini: &IniFile, role: Role, our_file: bool) -> CoverageFile {
    let prefixes: &[&str] = if our_file {
        &["coverage:", ""]
    } else {
        &["coverage:"]
    };
    let mut settings = Vec::new();
    let mut sections = Vec::new();
    let mut unread_sections = Vec::new();
    let mut unknown = Vec::new();
    let mut paths_set = false;
    for &logical in SECTIONS {
        // configparser: the first prefix whose section exists is the only one
        // consulted (`HandyConfigParser.real_section`).
        // A bare `[run]` in setup.cfg or tox.ini is never read. Only report
        // it when it holds a coverage option, so another tool's `[json]` or
        // `[html]` section is not mistaken for coverage's.
        if !our_file
            && let Some(bare) = ini.section(logical)
            && bare.entries.iter().any(|e| is_known(logical, &e.key))
        {
            unread_sections.push(SectionRef {
                section: logical.to_string(),
                real_section: bare.name.clone(),
                span: bare.header_span,
            });
        }
        let Some(section) = prefixes
            .iter()
            .find_map(|p| ini.section(&format!("{p}{logical}")))
        else {
            continue;
        };
        sections.push(SectionRef {
            section: logical.to_string(),
            real_section: section.name.clone(),
            span: section.header_span,
        });
        for entry in &section.entries {
            if !is_known(logical, &entry.key) {
                unknown.push(UnknownOption {
                    section: logical.to_string(),
                    real_section: section.name.clone(),
                    option: entry.key.clone(),
                    key_span: entry.key_span,
                });
                continue;
            }
            if logical == "paths" {
                paths_set = true;
            }
            settings.push(Setting {
                section: logical.to_string(),
                option: entry.key.clone(),
                real_section: section.name.clone(),
                value: RawValue::Ini(entry.value.clone()),
                key_span: entry.key_span,
                value_span: entry.value_span,
            });
        }
    }
    let counts = our_file || paths_set || !settings.is_empty();
    CoverageFile {
        source: source.clone(),
        role,
        format: Format::Ini,
        our_file,
        settings,
        sections,
        unread_sections,
        counts,
        bad_tables: Vec::new(),
        unknown,
    }
}

/// `bare_sections`: coverage 7.13+ also reads `[run]`-style tables in its
/// own TOML files; older coverage only `[tool.coverage.*]`.
fn read_toml(
    source: &Source,
    doc: &TomlDoc,
    role: Role,
    our_file: bool,
    bare_sections: bool,
) -> CoverageFile {
    let mut settings = Vec::new();
    let mut sections = Vec::new();
    let mut unread_sections = Vec::new();
    let mut unknown = Vec::new();
    let mut paths_set = false;
    for &logical in SECTIONS {
        // A bare `[run]` in our TOML file, which coverage < 7.13 never
        // reads (only when it holds a coverage option).
        if our_file
            && !bare_sections
            && tomlx::table_at(doc, &["tool", "coverage", logical]).is_none()
            && let Some(bare) = tomlx::table_at(doc, &[logical])
            && bare
                .as_table_like()
                .is_some_and(|t| t.iter().any(|(k, _)| is_known(logical, k)))
        {
            unread_sections.push(SectionRef {
                section: logical.to_string(),
                real_section: logical.to_string(),
                span: tomlx::table_span(bare).unwrap_or_default(),
            });
        }
        let mut candidates: Vec<Vec<&str>> = vec![vec!["tool", "coverage", logical]];
        if our_file && bare_sections {
            candidates.push(vec![logical]);
        }
        let Some((path, item)) = candidates
            .iter()
            .find_map(|p| tomlx::table_at(doc, p).map(|t| (p.join("."), t)))
        else {
            continue;
        };
        let table = item.as_table_like().expect("table_at returns tables");
        sections.push(SectionRef {
            section: logical.to_string(),
            real_section: path.clone(),
            span: tomlx::table_span(item).unwrap_or_default(),
        });
        for (key, value) in table.iter() {
            if !is_known(logical, key) {
                let (k, _) = table.get_key_value(key).expect("key from iter");
                unknown.push(UnknownOption {
                    section: logical.to_string(),
                    real_section: path.clone(),
                    option: key.to_string(),
                    key_span: k.span().map(Span::from).unwrap_or_default(),
                });
                continue;
            }
            if logical == "paths" {
                paths_set = true;
            }
            let (k, _) = table.get_key_value(key).expect("key from iter");
            let key_span = k.span().map(Span::from).unwrap_or_default();
            let value_span = tomlx::item_span(value).unwrap_or(key_span);
            settings.push(Setting {
                section: logical.to_string(),
                option: key.to_string(),
                real_section: path.clone(),
                value: toml_value(value),
                key_span,
                value_span,
            });
        }
    }
    let counts = our_file || paths_set || !settings.is_empty();
    // `[tool.coverage] run = 1`: coverage.py looks the section up and fails.
    let mut bad_tables = Vec::new();
    if let Some(coverage) = doc
        .as_item()
        .get("tool")
        .and_then(|t| t.get("coverage"))
        .and_then(|c| c.as_table_like())
    {
        for &logical in SECTIONS {
            if let Some((key, item)) = coverage.get_key_value(logical)
                && !item.is_table_like()
            {
                let span = key.span().map(Span::from).unwrap_or_default();
                let span = tomlx::item_span(item).map_or(span, |v| Span::new(span.start, v.end));
                bad_tables.push((
                    span,
                    format!("[tool.coverage.{logical}] must be a table; coverage.py cannot read this file (it fails with a TypeError)"),
                ));
            }
        }
    }
    CoverageFile {
        bad_tables,
        source: source.clone(),
        role,
        format: Format::Toml,
        our_file,
        settings,
        sections,
        unread_sections,
        counts,
        unknown,
    }
}

fn toml_value(item: &toml_edit::Item) -> RawValue {
    use toml_edit::Value;
    match item.as_value() {
        Some(Value::Boolean(b)) => RawValue::Bool(*b.value()),
        Some(Value::String(s)) => RawValue::Str(s.value().clone()),
        Some(Value::Integer(i)) => RawValue::Int(*i.value()),
        Some(Value::Float(f)) => RawValue::Float(*f.value()),
        Some(Value::Array(a)) => {
            RawValue::Array(a.iter().map(|v| v.as_str().map(str::to_string)).collect())
        }
        Some(other) => RawValue::Other(other.to_string()),
        None => RawValue::Other(item.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_option_suggests_the_one_meant() {
        let run: Vec<&str> = OPTIONS
            .iter()
            .filter(|(s, _, _)| *s == "run")
            .map(|(_, o, _)| *o)
            .collect();
        assert_eq!(close_option("sigterms", &run), Some("sigterm"));
        assert_eq!(close_option("paralel", &run), Some("parallel"));
        assert_eq!(close_option("concurency", &run), Some("concurrency"));
        assert_eq!(close_option("relative-files", &run), Some("relative_files"));
        // Too far from every option, or the option itself.
        assert_eq!(close_option("xyz", &run), None);
        assert_eq!(close_option("sigterm", &run), None);
    }

    #[test]
    fn unknown_options_are_those_of_the_sections_coverage_reads() {
        let dir = project(&[(
            "setup.cfg",
            "[coverage:run]\nsigterms = 1\n[run]\nnot_read = 1\n[coverage:paths]\nany = src\n[coverage:myplugin]\nx = 1\n",
        )]);
        let (config, _) = discover(dir.path(), None, None);
        let unknown: Vec<(&str, &str)> = config
            .candidates
            .iter()
            .flat_map(|f| &f.unknown)
            .map(|u| (u.real_section.as_str(), u.option.as_str()))
            .collect();
        assert_eq!(unknown, [("coverage:run", "sigterms")]);
    }

    #[test]
    fn variables_are_substituted_like_coverage() {
        assert_eq!(substitute_variables("${SIGTERM-true}"), "true");
        assert_eq!(substitute_variables("$$x ${A} $B ${C?}"), "$x   ");
        assert_eq!(substitute_variables("sub${X-process}"), "subprocess");
        assert_eq!(substitute_variables("no vars"), "no vars");
    }
    use crate::config::ConfigFiles;

    fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    fn discover(
        dir: &Path,
        cov_config: Option<&str>,
        rcfile: Option<&str>,
    ) -> (CoverageConfig, Vec<LoadError>) {
        let mut files = ConfigFiles::new(std::sync::Arc::new(crate::source::Disk));
        let mut errors = Vec::new();
        let loc = Location::new(
            &std::sync::Arc::new(crate::source::SourceFile::new(
                "pyproject.toml".into(),
                String::new(),
            )),
            Span::empty(0),
        );
        let lookup = Lookup {
            root: dir,
            cov_config: cov_config.map(|c| (c.to_string(), loc)),
            rcfile_env: rcfile.map(PathBuf::from),
            reads_coveragerc_toml: true,
        };
        let config = CoverageConfig::discover(&lookup, &mut files, &mut errors);
        (config, errors)
    }

    fn effective_name(config: &CoverageConfig) -> Option<String> {
        config.effective().map(|f| {
            f.source
                .path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
    }

    #[test]
    fn an_empty_coveragerc_wins() {
        let dir = project(&[
            (".coveragerc", ""),
            ("pyproject.toml", "[tool.coverage.run]\nsigterm = true\n"),
        ]);
        let (config, _) = discover(dir.path(), None, None);
        assert_eq!(effective_name(&config).as_deref(), Some(".coveragerc"));
        assert!(config.get("run", "sigterm").is_none());
        let shadowed: Vec<_> = config.shadowed().collect();
        assert_eq!(shadowed.len(), 1);
        assert_eq!(shadowed[0].role, Role::Pyproject);
    }

    #[test]
    fn borrowed_files_count_only_with_recognised_options() {
        let dir = project(&[
            (
                "setup.cfg",
                "[metadata]\nname = x\n\n[coverage:run]\nnot_an_option = 1\n",
            ),
            ("tox.ini", "[tox]\nenv_list = py\n"),
            ("pyproject.toml", "[tool.coverage.run]\nsigterm = true\n"),
        ]);
        let (config, _) = discover(dir.path(), None, None);
        assert_eq!(effective_name(&config).as_deref(), Some("pyproject.toml"));
        assert_eq!(config.get("run", "sigterm").unwrap().as_bool(), Ok(true));
    }

    #[test]
    fn setup_cfg_reads_only_prefixed_sections() {
        let dir = project(&[(
            "setup.cfg",
            "[run]\nsigterm = true\n\n[coverage:report]\nshow_missing = 1\n",
        )]);
        let (config, _) = discover(dir.path(), None, None);
        assert_eq!(effective_name(&config).as_deref(), Some("setup.cfg"));
        assert!(config.get("run", "sigterm").is_none());
        let file = config.effective().unwrap();
        assert_eq!(file.unread_sections.len(), 1);
        assert_eq!(file.unread_sections[0].real_section, "run");
    }

    #[test]
    fn our_ini_file_prefers_the_prefixed_section() {
        let dir = project(&[(
            ".coveragerc",
            "[coverage:run]\nbranch = 1\n\n[run]\nsigterm = true\n",
        )]);
        let (config, _) = discover(dir.path(), None, None);
        // configparser consults only the first section that exists.
        assert!(config.get("run", "sigterm").is_none());
        assert_eq!(config.get("run", "branch").unwrap().as_bool(), Ok(true));
    }

    #[test]
    fn toml_dotted_keys_inline_tables_and_spans() {
        let text = "[tool.coverage]\nrun.sigterm = true\nreport = { show_missing = true }\n";
        let dir = project(&[("pyproject.toml", text)]);
        let (config, _) = discover(dir.path(), None, None);
        let s = config.get("run", "sigterm").unwrap();
        assert_eq!(&text[s.key_span.range()], "sigterm");
        assert_eq!(&text[s.value_span.range()], "true");
        assert!(config.get("report", "show_missing").is_some());
    }

    #[test]
    fn toml_booleans_follow_coverage_7() {
        let dir = project(&[(
            "pyproject.toml",
            "[tool.coverage.run]\nsigterm = \"true\"\nbranch = \"True\"\nparallel = 1\n",
        )]);
        let (config, errors) = discover(dir.path(), None, None);
        let file = &config.candidates[0];
        assert_eq!(file.get("run", "sigterm").unwrap().as_bool(), Ok(true));
        assert!(file.get("run", "branch").unwrap().as_bool().is_err());
        assert!(file.get("run", "parallel").unwrap().as_bool().is_err());
        // coverage.py stops at such values: an input error each, and the
        // effective settings are unknown.
        let messages: Vec<&str> = errors
            .iter()
            .filter_map(|e| match e {
                LoadError::Value(_, _, why) => Some(why.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            messages,
            [
                "Option [tool.coverage.run]branch couldn't convert to a boolean: 'True'",
                "Option [tool.coverage.run]parallel is not a boolean: 1",
            ]
        );
        assert_eq!(config.selection, Selection::Unknown);
    }

    #[test]
    fn ini_lists_and_booleans_follow_configparser() {
        let dir = project(&[(
            ".coveragerc",
            "[run]\nsigterm = On\npatch =\n    subprocess, _exit\n    execv\n",
        )]);
        let (config, _) = discover(dir.path(), None, None);
        assert_eq!(config.get("run", "sigterm").unwrap().as_bool(), Ok(true));
        assert_eq!(
            config.get("run", "patch").unwrap().as_list().unwrap(),
            vec!["subprocess", "_exit", "execv"]
        );
        // A TOML string where a list is needed is an error in coverage.py.
        let dir = project(&[(
            "pyproject.toml",
            "[tool.coverage.run]\npatch = \"subprocess\"\n",
        )]);
        let (config, errors) = discover(dir.path(), None, None);
        assert_eq!(
            config.candidates[0].get("run", "patch").unwrap().as_list(),
            None
        );
        assert!(matches!(&errors[..], [LoadError::Value(_, _, why)]
            if why == "Option [tool.coverage.run]patch is not a list: 'subprocess'"));
    }

    #[test]
    fn paths_entries_must_be_lists_of_strings() {
        let values = |text: &str| {
            let dir = project(&[("pyproject.toml", text)]);
            let (config, errors) = discover(dir.path(), None, None);
            let messages: Vec<String> = errors
                .iter()
                .filter_map(|e| match e {
                    LoadError::Value(source, span, why) => {
                        Some(format!("{why} @ {}", &source.text[span.range()]))
                    }
                    _ => None,
                })
                .collect();
            (config.selection, messages)
        };
        // coverage.py: "Option [tool.coverage.paths]source is not a list:
        // 'src'", and it reads nothing.
        let (selection, messages) = values(
            "[tool.coverage.run]\nsigterm = true\n[tool.coverage.paths]\nsource = \"src\"\n",
        );
        assert_eq!(
            messages,
            ["Option [tool.coverage.paths]source is not a list: 'src' @ source = \"src\""]
        );
        assert_eq!(selection, Selection::Unknown);
        let (_, messages) = values("[tool.coverage.paths]\nsource = [\"src\", 1]\n");
        assert_eq!(
            messages,
            ["Option [tool.coverage.paths]source is not a list of strings @ source = [\"src\", 1]"]
        );
        // Lists of strings are read, and so is any INI value.
        let (selection, messages) =
            values("[tool.coverage.paths]\nsource = [\"src\", \"/ci/src\"]\nother = []\n");
        assert!(messages.is_empty(), "{messages:?}");
        assert_eq!(selection, Selection::File(0));
        let dir = project(&[(".coveragerc", "[paths]\nsource = src\n")]);
        let (config, errors) = discover(dir.path(), None, None);
        assert!(errors.is_empty());
        assert_eq!(effective_name(&config).as_deref(), Some(".coveragerc"));
    }

    #[test]
    fn cov_config_makes_a_specified_file_that_is_read_as_our_own() {
        let dir = project(&[
            (".coveragerc", "[report]\nshow_missing = 1\n"),
            ("pyproject.toml", "[run]\nsigterm = true\n"),
        ]);
        let (config, _) = discover(dir.path(), Some("pyproject.toml"), None);
        assert_eq!(effective_name(&config).as_deref(), Some("pyproject.toml"));
        assert!(matches!(
            config.effective().unwrap().role,
            Role::CovConfigOption(_)
        ));
        // Our TOML files also accept bare sections (coverage 7.13+).
        assert!(config.get("run", "sigterm").is_some());
        // `--cov-config=.coveragerc` is the default: normal discovery.
        let (config, _) = discover(dir.path(), Some(".coveragerc"), None);
        assert_eq!(config.effective().unwrap().role, Role::Coveragerc);
    }

    #[test]
    fn a_missing_specified_file_is_an_error() {
        let dir = project(&[("pyproject.toml", "[tool.coverage.run]\nsigterm = true\n")]);
        let (config, errors) = discover(dir.path(), None, Some("missing.ini"));
        assert_eq!(config.selection, Selection::Unknown);
        assert!(matches!(
            errors.as_slice(),
            [LoadError::MissingSpecified(_, Role::RcfileEnv)]
        ));
        let dir = project(&[("ci.ini", "[run]\nsigterm = true\n")]);
        let (config, _) = discover(dir.path(), None, Some("ci.ini"));
        assert_eq!(config.effective().unwrap().role, Role::RcfileEnv);
        assert!(config.get("run", "sigterm").is_some());
    }

    #[test]
    fn coverage_before_7_13_skips_coveragerc_toml() {
        let dir = project(&[
            (".coveragerc.toml", "[run]\nsigterm = true\n"),
            ("pyproject.toml", "[tool.coverage.run]\nbranch = true\n"),
        ]);
        let mut files = ConfigFiles::new(std::sync::Arc::new(crate::source::Disk));
        let lookup = Lookup {
            root: dir.path(),
            cov_config: None,
            rcfile_env: None,
            reads_coveragerc_toml: false,
        };
        let config = CoverageConfig::discover(&lookup, &mut files, &mut Vec::new());
        assert_eq!(effective_name(&config).as_deref(), Some("pyproject.toml"));
        assert!(config.get("run", "sigterm").is_none());
        let unread = config.too_new.as_ref().expect("the unread file");
        assert!(unread.get("run", "sigterm").is_some());
        assert!(
            config
                .candidates
                .iter()
                .all(|c| c.role != Role::CoveragercToml)
        );
        // The newest coverage reads it first.
        let (config, _) = discover(dir.path(), None, None);
        assert_eq!(effective_name(&config).as_deref(), Some(".coveragerc.toml"));
        assert!(config.too_new.is_none());

        // Named by `--cov-config`, older coverage reads it too, but only its
        // `[tool.coverage.*]` tables.
        let old_lookup = |dir: &Path| {
            let mut files = ConfigFiles::new(std::sync::Arc::new(crate::source::Disk));
            let loc = Location::new(
                &std::sync::Arc::new(crate::source::SourceFile::new(
                    "pyproject.toml".into(),
                    String::new(),
                )),
                Span::empty(0),
            );
            let lookup = Lookup {
                root: dir,
                cov_config: Some((".coveragerc.toml".to_string(), loc)),
                rcfile_env: None,
                reads_coveragerc_toml: false,
            };
            CoverageConfig::discover(&lookup, &mut files, &mut Vec::new())
        };
        let config = old_lookup(dir.path());
        assert_eq!(effective_name(&config).as_deref(), Some(".coveragerc.toml"));
        assert!(config.get("run", "sigterm").is_none(), "bare [run] unread");
        assert!(config.too_new.is_none());
        let dir = project(&[(".coveragerc.toml", "[tool.coverage.run]\nsigterm = true\n")]);
        let config = old_lookup(dir.path());
        assert!(config.get("run", "sigterm").is_some());
        assert!(config.too_new.is_none());
    }

    #[test]
    fn coveragerc_toml_counts_even_empty_and_paths_count() {
        let dir = project(&[
            (".coveragerc.toml", ""),
            ("pyproject.toml", "[tool.coverage.run]\nsigterm = true\n"),
        ]);
        let (config, _) = discover(dir.path(), None, None);
        assert_eq!(effective_name(&config).as_deref(), Some(".coveragerc.toml"));
        let dir = project(&[
            ("setup.cfg", "[coverage:paths]\nsource =\n    src/\n"),
            ("pyproject.toml", "[tool.coverage.run]\nsigterm = true\n"),
        ]);
        let (config, _) = discover(dir.path(), None, None);
        assert_eq!(effective_name(&config).as_deref(), Some("setup.cfg"));
    }

    #[test]
    fn a_broken_file_on_the_way_makes_the_result_unknown() {
        let dir = project(&[
            ("setup.cfg", "[coverage:run\nbranch = 1\n"),
            ("pyproject.toml", "[tool.coverage.run]\nsigterm = true\n"),
        ]);
        let (config, errors) = discover(dir.path(), None, None);
        assert_eq!(config.selection, Selection::Unknown);
        assert!(matches!(errors.as_slice(), [LoadError::Ini(..)]));
        // A broken file after the one that counts is never reached.
        let dir = project(&[
            (".coveragerc", "[run]\nsigterm = true\n"),
            ("pyproject.toml", "[tool.coverage.run\n"),
        ]);
        let (config, errors) = discover(dir.path(), None, None);
        assert_eq!(effective_name(&config).as_deref(), Some(".coveragerc"));
        assert_eq!(errors.len(), 1, "reported, but the selection stands");
    }
}
