//! `subprocess-patch-missing`: see rules/subprocess-patch-missing.md.

use super::env_drops_coverage::{patches_subprocess, uses_subprocess_patch};
use super::{Context, Rule, launch_label, python_launches, relative, with_version};
use crate::analyze::LaunchKind;
use crate::config::coverage::Selection;
use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::{Fix, config_edit};
use crate::source::{Location, Span};

pub static RULE: Rule = Rule {
    claims_loss: true,
    name: "subprocess-patch-missing",
    summary: "pytest-cov >= 7 measures Python children only with coverage's `patch = [\"subprocess\"]`, which is not set",
    severity: Severity::Error,
    scope: super::Scope::Run,
    doc: include_str!("../../rules/subprocess-patch-missing.md"),
    check: super::Check::Project(check),
};

/// How many child launches are labelled.
const LABELS: usize = 3;

fn check(cx: &Context<'_>) -> Vec<Diagnostic> {
    let coverage = &cx.coverage;
    let versions = &cx.run.versions;
    if !uses_subprocess_patch(cx)
        || patches_subprocess(cx)
        || coverage.selection == Selection::Unknown
        // The manual recipe starts coverage itself.
        || cx.startup_hook()
        || cx.mechanism() == crate::runs::Mechanism::ProcessStart
    {
        return Vec::new();
    }
    let children: Vec<_> = python_launches(cx.python)
        .map(|(_, l)| l)
        .filter(|l| matches!(l.kind, LaunchKind::Subprocess | LaunchKind::Spawn))
        .collect();
    let Some(first) = children.first() else {
        return Vec::new();
    };
    let tool = if cx.run.coverage_run.is_some() && !cx.run.pytest_cov_active() {
        format!(
            "`coverage run` ({})",
            versions.coverage.describe("coverage")
        )
    } else if versions.pytest_cov_at_least_7() {
        versions.pytest_cov.describe("pytest-cov")
    } else {
        format!(
            "{}, with no pytest-cov,",
            versions.coverage.describe("coverage")
        )
    };
    // Children counted by where they are started (a helper called from
    // many tests starts one kind of child).
    let started: std::collections::BTreeSet<(std::path::PathBuf, Span)> = children
        .iter()
        .map(|c| {
            let at = c.via.last().unwrap_or(&c.location);
            (at.file.path.clone(), at.span)
        })
        .collect();
    // The labels show LABELS of them, and the primary location one more
    // when there is no configuration file to point at.
    let shown = LABELS + usize::from(coverage.effective().is_none());
    let count = match started.len() {
        1 => "the Python child the project starts runs".to_string(),
        n if n <= shown => format!("the {n} Python children the project starts run"),
        n => format!("the {n} Python children the project starts (the first {shown} shown) run"),
    };
    let (primary, label, file_name) = match coverage.effective() {
        Some(file) => {
            let name = relative(&cx.config.root, &file.source.path);
            let span = file
                .get("run", "patch")
                .map(|s| Span::new(s.key_span.start, s.value_span.end))
                .or_else(|| {
                    file.sections
                        .iter()
                        .find(|s| s.section == "run")
                        .map(|s| s.span)
                })
                .or_else(|| file.sections.first().map(|s| s.span))
                .unwrap_or(Span::empty(0));
            (
                Location::new(&file.source, span),
                format!("{name} does not patch `subprocess`"),
                Some(name),
            )
        }
        None => (first.location.clone(), launch_label(first), None),
    };
    let missing = match file_name {
        Some(name) => format!("which {name} does not set"),
        None => "and the project has no coverage configuration".to_string(),
    };
    let mut d = RULE.diagnostic(
        primary,
        label,
        if versions.coverage_lacks_patch() {
            format!(
                "{tool} starts coverage in no Python subprocess: coverage before 7.10 has no `patch = [\"subprocess\"]`, and no process_startup() hook is set up: {count} unmeasured"
            )
        } else {
            format!(
                "{tool} measures Python subprocesses only through coverage's `patch = [\"subprocess\"]`, {missing}: {count} unmeasured"
            )
        },
    );
    // Without a configuration file the first child is the primary location
    // already.
    let primary = (
        d.primary.location.file.path.clone(),
        d.primary.location.span,
    );
    // One label per place children are started.
    let mut labelled = std::collections::BTreeSet::new();
    for child in children
        .iter()
        .filter(|c| (c.location.file.path.clone(), c.location.span) != primary)
    {
        let at = child.via.last().unwrap_or(&child.location);
        if labelled.len() >= LABELS || !labelled.insert((at.file.path.clone(), at.span)) {
            continue;
        }
        d = d.label(child.location.clone(), launch_label(child));
    }
    d.sites = children.iter().map(|c| c.location.clone()).collect();
    if versions.pytest_cov_at_least_7() {
        d = with_version(d, &versions.pytest_cov, "pytest-cov");
    } else {
        d = with_version(d, &versions.coverage, "coverage");
    }
    // coverage < 7.10 has no `patch`: adding it would change nothing.
    if versions.coverage_lacks_patch() {
        let coverage = versions.coverage.describe("coverage");
        return vec![d.help(format!(
            "{coverage} has no `patch` option: require coverage >= 7.10 and add `patch = [\"subprocess\"]` to coverage's `[run]` section, or start coverage in children yourself (set COVERAGE_PROCESS_START and call `coverage.process_startup()` from a `.pth` file)"
        ))];
    }
    let fix = patch_fix(cx, "subprocess");
    vec![
        d.help(
            "add `patch = [\"subprocess\"]` to coverage's `[run]` section (`patch = subprocess` in INI files): coverage then starts in every Python child and passes it the whole configuration; pytest-cov 7 removed its own subprocess support",
        )
        .fix(fix),
    ]
}

/// Adds `value` (`subprocess`, `_exit`) to `[run] patch` in the file
/// coverage reads (or in new configuration).
pub fn patch_fix(cx: &Context<'_>, value: &str) -> Option<Fix> {
    let coverage = &cx.coverage;
    let edit = match coverage.effective() {
        Some(file) => config_edit::add_to_list(file, "run", "patch", value)?,
        None => super::new_coverage_setting(
            cx,
            "run",
            "patch",
            &config_edit::Value::List(vec![value.to_string()]),
        )?,
    };
    let name = relative(&cx.config.root, edit.path());
    Some(Fix::safe(
        format!("add `{value}` to `[run] patch` in {name}"),
        vec![edit],
    ))
}
