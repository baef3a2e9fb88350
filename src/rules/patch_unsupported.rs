//! `patch-unsupported`: see rules/patch-unsupported.md.

use super::{Context, Rule, with_version};
use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{Location, Span};

pub static RULE: Rule = Rule {
    claims_loss: false,
    name: "patch-unsupported",
    summary: "`[run] patch` is set, but the project's coverage.py is older than 7.10 and ignores it",
    severity: Severity::Warning,
    scope: super::Scope::Run,
    doc: include_str!("../../rules/patch-unsupported.md"),
    check: super::Check::Project(check),
};

fn check(cx: &Context<'_>) -> Vec<Diagnostic> {
    let versions = &cx.run.versions;
    if !versions.coverage_lacks_patch() {
        return Vec::new();
    }
    let Some(file) = cx.coverage.effective() else {
        return Vec::new();
    };
    let Some(setting) = file.get("run", "patch") else {
        return Vec::new();
    };
    let coverage = versions.coverage.describe("coverage");
    vec![
        with_version(
            RULE.diagnostic(
                Location::new(&file.source, Span::new(setting.key_span.start, setting.value_span.end)),
                "ignored",
                format!("{coverage} does not know `[run] patch` (added in coverage 7.10): it warns \"Unrecognized option\" and ignores it"),
            ),
            &versions.coverage,
            "coverage",
        )
        .help("require coverage >= 7.10 (pytest-cov 7 needs 7.10.6), or remove the setting; with pytest-cov < 7 its own hook still measures the children"),
    ]
}
