//! GitHub Actions: `.github/workflows/*.yml` and `*.yaml`, read with
//! saphyr (a YAML parser that keeps every node's position). Each job is a
//! run: its `run:` steps in order (shell commands, `make target` expanded
//! into the recipe, a `*.sh` script the step runs read as commands), with
//! the workflow's, the job's and each step's `env:`.

use std::path::Path;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use super::command::{self, Action, Step};
use super::make::Target;
use super::{Kind, Run};
use crate::config::coverage::FileLoader;
use crate::source::{Location, Source, Span};

/// Workflow files read at most. A script a step runs is read whole, as the
/// shell reads it (up to [`crate::source::MAX_FILE_SIZE`], beyond which it
/// is an input error); the words read from it are bounded by
/// `shell::commands`.
const MAX_WORKFLOWS: usize = 64;

pub fn runs(root: &Path, loader: &mut dyn FileLoader, make: &[Target]) -> Vec<Run> {
    let dir = root.join(".github").join("workflows");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    files.truncate(MAX_WORKFLOWS);
    let mut out = Vec::new();
    for path in files {
        let Some(Ok(source)) = loader.load(&path) else {
            continue;
        };
        out.extend(workflow(root, &source, loader, make));
    }
    out
}

fn workflow(
    root: &Path,
    source: &Source,
    loader: &mut dyn FileLoader,
    make: &[Target],
) -> Vec<Run> {
    let Some(docs) = load_yaml(source, loader) else {
        return Vec::new();
    };
    let Some(doc) = docs.first() else {
        return Vec::new();
    };
    let Some(jobs) = doc
        .data
        .as_mapping_get("jobs")
        .and_then(|j| j.data.as_mapping())
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, job) in jobs {
        let Some(name) = scalar(key) else { continue };
        let mut run = Run::new(
            Kind::GithubActions,
            format!("GitHub Actions job `{name}`"),
            Some(yaml_location(source, key)),
        );
        let mut steps = Vec::new();
        for env in [
            doc.data.as_mapping_get("env"),
            job.data.as_mapping_get("env"),
        ]
        .into_iter()
        .flatten()
        {
            steps.extend(env_steps(source, env));
        }
        let job_steps: Vec<&MarkedYaml> = job
            .data
            .as_mapping_get("steps")
            .and_then(|s| s.data.as_vec())
            .into_iter()
            .flatten()
            .collect();
        // Other repositories the job checks out: a job that tests another
        // project (a downstream check) is not a run of this one, and steps
        // working in another checkout are not either.
        let mut foreign: Vec<String> = Vec::new();
        let mut foreign_job = false;
        for step in &job_steps {
            let uses = step
                .data
                .as_mapping_get("uses")
                .and_then(scalar)
                .unwrap_or_default();
            let with = step.data.as_mapping_get("with");
            let repository = with
                .and_then(|w| w.data.as_mapping_get("repository"))
                .and_then(scalar);
            if uses.starts_with("actions/checkout")
                && let Some(repository) = repository
                && !repository.contains("github.repository")
            {
                match with
                    .and_then(|w| w.data.as_mapping_get("path"))
                    .and_then(scalar)
                {
                    Some(path) => foreign.push(path.trim_end_matches('/').to_string()),
                    None => foreign_job = true,
                }
            }
        }
        if foreign_job {
            continue;
        }
        let default_dir = job
            .data
            .as_mapping_get("defaults")
            .and_then(|d| d.data.as_mapping_get("run"))
            .and_then(|r| r.data.as_mapping_get("working-directory"))
            .and_then(scalar);
        let elsewhere = |dir: &str| {
            let dir = dir.trim_start_matches("./").trim_end_matches('/');
            foreign
                .iter()
                .any(|f| dir == f || dir.starts_with(&format!("{f}/")))
                || !crate::source::normalize(&root.join(dir)).starts_with(root)
        };
        for step in job_steps {
            let dir = step
                .data
                .as_mapping_get("working-directory")
                .and_then(scalar)
                .or_else(|| default_dir.clone());
            if dir
                .as_deref()
                .is_some_and(|d| !d.contains('$') && elsewhere(d))
            {
                continue;
            }
            // A `run:` step, or an action that runs commands given as its
            // `run` input (VM and container actions).
            let script = step.data.as_mapping_get("run").or_else(|| {
                step.data
                    .as_mapping_get("with")
                    .and_then(|w| w.data.as_mapping_get("run"))
            });
            let Some(script) = script else { continue };
            let mut own = shell_steps(root, source, script, make, &foreign);
            own.extend(scripts(root, script, loader));
            // A step's `env:` is for that step: it counts where the step
            // starts the tests.
            if own.iter().any(|s| matches!(s.action, Action::Pytest(_)))
                && let Some(env) = step.data.as_mapping_get("env")
            {
                steps.extend(env_steps(source, env));
            }
            steps.extend(own);
        }
        run.apply(&steps);
        // `tox -e ${{ matrix.toxenv }}`: every value the matrix gives.
        let matrix = matrix_values(job);
        let named = std::mem::take(&mut run.tox_envs);
        for env in named {
            run.tox_envs.extend(expand_matrix(&env, &matrix));
        }
        out.push(run);
    }
    out
}

