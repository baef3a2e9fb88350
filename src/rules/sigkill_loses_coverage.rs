//! `sigkill-loses-coverage`: see rules/sigkill-loses-coverage.md.

use super::{Context, Rule, launch_label};
use crate::analyze::{LaunchKind, Signal};
use crate::diagnostic::{Diagnostic, Severity};

pub static RULE: Rule = Rule {
    name: "sigkill-loses-coverage",
    summary: "a Python child is stopped with SIGKILL, so it dies before coverage saves its data",
    severity: Severity::Error,
    doc: include_str!("../../rules/sigkill-loses-coverage.md"),
    check,
};

fn check(cx: &Context<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for stop in &cx.python.stops {
        let launch = &cx.python.launches[stop.launch];
        if stop.signal != Signal::Kill || stop.fallback || !launch.child.is_python() {
            continue;
        }
        let graceful = match launch.kind {
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
                "sends SIGKILL",
                format!(
                    "`{}` kills a Python child with SIGKILL: it dies at once and its coverage data is never written",
                    stop.call
                ),
            )
            .label(launch.location.clone(), launch_label(launch))
            .help(format!(
                "stop it gracefully and keep the kill as a fallback: {graceful}; coverage then saves on SIGTERM when `[run] sigterm = true` is set"
            )),
        );
    }
    out
}
