//! Which variables an `env=` mapping carries: mappings built from
//! `os.environ`, literal dicts, filters over `os.environ.items()`, mappings
//! filled in a loop, and mappings returned by project helpers.
//!
//! Over-approximation is the rule: whenever a part cannot be followed the
//! mapping is "unknown" (never a finding), and a filter covdoctor cannot read
//! keeps everything it might keep.

use std::collections::BTreeSet;

use ruff_python_ast::{BoolOp, CmpOp, Expr, Operator, Stmt, UnaryOp};

use super::index::{Ctx, Index, Val};
use super::walk::{self, Block};
use crate::analyze::{Carried, VarSet};
use crate::source::Location;

const MAX_DEPTH: usize = 10;

/// The result of following a mapping: what it carries, and where it was
/// built (for secondary labels).
pub struct Followed {
    pub carried: Carried,
    pub trail: Vec<(Location, String)>,
}

pub fn carried<'a>(index: &Index<'a>, expr: &'a Expr, ctx: Ctx) -> Followed {
    let mut trail = Vec::new();
    let carried = match mapping(index, expr, ctx, 0, &mut trail) {
        Some(set) => Carried::Known(set),
        None => Carried::Unknown,
    };
    Followed { carried, trail }
}

/// `None` means unknown.
fn mapping<'a>(
    index: &Index<'a>,
    expr: &'a Expr,
    ctx: Ctx,
    depth: usize,
    trail: &mut Vec<(Location, String)>,
) -> Option<VarSet> {
    if depth > MAX_DEPTH {
        return None;
    }
    let mut result: Option<VarSet> = None;
    for val in index.values_of(expr, ctx) {
        let set = match val {
            Val::Qualified(q) if q == "os.environ" => VarSet::everything(),
            Val::Expr(e, c) => {
                if !std::ptr::eq(e, expr) && trail.len() < 4 {
                    trail.push((
                        index.location(c.module, e),
                        "the mapping is built here".to_string(),
                    ));
                }
                let mut set = mapping_expr(index, e, c, depth, trail)?;
                // Changes to a variable after it is built.
                if let Expr::Name(n) = expr {
                    set = mutations(index, n.id.as_str(), ctx, set, depth, trail)?;
                }
                set
            }
            _ => return None,
        };
        result = Some(match result {
            None => set,
            Some(prev) => prev.union(set),
        });
    }
    result
}

