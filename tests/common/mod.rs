//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use covdoctor::report::{self, Style};
use covdoctor::{Outcome, RunOptions};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn check(path: &Path) -> Outcome {
    covdoctor::check(&[path.to_path_buf()], &RunOptions::default())
}

/// The full rendering, as a user sees it without colours, with paths
/// relative to `cwd`.
pub fn render(outcome: &Outcome, cwd: &Path) -> String {
    let style = Style {
        color: false,
        width: 100,
        cwd: cwd.to_path_buf(),
    };
    let mut out = report::render_problems(&outcome.problems, &style);
    out.push_str(&report::render_full(&outcome.diagnostics, &style));
    out.push_str(&report::summary(
        outcome.diagnostics.len(),
        outcome.problems.len(),
    ));
    out.push('\n');
    out
}

/// Sorted subdirectories.
pub fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}
