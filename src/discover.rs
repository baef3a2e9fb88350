//! Step 1 of the pipeline: find the projects to check and their Python files.
//!
//! A project root is the nearest directory (at or above a given path) that
//! holds one of [`MARKERS`] (or a noxfile, [`ROOT_ONLY`]): that is where pytest and coverage.py are run and
//! look for their configuration. Directories with markers below a given path
//! are projects of their own. All Python files of a root are analysed, even
//! when only part of it was asked for, because a fixture in `conftest.py` or a
//! helper module elsewhere decides what a test does; findings are then
//! reported only for the paths that were asked for (see [`crate::scope`]).
//!
//! Files can be given one by one (pre-commit passes the changed files):
//! only files covdoctor reads count ([`matters`]); others are ignored.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use globset::GlobSet;

use crate::problem::Problem;
use crate::source::normalize;

/// Files whose presence makes a directory a project root.
pub const MARKERS: &[&str] = &[
    "pyproject.toml",
    "setup.cfg",
    "tox.ini",
    ".coveragerc",
    ".coveragerc.toml",
    "pytest.ini",
    ".pytest.ini",
    "pytest.toml",
    ".pytest.toml",
];

/// Files that make a directory a project root without being a
/// configuration file: nox runs its sessions in the noxfile's directory.
pub const ROOT_ONLY: &[&str] = &["noxfile.py"];

/// Directories never analysed (besides what .gitignore and hidden-file rules
/// already skip): environments, caches and build output.
pub const SKIPPED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    "node_modules",
    "build",
    "dist",
    "__pycache__",
    "site-packages",
    ".eggs",
];

/// Whether a file given on the command line is one covdoctor reads: Python
/// sources, the configuration files of pytest, coverage.py and covdoctor,
/// and the files the versions of pytest-cov and coverage come from
/// (requirements, constraints, lock files). `.toml`, `.cfg` and `.ini`
/// files count too, since `--cov-config` or `COVERAGE_RCFILE` can name any
/// of them; whether such a file is part of a project's configuration is
/// decided once the configuration is read.
pub fn matters(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    MARKERS.contains(&name.as_str())
        || name.starts_with(".coveragerc")
        || name == "Pipfile"
        || matches!(
            extension.as_deref(),
            Some("py" | "toml" | "cfg" | "ini" | "lock")
        )
        || (extension.as_deref() == Some("txt")
            && (name.starts_with("requirements")
                || name.starts_with("constraints")
                || path.parent().is_some_and(|d| d.ends_with("requirements"))))
}

/// One project to check.
#[derive(Debug, Clone)]
pub struct Project {
    /// Absolute path of the root.
    pub root: PathBuf,
    /// Every Python file of the project (absolute, sorted).
    pub python_files: Vec<PathBuf>,
    /// Directories under the project's tests that hold a `pyproject.toml`
    /// or `setup.cfg` declaring no test run of their own: test data of this
    /// project (a package a test builds or installs), walked as part of it
    /// rather than checked as projects (see [`is_test_data`]).
    pub test_data: Vec<PathBuf>,
}

/// Directory names that hold a project's tests, where pytest looks
/// when `testpaths` is not set and where projects keep their test data.
pub const TEST_DIRS: &[&str] = &["tests", "test", "testing"];

/// Whether the directory `dir` (a nested root below the project at `root`)
/// is test data of that project: it lies under one of [`TEST_DIRS`] and
/// declares no test run of its own. Broken files that decide this (a
/// `pyproject.toml` that is not TOML) declare nothing; they are reported
/// as warnings in `problems`.
pub fn is_test_data(root: &Path, dir: &Path, problems: &mut Vec<Problem>) -> bool {
    let Ok(relative) = dir.strip_prefix(root) else {
        return false;
    };
    let under_tests = relative
        .components()
        .any(|c| TEST_DIRS.iter().any(|t| c.as_os_str() == *t));
    if !under_tests {
        return false;
    }
    let mut found = Vec::new();
    let declares = declares_test_run(dir, &mut found);
    if !declares {
        for mut p in found {
            p.demote(format!(
                "{} is test data of the project at {} (under its tests, with no test run of its own), so this file changes no verdict",
                dir.display(),
                root.display()
            ));
            problems.push(p);
        }
    }
    !declares
}

