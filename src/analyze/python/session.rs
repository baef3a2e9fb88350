//! Which modules run in the test session: pytest imports the test modules
//! it collects and every `conftest.py`, and those import the rest. A file
//! under `tests/` that is neither (the inputs of a linter's functional
//! tests, a sample project a test copies) never runs, so what it would
//! start is no evidence about the suite.

use std::collections::HashSet;

use ruff_python_ast::Stmt;

use super::Extractor;
use super::index::{ImportTargets, ModId};

/// Every module name the project imports (resolved relative imports
/// included), with each of its parent packages (`a.b.c` also imports `a.b`
/// and `a`).
pub(super) fn imported_names<'s>(
    bodies: impl Iterator<Item = &'s [Stmt]>,
    targets: &[&ImportTargets],
) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut add = |name: &str| {
        let mut at = name.len();
        loop {
            let prefix = &name[..at];
            if !prefix.is_empty() && !prefix.starts_with('.') {
                out.insert(prefix.to_string());
            }
            match prefix.rfind('.') {
                Some(i) => at = i,
                None => break,
            }
        }
    };
    for body in bodies {
        for (imported, _) in super::unparsed::imports(body) {
            add(&imported);
        }
    }
    for t in targets {
        for name in t.by_alias.values() {
            add(name);
        }
    }
    out
}

impl Extractor<'_, '_> {
    /// Whether the module's own code runs in the test session: a test
    /// module by pytest's default names, a `conftest.py`, a module the
    /// project imports, or a file another one names (a script a test runs
    /// as a child: `python tests/server.py`, `-m tests.server`).
    pub(super) fn runs_in_session(&self, module: ModId) -> bool {
        if let Some(known) = self.runs_cache.borrow().get(&module) {
            return *known;
        }
        let m = &self.index.modules[module];
        let name = m
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = name.strip_suffix(".py").unwrap_or(&name);
        let runs = name.starts_with("test")
            || name.ends_with("_test.py")
            || name == "conftest.py"
            || m.names.iter().any(|(n, _)| self.imported.contains(n))
            || (stem != "__init__" && self.named_elsewhere(module, stem));
        if !runs && stem == "__init__" {
            // A file not parsed could import the package: by a name that
            // spells it, or relatively from inside it.
            let dir = m.path.parent();
            for (i, other) in self.index.modules.iter().enumerate() {
                if let Some(words) = &other.stub
                    && (dir.is_some_and(|d| other.path.starts_with(d))
                        || m.names
                            .iter()
                            .any(|(n, _)| words.contains(n.rsplit('.').next().unwrap_or(n))))
                {
                    self.index.want(i);
                }
            }
        }
        self.runs_cache.borrow_mut().insert(module, runs);
        runs
    }

    /// Whether a file other than `module` holds `stem` as a word: in its
    /// text, or, for a file not parsed, in the words kept of it (which hold
    /// the file names that are not words, see `read_all`).
    fn named_elsewhere(&self, module: ModId, stem: &str) -> bool {
        self.index.modules.iter().enumerate().any(|(i, other)| {
            i != module
                && match &other.stub {
                    Some(words) => words.contains(stem),
                    None => holds_word(&other.source.text, stem),
                }
        })
    }
}

fn is_word_byte(b: u8) -> bool {
    b == b'_' || b.is_ascii_alphanumeric()
}

/// `name` is one word (ASCII letters, digits and `_` only).
pub(super) fn is_word(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(is_word_byte)
}

/// `text` holds `name` with no letter, digit or `_` right before or after.
pub(super) fn holds_word(text: &str, name: &str) -> bool {
    let bytes = text.as_bytes();
    text.match_indices(name).any(|(at, _)| {
        let before = at.checked_sub(1).map(|j| bytes[j]);
        let after = bytes.get(at + name.len()).copied();
        !before.is_some_and(is_word_byte) && !after.is_some_and(is_word_byte)
    })
}
