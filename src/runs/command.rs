//! What one command of a run does, for coverage: install packages, start
//! pytest (under `coverage run` or not), set a variable, write a
//! `process_startup()` hook, or hand over to tox, nox or make.

use std::path::Path;

use super::Test;
use super::shell::{self, Word};
use crate::config::pytest::Arg;
use crate::config::versions::{Requirement, Selected};
use crate::source::{Location, Source, Span};

/// What a command installs.
#[derive(Clone, Debug, Default)]
pub struct Install {
    pub requirements: Vec<Requirement>,
    /// Requirements files (`-r`, `-c`), resolved against the directory the
    /// command runs in.
    pub files: Vec<std::path::PathBuf>,
    /// Lock files consumed (`uv.lock`, ...).
    pub locks: Vec<String>,
    pub project: Option<Selected>,
}

#[derive(Clone, Debug)]
pub enum Action {
    Install(Install),
    Pytest(Test),
    SetEnv(String, String),
    /// Writes a `.pth` or `sitecustomize.py` calling `process_startup()`.
    StartupHook,
    Tox(Vec<String>),
    Nox(Vec<String>),
    Make(Vec<String>),
    Unresolved(String),
}

#[derive(Clone, Debug)]
pub struct Step {
    pub action: Action,
    pub location: Location,
}

impl Step {
    /// Points the step, and every place inside it, at `to` (for text that
    /// does not stand in the file as written).
    pub fn relocate(&mut self, to: &Location) {
        self.location = to.clone();
        match &mut self.action {
            Action::Pytest(test) => {
                test.location = to.clone();
                for a in &mut test.args {
                    a.location = to.clone();
                }
                if let Some(c) = &mut test.coverage_run {
                    *c = to.clone();
                }
            }
            Action::Install(install) => {
                for r in &mut install.requirements {
                    r.location = Some(to.clone());
                }
            }
            _ => {}
        }
    }
}

/// Reads the commands of a shell text found at `offset` in `source`.
/// `base` is the directory relative paths (`-r requirements.txt`) start
/// from; `root` names files in messages.
pub fn steps(source: &Source, text: &str, offset: usize, base: &Path, root: &Path) -> Vec<Step> {
    let mut out = Vec::new();
    // A hook written by an `echo`/`printf`/heredoc anywhere in the text.
    if text.contains("process_startup") && (text.contains(".pth") || text.contains("sitecustomize"))
    {
        let at = offset + text.find("process_startup").unwrap_or(0);
        out.push(Step {
            action: Action::StartupHook,
            location: Location::new(source, Span::new(at, at + "process_startup".len())),
        });
    }
    // Variables the script sets, substituted in later words.
    let mut vars = std::collections::BTreeMap::new();
    for command in shell::commands(text, offset) {
        let command = shell::substitute(&command, &vars);
        // `cd ../other-checkout`: what follows runs another project.
        if leaves_project(&command, base, root) {
            break;
        }
        for step in classify(source, &command, base, root) {
            if let Action::SetEnv(k, v) = &step.action {
                vars.insert(k.clone(), v.clone());
            }
            out.push(step);
        }
    }
    out
}

/// `cd DIR` to a directory outside the project (`..`, `/tmp/x`,
/// `$HOME/...`).
pub fn leaves_project(command: &[Word], base: &Path, root: &Path) -> bool {
    let [cd, dir] = command else {
        return false;
    };
    if cd.text != "cd" {
        return false;
    }
    // The CI workspace is the project's checkout.
    let mut text = dir.text.clone();
    for workspace in [
        "${GITHUB_WORKSPACE}",
        "$GITHUB_WORKSPACE",
        "${{ github.workspace }}",
        "$CI_PROJECT_DIR",
        "${CI_PROJECT_DIR}",
    ] {
        text = text.replace(workspace, ".");
    }
    if text.contains('$') {
        return false;
    }
    let target = crate::source::normalize(&base.join(&text));
    !target.starts_with(root)
}

