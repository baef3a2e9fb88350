//! nox sessions: `noxfile.py`, read with the ruff parser (never run).
//! A session is a function decorated with `@nox.session` (or `@session`);
//! in its body `session.install(...)` installs, `session.run(...)` runs a
//! command (with `env={...}`), `session.env["K"] = "v"` sets a variable.
//! Arguments are string literals, or names bound once to them (module
//! constants such as `PYTEST = ["pytest", "--cov"]`, the session's own
//! variables, a helper's parameters), lists, tuples, `+` and f-strings of
//! those; `*session.posargs` is dropped, anything else is said to be
//! unresolved.

use std::path::Path;

use ruff_python_ast::visitor::{self, Visitor};
use std::collections::HashMap;

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
    let globals = Scope::of_module(&module.body);
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
            globals: &globals,
            locals: Scope::of_function(def, HashMap::new(), &globals),
            unread: false,
            dir: Ok(None),
            test_dir: None,
        };
        for stmt in &def.body {
            calls.visit_stmt(stmt);
        }
        run.apply(&calls.steps);
        run.unresolved.extend(calls.unresolved);
        run.cwd = calls.test_dir;
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

/// `session.posargs` (of any session): what the user adds on the command
/// line.
fn is_posargs(e: &Expr) -> bool {
    matches!(e, Expr::Attribute(at) if at.attr.as_str() == "posargs")
}

/// Calls `f` with each name `e` reads as a value (not attributes' names),
/// as deep as [`eval`] reads.
fn names_in(e: &Expr, f: &mut dyn FnMut(&str)) {
    fn walk(e: &Expr, f: &mut dyn FnMut(&str), depth: usize) {
        if depth > MAX_EVAL_DEPTH {
            return;
        }
        match e {
            Expr::Name(n) => f(n.id.as_str()),
            Expr::Starred(s) => walk(&s.value, f, depth + 1),
            Expr::List(l) => l.elts.iter().for_each(|e| walk(e, f, depth + 1)),
            Expr::Tuple(t) => t.elts.iter().for_each(|e| walk(e, f, depth + 1)),
            Expr::BinOp(b) => {
                walk(&b.left, f, depth + 1);
                walk(&b.right, f, depth + 1);
            }
            _ => {}
        }
    }
    walk(e, f, 0);
}

/// Whether an argument covdoctor could not read may be a path: not a
/// string or f-string written to start with `-` (an option).
fn may_be_path(text: &str) -> bool {
    let text = text.trim_start_matches(['f', 'F', 'r', 'R', 'b', 'B']);
    !(text.starts_with("\"-") || text.starts_with("'-"))
}

/// `os.path.join` as written (`a.b.c`).
fn qualified_name(mut e: &Expr) -> Option<String> {
    let mut parts = Vec::new();
    loop {
        match e {
            Expr::Name(n) => {
                parts.push(n.id.as_str());
                break;
            }
            Expr::Attribute(a) if parts.len() < MAX_EVAL_DEPTH => {
                parts.push(a.attr.as_str());
                e = &a.value;
            }
            _ => return None,
        }
    }
    parts.reverse();
    Some(parts.join("."))
}

/// `session.posargs`, `list(session.posargs)` or `tuple(session.posargs)`.
fn is_posargs_value(e: &Expr) -> bool {
    match e {
        Expr::Call(c) => {
            matches!(&*c.func, Expr::Name(n) if matches!(n.id.as_str(), "list" | "tuple"))
                && c.arguments.keywords.is_empty()
                && matches!(c.arguments.args.as_ref(), [a] if is_posargs(a))
        }
        e => is_posargs(e),
    }
}

/// How deep names and expressions are followed.
const MAX_EVAL_DEPTH: usize = 16;

/// Counts the names `body` binds, and collects its plain `NAME = value`
/// assignments (only at its top level when `top`).
/// What a body binds: how many times each name, its plain `NAME = value`
/// assignments, and what it adds to lists (`NAME += [...]`,
/// `NAME.extend([...])`, `NAME.append("x")`, `NAME.insert(i, "x")`).
#[derive(Default)]
struct Bindings<'b> {
    counts: HashMap<String, usize>,
    /// Plain assignments (`Added` is `None`) and additions, in the order
    /// of the file.
    events: Events<'b>,
}

