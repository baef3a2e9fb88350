//! `sigterm-not-handled`: see rules/sigterm-not-handled.md.

use super::{Context, Rule, relative};
use crate::analyze::command::HandlerEffect;
use crate::analyze::{Child, Signal};
use crate::config::coverage::{Format, Selection};
use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::Fix;
use crate::fix::config_edit::{self, Value};
use crate::source::{Location, Span};

pub static RULE: Rule = Rule {
    claims_loss: true,
    name: "sigterm-not-handled",
    summary: "a Python child is stopped with SIGTERM while coverage is not configured to save on SIGTERM",
    severity: Severity::Error,
    scope: super::Scope::Child,
    doc: include_str!("../../rules/sigterm-not-handled.md"),
    check: super::Check::Project(check),
};

fn check(cx: &Context<'_>) -> Vec<Diagnostic> {
    let coverage = &cx.coverage;
    let setting = coverage.get("run", "sigterm");
    let sigterm_on = setting.is_some_and(|s| s.as_bool() == Ok(true));
    let patched_exit = coverage
        .get("run", "patch")
        .and_then(|s| s.as_list())
        .is_some_and(|l| l.iter().any(|v| v == "_exit"));
    let mut out = Vec::new();
    for stop in &cx.python.stops {
        let launch = &cx.python.launches[stop.launch];
        // A forked child coverage never measures: fork-worker-unmeasured
        // is the root cause.
        if super::fork_worker_unmeasured::unmeasured_fork(cx, launch) {
            continue;
        }
        if stop.signal != Signal::Term || stop.fallback || !launch.child.is_python() {
            continue;
        }
        // A pool's terminate() is pool-terminated's.
        if launch.is_pool() {
            continue;
        }
        let Child::Python { handler, .. } = &launch.child else {
            continue;
        };
        // pytest-cov's `cleanup_on_sigterm()` is gone in pytest-cov 7 (see
        // removed-embed-api): no handler is installed.
        let handler = handler
            .as_ref()
            .filter(|h| !(h.from_pytest_cov && cx.run.versions.pytest_cov_at_least_7()));
        let d = match handler.map(|h| (h, h.effect)) {
            // coverage's own handler decides.
            None => {
                if sigterm_on || coverage.selection == Selection::Unknown {
                    continue;
                }
                missing_setting(cx, stop, launch)
            }
            // The child handles SIGTERM, then dies of it with coverage's
            // handler (if any) restored: the same as no handler.
            Some((h, HandlerEffect::Reraises)) => {
                if sigterm_on || coverage.selection == Selection::Unknown {
                    continue;
                }
                missing_setting(cx, stop, launch)
                    .label(h.location.clone(), format!("the child's SIGTERM handling: {}", h.how))
            }
            Some((_, HandlerEffect::ExitsNormally | HandlerEffect::Ignores | HandlerEffect::Unknown)) => continue,
            // The child's handler replaces coverage's (it is installed after
            // coverage starts), so `sigterm = true` cannot help.
            Some((h, HandlerEffect::ExitsAbruptly)) => {
                if patched_exit {
                    continue;
                }
                RULE.diagnostic(
                    stop.location.clone(),
                    "sends SIGTERM",
                    format!(
                        "`{}` stops a Python child whose own SIGTERM handler calls os._exit(), which skips coverage's save",
                        stop.call
                    ),
                )
                .labels(super::via_labels(&stop.via, "the signal is sent here"))
                .labels(super::stop_launch_labels(stop, launch))
                .label(h.location.clone(), format!("the child's SIGTERM handler: {}", h.how))
                .help("end the handler with `sys.exit()`, or set `patch = [\"_exit\"]` in coverage's `[run]` section (coverage >= 7.10) so os._exit() saves first; `sigterm = true` does not help, because the child's handler replaces coverage's")
            }
            Some((h, HandlerEffect::DefaultAction)) => RULE
                .diagnostic(
                    stop.location.clone(),
                    "sends SIGTERM",
                    format!(
                        "`{}` stops a Python child that resets SIGTERM to its default action, so it dies before coverage saves",
                        stop.call
                    ),
                )
                .labels(super::via_labels(&stop.via, "the signal is sent here"))
                .labels(super::stop_launch_labels(stop, launch))
                .label(h.location.clone(), format!("the child's SIGTERM handling: {}", h.how))
                .help("handle SIGTERM in the child with a function that calls `sys.exit()`; `sigterm = true` does not help, because `signal.SIG_DFL` replaces coverage's handler"),
        };
        out.push(d);
    }
    out
}

/// The usual case: no handler in the child, and no `sigterm = true`.
fn missing_setting(
    cx: &Context<'_>,
    stop: &crate::analyze::Stop,
    launch: &crate::analyze::Launch,
) -> Diagnostic {
    let coverage = &cx.coverage;
    let setting = coverage.get("run", "sigterm");
    let mut d = RULE
        .diagnostic(
            stop.location.clone(),
            "sends SIGTERM",
            format!(
                "`{}` stops a Python child with SIGTERM, but coverage is not configured to save on SIGTERM, so the child's data is lost",
                stop.call
            ),
        )
        .labels(super::via_labels(&stop.via, "the signal is sent here"))
                .labels(super::stop_launch_labels(stop, launch));
    let help = match coverage.effective() {
        Some(file) => {
            let name = relative(&cx.config.root, &file.source.path);
            match setting {
                Some(s) => {
                    d = d.label(
                        Location::new(&file.source, Span::new(s.key_span.start, s.value_span.end)),
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
            match file.format {
                Format::Toml => format!("set `sigterm = true` in the `[tool.coverage.run]` table of {name}"),
                Format::Ini if file.our_file => format!("set `sigterm = true` in the `[run]` section of {name}"),
                Format::Ini => format!("set `sigterm = true` in the `[coverage:run]` section of {name}"),
            }
        }
        None => "set `sigterm = true` in `[tool.coverage.run]` of pyproject.toml (or `[run]` of .coveragerc)".to_string(),
    };
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
    d.help(format!(
        "{help}: coverage then installs a SIGTERM handler that saves the data before the child exits (POSIX only)"
    ))
    .fix(sigterm_fix(cx))
}

/// Sets `sigterm = true` in the file coverage reads; with no configuration
/// at all, in `[tool.coverage.run]` of pyproject.toml, or a new `.coveragerc`.
fn sigterm_fix(cx: &Context<'_>) -> Option<Fix> {
    let coverage = &cx.coverage;
    let value = Value::Bool(true);
    let edit = match coverage.selection {
        Selection::File(_) => {
            let file = coverage.effective()?;
            config_edit::set_coverage_option(file, "run", "sigterm", &value)?
        }
        // A bare `[run]` in setup.cfg or tox.ini is config-shadowed's to
        // rename (new_coverage_setting says no then).
        Selection::Defaults => super::new_coverage_setting(cx, "run", "sigterm", &value)?,
        Selection::Unknown => return None,
    };
    let name = relative(&cx.config.root, edit.path());
    Some(Fix::safe(
        format!("set `sigterm = true` in {name}"),
        vec![edit],
    ))
}
