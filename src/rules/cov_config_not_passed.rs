//! `cov-config-not-passed`: see rules/cov-config-not-passed.md.

use std::path::{Path, PathBuf};

use super::env_drops_coverage::patches_subprocess;
use super::{Context, Rule, launch_labels, python_launches, relative};
use crate::analyze::{LaunchKind, Place};
use crate::config::coverage::Role;
use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::{Fix, config_edit};
use crate::source::{Location, Span};

pub static RULE: Rule = Rule {
    claims_loss: true,
    name: "cov-config-not-passed",
    summary: "with pytest-cov < 7, a Python child in another directory never finds coverage settings kept in pyproject.toml, setup.cfg or tox.ini",
    severity: Severity::Error,
    scope: super::Scope::Child,
    doc: include_str!("../../rules/cov-config-not-passed.md"),
    check: super::Check::Project(check),
};

/// `[run]` settings whose absence in a child loses or breaks its data.
const CHILD_SETTINGS: &[&str] = &[
    "sigterm",
    "branch",
    "concurrency",
    "patch",
    "plugins",
    "dynamic_context",
    "relative_files",
];

fn check(cx: &Context<'_>) -> Vec<Diagnostic> {
    let Some(cov) = &cx.run.cov.cov else {
        return Vec::new();
    };
    if cx.run.cov.cov_config.is_some() || cx.run.cov.disabled.is_some() {
        return Vec::new();
    }
    // pytest-cov 7 has no hook of its own: with coverage's subprocess patch
    // the whole configuration travels in COVERAGE_PROCESS_CONFIG, so the
    // child's directory does not matter.
    let versions = &cx.run.versions;
    if versions.pytest_cov_at_least_7()
        || (!versions.pytest_cov_below_7() && patches_subprocess(cx))
    {
        return Vec::new();
    }
    let Some(file) = cx.coverage.effective() else {
        return Vec::new();
    };
    // pytest-cov passes the absolute path of `.coveragerc` when it exists;
    // any other file is left for the child to discover in its own cwd.
    if matches!(
        file.role,
        Role::Coveragerc | Role::RcfileEnv | Role::CovConfigOption(_)
    ) {
        return Vec::new();
    }
    // Only some `[run]` settings change what the child records; the others
    // (omit, source, data_file...) are applied when pytest combines and
    // reports, or come from pytest-cov's variables.
    let run: Vec<_> = file
        .settings
        .iter()
        .filter(|s| s.section == "run" && CHILD_SETTINGS.contains(&s.option.as_str()))
        .collect();
    if run.is_empty() {
        return Vec::new();
    }
    let root = &cx.config.root;
    let file_name = relative(root, &file.source.path);
    let mut out = Vec::new();
    for (_, launch) in python_launches(cx.python) {
        if launch.kind == LaunchKind::Multiprocessing {
            continue;
        }
        let Some(cwd) = &launch.cwd else { continue };
        let Some(where_) = elsewhere(&cwd.place, root) else {
            continue;
        };
        let names: Vec<String> = run.iter().map(|s| format!("`{}`", s.option)).collect();
        let mut d = RULE
            .diagnostic(
                cwd.location.clone(),
                format!("the child runs in {where_}"),
                format!(
                    "this Python child runs in another directory, where pytest-cov < 7 makes it look for coverage settings; {file_name} is not there, so the child runs without {}",
                    names.join(", ")
                ),
            )
            .labels(launch_labels(launch))
            .label(cov.location.clone(), "pytest-cov runs without --cov-config");
        if versions.pytest_cov.source.is_some() {
            d = super::with_version(d, &versions.pytest_cov, "pytest-cov");
        }
        let first = run[0];
        d = d.label(
            Location::new(
                &file.source,
                Span::new(first.key_span.start, first.value_span.end),
            ),
            format!("settings the child does not see ({file_name})"),
        );
        let arg = format!("--cov-config={file_name}");
        // Next to `--cov` where the run gives it on its own command line
        // (tox, CI, make), else in pytest's addopts.
        let in_addopts = cx
            .config
            .pytest
            .as_ref()
            .is_some_and(|p| p.source.path == cov.location.file.path);
        let (edit, place) = if in_addopts {
            (
                cx.config
                    .pytest
                    .as_ref()
                    .and_then(|pytest| config_edit::add_addopt(pytest, &arg)),
                "to addopts in",
            )
        } else {
            (
                config_edit::after_arg(&cov.location, &arg),
                "after `--cov` in",
            )
        };
        let fix = edit.map(|edit| {
            let where_ = relative(root, edit.path());
            Fix::safe(format!("add `{arg}` {place} {where_}"), vec![edit])
        });
        let help = if in_addopts {
            format!(
                "add `{arg}` to pytest's addopts: pytest-cov then gives the child the absolute path of the file"
            )
        } else {
            format!(
                "add `{arg}` next to `--cov` on the run's command line: pytest-cov then gives the child the absolute path of the file"
            )
        };
        out.push(d.help(help).fix(fix));
    }
    out
}

/// A description of the directory when it is provably not the project
/// root; `None` when it is the root or cannot be known.
pub(super) fn elsewhere(place: &Place, root: &Path) -> Option<String> {
    match place {
        Place::Temporary(what) => Some(format!("a temporary directory (`{what}`)")),
        Place::Path { path, relative } => {
            let abs: PathBuf = if *relative {
                root.join(path)
            } else {
                path.clone()
            };
            (crate::source::normalize(&abs) != crate::source::normalize(root))
                .then(|| format!("`{}`", path.display()))
        }
        _ => None,
    }
}
