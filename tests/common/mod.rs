//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use covdoctor::report::{self, Style};
use covdoctor::{Outcome, RunOptions};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn check(path: &Path) -> Outcome {
    covdoctor::check(&[path.to_path_buf()], &RunOptions::default())
}

/// The full rendering, as a user sees it without colours, with paths
/// relative to `cwd`.
pub fn render(outcome: &Outcome, cwd: &Path) -> String {
    let style = Style {
        color: false,
        width: 100,
        cwd: cwd.to_path_buf(),
    };
    let mut out = report::render_problems(&outcome.problems, &style);
    out.push_str(&report::render_full(&outcome.diagnostics, &style));
    out.push_str(&report::summary(&outcome.diagnostics, &outcome.problems));
    out.push('\n');
    out
}

/// Applies every fix (safe and unsafe) in memory and checks the fix
/// invariants: fixes converge, every changed file still parses (checked by
/// the fix run itself), and fixing the result again changes nothing.
/// Returns the run and its diff.
pub fn fix(path: &Path, cwd: &Path) -> (covdoctor::fix::FixRun, String) {
    let paths = [path.to_path_buf()];
    let run = covdoctor::fix::run(&paths, &RunOptions::default(), true);
    assert!(
        run.problems.is_empty(),
        "fix run problems: {:?}",
        run.problems
    );
    let style = Style {
        color: false,
        width: 100,
        cwd: cwd.to_path_buf(),
    };
    let diff = report::render_diff(&run.changes, &style);
    let fixed = covdoctor::fix::Overlay::with_changes(
        std::sync::Arc::new(covdoctor::source::Disk),
        &run.changes,
    );
    let again = covdoctor::fix::run_on(
        &paths,
        &RunOptions::default(),
        true,
        std::sync::Arc::new(fixed),
    );
    assert!(
        again.changes.is_empty(),
        "a second fix run changed {:?}",
        again.changes.keys()
    );
    (run, diff)
}

/// Sorted subdirectories.
pub fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

