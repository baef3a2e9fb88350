//! Calls that start processes, and what their arguments say: the child's
//! command line, its environment mapping and its working directory.

use ruff_python_ast::{Expr, ExprCall};

use super::index::{Ctx, Index, Val};
use super::paths;
use crate::analyze::command::{Command, Token};
use crate::analyze::{LaunchKind, Place};

/// Where an API takes its arguments.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    /// `subprocess.Popen(args, ..., cwd, env)`: args first; `cwd` and `env`
    /// are the 10th and 11th positional parameters of `Popen`.
    Popen,
    /// `asyncio.create_subprocess_exec(program, *args, **kwds)`.
    AsyncExec,
    /// `asyncio.create_subprocess_shell(cmd, **kwds)`.
    AsyncShell,
    /// `os.execve(path, args, env)`, `os.execvpe(file, args, env)`.
    ExecV,
    /// `os.execle(path, arg0, ..., env)`, `os.execlpe(...)`.
    ExecL,
    /// `os.spawnve(mode, path, args, env)`, `os.spawnvpe(...)`.
    SpawnV,
    /// `os.spawnle(mode, path, arg0, ..., env)`, `os.spawnlpe(...)`.
    SpawnL,
    /// `multiprocessing.Process(group, target, ...)`.
    Process,
    /// A helper named in `python-launchers`: it starts a Python child and
    /// returns it; `env=` and `cwd=` are its own keyword arguments.
    Launcher,
    /// A project subclass of `multiprocessing.Process`.
    ProcessClass(super::index::ClassId),
    /// A pool of worker processes: `multiprocessing.Pool(...)`,
    /// `concurrent.futures.ProcessPoolExecutor(...)`.
    Pool,
    /// `pexpect.spawn(command, args, timeout, maxread, searchwindowsize,
    /// logfile, cwd, env)`.
    Pexpect,
    /// `trio.run_process(command, ...)`, `anyio.open_process(command, ...)`:
    /// a list, or a string the shell runs; `cwd` and `env` keywords.
    AsyncLibrary,
    /// jupyter_client's `KernelManager(...)` (the kernel it starts) and
    /// `start_new_kernel()` (whose first item is the kernel's manager).
    JupyterKernel,
    /// pytest's `pytester`/`testdir` fixture starting pytest in a child
    /// (`runpytest_subprocess`, `spawn_pytest`).
    PytesterPytest,
    /// `pytester.run(*cmdargs)`: a command of its own.
    PytesterRun,
}

/// The launch APIs covdoctor knows: qualified name, kind, shape.
pub const APIS: &[(&str, LaunchKind, Shape)] = {
    use LaunchKind::*;
    &[
        ("subprocess.Popen", Subprocess, Shape::Popen),
        ("subprocess.run", Subprocess, Shape::Popen),
        ("subprocess.call", Subprocess, Shape::Popen),
        ("subprocess.check_call", Subprocess, Shape::Popen),
        ("subprocess.check_output", Subprocess, Shape::Popen),
        (
            "asyncio.create_subprocess_exec",
            Subprocess,
            Shape::AsyncExec,
        ),
        (
            "asyncio.subprocess.create_subprocess_exec",
            Subprocess,
            Shape::AsyncExec,
        ),
        (
            "asyncio.create_subprocess_shell",
            Subprocess,
            Shape::AsyncShell,
        ),
        (
            "asyncio.subprocess.create_subprocess_shell",
            Subprocess,
            Shape::AsyncShell,
        ),
        ("os.execve", Exec, Shape::ExecV),
        ("os.execvpe", Exec, Shape::ExecV),
        ("os.execle", Exec, Shape::ExecL),
        ("os.execlpe", Exec, Shape::ExecL),
        ("os.spawnve", Spawn, Shape::SpawnV),
        ("os.spawnvpe", Spawn, Shape::SpawnV),
        ("os.spawnle", Spawn, Shape::SpawnL),
        ("os.spawnlpe", Spawn, Shape::SpawnL),
        ("multiprocessing.Process", Multiprocessing, Shape::Process),
        (
            "multiprocessing.context.Process",
            Multiprocessing,
            Shape::Process,
        ),
        ("multiprocessing.Pool", Multiprocessing, Shape::Pool),
        ("multiprocessing.pool.Pool", Multiprocessing, Shape::Pool),
        ("multiprocessing.context.Pool", Multiprocessing, Shape::Pool),
        (
            "concurrent.futures.ProcessPoolExecutor",
            Multiprocessing,
            Shape::Pool,
        ),
        (
            "concurrent.futures.process.ProcessPoolExecutor",
            Multiprocessing,
            Shape::Pool,
        ),
        ("pexpect.spawn", Subprocess, Shape::Pexpect),
        ("pexpect.pty_spawn.spawn", Subprocess, Shape::Pexpect),
        (
            "jupyter_client.KernelManager",
            Subprocess,
            Shape::JupyterKernel,
        ),
        (
            "jupyter_client.manager.KernelManager",
            Subprocess,
            Shape::JupyterKernel,
        ),
        (
            "jupyter_client.AsyncKernelManager",
            Subprocess,
            Shape::JupyterKernel,
        ),
        (
            "jupyter_client.manager.AsyncKernelManager",
            Subprocess,
            Shape::JupyterKernel,
        ),
        (
            "jupyter_client.start_new_kernel",
            Subprocess,
            Shape::JupyterKernel,
        ),
        (
            "jupyter_client.manager.start_new_kernel",
            Subprocess,
            Shape::JupyterKernel,
        ),
        (
            "jupyter_client.start_new_async_kernel",
            Subprocess,
            Shape::JupyterKernel,
        ),
        (
            "jupyter_client.manager.start_new_async_kernel",
            Subprocess,
            Shape::JupyterKernel,
        ),
        ("trio.run_process", Subprocess, Shape::AsyncLibrary),
        ("trio.open_process", Subprocess, Shape::AsyncLibrary),
        (
            "trio.lowlevel.open_process",
            Subprocess,
            Shape::AsyncLibrary,
        ),
        ("anyio.run_process", Subprocess, Shape::AsyncLibrary),
        ("anyio.open_process", Subprocess, Shape::AsyncLibrary),
    ]
};

