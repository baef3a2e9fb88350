//! Traversal of one scope's statements, remembering where each statement
//! sits (in a `try` body, an `except` handler, an `if` branch...), which the
//! stop analysis needs to tell a fallback `kill()` from a plain one.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, ExprCall, Stmt, StmtTry};

/// The kind of block a statement list is.
#[derive(Clone, Copy, Debug)]
pub enum Block<'a> {
    Body,
    /// An `if`/`elif` branch with its test, or `else` (no test).
    Branch(Option<&'a Expr>),
    Loop,
    /// The `else` of a `for`/`while`: runs when the loop was not broken.
    LoopElse(&'a Stmt),
    With,
    TryBody(&'a StmtTry),
    Handler(&'a StmtTry),
    TryElse,
    Finally(&'a StmtTry),
    Match,
}

/// One level of nesting: a block and the position of the statement in it.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    pub block: Block<'a>,
    pub stmts: &'a [Stmt],
    pub index: usize,
}

impl<'a> Frame<'a> {
    /// The statements before this position in the block.
    pub fn before(&self) -> &'a [Stmt] {
        &self.stmts[..self.index]
    }
}

/// The expressions a statement holds itself, not those of nested blocks.
pub fn own_exprs(stmt: &Stmt) -> Vec<&Expr> {
    match stmt {
        Stmt::Expr(s) => vec![&*s.value],
        Stmt::Assign(s) => {
            let mut v: Vec<&Expr> = s.targets.iter().collect();
            v.push(&s.value);
            v
        }
        Stmt::AnnAssign(s) => {
            let mut v = vec![&*s.target];
            v.extend(s.value.as_deref());
            v
        }
        Stmt::AugAssign(s) => vec![&*s.target, &*s.value],
        Stmt::Return(s) => s.value.as_deref().into_iter().collect(),
        Stmt::Delete(s) => s.targets.iter().collect(),
        Stmt::Raise(s) => s
            .exc
            .as_deref()
            .into_iter()
            .chain(s.cause.as_deref())
            .collect(),
        Stmt::Assert(s) => std::iter::once(&*s.test).chain(s.msg.as_deref()).collect(),
        Stmt::If(s) => std::iter::once(&*s.test)
            .chain(s.elif_else_clauses.iter().filter_map(|c| c.test.as_ref()))
            .collect(),
        Stmt::While(s) => vec![&*s.test],
        Stmt::For(s) => vec![&*s.target, &*s.iter],
        Stmt::With(s) => s
            .items
            .iter()
            .flat_map(|i| std::iter::once(&i.context_expr).chain(i.optional_vars.as_deref()))
            .collect(),
        Stmt::Match(s) => vec![&*s.subject],
        Stmt::TypeAlias(s) => vec![&*s.value],
        // Decorators and defaults are evaluated where the def is.
        Stmt::FunctionDef(f) => f
            .decorator_list
            .iter()
            .map(|d| &d.expression)
            .chain(
                f.parameters
                    .iter_non_variadic_params()
                    .filter_map(|p| p.default.as_deref()),
            )
            .collect(),
        Stmt::ClassDef(c) => c.decorator_list.iter().map(|d| &d.expression).collect(),
        _ => Vec::new(),
    }
}

/// The statement lists nested in a statement (not function or class
/// bodies, which are scopes of their own).
pub fn blocks(stmt: &Stmt) -> Vec<(Block<'_>, &[Stmt])> {
    match stmt {
        Stmt::If(s) => {
            let mut v = vec![(Block::Branch(Some(&*s.test)), &s.body[..])];
            for clause in &s.elif_else_clauses {
                v.push((Block::Branch(clause.test.as_ref()), &clause.body[..]));
            }
            v
        }
        Stmt::For(s) => vec![
            (Block::Loop, &s.body[..]),
            (Block::LoopElse(stmt), &s.orelse[..]),
        ],
        Stmt::While(s) => vec![
            (Block::Loop, &s.body[..]),
            (Block::LoopElse(stmt), &s.orelse[..]),
        ],
        Stmt::With(s) => vec![(Block::With, &s.body[..])],
        Stmt::Try(t) => {
            let mut v = vec![(Block::TryBody(t), &t.body[..])];
            for h in &t.handlers {
                let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                v.push((Block::Handler(t), &h.body[..]));
            }
            v.push((Block::TryElse, &t.orelse[..]));
            v.push((Block::Finally(t), &t.finalbody[..]));
            v
        }
        Stmt::Match(m) => m
            .cases
            .iter()
            .map(|c| (Block::Match, &c.body[..]))
            .collect(),
        _ => Vec::new(),
    }
}

/// Calls `f` for every statement of a scope body, with its enclosing frames
/// (innermost last). Nested function and class bodies are not entered.
pub fn walk_scope<'a>(body: &'a [Stmt], f: &mut dyn FnMut(&'a Stmt, &[Frame<'a>])) {
    let mut frames = Vec::new();
    walk_block(Block::Body, body, &mut frames, f);
}

fn walk_block<'a>(
    block: Block<'a>,
    stmts: &'a [Stmt],
    frames: &mut Vec<Frame<'a>>,
    f: &mut dyn FnMut(&'a Stmt, &[Frame<'a>]),
) {
    for (index, stmt) in stmts.iter().enumerate() {
        frames.push(Frame {
            block,
            stmts,
            index,
        });
        f(stmt, frames);
        for (inner, body) in blocks(stmt) {
            walk_block(inner, body, frames, f);
        }
        frames.pop();
    }
}

/// Every call in an expression, outermost first (lambda bodies included).
pub fn calls_in(expr: &Expr) -> Vec<&ExprCall> {
    struct Calls<'a>(Vec<&'a ExprCall>);
    impl<'a> Visitor<'a> for Calls<'a> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if let Expr::Call(call) = expr {
                self.0.push(call);
            }
            visitor::walk_expr(self, expr);
        }
    }
    let mut calls = Calls(Vec::new());
    calls.visit_expr(expr);
    calls.0
}

/// Every call in a list of statements, including nested blocks but not
/// nested scopes.
pub fn calls_in_stmts(stmts: &[Stmt]) -> Vec<&ExprCall> {
    let mut out = Vec::new();
    walk_scope(stmts, &mut |stmt, _| {
        for e in own_exprs(stmt) {
            out.extend(calls_in(e));
        }
    });
    out
}

/// The text of every string literal in an expression, and of the literal
/// parts of its f-strings (an implicitly concatenated literal as one).
pub fn strings_in(expr: &Expr, f: &mut dyn FnMut(&str)) {
    for e in subexprs(expr) {
        match e {
            Expr::StringLiteral(s) => f(s.value.to_str()),
            Expr::FString(fs) => {
                let mut text = String::new();
                for part in fs.value.iter() {
                    match part {
                        ruff_python_ast::FStringPart::Literal(l) => text.push_str(&l.value),
                        ruff_python_ast::FStringPart::FString(inner) => {
                            for element in inner.elements.iter() {
                                if let ruff_python_ast::InterpolatedStringElement::Literal(l) =
                                    element
                                {
                                    text.push_str(&l.value);
                                }
                            }
                        }
                    }
                }
                f(&text);
            }
            _ => {}
        }
    }
}

/// Every sub-expression (the expression itself included).
pub fn subexprs(expr: &Expr) -> Vec<&Expr> {
    struct All<'a>(Vec<&'a Expr>);
    impl<'a> Visitor<'a> for All<'a> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            self.0.push(expr);
            visitor::walk_expr(self, expr);
        }
    }
    let mut all = All(Vec::new());
    all.visit_expr(expr);
    all.0
}
