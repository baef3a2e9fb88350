//! `relative-cov-source`: see rules/relative-cov-source.md.

use std::path::{Path, PathBuf};

use super::cov_config_not_passed::elsewhere;
use super::{Context, Rule, launch_label, launch_labels, python_launches};
use crate::analyze::command::{Entry, Token};
use crate::analyze::{Child, LaunchKind};
use crate::diagnostic::{Diagnostic, Severity};

pub static RULE: Rule = Rule {
    claims_loss: true,
    name: "relative-cov-source",
    summary: "with pytest-cov < 7, a relative `--cov` source does not match a child script run in another directory",
    severity: Severity::Error,
    scope: super::Scope::Child,
    doc: include_str!("../../rules/relative-cov-source.md"),
    check: super::Check::Project(check),
};

fn check(cx: &Context<'_>) -> Vec<Diagnostic> {
    // pytest-cov 7 measures children through coverage's patch, which makes
    // `source` absolute when it passes the configuration on.
    if !cx.run.versions.pytest_cov_below_7() || cx.run.cov.disabled.is_some() {
        return Vec::new();
    }
    let root = &cx.config.root;
    // Relative sources that are directories of the project's code.
    let sources: Vec<(&String, &crate::config::pytest::Arg, PathBuf)> = cx
        .run
        .cov
        .sources
        .iter()
        .filter(|(value, _)| !value.is_empty() && !Path::new(value).is_absolute())
        .map(|(value, arg)| (value, arg, crate::source::normalize(&root.join(value))))
        // A directory of the project's Python files (no file system access:
        // the files were found by discovery).
        .filter(|(_, _, dir)| cx.python.paths.iter().any(|p| p.starts_with(dir)))
        .collect();
    if sources.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (_, launch) in python_launches(cx.python) {
        if launch.kind == LaunchKind::Multiprocessing {
            continue;
        }
        let Some(cwd) = &launch.cwd else { continue };
        let Some(where_) = elsewhere(&cwd.place, root) else {
            continue;
        };
        // Started by the path of a script inside the source directory: the
        // script runs as `__main__`, so the source never matches it as a
        // package either.
        let Child::Python {
            entry: Some(Entry::Script(Token::Path(script))),
            ..
        } = &launch.child
        else {
            continue;
        };
        let script = crate::source::normalize(script);
        let Some((value, arg, _)) = sources.iter().find(|(_, _, dir)| script.starts_with(dir))
        else {
            continue;
        };
        out.push(
            RULE.diagnostic(
                launch.location.clone(),
                launch_label(launch),
                format!(
                    "this Python child runs the script {} in {where_}, where pytest-cov < 7 passes `--cov={value}` on as the relative source `{value}`: it is not a directory there and the script is not imported as a package, so none of its lines are recorded",
                    super::relative(root, &script)
                ),
            )
            .labels(launch_labels(launch).into_iter().skip(1).collect())
            .label(cwd.location.clone(), format!("the child runs in {where_}"))
            .label(arg.location.clone(), "a relative source")
            .help(format!(
                "run the child as a module (`python -m {}` with the package importable there), start it in the project's directory, or move to pytest-cov >= 7 with `patch = [\"subprocess\"]`, which passes the source on as an absolute path",
                module_name(root, &script).unwrap_or_else(|| "package.module".into())
            )),
        );
    }
    out
}

/// `app.cli` for `<root>/app/cli.py`.
fn module_name(root: &Path, script: &Path) -> Option<String> {
    let rel = script.strip_prefix(root).ok()?.with_extension("");
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("."))
}