fn mapping_expr<'a>(
    index: &Index<'a>,
    expr: &'a Expr,
    ctx: Ctx,
    depth: usize,
    trail: &mut Vec<(Location, String)>,
) -> Option<VarSet> {
    match expr {
        Expr::NoneLiteral(_) => Some(VarSet::everything()),
        Expr::Dict(d) => {
            let mut set = VarSet::default();
            for item in &d.items {
                match &item.key {
                    Some(key) => {
                        let name = constant_str(index, key, ctx)?;
                        set.set(name, is_blank(index, &item.value, ctx));
                        true
                    }
                    None => {
                        let inner = mapping(index, &item.value, ctx, depth + 1, trail)?;
                        set = set.union(inner);
                        true
                    }
                };
            }
            Some(set)
        }
        Expr::DictComp(comp) => {
            let [generator] = comp.generators.as_slice() else {
                return None;
            };
            let key_var = loop_key(&generator.target)?;
            // `{k: os.environ[k] for k in ("PATH", "COV_CORE_SOURCE")}`: the
            // names listed (an `if k in os.environ` keeps at most those).
            if let Expr::Name(_) = &generator.target
                && let Some(names) = constant_strs(index, &generator.iter, ctx)
            {
                let set = VarSet {
                    names,
                    ..VarSet::default()
                };
                let other_ifs: Vec<&Expr> = generator
                    .ifs
                    .iter()
                    .filter(|cond| !is_membership_in_environ(index, cond, key_var, ctx))
                    .collect();
                return Some(filtered(set, other_ifs, key_var, index, ctx));
            }
            if !iterates_environ(index, &generator.iter, ctx) {
                // A comprehension over another mapping keeps at most its keys.
                let source = mapping_source(&generator.iter)?;
                let base = mapping(index, source, ctx, depth + 1, trail)?;
                return Some(filtered(base, &generator.ifs, key_var, index, ctx));
            }
            Some(filtered(
                VarSet::everything(),
                &generator.ifs,
                key_var,
                index,
                ctx,
            ))
        }
        Expr::BinOp(b) if b.op == Operator::BitOr => {
            let left = mapping(index, &b.left, ctx, depth + 1, trail)?;
            let right = mapping(index, &b.right, ctx, depth + 1, trail)?;
            Some(left.union(right))
        }
        Expr::Call(call) => {
            let callee = index.callee(call, ctx);
            match callee.as_slice() {
                [Val::Qualified(q)] => match q.as_str() {
                    "os.environ.copy" => Some(VarSet::everything()),
                    "dict" => {
                        let mut set = match call.arguments.args.first() {
                            Some(a) => mapping(index, a, ctx, depth + 1, trail)?,
                            None => VarSet::default(),
                        };
                        for k in call.arguments.keywords.iter() {
                            match &k.arg {
                                Some(name) => {
                                    set.set(
                                        name.as_str().to_string(),
                                        is_blank(index, &k.value, ctx),
                                    );
                                }
                                None => {
                                    set =
                                        set.union(mapping(index, &k.value, ctx, depth + 1, trail)?)
                                }
                            }
                        }
                        Some(set)
                    }
                    "copy.copy" | "copy.deepcopy" => {
                        mapping(index, call.arguments.args.first()?, ctx, depth + 1, trail)
                    }
                    _ => {
                        // `x.copy()` on a mapping.
                        if let Expr::Attribute(a) = &*call.func
                            && a.attr.as_str() == "copy"
                        {
                            return mapping(index, &a.value, ctx, depth + 1, trail);
                        }
                        None
                    }
                },
                [Val::Function(f)] => {
                    let function = &index.functions[*f];
                    // Evaluated for this call: a parameter means its argument.
                    let fctx = index.callee_ctx(call, ctx, *f, None);
                    let mut set: Option<VarSet> = None;
                    if function.returns.is_empty() {
                        return None;
                    }
                    for r in &function.returns {
                        if trail.len() < 4 {
                            trail.push((
                                index.location(function.module, *r),
                                format!("`{}()` returns this mapping", function.def.name.as_str()),
                            ));
                        }
                        let s = mapping(index, r, fctx, depth + 1, trail)?;
                        set = Some(match set {
                            None => s,
                            Some(prev) => prev.union(s),
                        });
                    }
                    set
                }
                _ => {
                    if let Expr::Attribute(a) = &*call.func
                        && a.attr.as_str() == "copy"
                    {
                        return mapping(index, &a.value, ctx, depth + 1, trail);
                    }
                    None
                }
            }
        }
        _ => None,
    }
}

/// A value coverage treats as unset: `""` (or `None`, which `subprocess`
/// rejects anyway).
fn is_blank<'a>(index: &Index<'a>, value: &'a Expr, ctx: Ctx) -> bool {
    let values = index.values_of(value, ctx);
    !values.is_empty()
        && values.iter().all(|v| match v {
            Val::Expr(Expr::StringLiteral(s), _) => s.value.to_str().is_empty(),
            Val::Expr(Expr::NoneLiteral(_), _) => true,
            _ => false,
        })
}

/// The mapping a `.items()`/`.keys()` iteration walks over.
fn mapping_source(iter: &Expr) -> Option<&Expr> {
    match iter {
        Expr::Call(c) => match &*c.func {
            Expr::Attribute(a) if matches!(a.attr.as_str(), "items" | "keys") => Some(&a.value),
            _ => None,
        },
        other => Some(other),
    }
}

