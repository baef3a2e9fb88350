//! What the TOML task tables of pdm scripts, pixi tasks and hatch scripts
//! share: a command given as a string (split like a shell line, located in
//! the file when it stands there verbatim) or as a list of words, and an
//! `env` table.

use super::command::{Action, Step};
use super::shell::{self, Word};
use crate::config::toml as tomlx;
use crate::source::{Location, Source, Span};

/// A string value's commands, located in the file when the string stands
/// there verbatim (no escapes), else at the value. `prepare` may blank
/// placeholders (`{args}`) without changing the text's length.
pub fn string_commands(
    source: &Source,
    value: &toml_edit::Value,
    prepare: impl Fn(&str) -> String,
) -> Vec<Vec<Word>> {
    let Some(text) = value.as_str() else {
        return Vec::new();
    };
    let span = value.span().map(Span::from).unwrap_or_default();
    let verbatim = source.text.get(span.start + 1..span.end.saturating_sub(1)) == Some(text);
    let offset = if verbatim { span.start + 1 } else { span.start };
    let mut commands = shell::commands(&prepare(text), offset);
    if !verbatim {
        for w in commands.iter_mut().flatten() {
            w.span = span;
        }
    }
    commands
}

/// `cmd = "pytest --cov"` or `cmd = ["pytest", "--cov"]`.
pub fn cmd_commands(source: &Source, value: &toml_edit::Value) -> Vec<Vec<Word>> {
    match value {
        v if v.is_str() => string_commands(source, v, str::to_string),
        toml_edit::Value::Array(words) => vec![
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
        ],
        _ => Vec::new(),
    }
}

/// An `env = { K = "v" }` table as steps.
pub fn env_steps(source: &Source, env: Option<&toml_edit::Item>) -> Vec<Step> {
    let mut out = Vec::new();
    for (k, v) in env
        .and_then(|e| e.as_table_like())
        .into_iter()
        .flat_map(|t| t.iter())
    {
        if let Some(text) = v.as_str() {
            out.push(Step {
                action: Action::SetEnv(k.to_string(), text.to_string()),
                location: Location::new(source, tomlx::item_span(v).unwrap_or_default()),
            });
        }
    }
    out
}
