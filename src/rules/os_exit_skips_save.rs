//! `os-exit-skips-save`: see rules/os-exit-skips-save.md.

use super::subprocess_patch_missing::patch_fix;
use super::{Context, Rule, launch_labels};
use crate::analyze::{Child, LaunchKind};
use crate::diagnostic::{Diagnostic, Severity};

pub static RULE: Rule = Rule {
    claims_loss: true,
    name: "os-exit-skips-save",
    summary: "a Python child ends with os._exit(), which skips coverage's save unless `patch = [\"_exit\"]` is set",
    severity: Severity::Error,
    scope: super::Scope::Child,
    doc: include_str!("../../rules/os-exit-skips-save.md"),
    check: super::Check::Project(check),
};

fn check(cx: &Context<'_>) -> Vec<Diagnostic> {
    let patched = cx
        .coverage
        .get("run", "patch")
        .and_then(|s| s.as_list())
        .is_some_and(|l| l.iter().any(|v| v == "_exit"));
    let versions = &cx.run.versions;
    // `patch` is read by coverage >= 7.10 only (see patch-unsupported).
    if patched && !versions.coverage_lacks_patch() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for launch in &cx.python.launches {
        if launch.kind == LaunchKind::Multiprocessing || !launch.child.is_python() {
            continue;
        }
        let Child::Python {
            source: Some(source),
            ..
        } = &launch.child
        else {
            continue;
        };
        let Some(exit) = cx.python.os_exits.get(source) else {
            continue;
        };
        // One finding per place the child is started.
        if !seen.insert((launch.location.file.path.clone(), launch.location.span)) {
            continue;
        }
        let d = RULE
            .diagnostic(
                launch.location.clone(),
                super::launch_label(launch),
                "this Python child ends with os._exit(), which skips the interpreter's exit handlers: coverage never writes the child's data",
            )
            .labels(launch_labels(launch).into_iter().skip(1).collect())
            .label(exit.clone(), "os._exit() ends the child here");
        let d = if versions.coverage_lacks_patch() {
            super::with_version(d, &versions.coverage, "coverage").help(format!(
                "{} cannot save before os._exit(): end the child with `sys.exit()` (or return from its main function), or require coverage >= 7.10 and set `patch = [\"_exit\"]` in coverage's `[run]` section",
                versions.coverage.describe("coverage")
            ))
        } else {
            d.help("add `_exit` to `[run] patch` (coverage >= 7.10): coverage then saves the data before os._exit() ends the process; or end the child with `sys.exit()`")
                .fix(patch_fix(cx, "_exit"))
        };
        out.push(d);
    }
    out
}
