//! TOML documents read with `toml_edit`, keeping spans.
//!
//! Coverage.py and pytest load TOML into plain nested dicts, so a dotted key
//! (`run.sigterm = true` under `[tool.coverage]`), an inline table and a
//! `[tool.coverage.run]` header all mean the same thing. [`table_at`] walks
//! such paths the same way for every form.
//!
//! Nesting is bounded before `toml_edit` builds anything (see [`Nesting`]):
//! `toml_edit` is built `unbounded` (its own limit of 80 levels rejects
//! files tomllib reads), so covdoctor bounds the nesting itself, as
//! tomllib's recursion limit does, and never builds a tree deep enough to
//! exhaust a stack.

use toml_edit::{Document, Item, TableLike};
use toml_parser::ErrorSink;
use toml_parser::lexer::TokenKind;
use toml_parser::parser::EventReceiver;

use crate::source::Span;

pub type TomlDoc = Document<String>;

/// A parse error with the span `toml_edit` reports.
#[derive(Debug, Clone)]
pub struct TomlError {
    pub span: Span,
    pub message: String,
}

pub fn parse(text: &str) -> Result<TomlDoc, TomlError> {
    // `toml_parser` reads arrays and inline tables recursively, and
    // `toml_edit` builds the document so: one nested as deep as tomllib
    // reads takes a few MiB of stack in a debug build, more than a test
    // thread has. Such a file is read on a thread of its own. (Dropping,
    // printing and walking the document take far less.)
    let tokens = toml_parser::Source::new(text).lex().into_vec();
    let mut depth = 0usize;
    let mut brackets = 0usize;
    for token in &tokens {
        match token.kind() {
            TokenKind::LeftSquareBracket | TokenKind::LeftCurlyBracket => {
                depth += 1;
                brackets = brackets.max(depth);
            }
            TokenKind::RightSquareBracket | TokenKind::RightCurlyBracket => {
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
    }
    let read = || {
        let nesting = nesting(&tokens);
        if let Some(error) = nesting.error {
            return Err(error);
        }
        if nesting.deepest <= SHALLOW || brackets > SHALLOW as usize {
            build(text)
        } else {
            // Dotted keys deep enough to need a large stack.
            on_big_stack(|| build(text)).unwrap_or_else(|| Err(no_thread()))
        }
    };
    if brackets <= SHALLOW as usize {
        read()
    } else {
        on_big_stack(read).unwrap_or_else(|| Err(no_thread()))
    }
}

fn build(text: &str) -> Result<TomlDoc, TomlError> {
    Document::parse(text.to_string()).map_err(|e| {
        let span = e.span().map(Span::from).unwrap_or_else(|| Span::empty(0));
        TomlError {
            span,
            message: e.message().trim().to_string(),
        }
    })
}

fn no_thread() -> TomlError {
    TomlError {
        span: Span::empty(0),
        message: "nested too deeply for covdoctor to read here (it could not start a thread with a large stack)".to_string(),
    }
}

/// A tree depth any thread's stack builds a document of.
const SHALLOW: u32 = 64;

/// Runs `f` on a thread with a large stack (512 MiB, or less when the
/// system refuses so large a reservation: the stack is only reserved, not
/// used); `None` when no thread can be started. A panic in `f` is
/// propagated.
pub fn on_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> Option<T> {
    // A thread that cannot be started leaves `f` in its slot for the next.
    let slot = std::sync::Mutex::new(Some(f));
    for size in [512 << 20, 128 << 20, 32 << 20] {
        let joined = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("covdoctor-deep".into())
                .stack_size(size)
                .spawn_scoped(scope, || {
                    let run = slot.lock().ok()?.take()?;
                    Some(run())
                })
                .map(|handle| handle.join())
        });
        match joined {
            Ok(Ok(out)) => return out,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => continue,
        }
    }
    None
}

/// The Python frames tomllib spends on each array and each inline table
/// it reads (`parse_value` and `parse_array`; `parse_value`,
/// `parse_inline_table` and `parse_key_value_pair`), and how many it has
/// under `pytest --cov` before Python's recursion limit (1000) stops it
/// with a `RecursionError`. Measured with pytest 9.2, pytest-cov 7.1 and
/// Python 3.11: arrays nested 485 deep are read and 486 are not, inline
/// tables 323 and 324 (an inline table in an array, 193 and 194: this
/// model reads 194). tomllib alone reads 496 and 330 in Python 3.11 to
/// 3.13, `coverage debug config` 493 and 328, a bare pytest 490 and 326:
/// the run covdoctor is about reads the fewest.
const ARRAY_FRAMES: u32 = 2;
const INLINE_TABLE_FRAMES: u32 = 3;
const FRAMES: u32 = 970;