/// An addition to a list or dict.
#[derive(Clone, Copy)]
enum Added<'b> {
    /// `+=` and `extend`: a list.
    List,
    /// `append` and `insert`: one item.
    Item,
    /// `env["K"] = value`: an entry of a dict.
    Key(&'b str),
    /// `args, posargs = parser.parse_known_args(session.posargs)`: what
    /// the user adds on the command line, parsed.
    Posargs,
}

type Events<'b> = Vec<(&'b str, &'b Expr, Option<Added<'b>>)>;

fn count_bindings<'b>(body: &'b [Stmt], b: &mut Bindings<'b>, top: bool) {
    let Bindings { counts, events } = b;
    count_into(body, counts, events, top);
}

fn count_into<'b>(
    body: &'b [Stmt],
    counts: &mut HashMap<String, usize>,
    events: &mut Events<'b>,
    top: bool,
) {
    fn targets(e: &Expr, counts: &mut HashMap<String, usize>) {
        match e {
            Expr::Name(n) => *counts.entry(n.id.to_string()).or_default() += 1,
            Expr::Tuple(t) => t.elts.iter().for_each(|e| targets(e, counts)),
            Expr::List(l) => l.elts.iter().for_each(|e| targets(e, counts)),
            Expr::Starred(s) => targets(&s.value, counts),
            _ => {}
        }
    }
    for stmt in body {
        match stmt {
            Stmt::Assign(a) => {
                a.targets.iter().for_each(|t| targets(t, counts));
                match a.targets.as_slice() {
                    [Expr::Name(n)] if top => events.push((n.id.as_str(), &a.value, None)),
                    [Expr::Subscript(sub)] => {
                        if let (Expr::Name(n), Expr::StringLiteral(k)) = (&*sub.value, &*sub.slice)
                        {
                            events.push((
                                n.id.as_str(),
                                &a.value,
                                Some(Added::Key(k.value.to_str())),
                            ));
                        }
                    }
                    // Names bound from a call that reads `session.posargs`.
                    [Expr::Tuple(t)]
                        if matches!(&*a.value, Expr::Call(c)
                            if c.arguments.args.iter().any(is_posargs_value)) =>
                    {
                        for e in &t.elts {
                            if let Expr::Name(n) = e {
                                events.push((n.id.as_str(), &a.value, Some(Added::Posargs)));
                            }
                        }
                    }
                    _ => {}
                }
            }
            Stmt::AnnAssign(a) => {
                targets(&a.target, counts);
                if let (true, Expr::Name(n), Some(v)) = (top, &*a.target, &a.value) {
                    events.push((n.id.as_str(), v, None));
                }
            }
            Stmt::AugAssign(a) => match &*a.target {
                Expr::Name(n) if a.op == ruff_python_ast::Operator::Add => {
                    events.push((n.id.as_str(), &a.value, Some(Added::List)));
                }
                // Counted twice: never a constant.
                target => {
                    targets(target, counts);
                    targets(target, counts);
                }
            },
            Stmt::Expr(e) => {
                if let Expr::Call(call) = &*e.value
                    && let Expr::Attribute(attr) = &*call.func
                    && let Expr::Name(n) = &*attr.value
                    && call.arguments.keywords.is_empty()
                {
                    let args = &call.arguments.args;
                    let item = match (attr.attr.as_str(), args.len()) {
                        ("extend", 1) => Some((&args[0], Added::List)),
                        ("append", 1) => Some((&args[0], Added::Item)),
                        ("insert", 2) => Some((&args[1], Added::Item)),
                        _ => None,
                    };
                    if let Some((e, kind)) = item {
                        events.push((n.id.as_str(), e, Some(kind)));
                    }
                }
            }
            Stmt::For(f) => {
                targets(&f.target, counts);
                targets(&f.target, counts);
                count_into(&f.body, counts, events, false);
                count_into(&f.orelse, counts, events, false);
            }
            Stmt::While(w) => {
                count_into(&w.body, counts, events, false);
                count_into(&w.orelse, counts, events, false);
            }
            Stmt::If(i) => {
                count_into(&i.body, counts, events, false);
                for c in &i.elif_else_clauses {
                    count_into(&c.body, counts, events, false);
                }
            }
            Stmt::With(w) => {
                for item in &w.items {
                    if let Some(v) = &item.optional_vars {
                        targets(v, counts);
                        targets(v, counts);
                    }
                }
                count_into(&w.body, counts, events, false);
            }
            Stmt::Try(t) => {
                count_into(&t.body, counts, events, false);
                for h in &t.handlers {
                    let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                    count_into(&h.body, counts, events, false);
                }
                count_into(&t.orelse, counts, events, false);
                count_into(&t.finalbody, counts, events, false);
            }
            Stmt::Match(m) => {
                for case in &m.cases {
                    count_into(&case.body, counts, events, false);
                }
            }
            Stmt::Import(i) => {
                for alias in &i.names {
                    let name = alias.asname.as_ref().map_or_else(
                        || alias.name.split('.').next().unwrap_or_default().to_string(),
                        ToString::to_string,
                    );
                    *counts.entry(name).or_default() += 2;
                }
            }
            Stmt::ImportFrom(i) => {
                for alias in &i.names {
                    let name = alias.asname.as_ref().unwrap_or(&alias.name).to_string();
                    *counts.entry(name).or_default() += 2;
                }
            }
            Stmt::FunctionDef(d) => *counts.entry(d.name.to_string()).or_default() += 2,
            Stmt::ClassDef(c) => *counts.entry(c.name.to_string()).or_default() += 2,
            _ => {}
        }
    }
}

