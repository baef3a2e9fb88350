//! Calls that stop a launched child, the signal they send, and whether the
//! call is only a fallback.
//!
//! A stop is a fallback (never the normal way the child ends) when:
//! - it sits in an `except` of a `try` whose body waits for the child with
//!   a bound (`wait(timeout=...)`, `communicate(timeout=...)`,
//!   `join(timeout)`, `asyncio.wait_for(p.wait(), ...)`): the documented
//!   terminate, wait, kill-on-timeout pattern; or in the `finally` of a
//!   `try` whose body waits at all;
//! - it sits under a check that the child is still alive (`p.poll() is
//!   None`, `p.is_alive()`, `p.returncode is None`) that follows a wait;
//! - the child has certainly ended before it: a `wait()`/`communicate()`
//!   (which return only after the child exits, or raise), or a `join()`
//!   without a timeout, earlier in the same straight-line code.

use ruff_python_ast::{CmpOp, Expr, ExprCall, Stmt};

use super::index::{Ctx, Index, Val};
use super::walk::{self, Block, Frame};
use crate::analyze::{LaunchKind, Signal};

/// What a stop call looks like before it is tied to a launch.
pub struct StopCall<'a> {
    pub call: &'a ExprCall,
    /// The expression naming the process (`process`, `self.proc`), or the
    /// process whose `.pid` is signalled.
    pub receiver: &'a Expr,
    pub signal: Signal,
}

/// Recognises `p.kill()`, `p.terminate()`, `p.send_signal(sig)`,
/// `os.kill(p.pid, sig)` and `os.killpg(os.getpgid(p.pid), sig)`, and
/// `p.kill`/`p.terminate` handed to a teardown hook
/// (`request.addfinalizer(p.kill)`, `self.addCleanup(p.terminate)`,
/// `atexit.register(p.kill)`, `stack.callback(p.kill)`).
pub fn stop_call<'a>(index: &Index<'a>, call: &'a ExprCall, ctx: Ctx) -> Option<StopCall<'a>> {
    if let Expr::Attribute(hook) = &*call.func
        && matches!(
            hook.attr.as_str(),
            "addfinalizer"
                | "addCleanup"
                | "addClassCleanup"
                | "addAsyncCleanup"
                | "register"
                | "callback"
        )
        && let Some(Expr::Attribute(a)) = call.arguments.args.first()
    {
        let signal = match a.attr.as_str() {
            "kill" => Some(Signal::Kill),
            "terminate" => Some(Signal::Term),
            _ => None,
        };
        if let Some(signal) = signal {
            return Some(StopCall {
                call,
                receiver: &a.value,
                signal,
            });
        }
    }
    if let Expr::Attribute(a) = &*call.func {
        let signal = match a.attr.as_str() {
            "kill" if call.arguments.args.is_empty() && call.arguments.keywords.is_empty() => {
                Some(Signal::Kill)
            }
            // pexpect's `child.kill(signal.SIGKILL)`.
            "kill" if call.arguments.args.len() == 1 => call
                .arguments
                .args
                .first()
                .and_then(|s| signal_of(index, s, ctx)),
            "terminate" if call.arguments.args.is_empty() && call.arguments.keywords.is_empty() => {
                Some(Signal::Term)
            }
            "send_signal" => call
                .arguments
                .args
                .first()
                .and_then(|s| signal_of(index, s, ctx)),
            // jupyter_client's `km.shutdown_kernel(now=True)` (and
            // `restart_kernel(now=True)`) skip the shutdown request and
            // kill the kernel with SIGKILL.
            "shutdown_kernel" | "restart_kernel"
                if call
                    .arguments
                    .find_keyword("now")
                    .is_some_and(|k| matches!(&k.value, Expr::BooleanLiteral(b) if b.value)) =>
            {
                Some(Signal::Kill)
            }
            _ => None,
        };
        if let Some(signal) = signal {
            // `os.kill` also has the attribute form; exclude module calls.
            if !matches!(
                index.qualified_callee(call, ctx).as_deref(),
                Some("os.kill" | "os.killpg")
            ) {
                return Some(StopCall {
                    call,
                    receiver: &a.value,
                    signal,
                });
            }
        }
    }
    // Only `kill`/`killpg` can be `os.kill`: resolve nothing else.
    let named = match &*call.func {
        Expr::Name(n) => n.id.as_str(),
        Expr::Attribute(a) => a.attr.as_str(),
        _ => return None,
    };
    if named != "kill" && named != "killpg" {
        return None;
    }
    let q = index.qualified_callee(call, ctx)?;
    if q != "os.kill" && q != "os.killpg" {
        return None;
    }
    let [pid, sig] = &call.arguments.args[..] else {
        return None;
    };
    let signal = signal_of(index, sig, ctx)?;
    let receiver = pid_owner(index, pid, ctx)?;
    Some(StopCall {
        call,
        receiver,
        signal,
    })
}

