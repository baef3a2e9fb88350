//! covdoctor as Python users install it: a wheel built by maturin from
//! this repository, installed into a fresh virtual environment, and the
//! pre-commit hooks of `.pre-commit-hooks.yaml` run by the real pre-commit
//! (`pre-commit run`, configured as a user would) on a git repository made
//! from a fixture.
//!
//! Needs python3 with venv, git, and PyPI (maturin, pre-commit). Every
//! maturin build here (the wheel, and the one pip runs for pre-commit)
//! uses the target directory and profile this test run was built with, so
//! the dependencies `cargo test` just compiled are reused.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PRE_COMMIT: &str = "pre-commit==4.7.0";
/// Checks the wheel's platform tag against the libraries it links.
const AUDITWHEEL: &str = "auditwheel==6.8.2";
/// The build backend, pinned for the builds pip and pre-commit run.
const MATURIN: &str = "maturin==1.16.0";

/// The virtual environment with pre-commit (and pip), made once per run.
fn tools() -> PathBuf {
    static TOOLS: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    TOOLS
        .get_or_init(|| {
            common::venv(&tmp().join("tools"), &[PRE_COMMIT, MATURIN, AUDITWHEEL]).unwrap()
        })
        .clone()
}

/// Held by each test for its whole run: both build covdoctor with maturin
/// in the one shared target directory (the second reuses the first's
/// dependencies), and two maturin builds at once there race on the files
/// maturin writes beside the binary (a wheel with a bad CRC).
static ONE_BUILD_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_build_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_BUILD_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn tmp() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("packaging")
}

/// The target directory and cargo profile this test binary was built
/// with, read from where cargo put the covdoctor binary
/// (`<target>/<profile dir>/covdoctor`; the dev profile's dir is `debug`).
fn cargo_build() -> (PathBuf, String) {
    let bin = Path::new(env!("CARGO_BIN_EXE_covdoctor"));
    let dir = bin.parent().expect("the profile directory");
    let target = dir.parent().expect("the target directory").to_path_buf();
    let profile = match dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev".to_string(),
        Some(name) => name.to_string(),
    };
    (target, profile)
}

/// The environment every packaging command runs in: nothing from the
/// caller's Python or coverage setup, maturin pinned, and every maturin
/// build (pip's PEP 517 builds too, through `MATURIN_PEP517_ARGS`) in this
/// test run's target directory and profile. These tests check how
/// covdoctor is packaged, installed and run as a hook, not its speed: an
/// unoptimised build that reuses what `cargo test` compiled takes seconds
/// where a release build of every dependency took minutes. It does write
/// the covdoctor binary `cargo test` built; cargo runs one test binary at a
/// time and puts its own back on the next build.
fn command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("COV")
            || key.starts_with("PRE_COMMIT")
            || key.starts_with("PIP_")
            || key.starts_with("MATURIN")
            || key == "VIRTUAL_ENV"
            || key == "PYTHONPATH"
        {
            cmd.env_remove(key.as_ref());
        }
    }
    let constraints = tmp().join("constraints.txt");
    std::fs::create_dir_all(tmp()).unwrap();
    std::fs::write(&constraints, format!("{MATURIN}\n")).unwrap();
    let (target, profile) = cargo_build();
    cmd.env("PIP_CONSTRAINT", &constraints)
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("CARGO_TARGET_DIR", target)
        .env(
            "MATURIN_PEP517_ARGS",
            format!("--locked --profile {profile}"),
        );
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_wheel_installed_in_a_fresh_venv_gives_a_working_covdoctor() {
    let _build = one_build_at_a_time();
    let work = tempfile::tempdir().unwrap();
    let tools = tools();
    let dist = work.path().join("dist");
    // Built by `maturin build` as the release builds it (which tags the
    // wheel with the manylinux policy it meets), though unoptimised.
    let out = run(command(tools.join("bin/maturin"))
        .args(["build", "--locked", "--profile", &cargo_build().1, "--out"])
        .arg(&dist)
        .current_dir(common::repo()));
    assert!(out.status.success(), "maturin build:\n{}", text(&out));
    let wheels: Vec<PathBuf> = std::fs::read_dir(&dist)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    assert_eq!(wheels.len(), 1, "{wheels:?}");
    let name = wheels[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with(&format!("covdoctor-{}-", env!("CARGO_PKG_VERSION"))),
        "{name}"
    );

    // A manylinux wheel: tagged so, and auditwheel finds the binary
    // consistent with that tag (it links only libraries the policy allows).
    if cfg!(target_os = "linux") {
        assert!(name.contains("-manylinux_"), "{name}");
        let out = run(command(tools.join("bin/auditwheel"))
            .arg("show")
            .arg(&wheels[0]));
        let shown = text(&out);
        assert!(out.status.success(), "auditwheel show:\n{shown}");
        // auditwheel wraps its sentences.
        let shown = shown.split_whitespace().collect::<Vec<_>>().join(" ");
        let tag = name
            .rsplit('-')
            .next()
            .and_then(|t| t.strip_suffix(".whl"))
            .unwrap_or_default();
        let first = tag.split('.').next().unwrap_or_default();
        assert!(
            shown.contains("consistent with the following platform tag:")
                && shown.contains(&format!("\"{first}\"")),
            "{name}: auditwheel show:\n{shown}"
        );
    }

    let venv = work.path().join("venv");
    let out = run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    assert!(out.status.success(), "{}", text(&out));
    let out = run(command(venv.join("bin/python"))
        .args(["-m", "pip", "install", "-q", "--no-index"])
        .arg(&wheels[0]));
    assert!(out.status.success(), "pip install:\n{}", text(&out));

    let out = run(command(venv.join("bin/covdoctor")).arg("--version"));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("covdoctor {}", covdoctor::config::releases::VERSION)
    );
    // The installed binary is the real one: it finds the seed's problems.
    let out = run(command(venv.join("bin/covdoctor"))
        .args([
            "check",
            "--output-format",
            "concise",
            "fixtures/seed-server",
        ])
        .current_dir(common::repo()));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("covdoctor: 4 findings"),
        "{}",
        text(&out)
    );
}

