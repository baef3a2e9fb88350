//! Which versions of pytest-cov and coverage.py a test run gets, and where
//! covdoctor learnt it. Read from the project's files, never by running
//! Python.
//!
//! What a run installs is either exact (an explicit setting, an installed
//! environment, a lock file the run consumes) or a set of requirements
//! (`pytest-cov`, `pytest-cov>=6.2,<8`). Requirements resolve as a fresh
//! install resolves them: to the newest release in [`super::releases`] that
//! satisfies every specifier, with pytest-cov's own requirement on coverage
//! taken into account (pytest-cov 7 needs coverage >= 7.10.6). Versions and
//! specifiers are PEP 440 (`pep440_rs`), requirements PEP 508 (`pep508_rs`).
//!
//! [`Versions::detect`] is the local run's chain, for each package the first
//! source that names it:
//!
//! 1. an explicit setting: a command-line flag, or covdoctor's
//!    `pytest-cov-version` / `coverage-version` setting;
//! 2. the environment the tests run in: `$VIRTUAL_ENV`, else `.venv/` or
//!    `venv/` in the project, the first of them with pytest installed;
//! 3. lock files: `uv.lock`, `poetry.lock`, `pdm.lock`, `Pipfile.lock`
//!    (their tools run the local tests: `uv run pytest`, `poetry run`...);
//! 4. requirements files: `requirements*.txt`, `constraints*.txt` (and what
//!    they include with `-r`/`-c`), also under `requirements/`;
//! 5. declared dependencies: pyproject.toml's `[project]` dependencies,
//!    optional dependencies, `[dependency-groups]`, Poetry's groups,
//!    setup.cfg's `install_requires` / `extras_require`, and tox.ini `deps`.

use crate::problem::Problem;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use pep440_rs::Version;
use pep440_rs::VersionSpecifiers;

use super::coverage::FileLoader;
use super::releases;
use super::toml as tomlx;
use crate::source::{Location, Source as SourceFile, Span};

/// Parses a PEP 440 version (`7.10.6`, `v7.1`).
pub fn parse_version(text: &str) -> Option<Version> {
    Version::from_str(text.trim().trim_start_matches('v')).ok()
}

fn release(parts: &[u64]) -> Version {
    Version::new(parts.iter().copied())
}

/// Where a version came from.
#[derive(Clone, Debug)]
pub struct Provenance {
    /// For messages: "uv.lock", "requirements-test.txt", "the environment
    /// in .venv", "tox.ini [testenv] deps".
    pub what: String,
    /// The line that says it, when it is in a file.
    pub location: Option<Location>,
    /// Resolved from a requirement rather than read: the requirement as
    /// written (`pytest-cov`, `pytest-cov>=6.2,<8`).
    pub requirement: Option<String>,
}

/// What is known about one package.
#[derive(Clone, Debug, Default)]
pub struct Detected {
    pub version: Option<Version>,
    pub source: Option<Provenance>,
    /// A lock file or environment that lists the project's packages does
    /// not list this one: it is not used.
    pub absent: bool,
}

impl Detected {
    fn exact(version: Version, what: impl Into<String>, location: Option<Location>) -> Detected {
        Detected {
            version: Some(version),
            source: Some(Provenance {
                what: what.into(),
                location,
                requirement: None,
            }),
            absent: false,
        }
    }

    /// "pytest-cov 7.1.0 (from uv.lock)", "pytest-cov 7.1.0 (not pinned in
    /// tox.ini [testenv] deps; a fresh install gets 7.1.0)".
    pub fn describe(&self, package: &str) -> String {
        match (&self.version, &self.source) {
            (Some(v), Some(p)) => match &p.requirement {
                Some(req) if is_pin(req) => format!("{package} {v} (from {})", p.what),
                Some(req) if is_unpinned(req) => format!(
                    "{package} {v} (not pinned in {}; a fresh install gets {v})",
                    p.what
                ),
                Some(req) => format!(
                    "{package} {v} (`{req}` in {}; a fresh install gets {v})",
                    p.what
                ),
                None => format!("{package} {v} (from {})", p.what),
            },
            _ => format!("{package} (version unknown)"),
        }
    }

    pub fn at_least(&self, parts: &[u64]) -> bool {
        self.version.as_ref().is_some_and(|v| *v >= release(parts))
    }

    pub fn below(&self, parts: &[u64]) -> bool {
        self.version.as_ref().is_some_and(|v| *v < release(parts))
    }
}

/// A requirement that names one version (`==7.1.0`).
fn is_pin(requirement: &str) -> bool {
    use pep440_rs::Operator;
    parse_requirement(requirement).is_some_and(|(_, specs)| {
        let specs: Vec<_> = specs.iter().collect();
        matches!(specs.as_slice(), [one] if matches!(one.operator(), Operator::Equal | Operator::ExactEqual))
    })
}

/// A requirement with no version specifier at all.
fn is_unpinned(requirement: &str) -> bool {
    parse_requirement(requirement).is_some_and(|(_, specs)| specs.iter().next().is_none())
}

#[derive(Clone, Debug, Default)]
pub struct Versions {
    pub pytest_cov: Detected,
    pub coverage: Detected,
    /// [`HOOK_PACKAGE`] is installed, and where that is said.
    pub startup_hook: Option<Provenance>,
}

/// A version given explicitly, and by whom.
#[derive(Clone, Debug)]
pub struct Explicit {
    pub value: String,
    pub what: String,
    pub location: Option<Location>,
}

/// Explicit versions (command line, then covdoctor's settings) and
/// `$VIRTUAL_ENV`.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub pytest_cov: Option<Explicit>,
    pub coverage: Option<Explicit>,
    /// `$VIRTUAL_ENV`.
    pub virtual_env: Option<PathBuf>,
    /// Do not read installed versions from an environment (`covdoctor
    /// doctor`'s question: what would a fresh install get?).
    pub skip_environment: bool,
}

/// A package whose installed `.pth` calls `coverage.process_startup()`:
/// the manual recipe's startup hook, ready made.
pub const HOOK_PACKAGE: &str = "coverage-enable-subprocess";

/// A requirement on one of the two packages (or on [`HOOK_PACKAGE`]),
/// where it is written.
#[derive(Clone, Debug)]
pub struct Requirement {
    /// Normalized (`pytest-cov`).
    pub package: String,
    pub specifiers: VersionSpecifiers,
    /// As written, without markers.
    pub text: String,
    /// "tox.ini [testenv:py312] deps".
    pub what: String,
    pub location: Option<Location>,
}

impl Requirement {
    /// Reads one PEP 508 requirement; `None` for other packages and for
    /// what is not a requirement.
    pub fn parse(text: &str, what: &str, location: Option<Location>) -> Option<Requirement> {
        let (package, specifiers) = parse_requirement(text)?;
        if package != "pytest-cov" && package != "coverage" && package != HOOK_PACKAGE {
            return None;
        }
        let text = text.split(';').next().unwrap_or(text).trim().to_string();
        Some(Requirement {
            package,
            specifiers,
            text,
            what: what.to_string(),
            location,
        })
    }
}

/// A PEP 508 requirement's normalized name and specifiers.
fn parse_requirement(text: &str) -> Option<(String, VersionSpecifiers)> {
    let text = text.trim();
    let parsed = pep508_rs::Requirement::<pep508_rs::VerbatimUrl>::from_str(text).ok()?;
    let specifiers = match parsed.version_or_url {
        None => VersionSpecifiers::empty(),
        Some(pep508_rs::VersionOrUrl::VersionSpecifier(s)) => s,
        Some(pep508_rs::VersionOrUrl::Url(_)) => return None,
    };
    Some((parsed.name.to_string(), specifiers))
}

/// What one source says about one package.
#[derive(Clone, Debug)]
pub enum Found {
    /// Known exactly (or known to be absent).
    Exact(Detected),
    /// Installed from these requirements.
    Required(Vec<Requirement>),
}

/// The inputs of a resolution: what a run installs of each package.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    pub pytest_cov: Option<Found>,
    pub coverage: Option<Found>,
    /// A requirement on [`HOOK_PACKAGE`].
    pub startup_hook: Option<Requirement>,
}

impl Inputs {
    /// Adds requirements; an exact version already known stays.
    pub fn require(&mut self, requirements: impl IntoIterator<Item = Requirement>) {
        for r in requirements {
            if r.package == HOOK_PACKAGE {
                self.startup_hook.get_or_insert(r);
                continue;
            }
            let slot = match r.package.as_str() {
                "pytest-cov" => &mut self.pytest_cov,
                _ => &mut self.coverage,
            };
            match slot {
                Some(Found::Exact(_)) => {}
                Some(Found::Required(list)) => list.push(r),
                None => *slot = Some(Found::Required(vec![r])),
            }
        }
    }
}