/// Whether the project files in `dir` declare a way to run tests: a
/// marker of pytest, coverage.py or tox of their own, a noxfile, or
/// pytest, coverage, tox, hatch environments, pdm scripts, pixi or
/// covdoctor settings in `pyproject.toml` or `setup.cfg`. The problems of
/// files that cannot be read go to `problems`.
fn declares_test_run(dir: &Path, problems: &mut Vec<Problem>) -> bool {
    if MARKERS
        .iter()
        .filter(|m| !matches!(**m, "pyproject.toml" | "setup.cfg"))
        .any(|m| dir.join(m).is_file())
        || ["noxfile.py", "covdoctor.toml", ".covdoctor.toml"]
            .iter()
            .any(|n| dir.join(n).is_file())
    {
        return true;
    }
    let files = Arc::new(crate::source::Disk) as crate::source::SharedFiles;
    let mut loader = crate::config::ConfigFiles::new(files);
    use crate::config::coverage::FileLoader;
    let mut declares = false;
    if let Some(Ok(source)) = loader.load(&dir.join("pyproject.toml"))
        && let Ok(doc) = loader.toml(&source)
    {
        let tool = |path: &[&str]| {
            let mut full = vec!["tool"];
            full.extend_from_slice(path);
            crate::config::toml::table_at(&doc, &full).is_some()
        };
        declares = [
            &["pytest"][..],
            &["coverage"],
            &["tox"],
            &["hatch", "envs"],
            &["pdm", "scripts"],
            &["pixi"],
            &["covdoctor"],
        ]
        .iter()
        .any(|p| tool(p));
    }
    if let Some(Ok(source)) = loader.load(&dir.join("setup.cfg"))
        && let Ok(ini) = loader.ini(&source)
    {
        declares |= ini.sections.iter().any(|s| {
            matches!(s.name.as_str(), "tool:pytest" | "pytest" | "tox:tox")
                || s.name.starts_with("coverage:")
        });
    }
    problems.extend(loader.failures());
    declares
}

/// The projects for the given paths, and the paths that do not exist.
/// Finds the projects, walking each with the exclusions `exclusions_for`
/// gives for its root (built-in ones plus its settings).
pub fn discover(
    paths: &[PathBuf],
    exclusions_for: &mut dyn FnMut(&Path) -> GlobSet,
) -> (Vec<Project>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut asked: Vec<PathBuf> = Vec::new();
    for path in paths {
        if !path.exists() {
            problems.push(Problem::at_path(
                path.clone(),
                format!("{}: no such file or directory", path.display()),
            ));
            continue;
        }
        match std::path::absolute(path) {
            Ok(abs) => asked.push(normalize(&abs)),
            Err(e) => problems.push(Problem::at_path(path.clone(), e.to_string())),
        }
    }

    let mut queue: Vec<PathBuf> = asked
        .iter()
        .filter(|p| p.is_dir() || matters(p))
        .map(|p| root_of(p))
        .collect();
    let mut done: BTreeSet<PathBuf> = BTreeSet::new();
    let mut projects = Vec::new();
    while let Some(root) = queue.pop() {
        if !done.insert(root.clone()) {
            continue;
        }
        let nested = Arc::new(Mutex::new(Vec::new()));
        let test_data = Arc::new(Mutex::new(Vec::new()));
        let python_files = walk(
            &root,
            exclusions_for(&root),
            &nested,
            &test_data,
            &mut problems,
        );
        let mut nested: Vec<PathBuf> = nested.lock().expect("walk finished").drain(..).collect();
        nested.sort();
        for n in nested {
            // A nested project is only checked when it was asked for.
            if asked.iter().any(|a| n.starts_with(a)) {
                queue.push(n);
            }
        }
        let mut test_data = std::mem::take(&mut *test_data.lock().expect("walk finished"));
        // The walk runs on every core: its order is not the tree's.
        test_data.sort_by(|a, b| a.0.cmp(&b.0));
        let (test_data, found): (Vec<PathBuf>, Vec<Vec<Problem>>) = test_data.into_iter().unzip();
        problems.extend(found.into_iter().flatten());
        projects.push(Project {
            root,
            python_files,
            test_data,
        });
    }
    projects.sort_by(|a, b| a.root.cmp(&b.root));
    (projects, problems)
}

/// The nearest directory at or above `path` with a marker file, or the
/// directory itself when there is none (a project with no configuration).
pub fn root_of(path: &Path) -> PathBuf {
    let dir = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(path)
    };
    dir.ancestors()
        .find(|d| is_root(d))
        .unwrap_or(dir)
        .to_path_buf()
}

fn is_root(dir: &Path) -> bool {
    MARKERS
        .iter()
        .chain(ROOT_ONLY)
        .any(|m| dir.join(m).is_file())
}

/// The names of a directory's listing the walk asks about: the markers,
/// the ignore files and `.git`.
const LOOKED_UP: &[&str] = &[".gitignore", ".ignore", ".git"];

/// What the walk needs to know of one directory: whether it is a project
/// root ([`is_root`]) and which of its ignore files can exist.
struct DirFacts {
    root: bool,
    /// `.gitignore`, `.ignore` and, in a git checkout's top,
    /// `.git/info/exclude`, when the directory lists them.
    ignore_files: Vec<PathBuf>,
}

