//! Step 6 of the pipeline (optional): fixes. A fix is a list of
//! non-overlapping edits on one or more files plus an applicability.
//! [`run`] applies fixes in rounds on an in-memory overlay of the files,
//! re-running the whole check after each round until nothing fixable is
//! left; only then are files written ([`write`]), each atomically.
//!
//! Edits are computed by the rules from facts, with the editors here:
//! [`config_edit`] for TOML and INI configuration, [`python`] for Python
//! source text.

pub mod config_edit;
pub mod python;
pub mod write;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostic::Diagnostic;
use crate::problem::Problem;
use crate::source::{Disk, Files, SharedFiles, Span};
use crate::{Outcome, RunOptions};

/// How much a fix changes besides restoring coverage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Applicability {
    /// Keeps the program's behaviour apart from restoring coverage.
    Safe,
    /// Changes behaviour in a way the user should review.
    Unsafe,
}

impl Applicability {
    pub fn as_str(&self) -> &'static str {
        match self {
            Applicability::Safe => "safe",
            Applicability::Unsafe => "unsafe",
        }
    }
}

/// One change to one file. Ranges index the file's text as covdoctor read
/// it (without a byte order mark).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// Replace `range` with `content`; on a file that does not exist, an
    /// empty range at 0 creates it.
    Replace {
        path: PathBuf,
        range: Span,
        content: String,
    },
    /// Remove the file.
    Delete { path: PathBuf },
}

impl Edit {
    pub fn path(&self) -> &Path {
        match self {
            Edit::Replace { path, .. } | Edit::Delete { path } => path,
        }
    }

    pub fn insert(path: &Path, at: usize, content: impl Into<String>) -> Edit {
        Edit::Replace {
            path: path.to_path_buf(),
            range: Span::empty(at),
            content: content.into(),
        }
    }

    pub fn replace(path: &Path, range: Span, content: impl Into<String>) -> Edit {
        Edit::Replace {
            path: path.to_path_buf(),
            range,
            content: content.into(),
        }
    }
}

/// A fix for one diagnostic.
#[derive(Clone, Debug)]
pub struct Fix {
    /// What it does, imperative: "set `sigterm = true` in pyproject.toml".
    pub title: String,
    pub applicability: Applicability,
    pub edits: Vec<Edit>,
}

impl Fix {
    pub fn safe(title: impl Into<String>, edits: Vec<Edit>) -> Fix {
        Fix {
            title: title.into(),
            applicability: Applicability::Safe,
            edits,
        }
    }

    pub fn unsafe_(title: impl Into<String>, edits: Vec<Edit>) -> Fix {
        Fix {
            title: title.into(),
            applicability: Applicability::Unsafe,
            edits,
        }
    }
}

/// The disk with some files replaced (or removed) in memory.
#[derive(Clone)]
pub struct Overlay {
    base: SharedFiles,
    /// `None`: the file is deleted.
    changed: HashMap<PathBuf, Option<Vec<u8>>>,
}

impl Overlay {
    pub fn new(base: SharedFiles) -> Self {
        Overlay {
            base,
            changed: HashMap::new(),
        }
    }

    /// The disk as a fix run left it.
    pub fn with_changes(base: SharedFiles, changes: &BTreeMap<PathBuf, Change>) -> Self {
        Overlay {
            base,
            changed: changes
                .iter()
                .map(|(p, c)| (p.clone(), c.after.clone()))
                .collect(),
        }
    }

    fn shared(&self) -> SharedFiles {
        Arc::new(self.clone())
    }
}

impl Files for Overlay {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        match self.changed.get(path) {
            Some(Some(bytes)) => Ok(bytes.clone()),
            Some(None) => Err(std::io::Error::from(std::io::ErrorKind::NotFound)),
            None => self.base.read(path),
        }
    }

    fn is_file(&self, path: &Path) -> bool {
        match self.changed.get(path) {
            Some(change) => change.is_some(),
            None => self.base.is_file(path),
        }
    }

    fn is_special(&self, path: &Path) -> bool {
        !self.changed.contains_key(path) && self.base.is_special(path)
    }
}

/// A file a fix run changes: its content before (`None`: did not exist)
/// and after (`None`: deleted).
#[derive(Clone, Debug)]
pub struct Change {
    pub before: Option<Vec<u8>>,
    pub after: Option<Vec<u8>>,
}

