//! tox environments: `tox.ini`, `tox.toml`, and `[tool.tox]` in
//! pyproject.toml (the `legacy_tox_ini` string, or the native TOML form).
//!
//! As tox 4 reads them: the environments are `env_list` (factor
//! expansion `py{311,312}-{cov,nocov}`) plus every `[testenv:NAME]`
//! section; a key missing in `[testenv:NAME]` comes from `[testenv]`
//! (`[env.NAME]` and `[env_run_base]` in TOML). In `deps`, `commands`,
//! `extras` and `set_env`, a line `cov: pytest-cov` holds only for envs with
//! that factor (`!cov:` for those without, `py312-cov:` for both), and a
//! line `{[section]key}` stands for that key's lines. `{posargs}` is
//! dropped, `{posargs:default}` gives its default.

use std::path::Path;

use super::command::{self, Action, Step};
use super::shell::Word;
use super::{Kind, Run};
use crate::config::coverage::FileLoader;
use crate::config::ini::IniFile;
use crate::config::toml as tomlx;
use crate::config::versions::{Requirement, Selected};
use crate::source::{Location, Source, Span};

/// How many `{[section]key}` substitutions deep, and how many envs at most.
const MAX_DEPTH: usize = 8;
const MAX_ENVS: usize = 256;
/// How many logical lines one value may expand to through `{[section]key}`
/// substitutions: a bound on work, far above any real tox.ini.
const MAX_LINES: usize = 4096;

/// The envs of the project's tox configuration, and the envs `named` by
/// commands elsewhere (`tox -e py` in CI) that it can build.
///
/// tox 4 takes the first of: tox.ini, setup.cfg with `[tox:tox]`,
/// pyproject.toml with `[tool.tox]` (native, or its `legacy_tox_ini`
/// string), tox.toml.
pub fn runs(root: &Path, loader: &mut dyn FileLoader, named: &[String]) -> Vec<Run> {
    if let Some(Ok(source)) = loader.load(&root.join("tox.ini"))
        && let Ok(ini) = loader.ini(&source)
    {
        return from_ini(root, &source, &ini, named, "tox");
    }
    if let Some(Ok(source)) = loader.load(&root.join("setup.cfg"))
        && let Ok(ini) = loader.ini(&source)
        && ini.section("tox:tox").is_some()
    {
        return from_ini(root, &source, &ini, named, "tox:tox");
    }
    if let Some(Ok(source)) = loader.load(&root.join("pyproject.toml"))
        && let Ok(doc) = loader.toml(&source)
        && let Some(tox) = tomlx::table_at(&doc, &["tool", "tox"])
    {
        if let Some(legacy) = tox.get("legacy_tox_ini")
            && let Some(text) = legacy.as_str()
        {
            // The string's lines stand in the file as written when it is a
            // multi-line literal; elsewhere findings point at its start.
            let span = tomlx::item_span(legacy).unwrap_or_default();
            let raw = source.slice(span);
            let offset = raw
                .find(text.trim_start_matches('\n'))
                .map(|at| span.start + at);
            let ini = match crate::config::ini::parse(text.trim_start_matches('\n')) {
                Ok(ini) => ini,
                Err(e) => {
                    // tox stops: "LegacyToml failed loading pyproject.toml
                    // due to Source contains parsing errors".
                    let at = match offset {
                        Some(offset) => Span::new(e.span.start + offset, e.span.end + offset),
                        None => Span::empty(span.start),
                    };
                    loader.report(crate::problem::Problem::invalid(
                        Location::new(&source, at),
                        format!(
                            "tox cannot read [tool.tox] legacy_tox_ini (\"LegacyToml failed loading pyproject.toml\"): invalid INI: {}",
                            e.message
                        ),
                    ));
                    return Vec::new();
                }
            };
            return match offset {
                Some(offset) => from_ini(root, &source, &shift(&ini, offset), named, "tox"),
                None => from_ini(root, &source, &collapse(&ini, span.start), named, "tox"),
            };
        }
        return from_toml(root, &source, tox, named);
    }
    if let Some(Ok(source)) = loader.load(&root.join("tox.toml"))
        && let Ok(doc) = loader.toml(&source)
    {
        return from_toml(root, &source, doc.as_item(), named);
    }
    Vec::new()
}

