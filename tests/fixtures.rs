//! Every `fixtures/<rule>/<case>/` is a small project. A case named
//! `fires-*` must make its rule report; a case named `ok-*` (a near miss)
//! must produce no finding at all. The rendered output of every `fires-*`
//! case is an insta snapshot.

mod common;

use common::{check, render, repo, subdirs};
use libtest_mimic::{Arguments, Failed, Trial};

/// Fixture directories that are not rule names.
const OTHER_FIXTURES: &[&str] = &["seed-server"];

fn main() {
    let args = Arguments::from_args();
    let fixtures = repo().join("fixtures");
    let mut trials = Vec::new();
    let fixtures_for_orphans = fixtures.clone();
    for rule_dir in subdirs(&fixtures) {
        let rule = rule_dir.file_name().unwrap().to_string_lossy().into_owned();
        if OTHER_FIXTURES.contains(&rule.as_str()) {
            continue;
        }
        trials.push(Trial::test(format!("{rule}::is_a_rule"), {
            let rule = rule.clone();
            move || {
                covdoctor::rules::by_name(&rule)
                    .map(|_| ())
                    .ok_or_else(|| Failed::from(format!("fixtures/{rule} does not name a rule")))
            }
        }));
        for case in subdirs(&rule_dir) {
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            let rule = rule.clone();
            trials.push(Trial::test(format!("prefilter::{rule}::{name}"), {
                let case = case.clone();
                move || same_without_prefilter(&case)
            }));
            let environment = covdoctor::rules::by_name(&rule)
                .is_some_and(|r| r.scope == covdoctor::rules::Scope::Environment);
            trials.push(Trial::test(format!("{rule}::{name}"), move || {
                if environment {
                    doctor_case(&rule, &name, &case)
                } else {
                    run_case(&rule, &name, &case)
                }
            }));
        }
    }
    trials.push(Trial::test("snapshots::none_orphaned", move || {
        let dir = repo().join("tests/snapshots");
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(".snap") else {
                continue;
            };
            let Some((rule, case)) = stem.split_once("__") else {
                continue;
            };
            // `runs__<rule>__<case>`: the runs of any fixture.
            if rule == "runs" {
                let Some((rule, case)) = case.split_once("__") else {
                    return Err(format!("tests/snapshots/{name} names no fixture").into());
                };
                if !fixtures_for_orphans.join(rule).join(case).is_dir() {
                    return Err(format!("tests/snapshots/{name} belongs to no fixture").into());
                }
                continue;
            }
            // Snapshots of the other test files (`tests/cli.rs`, ...).
            if repo().join("tests").join(format!("{rule}.rs")).is_file() {
                continue;
            }
            if !case.starts_with("fires-") || !fixtures_for_orphans.join(rule).join(case).is_dir() {
                return Err(format!("tests/snapshots/{name} belongs to no fires-* fixture").into());
            }
        }
        Ok(())
    }));
    libtest_mimic::run(&args, trials).exit();
}

/// The prefilter (which modules' calls are resolved) changes nothing: the
/// same findings, problems and rendering with every module's calls
/// resolved.
fn same_without_prefilter(case: &std::path::Path) -> Result<(), Failed> {
    let paths = [case.to_path_buf()];
    let with = covdoctor::check(&paths, &covdoctor::RunOptions::default());
    let without = covdoctor::check(
        &paths,
        &covdoctor::RunOptions {
            no_prefilter: true,
            ..Default::default()
        },
    );
    let (with, without) = (render(&with, case), render(&without, case));
    if with != without {
        return Err(format!(
            "the prefilter changed the outcome:\n--- with\n{with}\n--- without\n{without}"
        )
        .into());
    }
    Ok(())
}

/// The runs covdoctor finds in a fixture that declares more than the
/// local run (tox, nox, CI, make), snapshotted as `runs__<rule>__<case>`:
/// `covdoctor runs` must list what the fixture declares.
fn runs_snapshot(rule: &str, name: &str, case: &std::path::Path) {
    let (projects, _) = covdoctor::list_runs(&[case.to_path_buf()], &Default::default());
    if projects.iter().all(|p| p.runs.len() <= 1) {
        return;
    }
    let style = covdoctor::report::Style {
        color: false,
        width: 100,
        cwd: repo(),
    };
    let text = covdoctor::report::runs::render_text(&projects, &style);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(repo().join("tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(format!("runs__{rule}__{name}"), text));
}

/// A case of an environment rule: `covdoctor doctor` on the project with
/// the environment its `doctor.toml` lays out (see
/// [`common::lay_out_environment`]).
fn doctor_case(rule: &str, name: &str, case: &std::path::Path) -> Result<(), Failed> {
    if !case.join("doctor.toml").is_file() {
        return Err("a case of an environment rule has a doctor.toml".into());
    }
    let (report, _tmp, project) = common::doctor_case(case);
    let rendered = common::render_doctor(&report, &project);
    if !report.problems.is_empty() {
        return Err(format!("fixture has input problems:\n{rendered}").into());
    }
    if name.starts_with("ok-") {
        if !report.diagnostics.is_empty() {
            return Err(format!("near miss must be clean, got:\n{rendered}").into());
        }
        return Ok(());
    }
    if !name.starts_with("fires-") {
        return Err("case names start with `fires-` or `ok-`".into());
    }
    if !report.diagnostics.iter().any(|d| d.rule == rule) {
        return Err(format!("`{rule}` did not fire:\n{rendered}").into());
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(repo().join("tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(format!("{rule}__{name}"), rendered));
    Ok(())
}

fn run_case(rule: &str, name: &str, case: &std::path::Path) -> Result<(), Failed> {
    runs_snapshot(rule, name, case);
    let outcome = check(case);
    let rendered = render(&outcome, &repo());
    if !outcome.problems.is_empty() {
        return Err(format!("fixture has input problems:\n{rendered}").into());
    }
    let fired = outcome.diagnostics.iter().any(|d| d.rule == rule);
    if name.starts_with("ok-") {
        if !outcome.diagnostics.is_empty() {
            return Err(format!("near miss must be clean, got:\n{rendered}").into());
        }
        return Ok(());
    }
    if !name.starts_with("fires-") {
        return Err("case names start with `fires-` or `ok-`".into());
    }
    if !fired {
        return Err(format!("`{rule}` did not fire:\n{rendered}").into());
    }
    // A place is labelled once per finding.
    for d in &outcome.diagnostics {
        let mut places = std::collections::BTreeSet::new();
        for label in std::iter::once(&d.primary).chain(&d.labels) {
            let place = (
                label.location.file.path.clone(),
                label.location.span.start,
                label.location.span.end,
            );
            if !places.insert(place) {
                return Err(format!("`{}` labels a place twice:\n{rendered}", d.rule).into());
            }
        }
    }
    let (run, diff) = common::fix(case, &repo());
    let fixes = if run.changes.is_empty() {
        "no fix\n".to_string()
    } else {
        format!("fixes (safe and unsafe):\n{diff}")
    };
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(repo().join("tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::assert_snapshot!(format!("{rule}__{name}"), format!("{rendered}\n{fixes}"))
    });
    Ok(())
}
