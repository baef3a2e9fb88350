//! `fork-worker-unmeasured`: see rules/fork-worker-unmeasured.md.

use super::{Context, Rule, launch_label, launch_labels, relative};
use crate::analyze::{Launch, LaunchKind};
use crate::config::coverage::Selection;
use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::{Fix, config_edit};

pub static RULE: Rule = Rule {
    claims_loss: true,
    name: "fork-worker-unmeasured",
    summary: "a multiprocessing child is forked, and coverage is not set up to measure forked children",
    severity: Severity::Error,
    scope: super::Scope::Run,
    doc: include_str!("../../rules/fork-worker-unmeasured.md"),
    check: super::Check::Project(check),
};

/// Coverage is set up to measure forked multiprocessing children.
fn forks_measured(cx: &Context<'_>) -> bool {
    let coverage = &cx.coverage;
    let has = |key: &str, value: &str| {
        coverage
            .get("run", key)
            .and_then(|s| s.as_list())
            .is_some_and(|l| l.iter().any(|v| v == value))
    };
    let versions = &cx.run.versions;
    // coverage's multiprocessing support starts coverage in every worker;
    // with pytest-cov 7 (or `coverage run`), `patch = ["_exit"]` saves the
    // forked copy's data before os._exit().
    let exit_saves = has("patch", "_exit")
        && versions.coverage_has_patch()
        && (versions.pytest_cov_at_least_7() || !cx.run.pytest_cov_active());
    has("concurrency", "multiprocessing") || exit_saves
}

/// The start method a multiprocessing launch uses, as far as the project
/// says (`None`: the platform's default, fork on Linux before Python 3.14).
fn start_method<'a>(cx: &'a Context<'_>, launch: &'a Launch) -> Option<&'a str> {
    launch
        .start_method
        .as_deref()
        .or(cx.python.start_method.as_ref().map(|(m, _)| m.as_str()))
}

/// Whether the workers may run code the run measures: not a pool whose
/// every known task lives outside the run's sources (test helpers under
/// `--cov=pkg`).
pub fn runs_measured_code(cx: &Context<'_>, launch: &Launch) -> bool {
    launch
        .pool_tasks
        .as_ref()
        .is_none_or(|files| files.iter().any(|f| super::measures_file(cx, f)))
}

/// A forked Python child that coverage does not measure: the root cause
/// for it, so rules about how it is stopped stay silent.
pub fn unmeasured_fork(cx: &Context<'_>, launch: &Launch) -> bool {
    launch.kind == LaunchKind::Multiprocessing
        && launch.child.is_python()
        && cx.coverage.selection != Selection::Unknown
        && start_method(cx, launch).is_none_or(|m| m == "fork")
        && !forks_measured(cx)
}

fn check(cx: &Context<'_>) -> Vec<Diagnostic> {
    let project_method = cx.python.start_method.as_ref();
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for launch in &cx.python.launches {
        // A worker only a script's main block or unreached project code
        // starts is no evidence about the test suite.
        let default = start_method(cx, launch).is_none();
        // fork is the default on Linux only: a worker reached only from
        // tests skipped on Linux is spawned where it runs.
        let reached = if default {
            launch.reached_on_linux
        } else {
            launch.reached_from_tests
        };
        if !unmeasured_fork(cx, launch) || !reached || !runs_measured_code(cx, launch) {
            continue;
        }
        if !seen.insert((launch.location.file.path.clone(), launch.location.span)) {
            continue;
        }
        let how = if default {
            "is forked (the default start method on Linux before Python 3.14)"
        } else {
            "is started with the `fork` method"
        };
        let mut d = RULE
            .diagnostic(
                launch.location.clone(),
                launch_label(launch),
                format!(
                    "this multiprocessing child {how}: it runs no interpreter start-up, so no subprocess mechanism starts coverage in it, and it ends with os._exit(), so the copy of the parent's coverage it inherits never saves"
                ),
            )
            .labels(launch_labels(launch).into_iter().skip(1).collect());
        if let Some((m, at)) = project_method
            && launch.start_method.is_none()
        {
            d = d.label(at.clone(), format!("the start method is set to `{m}` here"));
        }
        out.push(
            d.help("add `multiprocessing` to coverage's `[run] concurrency` (with `thread`, which must then be listed too): coverage then measures every worker and saves when it ends; or start the workers with `multiprocessing.get_context(\"spawn\")`, which runs a fresh interpreter that the subprocess mechanism measures")
                .fix(concurrency_fix(cx)),
        );
    }
    out
}

/// Adds `multiprocessing` to `[run] concurrency` (with `thread` when the
/// option is not set, since naming any library drops the default).
fn concurrency_fix(cx: &Context<'_>) -> Option<Fix> {
    let coverage = &cx.coverage;
    let both = config_edit::Value::List(vec!["multiprocessing".into(), "thread".into()]);
    let edit = match coverage.effective() {
        Some(file) => match file.get("run", "concurrency") {
            Some(_) => config_edit::add_to_list(file, "run", "concurrency", "multiprocessing")?,
            None => config_edit::set_coverage_option(file, "run", "concurrency", &both)?,
        },
        None => super::new_coverage_setting(cx, "run", "concurrency", &both)?,
    };
    let name = relative(&cx.config.root, edit.path());
    Some(Fix::safe(
        format!("add `multiprocessing` to `[run] concurrency` in {name}"),
        vec![edit],
    ))
}
