//! covdoctor finds why the coverage of Python subprocesses started by tests
//! is lost, and says where.
//!
//! The pipeline, one module per step:
//! 1. [`discover`] finds project roots and their Python files;
//! 2. [`config`] reads coverage.py's and pytest's configuration the way those
//!    tools do, keeping every setting's file and span;
//! 3. [`analyze`] parses the Python sources and extracts facts: processes
//!    started, their command, environment and directory, how they are
//!    stopped;
//! 4. [`rules`] judge the facts and return [`diagnostic::Diagnostic`]s;
//! 5. [`suppress`] drops the findings silenced by comments, and [`scope`]
//!    keeps those of the paths asked for;
//! 6. [`report`] renders them (only `main` prints); [`fix`] edits files.
//!
//! Files that cannot be read are [`problem::Problem`]s: reported, never
//! fatal for the rest of the project.

pub mod analyze;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod discover;
pub mod doctor;
pub mod environment;
pub mod fix;
#[doc(hidden)]
pub mod fuzzing;
pub mod problem;
pub mod report;
pub mod rules;
pub mod runs;
pub mod scope;
pub mod source;
pub mod suppress;
pub mod timings;
pub mod verdict;

use std::path::PathBuf;

use diagnostic::Diagnostic;
use problem::Problem;

/// What a check run found.
#[derive(Debug, Default)]
pub struct Outcome {
    pub diagnostics: Vec<Diagnostic>,
    pub problems: Vec<Problem>,
    /// Every file the check read (`--show-files`): the projects' Python
    /// files and the configuration, run and requirements files that exist.
    pub files: std::collections::BTreeSet<PathBuf>,
    /// Each project's root and the covdoctor settings it was checked with
    /// (`--show-settings`).
    pub settings: Vec<(PathBuf, config::settings::Settings)>,
}

/// Settings of a check run that do not come from the project.
#[derive(Debug, Default, Clone)]
pub struct RunOptions {
    /// `COVERAGE_RCFILE` as coverage.py would see it.
    pub coverage_rcfile: Option<PathBuf>,
    /// Versions given on the command line, and `$VIRTUAL_ENV`.
    pub versions: config::versions::Overrides,
    /// covdoctor settings given on the command line.
    pub settings: config::settings::CliSettings,
    /// Resolve the calls of every module, not only of those that can hold
    /// a launch or a stop (`COVDOCTOR_NO_PREFILTER=1`): the same findings,
    /// slower; how the tests show the prefilter sound.
    pub no_prefilter: bool,
}

/// Runs the whole pipeline on the given paths, reading the disk.
pub fn check(paths: &[PathBuf], options: &RunOptions) -> Outcome {
    check_with(
        paths,
        options,
        &(std::sync::Arc::new(source::Disk) as source::SharedFiles),
    )
}

/// Runs the whole pipeline, reading files through `files` (the disk, or the
/// disk with a fix run's edits on top).
pub fn check_with(paths: &[PathBuf], options: &RunOptions, files: &source::SharedFiles) -> Outcome {
    let mut diagnostics = Vec::new();
    let mut read = std::collections::BTreeSet::new();
    let mut settings = Vec::new();
    let mut problems = each_project(paths, options, files, &mut |project, problems| {
        let (found, run_files) = check_runs(project, options, problems);
        read.extend(project.python.paths.iter().cloned());
        read.extend(project.config.files_read.iter().cloned());
        read.extend(run_files.iter().cloned());
        settings.push((project.root.clone(), project.settings.clone()));
        let reported = |d: &diagnostic::Diagnostic| {
            let path = &d.primary.location.file.path;
            let relative = path.strip_prefix(&project.root).unwrap_or(path);
            project.settings.enabled(d.rule) && !project.settings.ignored_in(d.rule, relative)
        };
        let found: Vec<_> = found.into_iter().filter(|d| reported(d)).collect();
        let (kept, unused) = suppress::apply(
            found,
            &suppressions(&project.config, &project.python),
            &project.settings,
        );
        let mut files_read = project.config.files_read.clone();
        files_read.extend(run_files);
        let scope = scope::Scope::new(&project.root, project.roots, project.asked, &files_read);
        // Files with a problem are never edited; the configuration is not
        // edited while a file has an error (a warning changes no verdict).
        let mut broken: Vec<(PathBuf, bool)> = problems
            .iter()
            .filter(|p| p.path.starts_with(&project.root))
            .map(|p| (p.path.clone(), p.is_error()))
            .collect();
        broken.sort_by_key(|(_, error)| !*error);
        diagnostics.extend(
            kept.into_iter()
                .chain(unused.into_iter().filter(|d| reported(d)))
                .filter(|d| scope.wants(d, |path| project.python.paths.contains(path)))
                .map(|d| withhold_fix(d, &project.root, &broken)),
        );
    });
    diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    problems.sort_by(|a, b| a.path.cmp(&b.path));
    Outcome {
        diagnostics,
        problems,
        files: read,
        settings,
    }
}

