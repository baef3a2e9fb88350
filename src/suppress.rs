//! Suppressions: `# covdoctor: ignore[rule-a, rule-b] -- reason` at the end
//! of a Python line silences those rules on that line; in TOML and INI files
//! the comment goes on its own line, before the setting (coverage.py's INI
//! reader keeps a trailing comment as part of the value). A suppression that
//! silences nothing is itself a finding (`unused-suppression`), with a fix
//! that removes it.

use std::sync::LazyLock;

use regex::Regex;

use crate::config::settings::Settings;
use crate::diagnostic::Diagnostic;
use crate::fix::{Edit, Fix};
use crate::source::{Location, Source, Span};

static DIRECTIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"covdoctor:\s*ignore\[([^\]]*)\](?:\s*--\s*(.*))?").expect("valid regex")
});

/// One suppression comment.
#[derive(Debug, Clone)]
pub struct Suppression {
    /// The `covdoctor: ignore[...]` directive.
    pub location: Location,
    /// The rule names, each with its span.
    pub names: Vec<(String, Span)>,
    pub reason: Option<String>,
    /// The 1-based line whose findings it silences.
    pub target_line: usize,
    /// What removing it deletes: the comment with the space before it, or
    /// its whole line.
    pub removal: Span,
    /// The text between the brackets.
    pub list: Span,
}

/// Suppressions in Python comments (found by the tokenizer): they apply to
/// their own line.
pub fn in_python(source: &Source, comments: &[Span]) -> Vec<Suppression> {
    comments
        .iter()
        .filter_map(|c| {
            let text = &source.text[c.range()];
            let own_line = line_before(source, c.start).trim().is_empty();
            let removal = if own_line {
                whole_line(source, c.start)
            } else {
                // The comment and the spaces before it.
                let before = source.text[..c.start].trim_end_matches([' ', '\t']).len();
                Span::new(before, c.end)
            };
            let line = source.line_col(c.start).0;
            parse(source, c.start, text, line, removal)
        })
        .collect()
}

/// Suppressions on comment lines of a TOML or INI file: they apply to the
/// next line that is not blank or a comment.
pub fn in_config(source: &Source) -> Vec<Suppression> {
    let mut out = Vec::new();
    let mut offset = 0;
    let lines: Vec<&str> = source.text.split_inclusive('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') || trimmed.starts_with(';') {
            let start = offset + (line.len() - trimmed.len());
            let target = lines[i + 1..]
                .iter()
                .position(|l| {
                    let t = l.trim();
                    !t.is_empty() && !t.starts_with('#') && !t.starts_with(';')
                })
                .map_or(i + 2, |p| i + 2 + p);
            let removal = Span::new(offset, offset + line.len());
            out.extend(parse(source, start, line.trim_end(), target, removal));
        }
        offset += line.len();
    }
    out
}

fn line_before(source: &Source, at: usize) -> &str {
    let start = source.text[..at].rfind('\n').map_or(0, |i| i + 1);
    &source.text[start..at]
}

fn whole_line(source: &Source, at: usize) -> Span {
    let start = source.text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = source.text[at..]
        .find('\n')
        .map_or(source.text.len(), |i| at + i + 1);
    Span::new(start, end)
}

fn parse(
    source: &Source,
    start: usize,
    text: &str,
    target_line: usize,
    removal: Span,
) -> Option<Suppression> {
    let captures = DIRECTIVE.captures(text)?;
    let whole = captures.get(0)?;
    let list = captures.get(1)?;
    let base = start + list.start();
    let mut names = Vec::new();
    let mut at = 0;
    for part in list.as_str().split(',') {
        let name = part.trim();
        if !name.is_empty() {
            let offset = base + at + (part.len() - part.trim_start().len());
            names.push((name.to_string(), Span::new(offset, offset + name.len())));
        }
        at += part.len() + 1;
    }
    Some(Suppression {
        location: Location::new(
            source,
            Span::new(start + whole.start(), start + whole.end()),
        ),
        names,
        reason: captures
            .get(2)
            .map(|r| r.as_str().trim().to_string())
            .filter(|r| !r.is_empty()),
        target_line,
        removal,
        list: Span::new(base, base + list.len()),
    })
}

