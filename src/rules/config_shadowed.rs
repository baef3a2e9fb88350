//! `config-shadowed`: see rules/config-shadowed.md.

use super::{Context, Rule, relative};
use crate::config::coverage::Role;
use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::{Edit, Fix, config_edit};
use crate::source::Source;
use crate::source::{Location, Span};

pub static RULE: Rule = Rule {
    claims_loss: false,
    name: "config-shadowed",
    summary: "coverage settings sit in a file coverage.py never reads",
    severity: Severity::Error,
    // A run's own `--cov-config` or `COVERAGE_RCFILE` decides which file
    // coverage reads.
    scope: super::Scope::Run,
    doc: include_str!("../../rules/config-shadowed.md"),
    check: super::Check::Project(check),
};

fn check(cx: &Context<'_>) -> Vec<Diagnostic> {
    let coverage = &cx.coverage;
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
        let shadowed_count = coverage.shadowed().count();
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
            // Only an empty `.coveragerc` is repaired automatically, and only
            // when one file is shadowed (pointing pytest at one file would
            // leave another ignored without a finding).
            let fix = if effective.settings.is_empty()
                && effective.role == Role::Coveragerc
                && shadowed_count == 1
            {
                empty_coveragerc_fix(cx, &effective.source, &loser)
            } else {
                None
            };
            out.push(
                RULE.diagnostic(
                    Location::new(&shadowed.source, first.span),
                    "never read",
                    format!("coverage.py reads {winner}, so the coverage settings in {loser} are ignored"),
                )
                .label(Location::new(&effective.source, winner_span), winner_label)
                .help(help)
                .fix(fix),
            );
        }
    }

    // A `.coveragerc.toml` the run's coverage is too old to look for.
    if let Some(unread) = &coverage.too_new
        && unread.has_settings()
        && let Some(first) = unread.sections.first()
    {
        let name = relative(root, &unread.source.path);
        let version = cx.run.versions.coverage.describe("coverage");
        let ignored: Vec<String> = unread
            .settings
            .iter()
            .map(|s| format!("{}.{}", s.section, s.option))
            .collect();
        let mut diagnostic = RULE.diagnostic(
            Location::new(&unread.source, first.span),
            "never read",
            format!(
                "coverage.py looks for {name} only from 7.13 on; this run uses {version}, so the coverage settings in {name} are ignored"
            ),
        );
        let target = match coverage.effective() {
            Some(effective) => {
                let winner = relative(root, &effective.source.path);
                let span = effective
                    .sections
                    .first()
                    .map_or(Span::empty(0), |s| s.span);
                diagnostic = diagnostic.label(
                    Location::new(&effective.source, span),
                    format!("coverage.py reads {winner} instead"),
                );
                winner
            }
            None => "pyproject.toml ([tool.coverage.*])".to_string(),
        };
        out.push(diagnostic.help(format!(
            "require coverage>=7.13, or move these into {target}: {}",
            ignored.join(", ")
        )));
    }

    // A bare `[run]` in setup.cfg or tox.ini, or in a TOML file coverage
    // older than 7.13 reads.
    for file in &coverage.candidates {
        let name = relative(root, &file.source.path);
        for section in &file.unread_sections {
            if file.format == crate::config::coverage::Format::Toml {
                let version = cx.run.versions.coverage.describe("coverage");
                out.push(
                    RULE.diagnostic(
                        Location::new(&file.source, section.span),
                        "never read before coverage 7.13",
                        format!(
                            "coverage.py reads only [tool.coverage.*] tables in {name} before 7.13; this run uses {version}, so the settings in [{}] are ignored",
                            section.real_section
                        ),
                    )
                    .help(format!(
                        "rename the table to [tool.coverage.{}], or require coverage>=7.13",
                        section.section
                    )),
                );
                continue;
            }
            let prefixed = format!("coverage:{}", section.section);
            let fix = (!file.sections.iter().any(|s| s.real_section == prefixed)).then(|| {
                Fix::safe(
                    format!(
                        "rename [{}] to [{prefixed}] in {name}",
                        section.real_section
                    ),
                    vec![config_edit::rename_section(
                        &file.source,
                        section.span,
                        &prefixed,
                    )],
                )
            });
            out.push(
                RULE.diagnostic(
                    Location::new(&file.source, section.span),
                    format!("coverage.py reads [coverage:{}] here", section.section),
                    format!(
                        "coverage.py never reads a bare [{}] section in {name}; its settings are ignored",
                        section.real_section
                    ),
                )
                .help(format!("rename the section to [coverage:{}]", section.section))
                .fix(fix),
            );
        }
    }
    out
}

/// An empty `.coveragerc` hides the real settings: point pytest at the file
/// that holds them (safe), or, without a pytest configuration to add it to,
/// delete the `.coveragerc` when it holds nothing but comments (unsafe:
/// `coverage` commands run by hand then read the other file too).
fn empty_coveragerc_fix(cx: &Context<'_>, coveragerc: &Source, loser: &str) -> Option<Fix> {
    if let Some(pytest) = &cx.config.pytest {
        let arg = format!("--cov-config={loser}");
        let edit = config_edit::add_addopt(pytest, &arg)?;
        let name = relative(&cx.config.root, edit.path());
        return Some(Fix::safe(
            format!("add `{arg}` to addopts in {name}"),
            vec![edit],
        ));
    }
    let blank = coveragerc.text.lines().all(|l| {
        l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim_start().starts_with(';')
    });
    blank.then(|| {
        Fix::unsafe_(
            "delete the empty .coveragerc".to_string(),
            vec![Edit::Delete {
                path: coveragerc.path.clone(),
            }],
        )
    })
}
