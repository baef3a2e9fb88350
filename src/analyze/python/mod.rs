//! The only part of covdoctor that touches the Python parser
//! (`ruff_python_parser`, pinned) and its syntax tree. It reads every file
//! of a project, parses those that can matter ([`Read`]), indexes them
//! ([`index`]), and turns launches and stop calls into the
//! parser-independent facts of [`crate::analyze`], in rounds: a round that
//! needs a file that was not parsed (a value, a fixture, a module a child
//! runs) has it parsed and is done again.
//!
//! Parsing and analysis run on threads with a large stack: the parser and
//! the syntax tree's destructor recurse once per nesting level, and a single
//! 200,000-term expression overflows the default stack.

mod environ;
mod handler;
mod index;
mod launch;
mod paths;
mod relevance;
mod session;
mod stop;
mod unparsed;
mod walk;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ruff_python_ast::token::TokenKind;
use ruff_python_ast::{Expr, ExprCall, ModModule, Stmt};
use ruff_python_parser::{Mode, ParseOptions, parse_unchecked};
use ruff_text_size::Ranged;

use self::index::{Ctx, FrameId, FuncId, ImportTargets, Index, ModId, ModuleInput, Val};
use crate::analyze::command::{self, Child, Entry};
use crate::analyze::{
    CwdArg, EnvArg, FileFacts, Launch, LaunchKind, PoolExit, PythonFacts, Stop, StopStatement,
};
use crate::problem::Problem;
use crate::source::{Files, Location, SharedFiles, Source, SourceFile, Span};

/// Stack size for parser and analysis threads.
const STACK_SIZE: usize = 512 << 20;

struct Parsed {
    source: Source,
    module: ModModule,
    errors: Vec<(Span, String)>,
    comments: Vec<Span>,
    /// The identifiers of each top-level statement.
    idents: Vec<relevance::Idents>,
    /// The qualified name each of its imports stands for.
    targets: ImportTargets,
    /// The module names its imports name (each with its packages).
    imported: Vec<String>,
    /// Its text holds a [`relevance::seed_words`] word or a launcher's
    /// name (or it is a noxfile or `setup.py`): its syntax errors are
    /// reported.
    seed: bool,
    /// Too large to parse: not parsed at all ([`MAX_PARSED_SIZE`]).
    too_large: bool,
}

/// A file as read: parsed, or the words of its text.
///
/// A file is parsed when its text holds a [`relevance::seed_words`] word
/// (an API the rules look at) or a `python-launchers` name, or when the
/// analysis needs it (a value, a fixture or a module a child runs is in it,
/// it spells a name a relevant module binds). Most files of a big project
/// never start, stop or measure a process: those are kept as the words of
/// their text, and their syntax trees are never built.
enum Read {
    /// A parsed file, with the words of its text.
    Parsed(Parsed, relevance::Idents),
    /// A file not parsed: its path and the words of its text (the text
    /// itself is not kept: it is read again if the file is parsed later).
    Words(PathBuf, relevance::Idents),
}

/// `x.write(TEXT)`, `path.write_text(TEXT)`, `x.writelines([TEXT])` or
/// `print(TEXT, file=f)` where a string literal of TEXT imports coverage
/// and calls `coverage.process_startup()`: the text of a startup hook.
fn writes_startup_hook(call: &ExprCall) -> bool {
    let writes = match &*call.func {
        Expr::Attribute(a) => matches!(a.attr.as_str(), "write" | "write_text" | "writelines"),
        Expr::Name(n) => n.id.as_str() == "print" && call.arguments.find_keyword("file").is_some(),
        _ => false,
    };
    if !writes {
        return false;
    }
    let mut found = false;
    for arg in &call.arguments.args {
        walk::strings_in(arg, &mut |text| {
            found |=
                text.contains("coverage.process_startup()") && text.contains("import coverage");
        });
    }
    found
}

/// Analyses the Python files of one project. `scripts` are the project's
/// console scripts; `import_roots` the directories pytest adds to
/// `sys.path` besides the root and `src/` (its `pythonpath` option).
/// Unreadable files and syntax errors become problems.
pub fn analyze(
    fs: SharedFiles,
    root: PathBuf,
    files: Vec<PathBuf>,
    scripts: BTreeMap<String, String>,
    launchers: Vec<String>,
    import_roots: Vec<PathBuf>,
    no_prefilter: bool,
) -> (PythonFacts, Vec<Problem>) {
    let work = move || {
        analyze_on_this_thread(
            &*fs,
            &root,
            &files,
            &scripts,
            &launchers,
            &import_roots,
            no_prefilter,
        )
    };
    match spawn_big(work) {
        Ok(result) => result,
        Err(message) => (
            PythonFacts::default(),
            vec![Problem::at_path(
                PathBuf::from("."),
                format!("the Python analysis failed: {message}"),
            )],
        ),
    }
}

/// Runs `f` on a thread with a large stack, falling back to smaller stacks
/// when the system refuses the reservation.
fn spawn_big<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    let f = std::sync::Mutex::new(Some(f));
    let f = Arc::new(f);
    for size in [STACK_SIZE, STACK_SIZE / 4, 32 << 20] {
        let f = Arc::clone(&f);
        let spawned = std::thread::Builder::new()
            .name("covdoctor-python".into())
            .stack_size(size)
            .spawn(move || {
                let f = f.lock().expect("not poisoned").take().expect("run once");
                f()
            });
        if let Ok(handle) = spawned {
            return handle
                .join()
                .map_err(|_| "an internal error (panic)".to_string());
        }
    }
    Err("cannot start a worker thread".into())
}

fn analyze_on_this_thread(
    fs: &dyn Files,
    root: &std::path::Path,
    files: &[PathBuf],
    scripts: &BTreeMap<String, String>,
    launchers: &[String],
    import_roots: &[PathBuf],
    no_prefilter: bool,
) -> (PythonFacts, Vec<Problem>) {
    use crate::timings::time;
    let mut problems = Vec::new();
    let seeds = crate::verdict::Words::new(
        &relevance::seed_words()
            .into_iter()
            .chain(launcher_words(launchers))
            .collect::<Vec<_>>(),
    );
    let read = time("read and parse", || {
        read_all(fs, files, root, &seeds, no_prefilter, &mut problems)
    });
    crate::timings::add("python files", std::time::Duration::ZERO, files.len());
    crate::timings::add(
        "python files parsed at once",
        std::time::Duration::ZERO,
        read.iter()
            .filter(|r| matches!(r, Read::Parsed(..)))
            .count(),
    );
    // The syntax trees live in the arena for the whole analysis; the index
    // is built once and indexes each file the rounds need as it is parsed.
    let arena: typed_arena::Arena<Parsed> = typed_arena::Arena::new();
    let mut sources: Vec<Source> = Vec::with_capacity(read.len());
    let mut parsed: Vec<Option<&Parsed>> = Vec::with_capacity(read.len());
    let mut inputs = Vec::with_capacity(read.len());
    let mut parsed_words: Vec<Option<relevance::Idents>> = Vec::with_capacity(read.len());
    for r in read {
        match r {
            Read::Parsed(p, words) => {
                parsed_words.push(Some(words));
                let p: &Parsed = arena.alloc(p);
                sources.push(Arc::clone(&p.source));
                parsed.push(Some(p));
                inputs.push(ModuleInput {
                    source: Arc::clone(&p.source),
                    path: p.source.path.clone(),
                    suite: &p.module.body,
                    import_targets: &p.targets,
                    stub: None,
                });
            }
            Read::Words(path, words) => {
                parsed_words.push(None);
                let source = Arc::new(SourceFile::unread(path));
                sources.push(Arc::clone(&source));
                parsed.push(None);
                inputs.push(ModuleInput {
                    path: source.path.clone(),
                    source,
                    suite: &[],
                    import_targets: &EMPTY_TARGETS,
                    stub: Some(words),
                });
            }
        }
    }
    let mut index = time("index", || Index::build(root, inputs));
    index.set_import_roots(import_roots);
    let reach = time("reach", || {
        let words: Vec<&relevance::Idents> = parsed_words
            .iter()
            .zip(&index.modules)
            .map(|(w, m)| w.as_ref().or(m.stub.as_ref()).unwrap_or(&EMPTY_WORDS))
            .collect();
        relevance::Reach::new(&index, &words)
    });
    drop(parsed_words);
    // Each round analyses the parsed files, the others standing by as the
    // words of their text; the files a round needed are parsed for the
    // next. Parsing only adds files, so this ends; the last round needed
    // no other file, so its facts are those of every file parsed.
    let mut facts = loop {
        crate::timings::add("rounds", std::time::Duration::ZERO, 1);
        index.begin_round();
        let (facts, wanted) = round(&index, &reach, &parsed, scripts, launchers, no_prefilter);
        if wanted.is_empty() {
            break facts;
        }
        time("parse the files a round needed", || {
            let mut asks: Vec<(ModId, String)> = wanted.names;
            let closures: Vec<ModId> = wanted.closures.into_iter().collect();
            let mut batch = wanted.modules;
            crate::timings::add(
                "files a round needed",
                std::time::Duration::ZERO,
                batch.len(),
            );
            let mut prefetched = 0;
            let mut done = std::collections::HashSet::new();
            loop {
                let new = parse_batch(fs, &sources, &batch, root, &mut problems);
                for (m, p) in new {
                    let p: &Parsed = arena.alloc(p);
                    parsed[m] = Some(p);
                    sources[m] = Arc::clone(&p.source);
                    index.fill(m, Arc::clone(&p.source), &p.module.body, &p.targets);
                }
                if prefetched >= MAX_PREFETCH {
                    break;
                }
                // The modules the handler search will visit from those a
                // child runs, as far as they are parsed.
                let mut next: std::collections::BTreeSet<ModId> = closures
                    .iter()
                    .flat_map(|&m| handler::closure(&index, &[m]))
                    .filter(|&m| index.modules[m].stub.is_some())
                    .collect();
                crate::timings::add(
                    "files prefetched: imported by a child",
                    std::time::Duration::ZERO,
                    next.len(),
                );
                let (names, more) = prefetch(&index, std::mem::take(&mut asks), &mut done);
                crate::timings::add(
                    "files prefetched: names looked up",
                    std::time::Duration::ZERO,
                    names.len(),
                );
                next.extend(names);
                if next.is_empty() {
                    break;
                }
                prefetched += next.len();
                batch = next;
                asks = more;
            }
        });
    };
    crate::timings::add(
        "python files parsed",
        std::time::Duration::ZERO,
        parsed.iter().flatten().count(),
    );
    // Syntax errors are reported in the files that could change a
    // finding: those that hold a seed word or a launcher's name (the
    // others are parsed only when the analysis needs them, and their
    // errors change nothing it says).
    let launcher_names = crate::verdict::Words::new(
        &facts
            .launcher_names
            .iter()
            .cloned()
            .chain(launcher_words(launchers))
            .collect::<Vec<_>>(),
    );
    for (source, p) in sources.iter().zip(&parsed) {
        facts.paths.insert(source.path.clone());
        let Some(p) = p else { continue };
        facts.files.insert(p.source.path.clone(), file_facts(p));
        if p.errors.is_empty() || !(p.seed || launcher_names.names_in(&p.source.text)) {
            continue;
        }
        let imports = Arc::new(unparsed::imports(&p.module.body));
        for (span, message) in &p.errors {
            facts.syntax_errors.push(crate::analyze::SyntaxError {
                too_large: p.too_large,
                imports: Arc::clone(&imports),
                location: Location::new(&p.source, *span),
                message: message.clone(),
                unparsed: unparsed::region(&p.module.body, *span, p.source.text.len()),
            });
        }
    }
    let dropping = std::time::Instant::now();
    drop(index);
    drop(parsed);
    crate::timings::add("drop", dropping.elapsed(), 0);
    drop_in_background(arena);
    (facts, problems)
}

/// The words of no text.
static EMPTY_WORDS: std::sync::LazyLock<relevance::Idents> =
    std::sync::LazyLock::new(relevance::Idents::default);

/// The import targets of a file that was not parsed.
static EMPTY_TARGETS: std::sync::LazyLock<ImportTargets> =
    std::sync::LazyLock::new(ImportTargets::default);

/// The last part of each `python-launchers` name: what calls of it spell.
fn launcher_words(launchers: &[String]) -> Vec<String> {
    launchers
        .iter()
        .filter_map(|l| l.rsplit(['.', ':']).next().filter(|w| !w.is_empty()))
        .map(str::to_string)
        .collect()
}

/// One analysis of the parsed files: the facts, and what it needed of the
/// files that were not parsed (when it needed any, the facts are
/// incomplete).
fn round(
    index: &Index<'_>,
    reach: &relevance::Reach,
    parsed: &[Option<&Parsed>],
    scripts: &BTreeMap<String, String>,
    launchers: &[String],
    no_prefilter: bool,
) -> (PythonFacts, index::Wanted) {
    use crate::timings::time;
    let imported: std::collections::HashSet<String> = time("imported names", || {
        parsed
            .iter()
            .flatten()
            .flat_map(|p| p.imported.iter().cloned())
            .collect()
    });
    let relevance = time("relevance", || {
        let idents: Vec<&[relevance::Idents]> = parsed
            .iter()
            .zip(&index.modules)
            .map(|(p, m)| match (p, &m.stub) {
                (Some(p), _) => &p.idents[..],
                (None, Some(words)) => std::slice::from_ref(words),
                (None, None) => &[][..],
            })
            .collect();
        let targets: Vec<&ImportTargets> = parsed
            .iter()
            .map(|p| p.map_or(&*EMPTY_TARGETS, |p| &p.targets))
            .collect();
        if no_prefilter {
            relevance::Relevance::all(index.modules.len())
        } else {
            relevance::Relevance::compute(index, &idents, &targets, launchers)
        }
    });
    if !relevance.wanted.is_empty() {
        let wanted = index::Wanted {
            modules: relevance.wanted.iter().copied().collect(),
            ..Default::default()
        };
        return (PythonFacts::default(), wanted);
    }
    crate::timings::add(
        "modules whose calls are resolved",
        std::time::Duration::ZERO,
        (0..index.modules.len())
            .filter(|&m| relevance.launch(m))
            .count(),
    );
    let mut facts = PythonFacts::default();
    let mut extractor = Extractor {
        relevance: &relevance,
        reach,
        imported: &imported,
        runs_cache: Default::default(),
        index,
        scripts,
        launchers,
        facts: &mut facts,
        launch_at: HashMap::new(),
        groups: HashMap::new(),
        group_calls: HashMap::new(),
        callers: HashMap::new(),
        implicit: Default::default(),
        implicit_found: Default::default(),
        children_seen: HashMap::new(),
        prune: !no_prefilter,
        expects_timeout: Default::default(),
        launch_guards: HashMap::new(),
        with_items: HashMap::new(),
        pending_stops: Vec::new(),
    };
    time("launches", || extractor.launches());
    // A round that needed a file it did not have is done again: the stop
    // calls and the embed imports (which need no file the launches did
    // not) wait for that one.
    if index.wanted_none() {
        time("stops", || extractor.stops());
        time("embed imports", || extractor.embed_imports());
    }
    drop(extractor);
    let mut wanted = index.take_wanted();
    // A file that spells a launcher's name could call it in a part that
    // does not parse: it is parsed to know.
    for (m, module) in index.modules.iter().enumerate() {
        if let Some(words) = &module.stub
            && facts.launcher_names.iter().any(|n| words.contains(n))
        {
            wanted.modules.insert(m);
        }
    }
    (facts, wanted)
}

