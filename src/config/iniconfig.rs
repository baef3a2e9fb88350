//! An INI reader with the semantics of the `iniconfig` package as pytest
//! (9.x, `_pytest/config/findpaths.py`, `_parse_ini_config`) calls it on
//! `pytest.ini`, `.pytest.ini`, `tox.ini` and `setup.cfg`:
//! `iniconfig.IniConfig(path)`, which keeps inline comments in values.
//!
//! iniconfig is not configparser (coverage.py's reader, [`super::ini`]): the
//! same setup.cfg or tox.ini is read both ways, and they differ. iniconfig
//! drops a UTF-8 byte order mark; names are case-sensitive and kept as
//! written; `[DEFAULT]` is an ordinary section, so a repeated one is an
//! error; any indented line continues the last value (so an indented first
//! option is an error, and a blank or comment line does not end a value);
//! a line starting with `[` whose text (up to a `#` or `;`) does not end
//! with `]` is a continuation line; the first `=` or `:` separates a name
//! from its value, and the name may be empty. Line breaks are those of
//! Python's universal newlines and `str.splitlines`.
//!
//! Errors are found in two passes, as iniconfig finds them: lines it cannot
//! read at all (`parse_lines`), then sections and names
//! (`parse_ini_data`). Each is located at its line and carries iniconfig's
//! own message (`ParseError`: "{path}:{line}: {msg}").

use crate::source::Span;

/// A parsed file: its sections in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniConfig {
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The name between the brackets, exactly as written.
    pub name: String,
    /// The `[name]` header, brackets included.
    pub header_span: Span,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The name as written, without surrounding whitespace (case-sensitive).
    pub name: String,
    pub name_span: Span,
    /// The value as iniconfig returns it: the key line's value (if not
    /// empty) and each continuation line, stripped, joined by `\n`.
    pub value: String,
    /// From the first character of the value to the end of its last line;
    /// empty (after the separator) for an empty value.
    pub value_span: Span,
    /// The key line and its continuation lines, without the last line break.
    pub span: Span,
    /// Where each line of `value` is written: its offset in `value` and its
    /// span in the file.
    pieces: Vec<(usize, Span)>,
}

/// What iniconfig raises (`iniconfig.ParseError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The line's text (or the header or name the error is about).
    pub span: Span,
    /// The line number iniconfig reports (1-based, counting its line breaks).
    pub line: usize,
    /// iniconfig's message, without the `path:line: ` prefix.
    pub message: String,
}

impl IniConfig {
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }
}

impl Section {
    /// Looks a name up as iniconfig does: exactly (case-sensitive).
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }
}

impl Entry {
    /// The span in the file of `value[start..end]` (byte offsets of the
    /// value); the pieces are contiguous in the value except for the `\n`
    /// that joins them.
    pub fn span_of(&self, start: usize, end: usize) -> Span {
        let locate = |at: usize, is_end: bool| -> Option<usize> {
            // The piece holding `at`: for an end offset, the piece it closes.
            let (offset, span) = self
                .pieces
                .iter()
                .rev()
                .find(|(offset, _)| if is_end { *offset < at } else { *offset <= at })
                .or_else(|| self.pieces.first())?;
            Some((span.start + at.saturating_sub(*offset)).min(span.end))
        };
        match (locate(start, false), locate(end, true)) {
            (Some(s), Some(e)) if s <= e => Span::new(s, e),
            (Some(s), _) => Span::empty(s),
            _ => self.value_span,
        }
    }
}

/// Python's `str.isspace` (and what `str.strip` removes): Unicode white
/// space and the information separators U+001C..U+001F.
pub(crate) fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// The lines of `text` as iniconfig sees them: the file is opened with
/// universal newlines (`\r\n` and `\r` become `\n`), then split with
/// `str.splitlines`, which also breaks at `\v`, `\f`, U+001C..U+001E, U+0085,
/// U+2028 and U+2029. Each line is its span without the line break.
fn lines(text: &str) -> Vec<Span> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let ends = matches!(
            c,
            '\n' | '\r'
                | '\u{0b}'
                | '\u{0c}'
                | '\u{1c}'
                | '\u{1d}'
                | '\u{1e}'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if !ends {
            continue;
        }
        out.push(Span::new(start, i));
        let mut next = i + c.len_utf8();
        if c == '\r' && chars.peek().is_some_and(|&(_, n)| n == '\n') {
            chars.next();
            next += 1;
        }
        start = next;
    }
    if start < text.len() {
        out.push(Span::new(start, text.len()));
    }
    out
}

