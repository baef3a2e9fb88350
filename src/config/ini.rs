//! An INI reader with the semantics of Python's `configparser` as coverage.py
//! and pytest-cov configure it, keeping a byte span for every section, key and
//! value.
//!
//! Written by hand because no Rust INI crate reproduces `configparser`: its
//! continuation lines (any line indented deeper than the key), full-line `#`
//! and `;` comments that do not end a value, no inline comments (a trailing
//! `# x` stays part of the value), `=` or `:` as separators, keys folded to
//! lower case, case-sensitive section names, the greedy `[...]` header match,
//! universal newlines, and `strict` duplicate checks. The comments below name
//! the `configparser._read` behaviour each branch reproduces.

use crate::source::Span;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniFile {
    pub sections: Vec<IniSection>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniSection {
    /// The name between the brackets, exactly as written (case-sensitive).
    pub name: String,
    /// The `[name]` header, brackets included.
    pub header_span: Span,
    pub entries: Vec<IniEntry>,
    /// End of the section's last non-blank line (before its line break): where
    /// a new key would be appended.
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniEntry {
    /// The key folded to lower case (`optionxform`).
    pub key: String,
    pub key_span: Span,
    /// The value as configparser returns it: stripped lines joined by `\n`,
    /// trailing blank lines removed.
    pub value: String,
    /// From the first character of the value to the end of its last
    /// non-blank line; empty (at the end of the separator) for an empty value.
    pub value_span: Span,
    /// The whole entry: key line and continuation lines, without the final
    /// line break.
    pub span: Span,
}

/// A parse error, located like configparser locates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniError {
    pub span: Span,
    pub message: String,
}

impl IniFile {
    pub fn section(&self, name: &str) -> Option<&IniSection> {
        self.sections.iter().find(|s| s.name == name)
    }
}

impl IniSection {
    /// Looks a key up like `configparser` does: case-insensitively (keys are
    /// stored folded).
    pub fn get(&self, key: &str) -> Option<&IniEntry> {
        let key = key.to_lowercase();
        self.entries.iter().find(|e| e.key == key)
    }
}

/// One physical line: where it starts, where its text ends, and where the line
/// break (if any) ends.
struct Line {
    start: usize,
    end: usize,
}

/// Splits like Python's universal newlines mode: `\r\n`, `\r` and `\n` all end
/// a line.
fn lines(text: &str) -> Vec<Line> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                out.push(Line { start, end: i });
                i += 1;
                start = i;
            }
            b'\r' => {
                out.push(Line { start, end: i });
                i += if bytes.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                start = i;
            }
            _ => i += 1,
        }
    }
    if start < bytes.len() {
        out.push(Line {
            start,
            end: bytes.len(),
        });
    }
    out
}