/// What a fix run did.
#[derive(Debug)]
pub struct FixRun {
    /// The check of the fixed files: what remains.
    pub outcome: Outcome,
    /// Every changed file, sorted.
    pub changes: BTreeMap<PathBuf, Change>,
    /// The diagnostics that were fixed, with their fix's title.
    pub fixed: Vec<(Diagnostic, String)>,
    /// Fixes that could not be applied (an edit produced a file that does not
    /// parse, or fixes never converged): internal errors, reported as problems.
    pub problems: Vec<Problem>,
}

/// How many rounds of fixing before giving up: one fix may enable another
/// (`sigkill-loses-coverage` then `sigterm-not-handled`), a few rounds suffice.
const MAX_ROUNDS: usize = 8;

/// Applies every fix allowed by `unsafe_fixes` until none is left, in memory.
pub fn run(paths: &[PathBuf], options: &RunOptions, unsafe_fixes: bool) -> FixRun {
    run_on(paths, options, unsafe_fixes, Arc::new(Disk))
}

pub fn run_on(
    paths: &[PathBuf],
    options: &RunOptions,
    unsafe_fixes: bool,
    base: SharedFiles,
) -> FixRun {
    let mut overlay = Overlay::new(Arc::clone(&base));
    let mut fixed = Vec::new();
    let mut problems = Vec::new();
    let allowed = |a: Applicability| a == Applicability::Safe || unsafe_fixes;
    for round in 0.. {
        let outcome = crate::check_with(paths, options, &overlay.shared());
        let fixable: Vec<&Diagnostic> = outcome
            .diagnostics
            .iter()
            .filter(|d| d.fix.as_ref().is_some_and(|f| allowed(f.applicability)))
            .collect();
        if fixable.is_empty() || round == MAX_ROUNDS {
            if !fixable.is_empty() {
                problems.push(Problem::at_path(
                    PathBuf::from("."),
                    format!("fixes did not converge after {MAX_ROUNDS} rounds; {} fixable findings remain", fixable.len()),
                ));
            }
            return finish(outcome, &base, overlay, fixed, problems);
        }
        // Take fixes whose edits do not overlap those already taken this
        // round; the others wait for the next round.
        let mut taken: HashMap<PathBuf, Vec<Span>> = HashMap::new();
        let mut deleted: Vec<PathBuf> = Vec::new();
        let mut round_edits: Vec<&Edit> = Vec::new();
        let mut round_fixed = Vec::new();
        let mut taken_fixes: Vec<&[Edit]> = Vec::new();
        for d in fixable {
            let fix = d.fix.as_ref().expect("filtered");
            // A fix that changes no byte is no fix (it would be "applied"
            // every round).
            if fix.edits.iter().all(|e| changes_nothing(&overlay, e)) {
                continue;
            }
            // Several findings with the same fix (three `terminate()` calls,
            // one `sigterm = true`): one edit fixes them all.
            if taken_fixes.contains(&fix.edits.as_slice()) {
                round_fixed.push((d.clone(), fix.title.clone()));
                continue;
            }
            let clashes = fix.edits.iter().any(|e| match e {
                Edit::Replace { path, range, .. } => {
                    deleted.contains(path)
                        || taken
                            .get(path)
                            .is_some_and(|spans| spans.iter().any(|s| overlaps(*s, *range)))
                }
                Edit::Delete { path } => taken.contains_key(path) || deleted.contains(path),
            });
            if clashes {
                continue;
            }
            for e in &fix.edits {
                match e {
                    Edit::Replace { path, range, .. } => {
                        taken.entry(path.clone()).or_default().push(*range)
                    }
                    Edit::Delete { path } => deleted.push(path.clone()),
                }
                round_edits.push(e);
            }
            taken_fixes.push(&fix.edits);
            round_fixed.push((d.clone(), fix.title.clone()));
        }
        // Only fixes that change nothing are left: done.
        if round_edits.is_empty() {
            return finish(outcome, &base, overlay, fixed, problems);
        }
        let before = overlay.clone();
        match apply(&mut overlay, &round_edits) {
            Ok(()) => fixed.extend(round_fixed),
            Err(problem) => {
                // Never write a file that does not parse: stop fixing.
                problems.push(problem);
                overlay = before;
                let outcome = crate::check_with(paths, options, &overlay.shared());
                return finish(outcome, &base, overlay, fixed, problems);
            }
        }
    }
    unreachable!("the loop returns")
}

