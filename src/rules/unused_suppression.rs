//! `unused-suppression`: see rules/unused-suppression.md. Its findings come
//! from the suppression step (`crate::suppress`), which runs after the other
//! rules: only then is it known what each suppression silenced.

use super::{Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};

pub static RULE: Rule = Rule {
    claims_loss: false,
    name: "unused-suppression",
    summary: "a `covdoctor: ignore[...]` comment that silences nothing",
    severity: Severity::Warning,
    scope: super::Scope::Project,
    doc: include_str!("../../rules/unused-suppression.md"),
    check: super::Check::Project(check),
};

fn check(_: &Context<'_>) -> Vec<Diagnostic> {
    Vec::new()
}
