//! Hatch environments: `[tool.hatch.envs.NAME]` in pyproject.toml, or
//! `[envs.NAME]` in hatch.toml. Each script of an env that runs pytest is a
//! run (`hatch run cov:test`). An env takes `dependencies`,
//! `extra-dependencies`, `features` (extras), `dependency-groups` and
//! `env-vars` from itself and from its `template` (`default` unless said
//! otherwise); `detached` and `skip-install` envs do not install the
//! project. A script's command that names another script runs it.

use std::path::Path;

use super::command::{self, Action, Step};
use super::task;
use super::{Kind, Run};
use crate::config::coverage::FileLoader;
use crate::config::toml as tomlx;
use crate::config::versions::{Requirement, Selected};
use crate::source::{Location, Source, Span};

const MAX_DEPTH: usize = 4;
/// How many script expansions one run may take, however scripts name
/// each other (forty names at each of five levels is 40^5): a bound on work.
const MAX_EXPANSIONS: usize = 1024;

pub fn runs(root: &Path, loader: &mut dyn FileLoader) -> Vec<Run> {
    let mut found: Vec<(Source, Vec<&'static str>)> = Vec::new();
    if let Some(Ok(source)) = loader.load(&root.join("hatch.toml")) {
        found.push((source, vec!["envs"]));
    }
    if let Some(Ok(source)) = loader.load(&root.join("pyproject.toml")) {
        found.push((source, vec!["tool", "hatch", "envs"]));
    }
    let mut out = Vec::new();
    for (source, path) in found {
        let Ok(doc) = loader.toml(&source) else {
            continue;
        };
        let Some(envs) = tomlx::table_at(&doc, &path).and_then(|e| e.as_table_like()) else {
            continue;
        };
        for (name, env) in envs.iter() {
            out.extend(env_runs(root, &source, envs, name, env));
        }
        if !out.is_empty() {
            break;
        }
    }
    out
}

/// The env and its templates, nearest first.
fn chain<'a>(
    envs: &'a dyn toml_edit::TableLike,
    name: &str,
    env: &'a toml_edit::Item,
) -> Vec<&'a toml_edit::Item> {
    let mut out = vec![env];
    let mut current = env;
    let mut seen = vec![name.to_string()];
    while out.len() < MAX_DEPTH {
        let template = current
            .get("template")
            .and_then(|t| t.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| "default".to_string());
        if template == "none" || seen.contains(&template) {
            break;
        }
        let Some(next) = envs.get(&template) else {
            break;
        };
        seen.push(template);
        out.push(next);
        current = next;
    }
    out
}

