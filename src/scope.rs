//! Which findings of a project the user asked for.
//!
//! A project is always analysed whole (a fixture in `conftest.py` decides
//! what a test does), but only the findings of the paths given are
//! reported:
//!
//! - a directory at or above the project's root, or any file of the
//!   project's configuration (pyproject.toml, .coveragerc, a lock file the
//!   versions came from, ...): every finding of the project, since a change
//!   there can change them all;
//! - Python files and directories inside the project: the findings in them,
//!   plus the project's findings located in its configuration files (a
//!   missing `patch = ["subprocess"]` loses the coverage of the children
//!   these files start), each once;
//! - any other file: nothing.
//!
//! That is what pre-commit needs: it passes the changed files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;

pub struct Scope {
    whole: bool,
    /// Python files and directories inside the project.
    parts: Vec<PathBuf>,
}

impl Scope {
    /// The scope of the project at `root` for the (absolute, normalized)
    /// `asked` paths. `roots` are all the projects being checked: a path
    /// belongs to the deepest of them that contains it.
    pub fn new(
        root: &Path,
        roots: &[PathBuf],
        asked: &[PathBuf],
        config_files: &BTreeSet<PathBuf>,
    ) -> Scope {
        let mut scope = Scope {
            whole: false,
            parts: Vec::new(),
        };
        for path in asked {
            if path.is_dir() && root.starts_with(path) {
                scope.whole = true;
                continue;
            }
            let owner = roots
                .iter()
                .filter(|r| path.starts_with(r))
                .max_by_key(|r| r.components().count());
            if owner.is_none_or(|o| o != root) {
                continue;
            }
            if config_files.contains(path) || is_settings_file(root, path) {
                scope.whole = true;
            } else if path.is_dir() || path.extension().is_some_and(|e| e == "py") {
                scope.parts.push(path.clone());
            }
        }
        scope
    }

    /// Whether `d` is reported. `is_python` tells the project's Python
    /// files from its configuration files.
    pub fn wants(&self, d: &Diagnostic, is_python: impl Fn(&Path) -> bool) -> bool {
        if self.whole {
            return true;
        }
        let path = &d.primary.location.file.path;
        if self.parts.iter().any(|p| path.starts_with(p)) {
            return true;
        }
        !self.parts.is_empty() && !is_python(path)
    }
}

/// covdoctor's own settings (read before the project's configuration).
fn is_settings_file(root: &Path, path: &Path) -> bool {
    path == root.join("covdoctor.toml") || path == root.join("pyproject.toml")
}