/// `strategy.matrix`: each key's values (its list, and the values
/// `include` entries give it).
fn matrix_values(job: &MarkedYaml) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let Some(matrix) = job
        .data
        .as_mapping_get("strategy")
        .and_then(|s| s.data.as_mapping_get("matrix"))
    else {
        return out;
    };
    let mut add = |k: String, v: String| match out.iter_mut().find(|(n, _)| *n == k) {
        Some((_, values)) => {
            if !values.contains(&v) {
                values.push(v);
            }
        }
        None => out.push((k, vec![v])),
    };
    for (key, value) in matrix.data.as_mapping().into_iter().flatten() {
        let Some(key) = scalar(key) else { continue };
        if key == "include" {
            for entry in value.data.as_vec().into_iter().flatten() {
                for (k, v) in entry.data.as_mapping().into_iter().flatten() {
                    if let (Some(k), Some(v)) = (scalar(k), scalar(v)) {
                        add(k, v);
                    }
                }
            }
        } else {
            for v in value.data.as_vec().into_iter().flatten() {
                if let Some(v) = scalar(v) {
                    add(key.clone(), v);
                }
            }
        }
    }
    out
}

/// A name with `${{ matrix.key }}` in it, for every value of the key
/// (bounded); a name without stays as it is.
fn expand_matrix(name: &str, matrix: &[(String, Vec<String>)]) -> Vec<String> {
    let mut out = vec![name.to_string()];
    for (key, values) in matrix {
        let forms = [
            format!("${{{{ matrix.{key} }}}}"),
            format!("${{{{matrix.{key}}}}}"),
        ];
        let mut next = Vec::new();
        for n in &out {
            if let Some(form) = forms.iter().find(|f| n.contains(f.as_str())) {
                for v in values {
                    if next.len() < 64 {
                        next.push(n.replace(form.as_str(), v));
                    }
                }
            } else {
                next.push(n.clone());
            }
        }
        out = next;
    }
    out
}

/// A scalar's text.
pub fn scalar(node: &MarkedYaml) -> Option<String> {
    match &node.data {
        YamlData::Value(Scalar::String(s)) => Some(s.to_string()),
        YamlData::Value(Scalar::Integer(i)) => Some(i.to_string()),
        YamlData::Value(Scalar::FloatingPoint(f)) => Some(f.to_string()),
        YamlData::Value(Scalar::Boolean(b)) => Some(b.to_string()),
        YamlData::Representation(s, _, _) => Some(s.to_string()),
        _ => None,
    }
}

