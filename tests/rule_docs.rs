//! Every rule page in `rules/` is checked: it has the required sections in
//! order, its "Example" makes the rule fire, its "Use instead" (the
//! Example's files with the ones it shows replaced) does not, and fixing the
//! Example (`--fix --unsafe-fixes`) gives exactly the "Use instead" files.
//! The rendered Example is a snapshot, so reviewers see the real message.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use covdoctor::rules::{ALL, Rule, Scope};
use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Parser, Tag, TagEnd};

const SECTIONS: &[&str] = &[
    "What it does",
    "Why is this bad?",
    "Example",
    "Use instead",
    "Fix",
    "Fix safety",
    "Applies to",
    "References",
];

/// A page: its H2 sections in order, and the files in code blocks with a
/// `title="path"` per section.
struct Page {
    sections: Vec<String>,
    files: BTreeMap<String, Vec<(String, String)>>,
}

fn parse(doc: &str) -> Page {
    let mut sections = Vec::new();
    let mut files: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut in_h2 = false;
    let mut heading = String::new();
    let mut block: Option<(String, String)> = None;
    for event in Parser::new(doc) {
        match event {
            Event::Start(Tag::Heading {
                level: HeadingLevel::H2,
                ..
            }) => {
                in_h2 = true;
                heading.clear();
            }
            Event::End(TagEnd::Heading(HeadingLevel::H2)) => {
                in_h2 = false;
                sections.push(heading.clone());
            }
            Event::Text(t) | Event::Code(t) if in_h2 => heading.push_str(&t),
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                if let Some(title) = info
                    .split("title=\"")
                    .nth(1)
                    .and_then(|t| t.split('"').next())
                {
                    block = Some((title.to_string(), String::new()));
                }
            }
            Event::Text(t) => {
                if let Some((_, text)) = &mut block {
                    text.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some(file) = block.take() {
                    let section = sections.last().cloned().unwrap_or_default();
                    files.entry(section).or_default().push(file);
                }
            }
            _ => {}
        }
    }
    Page { sections, files }
}

fn write(dir: &Path, files: &[(String, String)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn fires(rule: &Rule, dir: &Path) -> (bool, String) {
    let outcome = common::check(dir);
    assert!(
        outcome.problems.is_empty(),
        "{}: example has input problems: {:?}",
        rule.name,
        outcome.problems
    );
    let rendered = common::render(&outcome, dir);
    (
        outcome.diagnostics.iter().any(|d| d.rule == rule.name),
        rendered,
    )
}

#[test]
fn pages_have_the_required_sections() {
    for rule in ALL {
        let page = parse(rule.doc);
        let required: Vec<&String> = page
            .sections
            .iter()
            .filter(|s| SECTIONS.contains(&s.as_str()))
            .collect();
        assert_eq!(required, SECTIONS.to_vec(), "{}: sections", rule.name);
        if rule.scope == Scope::Environment {
            // An environment is shown as a shell session; its fixtures lay
            // it out on disk (see `environment_rules_have_environments`).
            assert!(
                rule.doc.contains("```console"),
                "{}: the Example shows no session",
                rule.name
            );
            continue;
        }
        assert!(
            !page.files.get("Example").is_none_or(Vec::is_empty),
            "{}: no example files",
            rule.name
        );
        assert!(
            !page.files.get("Use instead").is_none_or(Vec::is_empty),
            "{}: no fixed files",
            rule.name
        );
    }
}

#[test]
fn examples_fire_and_fixed_examples_do_not() {
    for rule in ALL.iter().filter(|r| r.scope != Scope::Environment) {
        let page = parse(rule.doc);
        let example = &page.files["Example"];
        let bad = tempfile::tempdir().unwrap();
        write(bad.path(), example);
        let (fired, rendered) = fires(rule, bad.path());
        assert!(
            fired,
            "{}: the Example does not fire:\n{rendered}",
            rule.name
        );
        let others: Vec<&str> = common::check(bad.path())
            .diagnostics
            .iter()
            .map(|d| d.rule)
            .filter(|r| *r != rule.name)
            .collect();
        assert!(
            others.is_empty(),
            "{}: the Example also fires {others:?}",
            rule.name
        );
        insta::assert_snapshot!(format!("rule_page__{}", rule.name), rendered);

        let good = tempfile::tempdir().unwrap();
        write(good.path(), example);
        write(good.path(), &page.files["Use instead"]);
        let (fired, rendered) = fires(rule, good.path());
        assert!(
            !fired,
            "{}: \"Use instead\" still fires:\n{rendered}",
            rule.name
        );
    }
}

/// An environment rule's page shows a session instead of files; its
/// proof is a `fires-*` fixture with an environment (`doctor.toml`) and a
/// near miss, and the page says it offers no fix.
#[test]
fn environment_rules_have_environments() {
    for rule in ALL.iter().filter(|r| r.scope == Scope::Environment) {
        let dir = common::repo().join("fixtures").join(rule.name);
        let cases = common::subdirs(&dir);
        let with_env = |prefix: &str| {
            cases.iter().any(|c| {
                c.file_name().unwrap().to_string_lossy().starts_with(prefix)
                    && c.join("doctor.toml").is_file()
            })
        };
        assert!(with_env("fires-"), "{}: no fires-* environment", rule.name);
        assert!(with_env("ok-"), "{}: no ok-* environment", rule.name);
        assert!(rule.doc.contains("No fix is offered"), "{}", rule.name);
    }
}

#[test]
fn every_page_belongs_to_a_rule() {
    let dir = common::repo().join("rules");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.extension().is_some_and(|e| e == "md") && name != "README" {
            assert!(
                covdoctor::rules::by_name(&name).is_some(),
                "rules/{name}.md has no rule"
            );
        }
    }
}

#[test]
fn fixing_the_example_gives_the_fixed_example() {
    for rule in ALL.iter().filter(|r| r.scope != Scope::Environment) {
        let page = parse(rule.doc);
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &page.files["Example"]);
        let run = covdoctor::fix::run(
            &[dir.path().to_path_buf()],
            &covdoctor::RunOptions::default(),
            true,
        );
        assert!(run.problems.is_empty(), "{}: {:?}", rule.name, run.problems);
        if run.changes.is_empty() {
            // A rule without a fix for its example says so on its page.
            assert!(
                rule.doc.contains("No fix is offered"),
                "{}: the Example has no fix",
                rule.name
            );
            continue;
        }
        for (path, change) in &run.changes {
            covdoctor::fix::write::write_change(path, change).unwrap();
        }
        let mut expected: BTreeMap<String, String> =
            page.files["Example"].iter().cloned().collect();
        expected.extend(page.files["Use instead"].iter().cloned());
        let mut actual = BTreeMap::new();
        for entry in walk(dir.path()) {
            let name = entry
                .strip_prefix(dir.path())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            actual.insert(name, std::fs::read_to_string(&entry).unwrap());
        }
        for (name, text) in &expected {
            // A file the fix deletes is absent; the page shows it emptied.
            match actual.get(name) {
                Some(got) => assert_eq!(
                    got, text,
                    "{}: fixed {name} differs from the page",
                    rule.name
                ),
                None => assert!(text.is_empty(), "{}: the fix removed {name}", rule.name),
            }
        }
        for name in actual.keys() {
            assert!(
                expected.contains_key(name),
                "{}: the fix created {name}, which the page does not show",
                rule.name
            );
        }
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
