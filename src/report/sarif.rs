//! `--output-format sarif`: SARIF 2.1.0 as GitHub code scanning reads it.
//! The document is built from `serde-sarif`'s typed structures, so every
//! field has the name and type the specification gives it.

use std::collections::BTreeMap;
use std::path::Path;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_sarif::sarif;

use super::{Results, Style};
use crate::diagnostic::{Diagnostic, Severity};
use crate::problem::Problem;
use crate::rules::{self, Rule};
use crate::source::Location;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// Relative paths are relative to this base, the directory covdoctor ran
/// in (GitHub resolves it to the repository's root).
const SRCROOT: &str = "%SRCROOT%";

/// Characters a URI path segment keeps as they are (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub fn render_sarif(results: &Results<'_>, style: &Style) -> String {
    let rule_index: BTreeMap<&str, usize> = rules::ALL
        .iter()
        .enumerate()
        .map(|(i, r)| (r.name, i))
        .collect();
    let mut driver = sarif::ToolComponent::builder()
        .name("covdoctor")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .rules(rules::ALL.iter().map(|r| descriptor(r)).collect::<Vec<_>>())
        .build();
    let repository = env!("CARGO_PKG_REPOSITORY");
    if !repository.is_empty() {
        driver.information_uri = Some(repository.to_string());
    }
    let findings: Vec<sarif::Result> = results
        .diagnostics
        .iter()
        .map(|d| result(d, rule_index[d.rule], style))
        .collect();
    let notifications: Vec<sarif::Notification> = results
        .problems
        .iter()
        .map(|p| notification(p, style))
        .collect();
    let invocation = sarif::Invocation::builder()
        .execution_successful(crate::problem::errors(results.problems) == 0)
        .tool_execution_notifications(notifications)
        .build();
    let mut run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .results(findings)
        .invocations(vec![invocation])
        .column_kind(serde_json::json!("unicodeCodePoints"))
        .build();
    if let Some(root) = directory_uri(&style.cwd) {
        let mut bases = BTreeMap::new();
        bases.insert(
            SRCROOT.to_string(),
            sarif::ArtifactLocation::builder().uri(root).build(),
        );
        run.original_uri_base_ids = Some(bases);
    }
    let log = sarif::Sarif::builder()
        .schema(SCHEMA)
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build();
    let mut out = serde_json::to_string_pretty(&log).expect("serializable");
    out.push('\n');
    out
}

/// A rule as SARIF describes it: its summary, its page as help (text and
/// markdown), and its level.
fn descriptor(rule: &Rule) -> sarif::ReportingDescriptor {
    sarif::ReportingDescriptor::builder()
        .id(rule.name)
        .name(rule.name)
        .short_description(
            sarif::MultiformatMessageString::builder()
                .text(rule.summary)
                .build(),
        )
        .full_description(
            sarif::MultiformatMessageString::builder()
                .text(what_it_does(rule.doc))
                .build(),
        )
        .help(
            sarif::MultiformatMessageString::builder()
                .text(rule.doc)
                .markdown(rule.doc)
                .build(),
        )
        .default_configuration(
            sarif::ReportingConfiguration::builder()
                .level(serde_json::json!(level(rule.severity)))
                .build(),
        )
        .properties(
            sarif::PropertyBag::builder()
                .tags(vec!["coverage".to_string(), "testing".to_string()])
                .build(),
        )
        .build()
}

