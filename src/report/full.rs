//! `--output-format full`: source snippets with labels and help, rendered by
//! miette. Input problems are always rendered this way on stderr.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, NamedSource, SourceCode,
    SourceSpan, SpanContents,
};

use super::{Style, display_path};
use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::Applicability;
use crate::problem::Problem;
use crate::source::{Location, Source};

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

/// The longest line shown in a snippet. miette cannot place a label past
/// column 65535 (it panics), and a minified line would print in full: a
/// label on, or next to, a longer line is given as `path:line:col` instead.
const MAX_SHOWN_LINE: usize = 400;

/// Whether a label's lines (with one line of context either side) are
/// short enough to show.
fn showable(location: &Location) -> bool {
    let text = &location.file.text;
    let clamp = |at: usize| {
        let mut at = at.min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    let start = clamp(location.span.start);
    let end = clamp(location.span.end.max(location.span.start));
    // From the line before the start to the line after the end.
    let mut from = text[..start].rfind('\n').unwrap_or(0);
    from = text[..from].rfind('\n').map_or(0, |i| i + 1);
    let mut to = text[end..].find('\n').map_or(text.len(), |i| end + i);
    if to < text.len() {
        to = text[to + 1..].find('\n').map_or(text.len(), |i| to + 1 + i);
    }
    text[from..to]
        .split('\n')
        .all(|line| line.chars().count() <= MAX_SHOWN_LINE)
}

/// `path:line:col` of a location, for a label that cannot be shown.
fn position(location: &Location, style: &Style) -> String {
    let (line, col) = location.file.line_col(location.span.start);
    format!("{}:{line}:{col}", source_name(&location.file, style))
}

/// Labels at most this many lines apart are shown in one snippet.
const NEARBY_LINES: usize = 20;

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
    let shown = showable(&d.primary.location);
    let source = shown.then(|| named(primary_file, style));
    let mut message = d.message.clone();
    let mut labels = Vec::new();
    if shown {
        labels.push(labeled(
            &d.primary.location,
            d.primary.text.as_deref(),
            true,
        ));
    } else {
        message.push_str(&format!(
            "\n  --> {} (the line is too long to show)",
            position(&d.primary.location, style)
        ));
    }
    // Labels in other files become related reports, one per file and
    // stretch of nearby lines, in the order they first appear; so do labels
    // of the primary file far from the primary span (the snippet would show
    // every line between them).
    let line_of = |l: &Location| l.file.line_col(l.span.start).0;
    // The lines shown with the primary span: its own, and those of the
    // labels of its file within reach of one already shown.
    let mut near: Vec<usize> = vec![line_of(&d.primary.location)];
    let same_file: Vec<usize> = d
        .labels
        .iter()
        .filter(|l| shown && showable(&l.location) && l.location.file.path == primary_file.path)
        .map(|l| line_of(&l.location))
        .collect();
    // (Bounded: a finding with very many labels shows them together.)
    if same_file.len() > 256 {
        near.extend(&same_file);
    }
    loop {
        let before = near.len();
        for line in &same_file {
            if !near.contains(line) && near.iter().any(|n| n.abs_diff(*line) <= NEARBY_LINES) {
                near.push(*line);
            }
        }
        if near.len() == before {
            break;
        }
    }
    let mut others: Vec<(Source, usize, Vec<LabeledSpan>)> = Vec::new();
    let mut hidden: Vec<String> = Vec::new();
    for l in &d.labels {
        if !showable(&l.location) {
            hidden.push(match &l.text {
                Some(t) => format!("{}: {t}", position(&l.location, style)),
                None => position(&l.location, style),
            });
            continue;
        }
        let line = line_of(&l.location);
        if shown && l.location.file.path == primary_file.path && near.contains(&line) {
            labels.push(labeled(&l.location, l.text.as_deref(), false));
            continue;
        }
        match others.iter_mut().find(|(s, last, _)| {
            s.path == l.location.file.path && line.abs_diff(*last) <= NEARBY_LINES
        }) {
            Some((_, last, v)) => {
                *last = line;
                v.push(labeled(&l.location, l.text.as_deref(), false));
            }
            None => others.push((
                l.location.file.clone(),
                line,
                vec![labeled(&l.location, l.text.as_deref(), false)],
            )),
        }
    }
    let related = others
        .into_iter()
        .map(|(file, _, labels)| {
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
        message,
        code: Some(d.rule.to_string()),
        severity: match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        },
        help: Some({
            let mut help = d.help.clone().map(|h| format!("{h}\n")).unwrap_or_default();
            for h in &hidden {
                help.push_str(&format!("also at {h}\n"));
            }
            if let Some(why) = &d.fix_withheld {
                help.push_str(&format!("fix withheld: {why}\n"));
            }
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
            match d.runs.len() {
                0 => {}
                1..=4 => help.push_str(&format!("holds for: {}\n", d.runs.join(", "))),
                n => help.push_str(&format!(
                    "holds for: {} and {} more runs (`covdoctor runs` lists them)\n",
                    d.runs[..3].join(", "),
                    n - 3
                )),
            }
            help.push_str(&format!("more: covdoctor rule {}", d.rule));
            help
        }),
        source,
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

/// The human-readable rendering of input problems: `input-error` for an
/// error, `input-warning` (with why it cannot change a verdict) for a
/// warning.
pub fn render_problems(problems: &[Problem], style: &Style) -> String {
    let handler = handler(style);
    let mut out = String::new();
    for p in problems {
        let (code, severity) = match p.severity {
            crate::problem::Severity::Error => ("input-error", miette::Severity::Error),
            crate::problem::Severity::Warning => ("input-warning", miette::Severity::Warning),
        };
        let help = match &p.why_warning {
            Some(why) => format!("{why}; covdoctor checked the rest of the project"),
            None => {
                "covdoctor checked the rest of the project; fix this file and run it again".into()
            }
        };
        let mut report = Report {
            message: p.message.clone(),
            code: Some(code.into()),
            severity,
            help: Some(help),
            source: None,
            labels: Vec::new(),
            related: Vec::new(),
        };
        match &p.location {
            Some(loc) if !showable(loc) => {
                report.message = format!(
                    "{}\n  --> {} (the line is too long to show)",
                    p.message,
                    position(loc, style)
                );
            }
            Some(loc) => {
                report.source = Some(named(&loc.file, style));
                report.labels = vec![labeled(loc, Some("here"), true)];
            }
            None => {
                report.message = format!("{}: {}", display_path(&p.path, &style.cwd), p.message);
                report.help = p.why_warning.clone();
            }
        }
        let mut text = String::new();
        if handler.render_report(&mut text, &report).is_err() {
            text = format!("{}: {}\n", p.severity.as_str(), p.message);
        }
        out.push_str(&text);
        out.push('\n');
    }
    out
}