/// The value of `e`, read with the names of `scope` (then `outer`'s).
/// A word keeps the span of its string literal, so that a fix can add a
/// word next to it, except a string reached through a name used on its
/// own (`COV = "--cov"`, `session.run("pytest", COV)`): it gets the span
/// of the name, which no fix edits (a word added after the string would
/// make `COV` a tuple).
fn eval(e: &Expr, scope: &Scope, outer: Option<&Scope>, depth: usize) -> Option<Value> {
    if depth > MAX_EVAL_DEPTH {
        return None;
    }
    let words = |e: &Expr| -> Option<Vec<Word>> {
        match e {
            // `*session.posargs`: what the user adds on the command line.
            Expr::Starred(s) if matches!(&*s.value, Expr::Attribute(at) if at.attr.as_str() == "posargs") => {
                Some(Vec::new())
            }
            Expr::Starred(s) => match eval(&s.value, scope, outer, depth + 1)? {
                Value::List(w) => Some(w),
                _ => None,
            },
            other => match eval(other, scope, outer, depth + 1)? {
                Value::Str(w) => Some(vec![w]),
                _ => None,
            },
        }
    };
    if is_posargs_value(e) {
        return Some(Value::List(Vec::new()));
    }
    match e {
        Expr::BooleanLiteral(b) => Some(Value::Bool(b.value)),
        Expr::StringLiteral(s) => Some(Value::Str(Word {
            text: s.value.to_str().to_string(),
            span: span(e),
            expands: false,
        })),
        Expr::List(l) => {
            let mut out = Vec::new();
            for item in &l.elts {
                out.extend(words(item)?);
            }
            Some(Value::List(out))
        }
        Expr::Tuple(t) => {
            let mut out = Vec::new();
            for item in &t.elts {
                out.extend(words(item)?);
            }
            Some(Value::List(out))
        }
        Expr::Name(n) => {
            let found = match scope.lookup(n.id.as_str()) {
                Some(v) => v.cloned(),
                None => outer?.lookup(n.id.as_str())?.cloned(),
            }?;
            Some(match found {
                Value::Str(w) => Value::Str(Word { span: span(e), ..w }),
                list => list,
            })
        }
        Expr::BinOp(b) if b.op == ruff_python_ast::Operator::Add => {
            match (
                eval(&b.left, scope, outer, depth + 1)?,
                eval(&b.right, scope, outer, depth + 1)?,
            ) {
                (Value::Str(a), Value::Str(c)) => Some(Value::Str(Word {
                    text: a.text + &c.text,
                    span: span(e),
                    expands: false,
                })),
                (Value::List(mut a), Value::List(c)) => {
                    a.extend(c);
                    Some(Value::List(a))
                }
                _ => None,
            }
        }
        // `session.posargs or ["-n", "auto"]` (`list(session.posargs)`
        // too): the default, what CI runs without extra arguments.
        Expr::BoolOp(b)
            if b.op == ruff_python_ast::BoolOp::Or
                && b.values.len() == 2
                && is_posargs_value(&b.values[0]) =>
        {
            eval(&b.values[1], scope, outer, depth + 1)
        }
        // `[] if sys.platform == "win32" else ["-n", "auto"]`: the words
        // the run may have, as for a list added to under a condition; two
        // different values are not known.
        Expr::If(i) => {
            // A condition that is a known `True` or `False`: its branch.
            if let Some(Value::Bool(b)) = eval(&i.test, scope, outer, depth + 1) {
                return eval(if b { &i.body } else { &i.orelse }, scope, outer, depth + 1);
            }
            let body = eval(&i.body, scope, outer, depth + 1)?;
            let orelse = eval(&i.orelse, scope, outer, depth + 1)?;
            match (body, orelse) {
                (Value::List(a), Value::List(b)) if a.is_empty() => Some(Value::List(b)),
                (Value::List(a), Value::List(b)) if b.is_empty() => Some(Value::List(a)),
                (Value::Str(a), Value::Str(b)) if a.text == b.text => Some(Value::Str(a)),
                _ => None,
            }
        }
        // `os.path.join("tests", "unit")` of known strings (POSIX: a later
        // absolute part starts the path again).
        Expr::Call(c)
            if c.arguments.keywords.is_empty()
                && !c.arguments.args.is_empty()
                && matches!(
                    qualified_name(&c.func).as_deref(),
                    Some("os.path.join" | "posixpath.join")
                ) =>
        {
            let mut path = String::new();
            for a in c.arguments.args.iter() {
                let Value::Str(w) = eval(a, scope, outer, depth + 1)? else {
                    return None;
                };
                if w.text.starts_with('/') || path.is_empty() {
                    path = w.text;
                } else {
                    if !path.ends_with('/') {
                        path.push('/');
                    }
                    path.push_str(&w.text);
                }
            }
            Some(Value::Str(Word {
                text: path,
                span: span(e),
                expands: false,
            }))
        }
        // `LOCATIONS["tests"]`: an entry of a dict constant.
        Expr::Subscript(sub) => {
            let Expr::StringLiteral(key) = &*sub.slice else {
                return None;
            };
            match eval(&sub.value, scope, outer, depth + 1)? {
                Value::Dict(entries) => {
                    let (_, value, _) = entries
                        .into_iter()
                        .rev()
                        .find(|(k, _, _)| k == key.value.to_str())?;
                    Some(Value::Str(Word {
                        text: value?,
                        span: span(e),
                        expands: false,
                    }))
                }
                _ => None,
            }
        }
        Expr::Dict(d) => {
            let mut out = Vec::new();
            for item in d.iter() {
                // `**os.environ`: the variables that are there already.
                let Some(Expr::StringLiteral(key)) = &item.key else {
                    continue;
                };
                // `None`: nox removes the variable.
                if item.value.is_none_literal_expr() {
                    continue;
                }
                let value = match eval(&item.value, scope, outer, depth + 1) {
                    Some(Value::Str(w)) => Some(w.text),
                    _ => None,
                };
                out.push((key.value.to_str().to_string(), value, span(&item.value)));
            }
            Some(Value::Dict(out))
        }
        Expr::FString(f) => {
            use ruff_python_ast::{FStringPart, InterpolatedStringElement};
            let mut text = String::new();
            for part in f.value.iter() {
                match part {
                    FStringPart::Literal(l) => text.push_str(&l.value),
                    FStringPart::FString(fs) => {
                        for element in fs.elements.iter() {
                            match element {
                                InterpolatedStringElement::Literal(l) => text.push_str(&l.value),
                                InterpolatedStringElement::Interpolation(i) => {
                                    if i.format_spec.is_some()
                                        || i.debug_text.is_some()
                                        || i.conversion != ruff_python_ast::ConversionFlag::None
                                    {
                                        return None;
                                    }
                                    match eval(&i.expression, scope, outer, depth + 1)? {
                                        Value::Str(w) => text.push_str(&w.text),
                                        _ => return None,
                                    }
                                }
                            }
                        }
                    }
                }
            }
            Some(Value::Str(Word {
                text,
                span: span(e),
                expands: false,
            }))
        }
        _ => None,
    }
}

