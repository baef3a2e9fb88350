//! Step 3 of the pipeline: how the project's test suite is run. Every way
//! found statically is a [`Run`]: the local run (pytest's configuration and
//! the project's environment), tox environments, nox sessions, CI jobs
//! (GitHub Actions, GitLab CI), Makefile targets, hatch and pdm scripts
//! and pixi tasks. One source of runs per
//! file. Each run says what it installs, how it starts pytest, and which
//! environment variables it sets; [`View`] then resolves what that means for
//! coverage: the versions a fresh install gets, the pytest-cov options in
//! force, and whether children can be measured at all.

pub mod collected;
pub mod command;
pub mod github;
pub mod gitlab;
pub mod hatch;
pub mod local;
pub mod make;
pub mod nox;
pub mod pdm;
pub mod pixi;
pub mod shell;
pub mod task;
pub mod tox;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crate::config::ProjectConfig;
use crate::config::coverage::FileLoader;
use crate::config::pytest::{Arg, CovOptions};
use crate::config::versions::{self, Found, Inputs, Overrides, Requirement, Selected, Versions};
use crate::source::Location;
pub use command::{Action, Step};

/// Where runs come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Local,
    Tox,
    Nox,
    GithubActions,
    GitlabCi,
    Make,
    Hatch,
    Pdm,
    Pixi,
}

impl Kind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::Local => "local",
            Kind::Tox => "tox",
            Kind::Nox => "nox",
            Kind::GithubActions => "github-actions",
            Kind::GitlabCi => "gitlab-ci",
            Kind::Make => "make",
            Kind::Hatch => "hatch",
            Kind::Pdm => "pdm",
            Kind::Pixi => "pixi",
        }
    }
}

/// What a run installs.
#[derive(Clone, Debug, Default)]
pub struct Installs {
    /// Requirements on pytest-cov and coverage, located.
    pub requirements: Vec<Requirement>,
    /// Requirements files it installs from (`-r`, `-c`).
    pub files: Vec<std::path::PathBuf>,
    /// Lock files the run consumes (`uv sync`, `poetry install`...), with
    /// the step that consumes each.
    pub locks: Vec<(String, Option<Location>)>,
    /// The project itself, with these extras and groups.
    pub project: Option<Selected>,
    /// The run uses the developer's environment (the local run, `make`
    /// called by hand).
    pub local_environment: bool,
}

/// How a run starts pytest.
#[derive(Clone, Debug)]
pub struct Test {
    /// The arguments given to pytest on its command line.
    pub args: Vec<Arg>,
    /// pytest runs under `coverage run` (written here).
    pub coverage_run: Option<Location>,
    /// The command that starts pytest.
    pub location: Location,
    /// Some of its words could not be read, and may be test paths.
    pub unread: bool,
}

/// One way the project runs its tests.
#[derive(Clone, Debug)]
pub struct Run {
    pub kind: Kind,
    /// "tox env `py312-cov`", "GitHub Actions job `test`".
    pub name: String,
    /// Where it is declared.
    pub declared: Option<Location>,
    pub installs: Installs,
    /// How it starts pytest; a run whose commands could not be read keeps
    /// the pytest configuration's baseline.
    pub test: Option<Test>,
    /// Environment variables the run sets, with where.
    pub env: BTreeMap<String, (String, Option<Location>)>,
    /// A step writes a `.pth` or `sitecustomize.py` that calls
    /// `coverage.process_startup()`.
    pub startup_hook: Option<Location>,
    /// What covdoctor could not resolve (a shell variable, an unknown
    /// tool): said by `covdoctor runs`, never guessed.
    pub unresolved: Vec<String>,
    /// tox envs it runs (`tox -e py312`): envs that exist only because a
    /// command names them are runs too.
    pub tox_envs: Vec<String>,
    /// The directory pytest runs in, relative to the root, when it is not
    /// the root (tox `change_dir`), and where that is said. coverage.py
    /// looks for its configuration there.
    pub cwd: Option<(std::path::PathBuf, Location)>,
}

