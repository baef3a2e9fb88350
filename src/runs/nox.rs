//! nox sessions: `noxfile.py`, read with the ruff parser (never run).
//! A session is a function decorated with `@nox.session` (or `@session`);
//! in its body `session.install(...)` installs, `session.run(...)` runs a
//! command (with `env={...}`), `session.env["K"] = "v"` sets a variable.
//! Only string literals are read; `*session.posargs` and other
//! expressions are dropped or said to be unresolved.

use std::path::Path;

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, Stmt, StmtFunctionDef};
use ruff_python_parser::{Mode, ParseOptions, parse_unchecked};
use ruff_text_size::Ranged;

use super::command::{self, Action, Step};
use super::shell::Word;
use super::{Kind, Run};
use crate::config::coverage::FileLoader;
use crate::source::{Location, Source, Span};

fn span(node: &impl Ranged) -> Span {
    Span::new(
        node.range().start().to_usize(),
        node.range().end().to_usize(),
    )
}

pub fn runs(root: &Path, loader: &mut dyn FileLoader) -> Vec<Run> {
    let Some(Ok(source)) = loader.load(&root.join("noxfile.py")) else {
        return Vec::new();
    };
    let parsed = parse_unchecked(&source.text, ParseOptions::from(Mode::Module));
    let Some(module) = parsed.syntax().as_module() else {
        return Vec::new();
    };
    // Module-level functions, for sessions that delegate to a helper
    // (`def tests(session): _run_tests(session, "x")`).
    let helpers: Vec<&StmtFunctionDef> = module
        .body
        .iter()
        .filter_map(|s| match s {
            Stmt::FunctionDef(d) => Some(d),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for stmt in &module.body {
        let Stmt::FunctionDef(def) = stmt else {
            continue;
        };
        let Some(name) = session_name(def) else {
            continue;
        };
        let declared = Location::new(&source, span(&def.name));
        let mut run = Run::new(Kind::Nox, format!("nox session `{name}`"), Some(declared));
        let mut calls = Calls {
            source: &source,
            root,
            session: first_param(def),
            steps: Vec::new(),
            unresolved: Vec::new(),
            helpers: &helpers,
            depth: 0,
        };
        for stmt in &def.body {
            calls.visit_stmt(stmt);
        }
        run.apply(&calls.steps);
        run.unresolved.extend(calls.unresolved);
        out.push(run);
    }
    out
}

fn first_param(def: &StmtFunctionDef) -> String {
    def.parameters
        .posonlyargs
        .iter()
        .chain(def.parameters.args.iter())
        .next()
        .map(|p| p.parameter.name.to_string())
        .unwrap_or_else(|| "session".to_string())
}

/// How deep calls into helper functions are followed.
const MAX_HELPER_DEPTH: usize = 3;

/// `@nox.session`, `@nox.session(name="x", python=...)`, `@session`.
fn session_name(def: &StmtFunctionDef) -> Option<String> {
    for decorator in &def.decorator_list {
        let (target, call) = match &decorator.expression {
            Expr::Call(c) => (&*c.func, Some(c)),
            e => (e, None),
        };
        let is_session = match target {
            Expr::Attribute(a) => a.attr.as_str() == "session",
            Expr::Name(n) => n.id.as_str() == "session",
            _ => false,
        };
        if !is_session {
            continue;
        }
        let named = call.and_then(|c| {
            c.arguments.keywords.iter().find_map(|k| {
                (k.arg.as_ref()?.as_str() == "name")
                    .then(|| match &k.value {
                        Expr::StringLiteral(s) => Some(s.value.to_str().to_string()),
                        _ => None,
                    })
                    .flatten()
            })
        });
        return Some(named.unwrap_or_else(|| def.name.to_string()));
    }
    None
}

struct Calls<'a> {
    source: &'a Source,
    root: &'a Path,
    session: String,
    steps: Vec<Step>,
    unresolved: Vec<String>,
    helpers: &'a [&'a StmtFunctionDef],
    depth: usize,
}