struct Calls<'a> {
    source: &'a Source,
    root: &'a Path,
    session: String,
    steps: Vec<Step>,
    unresolved: Vec<String>,
    helpers: &'a [&'a StmtFunctionDef],
    depth: usize,
    globals: &'a Scope,
    /// The names of the function being read (the session or a helper).
    locals: Scope,
    /// The call being read has a word that could not be read and may be
    /// a path.
    unread: bool,
    /// Where `session.chdir` has moved the session: a directory of the
    /// project (relative to the root), or `Err` for one covdoctor cannot
    /// read or outside the project.
    dir: Result<Option<(std::path::PathBuf, Location)>, ()>,
    /// Where the session runs the tests it runs (the first such call).
    test_dir: Option<(std::path::PathBuf, Location)>,
}

/// A value an argument can have: one word, or the words a list, tuple or
/// `*` gives.
#[derive(Clone, Debug)]
enum Value {
    Str(Word),
    List(Vec<Word>),
    /// A dict with string keys (`env = {"K": "v"}`): each value's text if
    /// it is a string, and where it is written.
    Dict(Vec<(String, Option<String>, Span)>),
    /// `True` or `False` (a helper's `integration=False`).
    Bool(bool),
}

/// What the names of a module or function are bound to: the value of a
/// name bound once by a plain assignment, or nothing for a name bound
/// some other way (twice, in a loop, by an import, as a parameter with
/// no known argument), which hides a module constant of the same name.
#[derive(Default)]
struct Scope {
    names: HashMap<String, Option<Value>>,
    /// Names the body binds (assignments, loops, imports...).
    assigned: std::collections::HashSet<String>,
    /// Lists known but for what these additions add.
    incomplete: HashMap<String, Vec<Span>>,
}