/// Takes away a fix that would edit a file outside the project, or a file
/// with an input error (a Python
/// file with a syntax error, a config file that does not parse), or a
/// configuration file while any file of the project has an input error (its
/// diagnosis may rest on what could not be read). Python fixes elsewhere
/// stay, as ruff applies fixes in the files that parse.
fn withhold_fix(
    mut d: diagnostic::Diagnostic,
    root: &std::path::Path,
    broken: &[(PathBuf, bool)],
) -> diagnostic::Diagnostic {
    let Some(fix) = &d.fix else { return d };
    let name = |p: &std::path::Path| rules::relative(root, p);
    let reason = fix.edits.iter().find_map(|e| {
        let path = e.path();
        // `--cov-config=../elsewhere/cov.rc`: never write outside the
        // project being checked.
        if !crate::source::normalize(path).starts_with(root) {
            return Some(format!(
                "it edits {}, outside the project at {}",
                path.display(),
                root.display()
            ));
        }
        if broken.iter().any(|(b, _)| b == path) {
            return Some(format!("{} has an input error", name(path)));
        }
        let is_python = path.extension().is_some_and(|x| x == "py");
        match broken.iter().find(|(_, error)| *error).map(|(b, _)| b) {
            Some(b) if !is_python => Some(format!(
                "it edits {}, and {} has an input error",
                name(path),
                name(b)
            )),
            _ => None,
        }
    });
    if let Some(reason) = reason {
        d.fix = None;
        d.fix_withheld = Some(reason);
    }
    d
}

/// One project, read and analysed: what the rules and `covdoctor runs`
/// work from.
pub struct Prepared<'a> {
    pub root: PathBuf,
    pub settings: config::settings::Settings,
    pub overrides: config::versions::Overrides,
    pub config: config::ProjectConfig,
    pub python: analyze::PythonFacts,
    pub files: &'a source::SharedFiles,
    roots: &'a [PathBuf],
    asked: &'a [PathBuf],
}

