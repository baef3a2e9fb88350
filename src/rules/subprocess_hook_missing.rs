//! `subprocess-hook-missing`: see rules/subprocess-hook-missing.md.

use super::Rule;
use crate::diagnostic::{Diagnostic, Severity};
use crate::doctor::{Inspection, line_of};
use crate::environment::HookKind;
use crate::runs::Mechanism;

pub static RULE: Rule = Rule {
    claims_loss: true,
    name: "subprocess-hook-missing",
    summary: "The environment lacks the `.pth` hook that starts coverage in a Python child",
    severity: Severity::Error,
    scope: super::Scope::Environment,
    doc: include_str!("../../rules/subprocess-hook-missing.md"),
    check: super::Check::Environment(check),
};

fn check(ix: &Inspection<'_>) -> Vec<Diagnostic> {
    if !ix.measures_children() {
        return Vec::new();
    }
    let env = ix.env;
    let at_least = |package: &str, parts: &[u64]| {
        env.version(package)
            .is_some_and(|v| *v >= pep440_rs::Version::new(parts.iter().copied()))
    };
    let (package, hook, what) = match ix.mechanism() {
        Some(Mechanism::PytestCovHook)
            if env.has("pytest-cov") && !at_least("pytest-cov", &[7]) =>
        {
            if env.hooks(&HookKind::PytestCov).next().is_some() {
                return Vec::new();
            }
            (
                "pytest-cov",
                "pytest-cov.pth",
                "pytest-cov < 7 starts coverage in a child through it (when `COV_CORE_SOURCE` is set)",
            )
        }
        Some(m @ (Mechanism::SubprocessPatch | Mechanism::ProcessStart))
            if at_least("coverage", &[7, 13]) =>
        {
            let custom =
                m == Mechanism::ProcessStart && env.hooks(&HookKind::Custom).next().is_some();
            if custom || env.hooks(&HookKind::Coverage).next().is_some() {
                return Vec::new();
            }
            (
                "coverage",
                "a1_coverage.pth",
                "coverage 7.13+ starts coverage in a child through it (when `COVERAGE_PROCESS_CONFIG` or `COVERAGE_PROCESS_START` is set)",
            )
        }
        _ => return Vec::new(),
    };
    let Some(dist) = env.distributions.get(package) else {
        return Vec::new();
    };
    let version = dist
        .version
        .as_ref()
        .map_or_else(String::new, |v| format!(" {v}"));
    let sites: Vec<String> = env.site_dirs.iter().map(|d| ix.display(d)).collect();
    vec![
        RULE.diagnostic(
            line_of(&dist.metadata, "Version:"),
            format!("{package}{version} installed without `{hook}`"),
            format!(
                "{package}{version} is installed in {} without its `{hook}` hook: no Python child the tests start is measured",
                ix.env_name()
            ),
        )
        .help(format!(
            "{what}; its wheel installs `{hook}` into site-packages, an install that skips top-level files (an egg, `--target`, `PYTHONPATH`, some bundlers) does not. Reinstall it from the wheel: `python -m pip install --force-reinstall --no-deps {package}{}` (looked in {})",
            dist.version.as_ref().map_or_else(String::new, |v| format!("=={v}")),
            sites.join(", ")
        )),
    ]
}
