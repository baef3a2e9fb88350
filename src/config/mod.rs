//! Step 2 of the pipeline: read a project's configuration the way the real
//! tools do. [`ProjectConfig::load`] gathers the coverage.py configuration
//! ([`coverage`]), the pytest configuration ([`pytest`]) and the console
//! scripts the project declares, reading each file once.

pub mod coverage;
pub mod ini;
pub mod iniconfig;
pub mod pytest;
pub mod releases;
pub mod settings;
pub mod toml;
pub mod versions;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::problem::Problem;
use crate::source::{Location, ReadError, Source, SourceFile};
use coverage::{CoverageConfig, FileLoader, LoadError, Lookup};
use pytest::PytestConfig;

/// Everything covdoctor knows about one project's configuration.
#[derive(Debug)]
pub struct ProjectConfig {
    pub root: PathBuf,
    pub coverage: CoverageConfig,
    pub pytest: Option<PytestConfig>,
    /// Console scripts the project declares: name → `module:function`.
    pub scripts: BTreeMap<String, String>,
    /// The pytest-cov and coverage.py versions the project uses.
    pub versions: versions::Versions,
    /// A configuration file of the project could not be read: what it says
    /// (coverage settings, say) is unknown.
    pub broken: bool,
    /// Every file read to learn all this: a change to any of them can
    /// change every finding of the project.
    pub files_read: std::collections::BTreeSet<PathBuf>,
}

/// Reads each file once and remembers parse results, so pytest and
/// coverage.py discovery can look at the same pyproject.toml.
pub struct ConfigFiles {
    files: crate::source::SharedFiles,
    sources: HashMap<PathBuf, Option<Result<Source, ReadError>>>,
    inis: HashMap<PathBuf, Result<Arc<ini::IniFile>, ini::IniError>>,
    tomls: HashMap<PathBuf, Result<Arc<toml::TomlDoc>, toml::TomlError>>,
    /// Every file asked for that exists and could not be read or parsed,
    /// and what readers reported themselves ([`FileLoader::report`]): the
    /// first problem of each file.
    failures: std::collections::BTreeMap<PathBuf, Problem>,
}

impl ConfigFiles {
    pub fn new(files: crate::source::SharedFiles) -> Self {
        ConfigFiles {
            files,
            sources: HashMap::new(),
            inis: HashMap::new(),
            tomls: HashMap::new(),
            failures: Default::default(),
        }
    }

    /// The input problems met so far, one per file.
    pub fn failures(&self) -> Vec<Problem> {
        self.failures.values().cloned().collect()
    }

    fn fail(&mut self, problem: Problem) {
        self.failures.entry(problem.path.clone()).or_insert(problem);
    }

    /// The files that exist among those asked for so far.
    pub fn existing(&self) -> std::collections::BTreeSet<PathBuf> {
        self.sources
            .iter()
            .filter(|(_, source)| source.is_some())
            .map(|(path, _)| path.clone())
            .collect()
    }
}

impl FileLoader for ConfigFiles {
    fn load(&mut self, path: &Path) -> Option<Result<Source, ReadError>> {
        if let Some(known) = self.sources.get(path) {
            return known.clone();
        }
        // A pipe or a device where a file is expected is read (and
        // refused); a directory or a dangling symlink is no file at all.
        let loaded = if self.files.is_file(path) || self.files.is_special(path) {
            Some(SourceFile::read(&*self.files, path).map(Arc::new))
        } else {
            None
        };
        if let Some(Err(e)) = &loaded {
            self.fail(Problem::unreadable(e.clone()));
        }
        self.sources.insert(path.to_path_buf(), loaded.clone());
        loaded
    }

    fn report(&mut self, problem: Problem) {
        self.fail(problem);
    }

    fn ini(&mut self, source: &Source) -> Result<ini::IniFile, ini::IniError> {
        // configparser reads these files as UTF-8 without `utf-8-sig`: a
        // byte order mark becomes part of the first line, which then is no
        // section header (`MissingSectionHeaderError`).
        if source.bom {
            return Err(ini::IniError {
                span: crate::source::Span::empty(0),
                message: "the file starts with a UTF-8 byte order mark, which configparser (coverage.py, pytest, tox) does not accept: \"File contains no section headers\"".to_string(),
            });
        }
        let parsed = self
            .inis
            .entry(source.path.clone())
            .or_insert_with(|| ini::parse(&source.text).map(Arc::new))
            .clone()
            .map(|i| (*i).clone());
        if let Err(e) = &parsed {
            self.fail(Problem::from(coverage::LoadError::Ini(
                Arc::clone(source),
                e.clone(),
            )));
        }
        parsed
    }

    fn toml(&mut self, source: &Source) -> Result<Arc<toml::TomlDoc>, toml::TomlError> {
        // tomllib rejects a byte order mark ("Invalid statement (at line 1,
        // column 1)").
        if source.bom {
            return Err(toml::TomlError {
                span: crate::source::Span::empty(0),
                message: "the file starts with a UTF-8 byte order mark, which tomllib (coverage.py, pytest, pip) rejects: \"Invalid statement (at line 1, column 1)\"".to_string(),
            });
        }
        let parsed = self
            .tomls
            .entry(source.path.clone())
            .or_insert_with(|| toml::parse(&source.text).map(Arc::new))
            .clone();
        if let Err(e) = &parsed {
            self.fail(Problem::from(coverage::LoadError::Toml(
                Arc::clone(source),
                e.clone(),
            )));
        }
        parsed
    }
}