/// Discovers the projects of `paths` and prepares each in turn for `f`;
/// returns the input problems, each judged an error or a warning (see
/// [`verdict`]).
fn each_project(
    paths: &[PathBuf],
    options: &RunOptions,
    files: &source::SharedFiles,
    f: &mut dyn FnMut(&Prepared<'_>, &mut Vec<Problem>),
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut settings_by_root = std::collections::BTreeMap::new();
    // Each project's own problems, judged once the project is analysed.
    let mut own_by_root: std::collections::BTreeMap<PathBuf, Vec<Problem>> = Default::default();
    let discover_started = std::time::Instant::now();
    let (projects, discover_problems) = discover::discover(paths, &mut |root| {
        let mut loader = config::ConfigFiles::new(std::sync::Arc::clone(files));
        let mut own = Vec::new();
        let settings =
            config::settings::Settings::load(root, &options.settings, &mut loader, &mut own);
        own_by_root
            .entry(root.to_path_buf())
            .or_default()
            .extend(own);
        let exclusions = settings.exclusions();
        settings_by_root.insert(root.to_path_buf(), settings);
        exclusions
    });
    timings::add("discover", discover_started.elapsed(), 0);
    problems.extend(discover_problems);
    if options.settings.strict {
        verdict::strict(&mut problems);
    }
    let asked: Vec<PathBuf> = paths
        .iter()
        .filter_map(|p| std::path::absolute(p).ok())
        .map(|p| crate::source::normalize(&p))
        .collect();
    let roots: Vec<PathBuf> = projects.iter().map(|p| p.root.clone()).collect();
    let mut loaded = Vec::new();
    for project in projects {
        let settings = settings_by_root.remove(&project.root).unwrap_or_default();
        let overrides = versions_for(options, &settings);
        let own = own_by_root.entry(project.root.clone()).or_default();
        let config = timings::time("config", || {
            config::ProjectConfig::load(
                files,
                &project.root,
                options.coverage_rcfile.clone(),
                &overrides,
                own,
            )
        });
        loaded.push((project, settings, overrides, config));
    }
    // The Python analyses of the projects run side by side; the rules then
    // run on each in turn, in the order of discovery.
    let analyses = timings::time("analysis (all projects)", || {
        analyze_projects(files, &loaded, options.no_prefilter)
    });
    for ((project, settings, overrides, config), (python, python_problems)) in
        loaded.into_iter().zip(analyses)
    {
        let mut own = own_by_root.remove(&project.root).unwrap_or_default();
        own.extend(python_problems);
        // One problem per file with syntax errors: its first error.
        let mut seen = std::collections::BTreeSet::new();
        for e in &python.syntax_errors {
            if seen.insert(e.location.file.path.clone()) {
                let message = if e.too_large {
                    format!("{}: covdoctor did not analyse it", e.message)
                } else {
                    format!(
                        "syntax error: {} (covdoctor analysed the parts that parse)",
                        e.message
                    )
                };
                own.push(Problem::invalid(e.location.clone(), message));
            }
        }
        let prepared = Prepared {
            root: project.root.clone(),
            settings,
            overrides,
            config,
            python,
            files,
            roots: &roots,
            asked: &asked,
        };
        let judge = verdict::Judge {
            root: &project.root,
            python_files: &project.python_files,
            test_data: &project.test_data,
            python: &prepared.python,
            has_pytest_config: prepared.config.pytest.is_some(),
            launchers: &prepared.settings.python_launchers,
            files: &**files,
            strict: prepared.settings.strict,
        };
        // Judged before the rules, which withhold fixes for errors only,
        // and again after, for the problems of the files the runs read.
        judge.judge(&mut own);
        let before = own.len();
        timings::time("runs and rules", || f(&prepared, &mut own));
        judge.judge(&mut own[before..]);
        problems.extend(own);
    }
    problems
}

/// One project's Python facts and the input problems found making them.
type Analysis = (analyze::PythonFacts, Vec<Problem>);

type LoadedProject = (
    discover::Project,
    config::settings::Settings,
    config::versions::Overrides,
    config::ProjectConfig,
);

/// The Python analysis of each project, in order, on as many threads as
/// there are cores.
fn analyze_projects(
    files: &source::SharedFiles,
    projects: &[LoadedProject],
    no_prefilter: bool,
) -> Vec<Analysis> {
    let run = |(project, settings, _, config): &LoadedProject| {
        analyze::python::analyze(
            std::sync::Arc::clone(files),
            project.root.clone(),
            project.python_files.clone(),
            config.scripts.clone(),
            settings.python_launchers.clone(),
            config
                .pytest
                .as_ref()
                .map(|p| p.pythonpath.clone())
                .unwrap_or_default(),
            no_prefilter,
        )
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(projects.len());
    if workers <= 1 {
        return projects.iter().map(run).collect();
    }
    // Biggest first (by Python files): a big project started last would
    // finish alone on one core.
    let mut order: Vec<usize> = (0..projects.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(projects[i].0.python_files.len()));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<Analysis>>> = projects
        .iter()
        .map(|_| std::sync::Mutex::new(None))
        .collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            // Each analysis runs on a big-stack thread of its own; this
            // one only waits for it.
            let _ = std::thread::Builder::new().spawn_scoped(scope, || {
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&i) = order.get(n) else {
                        break;
                    };
                    let project = &projects[i];
                    let result = run(project);
                    *slots[i].lock().expect("not poisoned") = Some(result);
                }
            });
        }
    });
    slots
        .into_iter()
        .zip(projects)
        .map(|(slot, project)| {
            slot.into_inner()
                .expect("not poisoned")
                .unwrap_or_else(|| run(project))
        })
        .collect()
}