/// Frees the syntax trees on a thread of their own (with a large stack:
/// the destructor recurses once per nesting level), so that the rules and
/// the report do not wait for it: freeing every node of a big project
/// takes about as long as building its index. On this thread when no
/// thread can be started.
fn drop_in_background<T: Send + 'static>(trees: T) {
    let trees = std::sync::Mutex::new(Some(trees));
    let trees = Arc::new(trees);
    let theirs = Arc::clone(&trees);
    let spawned = std::thread::Builder::new()
        .name("covdoctor-free".into())
        .stack_size(STACK_SIZE)
        .spawn(move || drop(theirs.lock().ok().and_then(|mut p| p.take())));
    if spawned.is_err()
        && let Ok(mut p) = trees.lock()
    {
        drop(p.take());
    }
}

/// `import pytest_cov.embed`, `from pytest_cov.embed import ...`,
/// `from pytest_cov import embed`.
fn is_embed_import(stmt: &Stmt) -> bool {
    match stmt {
        Stmt::Import(i) => i
            .names
            .iter()
            .any(|a| a.name.as_str().starts_with("pytest_cov.embed")),
        Stmt::ImportFrom(i) => {
            i.level == 0
                && i.module.as_ref().is_some_and(|m| {
                    m.as_str() == "pytest_cov.embed"
                        || (m.as_str() == "pytest_cov"
                            && i.names.iter().any(|a| a.name.as_str() == "embed"))
                })
        }
        _ => false,
    }
}

/// The names an import binds.
fn import_bound_names(stmt: &Stmt) -> Vec<String> {
    match stmt {
        Stmt::Import(i) => i
            .names
            .iter()
            .map(|a| match &a.asname {
                Some(n) => n.as_str().to_string(),
                None => a
                    .name
                    .as_str()
                    .split('.')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            })
            .collect(),
        Stmt::ImportFrom(i) => i
            .names
            .iter()
            .map(|a| a.asname.as_ref().unwrap_or(&a.name).as_str().to_string())
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether any of `names` appears as a word in `text` outside `spans`.
fn uses_outside(text: &str, spans: &[Span], names: &[String]) -> bool {
    let mut rest = String::with_capacity(text.len());
    let mut at = 0;
    let mut sorted = spans.to_vec();
    sorted.sort();
    for s in sorted {
        if s.start >= at {
            rest.push_str(&text[at..s.start]);
            at = s.end;
        }
    }
    rest.push_str(&text[at.min(text.len())..]);
    names.iter().any(|n| {
        rest.match_indices(n.as_str()).any(|(i, _)| {
            let before = rest[..i].chars().next_back();
            let after = rest[i + n.len()..].chars().next();
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            !word(before) && !word(after)
        })
    })
}

/// Whether a `try` catches `ImportError` (or `ModuleNotFoundError`,
/// `Exception`, `BaseException`, or everything).
fn catches_import_error(t: &ruff_python_ast::StmtTry) -> bool {
    t.handlers.iter().any(|h| {
        let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
        let Some(kind) = &h.type_ else { return true };
        let names: Vec<&Expr> = match &**kind {
            Expr::Tuple(t) => t.elts.iter().collect(),
            other => vec![other],
        };
        names.iter().any(|n| {
            let name = match n {
                Expr::Name(n) => n.id.as_str(),
                Expr::Attribute(a) => a.attr.as_str(),
                _ => "",
            };
            matches!(
                name,
                "ImportError" | "ModuleNotFoundError" | "Exception" | "BaseException"
            )
        })
    })
}

/// The whole lines of a statement (from the start of its first line to
/// after the line break of its last), when nothing else shares them.
fn whole_lines(text: &str, stmt: &Stmt) -> Option<Span> {
    let start = stmt.range().start().to_usize();
    let end = stmt.range().end().to_usize();
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    if !text[line_start..start].trim().is_empty() {
        return None;
    }
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
    let rest = text[end..line_end].trim();
    if !(rest.is_empty() || rest.starts_with('#')) {
        return None;
    }
    Some(Span::new(line_start, line_end))
}

/// A removed block between two blank lines would leave two: take the one
/// after it too.
fn absorb_blank_line(text: &str, span: Span) -> Span {
    let before_blank = span.start == 0 || {
        let prev_start = text[..span.start - 1].rfind('\n').map_or(0, |i| i + 1);
        text[prev_start..span.start].trim().is_empty()
    };
    let next_end = text[span.end..]
        .find('\n')
        .map_or(text.len(), |i| span.end + i + 1);
    let after_blank = span.end < text.len() && text[span.end..next_end].trim().is_empty();
    if before_blank && after_blank {
        Span::new(span.start, next_end)
    } else {
        span
    }
}

/// What fixes need to know about a file: its top-level imports and where a
/// new one goes.
fn file_facts(p: &Parsed) -> FileFacts {
    let text = &p.source.text;
    let mut imported_modules = std::collections::HashMap::new();
    let mut plain_imports = Vec::new();
    let mut after: Option<usize> = None;
    for (i, stmt) in p.module.body.iter().enumerate() {
        match stmt {
            Stmt::Import(import) => {
                if let [alias] = &import.names[..] {
                    let start = stmt.range().start().to_usize();
                    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
                    if text[line_start..start].trim().is_empty() {
                        plain_imports.push((alias.name.as_str().to_string(), line_start));
                    }
                }
                for alias in &import.names {
                    let local = alias.asname.as_ref().unwrap_or(&alias.name).as_str();
                    if alias.asname.is_some() || !alias.name.as_str().contains('.') {
                        imported_modules.insert(alias.name.as_str().to_string(), local.to_string());
                    }
                }
                after = Some(stmt.range().end().to_usize());
            }
            Stmt::ImportFrom(_) => after = Some(stmt.range().end().to_usize()),
            // A module docstring.
            Stmt::Expr(e) if i == 0 && e.value.is_string_literal_expr() => {
                after = Some(stmt.range().end().to_usize())
            }
            _ => {}
        }
    }
    let import_insert_at = match after {
        Some(end) => text[end..].find('\n').map_or(text.len(), |i| end + i + 1),
        // Below leading comments (shebang, coding declaration, licence).
        None => {
            let mut at = 0;
            for line in text.split_inclusive('\n') {
                if line.trim_start().starts_with('#') {
                    at += line.len();
                } else {
                    break;
                }
            }
            at
        }
    };
    FileFacts {
        source: Arc::clone(&p.source),
        has_syntax_errors: !p.errors.is_empty(),
        imported_modules,
        import_insert_at,
        plain_imports,
        comments: p.comments.clone(),
    }
}

/// Runs `work` on each of `items` on worker threads (each with a large
/// stack), returning the results in order.
fn on_workers<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<R>>> =
        items.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let spawned = std::thread::Builder::new()
                .stack_size(STACK_SIZE)
                .spawn_scoped(scope, || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        let out = work(item);
                        *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(out);
                    }
                });
            if spawned.is_err() {
                // Fall back to this (already large) thread.
                break;
            }
        }
    });
    results
        .into_iter()
        .zip(items)
        .map(|(slot, item)| {
            slot.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_else(|| work(item))
        })
        .collect()
}

/// The identifiers of `text` (the parser's name tokens, soft keywords
/// included) that the words kept of a file not parsed would miss: none, if
/// those words are the superset the analysis relies on. For the fuzzing
/// entry points and tests.
pub fn identifiers_missing_from_words(text: &str) -> Vec<String> {
    // A text the words cannot be found for is always parsed.
    let Some(words) = relevance::Idents::code_words(text, &Default::default()) else {
        return Vec::new();
    };
    let parsed = parse_unchecked(text, ParseOptions::from(Mode::Module));
    parsed
        .tokens()
        .iter()
        .filter(|t| {
            matches!(
                t.kind(),
                TokenKind::Name | TokenKind::Match | TokenKind::Case | TokenKind::Type
            )
        })
        .filter_map(|t| text.get(t.range().start().to_usize()..t.range().end().to_usize()))
        .filter(|name| !words.contains(name))
        .map(str::to_string)
        .collect()
}

/// Reads a Python file; a file that cannot be read or decoded is a
/// problem.
fn read_python(fs: &dyn Files, path: &std::path::Path) -> Result<SourceFile, Problem> {
    SourceFile::read_python(fs, path).map_err(|u| match u.at {
        Some(at) => Problem::invalid(at, u.error.message()),
        None => Problem::unreadable(u.error),
    })
}

/// Reads every file, parsing those whose text holds a seed word or a
/// launcher's name, and the noxfile and `setup.py` (every file with
/// `no_prefilter`).
fn read_all(
    fs: &dyn Files,
    files: &[PathBuf],
    root: &std::path::Path,
    seeds: &crate::verdict::Words,
    no_prefilter: bool,
    problems: &mut Vec<Problem>,
) -> Vec<Read> {
    // The names of the files that are not words (`run-server.py`): what
    // `session::named_elsewhere` looks for in a file's text is kept with
    // the words of a file not parsed.
    let odd_stems: Vec<&str> = files
        .iter()
        .filter_map(|f| f.file_name()?.to_str())
        .map(|n| n.strip_suffix(".py").unwrap_or(n))
        .filter(|stem| !session::is_word(stem))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let odd_stems = session::HeldWords::new(&odd_stems);
    // The names a file's strings and comments can give a module by: the
    // parts of every file's path below the root (`tests`, `server`).
    let mentioned = relevance::Mentioned::new(
        files
            .iter()
            .flat_map(|f| f.strip_prefix(root).unwrap_or(f).components())
            .filter_map(|c| c.as_os_str().to_str())
            .map(|c| c.strip_suffix(".py").unwrap_or(c)),
    );
    let read = |path: &PathBuf| -> Result<Read, Problem> {
        let source = read_python(fs, path)?;
        // A noxfile or `setup.py` declares runs and scripts: always read.
        let seed = seeds.names_in(&source.text) || crate::verdict::is_run_file(path);
        match relevance::Idents::code_words(&source.text, &mentioned) {
            Some(words) if seed || no_prefilter => {
                let mut p = parse_source(Arc::new(source), root);
                p.seed = seed;
                Ok(Read::Parsed(p, words))
            }
            // Without words that can stand for it, the file is parsed, and
            // its words are its name tokens.
            None => {
                let mut p = parse_source(Arc::new(source), root);
                p.seed = seed;
                let words = p.idents.iter().flat_map(|i| i.hashes()).copied();
                let words = relevance::Idents::new(words.collect());
                Ok(Read::Parsed(p, words))
            }
            Some(mut words) => {
                for stem in odd_stems.in_text(&source.text) {
                    words.add(stem);
                }
                Ok(Read::Words(source.path, words))
            }
        }
    };
    let mut out = Vec::new();
    for result in on_workers(files, read) {
        match result {
            Ok(r) => out.push(r),
            Err(problem) => problems.push(problem),
        }
    }
    out
}

/// The largest Python file covdoctor parses: a syntax tree takes some
/// twenty times the size of its source, and a bigger file is generated
/// code or data.
const MAX_PARSED_SIZE: usize = 16 << 20;

/// The message of a file too large to parse.
const TOO_LARGE: &str = "too large to parse";

/// How many modules one round's prefetching parses: a bound on work
/// (prefetching only saves rounds; it changes no finding).
const MAX_PREFETCH: usize = 256;

/// What the next round would ask for, from what this round asked of the
/// files just parsed (`asks`: a module with the name looked up in it):
/// what a module imports under that name (`from .frame import DataFrame`
/// in a package's `__init__.py`, asked for `DataFrame`). A round asks for
/// one step of such a chain; parsing the next here saves a round per step.
/// Returns the modules to parse and what to ask of them.
fn prefetch(
    index: &Index<'_>,
    asks: Vec<(ModId, String)>,
    done: &mut std::collections::HashSet<(ModId, String)>,
) -> (std::collections::BTreeSet<ModId>, Vec<(ModId, String)>) {
    let mut batch = std::collections::BTreeSet::new();
    let mut next: Vec<(ModId, String)> = Vec::new();
    for (m, name) in asks {
        if index.modules[m].stub.is_some() || !done.insert((m, name.clone())) {
            continue;
        }
        for (local, q) in index.imports_of(m, false) {
            if local != name {
                continue;
            }
            // `q` is a module, or a name in one.
            batch.extend(
                index
                    .modules_by_name(q)
                    .iter()
                    .filter(|&&d| index.modules[d].stub.is_some()),
            );
            if let Some((module, last)) = q.rsplit_once('.') {
                for &d in index.modules_by_name(module) {
                    if index.modules[d].stub.is_some() {
                        batch.insert(d);
                    }
                    next.push((d, last.to_string()));
                }
            }
        }
    }
    (batch, next)
}

/// Parses the files of `wanted` (indices into `sources`).
/// Reads the `wanted` files again and parses them. A file that can no
/// longer be read (it changed or went away since it was first read) is a
/// problem, and is analysed as an empty file.
fn parse_batch(
    fs: &dyn Files,
    sources: &[Source],
    wanted: &std::collections::BTreeSet<ModId>,
    root: &std::path::Path,
    problems: &mut Vec<Problem>,
) -> Vec<(ModId, Parsed)> {
    let todo: Vec<ModId> = wanted.iter().copied().collect();
    let parsed = on_workers(&todo, |&m| {
        let path = &sources[m].path;
        match read_python(fs, path) {
            Ok(source) => (parse_source(Arc::new(source), root), None),
            Err(problem) => {
                let empty = SourceFile::new(path.clone(), String::new());
                (parse_source(Arc::new(empty), root), Some(problem))
            }
        }
    });
    todo.into_iter()
        .zip(parsed)
        .map(|(m, (p, problem))| {
            problems.extend(problem);
            (m, p)
        })
        .collect()
}

