//! The pytest configuration of a project and the pytest-cov options in its
//! `addopts`.
//!
//! pytest (9.2, `_pytest/config/findpaths.py`, `CONFIG_LOADERS_BY_NAME`)
//! looks in the root directory for, in order: `pytest.toml`, `.pytest.toml`,
//! `pytest.ini`, `.pytest.ini` (these always count, even empty),
//! `pyproject.toml` (with `[tool.pytest]` or `[tool.pytest.ini_options]`),
//! `tox.ini` (with `[pytest]`) and `setup.cfg` (with `[tool:pytest]`). Older
//! pytest has the same order without the TOML files.
//!
//! pytest 9.2 loads every one of these files that exists (those after the
//! one it takes too, to warn that they are ignored), so an error in any of
//! them stops it. It reads the INI files with `iniconfig`
//! ([`super::iniconfig`]), not configparser: names are case-sensitive, a
//! BOM is dropped, a repeated `[DEFAULT]` is an error. It reads TOML files
//! with tomllib: `[tool.pytest.ini_options]` in INI mode (values become
//! strings or lists of strings), `[tool.pytest]` and pytest.toml's
//! `[pytest]` in TOML mode, where each option must have its type
//! (`_getini_toml`). An `args` option written as a string (`addopts` in an
//! INI file) is split with `shlex.split`.

use std::path::{Path, PathBuf};

use super::coverage::FileLoader;
use super::iniconfig::{self, py_repr};
use super::toml as tomlx;
use crate::problem::Problem;
use crate::source::{Location, Source, Span};
use toml_edit::{Item, TableLike, Value};

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
    /// The `pythonpath` option: directories pytest puts on `sys.path`
    /// (relative entries are relative to the file's directory).
    pub pythonpath: Vec<PathBuf>,
    /// The `testpaths` option, as written: where pytest collects when it
    /// is given no paths (relative to the rootdir; globs allowed).
    pub testpaths: Vec<String>,
}

/// The files pytest looks for, in its order.
const CANDIDATES: [&str; 7] = [
    "pytest.toml",
    ".pytest.toml",
    "pytest.ini",
    ".pytest.ini",
    "pyproject.toml",
    "tox.ini",
    "setup.cfg",
];

/// Files only pytest reads (coverage.py and tox read tox.ini and setup.cfg
/// with configparser too).
pub fn read_by_pytest_only(name: &str) -> bool {
    name.starts_with("pytest.") || name.starts_with(".pytest.")
}

/// Finds the file pytest reads in `root` and parses its `addopts`. Broken
/// files are skipped here; [`load`] also says what stops pytest.
pub fn discover(root: &Path, loader: &mut dyn FileLoader) -> Option<PytestConfig> {
    load(root, loader).0
}

/// The configuration pytest takes from `root` (as [`discover`]), and the
/// input errors that stop pytest there, one per file: what iniconfig
/// cannot parse, tables that are not where or what pytest expects, and the
/// options of the file pytest takes that it cannot read (an `addopts` that
/// is no shell line, an option of the wrong type in TOML mode).
///
/// A file that cannot be read at all, or whose TOML or (for tox.ini and
/// setup.cfg) configparser syntax is broken, is reported by its loader and
/// skipped here.
pub fn load(root: &Path, loader: &mut dyn FileLoader) -> (Option<PytestConfig>, Vec<Problem>) {
    let mut found: Option<PytestConfig> = None;
    let mut problems = Vec::new();
    for name in CANDIDATES {
        let Some(Ok(source)) = loader.load(&root.join(name)) else {
            continue;
        };
        let read = if name.ends_with(".toml") {
            let Ok(doc) = loader.toml(&source) else {
                continue;
            };
            from_toml(&source, &doc, name, found.is_none())
        } else {
            if !read_by_pytest_only(name) && loader.ini(&source).is_err() {
                continue;
            }
            from_ini(&source, name, found.is_none())
        };
        match read {
            Ok(None) => {}
            Ok(Some((config, problem))) => {
                problems.extend(problem);
                found.get_or_insert(config);
            }
            Err(problem) => problems.push(problem),
        }
    }
    (found, problems)
}

/// What reading one file gives: its configuration, if it configures pytest,
/// and what stops pytest reading its options (checked only for the file
/// pytest takes, `chosen`); or what stops pytest loading the file.
type Read = Result<Option<(PytestConfig, Option<Problem>)>, Problem>;

fn problem(source: &Source, span: Span, message: String) -> Problem {
    Problem::invalid(Location::new(source, span), message)
}

fn file_name(source: &Source) -> String {
    source
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| source.path.display().to_string())
}

fn from_ini(source: &Source, name: &str, chosen: bool) -> Read {
    let ini = iniconfig::parse(&source.text).map_err(|e| {
        problem(
            source,
            e.span,
            format!(
                "invalid INI: pytest reads this file with iniconfig, which stops at \"{}:{}: {}\"",
                file_name(source),
                e.line,
                e.message
            ),
        )
    })?;
    let section = match name {
        "setup.cfg" => match ini.section("tool:pytest") {
            Some(section) => Some(section),
            None => {
                if let Some(old) = ini.section("pytest") {
                    return Err(problem(
                        source,
                        old.header_span,
                        "pytest stops at this section: \"[pytest] section in setup.cfg files is no longer supported, change to [tool:pytest] instead.\"".to_string(),
                    ));
                }
                None
            }
        },
        _ => ini.section("pytest"),
    };
    let Some(section) = section else {
        return Ok(read_by_pytest_only(name).then(|| (PytestConfig::empty(source), None)));
    };
    let mut first_problem = None;
    if chosen {
        first_problem = ini_checked().find_map(|(option, ty)| {
            let entry = section.get(option)?;
            check_ini(
                source,
                option,
                *ty,
                &IniValue::Str(&entry.value),
                entry.value_span,
            )
        });
    }
    // pytest splits `paths` and `args` options like a shell line.
    let words = |option: &str| -> Vec<String> {
        section
            .get(option)
            .and_then(|e| split_args(&e.value).ok())
            .map(|words| words.into_iter().map(|(w, _, _)| w).collect())
            .unwrap_or_default()
    };
    let paths = (words("pythonpath"), words("testpaths"));
    let Some(entry) = section.get("addopts") else {
        return Ok(Some((
            PytestConfig::empty(source).with_paths(paths),
            first_problem,
        )));
    };
    let args = split_args(&entry.value)
        .unwrap_or_else(|_| split_on_whitespace(&entry.value))
        .into_iter()
        .map(|(text, start, end)| Arg {
            text,
            location: Location::new(source, entry.span_of(start, end)),
        })
        .collect();
    Ok(Some((
        PytestConfig::new(source, Some(Location::new(source, entry.span)), args).with_paths(paths),
        first_problem,
    )))
}