/// The YAML documents of a file; a file that is not YAML is an input error
/// (GitHub and GitLab reject it), reported where the parser stopped.
pub fn load_yaml<'s>(
    source: &'s Source,
    loader: &mut dyn FileLoader,
) -> Option<Vec<MarkedYaml<'s>>> {
    let mut text = std::borrow::Cow::Borrowed(source.text.as_str());
    let mut result = MarkedYaml::load_from_str(&text);
    let mut repairs = 0;
    while let Err(e) = &result {
        // A closing bracket of a multi-line flow collection written left of
        // the block it sits in (`matrix:\n  name: [\n    "a",\n  ]`, as in
        // pytest's own CI): YAML 1.2 ignores indentation inside flow
        // collections and GitHub, PyYAML and libyaml accept it; saphyr 0.3.4
        // does not (fixed upstream, saphyr-rs/saphyr 5c3161f, not yet
        // released). The bracket is moved up to the end of the content
        // before it: the text keeps its length and every other character its
        // position, so locations stay right.
        let Some(repaired) = (repairs < MAX_BRACKET_REPAIRS)
            .then(|| move_flow_end(&text, e))
            .flatten()
        else {
            break;
        };
        repairs += 1;
        result = MarkedYaml::load_from_str(&repaired);
        text = std::borrow::Cow::Owned(repaired);
    }
    match result {
        Ok(docs) => Some(docs),
        Err(e) => {
            let at = byte_offset(&source.text, e.marker().index());
            loader.report(crate::problem::Problem::invalid(
                Location::new(source, Span::empty(at)),
                format!("invalid YAML: {}", e.info()),
            ));
            None
        }
    }
}

/// Closing brackets [`load_yaml`] moves in one file, at most.
const MAX_BRACKET_REPAIRS: usize = 256;

/// `text` with the flow collection's closing bracket that `error` stopped
/// at moved to just after the content before it, when the error is
/// saphyr's "invalid indentation" at a `]` or `}` that closes a flow
/// collection open at that point, and nothing but whitespace (no comment)
/// lies between the two.
fn move_flow_end(text: &str, error: &saphyr::ScanError) -> Option<String> {
    if error.info() != "invalid indentation" {
        return None;
    }
    let at = byte_offset(text, error.marker().index());
    let bracket = *text.as_bytes().get(at)?;
    if !matches!(bracket, b']' | b'}') || !in_flow_collection(text, error.marker().index()) {
        return None;
    }
    let before = text[..at].trim_end_matches([' ', '\t', '\n', '\r']);
    let line = &before[before.rfind(['\n', '\r']).map_or(0, |i| i + 1)..];
    if before.is_empty() || line.contains('#') {
        return None;
    }
    let end = before.len();
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..end]);
    out.push(bracket as char);
    out.push_str(&text[end..at]);
    out.push_str(&text[at + 1..]);
    Some(out)
}

/// Whether the parser is inside a flow collection (`[...]`, `{...}`) where
/// it fails at the character index `error_at`: the innermost collection
/// open before the error starts with a bracket.
fn in_flow_collection(text: &str, error_at: usize) -> bool {
    use saphyr_parser::{Event, Parser};
    let chars: Vec<char> = text.chars().collect();
    let mut open: Vec<bool> = Vec::new();
    let mut parser = Parser::new_from_str(text);
    while let Some(Ok((event, span))) = parser.next_event() {
        if span.start.index() > error_at {
            break;
        }
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                open.push(matches!(chars.get(span.start.index()), Some('[' | '{')))
            }
            Event::SequenceEnd | Event::MappingEnd => {
                open.pop();
            }
            _ => {}
        }
    }
    open.last().copied().unwrap_or(false)
}

/// A byte offset from saphyr's character index.
fn byte_offset(text: &str, chars: usize) -> usize {
    if text.is_ascii() {
        return chars.min(text.len());
    }
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(b, _)| b)
}

/// A node's location in the file.
pub fn yaml_location(source: &Source, node: &MarkedYaml) -> Location {
    let start = byte_offset(&source.text, node.span.start.index());
    let end = byte_offset(&source.text, node.span.end.index()).max(start);
    Location::new(source, Span::new(start, end))
}

/// `env:` / `variables:` entries.
pub fn env_steps(source: &Source, env: &MarkedYaml) -> Vec<Step> {
    let mut out = Vec::new();
    for (key, v) in env.data.as_mapping().into_iter().flatten() {
        let value = scalar(v).or_else(|| {
            // GitLab's `{value: ..., description: ...}` form.
            v.data.as_mapping_get("value").and_then(scalar)
        });
        if let (Some(k), Some(value)) = (scalar(key), value) {
            out.push(Step {
                action: Action::SetEnv(k, value),
                location: yaml_location(source, key),
            });
        }
    }
    out
}