/// Parses one file: its syntax tree, errors, comments, each top-level
/// statement's identifiers, and its imports.
fn parse_source(source: Source, root: &std::path::Path) -> Parsed {
    if source.text.len() > MAX_PARSED_SIZE {
        // Its syntax tree would take some twenty times its size: it is
        // read as a file none of which parses.
        return Parsed {
            errors: vec![(
                Span::empty(0),
                format!(
                    "{TOO_LARGE} ({} MiB; covdoctor parses Python files up to {} MiB)",
                    source.text.len() >> 20,
                    MAX_PARSED_SIZE >> 20
                ),
            )],
            comments: Vec::new(),
            idents: Vec::new(),
            targets: ImportTargets::default(),
            imported: Vec::new(),
            seed: false,
            too_large: true,
            module: ModModule {
                range: Default::default(),
                node_index: Default::default(),
                body: Default::default(),
            },
            source,
        };
    }
    let parsed = parse_unchecked(&source.text, ParseOptions::from(Mode::Module));
    let mut errors: Vec<(Span, String)> = Vec::with_capacity(parsed.errors().len());
    // Up to where the errors are the lexer's (Python's tokenizer meets them
    // in the order of the file).
    let mut lexical_until = 0;
    for e in parsed.errors() {
        let r = e.location;
        let span = Span::new(r.start().to_usize(), r.end().to_usize());
        if matches!(e.error, ruff_python_parser::ParseErrorType::Lexical(_))
            && lexical_until == errors.len()
        {
            lexical_until += 1;
        }
        errors.push((span, e.error.to_string()));
    }
    let mut comments = Vec::new();
    // Each top-level statement's identifiers (tokens and statements are in
    // the order of the file).
    let body = match parsed.syntax() {
        ruff_python_ast::Mod::Module(m) => &m.body[..],
        ruff_python_ast::Mod::Expression(_) => &[],
    };
    let mut idents: Vec<Vec<u64>> = vec![Vec::new(); body.len()];
    let mut stmt = 0;
    let mut limits = TokenizerLimits::default();
    let mut over_limit = None;
    for t in parsed.tokens().iter() {
        if t.kind() == TokenKind::Name {
            while stmt < body.len() && body[stmt].range().end() <= t.range().start() {
                stmt += 1;
            }
            if let Some(of) = idents.get_mut(stmt) {
                of.push(relevance::hash(&source.text[t.range()]));
            }
        }
        if t.kind() == TokenKind::Comment {
            comments.push(Span::new(
                t.range().start().to_usize(),
                t.range().end().to_usize(),
            ));
        }
        if over_limit.is_none() {
            over_limit = limits.step(t);
        }
    }
    if let Some(limit) = over_limit {
        let at = limit.span.start;
        let index = if limit.overrides_parser_errors {
            // Python reports it over any error of its parser, even an
            // earlier one, but after an earlier error of its tokenizer.
            errors[..lexical_until]
                .iter()
                .position(|(s, _)| s.start > at)
                .unwrap_or(lexical_until)
        } else {
            errors
                .iter()
                .position(|(s, _)| s.start > at)
                .unwrap_or(errors.len())
        };
        errors.insert(index, (limit.span, limit.message.to_string()));
    }
    let module = match parsed.into_syntax() {
        ruff_python_ast::Mod::Module(m) => m,
        ruff_python_ast::Mod::Expression(_) => unreachable!("parsed in module mode"),
    };
    let targets = ImportTargets::compute(&module.body, &source.path, root);
    let imported = session::imported_names(std::iter::once(&module.body[..]), &[&targets]);
    Parsed {
        source,
        errors,
        comments,
        idents: idents.into_iter().map(relevance::Idents::new).collect(),
        targets,
        imported: imported.into_iter().collect(),
        seed: false,
        too_large: false,
        module,
    }
}

/// Python's tokenizer refuses more than 200 nested brackets (`MAXLEVEL`)
/// and 100 levels of indentation (`MAXINDENT`); ruff's parser has no such
/// limits. They are checked on the tokens the parser made, in one pass.
///
/// Brackets are counted as Python 3.11 counts them: the expression of an
/// f-string's replacement field is tokenized on its own, its `{` counting
/// as one level (from 3.12 the levels around the f-string add up with it,
/// so 3.11 is the more lenient).
#[derive(Default)]
struct TokenizerLimits {
    /// Open brackets, in the innermost f-string's replacement field or
    /// outside any f-string.
    level: usize,
    /// The levels outside each f-string being read.
    outer: Vec<usize>,
    indent: usize,
}

/// A file that passes a limit of Python's tokenizer.
#[derive(Debug)]
struct OverLimit {
    span: Span,
    message: &'static str,
    /// Python reports this error of its tokenizer even where its parser
    /// failed before (`_PyPegen_tokenize_full_source_to_check_for_errors`
    /// keeps the tokenizer's errors that raise at once: too many nested
    /// parentheses does, too many levels of indentation does not).
    overrides_parser_errors: bool,
}

/// Python's `MAXLEVEL` and `MAXINDENT` (Parser/tokenizer.h).
const MAX_LEVEL: usize = 200;
const MAX_INDENT: usize = 100;

impl TokenizerLimits {
    /// Takes the next token; the limit it passes, if any.
    fn step(&mut self, token: &ruff_python_ast::token::Token) -> Option<OverLimit> {
        let span = || {
            Span::new(
                token.range().start().to_usize(),
                token.range().end().to_usize(),
            )
        };
        match token.kind() {
            TokenKind::Lpar | TokenKind::Lsqb | TokenKind::Lbrace => {
                if self.level >= MAX_LEVEL {
                    // Python: "SyntaxError: too many nested parentheses".
                    return Some(OverLimit {
                        span: span(),
                        message: "too many nested parentheses (Python's tokenizer allows 200 levels of brackets)",
                        overrides_parser_errors: true,
                    });
                }
                self.level += 1;
            }
            TokenKind::Rpar | TokenKind::Rsqb | TokenKind::Rbrace => {
                self.level = self.level.saturating_sub(1);
            }
            TokenKind::FStringStart | TokenKind::TStringStart => {
                self.outer.push(self.level);
                self.level = 0;
            }
            TokenKind::FStringEnd | TokenKind::TStringEnd => {
                self.level = self.outer.pop().unwrap_or(0);
            }
            TokenKind::Indent => {
                if self.indent + 1 >= MAX_INDENT {
                    // Python: "IndentationError: too many levels of
                    // indentation", at the start of the line.
                    let start = token.range().start().to_usize();
                    return Some(OverLimit {
                        span: Span::empty(start),
                        message: "too many levels of indentation (Python's tokenizer allows 99)",
                        overrides_parser_errors: false,
                    });
                }
                self.indent += 1;
            }
            TokenKind::Dedent => self.indent = self.indent.saturating_sub(1),
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tokenizer_limit_tests {
    use super::*;

    /// The first error a file is reported with: its line, column and
    /// message.
    fn first_error(text: &str) -> Option<(usize, usize, String)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.py");
        std::fs::write(&path, text).unwrap();
        let root = dir.path().to_path_buf();
        let parsed = spawn_big(move || {
            SourceFile::read_python(&crate::source::Disk, &path)
                .map(|s| parse_source(Arc::new(s), &root))
                .map_err(|u| u.error.message())
        })
        .unwrap()
        .unwrap();
        let (span, message) = parsed.errors.first()?;
        let (line, column) = parsed.source.line_col(span.start);
        Some((line, column, message.clone()))
    }

    fn nested(open: &str, close: &str, n: usize) -> String {
        format!("x = {}1{}\n", open.repeat(n), close.repeat(n))
    }

    fn indented(levels: usize) -> String {
        let mut out: String = (0..levels)
            .map(|i| format!("{}if x:\n", " ".repeat(i)))
            .collect();
        out.push_str(&" ".repeat(levels));
        out.push_str("pass\n");
        out
    }

    #[test]
    fn more_than_200_nested_brackets_are_refused_where_python_refuses_them() {
        // Python: 1:205, the 201st bracket.
        let (line, column, message) = first_error(&nested("(", ")", 201)).unwrap();
        assert_eq!((line, column), (1, 205));
        assert!(
            message.starts_with("too many nested parentheses"),
            "{message}"
        );
        assert!(first_error(&nested("([{", "}])", 67)).is_some());
        assert!(first_error(&nested("(", ")", 3000)).is_some());
        // Unclosed at the end of the file.
        assert!(first_error(&format!("x = {}\n", "(".repeat(201))).is_some());
    }

    #[test]
    fn up_to_200_nested_brackets_are_accepted() {
        assert_eq!(first_error(&nested("(", ")", 200)), None);
        assert_eq!(first_error(&nested("[", "]", 200)), None);
        // Brackets closed in between do not add up.
        let twice = format!("{}{}", nested("(", ")", 200), nested("(", ")", 200));
        assert_eq!(first_error(&twice), None);
        // Brackets in strings and comments are no brackets.
        assert_eq!(
            first_error(&format!(
                "# {}\nx = '{}'\n",
                "(".repeat(300),
                "[".repeat(300)
            )),
            None
        );
    }

    #[test]
    fn an_f_string_field_counts_its_brackets_on_its_own_as_python_3_11_does() {
        // Python 3.11 accepts 199 inside a field ({ counts as one) within 150
        // outside, refuses 200 inside.
        let inner = |n: usize| format!("f\"{{{}1{}}}\"", "(".repeat(n), ")".repeat(n));
        let ok = format!("x = {}{}{}\n", "(".repeat(150), inner(60), ")".repeat(150));
        assert_eq!(first_error(&ok), None);
        assert_eq!(first_error(&format!("x = {}\n", inner(199))), None);
        assert!(first_error(&format!("x = {}\n", inner(200))).is_some());
    }

    #[test]
    fn too_deep_nesting_is_reported_over_an_earlier_parser_error() {
        // Python: "too many nested parentheses" at 2:204 (the `(` of line 1
        // is still open), not the invalid syntax of line 1.
        let text = format!("def (\n{}", nested("(", ")", 201));
        let (line, column, message) = first_error(&text).unwrap();
        assert_eq!((line, column), (2, 204));
        assert!(
            message.starts_with("too many nested parentheses"),
            "{message}"
        );
    }

    #[test]
    fn a_hundred_levels_of_indentation_are_refused() {
        // Python: "IndentationError: too many levels of indentation" at 101:1.
        let (line, column, message) = first_error(&indented(100)).unwrap();
        assert_eq!((line, column), (101, 1));
        assert!(
            message.starts_with("too many levels of indentation"),
            "{message}"
        );
        let tabs: String = (0..100)
            .map(|i| format!("{}if x:\n", "\t".repeat(i)))
            .collect::<String>()
            + &"\t".repeat(100)
            + "pass\n";
        assert!(first_error(&tabs).is_some());
    }

    #[test]
    fn up_to_99_levels_of_indentation_are_accepted() {
        assert_eq!(first_error(&indented(99)), None);
        // Dedenting gives the levels back.
        assert_eq!(
            first_error(&format!("{}{}", indented(99), indented(99))),
            None
        );
        // Lines inside brackets are not indented.
        let bracketed = format!("x = (\n{}1)\n", " ".repeat(400));
        assert_eq!(first_error(&bracketed), None);
    }

    #[test]
    fn an_earlier_parser_error_comes_before_too_much_indentation() {
        // Python reports the invalid syntax of line 1.
        let text = format!("def (\n){}", indented(100));
        let (line, _, message) = first_error(&text).unwrap();
        assert_eq!(line, 1, "{message}");
    }

    #[test]
    fn check_syntax_knows_the_limits() {
        assert!(check_syntax(&nested("(", ")", 200)).is_ok());
        assert!(check_syntax(&nested("(", ")", 201)).is_err());
        assert!(check_syntax(&indented(100)).is_err());
    }
}

/// Whether Python source parses without errors (used to check what a fix
/// wrote).
pub fn check_syntax(text: &str) -> Result<(), String> {
    let text = text.to_string();
    let result = spawn_big(move || {
        let parsed = parse_unchecked(&text, ParseOptions::from(Mode::Module));
        if let Some(e) = parsed.errors().first() {
            return Err(e.error.to_string());
        }
        let mut limits = TokenizerLimits::default();
        match parsed.tokens().iter().find_map(|t| limits.step(t)) {
            Some(over) => Err(over.message.to_string()),
            None => Ok(()),
        }
    });
    result.unwrap_or_else(Err)
}

struct Extractor<'i, 'a> {
    /// Which modules' calls can be launches or stops.
    relevance: &'i relevance::Relevance,
    /// Which modules can name the values of which.
    reach: &'i relevance::Reach,
    index: &'i Index<'a>,
    scripts: &'i BTreeMap<String, String>,
    /// `python-launchers`: helpers that start Python children.
    launchers: &'i [String],
    facts: &'i mut PythonFacts,
    /// Stop calls found before launches are expanded, expanded after.
    pending_stops: Vec<StopSite<'a>>,
    /// Launches by (module, start offset of the launch call, the frame it
    /// was evaluated in).
    launch_at: HashMap<(usize, u32, Option<FrameId>), usize>,
    /// Every launch of one launch call, by (module, start offset).
    groups: HashMap<(usize, u32), Vec<usize>>,
    /// What each of those launch calls is: its API, kind and arguments.
    group_calls: HashMap<(usize, u32), (String, LaunchKind, launch::Shape)>,
    /// Known calls of project functions that (through other functions)
    /// start or stop processes.
    callers: HashMap<FuncId, Vec<CallSite<'a>>>,
    /// Functions that may also run without a call the analysis sees: dunder
    /// methods (`with` calls `__exit__`), decorated functions, functions
    /// referenced without being called (`Thread(target=s.run)`,
    /// `addfinalizer(server.stop)`).
    implicit: std::collections::HashSet<FuncId>,
    implicit_found: std::cell::RefCell<std::collections::HashSet<FuncId>>,
    /// Calls inside `with pytest.raises(subprocess.TimeoutExpired)`.
    expects_timeout: std::collections::HashSet<usize>,
    /// The `if` tests each launch call is under in its scope (by the
    /// call's address; calls under none are not kept).
    launch_guards: HashMap<usize, index::Guards<'a>>,
    /// `with` statements by the address of a call that is one of their
    /// items' context expression.
    with_items: HashMap<usize, &'a ruff_python_ast::StmtWith>,
    /// Every module name the project imports (see [`session`]).
    imported: &'i std::collections::HashSet<String>,
    /// [`Extractor::runs_in_session`], by module.
    runs_cache: std::cell::RefCell<HashMap<index::ModId, bool>>,
    /// Launch calls that can start no Python child on any path of calls
    /// are dropped before their callers are searched, and a path of calls
    /// is followed up only while its launch or stop can still matter (off
    /// with `COVDOCTOR_NO_PREFILTER=1`, which shows it changes no finding).
    prune: bool,
    /// What each child runs and its SIGTERM handling, by entry and place.
    children_seen: HashMap<String, (Option<PathBuf>, Option<crate::analyze::command::Handler>)>,
}

/// One module's calls by the name their callee is spelled with (`f` in
/// `f()` and `obj.f()`), in the order of the module, and the names it uses
/// other than as the callee of a call (`callback=f`).
struct ModuleCalls<'a> {
    calls: HashMap<&'a str, Vec<(&'a ExprCall, Ctx)>>,
    used: std::collections::HashSet<&'a str>,
}