/// The launch API a qualified name is, if any.
pub fn api(qualified: &str) -> Option<(LaunchKind, Shape)> {
    APIS.iter()
        .find(|(q, _, _)| *q == qualified)
        .map(|&(_, kind, shape)| (kind, shape))
}

/// A call's positional argument, or its keyword argument.
pub fn arg<'a>(call: &'a ExprCall, position: Option<usize>, keyword: &str) -> Option<&'a Expr> {
    if let Some(k) = call.arguments.find_keyword(keyword) {
        return Some(&k.value);
    }
    let position = position?;
    let args = &call.arguments.args;
    // Positions after a `*args` are unknown.
    if args[..position.min(args.len())]
        .iter()
        .any(Expr::is_starred_expr)
    {
        return None;
    }
    args.get(position).filter(|a| !a.is_starred_expr())
}

/// The arguments of a launch that matter, by shape.
pub struct LaunchArgs<'a> {
    pub command: Vec<&'a Expr>,
    /// The command is a shell line (or a pexpect command string).
    pub shell: bool,
    pub executable: Option<&'a Expr>,
    pub env: Option<&'a Expr>,
    pub cwd: Option<&'a Expr>,
    pub target: Option<&'a Expr>,
}

pub fn args(call: &ExprCall, shape: Shape) -> LaunchArgs<'_> {
    let positional = &call.arguments.args;
    let mut out = LaunchArgs {
        command: Vec::new(),
        shell: false,
        executable: None,
        env: None,
        cwd: None,
        target: None,
    };
    match shape {
        Shape::Popen => {
            out.command.extend(arg(call, Some(0), "args"));
            out.shell = arg(call, Some(8), "shell").is_some_and(is_truthy);
            out.executable = arg(call, Some(2), "executable");
            out.cwd = arg(call, Some(9), "cwd");
            out.env = arg(call, Some(10), "env");
        }
        Shape::AsyncExec => {
            out.command.extend(positional.iter());
            out.executable = call.arguments.find_keyword("executable").map(|k| &k.value);
            out.cwd = call.arguments.find_keyword("cwd").map(|k| &k.value);
            out.env = call.arguments.find_keyword("env").map(|k| &k.value);
        }
        Shape::AsyncShell => {
            out.command.extend(positional.first());
            out.shell = true;
            out.cwd = call.arguments.find_keyword("cwd").map(|k| &k.value);
            out.env = call.arguments.find_keyword("env").map(|k| &k.value);
        }
        Shape::ExecV | Shape::SpawnV => {
            let base = if matches!(shape, Shape::SpawnV) { 1 } else { 0 };
            // The program, then argv without argv[0].
            out.command.extend(positional.get(base));
            if let Some(argv) = positional.get(base + 1) {
                out.command.push(argv);
            }
            out.env = positional.get(base + 2);
        }
        Shape::ExecL | Shape::SpawnL => {
            let base = if matches!(shape, Shape::SpawnL) { 1 } else { 0 };
            if positional.len() >= base + 2 {
                out.command.extend(positional.get(base));
                out.command
                    .extend(positional[base + 1..positional.len() - 1].iter());
                out.env = positional.last();
            }
        }
        Shape::Process => {
            out.target = arg(call, Some(1), "target");
        }
        Shape::ProcessClass(_) | Shape::Pool => {}
        Shape::Launcher => {
            out.cwd = call.arguments.find_keyword("cwd").map(|k| &k.value);
            out.env = call.arguments.find_keyword("env").map(|k| &k.value);
        }
        Shape::AsyncLibrary => {
            out.command.extend(positional.first());
            out.shell = true;
            out.cwd = call.arguments.find_keyword("cwd").map(|k| &k.value);
            out.env = call.arguments.find_keyword("env").map(|k| &k.value);
        }
        Shape::PytesterPytest | Shape::JupyterKernel => {}
        Shape::PytesterRun => {
            out.command.extend(positional.iter());
        }
        Shape::Pexpect => {
            out.command.extend(arg(call, Some(0), "command"));
            out.command.extend(arg(call, Some(1), "args"));
            out.shell = true;
            out.cwd = arg(call, Some(6), "cwd");
            out.env = arg(call, Some(7), "env");
        }
    }
    out.env = out.env.filter(|e| !e.is_none_literal_expr());
    out.cwd = out.cwd.filter(|e| !e.is_none_literal_expr());
    out
}

