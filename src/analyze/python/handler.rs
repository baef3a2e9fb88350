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
use super::stop::signals_of;
use super::walk;
use crate::analyze::command::{Entry, Handler, HandlerEffect, Token};
use crate::analyze::{Place, Signal};

/// The project modules a child starts in, given its working directory: the
/// script, the `-m` module (or its `__main__`), the console script's module,
/// the `multiprocessing` target's module, or what a `-c` snippet imports.
pub fn child_modules(index: &Index<'_>, entry: &Entry, cwd: &Place) -> Vec<ModId> {
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
    let one = match entry {
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
        Entry::ConsoleScript { target, .. } => target
            .split(':')
            .next()
            .and_then(|m| module_or_main(index, m.trim())),
        Entry::Function { module, .. } => index.module_at(module),
        Entry::Code(code) => return code_imports(index, code).modules,
    };
    one.into_iter().collect()
}

fn module_or_main(index: &Index<'_>, name: &str) -> Option<ModId> {
    index
        .module_named(&format!("{name}.__main__"), None)
        .or_else(|| index.module_named(name, None))
}

/// What a `python -c` snippet imports from the project.
pub struct CodeImports {
    pub modules: Vec<ModId>,
    /// The snippet loads code in ways covdoctor cannot follow
    /// (`__import__`, `importlib`, `runpy`, `exec`, a relative import).
    pub dynamic: bool,
}

impl CodeImports {
    /// Whether the snippet may run project code at all.
    pub fn may_run_project(&self) -> bool {
        self.dynamic || !self.modules.is_empty()
    }
}

pub fn code_imports(index: &Index<'_>, code: &str) -> CodeImports {
    use ruff_python_ast::visitor::{self, Visitor};
    use ruff_python_parser::{Mode, ParseOptions, parse_unchecked};
    struct Imports<'i, 'a> {
        index: &'i Index<'a>,
        out: CodeImports,
    }
    impl<'b> Visitor<'b> for Imports<'_, '_> {
        fn visit_stmt(&mut self, stmt: &'b Stmt) {
            match stmt {
                Stmt::Import(i) => {
                    for a in &i.names {
                        self.out
                            .modules
                            .extend(project_module(self.index, a.name.as_str(), None));
                    }
                }
                Stmt::ImportFrom(i) if i.level > 0 => self.out.dynamic = true,
                Stmt::ImportFrom(i) => {
                    if let Some(m) = &i.module {
                        for a in &i.names {
                            let full = format!("{}.{}", m.as_str(), a.name.as_str());
                            self.out
                                .modules
                                .extend(project_module(self.index, &full, None));
                        }
                    }
                }
                _ => {}
            }
            visitor::walk_stmt(self, stmt);
        }
        fn visit_expr(&mut self, expr: &'b Expr) {
            if let Expr::Name(n) = expr {
                self.out.dynamic |= matches!(
                    n.id.as_str(),
                    "__import__" | "exec" | "importlib" | "runpy" | "execfile"
                );
            }
            visitor::walk_expr(self, expr);
        }
    }
    let parsed = parse_unchecked(code, ParseOptions::from(Mode::Module));
    let ruff_python_ast::Mod::Module(module) = parsed.syntax() else {
        unreachable!("parsed in module mode")
    };
    let mut imports = Imports {
        index,
        out: CodeImports {
            modules: Vec::new(),
            dynamic: parsed.has_syntax_errors(),
        },
    };
    imports.visit_body(&module.body);
    imports.out.modules.sort_unstable();
    imports.out.modules.dedup();
    imports.out
}

/// The project module an imported name lives in: the name itself when it
/// is a module (`app.server`), else its parent (`app.server.main`).
fn project_module(index: &Index<'_>, name: &str, from: Option<ModId>) -> Option<ModId> {
    index
        .module_named(name, from)
        .or_else(|| index.module_named(name.rsplit_once('.')?.0, from))
}

/// Servers from outside the project whose SIGTERM handling was measured:
/// gunicorn and celery's worker shut down and exit normally (coverage's
/// `atexit` saves); uvicorn shuts down, then re-raises SIGTERM.
const KNOWN_SERVERS: &[(&str, HandlerEffect, &str)] = &[
    (
        "gunicorn",
        HandlerEffect::ExitsNormally,
        "gunicorn shuts down on SIGTERM and exits normally",
    ),
    (
        "celery",
        HandlerEffect::ExitsNormally,
        "celery's worker shuts down on SIGTERM and exits normally",
    ),
    (
        "uvicorn",
        HandlerEffect::Reraises,
        "uvicorn shuts down on SIGTERM, then re-raises the signal",
    ),
];

