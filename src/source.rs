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
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: PathBuf, text: String) -> Self {
        let (text, bom) = match text.strip_prefix('\u{feff}') {
            Some(rest) => (rest.to_string(), true),
            None => (text, false),
        };
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            path,
            text,
            bom,
            line_starts,
        }
    }

    /// Reads a file. Non-UTF-8 content is an error, like for Python's
    /// `open(..., encoding="utf-8")` that coverage.py and pytest use.
    pub fn read(path: &Path) -> Result<Self, ReadError> {
        let bytes = std::fs::read(path).map_err(|e| ReadError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
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

    /// The text of a span.
    pub fn slice(&self, span: Span) -> &str {
        &self.text[span.range()]
    }
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
    fn normalize_is_lexical() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(normalize(Path::new("../x/./y/..")), PathBuf::from("../x"));
        assert_eq!(normalize(Path::new("/..")), PathBuf::from("/"));
    }

    #[test]
    fn bom_is_removed_and_remembered() {
        let f = SourceFile::new("x".into(), "\u{feff}[run]\n".to_string());
        assert!(f.bom);
        assert_eq!(f.text, "[run]\n");
    }
}