/// `os.environ`, `os.environ.items()`, `os.environ.keys()`.
fn iterates_environ<'a>(index: &Index<'a>, iter: &'a Expr, ctx: Ctx) -> bool {
    let Some(source) = mapping_source(iter) else {
        return false;
    };
    index
        .values_of(source, ctx)
        .iter()
        .all(|v| matches!(v, Val::Qualified(q) if q == "os.environ"))
}

/// The key variable of `for k, v in ...` or `for k in ...`.
fn loop_key(target: &Expr) -> Option<&str> {
    match target {
        Expr::Name(n) => Some(n.id.as_str()),
        Expr::Tuple(t) => match t.elts.first() {
            Some(Expr::Name(n)) => Some(n.id.as_str()),
            _ => None,
        },
        _ => None,
    }
}

/// A string constant, or a name bound to one.
fn constant_str<'a>(index: &Index<'a>, expr: &'a Expr, ctx: Ctx) -> Option<String> {
    let values = index.values_of(expr, ctx);
    let mut out = None;
    for v in values {
        match v {
            Val::Expr(Expr::StringLiteral(s), _) => {
                let s = s.value.to_str().to_string();
                if out.as_ref().is_some_and(|o| o != &s) {
                    return None;
                }
                out = Some(s);
            }
            _ => return None,
        }
    }
    out
}

/// Strings of a literal list/tuple/set (or a name bound to one).
fn constant_strs<'a>(index: &Index<'a>, expr: &'a Expr, ctx: Ctx) -> Option<BTreeSet<String>> {
    let values = index.values_of(expr, ctx);
    let [Val::Expr(e, c)] = values.as_slice() else {
        return None;
    };
    let elts: &[Expr] = match e {
        Expr::List(l) => &l.elts,
        Expr::Tuple(t) => &t.elts,
        Expr::Set(s) => &s.elts,
        Expr::StringLiteral(s) => return Some([s.value.to_str().to_string()].into()),
        _ => return None,
    };
    elts.iter().map(|e| constant_str(index, e, *c)).collect()
}

/// `k in os.environ` (or `os.environ.keys()`) on the key variable.
fn is_membership_in_environ<'a>(index: &Index<'a>, cond: &'a Expr, key: &str, ctx: Ctx) -> bool {
    let Expr::Compare(cmp) = cond else {
        return false;
    };
    matches!(&*cmp.left, Expr::Name(n) if n.id.as_str() == key)
        && cmp.ops.len() == 1
        && matches!(cmp.ops[0], ruff_python_ast::CmpOp::In)
        && iterates_environ(index, &cmp.comparators[0], ctx)
}

/// Applies `if` filters on the key variable to a base set.
fn filtered<'a>(
    base: VarSet,
    ifs: impl IntoIterator<Item = &'a Expr>,
    key: &str,
    index: &Index<'a>,
    ctx: Ctx,
) -> VarSet {
    let mut set = base;
    for cond in ifs {
        match filter(cond, key, index, ctx) {
            Some(Filter::Keep(keep)) => {
                // Keep only what the filter admits: names/prefixes it names,
                // and nothing else (unless the base already had less).
                let base_all = set.all;
                let mut out = VarSet::default();
                for n in keep.names {
                    if base_all || set.carries(&n) {
                        out.names.insert(n);
                    }
                }
                for p in keep.prefixes {
                    if base_all || set.prefixes.contains(&p) {
                        out.prefixes.insert(p);
                    }
                }
                if !base_all {
                    // Names of the base that the prefixes admit.
                    for n in set.names.iter() {
                        if out.prefixes.iter().any(|p| n.starts_with(p.as_str())) {
                            out.names.insert(n.clone());
                        }
                    }
                }
                set = out;
            }
            Some(Filter::Drop(drop)) => {
                set.removed_names.extend(drop.names.iter().cloned());
                set.removed_prefixes.extend(drop.prefixes);
                for n in &drop.names {
                    set.names.remove(n);
                }
            }
            // A condition that does not filter on the key keeps everything.
            None => {}
        }
    }
    set
}