impl Run {
    pub fn new(kind: Kind, name: impl Into<String>, declared: Option<Location>) -> Run {
        Run {
            kind,
            name: name.into(),
            declared,
            installs: Installs::default(),
            test: None,
            env: BTreeMap::new(),
            startup_hook: None,
            unresolved: Vec::new(),
            tox_envs: Vec::new(),
            cwd: None,
        }
    }

    /// "tox env `py312-cov` (tox.ini:14)".
    pub fn describe(&self, root: &Path) -> String {
        match &self.declared {
            Some(l) => {
                let (line, _) = l.file.line_col(l.span.start);
                let path = l.file.path.strip_prefix(root).unwrap_or(&l.file.path);
                format!("{} ({}:{line})", self.name, path.display())
            }
            None => self.name.clone(),
        }
    }

    /// Applies what a sequence of steps does: installs, env, the test
    /// command. `resolve` expands `tox -e`, `nox -s` and `make target`
    /// steps into the steps they stand for (bounded by the caller).
    pub fn apply(&mut self, steps: &[Step]) {
        for step in steps {
            match &step.action {
                Action::Install(install) => {
                    self.installs
                        .requirements
                        .extend(install.requirements.iter().cloned());
                    self.installs.files.extend(install.files.iter().cloned());
                    self.installs.locks.extend(
                        install
                            .locks
                            .iter()
                            .map(|l| (l.clone(), Some(step.location.clone()))),
                    );
                    if let Some(selected) = &install.project {
                        let project = self.installs.project.get_or_insert_with(Selected::default);
                        project.all |= selected.all;
                        project.extras.extend(selected.extras.iter().cloned());
                        project.groups.extend(selected.groups.iter().cloned());
                    }
                }
                Action::Pytest(test) => {
                    // The first test command that measures coverage, else
                    // the first.
                    let measures = |t: &Test| {
                        t.coverage_run.is_some()
                            || t.args
                                .iter()
                                .any(|a| a.text == "--cov" || a.text.starts_with("--cov="))
                    };
                    if self
                        .test
                        .as_ref()
                        .is_none_or(|t| !measures(t) && measures(test))
                    {
                        self.test = Some(test.clone());
                    }
                }
                Action::SetEnv(name, value) => {
                    self.env
                        .insert(name.clone(), (value.clone(), Some(step.location.clone())));
                }
                Action::StartupHook => {
                    self.startup_hook.get_or_insert(step.location.clone());
                }
                Action::Unresolved(what) => self.unresolved.push(what.clone()),
                Action::Tox(envs) => self.tox_envs.extend(envs.iter().cloned()),
                Action::Nox(_) | Action::Make(_) => {}
            }
        }
    }
}

/// Every run of the project at `root`, the local run first.
pub fn collect(config: &ProjectConfig, loader: &mut dyn FileLoader) -> Vec<Run> {
    let root = &config.root;
    let make = make::targets(root, loader);
    let mut ci = github::runs(root, loader, &make);
    ci.extend(gitlab::runs(root, loader, &make));
    let named: Vec<String> = ci
        .iter()
        .chain(make.iter().map(|t| &t.run))
        .flat_map(|r| r.tox_envs.iter().cloned())
        .filter(|e| !e.contains(['$', '{']))
        .collect();
    let tox = tox::runs(root, loader, &named);
    let nox = nox::runs(root, loader);
    let mut out = vec![local::run(config)];
    // An env or session that starts no pytest is not a test run (lint,
    // docs, build).
    let runs_tests = |r: &Run| r.test.is_some();
    out.extend(tox.into_iter().filter(runs_tests));
    out.extend(nox.into_iter().filter(runs_tests));
    out.extend(hatch::runs(root, loader));
    out.extend(pdm::runs(root, loader));
    out.extend(pixi::runs(root, loader));
    // A CI job that only calls tox or nox runs the environments listed
    // above: it is not a run of its own.
    out.extend(ci.into_iter().filter(|r| r.test.is_some()));
    out.extend(
        make.iter()
            .filter(|t| t.run.test.is_some())
            .map(|t| t.run.clone()),
    );
    out
}