/// The INI spans moved by `offset` bytes.
fn shift(ini: &IniFile, offset: usize) -> IniFile {
    let mv = |s: Span| Span::new(s.start + offset, s.end + offset);
    let mut out = ini.clone();
    for section in &mut out.sections {
        section.header_span = mv(section.header_span);
        section.end += offset;
        for e in &mut section.entries {
            e.key_span = mv(e.key_span);
            e.value_span = mv(e.value_span);
            e.span = mv(e.span);
        }
    }
    out
}

/// Every span at `at` (the text is not in the file verbatim): values can
/// no longer be sliced from the file, so entries keep their own text and
/// point at `at`.
fn collapse(ini: &IniFile, at: usize) -> IniFile {
    let mut out = ini.clone();
    for section in &mut out.sections {
        section.header_span = Span::empty(at);
        section.end = at;
        for e in &mut section.entries {
            e.key_span = Span::empty(at);
            e.value_span = Span::empty(at);
            e.span = Span::empty(at);
        }
    }
    out
}

/// An env list split on commas and newlines outside braces:
/// `{py39,py310}-cov, lint` is two items.
fn split_top(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' | '\n' if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

/// `{posargs}` and the braces of `{posargs:default}` blanked with spaces,
/// so that the line keeps its offsets and the default its words.
fn blank_posargs(text: &str) -> String {
    let mut out = text.replace("{posargs}", "         ");
    while let Some(at) = out.find("{posargs:") {
        let close = out[at..].find('}').map(|c| at + c);
        out.replace_range(at..at + "{posargs:".len(), "         ");
        if let Some(close) = close {
            out.replace_range(close..close + 1, " ");
        }
    }
    out
}

/// Every `{env:NAME:default}` in a line, substituted like
/// [`env_substitute`] (bounded).
fn expand_env(text: &str, set_env: &[(String, String)]) -> String {
    let mut out = text.to_string();
    for _ in 0..16 {
        let Some(at) = out.find("{env:") else { break };
        let mut depth = 0usize;
        let mut close = None;
        for (i, c) in out[at..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(at + i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(close) = close else { break };
        let value = env_substitute(&out[at..=close], set_env);
        out.replace_range(at..=close, &value);
    }
    out
}

/// `{env:NAME:default}` / `{env:NAME}` as the env's `set_env` gives it,
/// else the default (a line without it is returned as it is).
fn env_substitute(text: &str, set_env: &[(String, String)]) -> String {
    let Some(inner) = text.strip_prefix("{env:").and_then(|r| r.strip_suffix('}')) else {
        return text.to_string();
    };
    let (name, default) = inner.split_once(':').unwrap_or((inner, ""));
    set_env
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| default.to_string())
}

/// A `change_dir` value as a directory relative to the root; `None` for
/// the root itself and for what cannot be read (`{env:...}`).
fn change_dir(text: &str) -> Option<std::path::PathBuf> {
    let mut t = text.trim().to_string();
    for root in ["{toxinidir}", "{tox_root}"] {
        t = t.replace(root, ".");
    }
    t = t.replace("{/}", "/");
    if t.contains(['{', '$']) {
        return None;
    }
    let dir = crate::source::normalize(std::path::Path::new(&t));
    let dir = dir.strip_prefix(".").unwrap_or(&dir).to_path_buf();
    (!dir.as_os_str().is_empty() && dir != std::path::Path::new(".")).then_some(dir)
}

/// `py{311,312}-{cov,nocov}` → four names. Bounded.
pub fn expand(pattern: &str) -> Vec<String> {
    let Some(open) = pattern.find('{') else {
        return vec![pattern.to_string()];
    };
    let Some(close) = pattern[open..].find('}').map(|c| open + c) else {
        return vec![pattern.to_string()];
    };
    let mut out = Vec::new();
    for alt in pattern[open + 1..close].split(',') {
        let alt = alt.trim();
        // `3{10-12}` style ranges.
        let alts: Vec<String> = match alt.split_once('-') {
            Some((a, b)) if a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok() => {
                let (a, b) = (a.parse::<u32>().unwrap_or(0), b.parse::<u32>().unwrap_or(0));
                (a..=b.min(a + 50)).map(|n| n.to_string()).collect()
            }
            _ => vec![alt.to_string()],
        };
        for alt in alts {
            for rest in expand(&pattern[close + 1..]) {
                out.push(format!("{}{alt}{rest}", &pattern[..open]));
                if out.len() >= MAX_ENVS {
                    return out;
                }
            }
        }
    }
    out
}

/// Whether a factor condition (`py312,py313`, `!cov`, `py312-cov`) holds
/// for the env `name`.
fn holds(condition: &str, name: &str) -> bool {
    let factors: Vec<&str> = name.split('-').collect();
    condition.split(',').any(|alt| {
        expand(alt.trim()).iter().any(|alt| {
            alt.split('-').all(|f| match f.strip_prefix('!') {
                Some(f) => !factors.contains(&f),
                None => factors.contains(&f) || f == name,
            })
        })
    })
}

/// One line of a multi-line value: its text and where it starts.
#[derive(Clone, Debug)]
struct Line {
    text: String,
    offset: usize,
}

/// The logical lines of an INI value that hold for `env` (continuations
/// joined, factor prefixes stripped, `{[section]key}` lines substituted).
fn lines(
    source: &Source,
    ini: &IniFile,
    section: &str,
    key: &str,
    env: &str,
    stack: &mut Vec<(String, String)>,
) -> Vec<Line> {
    let Some(entry) = ini.section(section).and_then(|s| s.get(key)) else {
        return Vec::new();
    };
    let raw = if entry.value_span.end <= source.text.len() && !entry.value_span.is_empty() {
        source.text[entry.value_span.range()].to_string()
    } else {
        entry.value.clone()
    };
    let base = entry.value_span.start;
    let mut logical: Vec<Line> = Vec::new();
    let mut offset = base;
    let mut pending: Option<Line> = None;
    for line in raw.split_inclusive('\n') {
        let text = line.trim_end_matches(['\n', '\r']);
        let start = offset + (line.len() - line.trim_start().len());
        offset += line.len();
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            if let Some(p) = pending.take() {
                logical.push(p);
            }
            continue;
        }
        match &mut pending {
            Some(p) => {
                p.text.push('\n');
                p.text.push_str(text);
            }
            None => {
                pending = Some(Line {
                    text: trimmed.to_string(),
                    offset: start,
                })
            }
        }
        if !trimmed.ends_with('\\')
            && let Some(p) = pending.take()
        {
            logical.push(p);
        }
    }
    logical.extend(pending);
    let mut out = Vec::new();
    for mut line in logical {
        // A factor condition: `cov: pytest-cov`, `py312,py313: x`.
        if let Some((cond, rest)) = line.text.split_once(':')
            && !cond.is_empty()
            && !cond.starts_with('{')
            && cond.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '{' | '}' | ',' | '!' | '-' | '_' | '.')
            })
        {
            if !holds(cond, env) {
                continue;
            }
            let skip = line.text.len() - rest.trim_start().len();
            line.text = rest.trim_start().to_string();
            line.offset += skip;
        }
        let t = line.text.trim();
        // `{[section]key}`, alone or followed by arguments for its last
        // command (`{[testenv]commands} --reactor=default`).
        if let Some(rest) = t.strip_prefix("{[")
            && let Some(close) = rest.find('}')
            && let Some((other, other_key)) = rest[..close].split_once(']')
        {
            let after = rest[close + 1..].trim();
            // A value that substitutes itself, directly or through others,
            // is given up on there (tox stops after 101 frames and goes on);
            // and however the substitutions fan out, a value stays bounded.
            let target = (other.to_string(), other_key.to_string());
            let cycle = target == (section.to_string(), key.to_string()) || stack.contains(&target);
            if stack.len() < MAX_DEPTH && !cycle && out.len() < MAX_LINES {
                stack.push((section.to_string(), key.to_string()));
                let mut substituted = lines(source, ini, other, other_key, env, stack);
                stack.pop();
                if !after.is_empty()
                    && let Some(last) = substituted.last_mut()
                {
                    last.text.push(' ');
                    last.text.push_str(after);
                }
                out.extend(substituted);
                out.truncate(MAX_LINES);
            }
            continue;
        }
        if out.len() < MAX_LINES {
            out.push(line);
        }
    }
    out
}