/// The SIGTERM handling of a well-known server the child runs (`-m
/// gunicorn`, the `gunicorn` command), located at the launch.
pub fn known_server(
    entry: Option<&Entry>,
    evidence: &str,
    launch: &crate::source::Location,
) -> Option<Handler> {
    let name = match entry {
        Some(Entry::Module(m)) => m.split('.').next().unwrap_or(m),
        Some(Entry::ConsoleScript { name, .. }) => name,
        _ => evidence,
    };
    KNOWN_SERVERS
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|(_, effect, how)| Handler {
            location: launch.clone(),
            effect: *effect,
            how: how.to_string(),
            from_pytest_cov: false,
        })
}

/// How many project modules the handler search visits, following imports
/// from the child's entry modules.
const MAX_MODULES: usize = 32;

/// The SIGTERM handler a child installs (`signal.signal(SIGTERM, h)`,
/// `loop.add_signal_handler(SIGTERM, h)`, pytest-cov's
/// `cleanup_on_sigterm()`), looked for in the modules it starts in and the
/// project modules they import, judged by what it does.
pub fn sigterm_handler(index: &Index<'_>, roots: &[ModId]) -> Option<Handler> {
    let seen = closure(index, roots);
    // Handlers in the modules the child starts in, and in the modules they
    // import, in the order found.
    let mut in_roots: Vec<Handler> = Vec::new();
    let mut imported: Vec<Handler> = Vec::new();
    for &module in &seen {
        let found = if roots.contains(&module) {
            &mut in_roots
        } else {
            &mut imported
        };
        for (ctx, body) in scopes(index, module) {
            for call in walk::calls_in_stmts(body) {
                found.extend(installed_handler(index, call, ctx));
            }
        }
    }
    // The child's own module decides; otherwise the imported modules must
    // agree, or covdoctor cannot tell which handler is in force.
    let mut handler = match (in_roots.into_iter().next(), imported.as_slice()) {
        (Some(h), _) => h,
        (None, []) => return None,
        (None, [first, rest @ ..]) if rest.iter().all(|h| h.effect == first.effect) => {
            first.clone()
        }
        (None, [first, ..]) => Handler {
            location: first.location.clone(),
            effect: HandlerEffect::Unknown,
            how: "the modules it imports install different SIGTERM handlers".to_string(),
            from_pytest_cov: false,
        },
    };
    // A handler that lets the program finish, after which the program
    // re-raises SIGTERM with the default action (uvicorn does this): the
    // child still dies by the signal, without running `atexit`.
    if handler.effect == HandlerEffect::ExitsNormally
        && let Some(location) = seen.iter().find_map(|&m| reraise(index, m))
    {
        handler.effect = HandlerEffect::Reraises;
        handler.how = format!(
            "{}, but the program re-raises the signal afterwards",
            handler.how
        );
        handler.location = location;
    }
    Some(handler)
}

/// The modules the handler search visits from `roots`, in order: those
/// modules, then the project modules they import (anywhere in them, each
/// module's in a stable order), breadth first, at most [`MAX_MODULES`].
/// A module not parsed is wanted with its imports, and imports nothing
/// until it is.
pub(super) fn closure(index: &Index<'_>, roots: &[ModId]) -> Vec<ModId> {
    let mut seen: Vec<ModId> = Vec::new();
    let mut queue: std::collections::VecDeque<ModId> = roots.iter().copied().collect();
    while let Some(module) = queue.pop_front() {
        if seen.contains(&module) || seen.len() >= MAX_MODULES {
            continue;
        }
        seen.push(module);
        index.want_closure(module);
        let function_bindings = index
            .functions_of(module)
            .iter()
            .map(|&f| &index.functions[f].bindings);
        let mut next: Vec<ModId> = std::iter::once(index.bindings_of(module))
            .chain(function_bindings)
            .flat_map(|bindings| bindings.values().flatten())
            .filter_map(|b| match b {
                super::index::Binding::Import(q) => project_module(index, q, Some(module)),
                _ => None,
            })
            .collect();
        next.sort_unstable();
        next.dedup();
        queue.extend(next);
    }
    seen
}

