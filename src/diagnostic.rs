//! Findings as plain data. Rules build them; only [`crate::report`] turns
//! them into text.

use crate::source::Location;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A labelled place.
#[derive(Clone, Debug)]
pub struct Label {
    pub location: Location,
    pub text: Option<String>,
}

/// One finding.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    /// Where the problem is.
    pub primary: Label,
    /// Places that explain it, in this file or others.
    pub labels: Vec<Label>,
    pub help: Option<String>,
    pub fix: Option<crate::fix::Fix>,
    /// The runs it holds for ("tox env `py312` (tox.ini:3)"); empty for
    /// findings about the project's files alone.
    pub runs: Vec<String>,
    /// For a finding about a root cause (a missing setting): the call sites
    /// it affects. A suppression on one of them removes that site (and its
    /// label); when every site is suppressed, the finding goes.
    pub sites: Vec<Location>,
    /// Why the fix this finding has is not offered: it would edit a file
    /// with an input error, or a configuration file while another one of
    /// the project could not be read.
    pub fix_withheld: Option<String>,
}

impl Diagnostic {
    /// Adds several labels (see [`Diagnostic::label`]).
    pub fn labels(self, labels: Vec<(Location, String)>) -> Self {
        labels
            .into_iter()
            .fold(self, |d, (location, text)| d.label(location, text))
    }

    /// Adds a label. A place already labelled gets the new text appended,
    /// so that each place is labelled once.
    pub fn label(mut self, location: Location, text: impl Into<String>) -> Self {
        let text = text.into();
        let same = |l: &Label| {
            l.location.file.path == location.file.path && l.location.span == location.span
        };
        let existing = if same(&self.primary) {
            Some(&mut self.primary)
        } else {
            self.labels.iter_mut().find(|l| same(l))
        };
        match existing {
            Some(label) => {
                label.text = Some(match label.text.take() {
                    Some(old) if old != text => format!("{old}; {text}"),
                    _ => text,
                });
            }
            None => self.labels.push(Label {
                location,
                text: Some(text),
            }),
        }
        self
    }

    pub fn help(mut self, text: impl Into<String>) -> Self {
        self.help = Some(text.into());
        self
    }

    pub fn fix(mut self, fix: Option<crate::fix::Fix>) -> Self {
        self.fix = fix;
        self
    }

    /// The sort key: file, then position, then rule.
    pub fn sort_key(&self) -> (std::path::PathBuf, usize, &'static str) {
        (
            self.primary.location.file.path.clone(),
            self.primary.location.span.start,
            self.rule,
        )
    }
}
