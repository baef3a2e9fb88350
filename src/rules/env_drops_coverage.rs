//! `env-drops-coverage`: see rules/env-drops-coverage.md.

use super::{Context, Rule, launch_label, python_launches};
use crate::analyze::env::Mechanism;
use crate::analyze::{Carried, LaunchKind};
use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::{Fix, python};

pub static RULE: Rule = Rule {
    claims_loss: true,
    name: "env-drops-coverage",
    summary: "a Python child gets an environment without the variables that start coverage in it",
    severity: Severity::Error,
    scope: super::Scope::Child,
    doc: include_str!("../../rules/env-drops-coverage.md"),
    check: super::Check::Project(check),
};

/// The mechanisms that start coverage in children of this project: by
/// version when it is known (pytest-cov < 7: its hook; pytest-cov >= 7, or
/// coverage >= 7.10 without pytest-cov: the subprocess patch), otherwise by
/// configuration (the patch when it is enabled, pytest-cov's hook when not,
/// both when the configuration cannot be read).
pub fn mechanisms(cx: &Context<'_>) -> Vec<Mechanism> {
    use crate::config::coverage::Selection;
    let versions = &cx.run.versions;
    let mut out = if versions.pytest_cov_below_7() {
        vec![Mechanism::PytestCovHook]
    } else if uses_subprocess_patch(cx) {
        vec![Mechanism::SubprocessPatch]
    } else {
        match cx.coverage.selection {
            Selection::Unknown => vec![Mechanism::PytestCovHook, Mechanism::SubprocessPatch],
            _ if patches_subprocess(cx) => vec![Mechanism::SubprocessPatch],
            _ => vec![Mechanism::PytestCovHook],
        }
    };
    if cx.startup_hook() {
        out.push(Mechanism::ProcessStart);
    }
    out
}

/// The run measures children only through coverage's subprocess patch:
/// pytest-cov >= 7, `coverage run`, or coverage >= 7.10 with no pytest-cov
/// at all.
pub fn uses_subprocess_patch(cx: &Context<'_>) -> bool {
    cx.run.patch_based()
}

/// `[run] patch` of the effective configuration includes `subprocess`.
pub fn patches_subprocess(cx: &Context<'_>) -> bool {
    cx.coverage
        .get("run", "patch")
        .and_then(|s| s.as_list())
        .is_some_and(|l| l.iter().any(|v| v == "subprocess"))
}

fn check(cx: &Context<'_>) -> Vec<Diagnostic> {
    let mechanisms = mechanisms(cx);
    let mut out = Vec::new();
    for (_, launch) in python_launches(cx.python) {
        if launch.kind == LaunchKind::Multiprocessing {
            continue;
        }
        let Some(env) = &launch.env else { continue };
        let Carried::Known(vars) = &env.carried else {
            continue;
        };
        // Reported only when no possible mechanism is satisfied.
        if mechanisms.iter().any(|m| m.satisfied_by(vars)) {
            continue;
        }
        let missing: Vec<&str> = mechanisms
            .iter()
            .filter(|m| **m != Mechanism::ProcessStart)
            .flat_map(|m| m.missing(vars))
            .collect();
        let mut d = RULE
            .diagnostic(
                launch.location.clone(),
                launch_label(launch),
                format!(
                    "the environment passed to this Python child lacks {}, so coverage never starts in the child",
                    join(&missing)
                ),
            )
            .label(env.location.clone(), format!("carries {}", vars.describe()))
            .labels(super::via_labels(&launch.via, "the child is started here"));
        for (location, text) in &env.trail {
            if location != &env.location {
                d = d.label(location.clone(), text.clone());
            }
        }
        let versions = &cx.run.versions;
        if versions.pytest_cov.source.is_some() {
            d = super::with_version(d, &versions.pytest_cov, "pytest-cov");
        }
        let why = mechanisms
            .iter()
            .map(|m| m.describe())
            .collect::<Vec<_>>()
            .join("; ");
        // A variable the mapping itself sets to "" wins over a merge under
        // its keys: no fix.
        let blanked = missing.iter().any(|m| vars.blanked.contains(*m));
        let fix = cx
            .python
            .files
            .get(&env.location.file.path)
            .filter(|_| !blanked)
            .and_then(|file| python::carry_coverage_env(file, env))
            .map(|edits| {
                Fix::unsafe_(
                    "merge the parent's COV* variables into `env`, under its own keys",
                    edits,
                )
            });
        out.push(
            d.help(format!(
                "{why}. Start from the parent's environment and add your variables on top, e.g. `env={{**os.environ, **your_env}}`, or copy the coverage variables: `{{k: v for k, v in os.environ.items() if k.startswith(\"COV\")}}`"
            ))
            .fix(fix),
        );
    }
    out
}

fn join(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}
