//! `--output-format junit`: a JUnit XML report, as CI systems (GitLab,
//! Jenkins, Azure) show test results: one test suite per file, one failing
//! test case per finding (an input problem is an error, `input-error`, or
//! with `input-warning` a skipped case: it changes no verdict).

use std::collections::BTreeMap;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::{Results, Style, display_path};

/// One test case: its name (the rule), where it is, and what failed.
struct Case {
    name: String,
    line: usize,
    column: usize,
    message: String,
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Failure,
    Error,
    Skipped,
}

/// `text` with the characters XML 1.0 cannot hold at all (control
/// characters other than tab and newlines, U+FFFE, U+FFFF) replaced by
/// U+FFFD; the writer escapes the rest.
fn xml_safe(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
            _ => c,
        })
        .collect()
}

pub fn render_junit(results: &Results<'_>, style: &Style) -> String {
    let mut by_file: BTreeMap<String, Vec<Case>> = BTreeMap::new();
    for d in results.diagnostics {
        let loc = &d.primary.location;
        let (line, column) = loc.file.line_col(loc.span.start);
        by_file
            .entry(xml_safe(&display_path(&loc.file.path, &style.cwd)))
            .or_default()
            .push(Case {
                name: d.rule.to_string(),
                line,
                column,
                message: xml_safe(&d.message),
                kind: Kind::Failure,
            });
    }
    for p in results.problems {
        let (line, column) = p
            .location
            .as_ref()
            .map_or((1, 1), |loc| loc.file.line_col(loc.span.start));
        let (name, kind) = match p.severity {
            crate::problem::Severity::Error => ("input-error", Kind::Error),
            crate::problem::Severity::Warning => ("input-warning", Kind::Skipped),
        };
        by_file
            .entry(xml_safe(&display_path(&p.path, &style.cwd)))
            .or_default()
            .push(Case {
                name: name.to_string(),
                line,
                column,
                message: xml_safe(&p.message),
                kind,
            });
    }
    let count = |cases: &mut dyn Iterator<Item = &Case>, kind: Kind| {
        cases.filter(|c| c.kind == kind).count().to_string()
    };
    let all = || by_file.values().flatten();
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing to a Vec cannot fail.
    let _ = writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    let _ = writer
        .create_element("testsuites")
        .with_attributes([
            ("name", "covdoctor"),
            ("tests", &all().count().to_string()),
            ("failures", &count(&mut all(), Kind::Failure)),
            ("errors", &count(&mut all(), Kind::Error)),
            ("skipped", &count(&mut all(), Kind::Skipped)),
        ])
        .write_inner_content(|w| {
            for (path, cases) in &by_file {
                w.create_element("testsuite")
                    .with_attributes([
                        ("name", path.as_str()),
                        ("tests", &cases.len().to_string()),
                        ("failures", &count(&mut cases.iter(), Kind::Failure)),
                        ("errors", &count(&mut cases.iter(), Kind::Error)),
                        ("skipped", &count(&mut cases.iter(), Kind::Skipped)),
                    ])
                    .write_inner_content(|w| {
                        for case in cases {
                            let text =
                                format!("{path}:{}:{}: {}", case.line, case.column, case.message);
                            let element = match case.kind {
                                Kind::Failure => "failure",
                                Kind::Error => "error",
                                Kind::Skipped => "skipped",
                            };
                            w.create_element("testcase")
                                .with_attributes([
                                    ("name", format!("covdoctor.{}", case.name).as_str()),
                                    ("classname", path.as_str()),
                                    ("file", path.as_str()),
                                    ("line", &case.line.to_string()),
                                ])
                                .write_inner_content(|w| {
                                    w.create_element(element)
                                        .with_attribute(("message", case.message.as_str()))
                                        .write_text_content(BytesText::new(&text))?;
                                    Ok(())
                                })?;
                        }
                        Ok(())
                    })?;
            }
            Ok(())
        });
    let mut out = String::from_utf8(writer.into_inner()).unwrap_or_default();
    out.push('\n');
    out
}
