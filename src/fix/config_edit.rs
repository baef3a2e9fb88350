//! Edits to configuration files that keep every byte they do not mean to
//! change: a key added after the last key of its table or section, a value
//! replaced in place, an argument appended inside `addopts`. Files are
//! parsed (TOML with `toml_edit`, INI with covdoctor's configparser reader)
//! to find where things are; the edits are made on the text, in the file's
//! own line endings and style (dotted keys, inline tables, `coverage:`
//! section prefixes, quote styles).

use std::path::Path;

use crate::config::coverage::{CoverageFile, Format};
use crate::config::ini;
use crate::config::pytest::PytestConfig;
use crate::config::toml as tomlx;
use crate::source::{SourceFile, Span};

use super::Edit;

/// A value to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Bool(bool),
    List(Vec<String>),
}

impl Value {
    fn toml(&self) -> String {
        match self {
            Value::Bool(b) => b.to_string(),
            Value::List(items) => {
                let items: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
                format!("[{}]", items.join(", "))
            }
        }
    }

    fn ini(&self) -> String {
        match self {
            Value::Bool(b) => b.to_string(),
            Value::List(items) => items.join(", "),
        }
    }
}

/// The file's line ending.
pub fn newline(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

/// The offset just after the line that contains `offset` (after its line
/// break), or the end of the text.
fn after_line(text: &str, offset: usize) -> usize {
    match text[offset..].find('\n') {
        Some(i) => offset + i + 1,
        None => text.len(),
    }
}

/// Text to insert at `at` so that `line` becomes a line of its own.
fn as_line(text: &str, at: usize, line: &str) -> String {
    let nl = newline(text);
    if at == text.len() && !text.is_empty() && !text.ends_with('\n') {
        format!("{nl}{line}{nl}")
    } else {
        format!("{line}{nl}")
    }
}

/// Text appending a new section or table at the end of the file, separated
/// by a blank line.
fn appended_block(text: &str, lines: &[String]) -> String {
    let nl = newline(text);
    let mut out = String::new();
    if !text.is_empty() {
        if !text.ends_with('\n') {
            out.push_str(nl);
        }
        if !text.ends_with(&format!("{nl}{nl}")) && text.trim_end() != "" {
            out.push_str(nl);
        }
    }
    for l in lines {
        out.push_str(l);
        out.push_str(nl);
    }
    out
}

/// Sets `[section] key = value` in a coverage configuration file, in the
/// section coverage.py reads there (or a new one).
pub fn set_coverage_option(
    file: &CoverageFile,
    section: &str,
    key: &str,
    value: &Value,
) -> Option<Edit> {
    let source = &file.source;
    // Lines are found by `\n` here: no edit in a file of lone `\r`s.
    if source.has_lone_cr() {
        return None;
    }
    // A bare `[run]` that coverage does not read is config-shadowed's to
    // rename; adding a second `[coverage:run]` beside it would clash with
    // that fix (two sections of one name).
    if file.format == Format::Ini
        && !file.sections.iter().any(|s| s.section == section)
        && file.unread_sections.iter().any(|s| s.section == section)
    {
        return None;
    }
    match file.format {
        Format::Ini => {
            let prefix = if file.our_file {
                // Follow the file's own habit.
                if file
                    .sections
                    .iter()
                    .any(|s| s.real_section.starts_with("coverage:"))
                {
                    "coverage:"
                } else {
                    ""
                }
            } else {
                "coverage:"
            };
            let real = file
                .sections
                .iter()
                .find(|s| s.section == section)
                .map(|s| s.real_section.clone())
                .unwrap_or_else(|| format!("{prefix}{section}"));
            ini_set(source, &real, key, &value.ini())
        }
        Format::Toml => {
            let real = file
                .sections
                .iter()
                .find(|s| s.section == section)
                .map(|s| s.real_section.clone());
            toml_set(source, real.as_deref(), section, key, &value.toml())
        }
    }
}

/// Adds `item` to the list option `[section] key` (creating the option), in
/// the file's syntax: a new element of a TOML array, or `, item` after an
/// INI value. `None` when the value is not a list coverage.py can read.
pub fn add_to_list(file: &CoverageFile, section: &str, key: &str, item: &str) -> Option<Edit> {
    let Some(setting) = file.get(section, key) else {
        return set_coverage_option(file, section, key, &Value::List(vec![item.to_string()]));
    };
    let source = &file.source;
    match file.format {
        Format::Ini if setting.value_span.is_empty() => Some(Edit::insert(
            &source.path,
            setting.value_span.start,
            format!(" {item}"),
        )),
        Format::Ini => Some(Edit::insert(
            &source.path,
            setting.value_span.end,
            format!(", {item}"),
        )),
        Format::Toml => {
            let doc = tomlx::parse(&source.text).ok()?;
            let parts: Vec<&str> = setting.real_section.split('.').collect();
            let array = tomlx::table_at(&doc, &parts)?
                .as_table_like()?
                .get(key)?
                .as_array()?;
            match array.iter().last().and_then(|v| v.span()) {
                Some(last) => Some(Edit::insert(
                    &source.path,
                    last.end,
                    format!(", \"{item}\""),
                )),
                None => Some(Edit::insert(
                    &source.path,
                    setting.value_span.start + 1,
                    format!("\"{item}\""),
                )),
            }
        }
    }
}

/// Creates the file that will hold a setting when no coverage
/// configuration exists: `[tool.coverage.run]` in pyproject.toml when there
/// is one, else a new `.coveragerc`.
pub fn new_coverage_option(
    root: &Path,
    pyproject: Option<&SourceFile>,
    section: &str,
    key: &str,
    value: &Value,
) -> Edit {
    match pyproject {
        Some(source) => {
            let text = &source.text;
            let block = appended_block(
                text,
                &[
                    format!("[tool.coverage.{section}]"),
                    format!("{key} = {}", value.toml()),
                ],
            );
            Edit::insert(&source.path, text.len(), block)
        }
        None => Edit::insert(
            &root.join(".coveragerc"),
            0,
            format!("[{section}]\n{key} = {}\n", value.ini()),
        ),
    }
}

/// Sets a key in an INI section (added at the end of the file if missing).
pub fn ini_set(source: &SourceFile, section: &str, key: &str, value: &str) -> Option<Edit> {
    let text = &source.text;
    let parsed = ini::parse(text).ok()?;
    match parsed.section(section) {
        Some(s) => match s.get(key) {
            Some(entry) if entry.value_span.is_empty() => Some(Edit::replace(
                &source.path,
                entry.value_span,
                format!(" {value}"),
            )),
            Some(entry) => Some(Edit::replace(&source.path, entry.value_span, value)),
            None => {
                let at = after_line(text, s.end);
                Some(Edit::insert(
                    &source.path,
                    at,
                    as_line(text, at, &format!("{key} = {value}")),
                ))
            }
        },
        None => Some(Edit::insert(
            &source.path,
            text.len(),
            appended_block(text, &[format!("[{section}]"), format!("{key} = {value}")]),
        )),
    }
}

/// Sets a key in a TOML table `real` (`tool.coverage.run`), whatever form
/// the table is written in; creates `[tool.coverage.<section>]` if needed.
fn toml_set(
    source: &SourceFile,
    real: Option<&str>,
    section: &str,
    key: &str,
    value: &str,
) -> Option<Edit> {
    let text = &source.text;
    let doc = tomlx::parse(text).ok()?;
    let path = source.path.as_path();
    if let Some(real) = real {
        let parts: Vec<&str> = real.split('.').collect();
        let item = tomlx::table_at(&doc, &parts)?;
        let table = item.as_table_like()?;
        // The key exists: replace its value.
        if let Some((_, existing)) = table.get_key_value(key) {
            let span = tomlx::item_span(existing)?;
            return Some(Edit::replace(path, span, value));
        }
        // An inline table: add before the closing brace.
        if let Some(inline) = item.as_inline_table() {
            let span = Span::from(inline.span()?);
            let close = span.end - 1;
            let sep = if inline.is_empty() { " " } else { ", " };
            let before = text[..close].trim_end().len();
            return Some(Edit::insert(path, before, format!("{sep}{key} = {value}")));
        }
        // Keys in the table: add a line after the last one, with the same
        // dotted prefix (`run.` under `[tool.coverage]`).
        let last = table
            .iter()
            .filter_map(|(k, _)| table.get_key_value(k))
            .filter_map(|(k, v)| Some((k.span()?, tomlx::item_span(v)?)))
            .max_by_key(|(_, v)| v.end);
        if let Some((key_span, value_span)) = last {
            let line_start = text[..key_span.start].rfind('\n').map_or(0, |i| i + 1);
            let indent_and_prefix = &text[line_start..key_span.start];
            let at = after_line(text, value_span.end);
            return Some(Edit::insert(
                path,
                at,
                as_line(text, at, &format!("{indent_and_prefix}{key} = {value}")),
            ));
        }
        // An empty table with a header: right after the header.
        if let Some(t) = item.as_table()
            && let Some(header) = t.span()
        {
            let at = after_line(text, header.end);
            return Some(Edit::insert(
                path,
                at,
                as_line(text, at, &format!("{key} = {value}")),
            ));
        }
        return None;
    }
    // No table for this section: after the last `[tool.coverage.*]` table's
    // content, or at the end of the file.
    let coverage = tomlx::table_at(&doc, &["tool", "coverage"]);
    let dotted_under_coverage = coverage.and_then(|c| c.as_table()).is_some_and(|t| {
        t.span().is_some()
            && t.iter()
                .any(|(_, v)| v.as_table().is_some_and(|s| s.is_dotted()))
    });
    if dotted_under_coverage {
        // `[tool.coverage]` with `report.x = ...` keys: add `run.key = value`.
        let table = coverage?.as_table()?;
        let end = table
            .iter()
            .filter_map(|(_, v)| last_value_end(v))
            .max()
            .or_else(|| table.span().map(|s| s.end))?;
        let at = after_line(text, end);
        return Some(Edit::insert(
            path,
            at,
            as_line(text, at, &format!("{section}.{key} = {value}")),
        ));
    }
    let end_of_coverage = coverage.and_then(last_value_end);
    let lines = [
        format!("[tool.coverage.{section}]"),
        format!("{key} = {value}"),
    ];
    match end_of_coverage {
        Some(end) => {
            let at = after_line(text, end);
            let nl = newline(text);
            let mut block = String::new();
            if at == text.len() && !text.ends_with('\n') {
                block.push_str(nl);
            }
            block.push_str(nl);
            for l in &lines {
                block.push_str(l);
                block.push_str(nl);
            }
            Some(Edit::insert(path, at, block))
        }
        None => Some(Edit::insert(path, text.len(), appended_block(text, &lines))),
    }
}

/// The end of the last value written inside an item (a table and its
/// sub-tables), for placing what comes after it.
fn last_value_end(item: &toml_edit::Item) -> Option<usize> {
    let table = item.as_table_like()?;
    table
        .iter()
        .filter_map(|(_, v)| {
            if v.is_table_like() && v.as_inline_table().is_none() {
                last_value_end(v)
            } else {
                tomlx::item_span(v).map(|s| s.end)
            }
        })
        .max()
}

/// Adds an argument to the `addopts` of the file pytest reads (creating
/// `addopts` if there is none).
/// Inserts `arg` right after the argument at `at` on a command line: a
/// word of a shell-like line (tox.ini `commands`, a workflow `run:`, a
/// Makefile recipe), or a string of a TOML command array.
pub fn after_arg(at: &crate::source::Location, arg: &str) -> Option<Edit> {
    let text = &at.file.text;
    let span = at.span;
    // A file read lossily (a Makefile with a Latin-1 byte) is not the text
    // on disk: it is never edited.
    if span.is_empty() || span.end > text.len() || at.file.lossy {
        return None;
    }
    let raw = &text[span.range()];
    let name = at.file.path.to_string_lossy().into_owned();
    // In a TOML array or a Python call (a nox session's `session.run`),
    // the word is a string literal: the new one is another.
    let content = if name.ends_with(".toml") || name.ends_with(".py") {
        if !raw.starts_with(['"', '\'']) || raw.len() < 2 || !raw.ends_with(&raw[..1]) {
            return None;
        }
        format!(", \"{arg}\"")
    } else {
        format!(" {arg}")
    };
    Some(Edit::insert(&at.file.path, span.end, content))
}

pub fn add_addopt(pytest: &PytestConfig, arg: &str) -> Option<Edit> {
    let source = &pytest.source;
    // Lines are found by `\n` here: no edit in a file of lone `\r`s.
    if source.has_lone_cr() {
        return None;
    }
    let text = &source.text;
    let name = source.path.file_name()?.to_string_lossy().into_owned();
    let path = source.path.as_path();
    if name.ends_with(".toml") {
        let doc = tomlx::parse(text).ok()?;
        let table_path: &[&str] = if name == "pyproject.toml" {
            if tomlx::table_at(&doc, &["tool", "pytest", "ini_options"]).is_some() {
                &["tool", "pytest", "ini_options"]
            } else {
                &["tool", "pytest"]
            }
        } else {
            &["pytest"]
        };
        let item = tomlx::table_at(&doc, table_path)?;
        let table = item.as_table_like()?;
        match table.get("addopts") {
            Some(value) if value.as_str().is_some() => {
                // Inside the string, before its closing quote.
                let span = tomlx::item_span(value)?;
                let raw = &text[span.range()];
                let close = if raw.ends_with("\"\"\"") || raw.ends_with("'''") {
                    3
                } else {
                    1
                };
                Some(Edit::insert(path, span.end - close, format!(" {arg}")))
            }
            Some(value) => {
                let array = value.as_array()?;
                let span = tomlx::item_span(value)?;
                match array.iter().last().and_then(|v| v.span()) {
                    Some(last) => {
                        let multiline = text[span.range()].contains('\n');
                        let insertion = if multiline {
                            let line_start = text[..last.start].rfind('\n').map_or(0, |i| i + 1);
                            let indent = &text[line_start..last.start];
                            format!(",{}{indent}\"{arg}\"", newline(text))
                        } else {
                            format!(", \"{arg}\"")
                        };
                        Some(Edit::insert(path, last.end, insertion))
                    }
                    None => Some(Edit::insert(path, span.start + 1, format!("\"{arg}\""))),
                }
            }
            None => {
                let line = if table_path == ["tool", "pytest"] || table_path == ["pytest"] {
                    format!("addopts = [\"{arg}\"]")
                } else {
                    format!("addopts = \"{arg}\"")
                };
                let end = table
                    .iter()
                    .filter_map(|(_, v)| tomlx::item_span(v).map(|s| s.end))
                    .max()
                    .or_else(|| item.as_table()?.span().map(|s| s.end))?;
                let at = after_line(text, end);
                Some(Edit::insert(path, at, as_line(text, at, &line)))
            }
        }
    } else {
        let section = if name == "setup.cfg" {
            "tool:pytest"
        } else {
            "pytest"
        };
        let parsed = ini::parse(text).ok()?;
        match parsed.section(section)?.get("addopts") {
            Some(entry) => {
                let value = &text[entry.value_span.range()];
                if value.contains('\n') {
                    let last_line_start = text[..entry.value_span.end]
                        .rfind('\n')
                        .map_or(0, |i| i + 1);
                    let indent: String = text[last_line_start..]
                        .chars()
                        .take_while(|c| *c == ' ' || *c == '\t')
                        .collect();
                    Some(Edit::insert(
                        path,
                        entry.value_span.end,
                        format!("{}{indent}{arg}", newline(text)),
                    ))
                } else {
                    Some(Edit::insert(path, entry.value_span.end, format!(" {arg}")))
                }
            }
            None => ini_set(source, section, "addopts", arg),
        }
    }
}

/// Renames an INI section header (`[run]` to `[coverage:run]`).
pub fn rename_section(source: &SourceFile, header: Span, name: &str) -> Edit {
    Edit::replace(&source.path, header, format!("[{name}]"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::coverage::{CoverageConfig, Lookup};
    use crate::config::{ConfigFiles, pytest};
    use std::sync::Arc;

    fn apply(text: &str, edit: Edit) -> String {
        match edit {
            Edit::Replace { range, content, .. } => {
                let mut out = text.to_string();
                out.replace_range(range.range(), &content);
                out
            }
            Edit::Delete { .. } => panic!("no deletes here"),
        }
    }

    /// Sets `[run] sigterm = true` in the file coverage reads from `name`.
    fn set_sigterm(name: &str, text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(name), text).unwrap();
        let mut files = ConfigFiles::new(Arc::new(crate::source::Disk));
        let lookup = Lookup {
            root: dir.path(),
            cov_config: None,
            rcfile_env: None,
            reads_coveragerc_toml: true,
        };
        let config = CoverageConfig::discover(&lookup, &mut files, &mut Vec::new());
        let file = config
            .candidates
            .iter()
            .find(|f| f.source.path.ends_with(name))
            .expect("candidate");
        let edit =
            set_coverage_option(file, "run", "sigterm", &Value::Bool(true)).expect("an edit");
        let out = apply(text, edit);
        crate::fix::still_parses(Path::new(name), &out).unwrap();
        out
    }

    #[test]
    fn toml_forms() {
        // After the table's last key, keeping comments.
        assert_eq!(
            set_sigterm(
                "pyproject.toml",
                "[tool.coverage.run]\nbranch = true  # b\n\n[tool.x]\ny = 1\n"
            ),
            "[tool.coverage.run]\nbranch = true  # b\nsigterm = true\n\n[tool.x]\ny = 1\n"
        );
        // An existing value is replaced in place.
        assert_eq!(
            set_sigterm(
                "pyproject.toml",
                "[tool.coverage.run]\nsigterm = false # no\n"
            ),
            "[tool.coverage.run]\nsigterm = true # no\n"
        );
        // Dotted keys keep their style.
        assert_eq!(
            set_sigterm(
                "pyproject.toml",
                "[tool.coverage]\nrun.branch = true\nreport.show_missing = true\n"
            ),
            "[tool.coverage]\nrun.branch = true\nrun.sigterm = true\nreport.show_missing = true\n"
        );
        assert_eq!(
            set_sigterm(
                "pyproject.toml",
                "[tool.coverage]\nreport.show_missing = true\n"
            ),
            "[tool.coverage]\nreport.show_missing = true\nrun.sigterm = true\n"
        );
        // Inline tables.
        assert_eq!(
            set_sigterm(
                "pyproject.toml",
                "[tool.coverage]\nrun = { branch = true }\n"
            ),
            "[tool.coverage]\nrun = { branch = true, sigterm = true }\n"
        );
        // A new table after the last coverage table, before other tables.
        assert_eq!(
            set_sigterm(
                "pyproject.toml",
                "[tool.coverage.report]\nshow_missing = true\n\n[tool.ruff]\nline-length = 99\n"
            ),
            "[tool.coverage.report]\nshow_missing = true\n\n[tool.coverage.run]\nsigterm = true\n\n[tool.ruff]\nline-length = 99\n"
        );
        // An empty table with its header.
        assert_eq!(
            set_sigterm(".coveragerc.toml", "[tool.coverage.run]\n"),
            "[tool.coverage.run]\nsigterm = true\n"
        );
    }

    #[test]
    fn ini_forms() {
        assert_eq!(
            set_sigterm(
                ".coveragerc",
                "[run]\nomit =\n    a.py\n    b.py\n\n[report]\nshow_missing = 1\n"
            ),
            "[run]\nomit =\n    a.py\n    b.py\nsigterm = true\n\n[report]\nshow_missing = 1\n"
        );
        assert_eq!(
            set_sigterm("setup.cfg", "[coverage:report]\nshow_missing = 1\n"),
            "[coverage:report]\nshow_missing = 1\n\n[coverage:run]\nsigterm = true\n"
        );
        assert_eq!(
            set_sigterm(".coveragerc", "[coverage:report]\nshow_missing = 1"),
            "[coverage:report]\nshow_missing = 1\n\n[coverage:run]\nsigterm = true\n"
        );
        assert_eq!(
            set_sigterm(".coveragerc", "[run]\nSIGTERM = no\n"),
            "[run]\nSIGTERM = true\n"
        );
        assert_eq!(
            set_sigterm("tox.ini", "[coverage:run]\nsigterm =\n"),
            "[coverage:run]\nsigterm = true\n"
        );
    }

    fn add_cov_config(name: &str, text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(name), text).unwrap();
        let mut files = ConfigFiles::new(Arc::new(crate::source::Disk));
        let config = pytest::discover(dir.path(), &mut files).expect("pytest config");
        let out = apply(
            text,
            add_addopt(&config, "--cov-config=x.toml").expect("an edit"),
        );
        crate::fix::still_parses(Path::new(name), &out).unwrap();
        out
    }

    #[test]
    fn addopts_forms() {
        assert_eq!(
            add_cov_config(
                "pyproject.toml",
                "[tool.pytest.ini_options]\naddopts = '--cov'\n"
            ),
            "[tool.pytest.ini_options]\naddopts = '--cov --cov-config=x.toml'\n"
        );
        assert_eq!(
            add_cov_config(
                "pyproject.toml",
                "[tool.pytest.ini_options]\naddopts = \"\"\"\n--cov\n\"\"\"\n"
            ),
            "[tool.pytest.ini_options]\naddopts = \"\"\"\n--cov\n --cov-config=x.toml\"\"\"\n"
        );
        assert_eq!(
            add_cov_config(
                "pyproject.toml",
                "[tool.pytest.ini_options]\naddopts = []\n"
            ),
            "[tool.pytest.ini_options]\naddopts = [\"--cov-config=x.toml\"]\n"
        );
        assert_eq!(
            add_cov_config(
                "pyproject.toml",
                "[tool.pytest.ini_options]\ntestpaths = [\"tests\"]\n"
            ),
            "[tool.pytest.ini_options]\ntestpaths = [\"tests\"]\naddopts = \"--cov-config=x.toml\"\n"
        );
        assert_eq!(
            add_cov_config("pytest.toml", "[pytest]\naddopts = [\n  \"--cov\",\n]\n"),
            "[pytest]\naddopts = [\n  \"--cov\",\n  \"--cov-config=x.toml\",\n]\n"
        );
        assert_eq!(
            add_cov_config("pytest.ini", "[pytest]\naddopts = --cov -ra\n"),
            "[pytest]\naddopts = --cov -ra --cov-config=x.toml\n"
        );
        assert_eq!(
            add_cov_config(
                "tox.ini",
                "[tox]\nenv_list = py\n\n[pytest]\nmarkers = slow\n"
            ),
            "[tox]\nenv_list = py\n\n[pytest]\nmarkers = slow\naddopts = --cov-config=x.toml\n"
        );
    }
}