/// How the children of a run are measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mechanism {
    /// pytest-cov < 7: its `.pth` hook and the `COV_CORE_*` variables.
    PytestCovHook,
    /// coverage's `[run] patch = ["subprocess"]` (pytest-cov >= 7, or
    /// `coverage run`).
    SubprocessPatch,
    /// `COVERAGE_PROCESS_START` and a `process_startup()` hook.
    ProcessStart,
    /// Not known: the versions or the configuration could not be read.
    Unknown,
    /// Nothing starts coverage in a child.
    None,
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mechanism::PytestCovHook => "pytest-cov's subprocess hook (pytest-cov < 7)",
            Mechanism::SubprocessPatch => "coverage's patch = [\"subprocess\"]",
            Mechanism::ProcessStart => "COVERAGE_PROCESS_START with a process_startup() hook",
            Mechanism::Unknown => "unknown",
            Mechanism::None => "none: children are not measured",
        })
    }
}

/// A run as the rules see it: what it resolves to.
#[derive(Clone, Debug)]
pub struct View {
    pub run: Run,
    pub versions: Versions,
    /// pytest's arguments: `addopts`, then the command line.
    pub args: Vec<Arg>,
    pub cov: CovOptions,
    /// pytest runs under `coverage run`.
    pub coverage_run: Option<Location>,
    /// The run measures coverage at all.
    pub measures: bool,
}

impl View {
    /// Resolves `run` for the project.
    pub fn new(
        run: Run,
        config: &ProjectConfig,
        overrides: &Overrides,
        loader: &mut dyn FileLoader,
        measured_elsewhere: bool,
    ) -> View {
        let versions = run_versions(&run, config, overrides, loader);
        let mut args: Vec<Arg> = config
            .pytest
            .as_ref()
            .map(|p| p.args.clone())
            .unwrap_or_default();
        let coverage_run = run.test.as_ref().and_then(|t| t.coverage_run.clone());
        if let Some(test) = &run.test {
            args.extend(test.args.iter().cloned());
        }
        let cov = crate::config::pytest::cov_options(&args);
        let pytest_cov_on = cov.cov.is_some() && cov.disabled.is_none();
        let measures = pytest_cov_on
            || coverage_run.is_some()
            // The local run with no test command of its own keeps the
            // baseline: a project that shows it measures coverage (settings,
            // pytest-cov or coverage among its requirements) and declares no
            // other run is taken to run `pytest --cov` by hand.
            || (run.kind == Kind::Local && !measured_elsewhere && shows_coverage(config));
        View {
            run,
            versions,
            args,
            cov,
            coverage_run,
            measures,
        }
    }

    /// A `process_startup()` hook comes with the run: written by one of
    /// its steps, or installed by [`versions::HOOK_PACKAGE`].
    pub fn has_startup_hook(&self) -> bool {
        self.run.startup_hook.is_some() || self.versions.startup_hook.is_some()
    }

    /// pytest-cov measures this run: `--cov` given and not turned off.
    pub fn pytest_cov_active(&self) -> bool {
        self.cov.cov.is_some() && self.cov.disabled.is_none()
    }

    /// Children of this run are measured only through coverage's
    /// subprocess patch: pytest-cov >= 7 measures it, or `coverage run`
    /// does (pytest-cov's own hook needs `--cov`), or coverage >= 7.10 is
    /// there without pytest-cov.
    pub fn patch_based(&self) -> bool {
        let v = &self.versions;
        if self.pytest_cov_active() {
            return v.pytest_cov_at_least_7();
        }
        self.coverage_run.is_some()
            || v.pytest_cov_at_least_7()
            || (v.pytest_cov.absent && v.coverage_has_patch())
    }

