//! A project-wide index of the parsed Python modules: imports, functions,
//! classes, pytest fixtures and name bindings, and the value resolution the
//! analyses share ([`Index::values_of`]).
//!
//! Resolution is deliberately simple and flow-insensitive: a name means every
//! value it is ever assigned in its scope, a function call means every value
//! the function returns or yields, a test or fixture parameter means the
//! fixture of that name visible from the module (same class, same module,
//! then `conftest.py` files up to the project root). Anything else is
//! "unknown", and unknown values never produce findings.

// FxHash: the keys are names and ids, hashed many times per resolution.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::path::{Path, PathBuf};

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, ExprCall, Stmt, StmtClassDef, StmtFunctionDef};
use ruff_text_size::Ranged;

use super::walk;
use crate::source::{Location, Source, Span};

pub type ModId = usize;
pub type FuncId = usize;
pub type ClassId = usize;

/// Where an expression is evaluated: a module, the function whose body it
/// is in, and the call of that function it is evaluated for, when known
/// (its parameters then mean that call's arguments).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ctx {
    pub module: ModId,
    pub func: Option<FuncId>,
    pub frame: Option<FrameId>,
}

impl Ctx {
    /// A scope evaluated for no particular call.
    pub fn of(module: ModId, func: Option<FuncId>) -> Ctx {
        Ctx {
            module,
            func,
            frame: None,
        }
    }
}

pub type FrameId = u32;

/// One call of a project function: what its parameters are bound to.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    pub call: &'a ExprCall,
    /// Where the call is evaluated.
    pub caller: Ctx,
    pub callee: FuncId,
    /// What `self` is, for a method.
    pub receiver: Option<Receiver<'a>>,
    /// Calls between the outermost known call and this one.
    pub depth: usize,
}

/// The object a method is called on.
#[derive(Clone, Copy, Debug)]
pub enum Receiver<'a> {
    /// `obj.method(...)`: `obj`, evaluated where the call is.
    Object(&'a Expr),
    /// `Class(...)` calling `__init__`: the new instance.
    Instance(ClassId),
}

/// How many calls deep a chain of frames may go.
pub const MAX_FRAME_DEPTH: usize = 4;
/// How many frames one project may create: a bound on work, not a knob.
const MAX_FRAMES: usize = 200_000;

/// What a name is bound to in one scope.
#[derive(Clone, Copy, Debug)]
pub enum Binding<'a> {
    Value(&'a Expr),
    /// `with X as name`: the value of `X.__enter__()`.
    Entered(&'a Expr),
    Def(FuncId),
    Class(ClassId),
    /// An `import`: the qualified name it stands for.
    Import(&'a str),
    /// `for name in X`: an element of `X`.
    Element(&'a Expr),
    /// `a, name = X`: the item at this index of `X`.
    Item(&'a Expr, usize),
    /// `name.append(X)`: the container `name` holds `X`.
    Holds(&'a Expr),
    /// A loop target, an `except ... as e`, a tuple unpacking...
    Unknown,
}

/// One Python file of the project. Its contents (statements, bindings,
/// fixtures, functions) are read through [`Index::suite`] and the other
/// accessors, which note when the analysis needed a file that was not
/// parsed (see [`Index::take_wanted`]).
pub struct Module<'a> {
    pub source: Source,
    /// Absolute path.
    pub path: PathBuf,
    suite: &'a [Stmt],
    /// Module names under which this file can be imported, each with the
    /// directory it is relative to.
    pub names: Vec<(String, PathBuf)>,
    bindings: HashMap<&'a str, Vec<Binding<'a>>>,
    fixtures: HashMap<String, FuncId>,
    /// Functions defined in this module, in source order.
    functions: Vec<FuncId>,
    /// The functions of this module that declare a name `global` (or
    /// `nonlocal`), in source order, by that name: every lookup of a
    /// module-level name asks, and most modules declare none.
    declared_global: HashMap<&'a str, Vec<FuncId>>,
    /// Not parsed: the words of its text (names, and words in strings and
    /// comments), a superset of the identifiers it could hold.
    pub stub: Option<super::relevance::Idents>,
    /// The first directory above the file without an `__init__.py`
    /// (computed once: every lookup of a module name needs it).
    basedir: Option<PathBuf>,
}

pub struct Function<'a> {
    pub module: ModId,
    pub def: &'a StmtFunctionDef,
    pub class: Option<ClassId>,
    pub parent: Option<FuncId>,
    pub params: Vec<&'a str>,
    pub bindings: HashMap<&'a str, Vec<Binding<'a>>>,
    pub globals: HashSet<&'a str>,
    /// Values of `return` and `yield`.
    pub returns: Vec<&'a Expr>,
    /// For each of `returns`, the `if` tests it is under, each with the
    /// truth it needs (`if a: ... elif b: return x` needs `a` false and `b`
    /// true); none for a `yield`.
    guards: Vec<Guards<'a>>,
    /// The fixture name, if this is a pytest fixture.
    pub fixture: Option<String>,
    /// A test function (pytest passes fixtures to its parameters).
    pub is_test: bool,
    /// Marked `@pytest.mark.skip` (itself or its class): pytest never runs
    /// it.
    pub skipped: bool,
    /// Marked `@pytest.mark.skipif(<a condition true on Linux>)`
    /// (`sys.platform == "linux"`, `sys.platform.startswith("linux")`,
    /// `platform.system() == "Linux"`, `sys.platform != "win32"`): it runs
    /// only on other systems.
    pub skipped_on_linux: bool,
}

pub struct Class<'a> {
    pub module: ModId,
    pub def: &'a StmtClassDef,
    pub methods: HashMap<&'a str, FuncId>,
    /// `self.x = value` in any method (and class-level `x = value`).
    pub attrs: HashMap<&'a str, Vec<(Ctx, &'a Expr)>>,
    /// `self.x.append(value)` (and `add`, `insert`, `appendleft`) in any
    /// method: values the container `x` holds.
    pub held: HashMap<&'a str, Vec<(Ctx, &'a Expr)>>,
    pub fixtures: HashMap<String, FuncId>,
}