/// The process expression behind a pid: `p.pid`, `os.getpgid(p.pid)`, or a
/// variable holding either.
fn pid_owner<'a>(index: &Index<'a>, pid: &'a Expr, ctx: Ctx) -> Option<&'a Expr> {
    for v in index.values_of(pid, ctx) {
        if let Val::Expr(e, c) = v {
            match e {
                Expr::Attribute(a) if a.attr.as_str() == "pid" => return Some(&a.value),
                Expr::Call(inner) => {
                    if index.qualified_callee(inner, c).as_deref() == Some("os.getpgid")
                        && let Some(arg) = inner.arguments.args.first()
                    {
                        return pid_owner(index, arg, c);
                    }
                }
                _ => {}
            }
        }
    }
    None
}

/// A signal argument: `signal.SIGKILL`, `SIGTERM` imported from `signal`,
/// `signal.Signals.SIGINT`, or a number.
pub fn signal_of<'a>(index: &Index<'a>, expr: &'a Expr, ctx: Ctx) -> Option<Signal> {
    index
        .values_of(expr, ctx)
        .into_iter()
        .next()
        .and_then(signal_of_value)
}

/// Every signal an expression may be (a loop variable over several).
pub fn signals_of<'a>(index: &Index<'a>, expr: &'a Expr, ctx: Ctx) -> Vec<Signal> {
    index
        .values_of(expr, ctx)
        .into_iter()
        .filter_map(signal_of_value)
        .collect()
}

fn signal_of_value(v: Val<'_>) -> Option<Signal> {
    match v {
        Val::Qualified(q) => match q.rsplit('.').next()? {
            "SIGKILL" => Some(Signal::Kill),
            "SIGTERM" => Some(Signal::Term),
            "SIGINT" => Some(Signal::Int),
            _ if q.starts_with("signal.") => Some(Signal::Other(0)),
            _ => None,
        },
        Val::Expr(Expr::NumberLiteral(n), _) => match n.value.as_int()?.as_i64()? {
            9 => Some(Signal::Kill),
            15 => Some(Signal::Term),
            2 => Some(Signal::Int),
            other => Some(Signal::Other(other)),
        },
        _ => None,
    }
}