/// Parses `text` (already decoded, BOM removed).
pub fn parse(text: &str) -> Result<IniFile, IniError> {
    let mut sections: Vec<IniSection> = Vec::new();
    // The key currently accepting continuation lines, as (section, entry).
    let mut current: Option<(usize, usize)> = None;
    let mut in_section = false;
    // The section new options go to.
    let mut cur = 0usize;
    // configparser's `indent_level`: continuation lines must be deeper.
    let mut indent_level = 0usize;
    // Blank lines seen inside the current value; they only become part of it
    // if a later continuation line follows (trailing ones are stripped).
    let mut pending_blank = 0usize;

    for line in lines(text) {
        let raw = &text[line.start..line.end];
        let stripped = raw.trim();
        // Full-line comments: `line.strip().startswith(('#', ';'))`. They
        // neither end a value nor add to it.
        if stripped.starts_with('#') || stripped.starts_with(';') {
            continue;
        }
        if stripped.is_empty() {
            // `empty_lines_in_values=True`: a blank line stays in the value.
            if current.is_some() {
                pending_blank += 1;
            }
            continue;
        }
        let indent_chars = raw.chars().take_while(|c| c.is_whitespace()).count();
        let indent_bytes: usize = raw
            .chars()
            .take_while(|c| c.is_whitespace())
            .map(char::len_utf8)
            .sum();
        let content_start = line.start + indent_bytes;
        let content_end = content_start + stripped.len();

        if let Some((s, e)) = current
            && in_section
            && indent_chars > indent_level
        {
            // Continuation line.
            let entry = &mut sections[s].entries[e];
            for _ in 0..pending_blank {
                entry.value.push('\n');
            }
            pending_blank = 0;
            // The value is the key line's text (maybe empty) and each
            // continuation line, joined by line breaks.
            entry.value.push('\n');
            entry.value.push_str(stripped);
            if entry.value_span.is_empty() {
                entry.value_span = Span::new(content_start, content_end);
            } else {
                entry.value_span.end = content_end;
            }
            entry.span.end = content_end;
            sections[s].end = content_end;
            continue;
        }
        pending_blank = 0;
        indent_level = indent_chars;

        // Section header: `\[(?P<header>.+)\]` matched at the start of the
        // stripped line; `.+` is greedy, so the name runs to the last `]`.
        if let Some(rest) = stripped.strip_prefix('[')
            && let Some(close) = rest.rfind(']')
            && close > 0
        {
            let name = &rest[..close];
            // configparser merges a repeated `[DEFAULT]` into the first
            // (strict mode rejects only other sections).
            if name == "DEFAULT"
                && let Some(i) = sections.iter().position(|s| s.name == name)
            {
                cur = i;
                in_section = true;
                current = None;
                continue;
            }
            if sections.iter().any(|s| s.name == name) {
                return Err(IniError {
                    span: Span::new(content_start, content_end),
                    message: format!(
                        "section [{name}] appears twice (configparser's strict mode rejects this)"
                    ),
                });
            }
            let header_span = Span::new(content_start, content_start + close + 2);
            sections.push(IniSection {
                name: name.to_string(),
                header_span,
                entries: Vec::new(),
                end: content_end,
            });
            cur = sections.len() - 1;
            in_section = true;
            current = None;
            continue;
        }
        if !in_section {
            return Err(IniError {
                span: Span::new(content_start, content_end),
                message: "a setting before any [section] header (configparser: \"File contains no section headers\")".to_string(),
            });
        }
        // Option line: `(?P<option>.*?)\s*(?P<vi>[=:])\s*(?P<value>.*)$`; the
        // first `=` or `:` separates.
        let Some(sep) = stripped.find(['=', ':']) else {
            return Err(IniError {
                span: Span::new(content_start, content_end),
                message:
                    "a line that is neither a [section], a `key = value` setting nor a comment"
                        .to_string(),
            });
        };
        let key_raw = stripped[..sep].trim_end();
        if key_raw.is_empty() {
            return Err(IniError {
                span: Span::new(content_start, content_end),
                message: "a setting with no name before its separator".to_string(),
            });
        }
        let key = key_raw.to_lowercase();
        let s = cur;
        if sections[s].entries.iter().any(|e| e.key == key) {
            return Err(IniError {
                span: Span::new(content_start, content_start + key_raw.len()),
                message: format!(
                    "option `{key}` appears twice in [{}] (configparser's strict mode rejects this)",
                    sections[s].name
                ),
            });
        }
        let after_sep = &stripped[sep + 1..];
        let value = after_sep.trim();
        let value_start =
            content_start + sep + 1 + (after_sep.len() - after_sep.trim_start().len());
        let value_span = Span::new(value_start, value_start + value.len());
        sections[s].entries.push(IniEntry {
            key,
            key_span: Span::new(content_start, content_start + key_raw.len()),
            value: value.to_string(),
            value_span,
            span: Span::new(content_start, content_end),
        });
        sections[s].end = content_end;
        current = Some((s, sections[s].entries.len() - 1));
    }
    Ok(IniFile { sections })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value<'a>(ini: &'a IniFile, section: &str, key: &str) -> Option<&'a str> {
        ini.section(section)?.get(key).map(|e| e.value.as_str())
    }

    #[test]
    fn a_repeated_default_section_is_merged_as_configparser_does() {
        let ini = parse("[DEFAULT]\na = 1\n[DEFAULT]\nb = 2\n[coverage:run]\nbranch = true\n")
            .expect("configparser accepts a repeated [DEFAULT]");
        assert_eq!(value(&ini, "DEFAULT", "a"), Some("1"));
        assert_eq!(value(&ini, "DEFAULT", "b"), Some("2"));
        assert_eq!(value(&ini, "coverage:run", "branch"), Some("true"));
        assert_eq!(ini.sections.len(), 2);
        // The same option in both is still a duplicate (strict mode).
        assert!(parse("[DEFAULT]\na = 1\n[DEFAULT]\na = 2\n").is_err());
        // Any other section twice is not.
        assert!(parse("[run]\na = 1\n[run]\nb = 2\n").is_err());
    }

    #[test]
    fn reads_keys_values_and_spans() {
        let text = "[run]\nBranch = True\nomit: a.py\n";
        let ini = parse(text).unwrap();
        assert_eq!(value(&ini, "run", "branch"), Some("True"));
        assert_eq!(value(&ini, "run", "omit"), Some("a.py"));
        let e = ini.section("run").unwrap().get("BRANCH").unwrap();
        assert_eq!(&text[e.key_span.range()], "Branch");
        assert_eq!(&text[e.value_span.range()], "True");
    }

    #[test]
    fn trailing_comment_stays_in_the_value() {
        let ini = parse("[run]\nsigterm = true # yes\n").unwrap();
        assert_eq!(value(&ini, "run", "sigterm"), Some("true # yes"));
    }

    #[test]
    fn continuation_lines_comments_and_blank_lines() {
        let text = "[run]\nomit =\n    a.py\n# comment\n\n    b.py\n\nbranch = 1\n";
        let ini = parse(text).unwrap();
        // configparser keeps the blank line inside the value, skips the
        // comment, and strips trailing blank lines.
        assert_eq!(value(&ini, "run", "omit"), Some("\na.py\n\nb.py"));
        let e = ini.section("run").unwrap().get("omit").unwrap();
        assert_eq!(&text[e.value_span.range()], "a.py\n# comment\n\n    b.py");
        assert_eq!(value(&ini, "run", "branch"), Some("1"));
    }

    #[test]
    fn indented_header_after_a_key_is_a_continuation() {
        let ini = parse("[run]\nomit = a\n  [report]\n").unwrap();
        assert_eq!(value(&ini, "run", "omit"), Some("a\n[report]"));
        assert!(ini.section("report").is_none());
    }

    #[test]
    fn crlf_and_lone_cr_are_line_breaks() {
        let ini = parse("[run]\r\nbranch = true\rsigterm = true\r\n").unwrap();
        assert_eq!(value(&ini, "run", "branch"), Some("true"));
        assert_eq!(value(&ini, "run", "sigterm"), Some("true"));
    }

    #[test]
    fn header_runs_to_the_last_bracket() {
        let ini = parse("[coverage:run] ; x\n[a]b]\n").unwrap();
        assert!(ini.section("coverage:run").is_some());
        assert!(ini.section("a]b").is_some());
    }

    #[test]
    fn errors_are_located() {
        let text = "branch = true\n";
        assert_eq!(parse(text).unwrap_err().span, Span::new(0, 13));
        let text = "[run]\nbranch = 1\nBRANCH = 0\n";
        let err = parse(text).unwrap_err();
        assert_eq!(&text[err.span.range()], "BRANCH");
        let text = "[run]\njust words\n";
        assert_eq!(&text[parse(text).unwrap_err().span.range()], "just words");
        assert!(parse("[a]\n[a]\n").is_err());
    }

    #[test]
    fn empty_value_and_colon_in_value() {
        let ini = parse("[paths]\nsource =\nurl = http://x:1\n").unwrap();
        assert_eq!(value(&ini, "paths", "source"), Some(""));
        assert_eq!(value(&ini, "paths", "url"), Some("http://x:1"));
    }
}