/// The words of a command without leading `VAR=value` assignments and
/// wrappers (`env`, `sudo`, `time`, `uv run`, `poetry run`...); the
/// assignments and the lock files the wrappers consume come back too.
fn unwrap(words: &[Word]) -> (Vec<(String, String)>, Vec<String>, &[Word]) {
    let mut env = Vec::new();
    let mut locks = Vec::new();
    let mut rest = words;
    while let Some(first) = rest.first() {
        let name = shell::program(&first.text);
        if let Some((k, v)) = first.text.split_once('=')
            && !k.is_empty()
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            env.push((k.to_string(), v.to_string()));
            rest = &rest[1..];
            continue;
        }
        match name {
            "env" | "sudo" | "time" | "xvfb-run" | "exec" | "command" | "nice" => {
                rest = &rest[1..];
                while rest.first().is_some_and(|w| w.text.starts_with('-')) {
                    rest = &rest[1..];
                }
            }
            "uv" | "poetry" | "pdm" | "pipenv" | "hatch" | "rye"
                if rest.get(1).is_some_and(|w| w.text == "run") =>
            {
                match name {
                    "uv" => locks.push("uv.lock".to_string()),
                    "poetry" => locks.push("poetry.lock".to_string()),
                    "pdm" => locks.push("pdm.lock".to_string()),
                    "pipenv" => locks.push("Pipfile.lock".to_string()),
                    _ => {}
                }
                rest = &rest[2..];
                // `uv run --with x --extra test pytest`: options and their
                // values before the program.
                while let Some(w) = rest.first() {
                    if !w.text.starts_with('-') {
                        break;
                    }
                    let takes_value = !w.text.contains('=')
                        && matches!(
                            w.text.as_str(),
                            "--with"
                                | "--extra"
                                | "--group"
                                | "--python"
                                | "-p"
                                | "--env"
                                | "-e"
                                | "--directory"
                                | "--project"
                                | "--package"
                        );
                    rest = &rest[if takes_value { 2 } else { 1 }.min(rest.len())..];
                }
                // hatch's `env:script` is a script name, not a program.
                if name == "hatch"
                    && let Some(w) = rest.first()
                    && w.text.contains(':')
                {
                    return (env, locks, &[]);
                }
            }
            _ => break,
        }
    }
    (env, locks, rest)
}

/// The arguments of a test command: `$@`, `$*` (the script's own
/// arguments) dropped.
fn args(source: &Source, words: &[Word]) -> Vec<Arg> {
    words
        .iter()
        .filter(|w| !matches!(w.text.as_str(), "$@" | "$*" | "${@}" | "${*}"))
        .map(|w| arg(source, w))
        .collect()
}

fn arg(source: &Source, w: &Word) -> Arg {
    Arg {
        text: w.text.clone(),
        location: Location::new(source, w.span),
    }
}

fn span_of(words: &[Word]) -> Span {
    // Words need not be in the order of the file (a nox session's
    // `session.run("pytest", *ARGS)` with `ARGS` defined above it).
    let start = words.iter().map(|w| w.span.start).min();
    let end = words.iter().map(|w| w.span.end).max();
    match (start, end) {
        (Some(a), Some(b)) => Span::new(a, b),
        _ => Span::empty(0),
    }
}

