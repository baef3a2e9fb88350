//! A Python child's own source, when it is in the project, and the SIGTERM
//! handler that source installs.
//!
//! coverage.py saves data at interpreter exit. A child that handles SIGTERM
//! itself and then ends normally (`sys.exit`, or a flag that lets its main
//! loop return) saves data without `[run] sigterm = true`; a handler that
//! calls `os._exit` does not.

use std::path::{Path, PathBuf};

use ruff_python_ast::{Expr, ExprCall, Stmt};

use super::index::{Ctx, FuncId, Index, ModId, Val};
use super::stop::signal_of;
use super::walk;
use crate::analyze::command::{Entry, Handler, HandlerEffect, Token};
use crate::analyze::{Place, Signal};

/// The project module a child runs, given its working directory.
pub fn child_module(index: &Index<'_>, entry: &Entry, cwd: &Place) -> Option<ModId> {
    let root = index.root.clone();
    let cwd_dir: PathBuf = match cwd {
        Place::Path {
            path,
            relative: false,
        } => path.clone(),
        Place::Path {
            path,
            relative: true,
        } => root.join(path),
        _ => root.clone(),
    };
    match entry {
        Entry::Script(Token::Str(s)) => {
            let p = Path::new(s);
            let path = if p.is_absolute() {
                p.to_path_buf()
            } else {
                cwd_dir.join(p)
            };
            index.module_at(&crate::source::normalize(&path))
        }
        Entry::Script(Token::Path(p)) => index.module_at(&crate::source::normalize(p)),
        Entry::Script(_) => None,
        Entry::Module(m) => module_or_main(index, m),
        Entry::ConsoleScript { target, .. } => {
            let module = target.split(':').next()?.trim();
            module_or_main(index, module)
        }
        Entry::Function { module, .. } => index.module_at(module),
        Entry::Code(_) => None,
    }
}

fn module_or_main(index: &Index<'_>, name: &str) -> Option<ModId> {
    index
        .module_named(&format!("{name}.__main__"), None)
        .or_else(|| index.module_named(name, None))
}

/// The SIGTERM handler a module installs (`signal.signal(SIGTERM, h)`,
/// `loop.add_signal_handler(SIGTERM, h)`, pytest-cov's
/// `cleanup_on_sigterm()`), judged by what it does.
pub fn sigterm_handler(index: &Index<'_>, module: ModId) -> Option<Handler> {
    let mut scopes: Vec<(Ctx, &[Stmt])> =
        vec![(Ctx { module, func: None }, index.modules[module].suite)];
    for &f in &index.modules[module].functions {
        scopes.push((
            Ctx {
                module,
                func: Some(f),
            },
            &index.functions[f].def.body[..],
        ));
    }
    for (ctx, body) in scopes {
        for call in walk::calls_in_stmts(body) {
            if let Some(handler) = installed_handler(index, call, ctx) {
                return Some(handler);
            }
        }
    }
    None
}

fn installed_handler<'a>(index: &Index<'a>, call: &'a ExprCall, ctx: Ctx) -> Option<Handler> {
    let location = index.location(ctx.module, call);
    let q = index.qualified_callee(call, ctx);
    if matches!(
        q.as_deref(),
        Some("pytest_cov.embed.cleanup_on_sigterm" | "pytest_cov.embed.cleanup_on_signal")
    ) {
        return Some(Handler {
            location,
            effect: HandlerEffect::ExitsNormally,
            how: "pytest-cov's cleanup_on_sigterm() saves coverage data".to_string(),
        });
    }
    let is_signal = q.as_deref() == Some("signal.signal");
    let is_loop =
        matches!(&*call.func, Expr::Attribute(a) if a.attr.as_str() == "add_signal_handler");
    if !is_signal && !is_loop {
        return None;
    }
    let [sig, handler, ..] = &call.arguments.args[..] else {
        return None;
    };
    if signal_of(index, sig, ctx) != Some(Signal::Term) {
        return None;
    }
    let (effect, how) = judge(index, handler, ctx, 0);
    Some(Handler {
        location,
        effect,
        how,
    })
}

const MAX_DEPTH: usize = 3;

type Verdict = (HandlerEffect, String);

fn unknown() -> Verdict {
    (
        HandlerEffect::Unknown,
        "a handler covdoctor cannot read".to_string(),
    )
}

