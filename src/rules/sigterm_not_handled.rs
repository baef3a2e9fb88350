//! `sigterm-not-handled`: see rules/sigterm-not-handled.md.

use super::{Context, Rule, launch_label, relative};
use crate::analyze::{Child, Signal};
use crate::config::coverage::{Format, Selection};
use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{Location, Span};

pub static RULE: Rule = Rule {
    name: "sigterm-not-handled",
    summary: "a Python child is stopped with SIGTERM while coverage is not configured to save on SIGTERM",
    severity: Severity::Error,
    doc: include_str!("../../rules/sigterm-not-handled.md"),
    check,
};

fn check(cx: &Context<'_>) -> Vec<Diagnostic> {
    let coverage = &cx.config.coverage;
    if coverage.selection == Selection::Unknown {
        return Vec::new();
    }
    let setting = coverage.get("run", "sigterm");
    if setting.is_some_and(|s| s.as_bool() == Ok(true)) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for stop in &cx.python.stops {
        let launch = &cx.python.launches[stop.launch];
        if stop.signal != Signal::Term || stop.fallback {
            continue;
        }
        let Child::Python { handler, .. } = &launch.child else {
            continue;
        };
        if handler.as_ref().is_some_and(|h| h.ends_normally) {
            continue;
        }
        let mut d = RULE
            .diagnostic(
                stop.location.clone(),
                "sends SIGTERM",
                format!(
                    "`{}` stops a Python child with SIGTERM, but coverage is not configured to save on SIGTERM, so the child's data is lost",
                    stop.call
                ),
            )
            .label(launch.location.clone(), launch_label(launch));
        if let Some(h) = handler {
            d = d.label(
                h.location.clone(),
                format!("the child's own SIGTERM handler: {}", h.how),
            );
        }
        let help;
        match coverage.effective() {
            Some(file) => {
                let name = relative(&cx.config.root, &file.source.path);
                match setting {
                    Some(s) => {
                        d = d.label(
                            Location::new(
                                &file.source,
                                Span::new(s.key_span.start, s.value_span.end),
                            ),
                            match s.as_bool() {
                                Ok(_) => "set to false here".to_string(),
                                Err(e) => format!("coverage.py cannot read this value ({e})"),
                            },
                        );
                    }
                    None => {
                        let at = file
                            .sections
                            .iter()
                            .find(|s| s.section == "run")
                            .or(file.sections.first())
                            .map_or(Span::empty(0), |s| s.span);
                        d = d.label(
                            Location::new(&file.source, at),
                            format!("coverage reads {name}, which does not set `sigterm = true`"),
                        );
                    }
                }
                help = match file.format {
                    Format::Toml => {
                        format!("set `sigterm = true` in the `[tool.coverage.run]` table of {name}")
                    }
                    Format::Ini if file.our_file => {
                        format!("set `sigterm = true` in the `[run]` section of {name}")
                    }
                    Format::Ini => {
                        format!("set `sigterm = true` in the `[coverage:run]` section of {name}")
                    }
                };
            }
            None => {
                help = "set `sigterm = true` in `[tool.coverage.run]` of pyproject.toml (or `[run]` of .coveragerc)".to_string();
            }
        }
        // A `sigterm = true` that coverage never reads.
        for shadowed in coverage.shadowed() {
            if let Some(s) = shadowed.get("run", "sigterm")
                && s.as_bool() == Ok(true)
            {
                d = d.label(
                    Location::new(
                        &shadowed.source,
                        Span::new(s.key_span.start, s.value_span.end),
                    ),
                    "ignored: coverage reads another file (see config-shadowed)",
                );
            }
        }
        out.push(d.help(format!(
            "{help}: coverage then installs a SIGTERM handler that saves the data before the child exits (POSIX only)"
        )));
    }
    out
}