impl DirFacts {
    /// Read from one listing of `dir`: most directories hold none of the
    /// dozen names looked up, and listing once costs less than looking up
    /// each. A directory that cannot be listed is asked name by name (it
    /// can still be searchable).
    fn of(dir: &Path) -> DirFacts {
        let listed: Option<Vec<std::ffi::OsString>> = std::fs::read_dir(dir).ok().and_then(|r| {
            r.map(|e| e.map(|e| e.file_name()))
                .filter(|n| {
                    n.as_ref().map_or(true, |n| {
                        MARKERS
                            .iter()
                            .chain(ROOT_ONLY)
                            .chain(LOOKED_UP)
                            .any(|m| same_name(n, m))
                    })
                })
                .collect::<Result<_, _>>()
                .ok()
        });
        let has = |name: &str| {
            listed
                .as_ref()
                .is_none_or(|l| l.iter().any(|n| same_name(n, name)))
        };
        let mut ignore_files: Vec<PathBuf> = [".gitignore", ".ignore"]
            .iter()
            .filter(|n| has(n))
            .map(|n| dir.join(n))
            .collect();
        if has(".git") && dir.join(".git").is_dir() {
            ignore_files.push(dir.join(".git").join("info").join("exclude"));
        }
        DirFacts {
            root: MARKERS
                .iter()
                .chain(ROOT_ONLY)
                .any(|m| has(m) && dir.join(m).is_file()),
            ignore_files,
        }
    }
}

/// Whether a listed name is `wanted`, as a lookup of `wanted` on this
/// platform's usual file systems would find it: ignoring ASCII case on
/// macOS and Windows (the exact [`Path::is_file`] check follows).
fn same_name(listed: &std::ffi::OsStr, wanted: &str) -> bool {
    if cfg!(any(target_os = "macos", target_os = "windows")) {
        listed.eq_ignore_ascii_case(wanted)
    } else {
        listed == wanted
    }
}

/// The directories of test data found by [`walk`], each with the problems
/// of the files that decided it.
type TestData = Arc<Mutex<Vec<(PathBuf, Vec<Problem>)>>>;

/// The Python files under `root`, not descending into nested projects (which
/// are pushed to `nested`) or excluded paths; test data of the project (see
/// [`is_test_data`]) is walked as part of it and pushed to `test_data`.
fn walk(
    root: &Path,
    excluded: GlobSet,
    nested: &Arc<Mutex<Vec<PathBuf>>>,
    test_data: &TestData,
    problems: &mut Vec<Problem>,
) -> Vec<PathBuf> {
    let root_owned = root.to_path_buf();
    let nested = Arc::clone(nested);
    let test_data = Arc::clone(test_data);
    let ignores = Arc::new(IgnoreFiles::new(root));
    let ignores_in_walk = Arc::clone(&ignores);
    // The walker's own ignore-file reading is off: it opens `.gitignore`
    // with no check, so a FIFO blocks it forever and `/dev/zero` is read
    // until memory runs out. The same files are read here through
    // `read_regular` and matched with the crate's gitignore matcher.
    // Directories are listed on every core (`build_parallel`); the files
    // are sorted afterwards, so the order of the walk never shows.
    let found: Mutex<(Vec<PathBuf>, Vec<Problem>)> = Mutex::new((Vec::new(), Vec::new()));
    ignore::WalkBuilder::new(root)
        .standard_filters(false)
        .hidden(true)
        .filter_entry(move |entry| {
            if entry.path() == root_owned {
                return true;
            }
            let relative = entry
                .path()
                .strip_prefix(&root_owned)
                .unwrap_or(entry.path());
            if excluded.is_match(entry.file_name()) || excluded.is_match(relative) {
                return false;
            }
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            if ignores_in_walk.ignored(entry.path(), is_dir) {
                return false;
            }
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            if is_dir && ignores_in_walk.facts(entry.path()).root {
                let mut found = Vec::new();
                if is_test_data(&root_owned, entry.path(), &mut found) {
                    test_data
                        .lock()
                        .expect("not poisoned")
                        .push((entry.path().to_path_buf(), found));
                    return true;
                }
                nested
                    .lock()
                    .expect("not poisoned")
                    .push(entry.path().to_path_buf());
                return false;
            }
            true
        })
        .threads(std::thread::available_parallelism().map_or(1, |n| n.get()))
        .build_parallel()
        .run(|| {
            Box::new(|entry| {
                let mut found = found.lock().expect("not poisoned");
                match entry {
                    Ok(entry) => {
                        let path = entry.path();
                        if entry.file_type().is_some_and(|t| t.is_file())
                            && path.extension().is_some_and(|e| e == "py")
                        {
                            found.0.push(entry.into_path());
                        }
                    }
                    // An unlistable directory, a broken link: said, not
                    // skipped without a word.
                    Err(e) => found.1.push(Problem::at_path(
                        walk_error_path(&e).unwrap_or_else(|| root.to_path_buf()),
                        format!("cannot be read: {}", walk_error_cause(&e)),
                    )),
                }
                ignore::WalkState::Continue
            })
        });
    let (mut files, mut walk_problems) = found.into_inner().expect("not poisoned");
    walk_problems.sort_by(|a, b| a.path.cmp(&b.path));
    problems.append(&mut walk_problems);
    files.sort();
    let mut ignore_problems = std::mem::take(&mut *ignores.problems.lock().expect("not poisoned"));
    ignore_problems.sort_by(|a, b| a.path.cmp(&b.path));
    problems.append(&mut ignore_problems);
    files
}

