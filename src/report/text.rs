//! The line-oriented formats: `concise` (one line per finding, the
//! `path:line:col:` shape editors and `grep` understand) and `github`
//! (workflow commands that GitHub Actions turns into annotations).

use super::{Results, Style, display_path};
use crate::diagnostic::{Diagnostic, Severity};
use crate::problem::Problem;

/// Where a finding starts and ends, 1-based, end exclusive.
struct Position {
    path: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

fn position(d: &Diagnostic, style: &Style) -> Position {
    let loc = &d.primary.location;
    let (line, column) = loc.file.line_col(loc.span.start);
    let (end_line, end_column) = loc.file.line_col(loc.span.end);
    Position {
        path: display_path(&loc.file.path, &style.cwd),
        line,
        column,
        end_line,
        end_column,
    }
}

/// Where an input problem is: `path:line:col` when the file could be read,
/// else the path alone.
fn problem_place(p: &Problem, style: &Style) -> (String, Option<(usize, usize)>) {
    let path = display_path(&p.path, &style.cwd);
    let at = p
        .location
        .as_ref()
        .map(|loc| loc.file.line_col(loc.span.start));
    (path, at)
}

/// The colours of the line formats (with `style.color`): the path bold,
/// the rule red for an error and yellow for a warning, the fix marker
/// cyan, as in ruff's concise output.
struct Paint(bool);

impl Paint {
    fn path(&self, text: &str) -> String {
        use owo_colors::OwoColorize;
        if self.0 {
            text.bold().to_string()
        } else {
            text.to_string()
        }
    }

    fn rule(&self, d: &Diagnostic) -> String {
        use owo_colors::OwoColorize;
        match (self.0, d.severity) {
            (false, _) => d.rule.to_string(),
            (true, Severity::Error) => d.rule.red().bold().to_string(),
            (true, Severity::Warning) => d.rule.yellow().bold().to_string(),
        }
    }

    /// `[*] ` when `--fix` repairs it, `[!] ` when only `--unsafe-fixes`
    /// does.
    fn marker(&self, d: &Diagnostic) -> String {
        use owo_colors::OwoColorize;
        let marker = match d.fix.as_ref().map(|f| f.applicability) {
            Some(crate::fix::Applicability::Safe) => "[*]",
            Some(crate::fix::Applicability::Unsafe) => "[!]",
            None => return String::new(),
        };
        if self.0 {
            format!("{} ", marker.cyan())
        } else {
            format!("{marker} ")
        }
    }
}

/// `--output-format concise`: `path:line:col: rule message`, with `[*]`
/// before the message when `--fix` repairs it and `[!]` when only
/// `--unsafe-fixes` does.
pub fn render_concise(diagnostics: &[Diagnostic], style: &Style) -> String {
    let paint = Paint(style.color);
    let mut out = String::new();
    for d in diagnostics {
        let p = position(d, style);
        out.push_str(&format!(
            "{}:{}:{}: {} {}{}\n",
            paint.path(&p.path),
            p.line,
            p.column,
            paint.rule(d),
            paint.marker(d),
            one_line(&d.message)
        ));
    }
    out
}

/// `--output-format grouped`: the findings of each file under its path,
/// one line each (`  line:col rule message`), files in order, a blank line
/// between files.
pub fn render_grouped(diagnostics: &[Diagnostic], style: &Style) -> String {
    let paint = Paint(style.color);
    let mut out = String::new();
    let mut current: Option<String> = None;
    for d in diagnostics {
        let p = position(d, style);
        if current.as_deref() != Some(p.path.as_str()) {
            if current.is_some() {
                out.push('\n');
            }
            out.push_str(&format!("{}:\n", paint.path(&p.path)));
            current = Some(p.path.clone());
        }
        out.push_str(&format!(
            "  {}:{} {} {}{}\n",
            p.line,
            p.column,
            paint.rule(d),
            paint.marker(d),
            one_line(&d.message)
        ));
    }
    if current.is_some() {
        out.push('\n');
    }
    out
}

/// Input problems, one line each, for stderr.
pub fn render_problems_concise(problems: &[Problem], style: &Style) -> String {
    let mut out = String::new();
    for p in problems {
        let (path, at) = problem_place(p, style);
        let code = match p.severity {
            crate::problem::Severity::Error => "input-error",
            crate::problem::Severity::Warning => "input-warning",
        };
        match at {
            Some((line, column)) => out.push_str(&format!(
                "{path}:{line}:{column}: {code} {}\n",
                one_line(&p.message)
            )),
            None => out.push_str(&format!("{path}: {code} {}\n", one_line(&p.message))),
        }
    }
    out
}

/// `--output-format github`: one `::error` or `::warning` workflow command
/// per finding and per input problem. GitHub shows them on the lines of
/// the pull request and in the job summary.
pub fn render_github(results: &Results<'_>, style: &Style) -> String {
    let mut out = String::new();
    for d in results.diagnostics {
        let p = position(d, style);
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!(
            "::{command} title={},file={},line={},col={},endLine={},endColumn={}::{}\n",
            property(&format!("covdoctor ({})", d.rule)),
            property(&p.path),
            p.line,
            p.column,
            p.end_line,
            p.end_column,
            data(&format!(
                "{}:{}:{}: {} {}",
                p.path, p.line, p.column, d.rule, d.message
            )),
        ));
    }
    for problem in results.problems {
        let (path, at) = problem_place(problem, style);
        let place = match at {
            Some((line, column)) => format!(",line={line},col={column}"),
            None => String::new(),
        };
        let (command, title) = match problem.severity {
            crate::problem::Severity::Error => ("error", "covdoctor (input error)"),
            crate::problem::Severity::Warning => ("warning", "covdoctor (input warning)"),
        };
        out.push_str(&format!(
            "::{command} title={},file={}{place}::{}\n",
            property(title),
            property(&path),
            data(&problem.message),
        ));
    }
    out
}

/// Escapes a workflow command's message, as the Actions toolkit does.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value (`,` and `:` separate
/// properties).
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Messages are single sentences, but a line format must never break.
fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_escaping() {
        assert_eq!(data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
