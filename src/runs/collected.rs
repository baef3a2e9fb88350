//! Which test files a run collects: the paths it gives pytest (its
//! positional arguments, else the `testpaths` option), when every one of
//! them is known. A launch written in a test module (or `conftest.py`)
//! that the run does not collect is not started by that run.
//!
//! pytest's command line is read the way its argparse reads it, as far as
//! covdoctor knows the options that take a value (pytest's own, and those
//! of the plugins most projects use); a word after an option covdoctor
//! does not know that names a project path leaves the paths unknown.

use std::path::{Path, PathBuf};

use super::View;
use crate::config::ProjectConfig;

/// Options that take the next word as their value (when it is not
/// written `--opt=value`): pytest's, pytest-cov's (`--cov` only when the
/// next word does not start with `-`), xdist's, and common plugins'.
const TAKES_VALUE: &[&str] = &[
    "-k",
    "-m",
    "-p",
    "-c",
    "-o",
    "-W",
    "-r",
    "-n",
    "--config-file",
    "--override-ini",
    "--pythonwarnings",
    "--rootdir",
    "--confcutdir",
    "--basetemp",
    "--junitxml",
    "--junit-xml",
    "--junit-prefix",
    "--deselect",
    "--ignore",
    "--ignore-glob",
    "--log-level",
    "--log-format",
    "--log-date-format",
    "--log-cli-level",
    "--log-cli-format",
    "--log-cli-date-format",
    "--log-file",
    "--log-file-level",
    "--log-file-format",
    "--log-file-date-format",
    "--log-file-mode",
    "--log-disable",
    "--durations",
    "--durations-min",
    "--maxfail",
    "--tb",
    "--import-mode",
    "--capture",
    "--color",
    "--code-highlight",
    "--doctest-glob",
    "--doctest-report",
    "--show-capture",
    "--assert",
    "--verbosity",
    "--pdbcls",
    "--cov-report",
    "--cov-config",
    "--cov-fail-under",
    "--cov-context",
    "--numprocesses",
    "--dist",
    "--maxprocesses",
    "--max-worker-restart",
    "--rsyncdir",
    "--tx",
    "--timeout",
    "--timeout-method",
    "--reruns",
    "--reruns-delay",
    "--only-rerun",
    "--randomly-seed",
    "--asyncio-mode",
    "--ds",
    "--dc",
    "--hypothesis-profile",
    "--hypothesis-seed",
    "--md-report-output",
    "--html",
    "--json-report-file",
];

/// Options after which the positional words are not paths.
const NOT_PATHS: &[&str] = &["--pyargs", "--doctest-modules"];

/// The directories and files the run collects tests from, relative paths
/// made absolute against where it runs; `None` when the run may collect
/// anything (no paths given and no `testpaths`) or the paths cannot all be
/// read. `exists` says whether a path is a project file or directory.
pub fn test_paths(
    view: &View,
    root: &Path,
    config: &ProjectConfig,
    exists: &dyn Fn(&Path) -> bool,
) -> Option<Vec<PathBuf>> {
    // A command covdoctor could not read whole may give other paths. The
    // nox reader says which of its test commands have words it could not
    // read that may be paths; for the others, anything unresolved counts.
    let unread = match (&view.run.test, view.run.kind) {
        (Some(test), super::Kind::Nox) => test.unread,
        _ => !view.run.unresolved.is_empty(),
    };
    if unread {
        return None;
    }
    let base = match &view.run.cwd {
        Some((dir, _)) => root.join(dir),
        None => root.to_path_buf(),
    };
    let words: Vec<&str> = view.args.iter().map(|a| a.text.as_str()).collect();
    let paths = paths_in_args(&words, &base, exists)?;
    if !paths.is_empty() {
        return Some(paths);
    }
    // No paths: `testpaths`, when the run starts in the rootdir.
    let pytest = config.pytest.as_ref()?;
    let rootdir = pytest.source.path.parent()?;
    if pytest.testpaths.is_empty() || base != rootdir {
        return None;
    }
    let mut out = Vec::new();
    for entry in &pytest.testpaths {
        let path = path_word(entry, rootdir)?;
        if exists(&path) {
            out.push(path);
        }
    }
    // A `testpaths` none of which exists: pytest collects from the
    // rootdir.
    (!out.is_empty()).then_some(out)
}

/// The paths among pytest's arguments (`None`: one cannot be read, or an
/// option covdoctor does not know may have taken one as its value).
fn paths_in_args(
    args: &[&str],
    base: &Path,
    exists: &dyn Fn(&Path) -> bool,
) -> Option<Vec<PathBuf>> {
    let mut paths = Vec::new();
    let mut words = args.iter().copied().peekable();
    let mut after_unknown = false;
    while let Some(word) = words.next() {
        if word == "--" {
            // Everything after it is positional.
            for w in words.by_ref() {
                paths.push(path_word(w, base)?);
            }
            break;
        }
        if let Some(option) = word.strip_prefix('-').filter(|o| !o.is_empty()) {
            if NOT_PATHS.contains(&word) {
                return None;
            }
            let name = word.split_once('=').map_or(word, |(n, _)| n);
            if word.contains('=') {
                after_unknown = false;
                continue;
            }
            if name == "--cov" {
                // argparse's optional value: the next word unless it is an
                // option.
                if words.peek().is_some_and(|w| !w.starts_with('-')) {
                    words.next();
                }
                after_unknown = false;
                continue;
            }
            // `-kexpr`, `-n4`: a short option with its value attached.
            let short_with_value =
                !option.starts_with('-') && option.len() > 1 && TAKES_VALUE.contains(&&word[..2]);
            if TAKES_VALUE.contains(&name) && !short_with_value {
                words.next();
                after_unknown = false;
                continue;
            }
            after_unknown = !short_with_value && word.starts_with("--");
            continue;
        }
        let path = path_word(word, base)?;
        if exists(&path) {
            // An unknown option may have taken it as its value.
            if after_unknown {
                return None;
            }
            paths.push(path);
        }
        after_unknown = false;
    }
    Some(paths)
}

