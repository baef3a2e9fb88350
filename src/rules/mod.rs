//! Step 4 of the pipeline: the rules. Each rule is one file with a [`Rule`]
//! constant and a `check` function that reads the project's configuration
//! and Python facts and returns diagnostics. Its user documentation is
//! `rules/<name>.md`, compiled into the binary.

mod config_shadowed;
mod cov_config_not_passed;
mod env_drops_coverage;
mod environment_version_mismatch;
pub(crate) mod fork_worker_unmeasured;
mod leaked_coverage_variable;
mod os_exit_skips_save;
mod patch_unsupported;
mod patch_with_old_pytest_cov;
mod pool_terminated;
mod relative_cov_source;
mod removed_embed_api;
mod run_timeout_kills;
mod sigkill_loses_coverage;
mod sigterm_not_handled;
mod stale_coverage_pth;
mod subprocess_hook_missing;
mod subprocess_patch_missing;
mod terminate_without_wait;
mod toml_support_missing;
mod unused_suppression;

use crate::analyze::{Launch, PythonFacts};
use crate::config::ProjectConfig;
use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::source::Location;

/// What a rule sees of one project, for one run of its tests.
pub struct Context<'a> {
    pub config: &'a ProjectConfig,
    pub python: &'a PythonFacts,
    /// The run: its versions, pytest arguments and measurement.
    pub run: &'a crate::runs::View,
    /// The coverage configuration that run reads (`--cov-config` on its
    /// command line, `COVERAGE_RCFILE` in its environment).
    pub coverage: &'a crate::config::coverage::CoverageConfig,
}

impl Context<'_> {
    /// How this run's Python children are measured.
    pub fn mechanism(&self) -> crate::runs::Mechanism {
        self.run.mechanism(
            env_drops_coverage::patches_subprocess(self),
            self.python.process_startup.is_some(),
        )
    }

    /// A `coverage.process_startup()` hook exists for this run's children:
    /// in the project's code, written by a step of the run, or installed
    /// by a package.
    pub fn startup_hook(&self) -> bool {
        self.python.process_startup.is_some() || self.run.has_startup_hook()
    }
}

/// What a rule's findings depend on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The project's files alone: checked once.
    Project,
    /// A run's versions and options: checked for every run that measures
    /// coverage.
    Run,
    /// A child of a run: checked only for runs whose children can be
    /// measured at all (otherwise the missing mechanism is the one root
    /// cause).
    Child,
    /// The environment the tests run in (`covdoctor doctor`): its
    /// installed packages, startup hooks and shell variables.
    Environment,
}

