//! Input problems: files covdoctor (and the tools it models) cannot read.
//! They are not findings; any of them makes the run exit with status 2, and
//! the rest of the project is still checked.

use std::path::PathBuf;

use std::sync::Arc;

use crate::source::{Location, ReadError, SourceFile, Span};

#[derive(Clone, Debug)]
pub struct Problem {
    pub path: PathBuf,
    /// Where in the file, when the file could be read.
    pub location: Option<Location>,
    pub message: String,
}

impl Problem {
    pub fn invalid(location: Location, message: String) -> Self {
        Problem {
            path: location.file.path.clone(),
            location: Some(location),
            message,
        }
    }

    pub fn unreadable(e: ReadError) -> Self {
        // A file that is not UTF-8 can still be shown (lossily), pointing at
        // the first bad byte.
        let location = match &e {
            ReadError::NotUtf8 { path, offset, .. } => std::fs::read(path).ok().map(|bytes| {
                let lossy = String::from_utf8_lossy(&bytes[..*offset]).into_owned();
                let rest = String::from_utf8_lossy(&bytes[*offset..]).into_owned();
                let file = SourceFile::new(path.clone(), lossy.clone() + &rest);
                let start = lossy.len();
                let end = start + rest.chars().next().map_or(0, char::len_utf8);
                Location::new(&Arc::new(file), Span::new(start, end))
            }),
            ReadError::Io { .. } => None,
        };
        Problem {
            path: e.path().to_path_buf(),
            location,
            message: e.message(),
        }
    }

    pub fn at_path(path: PathBuf, message: String) -> Self {
        Problem {
            path,
            location: None,
            message,
        }
    }
}
