//! Is a child process Python? Decided from its command line, as far as the
//! command is known statically.
//!
//! The Python analysis turns the `args` of a launch into [`Token`]s; this
//! module only looks at strings. A child counts as Python when its program is
//! `sys.executable`, a `python`/`python3`/`python3.N`/`pypy` interpreter, a
//! `*.py` script, or a console script the project declares; wrappers such as
//! `uv run`, `poetry run` or `env VAR=1` are looked through. A program that is
//! known and is none of these (`git`, `docker`, `npm`) is not Python. Anything
//! else is unknown, and no rule reports an unknown child.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

/// One element of a child's command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    Str(String),
    /// `sys.executable`.
    SysExecutable,
    /// A path computed from `__file__` (absolute).
    Path(PathBuf),
    /// An element covdoctor cannot evaluate.
    Unknown,
}

/// A command line, as far as it is known.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Command {
    pub tokens: Vec<Token>,
    /// The `executable=` argument, which replaces the program that runs.
    pub executable: Option<Token>,
}

/// What a Python child runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A script: a path as written (relative to the child's working
    /// directory) or computed.
    Script(Token),
    /// `-m module`.
    Module(String),
    /// A console script: its name and `module:function` target.
    ConsoleScript { name: String, target: String },
    /// A function run by `multiprocessing` (its module, dotted, and name).
    Function { module: PathBuf, name: String },
    /// `-c code`: the code itself.
    Code(String),
}

/// A Python child's own SIGTERM handling, found in its source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handler {
    pub location: crate::source::Location,
    pub effect: HandlerEffect,
    /// pytest-cov's `cleanup_on_sigterm()`: gone in pytest-cov 7.
    pub from_pytest_cov: bool,
    /// What it does, for messages.
    pub how: String,
}

/// What a child's SIGTERM handler does to coverage's chance to save.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandlerEffect {
    /// Ends the interpreter normally (`sys.exit`, an exception, a flag that
    /// lets the program finish): `atexit` runs and coverage saves.
    ExitsNormally,
    /// Calls `os._exit()`: nothing is saved, even with `sigterm = true`
    /// (the handler replaces coverage's), unless `patch = ["_exit"]`.
    ExitsAbruptly,
    /// Restores the default action (`signal.SIG_DFL`): the child dies at
    /// once, even with `sigterm = true`.
    DefaultAction,
    /// `signal.SIG_IGN`: SIGTERM does not stop the child.
    Ignores,
    /// Lets the program finish, which then re-raises SIGTERM with the
    /// previous handler restored: coverage saves only with `sigterm = true`.
    Reraises,
    /// A handler covdoctor cannot judge.
    Unknown,
}

/// The verdict on a child.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Child {
    Python {
        /// Why covdoctor believes it is Python (`sys.executable`,
        /// `python3`, `server.py`, `console script myapp`).
        evidence: String,
        entry: Option<Entry>,
        /// The project source file the child runs, when it is in the
        /// project.
        source: Option<PathBuf>,
        /// A SIGTERM handler installed by that source.
        handler: Option<Handler>,
        /// `false` when the child provably runs no code of the project (a
        /// `-c` snippet that imports none of its modules, `python -V`): its
        /// coverage cannot be lost.
        runs_project_code: bool,
        /// The child is `coverage run ...` (or `python -m coverage run`): it
        /// starts coverage itself, from its own configuration, whatever the
        /// parent passes it.
        measures_itself: bool,
    },
    NotPython {
        program: String,
    },
    Unknown,
}

impl Child {
    /// A Python child that may run project code and does not start
    /// coverage itself: the parent's mechanism must measure it.
    pub fn needs_parent_mechanism(&self) -> bool {
        matches!(
            self,
            Child::Python {
                runs_project_code: true,
                measures_itself: false,
                ..
            }
        )
    }

    /// A Python child that may run project code: the only kind whose
    /// coverage can be lost.
    pub fn is_python(&self) -> bool {
        matches!(
            self,
            Child::Python {
                runs_project_code: true,
                ..
            }
        )
    }
}

static INTERPRETER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(python|pypy)(\d+(\.\d+)*)?[tmd]?(\.exe)?$").expect("valid regex")
});

/// Console scripts of widely used Python packages: a child started with one
/// of these runs Python code from the same environment.
const PYTHON_TOOLS: &[&str] = &[
    "coverage",
    "celery",
    "daphne",
    "django-admin",
    "flask",
    "gunicorn",
    "hypercorn",
    "pytest",
    "py.test",
    "uvicorn",
];