/// The coverage.py that a pytest-cov release requires (its
/// `coverage[toml]>=` requirement).
fn coverage_needed_by(pytest_cov: &Version) -> Version {
    if *pytest_cov >= release(&[7]) {
        release(&[7, 10, 6])
    } else if *pytest_cov >= release(&[6]) {
        release(&[7, 5])
    } else if *pytest_cov >= release(&[4]) {
        release(&[5, 2, 1])
    } else {
        release(&[4, 4])
    }
}

/// The releases of a package, newest first.
fn newest_first(table: &'static [(&'static str, &'static str)]) -> impl Iterator<Item = Version> {
    table.iter().rev().filter_map(|(v, _)| parse_version(v))
}

fn satisfies(v: &Version, requirements: &[Requirement]) -> bool {
    requirements.iter().all(|r| r.specifiers.contains(v))
}

/// The requirement to name in messages: a pin if there is one, else the
/// first.
fn representative(requirements: &[Requirement]) -> Option<&Requirement> {
    requirements
        .iter()
        .find(|r| r.specifiers.iter().next().is_some())
        .or_else(|| requirements.first())
}

fn resolved(v: Version, requirements: &[Requirement]) -> Detected {
    let r = representative(requirements);
    Detected {
        version: Some(v),
        source: r.map(|r| Provenance {
            what: r.what.clone(),
            location: r.location.clone(),
            requirement: Some(r.text.clone()),
        }),
        absent: false,
    }
}

/// Resolves what a run installs as a fresh install would.
pub fn resolve(inputs: &Inputs) -> Versions {
    let mut out = Versions {
        startup_hook: inputs.startup_hook.as_ref().map(|r| Provenance {
            what: r.what.clone(),
            location: r.location.clone(),
            requirement: Some(r.text.clone()),
        }),
        ..Versions::default()
    };
    // Coverage requirements that constrain pytest-cov's choice.
    let coverage_reqs: &[Requirement] = match &inputs.coverage {
        Some(Found::Required(r)) => r,
        _ => &[],
    };
    let coverage_exact = match &inputs.coverage {
        Some(Found::Exact(d)) => d.version.clone(),
        _ => None,
    };
    let coverage_ok = |needed: &Version| match &coverage_exact {
        Some(v) => v >= needed,
        None => {
            newest_first(releases::COVERAGE).any(|v| v >= *needed && satisfies(&v, coverage_reqs))
        }
    };
    match &inputs.pytest_cov {
        Some(Found::Exact(d)) => out.pytest_cov = d.clone(),
        Some(Found::Required(reqs)) => {
            if let Some(v) = newest_first(releases::PYTEST_COV)
                .find(|v| satisfies(v, reqs) && coverage_ok(&coverage_needed_by(v)))
            {
                out.pytest_cov = resolved(v, reqs);
            } else if let Some(r) = representative(reqs) {
                // No release satisfies it: installed, version unknown.
                out.pytest_cov.source = Some(Provenance {
                    what: r.what.clone(),
                    location: r.location.clone(),
                    requirement: Some(r.text.clone()),
                });
            }
        }
        None => {}
    }
    let needed = out.pytest_cov.version.as_ref().map(coverage_needed_by);
    match &inputs.coverage {
        Some(Found::Exact(d)) => out.coverage = d.clone(),
        Some(Found::Required(reqs)) => {
            if let Some(v) = newest_first(releases::COVERAGE)
                .find(|v| satisfies(v, reqs) && needed.as_ref().is_none_or(|n| v >= n))
            {
                out.coverage = resolved(v, reqs);
            }
        }
        None => {
            // pytest-cov brings coverage with it.
            if let Some(needed) = &needed
                && let Some(v) = newest_first(releases::COVERAGE).next()
                && v >= *needed
            {
                let pytest_cov = out
                    .pytest_cov
                    .version
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                out.coverage = Detected {
                    version: Some(v),
                    source: Some(Provenance {
                        what: format!("the requirements of pytest-cov {pytest_cov}"),
                        location: None,
                        requirement: Some(format!("coverage>={needed}")),
                    }),
                    absent: false,
                };
            }
        }
    }
    out
}

impl Versions {
    pub fn pytest_cov_at_least_7(&self) -> bool {
        self.pytest_cov.at_least(&[7])
    }

    pub fn pytest_cov_below_7(&self) -> bool {
        self.pytest_cov.below(&[7])
    }

    pub fn coverage_has_patch(&self) -> bool {
        self.coverage.at_least(&[7, 10])
    }

    pub fn coverage_lacks_patch(&self) -> bool {
        self.coverage.below(&[7, 10])
    }

    /// coverage.py looks for `.coveragerc.toml` from 7.13 on (an unknown
    /// version is taken to be the newest).
    pub fn reads_coveragerc_toml(&self) -> bool {
        !self.coverage.below(&[7, 13])
    }

    /// The local run's versions for the project at `root`.
    pub fn detect(root: &Path, overrides: &Overrides, loader: &mut dyn FileLoader) -> Versions {
        let mut inputs = Inputs::default();
        let declared = declared(root, loader);
        let required = requirements_files(root, loader);
        inputs.startup_hook = required
            .iter()
            .chain(&declared)
            .find(|r| r.package == HOOK_PACKAGE)
            .cloned();
        for package in ["pytest-cov", "coverage"] {
            let found = explicit(package, overrides)
                .map(Found::Exact)
                .or_else(|| environment(root, package, overrides).map(Found::Exact))
                .or_else(|| locked(root, package, loader).map(Found::Exact))
                .or_else(|| of(package, &required).map(Found::Required))
                .or_else(|| of(package, &declared).map(Found::Required));
            match package {
                "pytest-cov" => inputs.pytest_cov = found,
                _ => inputs.coverage = found,
            }
        }
        resolve(&inputs)
    }
}

/// The requirements on `package` among `all`, if any.
fn of(package: &str, all: &[Requirement]) -> Option<Vec<Requirement>> {
    let list: Vec<Requirement> = all
        .iter()
        .filter(|r| r.package == package)
        .cloned()
        .collect();
    (!list.is_empty()).then_some(list)
}

/// PEP 503 name normalization.
pub fn normalize(name: &str) -> String {
    let mut out = String::new();
    let mut sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

fn explicit(package: &str, overrides: &Overrides) -> Option<Detected> {
    let given = match package {
        "pytest-cov" => overrides.pytest_cov.as_ref(),
        _ => overrides.coverage.as_ref(),
    }?;
    Some(Detected::exact(
        parse_version(&given.value)?,
        given.what.clone(),
        given.location.clone(),
    ))
}

/// `*.dist-info/METADATA` in the site-packages of the environment the
/// tests run in: `$VIRTUAL_ENV`, else `.venv/` or `venv/` in the project.
/// An environment without pytest is not where the tests run (pre-commit,
/// for one, runs covdoctor with `$VIRTUAL_ENV` set to covdoctor's own
/// environment) and is skipped.
fn environment(root: &Path, package: &str, overrides: &Overrides) -> Option<Detected> {
    if overrides.skip_environment {
        return None;
    }
    let mut candidates: Vec<PathBuf> = overrides.virtual_env.iter().cloned().collect();
    candidates.extend([root.join(".venv"), root.join("venv")]);
    for venv in candidates {
        let Some(env) = crate::environment::from_python(&venv, String::new()) else {
            continue;
        };
        if env.site_dirs.is_empty() || !env.has("pytest") {
            continue;
        }
        let what = match venv.strip_prefix(root) {
            Ok(rel) => rel.to_string_lossy().into_owned(),
            Err(_) => venv.to_string_lossy().into_owned(),
        };
        // Installed with a METADATA that cannot be read: present, version
        // unknown.
        return Some(Detected {
            absent: !env.has(package),
            version: env.version(package).cloned(),
            source: Some(Provenance {
                what: format!("the environment in {what}"),
                location: None,
                requirement: None,
            }),
        });
    }
    None
}

/// The lock files covdoctor reads, and the tool that consumes each.
pub const LOCK_FILES: &[(&str, &str)] = &[
    ("uv.lock", "uv"),
    ("poetry.lock", "poetry"),
    ("pdm.lock", "pdm"),
    ("Pipfile.lock", "pipenv"),
];

/// `[[package]]` entries of uv.lock, poetry.lock and pdm.lock; Pipfile.lock's
/// JSON. The first lock file that exists answers.
fn locked(root: &Path, package: &str, loader: &mut dyn FileLoader) -> Option<Detected> {
    LOCK_FILES
        .iter()
        .find_map(|(name, _)| lock_file(root, name, package, loader))
}

/// What the lock file `name` in `root` says of `package`, if it exists.
pub fn lock_file(
    root: &Path,
    name: &str,
    package: &str,
    loader: &mut dyn FileLoader,
) -> Option<Detected> {
    let wanted = normalize(package);
    let source = match loader.load(&root.join(name)) {
        Some(Ok(source)) => source,
        _ => return None,
    };
    let mut found = None;
    if name == "Pipfile.lock" {
        for (name, version) in pipfile_lock(&source).ok()? {
            if normalize(&name) == wanted
                && let Some(v) = version
                && let Some(v) = parse_version(v.trim_start_matches("=="))
            {
                let span = source
                    .text
                    .find(&format!("\"{name}\""))
                    .map(|at| Span::new(at, at + name.len() + 2));
                found = Some((v, span));
            }
        }
    } else {
        let doc = lock_toml(name, &source, loader).ok()?;
        let packages = doc.get("package").and_then(|p| p.as_array_of_tables());
        for table in packages.into_iter().flat_map(|a| a.iter()) {
            if table
                .get("name")
                .and_then(|n| n.as_str())
                .is_some_and(|n| normalize(n) == wanted)
                && let Some(version) = table.get("version")
                && let Some(v) = version.as_str().and_then(parse_version)
            {
                found = Some((v, tomlx::item_span(version)));
            }
        }
    }
    Some(match found {
        Some((v, span)) => Detected::exact(v, name, span.map(|s| Location::new(&source, s))),
        // A lock file lists every package the project installs.
        None => Detected {
            version: None,
            source: Some(Provenance {
                what: name.to_string(),
                location: None,
                requirement: None,
            }),
            absent: true,
        },
    })
}

/// One line of an INI value that lists requirements (tox `deps`, setup.cfg
/// `install_requires`), without its comment and options: the requirement,
/// if it is one.
fn requirement_line(line: &str) -> Option<&str> {
    let line = match line.find(" #") {
        Some(at) => &line[..at],
        None => line,
    };
    let line = line.split(" --hash").next()?.trim();
    (!line.is_empty() && !line.starts_with(['#', '-'])).then_some(line)
}

/// A logical line of a requirements file as pip's `preprocess` makes it:
/// lines ending in `\` joined with the next, the comment (`#` at the start
/// or after whitespace) removed, trimmed; empty lines dropped.
struct ReqLine {
    /// 1-based, of the first physical line.
    number: usize,
    text: String,
    /// Where `text` starts in the file, and `text` as far as its first
    /// physical line holds it.
    span: Span,
}

/// `COMMENT_RE.match`: the line is a comment (from its start or after
/// leading whitespace).
fn starts_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// `COMMENT_RE.sub("", line)`: the line up to the first `#` at its start
/// or after whitespace, without the whitespace before it.
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    let cut = (0..bytes.len())
        .find(|&i| bytes[i] == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()));
    match cut {
        Some(i) => line[..i].trim_end(),
        None => line,
    }
}