/// A table pytest reads options from, and how.
struct Options<'a> {
    table: &'a dyn TableLike,
    /// TOML mode (`[tool.pytest]`, pytest.toml): options keep their TOML
    /// types, which must match; else INI mode (`ini_options`).
    toml_mode: bool,
    /// Keys skipped (`ini_options` beside native options).
    skip: Option<&'static str>,
}

/// The span to point at for a key's value (or the key itself).
fn value_span(key: Option<&toml_edit::Key>, item: &Item) -> Span {
    tomlx::item_span(item)
        .or_else(|| tomlx::table_span(item))
        .or_else(|| key.and_then(|k| k.span()).map(Span::from))
        .unwrap_or_default()
}

fn from_toml(source: &Source, doc: &tomlx::TomlDoc, name: &str, chosen: bool) -> Read {
    let options = if name == "pyproject.toml" {
        match pyproject_options(source, doc)? {
            Some(options) => options,
            None => return Ok(None),
        }
    } else {
        match pytest_table_options(source, doc)? {
            Some(options) => options,
            None => return Ok(Some((PytestConfig::empty(source), None))),
        }
    };
    let mut first_problem = None;
    if chosen {
        first_problem = check_toml_options(source, &options);
    }
    // A list, or (INI mode) a string split like a shell line.
    let words = |option: &str| -> Vec<String> {
        match options.table.get(option) {
            Some(item) => match (item.as_str(), item.as_array()) {
                (Some(s), _) if !options.toml_mode => split_args(s)
                    .map(|words| words.into_iter().map(|(w, _, _)| w).collect())
                    .unwrap_or_default(),
                (_, Some(array)) => array
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            },
            None => Vec::new(),
        }
    };
    let paths = (words("pythonpath"), words("testpaths"));
    let Some((key, item)) = options.table.get_key_value("addopts") else {
        return Ok(Some((
            PytestConfig::empty(source).with_paths(paths),
            first_problem,
        )));
    };
    let key_span = key.span().map(Span::from).unwrap_or_default();
    let at = value_span(Some(key), item);
    let mut args = Vec::new();
    if let Some(s) = item.as_str() {
        // INI mode: a TOML string is split like a shell line, each token
        // located inside the string when it is written without escapes.
        let raw = source.slice(at);
        let inner = string_body(raw);
        let tokens = split_args(s).unwrap_or_else(|_| split_on_whitespace(s));
        args = tokens
            .into_iter()
            .map(|(text, start, end)| {
                let span = match inner {
                    Some((offset, body)) if body == s => {
                        Span::new(at.start + offset + start, at.start + offset + end)
                    }
                    _ => find_in(raw, at, &text),
                };
                Arg {
                    text,
                    location: Location::new(source, span),
                }
            })
            .collect();
    } else if let Some(array) = item.as_array() {
        for value in array.iter() {
            if let Some(s) = value.as_str() {
                let span = value.span().map(Span::from).unwrap_or(at);
                args.push(Arg {
                    text: s.to_string(),
                    location: Location::new(source, span),
                });
            }
        }
    }
    Ok(Some((
        PytestConfig::new(
            source,
            Some(Location::new(
                source,
                Span::new(key_span.start.min(at.start), at.end.max(key_span.end)),
            )),
            args,
        )
        .with_paths(paths),
        first_problem,
    )))
}

/// pytest.toml's `[pytest]` (`_config_from_pytest_table`): options
/// written outside any table are an error, and `pytest` must be a table.
fn pytest_table_options<'a>(
    source: &Source,
    doc: &'a tomlx::TomlDoc,
) -> Result<Option<Options<'a>>, Problem> {
    let root = doc.as_table();
    if let Some((key, item)) = root.get_key_value("pytest") {
        return match item.as_table_like() {
            Some(table) => Ok(Some(Options {
                table,
                toml_mode: true,
                skip: None,
            })),
            None => Err(attribute_error(source, Some(key), item, "items")),
        };
    }
    let top_level: Vec<(&toml_edit::Key, &Item)> = root
        .iter()
        .filter_map(|(k, _)| root.get_key_value(k))
        .filter(|(_, item)| !item.is_table_like())
        .collect();
    if let Some((key, _)) = top_level.first() {
        let names: Vec<String> = top_level.iter().map(|(k, _)| k.get().to_string()).collect();
        return Err(problem(
            source,
            key.span().map(Span::from).unwrap_or_default(),
            format!(
                "pytest stops: \"{}: pytest configuration must be under a [pytest] table (found top-level options: {})\"",
                file_name(source),
                names.join(", ")
            ),
        ));
    }
    Ok(None)
}