/// The section of the env `name`: `[testenv:name]`, or a section whose
/// name expands to it (`[testenv:py3{11,12}-tests]`).
fn own_section(ini: &IniFile, name: &str) -> Option<String> {
    ini.sections
        .iter()
        .filter_map(|s| s.name.strip_prefix("testenv:").map(|n| (s, n)))
        .find(|(_, n)| *n == name || (n.contains('{') && expand(n).iter().any(|e| e == name)))
        .map(|(s, _)| s.name.clone())
}

/// A key of the env `name`: its own section, else `[testenv]`.
fn env_lines(source: &Source, ini: &IniFile, name: &str, key: &str) -> Vec<Line> {
    let own = own_section(ini, name).unwrap_or_else(|| format!("testenv:{name}"));
    for section in [own.as_str(), "testenv"] {
        if ini.section(section).and_then(|s| s.get(key)).is_some() {
            return lines(source, ini, section, key, name, &mut Vec::new());
        }
    }
    Vec::new()
}

fn env_value(source: &Source, ini: &IniFile, name: &str, keys: &[&str]) -> Vec<Line> {
    keys.iter()
        .map(|k| env_lines(source, ini, name, k))
        .find(|l| !l.is_empty())
        .unwrap_or_default()
}

/// Where a line is: its text in the file, or (when the file does not hold
/// it verbatim) an empty span at its start.
fn at(source: &Source, line: &Line) -> Location {
    let end = line.offset + line.text.len();
    let span = if source.text.get(line.offset..end) == Some(line.text.as_str()) {
        Span::new(line.offset, end)
    } else {
        let mut start = line.offset.min(source.text.len());
        while !source.text.is_char_boundary(start) {
            start -= 1;
        }
        Span::empty(start)
    };
    Location::new(source, span)
}

