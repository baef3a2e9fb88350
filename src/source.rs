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
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: PathBuf, text: String) -> Self {
        let (text, bom) = match text.strip_prefix('\u{feff}') {
            Some(rest) => (rest.to_string(), true),
            None => (text, false),
        };
        // Line breaks as Python and configparser see them: `\n`, `\r\n`,
        // and a lone `\r` (universal newlines).
        let mut line_starts = vec![0];
        let bytes = text.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                line_starts.push(i + 1);
            }
        }
        SourceFile {
            path,
            text,
            bom,
            encoding: None,
            line_starts,
        }
    }

    /// Reads a Python file: UTF-8, unless a PEP 263 declaration
    /// (`# -*- coding: latin-1 -*-`) on one of the first two lines names
    /// another encoding, as Python itself does.
    pub fn read_python(files: &dyn Files, path: &Path) -> Result<Self, ReadError> {
        let bytes = files.read(path).map_err(|e| ReadError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let Some(label) = coding_declaration(&bytes) else {
            return Self::from_bytes(path, bytes);
        };
        // Python's codec names (`latin-1`, `iso8859_15`, `utf_8`) are not all
        // WHATWG labels; try the usual spellings.
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
            return Err(ReadError::Io {
                path: path.to_path_buf(),
                message: format!("unknown encoding `{label}` in its coding declaration"),
            });
        };
        if encoding == encoding_rs::UTF_8 {
            return Self::from_bytes(path, bytes);
        }
        let (text, _, had_errors) = encoding.decode(&bytes);
        if had_errors {
            return Err(ReadError::Io {
                path: path.to_path_buf(),
                message: format!("not valid {label}, the encoding its coding declaration names"),
            });
        }
        let mut file = SourceFile::new(path.to_path_buf(), text.into_owned());
        file.encoding = Some(label);
        Ok(file)
    }

    /// Reads a file. Non-UTF-8 content is an error, like for Python's
    /// `open(..., encoding="utf-8")` that coverage.py and pytest use.
    pub fn read(files: &dyn Files, path: &Path) -> Result<Self, ReadError> {
        let bytes = files.read(path).map_err(|e| ReadError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Self::from_bytes(path, bytes)
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
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
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

/// The encoding named by a PEP 263 coding declaration on the first or second
/// line (`^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)`, the regular expression
/// the PEP gives).
fn coding_declaration(bytes: &[u8]) -> Option<String> {
    static COOKIE: std::sync::LazyLock<regex::bytes::Regex> = std::sync::LazyLock::new(|| {
        regex::bytes::Regex::new(r"^[ \t\x0c]*#.*?coding[:=][ \t]*([-\w.]+)").expect("valid regex")
    });
    let mut lines = bytes.split(|b| *b == b'\n');
    let first = lines.next()?;
    let found = COOKIE.captures(first).or_else(|| {
        // The second line counts only if the first is blank or a comment.
        let trimmed = first
            .iter()
            .skip_while(|b| b.is_ascii_whitespace())
            .copied()
            .collect::<Vec<u8>>();
        if trimmed.is_empty() || trimmed.starts_with(b"#") {
            COOKIE.captures(lines.next()?)
        } else {
            None
        }
    })?;
    Some(String::from_utf8_lossy(&found[1]).into_owned())
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
            Err(ReadError::NotUtf8 { .. })
        ));
        // A declaration on line 2 after code does not count.
        std::fs::write(&bad, b"x = 1\n# coding: latin-1\ny = '\xe9'\n").unwrap();
        assert!(SourceFile::read_python(&Disk, &bad).is_err());
    }

    #[test]
    fn bom_is_removed_and_remembered() {
        let f = SourceFile::new("x".into(), "\u{feff}[run]\n".to_string());
        assert!(f.bom);
        assert_eq!(f.text, "[run]\n");
    }
}