/// Classifies one simple command.
pub fn classify(source: &Source, words: &[Word], base: &Path, root: &Path) -> Vec<Step> {
    let location = Location::new(source, span_of(words));
    let step = |action| Step {
        action,
        location: location.clone(),
    };
    let mut out = Vec::new();
    // `export A=b` and `set -x` style lines.
    if let Some(first) = words.first()
        && first.text == "export"
    {
        for w in &words[1..] {
            if let Some((k, v)) = w.text.split_once('=') {
                out.push(step(Action::SetEnv(k.to_string(), v.to_string())));
            }
        }
        return out;
    }
    let (env, locks, rest) = unwrap(words);
    for (k, v) in env {
        out.push(step(Action::SetEnv(k, v)));
    }
    if !locks.is_empty() {
        out.push(step(Action::Install(Install {
            locks,
            ..Install::default()
        })));
    }
    let Some(first) = rest.first() else {
        return out;
    };
    let name = shell::program(&first.text);
    // `python -m X ...` is X.
    let (name, rest): (&str, &[Word]) = if shell::is_python(&first.text) {
        let mut i = 1;
        while rest
            .get(i)
            .is_some_and(|w| w.text.starts_with('-') && w.text != "-m" && !w.text.starts_with("-m"))
        {
            i += 1;
        }
        match rest.get(i) {
            Some(w) if w.text == "-m" => match rest.get(i + 1) {
                Some(module) => (module.text.as_str(), &rest[i + 1..]),
                None => return out,
            },
            Some(w) if w.text.starts_with("-m") => (&w.text[2..], &rest[i..]),
            _ => return out,
        }
    } else {
        (name, rest)
    };
    match name {
        "pytest" | "py.test" => out.push(step(Action::Pytest(Test {
            args: args(source, &rest[1..]),
            coverage_run: None,
            location: location.clone(),
            unread: false,
        }))),
        "coverage" if rest.get(1).is_some_and(|w| w.text == "run") => {
            // `coverage run [options] -m pytest args`.
            let mut i = 2;
            while i < rest.len() && rest[i].text != "-m" {
                i += 1;
            }
            if rest
                .get(i + 1)
                .is_some_and(|w| matches!(w.text.as_str(), "pytest" | "py.test"))
            {
                out.push(step(Action::Pytest(Test {
                    args: args(source, &rest[i + 2..]),
                    coverage_run: Some(Location::new(source, span_of(&rest[..2]))),
                    location: location.clone(),
                    unread: false,
                })));
            } else if rest
                .get(2)
                .is_some_and(|w| program(&w.text).contains("pytest"))
            {
                // `coverage run $(which pytest) ...`, `coverage run pytest`.
                out.push(step(Action::Pytest(Test {
                    args: args(source, &rest[3..]),
                    coverage_run: Some(Location::new(source, span_of(&rest[..2]))),
                    location: location.clone(),
                    unread: false,
                })));
            }
        }
        "pip" | "pip3" => out.extend(pip_install(source, &rest[1..], base, root).map(step)),
        "uv" => match rest.get(1).map(|w| w.text.as_str()) {
            Some("pip") => out.extend(pip_install(source, &rest[2..], base, root).map(step)),
            Some("sync") => out.push(step(Action::Install(Install {
                locks: vec!["uv.lock".to_string()],
                project: Some(selection(&rest[2..], true)),
                ..Install::default()
            }))),
            _ => {}
        },
        "poetry" | "pdm"
            if rest
                .get(1)
                .is_some_and(|w| matches!(w.text.as_str(), "install" | "sync")) =>
        {
            out.push(step(Action::Install(Install {
                locks: vec![format!("{name}.lock")],
                project: Some(selection(&rest[2..], true)),
                ..Install::default()
            })));
        }
        "pipenv"
            if rest
                .get(1)
                .is_some_and(|w| w.text == "sync" || w.text == "install") =>
        {
            out.push(step(Action::Install(Install {
                locks: vec!["Pipfile.lock".to_string()],
                ..Install::default()
            })));
        }
        "tox" => out.push(step(Action::Tox(option_values(
            &rest[1..],
            &["-e", "--env"],
        )))),
        "nox" => out.push(step(Action::Nox(option_values(
            &rest[1..],
            &["-s", "--session", "--sessions", "-e"],
        )))),
        "make" | "gmake" => out.push(step(Action::Make(
            rest[1..]
                .iter()
                .filter(|w| !w.text.starts_with('-') && !w.text.contains('='))
                .map(|w| w.text.clone())
                .collect(),
        ))),
        _ if first.expands && name == first.text => out.push(step(Action::Unresolved(format!(
            "`{}` is a shell expansion",
            first.text
        )))),
        _ => {}
    }
    out
}

use shell::program;