/// How deep covdoctor lets the tree of tables and values go, counting
/// every part of a dotted key and of a `[header]` (tomllib reads dotted
/// keys without recursing, so it reads any number of parts): a bound on
/// the stack the recursive parts of `toml_edit` (building, dropping,
/// printing a document) may use, far above any real file.
const MAX_TREE_DEPTH: u32 = 1000;

/// An [`EventReceiver`] that follows the nesting of a document as
/// `toml_parser` reads it and refuses to enter an array or an inline table
/// past the bounds: the parser then skips it without recursing. The
/// first refusal is kept.
#[derive(Default)]
struct Nesting {
    /// The frames tomllib has spent on the arrays and inline tables open.
    frames: u32,
    /// For each array or inline table open: it is an inline table, and
    /// its tree depth.
    open: Vec<(bool, u32)>,
    /// The tree depth of the table the current `[header]` opens.
    header: u32,
    /// The parts of the key being read.
    parts: u32,
    /// In a `[header]` or `[[header]]`.
    in_header: bool,
    /// The tree depth the next value lands at.
    value: u32,
    /// The deepest tree depth met.
    deepest: u32,
    error: Option<TomlError>,
}

impl Nesting {
    /// The tree depth of the table keys are read in: the innermost inline
    /// table's, or the current header's.
    fn base(&self) -> u32 {
        match self.open.last() {
            Some((_, depth)) => *depth,
            None => self.header,
        }
    }

    fn refuse(&mut self, span: toml_parser::Span, message: String) {
        if self.error.is_none() {
            self.error = Some(TomlError {
                span: Span::new(span.start(), span.end()),
                message,
            });
        }
    }

    fn open(&mut self, inline_table: bool, span: toml_parser::Span) -> bool {
        let cost = if inline_table {
            INLINE_TABLE_FRAMES
        } else {
            ARRAY_FRAMES
        };
        if self.frames + cost > FRAMES {
            self.refuse(
                span,
                "arrays and inline tables nested too deeply: tomllib (coverage.py, pytest) fails with \"RecursionError: maximum recursion depth exceeded\"".to_string(),
            );
            return false;
        }
        if self.value >= MAX_TREE_DEPTH {
            self.refuse(span, too_deep_message());
            return false;
        }
        self.frames += cost;
        self.open.push((inline_table, self.value));
        // The elements of an array are one level down.
        self.value += 1;
        self.deepest = self.deepest.max(self.value);
        true
    }

    fn close(&mut self) {
        if let Some((inline_table, _)) = self.open.pop() {
            self.frames -= if inline_table {
                INLINE_TABLE_FRAMES
            } else {
                ARRAY_FRAMES
            };
        }
        // Back in an array, the next element lands beside this one; in an
        // inline table or at the top, the next key sets it.
        if let Some((false, depth)) = self.open.last() {
            self.value = depth + 1;
        }
    }
}

fn too_deep_message() -> String {
    format!(
        "tables and values nested more than {MAX_TREE_DEPTH} deep (dotted keys count a level for each part): covdoctor does not read so deep a file"
    )
}

impl EventReceiver for Nesting {
    fn std_table_open(&mut self, _span: toml_parser::Span, _error: &mut dyn ErrorSink) {
        self.in_header = true;
        self.parts = 0;
    }
    fn std_table_close(&mut self, _span: toml_parser::Span, _error: &mut dyn ErrorSink) {
        self.in_header = false;
        self.header = self.parts;
        self.parts = 0;
    }
    fn array_table_open(&mut self, _span: toml_parser::Span, _error: &mut dyn ErrorSink) {
        self.in_header = true;
        // The array of tables is one level, its table the next.
        self.parts = 1;
    }
    fn array_table_close(&mut self, _span: toml_parser::Span, _error: &mut dyn ErrorSink) {
        self.in_header = false;
        self.header = self.parts;
        self.parts = 0;
    }
    fn inline_table_open(&mut self, span: toml_parser::Span, _error: &mut dyn ErrorSink) -> bool {
        self.parts = 0;
        self.open(true, span)
    }
    fn inline_table_close(&mut self, _span: toml_parser::Span, _error: &mut dyn ErrorSink) {
        self.parts = 0;
        self.close();
    }
    fn array_open(&mut self, span: toml_parser::Span, _error: &mut dyn ErrorSink) -> bool {
        self.parts = 0;
        self.open(false, span)
    }
    fn array_close(&mut self, _span: toml_parser::Span, _error: &mut dyn ErrorSink) {
        self.close();
    }
    fn simple_key(
        &mut self,
        span: toml_parser::Span,
        _kind: Option<toml_parser::decoder::Encoding>,
        _error: &mut dyn ErrorSink,
    ) {
        self.parts += 1;
        let base = if self.in_header { 0 } else { self.base() };
        self.deepest = self.deepest.max(base + self.parts);
        if base + self.parts > MAX_TREE_DEPTH {
            self.refuse(span, too_deep_message());
        }
    }
    fn key_val_sep(&mut self, _span: toml_parser::Span, _error: &mut dyn ErrorSink) {
        self.value = self.base() + self.parts;
        self.parts = 0;
    }
}