/// One resolved value of an expression.
#[derive(Clone, Debug)]
pub enum Val<'a> {
    /// A defining expression, in the context where it is evaluated.
    Expr(&'a Expr, Ctx),
    /// `with X as name`: `X.__enter__()`.
    Entered(&'a Expr, Ctx),
    Function(FuncId),
    Class(ClassId),
    /// A name from outside the project (`os.environ`, `sys.executable`,
    /// `dict`), fully qualified.
    Qualified(String),
    /// `__file__` of a module.
    File(ModId),
    /// A parameter no fixture of the project fills (`tmp_path`, a helper's
    /// argument).
    Param(String),
    /// `*args` of a function, bound at a known call: that call's positional
    /// arguments from `from` on, evaluated in `ctx`.
    Args {
        call: &'a ExprCall,
        ctx: Ctx,
        from: usize,
    },
    /// A new instance of a project class, made by `call`.
    Instance(ClassId, &'a ExprCall, Ctx),
    /// A container known to hold this value (`procs.append(p)`).
    Holding(&'a Expr, Ctx),
    Unknown,
}

/// Modules the analysis models itself; a project file of the same name (the
/// standard library analysed as a project, say) never replaces them.
const MODELLED_MODULES: &[&str] = &[
    "asyncio",
    "copy",
    "coverage",
    "functools",
    "multiprocessing",
    "os",
    "pathlib",
    "pexpect",
    "pytest",
    "pytest_cov",
    "shlex",
    "shutil",
    "signal",
    "subprocess",
    "sys",
    "tempfile",
];

/// How deep name and call resolution may go along one chain.
const MAX_DEPTH: usize = 12;
/// How deep resolution may nest in all (analyses that resolve inside a
/// resolution start a new chain).
const MAX_NESTING: usize = 200;
/// How many resolution steps one top-level question may take: a bound on
/// pathological code (`x = f(x)` a thousand times) rather than a tuning knob.
const MAX_STEPS: usize = 20_000;

thread_local! {
    static NESTING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    static STEPS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts nesting of `values_at` for as long as it lives.
struct Nesting;

impl Nesting {
    fn enter() -> Nesting {
        NESTING.set(NESTING.get() + 1);
        Nesting
    }
}

impl Drop for Nesting {
    fn drop(&mut self) {
        NESTING.set(NESTING.get() - 1);
    }
}

pub struct Index<'a> {
    pub root: PathBuf,
    /// Directories on `sys.path` besides the root and `src/` (pytest's
    /// `pythonpath`), normalised.
    import_roots: Vec<PathBuf>,
    pub modules: Vec<Module<'a>>,
    pub functions: Vec<Function<'a>>,
    pub classes: Vec<Class<'a>>,
    by_path: HashMap<PathBuf, ModId>,
    by_name: HashMap<String, Vec<ModId>>,
    /// The calls resolution has entered, interned by (call, caller,
    /// callee).
    frames: std::cell::RefCell<Vec<Frame<'a>>>,
    /// Names of the project's classes.
    class_names: HashSet<&'a str>,
    frame_ids: std::cell::RefCell<HashMap<(usize, Ctx, FuncId), FrameId>>,
    /// [`Index::is_process_class`] and [`Index::is_pool_class`] by class:
    /// asked for every constructor call, answered once.
    process_classes: std::cell::RefCell<HashMap<ClassId, bool>>,
    pool_classes: std::cell::RefCell<HashMap<ClassId, bool>>,
    /// What the analysis needed of the unparsed modules.
    wanted: std::cell::RefCell<Wanted>,
    /// Every word of the unparsed modules (built when first asked).
    stub_words: std::cell::OnceCell<rustc_hash::FxHashSet<u64>>,
    /// While [`Index::for_any_caller`] runs: whether what it resolved
    /// could depend on who calls the scope it started in.
    caller_dependent: std::cell::Cell<Option<bool>>,
    /// The classes that define each attribute or method name (built when
    /// first asked).
    attr_owners: std::cell::OnceCell<HashMap<&'a str, Vec<ClassId>>>,
}

/// What the analysis needed of the modules that were not parsed.
#[derive(Default)]
pub struct Wanted {
    pub modules: std::collections::BTreeSet<ModId>,
    /// Names looked up at the top level of those modules: what a module
    /// imports under such a name is needed next.
    pub names: Vec<(ModId, String)>,
    /// Modules whose imports are followed (the modules a child runs).
    pub closures: std::collections::BTreeSet<ModId>,
}

impl Wanted {
    pub fn is_empty(&self) -> bool {
        self.modules.is_empty()
    }
}

/// Input for one module.
pub struct ModuleInput<'a> {
    pub source: Source,
    pub path: PathBuf,
    pub suite: &'a [Stmt],
    /// Import targets, owned by the caller so bindings can borrow them.
    pub import_targets: &'a ImportTargets,
    /// Not parsed: the words of its text (`suite` is empty).
    pub stub: Option<super::relevance::Idents>,
}

/// Qualified names of every import in a module, computed before indexing
/// (relative imports need the module's path).
#[derive(Default)]
pub struct ImportTargets {
    /// Keyed by the alias node's start offset.
    pub by_alias: HashMap<u32, String>,
}

impl ImportTargets {
    /// Computes the qualified name each import alias stands for.
    pub fn compute(suite: &[Stmt], path: &Path, root: &Path) -> Self {
        let mut out = ImportTargets::default();
        struct V<'b> {
            out: &'b mut ImportTargets,
            path: &'b Path,
            root: &'b Path,
        }
        impl<'a> Visitor<'a> for V<'_> {
            fn visit_stmt(&mut self, stmt: &'a Stmt) {
                match stmt {
                    Stmt::Import(i) => {
                        for alias in &i.names {
                            let name = alias.name.as_str();
                            // `import a.b` binds `a`; `import a.b as x` binds `a.b`.
                            let target = if alias.asname.is_some() {
                                name.to_string()
                            } else {
                                name.split('.').next().unwrap_or(name).to_string()
                            };
                            self.out
                                .by_alias
                                .insert(alias.range().start().to_u32(), target);
                        }
                    }
                    Stmt::ImportFrom(i) => {
                        let base = match i.level {
                            0 => i.module.as_ref().map(|m| m.as_str().to_string()),
                            level => relative_module(
                                self.path,
                                self.root,
                                level,
                                i.module.as_ref().map(|m| m.as_str()),
                            ),
                        };
                        if let Some(base) = base {
                            for alias in &i.names {
                                let target = if base.is_empty() {
                                    alias.name.as_str().to_string()
                                } else {
                                    format!("{base}.{}", alias.name.as_str())
                                };
                                self.out
                                    .by_alias
                                    .insert(alias.range().start().to_u32(), target);
                            }
                        }
                    }
                    _ => {}
                }
                visitor::walk_stmt(self, stmt);
            }
        }
        V {
            out: &mut out,
            path,
            root,
        }
        .visit_body(suite);
        out
    }
}

/// The dotted name a relative import refers to, relative to the project
/// root (`from .helpers import x` in `tests/a.py` → `tests.helpers`).
fn relative_module(path: &Path, root: &Path, level: u32, module: Option<&str>) -> Option<String> {
    let mut dir = path.parent()?.to_path_buf();
    for _ in 1..level {
        dir = dir.parent()?.to_path_buf();
    }
    let rel = dir.strip_prefix(root).ok()?;
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if let Some(m) = module {
        parts.extend(m.split('.').map(str::to_string));
    }
    Some(parts.join("."))
}

/// Module names for a file: its dotted path relative to every ancestor
/// directory inside the root (`tests/helpers.py` → `tests.helpers` relative
/// to the root, `helpers` relative to `tests/`).
pub(super) fn module_names(path: &Path, root: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let Ok(rel) = path.strip_prefix(root) else {
        return out;
    };
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.last_mut() {
        *last = last.trim_end_matches(".py").to_string();
    }
    if parts.last().is_some_and(|l| l == "__init__") {
        parts.pop();
    }
    let mut base = root.to_path_buf();
    for i in 0..parts.len() {
        out.push((parts[i..].join("."), base.clone()));
        base.push(&parts[i]);
    }
    out
}