/// A positional word as a path (`tests/unit`, `tests/test_a.py::test_b`);
/// `None` for one covdoctor cannot read as a path (a glob, an expansion).
fn path_word(word: &str, base: &Path) -> Option<PathBuf> {
    let word = word.split_once("::").map_or(word, |(p, _)| p);
    if word.contains(['*', '?', '[', '$', '{', '~']) {
        return None;
    }
    let out = crate::source::normalize(&base.join(word));
    Some(out)
}

/// Whether a run that collects `paths` runs the code of `file`: not when
/// `file` is a test module (`test_*.py` or `*_test.py` in a `tests`,
/// `test` or `testing` directory) outside every path, or a `conftest.py`
/// neither above nor inside one (pytest loads the conftest files of the
/// directories it collects and of their parents). Other modules may be
/// imported by any test.
pub fn runs_file(paths: &[PathBuf], root: &Path, file: &Path) -> bool {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if name == "conftest.py" {
        let dir = file.parent().unwrap_or(file);
        return paths
            .iter()
            .any(|p| p.starts_with(dir) || dir.starts_with(p));
    }
    let rel = file.strip_prefix(root).unwrap_or(file);
    let in_tests = rel.parent().is_some_and(|d| {
        d.components().any(|c| {
            c.as_os_str()
                .to_str()
                .is_some_and(|c| crate::discover::TEST_DIRS.contains(&c))
        })
    });
    let test_module = in_tests
        && name.ends_with(".py")
        && (name.starts_with("test_") || name.ends_with("_test.py"));
    !test_module || paths.iter().any(|p| file.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_read_as_pytest_reads_its_arguments() {
        let exists = |p: &Path| {
            [
                "/p/tests",
                "/p/tests/unit",
                "/p/tests/unit/test_a.py",
                "/p/src",
            ]
            .iter()
            .any(|e| Path::new(e) == p)
        };
        let base = Path::new("/p");
        let read = |args: &[&str]| paths_in_args(args, base, &exists);
        let p = |s: &str| PathBuf::from(s);
        assert_eq!(read(&["-q", "tests/unit"]), Some(vec![p("/p/tests/unit")]));
        assert_eq!(
            read(&["tests/unit/test_a.py::test_b", "./tests/../tests"]),
            Some(vec![p("/p/tests/unit/test_a.py"), p("/p/tests")])
        );
        // Values of options, `--cov`'s optional value among them.
        assert_eq!(
            read(&["--ignore", "tests/unit", "-k", "tests"]),
            Some(vec![])
        );
        assert_eq!(
            read(&["--cov", "src", "-n4", "tests"]),
            Some(vec![p("/p/tests")])
        );
        assert_eq!(read(&["--cov", "--", "tests"]), Some(vec![p("/p/tests")]));
        // Not a path, or not readable.
        assert_eq!(read(&["-m", "slow", "nothing-here"]), Some(vec![]));
        assert_eq!(read(&["tests/test_*.py"]), None);
        assert_eq!(read(&["$TESTS"]), None);
        assert_eq!(read(&["--pyargs", "app"]), None);
        // An option covdoctor does not know may take the path.
        assert_eq!(read(&["--my-plugin-dir", "tests"]), None);
        assert_eq!(read(&["--my-flag=1", "tests"]), Some(vec![p("/p/tests")]));
    }

    #[test]
    fn test_modules_outside_the_paths_are_not_run() {
        let paths = [PathBuf::from("/p/tests/unit")];
        assert!(runs_file(
            &paths,
            Path::new("/p"),
            Path::new("/p/tests/unit/test_a.py")
        ));
        assert!(runs_file(
            &paths,
            Path::new("/p"),
            Path::new("/p/tests/unit/deep/a_test.py")
        ));
        assert!(!runs_file(
            &paths,
            Path::new("/p"),
            Path::new("/p/tests/system/test_a.py")
        ));
        // Helpers may be imported from anywhere.
        assert!(runs_file(
            &paths,
            Path::new("/p"),
            Path::new("/p/tests/system/helpers.py")
        ));
        // A module of the package named like a test may be imported.
        assert!(runs_file(
            &paths,
            Path::new("/p"),
            Path::new("/p/src/app/test_data.py")
        ));
        // conftest files above a path, or in it, are loaded.
        assert!(runs_file(
            &paths,
            Path::new("/p"),
            Path::new("/p/tests/conftest.py")
        ));
        assert!(runs_file(
            &paths,
            Path::new("/p"),
            Path::new("/p/tests/unit/sub/conftest.py")
        ));
        assert!(!runs_file(
            &paths,
            Path::new("/p"),
            Path::new("/p/tests/system/conftest.py")
        ));
        // A file given itself.
        let paths = [PathBuf::from("/p/tests/test_one.py")];
        assert!(runs_file(
            &paths,
            Path::new("/p"),
            Path::new("/p/tests/test_one.py")
        ));
        assert!(!runs_file(
            &paths,
            Path::new("/p"),
            Path::new("/p/tests/test_two.py")
        ));
    }
}