/// The commands of a script node, located in the file: each line of the
/// value is found in the file after the node's start (literal block
/// scalars and plain scalars stand there verbatim); words on a line that
/// cannot be found point at the node.
pub fn shell_steps(
    root: &Path,
    source: &Source,
    node: &MarkedYaml,
    make: &[Target],
    foreign: &[String],
) -> Vec<Step> {
    let Some(value) = scalar(node) else {
        return Vec::new();
    };
    let node_at = yaml_location(source, node);
    // (start of the line in the value, where it is in the file).
    let mut lines: Vec<(usize, Option<usize>)> = Vec::new();
    let mut search = node_at.span.start;
    let mut at = 0;
    for line in value.split_inclusive('\n') {
        let text = line.trim_end_matches('\n');
        let found = if text.trim().is_empty() {
            None
        } else {
            source
                .text
                .get(search..)
                .and_then(|rest| rest.find(text))
                .map(|i| search + i)
        };
        if let Some(f) = found {
            search = f + text.len();
        }
        lines.push((at, found));
        at += line.len();
    }
    let map = |v: usize| -> Option<usize> {
        let i = lines
            .partition_point(|(start, _)| *start <= v)
            .saturating_sub(1);
        let (start, file) = lines.get(i)?;
        file.map(|f| f + (v - start))
    };
    let text_ok = |s: Span| {
        source.text.is_char_boundary(s.start)
            && source.text.is_char_boundary(s.end)
            && s.end <= source.text.len()
    };
    let mut out = Vec::new();
    if value.contains("process_startup")
        && (value.contains(".pth") || value.contains("sitecustomize"))
    {
        out.push(Step {
            action: Action::StartupHook,
            location: node_at.clone(),
        });
    }
    for mut words in super::shell::commands(&value, 0) {
        if command::leaves_project(&words, root, root) {
            break;
        }
        // `cd` into another repository the job checked out.
        if let [cd, dir] = words.as_slice()
            && cd.text == "cd"
            && foreign
                .iter()
                .any(|f| dir.text.trim_start_matches("./").starts_with(f.as_str()))
        {
            break;
        }
        for w in &mut words {
            w.span = match (map(w.span.start), map(w.span.end)) {
                (Some(a), Some(b)) if a <= b && text_ok(Span::new(a, b)) => Span::new(a, b),
                _ => Span::empty(node_at.span.start),
            };
        }
        for step in command::classify(source, &words, root, root) {
            match &step.action {
                Action::Make(targets) => {
                    // The recipe runs in this job.
                    for t in targets {
                        if let Some(target) = make.iter().find(|m| &m.name == t) {
                            out.extend(target.steps.iter().cloned());
                        }
                    }
                    if targets.is_empty()
                        && let Some(first) = make.first()
                    {
                        out.extend(first.steps.iter().cloned());
                    }
                }
                _ => out.push(step),
            }
        }
    }
    out
}

