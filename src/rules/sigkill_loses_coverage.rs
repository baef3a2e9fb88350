//! `sigkill-loses-coverage`: see rules/sigkill-loses-coverage.md.

use super::{Context, Rule};
use crate::analyze::{Launch, LaunchKind, Signal, Stop};
use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::Fix;
use crate::fix::python::{self, Graceful};

pub static RULE: Rule = Rule {
    claims_loss: true,
    name: "sigkill-loses-coverage",
    summary: "a Python child is stopped with SIGKILL, so it dies before coverage saves its data",
    severity: Severity::Error,
    scope: super::Scope::Child,
    doc: include_str!("../../rules/sigkill-loses-coverage.md"),
    check: super::Check::Project(check),
};

/// Replaces a kill statement with terminate, a bounded wait, and the kill
/// as a fallback (also run-timeout-kills' fix).
pub(super) fn graceful_fix(cx: &Context<'_>, stop: &Stop, launch: &Launch) -> Option<Fix> {
    let statement = stop.statement.as_ref()?;
    // The stop call itself: inside the helper when it goes through one.
    let at = stop.via.last().unwrap_or(&stop.location);
    let file = cx.python.files.get(&at.file.path)?;
    let style = match launch.kind {
        LaunchKind::Multiprocessing => Graceful::Multiprocessing,
        _ if launch.api.starts_with("subprocess.") => Graceful::Subprocess,
        _ if launch.api.starts_with("asyncio.") => Graceful::Asyncio,
        _ => return None,
    };
    let edits = python::graceful_stop(file, statement, style)?;
    Some(Fix::unsafe_(
        format!(
            "stop `{}` with terminate() and keep kill() as a fallback",
            statement.receiver
        ),
        edits,
    ))
}

fn check(cx: &Context<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for stop in &cx.python.stops {
        let launch = &cx.python.launches[stop.launch];
        // A forked child coverage never measures: fork-worker-unmeasured
        // is the root cause.
        if super::fork_worker_unmeasured::unmeasured_fork(cx, launch) {
            continue;
        }
        if stop.signal != Signal::Kill || stop.fallback || !launch.child.is_python() {
            continue;
        }
        // A pool's terminate() is pool-terminated's.
        if launch.is_pool() {
            continue;
        }
        let graceful = match launch.kind {
            _ if launch.api.starts_with("jupyter_client") => {
                "`km.shutdown_kernel()` without `now=True`: the kernel is asked to exit and saves its data; jupyter_client signals it only if it does not"
            }
            LaunchKind::Multiprocessing => {
                "`p.terminate()`, then `p.join(timeout=5)`, and `p.kill()` only if `p.is_alive()`"
            }
            _ => {
                "`p.terminate()`, then `p.wait(timeout=5)`, and `p.kill()` only in `except subprocess.TimeoutExpired`"
            }
        };
        out.push(
            RULE.diagnostic(
                stop.location.clone(),
                if stop.via.is_empty() { "sends SIGKILL" } else { "sends SIGKILL through a project helper" },
                format!(
                    "`{}` kills a Python child with SIGKILL: it dies at once and its coverage data is never written",
                    stop.call
                ),
            )
            .labels(super::via_labels(&stop.via, "the signal is sent here"))
            .labels(super::stop_launch_labels(stop, launch))
            .help(format!(
                "stop it gracefully and keep the kill as a fallback: {graceful}; coverage then saves on SIGTERM when `[run] sigterm = true` is set"
            ))
            .fix(graceful_fix(cx, stop, launch)),
        );
    }
    out
}