/// `shell=` as far as it matters: only how a single string is split. An
/// expression covdoctor cannot evaluate counts as true.
fn is_truthy(expr: &Expr) -> bool {
    match expr {
        Expr::BooleanLiteral(b) => b.value,
        _ => !expr.is_none_literal_expr(),
    }
}

/// Builds the command tokens of a launch. For exec/spawn APIs the second
/// element is the argv list, whose first item (argv[0]) is only a name.
pub fn command<'a>(index: &Index<'a>, ctx: Ctx, launch: &LaunchArgs<'a>, shape: Shape) -> Command {
    let mut tokens = Vec::new();
    for (i, expr) in launch.command.iter().enumerate() {
        let mut part = tokens_of(index, expr, ctx, launch.shell, 0);
        let argv_list = matches!(shape, Shape::ExecV | Shape::SpawnV) && i == 1;
        let argv_items = matches!(shape, Shape::ExecL | Shape::SpawnL) && i == 1;
        if (argv_list || argv_items) && !part.is_empty() {
            part.remove(0);
        }
        let unknown = part.contains(&Token::Unknown);
        tokens.extend(part);
        if unknown {
            break;
        }
    }
    Command {
        tokens,
        executable: launch
            .executable
            .filter(|e| !e.is_none_literal_expr())
            .map(|e| token_of(index, e, ctx, 0)),
    }
}

const MAX_DEPTH: usize = 8;

/// The tokens of a command expression (a list, a string, a concatenation,
/// a variable holding one, a helper's return value).
fn tokens_of<'a>(
    index: &Index<'a>,
    expr: &'a Expr,
    ctx: Ctx,
    shell: bool,
    depth: usize,
) -> Vec<Token> {
    if depth > MAX_DEPTH {
        return vec![Token::Unknown];
    }
    let values = index.values_of(expr, ctx);
    let Some(first) = values.first() else {
        return vec![Token::Unknown];
    };
    match first {
        Val::Qualified(q) if q == "sys.executable" => vec![Token::SysExecutable],
        // A helper's `*args`, bound at its call.
        Val::Args { call, ctx, from } => elements(
            index,
            call.arguments.args.get(*from..).unwrap_or(&[]),
            *ctx,
            depth + 1,
        ),
        Val::Expr(e, c) => match e {
            Expr::List(l) => elements(index, &l.elts, *c, depth),
            Expr::Tuple(t) => elements(index, &t.elts, *c, depth),
            Expr::BinOp(b) if b.op.is_add() => {
                let mut left = tokens_of(index, &b.left, *c, shell, depth + 1);
                if !left.contains(&Token::Unknown) {
                    left.extend(tokens_of(index, &b.right, *c, shell, depth + 1));
                }
                left
            }
            Expr::StringLiteral(s) => {
                if shell {
                    split(s.value.to_str())
                } else {
                    vec![Token::Str(s.value.to_str().to_string())]
                }
            }
            Expr::FString(_) if shell => match render(index, e, *c, depth) {
                Some(line) => split_rendered(&line),
                None => vec![Token::Unknown],
            },
            Expr::Call(call) => {
                let callee = index.callee(call, *c);
                match callee.first() {
                    Some(Val::Qualified(q)) if q == "shlex.split" => {
                        match call.arguments.args.first() {
                            Some(a) => match render(index, a, *c, depth) {
                                Some(line) => split_rendered(&line),
                                None => vec![Token::Unknown],
                            },
                            None => vec![Token::Unknown],
                        }
                    }
                    // `list(args)`, `tuple(args)`.
                    Some(Val::Qualified(q))
                        if (q == "list" || q == "tuple") && call.arguments.args.len() == 1 =>
                    {
                        tokens_of(index, &call.arguments.args[0], *c, shell, depth + 1)
                    }
                    // A project function building the command, evaluated
                    // for this call.
                    Some(Val::Function(_)) => match index.call_values(call, *c, 0).first() {
                        Some(Val::Expr(r, rc)) => tokens_of(index, r, *rc, shell, depth + 1),
                        Some(Val::Qualified(q)) if q == "sys.executable" => {
                            vec![Token::SysExecutable]
                        }
                        _ => vec![Token::Unknown],
                    },
                    _ if shell => match render(index, e, *c, depth) {
                        Some(line) => split_rendered(&line),
                        None => vec![Token::Unknown],
                    },
                    _ => vec![token_of(index, e, *c, depth + 1)],
                }
            }
            _ => vec![token_of(index, e, *c, depth + 1)],
        },
        _ => vec![Token::Unknown],
    }
}

