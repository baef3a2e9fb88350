//! Which input problems can change a verdict.
//!
//! Real projects ship broken files on purpose: a test app with a syntax
//! error, parser test inputs in a bad encoding, a test package whose
//! `pyproject.toml` is invalid. Failing every run for those would make the
//! exit status useless, so a problem is an error (exit status 2) only when
//! what could not be read could change a finding:
//!
//! - a Python file whose unparsed part (the top-level statements its syntax
//!   errors sit in, or the whole file when it cannot be decoded) holds a
//!   word of an API the rules look at (a launch, a stop, a signal, coverage
//!   or pytest-cov) or the name of a project function through which a
//!   Python child can be started or a child stopped;
//! - any other file covdoctor reads (configuration, runs, requirements and
//!   lock files) of a project that has tests.
//!
//! Everything else is a warning: reported, never dropped. Test data found
//! by [`crate::discover::is_test_data`] is a warning already. `--strict`
//! (or `strict = true` in the settings) makes every problem an error.

use std::path::{Path, PathBuf};

use aho_corasick::AhoCorasick;

use crate::analyze::PythonFacts;
use crate::problem::{Problem, Severity};
use crate::source::{Files, Span};

/// Words of the APIs the analysis models, matched anywhere in the text
/// (also inside longer names: `subprocess` covers
/// `create_subprocess_exec`, `multiprocess` covers `multiprocessing`).
pub const TRIGGERS: &[&str] = &[
    // Launches.
    "subprocess",
    "Popen",
    "multiprocess",
    "ProcessPool",
    "get_context",
    "set_start_method",
    "system",
    "popen",
    "execv",
    "execl",
    "spawn",
    "fork",
    "pexpect",
    "jupyter_client",
    "KernelManager",
    "start_new_kernel",
    "start_new_async_kernel",
    "run_process",
    "open_process",
    "pytester",
    "testdir",
    "runpytest",
    "Process",
    "Pool",
    // Stops and signals.
    "kill",
    "terminate",
    "send_signal",
    "signal",
    "shutdown_kernel",
    "restart_kernel",
    "_exit",
    "atexit",
    // Coverage itself.
    "coverage",
    "pytest_cov",
    "process_startup",
    "COV_CORE",
    "COVERAGE_",
];

/// `--strict`: every problem is an error.
pub fn strict(problems: &mut [Problem]) {
    for p in problems {
        p.severity = Severity::Error;
        p.why_warning = None;
    }
}

/// Judges the problems of one project.
pub struct Judge<'a> {
    pub root: &'a Path,
    pub python_files: &'a [PathBuf],
    pub test_data: &'a [PathBuf],
    pub python: &'a PythonFacts,
    /// The project has a pytest configuration of its own.
    pub has_pytest_config: bool,
    /// `python-launchers` from the settings.
    pub launchers: &'a [String],
    pub files: &'a dyn Files,
    /// Every problem is an error.
    pub strict: bool,
}