/// `.gitignore` and `.ignore` files, per directory, read safely (see
/// [`walk`]), and `.git/info/exclude` of the root.
struct IgnoreFiles {
    /// The top of the git checkout holding the root (its ignore files apply
    /// to a project inside it), or the root itself.
    top: PathBuf,
    /// Each directory's matcher, read once; shared by the walk's threads
    /// (the lock is held for the lookup only, never while reading).
    by_dir: Mutex<rustc_hash::FxHashMap<PathBuf, Option<Arc<ignore::gitignore::Gitignore>>>>,
    /// Each directory's [`DirFacts`], listed once.
    facts: Mutex<rustc_hash::FxHashMap<PathBuf, Arc<DirFacts>>>,
    problems: Mutex<Vec<Problem>>,
}

impl IgnoreFiles {
    fn new(root: &Path) -> IgnoreFiles {
        IgnoreFiles {
            top: root
                .ancestors()
                .find(|d| d.join(".git").exists())
                .unwrap_or(root)
                .to_path_buf(),
            by_dir: Mutex::new(Default::default()),
            facts: Mutex::new(Default::default()),
            problems: Mutex::new(Vec::new()),
        }
    }

    fn facts(&self, dir: &Path) -> Arc<DirFacts> {
        if let Some(known) = self.facts.lock().expect("not poisoned").get(dir) {
            return Arc::clone(known);
        }
        // Listed without the lock held; a second listing by another
        // thread finds the same.
        let facts = Arc::new(DirFacts::of(dir));
        Arc::clone(
            self.facts
                .lock()
                .expect("not poisoned")
                .entry(dir.to_path_buf())
                .or_insert(facts),
        )
    }

    fn of(&self, dir: &Path) -> Option<Arc<ignore::gitignore::Gitignore>> {
        if let Some(known) = self.by_dir.lock().expect("not poisoned").get(dir) {
            return known.clone();
        }
        let mut builder = ignore::gitignore::GitignoreBuilder::new(dir);
        let mut any = false;
        let mut problems = Vec::new();
        let facts = self.facts(dir);
        for path in facts.ignore_files.iter() {
            // Nothing there, or a dangling link: git passes over it (a
            // link loop it reports).
            if std::fs::metadata(path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
                continue;
            }
            match crate::source::read_regular(path) {
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes);
                    for line in text.lines() {
                        // A line the matcher rejects is skipped, as git does.
                        let _ = builder.add_line(Some(path.clone()), line);
                    }
                    any = true;
                }
                Err(e) => problems.push(Problem::at_path(
                    path.clone(),
                    format!("{}: {e}", path.display()),
                )),
            }
        }
        let built = any.then(|| builder.build().ok()).flatten().map(Arc::new);
        let mut by_dir = self.by_dir.lock().expect("not poisoned");
        match by_dir.entry(dir.to_path_buf()) {
            // Another thread read it first: its problems are already said.
            std::collections::hash_map::Entry::Occupied(e) => e.get().clone(),
            std::collections::hash_map::Entry::Vacant(e) => {
                self.problems.lock().expect("not poisoned").extend(problems);
                e.insert(built).clone()
            }
        }
    }

    /// Whether the ignore files of `path`'s directories (the nearest one
    /// first) ignore it.
    fn ignored(&self, path: &Path, is_dir: bool) -> bool {
        for dir in path
            .ancestors()
            .skip(1)
            .take_while(|d| d.starts_with(&self.top))
        {
            if let Some(gi) = self.of(dir) {
                match gi.matched(path, is_dir) {
                    ignore::Match::Ignore(_) => return true,
                    ignore::Match::Whitelist(_) => return false,
                    ignore::Match::None => {}
                }
            }
        }
        false
    }
}

/// The path a walk error is about.
fn walk_error_path(e: &ignore::Error) -> Option<PathBuf> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error_path(err)
        }
        ignore::Error::Partial(errs) => errs.first().and_then(walk_error_path),
        _ => None,
    }
}

/// What went wrong, without the path [`walk_error_path`] gives.
fn walk_error_cause(e: &ignore::Error) -> String {
    match e {
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => walk_error_cause(err),
        ignore::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}
