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
    let findings: Vec<JsonFinding<'_>> = results
        .diagnostics
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
        .collect();
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
