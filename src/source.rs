//! Source files as covdoctor read them: a path, the text, and a line index.
//!
//! Every span in covdoctor is a byte range into one of these files. Files are
//! read once and shared (`Arc`) between the config readers, the Python
//! analysis, the rules and the renderer, so a diagnostic can always show the
//! exact bytes it talks about.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A byte range in a [`SourceFile`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        debug_assert!(start <= end);
        Span { start, end }
    }

    pub fn empty(at: usize) -> Self {
        Span { start: at, end: at }
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }
}

impl From<Range<usize>> for Span {
    fn from(r: Range<usize>) -> Self {
        Span::new(r.start, r.end)
    }
}

/// One file read from disk. `text` has a UTF-8 byte order mark removed (and
/// `bom` records that it was there), so spans index `text`, and the Python,
/// TOML and INI readers see what their real counterparts see after decoding.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as covdoctor found it (absolute or relative to the current
    /// directory, as given on the command line).
    pub path: PathBuf,
    pub text: String,
    pub bom: bool,
    /// A Python file's PEP 263 encoding when it is not UTF-8 (the text was
    /// decoded from it; such a file is never rewritten).
    pub encoding: Option<String>,
    /// Some bytes were not UTF-8 and `text` holds U+FFFD for them (a
    /// Makefile or a shell script, read as bytes): spans do not index the
    /// file's bytes, and the file is never rewritten.
    pub lossy: bool,
    /// Where each line starts, found on the first `line_col`: most files
    /// read (those the analysis never parses) are never asked, and the
    /// offsets of all of them would take a fifth as much memory as their
    /// text.
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl SourceFile {
    pub fn new(path: PathBuf, text: String) -> Self {
        let (text, bom) = match text.strip_prefix('\u{feff}') {
            Some(rest) => (rest.to_string(), true),
            None => (text, false),
        };
        SourceFile {
            path,
            text,
            bom,
            encoding: None,
            lossy: false,
            line_starts: std::sync::OnceLock::new(),
        }
    }

    /// Line breaks as Python and configparser see them: `\n`, `\r\n`,
    /// and a lone `\r` (universal newlines).
    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            let mut starts = vec![0];
            let bytes = self.text.as_bytes();
            for (i, &b) in bytes.iter().enumerate() {
                if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                    starts.push(i + 1);
                }
            }
            starts
        })
    }

    /// A file known by its path only, its text not kept (empty): a Python
    /// file the analysis did not parse.
    pub fn unread(path: PathBuf) -> Self {
        SourceFile::new(path, String::new())
    }

    /// Reads a Python file: UTF-8, unless a PEP 263 declaration
    /// (`# -*- coding: latin-1 -*-`) on one of the first two lines names
    /// another encoding, as Python itself does. A declaration Python
    /// refuses (an unknown encoding, another encoding than UTF-8 after a
    /// UTF-8 byte order mark) is located at the encoding's name.
    pub fn read_python(files: &dyn Files, path: &Path) -> Result<Self, Undecodable> {
        let bytes = files.read(path).map_err(|e| Undecodable {
            error: ReadError::Io {
                path: path.to_path_buf(),
                message: e.to_string(),
            },
            at: None,
        })?;
        decode_python(path, bytes)
    }

    /// Reads a file as the program that reads it decodes it (see
    /// [`Decoding::of`]): a configuration file as UTF-8, where anything else
    /// is an error, like for Python's `open(..., encoding="utf-8")` that
    /// coverage.py and pytest use; a Python file as Python does; a Makefile
    /// or a shell script as bytes.
    pub fn read(files: &dyn Files, path: &Path) -> Result<Self, ReadError> {
        let bytes = files.read(path).map_err(|e| ReadError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        match Decoding::of(path, &bytes) {
            Decoding::Utf8 => Self::from_bytes(path, bytes),
            Decoding::Python => decode_python(path, bytes).map_err(|u| u.error),
            Decoding::Bytes => Ok(Self::from_bytes_lossy(path, bytes)),
        }
    }

    /// A file of bytes that are mostly text (make and the shell never
    /// decode): a byte that is not UTF-8 becomes U+FFFD.
    fn from_bytes_lossy(path: &Path, bytes: Vec<u8>) -> Self {
        match String::from_utf8(bytes) {
            Ok(text) => SourceFile::new(path.to_path_buf(), text),
            Err(e) => {
                let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let mut file = SourceFile::new(path.to_path_buf(), text);
                file.lossy = true;
                file
            }
        }
    }

    fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Self, ReadError> {
        match String::from_utf8(bytes) {
            Ok(text) => Ok(SourceFile::new(path.to_path_buf(), text)),
            Err(e) => {
                let offset = e.utf8_error().valid_up_to();
                let bytes = e.into_bytes();
                let prefix = String::from_utf8_lossy(&bytes[..offset]);
                let line = prefix.matches('\n').count() + 1;
                let column = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                Err(ReadError::NotUtf8 {
                    path: path.to_path_buf(),
                    offset,
                    line,
                    column,
                })
            }
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let starts = self.line_starts();
        let line = match starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = starts[line];
        let column = self.text[start..offset].chars().count() + 1;
        (line + 1, column)
    }

    /// Some line ends with a lone `\r` (old Mac line endings): edits, which
    /// find lines by `\n`, are not made in such a file.
    pub fn has_lone_cr(&self) -> bool {
        let bytes = self.text.as_bytes();
        bytes
            .iter()
            .enumerate()
            .any(|(i, &b)| b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
    }

    /// The text of a span.
    pub fn slice(&self, span: Span) -> &str {
        &self.text[span.range()]
    }
}

/// How the program that reads a file decodes its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoding {
    /// UTF-8, anything else an error: configparser, tomllib, YAML and
    /// requirement files as coverage.py, pytest, tox, pip and CI read them.
    Utf8,
    /// Python source: UTF-8 unless a PEP 263 declaration names another
    /// encoding.
    Python,
    /// Bytes: make and the shell never decode what they read, so a byte
    /// that is not UTF-8 (in a comment, say) changes nothing.
    Bytes,
}

impl Decoding {
    /// How the file at `path`, holding `bytes`, is decoded by what reads it:
    /// a `.py` file is Python; a Makefile (`Makefile`, `makefile`,
    /// `GNUmakefile`, `*.mk`) and a shell script (`*.sh`, `*.bash`, or a
    /// file without extension that starts with `#!`, unless the line names
    /// Python) are bytes; anything else is UTF-8.
    pub fn of(path: &Path, bytes: &[u8]) -> Decoding {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        if matches!(&*name, "Makefile" | "makefile" | "GNUmakefile") {
            return Decoding::Bytes;
        }
        match path.extension().and_then(|e| e.to_str()) {
            Some("py" | "pyw") => Decoding::Python,
            Some("mk" | "sh" | "bash") => Decoding::Bytes,
            // An executable script: `#!/bin/sh`. Dotfiles and justfiles (just
            // wants UTF-8) are not scripts.
            None if bytes.starts_with(b"#!")
                && !name.starts_with('.')
                && !name.eq_ignore_ascii_case("justfile") =>
            {
                let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
                if first.windows(6).any(|w| w == b"python") {
                    Decoding::Python
                } else {
                    Decoding::Bytes
                }
            }
            _ => Decoding::Utf8,
        }
    }
}

/// A Python file that could not be decoded, and where when that is known
/// (the encoding's name in its coding declaration).
#[derive(Debug, Clone)]
pub struct Undecodable {
    pub error: ReadError,
    pub at: Option<Location>,
}

const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// Decodes Python source as Python's tokenizer does: a UTF-8 byte order
/// mark, then a PEP 263 declaration on one of the first two lines, else
/// UTF-8.
fn decode_python(path: &Path, bytes: Vec<u8>) -> Result<SourceFile, Undecodable> {
    let bom = bytes.starts_with(UTF8_BOM);
    let body = if bom { &bytes[3..] } else { &bytes[..] };
    let Some((label, range)) = coding_declaration(body) else {
        return SourceFile::from_bytes(path, bytes)
            .map_err(|error| Undecodable { error, at: None });
    };
    // Where the declaration names the encoding, in a lossy reading of the
    // file (the byte order mark removed, as `SourceFile::new` does).
    let located = |message: String| {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let file = Arc::new(SourceFile::new(path.to_path_buf(), text));
        let start = String::from_utf8_lossy(&body[..range.start]).len();
        let end = start + String::from_utf8_lossy(&body[range.clone()]).len();
        Undecodable {
            error: ReadError::Io {
                path: path.to_path_buf(),
                message,
            },
            at: Some(Location::new(&file, Span::new(start, end))),
        }
    };
    let normal = python_normal_name(&label);
    if bom && normal != "utf-8" {
        // Python: "SyntaxError: encoding problem: iso-8859-1 with BOM".
        return Err(located(format!(
            "encoding problem: {normal} with BOM (Python refuses a UTF-8 byte order mark before a coding declaration of another encoding than UTF-8)"
        )));
    }
    if normal == "utf-8" {
        return SourceFile::from_bytes(path, bytes)
            .map_err(|error| Undecodable { error, at: None });
    }
    let text = if normal == "iso-8859-1" {
        // Latin-1 maps every byte to the code point of its value (WHATWG's
        // `latin1` label is windows-1252, which differs in 0x80-0x9f).
        bytes.iter().map(|&b| char::from(b)).collect::<String>()
    } else {
        // Python's codec names (`iso8859_15`, `cp1252`) are not all WHATWG
        // labels; try the usual spellings.
        let lower = label.to_ascii_lowercase();
        let candidates = [
            lower.clone(),
            lower.replace('_', "-"),
            lower.replace(['-', '_'], ""),
            lower.replace('_', "-").replacen("iso8859", "iso-8859", 1),
        ];
        let Some(encoding) = candidates
            .iter()
            .find_map(|c| encoding_rs::Encoding::for_label(c.as_bytes()))
        else {
            return Err(located(format!(
                "unknown encoding `{label}` in its coding declaration"
            )));
        };
        if encoding == encoding_rs::UTF_8 {
            return SourceFile::from_bytes(path, bytes)
                .map_err(|error| Undecodable { error, at: None });
        }
        let (text, had_errors) = encoding.decode_without_bom_handling(&bytes);
        if had_errors {
            return Err(Undecodable {
                error: ReadError::Io {
                    path: path.to_path_buf(),
                    message: format!(
                        "not valid {label}, the encoding its coding declaration names"
                    ),
                },
                at: None,
            });
        }
        text.into_owned()
    };
    let mut file = SourceFile::new(path.to_path_buf(), text);
    file.encoding = Some(label);
    Ok(file)
}

/// The name Python's tokenizer gives a declared encoding in its messages
/// (`get_normal_name`): `utf-8` for `UTF_8` and `utf-8-*`, `iso-8859-1`
/// for the spellings of Latin-1, else the name as written.
fn python_normal_name(label: &str) -> &str {
    // Python looks at the first 12 characters only.
    let buf: String = label
        .chars()
        .take(12)
        .map(|c| {
            if c == '_' {
                '-'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    if buf == "utf-8" || buf.starts_with("utf-8-") {
        "utf-8"
    } else if ["latin-1", "iso-8859-1", "iso-latin-1"].contains(&buf.as_str())
        || ["latin-1-", "iso-8859-1-", "iso-latin-1-"]
            .iter()
            .any(|p| buf.starts_with(p))
    {
        "iso-8859-1"
    } else {
        label
    }
}

/// The encoding named by a PEP 263 coding declaration on the first or second
/// line (`^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)`, the regular expression
/// the PEP gives, on bytes and ASCII as Python's tokenizer reads it), and
/// the byte range of the name. `bytes` is the file
/// after any byte order mark.
fn coding_declaration(bytes: &[u8]) -> Option<(String, Range<usize>)> {
    static COOKIE: std::sync::LazyLock<regex::bytes::Regex> = std::sync::LazyLock::new(|| {
        regex::bytes::Regex::new(r"^[ \t\x0c]*#(?-u:.)*?coding[:=][ \t]*((?-u:[-\w.])+)")
            .expect("valid regex")
    });
    let mut lines = bytes.split(|b| *b == b'\n');
    let first = lines.next()?;
    let found = match COOKIE.captures(first) {
        Some(c) => c.get(1)?.range(),
        None => {
            // The second line counts only if the first is blank or a comment.
            let trimmed = first
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .map_or(&[][..], |i| &first[i..]);
            if !(trimmed.is_empty() || trimmed.starts_with(b"#")) {
                return None;
            }
            let second = lines.next()?;
            let r = COOKIE.captures(second)?.get(1)?.range();
            let at = first.len() + 1;
            at + r.start..at + r.end
        }
    };
    Some((
        String::from_utf8_lossy(&bytes[found.clone()]).into_owned(),
        found,
    ))
}

/// A file that could not be read as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    Io {
        path: PathBuf,
        message: String,
    },
    NotUtf8 {
        path: PathBuf,
        offset: usize,
        line: usize,
        column: usize,
    },
}

impl ReadError {
    pub fn path(&self) -> &Path {
        match self {
            ReadError::Io { path, .. } | ReadError::NotUtf8 { path, .. } => path,
        }
    }
}

impl ReadError {
    /// What went wrong, without the path (the renderer shows it).
    pub fn message(&self) -> String {
        match self {
            ReadError::Io { message, .. } => format!("cannot read this file: {message}"),
            ReadError::NotUtf8 { line, column, .. } => format!(
                "not valid UTF-8 at line {line}, column {column} (coverage.py, pytest and Python read this file as UTF-8)"
            ),
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path().display(), self.message())
    }
}

/// Removes `.` and `..` components without touching the file system, so a
/// path keeps the name the user gave it (no symlink resolution). A `..` that
/// cannot go up is kept.
pub fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else if !matches!(out.components().next_back(), Some(Component::RootDir)) {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Where covdoctor reads files from: the disk, or the disk seen through the
/// edits of a fix run that has not been written yet.
pub trait Files: Send + Sync {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>>;
    fn is_file(&self, path: &Path) -> bool;
    /// Something that is neither a regular file nor a directory (a pipe, a
    /// device) is at `path`: reading it is an input error, not a missing
    /// file.
    fn is_special(&self, path: &Path) -> bool;
}

/// The file system itself.
pub struct Disk;

/// The largest file covdoctor reads (configuration, ignore files, Python
/// sources); a larger one is an input error, never an unbounded read.
pub const MAX_FILE_SIZE: u64 = 64 << 20;

/// Reads a regular file (through symlinks) of at most [`MAX_FILE_SIZE`]
/// bytes. A FIFO, a device or a directory is refused before it is opened,
/// so `check` never blocks on a pipe or reads `/dev/zero` without end.
pub fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::other(
            "not a regular file (a pipe, device or directory); not read",
        ));
    }
    if meta.len() > MAX_FILE_SIZE {
        return Err(std::io::Error::other(format!(
            "larger than {} MiB; not read",
            MAX_FILE_SIZE >> 20
        )));
    }
    let mut out = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)?
        .take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut out)?;
    if out.len() as u64 > MAX_FILE_SIZE {
        return Err(std::io::Error::other(format!(
            "larger than {} MiB; not read",
            MAX_FILE_SIZE >> 20
        )));
    }
    Ok(out)
}