/// pyproject.toml's `[tool.pytest]` and `[tool.pytest.ini_options]`
/// (`_config_from_tool_pytest`): native options win; both at once is an
/// error; a `tool`, `tool.pytest` or `ini_options` that is no table makes
/// pytest fail with an `AttributeError`.
fn pyproject_options<'a>(
    source: &Source,
    doc: &'a tomlx::TomlDoc,
) -> Result<Option<Options<'a>>, Problem> {
    let Some((key, tool)) = doc.as_table().get_key_value("tool") else {
        return Ok(None);
    };
    let Some(tool) = tool.as_table_like() else {
        return Err(attribute_error(source, Some(key), tool, "get"));
    };
    let Some((key, pytest)) = tool.get_key_value("pytest") else {
        return Ok(None);
    };
    let Some(pytest) = pytest.as_table_like() else {
        return Err(attribute_error(source, Some(key), pytest, "items"));
    };
    let native = pytest.iter().any(|(k, _)| k != "ini_options");
    let ini = pytest.get_key_value("ini_options");
    if native {
        if let Some((key, item)) = ini
            && truthy(item)
        {
            return Err(problem(
                source,
                key.span()
                    .map(Span::from)
                    .unwrap_or_else(|| value_span(None, item)),
                format!(
                    "pytest stops: \"{}: Cannot use both [tool.pytest] (native TOML types) and [tool.pytest.ini_options] (string-based INI format) simultaneously.\"",
                    file_name(source)
                ),
            ));
        }
        return Ok(Some(Options {
            table: pytest,
            toml_mode: true,
            skip: Some("ini_options"),
        }));
    }
    match ini {
        None => Ok(None),
        Some((key, item)) => match item.as_table_like() {
            Some(table) => Ok(Some(Options {
                table,
                toml_mode: false,
                skip: None,
            })),
            None => Err(attribute_error(source, Some(key), item, "items")),
        },
    }
}

/// pytest calls a dict method on a value that is no table: a traceback.
fn attribute_error(
    source: &Source,
    key: Option<&toml_edit::Key>,
    item: &Item,
    method: &str,
) -> Problem {
    let what = key.map(|k| k.get().to_string()).unwrap_or_default();
    problem(
        source,
        value_span(key, item),
        format!(
            "pytest fails reading its configuration: `{what}` must be a table (\"AttributeError: '{}' object has no attribute '{method}'\")",
            py_type(item)
        ),
    )
}

/// Python's truth value of a TOML value.
fn truthy(item: &Item) -> bool {
    match item {
        Item::None => false,
        Item::Table(t) => !t.is_empty(),
        Item::ArrayOfTables(a) => !a.is_empty(),
        Item::Value(v) => match v {
            Value::String(s) => !s.value().is_empty(),
            Value::Integer(i) => *i.value() != 0,
            Value::Float(f) => *f.value() != 0.0,
            Value::Boolean(b) => *b.value(),
            Value::Datetime(_) => true,
            Value::Array(a) => !a.is_empty(),
            Value::InlineTable(t) => !t.is_empty(),
        },
    }
}

/// The `(start, end)` of a TOML string's body inside its source text, and
/// the body, when the string has no escapes to decode (then offsets in the
/// value are offsets in the body).
fn string_body(raw: &str) -> Option<(usize, &str)> {
    let quote = ["\"\"\"", "'''", "\"", "'"]
        .into_iter()
        .find(|q| raw.starts_with(q) && raw.len() >= 2 * q.len() && raw.ends_with(q))?;
    let mut start = quote.len();
    let end = raw.len() - quote.len();
    if quote.len() == 3 {
        // A line break right after the opening quotes is not part of it.
        if raw[start..end].starts_with("\r\n") {
            start += 2;
        } else if raw[start..end].starts_with('\n') {
            start += 1;
        }
    }
    let body = raw.get(start..end)?;
    if quote.starts_with('"') && body.contains('\\') {
        return None;
    }
    Some((start, body))
}

/// The first occurrence of `text` in `raw` (the text of `span`), else the
/// whole span.
fn find_in(raw: &str, span: Span, text: &str) -> Span {
    match raw.find(text) {
        Some(at) if !text.is_empty() => Span::new(span.start + at, span.start + at + text.len()),
        _ => span,
    }
}

/// What `shlex.split` raises.
type ShlexError = &'static str;

/// Splits `value` as Python's `shlex.split` does (POSIX mode, whitespace
/// split, no comments): quotes, backslash escapes (inside double quotes
/// only before `"` and `\`), separators ` \t\r\n`. Each token comes with
/// its byte range in `value` (quotes included).
pub fn split_args(value: &str) -> Result<Vec<(String, usize, usize)>, ShlexError> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Between,
        Word,
        Quote(char),
        Escape,
    }
    let mut out = Vec::new();
    let mut state = State::Between;
    // The state an escape returns to (`escapedstate`).
    let mut escaped = State::Word;
    let mut token = String::new();
    let mut start = 0;
    let mut end = 0;
    let whitespace = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    for (i, c) in value.char_indices() {
        let next = i + c.len_utf8();
        match state {
            State::Between => {
                if whitespace(c) {
                    continue;
                }
                start = i;
                state = match c {
                    '\\' => {
                        escaped = State::Word;
                        State::Escape
                    }
                    '"' | '\'' => State::Quote(c),
                    _ => {
                        token.push(c);
                        State::Word
                    }
                };
            }
            State::Word => {
                if whitespace(c) {
                    out.push((std::mem::take(&mut token), start, end));
                    state = State::Between;
                    continue;
                }
                state = match c {
                    '"' | '\'' => State::Quote(c),
                    '\\' => {
                        escaped = State::Word;
                        State::Escape
                    }
                    _ => {
                        token.push(c);
                        State::Word
                    }
                };
            }
            State::Quote(q) => {
                if c == q {
                    state = State::Word;
                } else if c == '\\' && q == '"' {
                    escaped = state;
                    state = State::Escape;
                } else {
                    token.push(c);
                }
            }
            State::Escape => {
                if let State::Quote(q) = escaped
                    && c != '\\'
                    && c != q
                {
                    token.push('\\');
                }
                token.push(c);
                state = escaped;
            }
        }
        end = next;
    }
    match state {
        State::Between => {}
        State::Word => out.push((token, start, end)),
        State::Quote(_) => return Err("No closing quotation"),
        State::Escape => return Err("No escaped character"),
    }
    // A word is pushed even when empty: it can only come from quotes
    // (`""`), which Python keeps.
    Ok(out)
}