fn logical_lines(text: &str) -> Vec<ReqLine> {
    // (number, start offset, line without its line break)
    let mut physical = Vec::new();
    let mut offset = 0;
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let line = raw.trim_end_matches('\n').trim_end_matches('\r');
        physical.push((i + 1, offset, line));
        offset += raw.len();
    }
    // `join_lines`.
    let mut joined: Vec<(usize, usize, &str, String)> = Vec::new();
    let mut pending: Option<(usize, usize, &str, String)> = None;
    for (number, start, line) in physical {
        if !line.ends_with('\\') || starts_comment(line) {
            let line_text = if starts_comment(line) {
                format!(" {line}")
            } else {
                line.to_string()
            };
            match pending.take() {
                Some((n, s, first, mut acc)) => {
                    acc.push_str(&line_text);
                    joined.push((n, s, first, acc));
                }
                None => joined.push((number, start, line, line_text)),
            }
        } else {
            let part = line.trim_matches('\\');
            match &mut pending {
                Some((_, _, _, acc)) => acc.push_str(part),
                None => pending = Some((number, start, line, part.to_string())),
            }
        }
    }
    joined.extend(pending);
    // `ignore_comments`.
    joined
        .into_iter()
        .filter_map(|(number, start, first, full)| {
            let text = strip_comment(&full).trim();
            if text.is_empty() {
                return None;
            }
            let lead = first.len() - first.trim_start().len();
            let own = first.trim_end_matches('\\').len();
            let len = text.len().min(own.saturating_sub(lead));
            Some(ReqLine {
                number,
                text: text.to_string(),
                span: Span::new(start + lead, start + lead + len),
            })
        })
        .collect()
}

/// pip's `break_args_options`: the words before the first that starts
/// with `-` are the requirement, the rest its options.
fn break_args_options(line: &str) -> (String, String) {
    let tokens: Vec<&str> = line.split(' ').collect();
    let at = tokens
        .iter()
        .position(|t| t.starts_with('-'))
        .unwrap_or(tokens.len());
    (tokens[..at].join(" "), tokens[at..].join(" "))
}

/// The file an options line includes, as optparse reads `-r FILE`,
/// `-rFILE`, `--requirement FILE`, `--requirement=FILE` (and `-c`,
/// `--constraint`): `(file, is a constraint)`.
fn included(options: &str) -> Option<(String, bool)> {
    let words = shlex::split(options)?;
    let mut words = words.iter();
    while let Some(word) = words.next() {
        for (short, long, constraint) in
            [("-r", "--requirement", false), ("-c", "--constraint", true)]
        {
            if word == short || word == long {
                return words.next().map(|f| (f.clone(), constraint));
            }
            if let Some(file) = word.strip_prefix(&format!("{long}=")) {
                return Some((file.to_string(), constraint));
            }
            if let Some(file) = word.strip_prefix(short)
                && !file.is_empty()
                && !word.starts_with("--")
            {
                return Some((file.to_string(), constraint));
            }
        }
    }
    None
}

/// Why pip rejects a requirement line ("Invalid requirement"), when it
/// surely does: it is read as a PEP 508 requirement (`pep508_rs`), and
/// fails, with where (a byte offset) and why. Lines pip may read otherwise
/// are never called invalid: a URL, a path (`./pkg`, `dir/`: pip reads it
/// when it exists), an archive (`pkg-1.0.whl`), a direct reference
/// (`name @ url`), and lines with the `${VARIABLE}`s pip substitutes
/// first from the environment.
fn invalid_requirement(text: &str) -> Option<(usize, String)> {
    const ARCHIVES: &[&str] = &[
        ".zip",
        ".whl",
        ".tar.gz",
        ".tgz",
        ".tar",
        ".tar.bz2",
        ".tbz",
        ".tar.xz",
        ".txz",
        ".tlz",
        ".tar.lz",
        ".tar.lzma",
    ];
    let name = text.split(';').next().unwrap_or(text).trim();
    if text.contains(':') && text.contains("//")
        || name.contains(['/', '@'])
        || name.starts_with('.')
        || text.contains("${")
        || ARCHIVES
            .iter()
            .any(|a| name.to_ascii_lowercase().ends_with(a))
    {
        return None;
    }
    let e = pep508_rs::Requirement::<pep508_rs::VerbatimUrl>::from_str(text).err()?;
    // The error's own Display can panic on some input; its message and
    // start (in characters) are enough.
    let at = text
        .char_indices()
        .nth(e.start)
        .map_or(text.len(), |(i, _)| i);
    Some((at, e.message.to_string()))
}

/// The most requirements files one walk reads.
const MAX_REQUIREMENT_FILES: usize = 64;

/// One file of a walk: the lines still to read.
struct ReqFrame {
    path: PathBuf,
    /// As messages name it: relative to the project root.
    name: String,
    /// The file that first included it (none for the file the walk starts
    /// at), as pip records it.
    included_by: Option<String>,
    source: SourceFile,
    lines: Vec<ReqLine>,
    next: usize,
}

