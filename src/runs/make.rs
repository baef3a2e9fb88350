//! Makefile (and justfile) recipes. A target whose recipe runs pytest is a
//! run of its own (called by hand, in the developer's environment); a CI
//! step `make test` runs the recipe in the CI job, which the CI sources
//! expand. Simple variables (`PYTHON ?= python3`, `PYTEST = $(PYTHON) -m
//! pytest`) are substituted in recipe words; other expansions stay
//! unresolved.

use std::collections::BTreeMap;
use std::path::Path;

use super::command::{self, Step};
use super::shell;
use super::{Kind, Run};
use crate::config::coverage::FileLoader;
use crate::source::{Location, Source, Span};

/// A target and what its recipe does.
#[derive(Clone, Debug)]
pub struct Target {
    pub name: String,
    pub steps: Vec<Step>,
    /// Targets it depends on or calls (`test: install`).
    pub prerequisites: Vec<String>,
    pub run: Run,
}

const MAX_TARGETS: usize = 512;

pub fn targets(root: &Path, loader: &mut dyn FileLoader) -> Vec<Target> {
    for (name, just) in [
        ("Makefile", false),
        ("makefile", false),
        ("GNUmakefile", false),
        ("justfile", true),
        ("Justfile", true),
    ] {
        if let Some(Ok(source)) = loader.load(&root.join(name)) {
            return parse(root, &source, just);
        }
    }
    Vec::new()
}

fn parse(root: &Path, source: &Source, just: bool) -> Vec<Target> {
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    let mut out: Vec<Target> = Vec::new();
    let mut current: Option<(String, usize, Vec<String>, Vec<Step>)> = None;
    let mut offset = 0;
    let flush = |current: &mut Option<(String, usize, Vec<String>, Vec<Step>)>,
                 out: &mut Vec<Target>| {
        if let Some((name, at, prerequisites, steps)) = current.take()
            && out.len() < MAX_TARGETS
        {
            let mut run = Run::new(
                Kind::Make,
                if just {
                    format!("just `{name}`")
                } else {
                    format!("make `{name}`")
                },
                Some(Location::new(source, Span::new(at, at + name.len()))),
            );
            run.installs.local_environment = true;
            run.apply(&steps);
            out.push(Target {
                name,
                steps,
                prerequisites,
                run,
            });
        }
    };
    for line in source.text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let text = line.trim_end_matches(['\n', '\r']);
        let recipe = text.starts_with('\t') || (just && text.starts_with(' ') && current.is_some());
        if recipe {
            if let Some((_, _, _, steps)) = &mut current {
                let body = text.trim_start();
                let body_at = start + (text.len() - body.len());
                // `@cmd` and `-cmd` prefixes.
                let skip = body.len() - body.trim_start_matches(['@', '-', '+']).len();
                for words in shell::commands(&body[skip..], body_at + skip) {
                    let words = shell::substitute(&words, &vars);
                    steps.extend(command::classify(source, &words, root, root));
                }
            }
            continue;
        }
        if text.trim().is_empty() || text.trim_start().starts_with('#') {
            continue;
        }
        // `VAR ?= value`, `VAR := value`, `VAR = value`, just's `var := value`.
        if let Some((name, value)) = assignment(text) {
            vars.insert(name.to_string(), value.trim().to_string());
            continue;
        }
        if let Some((targets, rest)) = text.split_once(':')
            && !rest.starts_with('=')
        {
            flush(&mut current, &mut out);
            let name = targets.split_whitespace().next().unwrap_or("").to_string();
            if name.starts_with('.') || name.is_empty() || name.contains('%') {
                continue;
            }
            let at = start + text.find(&name).unwrap_or(0);
            let prerequisites = rest
                .split_whitespace()
                .take_while(|w| !w.starts_with('#'))
                .map(str::to_string)
                .collect();
            current = Some((name, at, prerequisites, Vec::new()));
        }
    }
    flush(&mut current, &mut out);
    // A target's prerequisites run first: `test: install` installs.
    let snapshot = out.clone();
    for target in &mut out {
        let mut steps = Vec::new();
        for pre in &target.prerequisites {
            if let Some(p) = snapshot.iter().find(|t| &t.name == pre) {
                steps.extend(p.steps.iter().cloned());
            }
        }
        if !steps.is_empty() {
            steps.extend(target.steps.iter().cloned());
            target.run.apply(&steps);
            target.steps = steps;
        }
    }
    out
}

fn assignment(text: &str) -> Option<(&str, &str)> {
    for op in ["?=", ":=", "::=", "+=", "="] {
        if let Some((name, value)) = text.split_once(op) {
            let name = name.trim().trim_start_matches("export ").trim();
            if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Some((name, value));
            }
        }
    }
    None
}