/// A fallback for a value `shlex` cannot split (pytest stops there; the
/// problem is reported): its words.
fn split_on_whitespace(value: &str) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in value.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((value[s..i].to_string(), s, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((value[s..].to_string(), s, value.len()));
    }
    out
}

/// The type pytest registers for an option (`parser.addini(type=...)`).
#[derive(Clone, Copy, Debug)]
enum Ty {
    Args,
    Linelist,
    Paths,
    Bool,
    Int,
    Float,
    Str,
    Literal(&'static [&'static str]),
    Union(&'static [Ty]),
}

impl Ty {
    /// `_ini_type_repr`.
    fn repr(self) -> String {
        match self {
            Ty::Args => "args".into(),
            Ty::Linelist => "linelist".into(),
            Ty::Paths => "paths".into(),
            Ty::Bool => "bool".into(),
            Ty::Int => "int".into(),
            Ty::Float => "float".into(),
            Ty::Str => "string".into(),
            Ty::Literal(choices) => choices
                .iter()
                .map(|c| py_repr(c))
                .collect::<Vec<_>>()
                .join(" | "),
            Ty::Union(members) => members
                .iter()
                .map(|m| m.repr())
                .collect::<Vec<_>>()
                .join(" | "),
        }
    }
}

const INT_OR_STR: &[Ty] = &[Ty::Int, Ty::Str];
const INT_OR_AUTO: &[Ty] = &[Ty::Int, Ty::Literal(&["auto"])];

/// pytest's own options that it reads on every run (a wrong value stops
/// it before any test runs, exit status 4), with their types, `addopts`
/// first as pytest reads it first. Options read only in some runs
/// (`norecursedirs`, `junit_*`, `doctest_*`) and plugins' options are not
/// checked.
const OPTIONS: &[(&str, Ty)] = &[
    ("addopts", Ty::Args),
    ("minversion", Ty::Str),
    ("required_plugins", Ty::Args),
    ("pythonpath", Ty::Paths),
    ("testpaths", Ty::Args),
    ("markers", Ty::Linelist),
    ("filterwarnings", Ty::Linelist),
    ("usefixtures", Ty::Args),
    ("python_files", Ty::Args),
    ("consider_namespace_packages", Ty::Bool),
    ("max_warnings", Ty::Union(INT_OR_STR)),
    (
        "empty_parameter_set_mark",
        Ty::Literal(&["skip", "xfail", "fail_at_collect"]),
    ),
    (
        "console_output_style",
        Ty::Literal(&[
            "classic",
            "progress",
            "count",
            "times",
            "progress-even-when-capture-no",
        ]),
    ),
    ("verbosity_test_cases", Ty::Union(INT_OR_AUTO)),
    ("verbosity_subtests", Ty::Union(INT_OR_AUTO)),
    ("tmp_path_retention_count", Ty::Union(INT_OR_STR)),
    (
        "tmp_path_retention_policy",
        Ty::Literal(&["all", "failed", "none"]),
    ),
    (
        "assertion_text_diff_style",
        Ty::Literal(&["ndiff", "block"]),
    ),
    ("log_level", Ty::Union(INT_OR_STR)),
    ("log_format", Ty::Str),
    ("log_date_format", Ty::Str),
    ("log_cli", Ty::Bool),
    ("log_cli_level", Ty::Union(INT_OR_STR)),
    ("log_cli_format", Ty::Str),
    ("log_cli_date_format", Ty::Str),
    ("log_file", Ty::Str),
    ("log_file_mode", Ty::Literal(&["w", "a"])),
    ("log_file_level", Ty::Union(INT_OR_STR)),
    ("log_file_format", Ty::Str),
    ("log_file_date_format", Ty::Str),
    ("log_auto_indent", Ty::Union(&[Ty::Int, Ty::Bool, Ty::Str])),
    ("faulthandler_timeout", Ty::Union(&[Ty::Float, Ty::Str])),
    ("faulthandler_exit_on_timeout", Ty::Bool),
];

/// The options of [`OPTIONS`] whose INI-mode reading can fail: `args` and
/// `paths` strings are split with shlex, booleans go through
/// `_strtobool`, literals must be one of their choices (a union with
/// `string` accepts any string; a line list, a string, an int or a float
/// alone is kept as a string in INI mode).
fn ini_checked() -> impl Iterator<Item = &'static (&'static str, Ty)> {
    fn can_fail(ty: Ty) -> bool {
        match ty {
            Ty::Args | Ty::Paths | Ty::Bool | Ty::Literal(_) => true,
            Ty::Union(members) => !members.iter().any(|m| matches!(m, Ty::Str)),
            Ty::Linelist | Ty::Int | Ty::Float | Ty::Str => false,
        }
    }
    OPTIONS.iter().filter(|(_, ty)| can_fail(*ty))
}

/// A value as pytest holds it in INI mode: a string, or (from
/// `ini_options`) a list kept as it is.
enum IniValue<'a> {
    Str(&'a str),
    List(String),
}