/// The values of `-e a,b` / `-ea` / `--env=a` style options, comma-split.
fn option_values(words: &[Word], flags: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let t = &words[i].text;
        if flags.contains(&t.as_str()) {
            if let Some(v) = words.get(i + 1) {
                out.extend(v.text.split(',').map(|s| s.trim().to_string()));
            }
            i += 2;
            continue;
        }
        for f in flags {
            if let Some(v) = t.strip_prefix(&format!("{f}=")) {
                out.extend(v.split(',').map(|s| s.trim().to_string()));
            }
        }
        i += 1;
    }
    out.retain(|s| !s.is_empty());
    out
}

/// `--extra x`, `--all-extras`, `--group g`, `--with g` (Poetry), `-E x`;
/// a sync installs the default `dev` group unless told not to.
fn selection(words: &[Word], sync: bool) -> Selected {
    let mut s = Selected::default();
    let mut default_groups = sync;
    let mut i = 0;
    while i < words.len() {
        let t = words[i].text.as_str();
        let value = |i: usize| words.get(i + 1).map(|w| w.text.clone());
        match t {
            "--all-extras" | "--all-groups" | "-G:all" | "--dev" => s.all = true,
            "--extra" | "-E" | "--extras" => {
                s.extras.extend(
                    value(i)
                        .into_iter()
                        .flat_map(|v| v.split([',', ' ']).map(str::to_string).collect::<Vec<_>>()),
                );
                i += 1;
            }
            "--group" | "--with" | "-G" | "--only-group" => {
                s.groups.extend(
                    value(i)
                        .into_iter()
                        .flat_map(|v| v.split(',').map(str::to_string).collect::<Vec<_>>()),
                );
                i += 1;
            }
            "--no-dev" | "--no-default-groups" | "--only" => default_groups = false,
            _ => {
                for (prefix, extras) in
                    [("--extra=", true), ("--group=", false), ("--with=", false)]
                {
                    if let Some(v) = t.strip_prefix(prefix) {
                        let list = v.split(',').map(str::to_string);
                        if extras {
                            s.extras.extend(list);
                        } else {
                            s.groups.extend(list);
                        }
                    }
                }
            }
        }
        i += 1;
    }
    if default_groups {
        s.groups.push("dev".to_string());
        s.groups.push("test".to_string());
    }
    s
}

/// `pip install` arguments: requirement specifiers, `-r`/`-c` files, the
/// project (`.`, `-e .[test]`) and `--group`.
fn pip_install(source: &Source, words: &[Word], base: &Path, root: &Path) -> Option<Action> {
    if words.first().map(|w| w.text.as_str()) != Some("install") {
        return None;
    }
    let mut install = Install::default();
    let mut i = 1;
    let what = crate::rules::relative(root, &source.path);
    while i < words.len() {
        let w = &words[i];
        let t = w.text.as_str();
        let next = words.get(i + 1);
        match t {
            "-r" | "--requirement" | "-c" | "--constraint" => {
                if let Some(file) = next {
                    install
                        .files
                        .extend(requirements_path(&file.text, base, root));
                }
                i += 2;
                continue;
            }
            "-e" | "--editable" => {
                if let Some(target) = next {
                    project_target(&target.text, &mut install);
                }
                i += 2;
                continue;
            }
            "--group" => {
                if let Some(g) = next {
                    let project = install.project.get_or_insert_with(Selected::default);
                    project
                        .groups
                        .push(g.text.rsplit(':').next().unwrap_or("").to_string());
                }
                i += 2;
                continue;
            }
            // Options that take a value.
            "-i" | "--index-url" | "--extra-index-url" | "-f" | "--find-links" | "--python"
            | "-t" | "--target" | "--prefix" | "--root" | "--platform" | "--python-version" => {
                i += 2;
                continue;
            }
            _ => {}
        }
        if let Some(g) = t.strip_prefix("--group=") {
            let project = install.project.get_or_insert_with(Selected::default);
            project
                .groups
                .push(g.rsplit(':').next().unwrap_or("").to_string());
        } else if let Some(target) = t
            .strip_prefix("-e")
            .or_else(|| t.strip_prefix("--editable="))
            .filter(|t| !t.is_empty())
        {
            project_target(target, &mut install);
        } else if let Some(file) = t
            .strip_prefix("-r")
            .or_else(|| t.strip_prefix("--requirement="))
        {
            if !file.is_empty() {
                install.files.extend(requirements_path(file, base, root));
            }
        } else if !t.starts_with('-')
            && !project_target(t, &mut install)
            && let Some(r) = Requirement::parse(
                t,
                &format!("`pip install` in {what}"),
                Some(Location::new(source, w.span)),
            )
        {
            install.requirements.push(r);
        }
        i += 1;
    }
    Some(Action::Install(install))
}