impl Judge<'_> {
    /// Sets the severity of each of `problems`.
    pub fn judge(&self, problems: &mut [Problem]) {
        let words = self.words();
        for p in problems.iter_mut() {
            if self.strict {
                strict(std::slice::from_mut(p));
                continue;
            }
            if p.severity == Severity::Warning {
                continue;
            }
            if let Some(why) = self.why_harmless(p, &words) {
                p.demote(why);
            }
        }
    }

    /// Why `p` cannot change a verdict, if it cannot.
    fn why_harmless(&self, p: &Problem, words: &Words) -> Option<String> {
        let relative = crate::rules::relative(self.root, &p.path);
        if let Some(dir) = self.test_data.iter().find(|d| p.path.starts_with(d))
            && !is_python(&p.path)
        {
            return Some(format!(
                "{} is test data of this project (a directory under its tests with no test run of its own), so this file changes no verdict",
                crate::rules::relative(self.root, dir)
            ));
        }
        if is_python(&p.path) && self.python_files.contains(&p.path) && !is_run_file(&p.path) {
            let text = self.doubtful_text(&p.path)?;
            let aliases = Words::new(&self.aliases(&p.path, words));
            return (!words.found_in(&text) && !aliases.names_in(&text)).then(|| {
                format!(
                    "nothing in the part of {relative} that covdoctor could not read starts, stops or measures a process (no process, signal or coverage API, no call of a project function through which a Python child can start or a child stop), so it changes no finding"
                )
            });
        }
        if is_python(&p.path) && !is_run_file(&p.path) {
            return None;
        }
        if !self.has_tests() {
            return Some(format!(
                "the project at {} has no tests (no test files, no pytest configuration), so nothing it runs is measured",
                self.root.display()
            ));
        }
        None
    }

    /// The text of a Python file that did not parse or could not be read:
    /// the regions its syntax errors leave in doubt, or all of it (read
    /// lossily) when it could not be decoded. `None` when it cannot be
    /// read at all (nothing is known of it).
    fn doubtful_text(&self, path: &Path) -> Option<String> {
        let regions: Vec<(Span, &crate::source::SourceFile)> = self
            .python
            .syntax_errors
            .iter()
            .filter(|e| e.location.file.path == path)
            .map(|e| (e.unparsed, &*e.location.file))
            .collect();
        if regions.is_empty() {
            let bytes = self.files.read(path).ok()?;
            return Some(String::from_utf8_lossy(&bytes).into_owned());
        }
        let mut out = String::new();
        for (span, file) in regions {
            if let Some(text) = file.text.get(span.start..span.end) {
                out.push_str(text);
                out.push('\n');
            }
        }
        Some(out)
    }

    /// The local names the imports of a file bind to an API the rules look
    /// at or to a project launcher (`run` for `from subprocess import run`,
    /// `sp` for `import subprocess as sp`).
    fn aliases(&self, path: &Path, words: &Words) -> Vec<String> {
        let Some(e) = self
            .python
            .syntax_errors
            .iter()
            .find(|e| e.location.file.path == path)
        else {
            return Vec::new();
        };
        e.imports
            .iter()
            .filter(|(imported, _)| {
                words.triggers.is_match(imported.as_str())
                    || imported
                        .rsplit('.')
                        .next()
                        .is_some_and(|last| words.names_in(last))
            })
            .map(|(_, local)| local.clone())
            .collect()
    }

    /// Whether the project has tests: a test file or `conftest.py` by
    /// pytest's default names, or a pytest configuration.
    fn has_tests(&self) -> bool {
        self.has_pytest_config
            || self.python_files.iter().any(|p| {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default();
                name == "conftest.py"
                    || (name.starts_with("test") && name.ends_with(".py"))
                    || name.ends_with("_test.py")
            })
    }

    fn words(&self) -> Words {
        let mut names: Vec<String> = self.python.launcher_names.iter().cloned().collect();
        for l in self.launchers {
            if let Some(last) = l.rsplit(['.', ':']).next().filter(|w| !w.is_empty()) {
                names.push(last.to_string());
            }
        }
        Words::new(&names)
    }
}

/// Python files read for what they declare rather than analysed for
/// processes: a noxfile holds test runs, `setup.py` console scripts.
pub(crate) fn is_run_file(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n == "noxfile.py" || n == "setup.py")
}

fn is_python(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "py")
}

/// The trigger words (anywhere) and the project's launcher names (as whole
/// words).
pub(crate) struct Words {
    triggers: AhoCorasick,
    names: Option<AhoCorasick>,
}

impl Words {
    pub(crate) fn new(names: &[String]) -> Words {
        let names: Vec<&String> = names.iter().filter(|n| !n.is_empty()).collect();
        Words {
            triggers: AhoCorasick::new(TRIGGERS).expect("plain words build a matcher"),
            names: (!names.is_empty())
                .then(|| AhoCorasick::new(&names).ok())
                .flatten(),
        }
    }

    pub(crate) fn found_in(&self, text: &str) -> bool {
        self.triggers.is_match(text) || self.names_in(text)
    }

    /// Whether `text` holds one of the names as a whole word.
    pub(crate) fn names_in(&self, text: &str) -> bool {
        let Some(names) = &self.names else {
            return false;
        };
        let bytes = text.as_bytes();
        let ident = |b: u8| b == b'_' || b.is_ascii_alphanumeric() || b >= 0x80;
        names.find_overlapping_iter(text).any(|m| {
            let before = m.start().checked_sub(1).map(|i| bytes[i]);
            let after = bytes.get(m.end()).copied();
            !before.is_some_and(ident) && !after.is_some_and(ident)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_match_inside_names_and_launchers_only_as_words() {
        let words = Words::new(&["start_server".to_string()]);
        assert!(words.found_in("asyncio.create_subprocess_exec(x)"));
        assert!(words.found_in("    start_server(port)"));
        assert!(!words.found_in("    restart_server_now(port)"));
        assert!(!words.found_in("def test_y(:\n    assert f(1 2)\n"));
    }

    #[test]
    fn no_names_only_triggers() {
        let words = Words::new(&[]);
        assert!(words.found_in("os.kill(pid, 9)"));
        assert!(!words.found_in("x = [1, 2"));
    }
}