fn env_runs(
    root: &Path,
    source: &Source,
    envs: &dyn toml_edit::TableLike,
    name: &str,
    env: &toml_edit::Item,
) -> Vec<Run> {
    let chain = chain(envs, name, env);
    let first = |key: &str| chain.iter().find_map(|e| e.get(key));
    let file = crate::rules::relative(root, &source.path);
    let mut base = Vec::new();
    let mut selected = Selected::default();
    for e in &chain {
        for key in ["dependencies", "extra-dependencies"] {
            for value in e.get(key).and_then(|d| d.as_array()).into_iter().flatten() {
                if let Some(text) = value.as_str() {
                    let location = value.span().map(|s| Location::new(source, Span::from(s)));
                    if let Some(r) = Requirement::parse(
                        text,
                        &format!("{file} hatch env `{name}` {key}"),
                        location.clone(),
                    ) {
                        base.push(Step {
                            action: Action::Install(command::Install {
                                requirements: vec![r],
                                ..command::Install::default()
                            }),
                            location: location
                                .unwrap_or_else(|| Location::new(source, Span::empty(0))),
                        });
                    }
                }
            }
        }
        selected.extras.extend(
            e.get("features")
                .and_then(tomlx::strings)
                .unwrap_or_default(),
        );
        selected.groups.extend(
            e.get("dependency-groups")
                .and_then(tomlx::strings)
                .unwrap_or_default(),
        );
        if let Some(vars) = e.get("env-vars").and_then(|v| v.as_table_like()) {
            for (k, v) in vars.iter() {
                if let Some(text) = v.as_str() {
                    base.push(Step {
                        action: Action::SetEnv(k.to_string(), text.to_string()),
                        location: Location::new(source, tomlx::item_span(v).unwrap_or_default()),
                    });
                }
            }
        }
    }
    let installs_project = !(first("detached").and_then(|d| d.as_bool()) == Some(true)
        || first("skip-install").and_then(|d| d.as_bool()) == Some(true));
    // Scripts, the env's own over its templates'.
    let mut scripts: Vec<(String, &toml_edit::Item)> = Vec::new();
    for e in &chain {
        if let Some(table) = e.get("scripts").and_then(|s| s.as_table_like()) {
            for (k, v) in table.iter() {
                if !scripts.iter().any(|(n, _)| n == k) {
                    scripts.push((k.to_string(), v));
                }
            }
        }
    }
    let mut out = Vec::new();
    for (script, _) in &scripts {
        let mut steps = base.clone();
        steps.extend(script_steps(
            root,
            source,
            &scripts,
            script,
            0,
            &mut MAX_EXPANSIONS.clone(),
        ));
        let mut run = Run::new(
            Kind::Hatch,
            format!("hatch env `{name}` script `{script}`"),
            Some(Location::new(
                source,
                scripts
                    .iter()
                    .find(|(n, _)| n == script)
                    .and_then(|(_, v)| tomlx::item_span(v))
                    .unwrap_or_default(),
            )),
        );
        if installs_project {
            run.installs.project = Some(selected.clone());
        }
        run.apply(&steps);
        if run.test.is_some() {
            out.push(run);
        }
    }
    out
}

/// `{args}` and the braces of `{args:default}` blanked with spaces, so the
/// text keeps its offsets and the default its words.
fn blank_args(text: &str) -> String {
    let mut out = text.replace("{args}", "      ");
    while let Some(at) = out.find("{args:") {
        let close = out[at..].find('}').map(|c| at + c);
        out.replace_range(at..at + "{args:".len(), "      ");
        if let Some(close) = close {
            out.replace_range(close..close + 1, " ");
        }
    }
    out
}

/// The steps of a script: each command, a command naming another script
/// expanded into it.
fn script_steps(
    root: &Path,
    source: &Source,
    scripts: &[(String, &toml_edit::Item)],
    name: &str,
    depth: usize,
    budget: &mut usize,
) -> Vec<Step> {
    let Some((_, item)) = scripts.iter().find(|(n, _)| n == name) else {
        return Vec::new();
    };
    if *budget == 0 {
        return Vec::new();
    }
    *budget -= 1;
    let mut commands: Vec<&toml_edit::Value> = Vec::new();
    match item.as_value() {
        Some(toml_edit::Value::Array(a)) => commands.extend(a.iter()),
        Some(v) => commands.push(v),
        None => {}
    }
    let mut out = Vec::new();
    for value in commands {
        for words in task::string_commands(source, value, blank_args) {
            if let Some(first) = words.first()
                && scripts.iter().any(|(n, _)| *n == first.text)
                && depth < MAX_DEPTH
            {
                // `nowarn = "test -W default {args}"`: the other script,
                // with these words added to its test command.
                let mut inner = script_steps(root, source, scripts, &first.text, depth + 1, budget);
                if let Some(Step {
                    action: Action::Pytest(test),
                    ..
                }) = inner
                    .iter_mut()
                    .rev()
                    .find(|s| matches!(s.action, Action::Pytest(_)))
                {
                    test.args
                        .extend(words[1..].iter().map(|w| crate::config::pytest::Arg {
                            text: w.text.clone(),
                            location: Location::new(source, w.span),
                        }));
                }
                out.extend(inner);
                continue;
            }
            out.extend(command::classify(source, &words, root, root));
        }
    }
    out
}
