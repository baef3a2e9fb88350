//! Input problems: files covdoctor (and the tools it models) cannot read.
//! They are not findings; any of them makes the run exit with status 2, and
//! the rest of the project is still checked.

use std::path::PathBuf;

use crate::source::{Location, ReadError};

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
        Problem {
            path: e.path().to_path_buf(),
            location: None,
            message: e.to_string(),
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