/// Creates (or reuses, when it has the same pins) a virtual environment at
/// `dir` with the pinned packages from PyPI.
pub fn venv(dir: &Path, pins: &[&str]) -> Result<PathBuf, String> {
    let dir = dir.to_path_buf();
    let stamp = dir.join("covdoctor-pins.txt");
    let wanted = pins.join("\n");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) {
        return Ok(dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&dir)
        .status()
        .map_err(|e| format!("python3 -m venv: {e}"))?;
    if !status.success() {
        return Err(format!("python3 -m venv {} failed", dir.display()));
    }
    let out = Command::new(dir.join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "-q",
        ])
        .args(pins)
        .output()
        .map_err(|e| format!("pip: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "pip install {} failed:\n{}",
            pins.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    std::fs::write(&stamp, wanted).map_err(|e| e.to_string())?;
    Ok(dir)
}

/// Copies a directory tree, without `__pycache__`.
pub fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() == "__pycache__" {
                continue;
            }
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs the covdoctor binary in `cwd`, without colours and without the
/// caller's `COVERAGE_RCFILE` or virtual environment.
pub fn covdoctor(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_covdoctor"))
        .args(args)
        .current_dir(cwd)
        .env_remove("COVERAGE_RCFILE")
        .env_remove("VIRTUAL_ENV")
        .env_remove("COVDOCTOR_OUTPUT_FORMAT")
        .env("NO_COLOR", "1")
        .output()
        .expect("run covdoctor")
}

/// Runs the covdoctor binary as [`covdoctor`] does, with a deadline: `None`
/// when it did not finish within `secs` (it is killed), so a hang fails a
/// test instead of stalling it.
pub fn covdoctor_within(args: &[&str], cwd: &Path, secs: u64) -> Option<Output> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_covdoctor"))
        .args(args)
        .current_dir(cwd)
        .env_remove("COVERAGE_RCFILE")
        .env_remove("VIRTUAL_ENV")
        .env_remove("COVDOCTOR_OUTPUT_FORMAT")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run covdoctor");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while child.try_wait().expect("wait for covdoctor").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Some(child.wait_with_output().expect("covdoctor's output"))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A temporary project with these files.
pub fn project(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    dir
}

/// Lays out the environment a fixture's `doctor.toml` describes, as a
/// virtual environment at `<project>/.venv` (or `at`), from the files of
/// the real wheels in `tests/environments/` (see its `extract` script):
/// `install` names their directories, `remove` deletes files from
/// site-packages, `copy` copies single files of them into it (a `.pth`
/// left behind), `[site-packages]` adds files to it. Returns the shell
/// variables of `[env]` and the environment's directory.
pub fn lay_out_environment(case: &Path, project: &Path) -> (Vec<(String, String)>, PathBuf) {
    let doc = doctor_toml(case);
    let python = doc.get("python").and_then(|p| p.as_str()).unwrap_or("3.11");
    let venv = project.join(doc.get("at").and_then(|p| p.as_str()).unwrap_or(".venv"));
    let site = venv.join(format!("lib/python{python}/site-packages"));
    std::fs::create_dir_all(&site).unwrap();
    std::fs::create_dir_all(venv.join("bin")).unwrap();
    std::fs::write(
        venv.join("pyvenv.cfg"),
        format!("home = /usr/bin\ninclude-system-site-packages = false\nversion = {python}.7\n"),
    )
    .unwrap();
    for dist in toml_strings(&doc, "install") {
        let from = repo().join("tests/environments").join(&dist);
        assert!(from.is_dir(), "tests/environments/{dist} does not exist");
        copy_dir(&from, &site);
    }
    change_site_packages(&doc, &site);
    let vars = doc
        .get("env")
        .and_then(|t| t.as_table())
        .map(|t| {
            t.iter()
                .map(|(k, v)| (k.to_string(), v.as_str().unwrap().to_string()))
                .collect()
        })
        .unwrap_or_default();
    (vars, venv)
}

/// `covdoctor doctor` on a fixture: its environment laid out in a copy of
/// it; returns the report and the copy (kept alive by the returned
/// directory).
pub fn doctor_case(case: &Path) -> (covdoctor::doctor::Report, tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join(case.file_name().unwrap());
    std::fs::create_dir_all(&project).unwrap();
    copy_dir(case, &project);
    let (vars, _) = lay_out_environment(case, &project);
    let report = covdoctor::doctor::doctor(&project, None, &vars, &RunOptions::default());
    (report, tmp, project)
}

/// The text `covdoctor doctor` prints: the environment, then the findings.
pub fn render_doctor(report: &covdoctor::doctor::Report, cwd: &Path) -> String {
    let style = Style {
        color: false,
        width: 100,
        cwd: cwd.to_path_buf(),
    };
    let mut out = report::render_problems(&report.problems, &style);
    if let Some(env) = &report.environment {
        out.push_str(&report::doctor::render_environment(env, &style));
    }
    out.push_str(&report::render_full(&report.diagnostics, &style));
    out.push_str(&report::summary(&report.diagnostics, &report.problems));
    out.push('\n');
    out
}

/// The changes a `doctor.toml` makes to site-packages after the installs
/// (`copy`, `remove`, `[site-packages]`): applied to a laid-out
/// environment, or to a copy of a real one (the end-to-end tests).
pub fn change_site_packages(doc: &toml_edit::DocumentMut, site: &Path) {
    let strings = |key: &str| toml_strings(doc, key);
    for file in strings("copy") {
        let from = repo().join("tests/environments").join(&file);
        let name = from.file_name().unwrap().to_owned();
        std::fs::copy(&from, site.join(name)).unwrap_or_else(|e| panic!("copy {file}: {e}"));
    }
    for name in strings("remove") {
        std::fs::remove_file(site.join(&name)).unwrap_or_else(|e| panic!("remove {name}: {e}"));
    }
    if let Some(files) = doc.get("site-packages").and_then(|t| t.as_table()) {
        for (name, text) in files {
            std::fs::write(site.join(name), text.as_str().unwrap()).unwrap();
        }
    }
}

/// A fixture's `doctor.toml`.
pub fn doctor_toml(case: &Path) -> toml_edit::DocumentMut {
    let text = std::fs::read_to_string(case.join("doctor.toml")).unwrap();
    text.parse().expect("valid doctor.toml")
}

/// An array of strings of a TOML document (empty when absent).
fn toml_strings(doc: &toml_edit::DocumentMut, key: &str) -> Vec<String> {
    doc.get(key)
        .and_then(|i| i.as_array())
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}