/// What a handler expression does.
fn judge<'a>(index: &Index<'a>, handler: &'a Expr, ctx: Ctx, depth: usize) -> Verdict {
    use HandlerEffect::*;
    let Some(v) = index.values_of(handler, ctx).into_iter().next() else {
        return unknown();
    };
    match v {
        Val::Qualified(q) => match q.as_str() {
            "signal.SIG_DFL" => (
                DefaultAction,
                "restores the default action: the process dies at once".into(),
            ),
            "signal.SIG_IGN" => (Ignores, "ignores SIGTERM".into()),
            "sys.exit" | "exit" | "quit" | "signal.default_int_handler" => (
                ExitsNormally,
                format!("`{q}` raises an exception that ends the interpreter normally"),
            ),
            "os._exit" => (
                ExitsAbruptly,
                "calls os._exit(), which skips coverage's save".into(),
            ),
            _ => unknown(),
        },
        Val::Function(f) => judge_function(index, f, depth),
        Val::Expr(Expr::Lambda(l), c) => {
            let body: &Expr = &l.body;
            match judge_calls(index, &[body], c, depth) {
                Some((effect, how)) => (effect, format!("the handler {how}")),
                None => unknown(),
            }
        }
        // A bound method used as a callback: `stop_event.set`, `server.shutdown`.
        Val::Expr(Expr::Attribute(a), _) if is_stopping_method(a.attr.as_str()) => (
            ExitsNormally,
            format!(
                "calls `.{}()`, which lets the program finish",
                a.attr.as_str()
            ),
        ),
        Val::Expr(Expr::Call(call), c) => {
            // `functools.partial(handler, ...)`.
            if index.qualified_callee(call, c).as_deref() == Some("functools.partial")
                && let Some(inner) = call.arguments.args.first()
                && depth < MAX_DEPTH
            {
                return judge(index, inner, c, depth + 1);
            }
            unknown()
        }
        _ => unknown(),
    }
}

fn is_stopping_method(name: &str) -> bool {
    matches!(
        name,
        "set" | "stop" | "shutdown" | "cancel" | "close" | "server_close"
    )
}

fn judge_function(index: &Index<'_>, f: FuncId, depth: usize) -> Verdict {
    use HandlerEffect::*;
    let function = &index.functions[f];
    let ctx = Ctx {
        module: function.module,
        func: Some(f),
    };
    let name = function.def.name.as_str();
    let mut exprs: Vec<&Expr> = Vec::new();
    let mut raises = false;
    let mut sets_flag = false;
    walk::walk_scope(&function.def.body, &mut |stmt, _| {
        exprs.extend(walk::own_exprs(stmt));
        match stmt {
            Stmt::Raise(_) => raises = true,
            Stmt::Assign(a) => {
                // A global/nonlocal flag, or an attribute or item of shared state.
                sets_flag |= a.targets.iter().any(|t| match t {
                    Expr::Name(n) => function.globals.contains(n.id.as_str()),
                    Expr::Attribute(_) | Expr::Subscript(_) => true,
                    _ => false,
                });
            }
            _ => {}
        }
    });
    match judge_calls(index, &exprs, ctx, depth) {
        Some((effect, how)) => (effect, format!("`{name}` {how}")),
        None if raises => (
            ExitsNormally,
            format!("`{name}` raises, which ends the interpreter normally"),
        ),
        None if sets_flag => (
            ExitsNormally,
            format!("`{name}` sets a flag that lets the program finish"),
        ),
        None => (
            Unknown,
            format!("`{name}` neither exits nor stops the program"),
        ),
    }
}

/// The calls in a handler's body that decide its effect; `os._exit`
/// anywhere wins, because it skips the save whatever else happens.
fn judge_calls<'a>(
    index: &Index<'a>,
    exprs: &[&'a Expr],
    ctx: Ctx,
    depth: usize,
) -> Option<Verdict> {
    use HandlerEffect::*;
    let mut found: Option<Verdict> = None;
    for e in exprs {
        for call in walk::calls_in(e) {
            let verdict = match index.qualified_callee(call, ctx).as_deref() {
                Some("os._exit") => Some((
                    ExitsAbruptly,
                    "calls os._exit(), which skips coverage's save".to_string(),
                )),
                Some("sys.exit" | "exit" | "quit") => {
                    Some((ExitsNormally, "calls sys.exit()".to_string()))
                }
                _ => match &*call.func {
                    Expr::Attribute(a) if is_stopping_method(a.attr.as_str()) => {
                        Some((ExitsNormally, format!("calls `.{}()`", a.attr.as_str())))
                    }
                    _ if depth < MAX_DEPTH => {
                        index.callee(call, ctx).into_iter().find_map(|v| match v {
                            Val::Function(f) => {
                                let verdict = judge_function(index, f, depth + 1);
                                matches!(verdict.0, ExitsNormally | ExitsAbruptly)
                                    .then_some(verdict)
                            }
                            _ => None,
                        })
                    }
                    _ => None,
                },
            };
            match verdict {
                Some(v) if v.0 == ExitsAbruptly => return Some(v),
                Some(v) => {
                    found.get_or_insert(v);
                }
                None => {}
            }
        }
    }
    found
}