/// `s` written as Python's `repr` writes a string (for messages).
pub(crate) fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() || (c != ' ' && py_space(c)) || c == '\u{feff}' => {
                let n = c as u32;
                if n < 0x100 {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n < 0x10000 {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// One line as `parse_lines` records it.
enum Token {
    Section {
        line: usize,
        name: String,
        span: Span,
    },
    Value {
        line: usize,
        section: Option<usize>,
        name: String,
        name_span: Span,
        value: String,
        value_span: Span,
        span: Span,
        pieces: Vec<(usize, Span)>,
    },
}

/// What `_parseline` makes of one line.
enum Parsed {
    Blank,
    Section(Span),
    Value { name: Span, value: Span },
    Continuation(Span),
}

fn error(line: usize, span: Span, message: String) -> ParseError {
    ParseError {
        span,
        line: line + 1,
        message,
    }
}

/// `_parseline`: `line` is the span of one line of `text`.
fn parse_line(text: &str, line: Span, lineno: usize) -> Result<Parsed, ParseError> {
    let raw = &text[line.range()];
    let lead = raw.len() - raw.trim_start_matches(py_space).len();
    let rest = &raw[lead..];
    // `iscommentline`: blank lines and lines whose first non-blank
    // character is `#` or `;`.
    if rest.is_empty() || rest.starts_with(['#', ';']) {
        return Ok(Parsed::Blank);
    }
    let trimmed = raw.trim_end_matches(py_space);
    let at = |s: &str| {
        // `s` is a slice of `raw`.
        let start = line.start + (s.as_ptr() as usize - raw.as_ptr() as usize);
        Span::new(start, start + s.len())
    };
    let stripped = trimmed.trim_start_matches(py_space);
    if trimmed.starts_with('[') {
        // The header's text ends at the first `#` or `;`.
        let cut = trimmed.find(['#', ';']).unwrap_or(trimmed.len());
        let header = trimmed[..cut].trim_end_matches(py_space);
        if header.len() >= 2 && header.ends_with(']') {
            return Ok(Parsed::Section(at(header)));
        }
        return Ok(Parsed::Continuation(at(stripped)));
    }
    if lead == 0 {
        // `line.split("=", 1)`, unless the name would hold a `:`: the first
        // `=` or `:` separates.
        let Some(sep) = trimmed.find(['=', ':']) else {
            return Err(error(
                lineno,
                at(trimmed),
                format!("unexpected line: {}", py_repr(trimmed)),
            ));
        };
        let name = trimmed[..sep].trim_matches(py_space);
        let value = trimmed[sep + 1..].trim_matches(py_space);
        let value_span = if value.is_empty() {
            Span::empty(line.start + sep + 1)
        } else {
            at(value)
        };
        let name_span = if name.is_empty() {
            Span::empty(line.start)
        } else {
            at(name)
        };
        return Ok(Parsed::Value {
            name: name_span,
            value: value_span,
        });
    }
    Ok(Parsed::Continuation(at(stripped)))
}

/// Parses `text` (decoded, byte order mark removed: iniconfig drops it).
pub fn parse(text: &str) -> Result<IniConfig, ParseError> {
    // `parse_lines`.
    let mut tokens: Vec<Token> = Vec::new();
    let mut section: Option<usize> = None;
    for (lineno, line) in lines(text).into_iter().enumerate() {
        match parse_line(text, line, lineno)? {
            Parsed::Blank => {}
            Parsed::Section(span) => {
                let name = &text[span.start + 1..span.end - 1];
                if name.is_empty() {
                    return Err(error(lineno, span, "empty section name".to_string()));
                }
                section = Some(lineno);
                tokens.push(Token::Section {
                    line: lineno,
                    name: name.to_string(),
                    span,
                });
            }
            Parsed::Value { name, value } => {
                let text_value = &text[value.range()];
                let pieces = if text_value.is_empty() {
                    Vec::new()
                } else {
                    vec![(0, value)]
                };
                tokens.push(Token::Value {
                    line: lineno,
                    section,
                    name: text[name.range()].to_string(),
                    name_span: name,
                    value: text_value.to_string(),
                    value_span: value,
                    span: Span::new(name.start.min(line.start), value.end.max(name.end)),
                    pieces,
                });
            }
            Parsed::Continuation(span) => match tokens.last_mut() {
                Some(Token::Value {
                    value,
                    value_span,
                    span: whole,
                    pieces,
                    ..
                }) => {
                    if !pieces.is_empty() {
                        value.push('\n');
                    }
                    pieces.push((value.len(), span));
                    value.push_str(&text[span.range()]);
                    *value_span = if value_span.is_empty() {
                        span
                    } else {
                        Span::new(value_span.start, span.end)
                    };
                    whole.end = span.end;
                }
                _ => {
                    return Err(error(
                        lineno,
                        span,
                        "unexpected value continuation".to_string(),
                    ));
                }
            },
        }
    }

    // `parse_ini_data`: the tokens in order; `section` above is the line of
    // the header a value follows, mapped here to its section.
    let mut sections: Vec<Section> = Vec::new();
    let mut by_line: Vec<(usize, usize)> = Vec::new();
    for token in tokens {
        match token {
            Token::Section { line, name, span } => {
                if sections.iter().any(|s| s.name == name) {
                    return Err(error(
                        line,
                        span,
                        format!("duplicate section {}", py_repr(&name)),
                    ));
                }
                by_line.push((line, sections.len()));
                sections.push(Section {
                    name,
                    header_span: span,
                    entries: Vec::new(),
                });
            }
            Token::Value {
                line,
                section,
                name,
                name_span,
                value,
                value_span,
                span,
                pieces,
            } => {
                let index = section.and_then(|header| {
                    by_line
                        .iter()
                        .find(|(l, _)| *l == header)
                        .map(|(_, index)| *index)
                });
                let Some(index) = index else {
                    return Err(error(line, span, "no section header defined".to_string()));
                };
                let section = &mut sections[index];
                if section.entries.iter().any(|e| e.name == name) {
                    let at = if name_span.is_empty() {
                        span
                    } else {
                        name_span
                    };
                    return Err(error(
                        line,
                        at,
                        format!("duplicate name {}", py_repr(&name)),
                    ));
                }
                section.entries.push(Entry {
                    name,
                    name_span,
                    value,
                    value_span,
                    span,
                    pieces,
                });
            }
        }
    }
    Ok(IniConfig { sections })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value<'a>(ini: &'a IniConfig, section: &str, name: &str) -> Option<&'a str> {
        ini.section(section)?.get(name).map(|e| e.value.as_str())
    }

    fn err(text: &str) -> ParseError {
        parse(text).expect_err(text)
    }

    #[test]
    fn reads_sections_names_and_values_with_spans() {
        let text = "[pytest]\naddopts = -q --cov\nmarkers: slow\n";
        let ini = parse(text).unwrap();
        assert_eq!(value(&ini, "pytest", "addopts"), Some("-q --cov"));
        assert_eq!(value(&ini, "pytest", "markers"), Some("slow"));
        let e = ini.section("pytest").unwrap().get("addopts").unwrap();
        assert_eq!(&text[e.name_span.range()], "addopts");
        assert_eq!(&text[e.value_span.range()], "-q --cov");
        assert_eq!(&text[e.span.range()], "addopts = -q --cov");
        let s = ini.section("pytest").unwrap();
        assert_eq!(&text[s.header_span.range()], "[pytest]");
    }

    #[test]
    fn names_are_case_sensitive() {
        // configparser folds these into one option (a duplicate).
        let ini = parse("[pytest]\naddopts = -q\nADDOPTS = -x\n").unwrap();
        assert_eq!(value(&ini, "pytest", "addopts"), Some("-q"));
        assert_eq!(value(&ini, "pytest", "ADDOPTS"), Some("-x"));
        assert_eq!(value(&ini, "pytest", "Addopts"), None);
        // The same name twice is still an error.
        let e = err("[pytest]\naddopts = -q\naddopts = -x\n");
        assert_eq!(
            (e.line, e.message.as_str()),
            (3, "duplicate name 'addopts'")
        );
    }

    #[test]
    fn a_repeated_default_section_is_an_error() {
        let text = "[DEFAULT]\na = 1\n[DEFAULT]\nb = 2\n[pytest]\n";
        let e = err(text);
        assert_eq!(e.line, 3);
        assert_eq!(e.message, "duplicate section 'DEFAULT'");
        assert_eq!(&text[e.span.range()], "[DEFAULT]");
        // Near misses: two different sections, and [DEFAULT] once.
        assert!(parse("[DEFAULT]\na = 1\n[default]\nb = 2\n").is_ok());
        assert!(parse("[DEFAULT]\na = 1\n[pytest]\n").is_ok());
    }

    #[test]
    fn an_indented_line_continues_the_last_value() {
        let text = "[pytest]\naddopts =\n    --cov\n# comment\n\n    -q\nmarkers = a\n";
        let ini = parse(text).unwrap();
        // No leading empty line (configparser keeps one), and neither the
        // comment nor the blank line ends the value.
        assert_eq!(value(&ini, "pytest", "addopts"), Some("--cov\n-q"));
        let e = ini.section("pytest").unwrap().get("addopts").unwrap();
        assert_eq!(&text[e.value_span.range()], "--cov\n# comment\n\n    -q");
        assert_eq!(&text[e.span_of(6, 8).range()], "-q");
        assert_eq!(&text[e.span_of(0, 5).range()], "--cov");
        assert_eq!(value(&ini, "pytest", "markers"), Some("a"));
        // A value on the key line comes first.
        let ini = parse("[pytest]\naddopts = -q\n  --cov\n").unwrap();
        assert_eq!(value(&ini, "pytest", "addopts"), Some("-q\n--cov"));
    }

    #[test]
    fn an_indented_first_option_is_an_unexpected_continuation() {
        let text = "[pytest]\n  addopts = -q\n";
        let e = err(text);
        assert_eq!(
            (e.line, e.message.as_str()),
            (2, "unexpected value continuation")
        );
        assert_eq!(&text[e.span.range()], "addopts = -q");
        // Also at the top of the file; not after a key (near miss).
        assert_eq!(err("  x = 1\n").line, 1);
        assert!(parse("[pytest]\naddopts = -q\n  -x\n").is_ok());
    }

    #[test]
    fn a_bracket_line_that_is_no_header_is_a_continuation() {
        let ini = parse("[pytest]\naddopts = -q\n[other] junk\n").unwrap();
        assert_eq!(value(&ini, "pytest", "addopts"), Some("-q\n[other] junk"));
        // A comment after the header is cut off; `[a]b]` is named `a]b`.
        let ini = parse("[pytest] # c\na = 1\n[a]b] ; x\n").unwrap();
        assert!(ini.section("pytest").is_some());
        assert!(ini.section("a]b").is_some());
        // An indented header is a continuation too.
        let ini = parse("[pytest]\na = 1\n  [other]\n").unwrap();
        assert_eq!(value(&ini, "pytest", "a"), Some("1\n[other]"));
        assert!(ini.section("other").is_none());
    }

    #[test]
    fn line_errors_come_before_section_errors() {
        let e = err("[]\nname = x\n");
        assert_eq!((e.line, e.message.as_str()), (1, "empty section name"));
        let e = err("[pytest]\nthis is not ini\n");
        assert_eq!(e.line, 2);
        assert_eq!(e.message, "unexpected line: 'this is not ini'");
        let e = err("a = 1\n[pytest]\n");
        assert_eq!(
            (e.line, e.message.as_str()),
            (1, "no section header defined")
        );
        // A line error further down wins over the missing header above.
        let e = err("a = 1\n[pytest]\nnot ini\n");
        assert_eq!(e.line, 3);
        assert!(parse("# only a comment\n\n").is_ok());
    }

    #[test]
    fn separators_and_empty_names() {
        let ini = parse("[s]\nurl = http://x:1\nk: v = w\n= x\n").unwrap();
        assert_eq!(value(&ini, "s", "url"), Some("http://x:1"));
        assert_eq!(value(&ini, "s", "k"), Some("v = w"));
        assert_eq!(value(&ini, "s", ""), Some("x"));
        // Inline comments stay in the value (pytest's legacy call).
        let ini = parse("[s]\na = 1 # one\n").unwrap();
        assert_eq!(value(&ini, "s", "a"), Some("1 # one"));
    }

    #[test]
    fn line_breaks_are_those_of_python() {
        let ini = parse("[s]\r\na = 1\rb = 2\x0cc = 3\u{2028}d = 4").unwrap();
        for (k, v) in [("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")] {
            assert_eq!(value(&ini, "s", k), Some(v));
        }
        // The line numbers count them all.
        assert_eq!(err("[s]\x0c[s]\n").line, 2);
    }

    #[test]
    fn python_repr_of_a_string() {
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("a'\"b"), "'a\\'\"b'");
        assert_eq!(py_repr("a\tb\0"), "'a\\tb\\x00'");
    }

    #[test]
    fn never_panics_on_odd_input() {
        for text in [
            "[",
            "[]",
            "]",
            "=",
            ":",
            "[a",
            "[a]\n=",
            "\u{feff}",
            "[é]\né = ü\n  ö\n",
            " ",
            "\t[x]",
            "[a]\n\u{85}\u{85}x=1",
            "[a]#]",
            "[#]",
            "[;]\n",
        ] {
            let _ = parse(text);
        }
    }
}
