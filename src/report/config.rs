//! `covdoctor config`: the coverage.py configuration each run reads, every
//! value with where it comes from, and the files that lost.

use serde::Serialize;

use super::{Style, display_path};
use crate::ProjectCoverage;
use crate::config::coverage::{ADDED, CoverageConfig, CoverageFile, RawValue, Role, Selection};
use crate::runs::View;
use crate::source::{Location, Span};

/// One setting as coverage.py reads it.
#[derive(Serialize)]
struct JsonSetting {
    section: String,
    option: String,
    value: String,
    path: String,
    line: usize,
}

/// A file coverage.py considered, and what became of it.
#[derive(Serialize)]
struct JsonCandidate {
    path: String,
    /// Why coverage.py looks at it (`.coveragerc`, `--cov-config`...).
    role: &'static str,
    /// `read` (the file that counts), `skipped` (read, no coverage
    /// setting), `not read` (an earlier file counts), or `not looked for`.
    outcome: &'static str,
    why: String,
}

#[derive(Serialize)]
struct JsonIgnored {
    section: String,
    option: String,
    path: String,
    line: usize,
    why: String,
}

#[derive(Serialize)]
struct JsonRunConfig {
    run: String,
    /// The file coverage.py reads; null for its defaults (or when a file on
    /// the way cannot be read).
    file: Option<String>,
    candidates: Vec<JsonCandidate>,
    settings: Vec<JsonSetting>,
    ignored: Vec<JsonIgnored>,
    pytest_args: Vec<String>,
}

#[derive(Serialize)]
struct JsonProjectConfig {
    root: String,
    runs: Vec<JsonRunConfig>,
}

#[derive(Serialize)]
struct JsonConfig {
    version: u32,
    projects: Vec<JsonProjectConfig>,
}

fn role(role: &Role) -> &'static str {
    match role {
        Role::CovConfigOption(_) => "--cov-config",
        Role::RcfileEnv => "COVERAGE_RCFILE",
        Role::Coveragerc => ".coveragerc",
        Role::CoveragercToml => ".coveragerc.toml",
        Role::SetupCfg => "setup.cfg",
        Role::ToxIni => "tox.ini",
        Role::Pyproject => "pyproject.toml",
    }
}

fn line_of(file: &CoverageFile, span: Span) -> usize {
    file.source.line_col(span.start).0
}

fn value(v: &RawValue) -> String {
    match v {
        RawValue::Ini(s) => s.trim().replace('\n', " "),
        RawValue::Bool(b) => b.to_string(),
        RawValue::Str(s) => format!("{s:?}"),
        RawValue::Int(i) => i.to_string(),
        RawValue::Float(f) => f.to_string(),
        RawValue::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|i| i.as_deref().map_or("?".to_string(), |s| format!("{s:?}")))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        RawValue::Other(s) => s.clone(),
    }
}

fn run_config(
    view: &View,
    config: &CoverageConfig,
    root: &std::path::Path,
    style: &Style,
) -> JsonRunConfig {
    let path = |f: &CoverageFile| display_path(&f.source.path, &style.cwd);
    let selected = match config.selection {
        Selection::File(i) => Some(i),
        _ => None,
    };
    let mut candidates = Vec::new();
    for (i, file) in config.candidates.iter().enumerate() {
        let (outcome, why) = match selected {
            Some(s) if s == i => (
                "read",
                if file.our_file {
                    "coverage.py's own file: it counts as soon as it exists".to_string()
                } else {
                    "the first file that sets a coverage option".to_string()
                },
            ),
            Some(s) if i > s => (
                "not read",
                format!("{} counts first", path(&config.candidates[s])),
            ),
            _ => (
                "skipped",
                "read, but it sets no coverage option, so coverage.py goes on".to_string(),
            ),
        };
        let mut why = why;
        for unread in &file.unread_sections {
            why.push_str(&format!(
                "; its [{}] (line {}) is never read here",
                unread.real_section,
                line_of(file, unread.span)
            ));
        }
        candidates.push(JsonCandidate {
            path: path(file),
            role: role(&file.role),
            outcome,
            why,
        });
    }
    if let Some(file) = &config.too_new {
        candidates.push(JsonCandidate {
            path: path(file),
            role: role(&file.role),
            outcome: "not looked for",
            why: format!(
                "{} looks for .coveragerc.toml from 7.13 on",
                view.versions.coverage.describe("coverage")
            ),
        });
    }
    let effective = config.effective();
    let mut settings = Vec::new();
    let mut ignored = Vec::new();
    if let Some(file) = effective {
        for s in &file.settings {
            let newer = ADDED
                .iter()
                .find(|(sec, opt, _)| *sec == s.section && *opt == s.option)
                .filter(|(_, _, since)| view.versions.coverage.below(since));
            if let Some((_, _, since)) = newer {
                ignored.push(JsonIgnored {
                    section: s.section.clone(),
                    option: s.option.clone(),
                    path: path(file),
                    line: line_of(file, s.key_span),
                    why: format!(
                        "needs coverage.py {}.{}; {}",
                        since[0],
                        since[1],
                        view.versions.coverage.describe("coverage")
                    ),
                });
                continue;
            }
            settings.push(JsonSetting {
                section: s.section.clone(),
                option: s.option.clone(),
                value: value(&s.value),
                path: path(file),
                line: line_of(file, s.key_span),
            });
        }
        for u in &file.unknown {
            ignored.push(JsonIgnored {
                section: u.section.clone(),
                option: u.option.clone(),
                path: path(file),
                line: line_of(file, u.key_span),
                why: "coverage.py does not recognise it".to_string(),
            });
        }
    }
    ignored.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    let pytest_args = view
        .args
        .iter()
        .filter(|a| a.text.starts_with("--cov") || a.text.starts_with("--no-cov") || a.text == "-p")
        .map(|a| format!("{} ({})", a.text, place(&a.location, style)))
        .collect();
    JsonRunConfig {
        run: view.run.describe(root),
        file: effective.map(path),
        candidates,
        settings,
        ignored,
        pytest_args,
    }
}