/// A replacement with the text already there.
fn changes_nothing(overlay: &Overlay, edit: &Edit) -> bool {
    let Edit::Replace {
        path,
        range,
        content,
    } = edit
    else {
        return false;
    };
    overlay.read(path).is_ok_and(|bytes| {
        bytes
            .get(range.range())
            .is_some_and(|old| old == content.as_bytes())
    })
}

fn overlaps(a: Span, b: Span) -> bool {
    // Two insertions at the same point clash too: their order would matter.
    a.start < b.end && b.start < a.end || (a.start == b.start)
}

/// Applies one round's edits to the overlay, checking that every changed
/// file still parses.
fn apply(overlay: &mut Overlay, edits: &[&Edit]) -> Result<(), Problem> {
    let mut by_file: BTreeMap<PathBuf, Vec<(Span, &str)>> = BTreeMap::new();
    for e in edits {
        match e {
            Edit::Replace {
                path,
                range,
                content,
            } => by_file
                .entry(path.clone())
                .or_default()
                .push((*range, content)),
            Edit::Delete { path } => {
                overlay.changed.insert(path.clone(), None);
            }
        }
    }
    for (path, mut replacements) in by_file {
        let (bom, text) = match overlay.read(&path) {
            Ok(bytes) => {
                let text = String::from_utf8(bytes).map_err(|_| {
                    Problem::at_path(
                        path.clone(),
                        "covdoctor does not edit files that are not UTF-8".into(),
                    )
                })?;
                match text.strip_prefix('\u{feff}') {
                    Some(rest) => (true, rest.to_string()),
                    None => (false, text),
                }
            }
            Err(_) => (false, String::new()),
        };
        replacements.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
        let mut new = text.clone();
        for (range, content) in replacements {
            if range.end > new.len()
                || !new.is_char_boundary(range.start)
                || !new.is_char_boundary(range.end)
            {
                return Err(Problem::at_path(
                    path.clone(),
                    "internal error: a fix's edit is outside the file".into(),
                ));
            }
            new.replace_range(range.range(), content);
        }
        if let Err(why) = still_parses(&path, &new) {
            return Err(Problem::at_path(
                path.clone(),
                format!(
                    "internal error: a fix would leave this file unparsable ({why}); nothing was written"
                ),
            ));
        }
        let mut bytes = Vec::with_capacity(new.len() + 3);
        if bom {
            bytes.extend_from_slice("\u{feff}".as_bytes());
        }
        bytes.extend_from_slice(new.as_bytes());
        overlay.changed.insert(path, Some(bytes));
    }
    Ok(())
}

/// Re-parses an edited file with the reader of its kind.
pub fn still_parses(path: &Path, text: &str) -> Result<(), String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.ends_with(".py") {
        return crate::analyze::python::check_syntax(text);
    }
    if name.ends_with(".toml") {
        return crate::config::toml::parse(text)
            .map(|_| ())
            .map_err(|e| e.message);
    }
    if name.ends_with(".cfg") || name.ends_with(".ini") || name == ".coveragerc" {
        return crate::config::ini::parse(text)
            .map(|_| ())
            .map_err(|e| e.message);
    }
    if name.ends_with(".yml") || name.ends_with(".yaml") {
        use saphyr::LoadableYamlNode;
        return saphyr::MarkedYaml::load_from_str(text)
            .map(|_| ())
            .map_err(|e| e.to_string());
    }
    Ok(())
}

fn finish(
    outcome: Outcome,
    base: &SharedFiles,
    overlay: Overlay,
    fixed: Vec<(Diagnostic, String)>,
    problems: Vec<Problem>,
) -> FixRun {
    let mut changes = BTreeMap::new();
    for (path, after) in overlay.changed {
        let before = base.read(&path).ok().filter(|_| base.is_file(&path));
        if before != after {
            changes.insert(path, Change { before, after });
        }
    }
    FixRun {
        outcome,
        changes,
        fixed,
        problems,
    }
}
