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
    text.match_indices(name)
        .any(|(at, _)| bounded(text, at, at + name.len()))
}

/// `text[start..end]` has no letter, digit or `_` right before or after.
fn bounded(text: &str, start: usize, end: usize) -> bool {
    let bytes = text.as_bytes();
    let before = start.checked_sub(1).map(|j| bytes[j]);
    let after = bytes.get(end).copied();
    !before.is_some_and(is_word_byte) && !after.is_some_and(is_word_byte)
}

/// [`holds_word`] for many names at once, in one pass over a text (a
/// project's file names that are not words are looked for in every file
/// not parsed).
pub(super) struct HeldWords {
    names: Vec<String>,
    matcher: Option<aho_corasick::AhoCorasick>,
}

impl HeldWords {
    pub(super) fn new(names: &[&str]) -> HeldWords {
        let names: Vec<String> = names
            .iter()
            .filter(|n| !n.is_empty())
            .map(|n| n.to_string())
            .collect();
        HeldWords {
            matcher: (!names.is_empty())
                .then(|| aho_corasick::AhoCorasick::new(&names).ok())
                .flatten(),
            names,
        }
    }

    /// The names `text` holds (as [`holds_word`] finds them), each once,
    /// in the order they were given.
    pub(super) fn in_text(&self, text: &str) -> Vec<&str> {
        let Some(matcher) = &self.matcher else {
            return Vec::new();
        };
        let mut held = vec![false; self.names.len()];
        // Overlapping: one name's match must not hide another's.
        for m in matcher.find_overlapping_iter(text) {
            if bounded(text, m.start(), m.end()) {
                held[m.pattern().as_usize()] = true;
            }
        }
        self.names
            .iter()
            .zip(held)
            .filter(|(_, h)| *h)
            .map(|(n, _)| n.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_words_finds_what_holds_word_finds() {
        let names = ["run-server", "server", "a-b", "b-c", "x.y"];
        let finder = HeldWords::new(&names);
        for text in [
            "python run-server.py",
            "prerun-server",
            "a-b-c",
            "call(server)\nserver_x",
            "x.yz x.y",
            "",
            "srv",
        ] {
            let want: Vec<&str> = names
                .iter()
                .copied()
                .filter(|n| holds_word(text, n))
                .collect();
            assert_eq!(finder.in_text(text), want, "{text:?}");
        }
        assert_eq!(finder.in_text("a-b-c"), vec!["a-b", "b-c"]);
        assert!(HeldWords::new(&[]).in_text("anything").is_empty());
    }
}
