//! `config-shadowed`: see rules/config-shadowed.md.

use super::{Context, Rule, relative};
use crate::config::coverage::Role;
use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{Location, Span};

pub static RULE: Rule = Rule {
    name: "config-shadowed",
    summary: "coverage settings sit in a file coverage.py never reads",
    severity: Severity::Error,
    doc: include_str!("../../rules/config-shadowed.md"),
    check,
};

fn check(cx: &Context<'_>) -> Vec<Diagnostic> {
    let coverage = &cx.config.coverage;
    let root = &cx.config.root;
    let mut out = Vec::new();

    // Settings in a file that loses to another one. When pytest is told
    // which file to use (`--cov-config`, `COVERAGE_RCFILE`) the choice is
    // deliberate.
    if let Some(effective) = coverage.effective()
        && matches!(
            effective.role,
            Role::Coveragerc | Role::CoveragercToml | Role::SetupCfg | Role::ToxIni
        )
    {
        let winner = relative(root, &effective.source.path);
        for shadowed in coverage.shadowed() {
            let loser = relative(root, &shadowed.source.path);
            let Some(first) = shadowed.sections.first() else {
                continue;
            };
            let ignored: Vec<String> = shadowed
                .settings
                .iter()
                .map(|s| format!("{}.{}", s.section, s.option))
                .collect();
            let winner_span = effective
                .sections
                .first()
                .map_or(Span::empty(0), |s| s.span);
            let winner_label = if effective.settings.is_empty() {
                format!("coverage.py reads {winner} (it exists, so it wins even without settings)")
            } else {
                format!("coverage.py reads {winner}")
            };
            let help = if effective.settings.is_empty() && effective.role == Role::Coveragerc {
                format!(
                    "{winner} holds no settings: delete it, or add `--cov-config={loser}` to pytest's addopts"
                )
            } else {
                format!(
                    "keep coverage settings in one file; move these into {winner}: {}",
                    ignored.join(", ")
                )
            };
            out.push(
                RULE.diagnostic(
                    Location::new(&shadowed.source, first.span),
                    "never read",
                    format!("coverage.py reads {winner}, so the coverage settings in {loser} are ignored"),
                )
                .label(Location::new(&effective.source, winner_span), winner_label)
                .help(help),
            );
        }
    }

    // A bare `[run]` in setup.cfg or tox.ini.
    for file in &coverage.candidates {
        let name = relative(root, &file.source.path);
        for section in &file.unread_sections {
            out.push(
                RULE.diagnostic(
                    Location::new(&file.source, section.span),
                    format!("coverage.py reads [coverage:{}] here", section.section),
                    format!(
                        "coverage.py never reads a bare [{}] section in {name}; its settings are ignored",
                        section.real_section
                    ),
                )
                .help(format!("rename the section to [coverage:{}]", section.section)),
            );
        }
    }
    out
}