/// What `_getini_ini` (with the literal and union checks before it) raises
/// for `value` of `option`, as a problem at `span`.
fn check_ini(
    source: &Source,
    option: &str,
    ty: Ty,
    value: &IniValue<'_>,
    span: Span,
) -> Option<Problem> {
    let why = ini_error(source, option, ty, value)?;
    let message = match (ty, value) {
        (Ty::Args | Ty::Paths, IniValue::Str(_)) => {
            format!("pytest splits `{option}` like a shell line (shlex.split) and stops: \"{why}\"")
        }
        _ => format!("pytest stops: \"{why}\""),
    };
    Some(problem(source, span, message))
}

fn ini_error(source: &Source, option: &str, ty: Ty, value: &IniValue<'_>) -> Option<String> {
    let file = file_name(source);
    match (ty, value) {
        (Ty::Args | Ty::Paths, IniValue::Str(s)) => split_args(s).err().map(str::to_string),
        (Ty::Bool, IniValue::Str(s)) => strtobool(s),
        (Ty::Bool, IniValue::List(repr)) => strtobool(repr),
        (Ty::Literal(choices), IniValue::Str(s)) => (!choices.contains(s)).then(|| {
            format!(
                "{file}: config option '{option}' expects one of {}, got {}",
                ty.repr(),
                py_repr(s)
            )
        }),
        (Ty::Literal(_), IniValue::List(repr)) => Some(format!(
            "{file}: config option '{option}' expects a string, got list: {repr}"
        )),
        (Ty::Int, IniValue::Str(s)) => {
            (!py_int(s)).then(|| format!("invalid literal for int() with base 10: {}", py_repr(s)))
        }
        (Ty::Union(members), _) => {
            if members
                .iter()
                .any(|m| ini_error(source, option, *m, value).is_none())
            {
                return None;
            }
            let (type_name, repr) = match value {
                IniValue::Str(s) => ("str", py_repr(s)),
                IniValue::List(repr) => ("list", repr.clone()),
            };
            Some(format!(
                "{file}: config option '{option}' expects one of {}, got {type_name}: {repr}",
                ty.repr()
            ))
        }
        (Ty::Int | Ty::Float, IniValue::List(repr)) => Some(format!(
            "Expected a number string for option {option}, but got: {repr}"
        )),
        _ => None,
    }
}

/// `_strtobool(str(value).strip())`.
fn strtobool(value: &str) -> Option<String> {
    let v = value.trim_matches(iniconfig::py_space);
    let lower = v.to_lowercase();
    let known = [
        "y", "yes", "t", "true", "on", "1", "n", "no", "f", "false", "off", "0",
    ];
    (!known.contains(&lower.as_str())).then(|| format!("invalid truth value {}", py_repr(v)))
}

/// Whether Python's `int()` accepts `s`: blanks around, a sign, decimal
/// digits with single underscores between them.
fn py_int(s: &str) -> bool {
    let s = s.trim_matches(iniconfig::py_space);
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.chars().all(|c| c == '_' || c.is_numeric())
}

/// The first option of `options` that pytest cannot read.
fn check_toml_options(source: &Source, options: &Options<'_>) -> Option<Problem> {
    let table = options.table;
    OPTIONS.iter().find_map(|(option, ty)| {
        if options.skip == Some(*option) {
            return None;
        }
        let (key, item) = table.get_key_value(option)?;
        let span = value_span(Some(key), item);
        if options.toml_mode {
            let why = toml_error(option, *ty, item)?;
            return Some(problem(
                source,
                span,
                format!("pytest stops: \"{}: {why}\"", file_name(source)),
            ));
        }
        // INI mode: lists are kept, anything else becomes `str(value)`.
        let (_, ini_ty) = ini_checked().find(|(name, _)| name == option)?;
        let value = match item.as_value() {
            Some(Value::String(s)) => IniValue::Str(s.value()),
            Some(Value::Array(_)) | None if !item.is_table_like() => {
                IniValue::List(py_value_repr(item))
            }
            _ => {
                let text = py_str(item);
                return check_ini(source, option, *ini_ty, &IniValue::Str(&text), span);
            }
        };
        check_ini(source, option, *ini_ty, &value, span)
    })
}

/// What `_getini_toml` raises for `item` (without the path prefix).
fn toml_error(option: &str, ty: Ty, item: &Item) -> Option<String> {
    let got = || format!("{}: {}", py_type(item), py_value_repr(item));
    match ty {
        Ty::Args | Ty::Linelist | Ty::Paths => {
            let Some(array) = item.as_array() else {
                return Some(format!(
                    "config option '{option}' expects a list for type '{}', got {}",
                    ty.repr(),
                    got()
                ));
            };
            array.iter().enumerate().find_map(|(i, v)| {
                (!v.is_str()).then(|| {
                    let v = Item::Value(v.clone());
                    format!(
                        "config option '{option}' expects a list of strings, but item at index {i} is {}: {}",
                        py_type(&v),
                        py_value_repr(&v)
                    )
                })
            })
        }
        Ty::Bool => (!item.is_bool())
            .then(|| format!("config option '{option}' expects a bool, got {}", got())),
        Ty::Int => (!item.is_integer())
            .then(|| format!("config option '{option}' expects an int, got {}", got())),
        Ty::Float => (!(item.is_float() || item.is_integer()))
            .then(|| format!("config option '{option}' expects a float, got {}", got())),
        Ty::Str => (!item.is_str())
            .then(|| format!("config option '{option}' expects a string, got {}", got())),
        Ty::Literal(choices) => match item.as_str() {
            None => Some(format!(
                "config option '{option}' expects a string, got {}",
                got()
            )),
            Some(s) if !choices.contains(&s) => Some(format!(
                "config option '{option}' expects one of {}, got {}",
                ty.repr(),
                py_repr(s)
            )),
            Some(_) => None,
        },
        Ty::Union(members) => {
            if members
                .iter()
                .any(|m| toml_error(option, *m, item).is_none())
            {
                return None;
            }
            Some(format!(
                "config option '{option}' expects one of {}, got {}",
                ty.repr(),
                got()
            ))
        }
    }
}

