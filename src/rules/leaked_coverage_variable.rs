//! `leaked-coverage-variable`: see rules/leaked-coverage-variable.md.

use super::Rule;
use crate::diagnostic::{Diagnostic, Severity};
use crate::doctor::Inspection;
use crate::environment::HookKind;

pub static RULE: Rule = Rule {
    claims_loss: false,
    name: "leaked-coverage-variable",
    summary: "A coverage or pytest variable set in the shell reaches every test run and every Python child",
    severity: Severity::Warning,
    scope: super::Scope::Environment,
    doc: include_str!("../../rules/leaked-coverage-variable.md"),
    check: super::Check::Environment(check),
};

fn check(ix: &Inspection<'_>) -> Vec<Diagnostic> {
    // A project whose tests measure nothing has nothing to lose.
    if ix.project.is_some_and(|p| p.measuring.is_empty()) {
        return Vec::new();
    }
    let env = ix.env;
    // A hook starts coverage only where coverage.py is installed.
    let starts_coverage = env.has("coverage")
        && (env.hooks(&HookKind::Coverage).next().is_some()
            || env.hooks(&HookKind::Custom).next().is_some()
            || env
                .hooks(&HookKind::Subcover { pid: None })
                .next()
                .is_some()
            || env.has(crate::config::versions::HOOK_PACKAGE));
    let mut out = Vec::new();
    for name in ["COVERAGE_PROCESS_START", "COVERAGE_PROCESS_CONFIG"] {
        let Some(var) = ix.var(name).filter(|v| !v.value.is_empty()) else {
            continue;
        };
        if !starts_coverage {
            continue;
        }
        out.push(
            RULE.diagnostic(
                var.location.clone(),
                "set in the shell",
                format!(
                    "`{name}` is set in the shell: every Python process started from it with {} starts measuring coverage",
                    ix.env_name()
                ),
            )
            .help(format!(
                "coverage's startup hook in this environment starts coverage in any process that has `{name}`, the tests and their children but also tools, servers and the tests' own runs of coverage (whose data then mixes with or replaces yours). A measured run sets it for its own children; unset it in the shell (`unset {name}`)"
            )),
        );
    }
    if let Some(var) = ix.var("COV_CORE_SOURCE")
        && env.hooks(&HookKind::PytestCov).next().is_some()
    {
        let others: Vec<&str> = ix
            .vars
            .iter()
            .filter(|v| v.name.starts_with("COV_CORE_") && v.name != "COV_CORE_SOURCE")
            .map(|v| v.name.as_str())
            .collect();
        let mut d = RULE.diagnostic(
                var.location.clone(),
                "set in the shell",
                format!(
                    "`COV_CORE_SOURCE` is set in the shell: every Python process started from it with {} starts pytest-cov's subprocess coverage",
                    ix.env_name()
                ),
            );
        for other in ix.vars.iter().filter(|v| others.contains(&v.name.as_str())) {
            d = d.label(other.location.clone(), "also pytest-cov's");
        }
        out.push(d.help(format!(
                "pytest-cov < 7 sets the `COV_CORE_*` variables for the children of a measured run and removes them afterwards; left in a shell (copied from a run's environment), they make `pytest-cov.pth` start coverage in every Python process, which writes data files next to `COV_CORE_DATAFILE` or fails with \"pytest-cov: Failed to setup subprocess coverage\". Unset them: `unset {}`",
                std::iter::once("COV_CORE_SOURCE")
                    .chain(others.iter().copied())
                    .collect::<Vec<_>>()
                    .join(" ")
            )));
    }
    if env.has("coverage") {
        for (name, what) in [
            (
                "COVERAGE_RCFILE",
                "every coverage run from this shell reads this file instead of the project's configuration (covdoctor's checks read it too)",
            ),
            (
                "COVERAGE_FILE",
                "every coverage run from this shell writes its data here instead of where the project's configuration says",
            ),
        ] {
            let Some(var) = ix.var(name).filter(|v| !v.value.is_empty()) else {
                continue;
            };
            out.push(
                RULE.diagnostic(
                    var.location.clone(),
                    "set in the shell",
                    format!("`{name}` is set in the shell: {what}"),
                )
                .help(format!(
                    "set it where a run needs it (tox `setenv`, a CI job's `env`), not in the shell: `unset {name}`"
                )),
            );
        }
    }
    if let Some(var) = ix.var("PYTEST_ADDOPTS") {
        let args: Vec<crate::config::pytest::Arg> = crate::config::pytest::split_args(&var.value)
            .unwrap_or_default()
            .into_iter()
            .map(|(text, _, _)| crate::config::pytest::Arg {
                text,
                location: var.location.clone(),
            })
            .collect();
        if let Some(off) = crate::config::pytest::cov_options(&args).disabled {
            // `-p no:cov` is two arguments: name both.
            let option = match args.iter().position(|a| a.text == off.text) {
                Some(i) if off.text == "-p" => args
                    .get(i + 1)
                    .map_or(off.text.clone(), |next| format!("-p {}", next.text)),
                _ => off.text.clone(),
            };
            out.push(
                RULE.diagnostic(
                    var.location.clone(),
                    format!("`{option}` turns pytest-cov off"),
                    "`PYTEST_ADDOPTS` in the shell turns coverage off for every pytest run from it",
                )
                .help("pytest adds `PYTEST_ADDOPTS` to every command line: remove the option from it (or `unset PYTEST_ADDOPTS`)"),
            );
        }
    }
    out
}