/// The runs of one project, as `covdoctor runs` shows them.
pub struct ProjectRuns {
    pub root: PathBuf,
    /// Each run with how its children are measured.
    pub runs: Vec<(runs::View, runs::Mechanism)>,
}

/// A run with how its children are measured (which needs the coverage
/// configuration the run reads).
fn with_mechanism(
    project: &Prepared<'_>,
    v: runs::View,
    options: &RunOptions,
) -> (runs::View, runs::Mechanism) {
    let coverage = run_coverage(project, &v, options, &mut Vec::new());
    let cx = rules::Context {
        config: &project.config,
        python: &project.python,
        run: &v,
        coverage: coverage.as_ref().unwrap_or(&project.config.coverage),
    };
    let mechanism = cx.mechanism();
    (v, mechanism)
}

/// `covdoctor runs`: every way each project runs its tests, resolved.
pub fn list_runs(paths: &[PathBuf], options: &RunOptions) -> (Vec<ProjectRuns>, Vec<Problem>) {
    let files = std::sync::Arc::new(source::Disk) as source::SharedFiles;
    let mut out = Vec::new();
    let problems = each_project(paths, options, &files, &mut |project, _| {
        let views = views(project);
        let runs = views
            .into_iter()
            .map(|v| with_mechanism(project, v, options))
            .collect();
        out.push(ProjectRuns {
            root: project.root.clone(),
            runs,
        });
    });
    (out, problems)
}

/// The coverage configuration of each run of a project (`covdoctor
/// config`).
pub struct ProjectCoverage {
    pub root: PathBuf,
    /// Each run with the coverage configuration it reads.
    pub runs: Vec<(runs::View, config::coverage::CoverageConfig)>,
}

/// `covdoctor config`: the coverage configuration each run of each project
/// reads (the project's, or the one its own `--cov-config` or
/// `COVERAGE_RCFILE` names).
pub fn effective_config(
    paths: &[PathBuf],
    options: &RunOptions,
) -> (Vec<ProjectCoverage>, Vec<Problem>) {
    let files = std::sync::Arc::new(source::Disk) as source::SharedFiles;
    let mut out = Vec::new();
    let problems = each_project(paths, options, &files, &mut |project, problems| {
        let runs = views(project)
            .into_iter()
            .map(|v| {
                let coverage = run_coverage(project, &v, options, problems)
                    .unwrap_or_else(|| project.config.coverage.clone());
                (v, coverage)
            })
            .collect();
        out.push(ProjectCoverage {
            root: project.root.clone(),
            runs,
        });
    });
    (out, problems)
}

/// What `covdoctor doctor` needs to know of a project: whether its tests
/// measure Python children at all, how (per run, with the versions given),
/// and what a fresh install of its local run gets.
pub struct ProjectUse {
    pub root: PathBuf,
    /// Each run that measures coverage, with how its children are measured.
    pub measuring: Vec<(runs::View, runs::Mechanism)>,
    /// The project's code starts Python children that run project code.
    pub python_children: bool,
    /// The local run's versions as a fresh install resolves them (lock
    /// file, requirements, declared dependencies; no environment).
    pub fresh: config::versions::Versions,
    /// The coverage configuration the local run reads.
    pub coverage: config::coverage::CoverageConfig,
}

