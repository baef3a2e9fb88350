//! `terminate-without-wait`: see rules/terminate-without-wait.md.

use super::{Context, Rule};
use crate::analyze::command::HandlerEffect;
use crate::analyze::{Child, Signal};
use crate::config::coverage::Selection;
use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::Fix;
use crate::fix::python::{self, Graceful};

pub static RULE: Rule = Rule {
    claims_loss: true,
    name: "terminate-without-wait",
    summary: "a Python child is asked to stop, but nothing waits for it to exit and save its data",
    // A race: lost in some runs, not in all.
    severity: Severity::Warning,
    scope: super::Scope::Child,
    doc: include_str!("../../rules/terminate-without-wait.md"),
    check: super::Check::Project(check),
};

fn check(cx: &Context<'_>) -> Vec<Diagnostic> {
    let coverage = &cx.coverage;
    let sigterm_on = coverage
        .get("run", "sigterm")
        .is_some_and(|s| s.as_bool() == Ok(true));
    let mut out = Vec::new();
    for stop in &cx.python.stops {
        let launch = &cx.python.launches[stop.launch];
        if stop.fallback || stop.waited || !launch.child.is_python() {
            continue;
        }
        // Processes whose handle can be waited for; a library's own stop
        // (pexpect's terminate() polls until the child is gone) is not this.
        let style = if launch.api.starts_with("subprocess.") {
            Graceful::Subprocess
        } else if launch.api.starts_with("asyncio.") {
            Graceful::Asyncio
        } else {
            continue;
        };
        if super::fork_worker_unmeasured::unmeasured_fork(cx, launch) {
            continue;
        }
        let Child::Python { handler, .. } = &launch.child else {
            continue;
        };
        // Only a child that saves on this signal races: one that does not
        // is lost every time, and sigterm-not-handled says why.
        let saves = match (stop.signal, handler.as_ref().map(|h| h.effect)) {
            (Signal::Term, None | Some(HandlerEffect::Reraises)) => {
                sigterm_on && coverage.selection != Selection::Unknown
            }
            (Signal::Term, Some(HandlerEffect::ExitsNormally)) => true,
            // KeyboardInterrupt unwinds and atexit saves (the handler known
            // is the child's SIGTERM handler).
            (Signal::Int, _) => true,
            _ => false,
        };
        if !saves {
            continue;
        }
        let what = match stop.signal {
            Signal::Int => "SIGINT",
            _ => "SIGTERM",
        };
        let wait = match style {
            Graceful::Asyncio => "`await asyncio.wait_for(p.wait(), timeout=5)`",
            _ => "`p.wait(timeout=5)`",
        };
        let fix = stop.statement.as_ref().and_then(|statement| {
            // The stop call itself: inside the helper when it goes through one.
            let at = stop.via.last().unwrap_or(&stop.location);
            let file = cx.python.files.get(&at.file.path)?;
            let edits = python::wait_after_stop(file, statement, style)?;
            Some(Fix::unsafe_(
                format!(
                    "wait for `{}` (at most 5 seconds) after stopping it",
                    statement.receiver
                ),
                edits,
            ))
        });
        out.push(
            RULE.diagnostic(
                stop.location.clone(),
                if stop.via.is_empty() {
                    format!("sends {what}; nothing waits for the child after this")
                } else {
                    format!("sends {what} through a project helper; nothing waits for the child after this")
                },
                format!(
                    "`{}` asks a Python child to stop but nothing waits for it to exit, so the test can end before the child has saved its coverage data (lost in some runs)",
                    stop.call
                ),
            )
            .labels(super::via_labels(&stop.via, "the signal is sent here"))
            .labels(super::stop_launch_labels(stop, launch))
            .help(format!(
                "wait for the child after stopping it ({wait}): the child writes its data on the way out, and pytest-cov combines only the files that exist when the tests end"
            ))
            .fix(fix),
        );
    }
    out
}