impl Scope {
    fn of_module(body: &[Stmt]) -> Scope {
        let mut scope = Scope::default();
        scope.bind_all(body, None);
        scope
    }

    /// A function's names: its parameters (bound to the call's values
    /// where known) and what its body binds, its plain assignments read
    /// with the module's constants.
    fn of_function(
        def: &StmtFunctionDef,
        params: HashMap<String, Option<Value>>,
        globals: &Scope,
    ) -> Scope {
        let mut scope = Scope::default();
        for p in def
            .parameters
            .posonlyargs
            .iter()
            .chain(&def.parameters.args)
            .chain(&def.parameters.kwonlyargs)
        {
            // Unless the call gives it: its default, read at the module.
            let default = p.default.as_deref().and_then(|d| eval(d, globals, None, 0));
            scope.names.insert(p.parameter.name.to_string(), default);
        }
        for p in def.parameters.vararg.iter().chain(&def.parameters.kwarg) {
            scope.names.insert(p.name.to_string(), None);
        }
        scope.names.extend(params);
        let params: Vec<String> = scope.names.keys().cloned().collect();
        scope.bind_all(&def.body, Some(globals));
        // A parameter assigned in the body is not its argument any more.
        for name in params {
            if scope.assigned.contains(&name) {
                scope.names.insert(name, None);
            }
        }
        scope
    }

