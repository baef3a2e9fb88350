//! `environment-version-mismatch`: see rules/environment-version-mismatch.md.

use pep440_rs::Version;

use super::{Rule, with_version};
use crate::diagnostic::{Diagnostic, Severity};
use crate::doctor::{Inspection, line_of};

pub static RULE: Rule = Rule {
    claims_loss: false,
    name: "environment-version-mismatch",
    summary: "The environment's pytest-cov or coverage.py measures children differently from a fresh install of the project",
    severity: Severity::Warning,
    scope: super::Scope::Environment,
    doc: include_str!("../../rules/environment-version-mismatch.md"),
    check: super::Check::Environment(check),
};

/// The releases where the way children are measured changes: pytest-cov 7
/// drops its own hook; coverage 7.10 adds `patch`, 7.13 installs its hook.
const BOUNDARIES: &[(&str, &[&[u64]], &str)] = &[
    (
        "pytest-cov",
        &[&[7]],
        "pytest-cov < 7 measures children through its own hook; 7 and later only with coverage's `[run] patch = subprocess`",
    ),
    (
        "coverage",
        &[&[7, 10], &[7, 13]],
        "coverage.py has `[run] patch` from 7.10 on, and installs its own startup hook (`a1_coverage.pth`) from 7.13 on",
    ),
];

fn check(ix: &Inspection<'_>) -> Vec<Diagnostic> {
    let Some(project) = ix.project else {
        return Vec::new();
    };
    if project.measuring.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<Diagnostic> = Vec::new();
    for (package, boundaries, why) in BOUNDARIES {
        let fresh = match *package {
            "pytest-cov" => &project.fresh.pytest_cov,
            _ => &project.fresh.coverage,
        };
        let (Some(expected), false) = (&fresh.version, fresh.absent) else {
            continue;
        };
        let Some(dist) = ix.env.distributions.get(*package) else {
            continue;
        };
        let Some(installed) = &dist.version else {
            continue;
        };
        let side = |v: &Version| {
            boundaries
                .iter()
                .filter(|b| *v >= Version::new(b.iter().copied()))
                .count()
        };
        if side(installed) == side(expected) {
            continue;
        }
        // The coverage.py a fresh pytest-cov pulls in follows from the
        // pytest-cov finding: one root cause, reported once.
        let follows = fresh
            .source
            .as_ref()
            .is_some_and(|p| p.what.contains("pytest-cov"));
        if follows && !out.is_empty() {
            continue;
        }
        let d = RULE
            .diagnostic(
                line_of(&dist.metadata, "Version:"),
                format!("{package} {installed} installed here"),
                format!(
                    "{} has {package} {installed}, but a fresh install of the project's tests gets {}: what is measured here is not what CI measures",
                    ix.env_name(),
                    fresh.describe(package)
                ),
            )
            .help(format!(
                "{why}. Update the environment to what the project installs (for example `python -m pip install {package}=={expected}`), or pin the version the project should use"
            ));
        out.push(with_version(d, fresh, package));
    }
    out
}