impl<'a> Index<'a> {
    pub fn build(root: &Path, inputs: Vec<ModuleInput<'a>>) -> Index<'a> {
        let mut index = Index {
            root: root.to_path_buf(),
            import_roots: Vec::new(),
            modules: Vec::new(),
            functions: Vec::new(),
            classes: Vec::new(),
            by_path: HashMap::default(),
            by_name: HashMap::default(),
            frames: Default::default(),
            class_names: HashSet::default(),
            frame_ids: Default::default(),
            process_classes: Default::default(),
            pool_classes: Default::default(),
            wanted: Default::default(),
            caller_dependent: Default::default(),
            attr_owners: Default::default(),
            stub_words: Default::default(),
        };
        for input in inputs {
            let id = index.modules.len();
            let names = module_names(&input.path, root);
            for (name, _) in &names {
                index.by_name.entry(name.clone()).or_default().push(id);
            }
            index.by_path.insert(input.path.clone(), id);
            index.modules.push(Module {
                basedir: None,
                source: input.source,
                path: input.path,
                suite: input.suite,
                names,
                bindings: HashMap::default(),
                fixtures: HashMap::default(),
                functions: Vec::new(),
                declared_global: HashMap::default(),
                stub: input.stub,
            });
            index.collect_module(id, input.suite, input.import_targets);
        }
        for id in 0..index.modules.len() {
            index.modules[id].basedir = index.basedir(&index.modules[id].path);
        }
        index
    }

    /// Indexes the statements of module `id`.
    fn collect_module(&mut self, id: ModId, suite: &'a [Stmt], targets: &'a ImportTargets) {
        let mut bindings = HashMap::default();
        self.collect_scope(
            Ctx::of(id, None),
            None,
            suite,
            targets,
            &mut bindings,
            &mut Vec::new(),
            &mut HashSet::default(),
        );
        self.modules[id].bindings = bindings;
    }

    /// Indexes a module that was not parsed, now that it is: its
    /// functions and classes come after every other's.
    pub fn fill(
        &mut self,
        id: ModId,
        source: Source,
        suite: &'a [Stmt],
        targets: &'a ImportTargets,
    ) {
        let module = &mut self.modules[id];
        if module.stub.take().is_none() {
            return;
        }
        module.source = source;
        module.suite = suite;
        self.collect_module(id, suite, targets);
        self.stub_words = Default::default();
        self.attr_owners = Default::default();
    }

    /// Forgets what the last round of the analysis resolved and needed:
    /// the next one starts as on a new index.
    pub fn begin_round(&mut self) {
        self.frames.get_mut().clear();
        self.frame_ids.get_mut().clear();
        self.process_classes.get_mut().clear();
        self.pool_classes.get_mut().clear();
        *self.wanted.get_mut() = Wanted::default();
    }

    /// Records the bindings of one scope body, creating functions and
    /// classes for nested definitions.
    #[allow(clippy::too_many_arguments)]
    fn collect_scope(
        &mut self,
        ctx: Ctx,
        class: Option<ClassId>,
        body: &'a [Stmt],
        imports: &'a ImportTargets,
        bindings: &mut HashMap<&'a str, Vec<Binding<'a>>>,
        returns: &mut Vec<(&'a Expr, Guards<'a>)>,
        globals: &mut HashSet<&'a str>,
    ) {
        // In a method, `self.x = ...` binds a class attribute; in the class
        // body itself, `x = ...` does.
        let in_class_body =
            class.is_some() && ctx.func.is_none_or(|f| self.functions[f].class != class);
        let self_name = match (class, ctx.func) {
            (Some(_), Some(f)) if !in_class_body => self.functions[f].params.first().copied(),
            _ => None,
        };
        let mut stmts: Vec<(&'a Stmt, Guards<'a>)> = Vec::new();
        walk::walk_scope(body, &mut |stmt, frames| {
            let guards = match stmt {
                Stmt::Return(_) => guards_of(frames),
                _ => Vec::new(),
            };
            stmts.push((stmt, guards));
        });
        for (stmt, guards) in stmts {
            match stmt {
                Stmt::FunctionDef(def) => {
                    let fid = self.add_function(ctx, class, def, imports);
                    bindings
                        .entry(def.name.as_str())
                        .or_default()
                        .push(Binding::Def(fid));
                }
                Stmt::ClassDef(def) => {
                    let cid = self.add_class(ctx, def, imports);
                    bindings
                        .entry(def.name.as_str())
                        .or_default()
                        .push(Binding::Class(cid));
                }
                Stmt::Assign(a) => {
                    for target in &a.targets {
                        bind_target(target, Some(&a.value), bindings);
                        if let Some(cid) = class {
                            self.bind_attr(cid, ctx, in_class_body, self_name, target, &a.value);
                        }
                    }
                }
                Stmt::AnnAssign(a) => {
                    if let Some(value) = &a.value {
                        bind_target(&a.target, Some(value), bindings);
                        if let Some(cid) = class {
                            self.bind_attr(cid, ctx, in_class_body, self_name, &a.target, value);
                        }
                    }
                }
                Stmt::For(f) => match &*f.target {
                    Expr::Name(n) => bindings
                        .entry(n.id.as_str())
                        .or_default()
                        .push(Binding::Element(&f.iter)),
                    target => bind_target(target, None, bindings),
                },
                Stmt::With(w) => {
                    for item in &w.items {
                        if let Some(Expr::Name(n)) = item.optional_vars.as_deref() {
                            bindings
                                .entry(n.id.as_str())
                                .or_default()
                                .push(Binding::Entered(&item.context_expr));
                        } else if let Some(vars) = &item.optional_vars {
                            bind_target(vars, None, bindings);
                        }
                    }
                }
                Stmt::Import(i) => {
                    for alias in &i.names {
                        let local = alias
                            .asname
                            .as_ref()
                            .map(|a| a.as_str())
                            .unwrap_or_else(|| alias.name.as_str().split('.').next().unwrap_or(""));
                        if let Some(t) = imports.by_alias.get(&alias.range().start().to_u32()) {
                            bindings.entry(local).or_default().push(Binding::Import(t));
                        }
                    }
                }
                Stmt::ImportFrom(i) => {
                    for alias in &i.names {
                        let local = alias.asname.as_ref().unwrap_or(&alias.name).as_str();
                        match imports.by_alias.get(&alias.range().start().to_u32()) {
                            Some(t) => bindings.entry(local).or_default().push(Binding::Import(t)),
                            None => bindings.entry(local).or_default().push(Binding::Unknown),
                        }
                    }
                }
                Stmt::Expr(e) => {
                    if let Expr::Call(call) = &*e.value
                        && let Expr::Attribute(method) = &*call.func
                        && matches!(
                            method.attr.as_str(),
                            "append" | "add" | "insert" | "appendleft"
                        )
                        && let Some(value) = call.arguments.args.last()
                    {
                        match &*method.value {
                            Expr::Name(n) => bindings
                                .entry(n.id.as_str())
                                .or_default()
                                .push(Binding::Holds(value)),
                            Expr::Attribute(target) => {
                                if let (Some(cid), Expr::Name(n), Some(s)) =
                                    (class, &*target.value, self_name)
                                    && n.id.as_str() == s
                                {
                                    self.classes[cid]
                                        .held
                                        .entry(target.attr.as_str())
                                        .or_default()
                                        .push((ctx, value));
                                }
                            }
                            _ => {}
                        }
                    }
                }
                Stmt::Global(g) => globals.extend(g.names.iter().map(|n| n.as_str())),
                Stmt::Nonlocal(g) => globals.extend(g.names.iter().map(|n| n.as_str())),
                Stmt::Return(r) => returns.extend(r.value.as_deref().map(|v| (v, guards))),
                Stmt::Try(t) => {
                    for h in &t.handlers {
                        let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                        if let Some(name) = &h.name {
                            bindings
                                .entry(name.as_str())
                                .or_default()
                                .push(Binding::Unknown);
                        }
                    }
                }
                _ => {}
            }
            // Walrus targets and yields inside this statement's expressions.
            for e in walk::own_exprs(stmt) {
                for sub in walk::subexprs(e) {
                    match sub {
                        Expr::Named(n) => bind_target(&n.target, Some(&n.value), bindings),
                        Expr::Yield(y) => {
                            returns.extend(y.value.as_deref().map(|v| (v, Vec::new())))
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    fn bind_attr(
        &mut self,
        cid: ClassId,
        ctx: Ctx,
        in_class_body: bool,
        self_name: Option<&'a str>,
        target: &'a Expr,
        value: &'a Expr,
    ) {
        let attr = match target {
            Expr::Attribute(a) => match (&*a.value, self_name) {
                (Expr::Name(n), Some(s)) if n.id.as_str() == s => a.attr.as_str(),
                _ => return,
            },
            Expr::Name(n) if in_class_body => n.id.as_str(),
            _ => return,
        };
        self.classes[cid]
            .attrs
            .entry(attr)
            .or_default()
            .push((ctx, value));
    }

    fn add_function(
        &mut self,
        outer: Ctx,
        class: Option<ClassId>,
        def: &'a StmtFunctionDef,
        imports: &'a ImportTargets,
    ) -> FuncId {
        let fid = self.functions.len();
        let params: Vec<&'a str> = def.parameters.iter().map(|p| p.name().as_str()).collect();
        let fixture = fixture_name(def);
        let in_test_class =
            class.is_some_and(|c| self.classes[c].def.name.as_str().starts_with("Test"));
        let is_test = def.name.as_str().starts_with("test") && (class.is_none() || in_test_class);
        let skipped = skip_marked(&def.decorator_list)
            || class.is_some_and(|c| skip_marked(&self.classes[c].def.decorator_list));
        let skipped_on_linux = skipif_on_linux(&def.decorator_list)
            || class.is_some_and(|c| skipif_on_linux(&self.classes[c].def.decorator_list));
        self.functions.push(Function {
            skipped,
            skipped_on_linux,
            module: outer.module,
            def,
            class,
            parent: outer.func,
            params,
            bindings: HashMap::default(),
            globals: HashSet::default(),
            returns: Vec::new(),
            guards: Vec::new(),
            fixture: fixture.clone(),
            is_test,
        });
        self.modules[outer.module].functions.push(fid);
        if let Some(name) = fixture {
            match class {
                Some(c) => {
                    self.classes[c].fixtures.insert(name, fid);
                }
                None if outer.func.is_none() => {
                    self.modules[outer.module].fixtures.insert(name, fid);
                }
                None => {}
            }
        }
        if let Some(c) = class {
            self.classes[c].methods.insert(def.name.as_str(), fid);
        }
        let ctx = Ctx::of(outer.module, Some(fid));
        let mut bindings = HashMap::default();
        let mut returns = Vec::new();
        let mut globals = HashSet::default();
        self.collect_scope(
            ctx,
            class,
            &def.body,
            imports,
            &mut bindings,
            &mut returns,
            &mut globals,
        );
        // Nested functions were added first: kept in source order (the
        // order of their ids) as `functions` is.
        for &name in &globals {
            let declaring = self.modules[outer.module]
                .declared_global
                .entry(name)
                .or_default();
            let at = declaring.partition_point(|&f| f < fid);
            declaring.insert(at, fid);
        }
        let f = &mut self.functions[fid];
        f.bindings = bindings;
        (f.returns, f.guards) = returns.into_iter().unzip();
        f.globals = globals;
        fid
    }

    fn add_class(
        &mut self,
        outer: Ctx,
        def: &'a StmtClassDef,
        imports: &'a ImportTargets,
    ) -> ClassId {
        let cid = self.classes.len();
        self.class_names.insert(def.name.as_str());
        self.classes.push(Class {
            module: outer.module,
            def,
            methods: HashMap::default(),
            attrs: HashMap::default(),
            held: HashMap::default(),
            fixtures: HashMap::default(),
        });
        // The class body: its methods become functions of this class.
        let mut bindings = HashMap::default();
        self.collect_scope(
            outer,
            Some(cid),
            &def.body,
            imports,
            &mut bindings,
            &mut Vec::new(),
            &mut HashSet::default(),
        );
        cid
    }

    /// Notes that the analysis needs the contents of `module`, when it
    /// was not parsed.
    pub fn want(&self, module: ModId) {
        if self.modules[module].stub.is_some() {
            // What was resolved is incomplete until the module is parsed.
            self.depends_on_caller();
            self.wanted.borrow_mut().modules.insert(module);
        }
    }

    /// Runs `f`, and says whether what it resolved could be different for
    /// some call of the scope it started in: it looked at a parameter no
    /// frame binds, at `self.x` where another class could define `x`
    /// (the receiver's class), or at a module that is not parsed, or it
    /// ran out of its bounds. When it did none of those, the same
    /// resolution in the scope evaluated for any call of it (a frame whose
    /// callers bind the parameters) finds the same values: a frame only
    /// binds parameters and the receiver.
    pub fn for_any_caller<R>(&self, f: impl FnOnce() -> R) -> (R, bool) {
        let outer = self.caller_dependent.replace(Some(false));
        let out = f();
        let dependent = self.caller_dependent.get() == Some(true);
        self.caller_dependent.set(outer.map(|o| o || dependent));
        (out, dependent)
    }

    /// Notes, for [`Index::for_any_caller`], that a value could depend on
    /// who calls the scope.
    fn depends_on_caller(&self) {
        if self.caller_dependent.get().is_some() {
            self.caller_dependent.set(Some(true));
        }
    }

    /// Whether some class other than `class` could give an instance
    /// attribute `attr` (a base or a subclass that defines it, or a file not
    /// parsed that spells it).
    fn attr_elsewhere(&self, class: ClassId, attr: &str) -> bool {
        let owners = self.attr_owners.get_or_init(|| {
            let mut owners: HashMap<&'a str, Vec<ClassId>> = HashMap::default();
            for (c, k) in self.classes.iter().enumerate() {
                let names = k.attrs.keys().chain(k.held.keys()).chain(k.methods.keys());
                for &name in names {
                    let v = owners.entry(name).or_default();
                    if v.last() != Some(&c) {
                        v.push(c);
                    }
                }
            }
            owners
        });
        owners
            .get(attr)
            .is_some_and(|cs| cs.iter().any(|&c| c != class))
            || self.stubs_spell(attr)
    }

    /// Whether `module` can bind or use `name`: a parsed module is asked
    /// for real; an unparsed one that spells it is wanted, and answers no
    /// until it is parsed.
    fn spells(&self, module: ModId, name: &str) -> bool {
        match &self.modules[module].stub {
            None => true,
            Some(words) => {
                if words.contains(name) {
                    self.want(module);
                }
                false
            }
        }
    }

    /// Whether the analysis has needed no unparsed module yet.
    pub fn wanted_none(&self) -> bool {
        self.wanted.borrow().is_empty()
    }

    /// What the analysis needed of the unparsed modules since the last
    /// call.
    pub fn take_wanted(&self) -> Wanted {
        std::mem::take(&mut *self.wanted.borrow_mut())
    }

    /// Notes that the analysis follows the imports of `module` (the
    /// modules a child runs), when it was not parsed.
    pub fn want_closure(&self, module: ModId) {
        if self.modules[module].stub.is_some() {
            self.want(module);
            self.wanted.borrow_mut().closures.insert(module);
        }
    }

    /// The qualified names the imports of `module` bind, with the local
    /// names: at its top level, or (with `anywhere`) in its functions too.
    pub fn imports_of(&self, module: ModId, anywhere: bool) -> Vec<(&'a str, &'a str)> {
        let m = &self.modules[module];
        let functions = m
            .functions
            .iter()
            .filter(|_| anywhere)
            .map(|&f| &self.functions[f].bindings);
        std::iter::once(&m.bindings)
            .chain(functions)
            .flat_map(|bindings| {
                bindings.iter().flat_map(|(name, bs)| {
                    bs.iter().filter_map(move |b| match b {
                        Binding::Import(q) => Some((*name, *q)),
                        _ => None,
                    })
                })
            })
            .collect()
    }

    /// The parsed modules, in order.
    pub fn parsed(&self) -> impl Iterator<Item = ModId> + '_ {
        (0..self.modules.len()).filter(|&m| self.modules[m].stub.is_none())
    }

    /// A module's top-level statements.
    pub fn suite(&self, module: ModId) -> &'a [Stmt] {
        self.want(module);
        self.modules[module].suite
    }

    /// The functions a module defines, in source order.
    pub fn functions_of(&self, module: ModId) -> &[FuncId] {
        self.want(module);
        &self.modules[module].functions
    }

    /// A module's top-level bindings.
    pub fn bindings_of(&self, module: ModId) -> &HashMap<&'a str, Vec<Binding<'a>>> {
        self.want(module);
        &self.modules[module].bindings
    }

    /// What `name` is bound to at the top level of `module`.
    fn module_binding(&self, module: ModId, name: &str) -> Option<&Vec<Binding<'a>>> {
        if !self.spells(module, name) {
            if self.wanted.borrow().modules.contains(&module) {
                self.wanted
                    .borrow_mut()
                    .names
                    .push((module, name.to_string()));
            }
            return None;
        }
        self.modules[module].bindings.get(name)
    }

    /// Whether some unparsed module spells `name` (it could define a class
    /// of that name).
    fn stubs_spell(&self, name: &str) -> bool {
        self.stub_words
            .get_or_init(|| {
                self.modules
                    .iter()
                    .filter_map(|m| m.stub.as_ref())
                    .flat_map(|w| w.hashes().iter().copied())
                    .collect()
            })
            .contains(&super::relevance::hash(name))
    }

    pub fn location(&self, module: ModId, range: impl Ranged) -> Location {
        let r = range.range();
        Location::new(
            &self.modules[module].source,
            Span::new(r.start().to_usize(), r.end().to_usize()),
        )
    }

    pub fn text(&self, module: ModId, range: impl Ranged) -> &str {
        let r = range.range();
        &self.modules[module].source.text[r.start().to_usize()..r.end().to_usize()]
    }

    /// Every module one of whose dotted names is `name`, wherever its base
    /// directory is.
    pub fn modules_by_name(&self, name: &str) -> &[ModId] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    /// Adds directories pytest puts on `sys.path` (`.` and `..` parts
    /// resolved lexically, as module bases are written).
    pub fn set_import_roots(&mut self, roots: &[PathBuf]) {
        self.import_roots = roots.iter().map(|r| crate::source::normalize(r)).collect();
    }

    pub fn module_at(&self, path: &Path) -> Option<ModId> {
        self.by_path.get(path).copied()
    }

    /// The project module a dotted name refers to, seen from `from`.
    ///
    /// Only directories that are on `sys.path` when pytest runs count: the
    /// root, `src/`, pytest's `pythonpath` entries, and the importing file's
    /// "basedir" (its nearest ancestor without `__init__.py`, which pytest
    /// inserts for test files); the nearest wins. Modules whose behaviour covdoctor models
    /// (`subprocess`, `os`, `signal`...) never resolve to project files.
    pub fn module_named(&self, name: &str, from: Option<ModId>) -> Option<ModId> {
        let top = name.split('.').next().unwrap_or(name);
        if MODELLED_MODULES.contains(&top) {
            return None;
        }
        let candidates = self.by_name.get(name)?;
        let basedir = from.and_then(|m| self.modules[m].basedir.as_deref());
        let src = self.root.join("src");
        candidates
            .iter()
            .copied()
            .filter_map(|id| {
                let base = &self.modules[id].names.iter().find(|(n, _)| n == name)?.1;
                // pytest puts its `pythonpath` entries first on `sys.path`,
                // in their order.
                let entry = self.import_roots.iter().position(|r| r == base);
                let rank = if basedir == Some(base.as_path()) {
                    (3, 0)
                } else if let Some(i) = entry {
                    (2, self.import_roots.len() - i)
                } else if base == &src {
                    (2, 0)
                } else if base == &self.root {
                    (1, 0)
                } else {
                    return None;
                };
                Some((rank, id))
            })
            .max_by_key(|(rank, _)| *rank)
            .map(|(_, id)| id)
    }

    /// Whether `name` (`google.othermod`) is no module of the project but
    /// lies in a namespace package the project has modules in
    /// (`google.auth`), with no regular package on the way: importing it
    /// runs none of the project's code (a namespace package has none), and
    /// a module of the project's namespace that is not in the project is
    /// one the tests make at run time, or another distribution's.
    pub fn in_own_namespace_only(&self, name: &str, from: ModId) -> bool {
        let Some((parent, _)) = name.rsplit_once('.') else {
            return false;
        };
        if self.module_named(name, Some(from)).is_some() {
            return false;
        }
        // Every package on the way is a namespace: no `__init__.py` of
        // the project's.
        let mut prefix = String::new();
        for part in parent.split('.') {
            if !prefix.is_empty() {
                prefix.push('.');
            }
            prefix.push_str(part);
            if self.module_named(&prefix, Some(from)).is_some() {
                return false;
            }
        }
        let top = name.split('.').next().unwrap_or(name);
        let own = format!("{top}.");
        !MODELLED_MODULES.contains(&top) && self.by_name.keys().any(|n| n.starts_with(&own))
    }

    /// The first directory above `file` without an `__init__.py`: what
    /// pytest's default import mode puts on `sys.path` for a test file.
    fn basedir(&self, file: &Path) -> Option<PathBuf> {
        let mut dir = file.parent()?;
        while self.by_path.contains_key(&dir.join("__init__.py")) && dir != self.root {
            dir = dir.parent()?;
        }
        Some(dir.to_path_buf())
    }

    /// What a qualified name refers to inside the project, if anything:
    /// a module-level function, class or variable of a project module.
    fn project_value(
        &self,
        qualified: &str,
        from: ModId,
        depth: usize,
        out: &mut Vec<Val<'a>>,
    ) -> bool {
        if depth > MAX_DEPTH {
            self.depends_on_caller();
            // An import cycle (`a` imports `x` from `b`, `b` from `a`).
            out.push(Val::Unknown);
            return true;
        }
        let Some((module, name)) = qualified.rsplit_once('.') else {
            return false;
        };
        let Some(mid) = self.module_named(module, Some(from)) else {
            return false;
        };
        let Some(bindings) = self.module_binding(mid, name) else {
            return false;
        };
        let ctx = Ctx::of(mid, None);
        for b in bindings.clone() {
            self.binding_values(b, ctx, depth + 1, out);
        }
        true
    }

    fn binding_values(&self, b: Binding<'a>, ctx: Ctx, depth: usize, out: &mut Vec<Val<'a>>) {
        match b {
            Binding::Value(e) => out.extend(self.values_at(e, ctx, depth + 1)),
            Binding::Entered(e) => out.push(Val::Entered(e, ctx)),
            Binding::Def(f) => out.push(Val::Function(f)),
            Binding::Class(c) => out.push(Val::Class(c)),
            Binding::Import(q) => {
                if !self.project_value(q, ctx.module, depth, out) {
                    out.push(Val::Qualified(q.to_string()));
                }
            }
            Binding::Element(iterable) => {
                // The elements of a literal list, tuple or set.
                for v in self.values_at(iterable, ctx, depth + 1) {
                    match v {
                        Val::Expr(Expr::List(l), c) => l
                            .elts
                            .iter()
                            .for_each(|e| out.extend(self.values_at(e, c, depth + 1))),
                        Val::Expr(Expr::Tuple(t), c) => t
                            .elts
                            .iter()
                            .for_each(|e| out.extend(self.values_at(e, c, depth + 1))),
                        Val::Expr(Expr::Set(s), c) => s
                            .elts
                            .iter()
                            .for_each(|e| out.extend(self.values_at(e, c, depth + 1))),
                        Val::Holding(e, c) => out.extend(self.values_at(e, c, depth + 1)),
                        // A list comprehension's element.
                        Val::Expr(Expr::ListComp(l), c) => {
                            out.extend(self.values_at(&l.elt, c, depth + 1))
                        }
                        Val::Args { call, ctx, from } => {
                            call.arguments.args.iter().skip(from).for_each(|e| match e {
                                Expr::Starred(_) => out.push(Val::Unknown),
                                e => out.extend(self.values_at(e, ctx, depth + 1)),
                            })
                        }
                        _ => out.push(Val::Unknown),
                    }
                }
            }
            Binding::Item(value, i) => {
                for v in self.values_at(value, ctx, depth + 1) {
                    out.extend(self.item_of(v, i, depth + 1));
                }
            }
            Binding::Holds(e) => out.push(Val::Holding(e, ctx)),
            Binding::Unknown => out.push(Val::Unknown),
        }
    }

    /// Every value `expr` may have: names, `self.x` attributes, walrus,
    /// `await` and pytest fixture parameters are followed; other expressions
    /// are returned as they are.
    pub fn values_of(&self, expr: &'a Expr, ctx: Ctx) -> Vec<Val<'a>> {
        if NESTING.get() == 0 {
            STEPS.set(0);
        }
        self.values_at(expr, ctx, 0)
    }

    fn values_at(&self, expr: &'a Expr, ctx: Ctx, depth: usize) -> Vec<Val<'a>> {
        // Every analysis resolves through here, so this is where recursion
        // is bounded: by depth along one chain, and by total nesting and work
        // across chains that start over (an analysis calling `values_of` from
        // inside another one).
        let _nesting = Nesting::enter();
        STEPS.set(STEPS.get() + 1);
        if depth > MAX_DEPTH || NESTING.get() > MAX_NESTING || STEPS.get() > MAX_STEPS {
            self.depends_on_caller();
            return vec![Val::Unknown];
        }
        match expr {
            Expr::Name(n) => self.name_values(n.id.as_str(), ctx, depth),
            Expr::Named(n) => self.values_at(&n.value, ctx, depth + 1),
            // `procs[0]`, `servers[-1]`, `self.procs[i]`: an element.
            Expr::Subscript(sub) => {
                let index = match &*sub.slice {
                    Expr::NumberLiteral(n) => n.value.as_int().and_then(|i| i.as_usize()),
                    _ => None,
                };
                let mut out = Vec::new();
                for v in self.values_at(&sub.value, ctx, depth + 1) {
                    match (v, index) {
                        (Val::Expr(Expr::List(l), c), Some(i)) if i < l.elts.len() => {
                            out.extend(self.values_at(&l.elts[i], c, depth + 1))
                        }
                        (Val::Expr(Expr::Tuple(t), c), Some(i)) if i < t.elts.len() => {
                            out.extend(self.values_at(&t.elts[i], c, depth + 1))
                        }
                        (Val::Expr(Expr::List(l), c), None) => l
                            .elts
                            .iter()
                            .filter(|e| !e.is_starred_expr())
                            .for_each(|e| out.extend(self.values_at(e, c, depth + 1))),
                        (Val::Holding(e, c), _) => out.extend(self.values_at(e, c, depth + 1)),
                        (Val::Expr(Expr::ListComp(l), c), _) => {
                            out.extend(self.values_at(&l.elt, c, depth + 1))
                        }
                        _ => {}
                    }
                }
                if out.is_empty() {
                    out.push(Val::Expr(expr, ctx));
                }
                out
            }
            Expr::Await(a) => self.values_at(&a.value, ctx, depth + 1),
            Expr::Attribute(a) => {
                // `self.x` in a method.
                if let (Expr::Name(n), Some(f)) = (&*a.value, ctx.func)
                    && let Some(cid) = self.functions[f].class
                    && self.functions[f].params.first() == Some(&n.id.as_str())
                {
                    // Called on a known instance: that instance's attribute.
                    if let Some(fr) = ctx.frame.and_then(|id| self.frame_data(id))
                        && fr.callee == f
                        && fr.receiver.is_some()
                    {
                        let receiver = self.param_values(f, n.id.as_str(), ctx.frame, depth);
                        let instances = self.instances(&receiver);
                        if !instances.is_empty() {
                            return self.instance_attr(&instances, a.attr.as_str(), depth);
                        }
                    }
                    // The receiver's class is not known: it could be a
                    // subclass, or take `x` from a base.
                    if self.attr_elsewhere(cid, a.attr.as_str()) {
                        self.depends_on_caller();
                    }
                    let mut out = Vec::new();
                    if let Some(held) = self.classes[cid].held.get(a.attr.as_str()) {
                        out.extend(held.iter().map(|(hctx, e)| Val::Holding(e, *hctx)));
                    }
                    if let Some(assigned) = self.classes[cid].attrs.get(a.attr.as_str()) {
                        for (actx, value) in assigned {
                            out.extend(self.values_at(value, *actx, depth + 1));
                        }
                    } else if !out.is_empty() {
                    } else if let Some(&m) = self.classes[cid].methods.get(a.attr.as_str()) {
                        out.push(Val::Function(m));
                    } else {
                        out.push(Val::Unknown);
                    }
                    return out;
                }
                // `module.attr`: extend a qualified name.
                let base = self.values_at(&a.value, ctx, depth + 1);
                if let [Val::Qualified(q)] = base.as_slice() {
                    let qualified = format!("{q}.{}", a.attr.as_str());
                    let mut out = Vec::new();
                    if self.project_value(&qualified, ctx.module, depth, &mut out) {
                        return out;
                    }
                    return vec![Val::Qualified(qualified)];
                }
                // `server.proc`, `server.start` on an instance of a project
                // class.
                let instances = self.instances(&base);
                if !instances.is_empty() {
                    return self.instance_attr(&instances, a.attr.as_str(), depth);
                }
                vec![Val::Expr(expr, ctx)]
            }
            _ => vec![Val::Expr(expr, ctx)],
        }
    }

    fn name_values(&self, name: &str, ctx: Ctx, depth: usize) -> Vec<Val<'a>> {
        let mut out = Vec::new();
        // Function scopes, innermost first. Only the innermost is evaluated
        // for the call in `ctx.frame`.
        let mut func = ctx.func;
        while let Some(f) = func {
            let function = &self.functions[f];
            if function.globals.contains(name) {
                break;
            }
            let fctx = Ctx {
                module: ctx.module,
                func: Some(f),
                frame: if Some(f) == ctx.func { ctx.frame } else { None },
            };
            if let Some(bindings) = function.bindings.get(name) {
                for b in bindings.clone() {
                    self.binding_values(b, fctx, depth, &mut out);
                }
                // A parameter reassigned in the body keeps its argument too.
                if function.params.contains(&name) {
                    out.extend(self.param_values(f, name, fctx.frame, depth));
                }
                return out;
            }
            if function.params.contains(&name) {
                return self.param_values(f, name, fctx.frame, depth);
            }
            func = function.parent;
        }
        // Module scope (including names made global in functions).
        let module = &self.modules[ctx.module];
        if let Some(bindings) = self.module_binding(ctx.module, name) {
            let mctx = Ctx::of(ctx.module, None);
            for b in bindings.clone() {
                self.binding_values(b, mctx, depth, &mut out);
            }
            // Assignments to a `global name` inside functions.
            for &f in module
                .declared_global
                .get(name)
                .map_or(&[][..], Vec::as_slice)
            {
                if let Some(bs) = self.functions[f].bindings.get(name) {
                    let fctx = Ctx::of(ctx.module, Some(f));
                    for b in bs.clone() {
                        self.binding_values(b, fctx, depth, &mut out);
                    }
                }
            }
            return out;
        }
        if name == "__file__" {
            return vec![Val::File(ctx.module)];
        }
        // A builtin.
        vec![Val::Qualified(name.to_string())]
    }

    /// The values a parameter receives: at a known call, its argument (or
    /// default); for tests and fixtures, the fixture of that name;
    /// otherwise unknown.
    fn param_values(
        &self,
        f: FuncId,
        name: &str,
        frame: Option<FrameId>,
        depth: usize,
    ) -> Vec<Val<'a>> {
        let function = &self.functions[f];
        if let Some(id) = frame
            && let Some(fr) = self.frame_data(id)
            && fr.callee == f
        {
            return self.argument_values(fr, name, depth);
        }
        if (function.fixture.is_some() || function.is_test)
            && let Some(fixture) = self.fixture_for(name, f)
            && fixture != f
        {
            return self.returns_of(fixture, depth + 1);
        }
        self.depends_on_caller();
        vec![Val::Param(name.to_string())]
    }

    /// What parameter `name` of the frame's callee is bound to by its call,
    /// with Python's rules: `self`, a keyword, a positional argument (not
    /// after a `*` unpacking), the default.
    fn argument_values(&self, fr: Frame<'a>, name: &str, depth: usize) -> Vec<Val<'a>> {
        let function = &self.functions[fr.callee];
        let parameters = &function.def.parameters;
        let call = fr.call;
        let positional: Vec<&ruff_python_ast::ParameterWithDefault> = parameters
            .posonlyargs
            .iter()
            .chain(&parameters.args)
            .collect();
        let shift = usize::from(fr.receiver.is_some());
        let defining = Ctx::of(function.module, function.parent);
        let default = |p: &'a ruff_python_ast::ParameterWithDefault| match p.default.as_deref() {
            Some(d) => self.values_at(d, defining, depth + 1),
            None => vec![Val::Unknown],
        };
        let unpacks_keywords = call.arguments.keywords.iter().any(|k| k.arg.is_none());
        if let Some(pos) = positional
            .iter()
            .position(|p| p.parameter.name.as_str() == name)
        {
            if pos == 0 && shift == 1 {
                return match fr.receiver {
                    Some(Receiver::Object(e)) => self.values_at(e, fr.caller, depth + 1),
                    Some(Receiver::Instance(c)) => vec![Val::Instance(c, call, fr.caller)],
                    None => vec![Val::Unknown],
                };
            }
            if let Some(k) = call.arguments.find_keyword(name) {
                return self.values_at(&k.value, fr.caller, depth + 1);
            }
            let i = pos - shift;
            let args = &call.arguments.args;
            if args[..i.min(args.len())].iter().any(Expr::is_starred_expr) {
                return vec![Val::Unknown];
            }
            return match args.get(i) {
                Some(a) if a.is_starred_expr() => vec![Val::Unknown],
                Some(a) => self.values_at(a, fr.caller, depth + 1),
                None if unpacks_keywords => vec![Val::Unknown],
                None => default(positional[pos]),
            };
        }
        if parameters
            .vararg
            .as_ref()
            .is_some_and(|v| v.name.as_str() == name)
        {
            return vec![Val::Args {
                call,
                ctx: fr.caller,
                from: positional.len().saturating_sub(shift),
            }];
        }
        if let Some(p) = parameters
            .kwonlyargs
            .iter()
            .find(|p| p.parameter.name.as_str() == name)
        {
            return match call.arguments.find_keyword(name) {
                Some(k) => self.values_at(&k.value, fr.caller, depth + 1),
                None if unpacks_keywords => vec![Val::Unknown],
                None => default(p),
            };
        }
        vec![Val::Unknown]
    }

    /// The frame of a call of project function `callee` made in `caller`,
    /// or `None` past the depth and work bounds. `constructor` says the call
    /// is `Class(...)` running `__init__`.
    pub fn frame(
        &self,
        call: &'a ExprCall,
        caller: Ctx,
        callee: FuncId,
        constructor: Option<ClassId>,
    ) -> Option<FrameId> {
        let key = (std::ptr::from_ref(call) as usize, caller, callee);
        if let Some(&id) = self.frame_ids.borrow().get(&key) {
            return Some(id);
        }
        let depth = caller
            .frame
            .and_then(|f| self.frame_data(f))
            .map_or(0, |f| f.depth + 1);
        let mut frames = self.frames.borrow_mut();
        if depth >= MAX_FRAME_DEPTH || frames.len() >= MAX_FRAMES {
            self.depends_on_caller();
            return None;
        }
        let function = &self.functions[callee];
        let is_static = function
            .def
            .decorator_list
            .iter()
            .any(|d| matches!(&d.expression, Expr::Name(n) if n.id.as_str() == "staticmethod"));
        let receiver = match (constructor, function.class) {
            (Some(c), _) => Some(Receiver::Instance(c)),
            (None, Some(_)) if !is_static => match &*call.func {
                Expr::Attribute(a) => Some(Receiver::Object(&a.value)),
                _ => None,
            },
            _ => None,
        };
        let id = frames.len() as FrameId;
        frames.push(Frame {
            call,
            caller,
            callee,
            receiver,
            depth,
        });
        self.frame_ids.borrow_mut().insert(key, id);
        Some(id)
    }

    pub fn frame_data(&self, id: FrameId) -> Option<Frame<'a>> {
        self.frames.borrow().get(id as usize).copied()
    }

    /// The context of `f`'s body evaluated for `call` made in `caller`.
    pub fn callee_ctx(
        &self,
        call: &'a ExprCall,
        caller: Ctx,
        f: FuncId,
        constructor: Option<ClassId>,
    ) -> Ctx {
        Ctx {
            module: self.functions[f].module,
            func: Some(f),
            frame: self.frame(call, caller, f, constructor),
        }
    }

    /// What a call evaluates to, as far as project code says: the values a
    /// project function returns for this call (its parameters bound to the
    /// call's arguments), a new instance for a project class.
    pub fn call_values(&self, call: &'a ExprCall, ctx: Ctx, depth: usize) -> Vec<Val<'a>> {
        let mut out = Vec::new();
        if depth > MAX_DEPTH {
            self.depends_on_caller();
            return vec![Val::Unknown];
        }
        for callee in self.values_at(&call.func, ctx, depth + 1) {
            match callee {
                Val::Function(f) => {
                    let fctx = self.callee_ctx(call, ctx, f, None);
                    for r in self.returns_for(f, fctx, depth) {
                        out.extend(self.values_at(r, fctx, depth + 1));
                    }
                }
                Val::Class(c) => out.push(Val::Instance(c, call, ctx)),
                _ => out.push(Val::Unknown),
            }
        }
        out
    }

    /// A method of a project class or of its project base classes.
    pub fn method_of(&self, c: ClassId, name: &str, depth: usize) -> Option<FuncId> {
        if depth > MAX_DEPTH {
            self.depends_on_caller();
            return None;
        }
        let class = &self.classes[c];
        if let Some(&m) = class.methods.get(name) {
            return Some(m);
        }
        self.project_bases(c)
            .into_iter()
            .find_map(|b| self.method_of(b, name, depth + 1))
    }

    /// The project classes a class derives from.
    fn project_bases(&self, c: ClassId) -> Vec<ClassId> {
        let class = &self.classes[c];
        let ctx = Ctx::of(class.module, None);
        class
            .def
            .bases()
            .iter()
            .flat_map(|b| self.values_of(b, ctx))
            .filter_map(|v| match v {
                Val::Class(b) if b != c => Some(b),
                _ => None,
            })
            .collect()
    }

    /// The project instances among values: a [`Val::Instance`], or a call
    /// of a project class.
    fn instances(&self, values: &[Val<'a>]) -> Vec<(ClassId, &'a ExprCall, Ctx)> {
        let mut out = Vec::new();
        for v in values {
            match v {
                Val::Instance(c, call, ctx) => out.push((*c, *call, *ctx)),
                Val::Expr(Expr::Call(call), ctx) => {
                    // Only a callee spelled like a project class can make
                    // an instance of one: resolve nothing else.
                    let named = match &*call.func {
                        Expr::Name(n) => n.id.as_str(),
                        Expr::Attribute(a) => a.attr.as_str(),
                        _ => continue,
                    };
                    if !self.class_names.contains(named) && !self.stubs_spell(named) {
                        continue;
                    }
                    for callee in self.values_of(&call.func, *ctx) {
                        if let Val::Class(c) = callee {
                            out.push((c, call, *ctx));
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Attribute `attr` of instances of project classes: a method, or what
    /// the class's methods assign to `self.attr` (what `__init__` assigns
    /// evaluated for the construction call).
    fn instance_attr(
        &self,
        instances: &[(ClassId, &'a ExprCall, Ctx)],
        attr: &str,
        depth: usize,
    ) -> Vec<Val<'a>> {
        let mut out = Vec::new();
        for &(c, call, cctx) in instances {
            if let Some(m) = self.method_of(c, attr, 0) {
                out.push(Val::Function(m));
                continue;
            }
            let mut classes = vec![c];
            classes.extend(self.project_bases(c));
            let init = self.method_of(c, "__init__", 0);
            let mut found = false;
            for k in classes {
                if let Some(held) = self.classes[k].held.get(attr) {
                    found = true;
                    out.extend(held.iter().map(|(hctx, e)| Val::Holding(e, *hctx)));
                }
                let Some(assigned) = self.classes[k].attrs.get(attr) else {
                    continue;
                };
                found = true;
                for (actx, value) in assigned {
                    let at = match init {
                        Some(i) if actx.func == Some(i) => self.callee_ctx(call, cctx, i, Some(c)),
                        _ => *actx,
                    };
                    out.extend(self.values_at(value, at, depth + 1));
                }
            }
            if !found {
                out.push(Val::Unknown);
            }
        }
        out
    }

    /// The item at index `i` of a value: of a literal tuple or list, or of
    /// what a project function returns.
    fn item_of(&self, v: Val<'a>, i: usize, depth: usize) -> Vec<Val<'a>> {
        if depth > MAX_DEPTH {
            self.depends_on_caller();
            return vec![Val::Unknown];
        }
        match v {
            Val::Expr(Expr::Tuple(t), c) if t.elts.len() > i => {
                self.values_at(&t.elts[i], c, depth + 1)
            }
            Val::Expr(Expr::List(l), c) if l.elts.len() > i => {
                self.values_at(&l.elts[i], c, depth + 1)
            }
            // `km, kc = jupyter_client.start_new_kernel()`: the manager is
            // the kernel's handle (the call itself stands for it).
            Val::Expr(e @ Expr::Call(call), c)
                if i == 0
                    && self.qualified_callee(call, c).is_some_and(|q| {
                        matches!(
                            q.as_str(),
                            "jupyter_client.start_new_kernel"
                                | "jupyter_client.manager.start_new_kernel"
                                | "jupyter_client.start_new_async_kernel"
                                | "jupyter_client.manager.start_new_async_kernel"
                        )
                    }) =>
            {
                vec![Val::Expr(e, c)]
            }
            Val::Expr(Expr::Call(call), c) => {
                let mut out = Vec::new();
                for r in self.call_values(call, c, depth + 1) {
                    out.extend(self.item_of(r, i, depth + 1));
                }
                out
            }
            _ => vec![Val::Unknown],
        }
    }

    /// What `f` returns or yields when evaluated in `ctx` (for a call of
    /// it): a `return` under an `if` test known to be false there is left
    /// out (`if worker_type == PROCESS: return ProcessPoolExecutor` for a
    /// call passing `THREAD`).
    pub fn returns_for(&self, f: FuncId, ctx: Ctx, depth: usize) -> Vec<&'a Expr> {
        let function = &self.functions[f];
        function
            .returns
            .iter()
            .zip(&function.guards)
            .filter(|(_, guards)| self.guards_hold_at(guards, ctx, depth))
            .map(|(r, _)| *r)
            .collect()
    }

    /// Whether no test of `guards` is known to lack the truth it needs,
    /// evaluated in `ctx`.
    pub fn guards_hold(&self, guards: &Guards<'a>, ctx: Ctx) -> bool {
        if NESTING.get() == 0 {
            STEPS.set(0);
        }
        self.guards_hold_at(guards, ctx, 0)
    }

    /// Only a test the call decides counts: one whose truth is unknown for
    /// the scope on its own (no call's arguments bound). A test of module
    /// constants alone (`if ENABLED:`) is left as it is, since a test can
    /// set them (`monkeypatch.setattr(module, "ENABLED", True)`).
    fn guards_hold_at(&self, guards: &Guards<'a>, ctx: Ctx, depth: usize) -> bool {
        if ctx.frame.is_none() {
            return true;
        }
        let unbound = Ctx { frame: None, ..ctx };
        !guards.iter().any(|&(test, must)| {
            self.truth(test, ctx, depth + 1).is_some_and(|t| t != must)
                && self.truth(test, unbound, depth + 1).is_none()
        })
    }

    /// The truth of an `if` test, when its values say it: `==` or `!=` of
    /// values that are all string literals or `None` (the same answer for
    /// every pair), a name or attribute whose values are all `True`,
    /// `False` or `None`, or `not` of such a test.
    fn truth(&self, test: &'a Expr, ctx: Ctx, depth: usize) -> Option<bool> {
        if depth > MAX_DEPTH {
            return None;
        }
        match test {
            Expr::UnaryOp(u) if u.op == ruff_python_ast::UnaryOp::Not => {
                self.truth(&u.operand, ctx, depth + 1).map(|t| !t)
            }
            Expr::Compare(c) if c.ops.len() == 1 && c.comparators.len() == 1 => {
                let equal = match c.ops[0] {
                    ruff_python_ast::CmpOp::Eq => true,
                    ruff_python_ast::CmpOp::NotEq => false,
                    _ => return None,
                };
                let left = self.literals(&c.left, ctx, depth)?;
                let right = self.literals(&c.comparators[0], ctx, depth)?;
                one_answer(
                    left.iter()
                        .flat_map(|l| right.iter().map(move |r| Some((l == r) == equal))),
                )
            }
            Expr::Name(_) | Expr::Attribute(_) => one_answer(
                self.values_at(test, ctx, depth + 1)
                    .into_iter()
                    .map(|v| match v {
                        Val::Expr(Expr::BooleanLiteral(b), _) => Some(b.value),
                        Val::Expr(Expr::NoneLiteral(_), _) => Some(false),
                        _ => None,
                    }),
            ),
            _ => None,
        }
    }

    /// The values of `expr`, when every one is a string literal (`Some`)
    /// or `None` (`None`).
    fn literals(&self, expr: &'a Expr, ctx: Ctx, depth: usize) -> Option<Vec<Option<String>>> {
        let values = self.values_at(expr, ctx, depth + 1);
        if values.is_empty() {
            return None;
        }
        values
            .into_iter()
            .map(|v| match v {
                Val::Expr(Expr::StringLiteral(s), _) => Some(Some(s.value.to_str().to_string())),
                Val::Expr(Expr::NoneLiteral(_), _) => Some(None),
                _ => None,
            })
            .collect()
    }

    /// Values a function returns or yields.
    pub fn returns_of(&self, f: FuncId, depth: usize) -> Vec<Val<'a>> {
        let function = &self.functions[f];
        let ctx = Ctx::of(function.module, Some(f));
        let mut out = Vec::new();
        for r in &function.returns {
            out.extend(self.values_at(r, ctx, depth + 1));
        }
        out
    }

    /// The fixture named `name` visible from function `f`: one in the same
    /// class, the same module, then `conftest.py` files from the module's
    /// directory up to the root.
    pub fn fixture_for(&self, name: &str, f: FuncId) -> Option<FuncId> {
        let function = &self.functions[f];
        if let Some(c) = function.class
            && let Some(&fx) = self.classes[c].fixtures.get(name)
        {
            return Some(fx);
        }
        let module = &self.modules[function.module];
        if let Some(&fx) = module.fixtures.get(name) {
            return Some(fx);
        }
        let mut dir = module.path.parent();
        while let Some(d) = dir {
            if let Some(&m) = self.by_path.get(&d.join("conftest.py"))
                && self.spells(m, name)
                && let Some(&fx) = self.modules[m].fixtures.get(name)
            {
                return Some(fx);
            }
            if d == self.root {
                break;
            }
            dir = d.parent();
        }
        None
    }

    /// What a call calls: a project function (or class), or a qualified name.
    pub fn callee(&self, call: &'a ExprCall, ctx: Ctx) -> Vec<Val<'a>> {
        self.values_of(&call.func, ctx)
    }

    /// The qualified name of a call's callee, when it is outside the project
    /// (`subprocess.Popen`).
    pub fn qualified_callee(&self, call: &'a ExprCall, ctx: Ctx) -> Option<String> {
        self.callee(call, ctx).into_iter().find_map(|v| match v {
            Val::Qualified(q) => Some(q),
            _ => None,
        })
    }

    /// Whether a project class derives from `multiprocessing.Process`
    /// (directly, or through other project classes).
    pub fn is_process_class(&self, c: ClassId, depth: usize) -> bool {
        if depth == 0
            && let Some(&known) = self.process_classes.borrow().get(&c)
        {
            return known;
        }
        let found = self.derives_from(
            c,
            &["multiprocessing.Process", "multiprocessing.context.Process"],
            depth,
        );
        if depth == 0 {
            self.process_classes.borrow_mut().insert(c, found);
        }
        found
    }

    /// A project class derived from `multiprocessing.pool.Pool` (joblib's
    /// `MemmappingPool`, say).
    pub fn is_pool_class(&self, c: ClassId) -> bool {
        if let Some(&known) = self.pool_classes.borrow().get(&c) {
            return known;
        }
        let found = self.derives_from(
            c,
            &[
                "multiprocessing.pool.Pool",
                "multiprocessing.Pool",
                "multiprocessing.context.Pool",
            ],
            0,
        );
        self.pool_classes.borrow_mut().insert(c, found);
        found
    }

    fn derives_from(&self, c: ClassId, bases: &[&str], depth: usize) -> bool {
        if depth > MAX_DEPTH {
            self.depends_on_caller();
            return false;
        }
        let class = &self.classes[c];
        let ctx = Ctx::of(class.module, None);
        class.def.bases().iter().any(|base| {
            self.values_of(base, ctx).into_iter().any(|v| match v {
                Val::Qualified(q) => bases.contains(&q.as_str()),
                Val::Class(b) => b != c && self.derives_from(b, bases, depth + 1),
                _ => false,
            })
        })
    }

    pub fn function_name(&self, f: FuncId) -> &str {
        self.functions[f].def.name.as_str()
    }
}

/// Binds the names in an assignment target. Only a plain name gets the
/// value; names inside tuples or starred targets are unknown.
/// The answer every one of `answers` gives, if they are all known and
/// agree; `None` when there are none.
fn one_answer(answers: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    let mut truth = None;
    for answer in answers {
        let t = answer?;
        if truth.is_some_and(|known| known != t) {
            return None;
        }
        truth = Some(t);
    }
    truth
}

/// The `if` tests a statement is under, each with the truth it needs.
pub type Guards<'a> = Vec<(&'a Expr, bool)>;

/// At most this many tests are kept for one `return`.
const MAX_GUARDS: usize = 16;

/// The `if` tests a statement with these enclosing frames runs under: in an
/// `if` or `elif` branch its own test is true and those before it false;
/// in an `else`, every test is false.
pub fn guards_of<'a>(frames: &[walk::Frame<'a>]) -> Guards<'a> {
    let mut out = Vec::new();
    for pair in frames.windows(2) {
        let [outer, inner] = pair else { continue };
        let (walk::Block::Branch(_), Some(Stmt::If(s))) =
            (inner.block, outer.stmts.get(outer.index))
        else {
            continue;
        };
        // The branch is found by its body: a `return` is in it, so it is
        // not empty.
        let body = inner.stmts.as_ptr();
        if s.body.as_ptr() == body {
            out.push((&*s.test, true));
            continue;
        }
        out.push((&*s.test, false));
        for clause in &s.elif_else_clauses {
            let this = clause.body.as_ptr() == body;
            if let Some(test) = &clause.test {
                out.push((test, this));
            }
            if this {
                break;
            }
        }
    }
    out.truncate(MAX_GUARDS);
    out
}

fn bind_target<'a>(
    target: &'a Expr,
    value: Option<&'a Expr>,
    bindings: &mut HashMap<&'a str, Vec<Binding<'a>>>,
) {
    match target {
        Expr::Name(n) => bindings
            .entry(n.id.as_str())
            .or_default()
            .push(match value {
                Some(v) => Binding::Value(v),
                None => Binding::Unknown,
            }),
        Expr::Tuple(t) => {
            // `a, b = x, y` pairs up.
            if let Some(Expr::Tuple(v)) = value
                && v.elts.len() == t.elts.len()
            {
                for (te, ve) in t.elts.iter().zip(&v.elts) {
                    bind_target(te, Some(ve), bindings);
                }
            } else if let Some(v) = value
                && !t.elts.iter().any(Expr::is_starred_expr)
            {
                // `args, env = make_command()`: the items of whatever the
                // value turns out to be.
                for (i, te) in t.elts.iter().enumerate() {
                    match te {
                        Expr::Name(n) => bindings
                            .entry(n.id.as_str())
                            .or_default()
                            .push(Binding::Item(v, i)),
                        other => bind_target(other, None, bindings),
                    }
                }
            } else {
                for e in &t.elts {
                    bind_target(e, None, bindings);
                }
            }
        }
        Expr::List(l) => {
            for e in &l.elts {
                bind_target(e, None, bindings);
            }
        }
        Expr::Starred(s) => bind_target(&s.value, None, bindings),
        _ => {}
    }
}

/// The fixture name of a function decorated with `pytest.fixture`,
/// `pytest_asyncio.fixture` or a bare `fixture` (imported from either),
/// honouring `name=`.
fn fixture_name(def: &StmtFunctionDef) -> Option<String> {
    for d in &def.decorator_list {
        let (func, call) = match &d.expression {
            Expr::Call(c) => (&*c.func, Some(c)),
            other => (other, None),
        };
        let is_fixture = match func {
            Expr::Attribute(a) => {
                a.attr.as_str() == "fixture"
                    && matches!(&*a.value, Expr::Name(n) if matches!(n.id.as_str(), "pytest" | "pytest_asyncio"))
            }
            Expr::Name(n) => n.id.as_str() == "fixture",
            _ => false,
        };
        if is_fixture {
            let named = call.and_then(|c| {
                c.arguments
                    .find_keyword("name")
                    .and_then(|k| k.value.as_string_literal_expr())
                    .map(|s| s.value.to_str().to_string())
            });
            return Some(named.unwrap_or_else(|| def.name.as_str().to_string()));
        }
    }
    None
}

/// `@pytest.mark.skip`, `@pytest.mark.skip(reason=...)` or
/// `@unittest.skip(...)` among decorators
/// (`skipif` runs the test on some machines, so it does not count).
fn skip_marked(decorators: &[ruff_python_ast::Decorator]) -> bool {
    decorators.iter().any(|d| {
        let e = match &d.expression {
            Expr::Call(c) => &*c.func,
            other => other,
        };
        matches!(e, Expr::Attribute(a) if a.attr.as_str() == "skip"
        && match &*a.value {
            Expr::Attribute(m) => m.attr.as_str() == "mark",
            Expr::Name(n) => n.id.as_str() == "unittest",
            _ => false,
        })
    })
}

/// `@pytest.mark.skipif(condition, ...)` whose condition holds on Linux
/// (see [`Function::skipped_on_linux`]).
fn skipif_on_linux(decorators: &[ruff_python_ast::Decorator]) -> bool {
    decorators.iter().any(|d| {
        let Expr::Call(c) = &d.expression else {
            return false;
        };
        let marked = matches!(&*c.func, Expr::Attribute(a) if a.attr.as_str() == "skipif"
            && matches!(&*a.value, Expr::Attribute(m) if m.attr.as_str() == "mark"));
        marked
            && c.arguments
                .args
                .first()
                .or(c.arguments.find_keyword("condition").map(|k| &k.value))
                .is_some_and(holds_on_linux)
    })
}

/// A platform test that is true on Linux: `sys.platform == "linux"`,
/// `sys.platform.startswith("linux")`, `platform.system() == "Linux"`, or
/// `!=` another system; `or` of such tests too.
fn holds_on_linux(e: &Expr) -> bool {
    // `sys.platform` or `platform.system()`.
    let is_platform = |e: &Expr| match e {
        Expr::Attribute(a) => {
            a.attr.as_str() == "platform"
                && matches!(&*a.value, Expr::Name(n) if n.id.as_str() == "sys")
        }
        Expr::Call(c) => matches!(&*c.func, Expr::Attribute(a)
            if a.attr.as_str() == "system"
                && matches!(&*a.value, Expr::Name(n) if n.id.as_str() == "platform")),
        _ => false,
    };
    match e {
        Expr::BoolOp(b) if b.op == ruff_python_ast::BoolOp::Or => {
            b.values.iter().any(holds_on_linux)
        }
        Expr::Compare(cmp) if cmp.ops.len() == 1 && is_platform(&cmp.left) => {
            let Some(Expr::StringLiteral(s)) = cmp.comparators.first() else {
                return false;
            };
            let linux = s.value.to_str().eq_ignore_ascii_case("linux");
            match cmp.ops[0] {
                ruff_python_ast::CmpOp::Eq => linux,
                ruff_python_ast::CmpOp::NotEq => !linux,
                _ => false,
            }
        }
        Expr::Call(c) => {
            matches!(&*c.func, Expr::Attribute(a) if a.attr.as_str() == "startswith" && is_platform(&a.value))
                && matches!(c.arguments.args.first(), Some(Expr::StringLiteral(s))
                    if "linux".starts_with(s.value.to_str()) && !s.value.to_str().is_empty())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_for_nested_files() {
        let root = Path::new("/p");
        let names: Vec<String> = module_names(Path::new("/p/src/app/server.py"), root)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, vec!["src.app.server", "app.server", "server"]);
        let names: Vec<String> = module_names(Path::new("/p/app/__init__.py"), root)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, vec!["app"]);
    }

    #[test]
    fn relative_imports_resolve_from_the_file() {
        let root = Path::new("/p");
        assert_eq!(
            relative_module(Path::new("/p/tests/a.py"), root, 1, Some("helpers")),
            Some("tests.helpers".into())
        );
        assert_eq!(
            relative_module(Path::new("/p/tests/unit/a.py"), root, 2, None),
            Some("tests".into())
        );
    }

    #[test]
    fn platform_conditions_true_on_linux() {
        let holds = |src: &str| {
            let parsed = ruff_python_parser::parse_expression(src).unwrap();
            super::holds_on_linux(parsed.expr())
        };
        assert!(holds("sys.platform == 'linux'"));
        assert!(holds("sys.platform.startswith('linux')"));
        assert!(holds("platform.system() == 'Linux'"));
        assert!(holds("sys.platform != 'win32'"));
        assert!(holds("sys.platform == 'darwin' or sys.platform == 'linux'"));
        assert!(!holds("sys.platform == 'win32'"));
        assert!(!holds("sys.platform.startswith('win')"));
        assert!(!holds("sys.version_info < (3, 8)"));
        assert!(!holds(
            "sys.platform == 'linux' and sys.version_info < (3, 8)"
        ));
    }

    #[test]
    fn return_guards_follow_if_elif_else() {
        let src = "def f(k):\n    if a:\n        return 1\n    elif b:\n        if c:\n            return 2\n    elif d:\n        pass\n    else:\n        return 3\n    return 4\n";
        let parsed = ruff_python_parser::parse_module(src).unwrap();
        let Stmt::FunctionDef(def) = &parsed.syntax().body[0] else {
            panic!("a function")
        };
        let mut found: Vec<(String, Vec<(String, bool)>)> = Vec::new();
        walk::walk_scope(&def.body, &mut |stmt, frames| {
            if let Stmt::Return(r) = stmt {
                let value = &src[r.value.as_ref().unwrap().range()];
                let guards = guards_of(frames)
                    .into_iter()
                    .map(|(test, must)| (src[test.range()].to_string(), must))
                    .collect();
                found.push((value.to_string(), guards));
            }
        });
        let g = |v: &str, gs: &[(&str, bool)]| {
            (
                v.to_string(),
                gs.iter()
                    .map(|(t, m)| (t.to_string(), *m))
                    .collect::<Vec<_>>(),
            )
        };
        assert_eq!(
            found,
            vec![
                g("1", &[("a", true)]),
                g("2", &[("a", false), ("b", true), ("c", true)]),
                g("3", &[("a", false), ("b", false), ("d", false)]),
                g("4", &[]),
            ]
        );
    }
}