impl<'a> ModuleCalls<'a> {
    fn of(scopes: &[(Ctx, &'a [Stmt])]) -> Self {
        let mut calls: HashMap<&'a str, Vec<(&'a ExprCall, Ctx)>> = HashMap::new();
        let mut used = std::collections::HashSet::new();
        for &(ctx, body) in scopes {
            walk::walk_scope(body, &mut |stmt, _| {
                for e in walk::own_exprs(stmt) {
                    let mut callees: std::collections::HashSet<*const Expr> = Default::default();
                    let mut names: Vec<(*const Expr, &'a str)> = Vec::new();
                    for sub in walk::subexprs(e) {
                        match sub {
                            Expr::Call(call) => {
                                callees.insert(std::ptr::from_ref(&*call.func));
                                let name = match &*call.func {
                                    Expr::Name(n) => n.id.as_str(),
                                    Expr::Attribute(a) => a.attr.as_str(),
                                    _ => continue,
                                };
                                calls.entry(name).or_default().push((call, ctx));
                            }
                            Expr::Name(n) => names.push((std::ptr::from_ref(sub), n.id.as_str())),
                            Expr::Attribute(a) => {
                                names.push((std::ptr::from_ref(sub), a.attr.as_str()));
                            }
                            _ => {}
                        }
                    }
                    for (at, name) in names {
                        if !callees.contains(&at) {
                            used.insert(name);
                        }
                    }
                }
            });
        }
        ModuleCalls { calls, used }
    }
}

/// A launch or stop call found in a scope, before it is reached through
/// calls: what the search for callers follows up.
struct Target<'a> {
    call: &'a ExprCall,
    ctx: Ctx,
    what: TargetKind<'a>,
}

enum TargetKind<'a> {
    Launch {
        api: String,
        kind: LaunchKind,
        shape: launch::Shape,
    },
    /// A stop call: the process it stops.
    Stop { receiver: &'a Expr },
}

/// At most this many chains of calls are followed up from one function;
/// past it, every caller of the function is followed.
const MAX_CHAINS: usize = 64;

/// The chains of calls that lead from a function down to launch or stop
/// calls that can still matter through it: each the call (an index into
/// the [`Target`]s) and the calls from the function down to it, top first
/// (as [`Extractor::expand`] takes them).
enum Chains<'a> {
    /// Every caller is followed (without the prefilter, past
    /// [`MAX_CHAINS`], or deeper than the frames go).
    All,
    Some(Vec<(usize, Vec<CallSite<'a>>)>),
}

impl<'a> Chains<'a> {
    fn snapshot(&self) -> Chains<'a> {
        match self {
            Chains::All => Chains::All,
            Chains::Some(v) => Chains::Some(v.clone()),
        }
    }

    fn push(&mut self, launch: usize, chain: Vec<CallSite<'a>>) {
        if let Chains::Some(v) = self {
            if v.len() >= MAX_CHAINS {
                *self = Chains::All;
            } else {
                v.push((launch, chain));
            }
        }
    }
}

/// A call of a project function.
#[derive(Clone, Copy)]
struct CallSite<'a> {
    call: &'a ExprCall,
    /// Where the call is, for no particular call of its own function.
    ctx: Ctx,
    callee: FuncId,
    /// `Class(...)` calling `__init__`.
    constructor: Option<index::ClassId>,
}

/// Whether a statement sits in `with pytest.raises(subprocess.TimeoutExpired)`
/// (or a tuple naming it): the test expects the child's timeout to fire.
fn expects_timeout<'a>(index: &Index<'a>, ctx: Ctx, frames: &[walk::Frame<'a>]) -> bool {
    frames.windows(2).any(|pair| {
        if !matches!(pair[1].block, walk::Block::With) {
            return false;
        }
        let Some(Stmt::With(with)) = pair[0].stmts.get(pair[0].index) else {
            return false;
        };
        with.items.iter().any(|item| {
            let Expr::Call(call) = &item.context_expr else {
                return false;
            };
            index.qualified_callee(call, ctx).as_deref() == Some("pytest.raises")
                && call.arguments.args.first().is_some_and(|e| {
                    walk::subexprs(e).into_iter().any(|x| {
                        index.values_of(x, ctx).iter().any(
                            |v| matches!(v, Val::Qualified(q) if q == "subprocess.TimeoutExpired"),
                        )
                    })
                })
        })
    })
}

/// Modules run with `python -m` that never import the code of the project
/// that starts them (standard library and packaging tools).
const NOT_PROJECT_MODULES: &[&str] = &[
    "ensurepip",
    "http.server",
    "json.tool",
    "pip",
    "platform",
    "site",
    "sysconfig",
    "tarfile",
    "timeit",
    "venv",
    "virtualenv",
    "zipfile",
];

/// How many paths of calls one launch or stop may be expanded into: a
/// bound on work.
const MAX_PATHS: usize = 4096;