/// `covdoctor doctor`'s view of each project (see [`ProjectUse`]).
pub fn project_use(paths: &[PathBuf], options: &RunOptions) -> (Vec<ProjectUse>, Vec<Problem>) {
    let files = std::sync::Arc::new(source::Disk) as source::SharedFiles;
    let mut out = Vec::new();
    let problems = each_project(paths, options, &files, &mut |project, _| {
        let measuring: Vec<(runs::View, runs::Mechanism)> = views(project)
            .into_iter()
            .filter(|v| v.measures)
            .map(|v| with_mechanism(project, v, options))
            .collect();
        // What pip would get: no environment, no version assumed.
        let fresh = config::versions::Overrides {
            skip_environment: true,
            ..Default::default()
        };
        let mut loader = config::ConfigFiles::new(std::sync::Arc::clone(project.files));
        let fresh = config::versions::Versions::detect(&project.root, &fresh, &mut loader);
        let coverage = measuring
            .iter()
            .find(|(v, _)| v.run.kind == runs::Kind::Local)
            .and_then(|(v, _)| run_coverage(project, v, options, &mut Vec::new()))
            .unwrap_or_else(|| project.config.coverage.clone());
        out.push(ProjectUse {
            root: project.root.clone(),
            coverage,
            measuring,
            python_children: rules::python_launches(&project.python).next().is_some(),
            fresh,
        });
    });
    (out, problems)
}

/// Every run of a project, resolved.
fn views(project: &Prepared<'_>) -> Vec<runs::View> {
    views_and_files(project).0
}

/// The input problems of the files read to find the runs (a workflow that
/// is not YAML, a hatch.toml that is not TOML), but for files that already
/// have one.
fn run_file_problems(loader: &config::ConfigFiles, problems: &mut Vec<Problem>) {
    for p in loader.failures() {
        if !problems.iter().any(|q| q.path == p.path) {
            problems.push(p);
        }
    }
}

/// Every run of a project, resolved, and the files read to find them (a
/// change to a workflow or tox.ini can change every finding).
fn views_and_files(
    project: &Prepared<'_>,
) -> (
    Vec<runs::View>,
    std::collections::BTreeSet<PathBuf>,
    config::ConfigFiles,
) {
    let mut loader = config::ConfigFiles::new(std::sync::Arc::clone(project.files));
    let all = runs::collect(&project.config, &mut loader);
    let measured_elsewhere = all
        .iter()
        .any(|r| r.kind != runs::Kind::Local && r.test.is_some());
    let views = all
        .into_iter()
        .map(|r| {
            runs::View::new(
                r,
                &project.config,
                &project.overrides,
                &mut loader,
                measured_elsewhere,
            )
        })
        .collect();
    let existing = loader.existing();
    (views, existing, loader)
}