/// Wrappers that run the command that follows them, with the number of
/// fixed words they take (`uv run`).
const RUNNERS: &[&str] = &["uv", "poetry", "pdm", "pipenv", "hatch", "rye"];

/// Classifies a command. `scripts` are the project's console scripts.
pub fn classify(command: &Command, scripts: &BTreeMap<String, String>) -> Child {
    let mut tokens: &[Token] = &command.tokens;
    if let Some(exe) = &command.executable {
        // `executable=` replaces the program; argv[0] is only its name.
        let mut owned = vec![exe.clone()];
        owned.extend(tokens.iter().skip(1).cloned());
        return classify(
            &Command {
                tokens: owned,
                executable: None,
            },
            scripts,
        );
    }
    loop {
        let Some(first) = tokens.first() else {
            return Child::Unknown;
        };
        let word = match first {
            Token::SysExecutable => {
                return interpreter("sys.executable", &tokens[1..]);
            }
            Token::Unknown => return Child::Unknown,
            Token::Path(p) => p.to_string_lossy().into_owned(),
            Token::Str(s) => s.clone(),
        };
        let base = Path::new(&word)
            .file_name()
            .map(|b| b.to_string_lossy().into_owned())
            .unwrap_or_else(|| word.clone());
        if INTERPRETER.is_match(&base) {
            return interpreter(&base, &tokens[1..]);
        }
        if base.ends_with(".py") {
            return python(&base, Some(Entry::Script(first.clone())));
        }
        if let Some(target) = scripts.get(&base) {
            return python(
                &format!("console script `{base}`"),
                Some(Entry::ConsoleScript {
                    name: base.clone(),
                    target: target.clone(),
                }),
            );
        }
        if PYTHON_TOOLS.contains(&base.as_str()) {
            let mut child = python(&base, None);
            if base == "coverage"
                && let Child::Python {
                    measures_itself, ..
                } = &mut child
            {
                *measures_itself = matches!(tokens.get(1), Some(Token::Str(s)) if s == "run");
            }
            return child;
        }
        // Look through wrappers to the command they run.
        if RUNNERS.contains(&base.as_str())
            && matches!(tokens.get(1), Some(Token::Str(s)) if s == "run")
        {
            tokens = skip_options(&tokens[2..]);
            continue;
        }
        if base == "env" {
            tokens = &tokens[1..];
            while let Some(Token::Str(s)) = tokens.first() {
                if s.starts_with('-') || s.contains('=') {
                    tokens = &tokens[1..];
                } else {
                    break;
                }
            }
            continue;
        }
        if base == "nice" || base == "stdbuf" || base == "xvfb-run" {
            tokens = skip_options(&tokens[1..]);
            continue;
        }
        if base == "timeout" {
            tokens = skip_options(&tokens[1..]);
            // The duration.
            tokens = tokens.get(1..).unwrap_or(&[]);
            continue;
        }
        if word.is_empty() {
            return Child::Unknown;
        }
        return Child::NotPython { program: base };
    }
}

fn python(evidence: &str, entry: Option<Entry>) -> Child {
    Child::Python {
        evidence: evidence.to_string(),
        entry,
        source: None,
        handler: None,
        runs_project_code: true,
        measures_itself: false,
    }
}

/// Refines the verdict on an interpreter from its arguments: `python -V`,
/// `--version` or `--help` runs no project code; `python -m coverage run`
/// measures itself.
fn interpreter(evidence: &str, args: &[Token]) -> Child {
    let entry = interpreter_entry(args);
    let mut child = python(evidence, entry.clone());
    let informational = args
        .iter()
        .take_while(|t| matches!(t, Token::Str(s) if s.starts_with('-')))
        .any(|t| matches!(t, Token::Str(s) if matches!(s.as_str(), "-V" | "-VV" | "--version" | "-h" | "--help" | "-?")));
    if let Child::Python {
        runs_project_code,
        measures_itself,
        ..
    } = &mut child
    {
        if informational && entry.is_none() {
            *runs_project_code = false;
        }
        if let Some(Entry::Module(m)) = &entry
            && m == "coverage"
        {
            *measures_itself = runs_coverage_run(args);
        }
    }
    child
}