/// Whether the stop at `frames` (innermost last) on `receiver` is a fallback.
pub fn is_fallback<'a>(
    index: &Index<'a>,
    ctx: Ctx,
    receiver: &'a Expr,
    frames: &[Frame<'a>],
    kind: LaunchKind,
) -> bool {
    let name = index.text(ctx.module, receiver).to_string();
    let waits = |stmts: &'a [Stmt]| -> Vec<WaitCall> {
        walk::calls_in_stmts(stmts)
            .into_iter()
            .filter_map(|c| wait_call(index, ctx, c, &name, stmts))
            .collect()
    };

    // In the except/finally of a try that waits with a bound.
    for frame in frames {
        // A `finally` after a wait on the normal path: when the body
        // finished, the child has ended (or outlived a bounded wait). A wait
        // only on an error branch inside the body does not count.
        if let Block::Finally(t) = frame.block
            && normal_path(&t.body)
                .into_iter()
                .any(|stmt| !waits(std::slice::from_ref(stmt)).is_empty())
        {
            return true;
        }
        if let Block::Handler(t) = frame.block
            && waits(&t.body).iter().any(|w| w.bounded)
        {
            return true;
        }
    }

    // In the `else` of a loop that polls or waits for the child: the loop
    // ends with `break` when the child is done, so the `else` is the
    // deadline's failure path.
    for frame in frames {
        if let Block::LoopElse(loop_stmt) = frame.block {
            let (body, test): (&[Stmt], Option<&Expr>) = match loop_stmt {
                Stmt::For(f) => (&f.body, None),
                Stmt::While(w) => (&w.body, Some(&*w.test)),
                _ => (&[], None),
            };
            let mut calls = walk::calls_in_stmts(body);
            calls.extend(test.map(walk::calls_in).unwrap_or_default());
            let polls = calls.iter().any(|c| {
                matches!(&*c.func, Expr::Attribute(a)
                    if matches!(a.attr.as_str(), "poll" | "wait" | "is_alive" | "isalive" | "join" | "communicate")
                        && index.text(ctx.module, &*a.value) == name)
            });
            // Reading the child's output until it says something (`for line
            // in p.stdout:` ... `break`): the `else` is the failure path.
            let reads = |e: &Expr| {
                walk::subexprs(e).into_iter().any(|s| {
                    matches!(s, Expr::Attribute(a)
                        if matches!(a.attr.as_str(), "stdout" | "stderr")
                            && index.text(ctx.module, &*a.value) == name)
                })
            };
            let iter_reads = matches!(loop_stmt, Stmt::For(f) if reads(&f.iter));
            let body_reads = calls.iter().any(|c| reads(&c.func));
            if polls || iter_reads || body_reads {
                return true;
            }
        }
    }

    // Earlier straight-line statements along the chain of enclosing blocks.
    let mut earlier: Vec<&'a Stmt> = Vec::new();
    for frame in frames {
        earlier.extend(frame.before().iter().filter(|s| is_straight_line(s)));
    }
    let earlier_waits: Vec<WaitCall> = earlier
        .iter()
        .flat_map(|s| {
            walk::own_exprs(s)
                .into_iter()
                .flat_map(walk::calls_in)
                .filter_map(|c| wait_call(index, ctx, c, &name, &[]))
                .collect::<Vec<_>>()
        })
        .collect();
    let signalled_before = earlier.iter().any(|s| {
        walk::own_exprs(s)
            .into_iter()
            .flat_map(walk::calls_in)
            .any(|c| {
                stop_call(index, c, ctx)
                    .is_some_and(|sc| index.text(ctx.module, sc.receiver) == name)
            })
    });

    // Under an is-alive check that follows a wait.
    let alive_check = frames.iter().any(|f| match f.block {
        Block::Branch(Some(test)) => walk::subexprs(test)
            .into_iter()
            .any(|e| is_alive_check(index, ctx, e, &name)),
        _ => false,
    });
    if alive_check && !earlier_waits.is_empty() {
        return true;
    }

    // The child has ended already.
    earlier_waits.iter().any(|w| match kind {
        LaunchKind::Multiprocessing => !w.bounded || signalled_before,
        _ => true,
    })
}