/// A git repository holding a copy of `fixture`, committed.
fn git_repo(fixture: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(&common::repo().join(fixture), dir.path());
    git(&["init", "-q"], dir.path());
    commit_all(dir.path(), "fixture");
    dir
}

/// `git` in `dir`; its standard output.
fn git(args: &[&str], dir: &Path) -> String {
    let out = run(Command::new("git").args(args).current_dir(dir));
    assert!(out.status.success(), "git {args:?}: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Commits everything in the git repository `dir`.
fn commit_all(dir: &Path, message: &str) {
    git(&["add", "-A"], dir);
    git(
        &[
            "-c",
            "user.name=covdoctor tests",
            "-c",
            "user.email=tests@covdoctor.invalid",
            "-c",
            "commit.gpgsign=false",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            message,
        ],
        dir,
    );
}

/// This repository as pre-commit installs hooks from it: a clone with the
/// working tree's changes (tracked and untracked files, as `git status`
/// shows them) committed, and that commit. Made once per run, so that
/// every hook run below finds its environment in the one pre-commit store
/// (`pre-commit try-repo` makes a new store, and a new install, each time).
fn hooks_repo() -> (PathBuf, String) {
    static REPO: std::sync::OnceLock<(PathBuf, String)> = std::sync::OnceLock::new();
    REPO.get_or_init(|| {
        let repo = common::repo();
        let clone = tmp().join("hooks-repo");
        let _ = std::fs::remove_dir_all(&clone);
        std::fs::create_dir_all(tmp()).unwrap();
        git(
            &[
                "clone",
                "-q",
                &repo.to_string_lossy(),
                &clone.to_string_lossy(),
            ],
            &repo,
        );
        let changed = git(&["diff", "--name-only", "HEAD"], &repo);
        let untracked = git(&["ls-files", "--others", "--exclude-standard"], &repo);
        for name in changed.lines().chain(untracked.lines()) {
            let (from, to) = (repo.join(name), clone.join(name));
            if from.is_file() {
                std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                std::fs::copy(&from, &to).unwrap();
            } else {
                let _ = std::fs::remove_file(&to);
            }
        }
        commit_all(&clone, "the working tree");
        let rev = git(&["rev-parse", "HEAD"], &clone).trim().to_string();
        (clone, rev)
    })
    .clone()
}

/// Runs one hook of `.pre-commit-hooks.yaml` on every file of `project`,
/// as a user's `.pre-commit-config.yaml` pointing at this repository would
/// (what `pre-commit try-repo` does, with the store in `home` kept).
fn pre_commit(tools: &Path, home: &Path, project: &Path, hook: &str) -> Output {
    let (repo, rev) = hooks_repo();
    let config = home.join(format!("config-{hook}.yaml"));
    std::fs::write(
        &config,
        format!(
            "repos:\n- repo: {}\n  rev: {rev}\n  hooks:\n  - id: {hook}\n",
            repo.display()
        ),
    )
    .unwrap();
    run(command(tools.join("bin/pre-commit"))
        .arg("run")
        .arg("--config")
        .arg(&config)
        .args(["--all-files", "--color", "never"])
        .env("PRE_COMMIT_HOME", home)
        .current_dir(project))
}

fn git_diff(project: &Path) -> String {
    let out = run(Command::new("git")
        .args(["diff", "--no-color", "--no-ext-diff"])
        .current_dir(project));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn pre_commit_hooks_check_and_fix() {
    let _build = one_build_at_a_time();
    let tools = tools();
    let home = tempfile::tempdir().unwrap();

    // `covdoctor`: fails with the seed's four findings, changes nothing.
    let seed = git_repo("fixtures/seed-server");
    let out = pre_commit(&tools, home.path(), seed.path(), "covdoctor");
    let output = text(&out);
    assert_eq!(out.status.code(), Some(1), "{output}");
    assert!(output.contains("- hook id: covdoctor\n"), "{output}");
    assert!(output.contains("- exit code: 1"), "{output}");
    for rule in [
        "cov-config-not-passed",
        "env-drops-coverage",
        "sigkill-loses-coverage",
        "sigterm-not-handled",
    ] {
        assert_eq!(
            output.matches(&format!("\n{rule}\n")).count(),
            1,
            "{rule}: {output}"
        );
    }
    assert!(output.contains("covdoctor: 4 findings"), "{output}");
    assert_eq!(git_diff(seed.path()), "");

    // pre-commit runs covdoctor with $VIRTUAL_ENV set to covdoctor's own
    // environment; the versions still come from the project.
    let pinned = git_repo("fixtures/subprocess-patch-missing/fires-pytest-cov-7-without-patch");
    let out = pre_commit(&tools, home.path(), pinned.path(), "covdoctor");
    let output = text(&out);
    assert_eq!(out.status.code(), Some(1), "{output}");
    assert!(
        output.contains("\nsubprocess-patch-missing\n")
            && output.contains("pytest-cov 7.1.0 (from requirements-test.txt)"),
        "{output}"
    );

    // A project that keeps its children's coverage passes.
    let ok = git_repo("fixtures/sigkill-loses-coverage/ok-kill-after-timeout");
    let out = pre_commit(&tools, home.path(), ok.path(), "covdoctor");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("Passed"), "{}", text(&out));

    // `covdoctor-fix`: applies the safe fixes (both in pyproject.toml),
    // fails because it changed files, and reports what is left.
    let out = pre_commit(&tools, home.path(), seed.path(), "covdoctor-fix");
    let output = text(&out);
    assert_eq!(out.status.code(), Some(1), "{output}");
    assert!(
        output.contains("- files were modified by this hook"),
        "{output}"
    );
    assert!(
        output.contains("covdoctor: 2 fixed, 2 remaining"),
        "{output}"
    );
    let diff = git_diff(seed.path());
    let changed: Vec<&str> = diff.lines().filter(|l| l.starts_with("+++ ")).collect();
    assert_eq!(changed, vec!["+++ b/pyproject.toml"], "{diff}");
    assert!(
        diff.contains("+addopts = \"--cov --cov-report=term-missing --cov-config=pyproject.toml\""),
        "{diff}"
    );
    assert!(diff.contains("+sigterm = true"), "{diff}");
    let added = diff
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .count();
    let removed = diff
        .lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .count();
    assert_eq!((added, removed), (2, 1), "{diff}");

    // Again: nothing left to fix; the unsafe findings still fail the hook.
    let out = pre_commit(&tools, home.path(), seed.path(), "covdoctor-fix");
    let output = text(&out);
    assert_eq!(out.status.code(), Some(1), "{output}");
    assert!(!output.contains("files were modified"), "{output}");
    assert!(
        output.contains("covdoctor: 0 fixed, 2 remaining"),
        "{output}"
    );
    assert_eq!(git_diff(seed.path()), diff);
}
