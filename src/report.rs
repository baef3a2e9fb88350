//! The last step of the pipeline: turn diagnostics and problems into text.
//! This is the only module that formats output; `main` prints it.

use std::fmt;
use std::path::Path;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, NamedSource, SourceCode,
    SourceSpan, SpanContents,
};
use serde::Serialize;

use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::{Applicability, Change, Edit};
use crate::problem::Problem;
use crate::source::{Location, Source};

/// How to render findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Source snippets with labels and help (miette).
    Full,
    /// Stable JSON for tools.
    Json,
}

/// Rendering options.
pub struct Style {
    pub color: bool,
    pub width: usize,
    /// Paths are shown relative to this directory.
    pub cwd: std::path::PathBuf,
}

/// A path for display: relative to `cwd` when inside it.
pub fn display_path(path: &Path, cwd: &Path) -> String {
    path.strip_prefix(cwd)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// miette reads source through this, without copying the file.
struct Text(Source);

impl SourceCode for Text {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        self.0
            .text
            .read_span(span, context_lines_before, context_lines_after)
    }
}

/// One file's part of a diagnostic, as miette renders it.
struct Report {
    message: String,
    code: Option<String>,
    severity: miette::Severity,
    help: Option<String>,
    source: Option<NamedSource<Text>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report>,
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code
            .as_ref()
            .map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|r| r as &dyn miette::Diagnostic),
        ))
    }
}

fn labeled(location: &Location, text: Option<&str>, primary: bool) -> LabeledSpan {
    let span = SourceSpan::new(location.span.start.into(), location.span.len());
    let text = text.map(str::to_string);
    if primary {
        LabeledSpan::new_primary_with_span(text, span)
    } else {
        LabeledSpan::new_with_span(text, span)
    }
}

fn source_name(source: &Source, style: &Style) -> String {
    display_path(&source.path, &style.cwd)
}

fn named(text: &Source, style: &Style) -> NamedSource<Text> {
    NamedSource::new(source_name(text, style), Text(text.clone()))
}

fn report_of(d: &Diagnostic, style: &Style) -> Report {
    let primary_file = &d.primary.location.file;
    let source = named(primary_file, style);
    let mut labels = vec![labeled(
        &d.primary.location,
        d.primary.text.as_deref(),
        true,
    )];
    // Labels in other files become related reports, one per file, in the
    // order they first appear.
    let mut others: Vec<(Source, Vec<LabeledSpan>)> = Vec::new();
    for l in &d.labels {
        if l.location.file.path == primary_file.path {
            labels.push(labeled(&l.location, l.text.as_deref(), false));
            continue;
        }
        match others
            .iter_mut()
            .find(|(s, _)| s.path == l.location.file.path)
        {
            Some((_, v)) => v.push(labeled(&l.location, l.text.as_deref(), false)),
            None => others.push((
                l.location.file.clone(),
                vec![labeled(&l.location, l.text.as_deref(), false)],
            )),
        }
    }
    let related = others
        .into_iter()
        .map(|(file, labels)| {
            let name = source_name(&file, style);
            Report {
                message: format!("related code in {name}"),
                code: None,
                severity: miette::Severity::Advice,
                help: None,
                source: Some(named(&file, style)),
                labels,
                related: Vec::new(),
            }
        })
        .collect();
    Report {
        message: d.message.clone(),
        code: Some(d.rule.to_string()),
        severity: match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        },
        help: Some({
            let mut help = d.help.clone().map(|h| format!("{h}\n")).unwrap_or_default();
            if let Some(fix) = &d.fix {
                let flag = match fix.applicability {
                    Applicability::Safe => "--fix",
                    Applicability::Unsafe => "--fix --unsafe-fixes",
                };
                help.push_str(&format!(
                    "fix ({}, {flag}): {}\n",
                    fix.applicability.as_str(),
                    fix.title
                ));
            }
            help.push_str(&format!("more: covdoctor rule {}", d.rule));
            help
        }),
        source: Some(source),
        labels,
        related,
    }
}

fn handler(style: &Style) -> GraphicalReportHandler {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false)
        .with_urls(false)
        .with_context_lines(1)
        .with_show_related_as_nested(true)
}

/// The human-readable rendering of findings.
pub fn render_full(diagnostics: &[Diagnostic], style: &Style) -> String {
    let handler = handler(style);
    let mut out = String::new();
    for d in diagnostics {
        let report = report_of(d, style);
        let mut text = String::new();
        if handler.render_report(&mut text, &report).is_err() {
            text = format!("{}: {}\n", d.rule, d.message);
        }
        out.push_str(&text);
        out.push('\n');
    }
    out
}

/// The human-readable rendering of input problems.
pub fn render_problems(problems: &[Problem], style: &Style) -> String {
    let handler = handler(style);
    let mut out = String::new();
    for p in problems {
        let report = match &p.location {
            Some(loc) => {
                let source = named(&loc.file, style);
                Report {
                    message: p.message.clone(),
                    code: Some("input-error".into()),
                    severity: miette::Severity::Error,
                    help: Some(
                        "covdoctor checked the rest of the project; fix this file and run it again"
                            .into(),
                    ),
                    source: Some(source),
                    labels: vec![labeled(loc, Some("here"), true)],
                    related: Vec::new(),
                }
            }
            None => Report {
                message: format!("{}: {}", display_path(&p.path, &style.cwd), p.message),
                code: Some("input-error".into()),
                severity: miette::Severity::Error,
                help: None,
                source: None,
                labels: Vec::new(),
                related: Vec::new(),
            },
        };
        let mut text = String::new();
        if handler.render_report(&mut text, &report).is_err() {
            text = format!("error: {}\n", p.message);
        }
        out.push_str(&text);
        out.push('\n');
    }
    out
}