/// tox's `{posargs}` and its other substitutions, for words: `{posargs}`
/// goes, `{posargs:x y}` becomes its default (its text), `{envpython}` is
/// a Python.
fn substitute(words: Vec<Word>, root: &Path) -> Vec<Word> {
    let mut out = Vec::new();
    let absolute = root.to_string_lossy();
    for mut w in words {
        if w.text == "{posargs}" || w.text == "[]" {
            continue;
        }
        // `--cov-config={toxinidir}/.coveragerc`: the root, absolute, since
        // the env may run in another directory (`change_dir`); `{/}` is
        // the path separator.
        for dir in ["{toxinidir}", "{tox_root}"] {
            w.text = w.text.replace(dir, &absolute);
        }
        w.text = w.text.replace("{/}", "/");
        if let Some(default) = w
            .text
            .strip_prefix("{posargs:")
            .and_then(|d| d.strip_suffix('}'))
        {
            if default.is_empty() {
                continue;
            }
            w.text = default.to_string();
        }
        out.push(w);
    }
    out
}

fn from_ini(root: &Path, source: &Source, ini: &IniFile, named: &[String], core: &str) -> Vec<Run> {
    let mut names: Vec<(String, Option<Span>)> = Vec::new();
    if let Some(tox) = ini.section(core)
        && let Some(list) = tox.get("env_list").or_else(|| tox.get("envlist"))
    {
        for item in split_top(&list.value) {
            let item = item.trim();
            if item.is_empty() || item.starts_with('#') {
                continue;
            }
            for name in expand(item) {
                names.push((name, Some(list.span)));
            }
        }
    }
    for section in &ini.sections {
        if let Some(name) = section.name.strip_prefix("testenv:") {
            for name in expand(name) {
                if !names.iter().any(|(n, _)| *n == name) {
                    names.push((name, Some(section.header_span)));
                }
            }
        }
    }
    if names.is_empty() && ini.section("testenv").is_some() {
        names.push((
            "py".to_string(),
            ini.section("testenv").map(|s| s.header_span),
        ));
    }
    if let Some(base) = ini.section("testenv") {
        for name in named {
            if !names.iter().any(|(n, _)| n == name) {
                names.push((name.clone(), Some(base.header_span)));
            }
        }
    }
    names.truncate(MAX_ENVS);
    let mut out = Vec::new();
    for (name, span) in names {
        let declared = own_section(ini, &name)
            .and_then(|own| ini.section(&own))
            .map(|s| s.header_span)
            .or(span)
            .map(|s| Location::new(source, s));
        let mut run = Run::new(Kind::Tox, format!("tox env `{name}`"), declared);
        let mut steps: Vec<Step> = Vec::new();
        let set_env: Vec<(String, String)> = env_value(source, ini, &name, &["set_env", "setenv"])
            .iter()
            .filter_map(|l| l.text.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let own = own_section(ini, &name).unwrap_or_else(|| format!("testenv:{name}"));
        let section = if ini.section(&own).is_some_and(|s| s.get("deps").is_some()) {
            own
        } else {
            "testenv".to_string()
        };
        for line in env_lines(source, ini, &name, "deps") {
            let location = at(source, &line);
            let what = format!(
                "{} [{section}] deps",
                crate::rules::relative(root, &source.path)
            );
            let text = env_substitute(line.text.trim(), &set_env);
            let text = text.trim();
            let words: Vec<Word> = super::shell::commands(text, line.offset)
                .into_iter()
                .flatten()
                .collect();
            if text.starts_with('-') {
                // `-r requirements.txt`, `-c constraints.txt`: a pip line.
                let mut pip = vec![
                    Word {
                        text: "pip".into(),
                        span: location.span,
                        expands: false,
                    },
                    Word {
                        text: "install".into(),
                        span: location.span,
                        expands: false,
                    },
                ];
                pip.extend(words);
                steps.extend(command::classify(source, &pip, root, root));
            } else if let Some(r) = Requirement::parse(text, &what, Some(location.clone())) {
                steps.push(Step {
                    action: Action::Install(command::Install {
                        requirements: vec![r],
                        ..command::Install::default()
                    }),
                    location,
                });
            }
        }
        if let Some(line) = env_value(source, ini, &name, &["change_dir", "changedir"]).first() {
            run.cwd = change_dir(&line.text).map(|d| (d, at(source, line)));
        }
        let skip_install = env_value(source, ini, &name, &["skip_install"])
            .first()
            .is_some_and(|l| l.text.trim() == "true")
            || env_value(source, ini, &name, &["package"])
                .first()
                .is_some_and(|l| l.text.trim() == "skip");
        // tox-uv's `uv-venv-lock-runner` installs from uv.lock.
        if env_value(source, ini, &name, &["runner"])
            .first()
            .is_some_and(|l| l.text.trim() == "uv-venv-lock-runner")
        {
            run.installs
                .locks
                .push(("uv.lock".to_string(), run.declared.clone()));
        }
        if !skip_install {
            let mut selected = Selected::default();
            for line in env_lines(source, ini, &name, "extras") {
                selected.extras.extend(
                    line.text
                        .split([',', ' '])
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                );
            }
            for line in env_lines(source, ini, &name, "dependency_groups") {
                selected.groups.extend(
                    line.text
                        .split([',', ' '])
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                );
            }
            run.installs.project = Some(selected);
        }
        for line in env_value(source, ini, &name, &["set_env", "setenv"]) {
            if let Some((k, v)) = line.text.split_once('=') {
                let location = at(source, &line);
                steps.push(Step {
                    action: Action::SetEnv(k.trim().to_string(), v.trim().to_string()),
                    location,
                });
            }
        }
        for line in env_lines(source, ini, &name, "commands_pre")
            .into_iter()
            .chain(env_lines(source, ini, &name, "commands"))
        {
            steps.extend(shell_steps(root, source, &line, &set_env));
        }
        run.apply(&steps);
        out.push(run);
    }
    out
}

/// The steps of one `commands` line; tox runs it without a shell, but
/// splitting it like one reads `python -m pytest` and `coverage run` the
/// same way.
fn shell_steps(
    root: &Path,
    source: &Source,
    line: &Line,
    set_env: &[(String, String)],
) -> Vec<Step> {
    let mut out = Vec::new();
    if line.text.contains("process_startup")
        && (line.text.contains(".pth") || line.text.contains("sitecustomize"))
    {
        out.push(Step {
            action: Action::StartupHook,
            location: at(source, line),
        });
    }
    let text = expand_env(&blank_posargs(&line.text), set_env);
    let end = line.offset + line.text.len();
    for mut words in super::shell::commands(&text, line.offset) {
        // Substituted text can be longer than the line: keep spans in it.
        for w in &mut words {
            w.span = Span::new(w.span.start.min(end), w.span.end.min(end));
        }
        let words = substitute(words, root);
        out.extend(command::classify(source, &words, root, root));
    }
    // Word spans are the file's only when the line is there verbatim.
    let fallback = at(source, line);
    if fallback.span.is_empty() {
        for step in &mut out {
            step.relocate(&fallback);
        }
    }
    out
}

/// The words of a TOML command: strings, and the `{replace = ...}` tables
/// tox expands: `posargs` gives its `default` list, `env` the env's
/// `set_env` value or its `default`, `ref` nothing covdoctor can read.
fn toml_words<'a>(
    values: impl Iterator<Item = &'a toml_edit::Value>,
    set_env: &[(String, String)],
    out: &mut Vec<Word>,
    depth: usize,
) {
    for v in values {
        let span = v.span().map(Span::from).unwrap_or_default();
        if let Some(text) = v.as_str() {
            out.push(Word {
                text: text.to_string(),
                span,
                expands: false,
            });
            continue;
        }
        let Some(table) = v.as_inline_table() else {
            continue;
        };
        let default = table.get("default");
        match table.get("replace").and_then(|r| r.as_str()) {
            Some("posargs") if depth < MAX_DEPTH => {
                if let Some(list) = default.and_then(|d| d.as_array()) {
                    toml_words(list.iter(), set_env, out, depth + 1);
                } else if let Some(text) = default.and_then(|d| d.as_str()) {
                    out.push(Word {
                        text: text.to_string(),
                        span,
                        expands: false,
                    });
                }
            }
            Some("env") => {
                let name = table.get("name").and_then(|n| n.as_str()).unwrap_or("");
                let value = set_env
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
                    .or_else(|| default.and_then(|d| d.as_str()).map(str::to_string));
                if let Some(text) = value {
                    out.push(Word {
                        text,
                        span,
                        expands: false,
                    });
                }
            }
            _ => {}
        }
    }
}