impl Calls<'_> {
    fn on_session(&self, e: &Expr) -> bool {
        matches!(e, Expr::Name(n) if n.id.as_str() == self.session)
    }

    /// `*nox.project.dependency_groups(PYPROJECT, "test")` and
    /// `*PYPROJECT["dependency-groups"]["test"]`: the project's groups.
    fn groups(e: &Expr) -> Option<Vec<String>> {
        match e {
            Expr::Call(c) if matches!(&*c.func, Expr::Attribute(a) if a.attr.as_str() == "dependency_groups") => {
                Some(
                    c.arguments
                        .args
                        .iter()
                        .skip(1)
                        .filter_map(|a| match a {
                            Expr::StringLiteral(s) => Some(s.value.to_str().to_string()),
                            _ => None,
                        })
                        .collect(),
                )
            }
            Expr::Subscript(outer) => match (&*outer.value, &*outer.slice) {
                (Expr::Subscript(inner), Expr::StringLiteral(group)) if matches!(&*inner.slice, Expr::StringLiteral(k) if k.value.to_str() == "dependency-groups") => {
                    Some(vec![group.value.to_str().to_string()])
                }
                _ => None,
            },
            _ => None,
        }
    }

    fn words(&mut self, args: &[Expr]) -> Vec<Word> {
        let mut out = Vec::new();
        for a in args {
            match a {
                Expr::StringLiteral(s) => out.push(Word {
                    text: s.value.to_str().to_string(),
                    span: span(a),
                    expands: false,
                }),
                // `*session.posargs`: what the user adds on the command line.
                Expr::Starred(s) if matches!(&*s.value, Expr::Attribute(at) if at.attr.as_str() == "posargs") =>
                    {}
                Expr::Starred(s) if Self::groups(&s.value).is_some() => {
                    for g in Self::groups(&s.value).unwrap_or_default() {
                        out.push(Word {
                            text: format!("--group={g}"),
                            span: span(a),
                            expands: false,
                        });
                    }
                }
                other => {
                    let text = &self.source.text[span(other).range()];
                    self.unresolved
                        .push(format!("`{text}` in a nox session is not a string literal"));
                }
            }
        }
        out
    }
}

impl<'b> Visitor<'b> for Calls<'_> {
    fn visit_stmt(&mut self, stmt: &'b Stmt) {
        // `session.env["K"] = "v"`.
        if let Stmt::Assign(a) = stmt
            && let [Expr::Subscript(sub)] = a.targets.as_slice()
            && let Expr::Attribute(attr) = &*sub.value
            && attr.attr.as_str() == "env"
            && self.on_session(&attr.value)
            && let Expr::StringLiteral(k) = &*sub.slice
            && let Expr::StringLiteral(v) = &*a.value
        {
            self.steps.push(Step {
                action: Action::SetEnv(k.value.to_str().to_string(), v.value.to_str().to_string()),
                location: Location::new(self.source, span(stmt)),
            });
        }
        visitor::walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'b Expr) {
        // A helper that takes the session: `_tests(session, "x")`.
        if let Expr::Call(call) = expr
            && let Expr::Name(f) = &*call.func
            && call
                .arguments
                .args
                .first()
                .is_some_and(|a| self.on_session(a))
            && self.depth < MAX_HELPER_DEPTH
            && let Some(helper) = self
                .helpers
                .iter()
                .find(|h| h.name.as_str() == f.id.as_str())
        {
            let outer = std::mem::replace(&mut self.session, first_param(helper));
            self.depth += 1;
            for stmt in &helper.body {
                self.visit_stmt(stmt);
            }
            self.depth -= 1;
            self.session = outer;
        }
        if let Expr::Call(call) = expr
            && let Expr::Attribute(attr) = &*call.func
            && self.on_session(&attr.value)
        {
            let method = attr.attr.as_str();
            let location = Location::new(self.source, span(expr));
            match method {
                "install" | "run_install" | "run" | "run_always" => {
                    let mut words = self.words(&call.arguments.args);
                    if method == "install" {
                        let at = span(&*call.func);
                        words.splice(
                            0..0,
                            ["pip", "install"].map(|t| Word {
                                text: t.to_string(),
                                span: at,
                                expands: false,
                            }),
                        );
                    }
                    for k in call.arguments.keywords.iter() {
                        if k.arg.as_ref().is_some_and(|a| a.as_str() == "env")
                            && let Expr::Dict(d) = &k.value
                        {
                            for item in d.iter() {
                                if let (Some(Expr::StringLiteral(key)), Expr::StringLiteral(v)) =
                                    (&item.key, &item.value)
                                {
                                    self.steps.push(Step {
                                        action: Action::SetEnv(
                                            key.value.to_str().to_string(),
                                            v.value.to_str().to_string(),
                                        ),
                                        location: Location::new(self.source, span(&item.value)),
                                    });
                                }
                            }
                        }
                    }
                    let text: String = words
                        .iter()
                        .map(|w| w.text.as_str())
                        .collect::<Vec<_>>()
                        .join(" ");
                    if text.contains("process_startup")
                        && (text.contains(".pth") || text.contains("sitecustomize"))
                    {
                        self.steps.push(Step {
                            action: Action::StartupHook,
                            location: location.clone(),
                        });
                    }
                    self.steps
                        .extend(command::classify(self.source, &words, self.root, self.root));
                }
                _ => {}
            }
        }
        visitor::walk_expr(self, expr);
    }
}
