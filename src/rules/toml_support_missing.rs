//! `toml-support-missing`: see rules/toml-support-missing.md.

use super::Rule;
use crate::config::coverage::{Format, Role};
use crate::diagnostic::{Diagnostic, Severity};
use crate::doctor::Inspection;
use crate::source::Location;

pub static RULE: Rule = Rule {
    claims_loss: false,
    name: "toml-support-missing",
    summary: "The project's coverage configuration is TOML, and the environment's coverage.py has no TOML library to read it",
    severity: Severity::Error,
    scope: super::Scope::Environment,
    doc: include_str!("../../rules/toml-support-missing.md"),
    check: super::Check::Environment(check),
};

fn check(ix: &Inspection<'_>) -> Vec<Diagnostic> {
    let Some(project) = ix.project else {
        return Vec::new();
    };
    if project.measuring.is_empty() {
        return Vec::new();
    }
    let Some(file) = project.coverage.effective() else {
        return Vec::new();
    };
    if file.format != Format::Toml {
        return Vec::new();
    }
    let env = ix.env;
    let (Some(python), Some(coverage)) = (env.python, env.version("coverage")) else {
        return Vec::new();
    };
    let at_least = |parts: &[u64]| *coverage >= pep440_rs::Version::new(parts.iter().copied());
    // coverage 5 imports `toml`; 6.0 to 6.3 `tomli` on every Python; 6.4
    // and later the standard library's `tomllib` on 3.11+, `tomli` before.
    let library = if !at_least(&[6]) {
        "toml"
    } else if !at_least(&[6, 4]) || python < (3, 11) {
        "tomli"
    } else {
        return Vec::new();
    };
    if env.has(library) {
        return Vec::new();
    }
    let name = file
        .source
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let effect = if file.role == Role::Pyproject {
        format!(
            "coverage.py fails with \"Can't read '{name}' without TOML support\" when the file has a `[tool.coverage.*]` table, and silently ignores its settings otherwise"
        )
    } else {
        format!("coverage.py fails with \"Can't read '{name}' without TOML support\"")
    };
    let at = file
        .sections
        .first()
        .map(|s| Location::new(&file.source, s.span))
        .unwrap_or_else(|| Location::new(&file.source, crate::source::Span::new(0, 0)));
    vec![
        RULE.diagnostic(
            at,
            "read by coverage.py as TOML",
            format!(
                "{} has coverage {coverage} on Python {}.{} without `{library}`: coverage.py cannot read {name}",
                ix.env_name(),
                python.0,
                python.1
            ),
        )
        .help(format!(
            "{effect}. Install the TOML extra: `python -m pip install 'coverage[toml]=={coverage}'` (pytest-cov depends on it since 2.12)"
        )),
    ]
}