/// A generative `env_list` entry: `{ product = [["py312", "py313"], {
/// prefix = "3.", start = 10, stop = 15 }] }` is every combination, joined
/// by `-` (a range's `stop` is not included). Bounded.
fn product(table: &toml_edit::InlineTable) -> Vec<String> {
    let mut out = vec![String::new()];
    for factor in table
        .get("product")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
    {
        let values: Vec<String> = match factor {
            toml_edit::Value::Array(a) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            toml_edit::Value::InlineTable(r) => {
                let prefix = r.get("prefix").and_then(|p| p.as_str()).unwrap_or("");
                let start = r.get("start").and_then(|v| v.as_integer()).unwrap_or(0);
                let stop = r
                    .get("stop")
                    .and_then(|v| v.as_integer())
                    .unwrap_or(start + 1);
                (start..stop.min(start + 64))
                    .map(|n| format!("{prefix}{n}"))
                    .collect()
            }
            _ => Vec::new(),
        };
        let mut next = Vec::new();
        for base in &out {
            for v in &values {
                if next.len() < MAX_ENVS {
                    next.push(if base.is_empty() {
                        v.clone()
                    } else {
                        format!("{base}-{v}")
                    });
                }
            }
        }
        out = next;
    }
    out.retain(|n| !n.is_empty());
    out
}