/// Drops the diagnostics that suppressions silence and reports the
/// suppressions (or names in them) that silenced nothing.
pub fn apply(
    diagnostics: Vec<Diagnostic>,
    suppressions: &[Suppression],
    settings: &Settings,
) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
    let mut used: Vec<Vec<bool>> = suppressions
        .iter()
        .map(|s| vec![false; s.names.len()])
        .collect();
    let mut kept = Vec::new();
    for mut d in diagnostics {
        // Sites of a root-cause finding, suppressed one by one.
        if !d.sites.is_empty() {
            let primary_is_site = d.sites.contains(&d.primary.location);
            let mut remaining = Vec::new();
            for site in std::mem::take(&mut d.sites) {
                let line = site.file.line_col(site.span.start).0;
                let mut silenced = false;
                for (i, s) in suppressions.iter().enumerate() {
                    if s.target_line != line || s.location.file.path != site.file.path {
                        continue;
                    }
                    for (j, (name, _)) in s.names.iter().enumerate() {
                        if name == d.rule {
                            used[i][j] = true;
                            silenced = true;
                        }
                    }
                }
                if silenced {
                    d.labels.retain(|l| l.location != site);
                } else {
                    remaining.push(site);
                }
            }
            if remaining.is_empty() {
                continue;
            }
            // A finding shown at a site that is now suppressed moves to the
            // first site left.
            if primary_is_site && !remaining.contains(&d.primary.location) {
                let next = remaining[0].clone();
                let text = d
                    .labels
                    .iter()
                    .position(|l| l.location == next)
                    .map(|i| d.labels.remove(i).text);
                d.primary.location = next;
                if let Some(text) = text {
                    d.primary.text = text;
                }
            }
            d.sites = remaining;
        }
        let file = &d.primary.location.file;
        let line = file.line_col(d.primary.location.span.start).0;
        let mut silenced = false;
        for (i, s) in suppressions.iter().enumerate() {
            if s.target_line != line || s.location.file.path != file.path {
                continue;
            }
            for (j, (name, _)) in s.names.iter().enumerate() {
                if name == d.rule {
                    used[i][j] = true;
                    silenced = true;
                }
            }
        }
        if !silenced {
            kept.push(d);
        }
    }
    let mut unused = Vec::new();
    for (s, used) in suppressions.iter().zip(&used) {
        let stale: Vec<(&String, &Span, String)> = s
            .names
            .iter()
            .zip(used)
            .filter(|(_, u)| !**u)
            .map(|((name, span), _)| {
                let why = match crate::rules::by_name(name) {
                    None => {
                        let names: Vec<&str> = crate::rules::ALL.iter().map(|r| r.name).collect();
                        match crate::config::settings::strsim_best(name, &names) {
                            Some(close) => {
                                format!("no rule has this name; did you mean `{close}`?")
                            }
                            None => "no rule has this name".to_string(),
                        }
                    }
                    Some(_) if !settings.enabled(name) => "the rule is not enabled".to_string(),
                    Some(_) => "nothing to suppress here".to_string(),
                };
                (name, span, why)
            })
            .collect();
        if stale.is_empty() {
            continue;
        }
        let all = stale.len() == s.names.len();
        let listed: Vec<String> = stale.iter().map(|(n, ..)| format!("`{n}`")).collect();
        let why: Vec<&str> = {
            let mut w: Vec<&str> = stale.iter().map(|(.., w)| w.as_str()).collect();
            w.dedup();
            w
        };
        let path = &s.location.file.path;
        let fix = if all {
            Fix::safe(
                "remove the unused suppression",
                vec![Edit::replace(path, s.removal, "")],
            )
        } else {
            let keep: Vec<&str> = s
                .names
                .iter()
                .zip(used)
                .filter(|(_, u)| **u)
                .map(|((n, _), _)| n.as_str())
                .collect();
            Fix::safe(
                format!("remove {} from the suppression", listed.join(", ")),
                vec![Edit::replace(path, s.list, keep.join(", "))],
            )
        };
        let primary = if all {
            s.location.clone()
        } else {
            Location::new(&s.location.file, *stale[0].1)
        };
        unused.push(
            crate::rules::unused_suppression_rule()
                .diagnostic(
                    primary,
                    why.join("; "),
                    format!("this suppression of {} silences nothing", listed.join(", ")),
                )
                .help("remove it, so that it does not hide a future finding by accident")
                .fix(Some(fix)),
        );
    }
    (kept, unused)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn source(text: &str) -> Source {
        Arc::new(crate::source::SourceFile::new("x".into(), text.to_string()))
    }

    #[test]
    fn config_comment_lines_apply_to_the_next_setting() {
        let s = source(
            "[run]\n# covdoctor: ignore[sigterm-not-handled, config-shadowed] -- on purpose\n\n; other\nbranch = 1\n",
        );
        let found = in_config(&s);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].target_line, 5);
        assert_eq!(found[0].names.len(), 2);
        assert_eq!(found[0].reason.as_deref(), Some("on purpose"));
        assert_eq!(&s.text[found[0].names[1].1.range()], "config-shadowed");
        assert_eq!(
            &s.text[found[0].removal.range()],
            "# covdoctor: ignore[sigterm-not-handled, config-shadowed] -- on purpose\n"
        );
    }

    #[test]
    fn python_trailing_and_own_line_comments() {
        let text =
            "p.kill()  # covdoctor: ignore[sigkill-loses-coverage]\n    # covdoctor: ignore[x]\n";
        let s = source(text);
        let comments = vec![Span::new(10, 53), Span::new(58, text.len() - 1)];
        let found = in_python(&s, &comments);
        assert_eq!(found[0].target_line, 1);
        assert_eq!(
            &text[found[0].removal.range()],
            "  # covdoctor: ignore[sigkill-loses-coverage]"
        );
        assert_eq!(
            &text[found[1].removal.range()],
            "    # covdoctor: ignore[x]\n"
        );
    }
}