    /// How this run's Python children are measured, given the project's
    /// configuration (`patch` set) and code (`process_startup()` called).
    pub fn mechanism(&self, patches_subprocess: bool, project_startup: bool) -> Mechanism {
        if !self.measures {
            return Mechanism::None;
        }
        // coverage >= 7.13 installs `a1_coverage.pth`, which starts coverage
        // in any process that has `COVERAGE_PROCESS_START` (measured with
        // 7.17.5 through tox: fixtures/subprocess-patch-missing/
        // ok-tox-process-start-env-coverage-7-13).
        let manual = self.run.env.contains_key("COVERAGE_PROCESS_START")
            && (project_startup
                || self.has_startup_hook()
                || self.versions.coverage.at_least(&[7, 13]));
        if manual {
            return Mechanism::ProcessStart;
        }
        let v = &self.versions;
        if self.pytest_cov_active() && v.pytest_cov_below_7() {
            return Mechanism::PytestCovHook;
        }
        if self.patch_based() {
            if patches_subprocess && !v.coverage_lacks_patch() {
                return Mechanism::SubprocessPatch;
            }
            if patches_subprocess || project_startup {
                return Mechanism::Unknown;
            }
            return Mechanism::None;
        }
        Mechanism::Unknown
    }
}

/// The project shows that it measures coverage: coverage settings (even
/// in a section coverage never reads), a `.coveragerc`, or pytest-cov or
/// coverage among its requirements; or a configuration file that cannot
/// be read, which might say so.
fn shows_coverage(config: &ProjectConfig) -> bool {
    let v = &config.versions;
    config.broken
        || config
            .coverage
            .candidates
            .iter()
            .any(|c| c.our_file || c.has_settings() || !c.unread_sections.is_empty())
        || v.pytest_cov.source.is_some() && !v.pytest_cov.absent
        || v.coverage.source.is_some() && !v.coverage.absent
}

/// The versions a run gets: explicit settings first; then what it installs
/// (locks it consumes exactly, requirements and the project's extras and
/// groups as a fresh install resolves them); a run in the developer's
/// environment, or one whose installs say nothing of the two packages,
/// falls back to the local chain.
fn run_versions(
    run: &Run,
    config: &ProjectConfig,
    overrides: &Overrides,
    loader: &mut dyn FileLoader,
) -> Versions {
    if run.installs.local_environment {
        return config.versions.clone();
    }
    let mut inputs = Inputs::default();
    for (package, slot) in [
        ("pytest-cov", &mut inputs.pytest_cov),
        ("coverage", &mut inputs.coverage),
    ] {
        let explicit = match package {
            "pytest-cov" => overrides.pytest_cov.as_ref(),
            _ => overrides.coverage.as_ref(),
        };
        if explicit.is_some() {
            // The local chain starts with the explicit settings.
            *slot = Some(Found::Exact(match package {
                "pytest-cov" => config.versions.pytest_cov.clone(),
                _ => config.versions.coverage.clone(),
            }));
            continue;
        }
        for (lock, _) in &run.installs.locks {
            if let Some(found) = versions::lock_file(&config.root, lock, package, loader) {
                *slot = Some(Found::Exact(found));
                break;
            }
        }
    }
    inputs.require(run.installs.requirements.iter().cloned());
    for file in &run.installs.files {
        inputs.require(versions::requirements_file(file, &config.root, loader));
    }
    if let Some(selected) = &run.installs.project {
        inputs.require(versions::project_requirements(
            &config.root,
            selected,
            loader,
        ));
    }
    if inputs.pytest_cov.is_none() && inputs.coverage.is_none() {
        // The versions are the local ones, but a startup hook the run
        // installs (`coverage-enable-subprocess` in its deps) is its own.
        let mut local = config.versions.clone();
        if local.startup_hook.is_none() {
            local.startup_hook = versions::resolve(&inputs).startup_hook;
        }
        return local;
    }
    versions::resolve(&inputs)
}