/// The Python type name of what tomllib makes of `item`.
fn py_type(item: &Item) -> &'static str {
    match item {
        Item::None => "NoneType",
        Item::Table(_) => "dict",
        Item::ArrayOfTables(_) => "list",
        Item::Value(v) => match v {
            Value::String(_) => "str",
            Value::Integer(_) => "int",
            Value::Float(_) => "float",
            Value::Boolean(_) => "bool",
            Value::Datetime(d) => {
                let d = d.value();
                match (d.date.is_some(), d.time.is_some()) {
                    (true, true) => "datetime",
                    (true, false) => "date",
                    _ => "time",
                }
            }
            Value::Array(_) => "list",
            Value::InlineTable(_) => "dict",
        },
    }
}

/// Longest `repr` written into a message.
const REPR_BUDGET: usize = 200;

/// Python's `repr` of what tomllib makes of `item`, cut short (and bounded
/// in depth: TOML nests without limit).
fn py_value_repr(item: &Item) -> String {
    let mut out = String::new();
    repr_into(item, 0, &mut out);
    if out.len() > REPR_BUDGET {
        let mut cut = REPR_BUDGET;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str("...");
    }
    out
}

fn repr_into(item: &Item, depth: usize, out: &mut String) {
    if out.len() > REPR_BUDGET {
        return;
    }
    if depth > 8 {
        out.push_str("...");
        return;
    }
    let table = |t: &dyn TableLike, out: &mut String| {
        out.push('{');
        for (i, (k, v)) in t.iter().enumerate() {
            if out.len() > REPR_BUDGET {
                break;
            }
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(&py_repr(k));
            out.push_str(": ");
            repr_into(v, depth + 1, out);
        }
        out.push('}');
    };
    match item {
        Item::None => out.push_str("None"),
        Item::Table(t) => table(t, out),
        Item::ArrayOfTables(a) => {
            out.push('[');
            for (i, t) in a.iter().enumerate() {
                if out.len() > REPR_BUDGET {
                    break;
                }
                if i > 0 {
                    out.push_str(", ");
                }
                table(t, out);
            }
            out.push(']');
        }
        Item::Value(v) => match v {
            Value::String(s) => out.push_str(&py_repr(s.value())),
            Value::Array(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if out.len() > REPR_BUDGET {
                        break;
                    }
                    if i > 0 {
                        out.push_str(", ");
                    }
                    repr_into(&Item::Value(v.clone()), depth + 1, out);
                }
                out.push(']');
            }
            Value::InlineTable(t) => table(t, out),
            _ => out.push_str(&py_str(item)),
        },
    }
}

/// Python's `str` of a TOML scalar (`make_scalar` in INI mode); a string is
/// itself, anything else its `repr`.
fn py_str(item: &Item) -> String {
    match item.as_value() {
        Some(Value::String(s)) => s.value().clone(),
        Some(Value::Integer(i)) => i.value().to_string(),
        Some(Value::Float(f)) => py_float(*f.value()),
        Some(Value::Boolean(b)) => if *b.value() { "True" } else { "False" }.to_string(),
        Some(Value::Datetime(d)) => d.value().to_string().replacen('T', " ", 1),
        _ => py_value_repr(item),
    }
}

fn py_float(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { "inf" } else { "-inf" }.into()
    } else if f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

impl PytestConfig {
    fn empty(source: &Source) -> Self {
        PytestConfig {
            source: source.clone(),
            addopts: None,
            args: Vec::new(),
            cov: CovOptions::default(),
            pythonpath: Vec::new(),
            testpaths: Vec::new(),
        }
    }

    fn with_paths(mut self, (entries, testpaths): (Vec<String>, Vec<String>)) -> Self {
        let dir = self.source.path.parent().unwrap_or(Path::new(""));
        self.pythonpath = entries.iter().map(|e| dir.join(e)).collect();
        self.testpaths = testpaths;
        self
    }