/// Steps of the shell scripts a `run:` step calls (`./ci/test.sh`,
/// `bash scripts/test.sh`, `scripts/test`), read as commands, inside the
/// project only; Python scripts are not shell.
fn scripts(root: &Path, node: &MarkedYaml, loader: &mut dyn FileLoader) -> Vec<Step> {
    let Some(value) = scalar(node) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for words in super::shell::commands(&value, 0) {
        for w in words.iter().take(2) {
            let shell_like = w.text.ends_with(".sh") || !w.text.contains('.');
            if !shell_like || w.expands || !w.text.contains('/') {
                continue;
            }
            let path = crate::source::normalize(&root.join(&w.text));
            if !path.starts_with(root) {
                continue;
            }
            if let Some(Ok(script)) = loader.load(&path) {
                out.extend(command::steps(&script, &script.text, 0, root, root));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The commands read from the scripts the `run:` step `run` calls, in a
    /// project holding `files`, and the input problems met.
    fn script_steps(run: &str, files: &[(&str, &[u8])]) -> (Vec<String>, usize) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for (path, bytes) in files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        let mut loader = crate::config::ConfigFiles::new(std::sync::Arc::new(crate::source::Disk));
        let docs = MarkedYaml::load_from_str(run).unwrap();
        let steps = scripts(root, &docs[0], &mut loader);
        let shown = steps
            .iter()
            .map(|s| format!("{:?}", s.action))
            .filter(|a| a.starts_with("Pytest"))
            .collect();
        (shown, loader.failures().len())
    }

    /// The documents of `text` as [`load_yaml`] reads them, and the input
    /// problems it reported.
    fn loaded(text: &str) -> (Option<Vec<MarkedYaml<'static>>>, Vec<String>) {
        let source: &'static Source = Box::leak(Box::new(std::sync::Arc::new(
            crate::source::SourceFile::new("ci.yml".into(), text.to_string()),
        )));
        let mut loader = crate::config::ConfigFiles::new(std::sync::Arc::new(crate::source::Disk));
        let docs = load_yaml(source, &mut loader);
        let problems = loader.failures().into_iter().map(|p| p.message).collect();
        (docs, problems)
    }

    #[test]
    fn a_closing_bracket_left_of_its_block_is_read_as_github_reads_it() {
        let text = "jobs:\n  t:\n    strategy:\n      matrix:\n        name: [\n          \"a\",\n          \"b\",\n        ]\n        os: {\n          x: 1\n      }\n    steps:\n      - run: pytest --cov\n";
        let (docs, problems) = loaded(text);
        assert!(problems.is_empty(), "{problems:?}");
        let docs = docs.expect("read");
        let t = docs[0]
            .data
            .as_mapping_get("jobs")
            .and_then(|j| j.data.as_mapping_get("t"))
            .expect("job t");
        let names = t
            .data
            .as_mapping_get("strategy")
            .and_then(|s| s.data.as_mapping_get("matrix"))
            .and_then(|m| m.data.as_mapping_get("name"))
            .and_then(|n| n.data.as_sequence())
            .expect("the matrix names");
        assert_eq!(names.len(), 2);
        // Locations are those of the file as written.
        let step = t
            .data
            .as_mapping_get("steps")
            .and_then(|s| s.data.as_sequence())
            .expect("steps");
        let run = step[0].data.as_mapping_get("run").expect("run");
        let source = crate::source::SourceFile::new("ci.yml".into(), text.to_string());
        let start = byte_offset(text, run.span.start.index());
        assert_eq!(&source.text[start..start + 12], "pytest --cov");
    }

    #[test]
    fn a_stray_bracket_in_block_context_is_still_invalid() {
        let (docs, problems) = loaded("a:\n  b: 1\n ]\n");
        assert!(docs.is_none());
        assert_eq!(problems.len(), 1, "{problems:?}");
        // After a comment the bracket would be swallowed: not moved.
        let (docs, problems) = loaded("a:\n  b: [\n    1, # one\n ]\n");
        assert!(docs.is_none(), "{problems:?}");
    }

    #[test]
    fn a_script_is_read_whole_as_the_shell_reads_it() {
        // Over 1 MiB, and not UTF-8 in a comment: the shell runs it all.
        let big = [
            &b"#!/bin/sh\n# caf\xe9\npytest --cov\n"[..],
            &b"# padding\n".repeat(120_000),
        ]
        .concat();
        let (pytest, problems) = script_steps("./ci/test.sh", &[("ci/test.sh", &big)]);
        assert_eq!((pytest.len(), problems), (1, 0));
        // Without an extension, with a shebang.
        let (pytest, problems) = script_steps(
            "bash ci/test",
            &[("ci/test", b"#!/bin/bash\n# \xff\npytest\n")],
        );
        assert_eq!((pytest.len(), problems), (1, 0));
    }

    #[test]
    fn scripts_that_are_not_shell_or_outside_the_project_are_not_read() {
        let script: &[u8] = b"pytest --cov\n";
        assert_eq!(
            script_steps("python ci/test.py", &[("ci/test.py", script)]),
            (vec![], 0)
        );
        assert_eq!(
            script_steps("../elsewhere/test.sh", &[("ci/test.sh", script)]),
            (vec![], 0)
        );
        assert_eq!(script_steps("./ci/missing.sh", &[]), (vec![], 0));
    }
}
