//! `covdoctor doctor`: the environment the tests run in, checked without
//! running it. [`crate::environment`] reads the interpreter and its
//! site-packages; this module adds the shell's variables and what the
//! project expects of the environment ([`crate::project_use`]), and runs
//! the environment rules on the whole.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostic::Diagnostic;
use crate::environment::Environment;
use crate::problem::Problem;
use crate::source::{Location, Source, SourceFile, Span};

/// The shell variables the environment rules look at: every `COVERAGE_*`
/// and `COV_CORE_*` variable, and pytest's own.
fn watched(name: &str) -> bool {
    name.starts_with("COVERAGE_")
        || name.starts_with("COV_CORE_")
        || name == "PYTEST_ADDOPTS"
        || name == "PYTEST_PLUGINS"
}

/// A variable of the shell covdoctor runs in, located in a listing of
/// them (`<environment>`, one `NAME=value` per line) so that a finding can
/// point at it like at a line of a file.
#[derive(Clone, Debug)]
pub struct Variable {
    pub name: String,
    pub value: String,
    pub location: Location,
}

/// What an environment rule sees.
pub struct Inspection<'a> {
    pub env: &'a Environment,
    /// The watched variables set in the shell, by name.
    pub vars: &'a [Variable],
    /// The project the environment runs the tests of, when there is one.
    pub project: Option<&'a crate::ProjectUse>,
}

impl Inspection<'_> {
    pub fn var(&self, name: &str) -> Option<&Variable> {
        self.vars.iter().find(|v| v.name == name)
    }

    /// The environment's path for messages: relative to the project.
    pub fn env_name(&self) -> String {
        self.display(&self.env.prefix)
    }

    /// A path for messages: relative to the project when inside it.
    pub fn display(&self, path: &Path) -> String {
        self.project
            .and_then(|p| path.strip_prefix(&p.root).ok())
            .filter(|rel| !rel.as_os_str().is_empty())
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    }

    /// The project's tests measure Python children that run project code:
    /// the one case where a missing or broken hook loses coverage.
    pub fn measures_children(&self) -> bool {
        self.project
            .is_some_and(|p| p.python_children && !p.measuring.is_empty())
    }

    /// How the local run's children are measured (the environment is the
    /// local run's), else the first measuring run's.
    pub fn mechanism(&self) -> Option<crate::runs::Mechanism> {
        let p = self.project?;
        p.measuring
            .iter()
            .find(|(v, _)| v.run.kind == crate::runs::Kind::Local)
            .or_else(|| p.measuring.first())
            .map(|(_, m)| *m)
    }
}

/// What `doctor` found.
pub struct Report {
    pub environment: Option<Environment>,
    pub diagnostics: Vec<Diagnostic>,
    pub problems: Vec<Problem>,
}

/// Inspects the environment of the project at `path` (`python`, when
/// given, names it), with the shell variables `var` gives.
pub fn doctor(
    path: &Path,
    python: Option<&Path>,
    vars: &[(String, String)],
    options: &crate::RunOptions,
) -> Report {
    let var = |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let absolute = std::path::absolute(path)
        .map(|p| crate::source::normalize(&p))
        .unwrap_or_else(|_| path.to_path_buf());
    let root = crate::discover::root_of(&absolute);
    let env = match crate::environment::locate(&root, python, &var) {
        Ok(env) => env,
        Err(message) => {
            return Report {
                environment: None,
                diagnostics: Vec::new(),
                problems: vec![Problem::at_path(
                    python.map_or_else(|| root.clone(), Path::to_path_buf),
                    message,
                )],
            };
        }
    };
    let mut options = options.clone();
    // The project's runs are judged with the versions installed here.
    for package in ["pytest-cov", "coverage"] {
        let explicit = env
            .version(package)
            .map(|v| crate::config::versions::Explicit {
                value: v.to_string(),
                what: format!("the environment in {}", env.prefix.display()),
                location: None,
            });
        let slot = match package {
            "pytest-cov" => &mut options.versions.pytest_cov,
            _ => &mut options.versions.coverage,
        };
        if slot.is_none() {
            *slot = explicit;
        }
    }
    let (projects, problems) = if has_project(&root) {
        crate::project_use(std::slice::from_ref(&root), &options)
    } else {
        (Vec::new(), Vec::new())
    };
    let variables = shell_variables(vars);
    let inspection = Inspection {
        env: &env,
        vars: &variables,
        project: projects.first(),
    };
    let mut diagnostics = crate::rules::inspect(&inspection);
    diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Report {
        environment: Some(env),
        diagnostics,
        problems,
    }
}

fn has_project(root: &Path) -> bool {
    crate::discover::MARKERS
        .iter()
        .any(|m| root.join(m).is_file())
}

/// The watched variables as a located listing.
fn shell_variables(vars: &[(String, String)]) -> Vec<Variable> {
    let mut set: Vec<&(String, String)> = vars.iter().filter(|(k, _)| watched(k)).collect();
    set.sort();
    let mut text = String::new();
    let mut spans = Vec::new();
    for (name, value) in &set {
        // One line per variable, whatever its value holds.
        let value = value.replace(['\n', '\r'], " ");
        let start = text.len();
        text.push_str(&format!("{name}={value}"));
        spans.push(Span::new(start, text.len()));
        text.push('\n');
    }
    let file: Source = Arc::new(SourceFile::new(PathBuf::from("<environment>"), text));
    set.into_iter()
        .zip(spans)
        .map(|((name, value), span)| Variable {
            name: name.clone(),
            value: value.clone(),
            location: Location::new(&file, span),
        })
        .collect()
}

/// A file of the environment, read for a finding to point into.
pub fn source(path: &Path) -> Source {
    let text = crate::source::read_regular(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    Arc::new(SourceFile::new(path.to_path_buf(), text))
}

/// The first line of `path` that starts with `prefix` (a METADATA's
/// `Version:`), else its first line.
pub fn line_of(path: &Path, prefix: &str) -> Location {
    let file = source(path);
    let mut start = 0;
    let mut found = None;
    for line in file.text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        if found.is_none() && body.starts_with(prefix) {
            found = Some(Span::new(start, start + body.len()));
        }
        start += line.len();
    }
    let span = found.unwrap_or_else(|| {
        let first = file.text.lines().next().unwrap_or("");
        Span::new(0, first.len())
    });
    Location::new(&file, span)
}

/// The first word of `path` (a `.pth` file's `import`): where a finding
/// about the whole file points.
pub fn first_word(path: &Path) -> Location {
    let file = source(path);
    let start = file.text.len() - file.text.trim_start().len();
    let len = file.text[start..]
        .find(char::is_whitespace)
        .unwrap_or(file.text.len() - start);
    Location::new(&file, Span::new(start, start + len))
}