/// The rules for every run of the project: project-level rules once,
/// the others for each run that measures coverage. A finding that holds
/// for several runs is reported once, naming them all.
fn check_runs(
    project: &Prepared<'_>,
    options: &RunOptions,
    problems: &mut Vec<Problem>,
) -> (
    Vec<diagnostic::Diagnostic>,
    std::collections::BTreeSet<PathBuf>,
) {
    let config = &project.config;
    let python = &project.python;
    let root = &project.root;
    let (views, files, loader) = views_and_files(project);
    run_file_problems(&loader, problems);
    let mut out: Vec<diagnostic::Diagnostic> = Vec::new();
    // The n-th finding of a rule at a place in one run is the same finding
    // as the n-th one there in another run.
    let key = |d: &diagnostic::Diagnostic| {
        (
            d.rule,
            d.primary.location.file.path.clone(),
            d.primary.location.span,
        )
    };
    let mut add = |found: Vec<diagnostic::Diagnostic>, view: Option<&runs::View>| {
        let run = view.map(|v| v.run.describe(root));
        // A run in another directory reads other configuration: its
        // findings say so, and offer no fix in the root's files.
        let elsewhere = view.and_then(|v| {
            let (dir, location) = v.run.cwd.as_ref()?;
            Some((
                location.clone(),
                format!(
                    "{} runs pytest in `{}`, where coverage.py looks for its configuration",
                    v.run.name,
                    dir.display()
                ),
            ))
        });
        // Where the run starts pytest, for findings that hold for a run
        // declared in a file of its own (tox, CI, ...).
        let started = view.and_then(|v| {
            let test = v.run.test.as_ref()?;
            (v.run.kind != runs::Kind::Local).then(|| {
                (
                    test.location.clone(),
                    format!("{} starts the tests here", v.run.name),
                )
            })
        });
        let mut seen: Vec<_> = Vec::new();
        for mut d in found {
            let k = key(&d);
            let nth = seen.iter().filter(|s| **s == k).count();
            seen.push(k.clone());
            match out.iter_mut().filter(|e| key(e) == k).nth(nth) {
                Some(existing) => existing.runs.extend(run.clone()),
                None => {
                    d.runs.extend(run.clone());
                    if let Some((location, text)) = &elsewhere {
                        d.fix = None;
                        d.help = Some(format!(
                            "{}. This run reads no settings from the root: give pytest `--cov-config` with the path of the file that holds them (in tox, `--cov-config={{toxinidir}}/pyproject.toml`)",
                            d.help.take().unwrap_or_default().trim_end_matches('.')
                        ));
                        if !location.span.is_empty() {
                            d = d.label(location.clone(), text.clone());
                        }
                    }
                    if let Some((location, text)) = &started
                        && !location.span.is_empty()
                    {
                        d = d.label(location.clone(), text.clone());
                    }
                    out.push(d);
                }
            }
        }
    };
    let project_coverage = &config.coverage;
    if let Some(local) = views.first() {
        let cx = rules::Context {
            config,
            python,
            run: local,
            coverage: project_coverage,
        };
        add(rules::check(&cx, &[rules::Scope::Project]), None);
    }
    for view in views.iter().filter(|v| v.measures) {
        let own = run_coverage(project, view, options, problems);
        let coverage = own.as_ref().unwrap_or(project_coverage);
        // What coverage.py warns about and ignores in the files it reads,
        // once for every run that reads them.
        for p in coverage.option_problems(&view.versions.coverage) {
            let same = |q: &Problem| {
                q.path == p.path
                    && q.message == p.message
                    && q.location.as_ref().map(|l| l.span) == p.location.as_ref().map(|l| l.span)
            };
            if !problems.iter().any(same) {
                problems.push(p);
            }
        }
        // A run that collects some test paths only does not start the
        // children of the other test modules.
        let exists = |p: &std::path::Path| {
            python.paths.contains(p) || python.paths.iter().any(|f| f.starts_with(p))
        };
        let scoped = runs::collected::test_paths(view, root, config, &exists).and_then(|paths| {
            python.only_run(&|file| runs::collected::runs_file(&paths, root, file))
        });
        let cx = rules::Context {
            config,
            python: scoped.as_ref().unwrap_or(python),
            run: view,
            coverage,
        };
        add(
            rules::check(&cx, &[rules::Scope::Run, rules::Scope::Child]),
            Some(view),
        );
    }
    (out, files)
}