    /// Records the names `body` binds (not inside nested functions or
    /// classes); a name bound once by `NAME = value` gets that value.
    fn bind_all(&mut self, body: &[Stmt], outer: Option<&Scope>) {
        let mut b = Bindings::default();
        count_bindings(body, &mut b, true);
        let Bindings { counts, events } = b;
        for (name, n) in &counts {
            self.assigned.insert(name.clone());
            let plain = events.iter().any(|(p, _, a)| p == name && a.is_none());
            if *n > 1 || !plain {
                self.names.insert(name.clone(), None);
            }
        }
        // In the order of the file, so that `B = A + ["-x"]` sees `A` with
        // what was added to it. What is added to a list anywhere in the
        // body (under a condition too: the run may have it) counts; an
        // addition that cannot be read leaves the list known but
        // incomplete.
        for (name, e, add) in events {
            let Some(add) = add else {
                if counts.get(name) == Some(&1) {
                    let v = eval(e, self, outer, 0);
                    let mut incomplete = Vec::new();
                    names_in(e, &mut |n| {
                        incomplete.extend(self.incomplete_of(n, outer).iter().copied())
                    });
                    if !incomplete.is_empty() {
                        self.incomplete.insert(name.to_string(), incomplete);
                    }
                    self.names.insert(name.to_string(), v);
                }
                continue;
            };
            if let Added::Posargs = add {
                if counts.get(name) == Some(&1) {
                    self.names
                        .insert(name.to_string(), Some(Value::List(Vec::new())));
                }
                continue;
            }
            if !self.names.contains_key(name) {
                // A module list changed in a function, or a name never
                // assigned here: unknown.
                self.names.insert(name.to_string(), None);
                continue;
            }
            if let Added::Key(key) = add {
                let value = eval(e, self, outer, 0);
                if let Some(Some(Value::Dict(entries))) = self.names.get_mut(name) {
                    entries.retain(|(k, _, _)| k != key);
                    // `None` removes the variable.
                    if !e.is_none_literal_expr() {
                        let text = match value {
                            Some(Value::Str(w)) => Some(w.text),
                            _ => None,
                        };
                        entries.push((key.to_string(), text, span(e)));
                    }
                } else {
                    self.names.insert(name.to_string(), None);
                }
                continue;
            }
            let words = match add {
                Added::List if is_posargs(e) => Some(Vec::new()),
                Added::List => match eval(e, self, outer, 0) {
                    Some(Value::List(w)) => Some(w),
                    _ => None,
                },
                Added::Item => match eval(e, self, outer, 0) {
                    Some(Value::Str(w)) => Some(vec![w]),
                    _ => None,
                },
                Added::Key(_) | Added::Posargs => None,
            };
            match (self.names.get_mut(name), words) {
                (Some(Some(Value::List(list))), Some(w)) => list.extend(w),
                (Some(Some(Value::List(_))), None) => {
                    self.incomplete
                        .entry(name.to_string())
                        .or_default()
                        .push(span(e));
                }
                (Some(slot), _) => *slot = None,
                (None, _) => {}
            }
        }
    }

    /// The additions a list bound to `name` is known without.
    fn incomplete_of<'s>(&'s self, name: &str, outer: Option<&'s Scope>) -> &'s [Span] {
        match self.names.get(name) {
            Some(_) => self.incomplete.get(name).map_or(&[], Vec::as_slice),
            None => outer.map_or(&[], |o| o.incomplete_of(name, None)),
        }
    }

    /// `None`: not bound here; `Some(None)`: bound to no known value.
    fn lookup(&self, name: &str) -> Option<Option<&Value>> {
        self.names.get(name).map(Option::as_ref)
    }
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

    /// The words an argument gives, read with the function's names and
    /// the module's constants.
    fn value_words(&self, e: &Expr) -> Option<Vec<Word>> {
        let value = match e {
            Expr::Starred(s) if matches!(&*s.value, Expr::Attribute(at) if at.attr.as_str() == "posargs") =>
            {
                return Some(Vec::new());
            }
            Expr::Starred(s) => eval(&s.value, &self.locals, Some(self.globals), 0)?,
            other => match eval(other, &self.locals, Some(self.globals), 0)? {
                Value::Str(w) => return Some(vec![w]),
                _ => return None,
            },
        };
        match value {
            Value::List(w) => Some(w),
            _ => None,
        }
    }