struct KeySet {
    names: BTreeSet<String>,
    prefixes: BTreeSet<String>,
}

enum Filter {
    Keep(KeySet),
    Drop(KeySet),
}

/// Reads a filter on the key variable: `k.startswith("COV")`,
/// `k.startswith(("A", "B"))`, `k in NAMES`, `k == "X"`, their negations and
/// `or`/`and` combinations. `and` is over-approximated by the union.
fn filter<'a>(cond: &'a Expr, key: &str, index: &Index<'a>, ctx: Ctx) -> Option<Filter> {
    let is_key = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == key);
    match cond {
        Expr::UnaryOp(u) if u.op == UnaryOp::Not => match filter(&u.operand, key, index, ctx)? {
            Filter::Keep(k) => Some(Filter::Drop(k)),
            Filter::Drop(k) => Some(Filter::Keep(k)),
        },
        Expr::BoolOp(b) => {
            let mut keep = KeySet {
                names: BTreeSet::new(),
                prefixes: BTreeSet::new(),
            };
            let mut any = false;
            for v in &b.values {
                match filter(v, key, index, ctx) {
                    Some(Filter::Keep(k)) => {
                        any = true;
                        keep.names.extend(k.names);
                        keep.prefixes.extend(k.prefixes);
                    }
                    // `or` with a part that keeps everything keeps everything.
                    None | Some(Filter::Drop(_)) if b.op == BoolOp::Or => return None,
                    _ => {}
                }
            }
            any.then_some(Filter::Keep(keep))
        }
        Expr::Call(c) => {
            let Expr::Attribute(a) = &*c.func else {
                return None;
            };
            if a.attr.as_str() != "startswith" || !is_key(&a.value) {
                return None;
            }
            let prefixes = constant_strs(index, c.arguments.args.first()?, ctx)?;
            Some(Filter::Keep(KeySet {
                names: BTreeSet::new(),
                prefixes,
            }))
        }
        Expr::Compare(cmp) if cmp.ops.len() == 1 && is_key(&cmp.left) => {
            let right = &cmp.comparators[0];
            let names = match cmp.ops[0] {
                CmpOp::Eq | CmpOp::NotEq => [constant_str(index, right, ctx)?].into(),
                CmpOp::In | CmpOp::NotIn => constant_strs(index, right, ctx)?,
                _ => return None,
            };
            let set = KeySet {
                names,
                prefixes: BTreeSet::new(),
            };
            match cmp.ops[0] {
                CmpOp::Eq | CmpOp::In => Some(Filter::Keep(set)),
                _ => Some(Filter::Drop(set)),
            }
        }
        _ => None,
    }
}