/// How a document nests, and whether deeper than tomllib reads or covdoctor
/// builds (and where): read with `toml_parser` (the parser under
/// `toml_edit`), which skips what [`Nesting`] refuses without recursing
/// into it. A syntax error before a refusal goes unseen: the file is
/// reported as too deep, where tomllib would report the syntax error.
fn nesting(tokens: &[toml_parser::lexer::Token]) -> Nesting {
    let mut nesting = Nesting::default();
    toml_parser::parser::parse_document(tokens, &mut nesting, &mut ());
    nesting
}

/// The table at a dotted path (`["tool", "coverage", "run"]`), whatever form
/// it was written in.
pub fn table_at<'a>(doc: &'a TomlDoc, path: &[&str]) -> Option<&'a Item> {
    let mut item = doc.as_item();
    for part in path {
        item = item.as_table_like()?.get(part)?;
    }
    item.is_table_like().then_some(item)
}

/// The best span to point at for a table: its `[header]` when it has one,
/// an inline table's braces, otherwise its first key (a table made only of
/// dotted keys has no text of its own).
pub fn table_span(item: &Item) -> Option<Span> {
    let own = match item {
        Item::Table(t) => t.span(),
        Item::Value(toml_edit::Value::InlineTable(t)) => t.span(),
        _ => None,
    };
    if let Some(span) = own {
        return Some(span.into());
    }
    let table: &dyn TableLike = item.as_table_like()?;
    table
        .iter()
        .filter_map(|(k, _)| table.get_key_value(k))
        .find_map(|(k, _)| k.span())
        .map(Span::from)
}

/// The span of an item's value, if it was parsed from text.
pub fn item_span(item: &Item) -> Option<Span> {
    item.span().map(Span::from)
}