/// `coverage run ...` among the arguments (after `-m coverage`, or after
/// the `coverage` console script).
fn runs_coverage_run(args: &[Token]) -> bool {
    let mut words = args
        .iter()
        .skip_while(|t| !matches!(t, Token::Str(s) if s == "coverage" || s == "-mcoverage"));
    words.next();
    matches!(words.next(), Some(Token::Str(s)) if s == "run")
}

fn skip_options(tokens: &[Token]) -> &[Token] {
    let n = tokens
        .iter()
        .take_while(|t| matches!(t, Token::Str(s) if s.starts_with('-')))
        .count();
    &tokens[n..]
}

/// What an interpreter runs, from its arguments: `-m mod`, a script, or
/// nothing known (`-c code`, stdin, unknown words).
fn interpreter_entry(args: &[Token]) -> Option<Entry> {
    let mut i = 0;
    while let Some(t) = args.get(i) {
        match t {
            Token::Str(s) if s == "-m" => {
                return match args.get(i + 1) {
                    Some(Token::Str(m)) => Some(Entry::Module(m.clone())),
                    _ => None,
                };
            }
            Token::Str(s) if s.starts_with("-m") && s.len() > 2 => {
                return Some(Entry::Module(s[2..].to_string()));
            }
            Token::Str(s) if s == "-c" => {
                return match args.get(i + 1) {
                    Some(Token::Str(code)) => Some(Entry::Code(code.clone())),
                    _ => None,
                };
            }
            Token::Str(s) if s.starts_with("-c") && s.len() > 2 => {
                return Some(Entry::Code(s[2..].to_string()));
            }
            Token::Str(s) if s == "-" => return None,
            // Options that take a separate argument.
            Token::Str(s) if s == "-W" || s == "-X" || s == "--check-hash-based-pycs" => i += 2,
            Token::Str(s) if s.starts_with('-') => i += 1,
            Token::Unknown => return None,
            other => return Some(Entry::Script(other.clone())),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(words: &[&str]) -> Command {
        Command {
            tokens: words.iter().map(|w| Token::Str(w.to_string())).collect(),
            executable: None,
        }
    }

    fn is_python(words: &[&str]) -> bool {
        let mut scripts = BTreeMap::new();
        scripts.insert("myserver".to_string(), "app.server:main".to_string());
        classify(&strs(words), &scripts).is_python()
    }

    #[test]
    fn interpreters_scripts_and_console_scripts_are_python() {
        assert!(is_python(&["python", "-m", "app"]));
        assert!(is_python(&["python3.12", "x.py"]));
        assert!(is_python(&["/usr/bin/python3", "x.py"]));
        assert!(is_python(&["server.py"]));
        assert!(is_python(&["myserver", "--port", "1"]));
        assert!(is_python(&["uv", "run", "--frozen", "python", "x.py"]));
        assert!(is_python(&["env", "A=1", "python", "x.py"]));
        assert!(is_python(&["timeout", "5", "python", "x.py"]));
    }

    #[test]
    fn other_programs_are_not_python() {
        for words in [
            &["git", "status"][..],
            &["docker", "run", "x"],
            &["npm", "start"],
            &["uv", "pip", "list"],
        ] {
            assert!(!is_python(words), "{words:?}");
            assert!(matches!(
                classify(&strs(words), &BTreeMap::new()),
                Child::NotPython { .. }
            ));
        }
        assert_eq!(
            classify(&Command::default(), &BTreeMap::new()),
            Child::Unknown
        );
        let unknown = Command {
            tokens: vec![Token::Unknown, Token::Str("x.py".into())],
            executable: None,
        };
        assert_eq!(classify(&unknown, &BTreeMap::new()), Child::Unknown);
    }

    #[test]
    fn entries() {
        let entry = |c: Command| match classify(&c, &BTreeMap::new()) {
            Child::Python { entry, .. } => entry,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            entry(strs(&["python", "-u", "-m", "app.server"])),
            Some(Entry::Module("app.server".into()))
        );
        assert_eq!(
            entry(strs(&["python", "-W", "ignore", "s.py"])),
            Some(Entry::Script(Token::Str("s.py".into())))
        );
        assert_eq!(
            entry(strs(&["python", "-c", "pass"])),
            Some(Entry::Code("pass".into()))
        );
        assert_eq!(entry(strs(&["python", "-"])), None);
        let exe = Command {
            tokens: vec![Token::Str("anything".into()), Token::Str("s.py".into())],
            executable: Some(Token::SysExecutable),
        };
        assert_eq!(entry(exe), Some(Entry::Script(Token::Str("s.py".into()))));
    }
}