/// One finding in `--output-format json`. The field set is stable.
#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    severity: &'a str,
    path: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
    fix: Option<JsonFix>,
}

#[derive(Serialize)]
struct JsonFix {
    applicability: &'static str,
    message: String,
    edits: Vec<JsonEdit>,
}

/// A replacement (`content`, from `line:column` to `end_line:end_column`)
/// or a deletion of the whole file (`delete: true`).
#[derive(Serialize)]
struct JsonEdit {
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    delete: bool,
}

fn json_fix(d: &Diagnostic, style: &Style) -> Option<JsonFix> {
    let fix = d.fix.as_ref()?;
    let edits = fix
        .edits
        .iter()
        .map(|e| match e {
            Edit::Replace {
                path,
                range,
                content,
            } => {
                // Positions in the file as it is now (a new file is empty).
                let file = std::fs::read_to_string(path).unwrap_or_default();
                let file = crate::source::SourceFile::new(path.clone(), file);
                let (line, column) = file.line_col(range.start);
                let (end_line, end_column) = file.line_col(range.end);
                JsonEdit {
                    path: display_path(path, &style.cwd),
                    line: Some(line),
                    column: Some(column),
                    end_line: Some(end_line),
                    end_column: Some(end_column),
                    content: Some(content.clone()),
                    delete: false,
                }
            }
            Edit::Delete { path } => JsonEdit {
                path: display_path(path, &style.cwd),
                line: None,
                column: None,
                end_line: None,
                end_column: None,
                content: None,
                delete: true,
            },
        })
        .collect();
    Some(JsonFix {
        applicability: fix.applicability.as_str(),
        message: fix.title.clone(),
        edits,
    })
}

/// `--output-format json`: an array of findings, sorted by path and
/// position. Lines and columns are 1-based; columns count characters; the
/// end is exclusive.
pub fn render_json(diagnostics: &[Diagnostic], style: &Style) -> String {
    let findings: Vec<JsonFinding<'_>> = diagnostics
        .iter()
        .map(|d| {
            let loc = &d.primary.location;
            let (line, column) = loc.file.line_col(loc.span.start);
            let (end_line, end_column) = loc.file.line_col(loc.span.end);
            JsonFinding {
                rule: d.rule,
                severity: d.severity.as_str(),
                path: display_path(&loc.file.path, &style.cwd),
                line,
                column,
                end_line,
                end_column,
                message: &d.message,
                fix: json_fix(d, style),
            }
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&findings).expect("serializable");
    out.push('\n');
    out
}

/// The last line of a check: findings, how many have fixes, input errors.
pub fn summary(diagnostics: &[Diagnostic], problems: usize) -> String {
    let findings = diagnostics.len();
    let mut parts = Vec::new();
    parts.push(match findings {
        0 => "no findings".to_string(),
        1 => "1 finding".to_string(),
        n => format!("{n} findings"),
    });
    let safe = diagnostics
        .iter()
        .filter(|d| {
            d.fix
                .as_ref()
                .is_some_and(|f| f.applicability == Applicability::Safe)
        })
        .count();
    let unsafe_ = diagnostics
        .iter()
        .filter(|d| {
            d.fix
                .as_ref()
                .is_some_and(|f| f.applicability == Applicability::Unsafe)
        })
        .count();
    if safe > 0 {
        parts.push(format!("{safe} fixable with --fix"));
    }
    if unsafe_ > 0 {
        parts.push(format!("{unsafe_} more with --unsafe-fixes"));
    }
    if problems > 0 {
        parts.push(match problems {
            1 => "1 input error".to_string(),
            n => format!("{n} input errors"),
        });
    }
    format!("covdoctor: {}", parts.join(", "))
}

/// The last line of a `--fix` run.
pub fn fix_summary(fixed: usize, remaining: usize, problems: usize) -> String {
    let mut line = format!("covdoctor: {fixed} fixed, {remaining} remaining");
    if problems > 0 {
        line.push_str(&format!(
            ", {problems} input error{}",
            if problems == 1 { "" } else { "s" }
        ));
    }
    line
}

/// `--show-fixes`: one line per fixed finding.
pub fn render_fixed(fixed: &[(Diagnostic, String)], style: &Style) -> String {
    let mut out = String::new();
    for (d, title) in fixed {
        let loc = &d.primary.location;
        let (line, column) = loc.file.line_col(loc.span.start);
        out.push_str(&format!(
            "fixed {}:{line}:{column}: {} ({title})\n",
            display_path(&loc.file.path, &style.cwd),
            d.rule
        ));
    }
    out
}

/// `--diff`: a unified diff per changed file (`/dev/null` for created and
/// deleted files).
pub fn render_diff(
    changes: &std::collections::BTreeMap<std::path::PathBuf, Change>,
    style: &Style,
) -> String {
    let mut out = String::new();
    for (path, change) in changes {
        let name = display_path(path, &style.cwd);
        let text = |b: &Option<Vec<u8>>| {
            b.as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        let (before, after) = (text(&change.before), text(&change.after));
        let old = if change.before.is_some() {
            format!("a/{name}")
        } else {
            "/dev/null".to_string()
        };
        let new = if change.after.is_some() {
            format!("b/{name}")
        } else {
            "/dev/null".to_string()
        };
        let diff = similar::TextDiff::from_lines(&before, &after);
        let text = diff
            .unified_diff()
            .context_radius(3)
            .header(&old, &new)
            .to_string();
        if text.is_empty() {
            // An empty file created or deleted: only the header says so.
            out.push_str(&format!("--- {old}\n+++ {new}\n"));
            continue;
        }
        out.push_str(&text);
        if !text.ends_with('\n') {
            out.push_str("\n\\ No newline at end of file\n");
        }
    }
    out
}
