//! `run-timeout-kills`: see rules/run-timeout-kills.md.

use super::{Context, Rule, launch_label, launch_labels};
use crate::diagnostic::{Diagnostic, Severity};

pub static RULE: Rule = Rule {
    claims_loss: true,
    name: "run-timeout-kills",
    summary: "a timeout ends a Python child with SIGKILL, so its coverage data is lost when the timeout expires",
    severity: Severity::Error,
    scope: super::Scope::Child,
    doc: include_str!("../../rules/run-timeout-kills.md"),
    check: super::Check::Project(check),
};

fn check(cx: &Context<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for launch in &cx.python.launches {
        let Some(timeout) = &launch.timeout else {
            continue;
        };
        if !launch.child.is_python() {
            continue;
        }
        let api = launch.api.trim_start_matches("subprocess.");
        let mut d = RULE
            .diagnostic(
                launch.location.clone(),
                launch_label(launch),
                if launch.expects_timeout {
                    format!(
                        "the test expects this `{api}(..., timeout=...)` to time out, and on timeout `{api}` kills the Python child with SIGKILL: its coverage data is lost every time"
                    )
                } else {
                    format!(
                        "when this timeout expires, `{api}` kills the Python child with SIGKILL: its coverage data is lost whenever the child is slow or hangs"
                    )
                },
            )
            .labels(launch_labels(launch).into_iter().skip(1).collect())
            .label(timeout.clone(), "SIGKILL when this expires");
        if !launch.expects_timeout {
            d.severity = Severity::Warning;
        }
        out.push(d.help(format!(
            "start the child with `subprocess.Popen` and stop it yourself on timeout: `p.terminate()`, then `p.wait(timeout=5)`, and `p.kill()` only if that expires; with `[run] sigterm = true` coverage saves on SIGTERM (`{api}` itself only ever sends SIGKILL)"
        )));
    }
    for stop in &cx.python.stops {
        let launch = &cx.python.launches[stop.launch];
        if !stop.on_timeout || !launch.child.is_python() {
            continue;
        }
        let mut d = RULE
            .diagnostic(
                stop.location.clone(),
                "SIGKILL when the wait times out",
                format!(
                    "`{}` runs when the bounded wait before it expires, and kills the Python child with SIGKILL without asking it to stop first: its coverage data is lost whenever the child is slow or hangs",
                    stop.call
                ),
            )
            .labels(super::via_labels(&stop.via, "the signal is sent here"))
            .labels(super::stop_launch_labels(stop, launch))
            .help("ask the child to stop first: `p.terminate()`, then `p.wait(timeout=5)`, and `p.kill()` only if that expires too; with `[run] sigterm = true` coverage saves on SIGTERM")
            .fix(super::sigkill_loses_coverage::graceful_fix(cx, stop, launch));
        d.severity = Severity::Warning;
        out.push(d);
    }
    out
}
