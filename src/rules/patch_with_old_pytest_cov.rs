//! `patch-with-old-pytest-cov`: see rules/patch-with-old-pytest-cov.md.

use super::env_drops_coverage::patches_subprocess;
use super::{Context, Rule, launch_label, python_launches, with_version};
use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{Location, Span};

pub static RULE: Rule = Rule {
    claims_loss: false,
    name: "patch-with-old-pytest-cov",
    summary: "pytest-cov < 7 and coverage's `patch = [\"subprocess\"]` both start coverage in every Python child",
    severity: Severity::Warning,
    scope: super::Scope::Run,
    doc: include_str!("../../rules/patch-with-old-pytest-cov.md"),
    check: super::Check::Project(check),
};

fn check(cx: &Context<'_>) -> Vec<Diagnostic> {
    let versions = &cx.run.versions;
    if !versions.pytest_cov_below_7()
        || !versions.coverage_has_patch()
        || !cx.run.pytest_cov_active()
        || !patches_subprocess(cx)
    {
        return Vec::new();
    }
    let Some(child) = python_launches(cx.python).map(|(_, l)| l).next() else {
        return Vec::new();
    };
    let Some(file) = cx.coverage.effective() else {
        return Vec::new();
    };
    let Some(setting) = file.get("run", "patch") else {
        return Vec::new();
    };
    let d = RULE
        .diagnostic(
            Location::new(
                &file.source,
                Span::new(setting.key_span.start, setting.value_span.end),
            ),
            "coverage starts in every Python child here",
            format!(
                "{} starts coverage in Python children through its own hook, and `patch = [\"subprocess\"]` starts a second coverage in each of them",
                versions.pytest_cov.describe("pytest-cov")
            ),
        )
        .label(child.location.clone(), launch_label(child));
    vec![
        with_version(d, &versions.pytest_cov, "pytest-cov", )
            .help("require pytest-cov >= 7 (which measures children only through this setting), or remove `subprocess` from `patch` while on pytest-cov 6; mixed, a child whose environment keeps COV_CORE_* but not COVERAGE_PROCESS_CONFIG prints coverage's internal collector state and a \"Failed to setup subprocess coverage\" error into its own output"),
    ]
}
