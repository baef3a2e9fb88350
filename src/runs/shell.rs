//! Shell command lines as the runs that hold them write them (tox
//! `commands`, CI `run:` steps, Makefile recipes): split into simple
//! commands and words, each word with its span in the file.
//!
//! Written by hand because the crates that split shell words (`shlex`,
//! `shell-words`) give neither spans nor the operators between commands,
//! and covdoctor needs both: a finding points at `--cov` inside a workflow
//! step, and `pip install x && pytest` is two commands. Only the regular
//! part of POSIX shell is read: words, quotes, backslashes, `&&`, `||`,
//! `;`, `|`, `&`, newlines and line continuations. Expansions stay
//! literal; a word holding `$` is marked so that callers can say it could
//! not be resolved.

use crate::source::Span;

/// One word of a command, unquoted, with its span (quotes included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub span: Span,
    /// It holds an unquoted or double-quoted `$` expansion.
    pub expands: bool,
}

/// A simple command: the words between two operators. Redirections stay
/// as words (`>`, `file`), which callers ignore.
pub type Command = Vec<Word>;

/// Upper bound on the words read from one text, so that a huge generated
/// file cannot make covdoctor slow.
const MAX_WORDS: usize = 100_000;

/// Splits `text` (found at `offset` in its file) into commands.
pub fn commands(text: &str, offset: usize) -> Vec<Command> {
    let mut out: Vec<Command> = Vec::new();
    let mut current: Command = Vec::new();
    let mut word: Option<(String, usize, bool)> = None;
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut words = 0;
    let end_word = |word: &mut Option<(String, usize, bool)>, current: &mut Command, at: usize| {
        if let Some((text, start, expands)) = word.take() {
            current.push(Word {
                text,
                span: Span::new(offset + start, offset + at),
                expands,
            });
        }
    };
    while i < bytes.len() && words < MAX_WORDS {
        let c = text[i..].chars().next().unwrap_or(' ');
        let len = c.len_utf8();
        match c {
            '\\' if bytes.get(i + 1) == Some(&b'\n') => {
                // A line continuation.
                i += 2;
                continue;
            }
            '\\' => {
                let next = text[i + 1..].chars().next();
                let w = word.get_or_insert_with(|| (String::new(), i, false));
                if let Some(n) = next {
                    w.0.push(n);
                    i += 1 + n.len_utf8();
                } else {
                    i += 1;
                }
                continue;
            }
            '\'' => {
                let w = word.get_or_insert_with(|| (String::new(), i, false));
                let close = text[i + 1..].find('\'').map(|at| i + 1 + at);
                let stop = close.unwrap_or(text.len());
                w.0.push_str(&text[i + 1..stop]);
                i = close.map_or(text.len(), |c| c + 1);
                continue;
            }
            '"' => {
                let w = word.get_or_insert_with(|| (String::new(), i, false));
                let mut j = i + 1;
                while j < bytes.len() && bytes[j] != b'"' {
                    if bytes[j] == b'\\' && j + 1 < bytes.len() {
                        j += 1;
                    }
                    let ch = text[j..].chars().next().unwrap_or(' ');
                    if ch == '$' {
                        w.2 = true;
                    }
                    w.0.push(ch);
                    j += ch.len_utf8();
                }
                i = (j + 1).min(text.len());
                continue;
            }
            '$' if matches!(bytes.get(i + 1), Some(b'(') | Some(b'{')) => {
                // `$(cmd)`, `$(VAR)` (make), `${VAR}`, `${{ matrix.x }}`:
                // one expanding word, to the matching close.
                let (open, close) = if bytes[i + 1] == b'(' {
                    (b'(', b')')
                } else {
                    (b'{', b'}')
                };
                let mut depth = 0usize;
                let mut j = i + 1;
                while j < bytes.len() {
                    if bytes[j] == open {
                        depth += 1;
                    } else if bytes[j] == close {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    j += 1;
                }
                let stop = (j + 1).min(text.len());
                let w = word.get_or_insert_with(|| (String::new(), i, false));
                w.0.push_str(&text[i..stop]);
                w.2 = true;
                i = stop;
                continue;
            }
            '#' if word.is_none() => {
                // A comment, to the end of the line.
                i = text[i..].find('\n').map_or(text.len(), |at| i + at);
                continue;
            }
            ' ' | '\t' | '\r' => {
                end_word(&mut word, &mut current, i);
                words += 1;
            }
            '\n' | ';' | '&' | '|' | '(' | ')' => {
                end_word(&mut word, &mut current, i);
                words += 1;
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            _ => {
                let w = word.get_or_insert_with(|| (String::new(), i, false));
                if c == '$' || c == '`' {
                    w.2 = true;
                }
                w.0.push(c);
            }
        }
        i += len;
    }
    end_word(&mut word, &mut current, i.min(text.len()));
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The file name of a program word (`/usr/bin/python3` → `python3`,
/// `${PREFIX}coverage` → `coverage`: a directory given by a variable).
pub fn program(word: &str) -> &str {
    let mut word = word;
    for (open, close) in [("${", '}'), ("$(", ')')] {
        if let Some(rest) = word.strip_prefix(open)
            && let Some(end) = rest.find(close)
            && end + 1 < rest.len()
        {
            word = &rest[end + 1..];
        }
    }
    word.rsplit(['/', '\\']).next().unwrap_or(word)
}

/// A Python interpreter word: `python`, `python3.12`, `py`, tox's
/// `{envpython}`, `$(which python)` and the like.
pub fn is_python(word: &str) -> bool {
    let name = program(word).trim_end_matches(".exe");
    let name = name.trim_start_matches('{').trim_end_matches('}');
    name == "py"
        || name == "envpython"
        || name
            .strip_prefix("python")
            .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// `$VAR`, `$(VAR)` (make), `${VAR}` and just's `{{var}}` words replaced by the variable's
/// words (at the word's span), to a bounded depth.
pub fn substitute(words: &[Word], vars: &std::collections::BTreeMap<String, String>) -> Vec<Word> {
    // However the values fan out (`A = $(A) $(A)`), a command stays
    // bounded.
    const MAX_WORDS: usize = 4096;
    let mut out: Vec<Word> = words.to_vec();
    for _ in 0..4 {
        let mut next = Vec::new();
        let mut changed = false;
        for w in &out {
            if next.len() >= MAX_WORDS {
                break;
            }
            let name = w
                .text
                .strip_prefix("$(")
                .and_then(|r| r.strip_suffix(')'))
                .or_else(|| w.text.strip_prefix("${").and_then(|r| r.strip_suffix('}')))
                .or_else(|| w.text.strip_prefix("{{").and_then(|r| r.strip_suffix("}}")))
                .or_else(|| {
                    w.text
                        .strip_prefix('$')
                        .filter(|r| r.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                })
                .map(str::trim);
            match name.and_then(|n| vars.get(n)) {
                Some(value) => {
                    changed = true;
                    for mut v in commands(value, 0).into_iter().flatten() {
                        v.span = w.span;
                        next.push(v);
                    }
                }
                None => {
                    // Inside a word: `--cov=$(PROJ)`.
                    let mut w = w.clone();
                    for (k, v) in vars {
                        for form in [format!("$({k})"), format!("${{{k}}}")] {
                            if w.text.contains(&form) && !v.contains(&form) && w.text.len() < 4096 {
                                w.text = w.text.replace(&form, v);
                                changed = true;
                            }
                        }
                    }
                    next.push(w);
                }
            }
        }
        out = next;
        if !changed {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<Vec<String>> {
        commands(text, 0)
            .into_iter()
            .map(|c| c.into_iter().map(|w| w.text).collect())
            .collect()
    }

    #[test]
    fn operators_split_commands() {
        assert_eq!(
            texts("pip install -e '.[test]' && pytest --cov=pkg; echo done\nmake test"),
            vec![
                vec!["pip", "install", "-e", ".[test]"],
                vec!["pytest", "--cov=pkg"],
                vec!["echo", "done"],
                vec!["make", "test"],
            ]
        );
        assert_eq!(
            texts("python -m pytest \\\n  --cov \"src dir\" # comment\n"),
            vec![vec!["python", "-m", "pytest", "--cov", "src dir"]]
        );
    }

    #[test]
    fn words_keep_their_spans() {
        let text = "  pytest --cov='a b' -x";
        let c = &commands(text, 10)[0];
        assert_eq!(c[1].span, Span::new(19, 30));
        assert_eq!(
            &text[c[1].span.start - 10..c[1].span.end - 10],
            "--cov='a b'"
        );
        assert!(commands("pytest $ARGS", 0)[0][1].expands);
        assert!(!commands("pytest '$ARGS'", 0)[0][1].expands);
    }

    #[test]
    fn pythons() {
        for p in [
            "python",
            "python3.12",
            "/usr/bin/python3",
            "{envpython}",
            "py",
        ] {
            assert!(is_python(p), "{p}");
        }
        for p in ["pythonista", "pytest", "ipython"] {
            assert!(!is_python(p), "{p}");
        }
    }

    #[test]
    fn unterminated_quotes_do_not_panic() {
        for text in ["'abc", "\"abc\\", "a\\", "é'ü", "\"$", "\\é"] {
            let _ = commands(text, 0);
        }
    }
}