/// A TOML string, or the strings of an array of strings.
pub fn strings(item: &Item) -> Option<Vec<String>> {
    if let Some(s) = item.as_str() {
        return Some(vec![s.to_string()]);
    }
    let array = item.as_array()?;
    array
        .iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_keys_and_headers_reach_the_same_table() {
        for text in [
            "[tool.coverage.run]\nsigterm = true\n",
            "[tool.coverage]\nrun.sigterm = true\n",
            "[tool]\ncoverage.run = { sigterm = true }\n",
        ] {
            let doc = parse(text).unwrap();
            let run = table_at(&doc, &["tool", "coverage", "run"]).unwrap();
            let (key, item) = run
                .as_table_like()
                .unwrap()
                .get_key_value("sigterm")
                .unwrap();
            assert_eq!(item.as_bool(), Some(true), "{text}");
            assert_eq!(&text[Span::from(key.span().unwrap()).range()], "sigterm");
            assert_eq!(&text[item_span(item).unwrap().range()], "true");
            let span = table_span(run).unwrap();
            assert!(span.end <= text.len());
        }
    }

    #[test]
    fn header_span_covers_the_header() {
        let text = "[project]\nname = 'x'\n\n[tool.coverage.run]\nbranch = true\n";
        let doc = parse(text).unwrap();
        let run = table_at(&doc, &["tool", "coverage", "run"]).unwrap();
        assert_eq!(
            &text[table_span(run).unwrap().range()],
            "[tool.coverage.run]"
        );
    }

    fn nested(open: &str, inner: &str, close: &str, n: usize) -> String {
        format!(
            "[tool.x]\ny = {}{inner}{}\n",
            open.repeat(n),
            close.repeat(n)
        )
    }

    /// The error's line, column and message.
    fn error_at(text: &str) -> Option<(usize, usize, String)> {
        let e = parse(text).err()?;
        let before = &text[..e.span.start];
        let line = before.matches('\n').count() + 1;
        let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        Some((line, col, e.message))
    }

    #[test]
    fn nesting_is_read_as_deep_as_tomllib_reads_it() {
        // Arrays: 485 deep are read under `pytest --cov`, 486 are not.
        assert!(parse(&nested("[", "", "]", 485)).is_ok());
        let (line, col, message) = error_at(&nested("[", "", "]", 486)).unwrap();
        assert_eq!((line, col), (2, 5 + 485));
        assert!(message.contains("RecursionError"), "{message}");
        // Inline tables: 323 and 324.
        assert!(parse(&nested("{a = ", "1", "}", 323)).is_ok());
        let (line, col, _) = error_at(&nested("{a = ", "1", "}", 324)).unwrap();
        assert_eq!((line, col), (2, 5 + 5 * 323));
        // Both.
        assert!(parse(&nested("[{a = ", "1", "}]", 194)).is_ok());
        assert!(parse(&nested("[{a = ", "1", "}]", 195)).is_err());
        // The frames are given back when a value closes.
        let deep = format!("{}{}", "[".repeat(480), "]".repeat(480));
        assert!(parse(&format!("a = {deep}\nb = {deep}\n")).is_ok());
        assert!(parse(&format!("y = [{deep}, {deep}]\n")).is_ok());
        assert!(parse(&format!("y = {{a = {deep}, b = {deep}}}\n")).is_ok());
    }

    #[test]
    fn brackets_in_strings_comments_and_headers_do_not_nest() {
        let many = "[".repeat(2000);
        let text =
            format!("[[a.b]]\n# {many}\nx = \"{many}\"\ny = '''{many}'''\n[\"{many}\"]\nz = 1\n");
        let doc = parse(&text).unwrap();
        assert!(table_at(&doc, &[many.as_str()]).is_some());
    }

    #[test]
    fn ten_thousand_deep_is_an_error_not_a_crash() {
        for (open, inner, close) in [("[", "", "]"), ("{a = ", "1", "}"), ("[{a = ", "1", "}]")] {
            let (line, _, _) = error_at(&nested(open, inner, close, 10_000)).unwrap();
            assert_eq!(line, 2);
        }
        // Unclosed, too.
        assert!(parse(&format!("y = {}", "[".repeat(100_000))).is_err());
        assert!(parse(&format!("y = {}", "{a = ".repeat(100_000))).is_err());
    }

    #[test]
    fn dotted_keys_and_headers_are_bounded() {
        let key = |n: usize| vec!["a"; n].join(".");
        assert!(parse(&format!("{} = 1\n", key(1000))).is_ok());
        let (line, col, message) = error_at(&format!("{} = 1\n", key(1001))).unwrap();
        assert_eq!((line, col), (1, 2001));
        assert!(message.contains("1000"), "{message}");
        assert!(parse(&format!("[{}]\nx = 1\n", key(999))).is_ok());
        assert!(parse(&format!("[{}]\nx = 1\n", key(1001))).is_err());
        // A header's depth and a key's add up, and so do inline tables'.
        assert!(parse(&format!("[{}]\n{} = 1\n", key(500), key(500))).is_ok());
        assert!(parse(&format!("[{}]\n{} = 1\n", key(500), key(501))).is_err());
        assert!(parse(&format!("[{}]\nx = [[]]\n", key(997))).is_ok());
        assert!(parse(&format!("[{}]\nx = [[[]]]\n", key(998))).is_err());
        assert!(parse(&format!("x = {{{} = {{{} = 1}}}}\n", key(400), key(599))).is_ok());
        assert!(parse(&format!("x = {{{} = {{{} = 1}}}}\n", key(400), key(600))).is_err());
        // Each header starts from the root.
        assert!(parse(&format!("[{0}]\n[{0}x]\n", key(900))).is_ok());
    }

    /// The deepest documents covdoctor builds are built, printed and
    /// dropped within a small stack (a test thread has 2 MiB; the main
    /// thread, where configuration is read, 8 MiB).
    #[test]
    fn the_deepest_documents_fit_in_a_small_stack() {
        let key = |n: usize| vec!["a"; n].join(".");
        let texts = [
            nested("[", "", "]", 485),
            nested("{a = ", "1", "}", 323),
            format!(
                "[{}]\n{} = {}1{}\n",
                key(300),
                key(200),
                "{a = ".repeat(300),
                "}".repeat(300)
            ),
            format!("{} = 1\n", key(1000)),
            format!("[[{}]]\nx = 1\n", key(998)),
        ];
        std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || {
                for text in texts {
                    let doc = parse(&text).unwrap();
                    let mut items = vec![doc.as_item()];
                    while let Some(item) = items.pop() {
                        match item.as_table_like() {
                            Some(t) if !item.is_inline_table() => {
                                items.extend(t.iter().map(|(_, v)| v))
                            }
                            _ => assert!(!item.to_string().is_empty()),
                        }
                    }
                    drop(doc);
                }
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn errors_have_spans() {
        let err = parse("[tool.coverage.run\nx = 1\n").unwrap_err();
        assert!(err.span.start <= 19, "{err:?}");
        assert!(!err.message.is_empty());
    }
}