/// Whether the child is waited for after the stop at `frames` (innermost
/// last): a `wait()`, `communicate()`, `join()` or `poll()` on `receiver` in
/// a later statement of any enclosing block or in the `finally` of an
/// enclosing `try`, or the stop sits in `with Popen(...) as receiver:`
/// (whose exit waits). With `members`, a wait on an attribute of
/// `receiver` counts too (`server.stop()` then `server.proc.wait()`).
pub fn waits_after<'a>(
    index: &Index<'a>,
    ctx: Ctx,
    receiver: &'a Expr,
    frames: &[Frame<'a>],
    members: bool,
) -> bool {
    let name = index.text(ctx.module, receiver).to_string();
    let member = format!("{name}.");
    let waits = |stmts: &'a [Stmt]| {
        walk::calls_in_stmts(stmts).into_iter().any(|c| {
            let Expr::Attribute(a) = &*c.func else {
                return false;
            };
            let on = index.text(ctx.module, &*a.value);
            (on == name || (members && on.starts_with(&member)))
                && matches!(a.attr.as_str(), "wait" | "communicate" | "join" | "poll")
        })
    };
    for (i, frame) in frames.iter().enumerate() {
        if waits(&frame.stmts[frame.index + 1..]) {
            return true;
        }
        // The statement holding this frame's block.
        let Some(outer) = i.checked_sub(1).map(|o| &frames[o]) else {
            continue;
        };
        match (frame.block, &outer.stmts[outer.index]) {
            (Block::TryBody(t) | Block::Handler(t), _) if waits(&t.finalbody) => return true,
            (Block::TryElse, Stmt::Try(t)) if waits(&t.finalbody) => return true,
            (Block::With, Stmt::With(w))
                if w.items.iter().any(|item| {
                    item.optional_vars
                        .as_deref()
                        .is_some_and(|v| index.text(ctx.module, v) == name)
                        || index.text(ctx.module, &item.context_expr) == name
                }) =>
            {
                return true;
            }
            _ => {}
        }
    }
    false
}