/// Applies what happens to a variable after it is assigned, in the scope
/// that binds it: `env[K] = v`, `env.update(...)`, `env |= ...`,
/// `env.setdefault(K, v)`, `env.pop(K)`, `del env[K]`, and the seed's loop
/// `for k, v in os.environ.items(): if k.startswith("COV"): env[k] = v`.
fn mutations<'a>(
    index: &Index<'a>,
    name: &str,
    ctx: Ctx,
    mut set: VarSet,
    depth: usize,
    trail: &mut Vec<(Location, String)>,
) -> Option<VarSet> {
    // The scope whose body binds the name.
    let mut func = ctx.func;
    while let Some(f) = func {
        if index.functions[f].bindings.contains_key(name)
            || index.functions[f].params.contains(&name)
        {
            break;
        }
        func = index.functions[f].parent;
    }
    let body: &[Stmt] = match func {
        Some(f) => &index.functions[f].def.body,
        None => index.suite(ctx.module),
    };
    // The variable's own scope keeps the call site it was reached from.
    let scope = if func == ctx.func {
        ctx
    } else {
        Ctx::of(ctx.module, func)
    };
    let is_var = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == name);
    let mut failed = false;
    walk::walk_scope(body, &mut |stmt, frames| {
        if failed {
            return;
        }
        match stmt {
            Stmt::Assign(a) => {
                for t in &a.targets {
                    if let Expr::Subscript(s) = t
                        && is_var(&s.value)
                    {
                        match subscript_key(index, &s.slice, scope, frames) {
                            Some(KeyOrFilter::Name(k)) => {
                                set.set(k, is_blank(index, &a.value, scope));
                            }
                            Some(KeyOrFilter::Set(s)) => set = std::mem::take(&mut set).union(s),
                            None => failed = true,
                        }
                    }
                }
            }
            Stmt::AugAssign(a) if a.op == Operator::BitOr && is_var(&a.target) => {
                match mapping(index, &a.value, scope, depth + 1, trail) {
                    Some(s) => set = std::mem::take(&mut set).union(s),
                    None => failed = true,
                }
            }
            Stmt::Delete(d) => {
                for t in &d.targets {
                    if let Expr::Subscript(s) = t
                        && is_var(&s.value)
                        && let Some(k) = constant_str(index, &s.slice, scope)
                    {
                        set.names.remove(&k);
                        if set.all {
                            set.removed_names.insert(k);
                        }
                    }
                }
            }
            Stmt::Expr(e) => {
                let Expr::Call(call) = &*e.value else {
                    return;
                };
                let Expr::Attribute(a) = &*call.func else {
                    return;
                };
                if !is_var(&a.value) {
                    return;
                }
                match a.attr.as_str() {
                    "update" => {
                        for arg in call.arguments.args.iter() {
                            match mapping(index, arg, scope, depth + 1, trail) {
                                Some(s) => set = std::mem::take(&mut set).union(s),
                                None => failed = true,
                            }
                        }
                        for k in call.arguments.keywords.iter() {
                            match &k.arg {
                                Some(n) => {
                                    set.set(
                                        n.as_str().to_string(),
                                        is_blank(index, &k.value, scope),
                                    );
                                }
                                None => failed = true,
                            }
                        }
                    }
                    "setdefault" => match call
                        .arguments
                        .args
                        .first()
                        .and_then(|k| constant_str(index, k, scope))
                    {
                        Some(k) => {
                            set.names.insert(k);
                        }
                        None => failed = true,
                    },
                    "pop" => {
                        if let Some(k) = call
                            .arguments
                            .args
                            .first()
                            .and_then(|k| constant_str(index, k, scope))
                        {
                            set.names.remove(&k);
                            if set.all {
                                set.removed_names.insert(k);
                            }
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    });
    (!failed).then_some(set)
}

enum KeyOrFilter {
    Name(String),
    Set(VarSet),
}

/// The key of `env[key] = ...`: a constant, or the key variable of an
/// enclosing loop over `os.environ`, filtered by the enclosing `if`s.
fn subscript_key<'a>(
    index: &Index<'a>,
    key: &'a Expr,
    ctx: Ctx,
    frames: &[walk::Frame<'a>],
) -> Option<KeyOrFilter> {
    if let Some(k) = constant_str(index, key, ctx) {
        return Some(KeyOrFilter::Name(k));
    }
    let Expr::Name(n) = key else {
        return None;
    };
    let var = n.id.as_str();
    // Find the loop that binds the key, collecting the `if` tests between
    // it and the assignment.
    let mut tests: Vec<&'a Expr> = Vec::new();
    for (i, frame) in frames.iter().enumerate().rev() {
        if let Block::Branch(Some(test)) = frame.block {
            tests.push(test);
        }
        if let Block::Loop = frame.block
            && i > 0
            && let Some(Stmt::For(f)) = frames[i - 1].stmts.get(frames[i - 1].index)
            && loop_key(&f.target) == Some(var)
        {
            if !iterates_environ(index, &f.iter, ctx) {
                return None;
            }
            return Some(KeyOrFilter::Set(filtered(
                VarSet::everything(),
                tests,
                var,
                index,
                ctx,
            )));
        }
    }
    None
}