/// The coverage configuration a run reads when it differs from the
/// project's baseline: a `--cov-config` on its command line, or
/// `COVERAGE_RCFILE` in its environment.
fn run_coverage(
    project: &Prepared<'_>,
    view: &runs::View,
    options: &RunOptions,
    problems: &mut Vec<Problem>,
) -> Option<config::coverage::CoverageConfig> {
    let root = &project.root;
    let baseline = project
        .config
        .pytest
        .as_ref()
        .and_then(|p| p.cov.cov_config.clone());
    let rcfile = view
        .run
        .env
        .get("COVERAGE_RCFILE")
        .filter(|(v, _)| !v.is_empty() && !v.contains(['$', '{']))
        .map(|(v, _)| root.join(v));
    let same_cov_config =
        view.cov.cov_config.as_ref().map(|c| &c.0) == baseline.as_ref().map(|c| &c.0);
    // Variables the run sets, for coverage's `${VAR-default}` in values.
    let env: Vec<(String, String)> = view
        .run
        .env
        .iter()
        .filter(|(_, (v, _))| !v.contains('$'))
        .map(|(k, (v, _))| (k.clone(), v.clone()))
        .collect();
    let reads_coveragerc_toml = view.versions.reads_coveragerc_toml();
    if same_cov_config
        && rcfile.is_none()
        && view.run.cwd.is_none()
        && reads_coveragerc_toml == project.config.versions.reads_coveragerc_toml()
    {
        return project.config.coverage.with_env(&env);
    }
    // coverage.py reads its configuration in the directory pytest runs in.
    let cwd = match &view.run.cwd {
        Some((dir, _)) => root.join(dir),
        None => root.to_path_buf(),
    };
    let lookup = config::coverage::Lookup {
        root: &cwd,
        cov_config: view.cov.cov_config.clone(),
        rcfile_env: rcfile.or_else(|| options.coverage_rcfile.clone()),
        reads_coveragerc_toml,
    };
    let mut loader = config::ConfigFiles::new(std::sync::Arc::clone(project.files));
    let mut errors = Vec::new();
    let found = config::coverage::CoverageConfig::discover(&lookup, &mut loader, &mut errors);
    for e in errors {
        let problem = Problem::from(e);
        if !problems
            .iter()
            .any(|p| p.path == problem.path && p.message == problem.message)
        {
            problems.push(problem);
        }
    }
    Some(found.with_env(&env).unwrap_or(found))
}

/// Every suppression comment of a project: in its Python files and in the
/// configuration files covdoctor reads.
fn suppressions(
    config: &config::ProjectConfig,
    python: &analyze::PythonFacts,
) -> Vec<suppress::Suppression> {
    let mut out: Vec<suppress::Suppression> = python
        .files
        .values()
        .flat_map(|f| suppress::in_python(&f.source, &f.comments))
        .collect();
    let mut sources: Vec<&source::Source> = config
        .coverage
        .candidates
        .iter()
        .map(|c| &c.source)
        .collect();
    sources.extend(config.pytest.as_ref().map(|p| &p.source));
    sources.sort_by(|a, b| a.path.cmp(&b.path));
    sources.dedup_by(|a, b| a.path == b.path);
    for s in sources {
        out.extend(suppress::in_config(s));
    }
    out
}

/// Explicit versions: the command line's, then the settings'.
fn versions_for(
    options: &RunOptions,
    settings: &config::settings::Settings,
) -> config::versions::Overrides {
    use config::versions::Explicit;
    let from_settings = |key: &str, given: &Option<config::settings::Located<String>>| {
        given.as_ref().map(|l| Explicit {
            value: l.value.clone(),
            what: format!(
                "`{key}` in {}",
                settings.file.as_deref().unwrap_or("covdoctor's settings")
            ),
            location: l.location.clone(),
        })
    };
    config::versions::Overrides {
        pytest_cov: options
            .versions
            .pytest_cov
            .clone()
            .or_else(|| from_settings("pytest-cov-version", &settings.pytest_cov_version)),
        coverage: options
            .versions
            .coverage
            .clone()
            .or_else(|| from_settings("coverage-version", &settings.coverage_version)),
        virtual_env: options.versions.virtual_env.clone(),
        skip_environment: options.versions.skip_environment,
    }
}