    fn words(&mut self, args: &[Expr]) -> Vec<Word> {
        let mut out = Vec::new();
        for a in args {
            match a {
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
                other => match self.value_words(other) {
                    Some(words) => {
                        out.extend(words);
                        let mut missing = Vec::new();
                        names_in(other, &mut |n| {
                            missing.extend(
                                self.locals
                                    .incomplete_of(n, Some(self.globals))
                                    .iter()
                                    .copied(),
                            )
                        });
                        for at in missing {
                            let text = &self.source.text[at.range()];
                            self.unread |= may_be_path(text);
                            self.unresolved.push(format!(
                                "`{text}`, added to the command in a nox session, is not a string literal or a name bound to one"
                            ));
                        }
                    }
                    None => {
                        let text = &self.source.text[span(other).range()];
                        self.unread |= may_be_path(text);
                        self.unresolved.push(format!(
                            "`{text}` in a nox session is not a string literal or a name bound to one"
                        ));
                    }
                },
            }
        }
        out
    }

    fn is_chdir(&self, call: &ruff_python_ast::ExprCall) -> bool {
        matches!(&*call.func, Expr::Attribute(a)
            if matches!(a.attr.as_str(), "chdir" | "cd") && self.on_session(&a.value))
    }

    /// `session.chdir(path)`: where the session goes, relative to where
    /// it is.
    fn chdir(&mut self, call: &ruff_python_ast::ExprCall) {
        let location = Location::new(self.source, span(call));
        let target = match call.arguments.args.first() {
            Some(a) => match eval(a, &self.locals, Some(self.globals), 0) {
                Some(Value::Str(w)) => Some(w.text),
                _ => None,
            },
            None => None,
        };
        self.dir = match (&self.dir, target) {
            (Ok(current), Some(t)) if !t.starts_with('/') && !t.contains(['$', '~']) => {
                let base = current.as_ref().map(|(d, _)| d.clone()).unwrap_or_default();
                let dir = crate::source::normalize(&base.join(&t));
                let dir = dir.strip_prefix(".").unwrap_or(&dir).to_path_buf();
                if dir.starts_with("..") {
                    Err(())
                } else if dir.as_os_str().is_empty() {
                    Ok(None)
                } else {
                    Ok(Some((dir, location)))
                }
            }
            _ => Err(()),
        };
    }

    /// A helper's parameters bound to the values of a call's arguments
    /// (positional up to the first `*`, then keywords), read here.
    fn params(
        &self,
        helper: &StmtFunctionDef,
        call: &ruff_python_ast::ExprCall,
    ) -> HashMap<String, Option<Value>> {
        let mut out = HashMap::new();
        let positional = helper
            .parameters
            .posonlyargs
            .iter()
            .chain(&helper.parameters.args);
        let args = &call.arguments.args;
        let named = positional.clone().count();
        for (p, a) in positional.zip(args.iter()) {
            if matches!(a, Expr::Starred(_)) {
                break;
            }
            out.insert(
                p.parameter.name.to_string(),
                eval(a, &self.locals, Some(self.globals), 0),
            );
        }
        // `*extra`: the positional arguments after the named ones.
        if let Some(vararg) = &helper.parameters.vararg {
            let rest = args.get(named..).unwrap_or_default();
            let mut words = Some(Vec::new());
            for a in rest {
                match (words.as_mut(), self.value_words(a)) {
                    (Some(all), Some(w)) => all.extend(w),
                    _ => words = None,
                }
            }
            out.insert(vararg.name.to_string(), words.map(Value::List));
        }
        for k in call.arguments.keywords.iter() {
            if let Some(name) = &k.arg {
                out.insert(
                    name.to_string(),
                    eval(&k.value, &self.locals, Some(self.globals), 0),
                );
            }
        }
        out
    }
}