/// A call of `os._exit()` on the child's own way out: in the module it
/// starts in, not in a function installed as a signal handler (judged by
/// `sigterm_handler`), and not in a function that forks (where `os._exit`
/// ends the forked copy, as it should).
pub fn os_exit(index: &Index<'_>, module: ModId) -> Option<crate::source::Location> {
    let scopes = scopes(index, module);
    // Functions handed to `signal.signal(...)` or `add_signal_handler(...)`.
    let mut handlers: Vec<FuncId> = Vec::new();
    let mut forking: Vec<Option<FuncId>> = Vec::new();
    for (ctx, body) in &scopes {
        for call in walk::calls_in_stmts(body) {
            let q = index.qualified_callee(call, *ctx);
            let is_handler = q.as_deref() == Some("signal.signal")
                || matches!(&*call.func, Expr::Attribute(a) if a.attr.as_str() == "add_signal_handler");
            if is_handler && let Some(h) = call.arguments.args.get(1) {
                for v in index.values_of(h, *ctx) {
                    if let Val::Function(f) = v {
                        handlers.push(f);
                    }
                }
            }
            if matches!(q.as_deref(), Some("os.fork" | "os.forkpty")) {
                forking.push(ctx.func);
            }
        }
    }
    for (ctx, body) in &scopes {
        if ctx.func.is_some_and(|f| handlers.contains(&f)) || forking.contains(&ctx.func) {
            continue;
        }
        for call in walk::calls_in_stmts(body) {
            if index.qualified_callee(call, *ctx).as_deref() == Some("os._exit") {
                return Some(index.location(ctx.module, call));
            }
        }
    }
    None
}

fn scopes<'a>(index: &Index<'a>, module: ModId) -> Vec<(Ctx, &'a [Stmt])> {
    let mut out: Vec<(Ctx, &'a [Stmt])> = vec![(Ctx::of(module, None), index.suite(module))];
    for &f in index.functions_of(module) {
        out.push((Ctx::of(module, Some(f)), &index.functions[f].def.body[..]));
    }
    out
}

/// `signal.raise_signal(...)` or `os.kill(os.getpid(), ...)` in a module.
fn reraise(index: &Index<'_>, module: ModId) -> Option<crate::source::Location> {
    for (ctx, body) in scopes(index, module) {
        for call in walk::calls_in_stmts(body) {
            let q = index.qualified_callee(call, ctx);
            let own_pid = || {
                call.arguments.args.first().is_some_and(|a| {
                    matches!(a, Expr::Call(inner) if index.qualified_callee(inner, ctx).as_deref() == Some("os.getpid"))
                })
            };
            if q.as_deref() == Some("signal.raise_signal")
                || (q.as_deref() == Some("os.kill") && own_pid())
            {
                return Some(index.location(ctx.module, call));
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
            from_pytest_cov: true,
        });
    }
    // aiohttp's `run_app` turns SIGTERM into `GracefulExit`, which unwinds
    // and ends the interpreter normally.
    if matches!(
        q.as_deref(),
        Some("aiohttp.web.run_app" | "aiohttp.web_runner.run_app")
    ) {
        return Some(Handler {
            location,
            effect: HandlerEffect::ExitsNormally,
            how: "aiohttp's run_app() turns SIGTERM into GracefulExit and exits normally"
                .to_string(),
            from_pytest_cov: false,
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
    // `for sig in (SIGINT, SIGTERM): signal.signal(sig, handler)` counts.
    if !signals_of(index, sig, ctx).contains(&Signal::Term) {
        return None;
    }
    let (effect, how) = judge(index, handler, ctx, 0);
    Some(Handler {
        location,
        effect,
        how,
        from_pytest_cov: false,
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
    let ctx = Ctx::of(function.module, Some(f));
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
                            // A called function counts only when it ends the
                            // program normally: an `os._exit` deeper down is
                            // usually on another path (a forked worker).
                            Val::Function(f) => {
                                let verdict = judge_function(index, f, depth + 1);
                                (verdict.0 == ExitsNormally).then_some(verdict)
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