impl Files for Disk {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        read_regular(path)
    }

    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }

    fn is_special(&self, path: &Path) -> bool {
        std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
    }
}

pub type SharedFiles = Arc<dyn Files>;

/// A shared handle to a source file.
pub type Source = Arc<SourceFile>;

/// A place in a file: what every diagnostic label points at.
#[derive(Clone, Debug)]
pub struct Location {
    pub file: Source,
    pub span: Span,
}

impl PartialEq for Location {
    fn eq(&self, other: &Self) -> bool {
        self.file.path == other.file.path && self.span == other.span
    }
}

impl Eq for Location {}

impl Location {
    pub fn new(file: &Source, span: Span) -> Self {
        Location {
            file: Arc::clone(file),
            span,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_and_lines() {
        let f = SourceFile::new("x".into(), "ab\nçd\n".to_string());
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        // 'ç' is two bytes; 'd' is the second character.
        assert_eq!(f.line_col(5), (2, 2));
        assert_eq!(f.line_col(7), (3, 1));
    }

    #[test]
    fn a_lone_carriage_return_ends_a_line() {
        let f = SourceFile::new("x".into(), "a\rb\r\nc\nd".to_string());
        assert_eq!(f.line_col(2), (2, 1));
        assert_eq!(f.line_col(5), (3, 1));
        assert_eq!(f.line_col(7), (4, 1));
        assert!(f.has_lone_cr());
        assert!(!SourceFile::new("x".into(), "a\r\nb\n".to_string()).has_lone_cr());
    }

    #[test]
    fn normalize_is_lexical() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(normalize(Path::new("../x/./y/..")), PathBuf::from("../x"));
        assert_eq!(normalize(Path::new("/..")), PathBuf::from("/"));
    }

    #[test]
    fn python_files_honour_their_coding_declaration() {
        let dir = tempfile::tempdir().unwrap();
        let latin = dir.path().join("latin.py");
        std::fs::write(&latin, b"# -*- coding: latin-1 -*-\nx = '\xe9'\n").unwrap();
        let file = SourceFile::read_python(&Disk, &latin).unwrap();
        assert_eq!(file.text, "# -*- coding: latin-1 -*-\nx = '\u{e9}'\n");
        assert_eq!(file.encoding.as_deref(), Some("latin-1"));
        let second = dir.path().join("second.py");
        std::fs::write(
            &second,
            b"#!/usr/bin/env python\n# vim: set fileencoding=koi8-r :\ns = '\xc1'\n",
        )
        .unwrap();
        assert!(SourceFile::read_python(&Disk, &second).is_ok());
        // Without a declaration, non-UTF-8 is an error.
        let bad = dir.path().join("bad.py");
        std::fs::write(&bad, b"x = '\xe9'\n").unwrap();
        assert!(matches!(
            SourceFile::read_python(&Disk, &bad),
            Err(Undecodable {
                error: ReadError::NotUtf8 { .. },
                ..
            })
        ));
        // A declaration on line 2 after code does not count.
        std::fs::write(&bad, b"x = 1\n# coding: latin-1\ny = '\xe9'\n").unwrap();
        assert!(SourceFile::read_python(&Disk, &bad).is_err());
    }

    fn python(bytes: &[u8]) -> Result<SourceFile, Undecodable> {
        decode_python(Path::new("x.py"), bytes.to_vec())
    }

    /// The message and the located text of an undecodable file.
    fn refused(bytes: &[u8]) -> (String, Option<(usize, usize, String)>) {
        let u = python(bytes).unwrap_err();
        let at = u.at.map(|l| {
            let (line, column) = l.file.line_col(l.span.start);
            (line, column, l.file.slice(l.span).to_string())
        });
        (u.error.message(), at)
    }

    #[test]
    fn a_bom_with_another_declared_encoding_is_refused_as_python_does() {
        // Python: "SyntaxError: encoding problem: iso-8859-1 with BOM".
        let (message, at) = refused(b"\xef\xbb\xbf# -*- coding: latin-1 -*-\nx = 1\n");
        assert!(
            message.contains("encoding problem: iso-8859-1 with BOM"),
            "{message}"
        );
        assert_eq!(at, Some((1, 15, "latin-1".to_string())));
        // On the second line, and a name Python does not normalize.
        let (message, at) = refused(b"\xef\xbb\xbf#!/usr/bin/python\n# coding: utf8\nx = 1\n");
        assert!(
            message.contains("encoding problem: utf8 with BOM"),
            "{message}"
        );
        assert_eq!(at, Some((2, 11, "utf8".to_string())));
        // Unknown after a BOM: the BOM is what Python names.
        let (message, _) = refused(b"\xef\xbb\xbf# coding: nonsense\n");
        assert!(message.contains("nonsense with BOM"), "{message}");
    }

    #[test]
    fn a_bom_with_utf8_declared_or_none_is_read() {
        for ok in [
            &b"\xef\xbb\xbf# -*- coding: utf-8 -*-\nx = 1\n"[..],
            b"\xef\xbb\xbf# coding: UTF_8\nx = 1\n",
            b"\xef\xbb\xbf# coding: utf-8-unix\nx = 1\n",
            b"\xef\xbb\xbfx = 1\n",
            // After code, a declaration on line 2 does not count.
            b"\xef\xbb\xbfx = 1\n# coding: latin-1\n",
        ] {
            let file = python(ok).unwrap();
            assert!(file.bom);
            assert_eq!(file.encoding, None);
        }
    }

    #[test]
    fn latin_1_is_latin_1_and_unknown_encodings_are_located() {
        // 0x80 is U+0080 in Latin-1 (windows-1252 would make it U+20AC).
        let file = python(b"# coding: latin-1\nx = '\x80\xe9'\n").unwrap();
        assert_eq!(file.text, "# coding: latin-1\nx = '\u{80}\u{e9}'\n");
        assert!(python(b"# coding: iso-8859-1-unix\nx = '\xe9'\n").is_ok());
        assert!(python(b"# coding: iso8859_15\nx = '\xa4'\n").is_ok());
        let (message, at) = refused(b"# caf\xe9 coding: nonsense\nx = 1\n");
        assert!(message.contains("unknown encoding `nonsense`"), "{message}");
        assert_eq!(at, Some((1, 16, "nonsense".to_string())));
    }

    #[test]
    fn each_reader_decodes_as_the_program_that_reads_the_file() {
        let of = |path: &str, bytes: &[u8]| Decoding::of(Path::new(path), bytes);
        assert_eq!(of("Makefile", b""), Decoding::Bytes);
        assert_eq!(of("a/GNUmakefile", b""), Decoding::Bytes);
        assert_eq!(of("rules.mk", b""), Decoding::Bytes);
        assert_eq!(of("ci/test.sh", b""), Decoding::Bytes);
        assert_eq!(of("ci/test", b"#!/bin/bash\n"), Decoding::Bytes);
        assert_eq!(of("ci/test", b"#!/usr/bin/env python3\n"), Decoding::Python);
        assert_eq!(of("noxfile.py", b""), Decoding::Python);
        // Near misses: configuration is UTF-8.
        assert_eq!(of("ci/test", b"echo\n"), Decoding::Utf8);
        assert_eq!(of(".coveragerc", b"#!\n"), Decoding::Utf8);
        assert_eq!(of("justfile", b"#!/usr/bin/env just\n"), Decoding::Utf8);
        assert_eq!(of("Makefile.toml", b""), Decoding::Utf8);
        assert_eq!(of("tox.ini", b""), Decoding::Utf8);
        assert_eq!(of(".gitlab-ci.yml", b""), Decoding::Utf8);
    }

    #[test]
    fn make_and_shell_files_are_read_as_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let make = dir.path().join("Makefile");
        std::fs::write(&make, b"# caf\xe9\ntest:\n\tpytest --cov\n").unwrap();
        let file = SourceFile::read(&Disk, &make).unwrap();
        assert!(file.lossy);
        assert_eq!(file.text, "# caf\u{fffd}\ntest:\n\tpytest --cov\n");
        let clean = dir.path().join("test.sh");
        std::fs::write(&clean, b"pytest --cov\n").unwrap();
        assert!(!SourceFile::read(&Disk, &clean).unwrap().lossy);
        let nox = dir.path().join("noxfile.py");
        std::fs::write(&nox, b"# coding: latin-1\n# caf\xe9\n").unwrap();
        assert_eq!(
            SourceFile::read(&Disk, &nox).unwrap().encoding.as_deref(),
            Some("latin-1")
        );
        // Configuration is still UTF-8 only.
        let ini = dir.path().join("tox.ini");
        std::fs::write(&ini, b"# caf\xe9\n").unwrap();
        assert!(matches!(
            SourceFile::read(&Disk, &ini),
            Err(ReadError::NotUtf8 {
                line: 1,
                column: 6,
                ..
            })
        ));
    }

    #[test]
    fn bom_is_removed_and_remembered() {
        let f = SourceFile::new("x".into(), "\u{feff}[run]\n".to_string());
        assert!(f.bom);
        assert_eq!(f.text, "[run]\n");
    }
}
