//! The last step of the pipeline: turn diagnostics and problems into text.
//! This is the only module that formats output; `main` prints it.
//!
//! One file per output format: [`full`] (miette), [`text`] (concise and
//! GitHub annotations), [`json`] and [`sarif`].

pub mod config;
pub mod doctor;
pub mod full;
pub mod json;
pub mod junit;
pub mod runs;
pub mod sarif;
pub mod text;

use std::collections::BTreeMap;
use std::path::Path;

use crate::diagnostic::Diagnostic;
use crate::fix::{Applicability, Change};
use crate::problem::Problem;

pub use full::{render_full, render_problems};

/// How to render findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Source snippets with labels and help (miette).
    Full,
    /// One line per finding: `path:line:col: rule message`.
    Concise,
    /// A versioned JSON document (see the README).
    #[value(alias = "json-v1")]
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands (annotations on the changed lines).
    Github,
    /// The findings under the path of their file.
    Grouped,
    /// Each finding of `json` as one JSON object per line.
    JsonLines,
    /// A GitLab code quality report.
    Gitlab,
    /// A JUnit XML report (one failing test case per finding).
    Junit,
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

/// What a run has to say: the findings left, the input problems, and the
/// human summary line (which differs between `check` and `check --fix`).
pub struct Results<'a> {
    pub diagnostics: &'a [Diagnostic],
    pub problems: &'a [Problem],
    pub summary: String,
}

/// What goes to stdout (or `--output-file`). `quiet` drops everything but
/// the findings; `statistics` replaces the findings by counts per rule.
pub fn render(
    format: OutputFormat,
    results: &Results<'_>,
    style: &Style,
    quiet: bool,
    statistics: bool,
) -> String {
    if statistics {
        return match format {
            OutputFormat::Json => json::render_statistics(results.diagnostics),
            _ => render_statistics(results.diagnostics, quiet),
        };
    }
    match format {
        OutputFormat::Full => {
            let mut text = render_full(results.diagnostics, style);
            if !quiet {
                text.push_str(&results.summary);
                text.push('\n');
            }
            text
        }
        OutputFormat::Concise => {
            let mut text = text::render_concise(results.diagnostics, style);
            if !quiet {
                text.push_str(&results.summary);
                text.push('\n');
            }
            text
        }
        OutputFormat::Json => json::render_json(results, style),
        OutputFormat::Sarif => sarif::render_sarif(results, style),
        OutputFormat::Github => text::render_github(results, style),
        OutputFormat::Grouped => {
            let mut text = text::render_grouped(results.diagnostics, style);
            if !quiet {
                text.push_str(&results.summary);
                text.push('\n');
            }
            text
        }
        OutputFormat::JsonLines => json::render_json_lines(results.diagnostics, style),
        OutputFormat::Gitlab => json::render_gitlab(results, style),
        OutputFormat::Junit => junit::render_junit(results, style),
    }
}

/// What goes to stderr: the input problems, in the human form for `full`
/// and one line each otherwise (the machine formats also carry them).
pub fn render_problems_for(format: OutputFormat, problems: &[Problem], style: &Style) -> String {
    match format {
        OutputFormat::Full => render_problems(problems, style),
        _ => text::render_problems_concise(problems, style),
    }
}

/// How many findings each rule produced, and how many of them `--fix`
/// (`*`) or `--fix --unsafe-fixes` (`!`) can repair.
pub fn rule_counts(diagnostics: &[Diagnostic]) -> Vec<RuleCount> {
    let mut counts: BTreeMap<&'static str, RuleCount> = BTreeMap::new();
    for d in diagnostics {
        let entry = counts.entry(d.rule).or_insert(RuleCount {
            rule: d.rule,
            count: 0,
            safe_fixes: 0,
            unsafe_fixes: 0,
        });
        entry.count += 1;
        match d.fix.as_ref().map(|f| f.applicability) {
            Some(Applicability::Safe) => entry.safe_fixes += 1,
            Some(Applicability::Unsafe) => entry.unsafe_fixes += 1,
            None => {}
        }
    }
    let mut counts: Vec<RuleCount> = counts.into_values().collect();
    counts.sort_by(|a, b| b.count.cmp(&a.count).then(a.rule.cmp(b.rule)));
    counts
}

/// One line of `--statistics`.
#[derive(serde::Serialize)]
pub struct RuleCount {
    pub rule: &'static str,
    pub count: usize,
    pub safe_fixes: usize,
    pub unsafe_fixes: usize,
}

/// `--statistics` as text: count, rule, and a fix marker (`[*]` all
/// fixable with `--fix`, `[!]` some only with `--unsafe-fixes`).
fn render_statistics(diagnostics: &[Diagnostic], quiet: bool) -> String {
    let counts = rule_counts(diagnostics);
    let width = counts
        .iter()
        .map(|c| c.count.to_string().len())
        .max()
        .unwrap_or(1);
    let name_width = counts.iter().map(|c| c.rule.len()).max().unwrap_or(0);
    let mut out = String::new();
    for c in &counts {
        let marker = if c.safe_fixes == c.count {
            "[*]"
        } else if c.safe_fixes + c.unsafe_fixes > 0 {
            "[!]"
        } else {
            "   "
        };
        let summary = crate::rules::by_name(c.rule).map_or("", |r| r.summary);
        out.push_str(
            format!(
                "{:>width$}  {:name_width$}  {marker} {summary}",
                c.count, c.rule
            )
            .trim_end(),
        );
        out.push('\n');
    }
    if !quiet {
        let total: usize = counts.iter().map(|c| c.count).sum();
        out.push_str(&match total {
            0 => "covdoctor: no findings\n".to_string(),
            1 => "covdoctor: 1 finding\n".to_string(),
            n => format!("covdoctor: {n} findings\n"),
        });
    }
    out
}

/// The last line of a check: findings, how many have fixes, input errors
/// and warnings.
pub fn summary(diagnostics: &[Diagnostic], problems: &[Problem]) -> String {
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
    let withheld = diagnostics
        .iter()
        .filter(|d| d.fix_withheld.is_some())
        .count();
    if withheld > 0 {
        parts.push(format!(
            "{withheld} {} withheld (input errors)",
            if withheld == 1 { "fix" } else { "fixes" }
        ));
    }
    parts.extend(problem_counts(problems));
    format!("covdoctor: {}", parts.join(", "))
}

/// "2 input errors", "1 input warning", as they apply.
fn problem_counts(problems: &[Problem]) -> Vec<String> {
    let errors = crate::problem::errors(problems);
    let warnings = problems.len() - errors;
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let mut out = Vec::new();
    if errors > 0 {
        out.push(format!("{errors} input error{}", plural(errors)));
    }
    if warnings > 0 {
        out.push(format!("{warnings} input warning{}", plural(warnings)));
    }
    out
}

/// The last line of a `--fix` run.
pub fn fix_summary(fixed: usize, remaining: usize, problems: &[Problem]) -> String {
    let mut line = format!("covdoctor: {fixed} fixed, {remaining} remaining");
    for part in problem_counts(problems) {
        line.push_str(", ");
        line.push_str(&part);
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
pub fn render_diff(changes: &BTreeMap<std::path::PathBuf, Change>, style: &Style) -> String {
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