fn elements<'a>(index: &Index<'a>, elts: &'a [Expr], ctx: Ctx, depth: usize) -> Vec<Token> {
    let mut out = Vec::new();
    for e in elts {
        if let Expr::Starred(s) = e {
            let inner = tokens_of(index, &s.value, ctx, false, depth + 1);
            let unknown = inner.contains(&Token::Unknown);
            out.extend(inner);
            if unknown {
                break;
            }
            continue;
        }
        out.push(token_of(index, e, ctx, depth + 1));
    }
    out
}

/// One command element.
fn token_of<'a>(index: &Index<'a>, expr: &'a Expr, ctx: Ctx, depth: usize) -> Token {
    if depth > MAX_DEPTH {
        return Token::Unknown;
    }
    if let Some(v) = index.values_of(expr, ctx).into_iter().next() {
        match v {
            Val::Qualified(q) if q == "sys.executable" => return Token::SysExecutable,
            // `-m __name__`: the module's own dotted name.
            Val::Qualified(q) if q == "__name__" => {
                let module = &index.modules[ctx.module];
                let src = index.root.join("src");
                return module
                    .names
                    .iter()
                    .find(|(_, base)| *base == src)
                    .or_else(|| module.names.iter().find(|(_, base)| *base == index.root))
                    .map_or(Token::Unknown, |(name, _)| Token::Str(name.clone()));
            }
            Val::Expr(Expr::StringLiteral(s), _) => {
                return Token::Str(s.value.to_str().to_string());
            }
            // `str(8000)`, `"--port={}".format(8000)`.
            Val::Expr(e @ Expr::NumberLiteral(_), c) => {
                return Token::Str(index.text(c.module, e).to_string());
            }
            Val::Expr(e @ Expr::FString(_), c) => {
                return match render(index, e, c, depth) {
                    Some(s) if s == EXE => Token::SysExecutable,
                    Some(s) if !s.contains(EXE) => Token::Str(s),
                    _ => Token::Unknown,
                };
            }
            Val::Expr(e @ (Expr::Call(_) | Expr::BinOp(_)), c)
                if render(index, e, c, depth + 1).is_some() =>
            {
                return match render(index, e, c, depth + 1) {
                    Some(s) if s == EXE => Token::SysExecutable,
                    Some(s) if !s.contains(EXE) => Token::Str(s),
                    _ => Token::Unknown,
                };
            }
            Val::Expr(e, c) => {
                // `str(path)`, `os.fspath(path)`, `shutil.which("python3")`.
                if let Expr::Call(call) = e
                    && let Some(q) = index.qualified_callee(call, c)
                    && let Some(a) = call.arguments.args.first()
                {
                    if q == "str" || q == "os.fspath" {
                        return token_of(index, a, c, depth + 1);
                    }
                    if q == "shutil.which" {
                        return token_of(index, a, c, depth + 1);
                    }
                }
                return match paths::place_of(index, e, c) {
                    Place::Path {
                        path,
                        relative: false,
                    } => Token::Path(path),
                    Place::Path {
                        path,
                        relative: true,
                    } => Token::Str(path.to_string_lossy().into_owned()),
                    _ => Token::Unknown,
                };
            }
            _ => return Token::Unknown,
        }
    }
    Token::Unknown
}

