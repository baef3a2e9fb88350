//! PDM scripts: `[tool.pdm.scripts]` in pyproject.toml. A script is a
//! string (`test = "pytest --cov"`), or a table with `cmd` (a string or a
//! list of words), `shell`, or `composite` (other scripts in turn), and
//! `env`. `pdm run` installs from pdm.lock.

use std::path::Path;

use super::command::{self, Action, Step};
use super::shell::{self, Word};
use super::{Kind, Run};
use crate::config::coverage::FileLoader;
use crate::config::toml as tomlx;
use crate::source::{Location, Source, Span};

const MAX_DEPTH: usize = 4;

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
        let steps = script_steps(root, &source, scripts, name, 0);
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

/// A string value's words, located in the file when it stands there
/// verbatim (no escapes), else at the value.
pub fn string_words(source: &Source, value: &toml_edit::Value) -> Vec<Vec<Word>> {
    let Some(text) = value.as_str() else {
        return Vec::new();
    };
    let span = value.span().map(Span::from).unwrap_or_default();
    let verbatim = source.text.get(span.start + 1..span.end.saturating_sub(1)) == Some(text);
    let offset = if verbatim { span.start + 1 } else { span.start };
    let mut commands = shell::commands(text, offset);
    if !verbatim {
        for w in commands.iter_mut().flatten() {
            w.span = span;
        }
    }
    commands
}

fn script_steps(
    root: &Path,
    source: &Source,
    scripts: &dyn toml_edit::TableLike,
    name: &str,
    depth: usize,
) -> Vec<Step> {
    let Some(item) = scripts.get(name) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut commands: Vec<Vec<Word>> = Vec::new();
    if let Some(value) = item.as_value().filter(|v| v.is_str()) {
        commands.extend(string_words(source, value));
    } else if let Some(table) = item.as_table_like() {
        if let Some(env) = table.get("env").and_then(|e| e.as_table_like()) {
            for (k, v) in env.iter() {
                if let Some(text) = v.as_str() {
                    out.push(Step {
                        action: Action::SetEnv(k.to_string(), text.to_string()),
                        location: Location::new(source, tomlx::item_span(v).unwrap_or_default()),
                    });
                }
            }
        }
        for key in ["cmd", "shell"] {
            match table.get(key).and_then(|c| c.as_value()) {
                Some(v) if v.is_str() => commands.extend(string_words(source, v)),
                Some(toml_edit::Value::Array(words)) => commands.push(
                    words
                        .iter()
                        .filter_map(|w| {
                            Some(Word {
                                text: w.as_str()?.to_string(),
                                span: w.span().map(Span::from).unwrap_or_default(),
                                expands: false,
                            })
                        })
                        .collect(),
                ),
                _ => {}
            }
        }
        for part in table
            .get("composite")
            .and_then(|c| c.as_array())
            .into_iter()
            .flatten()
        {
            commands.extend(string_words(source, part));
        }
    }
    for words in commands {
        if let Some(first) = words.first()
            && first.text != name
            && scripts.get(&first.text).is_some()
            && depth < MAX_DEPTH
        {
            out.extend(script_steps(root, source, scripts, &first.text, depth + 1));
            continue;
        }
        out.extend(command::classify(source, &words, root, root));
    }
    out
}
