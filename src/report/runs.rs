//! `covdoctor runs`: the runs covdoctor found, as text or JSON. What
//! covdoctor believes about how the tests are run, so that a user can see
//! (and correct) it.

use serde::Serialize;

use super::{Style, display_path};
use crate::ProjectRuns;
use crate::config::versions::Detected;
use crate::runs::{Mechanism, View};
use crate::source::Location;

#[derive(Serialize)]
struct JsonRuns {
    version: u32,
    projects: Vec<JsonProject>,
}

#[derive(Serialize)]
struct JsonProject {
    root: String,
    runs: Vec<JsonRun>,
}

#[derive(Serialize)]
struct JsonPackage {
    version: Option<String>,
    /// "from uv.lock", or the requirement a fresh install resolved.
    source: Option<String>,
    path: Option<String>,
    line: Option<usize>,
}

#[derive(Serialize)]
struct JsonRun {
    kind: &'static str,
    name: String,
    path: Option<String>,
    line: Option<usize>,
    pytest_cov: JsonPackage,
    coverage: JsonPackage,
    pytest_args: Vec<String>,
    coverage_run: bool,
    measures: bool,
    children: String,
    env: Vec<(String, String)>,
    unresolved: Vec<String>,
}

fn place(location: Option<&Location>, style: &Style) -> (Option<String>, Option<usize>) {
    match location {
        Some(l) => (
            Some(display_path(&l.file.path, &style.cwd)),
            Some(l.file.line_col(l.span.start).0),
        ),
        None => (None, None),
    }
}

fn package(d: &Detected, name: &str, style: &Style) -> JsonPackage {
    let (path, line) = place(d.source.as_ref().and_then(|s| s.location.as_ref()), style);
    JsonPackage {
        version: d.version.as_ref().map(ToString::to_string),
        source: d.source.as_ref().map(|_| d.describe(name)),
        path,
        line,
    }
}

/// What the children of a run get, in words.
fn children(view: &View, mechanism: Mechanism) -> String {
    if !view.measures {
        return "not measured: this run measures no coverage".to_string();
    }
    mechanism.to_string()
}

fn measures(view: &View) -> &'static str {
    match (
        view.measures,
        view.coverage_run.is_some(),
        view.pytest_cov_active(),
    ) {
        (false, _, _) => "no (no `--cov`, no `coverage run`)",
        (true, true, _) => "yes, `coverage run`",
        (true, false, true) => "yes, pytest-cov (`--cov`)",
        (true, false, false) => {
            "assumed (the project's coverage settings and requirements; no run says how)"
        }
    }
}

/// A pytest argument, with an absolute path into the project (tox's
/// `{toxinidir}`) shown relative to where covdoctor runs.
fn arg_text(text: &str, root: &std::path::Path, style: &Style) -> String {
    let absolute = root.to_string_lossy();
    if !text.contains(absolute.as_ref()) {
        return text.to_string();
    }
    let shown = display_path(root, &style.cwd);
    text.replace(
        absolute.as_ref(),
        if shown.is_empty() { "." } else { &shown },
    )
}

pub fn render_text(projects: &[ProjectRuns], style: &Style) -> String {
    let mut out = String::new();
    for project in projects {
        let root = display_path(&project.root, &style.cwd);
        out.push_str(&format!("{}\n", if root.is_empty() { "." } else { &root }));
        for (view, mechanism) in &project.runs {
            out.push_str(&format!("  {}\n", view.run.describe(&project.root)));
            out.push_str(&format!(
                "    pytest-cov: {}\n",
                view.versions.pytest_cov.describe("pytest-cov")
            ));
            out.push_str(&format!(
                "    coverage:   {}\n",
                view.versions.coverage.describe("coverage")
            ));
            let args: Vec<String> = view
                .args
                .iter()
                .map(|a| arg_text(&a.text, &project.root, style))
                .collect();
            out.push_str(&format!(
                "    pytest:     {}{}\n",
                if view.coverage_run.is_some() {
                    "coverage run -m pytest"
                } else {
                    "pytest"
                },
                if args.is_empty() {
                    String::new()
                } else {
                    format!(" {}", args.join(" "))
                }
            ));
            if let Some((dir, _)) = &view.run.cwd {
                out.push_str(&format!("    cwd:        {}\n", dir.display()));
            }
            out.push_str(&format!("    measures:   {}\n", measures(view)));
            out.push_str(&format!("    children:   {}\n", children(view, *mechanism)));
            for (k, (v, _)) in &view.run.env {
                out.push_str(&format!("    env:        {k}={v}\n"));
            }
            for u in &view.run.unresolved {
                out.push_str(&format!("    unresolved: {u}\n"));
            }
        }
    }
    out
}

pub fn render_json(projects: &[ProjectRuns], style: &Style) -> String {
    let doc = JsonRuns {
        version: 1,
        projects: projects
            .iter()
            .map(|p| JsonProject {
                root: display_path(&p.root, &style.cwd),
                runs: p
                    .runs
                    .iter()
                    .map(|(v, m)| {
                        let (path, line) = place(v.run.declared.as_ref(), style);
                        JsonRun {
                            kind: v.run.kind.as_str(),
                            name: v.run.name.clone(),
                            path,
                            line,
                            pytest_cov: package(&v.versions.pytest_cov, "pytest-cov", style),
                            coverage: package(&v.versions.coverage, "coverage", style),
                            pytest_args: v
                                .args
                                .iter()
                                .map(|a| arg_text(&a.text, &p.root, style))
                                .collect(),
                            coverage_run: v.coverage_run.is_some(),
                            measures: v.measures,
                            children: children(v, *m),
                            env: v
                                .run
                                .env
                                .iter()
                                .map(|(k, (val, _))| (k.clone(), val.clone()))
                                .collect(),
                            unresolved: v.run.unresolved.clone(),
                        }
                    })
                    .collect(),
            })
            .collect(),
    };
    let mut out = serde_json::to_string_pretty(&doc).expect("serializable");
    out.push('\n');
    out
}