/// The first paragraph under "What it does", on one line.
fn what_it_does(doc: &str) -> String {
    let section = doc
        .split_once("## What it does")
        .map_or(doc, |(_, rest)| rest);
    section
        .trim_start()
        .split("\n\n")
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn result(d: &Diagnostic, rule_index: usize, style: &Style) -> sarif::Result {
    let mut text = d.message.clone();
    if let Some(help) = &d.help {
        text.push_str("\n\n");
        text.push_str(help);
    }
    let related: Vec<sarif::Location> = d
        .labels
        .iter()
        .enumerate()
        .map(|(i, label)| location(&label.location, label.text.as_deref(), Some(i), style))
        .collect();
    let mut builder = sarif::Result::builder()
        .rule_id(d.rule)
        .rule_index(rule_index as i64)
        .level(
            serde_json::from_value::<sarif::ResultLevel>(serde_json::json!(level(d.severity)))
                .expect("a SARIF level"),
        )
        .message(sarif::Message::builder().text(text).build())
        .locations(vec![location(
            &d.primary.location,
            d.primary.text.as_deref(),
            None,
            style,
        )])
        .build();
    if !related.is_empty() {
        builder.related_locations = Some(related);
    }
    if let Some(fix) = fix(d, style) {
        builder.fixes = Some(vec![fix]);
    }
    builder
}

/// The fix a finding offers, as SARIF replacements in the files as they
/// are now, with its applicability as a property. A fix that deletes a
/// file has no SARIF form (a replacement needs a region): it is left out.
fn fix(d: &Diagnostic, style: &Style) -> Option<sarif::Fix> {
    let fix = d.fix.as_ref()?;
    let mut by_file: BTreeMap<&Path, Vec<sarif::Replacement>> = BTreeMap::new();
    for edit in &fix.edits {
        let crate::fix::Edit::Replace {
            path,
            range,
            content,
        } = edit
        else {
            return None;
        };
        // Positions in the file as it is now (a new file is empty).
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let file = crate::source::SourceFile::new(path.clone(), text);
        let region = region(&file, *range);
        by_file.entry(path.as_path()).or_default().push(
            sarif::Replacement::builder()
                .deleted_region(region)
                .inserted_content(
                    sarif::ArtifactContent::builder()
                        .text(content.clone())
                        .build(),
                )
                .build(),
        );
    }
    let changes = by_file
        .into_iter()
        .map(|(path, replacements)| {
            sarif::ArtifactChange::builder()
                .artifact_location(artifact(path, style))
                .replacements(replacements)
                .build()
        })
        .collect::<Vec<_>>();
    let mut properties = BTreeMap::new();
    properties.insert(
        "applicability".to_string(),
        serde_json::json!(fix.applicability.as_str()),
    );
    let mut out = sarif::Fix::builder()
        .description(sarif::Message::builder().text(fix.title.clone()).build())
        .artifact_changes(changes)
        .build();
    out.properties = Some(
        sarif::PropertyBag::builder()
            .additional_properties(properties)
            .build(),
    );
    Some(out)
}

fn location(
    location: &Location,
    text: Option<&str>,
    id: Option<usize>,
    style: &Style,
) -> sarif::Location {
    let file = &location.file;
    let region = region(file, location.span);
    let physical = sarif::PhysicalLocation::builder()
        .artifact_location(artifact(&file.path, style))
        .region(region)
        .build();
    let mut loc = sarif::Location::builder()
        .physical_location(physical)
        .build();
    loc.message = text.map(|t| sarif::Message::builder().text(t).build());
    loc.id = id.map(|i| i as i64);
    loc
}

/// A span of `file` as a SARIF region (lines and columns, 1-based).
fn region(file: &crate::source::SourceFile, span: crate::source::Span) -> sarif::Region {
    let (start_line, start_column) = file.line_col(span.start);
    let (end_line, end_column) = file.line_col(span.end);
    sarif::Region::builder()
        .start_line(start_line as i64)
        .start_column(start_column as i64)
        .end_line(end_line as i64)
        .end_column(end_column as i64)
        .build()
}

fn notification(p: &Problem, style: &Style) -> sarif::Notification {
    let loc = match &p.location {
        Some(location) => self::location(location, None, None, style),
        None => sarif::Location::builder()
            .physical_location(
                sarif::PhysicalLocation::builder()
                    .artifact_location(artifact(&p.path, style))
                    .build(),
            )
            .build(),
    };
    sarif::Notification::builder()
        .level(serde_json::json!(p.severity.as_str()))
        .message(sarif::Message::builder().text(p.message.clone()).build())
        .locations(vec![loc])
        .build()
}

/// A file as a URI: relative to `%SRCROOT%` when it lies under the working
/// directory, else an absolute `file://` URI.
fn artifact(path: &Path, style: &Style) -> sarif::ArtifactLocation {
    match path.strip_prefix(&style.cwd) {
        Ok(relative) => sarif::ArtifactLocation::builder()
            .uri(encode(relative))
            .uri_base_id(SRCROOT)
            .build(),
        Err(_) => sarif::ArtifactLocation::builder()
            .uri(format!("file://{}", absolute(path)))
            .build(),
    }
}

/// Percent-encodes each component and joins them with `/` on every
/// platform.
fn encode(path: &Path) -> String {
    path.components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => {
                Some(utf8_percent_encode(&s.to_string_lossy(), SEGMENT).to_string())
            }
            std::path::Component::ParentDir => Some("..".to_string()),
            // A Windows drive (`C:`) stays as it is: `file:///C:/...`.
            std::path::Component::Prefix(p) => Some(p.as_os_str().to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// An absolute path as the path part of a `file://` URI.
fn absolute(path: &Path) -> String {
    let encoded = encode(path);
    if encoded.starts_with('/') {
        encoded
    } else {
        format!("/{encoded}")
    }
}

/// The working directory as a `file://` URI ending in `/`, as SARIF wants
/// for a base.
fn directory_uri(cwd: &Path) -> Option<String> {
    if !cwd.is_absolute() {
        return None;
    }
    let mut uri = format!("file://{}", absolute(cwd));
    if !uri.ends_with('/') {
        uri.push('/');
    }
    Some(uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uris() {
        assert_eq!(
            encode(Path::new("tests/my conftest.py")),
            "tests/my%20conftest.py"
        );
        assert_eq!(
            directory_uri(Path::new("/home/me/proj")).as_deref(),
            Some("file:///home/me/proj/")
        );
        assert_eq!(absolute(Path::new("/a b/c")), "/a%20b/c");
    }

    #[test]
    fn full_description_is_the_first_paragraph() {
        let doc = "# x\n\n## What it does\n\nFinds a\nthing.\n\nMore.\n";
        assert_eq!(what_it_does(doc), "Finds a thing.");
    }
}