/// What a rule inspects.
pub enum Check {
    /// A project, for one run (`covdoctor check`).
    Project(fn(&Context<'_>) -> Vec<Diagnostic>),
    /// An environment (`covdoctor doctor`).
    Environment(fn(&crate::doctor::Inspection<'_>) -> Vec<Diagnostic>),
}

pub struct Rule {
    /// Kebab-case, naming the problem.
    pub name: &'static str,
    /// A finding claims that a child's coverage is lost (the end-to-end
    /// tests hold the rule to it); otherwise it is about configuration.
    pub claims_loss: bool,
    /// One line for `covdoctor rules`.
    pub summary: &'static str,
    pub severity: Severity,
    pub scope: Scope,
    /// The rule's page, `rules/<name>.md`.
    pub doc: &'static str,
    pub check: Check,
}

impl Rule {
    /// A diagnostic of this rule.
    pub fn diagnostic(
        &'static self,
        primary: Location,
        label: impl Into<String>,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            rule: self.name,
            severity: self.severity,
            message: message.into(),
            primary: Label {
                location: primary,
                text: Some(label.into()),
            },
            labels: Vec::new(),
            help: None,
            fix: None,
            runs: Vec::new(),
            sites: Vec::new(),
            fix_withheld: None,
        }
    }
}

/// Every rule, in alphabetical order.
pub static ALL: &[&Rule] = &[
    &config_shadowed::RULE,
    &cov_config_not_passed::RULE,
    &env_drops_coverage::RULE,
    &environment_version_mismatch::RULE,
    &fork_worker_unmeasured::RULE,
    &leaked_coverage_variable::RULE,
    &os_exit_skips_save::RULE,
    &patch_unsupported::RULE,
    &patch_with_old_pytest_cov::RULE,
    &pool_terminated::RULE,
    &relative_cov_source::RULE,
    &removed_embed_api::RULE,
    &run_timeout_kills::RULE,
    &sigkill_loses_coverage::RULE,
    &sigterm_not_handled::RULE,
    &stale_coverage_pth::RULE,
    &subprocess_hook_missing::RULE,
    &subprocess_patch_missing::RULE,
    &terminate_without_wait::RULE,
    &toml_support_missing::RULE,
    &unused_suppression::RULE,
];

/// `unused-suppression`, whose findings the suppression step produces.
pub fn unused_suppression_rule() -> &'static Rule {
    &unused_suppression::RULE
}

pub fn by_name(name: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.name == name)
}

/// Runs the rules of these scopes for one run.
pub fn check(context: &Context<'_>, scopes: &[Scope]) -> Vec<Diagnostic> {
    let children = context.mechanism() != crate::runs::Mechanism::None;
    ALL.iter()
        .filter(|rule| scopes.contains(&rule.scope))
        .filter(|rule| rule.scope != Scope::Child || children)
        .flat_map(|rule| match rule.check {
            Check::Project(check) => check(context),
            Check::Environment(_) => Vec::new(),
        })
        .collect()
}

/// Runs the environment rules.
pub fn inspect(inspection: &crate::doctor::Inspection<'_>) -> Vec<Diagnostic> {
    ALL.iter()
        .filter_map(|rule| match rule.check {
            Check::Environment(check) => Some(check(inspection)),
            Check::Project(_) => None,
        })
        .flatten()
        .collect()
}

/// Launches whose child is Python, runs project code and is measured only
/// if the parent's mechanism reaches it (not `coverage run ...`, which
/// starts coverage itself).
pub fn python_launches(python: &PythonFacts) -> impl Iterator<Item = (usize, &Launch)> {
    python
        .launches
        .iter()
        .enumerate()
        .filter(|(_, l)| l.child.needs_parent_mechanism())
}

/// Points at the file that says which version of a package the project
/// uses, when the diagnosis depends on it.
pub fn with_version(
    d: Diagnostic,
    detected: &crate::config::versions::Detected,
    package: &str,
) -> Diagnostic {
    match detected.source.as_ref().and_then(|p| p.location.clone()) {
        Some(location) => d.label(
            location,
            format!("{} is used here", detected.describe(package)),
        ),
        None => d,
    }
}

/// "Python child started here (sys.executable)".
pub fn launch_label(launch: &Launch) -> String {
    match &launch.child {
        crate::analyze::Child::Python { .. } if launch.is_pool() && launch.via.is_empty() => {
            "worker processes started here (a process pool)".to_string()
        }
        crate::analyze::Child::Python { .. } if launch.is_pool() => {
            "starts worker processes through a project helper (a process pool)".to_string()
        }
        crate::analyze::Child::Python { evidence, .. } if launch.via.is_empty() => {
            format!("Python child started here ({evidence})")
        }
        crate::analyze::Child::Python { evidence, .. } => {
            format!("starts a Python child through a project helper ({evidence})")
        }
        _ => "child started here".to_string(),
    }
}

/// Labels for where a launch is: the call the user makes, and, when that
/// call goes through project helpers, each helper call down to the launch
/// call itself.
pub fn launch_labels(launch: &Launch) -> Vec<(Location, String)> {
    let mut out = vec![(launch.location.clone(), launch_label(launch))];
    out.extend(via_labels(&launch.via, "the child is started here"));
    out
}

/// Labels for the launch a stop stops: the launch as it was reached for
/// this stop's calls, or, when the stop stands for every launch of one
/// launch call, that call.
pub fn stop_launch_labels(stop: &crate::analyze::Stop, launch: &Launch) -> Vec<(Location, String)> {
    if stop.exact || launch.via.is_empty() {
        return launch_labels(launch);
    }
    let at = launch.via.last().unwrap_or(&launch.location);
    let text = match &launch.child {
        crate::analyze::Child::Python { evidence, .. } => {
            format!("Python child started here ({evidence})")
        }
        _ => "child started here".to_string(),
    };
    vec![(at.clone(), text)]
}

/// Labels for the helper calls between where the user acts and the call
/// that does it (`last` labels that call).
pub fn via_labels(via: &[Location], last: &str) -> Vec<(Location, String)> {
    via.iter()
        .enumerate()
        .map(|(i, l)| {
            let text = if i + 1 == via.len() {
                last.to_string()
            } else {
                "through this helper call".to_string()
            };
            (l.clone(), text)
        })
        .collect()
}

/// With no coverage configuration at all: the edit that writes `[section]
/// key = value` as new configuration (in pyproject.toml's
/// `[tool.coverage.*]`, or a new `.coveragerc`). `None` when a bare `[run]`
/// in setup.cfg or tox.ini is waiting for config-shadowed's rename (a new
/// file now would shadow it).
pub fn new_coverage_setting(
    cx: &Context<'_>,
    section: &str,
    key: &str,
    value: &crate::fix::config_edit::Value,
) -> Option<crate::fix::Edit> {
    let coverage = &cx.coverage;
    if coverage
        .candidates
        .iter()
        .any(|f| !f.unread_sections.is_empty())
    {
        return None;
    }
    let candidate = coverage
        .candidates
        .iter()
        .find(|f| f.role == crate::config::coverage::Role::Pyproject);
    // A pyproject.toml with coverage tables that set nothing yet (an empty
    // `[tool.coverage.run]`): the key goes into the table that is there.
    if let Some(file) = candidate
        && !file.sections.is_empty()
    {
        return crate::fix::config_edit::set_coverage_option(file, section, key, value);
    }
    let pyproject = candidate.map(|f| &*f.source);
    Some(crate::fix::config_edit::new_coverage_option(
        &cx.config.root,
        pyproject,
        section,
        key,
        value,
    ))
}

/// Whether the run's coverage measures a project file, as far as its
/// sources say: `--cov=X` values, else `[run] source` and `source_pkgs`;
/// with none, every file counts. A source matches a file whose path holds
/// its parts (`app`, `src/app`, `app.core`) as directories in that order,
/// so a file is judged unmeasured only when no source can be it. From
/// coverage 7.18 on, a `source` entry (and so a `--cov` value) may be a
/// glob (`packages/*/src`): its parts match as `glob.glob` would, `**`
/// any number of directories; an older coverage.py takes it literally.
pub fn measures_file(cx: &Context<'_>, path: &std::path::Path) -> bool {
    // (entry, whether coverage.py expands it as a glob)
    let globs = !cx.run.versions.coverage.below(&[7, 18]);
    let mut sources: Vec<(String, bool)> = cx
        .run
        .cov
        .sources
        .iter()
        .filter(|(v, _)| !v.is_empty())
        .map(|(v, _)| (v.clone(), globs))
        .collect();
    if sources.is_empty() {
        for (key, glob) in [("source", globs), ("source_pkgs", false)] {
            if let Some(list) = cx.coverage.get("run", key).and_then(|s| s.as_list()) {
                sources.extend(list.iter().map(|v| (v.to_string(), glob)));
            }
        }
    }
    if sources.is_empty() {
        return true;
    }
    let root = &cx.config.root;
    let rel = path.strip_prefix(root).unwrap_or(path);
    let dirs: Vec<String> = rel
        .parent()
        .into_iter()
        .flat_map(|p| p.components())
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let stem = rel
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    sources.iter().any(|(source, glob)| {
        let pattern = *glob && has_magic(source);
        let as_path = std::path::Path::new(source);
        if as_path.is_absolute() && !pattern {
            return path.starts_with(as_path);
        }
        if pattern {
            // A pattern names directories (or files) by path: its parts
            // split on separators only, matched against the directories
            // of the file (absolute ones from the file system root).
            let parts: Vec<&str> = source
                .split(['/', '\\'])
                .filter(|p| !p.is_empty() && *p != ".")
                .collect();
            let Some(parts) = parts
                .iter()
                .map(|p| PathPart::new(p))
                .collect::<Option<Vec<_>>>()
            else {
                return true;
            };
            let mut names: Vec<String> = if as_path.is_absolute() {
                path.parent()
                    .into_iter()
                    .flat_map(|p| p.components())
                    .filter(|c| matches!(c, std::path::Component::Normal(_)))
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect()
            } else {
                dirs.clone()
            };
            names.push(stem.clone());
            let starts: Vec<usize> = if as_path.is_absolute() {
                vec![0]
            } else {
                (0..names.len()).collect()
            };
            return starts
                .into_iter()
                .any(|start| parts_match(&parts, &names[start..]));
        }
        let parts: Vec<&str> = source
            .split(['/', '.', '\\'])
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() {
            return true;
        }
        // As directories, or ending in the module itself (`app.cli`).
        let mut names = dirs.clone();
        names.push(stem.clone());
        names
            .windows(parts.len())
            .any(|w| w.iter().zip(&parts).all(|(a, b)| a == b))
    })
}

/// Whether `glob.escape` would change the entry: it holds `*`, `?` or `[`.
fn has_magic(entry: &str) -> bool {
    entry.contains(['*', '?', '['])
}

/// One part of a source pattern.
enum PathPart {
    /// `**`: any number of directories.
    Any,
    Literal(String),
    Glob(globset::GlobMatcher),
}

impl PathPart {
    /// `None` for a part globset cannot read (coverage.py's `glob` would
    /// still match something, so the caller counts the file measured).
    fn new(part: &str) -> Option<PathPart> {
        if part == "**" {
            return Some(PathPart::Any);
        }
        if !has_magic(part) {
            return Some(PathPart::Literal(part.to_string()));
        }
        globset::GlobBuilder::new(part)
            .literal_separator(true)
            .backslash_escape(false)
            .build()
            .ok()
            .map(|g| PathPart::Glob(g.compile_matcher()))
    }