/// The statements of a block on its normal path: the block's own
/// statements and those of nested `with`, `try` bodies, loops and branches
/// that do not end by raising; not `except` handlers.
fn normal_path(stmts: &[Stmt]) -> Vec<&Stmt> {
    let mut out = Vec::new();
    for stmt in stmts {
        match stmt {
            Stmt::Try(t) => {
                out.extend(normal_path(&t.body));
                out.extend(normal_path(&t.orelse));
            }
            Stmt::With(w) => out.extend(normal_path(&w.body)),
            Stmt::If(i) => {
                if !ends_raising(&i.body) {
                    out.extend(normal_path(&i.body));
                }
                for clause in &i.elif_else_clauses {
                    if !ends_raising(&clause.body) {
                        out.extend(normal_path(&clause.body));
                    }
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Every call in the statements of a block on its normal path.
pub fn normal_path_calls(stmts: &[Stmt]) -> Vec<&ExprCall> {
    normal_path(stmts)
        .into_iter()
        .flat_map(|s| walk::calls_in_stmts(std::slice::from_ref(s)))
        .collect()
}

fn ends_raising(stmts: &[Stmt]) -> bool {
    matches!(stmts.last(), Some(Stmt::Raise(_)))
        || matches!(stmts.last(), Some(Stmt::Expr(e)) if matches!(&*e.value, Expr::Call(c)
            if matches!(&*c.func, Expr::Attribute(a) if a.attr.as_str() == "fail")))
}

/// Whether a stop sits in the `except` of a `try` whose body waits for the
/// child with a bound (`communicate(timeout=...)`, `wait(timeout=...)`)
/// without asking it to stop first: the kill is what ends the child when
/// the timeout expires (the documented `communicate` recipe), not the
/// fallback of a graceful stop.
pub fn kills_on_timeout<'a>(
    index: &Index<'a>,
    ctx: Ctx,
    receiver: &'a Expr,
    frames: &[Frame<'a>],
) -> bool {
    let name = index.text(ctx.module, receiver).to_string();
    let asks_to_stop = |stmts: &'a [Stmt]| {
        walk::calls_in_stmts(stmts).into_iter().any(|c| {
            stop_call(index, c, ctx).is_some_and(|sc| {
                sc.signal != Signal::Kill && index.text(ctx.module, sc.receiver) == name
            })
        })
    };
    // The nearest enclosing `except`: a kill nested in a graceful stop
    // that itself sits in a timeout handler is that stop's fallback.
    let nearest = frames
        .iter()
        .rposition(|f| matches!(f.block, Block::Handler(_)));
    nearest.is_some_and(|i| {
        let Block::Handler(t) = frames[i].block else {
            return false;
        };
        let bounded = walk::calls_in_stmts(&t.body)
            .into_iter()
            .filter_map(|c| wait_call(index, ctx, c, &name, &t.body))
            .any(|w| w.bounded);
        // A terminate() before the try, in the block that holds it.
        let before = i.checked_sub(1).map_or(&[][..], |o| frames[o].before());
        bounded && !asks_to_stop(&t.body) && !asks_to_stop(before)
    })
}

fn is_straight_line(stmt: &Stmt) -> bool {
    matches!(
        stmt,
        Stmt::Expr(_) | Stmt::Assign(_) | Stmt::AnnAssign(_) | Stmt::AugAssign(_)
    )
}

struct WaitCall {
    bounded: bool,
}

/// `p.wait(...)`, `p.communicate(...)`, `p.join(...)` on the named process.
/// `asyncio.wait_for(p.wait(), t)` counts as bounded.
fn wait_call<'a>(
    index: &Index<'a>,
    ctx: Ctx,
    call: &'a ExprCall,
    name: &str,
    scope: &'a [Stmt],
) -> Option<WaitCall> {
    let Expr::Attribute(a) = &*call.func else {
        return None;
    };
    if index.text(ctx.module, &*a.value) != name {
        return None;
    }
    let has_timeout = |pos: usize| {
        call.arguments
            .find_keyword("timeout")
            .is_some_and(|k| !k.value.is_none_literal_expr())
            || call
                .arguments
                .args
                .get(pos)
                .is_some_and(|e| !e.is_none_literal_expr())
    };
    let bounded = match a.attr.as_str() {
        "wait" => has_timeout(0) || inside_wait_for(index, ctx, call, scope),
        "communicate" => has_timeout(1) || inside_wait_for(index, ctx, call, scope),
        "join" => has_timeout(0),
        _ => return None,
    };
    Some(WaitCall { bounded })
}

/// Whether `call` is the awaitable passed to `asyncio.wait_for(...)`.
fn inside_wait_for<'a>(index: &Index<'a>, ctx: Ctx, call: &'a ExprCall, scope: &'a [Stmt]) -> bool {
    walk::calls_in_stmts(scope).into_iter().any(|outer| {
        matches!(
            index.qualified_callee(outer, ctx).as_deref(),
            Some("asyncio.wait_for" | "asyncio.timeout")
        ) && outer
            .arguments
            .args
            .first()
            .is_some_and(|a| matches!(a, Expr::Call(c) if std::ptr::eq(c, call)))
    })
}

/// `p.poll() is None`, `p.returncode is None`, `p.exitcode is None`,
/// `p.is_alive()`, `p.isalive()`.
fn is_alive_check(index: &Index<'_>, ctx: Ctx, expr: &Expr, name: &str) -> bool {
    let on_name = |e: &Expr| index.text(ctx.module, e) == name;
    match expr {
        Expr::Call(c) => match &*c.func {
            Expr::Attribute(a) => {
                matches!(a.attr.as_str(), "is_alive" | "isalive" | "poll") && on_name(&a.value)
            }
            _ => false,
        },
        Expr::Compare(cmp) if cmp.ops.len() == 1 && matches!(cmp.ops[0], CmpOp::Is | CmpOp::Eq) => {
            cmp.comparators[0].is_none_literal_expr()
                && match &*cmp.left {
                    Expr::Attribute(a) => {
                        matches!(a.attr.as_str(), "returncode" | "exitcode") && on_name(&a.value)
                    }
                    Expr::Call(c) => {
                        matches!(&*c.func, Expr::Attribute(a) if a.attr.as_str() == "poll" && on_name(&a.value))
                    }
                    _ => false,
                }
        }
        _ => false,
    }
}