/// tox.toml / native `[tool.tox]`: `env_list`, `[env_run_base]`,
/// `[env.NAME]`; `commands` is a list of commands, each a list of strings
/// (or `{replace = "posargs", ...}` tables, dropped).
fn from_toml(root: &Path, source: &Source, tox: &toml_edit::Item, named: &[String]) -> Vec<Run> {
    let Some(table) = tox.as_table_like() else {
        return Vec::new();
    };
    let mut names: Vec<String> = Vec::new();
    for item in table
        .get("env_list")
        .and_then(|e| e.as_array())
        .into_iter()
        .flatten()
    {
        match item {
            toml_edit::Value::String(s) => names.push(s.value().clone()),
            toml_edit::Value::InlineTable(t) => names.extend(product(t)),
            _ => {}
        }
    }
    if let Some(envs) = table.get("env").and_then(|e| e.as_table_like()) {
        for (name, _) in envs.iter() {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
    }
    if names.is_empty() && table.get("env_run_base").is_some() {
        names.push("py".to_string());
    }
    if table.get("env_run_base").is_some() {
        for name in named {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
    }
    names.truncate(MAX_ENVS);
    let base = table.get("env_run_base");
    let mut out = Vec::new();
    for name in names {
        let own = table
            .get("env")
            .and_then(|e| e.as_table_like())
            .and_then(|e| e.get(&name));
        let get = |key: &str| -> Option<&toml_edit::Item> {
            own.and_then(|o| o.as_table_like()?.get(key))
                .or_else(|| base.and_then(|b| b.as_table_like()?.get(key)))
        };
        let declared = own
            .and_then(tomlx::table_span)
            .or_else(|| table.get("env_list").and_then(tomlx::item_span))
            .map(|s| Location::new(source, s));
        let mut run = Run::new(Kind::Tox, format!("tox env `{name}`"), declared);
        let mut steps = Vec::new();
        let what = format!("{} deps", crate::rules::relative(root, &source.path));
        for value in get("deps").and_then(|d| d.as_array()).into_iter().flatten() {
            if let Some(text) = value.as_str() {
                let location =
                    Location::new(source, value.span().map(Span::from).unwrap_or_default());
                if let Some(r) = Requirement::parse(text, &what, Some(location.clone())) {
                    steps.push(Step {
                        action: Action::Install(command::Install {
                            requirements: vec![r],
                            ..command::Install::default()
                        }),
                        location,
                    });
                }
            }
        }
        if get("runner").and_then(|v| v.as_str()) == Some("uv-venv-lock-runner") {
            run.installs
                .locks
                .push(("uv.lock".to_string(), run.declared.clone()));
        }
        if let Some(dir) = get("change_dir") {
            let text = dir.as_str().map(str::to_string).or_else(|| {
                let mut words = Vec::new();
                toml_words(dir.as_value().into_iter(), &[], &mut words, 0);
                words.first().map(|w| w.text.clone())
            });
            if let Some(text) = text {
                run.cwd = change_dir(&text).map(|d| {
                    (
                        d,
                        Location::new(source, tomlx::item_span(dir).unwrap_or_default()),
                    )
                });
            }
        }
        let skip = get("skip_install").and_then(|v| v.as_bool()) == Some(true)
            || get("package").and_then(|v| v.as_str()) == Some("skip");
        if !skip {
            run.installs.project = Some(Selected {
                all: false,
                extras: get("extras").and_then(tomlx::strings).unwrap_or_default(),
                groups: get("dependency_groups")
                    .and_then(tomlx::strings)
                    .unwrap_or_default(),
            });
        }
        let mut set_env: Vec<(String, String)> = Vec::new();
        if let Some(env) = get("set_env").and_then(|e| e.as_table_like()) {
            for (k, v) in env.iter() {
                let text = v.as_str().map(str::to_string).or_else(|| {
                    let mut words = Vec::new();
                    toml_words(v.as_value().into_iter(), &[], &mut words, 0);
                    words.first().map(|w| w.text.clone())
                });
                if let Some(text) = text {
                    set_env.push((k.to_string(), text.clone()));
                    let text = text.as_str();
                    steps.push(Step {
                        action: Action::SetEnv(k.to_string(), text.to_string()),
                        location: Location::new(source, tomlx::item_span(v).unwrap_or_default()),
                    });
                }
            }
        }
        for key in ["commands_pre", "commands"] {
            for cmd in get(key).and_then(|c| c.as_array()).into_iter().flatten() {
                let Some(array) = cmd.as_array() else {
                    continue;
                };
                let mut words: Vec<Word> = Vec::new();
                toml_words(array.iter(), &set_env, &mut words, 0);
                let text: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
                if text.iter().any(|t| t.contains("process_startup"))
                    && text
                        .iter()
                        .any(|t| t.contains(".pth") || t.contains("sitecustomize"))
                {
                    steps.push(Step {
                        action: Action::StartupHook,
                        location: Location::new(
                            source,
                            cmd.span().map(Span::from).unwrap_or_default(),
                        ),
                    });
                }
                steps.extend(command::classify(
                    source,
                    &substitute(words, root),
                    root,
                    root,
                ));
            }
        }
        run.apply(&steps);
        out.push(run);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `legacy_tox_ini` that is not in the file verbatim (a basic string
    /// with escapes): every location stays inside the file, and rendering
    /// the findings does not panic.
    #[test]
    fn legacy_ini_with_escapes_keeps_locations_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let pyproject = "[tool.coverage.run]\nsigterm = true\n\n[tool.tox]\nlegacy_tox_ini = \"[tox]\\nenv_list = t\\n[testenv]\\ndeps =\\n    pytest-cov\\n    \\\"pytest\\\"\\ncommands = pytest --cov --cov-report= {posargs}\\n\"\n";
        std::fs::write(dir.path().join("pyproject.toml"), pyproject).unwrap();
        std::fs::create_dir(dir.path().join("tests")).unwrap();
        std::fs::write(
            dir.path().join("tests/test_a.py"),
            "import subprocess, sys\n\ndef test_x():\n    p = subprocess.Popen([sys.executable, 's.py'])\n    p.terminate()\n    p.wait()\n",
        )
        .unwrap();
        let (projects, _) = crate::list_runs(&[dir.path().to_path_buf()], &Default::default());
        let tox: Vec<_> = projects[0]
            .runs
            .iter()
            .filter(|(v, _)| v.run.kind == Kind::Tox)
            .collect();
        assert_eq!(
            tox.len(),
            1,
            "{:?}",
            projects[0]
                .runs
                .iter()
                .map(|(v, _)| &v.run.name)
                .collect::<Vec<_>>()
        );
        let view = &tox[0].0;
        assert!(view.measures);
        let len = pyproject.len();
        for arg in &view.args {
            assert!(arg.location.span.end <= len);
        }
        let outcome = crate::check(&[dir.path().to_path_buf()], &Default::default());
        assert!(
            outcome
                .diagnostics
                .iter()
                .any(|d| d.rule == "subprocess-patch-missing")
        );
        let style = crate::report::Style {
            color: false,
            width: 100,
            cwd: dir.path().to_path_buf(),
        };
        let _ = crate::report::render_full(&outcome.diagnostics, &style);
    }

    /// The problems and runs of a project whose pyproject.toml is `text`.
    fn legacy(text: &str) -> (Vec<crate::problem::Problem>, usize) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pyproject.toml"), text).unwrap();
        let mut loader = crate::config::ConfigFiles::new(std::sync::Arc::new(crate::source::Disk));
        let found = runs(dir.path(), &mut loader, &[]).len();
        (loader.failures(), found)
    }

    #[test]
    fn a_legacy_ini_that_is_not_ini_is_an_input_error() {
        // A multi-line literal: located at the bad line.
        let text = "[tool.tox]\nlegacy_tox_ini = \"\"\"\n[tox]\nnot ini\n\"\"\"\n";
        let (problems, found) = legacy(text);
        assert_eq!(found, 0);
        let [problem] = &problems[..] else {
            panic!("{problems:?}")
        };
        assert!(
            problem.message.contains("LegacyToml"),
            "{}",
            problem.message
        );
        let location = problem.location.as_ref().unwrap();
        assert_eq!(&text[location.span.range()], "not ini");
        // Escaped: at the string.
        let text = "[tool.tox]\nlegacy_tox_ini = \"[tox]\\nnot ini\\n\"\n";
        let (problems, _) = legacy(text);
        let location = problems[0].location.as_ref().unwrap();
        assert_eq!(location.span.start, text.find('"').unwrap());
        // Near misses: INI that tox reads, and a native table.
        let (problems, found) = legacy(
            "[tool.tox]\nlegacy_tox_ini = \"\"\"\n[tox]\nenv_list = py\n[testenv]\ncommands = pytest\n\"\"\"\n",
        );
        assert!(problems.is_empty() && found == 1, "{problems:?}");
        let (problems, found) = legacy(
            "[tool.tox]\nenv_list = [\"py\"]\n[tool.tox.env_run_base]\ncommands = [[\"pytest\"]]\n",
        );
        assert!(problems.is_empty() && found == 1, "{problems:?}");
    }

    #[test]
    fn factor_expansion_and_conditions() {
        assert_eq!(
            expand("py{311,312}-{cov,nocov}"),
            vec!["py311-cov", "py311-nocov", "py312-cov", "py312-nocov"]
        );
        assert_eq!(expand("py3{10-12}"), vec!["py310", "py311", "py312"]);
        assert!(holds("cov", "py312-cov"));
        assert!(!holds("cov", "py312-nocov"));
        assert!(holds("!cov", "py312"));
        assert!(holds("py311,py312", "py312-cov"));
        assert!(holds("py312-cov", "py312-cov"));
        assert!(!holds("py311-cov", "py312-cov"));
    }
}
