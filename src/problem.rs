//! Input problems: files covdoctor (and the tools it models) cannot read.
//! They are not findings, and the rest of the project is still checked. An
//! input error makes the run exit with status 2; a problem that cannot
//! change a verdict (a broken file that is test data, a Python file whose
//! unparsed part holds nothing the rules look at) is a warning: reported,
//! but the exit status follows the findings (`--strict` makes every
//! problem an error).

use std::path::PathBuf;

use std::sync::Arc;

use crate::source::{Location, ReadError, SourceFile, Span};

#[derive(Clone, Debug)]
pub struct Problem {
    pub path: PathBuf,
    /// Where in the file, when the file could be read.
    pub location: Option<Location>,
    pub message: String,
    pub severity: Severity,
    /// Why a warning cannot change a verdict, for the report.
    pub why_warning: Option<String>,
}

/// Whether a problem fails the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Severity {
    /// It can change a verdict: exit status 2.
    #[default]
    Error,
    /// It cannot: reported, and the exit status follows the findings.
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl Problem {
    pub fn invalid(location: Location, message: String) -> Self {
        Problem {
            path: location.file.path.clone(),
            location: Some(location),
            message,
            severity: Severity::Error,
            why_warning: None,
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
            severity: Severity::Error,
            why_warning: None,
        }
    }

    pub fn at_path(path: PathBuf, message: String) -> Self {
        Problem {
            path,
            location: None,
            message,
            severity: Severity::Error,
            why_warning: None,
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// This problem as a warning, saying why it cannot change a verdict.
    pub fn demote(&mut self, why: String) {
        self.severity = Severity::Warning;
        self.why_warning = Some(why);
    }
}

/// How many of `problems` are errors.
pub fn errors(problems: &[Problem]) -> usize {
    problems.iter().filter(|p| p.is_error()).count()
}