fn place(location: &Location, style: &Style) -> String {
    let (line, _) = location.file.line_col(location.span.start);
    format!("{}:{line}", display_path(&location.file.path, &style.cwd))
}

fn projects(
    projects: &[ProjectCoverage],
    run: Option<&str>,
    style: &Style,
) -> Vec<JsonProjectConfig> {
    projects
        .iter()
        .map(|p| JsonProjectConfig {
            root: display_path(&p.root, &style.cwd),
            runs: p
                .runs
                .iter()
                .filter(|(v, _)| run.is_none_or(|r| v.run.describe(&p.root).contains(r)))
                .map(|(v, c)| run_config(v, c, &p.root, style))
                .collect(),
        })
        .collect()
}

/// `covdoctor config --output-format json`.
pub fn render_json(all: &[ProjectCoverage], run: Option<&str>, style: &Style) -> String {
    let doc = JsonConfig {
        version: 1,
        projects: projects(all, run, style),
    };
    let mut out = serde_json::to_string_pretty(&doc).expect("serializable");
    out.push('\n');
    out
}

/// `covdoctor config`: per project, per run.
pub fn render_text(all: &[ProjectCoverage], run: Option<&str>, style: &Style) -> String {
    let mut out = String::new();
    for p in projects(all, run, style) {
        out.push_str(&format!(
            "project {}\n",
            if p.root.is_empty() { "." } else { &p.root }
        ));
        for r in &p.runs {
            out.push_str(&format!("\n  {}\n", r.run));
            match &r.file {
                Some(f) => out.push_str(&format!("    coverage.py reads {f}\n")),
                None => out.push_str("    coverage.py reads no file: its defaults\n"),
            }
            for c in &r.candidates {
                // The role only when the file's name does not say it.
                let role = if c.path.ends_with(c.role) {
                    String::new()
                } else {
                    format!(" ({})", c.role)
                };
                out.push_str(&format!(
                    "      {}{role}: {}: {}\n",
                    c.path, c.outcome, c.why
                ));
            }
            if !r.settings.is_empty() {
                out.push_str("    settings\n");
                let width = r
                    .settings
                    .iter()
                    .map(|s| s.section.len() + s.option.len() + s.value.len() + 6)
                    .max()
                    .unwrap_or(0);
                for s in &r.settings {
                    let text = format!("[{}] {} = {}", s.section, s.option, s.value);
                    out.push_str(&format!("      {text:width$}  {}:{}\n", s.path, s.line));
                }
            }
            for i in &r.ignored {
                out.push_str(&format!(
                    "    ignored: [{}] {} ({}:{}): {}\n",
                    i.section, i.option, i.path, i.line, i.why
                ));
            }
            if !r.pytest_args.is_empty() {
                out.push_str(&format!("    pytest: {}\n", r.pytest_args.join(" ")));
            }
        }
        out.push('\n');
    }
    out
}