/// `.`, `.[test,cov]`, `./`, `".[dev]"`: the project with extras.
fn project_target(text: &str, install: &mut Install) -> bool {
    let (path, extras) = match text.split_once('[') {
        Some((p, e)) => (p, e.trim_end_matches(']')),
        None => (text, ""),
    };
    if !matches!(path, "." | "./" | "" | "{toxinidir}" | "{tox_root}")
        || (path.is_empty() && extras.is_empty())
    {
        return false;
    }
    let project = install.project.get_or_insert_with(Selected::default);
    project.extras.extend(
        extras
            .split(',')
            .map(|e| e.trim().to_string())
            .filter(|e| !e.is_empty()),
    );
    true
}

/// The path of a `-r` file named in a command (it may be outside the
/// project: a monorepo's shared requirements; it is only read).
fn requirements_path(name: &str, base: &Path, root: &Path) -> Option<std::path::PathBuf> {
    if name.contains('$') {
        return None;
    }
    let name = name
        .replace("{toxinidir}", &root.to_string_lossy())
        .replace("{tox_root}", &root.to_string_lossy())
        .replace("{/}", "/");
    Some(crate::source::normalize(&base.join(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Vec<Action> {
        let source = std::sync::Arc::new(crate::source::SourceFile::new(
            "/p/ci.yml".into(),
            text.to_string(),
        ));
        steps(&source, text, 0, Path::new("/p"), Path::new("/p"))
            .into_iter()
            .map(|s| s.action)
            .collect()
    }

    #[test]
    fn installs_and_tests() {
        let actions = run(
            "python -m pip install -U pip 'pytest-cov>=6' -e .[test] && COVERAGE_CORE=sysmon python -m pytest --cov=pkg -x",
        );
        let Action::Install(install) = &actions[0] else {
            panic!("{actions:?}")
        };
        assert_eq!(install.requirements.len(), 1);
        assert_eq!(install.requirements[0].text, "pytest-cov>=6");
        assert_eq!(install.project.as_ref().unwrap().extras, vec!["test"]);
        assert!(matches!(&actions[1], Action::SetEnv(k, _) if k == "COVERAGE_CORE"));
        let Action::Pytest(test) = &actions[2] else {
            panic!()
        };
        assert_eq!(test.args[0].text, "--cov=pkg");
        assert!(test.coverage_run.is_none());
    }

    #[test]
    fn coverage_run_and_wrappers() {
        let actions = run("uv run --extra test coverage run -p -m pytest -q tests/");
        assert!(matches!(&actions[0], Action::Install(i) if i.locks == ["uv.lock"]));
        let Action::Pytest(test) = &actions[1] else {
            panic!("{actions:?}")
        };
        assert!(test.coverage_run.is_some());
        assert_eq!(test.args.len(), 2);
        let actions = run("tox -e py312-cov,lint\nnox -s tests\nmake test V=1");
        assert!(matches!(&actions[0], Action::Tox(e) if e == &["py312-cov", "lint"]));
        assert!(matches!(&actions[1], Action::Nox(s) if s == &["tests"]));
        assert!(matches!(&actions[2], Action::Make(t) if t == &["test"]));
    }

    #[test]
    fn startup_hooks_and_syncs() {
        let actions = run(
            "echo 'import coverage; coverage.process_startup()' > $SITE/cov.pth\nuv sync --group test",
        );
        assert!(matches!(actions[0], Action::StartupHook));
        let Action::Install(i) = actions.last().unwrap() else {
            panic!()
        };
        assert!(
            i.project
                .as_ref()
                .unwrap()
                .groups
                .contains(&"test".to_string())
        );
    }
}
