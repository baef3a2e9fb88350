//! `--output-format json`: a versioned document for tools.

use serde::Serialize;

use super::{Style, display_path};
use crate::diagnostic::Diagnostic;
use crate::fix::Edit;
use crate::problem::Problem;

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
    /// Why no fix is offered although the rule has one (an input error in
    /// a file it would edit or depends on); `null` otherwise.
    fix_withheld: Option<&'a str>,
    /// Secondary locations that explain the finding.
    related: Vec<JsonRelated>,
    /// The runs of the test suite it holds for; empty for findings about
    /// the project's files alone.
    runs: &'a [String],
}

#[derive(Serialize)]
struct JsonRelated {
    path: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: Option<String>,
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

/// The version of the JSON document. Bumped only when a field changes
/// meaning or disappears; new fields may be added within a version.
pub const JSON_VERSION: u32 = 1;

#[derive(Serialize)]
struct JsonDocument<'a> {
    version: u32,
    tool: JsonTool,
    findings: Vec<JsonFinding<'a>>,
    errors: Vec<JsonError>,
}

#[derive(Serialize)]
struct JsonTool {
    name: &'static str,
    version: &'static str,
}

/// An input problem: a file covdoctor could not read or parse. Position
/// fields are null when the file could not be read at all.
#[derive(Serialize)]
struct JsonError {
    path: String,
    line: Option<usize>,
    column: Option<usize>,
    message: String,
    /// `error` (exit status 2) or `warning` (cannot change a verdict).
    severity: &'static str,
}

/// `--output-format json`: `{"version": 1, "tool": {...}, "findings":
/// [...], "errors": [...]}`. Findings are sorted by path and position.
/// Lines and columns are 1-based; columns count characters; the end is
/// exclusive.
pub fn render_json(results: &super::Results<'_>, style: &Style) -> String {
    let findings = json_findings(results.diagnostics, style);
    let document = JsonDocument {
        version: JSON_VERSION,
        tool: JsonTool {
            name: "covdoctor",
            version: env!("CARGO_PKG_VERSION"),
        },
        findings,
        errors: results
            .problems
            .iter()
            .map(|p| json_error(p, style))
            .collect(),
    };
    let mut out = serde_json::to_string_pretty(&document).expect("serializable");
    out.push('\n');
    out
}

/// `--output-format json-lines`: each finding of the `json` format as one
/// compact JSON object on a line of its own (input problems go to stderr,
/// as in the text formats).
pub fn render_json_lines(diagnostics: &[Diagnostic], style: &Style) -> String {
    let mut out = String::new();
    for finding in json_findings(diagnostics, style) {
        out.push_str(&serde_json::to_string(&finding).expect("serializable"));
        out.push('\n');
    }
    out
}

fn json_findings<'a>(diagnostics: &'a [Diagnostic], style: &Style) -> Vec<JsonFinding<'a>> {
    diagnostics
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
                fix_withheld: d.fix_withheld.as_deref(),
                related: d
                    .labels
                    .iter()
                    .map(|l| {
                        let (line, column) = l.location.file.line_col(l.location.span.start);
                        let (end_line, end_column) = l.location.file.line_col(l.location.span.end);
                        JsonRelated {
                            path: display_path(&l.location.file.path, &style.cwd),
                            line,
                            column,
                            end_line,
                            end_column,
                            message: l.text.clone(),
                        }
                    })
                    .collect(),
                runs: &d.runs,
            }
        })
        .collect()
}

/// One entry of a GitLab code quality report.
#[derive(Serialize)]
struct GitlabIssue {
    description: String,
    check_name: String,
    fingerprint: String,
    severity: &'static str,
    location: GitlabLocation,
}

#[derive(Serialize)]
struct GitlabLocation {
    path: String,
    lines: GitlabLines,
}

#[derive(Serialize)]
struct GitlabLines {
    begin: usize,
    end: usize,
}

/// `--output-format gitlab`: a GitLab code quality report (a JSON array;
/// GitLab shows it on merge requests). Findings are `major` (errors) or
/// `minor` (warnings); input errors are `critical` and input warnings
/// `info`, under `input-error` and `input-warning`. A fingerprint is a
/// hash of the rule, the path, the message and how many identical entries
/// came before, so it stays the same while the finding does.
pub fn render_gitlab(results: &super::Results<'_>, style: &Style) -> String {
    let mut issues: Vec<GitlabIssue> = Vec::new();
    let mut seen: std::collections::HashMap<(String, String, String), usize> = Default::default();
    let mut fingerprint = |check: &str, path: &str, message: &str| {
        let n = seen
            .entry((check.to_string(), path.to_string(), message.to_string()))
            .or_insert(0);
        *n += 1;
        // FxHash has no random seed: the same on every run.
        use std::hash::{Hash, Hasher};
        let mut h = rustc_hash::FxHasher::default();
        (check, path, message, *n).hash(&mut h);
        format!("{:016x}", h.finish())
    };
    for d in results.diagnostics {
        let loc = &d.primary.location;
        let (begin, _) = loc.file.line_col(loc.span.start);
        let (end, _) = loc.file.line_col(loc.span.end);
        let path = display_path(&loc.file.path, &style.cwd);
        issues.push(GitlabIssue {
            fingerprint: fingerprint(d.rule, &path, &d.message),
            description: d.message.clone(),
            check_name: d.rule.to_string(),
            severity: match d.severity {
                crate::diagnostic::Severity::Error => "major",
                crate::diagnostic::Severity::Warning => "minor",
            },
            location: GitlabLocation {
                path,
                lines: GitlabLines { begin, end },
            },
        });
    }
    for p in results.problems {
        let line = p
            .location
            .as_ref()
            .map_or(1, |loc| loc.file.line_col(loc.span.start).0);
        let path = display_path(&p.path, &style.cwd);
        let (check, severity) = match p.severity {
            crate::problem::Severity::Error => ("input-error", "critical"),
            crate::problem::Severity::Warning => ("input-warning", "info"),
        };
        issues.push(GitlabIssue {
            fingerprint: fingerprint(check, &path, &p.message),
            description: p.message.clone(),
            check_name: check.to_string(),
            severity,
            location: GitlabLocation {
                path,
                lines: GitlabLines {
                    begin: line,
                    end: line,
                },
            },
        });
    }
    let mut out = serde_json::to_string_pretty(&issues).expect("serializable");
    out.push('\n');
    out
}

fn json_error(p: &Problem, style: &Style) -> JsonError {
    let (line, column) = match &p.location {
        Some(loc) => {
            let (l, c) = loc.file.line_col(loc.span.start);
            (Some(l), Some(c))
        }
        None => (None, None),
    };
    JsonError {
        path: display_path(&p.path, &style.cwd),
        line,
        column,
        message: p.message.clone(),
        severity: p.severity.as_str(),
    }
}

/// `--statistics --output-format json`: one object per rule, most frequent
/// first.
pub fn render_statistics(diagnostics: &[Diagnostic]) -> String {
    let mut out =
        serde_json::to_string_pretty(&super::rule_counts(diagnostics)).expect("serializable");
    out.push('\n');
    out
}
