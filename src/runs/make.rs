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
            if !just && let Some(problem) = recursive_variable(&source) {
                loader.report(problem);
            }
            return parse(root, &source, just);
        }
    }
    Vec::new()
}

/// A rule as written: its name, where, its prerequisites and its recipe's
/// commands before variables are substituted.
struct Rule {
    name: String,
    at: usize,
    prerequisites: Vec<String>,
    commands: Vec<Vec<shell::Word>>,
}

fn parse(root: &Path, source: &Source, just: bool) -> Vec<Target> {
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    // Target-specific variables: `test-cover: COV=--cov=pkg`; make gives
    // them to the target's prerequisites too.
    let mut target_vars: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut in_define = false;
    let mut rules: Vec<Rule> = Vec::new();
    let mut offset = 0;
    for line in source.text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let text = line.trim_end_matches(['\n', '\r']);
        // `define NAME ... endef` holds text, not rules.
        if !just {
            let t = text.trim_start();
            if t.starts_with("define ") {
                in_define = true;
                continue;
            }
            if in_define {
                in_define = !t.starts_with("endef");
                continue;
            }
        }
        let recipe = text.starts_with('\t') || (just && text.starts_with(' ') && !rules.is_empty());
        if recipe {
            if let Some(rule) = rules.last_mut() {
                let body = text.trim_start();
                let body_at = start + (text.len() - body.len());
                // `@cmd` and `-cmd` prefixes.
                let skip = body.len() - body.trim_start_matches(['@', '-', '+']).len();
                rule.commands
                    .extend(shell::commands(&body[skip..], body_at + skip));
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
        let Some((targets, rest)) = text.split_once(':') else {
            continue;
        };
        if rest.starts_with('=') {
            continue;
        }
        if let Some((name, value)) = assignment(rest.trim_start())
            && !rest.trim_start().starts_with('$')
        {
            for target in targets.split_whitespace() {
                target_vars
                    .entry(target.to_string())
                    .or_default()
                    .insert(name.to_string(), value.trim().to_string());
            }
            continue;
        }
        let name = targets.split_whitespace().next().unwrap_or("").to_string();
        if name.starts_with('.')
            || name.is_empty()
            || name.contains('%')
            || rules.len() >= MAX_TARGETS
        {
            // Still ends the previous recipe.
            rules.push(Rule {
                name: String::new(),
                at: start,
                prerequisites: Vec::new(),
                commands: Vec::new(),
            });
            continue;
        }
        let at = start + text.find(&name).unwrap_or(0);
        let prerequisites = rest
            .split_whitespace()
            .take_while(|w| !w.starts_with('#'))
            .map(str::to_string)
            .collect();
        rules.push(Rule {
            name,
            at,
            prerequisites,
            commands: Vec::new(),
        });
    }
    rules.retain(|r| !r.name.is_empty());
    // The steps of a target: its prerequisites' recipes, then its own, with
    // its variables (bounded depth). As make does, each target is made once
    // per run, and a circular dependency is dropped.
    fn steps_of(
        rules: &[Rule],
        name: &str,
        vars: &BTreeMap<String, String>,
        root: &Path,
        source: &Source,
        depth: usize,
        made: &mut std::collections::BTreeSet<String>,
    ) -> Vec<Step> {
        let mut out = Vec::new();
        if !made.insert(name.to_string()) {
            return out;
        }
        for rule in rules.iter().filter(|r| r.name == name) {
            if depth < 4 {
                for pre in &rule.prerequisites {
                    out.extend(steps_of(rules, pre, vars, root, source, depth + 1, made));
                }
            }
            for words in &rule.commands {
                let words = shell::substitute(words, vars);
                out.extend(command::classify(source, &words, root, root));
            }
        }
        out
    }
    let mut out = Vec::new();
    for rule in &rules {
        if out.iter().any(|t: &Target| t.name == rule.name) {
            continue;
        }
        let mut scope = vars.clone();
        scope.extend(target_vars.get(&rule.name).cloned().unwrap_or_default());
        let steps = steps_of(
            &rules,
            &rule.name,
            &scope,
            root,
            source,
            0,
            &mut Default::default(),
        );
        let mut run = Run::new(
            Kind::Make,
            if just {
                format!("just `{}`", rule.name)
            } else {
                format!("make `{}`", rule.name)
            },
            Some(Location::new(
                source,
                Span::new(rule.at, rule.at + rule.name.len()),
            )),
        );
        run.installs.local_environment = true;
        run.apply(&steps);
        out.push(Target {
            name: rule.name.clone(),
            steps,
            run,
        });
    }
    out
}

/// A recursively expanded variable (`A = ...`) whose value refers to
/// itself, directly or through other such variables, and that a recipe
/// uses: make stops with "Recursive variable 'A' references itself
/// (eventually)" when it expands it.
fn recursive_variable(source: &Source) -> Option<crate::problem::Problem> {
    let mut recursive: BTreeMap<&str, (&str, usize)> = BTreeMap::new();
    let mut recipes = String::new();
    let mut offset = 0;
    for line in source.text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let text = line.trim_end_matches(['\n', '\r']);
        if text.starts_with('\t') {
            recipes.push_str(text);
            recipes.push('\n');
            continue;
        }
        if text.trim_start().starts_with('#') {
            continue;
        }
        // Only `=` (and `?=`) defer expansion; `:=` and `::=` expand at once.
        for (op, deferred) in [
            ("::=", false),
            (":=", false),
            ("?=", true),
            ("+=", true),
            ("=", true),
        ] {
            if let Some((name, value)) = text.split_once(op) {
                let name = name.trim().trim_start_matches("export ").trim();
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    if deferred {
                        let at = start + text.find(name).unwrap_or(0);
                        recursive.insert(name, (value, at));
                    } else {
                        recursive.remove(name);
                    }
                    break;
                }
            }
        }
    }
    let refers = |value: &str, name: &str| {
        value.contains(&format!("$({name})")) || value.contains(&format!("${{{name}}}"))
    };
    for (&name, &(_, at)) in &recursive {
        if !refers(&recipes, name) {
            continue;
        }
        // Follow the variables `name` refers to, looking for `name`.
        let mut seen = std::collections::BTreeSet::new();
        let mut queue = vec![name];
        let mut cycle = false;
        while let Some(var) = queue.pop() {
            let Some(&(value, _)) = recursive.get(var) else {
                continue;
            };
            if refers(value, name) {
                cycle = true;
                break;
            }
            for &other in recursive.keys() {
                if seen.len() < 256 && refers(value, other) && seen.insert(other) {
                    queue.push(other);
                }
            }
        }
        if cycle {
            return Some(crate::problem::Problem::invalid(
                Location::new(source, Span::new(at, at + name.len())),
                format!(
                    "the variable `{name}` refers to itself: make stops with \"Recursive variable '{name}' references itself (eventually)\""
                ),
            ));
        }
    }
    None
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

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(text: &str) -> Option<String> {
        let source = std::sync::Arc::new(crate::source::SourceFile::new(
            "Makefile".into(),
            text.to_string(),
        ));
        recursive_variable(&source).map(|p| p.message)
    }

    #[test]
    fn a_used_variable_that_refers_to_itself_is_an_error() {
        assert!(problem("A = $(A)\ntest:\n\tpytest $(A)\n").is_some());
        // Through another variable.
        let found = problem("A = $(B)\nB = x ${A}\ntest:\n\tpytest $(A)\n").unwrap();
        assert!(found.contains("`A`"), "{found}");
    }

    #[test]
    fn near_misses_are_not() {
        // `:=` expands at once: the old (empty) value.
        assert_eq!(problem("A := $(A) x\ntest:\n\tpytest $(A)\n"), None);
        // Never expanded by a recipe.
        assert_eq!(problem("A = $(A)\ntest:\n\tpytest\n"), None);
        // Refers to another variable only.
        assert_eq!(problem("B = y\nA = $(B)\ntest:\n\tpytest $(A)\n"), None);
        // `A = $(B:=c)` is an assignment to `A`, not to `A = $(B`.
        assert_eq!(problem("A = $(B:=c)\ntest:\n\tpytest $(A)\n"), None);
    }
}