impl<'b> Visitor<'b> for Calls<'_> {
    fn visit_stmt(&mut self, stmt: &'b Stmt) {
        // `with session.chdir("docs"):`: the block runs there.
        if let Stmt::With(w) = stmt
            && let Some(call) = w.items.iter().find_map(|i| match &i.context_expr {
                Expr::Call(c) if self.is_chdir(c) => Some(c),
                _ => None,
            })
        {
            let outer = self.dir.clone();
            self.chdir(call);
            for s in &w.body {
                self.visit_stmt(s);
            }
            self.dir = outer;
            return;
        }
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
            let params = self.params(helper, call);
            let locals = Scope::of_function(helper, params, self.globals);
            let outer_locals = std::mem::replace(&mut self.locals, locals);
            let outer = std::mem::replace(&mut self.session, first_param(helper));
            self.depth += 1;
            for stmt in &helper.body {
                self.visit_stmt(stmt);
            }
            self.depth -= 1;
            self.session = outer;
            self.locals = outer_locals;
        }
        if let Expr::Call(call) = expr
            && let Expr::Attribute(attr) = &*call.func
            && self.on_session(&attr.value)
        {
            let method = attr.attr.as_str();
            let location = Location::new(self.source, span(expr));
            match method {
                "chdir" | "cd" => self.chdir(call),
                "install" | "run_install" | "run" | "run_always" => {
                    self.unread = false;
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
                    // `env={...}`, or a name bound to one: for this call
                    // only (`session.env` is the session's).
                    let mut call_env = Vec::new();
                    let env = call.arguments.find_keyword("env");
                    let env_value =
                        env.and_then(|k| eval(&k.value, &self.locals, Some(self.globals), 0));
                    // An environment covdoctor cannot read: said if the call
                    // runs the tests.
                    let env_unread = env
                        .filter(|_| !matches!(env_value, Some(Value::Dict(_))))
                        .map(|k| self.source.text[span(&k.value).range()].to_string());
                    if let Some(Value::Dict(entries)) = env_value {
                        for (key, value, at) in entries {
                            // A value that is no string (a path computed in
                            // the noxfile) is set, to something unknown:
                            // written as an expansion, which every reader
                            // of values takes as unknown.
                            let value = value.unwrap_or_else(|| {
                                format!("${{{}}}", &self.source.text[at.range()])
                            });
                            call_env.push(Step {
                                action: Action::SetEnv(key, value),
                                location: Location::new(self.source, at),
                            });
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
                    let mut steps = command::classify(self.source, &words, self.root, self.root);
                    // Words from a constant elsewhere in the file: the step
                    // is the call.
                    let call_span = span(expr);
                    if words
                        .iter()
                        .any(|w| w.span.start < call_span.start || w.span.end > call_span.end)
                    {
                        for step in &mut steps {
                            step.location = location.clone();
                        }
                    }
                    // What one call's `env=` sets matters to the tests only
                    // when the call runs them.
                    if steps.iter().any(|s| matches!(s.action, Action::Pytest(_))) {
                        self.steps.extend(call_env);
                        if let Some(text) = env_unread {
                            self.unresolved.push(format!(
                                "the environment the tests run with, `{text}`, is not a dict of strings covdoctor can read"
                            ));
                        }
                    }
                    for step in &mut steps {
                        if let Action::Pytest(test) = &mut step.action {
                            test.unread |= self.unread;
                        }
                    }
                    if steps.iter().any(|s| matches!(s.action, Action::Pytest(_))) {
                        match &self.dir {
                            // Tests run in a directory covdoctor cannot read
                            // (another project's checkout, a temporary
                            // copy) are not this project's.
                            Err(()) => {
                                steps.retain(|s| !matches!(s.action, Action::Pytest(_)));
                                self.unresolved.push(
                                    "the session runs pytest after `session.chdir` to a directory outside the project or that covdoctor cannot read".to_string(),
                                );
                            }
                            Ok(dir) => {
                                if self.test_dir.is_none() {
                                    self.test_dir = dir.clone();
                                }
                            }
                        }
                    }
                    self.steps.extend(steps);
                }
                _ => {}
            }
        }
        visitor::walk_expr(self, expr);
    }
}