/// A path as messages name it.
fn shown(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// Reads a requirements file as pip does, following `-r`/`-c` includes
/// depth first: the requirements on pytest-cov and coverage, each located,
/// and the first error pip stops at, located at the line that causes it
/// (a requirement it cannot read, an include that cannot be opened, an
/// include of a file already being read).
///
/// Each file is read once: a file included twice (not in a loop) says the
/// same the second time, and a loop or an error that pip meets in it on
/// the second visit it meets on the first.
fn walk_requirements(
    path: &Path,
    root: &Path,
    loader: &mut dyn FileLoader,
) -> (Vec<Requirement>, Option<Problem>) {
    let mut out = Vec::new();
    let mut problem: Option<Problem> = None;
    let path = crate::source::normalize(path);
    let Some(Ok(source)) = loader.load(&path) else {
        // Reported by the caller, which knows whether it is a file at all.
        return (out, None);
    };
    let mut read: Vec<PathBuf> = vec![path.clone()];
    let mut stack = vec![ReqFrame {
        name: shown(&path, root),
        lines: logical_lines(&source.text),
        path,
        included_by: None,
        source,
        next: 0,
    }];
    while let Some(frame) = stack.last_mut() {
        let Some(line) = frame.lines.get(frame.next) else {
            stack.pop();
            continue;
        };
        frame.next += 1;
        let location = Location::new(&frame.source, line.span);
        let (args, options) = break_args_options(&line.text);
        if !args.is_empty() {
            // The requirement is the start of the line.
            let end = (line.span.start + args.len()).min(line.span.end);
            let span = Span::new(line.span.start, end);
            if let Some(r) =
                Requirement::parse(&args, &frame.name, Some(Location::new(&frame.source, span)))
            {
                out.push(r);
            } else if problem.is_none()
                && let Some((at, why)) = invalid_requirement(&args)
            {
                // From where pep508_rs stopped, on the line's first
                // physical line.
                let at = Span::new((span.start + at).min(span.end), span.end);
                problem = Some(Problem::invalid(
                    Location::new(&frame.source, at),
                    format!(
                        "Invalid requirement: '{args}': {why} (from line {} of {})",
                        line.number, frame.name
                    ),
                ));
            }
            continue;
        }
        let Some((include, constraint)) = included(&options) else {
            continue;
        };
        if include.contains("://") {
            continue;
        }
        let target = crate::source::normalize(&frame.path.parent().unwrap_or(root).join(&include));
        let including = frame.name.clone();
        let name = shown(&target, root);
        if let Some(open) = stack.iter().find(|f| f.path == target) {
            if problem.is_none() {
                let tail = open
                    .included_by
                    .as_ref()
                    .map(|by| format!(" and again in {by}"))
                    .unwrap_or_default();
                problem = Some(Problem::invalid(
                    location,
                    format!(
                        "{name} recursively references itself in {including}{tail} (pip stops here; older pip fails with a RecursionError)"
                    ),
                ));
            }
            continue;
        }
        if read.contains(&target) || read.len() >= MAX_REQUIREMENT_FILES {
            continue;
        }
        read.push(target.clone());
        let kind = if constraint {
            "constraint"
        } else {
            "requirements"
        };
        match loader.load(&target) {
            Some(Ok(source)) => {
                let frame = ReqFrame {
                    name,
                    included_by: Some(including),
                    lines: logical_lines(&source.text),
                    path: target,
                    source,
                    next: 0,
                };
                stack.push(frame);
            }
            Some(Err(e)) => {
                if problem.is_none() {
                    problem = Some(Problem::invalid(
                        location,
                        format!("Could not open {kind} file {name}: {}", e.message()),
                    ));
                }
            }
            None => {
                if problem.is_none() {
                    let why = if target.is_dir() {
                        "[Errno 21] Is a directory"
                    } else {
                        "[Errno 2] No such file or directory"
                    };
                    problem = Some(Problem::invalid(
                        location,
                        format!("Could not open {kind} file: {why}: '{name}'"),
                    ));
                }
            }
        }
    }
    (out, problem)
}

/// The requirements on pytest-cov and coverage in a requirements file and
/// the files it includes with `-r`/`-c`, each located. The first error pip
/// would stop at is reported to `loader`.
pub fn requirements_file(
    path: &Path,
    root: &Path,
    loader: &mut dyn FileLoader,
) -> Vec<Requirement> {
    let (requirements, problem) = walk_requirements(path, root, loader);
    if let Some(problem) = problem {
        loader.report(problem);
    }
    requirements
}

/// `requirements*.txt` and `constraints*.txt` in the root and every file in
/// `requirements/`, following `-r`/`-c` includes.
/// Input errors in the files versions are read from: a lock file or a
/// requirements file that exists but cannot be read, or a lock file that
/// does not parse (it would otherwise be passed over without a word).
pub fn input_errors(root: &Path, loader: &mut dyn FileLoader) -> Vec<Problem> {
    let mut out = Vec::new();
    let special = |path: &Path| {
        std::fs::metadata(path)
            .is_ok_and(|m| !m.is_file())
            .then(|| {
                Problem::at_path(
                    path.to_path_buf(),
                    format!(
                        "{}: not a regular file (a pipe, device or directory); not read",
                        path.display()
                    ),
                )
            })
    };
    for (name, _) in LOCK_FILES {
        match loader.load(&root.join(name)) {
            None => out.extend(special(&root.join(name))),
            Some(Err(e)) => out.push(Problem::unreadable(e)),
            Some(Ok(source)) if name.ends_with(".lock") && *name != "Pipfile.lock" => {
                if let Err(e) = lock_toml(name, &source, loader) {
                    out.push(Problem::invalid(
                        crate::source::Location::new(&source, e.span),
                        format!("invalid TOML: {}", e.message),
                    ));
                }
            }
            Some(Ok(source)) => {
                if let Err(problem) = pipfile_lock(&source) {
                    out.push(problem);
                }
            }
        }
    }
    for file in requirement_paths(root) {
        match loader.load(&file) {
            Some(Err(e)) => out.push(Problem::unreadable(e)),
            None => out.extend(special(&file)),
            Some(Ok(_)) => {
                // One problem per file: one included by two others is
                // met twice.
                if let (_, Some(problem)) = walk_requirements(&file, root, loader)
                    && !out.iter().any(|p| p.path == problem.path)
                {
                    out.push(problem);
                }
            }
        }
    }
    out
}

/// A lock file's TOML. uv reads a uv.lock that starts with a byte order
/// mark (`uv lock --check` passes, uv 0.13.9); tomllib, which poetry and
/// pdm read theirs with, rejects one.
fn lock_toml(
    name: &str,
    source: &SourceFile,
    loader: &mut dyn FileLoader,
) -> Result<std::sync::Arc<tomlx::TomlDoc>, tomlx::TomlError> {
    if name == "uv.lock" && source.bom {
        // The text has the mark removed.
        return tomlx::parse(&source.text).map(std::sync::Arc::new);
    }
    loader.toml(source)
}

/// How deep Python's json module reads arrays and objects before it
/// fails with "RecursionError: maximum recursion depth exceeded while
/// decoding a JSON array from a unicode string": 9,998 levels in Python
/// 3.13 (993 in 3.11, 1,496 in 3.12, where C recursion was bounded
/// lower). covdoctor reads what the newest of them reads.
const JSON_DEPTH: usize = 9_998;

/// The deepest nesting of arrays and objects in a JSON text (brackets in
/// strings do not count), and where it first goes past [`JSON_DEPTH`].
fn json_nesting(text: &str) -> (usize, Option<usize>) {
    let mut depth = 0usize;
    let mut deepest = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, b) in text.bytes().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > JSON_DEPTH {
                    return (depth, Some(i));
                }
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    (deepest, None)
}

/// Pipfile.lock as pipenv reads it (Python's json): each package of its
/// `default` and `develop` groups with its `version`, in file order of the
/// groups. serde_json reads it with its own recursion limit (128 levels)
/// lifted, which [`json_nesting`] bounds instead; a deep file is read, and
/// dropped, on a thread with a large stack.
fn pipfile_lock(source: &SourceFile) -> Result<Vec<(String, Option<String>)>, Problem> {
    use serde::Deserialize;
    let text = &source.text;
    let (deepest, over) = json_nesting(text);
    if let Some(at) = over {
        return Err(Problem::invalid(
            Location::new(source, Span::new(at, at + 1)),
            format!(
                "invalid JSON: nested more than {JSON_DEPTH} deep: Python's json (pipenv) fails with \"RecursionError: maximum recursion depth exceeded while decoding a JSON array from a unicode string\""
            ),
        ));
    }
    let read = || -> Result<Vec<(String, Option<String>)>, String> {
        let mut de = serde_json::Deserializer::from_str(text);
        de.disable_recursion_limit();
        let json = serde_json::Value::deserialize(&mut de).map_err(|e| e.to_string())?;
        de.end().map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for group in ["default", "develop"] {
            if let Some(entries) = json.get(group).and_then(|g| g.as_object()) {
                for (name, entry) in entries {
                    let version = entry.get("version").and_then(|v| v.as_str());
                    out.push((name.clone(), version.map(str::to_string)));
                }
            }
        }
        Ok(out)
    };
    let read = if deepest <= 64 {
        read()
    } else {
        tomlx::on_big_stack(read).unwrap_or_else(|| {
            Err("nested too deeply for covdoctor to read here (it could not start a thread with a large stack)".to_string())
        })
    };
    read.map_err(|e| Problem::at_path(source.path.clone(), format!("invalid JSON: {e}")))
}

fn requirements_files(root: &Path, loader: &mut dyn FileLoader) -> Vec<Requirement> {
    let mut out = Vec::new();
    for file in requirement_paths(root) {
        out.extend(requirements_file(&file, root, loader));
    }
    out
}

/// `requirements*.txt`/`.in` and `constraints*` at the root, and every
/// `.txt`/`.in` under `requirements/`.
fn requirement_paths(root: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in [root.to_path_buf(), root.join("requirements")] {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            let mut names: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    let name = p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    (name.starts_with("requirements")
                        || name.starts_with("constraints")
                        || dir != root)
                        && (name.ends_with(".txt") || name.ends_with(".in"))
                })
                .collect();
            names.sort();
            files.extend(names);
        }
    }
    files
}

/// Which of the project's own dependency lists an install takes.
#[derive(Clone, Debug, Default)]
pub struct Selected {
    /// Every extra and group (the local run: whatever a developer installed).
    pub all: bool,
    pub extras: Vec<String>,
    pub groups: Vec<String>,
}