impl ProjectConfig {
    /// Loads the configuration of the project at `root`. Files that exist but
    /// cannot be read become problems; whatever can be read is still used.
    pub fn load(
        files: &crate::source::SharedFiles,
        root: &Path,
        rcfile_env: Option<PathBuf>,
        overrides: &versions::Overrides,
        problems: &mut Vec<Problem>,
    ) -> Self {
        let mut files = ConfigFiles::new(Arc::clone(files));
        let mut errors = Vec::new();

        // Every config file covdoctor reads (the files that mark a project
        // root) is checked for syntax, whether or not discovery reaches it:
        // pytest, tox and packaging read them too.
        for name in crate::discover::MARKERS {
            let path = root.join(name);
            match files.load(&path) {
                // A pipe, device or directory where the file would be.
                None if std::fs::metadata(&path).is_ok_and(|m| !m.is_file()) => {
                    problems.push(Problem::at_path(
                        path.clone(),
                        format!(
                            "{}: not a regular file (a pipe, device or directory); not read",
                            path.display()
                        ),
                    ));
                }
                None => {}
                Some(Err(e)) => errors.push(LoadError::Read(e)),
                Some(Ok(source)) => {
                    if name.ends_with(".toml") {
                        if let Err(e) = files.toml(&source) {
                            errors.push(LoadError::Toml(source, e));
                        }
                    } else if !pytest::read_by_pytest_only(name)
                        && let Err(e) = files.ini(&source)
                    {
                        errors.push(LoadError::Ini(source, e));
                    }
                }
            }
        }

        let (pytest, pytest_problems) = pytest::load(root, &mut files);
        let versions = versions::Versions::detect(root, overrides, &mut files);
        problems.extend(versions::input_errors(root, &mut files));
        let lookup = Lookup {
            root,
            cov_config: pytest.as_ref().and_then(|p| p.cov.cov_config.clone()),
            rcfile_env,
            reads_coveragerc_toml: versions.reads_coveragerc_toml(),
        };
        let coverage = CoverageConfig::discover(&lookup, &mut files, &mut errors);
        // Discovery re-reports files already found broken above; keep one
        // problem per file (a missing `--cov-config` file is new).
        let broken = !errors.is_empty() || !pytest_problems.is_empty();
        problems.extend(pytest_problems);
        let mut seen = std::collections::BTreeSet::new();
        for e in errors {
            if seen.insert(e.path()) {
                problems.push(Problem::from(e));
            }
        }

        let scripts = console_scripts(root, &mut files);
        ProjectConfig {
            root: root.to_path_buf(),
            coverage,
            pytest,
            scripts,
            versions,
            broken,
            files_read: files.existing(),
        }
    }
}

/// Console scripts from `[project.scripts]`, `[tool.poetry.scripts]` and
/// setup.cfg's `[options.entry_points] console_scripts`.
fn console_scripts(root: &Path, files: &mut ConfigFiles) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(Ok(source)) = files.load(&root.join("pyproject.toml"))
        && let Ok(doc) = files.toml(&source)
    {
        for path in [
            &["project", "scripts"][..],
            &["project", "gui-scripts"],
            &["tool", "poetry", "scripts"],
        ] {
            if let Some(table) = toml::table_at(&doc, path).and_then(|t| t.as_table_like()) {
                for (name, value) in table.iter() {
                    // Poetry also allows `{ reference = "m:f", type = "console" }`.
                    let target = value
                        .as_str()
                        .or_else(|| value.as_table_like()?.get("reference")?.as_str());
                    if let Some(target) = target {
                        out.insert(name.to_string(), target.to_string());
                    }
                }
            }
        }
    }
    if let Some(Ok(source)) = files.load(&root.join("setup.cfg"))
        && let Ok(ini) = files.ini(&source)
        && let Some(entry) = ini
            .section("options.entry_points")
            .and_then(|s| s.get("console_scripts"))
    {
        for line in entry.value.lines() {
            if let Some((name, target)) = line.split_once('=') {
                out.insert(name.trim().to_string(), target.trim().to_string());
            }
        }
    }
    if let Some(Ok(source)) = files.load(&root.join("setup.py")) {
        out.extend(versions::setup_py_console_scripts(&source.text));
    }
    out
}

impl From<LoadError> for Problem {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::Read(e) => Problem::unreadable(e),
            LoadError::Ini(source, e) => Problem::invalid(
                Location::new(&source, e.span),
                format!("invalid INI: {}", e.message),
            ),
            LoadError::Toml(source, e) => Problem::invalid(
                Location::new(&source, e.span),
                format!("invalid TOML: {}", e.message),
            ),
            LoadError::Value(source, span, why) => Problem::invalid(
                Location::new(&source, span),
                format!("coverage.py cannot read this configuration: {why}"),
            ),
            LoadError::MissingSpecified(path, role) => {
                let (message, location) = match role {
                    coverage::Role::CovConfigOption(loc) => (
                        format!(
                            "--cov-config points at {}, which does not exist: coverage.py stops with \"Couldn't read ... as a config file\"",
                            path.display()
                        ),
                        Some(loc),
                    ),
                    _ => (
                        format!(
                            "COVERAGE_RCFILE points at {}, which does not exist: coverage.py stops with \"Couldn't read ... as a config file\"",
                            path.display()
                        ),
                        None,
                    ),
                };
                match location {
                    Some(loc) => Problem::invalid(loc, message),
                    None => Problem::at_path(path, message),
                }
            }
        }
    }
}
