//! pixi tasks: `[tasks]` (and `[feature.NAME.tasks]`) in pixi.toml, or
//! the same under `[tool.pixi]` in pyproject.toml. A task is a string, or
//! a table with `cmd` (a string or a list of words), `env` and
//! `depends-on` (tasks run first). pytest-cov and coverage come from
//! `[pypi-dependencies]` / `[dependencies]` (a conda spec such as
//! `pytest-cov = ">=6"` reads like a PEP 440 specifier).

use std::path::Path;

use super::command::{self, Action, Install, Step};
use super::shell::Word;
use super::task;
use super::{Kind, Run};
use crate::config::coverage::FileLoader;
use crate::config::toml as tomlx;
use crate::config::versions::Requirement;
use crate::source::{Location, Source};

const MAX_DEPTH: usize = 4;

pub fn runs(root: &Path, loader: &mut dyn FileLoader) -> Vec<Run> {
    let (source, base): (Source, &[&str]) = match loader.load(&root.join("pixi.toml")) {
        Some(Ok(source)) => (source, &[]),
        _ => match loader.load(&root.join("pyproject.toml")) {
            Some(Ok(source)) => (source, &["tool", "pixi"]),
            _ => return Vec::new(),
        },
    };
    let Ok(doc) = loader.toml(&source) else {
        return Vec::new();
    };
    let at = |path: &[&str]| -> Option<&toml_edit::Item> {
        let full: Vec<&str> = base.iter().chain(path).copied().collect();
        tomlx::table_at(&doc, &full)
    };
    let file = crate::rules::relative(root, &source.path);
    // The dependencies every task's environment gets (the default
    // environment), and each feature's own.
    let mut installs = Vec::new();
    for table in [at(&["pypi-dependencies"]), at(&["dependencies"])]
        .into_iter()
        .flatten()
    {
        installs.extend(dependencies(&source, table, &file));
    }
    let mut tables: Vec<(String, &toml_edit::Item, Vec<Step>)> = Vec::new();
    if let Some(tasks) = at(&["tasks"]) {
        tables.push((String::new(), tasks, Vec::new()));
    }
    if let Some(features) = at(&["feature"]).and_then(|f| f.as_table_like()) {
        for (name, feature) in features.iter() {
            let mut own = Vec::new();
            for key in ["pypi-dependencies", "dependencies"] {
                if let Some(t) = feature.get(key) {
                    own.extend(dependencies(&source, t, &file));
                }
            }
            if let Some(tasks) = feature.get("tasks") {
                tables.push((name.to_string(), tasks, own));
            }
        }
    }
    let mut out = Vec::new();
    for (feature, tasks, own) in tables {
        let Some(tasks) = tasks.as_table_like() else {
            continue;
        };
        for (name, item) in tasks.iter() {
            let mut steps = installs.clone();
            steps.extend(own.iter().cloned());
            steps.extend(task_steps(
                root,
                &source,
                tasks,
                name,
                0,
                &mut Default::default(),
            ));
            let label = if feature.is_empty() {
                format!("pixi task `{name}`")
            } else {
                format!("pixi task `{name}` (feature `{feature}`)")
            };
            let mut run = Run::new(
                Kind::Pixi,
                label,
                Some(Location::new(
                    &source,
                    tomlx::item_span(item).unwrap_or_default(),
                )),
            );
            run.apply(&steps);
            if run.test.is_some() {
                out.push(run);
            }
        }
    }
    out
}

fn dependencies(source: &Source, table: &toml_edit::Item, file: &str) -> Vec<Step> {
    let mut out = Vec::new();
    for (name, value) in table.as_table_like().into_iter().flat_map(|t| t.iter()) {
        let spec = value
            .as_str()
            .or_else(|| value.as_table_like()?.get("version")?.as_str())
            .unwrap_or("*");
        // A bare conda version (`6.*`, `7.1.0`) means `==`.
        let spec = match spec {
            "*" => String::new(),
            s if s.starts_with(|c: char| c.is_ascii_digit()) => format!("=={s}"),
            s => s.to_string(),
        };
        let location = Location::new(source, tomlx::item_span(value).unwrap_or_default());
        if let Some(r) = Requirement::parse(
            &format!("{name}{spec}"),
            &format!("{file} pixi dependencies"),
            Some(location.clone()),
        ) {
            out.push(Step {
                action: Action::Install(Install {
                    requirements: vec![r],
                    ..Install::default()
                }),
                location,
            });
        }
    }
    out
}

fn task_steps(
    root: &Path,
    source: &Source,
    tasks: &dyn toml_edit::TableLike,
    name: &str,
    depth: usize,
    ran: &mut std::collections::BTreeSet<String>,
) -> Vec<Step> {
    let Some(item) = tasks.get(name) else {
        return Vec::new();
    };
    // pixi runs each task of a run once, however many tasks depend on it.
    if !ran.insert(name.to_string()) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut commands: Vec<Vec<Word>> = Vec::new();
    if let Some(value) = item.as_value().filter(|v| v.is_str()) {
        commands.extend(task::cmd_commands(source, value));
    } else if let Some(table) = item.as_table_like() {
        if depth < MAX_DEPTH {
            let depends = table.get("depends-on").or_else(|| table.get("depends_on"));
            for dep in depends.and_then(tomlx::strings).unwrap_or_default() {
                out.extend(task_steps(root, source, tasks, &dep, depth + 1, ran));
            }
        }
        out.extend(task::env_steps(source, table.get("env")));
        if let Some(v) = table.get("cmd").and_then(|c| c.as_value()) {
            commands.extend(task::cmd_commands(source, v));
        }
    }
    for words in commands {
        out.extend(command::classify(source, &words, root, root));
    }
    out
}