/// The requirements the project declares: pyproject.toml's dependencies,
/// the selected optional dependencies and dependency groups (with
/// `include-group`), Poetry's groups, setup.cfg's `install_requires` and
/// `extras_require`.
pub fn project_requirements(
    root: &Path,
    selected: &Selected,
    loader: &mut dyn FileLoader,
) -> Vec<Requirement> {
    let mut out = Vec::new();
    let wants = |list: &[String], name: &str| {
        selected.all || list.iter().any(|e| normalize(e) == normalize(name))
    };
    if let Some(Ok(source)) = loader.load(&root.join("pyproject.toml"))
        && let Ok(doc) = loader.toml(&source)
    {
        let strings = |item: &toml_edit::Item, what: &str, out: &mut Vec<Requirement>| {
            for value in item.as_array().into_iter().flat_map(|a| a.iter()) {
                if let Some(text) = value.as_str() {
                    let location = value.span().map(|s| Location::new(&source, Span::from(s)));
                    out.extend(Requirement::parse(text, what, location));
                }
            }
        };
        if let Some(deps) = doc.get("project").and_then(|p| p.get("dependencies")) {
            strings(deps, "pyproject.toml [project] dependencies", &mut out);
        }
        if let Some(groups) = tomlx::table_at(&doc, &["project", "optional-dependencies"])
            .and_then(|t| t.as_table_like())
        {
            for (name, item) in groups.iter() {
                if wants(&selected.extras, name) {
                    strings(
                        item,
                        &format!("pyproject.toml optional dependencies `{name}`"),
                        &mut out,
                    );
                }
            }
        }
        if let Some(groups) =
            tomlx::table_at(&doc, &["dependency-groups"]).and_then(|t| t.as_table_like())
        {
            // PEP 735 `{include-group = "..."}`, followed to a bounded depth.
            let mut wanted: Vec<String> = groups
                .iter()
                .map(|(n, _)| n.to_string())
                .filter(|n| wants(&selected.groups, n))
                .collect();
            let mut done: Vec<String> = Vec::new();
            while let Some(name) = wanted.pop() {
                if done.contains(&name) || done.len() > 64 {
                    continue;
                }
                done.push(name.clone());
                let Some(item) = groups.get(&name) else {
                    continue;
                };
                strings(
                    item,
                    &format!("pyproject.toml dependency group `{name}`"),
                    &mut out,
                );
                for value in item.as_array().into_iter().flat_map(|a| a.iter()) {
                    if let Some(include) = value
                        .as_inline_table()
                        .and_then(|t| t.get("include-group"))
                        .and_then(|v| v.as_str())
                    {
                        wanted.push(include.to_string());
                    }
                }
            }
        }
        // Poetry: `[tool.poetry.dependencies]`, `[tool.poetry.dev-dependencies]`
        // and `[tool.poetry.group.<name>.dependencies]`.
        let mut tables: Vec<(&toml_edit::Item, String)> = Vec::new();
        for (path, what) in [
            (&["tool", "poetry", "dependencies"][..], "main"),
            (&["tool", "poetry", "dev-dependencies"], "dev"),
        ] {
            tables.extend(tomlx::table_at(&doc, path).map(|t| (t, what.to_string())));
        }
        if let Some(groups) =
            tomlx::table_at(&doc, &["tool", "poetry", "group"]).and_then(|g| g.as_table_like())
        {
            for (name, group) in groups.iter() {
                if let Some(deps) = group.as_table_like().and_then(|g| g.get("dependencies")) {
                    tables.push((deps, name.to_string()));
                }
            }
        }
        for (table, group) in tables {
            let Some(table) = table.as_table_like() else {
                continue;
            };
            for (name, value) in table.iter() {
                let package = normalize(name);
                if package != "pytest-cov" && package != "coverage" {
                    continue;
                }
                let spec = value
                    .as_str()
                    .or_else(|| value.as_table_like()?.get("version")?.as_str())
                    .unwrap_or("*");
                let Some(specifiers) = poetry_specifiers(spec) else {
                    continue;
                };
                out.push(Requirement {
                    text: if spec == "*" {
                        package.clone()
                    } else {
                        format!("{package} {spec}")
                    },
                    package,
                    specifiers,
                    what: format!("pyproject.toml Poetry group `{group}`"),
                    location: tomlx::item_span(value).map(|s| Location::new(&source, s)),
                });
            }
        }
    }
    out.extend(setup_py(root, selected, loader));
    if let Some(Ok(source)) = loader.load(&root.join("setup.cfg"))
        && let Ok(ini) = loader.ini(&source)
    {
        let mut entries = Vec::new();
        if let Some(e) = ini
            .section("options")
            .and_then(|s| s.get("install_requires"))
        {
            entries.push((e.clone(), "setup.cfg install_requires".to_string()));
        }
        if let Some(section) = ini.section("options.extras_require") {
            for e in &section.entries {
                if wants(&selected.extras, &e.key) {
                    entries.push((e.clone(), format!("setup.cfg extra `{}`", e.key)));
                }
            }
        }
        for (entry, what) in entries {
            out.extend(ini_requirements(&source, &entry, &what));
        }
    }
    out
}