    fn new(source: &Source, addopts: Option<Location>, args: Vec<Arg>) -> Self {
        let cov = cov_options(&args);
        PytestConfig {
            source: source.clone(),
            addopts,
            args,
            cov,
            pythonpath: Vec::new(),
            testpaths: Vec::new(),
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
    fn pythonpath_entries_are_relative_to_the_file() {
        for files in [
            &[("pytest.ini", "[pytest]\npythonpath = src 'lib dir'\n")][..],
            &[(
                "pyproject.toml",
                "[tool.pytest.ini_options]\npythonpath = \"src 'lib dir'\"\naddopts = \"-q\"\n",
            )],
            &[(
                "pyproject.toml",
                "[tool.pytest.ini_options]\npythonpath = [\"src\", \"lib dir\"]\n",
            )],
            &[(
                "pytest.toml",
                "[pytest]\npythonpath = [\"src\", \"lib dir\"]\n",
            )],
        ] {
            let c = config(files).unwrap();
            let dir = c.source.path.parent().unwrap().to_path_buf();
            assert_eq!(
                c.pythonpath,
                [dir.join("src"), dir.join("lib dir")],
                "{files:?}"
            );
        }
        let c = config(&[("pytest.ini", "[pytest]\naddopts = -q\n")]).unwrap();
        assert!(c.pythonpath.is_empty());
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

    fn loaded(files: &[(&str, &str)]) -> (Option<PytestConfig>, Vec<Problem>) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        load(
            dir.path(),
            &mut ConfigFiles::new(std::sync::Arc::new(crate::source::Disk)),
        )
    }

    /// The one problem `files` give: where (line and column) and what.
    fn the_problem(files: &[(&str, &str)]) -> (usize, usize, String) {
        let (_, problems) = loaded(files);
        assert_eq!(problems.len(), 1, "{problems:?}");
        let p = &problems[0];
        let loc = p.location.as_ref().expect("located");
        let (line, col) = loc.file.line_col(loc.span.start);
        (line, col, p.message.clone())
    }

    fn no_problem(files: &[(&str, &str)]) -> Option<PytestConfig> {
        let (config, problems) = loaded(files);
        assert!(problems.is_empty(), "{files:?}: {problems:?}");
        config
    }

    #[test]
    fn ini_files_are_read_with_iniconfig() {
        // Case-sensitive names: `ADDOPTS` is no `addopts` (configparser
        // would reject the two as a duplicate).
        let c = no_problem(&[("pytest.ini", "[pytest]\naddopts = --cov\nADDOPTS = -x\n")]).unwrap();
        assert_eq!(args(&c), vec!["--cov"]);
        let c = no_problem(&[("pytest.ini", "[pytest]\nADDOPTS = --cov\n")]).unwrap();
        assert!(c.cov.cov.is_none());
        // A byte order mark is dropped.
        let c = no_problem(&[("pytest.ini", "\u{feff}[pytest]\naddopts = --cov\n")]).unwrap();
        assert!(c.cov.cov.is_some());
        // A repeated [DEFAULT] stops pytest (configparser merges it).
        let (line, _, message) = the_problem(&[(
            "pytest.ini",
            "[DEFAULT]\na = 1\n[DEFAULT]\nb = 2\n[pytest]\n",
        )]);
        assert_eq!(line, 3);
        assert!(
            message.contains("pytest.ini:3: duplicate section 'DEFAULT'"),
            "{message}"
        );
        // An indented first option is a continuation with nothing to continue.
        let (line, col, message) = the_problem(&[("pytest.ini", "[pytest]\n  addopts = -q\n")]);
        assert_eq!((line, col), (2, 3));
        assert!(
            message.contains("unexpected value continuation"),
            "{message}"
        );
        // Near miss: indented after an option, it continues it.
        let c = no_problem(&[("pytest.ini", "[pytest]\naddopts = -q\n  --cov\n")]).unwrap();
        assert_eq!(args(&c), vec!["-q", "--cov"]);
    }

    #[test]
    fn every_candidate_is_loaded_even_after_the_one_taken() {
        // pytest 9.2 loads setup.cfg to warn that it is ignored.
        let (config, problems) = loaded(&[
            ("pytest.ini", "[pytest]\naddopts = --cov\n"),
            ("setup.cfg", "[DEFAULT]\na = 1\n[DEFAULT]\nb = 2\n"),
        ]);
        assert_eq!(name(&config.unwrap()), "pytest.ini");
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0]
                .message
                .contains("setup.cfg:3: duplicate section")
        );
        // A file configparser already rejects is left to its problem.
        let (_, problems) = loaded(&[("tox.ini", "[tox]\nnot a setting\n")]);
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn setup_cfg_pytest_section_is_no_longer_supported() {
        let (line, col, message) = the_problem(&[("setup.cfg", "[pytest]\naddopts = -q\n")]);
        assert_eq!((line, col), (1, 1));
        assert!(
            message.contains("change to [tool:pytest] instead"),
            "{message}"
        );
        // Near misses: [tool:pytest] beside it wins; [pytest] in tox.ini.
        let c = no_problem(&[(
            "setup.cfg",
            "[pytest]\naddopts = -x\n[tool:pytest]\naddopts = --cov\n",
        )])
        .unwrap();
        assert_eq!(args(&c), vec!["--cov"]);
        assert!(no_problem(&[("tox.ini", "[pytest]\naddopts = -q\n")]).is_some());
    }

    #[test]
    fn addopts_is_split_with_shlex() {
        let text = "[pytest]\naddopts = --cov \"oops\n";
        let (line, _, message) = the_problem(&[("pytest.ini", text)]);
        assert_eq!(line, 2);
        assert!(message.contains("No closing quotation"), "{message}");
        let (_, _, message) = the_problem(&[("pytest.ini", "[pytest]\naddopts = -q \\\n")]);
        assert!(message.contains("No escaped character"), "{message}");
        // Also in [tool.pytest.ini_options] and for other `args` options.
        let (line, _, _) = the_problem(&[(
            "pyproject.toml",
            "[tool.pytest.ini_options]\naddopts = \"--cov 'x\"\n",
        )]);
        assert_eq!(line, 2);
        the_problem(&[("tox.ini", "[pytest]\ntestpaths = \"a\n")]);
        // Near miss: closed quotes, and each token located in the file.
        let text = "[pytest]\naddopts =\n    --cov-config=\"a b.ini\"\n    --cov # c\n";
        let c = no_problem(&[("pytest.ini", text)]).unwrap();
        assert_eq!(args(&c), vec!["--cov-config=a b.ini", "--cov", "#", "c"]);
        let (value, loc) = c.cov.cov_config.clone().unwrap();
        assert_eq!(value, "a b.ini");
        assert_eq!(&text[loc.span.range()], "--cov-config=\"a b.ini\"");
        assert_eq!(&text[c.args[1].location.span.range()], "--cov");
        let text = "[tool.pytest.ini_options]\naddopts = \"-q  '--cov=a b'\"\n";
        let c = no_problem(&[("pyproject.toml", text)]).unwrap();
        assert_eq!(&text[c.args[1].location.span.range()], "'--cov=a b'");
    }

    #[test]
    fn toml_mode_options_must_have_their_types() {
        let (line, col, message) = the_problem(&[("pytest.toml", "[pytest]\naddopts = 1\n")]);
        assert_eq!((line, col), (2, 11));
        assert!(
            message.contains("config option 'addopts' expects a list for type 'args', got int: 1"),
            "{message}"
        );
        let (_, _, message) = the_problem(&[("pytest.toml", "[pytest]\naddopts = [\"-q\", 1]\n")]);
        assert!(
            message.contains("but item at index 1 is int: 1"),
            "{message}"
        );
        let (line, _, message) =
            the_problem(&[("pyproject.toml", "[tool.pytest]\ntestpaths = \"tests\"\n")]);
        assert_eq!(line, 2);
        assert!(message.contains("got str: 'tests'"), "{message}");
        let (_, _, message) = the_problem(&[(
            "pytest.toml",
            "[pytest]\nconsole_output_style = \"bogus\"\n",
        )]);
        assert!(
            message.contains("expects one of 'classic' | 'progress'"),
            "{message}"
        );
        let (_, _, message) = the_problem(&[("pytest.toml", "[pytest]\nlog_level = []\n")]);
        assert!(
            message.contains("expects one of int | string, got list: []"),
            "{message}"
        );
        // Near misses: the right types; INI mode splits a string; an option
        // pytest does not read on every run, and one it does not know.
        let c = no_problem(&[(
            "pytest.toml",
            "[pytest]\naddopts = [\"--cov\"]\nlog_level = 10\nconsole_output_style = \"count\"\n",
        )])
        .unwrap();
        assert!(c.cov.cov.is_some());
        no_problem(&[(
            "pyproject.toml",
            "[tool.pytest.ini_options]\ntestpaths = \"tests\"\nlog_cli = true\n",
        )]);
        no_problem(&[("pytest.toml", "[pytest]\njunit_family = 1\nmy_plugin = 2\n")]);
        // A file pytest does not take is not read for its options.
        no_problem(&[
            ("pytest.toml", "[pytest]\n"),
            ("pyproject.toml", "[tool.pytest]\naddopts = 1\n"),
        ]);
    }

    #[test]
    fn ini_mode_values_are_converted_as_pytest_does() {
        let (_, _, message) = the_problem(&[("pytest.ini", "[pytest]\nlog_cli = maybe\n")]);
        assert!(message.contains("invalid truth value 'maybe'"), "{message}");
        let (_, _, message) = the_problem(&[(
            "pyproject.toml",
            "[tool.pytest.ini_options]\nconsole_output_style = [\"a\"]\n",
        )]);
        assert!(
            message.contains("expects a string, got list: ['a']"),
            "{message}"
        );
        the_problem(&[("pytest.ini", "[pytest]\nverbosity_test_cases = x\n")]);
        no_problem(&[(
            "pytest.ini",
            "[pytest]\nlog_cli = Yes\nverbosity_test_cases = auto\nverbosity_subtests = +1_0\n",
        )]);
    }

    #[test]
    fn pytest_tables_must_be_where_and_what_pytest_expects() {
        let (line, col, message) = the_problem(&[("pytest.toml", "addopts = \"-q\"\n")]);
        assert_eq!((line, col), (1, 1));
        assert!(
            message.contains("found top-level options: addopts"),
            "{message}"
        );
        let (line, _, message) =
            the_problem(&[("pyproject.toml", "[tool.pytest]\nini_options = 1\n")]);
        assert_eq!(line, 2);
        assert!(
            message.contains("'int' object has no attribute 'items'"),
            "{message}"
        );
        the_problem(&[("pytest.toml", "pytest = \"x\"\n")]);
        the_problem(&[("pyproject.toml", "tool = 1\n")]);
        the_problem(&[("pyproject.toml", "[tool]\npytest = [1]\n")]);
        let (line, _, message) = the_problem(&[(
            "pyproject.toml",
            "[tool.pytest]\naddopts = [\"-q\"]\n[tool.pytest.ini_options]\nx = 1\n",
        )]);
        assert_eq!(line, 3);
        assert!(message.contains("Cannot use both"), "{message}");
        // Near misses: tables elsewhere; an empty ini_options beside native
        // options (native ones are read); ini_options alone.
        let c = no_problem(&[("pytest.toml", "[tool.x]\ny = 1\n")]).unwrap();
        assert!(c.addopts.is_none());
        let c = no_problem(&[(
            "pyproject.toml",
            "[tool.pytest]\naddopts = [\"--cov\"]\n[tool.pytest.ini_options]\n",
        )])
        .unwrap();
        assert!(c.cov.cov.is_some());
        let c = no_problem(&[(
            "pyproject.toml",
            "[tool.pytest.ini_options]\naddopts = \"--cov\"\n",
        )])
        .unwrap();
        assert!(c.cov.cov.is_some());
    }

    #[test]
    fn shlex_split_is_pythons() {
        let split = |s: &str| -> Vec<String> {
            split_args(s)
                .unwrap()
                .into_iter()
                .map(|(t, _, _)| t)
                .collect()
        };
        assert_eq!(split("a \"b\\$c\" d#e"), vec!["a", "b\\$c", "d#e"]);
        assert_eq!(split("\"\" x"), vec!["", "x"]);
        assert_eq!(split("a\u{b}b 'c\\d'"), vec!["a\u{b}b", "c\\d"]);
        assert_eq!(split("a\\ b"), vec!["a b"]);
        assert_eq!(split_args("'a").unwrap_err(), "No closing quotation");
        assert_eq!(split_args("a\\").unwrap_err(), "No escaped character");
        let tokens = split_args(" x 'y z' ").unwrap();
        assert_eq!((tokens[1].1, tokens[1].2), (3, 8));
    }
}