impl<'a> Extractor<'_, 'a> {
    /// Every scope of every module: the module body and each function body.
    fn scopes(&self) -> Vec<(Ctx, &'a [ruff_python_ast::Stmt])> {
        let mut out = Vec::new();
        for m in self.index.parsed() {
            out.push((Ctx::of(m, None), self.index.suite(m)));
            for &f in self.index.functions_of(m) {
                out.push((Ctx::of(m, Some(f)), &self.index.functions[f].def.body[..]));
            }
        }
        out
    }

    fn launches(&mut self) {
        let started = std::time::Instant::now();
        let mut sites = Vec::new();
        for (ctx, body) in self.scopes() {
            if !self.relevance.launch(ctx.module) {
                continue;
            }
            let mut calls: Vec<(&'a ExprCall, bool, usize)> = Vec::new();
            let mut guards: Vec<index::Guards<'a>> = Vec::new();
            let mut withs = Vec::new();
            walk::walk_scope(body, &mut |stmt, frames| {
                if let Stmt::With(w) = stmt {
                    for item in &w.items {
                        if let Expr::Call(c) = &item.context_expr {
                            withs.push((std::ptr::from_ref(c) as usize, w));
                        }
                    }
                }
                let expects = expects_timeout(self.index, ctx, frames);
                let at = guards.len();
                guards.push(index::guards_of(frames));
                for e in walk::own_exprs(stmt) {
                    calls.extend(walk::calls_in(e).into_iter().map(|c| (c, expects, at)));
                }
            });
            self.with_items.extend(withs);
            for (call, expects, guarded) in calls {
                if expects {
                    self.expects_timeout
                        .insert(std::ptr::from_ref(call) as usize);
                }
                // The project writes the hook itself: a `.pth` or
                // `sitecustomize.py` line that calls process_startup
                // (`f.write("import coverage; coverage.process_startup()")`).
                if self.facts.process_startup.is_none() && writes_startup_hook(call) {
                    self.facts.process_startup = Some(self.index.location(ctx.module, call));
                }
                // One resolution of the callee answers every question.
                let callees = self.index.callee(call, ctx);
                let q = callees.iter().find_map(|v| match v {
                    Val::Qualified(q) => Some(q.as_str()),
                    _ => None,
                });
                if self.facts.process_startup.is_none()
                    && matches!(
                        q,
                        Some("coverage.process_startup" | "coverage.control.process_startup")
                    )
                {
                    self.facts.process_startup = Some(self.index.location(ctx.module, call));
                }
                if self.facts.start_method.is_none()
                    && q == Some("multiprocessing.set_start_method")
                    && let Some(Expr::StringLiteral(method)) = call.arguments.args.first()
                {
                    self.facts.start_method = Some((
                        method.value.to_str().to_string(),
                        self.index.location(ctx.module, call),
                    ));
                }
                if let Some((api, kind, shape)) = self.launch_api(callees) {
                    if !guards[guarded].is_empty() {
                        // Two launches in one statement share its tests.
                        self.launch_guards
                            .insert(std::ptr::from_ref(call) as usize, guards[guarded].clone());
                    }
                    sites.push((call, ctx, api, kind, shape));
                }
            }
        }
        if self.prune {
            sites.retain(|(call, ctx, api, kind, shape)| {
                self.may_start_python(call, *ctx, api, *kind, *shape)
            });
        }
        crate::timings::add("launches: calls resolved", started.elapsed(), 0);
        let stop_sites = crate::timings::time("launches: stop sites", || self.stop_sites());
        let mut targets: Vec<Target<'a>> = sites
            .iter()
            .map(|(call, ctx, api, kind, shape)| Target {
                call,
                ctx: *ctx,
                what: TargetKind::Launch {
                    api: api.clone(),
                    kind: *kind,
                    shape: *shape,
                },
            })
            .collect();
        targets.extend(stop_sites.iter().map(|s| Target {
            call: s.stop.call,
            ctx: s.ctx,
            what: TargetKind::Stop {
                receiver: s.stop.receiver,
            },
        }));
        let launch_calls: std::collections::HashSet<(ModId, u32)> = sites
            .iter()
            .map(|(call, ctx, ..)| (ctx.module, call.range().start().to_u32()))
            .collect();
        let (callers, live) = crate::timings::time("launches: call sites", || {
            self.call_sites(&targets, &launch_calls)
        });
        drop(targets);
        self.callers = callers;
        self.facts.launcher_names =
            crate::timings::time("launches: launcher names", || self.launcher_names(&live));
        self.implicit = self.implicit_found.take();
        for (call, ctx, api, kind, shape) in sites {
            for (at, location, via) in self.reach(call, ctx) {
                if !self.launches_in(call, ctx, at) {
                    continue;
                }
                self.add_launch(call, at, api.clone(), kind, shape, location, via);
            }
        }
        self.pending_stops = stop_sites;
    }

    /// Where a call inside a scope is reported, and the context it is
    /// evaluated in: once per path of known calls (at the path's top, with
    /// the calls below it as `via`), or at the call itself when no call of
    /// its function is known or the function also runs without one. Paths
    /// are followed up through test code, so their top is a call in a test
    /// or fixture, or the call in the project's own code nearest to them;
    /// a path from a benchmark or a development script is no evidence.
    fn reach(&self, call: &'a ExprCall, ctx: Ctx) -> Vec<(Ctx, Location, Vec<Location>)> {
        let mut out: Vec<(Ctx, Location, Vec<Location>)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut itself = false;
        for path in self.paths(ctx) {
            let Some(top) = path.first() else {
                itself = true;
                continue;
            };
            let location = self.index.location(top.ctx.module, top.call);
            // A test module's `if __name__ == "__main__":` block runs only
            // when someone runs the file by hand.
            let by_hand = self.in_main_block(top.ctx, top.call) && self.in_tests(&location);
            if !self.is_evidence(&location) || self.skipped(top.ctx) || by_hand {
                continue;
            }
            let Some((at, via)) = self.expand(&path, call, ctx) else {
                // The call does not reach this function after all (an
                // override in a subclass): no launch along this path.
                continue;
            };
            // Paths through different helpers to the same call in the
            // test are one place to act.
            if seen.insert((location.file.path.clone(), location.span)) {
                out.push((at, location, via));
            }
        }
        let reached_by_none = ctx.func.is_none_or(|f| !self.callers.contains_key(&f));
        if (itself || reached_by_none) && !self.skipped(ctx) {
            let location = self.index.location(ctx.module, call);
            if self.is_evidence(&location) {
                out.push((ctx, location, Vec::new()));
            }
        }
        out
    }

    /// The ways a scope is reached: each a path of calls from the outermost
    /// known one down to a call of the scope's function (empty: the scope is
    /// reached from no known call, and stands for itself).
    fn paths(&self, ctx: Ctx) -> Vec<Vec<CallSite<'a>>> {
        let mut out = Vec::new();
        let mut visiting = Vec::new();
        self.paths_into(ctx.func, &mut Vec::new(), &mut visiting, &mut out);
        out
    }

    fn paths_into(
        &self,
        func: Option<FuncId>,
        below: &mut Vec<CallSite<'a>>,
        visiting: &mut Vec<FuncId>,
        out: &mut Vec<Vec<CallSite<'a>>>,
    ) {
        if out.len() >= MAX_PATHS {
            return;
        }
        let callers = func
            .and_then(|f| self.callers.get(&f))
            .filter(|c| !c.is_empty());
        let Some(callers) = callers.filter(|_| below.len() < index::MAX_FRAME_DEPTH) else {
            out.push(below.iter().rev().copied().collect());
            return;
        };
        let f = func.expect("callers exist only for functions");
        if self.implicit.contains(&f) {
            // Also reached without a call we see.
            out.push(below.iter().rev().copied().collect());
        }
        visiting.push(f);
        for site in callers {
            // Followed up through test code only: a call made inside the
            // project's own code is where its users act (and a package
            // function branches on its inputs in ways a path of calls
            // cannot see).
            let in_package = site.ctx.func.is_some_and(|g| self.in_package(g));
            if in_package || site.ctx.func.is_some_and(|g| visiting.contains(&g)) {
                // A cycle: stop at this call.
                below.push(*site);
                out.push(below.iter().rev().copied().collect());
                below.pop();
                continue;
            }
            below.push(*site);
            self.paths_into(site.ctx.func, below, visiting, out);
            below.pop();
        }
        visiting.pop();
    }

    /// The context a call inside a helper is evaluated in for one path of
    /// calls, and the locations of the path below its top.
    fn expand(
        &self,
        path: &[CallSite<'a>],
        call: &'a ExprCall,
        ctx: Ctx,
    ) -> Option<(Ctx, Vec<Location>)> {
        let Some(top) = path.first() else {
            return Some((ctx, Vec::new()));
        };
        let mut at = top.ctx;
        let mut via = Vec::new();
        for (i, step) in path.iter().enumerate() {
            if i > 0 {
                // Evaluated for the calls above it, the call must still
                // reach the same function (not an override in a subclass).
                let still = self
                    .index
                    .callee(step.call, at)
                    .into_iter()
                    .any(|v| match v {
                        Val::Function(f) => f == step.callee,
                        Val::Class(c) => step.constructor == Some(c),
                        _ => false,
                    });
                if !still {
                    return None;
                }
                via.push(self.index.location(step.ctx.module, step.call));
            }
            at = self
                .index
                .callee_ctx(step.call, at, step.callee, step.constructor);
        }
        via.push(self.index.location(ctx.module, call));
        Some((at, via))
    }

    /// Whether test code reaches a call in `ctx`: the call itself is in test
    /// code, or some chain of known calls of its function starts there. A
    /// call in a script's `if __name__ == "__main__":` block does not count:
    /// that code runs only when the script is a child.
    /// The scope is a test (or inside one) that pytest never runs
    /// (`@pytest.mark.skip`).
    fn skipped(&self, ctx: Ctx) -> bool {
        let mut func = ctx.func;
        while let Some(f) = func {
            let function = &self.index.functions[f];
            if function.skipped {
                return true;
            }
            func = function.parent;
        }
        false
    }

    /// Whether a test or fixture reaches the call (with `on_linux`, one
    /// that is not skipped on Linux).
    fn reached_from_tests(&self, call: &'a ExprCall, ctx: Ctx, on_linux: bool) -> bool {
        // A module-level call runs when pytest (or a test) runs the module.
        let module_call_in_tests = |c: &'a ExprCall, at: Ctx| {
            let location = self.index.location(at.module, c);
            self.in_tests(&location)
                && !self.in_main_block(at, c)
                && self.runs_in_session(at.module)
        };
        let Some(f) = ctx.func else {
            return module_call_in_tests(call, ctx);
        };
        let mut queue = vec![f];
        let mut seen = std::collections::HashSet::new();
        while let Some(g) = queue.pop() {
            if !seen.insert(g) || seen.len() > 256 {
                continue;
            }
            let function = &self.index.functions[g];
            if function.skipped || (on_linux && function.skipped_on_linux) {
                continue;
            }
            let in_tests = self.in_tests(&self.index.location(function.module, function.def));
            let callers = self.callers.get(&g).filter(|c| !c.is_empty());
            // pytest runs tests and fixtures; a function run without a call
            // we see, or with no known call at all, is judged by where it is.
            if function.is_test || self.implicit.contains(&g) || callers.is_none() {
                if in_tests && self.runs_in_session(function.module) {
                    return true;
                }
                continue;
            }
            for site in callers.into_iter().flatten() {
                match site.ctx.func {
                    None if module_call_in_tests(site.call, site.ctx) => return true,
                    None => {}
                    Some(h) => queue.push(h),
                }
            }
        }
        false
    }

    /// `f` is the project's own code, not test code.
    fn in_package(&self, f: FuncId) -> bool {
        let function = &self.index.functions[f];
        !self.in_tests(&self.index.location(function.module, function.def))
    }

    /// A module-level call under `if __name__ == "__main__":`.
    fn in_main_block(&self, ctx: Ctx, call: &'a ExprCall) -> bool {
        if ctx.func.is_some() {
            return false;
        }
        let at = call.range().start();
        self.index.suite(ctx.module).iter().any(|stmt| {
            let Stmt::If(i) = stmt else { return false };
            let is_main = matches!(&*i.test, Expr::Compare(c)
                if matches!(&*c.left, Expr::Name(n) if n.id.as_str() == "__name__")
                    && c.comparators.iter().any(|e| matches!(e, Expr::StringLiteral(s) if s.value.to_str() == "__main__")));
            is_main && i.range().contains(at)
        })
    }

    /// Whether a launch found at `location` is evidence about the test
    /// suite: it is in test code, or in the project's own code (which the
    /// tests run); not in a benchmark, an example or a development script
    /// that nothing in the tests calls.
    fn is_evidence(&self, location: &Location) -> bool {
        let Ok(rel) = location.file.path.strip_prefix(&self.index.root) else {
            return true;
        };
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().to_lowercase())
            .collect();
        let name = parts.last().map(String::as_str).unwrap_or_default();
        let top = if parts.len() > 1 {
            parts[0].as_str()
        } else {
            ""
        };
        let outside = matches!(
            top,
            "benchmarks"
                | "benchmark"
                | "bench"
                | "asv_bench"
                | "docs"
                | "doc"
                | "examples"
                | "example"
                | "scripts"
                | "tools"
                | "dev"
                | "ci"
                | "utils"
                | "misc"
                | "contrib"
        ) || matches!(
            name,
            "setup.py" | "noxfile.py" | "tasks.py" | "fabfile.py" | "dodo.py"
        );
        // A `tests/` of an example project (`examples/django/testing/`) is
        // not the project's test suite: the top directory decides first.
        !outside || (self.in_tests(location) && !outside_top(top))
    }

    /// Whether a location is in the test suite: a test file, a
    /// `conftest.py`, or a file under a `tests`/`test`/`testing` directory.
    fn in_tests(&self, location: &Location) -> bool {
        let rel = location
            .file
            .path
            .strip_prefix(&self.index.root)
            .unwrap_or(&location.file.path);
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().to_lowercase())
            .collect();
        let name = parts.last().map(String::as_str).unwrap_or_default();
        parts[..parts.len().saturating_sub(1)]
            .iter()
            .any(|p| matches!(p.as_str(), "tests" | "test" | "testing"))
            || name.starts_with("test_")
            || name.ends_with("_test.py")
            || name == "conftest.py"
    }

    /// Adds to `g`'s chains those of `below` (chains of the callee of
    /// `site`, a call made in `g`) that go on through `site` and can still
    /// start a Python child; returns what was new for `g` (`None`:
    /// nothing).
    fn extend_chains(
        &self,
        chains: &mut HashMap<FuncId, Chains<'a>>,
        g: FuncId,
        site: CallSite<'a>,
        below: &Chains<'a>,
        targets: &[Target<'a>],
        launch_calls: &std::collections::HashSet<(ModId, u32)>,
    ) -> Option<Chains<'a>> {
        if matches!(chains.get(&g), Some(Chains::All)) {
            return None;
        }
        let below = match below {
            Chains::All => {
                chains.insert(g, Chains::All);
                return Some(Chains::All);
            }
            Chains::Some(v) => v,
        };
        // A path of calls is followed up through test code only (see
        // `paths_into`): above a call made in the project's own code only
        // `reached_from_tests` looks, for multiprocessing children.
        let in_package = self.in_package(g);
        let mut new = Vec::new();
        for (i, chain) in below {
            if in_package
                && !matches!(
                    targets[*i].what,
                    TargetKind::Launch {
                        kind: LaunchKind::Multiprocessing,
                        ..
                    }
                )
            {
                continue;
            }
            if chain.iter().any(|c| std::ptr::eq(c.call, site.call)) {
                // A cycle: nothing new above it.
                continue;
            }
            if chain.len() > index::MAX_FRAME_DEPTH {
                // Deeper than any path is followed: every caller counts.
                chains.insert(g, Chains::All);
                return Some(Chains::All);
            }
            let mut longer = Vec::with_capacity(chain.len() + 1);
            longer.push(site);
            longer.extend(chain.iter().copied());
            let t = &targets[*i];
            let Some((at, _)) = self.expand(&longer, t.call, t.ctx) else {
                continue;
            };
            if !self.target_matters(t, at, launch_calls) {
                continue;
            }
            new.push((*i, longer));
        }
        if new.is_empty() {
            return None;
        }
        let entry = chains.entry(g).or_insert_with(|| Chains::Some(Vec::new()));
        for (i, chain) in &new {
            entry.push(*i, chain.clone());
        }
        if matches!(entry, Chains::All) {
            return Some(Chains::All);
        }
        Some(Chains::Some(new))
    }

    /// Known calls of the functions that hold launches or stops, and of
    /// the functions calling those, up to the frame depth; and the
    /// functions whose callers were searched (or would be, one level
    /// further).
    ///
    /// The callers of a function are searched only while some path of
    /// calls through it can still matter: each launch and stop call is
    /// followed up as its chains of calls, and a chain is not followed
    /// further once, for any caller of its top (see
    /// [`Index::for_any_caller`]), its launch's child is not Python or its
    /// stop's process is none of `launch_calls`. No rule looks at a launch
    /// whose child is not Python, nor at a stop of no launch.
    fn call_sites(
        &self,
        targets: &[Target<'a>],
        launch_calls: &std::collections::HashSet<(ModId, u32)>,
    ) -> (
        HashMap<FuncId, Vec<CallSite<'a>>>,
        std::collections::HashSet<FuncId>,
    ) {
        let index = self.index;
        let mut chains: HashMap<FuncId, Chains<'a>> = HashMap::new();
        for (i, t) in targets.iter().enumerate() {
            let Some(f) = t.ctx.func else { continue };
            // The launch calls that cannot were left out already.
            if self.prune
                && matches!(t.what, TargetKind::Stop { .. })
                && !self.target_matters(t, t.ctx, launch_calls)
            {
                continue;
            }
            let entry = chains.entry(f).or_insert_with(|| Chains::Some(Vec::new()));
            if !self.prune {
                *entry = Chains::All;
            }
            entry.push(i, Vec::new());
        }
        let wanted: Vec<FuncId> = chains.keys().copied().collect();
        let mut live: std::collections::HashSet<FuncId> = wanted.iter().copied().collect();
        let mut scopes_of: Vec<Vec<(Ctx, &'a [Stmt])>> = vec![Vec::new(); index.modules.len()];
        for (ctx, body) in self.scopes() {
            scopes_of[ctx.module].push((ctx, body));
        }
        // Each parsed module's calls, by the name they are spelled with,
        // and the names it uses other than as the callee of a call: found
        // by one walk of the module, the first time a level looks in it.
        let mut walked: Vec<Option<ModuleCalls<'a>>> =
            (0..index.modules.len()).map(|_| None).collect();
        // The calls spelled with one of `names` (by that name), and the
        // modules that use one of them other than as a callee, among the
        // modules whose identifiers hold one of them.
        //
        // Only a module that reaches the module of a function (or class:
        // `owners`, with the name it is called by) can call it; a file not
        // parsed is needed when it is one and spells that name.
        let mut calls_named = |names: &std::collections::HashSet<&str>,
                               owners: &[(&str, ModId)]| {
            let mut by_name: HashMap<&'a str, Vec<(&'a ExprCall, Ctx)>> = HashMap::new();
            let mut referenced: HashMap<&'a str, Vec<ModId>> = HashMap::new();
            for (m, scopes) in scopes_of.iter().enumerate() {
                let calls = |&(n, d): &(&str, ModId)| {
                    self.relevance.names(m, n) && self.reach.reaches(m, d)
                };
                if !owners.iter().any(calls) {
                    continue;
                }
                if let Some(words) = &index.modules[m].stub {
                    if owners.iter().any(|o| calls(o) && words.contains(o.0)) {
                        index.want(m);
                    }
                    continue;
                }
                let module = walked[m].get_or_insert_with(|| ModuleCalls::of(scopes));
                for &name in names {
                    if let Some((name, sites)) = module.calls.get_key_value(name) {
                        by_name
                            .entry(name)
                            .or_default()
                            .extend(sites.iter().copied());
                    }
                    if let Some(&name) = module.used.get(name) {
                        referenced.entry(name).or_default().push(m);
                    }
                }
            }
            (by_name, referenced)
        };
        let mut out: HashMap<FuncId, Vec<CallSite<'a>>> = HashMap::new();
        let mut level: Vec<FuncId> = wanted;
        let mut done = std::collections::HashSet::new();
        for _ in 0..=index::MAX_FRAME_DEPTH {
            level.retain(|f| !done.contains(f));
            let mut names: std::collections::HashSet<&str> = std::collections::HashSet::new();
            let mut owners: Vec<(&str, ModId)> = Vec::new();
            for &f in &level {
                let function = &index.functions[f];
                names.insert(function.def.name.as_str());
                owners.push((function.def.name.as_str(), function.module));
                if let (true, Some(c)) = (function.def.name.as_str() == "__init__", function.class)
                {
                    names.insert(index.classes[c].def.name.as_str());
                    owners.push((index.classes[c].def.name.as_str(), function.module));
                }
            }
            let (by_name, referenced) = calls_named(&names, &owners);
            let mut next = Vec::new();
            let mut grown: Vec<(FuncId, Chains<'a>)> = Vec::new();
            for f in level {
                if !done.insert(f) {
                    continue;
                }
                let function = &index.functions[f];
                let fname = function.def.name.as_str();
                let dunder =
                    fname.starts_with("__") && fname.ends_with("__") && fname != "__init__";
                let decorated = function.def.decorator_list.iter().any(|d| {
                    !matches!(&d.expression, Expr::Name(n)
                        if matches!(n.id.as_str(), "staticmethod" | "classmethod"))
                });
                // pytest calls tests and fixtures itself.
                let pytest_runs = function.is_test || function.fixture.is_some();
                let referenced = referenced
                    .get(fname)
                    .is_some_and(|ms| ms.iter().any(|&m| self.reach.reaches(m, function.module)));
                if dunder || decorated || pytest_runs || referenced {
                    self.implicit_found.borrow_mut().insert(f);
                }
                let is_init = function.def.name.as_str() == "__init__";
                let name = match (is_init, function.class) {
                    (true, Some(c)) => index.classes[c].def.name.as_str(),
                    _ => function.def.name.as_str(),
                };
                let mut sites = Vec::new();
                for &(call, ctx) in by_name.get(name).into_iter().flatten() {
                    for callee in index.callee(call, ctx) {
                        let constructor = match callee {
                            Val::Function(g) if g == f => None,
                            Val::Class(c)
                                if is_init && index.method_of(c, "__init__", 0) == Some(f) =>
                            {
                                Some(c)
                            }
                            _ => continue,
                        };
                        let site = CallSite {
                            call,
                            ctx,
                            callee: f,
                            constructor,
                        };
                        sites.push(site);
                        if let Some(g) = ctx.func
                            && let Some(below) = chains.get(&f).map(Chains::snapshot)
                            && let Some(new) = self.extend_chains(
                                &mut chains,
                                g,
                                site,
                                &below,
                                targets,
                                launch_calls,
                            )
                        {
                            if done.contains(&g) {
                                // Its callers are known: the new chains go on
                                // through them now.
                                grown.push((g, new));
                            } else {
                                next.push(g);
                            }
                        }
                        break;
                    }
                }
                if !sites.is_empty() {
                    out.insert(f, sites);
                }
                while let Some((g, new)) = grown.pop() {
                    for &site in out.get(&g).into_iter().flatten() {
                        let Some(h) = site.ctx.func else { continue };
                        if let Some(more) =
                            self.extend_chains(&mut chains, h, site, &new, targets, launch_calls)
                        {
                            if done.contains(&h) {
                                grown.push((h, more));
                            } else {
                                next.push(h);
                            }
                        }
                    }
                }
            }
            live.extend(next.iter().copied());
            level = next;
        }
        (out, live)
    }

    /// Whether a launch call found in `ctx` is one still when evaluated in
    /// `at`, for the calls of a path above it: no `if` test it is under is
    /// known false there, and its callee, resolved there in full (no value
    /// unknown), can be a launch API. A helper that picks its
    /// pool class from a parameter (`ProcessPoolExecutor` or
    /// `ThreadPoolExecutor`) starts no process for a call that asks for
    /// threads.
    fn launches_in(&self, call: &'a ExprCall, ctx: Ctx, at: Ctx) -> bool {
        if at == ctx {
            return true;
        }
        // Under an `if` test known false for this path's calls
        // (`if enable_curve:` for a call passing `enable_curve=False`).
        if let Some(guards) = self.launch_guards.get(&(std::ptr::from_ref(call) as usize))
            && !self.index.guards_hold(guards, at)
        {
            return false;
        }
        let callees = self.index.callee(call, at);
        if callees.is_empty() || callees.iter().any(|v| matches!(v, Val::Unknown)) {
            return true;
        }
        self.launch_api(callees).is_some()
    }

    /// The launch API a call uses, if any, from the values its callee
    /// resolves to.
    fn launch_api(&self, callees: Vec<Val<'a>>) -> Option<(String, LaunchKind, launch::Shape)> {
        // `multiprocess`, the dill-based fork of multiprocessing, often
        // imported with `multiprocessing` as the ImportError fallback:
        // coverage's multiprocessing support does not patch it (its workers
        // stay unmeasured with `concurrency = ["multiprocessing"]`), so what
        // covdoctor knows of multiprocessing does not hold for it.
        if callees
            .iter()
            .any(|v| matches!(v, Val::Qualified(q) if q == "multiprocess" || q.starts_with("multiprocess.")))
        {
            return None;
        }
        for callee in callees {
            match callee {
                Val::Qualified(q) => {
                    if let Some((kind, shape)) = launch::api(&q) {
                        return Some((q, kind, shape));
                    }
                    if self.launchers.contains(&q) {
                        return Some((q, LaunchKind::Subprocess, launch::Shape::Launcher));
                    }
                }
                // A project helper named in `python-launchers`: a function
                // (`module.function`) or a method (`module.Class.method`).
                Val::Function(f) => {
                    let function = &self.index.functions[f];
                    let name = match function.class {
                        Some(c) => format!(
                            "{}.{}",
                            self.index.classes[c].def.name.as_str(),
                            function.def.name.as_str()
                        ),
                        None => function.def.name.as_str().to_string(),
                    };
                    if let Some(q) = self.index.modules[function.module]
                        .names
                        .iter()
                        .map(|(m, _)| format!("{m}.{name}"))
                        .find(|q| self.launchers.contains(q))
                    {
                        return Some((q, LaunchKind::Subprocess, launch::Shape::Launcher));
                    }
                }
                // A project class derived from `multiprocessing.pool.Pool`:
                // a pool like any other.
                Val::Class(c) if self.index.is_pool_class(c) => {
                    return Some((
                        "multiprocessing.pool.Pool".into(),
                        LaunchKind::Multiprocessing,
                        launch::Shape::Pool,
                    ));
                }
                // A project class derived from `multiprocessing.Process`.
                Val::Class(c) if self.index.is_process_class(c, 0) => {
                    let name = self.index.classes[c].def.name.as_str();
                    return Some((
                        name.to_string(),
                        LaunchKind::Multiprocessing,
                        launch::Shape::ProcessClass(c),
                    ));
                }
                // pytest's `pytester` (or `testdir`) fixture.
                Val::Expr(Expr::Attribute(a), c)
                    if matches!(
                        a.attr.as_str(),
                        "runpytest_subprocess" | "spawn_pytest" | "run"
                    ) && self.index.values_of(&a.value, c).iter().any(
                        |v| matches!(v, Val::Param(p) if p == "pytester" || p == "testdir"),
                    ) =>
                {
                    let shape = if a.attr.as_str() == "run" {
                        launch::Shape::PytesterRun
                    } else {
                        launch::Shape::PytesterPytest
                    };
                    return Some((
                        format!("pytester.{}", a.attr.as_str()),
                        LaunchKind::Subprocess,
                        shape,
                    ));
                }
                // `ctx = multiprocessing.get_context("spawn"); ctx.Process(...)`
                // (or `ctx.Pool(...)`).
                Val::Expr(Expr::Attribute(a), c)
                    if matches!(a.attr.as_str(), "Process" | "Pool") =>
                {
                    let from_context = self.index.values_of(&a.value, c).into_iter().any(|v| {
                        matches!(v, Val::Expr(Expr::Call(inner), ic)
                            if self.index.qualified_callee(inner, ic).as_deref() == Some("multiprocessing.get_context"))
                    });
                    if from_context {
                        let (api, shape) = if a.attr.as_str() == "Pool" {
                            ("multiprocessing.Pool", launch::Shape::Pool)
                        } else {
                            ("multiprocessing.Process", launch::Shape::Process)
                        };
                        return Some((api.into(), LaunchKind::Multiprocessing, shape));
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// The child a launch call starts, evaluated in `ctx`, before what its
    /// entry says of the project's code.
    fn child_of(
        &self,
        ctx: Ctx,
        api: &str,
        kind: LaunchKind,
        shape: launch::Shape,
        args: &launch::LaunchArgs<'a>,
    ) -> Child {
        let index = self.index;
        if let launch::Shape::Launcher = shape {
            Child::Python {
                evidence: format!("`{api}` is one of the python-launchers"),
                entry: None,
                source: None,
                handler: None,
                runs_project_code: true,
                measures_itself: false,
            }
        } else if let launch::Shape::PytesterPytest = shape {
            Child::Python {
                evidence: format!("`{api}` runs pytest in a child"),
                entry: Some(Entry::Module("pytest".into())),
                source: None,
                handler: None,
                runs_project_code: true,
                measures_itself: false,
            }
        } else if let launch::Shape::JupyterKernel = shape {
            // The kernel runs ipykernel: the project's code only when the
            // project is ipykernel.
            let project_kernel = ["ipykernel", "ipykernel_launcher"]
                .iter()
                .any(|m| index.module_named(m, Some(ctx.module)).is_some());
            Child::Python {
                evidence: format!("a Jupyter kernel started by `{api}`"),
                entry: Some(Entry::Module("ipykernel_launcher".into())),
                source: None,
                handler: None,
                runs_project_code: project_kernel,
                measures_itself: false,
            }
        } else if let launch::Shape::ProcessClass(c) = shape {
            let class = &index.classes[c];
            Child::Python {
                evidence: "multiprocessing".into(),
                entry: class.methods.get("run").map(|_| Entry::Function {
                    module: index.modules[class.module].path.clone(),
                    name: format!("{}.run", class.def.name.as_str()),
                }),
                source: None,
                handler: None,
                runs_project_code: true,
                measures_itself: false,
            }
        } else if kind == LaunchKind::Multiprocessing {
            let entry = args.target.and_then(|t| {
                index.values_of(t, ctx).into_iter().find_map(|v| match v {
                    Val::Function(f) => Some(Entry::Function {
                        module: index.modules[index.functions[f].module].path.clone(),
                        name: index.function_name(f).to_string(),
                    }),
                    _ => None,
                })
            });
            Child::Python {
                evidence: "multiprocessing".into(),
                entry,
                source: None,
                handler: None,
                runs_project_code: true,
                measures_itself: false,
            }
        } else {
            let cmd = launch::command(index, ctx, args, shape);
            command::classify(&cmd, self.scripts)
        }
    }

    /// Whether a launch or stop call, evaluated in `at`, can still matter
    /// to a rule for some call of `at`'s outermost scope: a launch that can
    /// start a Python child ([`Extractor::may_start_python`]), a stop of a
    /// process that can be one of the launch calls (`launch_calls`), or
    /// either depending on that scope's callers.
    fn target_matters(
        &self,
        t: &Target<'a>,
        at: Ctx,
        launch_calls: &std::collections::HashSet<(ModId, u32)>,
    ) -> bool {
        match &t.what {
            TargetKind::Launch { api, kind, shape } => {
                self.may_start_python(t.call, at, api, *kind, *shape)
            }
            TargetKind::Stop { receiver } => {
                let (found, dependent) = self
                    .index
                    .for_any_caller(|| self.names_launch_call(receiver, at, launch_calls));
                dependent || found
            }
        }
    }

    /// Whether `expr` can be the process of one of `launch_calls`, as
    /// [`Extractor::handles_of`] finds it.
    fn names_launch_call(
        &self,
        expr: &'a Expr,
        ctx: Ctx,
        launch_calls: &std::collections::HashSet<(ModId, u32)>,
    ) -> bool {
        let mut found = false;
        self.process_calls(expr, ctx, 0, &mut |call, c| {
            let known = launch_calls.contains(&(c.module, call.range().start().to_u32()));
            found |= known;
            known
        });
        found
    }

    /// Whether some path of calls to the launch call could start a Python
    /// child that runs project code: its child is Python where it is, or
    /// what it starts depends on who calls its scope (see
    /// [`Index::for_any_caller`]). When neither, no call of its function
    /// can change what it starts: no rule looks at it, and its callers are
    /// not searched for it.
    fn may_start_python(
        &self,
        call: &'a ExprCall,
        ctx: Ctx,
        api: &str,
        kind: LaunchKind,
        shape: launch::Shape,
    ) -> bool {
        let args = launch::args(call, shape);
        let (child, dependent) = self
            .index
            .for_any_caller(|| self.child_of(ctx, api, kind, shape, &args));
        dependent || child.is_python()
    }

    #[allow(clippy::too_many_arguments)]
    fn add_launch(
        &mut self,
        call: &'a ExprCall,
        ctx: Ctx,
        api: String,
        kind: LaunchKind,
        shape: launch::Shape,
        location: Location,
        via: Vec<Location>,
    ) {
        let index = self.index;
        let args = launch::args(call, shape);
        let cwd = args.cwd.map(|e| CwdArg {
            location: index.location(ctx.module, e),
            place: paths::place_of(index, e, ctx),
        });
        let mut child = self.child_of(ctx, &api, kind, shape, &args);
        let launch_location = index.location(ctx.module, call);
        if let Child::Python {
            entry,
            evidence,
            handler,
            ..
        } = &mut child
            && entry.is_none()
        {
            *handler = handler::known_server(None, evidence, &launch_location);
        }
        if let Child::Python {
            entry: Some(entry),
            evidence,
            source,
            handler,
            runs_project_code,
            ..
        } = &mut child
        {
            if let Entry::Code(code) = entry {
                *runs_project_code = handler::code_imports(index, code).may_run_project();
            }
            // `python -m venv`, `-m pip`...: a tool that runs none of the
            // project's code, unless the project is that tool.
            if let Entry::Module(m) = entry
                && NOT_PROJECT_MODULES.contains(&m.as_str())
                && index.module_named(m, Some(ctx.module)).is_none()
            {
                *runs_project_code = false;
            }
            // `python -m google.othermod`, a module the test writes into a
            // namespace package of the project's own: the project has no
            // such module, and importing the namespace runs none of its
            // code.
            if let Entry::Module(m) = entry
                && index.in_own_namespace_only(m, ctx.module)
            {
                *runs_project_code = false;
            }
            let place = cwd
                .as_ref()
                .map_or(crate::analyze::Place::Inherited, |c| c.place.clone());
            // The same child (a helper called from many tests) is judged
            // once.
            let key = format!("{entry:?}\u{0}{place:?}");
            let (found_source, found_handler) = match self.children_seen.get(&key) {
                Some(known) => known.clone(),
                None => {
                    let modules = handler::child_modules(index, entry, &place);
                    if kind != LaunchKind::Multiprocessing
                        && let Some(&m) = modules.first()
                        && let Some(at) = handler::os_exit(index, m)
                    {
                        self.facts
                            .os_exits
                            .insert(index.modules[m].path.clone(), at);
                    }
                    let judged = (
                        modules.first().map(|&m| index.modules[m].path.clone()),
                        handler::sigterm_handler(index, &modules),
                    );
                    self.children_seen.insert(key, judged.clone());
                    judged
                }
            };
            *source = found_source;
            *handler = found_handler
                .or_else(|| handler::known_server(Some(entry), evidence, &launch_location));
        }
        let env = args.env.map(|e| {
            let followed = environ::carried(index, e, ctx);
            EnvArg {
                location: index.location(ctx.module, e),
                is_dict_display: e.is_dict_expr(),
                carried: followed.carried,
                trail: followed.trail,
            }
        });
        // `subprocess.run/call/check_call/check_output(..., timeout=...)`.
        let timeout = match api.as_str() {
            "subprocess.run"
            | "subprocess.call"
            | "subprocess.check_call"
            | "subprocess.check_output" => call
                .arguments
                .find_keyword("timeout")
                .filter(|k| !k.value.is_none_literal_expr())
                .map(|k| index.location(ctx.module, &k.value)),
            _ => None,
        };
        let expects_timeout = self
            .expects_timeout
            .contains(&(std::ptr::from_ref(call) as usize));
        // `multiprocessing.get_context("spawn").Process(...)` (or `.Pool`),
        // `ProcessPoolExecutor(mp_context=multiprocessing.get_context(...))`.
        let context_method = |context: &'a Expr| {
            index
                .values_of(context, ctx)
                .into_iter()
                .find_map(|v| match v {
                    Val::Expr(Expr::Call(inner), ic)
                        if index.qualified_callee(inner, ic).as_deref()
                            == Some("multiprocessing.get_context") =>
                    {
                        inner.arguments.args.first().and_then(|m| match m {
                            Expr::StringLiteral(s) => Some(s.value.to_str().to_string()),
                            _ => None,
                        })
                    }
                    _ => None,
                })
        };
        let start_method = match (&*call.func, kind) {
            _ if api.ends_with("ProcessPoolExecutor") => {
                launch::arg(call, Some(1), "mp_context").and_then(context_method)
            }
            (Expr::Attribute(a), LaunchKind::Multiprocessing)
                if matches!(a.attr.as_str(), "Process" | "Pool") =>
            {
                context_method(&a.value)
            }
            _ => None,
        };
        let pool_exit = (api == "multiprocessing.Pool" || api.ends_with("pool.Pool"))
            .then(|| self.pool_exit(call, ctx))
            .flatten();
        let pool_tasks = matches!(shape, launch::Shape::Pool)
            .then(|| self.pool_tasks(call, ctx))
            .flatten();
        let id = self.facts.launches.len();
        let offset = call.range().start().to_u32();
        self.launch_at.insert((ctx.module, offset, ctx.frame), id);
        self.groups
            .entry((ctx.module, offset))
            .or_default()
            .push(id);
        self.group_calls
            .entry((ctx.module, offset))
            .or_insert_with(|| (api.clone(), kind, shape));
        self.facts.launches.push(Launch {
            location,
            via,
            timeout,
            expects_timeout,
            start_method,
            reached_from_tests: self.reached_from_tests(call, ctx, false),
            reached_on_linux: self.reached_from_tests(call, ctx, true),
            api,
            kind,
            child,
            env,
            cwd,
            pool_exit,
            pool_tasks,
        });
    }

    /// The files of the functions a pool's workers run, when all are known
    /// (see [`Launch::pool_tasks`]).
    fn pool_tasks(&self, call: &'a ExprCall, ctx: Ctx) -> Option<Vec<PathBuf>> {
        const HANDS_WORK: &[&str] = &[
            "map",
            "imap",
            "imap_unordered",
            "starmap",
            "map_async",
            "starmap_async",
            "apply",
            "apply_async",
            "submit",
        ];
        let index = self.index;
        let body: &'a [Stmt] = match ctx.func {
            Some(f) => &index.functions[f].def.body,
            None => index.suite(ctx.module),
        };
        // The name the pool is bound to: `with Pool() as pool`, `pool =
        // Pool()`, `self.pool = Pool()`.
        let mut name = self
            .with_items
            .get(&(std::ptr::from_ref(call) as usize))
            .and_then(|w| {
                w.items
                    .iter()
                    .find(|i| matches!(&i.context_expr, Expr::Call(c) if std::ptr::eq(c, call)))
            })
            .and_then(|i| i.optional_vars.as_deref())
            .map(|v| index.text(ctx.module, v).to_string());
        walk::walk_scope(body, &mut |stmt, _| {
            if let Stmt::Assign(a) = stmt
                && matches!(&*a.value, Expr::Call(c) if std::ptr::eq(c, call))
                && let [target] = &a.targets[..]
            {
                name = Some(index.text(ctx.module, target).to_string());
            }
        });
        let name = name?;
        let mut work: Vec<&'a Expr> = Vec::new();
        work.extend(launch::arg(call, None, "initializer"));
        for c in walk::calls_in_stmts(body) {
            if let Expr::Attribute(a) = &*c.func
                && HANDS_WORK.contains(&a.attr.as_str())
                && index.text(ctx.module, &*a.value) == name
            {
                work.push(
                    c.arguments
                        .args
                        .first()
                        .or(c.arguments.find_keyword("func").map(|k| &k.value))?,
                );
            }
        }
        if work.is_empty() {
            return None;
        }
        let mut files = Vec::new();
        for task in work {
            let values = index.values_of(task, ctx);
            if values.is_empty() {
                return None;
            }
            for v in values {
                let Val::Function(f) = v else { return None };
                let function = &index.functions[f];
                files.push(index.modules[function.module].path.clone());
                // What the task calls runs in the worker too: the project
                // functions and classes it calls directly (a call that
                // cannot be resolved leaves the work unknown; a library's
                // functions are not the project's).
                let fctx = Ctx::of(function.module, Some(f));
                for inner in walk::calls_in_stmts(&function.def.body) {
                    let callees = index.callee(inner, fctx);
                    if callees.is_empty() {
                        return None;
                    }
                    for callee in callees {
                        match callee {
                            Val::Function(g) => {
                                files.push(index.modules[index.functions[g].module].path.clone())
                            }
                            Val::Class(c) => {
                                files.push(index.modules[index.classes[c].module].path.clone());
                            }
                            Val::Qualified(_) => {}
                            _ => return None,
                        }
                    }
                }
            }
        }
        Some(files)
    }

    /// `with multiprocessing.Pool(...) as pool:` around `call`: whether its
    /// block closes and joins the pool, and where that would go.
    fn pool_exit(&self, call: &'a ExprCall, ctx: Ctx) -> Option<PoolExit> {
        let with = *self.with_items.get(&(std::ptr::from_ref(call) as usize))?;
        let item = with
            .items
            .iter()
            .find(|i| matches!(&i.context_expr, Expr::Call(c) if std::ptr::eq(c, call)))?;
        let index = self.index;
        let name = item.optional_vars.as_deref().and_then(|v| match v {
            Expr::Name(n) => Some(n.id.to_string()),
            _ => None,
        });
        let called = |method: &str| {
            name.as_ref().is_some_and(|n| {
                stop::normal_path_calls(&with.body).into_iter().any(|c| {
                    matches!(&*c.func, Expr::Attribute(a)
                        if a.attr.as_str() == method
                            && matches!(&*a.value, Expr::Name(v) if v.id.as_str() == n))
                })
            })
        };
        let joined = called("close") && called("join");
        let text = &index.modules[ctx.module].source.text;
        let insert = with.body.last().and_then(|last| {
            if matches!(
                last,
                Stmt::Return(_) | Stmt::Raise(_) | Stmt::Break(_) | Stmt::Continue(_)
            ) {
                return None;
            }
            let first = with.body.first()?;
            let start = first.range().start().to_usize();
            let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
            let indent = &text[line_start..start];
            let end = last.range().end().to_usize();
            let rest = text[end..].split('\n').next().unwrap_or_default().trim();
            (indent.chars().all(|c| c == ' ' || c == '\t')
                && !indent.is_empty()
                && (rest.is_empty() || rest.starts_with('#')))
            .then(|| {
                (
                    end + text[end..].find('\n').unwrap_or(text.len() - end),
                    indent.to_string(),
                )
            })
        });
        Some(PoolExit {
            location: index.location(ctx.module, item),
            name,
            joined,
            insert,
        })
    }

    /// Every stop call, before it is tied to launches.
    fn stop_sites(&self) -> Vec<StopSite<'a>> {
        let mut out = Vec::new();
        for (ctx, body) in self.scopes() {
            if !self.relevance.stop(ctx.module) {
                continue;
            }
            walk::walk_scope(body, &mut |stmt, frames| {
                for e in walk::own_exprs(stmt) {
                    for call in walk::calls_in(e) {
                        if let Some(sc) = stop::stop_call(self.index, call, ctx) {
                            let statement = self.stop_statement(stmt, &sc, ctx);
                            out.push(StopSite {
                                stop: sc,
                                ctx,
                                frames: frames.to_vec(),
                                statement,
                            });
                        }
                    }
                }
            });
        }
        out
    }

    fn stops(&mut self) {
        let sites = std::mem::take(&mut self.pending_stops);
        let mut seen = std::collections::HashSet::new();
        for site in sites {
            let sc = &site.stop;
            let ctx = site.ctx;
            let text = self.index.text(ctx.module, sc.call);
            let call = text.lines().next().unwrap_or(text).to_string();
            let paths = self.paths(ctx);
            for (at, location, via) in self.reach(sc.call, ctx) {
                let path: Vec<CallSite<'a>> = if via.is_empty() {
                    Vec::new()
                } else {
                    paths
                        .iter()
                        .find(|p| {
                            p.first().is_some_and(|top| {
                                self.index.location(top.ctx.module, top.call) == location
                            })
                        })
                        .cloned()
                        .unwrap_or_default()
                };
                let mut exact = Vec::new();
                let mut grouped = Vec::new();
                self.handles_of(sc.receiver, at, &mut exact, &mut grouped);
                for (launch, exact) in self.representatives(exact, grouped) {
                    let kind = self.facts.launches[launch].kind;
                    let fallback =
                        stop::is_fallback(self.index, ctx, sc.receiver, &site.frames, kind)
                            || path.iter().any(|step| self.call_is_fallback(step, kind));
                    // One stop per place, signal and launch call.
                    let launched_at = {
                        let l = &self.facts.launches[launch];
                        let at = l.via.last().unwrap_or(&l.location);
                        (at.file.path.clone(), at.span)
                    };
                    let key = (
                        location.file.path.clone(),
                        location.span,
                        format!("{:?}", sc.signal),
                        launched_at,
                        fallback,
                    );
                    if !seen.insert(key) {
                        continue;
                    }
                    let on_timeout = sc.signal == crate::analyze::Signal::Kill
                        && stop::kills_on_timeout(self.index, ctx, sc.receiver, &site.frames);
                    let waited =
                        stop::waits_after(self.index, ctx, sc.receiver, &site.frames, false)
                            || path.iter().any(|step| self.call_waits_after(step));
                    self.facts.stops.push(Stop {
                        on_timeout,
                        location: location.clone(),
                        via: via.clone(),
                        launch,
                        signal: sc.signal,
                        call: call.clone(),
                        fallback,
                        statement: site.statement.clone(),
                        exact,
                        waited,
                    });
                }
            }
        }
    }

    /// One launch per launch call: the one evaluated for this very path
    /// when known, otherwise the first whose child is Python.
    fn representatives(&self, exact: Vec<usize>, grouped: Vec<(usize, u32)>) -> Vec<(usize, bool)> {
        let mut out: Vec<(usize, bool)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for id in exact {
            let l = &self.facts.launches[id];
            let key = (
                l.via.last().unwrap_or(&l.location).file.path.clone(),
                l.via.last().unwrap_or(&l.location).span,
            );
            if seen.insert(key) {
                out.push((id, true));
            }
        }
        for g in grouped {
            let Some(ids) = self.groups.get(&g) else {
                continue;
            };
            let Some(&first) = ids.first() else { continue };
            let l = &self.facts.launches[first];
            let key = (
                l.via.last().unwrap_or(&l.location).file.path.clone(),
                l.via.last().unwrap_or(&l.location).span,
            );
            if !seen.insert(key) {
                continue;
            }
            let pick = ids
                .iter()
                .copied()
                .find(|&i| self.facts.launches[i].child.is_python())
                .unwrap_or(first);
            out.push((pick, false));
        }
        out
    }

    /// Whether a call of a stop helper is itself only a fallback in its
    /// caller (in the `except` after a bounded wait, say): judged on the
    /// object it is called on, or its first argument.
    fn call_is_fallback(&self, step: &CallSite<'a>, kind: LaunchKind) -> bool {
        self.judge_step(step, &|receiver, frames| {
            stop::is_fallback(self.index, step.ctx, receiver, frames, kind)
        })
    }

    /// Whether a call of a stop helper is followed by a wait in its caller:
    /// on the object it is called on or its first argument
    /// (`server.stop(); server.wait()`, `stop(p); p.wait()`), or on one of
    /// its attributes (`server.proc.wait()`).
    fn call_waits_after(&self, step: &CallSite<'a>) -> bool {
        self.judge_step(step, &|receiver, frames| {
            stop::waits_after(self.index, step.ctx, receiver, frames, true)
        })
    }

    /// Applies `judge` to a helper call's receiver (the object it is called
    /// on, or its first argument) and the frames of the statement holding
    /// the call in its caller.
    fn judge_step(
        &self,
        step: &CallSite<'a>,
        judge: &dyn Fn(&'a Expr, &[walk::Frame<'a>]) -> bool,
    ) -> bool {
        let receiver = match &*step.call.func {
            Expr::Attribute(a) => Some(&*a.value),
            _ => step.call.arguments.args.first(),
        };
        let Some(receiver) = receiver else {
            return false;
        };
        let body: &'a [Stmt] = match step.ctx.func {
            Some(f) => &self.index.functions[f].def.body,
            None => self.index.suite(step.ctx.module),
        };
        let mut verdict = None;
        walk::walk_scope(body, &mut |stmt, frames| {
            if verdict.is_some() {
                return;
            }
            let holds = walk::own_exprs(stmt)
                .into_iter()
                .flat_map(walk::calls_in)
                .any(|c| std::ptr::eq(c, step.call));
            if holds {
                verdict = Some(judge(receiver, frames));
            }
        });
        verdict.unwrap_or(false)
    }

    /// Imports of `pytest_cov.embed`, whether a `try` guards them, and the
    /// lines that remove them with what calls them.
    fn embed_imports(&mut self) {
        let scopes = self.scopes();
        for module in 0..self.index.modules.len() {
            if !self.relevance.launch(module) {
                continue;
            }
            let text = &self.index.modules[module].source.text;
            // Across the module: statements calling into the embed API
            // (with their block), and the imports (with their frames and
            // scope body).
            let mut calls: Vec<(&'a Stmt, &'a [Stmt])> = Vec::new();
            let mut imports: Vec<(&'a Stmt, Vec<walk::Frame<'a>>, &'a [Stmt])> = Vec::new();
            for (ctx, body) in scopes.iter().filter(|(c, _)| c.module == module) {
                walk::walk_scope(body, &mut |stmt, frames| {
                    let block = frames.last().map_or(&[][..], |f| f.stmts);
                    if is_embed_import(stmt) {
                        imports.push((stmt, frames.to_vec(), body));
                    } else if let Stmt::Expr(e) = stmt
                        && let Expr::Call(call) = &*e.value
                        && self
                            .index
                            .qualified_callee(call, *ctx)
                            .is_some_and(|q| q.starts_with("pytest_cov.embed"))
                    {
                        calls.push((stmt, block));
                    }
                });
            }
            for (stmt, frames, body) in &imports {
                let guard = frames.iter().rposition(
                    |f| matches!(f.block, walk::Block::TryBody(t) if catches_import_error(t)),
                );
                let is_call = |s: &Stmt| calls.iter().any(|(c, _)| std::ptr::eq(*c, s));
                let removal = match guard {
                    Some(i) => {
                        let walk::Block::TryBody(t) = frames[i].block else {
                            unreachable!("matched above")
                        };
                        let only_embed = t.body.iter().all(|s| is_embed_import(s) || is_call(s))
                            && t.orelse.iter().all(is_call)
                            && t.finalbody.is_empty()
                            && t.handlers.iter().all(|h| {
                                let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                                h.body.iter().all(|s| {
                                    matches!(s, Stmt::Pass(_))
                                        || matches!(s, Stmt::Expr(e) if e.value.is_ellipsis_literal_expr())
                                })
                            });
                        // The block holding the `try` must keep a statement.
                        let outer = i.checked_sub(1).map(|o| frames[o].stmts).unwrap_or(body);
                        let try_stmt = outer
                            .iter()
                            .find(|s| matches!(s, Stmt::Try(x) if std::ptr::eq(x, t)));
                        match try_stmt {
                            Some(ts) if only_embed && outer.len() > 1 => {
                                whole_lines(text, ts).map(|l| vec![absorb_blank_line(text, l)])
                            }
                            _ => None,
                        }
                    }
                    None => {
                        // The import and every call into the API, each on
                        // lines of its own, no block left empty.
                        let block = frames.last().map_or(&[][..], |f| f.stmts);
                        let mut removed: Vec<(&[Stmt], usize)> = vec![(block, 1)];
                        let mut spans: Vec<Span> = Vec::new();
                        let mut ok = true;
                        for s in std::iter::once(*stmt).chain(calls.iter().map(|(c, _)| *c)) {
                            match whole_lines(text, s) {
                                Some(l) => spans.push(absorb_blank_line(text, l)),
                                None => ok = false,
                            }
                        }
                        for (_, call_block) in &calls {
                            match removed
                                .iter_mut()
                                .find(|(b, _)| std::ptr::eq(*b, *call_block))
                            {
                                Some((_, n)) => *n += 1,
                                None => removed.push((call_block, 1)),
                            }
                        }
                        ok &= removed.iter().all(|(b, n)| b.len() > *n);
                        // Nothing else may use what the import binds.
                        ok &= !uses_outside(text, &spans, &import_bound_names(stmt));
                        ok.then_some(spans)
                    }
                };
                self.facts.embed_imports.push(crate::analyze::EmbedImport {
                    location: self.index.location(module, *stmt),
                    guarded: guard.is_some(),
                    removal,
                });
            }
        }
    }

    /// `p.kill()` or `p.terminate()` as the only statement of its line.
    fn stop_statement(
        &self,
        stmt: &'a Stmt,
        sc: &stop::StopCall<'a>,
        ctx: Ctx,
    ) -> Option<StopStatement> {
        let Stmt::Expr(e) = stmt else { return None };
        let Expr::Call(c) = &*e.value else {
            return None;
        };
        // `p.kill()`, `p.send_signal(signal.SIGKILL)`, `os.kill(p.pid, ...)`,
        // `os.killpg(os.getpgid(p.pid), ...)`; not a teardown hook
        // (`addfinalizer(p.kill)`).
        if !std::ptr::eq(c, sc.call)
            || matches!(&*c.func, Expr::Attribute(a)
                if !matches!(a.attr.as_str(), "kill" | "terminate" | "send_signal" | "killpg"))
        {
            return None;
        }
        let text = &self.index.modules[ctx.module].source.text;
        let start = stmt.range().start().to_usize();
        let end = stmt.range().end().to_usize();
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let indent = &text[line_start..start];
        let rest_of_line = text[end..].split('\n').next().unwrap_or_default();
        let rest = rest_of_line.trim_start();
        if !indent.chars().all(|c| c == ' ' || c == '\t')
            || !(rest.is_empty() || rest.starts_with('#') || rest == "\r")
        {
            return None;
        }
        Some(StopStatement {
            span: Span::new(start, end),
            indent: indent.to_string(),
            receiver: self.index.text(ctx.module, sc.receiver).to_string(),
            call: self.index.text(ctx.module, stmt).to_string(),
            in_async: ctx
                .func
                .is_some_and(|f| self.index.functions[f].def.is_async),
        })
    }

    /// The launches an expression may hold: a launch call itself, a
    /// variable, `self.x`, a fixture or a project function returning one.
    /// `exact` gets launches evaluated for the same call path; `grouped`
    /// the launch calls whose launches were evaluated for other paths.
    fn handles_of(
        &self,
        expr: &'a Expr,
        ctx: Ctx,
        exact: &mut Vec<usize>,
        grouped: &mut Vec<(usize, u32)>,
    ) {
        self.process_calls(expr, ctx, 0, &mut |call, c| {
            let offset = call.range().start().to_u32();
            if let Some(&id) = self.launch_at.get(&(c.module, offset, c.frame)) {
                exact.push(id);
                return true;
            }
            let Some((api, kind, shape)) = self.group_calls.get(&(c.module, offset)) else {
                return false;
            };
            // Not one of the launches evaluated: it stands for them all
            // unless, evaluated here, its child is known for any caller and
            // is not Python (another launch of the same call, with a Python
            // child, is another process).
            if self.may_start_python(call, c, api, *kind, *shape) {
                grouped.push((c.module, offset));
            }
            true
        });
    }

    /// The calls whose value `expr` may be (through variables, `self.x`,
    /// fixtures), and those the project functions they call return, each
    /// with the context it is evaluated in: `visit` says whether a call is
    /// one it was looking for (what that call returns is then not
    /// followed).
    fn process_calls(
        &self,
        expr: &'a Expr,
        ctx: Ctx,
        depth: usize,
        visit: &mut dyn FnMut(&'a ExprCall, Ctx) -> bool,
    ) {
        if depth > 8 {
            return;
        }
        for v in self.index.values_of(expr, ctx) {
            let (call, c) = match v {
                Val::Expr(Expr::Call(call), c) | Val::Entered(Expr::Call(call), c) => (call, c),
                _ => continue,
            };
            if visit(call, c) {
                continue;
            }
            for callee in self.index.callee(call, c) {
                if let Val::Function(f) = callee {
                    let fctx = self.index.callee_ctx(call, c, f, None);
                    for r in self.index.returns_for(f, fctx, depth) {
                        self.process_calls(r, fctx, depth + 1, visit);
                    }
                }
            }
        }
    }
}

/// A stop call, where it is and what a fix needs.
struct StopSite<'a> {
    stop: stop::StopCall<'a>,
    ctx: Ctx,
    frames: Vec<walk::Frame<'a>>,
    statement: Option<StopStatement>,
}

/// Top-level directories that hold no part of the project's test suite even
/// where a path below them looks like tests (an example project's own
/// `testing/`, a benchmark's `test_*.py`).
fn outside_top(top: &str) -> bool {
    matches!(
        top,
        "benchmarks"
            | "benchmark"
            | "bench"
            | "asv_bench"
            | "docs"
            | "doc"
            | "examples"
            | "example"
    )
}

#[cfg(test)]
mod unread_files_tests {
    use super::*;

    /// Writes `files` (path, text) under a new directory: the project root
    /// and the Python files, sorted as discovery lists them.
    fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, Vec<PathBuf>) {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            paths.push(path);
        }
        paths.sort();
        (dir, paths)
    }

    fn run(
        fs: SharedFiles,
        dir: &tempfile::TempDir,
        files: &[PathBuf],
        all: bool,
    ) -> (PythonFacts, Vec<Problem>) {
        analyze(
            fs,
            dir.path().to_path_buf(),
            files.to_vec(),
            BTreeMap::new(),
            Vec::new(),
            Vec::new(),
            all,
        )
    }

    /// A script the tests name by its file name, with a hyphen (not a
    /// word): `SCRIPT` in a file with nothing the analysis parses for.
    const SCRIPT: &str = "import subprocess, sys\n\
        p = subprocess.Popen([sys.executable, '-c', 'pass'])\n\
        p.kill()\n";

    #[test]
    fn a_file_not_parsed_still_names_a_script_whose_name_is_not_a_word() {
        for (paths, named) in [
            ("SERVER = 'tests/run-server.py'\n", true),
            ("SERVER = 'tests/run-server2.py'\n", false),
        ] {
            let (dir, files) =
                project(&[("tests/run-server.py", SCRIPT), ("tests/paths.py", paths)]);
            let mut reached = Vec::new();
            for all in [false, true] {
                let (facts, problems) = run(Arc::new(crate::source::Disk), &dir, &files, all);
                assert!(problems.is_empty(), "{problems:?}");
                // Not parsed unless every file is.
                assert_eq!(
                    facts.files.contains_key(&dir.path().join("tests/paths.py")),
                    all
                );
                assert_eq!(facts.launches.len(), 1);
                reached.push(facts.launches[0].reached_from_tests);
            }
            assert_eq!(reached, [named, named], "{paths}");
        }
    }

    /// The file system, except that the second read of `path` fails.
    struct ReadOnce {
        path: PathBuf,
        reads: std::sync::atomic::AtomicUsize,
    }

    impl Files for ReadOnce {
        fn read(&self, path: &std::path::Path) -> std::io::Result<Vec<u8>> {
            if path == self.path && self.reads.fetch_add(1, Ordering::Relaxed) > 0 {
                return Err(std::io::Error::new(std::io::ErrorKind::NotFound, "gone"));
            }
            crate::source::Disk.read(path)
        }
        fn is_file(&self, path: &std::path::Path) -> bool {
            crate::source::Disk.is_file(path)
        }
        fn is_special(&self, path: &std::path::Path) -> bool {
            crate::source::Disk.is_special(path)
        }
    }

    #[test]
    fn a_file_parsed_later_is_read_again_and_a_failed_read_is_a_problem() {
        let (dir, files) = project(&[
            (
                "tests/test_a.py",
                "import subprocess, sys\nfrom helpers import ARGS\n\n\
                 def test_a():\n    subprocess.run([sys.executable] + ARGS)\n",
            ),
            ("tests/helpers.py", "ARGS = ['-m', 'app']\n"),
        ]);
        let helpers = dir.path().join("tests/helpers.py");
        // Read first as words only, then again when the launch needs it.
        let (facts, problems) = run(Arc::new(crate::source::Disk), &dir, &files, false);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(facts.files.contains_key(&helpers));
        assert_eq!(facts.files[&helpers].source.text, "ARGS = ['-m', 'app']\n");
        assert_eq!(facts.launches.len(), 1);

        let fs = ReadOnce {
            path: helpers.clone(),
            reads: Default::default(),
        };
        let (facts, problems) = run(Arc::new(fs), &dir, &files, false);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            format!("{:?}", problems[0]).contains("helpers.py"),
            "{problems:?}"
        );
        // Analysed as an empty file: the launch is still there (its child
        // is Python whatever `ARGS` holds).
        assert_eq!(facts.launches.len(), 1);
        assert_eq!(facts.files[&helpers].source.text, "");
    }

    /// The callers of a launch are followed up only while the child can
    /// still be Python: `status` and `check` reach launches that start
    /// `git` whoever calls them; `start`'s child depends on its caller, and
    /// through `serve` it is Python. Without the prefilter every caller is
    /// followed, and the launches the rules see are the same.
    #[test]
    fn callers_are_followed_only_while_the_child_can_be_python() {
        let (dir, files) = project(&[
            (
                "tests/helpers.py",
                "import subprocess, sys\n\n\
                 def start(cmd):\n    return subprocess.Popen(cmd)\n\n\
                 def serve():\n    return start([sys.executable, 'server.py'])\n\n\
                 def status():\n    return start(['git', 'status'])\n\n\
                 def version():\n    return subprocess.run(['git', '--version'])\n\n\
                 def check():\n    version()\n",
            ),
            (
                "tests/test_a.py",
                "from helpers import serve, status, check\n\n\
                 def test_a():\n    serve().kill()\n    status().kill()\n    check()\n",
            ),
        ]);
        let names = |facts: &PythonFacts| facts.launcher_names.iter().cloned().collect::<Vec<_>>();
        let python = |facts: &PythonFacts| {
            facts
                .launches
                .iter()
                .filter(|l| l.child.is_python())
                .map(|l| (l.location.span, l.via.len()))
                .collect::<Vec<_>>()
        };
        let (pruned, problems) = run(Arc::new(crate::source::Disk), &dir, &files, false);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(names(&pruned), ["serve", "start", "test_a"]);
        // `version`'s launch is left out; `status`' path to `start` ends at
        // its call in `status`.
        assert!(!pruned.launches.iter().any(|l| l.api == "subprocess.run"));
        assert!(
            pruned
                .launches
                .iter()
                .filter(|l| !l.child.is_python())
                .all(|l| l.via.len() == 1)
        );
        let (all, _) = run(Arc::new(crate::source::Disk), &dir, &files, true);
        assert_eq!(
            names(&all),
            ["check", "serve", "start", "status", "test_a", "version"]
        );
        assert!(all.launches.iter().any(|l| l.api == "subprocess.run"));
        assert_eq!(python(&pruned), python(&all));
        assert_eq!(python(&pruned).len(), 1);
        // Both kills are seen; only the server's stops a Python child.
        let python_stops = |facts: &PythonFacts| {
            facts
                .stops
                .iter()
                .filter(|s| facts.launches[s.launch].child.is_python())
                .map(|s| s.location.span)
                .collect::<Vec<_>>()
        };
        assert_eq!(python_stops(&pruned), python_stops(&all));
        assert_eq!(python_stops(&pruned).len(), 1);
    }

    /// A path of calls is followed up through test code only: the callers
    /// of `run`, a function of the package, are not searched for the
    /// launch below it, and the launch and the stop are the same as when
    /// every caller is.
    #[test]
    fn callers_of_package_code_are_not_followed() {
        let (dir, files) = project(&[
            (
                "app/proc.py",
                "import subprocess, sys\n\n\
                 def spawn():\n    return subprocess.Popen([sys.executable, '-m', 'app.worker'])\n",
            ),
            (
                "app/service.py",
                "from app.proc import spawn\n\ndef run():\n    return spawn()\n",
            ),
            (
                "tests/test_a.py",
                "from app.service import run\n\ndef test_a():\n    run().kill()\n",
            ),
        ]);
        let names = |facts: &PythonFacts| facts.launcher_names.iter().cloned().collect::<Vec<_>>();
        let seen = |facts: &PythonFacts| {
            let launches: Vec<_> = facts
                .launches
                .iter()
                .map(|l| (l.location.span, l.via.len(), l.child.is_python()))
                .collect();
            let stops: Vec<_> = facts
                .stops
                .iter()
                .map(|s| (s.location.span, s.launch))
                .collect();
            (launches, stops)
        };
        let (pruned, problems) = run(Arc::new(crate::source::Disk), &dir, &files, false);
        assert!(problems.is_empty(), "{problems:?}");
        let (all, _) = run(Arc::new(crate::source::Disk), &dir, &files, true);
        // `test_a` holds the stop.
        assert_eq!(names(&pruned), ["spawn", "test_a"]);
        assert_eq!(names(&all), ["run", "spawn", "test_a"]);
        assert_eq!(seen(&pruned), seen(&all));
        assert_eq!(seen(&pruned).0.len(), 1);
        assert_eq!(seen(&pruned).1.len(), 1);
    }
}