/// `setup(install_requires=[...], extras_require={...}, tests_require=[...])`
/// in setup.py, where they are literals (read with ruff's parser, never
/// run).
fn setup_py(root: &Path, selected: &Selected, loader: &mut dyn FileLoader) -> Vec<Requirement> {
    use ruff_python_ast::Expr;
    use ruff_text_size::Ranged;
    let Some(Ok(source)) = loader.load(&root.join("setup.py")) else {
        return Vec::new();
    };
    let parsed = ruff_python_parser::parse_unchecked(
        &source.text,
        ruff_python_parser::ParseOptions::from(ruff_python_parser::Mode::Module),
    );
    let Some(module) = parsed.syntax().as_module() else {
        return Vec::new();
    };
    // Names bound once at the top level (`testing = [...]`,
    // `extras = {"testing": testing}`): what the `setup()` call reads.
    let mut consts: std::collections::HashMap<&str, Option<&Expr>> = Default::default();
    for stmt in &module.body {
        if let ruff_python_ast::Stmt::Assign(a) = stmt
            && let [Expr::Name(n)] = a.targets.as_slice()
        {
            consts
                .entry(n.id.as_str())
                .and_modify(|v| *v = None)
                .or_insert(Some(&*a.value));
        }
    }
    fn name_value<'e>(
        e: &'e Expr,
        consts: &std::collections::HashMap<&'e str, Option<&'e Expr>>,
    ) -> Option<&'e Expr> {
        match e {
            Expr::Name(n) => consts.get(n.id.as_str()).copied().flatten(),
            _ => None,
        }
    }
    // The string items of a list, tuple, `*` of those and `+` of those,
    // through the names above (bounded).
    fn items<'e>(
        e: &'e Expr,
        consts: &std::collections::HashMap<&'e str, Option<&'e Expr>>,
        depth: usize,
        out: &mut Vec<&'e Expr>,
    ) {
        if depth > 16 {
            return;
        }
        match e {
            Expr::List(l) => l.elts.iter().for_each(|i| items(i, consts, depth + 1, out)),
            Expr::Tuple(t) => t.elts.iter().for_each(|i| items(i, consts, depth + 1, out)),
            Expr::Starred(s) => items(&s.value, consts, depth + 1, out),
            Expr::BinOp(b) if b.op == ruff_python_ast::Operator::Add => {
                items(&b.left, consts, depth + 1, out);
                items(&b.right, consts, depth + 1, out);
            }
            Expr::Name(_) => {
                if let Some(v) = name_value(e, consts) {
                    items(v, consts, depth + 1, out);
                }
            }
            Expr::StringLiteral(_) => out.push(e),
            _ => {}
        }
    }
    let mut out = Vec::new();
    let strings = |e: &Expr, what: &str, out: &mut Vec<Requirement>| {
        let mut found = Vec::new();
        items(e, &consts, 0, &mut found);
        for item in found {
            if let Expr::StringLiteral(s) = item {
                let span = Span::new(
                    item.range().start().to_usize(),
                    item.range().end().to_usize(),
                );
                out.extend(Requirement::parse(
                    s.value.to_str(),
                    what,
                    Some(Location::new(&source, span)),
                ));
            }
        }
    };
    for call in setup_calls(&module.body) {
        for k in call.arguments.keywords.iter() {
            match k.arg.as_ref().map(|a| a.as_str()) {
                Some("install_requires") => {
                    strings(&k.value, "setup.py install_requires", &mut out)
                }
                Some("tests_require") => strings(&k.value, "setup.py tests_require", &mut out),
                Some("extras_require") => {
                    let dict = match &k.value {
                        Expr::Dict(d) => Some(d),
                        name => match name_value(name, &consts) {
                            Some(Expr::Dict(d)) => Some(d),
                            _ => None,
                        },
                    };
                    if let Some(d) = dict {
                        for item in d.iter() {
                            if let Some(Expr::StringLiteral(key)) = &item.key {
                                let name = key.value.to_str();
                                if selected.all
                                    || selected
                                        .extras
                                        .iter()
                                        .any(|e| normalize(e) == normalize(name))
                                {
                                    strings(
                                        &item.value,
                                        &format!("setup.py extra `{name}`"),
                                        &mut out,
                                    );
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// `setup(...)` or `setuptools.setup(...)` calls at the top level of
/// setup.py or under `if __name__ == "__main__":`.
fn setup_calls(body: &[ruff_python_ast::Stmt]) -> Vec<&ruff_python_ast::ExprCall> {
    use ruff_python_ast::{Expr, Stmt};
    let mut calls = Vec::new();
    let mut stmts: Vec<&Stmt> = body.iter().collect();
    while let Some(stmt) = stmts.pop() {
        match stmt {
            Stmt::Expr(e) => {
                if let Expr::Call(call) = &*e.value {
                    let named_setup = match &*call.func {
                        Expr::Name(n) => n.id.as_str() == "setup",
                        Expr::Attribute(a) => a.attr.as_str() == "setup",
                        _ => false,
                    };
                    if named_setup {
                        calls.push(call);
                    }
                }
            }
            Stmt::If(i) => stmts.extend(i.body.iter()),
            _ => {}
        }
    }
    calls
}

/// Console scripts from `setup(entry_points={"console_scripts": [...]})`
/// in setup.py, where they are literals: `(name, "module:function")`.
pub fn setup_py_console_scripts(text: &str) -> Vec<(String, String)> {
    use ruff_python_ast::Expr;
    let parsed = ruff_python_parser::parse_unchecked(
        text,
        ruff_python_parser::ParseOptions::from(ruff_python_parser::Mode::Module),
    );
    let Some(module) = parsed.syntax().as_module() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for call in setup_calls(&module.body) {
        let Some(Expr::Dict(d)) = call
            .arguments
            .find_keyword("entry_points")
            .map(|k| &k.value)
        else {
            continue;
        };
        for item in d.iter() {
            let Some(Expr::StringLiteral(key)) = &item.key else {
                continue;
            };
            if key.value.to_str() != "console_scripts" {
                continue;
            }
            let items: Vec<&Expr> = match &item.value {
                Expr::List(l) => l.elts.iter().collect(),
                Expr::Tuple(t) => t.elts.iter().collect(),
                _ => Vec::new(),
            };
            for e in items {
                if let Expr::StringLiteral(s) = e
                    && let Some((name, target)) = s.value.to_str().split_once('=')
                {
                    out.push((name.trim().to_string(), target.trim().to_string()));
                }
            }
        }
    }
    out
}

/// The requirement lines of an INI value (setup.cfg `install_requires`,
/// tox `deps`), located.
pub fn ini_requirements(
    source: &SourceFile,
    entry: &super::ini::IniEntry,
    what: &str,
) -> Vec<Requirement> {
    let mut out = Vec::new();
    let mut offset = entry.value_span.start;
    for line in source.text[entry.value_span.range()].split_inclusive('\n') {
        if let Some(text) = requirement_line(line.trim()) {
            let start = offset + (line.len() - line.trim_start().len());
            let location = Location::new(source, Span::new(start, start + text.len()));
            out.extend(Requirement::parse(text, what, Some(location)));
        }
        offset += line.len();
    }
    out
}

/// Poetry's constraint syntax as PEP 440 specifiers: `^7.1` is
/// `>=7.1,<8`, `~7.1` is `>=7.1,<7.2`, a bare version is exact, `*` is
/// anything. pep440_rs reads the PEP 440 forms; the caret and tilde forms
/// are Poetry's own and are rewritten here.
fn poetry_specifiers(spec: &str) -> Option<VersionSpecifiers> {
    let mut parts = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if part == "*" {
            continue;
        }
        let bump = |v: &str, at: usize| -> Option<String> {
            let mut nums: Vec<u64> = v
                .split('.')
                .map(|s| s.parse().ok())
                .collect::<Option<_>>()?;
            while nums.len() <= at {
                nums.push(0);
            }
            nums.truncate(at + 1);
            nums[at] += 1;
            Some(
                nums.iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join("."),
            )
        };
        if let Some(v) = part.strip_prefix('^') {
            let v = v.trim();
            let at = v.split('.').position(|s| s != "0").unwrap_or(0);
            parts.push(format!(">={v},<{}", bump(v, at)?));
        } else if let Some(v) = part.strip_prefix('~').filter(|v| !v.starts_with('=')) {
            let v = v.trim();
            let at = usize::from(v.split('.').count() >= 2);
            parts.push(format!(">={v},<{}", bump(v, at)?));
        } else if part.starts_with(|c: char| c.is_ascii_digit()) {
            parts.push(format!("=={part}"));
        } else {
            parts.push(part.to_string());
        }
    }
    VersionSpecifiers::from_str(&parts.join(",")).ok()
}

/// Dependencies declared in pyproject.toml (every extra and group), setup.cfg
/// and tox.ini `deps`: what a developer's environment was installed from.
fn declared(root: &Path, loader: &mut dyn FileLoader) -> Vec<Requirement> {
    let mut out = project_requirements(
        root,
        &Selected {
            all: true,
            ..Selected::default()
        },
        loader,
    );
    if let Some(Ok(source)) = loader.load(&root.join("tox.ini"))
        && let Ok(parsed) = loader.ini(&source)
    {
        for section in parsed
            .sections
            .iter()
            .filter(|s| s.name.starts_with("testenv"))
        {
            if let Some(deps) = section.get("deps") {
                out.extend(ini_requirements(
                    &source,
                    deps,
                    &format!("tox.ini [{}] deps", section.name),
                ));
            }
        }
    }
    out
}

impl fmt::Display for Versions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}; {}",
            self.pytest_cov.describe("pytest-cov"),
            self.coverage.describe("coverage")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        parse_version(s).unwrap()
    }

    fn req(text: &str) -> Requirement {
        Requirement::parse(text, "test", None).unwrap()
    }

    fn fresh(pytest_cov: &[&str], coverage: &[&str]) -> Versions {
        let mut inputs = Inputs::default();
        inputs.require(pytest_cov.iter().chain(coverage).map(|t| req(t)));
        resolve(&inputs)
    }

    #[test]
    fn versions_compare_like_pep_440() {
        assert!(v("7.10.6") > v("7.9.2"));
        assert!(v("7.13.0b1") < v("7.13.0"));
        assert!(v("7") == v("7.0.0"));
        assert_eq!(v("7.1.0").to_string(), "7.1.0");
    }

    #[test]
    fn requirements_are_pep_508() {
        let r = req("pytest_cov[toml] >= 6.0 , < 7 ; python_version >= '3.9'");
        assert_eq!(r.package, "pytest-cov");
        assert!(r.specifiers.contains(&v("6.3")) && !r.specifiers.contains(&v("7.0")));
        assert!(Requirement::parse("pytest-covx==1", "t", None).is_none());
        assert!(Requirement::parse("-e .", "t", None).is_none());
        assert_eq!(req("coverage[toml]==7.9.2").package, "coverage");
    }

    #[test]
    fn fresh_installs_get_the_newest_release() {
        let newest = |t: &[(&str, &str)]| v(t.last().unwrap().0);
        // Unpinned, and ranges across both generations.
        for spec in ["pytest-cov", "pytest-cov>=3.0", "pytest-cov>=6.2,<8"] {
            let got = fresh(&[spec], &[]);
            assert_eq!(
                got.pytest_cov.version,
                Some(newest(releases::PYTEST_COV)),
                "{spec}"
            );
            assert_eq!(got.coverage.version, Some(newest(releases::COVERAGE)));
            assert!(got.pytest_cov_at_least_7() && got.coverage_has_patch());
        }
        let got = fresh(&["pytest-cov"], &[]);
        assert!(
            got.pytest_cov
                .describe("pytest-cov")
                .contains("not pinned in test; a fresh install gets"),
            "{}",
            got.pytest_cov.describe("pytest-cov")
        );
        // Upper bounds and pins.
        let got = fresh(&["pytest-cov<7"], &[]);
        assert_eq!(got.pytest_cov.version, Some(v("6.3.0")));
        let got = fresh(&["pytest-cov~=6.2"], &["coverage==7.9.2"]);
        assert_eq!(got.pytest_cov.version, Some(v("6.3.0")));
        assert_eq!(got.coverage.version, Some(v("7.9.2")));
        // coverage pinned below what pytest-cov 7 needs: the resolver picks
        // pytest-cov 6.
        let got = fresh(&["pytest-cov"], &["coverage==7.9.2"]);
        assert_eq!(got.pytest_cov.version, Some(v("6.3.0")));
        // Nothing satisfies: installed, version unknown.
        let got = fresh(&["pytest-cov>=99"], &[]);
        assert!(got.pytest_cov.version.is_none() && got.pytest_cov.source.is_some());
    }

    #[test]
    fn poetry_constraints() {
        let s = poetry_specifiers("^7.1").unwrap();
        assert!(s.contains(&v("7.9")) && !s.contains(&v("8.0")));
        let s = poetry_specifiers("~6.2").unwrap();
        assert!(s.contains(&v("6.2.5")) && !s.contains(&v("6.3")));
        assert!(poetry_specifiers("*").unwrap().iter().next().is_none());
        assert!(poetry_specifiers("6.3.0").unwrap().contains(&v("6.3.0")));
        assert!(poetry_specifiers(">=7,<8").unwrap().contains(&v("7.1")));
    }

    #[test]
    fn release_table_is_sorted_and_final() {
        for table in [releases::PYTEST_COV, releases::COVERAGE] {
            let versions: Vec<Version> = table.iter().map(|(s, _)| v(s)).collect();
            assert!(versions.windows(2).all(|w| w[0] < w[1]));
            assert!(versions.iter().all(|v| !v.any_prerelease()));
            assert!(table.iter().all(|(_, d)| *d <= releases::DATE));
        }
    }

    fn detect(files: &[(&str, &str)], overrides: Overrides) -> (Versions, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let mut loader = crate::config::ConfigFiles::new(std::sync::Arc::new(crate::source::Disk));
        (Versions::detect(dir.path(), &overrides, &mut loader), dir)
    }

    #[test]
    fn sources_in_order() {
        let venv = ".venv/lib/python3.12/site-packages/pytest_cov-6.3.0.dist-info/METADATA";
        let pytest = ".venv/lib/python3.12/site-packages/pytest-9.2.0.dist-info/METADATA";
        let files = [
            (
                venv,
                "Metadata-Version: 2.1\nName: pytest-cov\nVersion: 6.3.0\n",
            ),
            (
                pytest,
                "Metadata-Version: 2.1\nName: pytest\nVersion: 9.2.0\n",
            ),
            (
                "uv.lock",
                "version = 1\n\n[[package]]\nname = \"pytest-cov\"\nversion = \"7.1.0\"\n\n[[package]]\nname = \"coverage\"\nversion = \"7.17.5\"\n",
            ),
            ("requirements-dev.txt", "pytest-cov==5.0.0\n"),
        ];
        // The environment wins for pytest-cov; it lists no coverage, so
        // coverage is absent there, as far as that environment tells.
        let (got, _d) = detect(&files, Overrides::default());
        assert_eq!(got.pytest_cov.version, Some(v("6.3.0")));
        assert!(
            got.pytest_cov
                .describe("pytest-cov")
                .contains("the environment in .venv")
        );
        assert!(got.coverage.absent);
        // Without the environment, the lock file.
        let (got, _d) = detect(&files[2..], Overrides::default());
        assert!(got.pytest_cov_at_least_7());
        assert_eq!(got.coverage.version, Some(v("7.17.5")));
        assert!(got.pytest_cov.source.as_ref().unwrap().location.is_some());
        // An environment without pytest is not where the tests run (under
        // pre-commit, $VIRTUAL_ENV is covdoctor's own): the next source
        // decides.
        let (got, _d) = detect(&[files[0], files[2], files[3]], Overrides::default());
        assert!(got.pytest_cov_at_least_7(), "{got}");
        // An active environment with pytest wins over the project's .venv;
        // one without pytest gives way to it.
        let (_, active) = detect(&files[..2], Overrides::default());
        let active_venv = active.path().join(".venv");
        let (got, _d) = detect(
            &[files[0], files[1]],
            Overrides {
                virtual_env: Some(active_venv.clone()),
                ..Overrides::default()
            },
        );
        assert!(
            got.pytest_cov
                .describe("pytest-cov")
                .contains(&active_venv.to_string_lossy().into_owned())
        );
        let tool_env = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(
            tool_env
                .path()
                .join("lib/python3.12/site-packages/covdoctor-0.1.0.dist-info"),
        )
        .unwrap();
        let (got, _d) = detect(
            &files,
            Overrides {
                virtual_env: Some(tool_env.path().to_path_buf()),
                ..Overrides::default()
            },
        );
        assert!(
            got.pytest_cov
                .describe("pytest-cov")
                .contains("the environment in .venv")
        );
        // An explicit version wins over everything.
        let (got, _d) = detect(
            &files,
            Overrides {
                pytest_cov: Some(Explicit {
                    value: "7.0.0".into(),
                    what: "--pytest-cov-version".into(),
                    location: None,
                }),
                ..Overrides::default()
            },
        );
        assert_eq!(got.pytest_cov.version, Some(v("7.0.0")));
    }

    #[test]
    fn requirements_follow_includes_and_pytest_cov_brings_coverage() {
        let (got, _d) = detect(
            &[
                (
                    "requirements-test.txt",
                    "-r requirements/base.txt\npytest==9.2.0\n",
                ),
                (
                    "requirements/base.txt",
                    "# test tools\npytest-cov>=7.0  # new\n",
                ),
            ],
            Overrides::default(),
        );
        assert!(got.pytest_cov_at_least_7());
        assert_eq!(
            got.pytest_cov.source.as_ref().unwrap().what,
            "requirements/base.txt"
        );
        // pytest-cov 7 brings the newest coverage.
        assert!(got.coverage_has_patch());
    }

    #[test]
    fn declared_dependencies() {
        let (got, _d) = detect(
            &[(
                "pyproject.toml",
                "[dependency-groups]\ntest = [\"pytest-cov>=6,<7\", \"coverage[toml]==7.9.2\"]\n",
            )],
            Overrides::default(),
        );
        assert!(got.pytest_cov_below_7());
        assert!(got.coverage_lacks_patch());
        let (got, _d) = detect(
            &[(
                "pyproject.toml",
                "[tool.poetry.group.dev.dependencies]\npytest-cov = \"^7.1\"\n",
            )],
            Overrides::default(),
        );
        assert!(got.pytest_cov_at_least_7());
        let (got, _d) = detect(
            &[(
                "tox.ini",
                "[testenv]\ndeps =\n    pytest\n    pytest-cov<7\n",
            )],
            Overrides::default(),
        );
        assert!(got.pytest_cov_below_7());
        let (got, _d) = detect(
            &[(
                "setup.cfg",
                "[options.extras_require]\ntest =\n    pytest\n    pytest-cov\n",
            )],
            Overrides::default(),
        );
        assert!(got.pytest_cov_at_least_7(), "{got}");
        let (got, _d) = detect(
            &[(
                "setup.py",
                "from setuptools import setup\n\nsetup(\n    name='x',\n    extras_require={'test': ['pytest', 'pytest-cov>=2.5,<7']},\n)\n",
            )],
            Overrides::default(),
        );
        assert_eq!(got.pytest_cov.version, Some(v("6.3.0")), "{got}");
        // Through names bound at the top of setup.py, `*` and `+`.
        let (got, _d) = detect(
            &[(
                "setup.py",
                "import setuptools\n\ncov = ['pytest-cov<7']\ntesting = ['pytest', *cov] + ['mock']\nextras = {'testing': testing}\n\nsetuptools.setup(name='x', extras_require=extras)\n",
            )],
            Overrides::default(),
        );
        assert_eq!(got.pytest_cov.version, Some(v("6.3.0")), "{got}");
        // A name bound twice is not known.
        let (got, _d) = detect(
            &[(
                "setup.py",
                "from setuptools import setup\ncov = ['pytest-cov<7']\ncov = []\nsetup(name='x', extras_require={'t': cov})\n",
            )],
            Overrides::default(),
        );
        assert!(got.pytest_cov.source.is_none(), "{got}");
        let (got, _d) = detect(
            &[("setup.cfg", "[metadata]\nname = x\n")],
            Overrides::default(),
        );
        assert!(got.pytest_cov.version.is_none() && got.pytest_cov.source.is_none());
    }

    /// The requirements and the first problem of walking `start` in a
    /// project of `files`: (package and span text, problem message and
    /// where).
    fn walk(files: &[(&str, &str)], start: &str) -> (Vec<String>, Option<(String, String)>) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let mut loader = crate::config::ConfigFiles::new(std::sync::Arc::new(crate::source::Disk));
        let (requirements, problem) =
            walk_requirements(&dir.path().join(start), dir.path(), &mut loader);
        let requirements = requirements
            .iter()
            .map(|r| {
                let l = r.location.as_ref().unwrap();
                format!("{} {}", r.what, &l.file.text[l.span.range()])
            })
            .collect();
        let problem = problem.map(|p| {
            let l = p.location.unwrap();
            let (line, col) = l.file.line_col(l.span.start);
            let name = l
                .file
                .path
                .strip_prefix(dir.path())
                .unwrap()
                .display()
                .to_string();
            (p.message, format!("{name}:{line}:{col}"))
        });
        (requirements, problem)
    }

    #[test]
    fn requirements_files_are_read_as_pip_reads_them() {
        let (got, problem) = walk(
            &[(
                "requirements.txt",
                "# tools\npytest-cov==6.3.0 --hash=sha256:00 # pinned\ncoverage\\\n  [toml]>=7.5 \\\n  ; python_version > '3'\n-e .\n--index-url https://example.org/simple\n./local/pkg\npkg-1.0-py3-none-any.whl\nname @ https://example.org/x.zip\nlib==${VERSION}\nhttps://example.org/y.tar.gz\n",
            )],
            "requirements.txt",
        );
        assert_eq!(
            got,
            [
                "requirements.txt pytest-cov==6.3.0",
                "requirements.txt coverage"
            ]
        );
        assert!(problem.is_none(), "{problem:?}");
    }

    #[test]
    fn an_invalid_requirement_stops_pip() {
        let (got, problem) = walk(
            &[(
                "r.txt",
                "pytest\n  pytest-cov >=>= 6  # bad\ncoverage==7.9.2\n",
            )],
            "r.txt",
        );
        let (message, at) = problem.unwrap();
        assert_eq!(at, "r.txt:2:14");
        assert!(
            message.starts_with("Invalid requirement: 'pytest-cov >=>= 6': ")
                && message.ends_with("(from line 2 of r.txt)"),
            "{message}"
        );
        // What pip would still have read is read.
        assert_eq!(got, ["r.txt coverage==7.9.2"]);
        // Multi-byte text before the error: located, no panic.
        let (_, problem) = walk(&[("r.txt", "pytest-cov ==é\n")], "r.txt");
        assert!(problem.unwrap().1.starts_with("r.txt:1:"));
        let (_, problem) = walk(&[("r.txt", "pytest-cov[\n")], "r.txt");
        assert!(problem.is_some());
        // A `#` after no whitespace starts no comment.
        let (_, problem) = walk(&[("r.txt", "pytest#egg\n")], "r.txt");
        assert!(
            problem
                .unwrap()
                .0
                .starts_with("Invalid requirement: 'pytest#egg'")
        );
    }

    #[test]
    fn includes_that_loop_or_are_missing_stop_pip() {
        // A file that includes itself.
        let (got, problem) = walk(
            &[(
                "requirements-test.txt",
                "-r requirements-test.txt\npytest-cov==6.3.0\n",
            )],
            "requirements-test.txt",
        );
        let (message, at) = problem.unwrap();
        assert_eq!(at, "requirements-test.txt:1:1");
        assert!(
            message.starts_with(
                "requirements-test.txt recursively references itself in requirements-test.txt"
            ),
            "{message}"
        );
        assert_eq!(got.len(), 1);
        // A loop through two files, one in a directory, with `-c` and the
        // `--requirement=` spelling.
        let (_, problem) = walk(
            &[
                ("a.txt", "pytest\n--requirement=req/b.txt\n"),
                ("req/b.txt", "-c ../c.txt\n"),
                ("c.txt", "-rreq/b.txt\n"),
            ],
            "a.txt",
        );
        let (message, at) = problem.unwrap();
        assert_eq!(at, "c.txt:1:1");
        assert!(
            message
                .starts_with("req/b.txt recursively references itself in c.txt and again in a.txt"),
            "{message}"
        );
        // Near miss: a file included twice, not in a loop, is no error.
        let (got, problem) = walk(
            &[
                ("a.txt", "-r b.txt\n-r b.txt\n-c b.txt\n"),
                ("b.txt", "pytest-cov\n"),
            ],
            "a.txt",
        );
        assert!(problem.is_none(), "{problem:?}");
        assert_eq!(got, ["b.txt pytest-cov"]);
        // A missing include, and a missing constraints file.
        let (got, problem) = walk(
            &[(
                "requirements-test.txt",
                "-r missing.txt\npytest-cov==6.3.0\n",
            )],
            "requirements-test.txt",
        );
        assert_eq!(
            problem.unwrap(),
            (
                "Could not open requirements file: [Errno 2] No such file or directory: 'missing.txt'"
                    .to_string(),
                "requirements-test.txt:1:1".to_string()
            )
        );
        assert_eq!(got.len(), 1);
        let (_, problem) = walk(&[("a.txt", "pytest\n  -c sub/missing.txt\n")], "a.txt");
        let (message, at) = problem.unwrap();
        assert_eq!(at, "a.txt:2:3");
        assert!(
            message.starts_with("Could not open constraint file"),
            "{message}"
        );
        assert!(message.contains("'sub/missing.txt'"), "{message}");
        // An include over a URL is not followed, and is no error.
        let (_, problem) = walk(&[("a.txt", "-r https://example.org/r.txt\n")], "a.txt");
        assert!(problem.is_none());
    }

    #[test]
    fn requirements_errors_are_input_errors_of_the_files_covdoctor_reads() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("requirements-a.txt"), "-r base.txt\n").unwrap();
        std::fs::write(dir.path().join("requirements-b.txt"), "-r base.txt\n").unwrap();
        std::fs::write(dir.path().join("base.txt"), "pytest-cov >=>= 6\n").unwrap();
        // Not a requirements file covdoctor reads.
        std::fs::write(dir.path().join("other.txt"), "-r missing.txt\n").unwrap();
        let mut loader = crate::config::ConfigFiles::new(std::sync::Arc::new(crate::source::Disk));
        let problems = input_errors(dir.path(), &mut loader);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].path.ends_with("base.txt"));
    }

    #[test]
    fn uv_reads_a_lock_file_with_a_byte_order_mark() {
        let lock =
            "\u{feff}version = 1\n\n[[package]]\nname = \"pytest-cov\"\nversion = \"6.3.0\"\n";
        let (got, dir) = detect(&[("uv.lock", lock)], Overrides::default());
        assert_eq!(got.pytest_cov.version, Some(v("6.3.0")));
        let mut loader = crate::config::ConfigFiles::new(std::sync::Arc::new(crate::source::Disk));
        assert!(input_errors(dir.path(), &mut loader).is_empty());
        // tomllib (poetry, pdm) does not.
        let (_, dir) = detect(&[("poetry.lock", lock)], Overrides::default());
        let mut loader = crate::config::ConfigFiles::new(std::sync::Arc::new(crate::source::Disk));
        let problems = input_errors(dir.path(), &mut loader);
        assert!(
            problems[0].message.contains("byte order mark"),
            "{problems:?}"
        );
    }

    #[test]
    fn pipfile_lock_is_read_as_deep_as_python_reads_it() {
        let lock = |depth: usize| {
            format!(
                "{{\"default\": {{\"pytest-cov\": {{\"version\": \"==6.3.0\"}}}}, \"x\": [\"]]]\\\"[[[\", {}1{}]}}\n",
                "[".repeat(depth),
                "]".repeat(depth)
            )
        };
        // 200 deep: past serde_json's own limit, read as Python reads it.
        for depth in [0, 200, JSON_DEPTH - 2] {
            let (got, dir) = detect(&[("Pipfile.lock", &lock(depth))], Overrides::default());
            assert_eq!(got.pytest_cov.version, Some(v("6.3.0")), "{depth}");
            let mut loader =
                crate::config::ConfigFiles::new(std::sync::Arc::new(crate::source::Disk));
            assert!(input_errors(dir.path(), &mut loader).is_empty(), "{depth}");
        }
        // Deeper: Python's RecursionError, located where it starts.
        let text = lock(JSON_DEPTH - 1);
        let (_, dir) = detect(&[("Pipfile.lock", &text)], Overrides::default());
        let mut loader = crate::config::ConfigFiles::new(std::sync::Arc::new(crate::source::Disk));
        let problems = input_errors(dir.path(), &mut loader);
        let [problem] = &problems[..] else {
            panic!("{problems:?}")
        };
        assert!(problem.message.contains("RecursionError"));
        let at = problem.location.as_ref().unwrap().span.start;
        // Three in the string, then the array of "x" and the deep ones.
        assert_eq!(text[..at].matches('[').count(), 3 + 1 + JSON_DEPTH - 2);
        // Far deeper, and unclosed: the same, and no crash.
        let text = format!("{{\"x\": {}", "[".repeat(1_000_000));
        let (_, dir) = detect(&[("Pipfile.lock", &text)], Overrides::default());
        let mut loader = crate::config::ConfigFiles::new(std::sync::Arc::new(crate::source::Disk));
        assert!(
            input_errors(dir.path(), &mut loader)[0]
                .message
                .contains("RecursionError")
        );
        // Invalid JSON that is not deep stays invalid JSON.
        let (_, dir) = detect(
            &[("Pipfile.lock", "{\"default\": [[[1]]] oops")],
            Overrides::default(),
        );
        let mut loader = crate::config::ConfigFiles::new(std::sync::Arc::new(crate::source::Disk));
        assert!(
            input_errors(dir.path(), &mut loader)[0]
                .message
                .starts_with("invalid JSON: ")
        );
    }
}