/// A stand-in for `sys.executable` inside rendered strings.
const EXE: &str = "\u{e000}sys.executable\u{e000}";

/// The text of a string or f-string whose parts are all known.
fn render<'a>(index: &Index<'a>, expr: &'a Expr, ctx: Ctx, depth: usize) -> Option<String> {
    let values = index.values_of(expr, ctx);
    match values.first()? {
        Val::Qualified(q) if q == "sys.executable" => Some(EXE.to_string()),
        Val::Expr(Expr::StringLiteral(s), _) => Some(s.value.to_str().to_string()),
        Val::Expr(Expr::FString(f), c) => {
            let mut out = String::new();
            for part in f.value.iter() {
                match part {
                    ruff_python_ast::FStringPart::Literal(l) => out.push_str(&l.value),
                    ruff_python_ast::FStringPart::FString(fs) => {
                        for element in fs.elements.iter() {
                            match element {
                                ruff_python_ast::InterpolatedStringElement::Literal(l) => {
                                    out.push_str(&l.value)
                                }
                                ruff_python_ast::InterpolatedStringElement::Interpolation(i) => {
                                    if depth > MAX_DEPTH {
                                        return None;
                                    }
                                    match token_of(index, &i.expression, *c, depth + 1) {
                                        Token::SysExecutable => out.push_str(EXE),
                                        Token::Str(s) => out.push_str(&s),
                                        Token::Path(p) => out.push_str(&p.to_string_lossy()),
                                        Token::Unknown => return None,
                                    }
                                }
                            }
                        }
                    }
                }
            }
            Some(out)
        }
        // `"import sys;" + "print(1)"`: both sides known.
        Val::Expr(Expr::BinOp(b), c) if b.op.is_add() && depth <= MAX_DEPTH => {
            let left = render(index, &b.left, *c, depth + 1)?;
            let right = render(index, &b.right, *c, depth + 1)?;
            Some(left + &right)
        }
        // `"{} -m app".format(sys.executable)`.
        Val::Expr(Expr::Call(call), c) => {
            let Expr::Attribute(a) = &*call.func else {
                return None;
            };
            if a.attr.as_str() != "format" || depth > MAX_DEPTH {
                return None;
            }
            let template = render(index, &a.value, *c, depth + 1)?;
            let text = |e: &'a Expr| match token_of(index, e, *c, depth + 1) {
                Token::SysExecutable => Some(EXE.to_string()),
                Token::Str(s) => Some(s),
                Token::Path(p) => Some(p.to_string_lossy().into_owned()),
                Token::Unknown => None,
            };
            format_str(
                &template,
                |field| {
                    if field.is_empty() {
                        return None;
                    }
                    match field.parse::<usize>() {
                        Ok(i) => call
                            .arguments
                            .args
                            .get(i)
                            .filter(|e| !e.is_starred_expr())
                            .and_then(text),
                        Err(_) => call
                            .arguments
                            .find_keyword(field)
                            .and_then(|k| text(&k.value)),
                    }
                },
                |i| {
                    call.arguments
                        .args
                        .get(i)
                        .filter(|e| !e.is_starred_expr())
                        .and_then(text)
                },
            )
        }
        _ => None,
    }
}

/// `str.format` on a template whose fields are plain (`{}`, `{0}`,
/// `{name}`; `{{`/`}}` escapes); `None` for conversions, format specs,
/// attribute or index fields, or values that are not known. Written by
/// hand: it is the small regular subset of the format mini-language that
/// command lines use.
fn format_str(
    template: &str,
    mut named: impl FnMut(&str) -> Option<String>,
    mut auto: impl FnMut(usize) -> Option<String>,
) -> Option<String> {
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    let mut next_auto = 0;
    while let Some(ch) = chars.next() {
        match ch {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut field = String::new();
                loop {
                    match chars.next()? {
                        '}' => break,
                        c => field.push(c),
                    }
                }
                if field.contains([':', '!', '.', '[']) {
                    return None;
                }
                let value = if field.is_empty() {
                    let v = auto(next_auto);
                    next_auto += 1;
                    v
                } else {
                    named(&field)
                };
                out.push_str(&value?);
            }
            '}' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

fn split(line: &str) -> Vec<Token> {
    match shlex::split(line) {
        Some(words) => words.into_iter().map(Token::Str).collect(),
        None => vec![Token::Unknown],
    }
}

fn split_rendered(line: &str) -> Vec<Token> {
    split(line)
        .into_iter()
        .map(|t| match t {
            Token::Str(s) if s == EXE => Token::SysExecutable,
            Token::Str(s) if s.contains(EXE) => Token::Unknown,
            other => other,
        })
        .collect()
}
