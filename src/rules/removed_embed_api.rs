//! `removed-embed-api`: see rules/removed-embed-api.md.

use super::{Context, Rule, with_version};
use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::{Edit, Fix};

pub static RULE: Rule = Rule {
    claims_loss: true,
    name: "removed-embed-api",
    summary: "code uses `pytest_cov.embed`, which pytest-cov 7 removed",
    severity: Severity::Error,
    scope: super::Scope::Run,
    doc: include_str!("../../rules/removed-embed-api.md"),
    check: super::Check::Project(check),
};

fn check(cx: &Context<'_>) -> Vec<Diagnostic> {
    let versions = &cx.run.versions;
    if !versions.pytest_cov_at_least_7() {
        return Vec::new();
    }
    let pytest_cov = versions.pytest_cov.describe("pytest-cov");
    cx.python
        .embed_imports
        .iter()
        .map(|import| {
            let (label, message) = if import.guarded {
                (
                    "fails, and the `except` hides it",
                    format!("`pytest_cov.embed` no longer exists in {pytest_cov}: this guarded import fails silently, so `cleanup_on_sigterm()` and the rest do nothing"),
                )
            } else {
                (
                    "raises ModuleNotFoundError",
                    format!("`pytest_cov.embed` no longer exists in {pytest_cov}: this import raises ModuleNotFoundError and the process stops here"),
                )
            };
            // The removal spans are whole lines found by `\n`.
            let lone_cr = import.location.file.has_lone_cr();
            let fix = import.removal.as_ref().filter(|_| !lone_cr).map(|spans| {
                let edits = spans
                    .iter()
                    .map(|s| Edit::replace(&import.location.file.path, *s, ""))
                    .collect();
                if import.guarded {
                    Fix::safe("remove the `pytest_cov.embed` block, which does nothing", edits)
                } else {
                    Fix::unsafe_("remove the `pytest_cov.embed` import and calls", edits)
                }
            });
            with_version(
                RULE.diagnostic(import.location.clone(), label, message),
                &versions.pytest_cov,
                "pytest-cov",
            )
            .help("remove it: with `sigterm = true` and `patch = [\"subprocess\"]` in coverage's `[run]` section, coverage itself measures the child and saves on SIGTERM")
            .fix(fix)
        })
        .collect()
}
