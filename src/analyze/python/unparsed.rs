//! What a file with syntax errors may hide, so that its input problem is
//! an error only when the part that did not parse could change a verdict
//! (see `crate::verdict`).
//!
//! The parser recovers after an error, so the statements around it are
//! analysed; what is uncertain is the top-level statement the error sits
//! in (a `def` with a half-written call, a class with a broken method). An
//! error between statements stands for the text between them.

use std::collections::{BTreeSet, HashSet};

use ruff_python_ast::Stmt;
use ruff_text_size::Ranged;

use super::Extractor;
use super::index::FuncId;
use crate::source::Span;

/// The part of a file an error at `error` leaves in doubt: the top-level
/// statement that holds it, or, for an error after a statement (an
/// unexpected end of file), that statement and the text up to the next.
pub(super) fn region(body: &[Stmt], error: Span, len: usize) -> Span {
    let mut start = 0;
    let mut end = len;
    for stmt in body {
        let s = stmt.range().start().to_usize();
        let e = stmt.range().end().to_usize();
        if s <= error.start && error.start < e {
            return Span::new(s, e.max(error.end).min(len));
        }
        if e <= error.start {
            // The statement the error follows may be the one cut short.
            start = s;
        } else {
            end = s;
            break;
        }
    }
    Span::new(start.min(len), end.max(error.end).min(len))
}

/// What each import of a file binds, anywhere in it: the imported path
/// (`subprocess.run`, `os`) and the local name (`run`, `os`, `sp` for
/// `import subprocess as sp`). A call in a part that does not parse may use
/// a name bound by an import that did parse.
pub(super) fn imports(body: &[Stmt]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack: Vec<&[Stmt]> = vec![body];
    // Bounded: each statement is visited once, and the stack holds bodies.
    while let Some(stmts) = stack.pop() {
        for stmt in stmts {
            match stmt {
                Stmt::Import(i) => {
                    for a in &i.names {
                        let name = a.name.as_str();
                        let local = match &a.asname {
                            Some(n) => n.as_str(),
                            None => name.split('.').next().unwrap_or(name),
                        };
                        out.push((name.to_string(), local.to_string()));
                    }
                }
                Stmt::ImportFrom(i) => {
                    let module = i.module.as_ref().map_or("", |m| m.as_str());
                    for a in &i.names {
                        let local = a.asname.as_ref().unwrap_or(&a.name).as_str();
                        out.push((format!("{module}.{}", a.name.as_str()), local.to_string()));
                    }
                }
                Stmt::FunctionDef(f) => stack.push(&f.body),
                Stmt::ClassDef(c) => stack.push(&c.body),
                Stmt::If(s) => {
                    stack.push(&s.body);
                    for c in &s.elif_else_clauses {
                        stack.push(&c.body);
                    }
                }
                Stmt::Try(t) => {
                    stack.push(&t.body);
                    stack.push(&t.orelse);
                    stack.push(&t.finalbody);
                    for h in &t.handlers {
                        let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                        stack.push(&h.body);
                    }
                }
                Stmt::With(w) => stack.push(&w.body),
                _ => {}
            }
        }
    }
    out
}

impl Extractor<'_, '_> {
    /// The names of the project functions (and classes, for a constructor
    /// that does it) that start or stop a child, directly or through the
    /// project functions they call: a call of one of these names in a part
    /// of a file that does not parse could be a launch the analysis missed.
    /// `live` are the functions whose callers the search followed (those
    /// through which a Python child can be started or a child stopped).
    pub(super) fn launcher_names(&self, live: &HashSet<FuncId>) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        for &f in live {
            let Some(function) = self.index.functions.get(f) else {
                continue;
            };
            names.insert(function.def.name.as_str().to_string());
            if let Some(class) = function.class.and_then(|c| self.index.classes.get(c)) {
                names.insert(class.def.name.as_str().to_string());
            }
            for site in self.callers.get(&f).into_iter().flatten() {
                if let Some(c) = site.constructor.and_then(|c| self.index.classes.get(c)) {
                    names.insert(c.def.name.as_str().to_string());
                }
            }
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruff_python_parser::{Mode, ParseOptions, parse_unchecked};

    fn region_of(text: &str, at: &str) -> String {
        let parsed = parse_unchecked(text, ParseOptions::from(Mode::Module));
        let body = &parsed.syntax().as_module().expect("a module").body;
        let start = text.find(at).expect("the marker is in the text");
        let span = region(body, Span::new(start, start + at.len()), text.len());
        text[span.start..span.end].to_string()
    }

    #[test]
    fn an_error_in_a_function_leaves_that_function_in_doubt() {
        let text = "import os\n\ndef a():\n    f(1 2)\n\ndef b():\n    os.kill(1, 9)\n";
        let got = region_of(text, "2)");
        assert!(got.starts_with("def a()"), "{got:?}");
        assert!(!got.contains("os.kill"), "{got:?}");
    }

    #[test]
    fn an_unclosed_call_leaves_its_statement_in_doubt() {
        let text = "import subprocess\n\ndef a():\n    p = subprocess.Popen(['x']\n    p.wait()\n\ndef b():\n    pass\n";
        let got = region_of(text, "p.wait");
        assert!(got.contains("Popen"), "{got:?}");
    }

    #[test]
    fn imports_anywhere_are_found_with_their_local_names() {
        let text = "import subprocess as sp\nif x:\n    from os import system\ndef f():\n    from a.b import c as d\n";
        let parsed = parse_unchecked(text, ParseOptions::from(Mode::Module));
        let body = &parsed.syntax().as_module().expect("a module").body;
        let mut got = imports(body);
        got.sort();
        assert_eq!(
            got,
            [
                ("a.b.c".to_string(), "d".to_string()),
                ("os.system".to_string(), "system".to_string()),
                ("subprocess".to_string(), "sp".to_string()),
            ]
        );
    }

    #[test]
    fn an_error_at_the_end_takes_the_statement_before_it() {
        let text = "x = 1\n\ndef f():\n    p = start(\n    p.kill()\n";
        let parsed = parse_unchecked(text, ParseOptions::from(Mode::Module));
        let body = &parsed.syntax().as_module().expect("a module").body;
        let span = region(body, Span::empty(text.len()), text.len());
        let got = &text[span.start..span.end];
        assert!(got.contains("start("), "{got:?}");
        assert!(!got.contains("x = 1"), "{got:?}");
    }
}