    fn matches(&self, name: &str) -> bool {
        match self {
            PathPart::Any => true,
            PathPart::Literal(l) => l == name,
            // `glob.glob` skips hidden names unless the pattern starts
            // with a dot.
            PathPart::Glob(g) => !name.starts_with('.') && g.is_match(name),
        }
    }
}

/// The pattern's parts match a prefix of `names` (a directory the pattern
/// names holds the file, or the pattern names the file's module). A table
/// over (part, name) positions, so `**` parts stay linear in the path.
fn parts_match(parts: &[PathPart], names: &[String]) -> bool {
    // reach[j]: the parts matched so far can end just before names[j].
    let mut reach = vec![false; names.len() + 1];
    reach[0] = true;
    for part in parts {
        let mut next = vec![false; names.len() + 1];
        for j in 0..=names.len() {
            if !reach[j] {
                continue;
            }
            if let PathPart::Any = part {
                next[j..].iter_mut().for_each(|r| *r = true);
                break;
            }
            if j < names.len() && part.matches(&names[j]) {
                next[j + 1] = true;
            }
        }
        reach = next;
    }
    reach.iter().any(|r| *r)
}

/// A path relative to the project root, for messages.
pub fn relative(root: &std::path::Path, path: &std::path::Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_sorted_unique_and_kebab_case() {
        let names: Vec<&str> = ALL.iter().map(|r| r.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
        for name in names {
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{name}"
            );
        }
    }

    #[test]
    fn each_page_starts_with_its_name() {
        for rule in ALL {
            assert!(
                rule.doc.starts_with(&format!("# {}\n", rule.name)),
                "{}",
                rule.name
            );
        }
    }
}
