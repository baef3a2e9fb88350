//! PDM scripts: `[tool.pdm.scripts]` in pyproject.toml. A script is a
//! string (`test = "pytest --cov"`), or a table with `cmd` (a string or a
//! list of words), `shell`, or `composite` (other scripts in turn), and
//! `env`. `pdm run` installs from pdm.lock.

use std::path::Path;

use super::command::{self, Step};
use super::shell::Word;
use super::task;
use super::{Kind, Run};
use crate::config::coverage::FileLoader;
use crate::config::toml as tomlx;
use crate::source::{Location, Source};

const MAX_DEPTH: usize = 4;
/// How many script expansions one run may take, however scripts name
/// each other (forty names at each of five levels is 40^5): a bound on work.
const MAX_EXPANSIONS: usize = 1024;

pub fn runs(root: &Path, loader: &mut dyn FileLoader) -> Vec<Run> {
    let Some(Ok(source)) = loader.load(&root.join("pyproject.toml")) else {
        return Vec::new();
    };
    let Ok(doc) = loader.toml(&source) else {
        return Vec::new();
    };
    let Some(scripts) =
        tomlx::table_at(&doc, &["tool", "pdm", "scripts"]).and_then(|s| s.as_table_like())
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, item) in scripts.iter() {
        if name == "_" {
            continue;
        }
        let steps = script_steps(root, &source, scripts, name, 0, &mut MAX_EXPANSIONS.clone());
        let mut run = Run::new(
            Kind::Pdm,
            format!("pdm script `{name}`"),
            Some(Location::new(
                &source,
                tomlx::item_span(item).unwrap_or_default(),
            )),
        );
        run.installs
            .locks
            .push(("pdm.lock".to_string(), run.declared.clone()));
        run.installs.project = Some(crate::config::versions::Selected {
            all: true,
            ..Default::default()
        });
        run.apply(&steps);
        if run.test.is_some() {
            out.push(run);
        }
    }
    out
}

fn script_steps(
    root: &Path,
    source: &Source,
    scripts: &dyn toml_edit::TableLike,
    name: &str,
    depth: usize,
    budget: &mut usize,
) -> Vec<Step> {
    let Some(item) = scripts.get(name) else {
        return Vec::new();
    };
    if *budget == 0 {
        return Vec::new();
    }
    *budget -= 1;
    let mut out = Vec::new();
    let mut commands: Vec<Vec<Word>> = Vec::new();
    if let Some(value) = item.as_value().filter(|v| v.is_str()) {
        commands.extend(task::cmd_commands(source, value));
    } else if let Some(table) = item.as_table_like() {
        out.extend(task::env_steps(source, table.get("env")));
        for key in ["cmd", "shell"] {
            if let Some(v) = table.get(key).and_then(|c| c.as_value()) {
                commands.extend(task::cmd_commands(source, v));
            }
        }
        for part in table
            .get("composite")
            .and_then(|c| c.as_array())
            .into_iter()
            .flatten()
        {
            commands.extend(task::cmd_commands(source, part));
        }
    }
    for words in commands {
        if let Some(first) = words.first()
            && first.text != name
            && scripts.get(&first.text).is_some()
            && depth < MAX_DEPTH
        {
            out.extend(script_steps(
                root,
                source,
                scripts,
                &first.text,
                depth + 1,
                budget,
            ));
            continue;
        }
        out.extend(command::classify(source, &words, root, root));
    }
    out
}
